/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-target-store"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <string.h>

#include "sluice-error.h"
#include "sluice-target-store.h"

/* ---- presets ------------------------------------------------------------------------------- */

static const char *const aws_regions[] = {
  "us-east-1", "us-east-2", "us-west-1", "us-west-2",
  "af-south-1",
  "ap-east-1", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
  "ap-southeast-3", "ap-southeast-4", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
  "ca-central-1", "ca-west-1",
  "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1",
  "eu-south-2", "eu-north-1",
  "il-central-1", "me-south-1", "me-central-1",
  "sa-east-1",
  "us-gov-east-1", "us-gov-west-1",
  NULL
};

static const char *const wasabi_regions[] = {
  "us-east-1", "us-east-2", "us-central-1", "us-west-1", "ca-central-1",
  "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2",
  "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
  NULL
};

static const char *const b2_regions[] = {
  "us-west-000", "us-west-001", "us-west-002", "us-west-004", "us-east-005", "eu-central-003",
  NULL
};

static const SluiceTargetPreset presets[] = {
  { "aws", "Amazon S3", "https://s3.{region}.amazonaws.com", NULL,
    "us-east-1", aws_regions, FALSE },
  { "minio", "MinIO", NULL, "http://nas.local:9000",
    "us-east-1", NULL, TRUE },
  { "ceph", "Ceph RGW", NULL, "https://rgw.example.com",
    "default", NULL, TRUE },
  { "wasabi", "Wasabi", "https://s3.{region}.wasabisys.com", NULL,
    "us-east-1", wasabi_regions, FALSE },
  { "b2", "Backblaze B2", "https://s3.{region}.backblazeb2.com", NULL,
    "us-west-004", b2_regions, FALSE },
  { "r2", "Cloudflare R2", NULL, "https://ACCOUNT_ID.r2.cloudflarestorage.com",
    "auto", NULL, TRUE },
  { "custom", N_("Other S3-compatible server"), NULL, "https://s3.example.com",
    "us-east-1", NULL, TRUE },
};

/**
 * sluice_target_presets:
 *
 * Returns: (transfer none) (array length=n_presets): the presets, in the order to show them;
 *   "custom" is last
 */
const SluiceTargetPreset *
sluice_target_presets (guint *n_presets)
{
  if (n_presets != NULL)
    *n_presets = G_N_ELEMENTS (presets);
  return presets;
}

const SluiceTargetPreset *
sluice_target_preset_lookup (const char *id)
{
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      if (g_strcmp0 (presets[i].id, id) == 0)
        return &presets[i];
    }
  return NULL;
}

/**
 * sluice_target_preset_endpoint:
 *
 * Returns: (transfer full) (nullable): the preset's endpoint for @region, or NULL when the
 *   user must give it (MinIO, Ceph, R2's account id, custom)
 */
char *
sluice_target_preset_endpoint (const SluiceTargetPreset *preset,
                               const char               *region)
{
  g_auto(GStrv) halves = NULL;

  if (preset == NULL || preset->endpoint == NULL)
    return NULL;
  if (region == NULL || *region == '\0')
    region = preset->default_region;
  halves = g_strsplit (preset->endpoint, "{region}", 2);
  if (halves[1] == NULL)
    return g_strdup (preset->endpoint);
  return g_strconcat (halves[0], region, halves[1], NULL);
}

/* ---- saved targets ------------------------------------------------------------------------- */

SluiceSavedTarget *
sluice_saved_target_new (const char *name)
{
  SluiceSavedTarget *self = g_new0 (SluiceSavedTarget, 1);

  self->name = g_strdup (name);
  self->preset = g_strdup ("custom");
  self->target = sluice_target_new ();
  self->credentials = SLUICE_CREDENTIALS_SOURCE_KEYRING;
  return self;
}

SluiceSavedTarget *
sluice_saved_target_copy (const SluiceSavedTarget *self)
{
  SluiceSavedTarget *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (SluiceSavedTarget, 1);
  copy->name = g_strdup (self->name);
  copy->preset = g_strdup (self->preset);
  copy->target = sluice_target_copy (self->target);
  copy->access_key_id = g_strdup (self->access_key_id);
  copy->credentials = self->credentials;
  copy->profile = g_strdup (self->profile);
  copy->transient = self->transient;
  return copy;
}

