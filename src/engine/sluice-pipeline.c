/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-pipeline"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice-capabilities.h"
#include "sluice-error.h"
#include "sluice-pipeline-private.h"
#include "sluice-portal.h"
#include "sluice-sanitize.h"

#define FOUND_QUEUE_CAPACITY  1024
#define SOURCE_CHANGED_TRIES  3
#define BACKOFF_BASE_MS       200
#define BACKOFF_CAP_MS        8000
/*
 * The page cache of each worker's catalog reader (there are 2 × --jobs). They only look files
 * up by path, a handful of pages each, and what a reader does not keep SQLite reads again
 * from the kernel's page cache. With a reader's default 32 MiB, a rerun over 100,000
 * cataloged files (a 71 MB catalog) peaked at 314 MB: each reader kept every page its lookups
 * had touched. At 256 KiB (the tops of the b-trees) it peaked at 33 MB and used 10 % less
 * CPU (bench/README.md, stop 24).
 */
#define WORKER_READER_CACHE_KIB 256

void
sluice_pipeline_options_init (SluicePipelineOptions *options)
{
  memset (options, 0, sizeof *options);
  options->jobs = 16;
  options->probes = g_get_num_processors ();
  options->memory_budget = 64 * 1024 * 1024;
  options->probe_timeout_ms = SLUICE_PROBE_DEFAULT_TIMEOUT_MS;
  options->retries = 5;
  options->metadata_headers = TRUE;
  options->multipart_threshold = SLUICE_DEFAULT_MULTIPART_THRESHOLD;
  options->part_size = SLUICE_DEFAULT_PART_SIZE;
  options->pause_timeout_s = 300;
}

void
sluice_pipeline_summary_clear (SluicePipelineSummary *summary)
{
  g_clear_pointer (&summary->capabilities, g_free);
}

void
sluice_pipeline_options_clear (SluicePipelineOptions *options)
{
  g_clear_pointer (&options->source, g_free);
  g_clear_pointer (&options->target, sluice_target_free);
  g_clear_pointer (&options->catalog_path, g_free);
  g_clear_pointer (&options->walker.include, g_strfreev);
  g_clear_pointer (&options->walker.exclude, g_strfreev);
  g_clear_pointer (&options->helper_path, g_free);
  g_clear_pointer (&options->key_template, g_free);
}

static void
options_copy (SluicePipelineOptions       *dst,
              const SluicePipelineOptions *src)
{
  *dst = *src;
  dst->source = g_strdup (src->source);
  dst->target = src->target ? sluice_target_copy (src->target) : NULL;
  dst->catalog_path = src->catalog_path ? g_strdup (src->catalog_path)
                                        : sluice_catalog_default_path ();
  dst->walker.include = g_strdupv (src->walker.include);
  dst->walker.exclude = g_strdupv (src->walker.exclude);
  dst->helper_path = src->helper_path ? g_strdup (src->helper_path)
                                      : sluice_probe_find_helper ();
  dst->key_template = g_strdup (src->key_template);
  dst->jobs = CLAMP (src->jobs, 1, 256);
  dst->probes = CLAMP (src->probes, 1, 64);
  dst->retries = CLAMP (src->retries, 1, 20);
  if (dst->memory_budget < 16 * 1024 * 1024)
    dst->memory_budget = 16 * 1024 * 1024;
  dst->part_size = MAX (dst->part_size, (guint64) SLUICE_S3_MIN_PART_SIZE);
  dst->multipart_threshold = MAX (dst->multipart_threshold, dst->part_size);
  /* a file sent whole is held whole in one buffer: never more than a buffer may hold */
  dst->multipart_threshold = MIN (dst->multipart_threshold, SLUICE_BUFFER_MAX_SINGLE);
  /* a part must fit the budget, or it could never be read */
  dst->memory_budget = MAX (dst->memory_budget, 2 * dst->part_size);
}

SluicePipeline *
sluice_pipeline_new (const SluicePipelineOptions *options,
                     GError                     **error)
{
  g_autoptr(SluicePipeline) self = g_new0 (SluicePipeline, 1);

  g_return_val_if_fail (options != NULL, NULL);

  g_mutex_init (&self->fatal_mutex);
  sluice_work_queue_init (&self->work);
  g_mutex_init (&self->gate_mutex);
  g_mutex_init (&self->window_mutex);
  g_cond_init (&self->window_cond);
  g_cond_init (&self->gate_cond);
  options_copy (&self->options, options);
  self->progress = sluice_progress_new ();

  if (self->options.source == NULL)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("No source folder given"));
      return NULL;
    }
  if (self->options.target == NULL || !sluice_target_validate (self->options.target, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                             _("No target given"));
      return NULL;
    }
  if (self->options.credentials == NULL)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS,
                           _("No credentials provider"));
      return NULL;
    }
  if (self->options.key_template != NULL)
    {
      self->key_template = sluice_key_template_new (self->options.key_template, error);
      if (self->key_template == NULL)
        return NULL;
      if (sluice_key_template_is_default (self->key_template))
        g_clear_pointer (&self->key_template, sluice_key_template_free);
      else
        self->key_needs = sluice_key_template_get_needs (self->key_template);
    }
  return g_steal_pointer (&self);
}

void
sluice_pipeline_free (SluicePipeline *self)
{
  if (self == NULL)
    return;
  sluice_pipeline_options_clear (&self->options);
  g_clear_pointer (&self->progress, sluice_progress_free);
  g_clear_error (&self->fatal);
  g_clear_pointer (&self->key_template, sluice_key_template_free);
  g_free (self->last_summary.capabilities);
  g_mutex_clear (&self->fatal_mutex);
  sluice_work_queue_clear (&self->work);
  g_mutex_clear (&self->gate_mutex);
  g_mutex_clear (&self->window_mutex);
  g_cond_clear (&self->window_cond);
  g_cond_clear (&self->gate_cond);
  g_free (self);
}

SluiceProgress *
sluice_pipeline_get_progress (SluicePipeline *self)
{
  return self->progress;
}

void
sluice_pipeline_set_file_func (SluicePipeline         *self,
                               SluicePipelineFileFunc  failed,
                               SluicePipelineFileFunc  warning,
                               gpointer                user_data)
{
  self->failed_func = failed;
  self->warning_func = warning;
  self->func_data = user_data;
}

/* Stops the whole run for a reason that no file can get past (catalog unwritable). */
void
_sluice_pipeline_set_fatal (SluicePipeline *self,
                            const GError   *error)
{
  g_mutex_lock (&self->fatal_mutex);
  if (self->fatal == NULL)
    self->fatal = g_error_copy (error);
  g_mutex_unlock (&self->fatal_mutex);
  g_cancellable_cancel (self->cancellable);
}

/* ---- catalog operations (run on the writer thread) ------------------------------------------ */

void
_sluice_file_op_free (FileOp *op)
{
  g_free (op->relpath);
  g_free (op->key);
  g_free (op->sha256);
  g_clear_pointer (&op->meta, sluice_metadata_free);
  g_free (op->probe_error);
  g_free (op->etag);
  g_free (op->error_code);
  g_free (op->error_message);
  g_free (op->note);
  g_free (op->upload_id);
  g_clear_pointer (&op->hash_state, g_bytes_unref);
  g_free (op);
}

FileOp *
_sluice_file_op_new (SluicePipeline  *self,
                     SluiceFoundFile *f,
                     const char      *key)
{
  FileOp *op = g_new0 (FileOp, 1);

  op->source_id = self->source_id;
  op->target_id = self->target_id;
  op->run_id = self->run_id;
  op->relpath = f != NULL ? g_strdup (f->relpath) : NULL;
  op->key = g_strdup (key);
  return op;
}

/* What the probe found (or that it failed), and the pipeline's own note, for op->file_id. */
static gboolean
metadata_op (SluiceCatalog *catalog,
             gpointer       data,
             GError       **error)
{
  FileOp *op = data;

  if (!(op->new_file ? sluice_catalog_set_first_metadata : sluice_catalog_set_metadata)
        (catalog, op->file_id, op->run_id, op->meta, op->probe_state, op->probe_error, error))
    return FALSE;
  return op->note == NULL ||
         sluice_catalog_add_warning (catalog, op->file_id, op->run_id, "pipeline", op->note,
                                     error);
}

/*
 * A large file's intent (multipart): the file row, its metadata and the object in state
 * UPLOADING, in one go; the upload's parts need the object's id. Small files have a light
 * intent instead (light_intent_op).
 */
gboolean
_sluice_intent_op (SluiceCatalog *catalog,
           gpointer       data,
           GError       **error)
{
  FileOp *op = data;

  op->file_id = sluice_catalog_upsert_file (catalog, op->source_id, op->relpath, op->size,
                                            op->mtime_ns, op->sha256, op->run_id, error);
  if (op->file_id == 0)
    return FALSE;
  if (!op->keep_metadata && !metadata_op (catalog, op, error))
    return FALSE;
  op->object_id = sluice_catalog_begin_object (catalog, op->file_id, op->target_id, op->key,
                                               op->sha256, op->size, op->run_id, error);
  return op->object_id != 0;
}

/* A small file's intent: one row, committed before the request goes out (schema 5 in
 * sluice-catalog.c says why it is not the file and object rows any more). */
static gboolean
light_intent_op (SluiceCatalog *catalog,
                 gpointer       data,
                 GError       **error)
{
  FileOp *op = data;

  op->intent_id = sluice_catalog_add_intent (catalog, op->source_id, op->target_id, op->relpath,
                                             op->key, op->size, op->mtime_ns, op->sha256,
                                             op->run_id, error);
  return op->intent_id != 0;
}

