/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-sanitize"

#include "config.h"

#include <string.h>

#include "sluice-sanitize.h"

static void
assert_text (const char *in,
             gssize      len,
             gsize       max,
             const char *expected)
{
  g_autofree char *out = sluice_sanitize_text (in, len, max);

  g_assert_cmpstr (out, ==, expected);
  if (out != NULL)
    {
      g_assert_true (g_utf8_validate (out, -1, NULL));
      g_assert_cmpuint (strlen (out), <=, max);
    }
}

static void
test_text_controls (void)
{
  /* tabs, CR and LF become one space; runs collapse; the ends are trimmed */
  assert_text ("  a\tb\r\n c  ", -1, 100, "a b c");
  assert_text ("a\x01\x02\x1b[31mb", -1, 100, "a [31mb");
  assert_text ("a\x7f" "b", -1, 100, "a b");
  /* C1 controls, line and paragraph separators, bidi overrides */
  assert_text ("a\xc2\x85" "b", -1, 100, "a b");
  assert_text ("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", -1, 100, "a b c");
  assert_text ("evil\xe2\x80\xae" "gpj.exe", -1, 100, "evil gpj.exe");
  assert_text ("x\xe2\x81\xa6" "y", -1, 100, "x y");
}

static void
test_text_nul_and_empty (void)
{
  /* EXIF ASCII is NUL padded: stop at the first NUL */
  assert_text ("abc\0def", 7, 100, "abc");
  assert_text ("\0\0\0", 3, 100, NULL);
  assert_text ("", -1, 100, NULL);
  assert_text (" \t\r\n ", -1, 100, NULL);
  assert_text (NULL, -1, 100, NULL);
  /* the length is honoured: no read past it */
  assert_text ("abcdef", 3, 100, "abc");
}

static void
test_text_invalid_utf8 (void)
{
  assert_text ("a\xff" "b", -1, 100, "a\xef\xbf\xbd" "b");
  assert_text ("\xc3", -1, 100, "\xef\xbf\xbd");
  assert_text ("Caf\xc3\xa9", -1, 100, "Caf\xc3\xa9");
}

static void
test_text_max_bytes (void)
{
  /* cut on a character boundary, never inside one */
  assert_text ("\xc3\xa9\xc3\xa9\xc3\xa9", -1, 5, "\xc3\xa9\xc3\xa9");
  assert_text ("a\xc3\xa9", -1, 2, "a");
  assert_text ("abcdef", -1, 3, "abc");
  /* a cut that ends on a space is trimmed too */
  assert_text ("ab cd", -1, 3, "ab");
  assert_text ("abc", -1, 0, NULL);
}

/* What sluice_sanitize_text () must make of ASCII, written the slow, obvious way: controls to
 * spaces, runs of spaces to one, the ends trimmed, cut at @max and trimmed again. */