void
sluice_saved_target_free (SluiceSavedTarget *self)
{
  if (self == NULL)
    return;
  g_free (self->name);
  g_free (self->preset);
  g_clear_pointer (&self->target, sluice_target_free);
  g_free (self->access_key_id);
  g_free (self->profile);
  g_free (self);
}

static gboolean
is_ip_or_localhost (const char *host)
{
  return host == NULL || g_hostname_is_ip_address (host) || g_str_equal (host, "localhost");
}

/**
 * sluice_saved_target_from_environment:
 *
 * The ready target of the README's run command (tools/run-app.sh): SLUICE_DEFAULT_ENDPOINT
 * and SLUICE_DEFAULT_BUCKET (and SLUICE_DEFAULT_PREFIX), the region from AWS_REGION or
 * AWS_DEFAULT_REGION, credentials from the environment. It is transient: never written to
 * the key file, and its secret is read from AWS_SECRET_ACCESS_KEY at run time, not stored.
 *
 * Returns: (transfer full) (nullable): the target, or NULL when the variables are not set
 */
SluiceSavedTarget *
sluice_saved_target_from_environment (void)
{
  const char *endpoint = g_getenv ("SLUICE_DEFAULT_ENDPOINT");
  const char *bucket = g_getenv ("SLUICE_DEFAULT_BUCKET");
  const char *prefix = g_getenv ("SLUICE_DEFAULT_PREFIX");
  const char *region = g_getenv ("AWS_REGION");
  g_autoptr(SluiceSavedTarget) self = NULL;
  g_autofree char *host = NULL;

  if (endpoint == NULL || *endpoint == '\0' || bucket == NULL || *bucket == '\0')
    return NULL;
  if (region == NULL || *region == '\0')
    region = g_getenv ("AWS_DEFAULT_REGION");

  /* TRANSLATORS: the name of the ready-made target of the demo (tools/run-app.sh) */
  self = sluice_saved_target_new (_("Local test server"));
  g_free (self->preset);
  self->preset = g_strdup ("ceph");
  self->target->endpoint = g_strdup (endpoint);
  while (g_str_has_suffix (self->target->endpoint, "/"))
    self->target->endpoint[strlen (self->target->endpoint) - 1] = '\0';
  self->target->bucket = g_strdup (bucket);
  if (prefix != NULL)
    {
      g_free (self->target->prefix);
      self->target->prefix = g_strdup (prefix);
    }
  if (region != NULL && *region != '\0')
    {
      g_free (self->target->region);
      self->target->region = g_strdup (region);
    }
  host = sluice_target_host (self->target);
  self->target->path_style = is_ip_or_localhost (host);
  self->credentials = SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT;
  self->access_key_id = g_strdup (g_getenv ("AWS_ACCESS_KEY_ID"));
  self->transient = TRUE;

  if (!sluice_target_validate (self->target, NULL))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * sluice_target_name_validate:
 *
 * A name is the key file group and the keyring attribute: 1 to 64 characters of UTF-8, no
 * control characters, no '[' or ']', not only white space.
 */
gboolean
sluice_target_name_validate (const char  *name,
                             GError     **error)
{
  g_autofree char *stripped = NULL;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("The target needs a name"));
      return FALSE;
    }
  stripped = g_strstrip (g_strdup (name));
  if (*stripped == '\0')
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("The target needs a name"));
      return FALSE;
    }
  if (g_utf8_strlen (name, -1) > SLUICE_TARGET_NAME_MAX_CHARS)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("A target name can have at most %d characters"),
                   SLUICE_TARGET_NAME_MAX_CHARS);
      return FALSE;
    }
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) || c == '[' || c == ']')
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                               _("A target name cannot contain “[”, “]” or control "
                                 "characters"));
          return FALSE;
        }
    }
  if (!g_str_equal (stripped, name))
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("A target name cannot start or end with a space"));
      return FALSE;
    }
  return TRUE;
}

/**
 * sluice_saved_target_make_credentials:
 * @secret: (nullable): the secret from the keyring
 *
 * A credential provider for @self: with a keyring secret and an access key id, those two
 * (explicit credentials come first); otherwise the environment and the ~/.aws profile.
 *
 * Returns: (transfer full): the provider
 */
