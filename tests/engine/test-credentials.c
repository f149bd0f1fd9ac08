/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-credentials"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "sluice-credentials.h"
#include "sluice-error.h"
#include "sluice-test-util.h"

/*
 * Where credentials come from: explicit values, the environment, the shared AWS files (here
 * written in the test's own directory and named by AWS_SHARED_CREDENTIALS_FILE and
 * AWS_CONFIG_FILE), in the AWS CLI's order, and never a secret in a message.
 */

typedef struct {
  char *credentials_path;
  char *config_path;
} Fixture;

static const char *const aws_variables[] = {
  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_S3", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
};

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *dir = sluice_test_make_dir ("aws");

  for (guint i = 0; i < G_N_ELEMENTS (aws_variables); i++)
    g_unsetenv (aws_variables[i]);
  f->credentials_path = g_build_filename (dir, "credentials", NULL);
  f->config_path = g_build_filename (dir, "config", NULL);
  g_setenv ("AWS_SHARED_CREDENTIALS_FILE", f->credentials_path, TRUE);
  g_setenv ("AWS_CONFIG_FILE", f->config_path, TRUE);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  for (guint i = 0; i < G_N_ELEMENTS (aws_variables); i++)
    g_unsetenv (aws_variables[i]);
  g_free (f->credentials_path);
  g_free (f->config_path);
}

static void
set_env_keys (const char *access_key,
              const char *secret_key)
{
  g_setenv ("AWS_ACCESS_KEY_ID", access_key, TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", secret_key, TRUE);
}

static SluiceCredentials *
get_ok (SluiceCredentialsProvider *provider)
{
  g_autoptr(GError) error = NULL;
  SluiceCredentials *creds = sluice_credentials_provider_get (provider, &error);

  g_assert_no_error (error);
  g_assert_nonnull (creds);
  return creds;
}

static void
assert_no_credentials (SluiceCredentialsProvider *provider,
                       const char *const         *secrets)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentials) creds = sluice_credentials_provider_get (provider, &error);

  g_assert_null (creds);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS);
  for (guint i = 0; secrets != NULL && secrets[i] != NULL; i++)
    g_assert_null (strstr (error->message, secrets[i]));
}

static const char default_credentials[] =
  "[default]\n"
  "aws_access_key_id = AKIDFILEDEFAULT\n"
  "aws_secret_access_key = secret-file-default\n"
  "\n"
  "[work]\n"
  "aws_access_key_id=AKIDFILEWORK\n"
  "aws_secret_access_key=secret-file-work\n"
  "aws_session_token = token-file-work\n";

static void
test_environment (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentials) creds = NULL;

  set_env_keys ("AKIDENV", "secret-env");
  g_setenv ("AWS_SESSION_TOKEN", "token-env", TRUE);
  creds = get_ok (provider);

  g_assert_cmpstr (creds->access_key, ==, "AKIDENV");
  g_assert_cmpstr (creds->secret_key, ==, "secret-env");
  g_assert_cmpstr (creds->session_token, ==, "token-env");
  g_assert_nonnull (creds->source);
  g_assert_null (strstr (creds->source, "secret-env"));
}

static void
test_environment_wins_over_default_profile (Fixture       *f,
                                            gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  set_env_keys ("AKIDENV", "secret-env");
  creds = get_ok (provider);

  g_assert_cmpstr (creds->access_key, ==, "AKIDENV");
  g_assert_null (creds->session_token);
}

static void
test_environment_needs_both_keys (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  /* half a key pair (or an empty secret) in the environment is not a source */
  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDENV", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "", TRUE);
  creds = get_ok (provider);

  g_assert_cmpstr (creds->access_key, ==, "AKIDFILEDEFAULT");
  g_assert_cmpstr (creds->secret_key, ==, "secret-file-default");
}

static void
test_default_profile (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  creds = get_ok (provider);

  g_assert_cmpstr (creds->access_key, ==, "AKIDFILEDEFAULT");
  g_assert_cmpstr (creds->secret_key, ==, "secret-file-default");
  g_assert_null (creds->session_token);
  g_assert_nonnull (strstr (creds->source, "default"));
  g_assert_nonnull (strstr (creds->source, f->credentials_path));
  g_assert_null (strstr (creds->source, "secret"));
}

static void
test_explicit_profile_wins_over_environment (Fixture       *f,
                                             gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new ("work");
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  set_env_keys ("AKIDENV", "secret-env");
  creds = get_ok (provider);

  g_assert_cmpstr (creds->access_key, ==, "AKIDFILEWORK");
  g_assert_cmpstr (creds->secret_key, ==, "secret-file-work");
  g_assert_cmpstr (creds->session_token, ==, "token-file-work");
  g_assert_nonnull (strstr (creds->source, "work"));
}

