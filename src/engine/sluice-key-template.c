/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-key-template"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "sluice-error.h"
#include "sluice-key-template.h"
#include "sluice-sanitize.h"

typedef enum {
  PART_LITERAL,
  PART_PATH,
  PART_NAME,
  PART_EXT,
  PART_YEAR,
  PART_MONTH,
  PART_DAY,
  PART_CAMERA,
  PART_SHA256,
} PartKind;

typedef struct {
  PartKind  kind;
  char     *text;   /* PART_LITERAL only */
} Part;

struct _SluiceKeyTemplate
{
  char                   *text;
  GArray                 *parts;   /* Part */
  SluiceKeyTemplateNeeds  needs;
};

static const struct {
  const char             *name;
  PartKind                kind;
  SluiceKeyTemplateNeeds  needs;
} fields[] = {
  { "path",   PART_PATH,   SLUICE_KEY_NEEDS_NOTHING },
  { "name",   PART_NAME,   SLUICE_KEY_NEEDS_NOTHING },
  { "ext",    PART_EXT,    SLUICE_KEY_NEEDS_NOTHING },
  { "year",   PART_YEAR,   SLUICE_KEY_NEEDS_METADATA | SLUICE_KEY_NEEDS_MTIME },
  { "month",  PART_MONTH,  SLUICE_KEY_NEEDS_METADATA | SLUICE_KEY_NEEDS_MTIME },
  { "day",    PART_DAY,    SLUICE_KEY_NEEDS_METADATA | SLUICE_KEY_NEEDS_MTIME },
  { "camera", PART_CAMERA, SLUICE_KEY_NEEDS_METADATA },
  { "sha256", PART_SHA256, SLUICE_KEY_NEEDS_SHA256 },
};

static void
part_clear (Part *part)
{
  g_clear_pointer (&part->text, g_free);
}

void
sluice_key_template_free (SluiceKeyTemplate *self)
{
  if (self == NULL)
    return;
  g_free (self->text);
  g_clear_pointer (&self->parts, g_array_unref);
  g_free (self);
}

static void
add_literal (SluiceKeyTemplate *self,
             const char        *start,
             gsize              len)
{
  Part part = { PART_LITERAL, NULL };

  if (len == 0)
    return;
  part.text = g_strndup (start, len);
  g_array_append_val (self->parts, part);
}

static gboolean
check_literal_text (const char  *text,
                    GError     **error)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20 || *p == 0x7f || *p == '\\')
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                               _("The key template contains a control character or a "
                                 "backslash"));
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * sluice_key_template_new:
 * @text: the template, e.g. "{year}/{month}/{day}/{name}.{ext}"
 *
 * Parses @text. Fails with SLUICE_ERROR_INVALID_ARGUMENT, naming the problem, for an unknown
 * field, an unclosed brace, a "." or ".." segment, and a template with none of {path}, {name}
 * and {sha256}, which would give every file (of a day, of a camera) the same key.
 *
 * Called from any thread.
 *
 * Returns: (transfer full) (nullable): the template
 */
SluiceKeyTemplate *
sluice_key_template_new (const char  *text,
                         GError     **error)
{
  g_autoptr(SluiceKeyTemplate) self = NULL;
  g_auto(GStrv) segments = NULL;
  gboolean distinct = FALSE;
  const char *p, *lit;

  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("The key template is not valid UTF-8"));
      return NULL;
    }
  if (strlen (text) > SLUICE_KEY_TEMPLATE_MAX_LENGTH)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("The key template is longer than %d bytes"),
                   SLUICE_KEY_TEMPLATE_MAX_LENGTH);
      return NULL;
    }
  if (!check_literal_text (text, error))
    return NULL;

  self = g_new0 (SluiceKeyTemplate, 1);
  self->text = g_strdup (text);
  self->parts = g_array_new (FALSE, TRUE, sizeof (Part));
  g_array_set_clear_func (self->parts, (GDestroyNotify) part_clear);

  lit = text;
  for (p = text; *p != '\0'; p++)
    {
      const char *close;
      gsize len;
      guint i;

      if (*p == '}')
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                               _("The key template has a “}” without a “{”"));
          return NULL;
        }
      if (*p != '{')
        continue;

      add_literal (self, lit, p - lit);
      close = strchr (p + 1, '}');
      if (close == NULL)
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                               _("The key template has a “{” without a “}”"));
          return NULL;
        }
      len = close - (p + 1);
      for (i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          if (strlen (fields[i].name) == len && strncmp (p + 1, fields[i].name, len) == 0)
            break;
        }
      if (i == G_N_ELEMENTS (fields))
        {
          g_autofree char *name = g_strndup (p + 1, len);

          /* TRANSLATORS: the field names in braces are not translated */
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                       _("The key template has an unknown field {%s}; the fields are {path}, "
                         "{name}, {ext}, {year}, {month}, {day}, {camera} and {sha256}"), name);
          return NULL;
        }
      else
        {
          Part part = { fields[i].kind, NULL };

          g_array_append_val (self->parts, part);
          self->needs |= fields[i].needs;
          if (part.kind == PART_PATH || part.kind == PART_NAME || part.kind == PART_SHA256)
            distinct = TRUE;
        }
      p = close;
      lit = close + 1;
    }
  add_literal (self, lit, p - lit);

  if (!distinct)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("The key template needs {path}, {name} or {sha256}: without one "
                             "of them, different files would get the same key"));
      return NULL;
    }

  /* "../{path}" or "{year}/./{name}" would climb out of the prefix or be normalised away by
   * some servers; refuse them here rather than per file */
  segments = g_strsplit (text, "/", -1);
  for (guint i = 0; segments[i] != NULL; i++)
    {
      if (g_str_equal (segments[i], ".") || g_str_equal (segments[i], ".."))
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                               _("The key template cannot contain “.” or “..” as a "
                                 "folder"));
          return NULL;
        }
    }

  return g_steal_pointer (&self);
}