gboolean
_sluice_finish_op (SluiceCatalog *catalog,
                   gpointer       data,
                   GError       **error)
{
  FileOp *op = data;

  /* a light intent: the file, its metadata and its object are written now, the object in
   * its final state (small files have no upload id), with what was read and sent (an intent
   * made before the read has no hash; one made after it has these same values) */
  if (op->intent_id != 0)
    {
      SluiceCatalogSent sent = { op->sha256, op->size, op->mtime_ns };

      return sluice_catalog_finish_intent (catalog, op->intent_id, &sent, op->state, op->etag,
                                           op->error_code, op->error_message, &op->file_id,
                                           &op->object_id, &op->new_file, error) &&
             metadata_op (catalog, op, error);
    }

  /* a multipart object learns its content hash only now */
  if (op->sha256 != NULL &&
      !sluice_catalog_set_object_sha256 (catalog, op->object_id, op->sha256, error))
    return FALSE;
  if (op->upload_id != NULL && !sluice_catalog_end_upload (catalog, op->object_id, error))
    return FALSE;
  return sluice_catalog_finish_object (catalog, op->object_id, op->state, op->etag,
                                       op->error_code, op->error_message, error);
}

static gboolean
failure_op (SluiceCatalog *catalog,
            gpointer       data,
            GError       **error)
{
  FileOp *op = data;

  /* an intent made before the read: nothing was sent */
  if (op->intent_id != 0 && !sluice_catalog_drop_intent (catalog, op->intent_id, error))
    return FALSE;
  return sluice_catalog_record_failure (catalog, op->source_id, op->target_id, op->relpath,
                                        op->key, op->run_id, op->error_code, op->error_message,
                                        error);
}

static gboolean
probe_failure_op (SluiceCatalog *catalog,
                  gpointer       data,
                  GError       **error)
{
  FileOp *op = data;
  gint64 file_id;

  file_id = sluice_catalog_upsert_file (catalog, op->source_id, op->relpath, op->size,
                                        op->mtime_ns, op->sha256, op->run_id, error);
  if (file_id == 0 ||
      !sluice_catalog_set_metadata (catalog, file_id, op->run_id, NULL, op->probe_state,
                                    op->probe_error, error))
    return FALSE;
  return sluice_catalog_record_failure (catalog, op->source_id, op->target_id, op->relpath,
                                        op->key, op->run_id, op->error_code, op->error_message,
                                        error);
}

static gboolean
touch_op (SluiceCatalog *catalog,
          gpointer       data,
          GError       **error)
{
  FileOp *op = data;

  return sluice_catalog_touch_file (catalog, op->file_id, op->mtime_ns, op->run_id, error);
}

typedef struct {
  SluicePipeline *pipeline;
  char           *config;
  char           *summary;
  const char     *status;
} RunOp;

static gboolean
begin_run_op (SluiceCatalog *catalog,
              gpointer       data,
              GError       **error)
{
  RunOp *op = data;
  SluicePipeline *self = op->pipeline;

  self->source_id = sluice_catalog_ensure_source (catalog, self->source_identity, error);
  if (self->source_id == 0)
    return FALSE;
  self->target_id = sluice_catalog_ensure_target (catalog, self->options.target->endpoint,
                                                  self->options.target->bucket, error);
  if (self->target_id == 0)
    return FALSE;
  /* The first ingest of a folder has nothing to look up: the workers skip the lookup per file.
   * Only when no other process was uploading as this run began (one that starts later sees
   * this run's lock and looks up as usual); a dry run changes nothing either way. */
  self->nothing_recorded = FALSE;
  if (self->options.dry_run || sluice_catalog_uploads_alone (catalog))
    {
      gboolean has = TRUE;

      if (!sluice_catalog_source_has_files (catalog, self->source_id, &has, error))
        return FALSE;
      self->nothing_recorded = !has;
    }
  if (self->options.dry_run)
    return TRUE;
  self->run_id = sluice_catalog_begin_run (catalog, self->source_id, self->target_id,
                                           op->config, error);
  return self->run_id != 0;
}

static gboolean
end_run_op (SluiceCatalog *catalog,
            gpointer       data,
            GError       **error)
{
  RunOp *op = data;

  return sluice_catalog_end_run (catalog, op->pipeline->run_id, op->status, op->summary, error);
}

/* ---- helpers ---------------------------------------------------------------------------------- */

static void
report_failure (SluicePipeline *self,
                const char     *relpath,
                const GError   *error)
{
  if (self->failed_func != NULL)
    self->failed_func (relpath, error, self->func_data);
  /* every file after it would fail the same way: the run stops, and a rerun goes on */
  if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_SERVER_FULL))
    _sluice_pipeline_set_fatal (self, error);
}

static void
report_warning (SluicePipeline *self,
                const char     *relpath,
                const GError   *error)
{
  if (self->warning_func != NULL)
    self->warning_func (relpath, error, self->func_data);
}

/* Records a file that failed, in the catalog and for the caller. */
void
_sluice_pipeline_fail_file (SluicePipeline  *self,
                            SluiceFoundFile *f,
                            const char      *key,
                            gint64           object_id,
                            const GError    *error)
{
  FileOp *op = _sluice_file_op_new (self, f, key);

  op->object_id = object_id;
  op->intent_id = object_id == 0 ? f->intent_id : 0;
  op->state = SLUICE_OBJECT_FAILED;
  op->error_code = g_strdup (sluice_error_code_name (error->code));
  op->error_message = g_strdup (error->message);
  sluice_catalog_writer_run (self->writer, object_id != 0 ? _sluice_finish_op : failure_op, op,
                             (GDestroyNotify) _sluice_file_op_free);
  sluice_progress_add (self->progress, SLUICE_STAGE_FAILED, f->size);
  report_failure (self, f->relpath, error);
}

/* --no-overwrite met an object that is there already: skipped, and said why. */
void
_sluice_pipeline_skip_existing (SluicePipeline  *self,
                                SluiceFoundFile *f,
                                gint64           object_id,
                                guint64          size)
{
  FileOp *op = _sluice_file_op_new (self, f, NULL);

  op->object_id = object_id;
  op->state = SLUICE_OBJECT_SKIPPED;
  op->error_code = g_strdup (sluice_error_code_name (SLUICE_ERROR_PRECONDITION));
  op->error_message = g_strdup (_("already exists (not replaced: --no-overwrite)"));
  sluice_catalog_writer_run (self->writer, _sluice_finish_op, op,
                             (GDestroyNotify) _sluice_file_op_free);
  sluice_progress_add (self->progress, SLUICE_STAGE_SKIPPED, size);
}

/* Sleeps for a backoff with full jitter; FALSE when cancelled meanwhile. */
gboolean
_sluice_pipeline_backoff (SluicePipeline *self,
                          guint           attempt)
{
  guint64 cap = MIN ((guint64) BACKOFF_CAP_MS, (guint64) BACKOFF_BASE_MS << MIN (attempt, 10));
  guint64 ms = g_random_int_range (0, (gint32) cap + 1);
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      if (g_cancellable_is_cancelled (self->cancellable))
        return FALSE;
      g_usleep (MIN (50000, MAX (0, end - g_get_monotonic_time ())));
    }
  return TRUE;
}

static void
add_take (GStrvBuilder *b,
          char         *value)
{
  g_strv_builder_add (b, value);
  g_free (value);
}

/* ---- the gate: pause, resume, an unreachable server ------------------------------------------ */

static void
gate_close_locked (SluicePipeline *self)
{
  if (self->paused_since == 0)
    self->paused_since = g_get_monotonic_time ();
}

static void
gate_open_locked (SluicePipeline *self)
{
  if (!self->user_paused && !self->server_down && self->paused_since != 0)
    {
      self->paused_us += g_get_monotonic_time () - self->paused_since;
      self->paused_since = 0;
    }
  g_cond_broadcast (&self->gate_cond);
}

/* Waits while the run is paused; FALSE when it is cancelled. Called from worker threads. */
gboolean
_sluice_pipeline_gate (SluicePipeline *self)
{
  g_mutex_lock (&self->gate_mutex);
  while ((self->user_paused || self->server_down) &&
         !g_cancellable_is_cancelled (self->cancellable))
    g_cond_wait_until (&self->gate_cond, &self->gate_mutex,
                       g_get_monotonic_time () + 200 * G_TIME_SPAN_MILLISECOND);
  g_mutex_unlock (&self->gate_mutex);
  return !g_cancellable_is_cancelled (self->cancellable);
}

/*
 * Workers: one per request slot (--jobs), and as many again that take only small files. A
 * worker spends much of a small file's time away from the server: reading it, waiting for a
 * probe helper, waiting for its intent's commit. With one worker per slot the slots sat idle
 * meanwhile (3,000 small JPEGs: 16 workers kept the two cores 68 % busy, 32 workers under the
 * same 16 slots 85 %, and the run took 5.8 s instead of 7.6 s at the same CPU). Requests in
 * flight stay at most --jobs (_sluice_pipeline_request_begin ()). Large files are left to the
 * first workers: their reading is short next to their upload, and 32 buffers of camera JPEGs
 * outgrew the memory budget's slabs (600 files of 1-4 MB: 306 memfds made instead of 58, the
 * client's system time up 75 %). (A dry run once kept --jobs workers: each file the walker
 * queued woke every idle worker, and twice as many made a cold 1 M-file dry run 21 % slower.
 * Now a file wakes one worker, and the extra ones cost nothing there: sluice-work-queue.h.)
 */
static guint
workers_for_jobs (guint jobs)
{
  return jobs * 2;
}

/*
 * The worker's read-only catalog connection, opened when first needed. A first ingest of a
 * source looks nothing up (nothing_recorded), and without --dedupe or a large file its
 * workers never read the catalog: opening 2 × --jobs connections at the start (each parses
 * the schema, sets its pragmas and registers functions) was ~1.5 % of the client's CPU on
 * 3,000 small files (issue 5).
 */
