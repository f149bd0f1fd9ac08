/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-target"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "sluice-error.h"
#include "sluice-target.h"

SluiceTarget *
sluice_target_new (void)
{
  SluiceTarget *self = g_new0 (SluiceTarget, 1);

  self->region = g_strdup ("us-east-1");
  self->prefix = g_strdup ("");
  return self;
}

SluiceTarget *
sluice_target_copy (const SluiceTarget *self)
{
  SluiceTarget *copy = g_new0 (SluiceTarget, 1);

  copy->endpoint = g_strdup (self->endpoint);
  copy->region = g_strdup (self->region);
  copy->bucket = g_strdup (self->bucket);
  copy->prefix = g_strdup (self->prefix);
  copy->path_style = self->path_style;
  copy->insecure = self->insecure;
  copy->ca_file = g_strdup (self->ca_file);
  copy->resolve = g_strdupv (self->resolve);
  copy->stall_timeout_s = self->stall_timeout_s;
  copy->storage_class = g_strdup (self->storage_class);
  copy->sse = g_strdup (self->sse);
  copy->sse_kms_key_id = g_strdup (self->sse_kms_key_id);
  copy->tags = g_strdupv (self->tags);
  copy->acl_owner_full_control = self->acl_owner_full_control;
  return copy;
}

void
sluice_target_free (SluiceTarget *self)
{
  if (self == NULL)
    return;
  g_free (self->endpoint);
  g_free (self->region);
  g_free (self->bucket);
  g_free (self->prefix);
  g_free (self->ca_file);
  g_strfreev (self->resolve);
  g_free (self->storage_class);
  g_free (self->sse);
  g_free (self->sse_kms_key_id);
  g_strfreev (self->tags);
  g_free (self);
}

/* Bucket names as S3 allows them today: 3-63 of [a-z0-9.-], starting and ending alnum.
 * Older buckets may have upper case and underscores; path-style addressing copes with those. */
static gboolean
bucket_name_ok (const char *name,
                gboolean    strict)
{
  gsize len = strlen (name);

  if (len < 3 || len > 255)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '.' || *p == '-')
        continue;
      if (!strict && (g_ascii_isupper (*p) || *p == '_'))
        continue;
      return FALSE;
    }
  return strict ? len <= 63 : TRUE;
}

static char *
strip_slashes (const char *text)
{
  while (*text == '/')
    text++;
  g_autofree char *copy = g_strdup (text);
  gsize len = strlen (copy);

  while (len > 0 && copy[len - 1] == '/')
    copy[--len] = '\0';
  return g_steal_pointer (&copy);
}

/**
 * sluice_target_parse_uri:
 * @uri: "s3://BUCKET" or "s3://BUCKET/PREFIX/..."
 *
 * Sets bucket and prefix. "s3://b" and "s3://b/" both give an empty prefix, so keys never
 * start with '/'; repeated slashes inside the prefix are kept as the user wrote them.
 */
gboolean
sluice_target_parse_uri (SluiceTarget *self,
                         const char   *uri,
                         GError      **error)
{
  const char *rest, *slash;
  g_autofree char *bucket = NULL;

  if (uri == NULL || !g_str_has_prefix (uri, "s3://"))
    {
      g_autofree char *shown = g_utf8_make_valid (uri != NULL ? uri : "", -1);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an S3 address; write it as s3://BUCKET or s3://BUCKET/PREFIX"),
                   shown);
      return FALSE;
    }
  rest = uri + strlen ("s3://");
  slash = strchr (rest, '/');
  bucket = slash != NULL ? g_strndup (rest, slash - rest) : g_strdup (rest);
  if (!g_utf8_validate (bucket, -1, NULL) || !bucket_name_ok (bucket, FALSE))
    {
      g_autofree char *shown = g_utf8_make_valid (bucket, -1);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a valid bucket name"), shown);
      return FALSE;
    }

  g_free (self->bucket);
  self->bucket = g_steal_pointer (&bucket);
  g_free (self->prefix);
  self->prefix = strip_slashes (slash != NULL ? slash + 1 : "");
  if (!g_utf8_validate (self->prefix, -1, NULL))
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("The key prefix is not valid UTF-8"));
      return FALSE;
    }
  return TRUE;
}

