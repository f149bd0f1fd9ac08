/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sluice-credentials.h"
#include "sluice-target.h"

G_BEGIN_DECLS

/*
 * What an S3 endpoint really does, found by trying it once (under a probe prefix, deleting
 * what was written) and cached in the catalog per target. S3-compatible servers differ in ways
 * that matter for integrity: whether they verify the signed payload hash and Content-MD5,
 * whether If-None-Match is honoured on PUT and on CompleteMultipartUpload, the multipart ETag
 * form, virtual-hosted addressing. With credentials that may only upload, what could not be
 * tested is said so ("not tested"), not called a failure.
 */
typedef enum {
  SLUICE_CAP_NOT_TESTED,
  SLUICE_CAP_YES,
  SLUICE_CAP_NO,
} SluiceCap;

typedef struct {
  SluiceCap  verifies_payload_hash;
  SluiceCap  verifies_content_md5;
  SluiceCap  if_none_match_put;
  SluiceCap  if_none_match_complete;
  SluiceCap  multipart_etag_suffix;   /* "-N" ETags on multipart objects */
  SluiceCap  virtual_hosted;
  SluiceCap  can_delete;
  GPtrArray *notes;                   /* char *: why something was not tested */
} SluiceCapabilities;

SluiceCapabilities *sluice_capabilities_probe     (const SluiceTarget        *target,
                                                   SluiceCredentialsProvider *credentials,
                                                   GError                   **error);
char               *sluice_capabilities_to_json   (const SluiceCapabilities  *self);
SluiceCapabilities *sluice_capabilities_from_json (const char                *json);
char               *sluice_capabilities_describe  (const SluiceCapabilities  *self);
void                sluice_capabilities_free      (SluiceCapabilities        *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceCapabilities, sluice_capabilities_free)

G_END_DECLS
