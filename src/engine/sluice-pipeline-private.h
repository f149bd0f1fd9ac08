/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Shared by sluice-pipeline.c (the run, small files) and sluice-multipart.c (large files). */

#include "sluice-buffer.h"
#include "sluice-catalog-writer.h"
#include "sluice-catalog.h"
#include "sluice-key-template.h"
#include "sluice-limiter.h"
#include "sluice-pipeline.h"
#include "sluice-probe-pool.h"
#include "sluice-queue.h"
#include "sluice-s3-client.h"
#include "sluice-work-queue.h"

G_BEGIN_DECLS

typedef struct _PartJob PartJob;

struct _SluicePipeline {
  SluicePipelineOptions   options;
  SluiceProgress         *progress;
  SluicePipelineFileFunc  failed_func;
  SluicePipelineFileFunc  warning_func;
  gpointer                func_data;

  /* during a run */
  char                   *source_path;    /* canonical */
  char                   *source_identity; /* what the catalog records (sluice-portal.h) */
  SluiceCatalogWriter    *writer;
  SluiceProbePool        *probes;
  SluiceBudget           *budget;
  SluiceWalker           *walker;
  gboolean                direct_reads;   /* sluice_buffer_direct_suits () of the source */
  SluiceWorkQueue         work;
  GCancellable           *cancellable;
  gint64                  source_id;
  gint64                  target_id;
  gint64                  run_id;
  gboolean                nothing_recorded; /* no file of the source on record at the start */
  guint                   walk_problems;  /* atomic */
  GMutex                  fatal_mutex;
  GError                 *fatal;          /* stops the run: catalog broken, disk full */
  SluicePipelineSummary   last_summary;
  SluiceKeyTemplate      *key_template;   /* NULL: PREFIX/relative path */
  SluiceKeyTemplateNeeds  key_needs;

  /* brakes: AIMD on requests in flight, --bwlimit on bytes */
  SluiceConcurrency      *concurrency;
  SluiceRateLimit        *rate;
  guint                   retries;        /* atomic */

  /* the gate: closed while the user paused the run or the server cannot be reached */
  GMutex                  gate_mutex;
  GCond                   gate_cond;
  gboolean                user_paused;
  gboolean                server_down;
  /* writes that time out while the bucket answers (a full Ceph cluster): after one such
   * pause the run goes on, noting when and how many writes had been answered; a write begun
   * after that which times out with none answered since is the second */
  gint                    writes_ok;      /* atomic: PUTs and parts answered */
  gboolean                timeout_resumed;
  gint                    writes_at_resume;
  gint64                  resumed_at;     /* monotonic */
  gint64                  paused_since;   /* monotonic, 0 when open */
  gint64                  paused_us;
  gboolean                discard;        /* cancel also aborts unfinished uploads */

  /* intents ahead of the read (a first ingest): the walker's files pass through the intenter,
   * which commits the intents of the next small files together (pre_intents_thread ()) */
  gboolean                pre_intents;
  SluiceQueue            *intent_queue;
  GMutex                  window_mutex;
  GCond                   window_cond;
  GHashTable             *untaken;        /* ids of intents whose file no worker took yet */
  guint                   window_wanted;  /* untaken may be at most this for the intenter
                                           * to go on (window_wait ()); G_MAXUINT: not
                                           * waiting */
};

typedef struct {
  SluicePipeline *pipeline;
  SluiceS3Client *s3;
  SluiceCatalog  *reader;      /* opened on first use: _sluice_worker_reader () */
  GThread        *thread;
  gboolean        small_only;  /* an extra worker: takes only small files (workers_for_jobs) */
} Worker;