SluiceCredentialsProvider *
sluice_saved_target_make_credentials (const SluiceSavedTarget *self,
                                      const char              *secret)
{
  SluiceCredentialsProvider *provider;

  g_return_val_if_fail (self != NULL, NULL);

  provider = sluice_credentials_provider_new (self->credentials ==
                                              SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT
                                              ? self->profile : NULL);
  if (self->credentials == SLUICE_CREDENTIALS_SOURCE_KEYRING && secret != NULL &&
      self->access_key_id != NULL && *self->access_key_id != '\0')
    sluice_credentials_provider_set_explicit (provider, self->access_key_id, secret, NULL);
  return provider;
}

/**
 * sluice_saved_target_credentials_sync:
 *
 * The credential provider for `sluice-cli --target NAME`: for a keyring target, looks its
 * secret up (blocking on D-Bus). A keyring target whose secret cannot be found is an error
 * (SLUICE_ERROR_NO_CREDENTIALS) rather than a silent fallback to other credentials.
 *
 * Returns: (transfer full) (nullable): the provider
 */
SluiceCredentialsProvider *
sluice_saved_target_credentials_sync (const SluiceSavedTarget  *self,
                                      GCancellable             *cancellable,
                                      GError                  **error)
{
  g_autoptr(GError) local_error = NULL;
  char *secret = NULL;
  SluiceCredentialsProvider *provider;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->credentials == SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT)
    return sluice_saved_target_make_credentials (self, NULL);

  if (self->access_key_id == NULL || *self->access_key_id == '\0')
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS,
                   _("The target “%s” has no access key ID"), self->name);
      return NULL;
    }
  secret = sluice_target_secret_lookup_sync (self->name, cancellable, &local_error);
  if (secret == NULL)
    {
      if (local_error != NULL)
        g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS,
                     _("The secret key of the target “%s” could not be read from the keyring: "
                       "%s"), self->name, local_error->message);
      else
        g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS,
                     _("The keyring has no secret key for the target “%s”; enter it in "
                       "Sluice's target editor"), self->name);
      return NULL;
    }
  provider = sluice_saved_target_make_credentials (self, secret);
  sluice_target_secret_free (secret);
  return provider;
}

/* ---- the key file -------------------------------------------------------------------------- */

struct _SluiceTargetStore
{
  char      *path;
  GKeyFile  *keyfile;
  GPtrArray *targets;   /* SluiceSavedTarget, in file order */
};

/**
 * sluice_target_store_default_path:
 *
 * Returns: (transfer full): $XDG_CONFIG_HOME/sluice/targets.ini
 */
char *
sluice_target_store_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "sluice", "targets.ini", NULL);
}

/**
 * sluice_target_store_new:
 * @path: (nullable): the key file; NULL for sluice_target_store_default_path()
 *
 * An empty store; sluice_target_store_load() reads the file.
 */
SluiceTargetStore *
sluice_target_store_new (const char *path)
{
  SluiceTargetStore *self = g_new0 (SluiceTargetStore, 1);

  self->path = path != NULL ? g_strdup (path) : sluice_target_store_default_path ();
  self->keyfile = g_key_file_new ();
  self->targets = g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_saved_target_free);
  return self;
}

void
sluice_target_store_free (SluiceTargetStore *self)
{
  if (self == NULL)
    return;
  g_free (self->path);
  g_key_file_free (self->keyfile);
  g_ptr_array_unref (self->targets);
  g_free (self);
}

const char *
sluice_target_store_get_path (SluiceTargetStore *self)
{
  return self->path;
}

static char *
get_string (GKeyFile   *kf,
            const char *group,
            const char *key)
{
  g_autofree char *value = g_key_file_get_string (kf, group, key, NULL);

  if (value == NULL || *value == '\0')
    return NULL;
  return g_steal_pointer (&value);
}

static GStrv
get_list (GKeyFile   *kf,
          const char *group,
          const char *key)
{
  g_auto(GStrv) value = g_key_file_get_string_list (kf, group, key, NULL, NULL);

  if (value == NULL || value[0] == NULL)
    return NULL;
  return g_steal_pointer (&value);
}

