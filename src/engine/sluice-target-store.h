/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-credentials.h"
#include "sluice-target.h"

G_BEGIN_DECLS

/*
 * Saved targets, shared by the app and `sluice-cli --target NAME`.
 *
 * Everything but the secret lives in a key file, $XDG_CONFIG_HOME/sluice/targets.ini (mode
 * 0600), one group per target named after it:
 *
 *   [Photos on Wasabi]
 *   preset=wasabi
 *   endpoint=https://s3.eu-central-1.wasabisys.com
 *   region=eu-central-1
 *   bucket=team-photos
 *   prefix=archive
 *   addressing=virtual              (or "path")
 *   ca-file=/etc/ssl/my-ca.pem
 *   insecure=false
 *   storage-class=STANDARD_IA       sse=AES256   sse-kms-key-id=…   tags=a=b;c=d;
 *   acl-bucket-owner-full-control=false
 *   resolve=host:443:10.0.0.5;
 *   credentials=keyring             (or "environment": AWS_* variables and ~/.aws profiles)
 *   profile=…                       (with credentials=environment; none: AWS_PROFILE/default)
 *   access-key-id=AKIA…
 *
 * The secret access key is in the desktop keyring (libsecret, schema
 * "io.github.sluice.Sluice.Target", attribute "target" = the target's name), never in this
 * file, GSettings, the catalog or a log.
 */

typedef enum {
  SLUICE_CREDENTIALS_SOURCE_KEYRING,      /* access-key-id here, the secret in the keyring */
  SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT,  /* AWS_* variables, then the ~/.aws profile */
} SluiceCredentialsSource;

typedef struct {
  char                    *name;
  char                    *preset;          /* a SluiceTargetPreset id, "custom" by default */
  SluiceTarget            *target;
  char                    *access_key_id;
  SluiceCredentialsSource  credentials;
  char                    *profile;         /* with _ENVIRONMENT; NULL: AWS_PROFILE, default */
  gboolean                 transient;       /* made from the environment: never written */
} SluiceSavedTarget;

#define SLUICE_TARGET_NAME_MAX_CHARS 64
#define SLUICE_TARGET_SECRET_SCHEMA "io.github.sluice.Sluice.Target"

SluiceSavedTarget *sluice_saved_target_new              (const char              *name);
SluiceSavedTarget *sluice_saved_target_copy             (const SluiceSavedTarget *self);
void               sluice_saved_target_free             (SluiceSavedTarget       *self);
SluiceSavedTarget *sluice_saved_target_from_environment (void);
gboolean           sluice_target_name_validate          (const char              *name,
                                                         GError                 **error);

SluiceCredentialsProvider *sluice_saved_target_make_credentials (const SluiceSavedTarget  *self,
                                                                 const char               *secret);
SluiceCredentialsProvider *sluice_saved_target_credentials_sync (const SluiceSavedTarget  *self,
                                                                 GCancellable             *cancel,
                                                                 GError                  **error);

typedef struct _SluiceTargetStore SluiceTargetStore;

char               *sluice_target_store_default_path (void);
SluiceTargetStore  *sluice_target_store_new          (const char              *path);
void                sluice_target_store_free         (SluiceTargetStore       *self);
const char         *sluice_target_store_get_path     (SluiceTargetStore       *self);
gboolean            sluice_target_store_load         (SluiceTargetStore       *self,
                                                      GError                 **error);
guint               sluice_target_store_get_n_targets (SluiceTargetStore      *self);
GPtrArray          *sluice_target_store_list         (SluiceTargetStore       *self);
const SluiceSavedTarget *sluice_target_store_lookup  (SluiceTargetStore       *self,
                                                      const char              *name);
gboolean            sluice_target_store_put          (SluiceTargetStore       *self,
                                                      const SluiceSavedTarget *target,
                                                      const char              *old_name,
                                                      GError                 **error);
gboolean            sluice_target_store_remove       (SluiceTargetStore       *self,
                                                      const char              *name,
                                                      GError                 **error);

/* The secret, in the desktop keyring (Secret Service). The sync forms block on D-Bus: the CLI
 * and tests use them, the app uses the async ones. A lookup that finds nothing returns NULL
 * without an error. Free secrets with sluice_target_secret_free (it wipes the memory). */
gboolean  sluice_target_secret_store_sync   (const char           *name,
                                             const char           *secret,
                                             GCancellable         *cancellable,
                                             GError              **error);
char     *sluice_target_secret_lookup_sync  (const char           *name,
                                             GCancellable         *cancellable,
                                             GError              **error);
gboolean  sluice_target_secret_clear_sync   (const char           *name,
                                             GCancellable         *cancellable,
                                             GError              **error);
void      sluice_target_secret_store_async  (const char           *name,
                                             const char           *secret,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean  sluice_target_secret_store_finish (GAsyncResult         *result,
                                             GError              **error);
void      sluice_target_secret_lookup_async (const char           *name,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
char     *sluice_target_secret_lookup_finish (GAsyncResult        *result,
                                              GError             **error);
void      sluice_target_secret_clear_async  (const char           *name,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean  sluice_target_secret_clear_finish (GAsyncResult         *result,
                                             GError              **error);
void      sluice_target_secret_free         (char                 *secret);

/* Presets: what the editor fills in for a provider. */
typedef struct {
  const char        *id;              /* "aws", "minio", "ceph", "wasabi", "b2", "r2", "custom" */
  const char        *name;            /* shown; translate with g_dgettext (GETTEXT_PACKAGE) */
  const char        *endpoint;        /* with "{region}"; NULL: the user gives it */
  const char        *endpoint_hint;   /* example for the entry */
  const char        *default_region;
  const char *const *regions;         /* NULL-terminated, or NULL: any text */
  gboolean           path_style;
} SluiceTargetPreset;

const SluiceTargetPreset *sluice_target_presets         (guint                    *n_presets);
const SluiceTargetPreset *sluice_target_preset_lookup   (const char               *id);
char                     *sluice_target_preset_endpoint (const SluiceTargetPreset *preset,
                                                         const char               *region);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceSavedTarget, sluice_saved_target_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceTargetStore, sluice_target_store_free)

G_END_DECLS
