/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Credentials, and where they come from. A provider can be asked again (expired session
 * tokens, rotated profile files): sluice_credentials_provider_refresh() re-reads its sources.
 *
 * Order, as in the AWS CLI: explicit values (a saved target's keyring secret, tests), then the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then the shared
 * files for AWS_PROFILE (or "default"): ~/.aws/credentials and ~/.aws/config
 * (AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE override the paths).
 *
 * The secret lives in memory here and nowhere else: it is never logged, never put in an error
 * message, never stored in the catalog.
 */

typedef struct {
  char *access_key;
  char *secret_key;
  char *session_token;   /* NULL unless temporary credentials */
  char *source;          /* "environment", "profile default (~/.aws/credentials)", ... */
} SluiceCredentials;

typedef struct _SluiceCredentialsProvider SluiceCredentialsProvider;

SluiceCredentialsProvider *sluice_credentials_provider_new          (const char *profile);
void                       sluice_credentials_provider_set_explicit (SluiceCredentialsProvider *self,
                                                                     const char *access_key,
                                                                     const char *secret_key,
                                                                     const char *session_token);
void                       sluice_credentials_provider_free         (SluiceCredentialsProvider *self);
SluiceCredentials         *sluice_credentials_provider_get          (SluiceCredentialsProvider *self,
                                                                     GError   **error);
gboolean                   sluice_credentials_provider_refresh      (SluiceCredentialsProvider *self,
                                                                     GError   **error);
char                      *sluice_credentials_provider_get_region   (SluiceCredentialsProvider *self);
char                      *sluice_credentials_provider_get_endpoint (SluiceCredentialsProvider *self);

SluiceCredentials         *sluice_credentials_copy                  (const SluiceCredentials *self);
void                       sluice_credentials_free                  (SluiceCredentials *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceCredentials, sluice_credentials_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceCredentialsProvider, sluice_credentials_provider_free)

G_END_DECLS