static SluiceSavedTarget *
read_group (GKeyFile    *kf,
            const char  *group,
            GError     **error)
{
  g_autoptr(SluiceSavedTarget) t = sluice_saved_target_new (group);
  g_autofree char *addressing = NULL;
  g_autofree char *credentials = NULL;
  g_autofree char *region = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *preset = NULL;

  if (!sluice_target_name_validate (group, error))
    return NULL;

  preset = get_string (kf, group, "preset");
  if (preset != NULL)
    {
      g_free (t->preset);
      t->preset = g_steal_pointer (&preset);
    }
  t->target->endpoint = get_string (kf, group, "endpoint");
  region = get_string (kf, group, "region");
  if (region != NULL)
    {
      g_free (t->target->region);
      t->target->region = g_steal_pointer (&region);
    }
  t->target->bucket = get_string (kf, group, "bucket");
  prefix = get_string (kf, group, "prefix");
  if (prefix != NULL)
    {
      g_free (t->target->prefix);
      t->target->prefix = g_steal_pointer (&prefix);
    }
  addressing = get_string (kf, group, "addressing");
  t->target->path_style = g_strcmp0 (addressing, "virtual") != 0;
  t->target->ca_file = get_string (kf, group, "ca-file");
  t->target->insecure = g_key_file_get_boolean (kf, group, "insecure", NULL);
  t->target->resolve = get_list (kf, group, "resolve");
  t->target->storage_class = get_string (kf, group, "storage-class");
  t->target->sse = get_string (kf, group, "sse");
  t->target->sse_kms_key_id = get_string (kf, group, "sse-kms-key-id");
  t->target->tags = get_list (kf, group, "tags");
  t->target->acl_owner_full_control = g_key_file_get_boolean (kf, group,
                                                              "acl-bucket-owner-full-control",
                                                              NULL);
  credentials = get_string (kf, group, "credentials");
  t->credentials = g_strcmp0 (credentials, "environment") == 0
                   ? SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT
                   : SLUICE_CREDENTIALS_SOURCE_KEYRING;
  t->profile = get_string (kf, group, "profile");
  t->access_key_id = get_string (kf, group, "access-key-id");

  /* a hand-edited file may say anything: the same checks as the CLI's s3:// URIs */
  if (!sluice_target_validate (t->target, error))
    {
      g_prefix_error (error, _("Target “%s” in the saved targets: "), group);
      return NULL;
    }
  return g_steal_pointer (&t);
}

/**
 * sluice_target_store_load:
 *
 * (Re)reads the key file. A missing file is an empty store, not an error; a target that does
 * not validate is left out with a warning (the others still load).
 */
gboolean
sluice_target_store_load (SluiceTargetStore  *self,
                          GError            **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) groups = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!g_key_file_load_from_file (kf, self->path, G_KEY_FILE_KEEP_COMMENTS, &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      _("Could not read the saved targets (%s): "), self->path);
          return FALSE;
        }
      g_clear_error (&local_error);
    }

  g_ptr_array_set_size (self->targets, 0);
  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autoptr(GError) target_error = NULL;
      SluiceSavedTarget *t = read_group (kf, groups[i], &target_error);

      if (t == NULL)
        {
          g_warning ("%s", target_error->message);
          continue;
        }
      g_ptr_array_add (self->targets, t);
    }
  g_key_file_free (self->keyfile);
  self->keyfile = g_steal_pointer (&kf);
  return TRUE;
}

guint
sluice_target_store_get_n_targets (SluiceTargetStore *self)
{
  return self->targets->len;
}

/**
 * sluice_target_store_list:
 *
 * Returns: (transfer container) (element-type SluiceSavedTarget): the targets in file order;
 *   the elements belong to the store and stay valid until its next load, put or remove
 */
GPtrArray *
sluice_target_store_list (SluiceTargetStore *self)
{
  GPtrArray *list = g_ptr_array_new ();

  for (guint i = 0; i < self->targets->len; i++)
    g_ptr_array_add (list, self->targets->pdata[i]);
  return list;
}

/**
 * sluice_target_store_lookup:
 *
 * Returns: (transfer none) (nullable): the target called @name
 */
const SluiceSavedTarget *
sluice_target_store_lookup (SluiceTargetStore *self,
                            const char        *name)
{
  g_return_val_if_fail (self != NULL, NULL);

  for (guint i = 0; i < self->targets->len; i++)
    {
      SluiceSavedTarget *t = self->targets->pdata[i];

      if (g_strcmp0 (t->name, name) == 0)
        return t;
    }
  return NULL;
}