static void
test_aws_profile_variable (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  g_setenv ("AWS_PROFILE", "work", TRUE);
  creds = get_ok (provider);

  g_assert_cmpstr (creds->access_key, ==, "AKIDFILEWORK");
}

static void
test_explicit_profile_missing (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new ("absent");
  const char *const secrets[] = { "secret-env", "secret-file-default", "secret-file-work", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  /* the environment does not stand in for a profile that was asked for by name */
  set_env_keys ("AKIDENV", "secret-env");
  assert_no_credentials (provider, secrets);

  creds = sluice_credentials_provider_get (provider, &error);
  g_assert_nonnull (strstr (error->message, "absent"));
  g_assert_nonnull (strstr (error->message, f->credentials_path));
}

static void
test_config_profile_groups (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) work = sluice_credentials_provider_new ("work");
  g_autoptr(SluiceCredentialsProvider) bare = sluice_credentials_provider_new ("bare");
  g_autoptr(SluiceCredentialsProvider) dflt = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentials) creds = NULL;
  const char *const secrets[] = { "secret-config-bare", NULL };

  /* in the config file, named profiles are "[profile NAME]" and the default is "[default]";
   * a bare "[NAME]" group there is not a profile */
  sluice_test_write_file (f->config_path,
                          "[default]\n"
                          "aws_access_key_id = AKIDCONFIGDEFAULT\n"
                          "aws_secret_access_key = secret-config-default\n"
                          "[profile work]\n"
                          "aws_access_key_id = AKIDCONFIGWORK\n"
                          "aws_secret_access_key = secret-config-work\n"
                          "[bare]\n"
                          "aws_access_key_id = AKIDCONFIGBARE\n"
                          "aws_secret_access_key = secret-config-bare\n", -1);

  creds = get_ok (work);
  g_assert_cmpstr (creds->access_key, ==, "AKIDCONFIGWORK");
  g_assert_nonnull (strstr (creds->source, f->config_path));
  g_clear_pointer (&creds, sluice_credentials_free);

  creds = get_ok (dflt);
  g_assert_cmpstr (creds->access_key, ==, "AKIDCONFIGDEFAULT");

  assert_no_credentials (bare, secrets);
}

static void
test_credentials_file_profile_groups (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) work = sluice_credentials_provider_new ("work");
  const char *const secrets[] = { "secret-wrong-group", NULL };

  /* in the credentials file, profiles are bare names: "[profile work]" is not "work" */
  sluice_test_write_file (f->credentials_path,
                          "[profile work]\n"
                          "aws_access_key_id = AKIDWRONG\n"
                          "aws_secret_access_key = secret-wrong-group\n", -1);
  assert_no_credentials (work, secrets);
}

static void
test_credentials_file_before_config (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new ("work");
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  sluice_test_write_file (f->config_path,
                          "[profile work]\n"
                          "aws_access_key_id = AKIDCONFIGWORK\n"
                          "aws_secret_access_key = secret-config-work\n", -1);
  creds = get_ok (provider);
  g_assert_cmpstr (creds->access_key, ==, "AKIDFILEWORK");
}

static void
test_region_and_endpoint (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) work = sluice_credentials_provider_new ("work");
  g_autoptr(SluiceCredentialsProvider) dflt = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentialsProvider) other = sluice_credentials_provider_new ("other");
  g_autofree char *region = NULL;
  g_autofree char *endpoint = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  sluice_test_write_file (f->config_path,
                          "[default]\n"
                          "region = eu-central-1\n"
                          "[profile work]\n"
                          "region = eu-west-3\n"
                          "endpoint_url = http://127.0.0.1:7480\n"
                          "[profile other]\n"
                          "output = json\n", -1);

  region = sluice_credentials_provider_get_region (work);
  endpoint = sluice_credentials_provider_get_endpoint (work);
  g_assert_cmpstr (region, ==, "eu-west-3");
  g_assert_cmpstr (endpoint, ==, "http://127.0.0.1:7480");
  g_clear_pointer (&region, g_free);
  g_clear_pointer (&endpoint, g_free);

  region = sluice_credentials_provider_get_region (dflt);
  endpoint = sluice_credentials_provider_get_endpoint (dflt);
  g_assert_cmpstr (region, ==, "eu-central-1");
  g_assert_null (endpoint);
  g_clear_pointer (&region, g_free);

  /* a profile that sets neither, and has no credentials either: no region, no error */
  region = sluice_credentials_provider_get_region (other);
  g_assert_null (region);
}

