/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-test-key-template"

#include "config.h"

#include <string.h>

#include "sluice-engine.h"

/* Key templates: the fields, the fallbacks, the sanitising and the refusals. */

#define JUL_2023_UTC G_GINT64_CONSTANT (1689328800)   /* 2023-07-14 10:00:00 UTC */

static SluiceTarget *
target_new (const char *prefix)
{
  SluiceTarget *t = sluice_target_new ();

  t->endpoint = g_strdup ("http://127.0.0.1:9000");
  t->bucket = g_strdup ("photos");
  g_free (t->prefix);
  t->prefix = g_strdup (prefix);
  t->path_style = TRUE;
  return t;
}

static char *
expand (const char           *text,
        const char           *relpath,
        const SluiceMetadata *meta,
        gint64                mtime_s,
        const char           *sha)
{
  g_autoptr(SluiceKeyTemplate) tmpl = NULL;
  g_autoptr(GError) error = NULL;
  char *key;

  tmpl = sluice_key_template_new (text, &error);
  g_assert_no_error (error);
  key = sluice_key_template_expand (tmpl, relpath, meta, mtime_s * G_GINT64_CONSTANT (1000000000),
                                    sha, &error);
  g_assert_no_error (error);
  return key;
}

static void
test_default (void)
{
  g_autoptr(SluiceKeyTemplate) tmpl = sluice_key_template_new (SLUICE_KEY_TEMPLATE_DEFAULT, NULL);
  g_autoptr(SluiceTarget) target = target_new ("archive");
  g_autofree char *key = NULL;
  g_autofree char *plain = NULL;

  g_assert_nonnull (tmpl);
  g_assert_true (sluice_key_template_is_default (tmpl));
  g_assert_cmpint (sluice_key_template_get_needs (tmpl), ==, SLUICE_KEY_NEEDS_NOTHING);
  key = sluice_key_template_object_key (tmpl, target, "2023/a b.jpg", NULL, 0, NULL, NULL);
  plain = sluice_target_object_key (target, "2023/a b.jpg", NULL);
  g_assert_cmpstr (key, ==, "archive/2023/a b.jpg");
  g_assert_cmpstr (key, ==, plain);
}

static void
test_dates (void)
{
  g_autoptr(SluiceMetadata) meta = sluice_metadata_new ();
  g_autoptr(SluiceKeyTemplate) tmpl = NULL;
  g_autofree char *from_exif = NULL;
  g_autofree char *from_mtime = NULL;
  g_autofree char *unset_clock = NULL;

  tmpl = sluice_key_template_new ("{year}/{month}/{day}/{name}.{ext}", NULL);
  g_assert_cmpint (sluice_key_template_get_needs (tmpl), ==,
                   SLUICE_KEY_NEEDS_METADATA | SLUICE_KEY_NEEDS_MTIME);

  meta->datetime_original = g_strdup ("2021:03:07 23:59:59");
  from_exif = expand ("{year}/{month}/{day}/{name}.{ext}", "trip/IMG_0001.JPG", meta,
                      JUL_2023_UTC, NULL);
  g_assert_cmpstr (from_exif, ==, "2021/03/07/IMG_0001.JPG");

  /* no metadata: the modification time, in UTC */
  from_mtime = expand ("{year}/{month}/{day}/{name}.{ext}", "trip/IMG_0001.JPG", NULL,
                       JUL_2023_UTC, NULL);
  g_assert_cmpstr (from_mtime, ==, "2023/07/14/IMG_0001.JPG");

  /* a camera whose clock was never set writes zeros: not a date */
  g_free (meta->datetime_original);
  meta->datetime_original = g_strdup ("0000:00:00 00:00:00");
  unset_clock = expand ("{year}-{month}/{name}", "x.jpg", meta, JUL_2023_UTC, NULL);
  g_assert_cmpstr (unset_clock, ==, "2023-07/x");
}