SluiceCatalog *
_sluice_worker_reader (Worker  *w,
                       GError **error)
{
  if (w->reader == NULL)
    {
      w->reader = sluice_catalog_open (w->pipeline->options.catalog_path, TRUE, error);
      if (w->reader != NULL)
        sluice_catalog_set_cache_limit (w->reader, WORKER_READER_CACHE_KIB);
    }
  return w->reader;
}

/* When the write this thread has under way began (monotonic; 0: none), for
 * _sluice_pipeline_should_retry (): a write that began before the last resume and times out
 * is still the first stall, not a second. */
static _Thread_local gint64 write_began;

/* Before each write: the gate, then a place under the AIMD limit. */
gboolean
_sluice_pipeline_request_begin (SluicePipeline *self)
{
  if (!_sluice_pipeline_gate (self) ||
      !sluice_concurrency_acquire (self->concurrency, self->cancellable))
    return FALSE;
  write_began = g_get_monotonic_time ();
  return TRUE;
}

void
_sluice_pipeline_request_end (SluicePipeline *self,
                              const GError   *error)
{
  if (error == NULL)
    {
      g_atomic_int_inc (&self->writes_ok);
      write_began = 0;   /* a failed one keeps it for _sluice_pipeline_should_retry () */
    }
  sluice_concurrency_release (self->concurrency,
                              g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_THROTTLED));
}

/* Whether writes timed out before while the bucket answered, the run resumed, and none has
 * been answered since; with @began, also that the write which timed out now began after
 * that resume (one in flight across it is the same stall). */
static gboolean
writes_held_again (SluicePipeline *self,
                   gint64          began)
{
  gboolean held;

  g_mutex_lock (&self->gate_mutex);
  held = self->timeout_resumed && (began == 0 || began >= self->resumed_at) &&
         g_atomic_int_get (&self->writes_ok) == self->writes_at_resume;
  g_mutex_unlock (&self->gate_mutex);
  return held;
}

/* Errors that say the server (or our right to talk to it) is gone, not that this request is
 * wrong: past their retries they pause the run instead of failing file after file. */
static gboolean
is_outage (const GError *error)
{
  return g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_CONNECT) ||
         g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_TIMEOUT) ||
         g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_NETWORK) ||
         g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_DNS) ||
         g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_EXPIRED_TOKEN);
}

static gboolean
sleep_cancellable (SluicePipeline *self,
                   guint           ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      if (g_cancellable_is_cancelled (self->cancellable))
        return FALSE;
      g_usleep (MIN (100000, MAX (0, end - g_get_monotonic_time ())));
    }
  return TRUE;
}

/*
 * The server cannot be reached (or refuses our expired credentials) however often a request
 * is tried: the whole run waits. One worker probes the bucket every 2 s (asking the credential
 * provider again each time), the others wait at the gate; after --pause-timeout the run stops
 * (resumable). Returns TRUE when the server is back and the request should be tried again.
 */
static gboolean
wait_for_server (SluicePipeline *self,
                 const GError   *error,
                 gboolean        held_again)
{
  g_autoptr(GError) last = g_error_copy (error);
  gboolean prober = FALSE, back = FALSE;
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) self->options.pause_timeout_s * G_USEC_PER_SEC;

  g_mutex_lock (&self->gate_mutex);
  if (!self->server_down)
    {
      self->server_down = TRUE;
      gate_close_locked (self);
      prober = TRUE;
    }
  g_mutex_unlock (&self->gate_mutex);

  if (!prober)
    {
      /* someone else probes; when the gate opens, this request is tried again */
      return _sluice_pipeline_gate (self);
    }

  {
    g_autoptr(GError) pausing = NULL;

    if (held_again)
      /* the second pause of held uploads: one look at the server decides */
      pausing = g_error_new_literal (SLUICE_ERROR, error->code,
                                     _("Paused: uploads time out again. Checking whether the "
                                       "server answers…"));
    else
      pausing = g_error_new (SLUICE_ERROR, error->code,
                             _("Paused: %s Trying again every 2 s for up to %u s."),
                             sluice_error_describe (error->code), self->options.pause_timeout_s);
    report_warning (self, NULL, pausing);
  }

  while (g_get_monotonic_time () < deadline && sleep_cancellable (self, 2000))
    {
      g_autoptr(SluiceS3Client) probe = NULL;

      if (g_error_matches (last, SLUICE_ERROR, SLUICE_ERROR_EXPIRED_TOKEN))
        sluice_credentials_provider_refresh (self->options.credentials, NULL);
      probe = sluice_s3_client_new (self->options.target, self->options.credentials);
      sluice_s3_client_set_cancellable (probe, self->cancellable);
      g_clear_error (&last);
      if (sluice_s3_client_check_bucket (probe, &last) ||
          g_error_matches (last, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED))
        {
          back = TRUE;
          break;
        }
      if (!is_outage (last))
        break;
    }

  /* the bucket answers, but writes timed out: once may be a passing overload; twice without
   * a write answered between is a server that holds writes (RGW on a full cluster does) */
  if (back && g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_TIMEOUT))
    {
      if (held_again && writes_held_again (self, 0))
        {
          g_autoptr(GError) fatal = g_error_new_literal (
            SLUICE_ERROR, SLUICE_ERROR_TIMEOUT,
            _("The server answers, but it has taken no upload since it last timed out: its "
              "storage may be full (a full Ceph cluster holds writes instead of refusing "
              "them), or it is overloaded. Run again once it takes uploads."));
          _sluice_pipeline_set_fatal (self, fatal);
          back = FALSE;
        }
      else
        {
          g_mutex_lock (&self->gate_mutex);
          self->timeout_resumed = TRUE;
          self->writes_at_resume = g_atomic_int_get (&self->writes_ok);
          self->resumed_at = g_get_monotonic_time ();
          g_mutex_unlock (&self->gate_mutex);
        }
    }
  else if (!back && !g_cancellable_is_cancelled (self->cancellable))
    {
      g_autoptr(GError) fatal = g_error_new (SLUICE_ERROR, error->code,
                                             _("%s Waited %u s; run again to continue."),
                                             sluice_error_describe (error->code),
                                             self->options.pause_timeout_s);
      _sluice_pipeline_set_fatal (self, fatal);
    }
  if (back)
    {
      g_autoptr(GError) resumed = g_error_new_literal (SLUICE_ERROR, error->code,
                                                       _("The server answers again; resuming."));
      report_warning (self, NULL, resumed);
    }

  g_mutex_lock (&self->gate_mutex);
  self->server_down = FALSE;
  gate_open_locked (self);
  g_mutex_unlock (&self->gate_mutex);
  return back;
}

/*
 * Whether a failed request is worth another try, and waits before it: a backoff with full
 * jitter, or a pause while the server is unreachable (then *@attempt starts again).
 */
gboolean
_sluice_pipeline_should_retry (SluicePipeline *self,
                               const GError   *error,
                               guint          *attempt)
{
  gboolean expired = g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_EXPIRED_TOKEN);
  gint64 began = write_began;
  gboolean held_again;

  /* this thread's write is over: a lookup's time-out later is not a write's */
  write_began = 0;
  if (g_cancellable_is_cancelled (self->cancellable) || !sluice_error_is_retryable (error))
    return FALSE;
  held_again = g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_TIMEOUT) && began != 0 &&
               writes_held_again (self, began);
  /* expired credentials: one more try with what the provider has now, then the whole run
   * waits (every worker retrying on its own would only collect more refusals) */
  /* a write that times out again while the server holds writes: straight to the check */
  if (*attempt < (expired ? MIN (2u, self->options.retries) : self->options.retries) &&
      !held_again)
    {
      g_atomic_int_inc (&self->retries);
      if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_EXPIRED_TOKEN))
        sluice_credentials_provider_refresh (self->options.credentials, NULL);
      g_debug ("retrying after: %s", error->message);
      return _sluice_pipeline_backoff (self, *attempt);
    }
  if (!is_outage (error) || !wait_for_server (self, error, held_again))
    return FALSE;
  *attempt = 0;
  return TRUE;
}

/* ---- pause, resume and cancel from the outside (the app) ------------------------------------ */

/* Called from any thread: requests in flight finish, no new one starts. */
void
sluice_pipeline_pause (SluicePipeline *self)
{
  g_mutex_lock (&self->gate_mutex);
  self->user_paused = TRUE;
  gate_close_locked (self);
  g_mutex_unlock (&self->gate_mutex);
}

void
sluice_pipeline_resume (SluicePipeline *self)
{
  g_mutex_lock (&self->gate_mutex);
  self->user_paused = FALSE;
  gate_open_locked (self);
  g_mutex_unlock (&self->gate_mutex);
}

gboolean
sluice_pipeline_is_paused (SluicePipeline *self)
{
  gboolean paused;

  g_mutex_lock (&self->gate_mutex);
  paused = self->user_paused || self->server_down;
  g_mutex_unlock (&self->gate_mutex);
  return paused;
}

/**
 * sluice_pipeline_cancel:
 * @discard: also abort the multipart uploads in progress (a cancelled job is not coming
 *   back, and AWS bills unfinished uploads); FALSE keeps them for the next run (quit)
 *
 * Called from any thread while a run is going on.
 */
void
sluice_pipeline_cancel (SluicePipeline *self,
                        gboolean        discard)
{
  GCancellable *cancellable;

  g_mutex_lock (&self->gate_mutex);
  self->discard = discard;
  cancellable = self->cancellable != NULL ? g_object_ref (self->cancellable) : NULL;
  g_mutex_unlock (&self->gate_mutex);
  if (cancellable != NULL)
    {
      g_cancellable_cancel (cancellable);
      g_object_unref (cancellable);
    }
}

