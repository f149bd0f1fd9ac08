/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-target"

#include "config.h"

#include <string.h>

#include "sluice-error.h"
#include "sluice-target.h"
#include "sluice-test-util.h"

static SluiceTarget *
target_with (const char *endpoint,
             const char *bucket,
             const char *prefix,
             gboolean    path_style)
{
  SluiceTarget *t = sluice_target_new ();

  t->endpoint = g_strdup (endpoint);
  t->bucket = g_strdup (bucket);
  g_free (t->prefix);
  t->prefix = g_strdup (prefix);
  t->path_style = path_style;
  return t;
}

static void
test_defaults (void)
{
  g_autoptr(SluiceTarget) t = sluice_target_new ();

  g_assert_cmpstr (t->region, ==, "us-east-1");
  g_assert_cmpstr (t->prefix, ==, "");
  g_assert_null (t->endpoint);
  g_assert_null (t->bucket);
  g_assert_false (t->path_style);
  g_assert_false (t->insecure);
  g_assert_cmpuint (t->stall_timeout_s, ==, 0);   /* the client's 60 s */
}

static void
test_copy (void)
{
  g_autoptr(SluiceTarget) t = target_with ("https://s3.example.com", "bucket", "p", TRUE);
  g_autoptr(SluiceTarget) copy = NULL;
  const char *resolve[] = { "s3.example.com:443:127.0.0.1", NULL };

  t->insecure = TRUE;
  t->ca_file = g_strdup ("/etc/ca.pem");
  t->resolve = g_strdupv ((char **) resolve);
  t->stall_timeout_s = 7;
  copy = sluice_target_copy (t);

  /* a deep copy: changing the original leaves it as it was */
  g_free (t->bucket);
  t->bucket = g_strdup ("other");
  t->resolve[0][0] = 'X';

  g_assert_cmpstr (copy->endpoint, ==, "https://s3.example.com");
  g_assert_cmpstr (copy->bucket, ==, "bucket");
  g_assert_cmpstr (copy->prefix, ==, "p");
  g_assert_cmpstr (copy->region, ==, "us-east-1");
  g_assert_true (copy->path_style);
  g_assert_true (copy->insecure);
  g_assert_cmpstr (copy->ca_file, ==, "/etc/ca.pem");
  g_assert_cmpstrv (copy->resolve, resolve);
  g_assert_cmpuint (copy->stall_timeout_s, ==, 7);
}

