/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-credentials"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "sluice-credentials.h"
#include "sluice-error.h"

struct _SluiceCredentialsProvider {
  GMutex             mutex;
  char              *profile;
  SluiceCredentials *explicit_creds;
  SluiceCredentials *current;
  char              *region;
  char              *endpoint;
};

static void
secure_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

void
sluice_credentials_free (SluiceCredentials *self)
{
  if (self == NULL)
    return;
  g_free (self->access_key);
  secure_free (self->secret_key);
  secure_free (self->session_token);
  g_free (self->source);
  g_free (self);
}

SluiceCredentials *
sluice_credentials_copy (const SluiceCredentials *self)
{
  SluiceCredentials *copy = g_new0 (SluiceCredentials, 1);

  copy->access_key = g_strdup (self->access_key);
  copy->secret_key = g_strdup (self->secret_key);
  copy->session_token = g_strdup (self->session_token);
  copy->source = g_strdup (self->source);
  return copy;
}

SluiceCredentialsProvider *
sluice_credentials_provider_new (const char *profile)
{
  SluiceCredentialsProvider *self = g_new0 (SluiceCredentialsProvider, 1);

  g_mutex_init (&self->mutex);
  self->profile = g_strdup (profile);
  return self;
}

void
sluice_credentials_provider_set_explicit (SluiceCredentialsProvider *self,
                                          const char                *access_key,
                                          const char                *secret_key,
                                          const char                *session_token)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  g_clear_pointer (&self->explicit_creds, sluice_credentials_free);
  g_clear_pointer (&self->current, sluice_credentials_free);
  if (access_key == NULL || secret_key == NULL)
    return;
  self->explicit_creds = g_new0 (SluiceCredentials, 1);
  self->explicit_creds->access_key = g_strdup (access_key);
  self->explicit_creds->secret_key = g_strdup (secret_key);
  self->explicit_creds->session_token = g_strdup (session_token);
  self->explicit_creds->source = g_strdup (_("saved target"));
}

void
sluice_credentials_provider_free (SluiceCredentialsProvider *self)
{
  if (self == NULL)
    return;
  g_mutex_clear (&self->mutex);
  g_free (self->profile);
  g_free (self->region);
  g_free (self->endpoint);
  sluice_credentials_free (self->explicit_creds);
  sluice_credentials_free (self->current);
  g_free (self);
}

static const char *
nonempty_env (const char *name)
{
  const char *value = g_getenv (name);

  return value != NULL && value[0] != '\0' ? value : NULL;
}

static char *
aws_file_path (const char *env_name,
               const char *basename)
{
  const char *over = nonempty_env (env_name);

  if (over != NULL)
    return g_strdup (over);
  return g_build_filename (g_get_home_dir (), ".aws", basename, NULL);
}

/* Loads an INI-style AWS file. Returns NULL when the file does not exist; a file that exists
 * but cannot be parsed is an error (say so rather than silently use other credentials). */
static GKeyFile *
load_aws_file (const char  *path,
               GError     **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &local_error))
    {
      /* no file, or no ~/.aws folder (HOME may even be a file): nothing configured there */
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ||
          g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR))
        return NULL;
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS,
                   _("Cannot read %s: %s"), path, local_error->message);
      return NULL;
    }
  /* AWS files allow '#' and ';' comments and spaces around '='; GKeyFile wants '#' only. */
  for (char *p = contents; *p != '\0'; p++)
    if (*p == ';' && (p == contents || p[-1] == '\n'))
      *p = '#';
  if (!g_key_file_load_from_data (kf, contents, len, G_KEY_FILE_NONE, &local_error))
    {
      /* GKeyFile quotes the offending line, which may hold a secret: name the file only */
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS,
                   _("Cannot parse %s: it is not in the INI format of the AWS files"), path);
      return NULL;
    }
  return g_steal_pointer (&kf);
}

static char *
key_file_string (GKeyFile   *kf,
                 const char *group,
                 const char *key)
{
  g_autofree char *value = NULL;

  if (kf == NULL)
    return NULL;
  value = g_key_file_get_value (kf, group, key, NULL);
  if (value == NULL)
    return NULL;
  g_strstrip (value);
  if (value[0] == '\0')
    return NULL;
  return g_steal_pointer (&value);
}

