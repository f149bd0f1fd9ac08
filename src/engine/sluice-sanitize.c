/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-sanitize"

#include "config.h"

#include <string.h>

#include "sluice-sanitize.h"

static gboolean
is_control (gunichar c)
{
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
         c == 0x2028 || c == 0x2029 || /* line/paragraph separators break lines too */
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069); /* bidi overrides */
}

/* Whether @len bytes are already what the loop below would make of them: printable ASCII,
 * no leading, trailing or doubled space, and short enough. Almost every EXIF string is; the
 * loop costs ~50 ns a character, and the engine runs it on every string of every probe
 * answer (issue 5). */
static gboolean
is_clean_ascii (const char *bytes,
                gsize       len,
                gsize       max_bytes)
{
  if (len == 0 || len > max_bytes || bytes[0] == ' ' || bytes[len - 1] == ' ')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      guchar c = bytes[i];

      if (c < 0x20 || c > 0x7e || (c == ' ' && bytes[i + 1] == ' '))
        return FALSE;
    }
  return TRUE;
}

char *
sluice_sanitize_text (const char *bytes,
                      gssize      len,
                      gsize       max_bytes)
{
  g_autofree char *valid = NULL;
  GString *out;
  const char *p;

  if (bytes == NULL)
    return NULL;
  if (len < 0)
    len = strlen (bytes);

  /* EXIF ASCII fields are NUL padded; stop at the first NUL like every reader does. */
  len = strnlen (bytes, len);
  if (is_clean_ascii (bytes, len, max_bytes))
    return g_strndup (bytes, len);
  valid = g_utf8_make_valid (bytes, len);

  out = g_string_sized_new (MIN ((gsize) len, max_bytes) + 1);
  for (p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      char buf[6];
      gint n;

      if (is_control (c))
        c = ' ';
      /* collapse runs of white space so CR LF TAB padding becomes one space */
      if (c == ' ' && (out->len == 0 || out->str[out->len - 1] == ' '))
        continue;
      n = g_unichar_to_utf8 (c, buf);
      if (out->len + n > max_bytes)
        break;
      g_string_append_len (out, buf, n);
    }

  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);

  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/**
 * sluice_sanitize_header_value:
 *
 * An HTTP header value: printable ASCII is kept as it is; anything else makes the whole value
 * an RFC 2047 encoded word (=?UTF-8?B?…?=), which S3 stores and returns unchanged. CR and LF
 * cannot survive either way, so no header can be injected.
 */
char *
sluice_sanitize_header_value (const char *text)
{
  g_autofree char *clean = sluice_sanitize_text (text, -1, 1024);
  g_autofree char *b64 = NULL;
  gboolean plain = TRUE;

  if (clean == NULL)
    return g_strdup ("");

  for (const char *p = clean; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20 || (guchar) *p > 0x7e)
        {
          plain = FALSE;
          break;
        }
    }
  /* "=?" at the start would be read back as an encoded word: encode it too */
  if (plain && !g_str_has_prefix (clean, "=?"))
    return g_steal_pointer (&clean);

  b64 = g_base64_encode ((const guchar *) clean, strlen (clean));
  return g_strdup_printf ("=?UTF-8?B?%s?=", b64);
}

/**
 * sluice_sanitize_csv_field:
 *
 * One CSV text field (RFC 4180). A value that a spreadsheet would run as a formula (starting
 * with = + - @, or a tab or CR) gets a leading apostrophe and is quoted, as OWASP recommends;
 * any value with a comma, quote or line break is quoted with quotes doubled. Numbers are
 * written by the exporter itself and never pass through here.
 */
char *
sluice_sanitize_csv_field (const char *text)
{
  GString *out;
  gboolean formula, quote;

  if (text == NULL || *text == '\0')
    return g_strdup ("");

  formula = strchr ("=+-@\t\r", text[0]) != NULL;
  quote = formula || strpbrk (text, ",\"\r\n") != NULL || text[0] == ' ';

  if (!quote)
    return g_strdup (text);

  out = g_string_new ("\"");
  if (formula)
    g_string_append_c (out, '\'');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

/**
 * sluice_sanitize_key_segment:
 *
 * A value from EXIF or a file name that goes into one segment of an object key through a key
 * template: no '/', no '\\', no "." or ".." segment, no control characters. Returns "_" when
 * nothing usable is left, so a template never produces an empty segment.
 */
char *
sluice_sanitize_key_segment (const char *text)
{
  g_autofree char *clean = sluice_sanitize_text (text, -1, 255);
  GString *out;

  if (clean == NULL)
    return g_strdup ("_");

  out = g_string_new (NULL);
  for (const char *p = clean; *p != '\0'; p++)
    g_string_append_c (out, (*p == '/' || *p == '\\') ? '_' : *p);

  if (g_str_equal (out->str, ".") || g_str_equal (out->str, ".."))
    g_string_assign (out, "_");
  return g_string_free (out, FALSE);
}

/**
 * sluice_sanitize_markup:
 *
 * Text for a GTK label or libadwaita row title/toast, which parse Pango markup.
 */
char *
sluice_sanitize_markup (const char *text)
{
  g_autofree char *clean = sluice_sanitize_text (text, -1, 4096);

  if (clean == NULL)
    return g_strdup ("");
  return g_markup_escape_text (clean, -1);
}