static void
test_parse_uri (void)
{
  struct {
    const char *uri;
    const char *bucket;
    const char *prefix;
    const char *back;
  } cases[] = {
    { "s3://bucket", "bucket", "", "s3://bucket" },
    { "s3://bucket/", "bucket", "", "s3://bucket" },
    { "s3://bucket/photos", "bucket", "photos", "s3://bucket/photos" },
    { "s3://bucket/photos/2024/", "bucket", "photos/2024", "s3://bucket/photos/2024" },
    { "s3://bucket///a//b//", "bucket", "a//b", "s3://bucket/a//b" },
    { "s3://Old_Bucket/x", "Old_Bucket", "x", "s3://Old_Bucket/x" },
    { "s3://my.bucket-1/caf\xc3\xa9", "my.bucket-1", "caf\xc3\xa9",
      "s3://my.bucket-1/caf\xc3\xa9" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SluiceTarget) t = sluice_target_new ();
      g_autoptr(GError) error = NULL;
      g_autofree char *back = NULL;

      g_assert_true (sluice_target_parse_uri (t, cases[i].uri, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (t->bucket, ==, cases[i].bucket);
      g_assert_cmpstr (t->prefix, ==, cases[i].prefix);
      back = sluice_target_to_uri (t);
      g_assert_cmpstr (back, ==, cases[i].back);
    }
}

static void
test_parse_uri_invalid (void)
{
  const char *bad[] = {
    "http://bucket/x",
    "bucket/x",
    "S3://bucket",
    "s3://",
    "s3:///prefix",
    "s3://ab",
    "s3://bad bucket/x",
    "s3://bucket!/x",
    "s3://b\xc3\xa9" "cket",
    "s3://bucket/\xff\xfe",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(SluiceTarget) t = sluice_target_new ();
      g_autoptr(GError) error = NULL;

      g_assert_false (sluice_target_parse_uri (t, bad[i], &error));
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }

  {
    g_autoptr(SluiceTarget) t = sluice_target_new ();
    g_autoptr(GError) error = NULL;

    g_assert_false (sluice_target_parse_uri (t, NULL, &error));
    g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
  }
}

/* Error messages end up in JSON, the catalog and GTK labels: they must be UTF-8 even when the
 * input is not. */
static void
test_parse_uri_invalid_utf8_message (void)
{
  const char *bad[] = { "s3://bu\xff" "cket/x", "s3://bucket/\xff\xfe", "\xff" };


  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(SluiceTarget) t = sluice_target_new ();
      g_autoptr(GError) error = NULL;

      g_assert_false (sluice_target_parse_uri (t, bad[i], &error));
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
}

static void
test_validate (void)
{
  struct {
    const char *endpoint;
    const char *bucket;
    gboolean    path_style;
    const char *region;
    gboolean    ok;
  } cases[] = {
    { "https://s3.eu-west-1.amazonaws.com", "photos", FALSE, "eu-west-1", TRUE },
    { "http://127.0.0.1:7480", "photos", TRUE, "us-east-1", TRUE },
    { "http://127.0.0.1:7480/", "photos", TRUE, "us-east-1", TRUE },
    { "http://[::1]:9000", "photos", TRUE, "us-east-1", TRUE },
    { NULL, "photos", TRUE, "us-east-1", FALSE },
    { "", "photos", TRUE, "us-east-1", FALSE },
    { "ftp://host", "photos", TRUE, "us-east-1", FALSE },
    { "s3.example.com", "photos", TRUE, "us-east-1", FALSE },
    { "https://host/base", "photos", TRUE, "us-east-1", FALSE },
    { "https://user:pw@host", "photos", TRUE, "us-east-1", FALSE },
    { "https://host/?x=1", "photos", TRUE, "us-east-1", FALSE },
    { "https://host", NULL, TRUE, "us-east-1", FALSE },
    { "https://host", "ab", TRUE, "us-east-1", FALSE },
    /* old bucket names work path-style only: they are not host names */
    { "https://host", "Old_Bucket", TRUE, "us-east-1", TRUE },
    { "https://host", "Old_Bucket", FALSE, "us-east-1", FALSE },
    { "https://host", "photos", TRUE, "", FALSE },
    { "https://host", "photos", TRUE, NULL, FALSE },
    { "https://host", "photos", TRUE, "eu:west", FALSE },
    { "https://host", "photos", TRUE, "eu west", FALSE },
    { "https://host", "photos", TRUE, "eu\nwest", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SluiceTarget) t = target_with (cases[i].endpoint, cases[i].bucket, "",
                                               cases[i].path_style);
      g_autoptr(GError) error = NULL;

      g_free (t->region);
      t->region = g_strdup (cases[i].region);
      if (cases[i].ok)
        {
          g_assert_true (sluice_target_validate (t, &error));
          g_assert_no_error (error);
        }
      else
        {
          g_assert_false (sluice_target_validate (t, &error));
          g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
        }
    }
}

static void
test_object_key (void)
{
  g_autoptr(SluiceTarget) none = target_with ("https://h", "b", "", TRUE);
  g_autoptr(SluiceTarget) prefixed = target_with ("https://h", "b", "backup/2024", TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *k1 = sluice_target_object_key (none, "DCIM/IMG_0001.JPG", &error);
  g_autofree char *k2 = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (k1, ==, "DCIM/IMG_0001.JPG");
  k2 = sluice_target_object_key (prefixed, "DCIM/IMG_0001.JPG", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (k2, ==, "backup/2024/DCIM/IMG_0001.JPG");
}

static void
test_object_key_nfc (void)
{
  g_autoptr(SluiceTarget) t = target_with ("https://h", "b", "", TRUE);
  g_autoptr(GError) error = NULL;
  /* "Café/é.jpg" as macOS writes it (NFD) and as Linux usually does (NFC) */
  g_autofree char *nfd = sluice_target_object_key (t, "Cafe\xcc\x81/e\xcc\x81.jpg", &error);
  g_autofree char *nfc = NULL;

  g_assert_no_error (error);
  nfc = sluice_target_object_key (t, "Caf\xc3\xa9/\xc3\xa9.jpg", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (nfd, ==, "Caf\xc3\xa9/\xc3\xa9.jpg");
  g_assert_cmpstr (nfc, ==, nfd);
}

/* ASCII paths skip the normalizer: a path with one combining mark after a long ASCII run
 * must still be composed, and a Hangul one (composed algorithmically, not from tables) too */
static void
test_key_path_nfc (void)
{
  struct { const char *in, *out; } cases[] = {
    { "DCIM/100CANON/IMG_0001.JPG", "DCIM/100CANON/IMG_0001.JPG" },
    { "", "" },
    { "2024/trip/very/long/ascii/run/e\xcc\x81", "2024/trip/very/long/ascii/run/\xc3\xa9" },
    { "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab.jpg", "\xed\x95\x9c.jpg" },
    { "Caf\xc3\xa9.jpg", "Caf\xc3\xa9.jpg" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *nfc = sluice_key_path_nfc (cases[i].in, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (nfc, ==, cases[i].out);
    }
}

static void
test_object_key_invalid (void)
{
  g_autoptr(SluiceTarget) t = target_with ("https://h", "b", "", TRUE);
  const char *bad[] = { "bad\xff\xfe.jpg", "tab\there.jpg", "new\nline.jpg", "del\x7f.jpg" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *key = sluice_target_object_key (t, bad[i], &error);

      g_assert_null (key);
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY);
      /* the message names the file, readably, in one line */
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_assert_null (strchr (error->message, '\n'));
    }
}

static void
test_object_key_length (void)
{
  g_autoptr(SluiceTarget) none = target_with ("https://h", "b", "", TRUE);
  g_autoptr(SluiceTarget) prefixed = target_with ("https://h", "b", "pfx", TRUE);
  g_autofree char *exact = g_strnfill (SLUICE_KEY_MAX_BYTES, 'a');
  g_autofree char *over = g_strnfill (SLUICE_KEY_MAX_BYTES + 1, 'a');
  g_autofree char *fits_with_prefix = g_strnfill (SLUICE_KEY_MAX_BYTES - 4, 'a');
  g_autofree char *key = NULL;
  g_autoptr(GError) error = NULL;
  /* 512 two-byte characters: 1024 bytes, and one more is over even though it is 513 chars */
  GString *wide = g_string_new (NULL);
  g_autofree char *wide_ok = NULL;
  g_autofree char *wide_over = NULL;

  key = sluice_target_object_key (none, exact, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (key), ==, SLUICE_KEY_MAX_BYTES);
  g_clear_pointer (&key, g_free);

  key = sluice_target_object_key (none, over, &error);
  g_assert_null (key);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY);
  g_clear_error (&error);

  /* the prefix counts: "pfx/" + 1020 bytes is exactly the limit */
  key = sluice_target_object_key (prefixed, fits_with_prefix, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (key), ==, SLUICE_KEY_MAX_BYTES);
  g_clear_pointer (&key, g_free);
  key = sluice_target_object_key (prefixed, exact, &error);
  g_assert_null (key);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY);
  g_clear_error (&error);

  for (int i = 0; i < 512; i++)
    g_string_append (wide, "\xc3\xa9");
  wide_ok = g_strdup (wide->str);
  g_string_append (wide, "\xc3\xa9");
  wide_over = g_string_free (wide, FALSE);
  key = sluice_target_object_key (none, wide_ok, &error);
  g_assert_no_error (error);
  g_assert_nonnull (key);
  g_clear_pointer (&key, g_free);
  key = sluice_target_object_key (none, wide_over, &error);
  g_assert_null (key);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY);
}

static void
test_uri_encode (void)
{
  g_autofree char *kept = sluice_uri_encode ("a b+c/d~e_f.g-h", TRUE);
  g_autofree char *escaped = sluice_uri_encode ("a b+c/d~e_f.g-h", FALSE);
  g_autofree char *utf8 = sluice_uri_encode ("caf\xc3\xa9", TRUE);
  g_autofree char *reserved = sluice_uri_encode ("?#&=%:@!$'()*,;[]", TRUE);
  g_autofree char *empty = sluice_uri_encode ("", TRUE);

  g_assert_cmpstr (kept, ==, "a%20b%2Bc/d~e_f.g-h");
  g_assert_cmpstr (escaped, ==, "a%20b%2Bc%2Fd~e_f.g-h");
  g_assert_cmpstr (utf8, ==, "caf%C3%A9");
  g_assert_cmpstr (reserved, ==, "%3F%23%26%3D%25%3A%40%21%24%27%28%29%2A%2C%3B%5B%5D");
  g_assert_cmpstr (empty, ==, "");
}

static void
test_urls_path_style (void)
{
  g_autoptr(SluiceTarget) t = target_with ("http://127.0.0.1:7480", "photos", "", TRUE);
  g_autoptr(SluiceTarget) v6 = target_with ("http://[::1]:9000", "photos", "", TRUE);
  g_autofree char *object = sluice_target_object_url (t, "2024/a b+c.jpg");
  g_autofree char *bucket = sluice_target_bucket_url (t);
  g_autofree char *host = sluice_target_host (t);
  g_autofree char *object6 = sluice_target_object_url (v6, "k");
  g_autofree char *bucket6 = sluice_target_bucket_url (v6);

  g_assert_cmpstr (object, ==, "http://127.0.0.1:7480/photos/2024/a%20b%2Bc.jpg");
  g_assert_cmpstr (bucket, ==, "http://127.0.0.1:7480/photos/");
  g_assert_cmpstr (host, ==, "127.0.0.1");
  g_assert_cmpstr (object6, ==, "http://[::1]:9000/photos/k");
  g_assert_cmpstr (bucket6, ==, "http://[::1]:9000/photos/");
}

static void
test_urls_virtual_hosted (void)
{
  g_autoptr(SluiceTarget) t = target_with ("https://s3.eu-west-1.amazonaws.com", "photos", "",
                                           FALSE);
  g_autoptr(SluiceTarget) port = target_with ("https://minio.lan:9000/", "photos", "", FALSE);
  g_autofree char *object = sluice_target_object_url (t, "dir/caf\xc3\xa9.jpg");
  g_autofree char *bucket = sluice_target_bucket_url (t);
  g_autofree char *host = sluice_target_host (t);
  g_autofree char *object_port = sluice_target_object_url (port, "k");
  g_autofree char *bucket_port = sluice_target_bucket_url (port);

  g_assert_cmpstr (object, ==, "https://photos.s3.eu-west-1.amazonaws.com/dir/caf%C3%A9.jpg");
  g_assert_cmpstr (bucket, ==, "https://photos.s3.eu-west-1.amazonaws.com/");
  /* the endpoint's host, not the bucket's virtual host */
  g_assert_cmpstr (host, ==, "s3.eu-west-1.amazonaws.com");
  g_assert_cmpstr (object_port, ==, "https://photos.minio.lan:9000/k");
  g_assert_cmpstr (bucket_port, ==, "https://photos.minio.lan:9000/");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/target/defaults", test_defaults);
  g_test_add_func ("/engine/target/copy", test_copy);
  g_test_add_func ("/engine/target/parse-uri", test_parse_uri);
  g_test_add_func ("/engine/target/parse-uri-invalid", test_parse_uri_invalid);
  g_test_add_func ("/engine/target/parse-uri-invalid-utf8-message",
                   test_parse_uri_invalid_utf8_message);
  g_test_add_func ("/engine/target/validate", test_validate);
  g_test_add_func ("/engine/target/object-key", test_object_key);
  g_test_add_func ("/engine/target/object-key-nfc", test_object_key_nfc);
  g_test_add_func ("/engine/target/key-path-nfc", test_key_path_nfc);
  g_test_add_func ("/engine/target/object-key-invalid", test_object_key_invalid);
  g_test_add_func ("/engine/target/object-key-length", test_object_key_length);
  g_test_add_func ("/engine/target/uri-encode", test_uri_encode);
  g_test_add_func ("/engine/target/urls-path-style", test_urls_path_style);
  g_test_add_func ("/engine/target/urls-virtual-hosted", test_urls_virtual_hosted);

  return g_test_run ();
}
