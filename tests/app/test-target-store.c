/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-test-target-store"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sluice-engine.h"

/* Saved targets: the key file, the presets, and the secret in a real keyring (gnome-keyring
 * in a private D-Bus session: tests/app/with-session.sh). */

static gboolean have_keyring;

static SluiceSavedTarget *
wasabi_target (const char *name)
{
  SluiceSavedTarget *t = sluice_saved_target_new (name);
  const SluiceTargetPreset *preset = sluice_target_preset_lookup ("wasabi");

  g_free (t->preset);
  t->preset = g_strdup ("wasabi");
  t->target->endpoint = sluice_target_preset_endpoint (preset, "eu-central-1");
  g_free (t->target->region);
  t->target->region = g_strdup ("eu-central-1");
  t->target->bucket = g_strdup ("team-photos");
  g_free (t->target->prefix);
  t->target->prefix = g_strdup ("archive");
  t->target->path_style = FALSE;
  t->target->storage_class = g_strdup ("STANDARD_IA");
  t->target->tags = g_strsplit ("project=sluice;owner=ml team", ";", -1);
  t->access_key_id = g_strdup ("AKIAEXAMPLE");
  return t;
}

static void
test_presets (void)
{
  guint n = 0;
  const SluiceTargetPreset *presets = sluice_target_presets (&n);
  g_autofree char *aws = NULL;
  g_autofree char *b2 = NULL;
  const char *wanted[] = { "aws", "minio", "ceph", "wasabi", "b2", "r2", "custom" };

  g_assert_cmpuint (n, ==, G_N_ELEMENTS (wanted));
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (presets[i].id, ==, wanted[i]);

  aws = sluice_target_preset_endpoint (sluice_target_preset_lookup ("aws"), "eu-west-3");
  g_assert_cmpstr (aws, ==, "https://s3.eu-west-3.amazonaws.com");
  g_assert_true (g_strv_contains (sluice_target_preset_lookup ("aws")->regions, "us-east-1"));
  b2 = sluice_target_preset_endpoint (sluice_target_preset_lookup ("b2"), NULL);
  g_assert_cmpstr (b2, ==, "https://s3.us-west-004.backblazeb2.com");
  g_assert_null (sluice_target_preset_endpoint (sluice_target_preset_lookup ("minio"), "x"));
  g_assert_null (sluice_target_preset_lookup ("nope"));
}