static void
test_region_environment_wins (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new ("work");
  g_autofree char *region = NULL;
  g_autofree char *endpoint = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  sluice_test_write_file (f->config_path,
                          "[profile work]\n"
                          "region = eu-west-3\n"
                          "endpoint_url = http://config.example\n", -1);
  g_setenv ("AWS_REGION", "ap-south-1", TRUE);
  g_setenv ("AWS_DEFAULT_REGION", "ignored-1", TRUE);
  g_setenv ("AWS_ENDPOINT_URL", "http://generic.example", TRUE);
  g_setenv ("AWS_ENDPOINT_URL_S3", "http://s3.example", TRUE);

  region = sluice_credentials_provider_get_region (provider);
  endpoint = sluice_credentials_provider_get_endpoint (provider);
  g_assert_cmpstr (region, ==, "ap-south-1");
  g_assert_cmpstr (endpoint, ==, "http://s3.example");
}

static void
test_comments_and_spacing (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path,
                          "; written by aws configure\n"
                          "# another comment\n"
                          "[default]\n"
                          ";aws_access_key_id = AKIDCOMMENTED\n"
                          "  aws_access_key_id   =   AKIDSPACED  \n"
                          "aws_secret_access_key=secret-spaced\t\n", -1);
  creds = get_ok (provider);
  g_assert_cmpstr (creds->access_key, ==, "AKIDSPACED");
  g_assert_cmpstr (creds->secret_key, ==, "secret-spaced");
}

static void
test_explicit (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new ("work");
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  set_env_keys ("AKIDENV", "secret-env");

  /* explicit values (a saved target's keyring secret) win over everything */
  sluice_credentials_provider_set_explicit (provider, "AKIDEXPLICIT", "secret-explicit", "tok");
  creds = get_ok (provider);
  g_assert_cmpstr (creds->access_key, ==, "AKIDEXPLICIT");
  g_assert_cmpstr (creds->secret_key, ==, "secret-explicit");
  g_assert_cmpstr (creds->session_token, ==, "tok");
  g_assert_null (strstr (creds->source, "secret"));
  g_clear_pointer (&creds, sluice_credentials_free);

  /* and clearing them falls back to the usual order */
  sluice_credentials_provider_set_explicit (provider, NULL, NULL, NULL);
  creds = get_ok (provider);
  g_assert_cmpstr (creds->access_key, ==, "AKIDFILEWORK");
}

static void
test_refresh_rotated_file (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentials) first = NULL;
  g_autoptr(SluiceCredentials) cached = NULL;
  g_autoptr(SluiceCredentials) rotated = NULL;
  g_autoptr(GError) error = NULL;

  sluice_test_write_file (f->credentials_path,
                          "[default]\naws_access_key_id = AKIDOLD\n"
                          "aws_secret_access_key = secret-old\naws_session_token = t-old\n", -1);
  first = get_ok (provider);
  g_assert_cmpstr (first->access_key, ==, "AKIDOLD");

  sluice_test_write_file (f->credentials_path,
                          "[default]\naws_access_key_id = AKIDNEW\n"
                          "aws_secret_access_key = secret-new\naws_session_token = t-new\n", -1);
  /* loaded once, kept: no file read per request */
  cached = get_ok (provider);
  g_assert_cmpstr (cached->access_key, ==, "AKIDOLD");

  g_assert_true (sluice_credentials_provider_refresh (provider, &error));
  g_assert_no_error (error);
  rotated = get_ok (provider);
  g_assert_cmpstr (rotated->access_key, ==, "AKIDNEW");
  g_assert_cmpstr (rotated->secret_key, ==, "secret-new");
  g_assert_cmpstr (rotated->session_token, ==, "t-new");
}

static void
test_refresh_removed_file (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentials) first = NULL;
  g_autoptr(GError) error = NULL;

  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  first = get_ok (provider);
  g_assert_cmpint (g_unlink (f->credentials_path), ==, 0);

  g_assert_false (sluice_credentials_provider_refresh (provider, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS);
  g_assert_null (strstr (error->message, "secret-file-default"));
}

static void
test_missing (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentials) creds = NULL;

  creds = sluice_credentials_provider_get (provider, &error);
  g_assert_null (creds);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS);
  /* says what to set and where it looked */
  g_assert_nonnull (strstr (error->message, "AWS_ACCESS_KEY_ID"));
  g_assert_nonnull (strstr (error->message, "default"));
  g_assert_nonnull (strstr (error->message, f->credentials_path));
}

static void
test_incomplete_profile (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceCredentialsProvider) no_key = sluice_credentials_provider_new ("nokey");
  const char *const secrets[] = { "secret-alone", NULL };

  sluice_test_write_file (f->credentials_path,
                          "[default]\n"
                          "aws_access_key_id = AKIDALONE\n"
                          "aws_secret_access_key =   \n"
                          "[nokey]\n"
                          "aws_secret_access_key = secret-alone\n", -1);
  assert_no_credentials (provider, secrets);
  assert_no_credentials (no_key, secrets);
}

