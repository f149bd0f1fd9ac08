/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-credentials.h"
#include "sluice-progress.h"
#include "sluice-target.h"
#include "sluice-walker.h"

G_BEGIN_DECLS

/*
 * One ingest run: walk → read once (hash) → probe helpers → upload → catalog.
 *
 *   walker (listings in flight) ─▶ [found queue, bounded] ─▶ N workers, each:
 *       catalog lookup (skip unchanged) → read into a budgeted memfd slab + SHA-256
 *       → probe helper (fd over the socketpair) → durable "uploading" intent (catalog writer,
 *       waits for the commit) → PUT with x-amz-content-sha256 → completion (batched)
 *
 * Workers own one CURL handle and one read-only catalog connection each. Memory is bounded by
 * the byte budget and the queue capacities, not by the size of the tree.
 */

typedef struct {
  char                      *source;            /* the folder */
  SluiceTarget              *target;
  SluiceCredentialsProvider *credentials;       /* borrowed */
  char                      *catalog_path;
  guint                      jobs;              /* requests in flight (16); 2x workers */
  guint                      probes;            /* helper processes, default: CPU count */
  guint64                    memory_budget;     /* bytes in flight, default 64 MiB */
  guint                      probe_timeout_ms;  /* no-progress timeout of a helper */
  guint                      retries;           /* attempts per request for transient errors */
  SluiceWalkerOptions        walker;
  gboolean                   dry_run;
  gboolean                   metadata_headers;  /* sanitised EXIF as x-amz-meta-* */
  gboolean                   skip_probe_failed; /* do not upload files whose probe failed */
  char                      *helper_path;       /* NULL: sluice_probe_find_helper () */
  guint64                    multipart_threshold; /* files this large go in parts */
  guint64                    part_size;         /* raised as needed to stay within 10,000 parts */
  gboolean                   no_overwrite;      /* If-None-Match: an existing object is kept */
  guint64                    bwlimit;           /* request body bytes per second, 0 = none */
  guint                      pause_timeout_s;   /* how long an unreachable server is waited for */
  gboolean                   dedupe;            /* same content already there: server-side copy */
  char                      *key_template;      /* NULL or "{path}": PREFIX/relative path */
} SluicePipelineOptions;

#define SLUICE_DEFAULT_MULTIPART_THRESHOLD (G_GUINT64_CONSTANT (64) * 1024 * 1024)
#define SLUICE_DEFAULT_PART_SIZE           (G_GUINT64_CONSTANT (16) * 1024 * 1024)

typedef struct {
  SluiceProgressSnapshot counts;
  double                 seconds;
  gint64                 run_id;
  guint                  probe_restarts;
  gboolean               cancelled;
  guint64                reconciled;        /* interrupted uploads found complete by HEAD */
  guint                  walk_problems;     /* folders that could not be listed */
  guint                  retries;           /* requests tried again */
  guint                  throttled;         /* 429 / SlowDown answers */
  guint                  concurrency_min;   /* the lowest in-flight limit AIMD came down to */
  double                 paused_seconds;    /* waiting for the server (or the user) */
  char                  *capabilities;      /* JSON: what the server was found to do */
  guint64                peak_buffer_bytes;
} SluicePipelineSummary;

/* Called from worker threads for each file that failed, and for walk problems. */
typedef void (*SluicePipelineFileFunc) (const char   *relpath,
                                        const GError *error,
                                        gpointer      user_data);

typedef struct _SluicePipeline SluicePipeline;

void            sluice_pipeline_summary_clear  (SluicePipelineSummary        *summary);
void            sluice_pipeline_options_init   (SluicePipelineOptions        *options);
void            sluice_pipeline_options_clear  (SluicePipelineOptions        *options);

SluicePipeline *sluice_pipeline_new            (const SluicePipelineOptions  *options,
                                                GError                      **error);
void            sluice_pipeline_free           (SluicePipeline               *self);
SluiceProgress *sluice_pipeline_get_progress   (SluicePipeline               *self);
void            sluice_pipeline_set_file_func  (SluicePipeline               *self,
                                                SluicePipelineFileFunc        failed,
                                                SluicePipelineFileFunc        warning,
                                                gpointer                      user_data);
gboolean        sluice_pipeline_run            (SluicePipeline               *self,
                                                GCancellable                 *cancellable,
                                                SluicePipelineSummary        *out_summary,
                                                GError                      **error);
void            sluice_pipeline_pause          (SluicePipeline               *self);
void            sluice_pipeline_resume         (SluicePipeline               *self);
gboolean        sluice_pipeline_is_paused      (SluicePipeline               *self);
void            sluice_pipeline_cancel         (SluicePipeline               *self,
                                                gboolean                      discard);
void            sluice_pipeline_run_async      (SluicePipeline               *self,
                                                GCancellable                 *cancellable,
                                                GAsyncReadyCallback           callback,
                                                gpointer                      user_data);
gboolean        sluice_pipeline_run_finish     (SluicePipeline               *self,
                                                GAsyncResult                 *result,
                                                SluicePipelineSummary        *out_summary,
                                                GError                      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluicePipeline, sluice_pipeline_free)

G_END_DECLS