char *
sluice_target_to_uri (const SluiceTarget *self)
{
  if (self->prefix == NULL || self->prefix[0] == '\0')
    return g_strdup_printf ("s3://%s", self->bucket);
  return g_strdup_printf ("s3://%s/%s", self->bucket, self->prefix);
}

gboolean
sluice_target_validate (const SluiceTarget *self,
                        GError            **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (self->endpoint == NULL || self->endpoint[0] == '\0')
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("No endpoint is set; give one with --endpoint URL"));
      return FALSE;
    }
  uri = g_uri_parse (self->endpoint, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL ||
      (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0) ||
      (g_uri_get_path (uri)[0] != '\0' && !g_str_equal (g_uri_get_path (uri), "/")) ||
      g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a valid endpoint; write it as https://HOST[:PORT]"),
                   self->endpoint);
      return FALSE;
    }
  if (self->bucket == NULL || !bucket_name_ok (self->bucket, FALSE))
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a valid bucket name"), self->bucket ? self->bucket : "");
      return FALSE;
    }
  if (!self->path_style && !bucket_name_ok (self->bucket, TRUE))
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("The bucket name “%s” cannot be used as a host name; use path-style "
                     "addressing"), self->bucket);
      return FALSE;
    }
  for (guint i = 0; self->tags != NULL && self->tags[i] != NULL; i++)
    {
      const char *eq = strchr (self->tags[i], '=');
      if (eq == NULL || eq == self->tags[i] || !g_utf8_validate (self->tags[i], -1, NULL))
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                       _("The tag “%s” is not of the form KEY=VALUE"), self->tags[i]);
          return FALSE;
        }
    }
  if (self->sse != NULL && !g_str_equal (self->sse, "AES256") &&
      !g_str_equal (self->sse, "aws:kms") && !g_str_equal (self->sse, "aws:kms:dsse"))
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("Server-side encryption “%s” is not AES256 or aws:kms"), self->sse);
      return FALSE;
    }
  if (self->sse_kms_key_id != NULL && g_strcmp0 (self->sse, "aws:kms") != 0 &&
      g_strcmp0 (self->sse, "aws:kms:dsse") != 0)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("A KMS key id needs --sse aws:kms"));
      return FALSE;
    }
  if (self->storage_class != NULL)
    for (const char *p = self->storage_class; *p != '\0'; p++)
      if (!g_ascii_isupper (*p) && *p != '_')
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a storage class (STANDARD, STANDARD_IA, GLACIER_IR, …)"),
                       self->storage_class);
          return FALSE;
        }
  if (self->region == NULL || self->region[0] == '\0' ||
      strpbrk (self->region, ":/ \t\r\n") != NULL)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("The region is not valid"));
      return FALSE;
    }
  return TRUE;
}

/**
 * sluice_uri_encode:
 *
 * Percent-encodes everything but A-Z a-z 0-9 - . _ ~ (and '/' when @keep_slash): the form
 * SigV4 signs and S3 expects, '+' as %2B and space as %20.
 */
char *
sluice_uri_encode (const char *text,
                   gboolean    keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  gsize len = strlen (text);
  char *out = g_malloc (len * 3 + 1), *o = out;

  /* once per request (the URL): a printf per escaped byte was ~0.5 % of a small-file
   * ingest's CPU (issue 5) */
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
          (keep_slash && *p == '/'))
        *o++ = (char) *p;
      else
        {
          *o++ = '%';
          *o++ = hex[*p >> 4];
          *o++ = hex[*p & 0xf];
        }
    }
  *o = '\0';
  return out;
}

/**
 * sluice_key_path_nfc:
 * @relpath: a file's path relative to the source folder, in the file system's bytes
 *
 * @relpath as it goes into an object key: checked and in UTF-8 NFC (macOS clients write NFD
 * names to a NAS; the same photo must get the same key). A name that is not UTF-8, or that
 * has control characters, fails with SLUICE_ERROR_INVALID_KEY rather than being mangled into
 * a key another file may also get.
 *
 * Returns: (transfer full) (nullable): the path in NFC
 */