GStrv
_sluice_pipeline_meta_headers (SluicePipeline       *self,
                               const SluiceMetadata *meta)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  if (meta != NULL && self->options.metadata_headers)
    {
      if (meta->make != NULL)
        add_take (b, g_strconcat ("camera-make=", meta->make, NULL));
      if (meta->model != NULL)
        add_take (b, g_strconcat ("camera-model=", meta->model, NULL));
      if (meta->lens_model != NULL)
        add_take (b, g_strconcat ("lens-model=", meta->lens_model, NULL));
      if (meta->datetime_original != NULL)
        add_take (b, g_strconcat ("datetime-original=", meta->datetime_original, NULL));
      if (!isnan (meta->gps_latitude) && !isnan (meta->gps_longitude))
        {
          char lat[G_ASCII_DTOSTR_BUF_SIZE], lon[G_ASCII_DTOSTR_BUF_SIZE];
          add_take (b, g_strdup_printf ("gps=%s,%s",
                                                   g_ascii_formatd (lat, sizeof lat, "%.6f",
                                                                    meta->gps_latitude),
                                                   g_ascii_formatd (lon, sizeof lon, "%.6f",
                                                                    meta->gps_longitude)));
        }
    }
  return g_strv_builder_end (b);
}

/* PUT with retries for what can pass on a second try; credentials are asked again after
 * ExpiredToken. */
static gboolean
upload (Worker        *w,
        const char    *key,
        const char    *relpath,
        SluiceBuffer  *buf,
        SluiceMetadata *meta,
        char         **out_etag,
        GError       **error)
{
  SluicePipeline *self = w->pipeline;
  g_auto(GStrv) meta_headers = _sluice_pipeline_meta_headers (self, meta);
  SluiceS3PutRequest req = {
    .key = key,
    .content_type = sluice_content_type_for_name (relpath),
    .body = buf->data,
    .len = buf->len,
    .sha256_hex = buf->sha256_hex,
    .meta = meta_headers,
    .if_none_match = self->options.no_overwrite,
  };

  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean ok;

      if (!_sluice_pipeline_request_begin (self))
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");
          return FALSE;
        }
      ok = sluice_s3_client_put_object (w->s3, &req, out_etag, &local_error);
      _sluice_pipeline_request_end (self, local_error);
      if (ok)
        return TRUE;
      if (!_sluice_pipeline_should_retry (self, local_error, &attempt))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
}

/* ---- keys -------------------------------------------------------------------------------------- */

/* The object key of a file: PREFIX/relative path, or what the key template makes of the file's
 * metadata, dates and hash (then only known after the read and the probe). */
char *
_sluice_pipeline_object_key (SluicePipeline       *self,
                             SluiceFoundFile      *f,
                             const SluiceMetadata *meta,
                             gint64                mtime_ns,
                             const char           *sha256,
                             GError              **error)
{
  if (self->key_template == NULL)
    return sluice_target_object_key (self->options.target, f->relpath, error);
  return sluice_key_template_object_key (self->key_template, self->options.target, f->relpath,
                                         meta, mtime_ns, sha256, error);
}

static gboolean
key_known_early (SluicePipeline *self)
{
  return (self->key_needs & (SLUICE_KEY_NEEDS_METADATA | SLUICE_KEY_NEEDS_SHA256)) == 0;
}

/* ---- work queue (sluice-work-queue.c) ------------------------------------------------------- */

/* The walker's sink: blocks while the file queue is full (back-pressure). */
static gboolean
work_push_file (SluiceFoundFile *file,
                gpointer         user_data)
{
  SluicePipeline *self = user_data;

  return sluice_work_queue_push_file (&self->work, file);
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  SluicePipeline *self = user_data;

  sluice_work_queue_abort (&self->work);
  if (self->intent_queue != NULL)
    sluice_queue_abort (self->intent_queue);
  /* the intenter may wait for room in the window */
  g_mutex_lock (&self->window_mutex);
  g_cond_broadcast (&self->window_cond);
  g_mutex_unlock (&self->window_mutex);
}

/*
 * Takes @bytes of the budget; while they do not fit, uploads queued parts (whose buffers hold
 * the budget) instead of only waiting. FALSE when the run is cancelled.
 */
gboolean
_sluice_pipeline_acquire (Worker  *w,
                          guint64  bytes)
{
  SluicePipeline *self = w->pipeline;

  for (;;)
    {
      PartJob *job;

      if (g_cancellable_is_cancelled (self->cancellable))
        return FALSE;
      if (sluice_budget_try_acquire (self->budget, bytes))
        return TRUE;
      job = sluice_work_queue_pop_part_until (&self->work, NULL);
      if (job != NULL)
        _sluice_pipeline_run_part (w, job);
      else
        sluice_budget_wait (self->budget, 50);
    }
}

/* ---- one small file ------------------------------------------------------------------------------ */

static SluiceBuffer *
read_with_retries (Worker          *w,
                   SluiceFoundFile *f,
                   GError         **error)
{
  SluicePipeline *self = w->pipeline;

  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      SluiceBuffer *buf;

      if (!_sluice_pipeline_acquire (w, f->size))
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");
          return NULL;
        }
      /* the budget charge is what was taken, whatever the size is now */
      buf = sluice_buffer_read_file_charged (sluice_walker_get_root_fd (self->walker),
                                             f->relpath, self->budget, f->size,
                                             self->direct_reads &&
                                               f->size < SLUICE_BUFFER_DIRECT_MAX,
                                             self->cancellable, &local_error);
      if (buf != NULL)
        return buf;
      if (!g_error_matches (local_error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_CHANGED) ||
          attempt >= SOURCE_CHANGED_TRIES || !_sluice_pipeline_backoff (self, attempt + 2))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
}

static gboolean
is_cancelled_error (const GError *error)
{
  return g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED);
}

/**
 * _sluice_pipeline_probe:
 *
 * Metadata for @buf, from a helper process given a read-only descriptor of the same bytes.
 * A file whose bytes crashed or stalled a helper before is not given to one again (a poison
 * file would otherwise cost a helper on every run). Returns FALSE when the file must not be
 * uploaded (its probe failed and --skip-probe-failed is set): it has been failed already.
 */
gboolean
_sluice_pipeline_probe (SluicePipeline            *self,
                        SluiceFoundFile           *f,
                        SluiceBuffer              *buf,
                        const SluiceCatalogEntry  *entry,
                        const char                *key,
                        SluiceMetadata           **out_meta,
                        SluiceProbeState          *out_state,
                        char                     **out_probe_error)
{
  g_autoptr(GError) error = NULL;
  SluiceMetadata *meta = NULL;

  *out_meta = NULL;
  if (entry != NULL && entry->probe_state == SLUICE_PROBE_STATE_FAILED &&
      g_strcmp0 (entry->sha256, buf->sha256_hex) == 0)
    {
      *out_state = SLUICE_PROBE_STATE_FAILED;
      *out_probe_error = g_strdup (entry->probe_error ? entry->probe_error
                                                      : _("metadata reader failed"));
      sluice_progress_add (self->progress, SLUICE_STAGE_PROBE_FAILED, buf->len);
      g_set_error (&error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED, "%s", *out_probe_error);
    }
  else
    {
      meta = sluice_probe_pool_probe (self->probes, sluice_buffer_get_readonly_fd (buf),
                                      f->relpath, buf->len, &error);
      if (meta == NULL)
        {
          *out_state = SLUICE_PROBE_STATE_FAILED;
          *out_probe_error = g_strdup (error->message);
          report_warning (self, f->relpath, error);
          sluice_progress_add (self->progress, SLUICE_STAGE_PROBE_FAILED, buf->len);
        }
      else
        {
          *out_state = meta->warnings->len > 0 ? SLUICE_PROBE_STATE_WARNING
                                               : SLUICE_PROBE_STATE_OK;
          sluice_progress_add (self->progress, SLUICE_STAGE_PROBED, buf->len);
          if (meta->warnings->len > 0)
            sluice_progress_add (self->progress, SLUICE_STAGE_WARNINGS, 0);
          *out_meta = meta;
          return TRUE;
        }
    }

  if (self->options.skip_probe_failed)
    {
      /* failed, and remembered as a poison file: the file row keeps its hash and the
       * helper's verdict, so a rerun on the same bytes does not try a helper again */
      FileOp *op = _sluice_file_op_new (self, f, key);

      op->size = buf->len;
      op->mtime_ns = buf->mtime_ns;
      op->sha256 = g_strdup (buf->sha256_hex);
      op->probe_state = SLUICE_PROBE_STATE_FAILED;
      op->probe_error = g_strdup (*out_probe_error);
      op->error_code = g_strdup (sluice_error_code_name (error->code));
      op->error_message = g_strdup (error->message);
      sluice_catalog_writer_run (self->writer, probe_failure_op, op,
                                 (GDestroyNotify) _sluice_file_op_free);
      sluice_progress_add (self->progress, SLUICE_STAGE_FAILED, buf->len);
      report_failure (self, f->relpath, error);
      return FALSE;
    }
  return TRUE;
}

/* The op that completes @intent with @state: it carries what the intent knew (the metadata is
 * moved, not copied), and is batched with other completions. */
static void
complete_intent (SluicePipeline    *self,
                 FileOp            *intent,
                 SluiceObjectState  state,
                 char              *etag,
                 const GError      *error)
{
  FileOp *done = g_new0 (FileOp, 1);

  done->source_id = intent->source_id;
  done->target_id = intent->target_id;
  done->run_id = intent->run_id;
  done->relpath = g_strdup (intent->relpath);
  done->key = g_strdup (intent->key);
  done->size = intent->size;
  done->mtime_ns = intent->mtime_ns;
  done->meta = g_steal_pointer (&intent->meta);
  done->probe_state = intent->probe_state;
  done->probe_error = g_steal_pointer (&intent->probe_error);
  done->note = g_steal_pointer (&intent->note);
  done->intent_id = intent->intent_id;
  done->sha256 = g_strdup (intent->sha256);
  done->state = state;
  done->etag = etag;
  if (error != NULL)
    {
      done->error_code = g_strdup (sluice_error_code_name (error->code));
      done->error_message = g_strdup (error->message);
    }
  sluice_catalog_writer_run (self->writer, _sluice_finish_op, done,
                             (GDestroyNotify) _sluice_file_op_free);
}