static void
test_unparsable_file_no_secret (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  const char *const secrets[] = { "wJalrXUtnFEMI-K7MDENG", NULL };


  /* a hand-edited file with a typo on the secret's line: the error must say which file is
   * broken without quoting the line, which holds the secret */
  sluice_test_write_file (f->credentials_path,
                          "[default]\n"
                          "aws_access_key_id = AKIDTYPO\n"
                          "aws_secret_access_key: wJalrXUtnFEMI-K7MDENG\n", -1);
  assert_no_credentials (provider, secrets);
}

static void
test_unparsable_file_reported (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentials) creds = NULL;

  sluice_test_write_file (f->credentials_path, "not an ini file\n", -1);
  /* a broken file is an error, not a silent fall-through to other credentials */
  sluice_test_write_file (f->config_path,
                          "[default]\naws_access_key_id = AKIDCONFIG\n"
                          "aws_secret_access_key = secret-config\n", -1);
  creds = sluice_credentials_provider_get (provider, &error);
  g_assert_null (creds);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS);
  g_assert_nonnull (strstr (error->message, f->credentials_path));
  g_clear_error (&error);

  /* but the environment, which comes first, still works */
  set_env_keys ("AKIDENV", "secret-env");
  creds = sluice_credentials_provider_get (provider, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (creds->access_key, ==, "AKIDENV");
}

static void
test_copy (Fixture       *f,
           gconstpointer  data)
{
  SluiceCredentials original = { "ak", "sk", "tok", "src" };
  g_autoptr(SluiceCredentials) copy = sluice_credentials_copy (&original);

  g_assert_true (copy->access_key != original.access_key);
  g_assert_cmpstr (copy->access_key, ==, "ak");
  g_assert_cmpstr (copy->secret_key, ==, "sk");
  g_assert_cmpstr (copy->session_token, ==, "tok");
  g_assert_cmpstr (copy->source, ==, "src");
}

typedef struct {
  SluiceCredentialsProvider *provider;
  gint                       failures;
} Shared;

static gpointer
get_many (gpointer user_data)
{
  Shared *shared = user_data;

  for (int i = 0; i < 500; i++)
    {
      g_autoptr(SluiceCredentials) creds = sluice_credentials_provider_get (shared->provider,
                                                                            NULL);
      if (creds == NULL || g_strcmp0 (creds->secret_key, "secret-file-default") != 0)
        g_atomic_int_inc (&shared->failures);
      if (i % 50 == 0)
        sluice_credentials_provider_refresh (shared->provider, NULL);
    }
  return NULL;
}

static void
test_threads (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(SluiceCredentialsProvider) provider = sluice_credentials_provider_new (NULL);
  Shared shared = { provider, 0 };
  GThread *threads[6];

  /* S3 workers ask from many threads while one of them refreshes */
  sluice_test_write_file (f->credentials_path, default_credentials, -1);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("get", get_many, &shared);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (shared.failures, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn) \
  g_test_add ("/engine/credentials/" path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("environment", test_environment);
  ADD ("environment-wins-over-default-profile", test_environment_wins_over_default_profile);
  ADD ("environment-needs-both-keys", test_environment_needs_both_keys);
  ADD ("default-profile", test_default_profile);
  ADD ("explicit-profile-wins-over-environment", test_explicit_profile_wins_over_environment);
  ADD ("aws-profile-variable", test_aws_profile_variable);
  ADD ("explicit-profile-missing", test_explicit_profile_missing);
  ADD ("config-profile-groups", test_config_profile_groups);
  ADD ("credentials-file-profile-groups", test_credentials_file_profile_groups);
  ADD ("credentials-file-before-config", test_credentials_file_before_config);
  ADD ("region-and-endpoint", test_region_and_endpoint);
  ADD ("region-environment-wins", test_region_environment_wins);
  ADD ("comments-and-spacing", test_comments_and_spacing);
  ADD ("explicit", test_explicit);
  ADD ("refresh-rotated-file", test_refresh_rotated_file);
  ADD ("refresh-removed-file", test_refresh_removed_file);
  ADD ("missing", test_missing);
  ADD ("incomplete-profile", test_incomplete_profile);
  ADD ("unparsable-file-no-secret", test_unparsable_file_no_secret);
  ADD ("unparsable-file-reported", test_unparsable_file_reported);
  ADD ("copy", test_copy);
  ADD ("threads", test_threads);
#undef ADD

  return g_test_run ();
}