char *
sluice_key_path_nfc (const char  *relpath,
                     GError     **error)
{
  gboolean ascii = TRUE;

  if (!g_utf8_validate (relpath, -1, NULL))
    {
      g_autofree char *display = g_filename_display_name (relpath);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY,
                   _("“%s”: the file name is not valid UTF-8 and cannot become an object key"),
                   display);
      return NULL;
    }
  for (const guchar *p = (const guchar *) relpath; *p != '\0'; p++)
    {
      if (*p < 0x20 || *p == 0x7f)
        {
          g_autofree char *escaped = g_strescape (relpath, NULL);
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY,
                       _("“%s”: the file name contains control characters"), escaped);
          return NULL;
        }
      ascii &= *p < 0x80;
    }
  /* ASCII is its own NFC; normalizing costs ~1 % of a small-file ingest's CPU (issue 5) */
  return ascii ? g_strdup (relpath) : g_utf8_normalize (relpath, -1, G_NORMALIZE_NFC);
}

/**
 * sluice_target_object_key:
 * @relpath: the file's path relative to the source folder, in the file system's bytes
 *
 * The object key: PREFIX/relpath, with the path in NFC (sluice_key_path_nfc ()). A name that
 * is not UTF-8 is refused by name rather than mangled, and so is a key over 1024 bytes.
 */
char *
sluice_target_object_key (const SluiceTarget *self,
                          const char         *relpath,
                          GError            **error)
{
  g_autofree char *nfc = NULL;
  g_autofree char *key = NULL;

  nfc = sluice_key_path_nfc (relpath, error);
  if (nfc == NULL)
    return NULL;
  if (self->prefix != NULL && self->prefix[0] != '\0')
    key = g_strconcat (self->prefix, "/", nfc, NULL);
  else
    key = g_steal_pointer (&nfc);

  if (strlen (key) > SLUICE_KEY_MAX_BYTES)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY,
                   _("“%s”: the object key would be longer than 1024 bytes"), relpath);
      return NULL;
    }
  return g_steal_pointer (&key);
}

gboolean
sluice_target_has_object_options (const SluiceTarget *self)
{
  return self->storage_class != NULL || self->sse != NULL || self->sse_kms_key_id != NULL ||
         (self->tags != NULL && self->tags[0] != NULL) || self->acl_owner_full_control;
}

/* The x-amz-tagging value: key=value pairs, each side percent-encoded, joined with '&'. */
char *
sluice_target_tagging (const SluiceTarget *self)
{
  GString *out;

  if (self->tags == NULL || self->tags[0] == NULL)
    return NULL;
  out = g_string_new (NULL);
  for (guint i = 0; self->tags[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (self->tags[i], "=", 2);
      g_autofree char *k = sluice_uri_encode (kv[0], FALSE);
      g_autofree char *v = sluice_uri_encode (kv[1] ? kv[1] : "", FALSE);

      g_string_append_printf (out, "%s%s=%s", i ? "&" : "", k, v);
    }
  return g_string_free (out, FALSE);
}

char *
sluice_target_host (const SluiceTarget *self)
{
  g_autoptr(GUri) uri = g_uri_parse (self->endpoint, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL)
    return NULL;
  return g_strdup (g_uri_get_host (uri));
}

static char *
base_url (const SluiceTarget *self)
{
  g_autoptr(GUri) uri = g_uri_parse (self->endpoint, G_URI_FLAGS_NONE, NULL);
  g_autofree char *host = NULL;
  const char *h;

  g_return_val_if_fail (uri != NULL, NULL);

  h = g_uri_get_host (uri);
  if (self->path_style)
    host = strchr (h, ':') != NULL ? g_strdup_printf ("[%s]", h) : g_strdup (h);
  else
    host = g_strdup_printf ("%s.%s", self->bucket, h);

  if (g_uri_get_port (uri) > 0)
    return g_strdup_printf ("%s://%s:%d", g_uri_get_scheme (uri), host, g_uri_get_port (uri));
  return g_strdup_printf ("%s://%s", g_uri_get_scheme (uri), host);
}

/* The URL of the bucket itself, with a trailing '/', ready for a query string. */
char *
sluice_target_bucket_url (const SluiceTarget *self)
{
  g_autofree char *base = base_url (self);

  if (self->path_style)
    return g_strdup_printf ("%s/%s/", base, self->bucket);
  return g_strdup_printf ("%s/", base);
}

char *
sluice_target_object_url (const SluiceTarget *self,
                          const char         *key)
{
  g_autofree char *base = base_url (self);
  g_autofree char *encoded = sluice_uri_encode (key, TRUE);

  if (self->path_style)
    return g_strdup_printf ("%s/%s/%s", base, self->bucket, encoded);
  return g_strdup_printf ("%s/%s", base, encoded);
}