const char *
sluice_key_template_get_text (const SluiceKeyTemplate *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->text;
}

/**
 * sluice_key_template_get_needs:
 *
 * What must be known before a key can be made: nothing more than the path, the probe's
 * metadata (dates, camera; the dates fall back to the modification time), or the content's
 * SHA-256 (the whole file read).
 */
SluiceKeyTemplateNeeds
sluice_key_template_get_needs (const SluiceKeyTemplate *self)
{
  g_return_val_if_fail (self != NULL, SLUICE_KEY_NEEDS_NOTHING);
  return self->needs;
}

/* Whether the template gives the same keys as no template at all (PREFIX/relpath). */
gboolean
sluice_key_template_is_default (const SluiceKeyTemplate *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  return self->parts->len == 1 && g_array_index (self->parts, Part, 0).kind == PART_PATH;
}

/* "YYYY:MM:DD HH:MM:SS" as the probe validated it; anything else is ignored */
static gboolean
parse_exif_date (const char *value,
                 char        year[5],
                 char        month[3],
                 char        day[3])
{
  if (value == NULL || strlen (value) < 10 || value[4] != ':' || value[7] != ':')
    return FALSE;
  for (guint i = 0; i < 10; i++)
    {
      if (i != 4 && i != 7 && !g_ascii_isdigit (value[i]))
        return FALSE;
    }
  /* cameras with an unset clock write "0000:00:00 00:00:00" */
  if (strncmp (value, "0000", 4) == 0 || strncmp (value + 5, "00", 2) == 0 ||
      strncmp (value + 8, "00", 2) == 0)
    return FALSE;
  memcpy (year, value, 4);
  year[4] = '\0';
  memcpy (month, value + 5, 2);
  month[2] = '\0';
  memcpy (day, value + 8, 2);
  day[2] = '\0';
  return TRUE;
}

static void
mtime_date (gint64 mtime_ns,
            char   year[5],
            char   month[3],
            char   day[3])
{
  g_autoptr(GDateTime) dt = NULL;

  dt = g_date_time_new_from_unix_utc (mtime_ns / G_GINT64_CONSTANT (1000000000));

  if (dt == NULL)
    dt = g_date_time_new_from_unix_utc (0);
  g_snprintf (year, 5, "%04d", CLAMP (g_date_time_get_year (dt), 0, 9999));
  g_snprintf (month, 3, "%02d", g_date_time_get_month (dt));
  g_snprintf (day, 3, "%02d", g_date_time_get_day_of_month (dt));
}

static char *
camera_value (const SluiceMetadata *meta)
{
  const char *make = meta != NULL ? meta->make : NULL;
  const char *model = meta != NULL ? meta->model : NULL;

  if (model != NULL && *model != '\0')
    {
      /* "Canon" + "Canon EOS R5" is "Canon EOS R5"; "NIKON CORPORATION" + "NIKON Z 6" too */
      if (make != NULL && *make != '\0')
        {
          g_autofree char *first = g_strndup (make, strcspn (make, " "));

          if (g_ascii_strncasecmp (model, first, strlen (first)) != 0)
            return g_strconcat (make, " ", model, NULL);
        }
      return g_strdup (model);
    }
  if (make != NULL && *make != '\0')
    return g_strdup (make);
  return g_strdup ("unknown");
}

static void
append_segment (GString    *out,
                const char *value)
{
  g_autofree char *clean = sluice_sanitize_key_segment (value);

  g_string_append (out, clean);
}

/* Drops empty segments and refuses "." and ".." (only literal text or {path} can make them,
 * since every other field is sanitised). */