static void
set_or_remove (GKeyFile   *kf,
               const char *group,
               const char *key,
               const char *value)
{
  if (value != NULL && *value != '\0')
    g_key_file_set_string (kf, group, key, value);
  else
    g_key_file_remove_key (kf, group, key, NULL);
}

static void
set_list_or_remove (GKeyFile           *kf,
                    const char         *group,
                    const char         *key,
                    const char * const *value)
{
  if (value != NULL && value[0] != NULL)
    g_key_file_set_string_list (kf, group, key, value, g_strv_length ((GStrv) value));
  else
    g_key_file_remove_key (kf, group, key, NULL);
}

static void
write_group (GKeyFile                *kf,
             const SluiceSavedTarget *t)
{
  const char *group = t->name;
  const SluiceTarget *tg = t->target;

  set_or_remove (kf, group, "preset", t->preset);
  set_or_remove (kf, group, "endpoint", tg->endpoint);
  set_or_remove (kf, group, "region", tg->region);
  set_or_remove (kf, group, "bucket", tg->bucket);
  set_or_remove (kf, group, "prefix", tg->prefix);
  g_key_file_set_string (kf, group, "addressing", tg->path_style ? "path" : "virtual");
  set_or_remove (kf, group, "ca-file", tg->ca_file);
  g_key_file_set_boolean (kf, group, "insecure", tg->insecure);
  set_list_or_remove (kf, group, "resolve", (const char * const *) tg->resolve);
  set_or_remove (kf, group, "storage-class", tg->storage_class);
  set_or_remove (kf, group, "sse", tg->sse);
  set_or_remove (kf, group, "sse-kms-key-id", tg->sse_kms_key_id);
  set_list_or_remove (kf, group, "tags", (const char * const *) tg->tags);
  g_key_file_set_boolean (kf, group, "acl-bucket-owner-full-control",
                          tg->acl_owner_full_control);
  g_key_file_set_string (kf, group, "credentials",
                         t->credentials == SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT
                         ? "environment" : "keyring");
  set_or_remove (kf, group, "profile", t->profile);
  set_or_remove (kf, group, "access-key-id", t->access_key_id);
}

static gboolean
save_file (SluiceTargetStore  *self,
           GKeyFile           *kf,
           GError            **error)
{
  g_autofree char *dir = g_path_get_dirname (self->path);
  g_autofree char *data = NULL;
  gsize len = 0;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Could not create %s: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }
  data = g_key_file_to_data (kf, &len, NULL);
  /* 0600: the file names endpoints, buckets and access key ids (not secrets, but private) */
  return g_file_set_contents_full (self->path, data, len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

/**
 * sluice_target_store_put:
 * @target: the target to save (copied); a transient one is kept in memory only
 * @old_name: (nullable): the name it had, when it is renamed
 *
 * Adds or replaces a target and writes the key file at once. The file is read again first,
 * so that a change another process made meanwhile (sluice-cli, a second window) is kept.
 * The keyring is not touched: store the secret (under the new name) yourself.
 */
gboolean
sluice_target_store_put (SluiceTargetStore        *self,
                         const SluiceSavedTarget  *target,
                         const char               *old_name,
                         GError                  **error)
{
  g_autoptr(GPtrArray) transient = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (target != NULL, FALSE);

  if (!sluice_target_name_validate (target->name, error) ||
      !sluice_target_validate (target->target, error))
    return FALSE;

  transient = g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_saved_target_free);
  /* transient targets are not in the file: carry them over the reload */
  for (guint i = 0; i < self->targets->len; i++)
    {
      SluiceSavedTarget *t = self->targets->pdata[i];

      if (t->transient && g_strcmp0 (t->name, target->name) != 0 &&
          g_strcmp0 (t->name, old_name) != 0)
        g_ptr_array_add (transient, sluice_saved_target_copy (t));
    }

  if (!sluice_target_store_load (self, error))
    return FALSE;

  if (!target->transient)
    {
      if (old_name != NULL && g_strcmp0 (old_name, target->name) != 0)
        g_key_file_remove_group (self->keyfile, old_name, NULL);
      g_key_file_remove_group (self->keyfile, target->name, NULL);
      write_group (self->keyfile, target);
      if (!save_file (self, self->keyfile, error))
        return FALSE;
      if (!sluice_target_store_load (self, error))
        return FALSE;
    }
  else
    g_ptr_array_add (self->targets, sluice_saved_target_copy (target));

  for (guint i = 0; i < transient->len; i++)
    {
      SluiceSavedTarget *t = transient->pdata[i];

      if (sluice_target_store_lookup (self, t->name) == NULL)
        g_ptr_array_add (self->targets, g_steal_pointer (&transient->pdata[i]));
    }
  return TRUE;
}