/* A catalog write about one file (the fields each operation uses). */
typedef struct {
  gint64            source_id;
  gint64            target_id;
  gint64            run_id;
  char             *relpath;
  char             *key;
  guint64           size;
  gint64            mtime_ns;
  char             *sha256;
  SluiceMetadata   *meta;
  gboolean          keep_metadata;   /* a resumed upload: what the first attempt found stays */
  SluiceProbeState  probe_state;
  char             *probe_error;
  gint64            file_id;
  gboolean          new_file;         /* the op that completes an intent inserted the row */
  gint64            object_id;        /* out of the intent, in of the others */
  gint64            intent_id;        /* a small file's light intent (schema 5): out of
                                       * light_intent_op, in of the op that completes it */
  SluiceObjectState state;
  char             *etag;
  char             *error_code;
  char             *error_message;
  char             *note;             /* a warning of the pipeline's own */
  /* multipart */
  char             *upload_id;
  guint64           part_size;
  guint             part_number;
  GBytes           *hash_state;
} FileOp;

FileOp   *_sluice_file_op_new           (SluicePipeline  *self,
                                         SluiceFoundFile *f,
                                         const char      *key);
void      _sluice_file_op_free          (FileOp          *op);
gboolean  _sluice_intent_op             (SluiceCatalog   *catalog,
                                         gpointer         data,
                                         GError         **error);
gboolean  _sluice_finish_op             (SluiceCatalog   *catalog,
                                         gpointer         data,
                                         GError         **error);

void      _sluice_pipeline_fail_file    (SluicePipeline  *self,
                                         SluiceFoundFile *f,
                                         const char      *key,
                                         gint64           object_id,
                                         const GError    *error);
void      _sluice_pipeline_skip_existing (SluicePipeline *self,
                                          SluiceFoundFile *f,
                                          gint64          object_id,
                                          guint64         size);
void      _sluice_pipeline_set_fatal    (SluicePipeline  *self,
                                         const GError    *error);
gboolean  _sluice_pipeline_backoff      (SluicePipeline  *self,
                                         guint            attempt);
gboolean  _sluice_pipeline_should_retry (SluicePipeline  *self,
                                         const GError    *error,
                                         guint           *attempt);
gboolean  _sluice_pipeline_gate         (SluicePipeline  *self);
gboolean  _sluice_pipeline_request_begin (SluicePipeline *self);
void      _sluice_pipeline_request_end  (SluicePipeline  *self,
                                         const GError    *error);
gboolean  _sluice_pipeline_probe        (SluicePipeline      *self,
                                         SluiceFoundFile     *f,
                                         SluiceBuffer        *buf,
                                         const SluiceCatalogEntry *entry,
                                         const char          *key,
                                         SluiceMetadata     **out_meta,
                                         SluiceProbeState    *out_state,
                                         char               **out_probe_error);
GStrv     _sluice_pipeline_meta_headers (SluicePipeline  *self,
                                         const SluiceMetadata *meta);
SluiceCatalog *_sluice_worker_reader    (Worker          *w,
                                         GError         **error);
gboolean  _sluice_pipeline_acquire      (Worker          *w,
                                         guint64          bytes);

char     *_sluice_pipeline_object_key   (SluicePipeline       *self,
                                         SluiceFoundFile      *f,
                                         const SluiceMetadata *meta,
                                         gint64                mtime_ns,
                                         const char           *sha256,
                                         GError              **error);

/* sluice-multipart.c */
void      _sluice_pipeline_upload_large (Worker             *w,
                                         SluiceFoundFile    *f,
                                         const char         *key,
                                         SluiceCatalogEntry *entry);
void      _sluice_pipeline_run_part     (Worker          *w,
                                         PartJob         *job);
gboolean  _sluice_pipeline_reconcile_upload (SluicePipeline     *self,
                                             SluiceS3Client     *s3,
                                             SluiceCatalog      *reader,
                                             SluiceCatalogPending *pending,
                                             SluiceObjectState  *out_state,
                                             char              **out_etag,
                                             char              **out_sha256,
                                             GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FileOp, _sluice_file_op_free)

G_END_DECLS
