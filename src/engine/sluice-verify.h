/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-catalog.h"
#include "sluice-s3-client.h"

G_BEGIN_DECLS

/*
 * Verify: the catalog against the bucket. Both are walked in key order and merged, so one
 * ListObjectsV2 page (1,000 keys) and one catalog row are in memory at a time, not one HEAD per
 * object. Every object the catalog says is uploaded must be listed with the same size and
 * ETag; objects in the bucket that the catalog does not know are reported as extra.
 */
typedef enum {
  SLUICE_VERIFY_MISSING,         /* uploaded in the catalog, not in the bucket */
  SLUICE_VERIFY_SIZE_MISMATCH,
  SLUICE_VERIFY_ETAG_MISMATCH,
  SLUICE_VERIFY_EXTRA,           /* in the bucket, not uploaded according to the catalog */
} SluiceVerifyProblem;

typedef struct {
  guint64 checked;     /* objects the catalog has as uploaded */
  guint64 ok;
  guint64 missing;
  guint64 size_mismatch;
  guint64 etag_mismatch;
  guint64 extra;
} SluiceVerifyReport;

typedef void (*SluiceVerifyFunc) (SluiceVerifyProblem problem,
                                  const char         *key,
                                  const char         *expected,
                                  const char         *found,
                                  gpointer            user_data);

gboolean    sluice_verify_target        (SluiceCatalog      *catalog,
                                         gint64              target_id,
                                         SluiceS3Client     *s3,
                                         const char         *prefix,
                                         SluiceVerifyFunc    func,
                                         gpointer            user_data,
                                         SluiceVerifyReport *out_report,
                                         GError            **error);
const char *sluice_verify_problem_name  (SluiceVerifyProblem problem);

G_END_DECLS