/* After the intent: a server-side copy (--dedupe) or the upload, and its completion. */
static void
send_small_file (Worker          *w,
                 SluiceFoundFile *f,
                 const char      *key,
                 SluiceBuffer    *buf,
                 FileOp          *intent)
{
  SluicePipeline *self = w->pipeline;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;

  /* --dedupe: the same bytes are in this bucket already: a server-side copy makes the key */
  if (self->options.dedupe)
    {
      SluiceCatalog *reader = _sluice_worker_reader (w, NULL);
      g_autofree char *twin = reader == NULL ? NULL
                              : sluice_catalog_find_content (reader, self->target_id,
                                                             buf->sha256_hex, key, NULL);
      g_autoptr(GError) copy_error = NULL;

      if (twin != NULL &&
          sluice_s3_client_copy_object (w->s3, twin, key, self->options.no_overwrite, &etag,
                                        &copy_error))
        {
          complete_intent (self, intent, SLUICE_OBJECT_UPLOADED, g_steal_pointer (&etag), NULL);
          sluice_progress_add (self->progress, SLUICE_STAGE_DEDUPLICATED, buf->len);
          return;
        }
      if (copy_error != NULL)
        g_debug ("copy of %s failed, uploading instead: %s", twin, copy_error->message);
    }

  if (upload (w, key, f->relpath, buf, intent->meta, &etag, &error))
    {
      complete_intent (self, intent, SLUICE_OBJECT_UPLOADED, g_steal_pointer (&etag), NULL);
      sluice_progress_add (self->progress, SLUICE_STAGE_UPLOADED, buf->len);
      return;
    }

  /* interrupted (a cancel, or a stop after an outage): the intent stays, the next writer turns
   * it into an UPLOADING object and the next run reconciles that with a HEAD, instead of it
   * being counted as failed */
  if (is_cancelled_error (error) || g_cancellable_is_cancelled (self->cancellable))
    return;
  if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_PRECONDITION))
    {
      g_autoptr(GError) skipped = g_error_new_literal (SLUICE_ERROR, SLUICE_ERROR_PRECONDITION,
                                                       _("already exists (not replaced: "
                                                         "--no-overwrite)"));

      complete_intent (self, intent, SLUICE_OBJECT_SKIPPED, NULL, skipped);
      sluice_progress_add (self->progress, SLUICE_STAGE_SKIPPED, buf->len);
      return;
    }
  complete_intent (self, intent, SLUICE_OBJECT_FAILED, NULL, error);
  sluice_progress_add (self->progress, SLUICE_STAGE_FAILED, f->size);
  report_failure (self, f->relpath, error);
}

/* A small file's intent to send @buf under @key (light_intent_op), before the probe's
 * metadata is added. */
static FileOp *
new_intent (SluicePipeline  *self,
            SluiceFoundFile *f,
            const char      *key,
            SluiceBuffer    *buf)
{
  FileOp *intent = _sluice_file_op_new (self, f, key);

  intent->size = buf->len;
  intent->mtime_ns = buf->mtime_ns;
  intent->sha256 = g_strdup (buf->sha256_hex);
  if (buf->mtime_ns != f->mtime_ns || buf->len != f->size)
    intent->note = g_strdup (_("the file changed between the listing and the read; the newer "
                               "version was uploaded"));
  return intent;
}

static void
process_file (Worker          *w,
              SluiceFoundFile *f)
{
  SluicePipeline *self = w->pipeline;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(FileOp) intent = NULL;
  SluiceCatalogTicket *ticket = NULL;
  g_autofree char *key = NULL;
  SluiceProbeState probe_state = SLUICE_PROBE_STATE_NONE;
  g_autofree char *probe_error = NULL;
  gboolean known, probed, intent_ok = FALSE;

  if (key_known_early (self))
    {
      key = _sluice_pipeline_object_key (self, f, NULL, f->mtime_ns, NULL, &error);
      if (key == NULL)
        {
          if (!self->options.dry_run)
            _sluice_pipeline_fail_file (self, f, NULL, 0, error);
          else
            report_failure (self, f->relpath, error);
          return;
        }
    }

  known = !self->nothing_recorded && _sluice_worker_reader (w, &error) != NULL &&
          sluice_catalog_lookup (w->reader, self->source_id, self->target_id, f->relpath,
                                 &entry, &error);
  if (error != NULL)
    {
      _sluice_pipeline_set_fatal (self, error);
      return;
    }

  /* uploaded before and unchanged by size and mtime: nothing to read, nothing to send (a key
   * made from metadata or content cannot change while those do not); unless the run that sent
   * it died before its metadata was committed */
  if (known && entry.object_id != 0 && entry.state == SLUICE_OBJECT_UPLOADED &&
      entry.probe_state != SLUICE_PROBE_STATE_NONE &&
      entry.size == f->size && entry.mtime_ns == f->mtime_ns &&
      (key == NULL || g_strcmp0 (entry.key, key) == 0))
    {
      sluice_progress_add (self->progress, SLUICE_STAGE_SKIPPED, f->size);
      return;
    }

  if (self->options.dry_run)
    {
      /* "read" counts what a real run would read and send */
      sluice_progress_add (self->progress, SLUICE_STAGE_READ, f->size);
      return;
    }

  if (f->size >= self->options.multipart_threshold)
    {
      _sluice_pipeline_upload_large (w, f, key, known ? &entry : NULL);
      return;
    }

  buf = read_with_retries (w, f, &error);
  if (buf == NULL)
    {
      if (!is_cancelled_error (error) && !g_cancellable_is_cancelled (self->cancellable))
        _sluice_pipeline_fail_file (self, f, key, 0, error);
      return;
    }
  sluice_progress_add (self->progress, SLUICE_STAGE_READ, buf->len);

  /* size or mtime differ but the bytes are what was uploaded: a touch, not a change */
  if (known && entry.object_id != 0 && entry.state == SLUICE_OBJECT_UPLOADED &&
      (key == NULL || g_strcmp0 (entry.key, key) == 0) &&
      g_strcmp0 (entry.object_sha256, buf->sha256_hex) == 0)
    {
      FileOp *touch = _sluice_file_op_new (self, f, key);
      touch->file_id = entry.file_id;
      touch->mtime_ns = buf->mtime_ns;
      sluice_catalog_writer_run (self->writer, touch_op, touch,
                                 (GDestroyNotify) _sluice_file_op_free);
      /* sent by a run that died before the metadata was committed: probe it now */
      if (entry.probe_state == SLUICE_PROBE_STATE_NONE &&
          _sluice_pipeline_probe (self, f, buf, &entry, entry.key, &meta, &probe_state,
                                  &probe_error))
        {
          FileOp *late = _sluice_file_op_new (self, f, key);
          late->file_id = entry.file_id;
          late->meta = g_steal_pointer (&meta);
          late->probe_state = probe_state;
          late->probe_error = g_steal_pointer (&probe_error);
          sluice_catalog_writer_run (self->writer, metadata_op, late,
                                     (GDestroyNotify) _sluice_file_op_free);
        }
      sluice_progress_add (self->progress, SLUICE_STAGE_SKIPPED, buf->len);
      return;
    }

  /* the intent, durable before the request goes out. When the key is known already, it is
   * committed while the file is probed: the worker need not sleep for it afterwards, and
   * intents of workers probing at the same time share a commit (issue 5). Not with
   * --skip-probe-failed, where a failed probe means no upload and so no intent. */
  if (f->intent_id != 0)
    {
      /* committed with the next files' before this one was read (pre_intents_thread ()):
       * the completion says what was sent */
      intent = new_intent (self, f, key, buf);
      intent->intent_id = f->intent_id;
      intent_ok = TRUE;
    }
  else if (key != NULL && !self->options.skip_probe_failed)
    {
      intent = new_intent (self, f, key, buf);
      ticket = sluice_catalog_writer_start_intent (self->writer, light_intent_op, intent);
    }

  probed = _sluice_pipeline_probe (self, f, buf, known ? &entry : NULL, key, &meta, &probe_state,
                                   &probe_error);
  if (ticket != NULL)
    intent_ok = sluice_catalog_ticket_wait (g_steal_pointer (&ticket), &error);
  if (!probed)
    return;   /* an intent was not started (see above) */

  /* a key template that needs the metadata or the hash: now they are known */
  if (key == NULL)
    {
      key = _sluice_pipeline_object_key (self, f, meta, buf->mtime_ns, buf->sha256_hex, &error);
      if (key == NULL)
        {
          _sluice_pipeline_fail_file (self, f, NULL, 0, error);
          return;
        }
    }
  if (intent == NULL)
    {
      intent = new_intent (self, f, key, buf);
      intent_ok = sluice_catalog_writer_run_intent (self->writer, light_intent_op, intent, &error);
    }
  if (!intent_ok)
    {
      if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION))
        _sluice_pipeline_fail_file (self, f, NULL, 0, error);
      else
        _sluice_pipeline_set_fatal (self, error);
      return;
    }
  intent->meta = g_steal_pointer (&meta);
  intent->probe_state = probe_state;
  intent->probe_error = g_steal_pointer (&probe_error);

  /* the metadata goes with the completion, batched */
  send_small_file (w, f, key, buf, intent);
}

/* ---- intents ahead of the read (a first ingest) ------------------------------------------- */