static char *
normalise_segments (const char  *key,
                    GError     **error)
{
  g_auto(GStrv) segments = g_strsplit (key, "/", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; segments[i] != NULL; i++)
    {
      if (segments[i][0] == '\0')
        continue;
      if (g_str_equal (segments[i], ".") || g_str_equal (segments[i], ".."))
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY,
                       _("“%s”: a key cannot contain “.” or “..” as a folder"), key);
          g_string_free (out, TRUE);
          return NULL;
        }
      if (out->len > 0)
        g_string_append_c (out, '/');
      g_string_append (out, segments[i]);
    }
  if (out->len == 0)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY,
                           _("The key template gave an empty key"));
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/**
 * sluice_key_template_expand:
 * @relpath: the file's path relative to the source folder (file system bytes)
 * @metadata: (nullable): what the probe found; NULL when it was not run or failed
 * @mtime_ns: the file's modification time, for dates when there is no DateTimeOriginal
 * @sha256_hex: (nullable): the content's hash; required when the template needs it
 *
 * The key relative to the target's prefix (without it). A path that is not valid UTF-8 or
 * has control characters fails with SLUICE_ERROR_INVALID_KEY, as sluice_target_object_key()
 * does, rather than being mangled into a key another file may also get.
 *
 * Called from any thread.
 *
 * Returns: (transfer full) (nullable): the key
 */
char *
sluice_key_template_expand (const SluiceKeyTemplate *self,
                            const char              *relpath,
                            const SluiceMetadata    *metadata,
                            gint64                   mtime_ns,
                            const char              *sha256_hex,
                            GError                 **error)
{
  g_autofree char *nfc = NULL;
  g_autofree char *name = NULL;
  g_autofree char *ext = NULL;
  g_autoptr(GString) out = NULL;
  char year[5] = "", month[3] = "", day[3] = "";
  const char *base, *dot;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (relpath != NULL, NULL);

  nfc = sluice_key_path_nfc (relpath, error);
  if (nfc == NULL)
    return NULL;
  if ((self->needs & SLUICE_KEY_NEEDS_SHA256) && (sha256_hex == NULL || *sha256_hex == '\0'))
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("The key template needs the content's SHA-256, which is not "
                             "known yet"));
      return NULL;
    }

  base = strrchr (nfc, '/');
  base = base != NULL ? base + 1 : nfc;
  dot = strrchr (base, '.');
  /* ".hidden" has no extension; "a." has an empty one */
  if (dot != NULL && dot != base)
    {
      name = g_strndup (base, dot - base);
      ext = g_strdup (dot + 1);
    }
  else
    {
      name = g_strdup (base);
      ext = g_strdup ("");
    }

  if (self->needs & SLUICE_KEY_NEEDS_MTIME)
    {
      if (!parse_exif_date (metadata != NULL ? metadata->datetime_original : NULL,
                            year, month, day))
        mtime_date (mtime_ns, year, month, day);
    }

  out = g_string_new (NULL);
  for (guint i = 0; i < self->parts->len; i++)
    {
      const Part *part = &g_array_index (self->parts, Part, i);

      switch (part->kind)
        {
        case PART_LITERAL:
          g_string_append (out, part->text);
          break;
        case PART_PATH:
          g_string_append (out, nfc);
          break;
        case PART_NAME:
          append_segment (out, name);
          break;
        case PART_EXT:
          if (*ext != '\0')
            append_segment (out, ext);
          else if (i > 0 && g_array_index (self->parts, Part, i - 1).kind == PART_LITERAL &&
                   out->len > 0 && out->str[out->len - 1] == '.')
            g_string_truncate (out, out->len - 1);
          break;
        case PART_YEAR:
          g_string_append (out, year);
          break;
        case PART_MONTH:
          g_string_append (out, month);
          break;
        case PART_DAY:
          g_string_append (out, day);
          break;
        case PART_CAMERA:
          {
            g_autofree char *camera = camera_value (metadata);
            append_segment (out, camera);
          }
          break;
        case PART_SHA256:
          append_segment (out, sha256_hex);
          break;
        default:
          g_assert_not_reached ();
        }
    }

  return normalise_segments (out->str, error);
}

/**
 * sluice_key_template_object_key:
 * @target: where the object goes (its prefix is put in front)
 *
 * sluice_key_template_expand() followed by sluice_target_object_key(): the full key, in NFC,
 * with the prefix, checked against S3's 1024-byte limit.
 *
 * Called from any thread.
 *
 * Returns: (transfer full) (nullable): the object key
 */
char *
sluice_key_template_object_key (const SluiceKeyTemplate *self,
                                const SluiceTarget      *target,
                                const char              *relpath,
                                const SluiceMetadata    *metadata,
                                gint64                   mtime_ns,
                                const char              *sha256_hex,
                                GError                 **error)
{
  g_autofree char *relkey = NULL;

  g_return_val_if_fail (target != NULL, NULL);

  if (self == NULL || sluice_key_template_is_default (self))
    return sluice_target_object_key (target, relpath, error);

  relkey = sluice_key_template_expand (self, relpath, metadata, mtime_ns, sha256_hex, error);
  if (relkey == NULL)
    return NULL;
  return sluice_target_object_key (target, relkey, error);
}