static char *
reference_ascii (const char *in,
                 gsize       max)
{
  GString *out = g_string_new (NULL);

  for (const char *p = in; *p != '\0'; p++)
    {
      char c = (*p < 0x20 || *p == 0x7f) ? ' ' : *p;

      if (c == ' ' && (out->len == 0 || out->str[out->len - 1] == ' '))
        continue;
      if (out->len + 1 > max)
        break;
      g_string_append_c (out, c);
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

/* The common case (clean printable ASCII, returned as it is) and the general loop agree: random
 * strings with spaces, tabs, DEL and printable edges, against the reference above. */
static void
test_text_ascii_paths_agree (void)
{
  static const char alphabet[] = { 'a', 'Z', '~', '!', ' ', ' ', '\t', 0x7f, '\n' };
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);

  for (guint round = 0; round < 20000; round++)
    {
      char in[16];
      guint len = g_rand_int_range (rand, 0, sizeof in);
      gsize max = g_rand_int_range (rand, 0, 18);
      g_autofree char *expected = NULL;

      for (guint i = 0; i < len; i++)
        in[i] = alphabet[g_rand_int_range (rand, 0, G_N_ELEMENTS (alphabet))];
      in[len] = '\0';
      expected = reference_ascii (in, max);
      assert_text (in, -1, max, expected);
    }
}

static void
test_header_value (void)
{
  g_autofree char *plain = sluice_sanitize_header_value ("Canon EOS R5");
  g_autofree char *utf8 = sluice_sanitize_header_value ("Caf\xc3\xa9 \xe2\x84\xa2");
  g_autofree char *encoded_word = sluice_sanitize_header_value ("=?UTF-8?B?Zm9v?=");
  g_autofree char *injection = sluice_sanitize_header_value ("a\r\nX-Evil: 1");
  g_autofree char *empty = sluice_sanitize_header_value ("");
  g_autofree char *null = sluice_sanitize_header_value (NULL);
  g_autofree char *controls = sluice_sanitize_header_value ("\x01\x02");
  g_autofree guchar *decoded = NULL;
  g_autofree char *b64 = NULL;
  gsize len = 0;

  g_assert_cmpstr (plain, ==, "Canon EOS R5");
  g_assert_cmpstr (empty, ==, "");
  g_assert_cmpstr (null, ==, "");
  g_assert_cmpstr (controls, ==, "");

  /* non-ASCII: the whole value is one RFC 2047 encoded word that decodes to the text */
  g_assert_true (g_str_has_prefix (utf8, "=?UTF-8?B?"));
  g_assert_true (g_str_has_suffix (utf8, "?="));
  b64 = g_strndup (utf8 + strlen ("=?UTF-8?B?"),
                   strlen (utf8) - strlen ("=?UTF-8?B?") - strlen ("?="));
  decoded = g_base64_decode (b64, &len);
  g_assert_cmpmem (decoded, len, "Caf\xc3\xa9 \xe2\x84\xa2", strlen ("Caf\xc3\xa9 \xe2\x84\xa2"));
  for (const char *p = utf8; *p != '\0'; p++)
    g_assert_true ((guchar) *p >= 0x20 && (guchar) *p <= 0x7e);

  /* text that would read back as an encoded word is encoded itself */
  g_assert_true (g_str_has_prefix (encoded_word, "=?UTF-8?B?"));
  g_assert_cmpstr (encoded_word, !=, "=?UTF-8?B?Zm9v?=");

  /* no header can be injected */
  g_assert_null (strchr (injection, '\r'));
  g_assert_null (strchr (injection, '\n'));
  g_assert_cmpstr (injection, ==, "a X-Evil: 1");
}

static void
test_header_value_bounded (void)
{
  g_autofree char *longer = g_strnfill (5000, 'x');
  g_autofree char *value = sluice_sanitize_header_value (longer);

  g_assert_cmpuint (strlen (value), ==, 1024);
}

static void
assert_csv (const char *in,
            const char *expected)
{
  g_autofree char *out = sluice_sanitize_csv_field (in);

  g_assert_cmpstr (out, ==, expected);
}

static void
test_csv_quoting (void)
{
  assert_csv ("plain", "plain");
  assert_csv ("a=b", "a=b");
  assert_csv ("a,b", "\"a,b\"");
  assert_csv ("say \"hi\"", "\"say \"\"hi\"\"\"");
  assert_csv ("l1\nl2", "\"l1\nl2\"");
  assert_csv ("l1\r\nl2", "\"l1\r\nl2\"");
  assert_csv (" lead", "\" lead\"");
  assert_csv ("", "");
  assert_csv (NULL, "");
}

static void
test_csv_formula (void)
{
  /* OWASP CSV injection: a leading apostrophe, inside quotes */
  assert_csv ("=1+1", "\"'=1+1\"");
  assert_csv ("+1", "\"'+1\"");
  assert_csv ("-1", "\"'-1\"");
  assert_csv ("@SUM(A1)", "\"'@SUM(A1)\"");
  assert_csv ("\tx", "\"'\tx\"");
  assert_csv ("\rx", "\"'\rx\"");
  assert_csv ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"");
}

static void
test_key_segment (void)
{
  struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "Canon", "Canon" },
    { "a/b\\c", "a_b_c" },
    { "/", "_" },
    { ".", "_" },
    { "..", "_" },
    { "...", "..." },
    { "", "_" },
    { NULL, "_" },
    { "x\ny", "x y" },
    { "\x01", "_" },
  };
  g_autofree char *longer = g_strnfill (300, 'k');
  g_autofree char *cut = sluice_sanitize_key_segment (longer);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = sluice_sanitize_key_segment (cases[i].in);
      g_assert_cmpstr (out, ==, cases[i].out);
    }
  g_assert_cmpuint (strlen (cut), ==, 255);
}

static void
test_markup (void)
{
  g_autofree char *tags = sluice_sanitize_markup ("<b>Tom & Jerry</b>");
  g_autofree char *null = sluice_sanitize_markup (NULL);
  g_autofree char *controls = sluice_sanitize_markup ("\x01\x02");
  g_autofree char *quotes = sluice_sanitize_markup ("a'b\"c");

  g_assert_cmpstr (tags, ==, "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;");
  g_assert_cmpstr (null, ==, "");
  g_assert_cmpstr (controls, ==, "");
  g_assert_cmpstr (quotes, ==, "a&apos;b&quot;c");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/sanitize/text-controls", test_text_controls);
  g_test_add_func ("/engine/sanitize/text-nul-and-empty", test_text_nul_and_empty);
  g_test_add_func ("/engine/sanitize/text-invalid-utf8", test_text_invalid_utf8);
  g_test_add_func ("/engine/sanitize/text-max-bytes", test_text_max_bytes);
  g_test_add_func ("/engine/sanitize/text-ascii-paths-agree", test_text_ascii_paths_agree);
  g_test_add_func ("/engine/sanitize/header-value", test_header_value);
  g_test_add_func ("/engine/sanitize/header-value-bounded", test_header_value_bounded);
  g_test_add_func ("/engine/sanitize/csv-quoting", test_csv_quoting);
  g_test_add_func ("/engine/sanitize/csv-formula", test_csv_formula);
  g_test_add_func ("/engine/sanitize/key-segment", test_key_segment);
  g_test_add_func ("/engine/sanitize/markup", test_markup);

  return g_test_run ();
}