/**
 * sluice_target_store_remove:
 *
 * Removes a target from the store and the key file. Its keyring secret stays: clear it with
 * sluice_target_secret_clear_async().
 */
gboolean
sluice_target_store_remove (SluiceTargetStore  *self,
                            const char         *name,
                            GError            **error)
{
  const SluiceSavedTarget *t;

  g_return_val_if_fail (self != NULL, FALSE);

  t = sluice_target_store_lookup (self, name);
  if (t != NULL && t->transient)
    {
      g_ptr_array_remove (self->targets, (gpointer) t);
      return TRUE;
    }
  if (!sluice_target_store_load (self, error))
    return FALSE;
  if (!g_key_file_has_group (self->keyfile, name))
    return TRUE;
  g_key_file_remove_group (self->keyfile, name, NULL);
  if (!save_file (self, self->keyfile, error))
    return FALSE;
  return sluice_target_store_load (self, error);
}

/* ---- the keyring ----------------------------------------------------------------------------- */

static const SecretSchema *
secret_schema (void)
{
  static const SecretSchema schema = {
    SLUICE_TARGET_SECRET_SCHEMA, SECRET_SCHEMA_NONE,
    {
      { "target", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  return &schema;
}

static char *
secret_label (const char *name)
{
  /* TRANSLATORS: the label of the secret in the keyring (Passwords and Keys) */
  return g_strdup_printf (_("Sluice: S3 secret key of “%s”"), name);
}

gboolean
sluice_target_secret_store_sync (const char    *name,
                                 const char    *secret,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  g_autofree char *label = secret_label (name);

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (secret != NULL, FALSE);

  return secret_password_store_sync (secret_schema (), SECRET_COLLECTION_DEFAULT, label, secret,
                                     cancellable, error, "target", name, NULL);
}

char *
sluice_target_secret_lookup_sync (const char    *name,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  g_return_val_if_fail (name != NULL, NULL);

  return secret_password_lookup_sync (secret_schema (), cancellable, error,
                                      "target", name, NULL);
}

gboolean
sluice_target_secret_clear_sync (const char    *name,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (name != NULL, FALSE);

  /* FALSE without an error: there was nothing to clear, which is fine */
  if (!secret_password_clear_sync (secret_schema (), cancellable, &local_error,
                                   "target", name, NULL) && local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * sluice_target_secret_store_async:
 *
 * Stores @secret in the default collection, replacing what was there for @name. @callback
 * runs in the thread-default main context of the caller.
 */
void
sluice_target_secret_store_async (const char          *name,
                                  const char          *secret,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autofree char *label = secret_label (name);

  secret_password_store (secret_schema (), SECRET_COLLECTION_DEFAULT, label, secret,
                         cancellable, callback, user_data, "target", name, NULL);
}

gboolean
sluice_target_secret_store_finish (GAsyncResult  *result,
                                   GError       **error)
{
  return secret_password_store_finish (result, error);
}

void
sluice_target_secret_lookup_async (const char          *name,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  secret_password_lookup (secret_schema (), cancellable, callback, user_data,
                          "target", name, NULL);
}

/**
 * sluice_target_secret_lookup_finish:
 *
 * Returns: (transfer full) (nullable): the secret (free with sluice_target_secret_free()), or
 *   NULL: none stored (no error) or the keyring failed (@error set)
 */
char *
sluice_target_secret_lookup_finish (GAsyncResult  *result,
                                    GError       **error)
{
  return secret_password_lookup_finish (result, error);
}

void
sluice_target_secret_clear_async (const char          *name,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  secret_password_clear (secret_schema (), cancellable, callback, user_data,
                         "target", name, NULL);
}

gboolean
sluice_target_secret_clear_finish (GAsyncResult  *result,
                                   GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!secret_password_clear_finish (result, &local_error) && local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/* Wipes the secret's memory before freeing it. */
void
sluice_target_secret_free (char *secret)
{
  if (secret != NULL)
    secret_password_free (secret);
}
