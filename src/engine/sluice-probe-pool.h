/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-metadata.h"

G_BEGIN_DECLS

/*
 * A pool of sluice-probe helper processes. Workers take an idle helper from a GAsyncQueue (so
 * at most one request per helper is in flight, and waiting is bounded by the pool size), send
 * it a read-only descriptor of the file's bytes, and wait for the answer with a no-progress
 * timeout. A helper that crashes, stalls or talks garbage is killed and replaced, and the
 * file it held gets SLUICE_ERROR_PROBE_CRASHED / _TIMEOUT / _PROTOCOL with the reason
 * ("crashed with SIGSEGV", "no progress for 10 s").
 */

typedef struct _SluiceProbePool SluiceProbePool;

#define SLUICE_PROBE_DEFAULT_TIMEOUT_MS 10000

char            *sluice_probe_find_helper    (void);
SluiceProbePool *sluice_probe_pool_new       (const char       *helper_path,
                                              guint             n_helpers,
                                              guint             timeout_ms,
                                              GError          **error);
/* The same, with helpers that also decode HEIF pictures (they load a module for it that the
 * helpers of an ingest, one per core, go without): for thumbnails. */
SluiceProbePool *sluice_probe_pool_new_for_thumbnails (const char  *helper_path,
                                                       guint        n_helpers,
                                                       guint        timeout_ms,
                                                       GError     **error);
void             sluice_probe_pool_free      (SluiceProbePool  *self);
SluiceMetadata  *sluice_probe_pool_probe     (SluiceProbePool  *self,
                                              int               fd,
                                              const char       *name,
                                              guint64           size,
                                              GError          **error);
GBytes          *sluice_probe_pool_thumbnail (SluiceProbePool  *self,
                                              int               fd,
                                              guint64           size,
                                              guint             max_edge,
                                              guint            *out_width,
                                              guint            *out_height,
                                              gsize            *out_stride,
                                              GError          **error);
guint            sluice_probe_pool_restarts  (SluiceProbePool  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceProbePool, sluice_probe_pool_free)

G_END_DECLS