static void
test_camera (void)
{
  g_autoptr(SluiceMetadata) meta = sluice_metadata_new ();
  g_autofree char *canon = NULL;
  g_autofree char *nikon = NULL;
  g_autofree char *fuji = NULL;
  g_autofree char *hostile = NULL;
  g_autofree char *unknown = NULL;

  meta->make = g_strdup ("Canon");
  meta->model = g_strdup ("Canon EOS R5");
  canon = expand ("{camera}/{name}.{ext}", "a.jpg", meta, 0, NULL);
  g_assert_cmpstr (canon, ==, "Canon EOS R5/a.jpg");

  g_free (meta->make);
  g_free (meta->model);
  meta->make = g_strdup ("NIKON CORPORATION");
  meta->model = g_strdup ("NIKON Z 6");
  nikon = expand ("{camera}/{name}.{ext}", "a.jpg", meta, 0, NULL);
  g_assert_cmpstr (nikon, ==, "NIKON Z 6/a.jpg");

  g_free (meta->make);
  g_free (meta->model);
  meta->make = g_strdup ("FUJIFILM");
  meta->model = g_strdup ("X-T4");
  fuji = expand ("{camera}/{name}.{ext}", "a.jpg", meta, 0, NULL);
  g_assert_cmpstr (fuji, ==, "FUJIFILM X-T4/a.jpg");

  /* EXIF is hostile input: no folder can be made from it, none climbed out of */
  g_free (meta->make);
  g_free (meta->model);
  meta->make = NULL;
  meta->model = g_strdup ("../../etc\\passwd\x01");
  hostile = expand ("{camera}/{name}.{ext}", "a.jpg", meta, 0, NULL);
  g_assert_cmpstr (hostile, ==, ".._.._etc_passwd/a.jpg");
  g_clear_pointer (&meta->model, g_free);
  meta->model = g_strdup ("..");
  g_free (hostile);
  hostile = expand ("{camera}/{name}.{ext}", "a.jpg", meta, 0, NULL);
  g_assert_cmpstr (hostile, ==, "_/a.jpg");

  unknown = expand ("{camera}/{name}.{ext}", "a.jpg", NULL, 0, NULL);
  g_assert_cmpstr (unknown, ==, "unknown/a.jpg");
}

static void
test_sha256_and_ext (void)
{
  const char *sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  g_autoptr(SluiceKeyTemplate) tmpl = sluice_key_template_new ("{sha256}.{ext}", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *none = NULL;
  g_autofree char *hidden = NULL;
  g_autofree char *missing = NULL;

  g_assert_cmpint (sluice_key_template_get_needs (tmpl), ==, SLUICE_KEY_NEEDS_SHA256);
  key = expand ("{sha256}.{ext}", "dir/photo.HEIC", NULL, 0, sha);
  g_assert_cmpstr (key, ==,
                   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.HEIC");

  /* no extension: the dot before {ext} goes too */
  none = expand ("{name}.{ext}", "dir/README", NULL, 0, NULL);
  g_assert_cmpstr (none, ==, "README");
  hidden = expand ("{name}.{ext}", ".hidden", NULL, 0, NULL);
  g_assert_cmpstr (hidden, ==, ".hidden");

  missing = sluice_key_template_expand (tmpl, "a.jpg", NULL, 0, NULL, &error);
  g_assert_null (missing);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
}

static void
test_prefix_and_nfc (void)
{
  g_autoptr(SluiceKeyTemplate) tmpl = sluice_key_template_new ("by-name/{name}.{ext}", NULL);
  g_autoptr(SluiceTarget) target = target_new ("p");
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *bad = NULL;

  /* "Café" written by macOS (NFD) and by Linux (NFC) is one key */
  key = sluice_key_template_object_key (tmpl, target, "x/Cafe\xcc\x81.jpg", NULL, 0, NULL,
                                        &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key, ==, "p/by-name/Caf\xc3\xa9.jpg");

  bad = sluice_key_template_object_key (tmpl, target, "x/\xff\xfe.jpg", NULL, 0, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY);
}

static void
test_refused (void)
{
  const char *bad[] = {
    "{nope}",                 /* unknown field */
    "{path",                  /* no closing brace */
    "path}",                  /* no opening brace */
    "{year}/{month}",         /* every file of a month would share one key */
    "../{path}",              /* climbs out of the prefix */
    "a/./{name}",
    "{name}\t{ext}",          /* control character */
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceKeyTemplate) tmpl = sluice_key_template_new (bad[i], &error);

      g_test_message ("%s: %s", bad[i], error ? error->message : "accepted");
      g_assert_null (tmpl);
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_empty_segments (void)
{
  g_autofree char *key = expand ("/{year}//{name}/", "a.jpg", NULL, JUL_2023_UTC, NULL);

  g_assert_cmpstr (key, ==, "2023/a");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/key-template/default", test_default);
  g_test_add_func ("/engine/key-template/dates", test_dates);
  g_test_add_func ("/engine/key-template/camera", test_camera);
  g_test_add_func ("/engine/key-template/sha256-and-ext", test_sha256_and_ext);
  g_test_add_func ("/engine/key-template/prefix-and-nfc", test_prefix_and_nfc);
  g_test_add_func ("/engine/key-template/refused", test_refused);
  g_test_add_func ("/engine/key-template/empty-segments", test_empty_segments);

  return g_test_run ();
}