/*
 * An upload intent must be committed before its file's request goes out. Made by each worker
 * after its read, intents got a commit each (one per ~1.5 small files: an intent arrives every
 * ~2 ms and is waited for ~0.2 ms later), and BEGIN, the insert and COMMIT were about a tenth
 * of the client's CPU on small files (issue 5, bench/README.md). On a first ingest of a source
 * (no lookups, so no file can turn out to be unchanged) the intenter thread sits between the
 * walker and the workers instead and commits the intents of up to PRE_INTENT_BATCH small
 * files at once, before they are read: with the listing's size and mtime and no hash, which
 * the completion brings (sluice_catalog_finish_intent ()'s @sent).
 *
 * At most PRE_INTENT_WINDOW such files wait for a worker: after a crash each intent left is a
 * HEAD for the next run (reconcile ()), so the window, not the file queue, bounds that work.
 * A file that fails before its request drops its intent (failure_op); the files a cancelled
 * run never reached are still untaken when the workers are done and drop theirs then
 * (drop_untaken ()); one whose request was cut off keeps it, as always.
 */
#define PRE_INTENT_BATCH   64
#define PRE_INTENT_WINDOW  128
/* the walker may list as far ahead as it does without the intenter (FOUND_QUEUE_CAPACITY) */
#define INTENT_QUEUE_CAPACITY FOUND_QUEUE_CAPACITY

typedef struct {
  SluicePipeline *pipeline;
  GPtrArray      *files;   /* SluiceFoundFile, not owned */
} PreIntents;

static gboolean
pre_intents_op (SluiceCatalog *catalog,
                gpointer       data,
                GError       **error)
{
  PreIntents *p = data;
  SluicePipeline *self = p->pipeline;

  for (guint i = 0; i < p->files->len; i++)
    {
      SluiceFoundFile *f = g_ptr_array_index (p->files, i);
      g_autoptr(GError) local_error = NULL;
      g_autofree char *key = NULL;

      f->intent_id = 0;   /* this op may run twice (run_batch ()) */
      if (f->size >= self->options.multipart_threshold)
        continue;
      key = _sluice_pipeline_object_key (self, f, NULL, f->mtime_ns, NULL, NULL);
      if (key == NULL)
        continue;   /* the worker reports it */
      f->intent_id = sluice_catalog_add_intent (catalog, self->source_id, self->target_id,
                                                f->relpath, key, f->size, f->mtime_ns, NULL,
                                                self->run_id, &local_error);
      /* a key another file has: the worker's own intent says so, as for any file */
      if (f->intent_id == 0 &&
          !g_error_matches (local_error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
intent_push_file (SluiceFoundFile *file,
                  gpointer         user_data)
{
  SluicePipeline *self = user_data;

  return sluice_queue_push (self->intent_queue, file);
}

/* Waits until @n more files fit the window; FALSE when the run is cancelled meanwhile. */
static gboolean
window_wait (SluicePipeline *self,
             guint           n)
{
  gboolean ok;

  g_mutex_lock (&self->window_mutex);
  /* room for the batch, or an empty window (a batch larger than it still goes) */
  self->window_wanted = n < PRE_INTENT_WINDOW ? PRE_INTENT_WINDOW - n : 0;
  while (g_hash_table_size (self->untaken) > self->window_wanted &&
         !g_cancellable_is_cancelled (self->cancellable))
    g_cond_wait (&self->window_cond, &self->window_mutex);   /* on_cancelled () wakes it too */
  self->window_wanted = G_MAXUINT;
  ok = !g_cancellable_is_cancelled (self->cancellable);
  g_mutex_unlock (&self->window_mutex);
  return ok;
}

/* A worker is about to send @f: its intent is no longer the intenter's to account for. The
 * intenter is woken only once there is room for its batch: woken per file, it was up ~64
 * times for every batch it committed, one context switch per file (issue 5). */
static void
window_take (SluicePipeline  *self,
             SluiceFoundFile *f)
{
  g_mutex_lock (&self->window_mutex);
  g_hash_table_remove (self->untaken, GSIZE_TO_POINTER (f->intent_id));
  if (g_hash_table_size (self->untaken) == self->window_wanted)
    g_cond_signal (&self->window_cond);
  g_mutex_unlock (&self->window_mutex);
}

static gboolean
drop_untaken_op (SluiceCatalog *catalog,
                 gpointer       data,
                 GError       **error)
{
  GHashTableIter it;
  gpointer id;

  g_hash_table_iter_init (&it, data);
  while (g_hash_table_iter_next (&it, &id, NULL))
    if (!sluice_catalog_drop_intent (catalog, GPOINTER_TO_SIZE (id), error))
      return FALSE;
  return TRUE;
}

/* After the workers: the intents of files still queued when the run was cancelled. */
static void
drop_untaken (SluicePipeline *self)
{
  g_autoptr(GError) error = NULL;

  if (self->untaken == NULL || g_hash_table_size (self->untaken) == 0)
    return;
  if (!sluice_catalog_writer_run_sync (self->writer, drop_untaken_op, self->untaken, &error))
    g_warning ("catalog: %s", error->message);   /* the next run checks them with a HEAD */
}

static gpointer
pre_intents_thread (gpointer data)
{
  SluicePipeline *self = data;
  g_autoptr(GPtrArray) batch = g_ptr_array_new ();
  SluiceFoundFile *f;

  while ((f = sluice_queue_pop (self->intent_queue)) != NULL)
    {
      g_autoptr(GError) error = NULL;
      PreIntents p = { self, batch };

      g_ptr_array_add (batch, f);
      while (batch->len < PRE_INTENT_BATCH &&
             (f = sluice_queue_pop_until (self->intent_queue, g_get_monotonic_time ())) != NULL)
        g_ptr_array_add (batch, f);

      if (window_wait (self, batch->len))
        {
          /* as an intent: committed at once, without the completions waiting for company */
          if (!sluice_catalog_writer_run_intent (self->writer, pre_intents_op, &p, &error))
            {
              /* rolled back: no file has an intent (the run stops) */
              for (guint j = 0; j < batch->len; j++)
                ((SluiceFoundFile *) g_ptr_array_index (batch, j))->intent_id = 0;
              _sluice_pipeline_set_fatal (self, error);
            }
          /* before the files are queued: a worker may take one at once */
          g_mutex_lock (&self->window_mutex);
          for (guint j = 0; j < batch->len; j++)
            {
              gint64 id = ((SluiceFoundFile *) g_ptr_array_index (batch, j))->intent_id;

              if (id != 0)
                g_hash_table_add (self->untaken, GSIZE_TO_POINTER (id));
            }
          g_mutex_unlock (&self->window_mutex);
        }
      /* a cancelled run's queue refuses them: their intents stay untaken (drop_untaken ()) */
      for (guint i = 0; i < batch->len; i++)
        if (!sluice_work_queue_push_file (&self->work, g_ptr_array_index (batch, i)))
          sluice_found_file_free (g_ptr_array_index (batch, i));
      g_ptr_array_set_size (batch, 0);
    }
  return NULL;
}

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;
  SluicePipeline *self = w->pipeline;
  SluiceFoundFile *f;
  gpointer job;

  while (sluice_work_queue_pop (&self->work, w->small_only, &job, &f))
    {
      PartJob *part = job;

      if (part != NULL)
        _sluice_pipeline_run_part (w, part);
      else
        {
          /* after a cancel, a file's intent stays untaken (drop_untaken ()) */
          if (!g_cancellable_is_cancelled (self->cancellable))
            {
              if (f->intent_id != 0)
                window_take (self, f);
              process_file (w, f);
            }
          sluice_found_file_free (f);
        }
    }
  return NULL;
}

static void
walker_problem (const char   *relpath,
                const GError *error,
                gpointer      user_data)
{
  SluicePipeline *self = user_data;

  g_atomic_int_inc (&self->walk_problems);
  report_failure (self, relpath, error);
}

static gpointer
walker_thread (gpointer data)
{
  SluicePipeline *self = data;
  g_autoptr(GError) error = NULL;

  GThread *intenter = NULL;

  if (self->pre_intents)
    intenter = g_thread_new ("sluice-intents", pre_intents_thread, self);
  sluice_walker_set_sink (self->walker, self->pre_intents ? intent_push_file : work_push_file,
                          self);
  sluice_walker_run (self->walker, NULL, walker_problem, self, self->cancellable, &error);
  sluice_progress_set_walk_done (self->progress);
  if (intenter != NULL)
    {
      sluice_queue_close (self->intent_queue);
      g_thread_join (intenter);
    }
  /* the workers drain what is queued, then stop */
  sluice_work_queue_close_files (&self->work);
  return NULL;
}

/* ---- reconciliation after a crash --------------------------------------------------------------- */

typedef struct {
  gint64 object_id;
  char  *etag;
  char  *sha256;   /* a multipart object's, learnt from its upload */
  SluiceObjectState state;
} ReconcileOp;

static gboolean
reconcile_op (SluiceCatalog *catalog,
              gpointer       data,
              GError       **error)
{
  GPtrArray *items = data;

  for (guint i = 0; i < items->len; i++)
    {
      ReconcileOp *r = g_ptr_array_index (items, i);
      if (r->sha256 != NULL &&
          (!sluice_catalog_set_object_sha256 (catalog, r->object_id, r->sha256, error) ||
           !sluice_catalog_end_upload (catalog, r->object_id, error)))
        return FALSE;
      if (!sluice_catalog_finish_object (catalog, r->object_id, r->state, r->etag, NULL, NULL,
                                         error))
        return FALSE;
    }
  return TRUE;
}

static void
reconcile_op_free (ReconcileOp *r)
{
  g_free (r->etag);
  g_free (r->sha256);
  g_free (r);
}

/*
 * Objects a crashed run left UPLOADING: the PUT may or may not have reached the server. A
 * HEAD tells: the object is there with our x-amz-meta-sha256 → uploaded, nothing is resent;
 * otherwise → pending, and the file is sent again when the walk reaches it.
 */
static gboolean
reconcile (SluicePipeline *self,
           SluiceS3Client *s3,
           guint64        *out_reconciled,
           GError        **error)
{
  g_autoptr(SluiceCatalog) reader = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) reconcile_op_free);

  reader = sluice_catalog_open (self->options.catalog_path, TRUE, error);
  if (reader == NULL)
    return FALSE;
  pending = sluice_catalog_list_uploading (reader, self->target_id, error);
  if (pending == NULL)
    return FALSE;

  for (guint i = 0; i < pending->len; i++)
    {
      SluiceCatalogPending *p = g_ptr_array_index (pending, i);
      g_auto(SluiceS3ObjectInfo) info = { 0 };
      ReconcileOp *r;
      SluiceObjectState state;
      g_autofree char *etag = NULL;
      g_autofree char *sha256 = NULL;

      /* a multipart upload: its parts and the server's ETag tell */
      if (!_sluice_pipeline_reconcile_upload (self, s3, reader, p, &state, &etag, &sha256,
                                              error))
        return FALSE;
      if (state != SLUICE_OBJECT_PENDING || etag != NULL)
        {
          if (state == SLUICE_OBJECT_UPLOADED)
            {
              r = g_new0 (ReconcileOp, 1);
              r->object_id = p->object_id;
              r->state = state;
              r->etag = g_steal_pointer (&etag);
              r->sha256 = g_steal_pointer (&sha256);
              g_ptr_array_add (ops, r);
              (*out_reconciled)++;
            }
          continue;
        }

      if (!sluice_s3_client_head_object (s3, p->key, &info, error))
        return FALSE;
      r = g_new0 (ReconcileOp, 1);
      r->object_id = p->object_id;
      if (info.exists && info.sha256 != NULL && g_strcmp0 (info.sha256, p->sha256) == 0)
        {
          r->state = SLUICE_OBJECT_UPLOADED;
          r->etag = g_steal_pointer (&info.etag);
          (*out_reconciled)++;
        }
      else if (info.exists && info.sha256 != NULL && p->sha256 == NULL)
        {
          /* an intent made before the read (pre_intents_thread ()): the server has bytes we
           * sent, but whether they are the file's is known only from the file. Recorded with
           * the server's hash and the file not yet probed, the walk reads it again: the same
           * hash is "touched, not changed" (nothing sent), another is uploaded. */
          r->state = SLUICE_OBJECT_UPLOADED;
          r->etag = g_steal_pointer (&info.etag);
          r->sha256 = g_steal_pointer (&info.sha256);
          (*out_reconciled)++;
        }
      else
        r->state = SLUICE_OBJECT_PENDING;
      g_ptr_array_add (ops, r);
    }
  if (ops->len == 0)
    return TRUE;
  return sluice_catalog_writer_run_sync (self->writer, reconcile_op, ops, error);
}

/* ---- what the server can do ------------------------------------------------------------------- */

typedef struct {
  gint64  target_id;
  char   *report;
} CapabilitiesOp;

static gboolean
capabilities_op (SluiceCatalog *catalog,
                 gpointer       data,
                 GError       **error)
{
  CapabilitiesOp *op = data;

  return sluice_catalog_set_capabilities (catalog, op->target_id, op->report, error);
}

/*
 * Probes the endpoint once per target (again when object options are set: a server that
 * rejects them must say so before the run, not once per file), and refuses what it cannot
 * honour.
 */
static gboolean
check_capabilities (SluicePipeline        *self,
                    SluicePipelineSummary *summary,
                    GError               **error)
{
  g_autoptr(SluiceCatalog) reader = sluice_catalog_open (self->options.catalog_path, TRUE, error);
  g_autoptr(SluiceCapabilities) caps = NULL;
  g_autofree char *cached = NULL;

  if (reader == NULL)
    return FALSE;
  cached = sluice_catalog_get_capabilities (reader, self->target_id, NULL);
  if (cached != NULL && !sluice_target_has_object_options (self->options.target))
    caps = sluice_capabilities_from_json (cached);
  if (caps == NULL)
    {
      CapabilitiesOp op = { self->target_id, NULL };

      caps = sluice_capabilities_probe (self->options.target, self->options.credentials, error);
      if (caps == NULL)
        return FALSE;
      op.report = sluice_capabilities_to_json (caps);
      if (!sluice_catalog_writer_run_sync (self->writer, capabilities_op, &op, error))
        {
          g_free (op.report);
          return FALSE;
        }
      g_free (op.report);
    }
  summary->capabilities = sluice_capabilities_to_json (caps);

  if (self->options.no_overwrite && caps->if_none_match_put == SLUICE_CAP_NO)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("This server ignores If-None-Match, so --no-overwrite cannot "
                             "promise that no object is replaced. Leave it out, or use a "
                             "server that honours conditional writes."));
      return FALSE;
    }
  if (caps->verifies_payload_hash == SLUICE_CAP_NO)
    {
      g_autoptr(GError) warning = g_error_new_literal (SLUICE_ERROR, SLUICE_ERROR_PROTOCOL,
        _("This server does not verify the payload hash it is sent: a body damaged on the way "
          "would not be refused. Sluice still checks the ETags it gets back."));
      report_warning (self, NULL, warning);
    }
  return TRUE;
}