static gboolean
load_locked (SluiceCredentialsProvider *self,
             GError                   **error)
{
  g_autoptr(GKeyFile) creds_file = NULL;
  g_autoptr(GKeyFile) config_file = NULL;
  g_autoptr(SluiceCredentials) creds = NULL;
  g_autofree char *creds_path = aws_file_path ("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  g_autofree char *config_path = aws_file_path ("AWS_CONFIG_FILE", "config");
  g_autofree char *config_group = NULL;
  const char *profile;
  GError *file_error = NULL;

  profile = self->profile != NULL ? self->profile : nonempty_env ("AWS_PROFILE");
  if (profile == NULL)
    profile = "default";
  config_group = g_str_equal (profile, "default") ? g_strdup ("default")
                                                   : g_strdup_printf ("profile %s", profile);

  creds_file = load_aws_file (creds_path, &file_error);
  if (file_error == NULL)
    config_file = load_aws_file (config_path, &file_error);

  /* region and endpoint: env wins over the config file, as in the AWS CLI */
  g_clear_pointer (&self->region, g_free);
  g_clear_pointer (&self->endpoint, g_free);
  self->region = g_strdup (nonempty_env ("AWS_REGION"));
  if (self->region == NULL)
    self->region = g_strdup (nonempty_env ("AWS_DEFAULT_REGION"));
  if (self->region == NULL)
    self->region = key_file_string (config_file, config_group, "region");
  self->endpoint = g_strdup (nonempty_env ("AWS_ENDPOINT_URL_S3"));
  if (self->endpoint == NULL)
    self->endpoint = g_strdup (nonempty_env ("AWS_ENDPOINT_URL"));
  if (self->endpoint == NULL)
    self->endpoint = key_file_string (config_file, config_group, "endpoint_url");

  if (self->explicit_creds != NULL)
    {
      creds = sluice_credentials_copy (self->explicit_creds);
    }
  else if (nonempty_env ("AWS_ACCESS_KEY_ID") != NULL &&
           nonempty_env ("AWS_SECRET_ACCESS_KEY") != NULL &&
           self->profile == NULL)
    {
      creds = g_new0 (SluiceCredentials, 1);
      creds->access_key = g_strdup (nonempty_env ("AWS_ACCESS_KEY_ID"));
      creds->secret_key = g_strdup (nonempty_env ("AWS_SECRET_ACCESS_KEY"));
      creds->session_token = g_strdup (nonempty_env ("AWS_SESSION_TOKEN"));
      creds->source = g_strdup (_("environment"));
    }
  else
    {
      const char *groups[2][2] = { { NULL, profile }, { NULL, config_group } };
      GKeyFile *files[2] = { creds_file, config_file };

      if (file_error != NULL)
        {
          g_propagate_error (error, file_error);
          return FALSE;
        }
      for (guint i = 0; i < 2 && creds == NULL; i++)
        {
          g_autofree char *ak = key_file_string (files[i], groups[i][1], "aws_access_key_id");
          g_autofree char *sk = key_file_string (files[i], groups[i][1], "aws_secret_access_key");

          if (ak == NULL || sk == NULL)
            {
              secure_free (g_steal_pointer (&sk));
              continue;
            }
          creds = g_new0 (SluiceCredentials, 1);
          creds->access_key = g_steal_pointer (&ak);
          creds->secret_key = g_steal_pointer (&sk);
          creds->session_token = key_file_string (files[i], groups[i][1], "aws_session_token");
          creds->source = g_strdup_printf (_("profile “%s” in %s"), profile,
                                           i == 0 ? creds_path : config_path);
        }
    }
  g_clear_error (&file_error);

  if (creds == NULL)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS,
                   _("No credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                     "add profile “%s” to %s"), profile, creds_path);
      return FALSE;
    }

  g_clear_pointer (&self->current, sluice_credentials_free);
  self->current = g_steal_pointer (&creds);
  return TRUE;
}

/**
 * sluice_credentials_provider_get:
 *
 * Returns a copy of the current credentials, loading them the first time.
 * Called from any thread.
 */
SluiceCredentials *
sluice_credentials_provider_get (SluiceCredentialsProvider *self,
                                 GError                   **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  if (self->current == NULL && !load_locked (self, error))
    return NULL;
  return sluice_credentials_copy (self->current);
}

/* Reads every source again (after ExpiredToken, or when files were rotated). */
gboolean
sluice_credentials_provider_refresh (SluiceCredentialsProvider *self,
                                     GError                   **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  return load_locked (self, error);
}

char *
sluice_credentials_provider_get_region (SluiceCredentialsProvider *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  if (self->current == NULL)
    load_locked (self, NULL);
  return g_strdup (self->region);
}

char *
sluice_credentials_provider_get_endpoint (SluiceCredentialsProvider *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  if (self->current == NULL)
    load_locked (self, NULL);
  return g_strdup (self->endpoint);
}
