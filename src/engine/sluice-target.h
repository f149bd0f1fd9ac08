/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Where objects go: an S3 endpoint, a bucket and a key prefix, and how to address them.
 * Holds no secret (credentials come from SluiceCredentials).
 */
typedef struct {
  char     *endpoint;      /* "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:7480" */
  char     *region;        /* "us-east-1" */
  char     *bucket;
  char     *prefix;        /* without leading or trailing '/', "" for none */
  gboolean  path_style;    /* http://host/bucket/key instead of http://bucket.host/key */
  gboolean  insecure;      /* do not verify TLS certificates (per target, with a warning) */
  char     *ca_file;       /* extra CA bundle for self-signed endpoints */
  GStrv     resolve;       /* "HOST:PORT:ADDRESS" pins, as curl --resolve (no DNS needed) */
  guint     stall_timeout_s;  /* a request that moves no byte this long fails; 0: 60 */
  /* object options, sent with every PUT, CreateMultipartUpload and copy */
  char     *storage_class;   /* STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, … */
  char     *sse;             /* "AES256" or "aws:kms" */
  char     *sse_kms_key_id;
  GStrv     tags;            /* "key=value" */
  gboolean  acl_owner_full_control;  /* x-amz-acl: bucket-owner-full-control */
} SluiceTarget;

#define SLUICE_KEY_MAX_BYTES 1024

SluiceTarget *sluice_target_new             (void);
SluiceTarget *sluice_target_copy            (const SluiceTarget *self);
void          sluice_target_free            (SluiceTarget       *self);
gboolean      sluice_target_parse_uri       (SluiceTarget       *self,
                                             const char         *uri,
                                             GError            **error);
gboolean      sluice_target_validate        (const SluiceTarget *self,
                                             GError            **error);
char         *sluice_target_to_uri          (const SluiceTarget *self);
char         *sluice_key_path_nfc           (const char         *relpath,
                                             GError            **error);
char         *sluice_target_object_key      (const SluiceTarget *self,
                                             const char         *relpath,
                                             GError            **error);
char         *sluice_target_object_url      (const SluiceTarget *self,
                                             const char         *key);
char         *sluice_target_bucket_url      (const SluiceTarget *self);
char         *sluice_target_host            (const SluiceTarget *self);

gboolean      sluice_target_has_object_options (const SluiceTarget *self);
char         *sluice_target_tagging           (const SluiceTarget *self);

char         *sluice_uri_encode             (const char         *text,
                                             gboolean            keep_slash);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceTarget, sluice_target_free)

G_END_DECLS