/* ---- the run ------------------------------------------------------------------------------------ */

static char *
config_json (SluicePipeline *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  const SluicePipelineOptions *o = &self->options;

  /* the whole configuration of the run, and never a credential */
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, PACKAGE_VERSION);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, self->source_identity);
  json_builder_set_member_name (b, "endpoint");
  json_builder_add_string_value (b, o->target->endpoint);
  json_builder_set_member_name (b, "region");
  json_builder_add_string_value (b, o->target->region);
  json_builder_set_member_name (b, "bucket");
  json_builder_add_string_value (b, o->target->bucket);
  json_builder_set_member_name (b, "prefix");
  json_builder_add_string_value (b, o->target->prefix);
  json_builder_set_member_name (b, "path_style");
  json_builder_add_boolean_value (b, o->target->path_style);
  json_builder_set_member_name (b, "jobs");
  json_builder_add_int_value (b, o->jobs);
  json_builder_set_member_name (b, "probes");
  json_builder_add_int_value (b, o->probes);
  json_builder_set_member_name (b, "memory_budget");
  json_builder_add_int_value (b, o->memory_budget);
  json_builder_set_member_name (b, "all_files");
  json_builder_add_boolean_value (b, o->walker.all_files);
  json_builder_set_member_name (b, "include");
  json_builder_begin_array (b);
  for (guint i = 0; o->walker.include && o->walker.include[i]; i++)
    json_builder_add_string_value (b, o->walker.include[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "exclude");
  json_builder_begin_array (b);
  for (guint i = 0; o->walker.exclude && o->walker.exclude[i]; i++)
    json_builder_add_string_value (b, o->walker.exclude[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "metadata_headers");
  json_builder_add_boolean_value (b, o->metadata_headers);
  json_builder_set_member_name (b, "multipart_threshold");
  json_builder_add_int_value (b, o->multipart_threshold);
  json_builder_set_member_name (b, "part_size");
  json_builder_add_int_value (b, o->part_size);
  json_builder_set_member_name (b, "no_overwrite");
  json_builder_add_boolean_value (b, o->no_overwrite);
  json_builder_set_member_name (b, "retries");
  json_builder_add_int_value (b, o->retries);
  json_builder_set_member_name (b, "bwlimit");
  json_builder_add_int_value (b, o->bwlimit);
  json_builder_set_member_name (b, "pause_timeout");
  json_builder_add_int_value (b, o->pause_timeout_s);
  json_builder_set_member_name (b, "dedupe");
  json_builder_add_boolean_value (b, o->dedupe);
  json_builder_set_member_name (b, "key_template");
  json_builder_add_string_value (b, o->key_template ? o->key_template : "{path}");
  json_builder_set_member_name (b, "storage_class");
  json_builder_add_string_value (b, o->target->storage_class);
  json_builder_set_member_name (b, "sse");
  json_builder_add_string_value (b, o->target->sse);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static char *
summary_json (const SluicePipelineSummary *s)
{
  GString *out = g_string_new ("{");

  for (int i = 0; i < SLUICE_N_STAGES; i++)
    g_string_append_printf (out, "%s\"%s\":{\"files\":%" G_GINT64_FORMAT ",\"bytes\":%"
                            G_GINT64_FORMAT "}", i ? "," : "", sluice_stage_name (i),
                            s->counts.files[i], s->counts.bytes[i]);
  g_string_append_printf (out, ",\"seconds\":%.3f}", s->seconds);
  return g_string_free (out, FALSE);
}

static void
teardown (SluicePipeline *self)
{
  g_clear_pointer (&self->walker, sluice_walker_free);
  sluice_work_queue_reset (&self->work, 0);
  g_clear_pointer (&self->intent_queue, sluice_queue_free);
  g_clear_pointer (&self->untaken, g_hash_table_unref);
  self->pre_intents = FALSE;
  g_clear_pointer (&self->probes, sluice_probe_pool_free);
  g_clear_pointer (&self->writer, sluice_catalog_writer_free);
  g_clear_pointer (&self->budget, sluice_budget_free);
  g_clear_pointer (&self->source_path, g_free);
  g_clear_pointer (&self->source_identity, g_free);
  g_clear_pointer (&self->concurrency, sluice_concurrency_free);
  g_clear_pointer (&self->rate, sluice_rate_limit_free);
  g_mutex_lock (&self->gate_mutex);
  g_clear_object (&self->cancellable);
  g_mutex_unlock (&self->gate_mutex);
}

/**
 * sluice_pipeline_run:
 *
 * Runs the whole ingest and returns when it is finished, failed or cancelled. Blocks: call
 * it from a thread of its own (sluice_pipeline_run_async() does that), never the main thread.
 *
 * Returns FALSE with @error only when the run could not be done at all (bad configuration,
 * unreachable endpoint, wrong credentials, catalog unusable, cancelled); files that failed
 * are counted in the summary and reported through the file callback.
 */
gboolean
sluice_pipeline_run (SluicePipeline        *self,
                     GCancellable          *cancellable,
                     SluicePipelineSummary *out_summary,
                     GError               **error)
{
  g_autoptr(SluiceCatalog) catalog = NULL;
  g_autoptr(SluiceS3Client) s3 = NULL;
  g_autoptr(GPtrArray) workers = g_ptr_array_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *remote_fs = NULL;
  g_autofree char *real_source = NULL;
  SluicePipelineSummary summary = { 0 };
  GThread *walker = NULL;
  gulong cancel_handler = 0;
  RunOp run_op = { 0 };
  gint64 start = g_get_monotonic_time ();
  gboolean ok = FALSE;

  g_mutex_lock (&self->gate_mutex);
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  self->paused_us = 0;
  self->paused_since = self->user_paused ? g_get_monotonic_time () : 0;
  self->server_down = FALSE;
  g_mutex_unlock (&self->gate_mutex);
  g_atomic_int_set (&self->walk_problems, 0);
  g_atomic_int_set (&self->retries, 0);
  self->concurrency = sluice_concurrency_new (self->options.jobs);
  if (self->options.bwlimit > 0)
    self->rate = sluice_rate_limit_new (self->options.bwlimit);

  real_source = realpath (self->options.source, NULL);
  if (real_source == NULL)
    {
      int saved = errno;
      g_set_error (&local_error, SLUICE_ERROR,
                   saved == ENOENT ? SLUICE_ERROR_INVALID_ARGUMENT
                                   : SLUICE_ERROR_SOURCE_UNREADABLE,
                   _("Cannot open the source folder %s: %s"), self->options.source,
                   g_strerror (saved));
      goto out;
    }
  self->source_path = g_strdup (real_source);
  /* inside a Flatpak, a folder from the document portal is recorded by its host path */
  self->source_identity = sluice_portal_source_identity (real_source);
  self->walker = sluice_walker_new (self->source_path, &self->options.walker, &local_error);
  if (self->walker == NULL)
    goto out;
  sluice_walker_set_progress (self->walker, self->progress);
  self->direct_reads = sluice_buffer_direct_suits (sluice_walker_get_root_fd (self->walker));

  if (sluice_catalog_path_is_remote (self->options.catalog_path, &remote_fs))
    {
      g_autoptr(GError) warning = g_error_new (SLUICE_ERROR, SLUICE_ERROR_CATALOG,
                                               _("The catalog %s is on a network file system "
                                                 "(%s): SQLite's locking is not reliable there; "
                                                 "keep it on a local disk"),
                                               self->options.catalog_path, remote_fs);
      report_warning (self, NULL, warning);
    }
  catalog = sluice_catalog_open (self->options.catalog_path, FALSE, &local_error);
  if (catalog == NULL)
    goto out;
  /* the intents of runs that died become UPLOADING objects, which reconcile () checks */
  if (!self->options.dry_run && !sluice_catalog_begin_uploads (catalog, &local_error))
    goto out;
  self->writer = sluice_catalog_writer_new (g_steal_pointer (&catalog));

  /* one request proves endpoint, credentials and bucket before any file is touched */
  s3 = sluice_s3_client_new (self->options.target, self->options.credentials);
  sluice_s3_client_set_cancellable (s3, self->cancellable);
  if (!self->options.dry_run && !sluice_s3_client_check_bucket (s3, &local_error))
    {
      /* credentials that may only upload cannot list: go on, the PUTs will tell */
      if (!g_error_matches (local_error, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED))
        goto out;
      report_warning (self, NULL, local_error);
      g_clear_error (&local_error);
    }

  run_op.pipeline = self;
  run_op.config = config_json (self);
  if (!sluice_catalog_writer_run_sync (self->writer, begin_run_op, &run_op, &local_error))
    goto out;

  if (!self->options.dry_run)
    {
      if (!check_capabilities (self, &summary, &local_error))
        goto out;
      if (!reconcile (self, s3, &summary.reconciled, &local_error))
        goto out;
      self->probes = sluice_probe_pool_new (self->options.helper_path, self->options.probes,
                                            self->options.probe_timeout_ms, &local_error);
      if (self->probes == NULL)
        goto out;
    }

  self->budget = sluice_budget_new (self->options.memory_budget);
  sluice_work_queue_reset (&self->work, FOUND_QUEUE_CAPACITY);
  /* a first ingest: intents ahead of the read, in batches (pre_intents_thread ()) */
  self->pre_intents = self->nothing_recorded && key_known_early (self) &&
                      !self->options.dry_run && !self->options.skip_probe_failed;
  if (self->pre_intents)
    {
      self->intent_queue = sluice_queue_new (INTENT_QUEUE_CAPACITY,
                                             (GDestroyNotify) sluice_found_file_free);
      self->untaken = g_hash_table_new (NULL, NULL);
      self->window_wanted = G_MAXUINT;
    }
  cancel_handler = g_cancellable_connect (self->cancellable, G_CALLBACK (on_cancelled), self,
                                          NULL);
  walker = g_thread_new ("sluice-walker", walker_thread, self);

  for (guint i = 0; i < workers_for_jobs (self->options.jobs); i++)
    {
      Worker *w = g_new0 (Worker, 1);

      w->pipeline = self;
      w->small_only = i >= self->options.jobs;
      w->s3 = sluice_s3_client_new (self->options.target, self->options.credentials);
      sluice_s3_client_set_cancellable (w->s3, self->cancellable);
      sluice_s3_client_set_rate_limit (w->s3, self->rate);
      w->thread = g_thread_new ("sluice-worker", worker_thread, w);
      g_ptr_array_add (workers, w);
    }

  g_thread_join (walker);
  for (guint i = 0; i < workers->len; i++)
    {
      Worker *w = g_ptr_array_index (workers, i);
      g_thread_join (w->thread);
      sluice_s3_client_free (w->s3);
      sluice_catalog_close (w->reader);
      g_free (w);
    }
  drop_untaken (self);

  summary.cancelled = g_cancellable_is_cancelled (self->cancellable);
  summary.peak_buffer_bytes = sluice_budget_peak (self->budget);
  if (self->probes != NULL)
    summary.probe_restarts = sluice_probe_pool_restarts (self->probes);
  sluice_progress_snapshot (self->progress, &summary.counts);
  summary.seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  summary.run_id = self->run_id;
  summary.walk_problems = g_atomic_int_get (&self->walk_problems);
  summary.retries = g_atomic_int_get (&self->retries);
  summary.throttled = sluice_concurrency_throttled (self->concurrency);
  summary.concurrency_min = sluice_concurrency_min_limit (self->concurrency);
  g_mutex_lock (&self->gate_mutex);
  summary.paused_seconds = (self->paused_us + (self->paused_since != 0
                                               ? g_get_monotonic_time () - self->paused_since
                                               : 0)) / (double) G_USEC_PER_SEC;
  g_mutex_unlock (&self->gate_mutex);

  if (self->run_id != 0)
    {
      g_autoptr(GError) end_error = NULL;

      run_op.summary = summary_json (&summary);
      run_op.status = self->fatal != NULL ? "failed"
                      : summary.cancelled ? "interrupted"
                      : summary.counts.files[SLUICE_STAGE_FAILED] > 0 ? "done-with-failures"
                      : "done";
      sluice_catalog_writer_run_sync (self->writer, end_run_op, &run_op, &end_error);
    }
  if (!sluice_catalog_writer_flush (self->writer, &local_error))
    goto out;

  if (self->fatal != NULL)
    {
      local_error = g_error_copy (self->fatal);
      goto out;
    }
  if (summary.cancelled)
    {
      g_set_error_literal (&local_error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED,
                           _("Interrupted; run the same command again to continue"));
      goto out;
    }
  ok = TRUE;

out:
  if (walker != NULL && workers->len == 0)
    {
      sluice_work_queue_abort (&self->work);
      if (self->intent_queue != NULL)
        sluice_queue_abort (self->intent_queue);
      g_thread_join (walker);
    }
  g_free (run_op.config);
  g_free (run_op.summary);
  if (out_summary != NULL)
    {
      if (summary.seconds == 0)
        {
          sluice_progress_snapshot (self->progress, &summary.counts);
          summary.seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
        }
      *out_summary = summary;
    }
  g_free (self->last_summary.capabilities);
  self->last_summary = summary;
  if (out_summary != NULL)
    out_summary->capabilities = g_strdup (summary.capabilities);
  if (cancel_handler != 0)
    g_cancellable_disconnect (self->cancellable, cancel_handler);
  teardown (self);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return ok;
}

/* ---- async face for the app ------------------------------------------------------------------- */

static void
run_in_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  SluicePipeline *self = task_data;
  GError *error = NULL;

  if (sluice_pipeline_run (self, cancellable, NULL, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * sluice_pipeline_run_async:
 *
 * Runs the ingest on a worker thread; @callback is called in the thread-default main context
 * of the caller. @self must stay alive until then.
 */
void
sluice_pipeline_run_async (SluicePipeline      *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, sluice_pipeline_run_async);
  g_task_set_task_data (task, self, NULL);
  g_task_set_return_on_cancel (task, FALSE);
  /* the run's own error says what a cancel left behind; GTask must not replace it with
   * G_IO_ERROR_CANCELLED */
  g_task_set_check_cancellable (task, FALSE);
  g_task_run_in_thread (task, run_in_thread);
}

gboolean
sluice_pipeline_run_finish (SluicePipeline         *self,
                            GAsyncResult           *result,
                            SluicePipelineSummary  *out_summary,
                            GError                **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  /* the summary is there whether the run succeeded or not (what was done before a failure) */
  if (out_summary != NULL)
    {
      *out_summary = self->last_summary;
      out_summary->capabilities = g_strdup (self->last_summary.capabilities);
    }
  return g_task_propagate_boolean (G_TASK (result), error);
}