static void
test_names (void)
{
  const char *good[] = { "Photos on Wasabi", "Drone & Boat", "Ünïcødé 写真" };
  const char *bad[] = { "", "  ", "a[b]", "tab\there", " lead", "trail ",
                        "0123456789012345678901234567890123456789012345678901234567890123456789" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (sluice_target_name_validate (good[i], NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (sluice_target_name_validate (bad[i], &error));
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_keyfile (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sluice-targets-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "sub", "targets.ini", NULL);
  g_autoptr(SluiceTargetStore) store = sluice_target_store_new (path);
  g_autoptr(SluiceTargetStore) again = NULL;
  g_autoptr(SluiceSavedTarget) t = wasabi_target ("Drone & Boat");
  g_autoptr(SluiceSavedTarget) renamed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  const SluiceSavedTarget *back;
  GStatBuf st;

  g_assert_true (sluice_target_store_load (store, &error));   /* no file yet: empty */
  g_assert_no_error (error);
  g_assert_cmpuint (sluice_target_store_get_n_targets (store), ==, 0);

  g_assert_true (sluice_target_store_put (store, t, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* what the CLI will read: a second store on the same file */
  again = sluice_target_store_new (path);
  g_assert_true (sluice_target_store_load (again, &error));
  back = sluice_target_store_lookup (again, "Drone & Boat");
  g_assert_nonnull (back);
  g_assert_cmpstr (back->preset, ==, "wasabi");
  g_assert_cmpstr (back->target->endpoint, ==, "https://s3.eu-central-1.wasabisys.com");
  g_assert_cmpstr (back->target->region, ==, "eu-central-1");
  g_assert_cmpstr (back->target->bucket, ==, "team-photos");
  g_assert_cmpstr (back->target->prefix, ==, "archive");
  g_assert_false (back->target->path_style);
  g_assert_false (back->target->insecure);
  g_assert_cmpstr (back->target->storage_class, ==, "STANDARD_IA");
  g_assert_cmpuint (g_strv_length (back->target->tags), ==, 2);
  g_assert_cmpstr (back->target->tags[1], ==, "owner=ml team");
  g_assert_cmpstr (back->access_key_id, ==, "AKIAEXAMPLE");
  g_assert_cmpint (back->credentials, ==, SLUICE_CREDENTIALS_SOURCE_KEYRING);

  /* never a secret in the file */
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_null (strstr (contents, "secret"));

  /* rename */
  renamed = sluice_saved_target_copy (back);
  g_free (renamed->name);
  renamed->name = g_strdup ("Wasabi");
  g_assert_true (sluice_target_store_put (again, renamed, "Drone & Boat", &error));
  g_assert_no_error (error);
  g_assert_true (sluice_target_store_load (store, &error));
  g_assert_null (sluice_target_store_lookup (store, "Drone & Boat"));
  g_assert_nonnull (sluice_target_store_lookup (store, "Wasabi"));

  /* an invalid target is refused, nothing written */
  g_free (renamed->target->bucket);
  renamed->target->bucket = g_strdup ("no/slashes");
  g_assert_false (sluice_target_store_put (store, renamed, NULL, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (sluice_target_store_remove (store, "Wasabi", &error));
  g_assert_cmpuint (sluice_target_store_get_n_targets (store), ==, 0);

  g_assert_cmpint (g_unlink (path), ==, 0);
  g_free (contents);
  contents = g_build_filename (dir, "sub", NULL);
  g_assert_cmpint (g_rmdir (contents), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_environment (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sluice-targets-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "targets.ini", NULL);
  g_autoptr(SluiceTargetStore) store = sluice_target_store_new (path);
  g_autoptr(SluiceSavedTarget) env = NULL;
  g_autoptr(SluiceSavedTarget) other = wasabi_target ("Other");

  g_unsetenv ("SLUICE_DEFAULT_ENDPOINT");
  g_assert_null (sluice_saved_target_from_environment ());

  g_setenv ("SLUICE_DEFAULT_ENDPOINT", "http://127.0.0.1:7480/", TRUE);
  g_setenv ("SLUICE_DEFAULT_BUCKET", "sluice-demo", TRUE);
  g_setenv ("AWS_DEFAULT_REGION", "default", TRUE);
  env = sluice_saved_target_from_environment ();
  g_assert_nonnull (env);
  g_assert_true (env->transient);
  g_assert_cmpstr (env->target->endpoint, ==, "http://127.0.0.1:7480");
  g_assert_cmpstr (env->target->bucket, ==, "sluice-demo");
  g_assert_cmpstr (env->target->region, ==, "default");
  g_assert_true (env->target->path_style);
  g_assert_cmpint (env->credentials, ==, SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT);

  /* transient: kept in memory, never written, and kept across a save of another target */
  g_assert_true (sluice_target_store_put (store, env, NULL, NULL));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (sluice_target_store_put (store, other, NULL, NULL));
  g_assert_cmpuint (sluice_target_store_get_n_targets (store), ==, 2);
  g_assert_nonnull (sluice_target_store_lookup (store, env->name));

  g_unsetenv ("SLUICE_DEFAULT_ENDPOINT");
  g_unsetenv ("SLUICE_DEFAULT_BUCKET");
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_keyring (void)
{
  g_autoptr(SluiceSavedTarget) t = wasabi_target ("Keyring test & <markup>");
  g_autoptr(SluiceCredentialsProvider) provider = NULL;
  g_autoptr(SluiceCredentials) creds = NULL;
  g_autoptr(GError) error = NULL;
  char *secret;

  if (!have_keyring)
    {
      g_test_skip ("no Secret Service (run through tests/app/with-session.sh)");
      return;
    }

  g_assert_true (sluice_target_secret_store_sync (t->name, "s3cr3t/with/slashes", NULL, &error));
  g_assert_no_error (error);
  secret = sluice_target_secret_lookup_sync (t->name, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "s3cr3t/with/slashes");
  sluice_target_secret_free (secret);

  /* what `sluice-cli --target NAME` does */
  provider = sluice_saved_target_credentials_sync (t, NULL, &error);
  g_assert_no_error (error);
  creds = sluice_credentials_provider_get (provider, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (creds->access_key, ==, "AKIAEXAMPLE");
  g_assert_cmpstr (creds->secret_key, ==, "s3cr3t/with/slashes");

  g_assert_true (sluice_target_secret_clear_sync (t->name, NULL, &error));
  g_assert_no_error (error);
  secret = sluice_target_secret_lookup_sync (t->name, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (secret);
  /* clearing again is fine */
  g_assert_true (sluice_target_secret_clear_sync (t->name, NULL, &error));

  g_clear_pointer (&provider, sluice_credentials_provider_free);
  provider = sluice_saved_target_credentials_sync (t, NULL, &error);
  g_assert_null (provider);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS);
  g_test_message ("%s", error->message);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* is there a Secret Service to talk to? */
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL)
    {
      have_keyring = sluice_target_secret_clear_sync ("sluice-probe-keyring", NULL, &error);
      if (!have_keyring)
        g_printerr ("# no keyring: %s\n", error->message);
    }

  g_test_add_func ("/engine/target-store/presets", test_presets);
  g_test_add_func ("/engine/target-store/names", test_names);
  g_test_add_func ("/engine/target-store/keyfile", test_keyfile);
  g_test_add_func ("/engine/target-store/environment", test_environment);
  g_test_add_func ("/engine/target-store/keyring", test_keyring);

  return g_test_run ();
}
