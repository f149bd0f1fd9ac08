/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>

#include "sluice-run.h"

/* The widgets are updated from this timer, never from the engine's threads. */
#define TICK_MS 100
/* Throughput and time left over the last seconds. */
#define RATE_WINDOW_US (5 * G_USEC_PER_SEC)
/* Failed files kept for the list (the count goes on past it). */
#define MAX_FAILED_KEPT 5000
/* Failed files waiting for the main thread; more are counted, not queued. */
#define MAX_FAILED_PENDING 1000
/* Timer lateness histogram: 1 ms buckets up to 10 s. */
#define LATENESS_BUCKETS 10000

struct _SluiceRun
{
  GObject                    parent_instance;

  GFile                     *source;
  SluiceSavedTarget         *target;
  SluicePipeline            *pipeline;
  SluiceCredentialsProvider *credentials;
  GMainContext              *main_context;

  SluiceRunState             state;
  gint64                     run_id;        /* the catalog's run, once finished */
  SluiceRunPauseReason       pause_reason;
  GNetworkMonitor           *monitor;
  gboolean                   local_endpoint;

  guint                      timer_id;
  gint64                     started_us;
  gint64                     last_tick_us;
  SluiceRunProgress          progress;
  SluiceProgressMeter       *meter;

  guint32                   *lateness;     /* LATENESS_BUCKETS + 1 */
  guint                      lateness_ticks;
  gint64                     lateness_worst_us;
  gint64                     lateness_worst_at_us;  /* since the start, for diagnosis */

  /* Filled by worker threads under failed_mutex; drained on the main thread. */
  GMutex                     failed_mutex;
  GPtrArray                 *failed_pending;
  guint64                    failed_overflow;
  gboolean                   flush_scheduled;

  /* Main thread only. */
  GPtrArray                 *failed;
  guint64                    n_failed;

  GError                    *error;
};

G_DEFINE_FINAL_TYPE (SluiceRun, sluice_run, G_TYPE_OBJECT)

enum {
  SIGNAL_PROGRESS,
  SIGNAL_FILES_FAILED,
  SIGNAL_FINISHED,
  N_SIGNALS
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_PAUSE_REASON,
  N_PROPS
};

static guint signals[N_SIGNALS];
static GParamSpec *properties[N_PROPS];

void
sluice_failed_file_free (SluiceFailedFile *file)
{
  if (file == NULL)
    return;
  g_free (file->relpath);
  g_free (file->reason);
  g_free (file->details);
  g_free (file);
}

static void
sluice_run_dispose (GObject *object)
{
  SluiceRun *self = SLUICE_RUN (object);

  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);

  G_OBJECT_CLASS (sluice_run_parent_class)->dispose (object);
}

static void
sluice_run_finalize (GObject *object)
{
  SluiceRun *self = SLUICE_RUN (object);

  g_clear_pointer (&self->pipeline, sluice_pipeline_free);
  g_clear_pointer (&self->credentials, sluice_credentials_provider_free);
  g_clear_pointer (&self->target, sluice_saved_target_free);
  g_clear_object (&self->source);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_clear_pointer (&self->failed_pending, g_ptr_array_unref);
  g_clear_pointer (&self->failed, g_ptr_array_unref);
  g_clear_pointer (&self->lateness, g_free);
  g_clear_pointer (&self->meter, sluice_progress_meter_free);
  g_clear_error (&self->error);
  g_mutex_clear (&self->failed_mutex);

  G_OBJECT_CLASS (sluice_run_parent_class)->finalize (object);
}

static void
sluice_run_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  SluiceRun *self = SLUICE_RUN (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_uint (value, self->state);
      break;
    case PROP_PAUSE_REASON:
      g_value_set_uint (value, self->pause_reason);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sluice_run_class_init (SluiceRunClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sluice_run_dispose;
  object_class->finalize = sluice_run_finalize;
  object_class->get_property = sluice_run_get_property;

  properties[PROP_STATE] =
    g_param_spec_uint ("state", NULL, NULL,
                       0, SLUICE_RUN_STATE_FAILED, SLUICE_RUN_STATE_NEW,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PAUSE_REASON] =
    g_param_spec_uint ("pause-reason", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Emitted from the timer when the counters changed (at most 10 times a second). */
  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* A batch of SluiceFailedFile (transfer none), in the order they failed. */
  signals[SIGNAL_FILES_FAILED] =
    g_signal_new ("files-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
sluice_run_init (SluiceRun *self)
{
  g_mutex_init (&self->failed_mutex);
  self->failed_pending = g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_failed_file_free);
  self->failed = g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_failed_file_free);
  self->lateness = g_new0 (guint32, LATENESS_BUCKETS + 1);
  self->progress.eta_seconds = -1;
  self->meter = sluice_progress_meter_new (RATE_WINDOW_US);
}

static void
set_state (SluiceRun      *self,
           SluiceRunState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_pause_reason (SluiceRun            *self,
                  SluiceRunPauseReason  reason)
{
  if (self->pause_reason == reason)
    return;
  self->pause_reason = reason;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSE_REASON]);
}

/* ---- failed files: worker threads → main thread ------------------------------------------- */

static SluiceFailedFile *
failed_file_new (const char   *relpath,
                 const GError *error)
{
  SluiceFailedFile *file = g_new0 (SluiceFailedFile, 1);
  g_autofree char *display = g_filename_display_name (relpath != NULL ? relpath : "");

  file->relpath = sluice_sanitize_text (display, -1, 4096);
  if (file->relpath == NULL)
    file->relpath = g_strdup ("?");
  file->code = error != NULL && error->domain == SLUICE_ERROR ? error->code : -1;
  file->reason = g_strdup (sluice_error_describe (file->code >= 0 ? (SluiceError) file->code
                                                                  : SLUICE_ERROR_FAILED));
  file->details = sluice_sanitize_text (error != NULL ? error->message : NULL, -1, 4096);
  return file;
}

/* Main thread: takes what the workers queued and hands it to the view in one batch. */
static void
drain_failed (SluiceRun *self)
{
  g_autoptr(GPtrArray) batch = NULL;
  guint64 overflow;

  g_assert (g_main_context_is_owner (self->main_context));

  g_mutex_lock (&self->failed_mutex);
  batch = g_steal_pointer (&self->failed_pending);
  self->failed_pending = g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_failed_file_free);
  overflow = self->failed_overflow;
  self->failed_overflow = 0;
  self->flush_scheduled = FALSE;
  g_mutex_unlock (&self->failed_mutex);

  self->n_failed += batch->len + overflow;
  if (batch->len == 0)
    return;

  g_signal_emit (self, signals[SIGNAL_FILES_FAILED], 0, batch);
  for (guint i = 0; i < batch->len && self->failed->len < MAX_FAILED_KEPT; i++)
    g_ptr_array_add (self->failed, g_steal_pointer (&batch->pdata[i]));
}

static gboolean
flush_failed_cb (gpointer user_data)
{
  drain_failed (SLUICE_RUN (user_data));
  return G_SOURCE_REMOVE;
}

/* Called from the engine's worker and lister threads. Queues the file (bounded) and, if no
 * flush is on its way yet, asks the main context for one: one wake-up per batch, not per
 * file, and never g_idle_add() on whatever context happens to be the default. */
static void
file_failed_cb (const char   *relpath,
                const GError *error,
                gpointer      user_data)
{
  SluiceRun *self = user_data;
  gboolean schedule = FALSE;

  g_mutex_lock (&self->failed_mutex);
  if (self->failed_pending->len < MAX_FAILED_PENDING)
    g_ptr_array_add (self->failed_pending, failed_file_new (relpath, error));
  else
    self->failed_overflow++;
  if (!self->flush_scheduled)
    {
      self->flush_scheduled = TRUE;
      schedule = TRUE;
    }
  g_mutex_unlock (&self->failed_mutex);

  /* The run holds itself alive until the pipeline returns, and the invocation holds its own
   * reference, so self outlives the flush. */
  if (schedule)
    g_main_context_invoke_full (self->main_context, G_PRIORITY_DEFAULT, flush_failed_cb,
                                g_object_ref (self), g_object_unref);
}

/* ---- the timer ---------------------------------------------------------------------------- */

static void
record_lateness (SluiceRun *self,
                 gint64     now)
{
  gint64 late;

  if (self->last_tick_us != 0)
    {
      late = MAX (0, now - self->last_tick_us - TICK_MS * 1000);
      self->lateness[MIN (late / 1000, LATENESS_BUCKETS)]++;
      self->lateness_ticks++;
      if (late > self->lateness_worst_us)
        {
          self->lateness_worst_us = late;
          self->lateness_worst_at_us = now - self->started_us;
        }
    }
  self->last_tick_us = now;
}

static void
update_rates (SluiceRun *self,
              gint64     now)
{
  SluiceRunProgress *p = &self->progress;
  SluiceProgressRates rates;

  /* a paused run sends nothing: start the window afresh afterwards */
  if (self->pause_reason != SLUICE_RUN_PAUSED_NONE)
    {
      sluice_progress_meter_reset (self->meter);
      p->upload_rate = 0;
      p->eta_seconds = -1;
      return;
    }
  if (!sluice_progress_meter_update (self->meter, now, &p->counts, p->walk_done, &rates))
    return;
  p->upload_rate = rates.bytes_per_s;
  p->eta_seconds = rates.eta_seconds;
}

/* Main thread: reads the engine's atomics, never waits on anything. Returns whether the
 * counters moved. */
static gboolean
read_progress (SluiceRun *self)
{
  SluiceRunProgress *p = &self->progress;
  SluiceProgress *progress = sluice_pipeline_get_progress (self->pipeline);
  SluiceProgressSnapshot s;
  gboolean changed;

  sluice_progress_snapshot (progress, &s);
  changed = memcmp (&s, &p->counts, sizeof s) != 0 ||
            p->walk_done != sluice_progress_walk_done (progress);
  p->counts = s;
  p->walk_done = sluice_progress_walk_done (progress);
  p->files_total = s.files[SLUICE_STAGE_FOUND];
  p->bytes_total = s.bytes[SLUICE_STAGE_FOUND];
  p->files_done = sluice_progress_files_done (&s);
  p->bytes_done = sluice_progress_bytes_done (&s);
  p->elapsed_seconds = (g_get_monotonic_time () - self->started_us) / (double) G_USEC_PER_SEC;
  return changed;
}

static void
update_pause_reason (SluiceRun *self)
{
  SluiceRunPauseReason reason = self->pause_reason & ~SLUICE_RUN_PAUSED_SERVER;

  /* the engine closes its gate by itself while the server cannot be reached */
  if (reason == SLUICE_RUN_PAUSED_NONE && sluice_pipeline_is_paused (self->pipeline))
    reason |= SLUICE_RUN_PAUSED_SERVER;
  set_pause_reason (self, reason);
  if (self->state == SLUICE_RUN_STATE_RUNNING || self->state == SLUICE_RUN_STATE_PAUSED)
    set_state (self, reason != SLUICE_RUN_PAUSED_NONE ? SLUICE_RUN_STATE_PAUSED
                                                      : SLUICE_RUN_STATE_RUNNING);
}

static gboolean
tick_cb (gpointer user_data)
{
  SluiceRun *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean changed;

  record_lateness (self, now);
  changed = read_progress (self);
  update_pause_reason (self);
  update_rates (self, now);
  /* the rate and the ETA change with time alone: refresh them once a second anyway */
  if (changed || self->lateness_ticks % 10 == 0)
    g_signal_emit (self, signals[SIGNAL_PROGRESS], 0);
  return G_SOURCE_CONTINUE;
}

/* ---- the network ---------------------------------------------------------------------------- */

static void
apply_pause (SluiceRun *self)
{
  if (!sluice_run_is_active (self))
    return;
  if (self->pause_reason & (SLUICE_RUN_PAUSED_USER | SLUICE_RUN_PAUSED_NETWORK))
    sluice_pipeline_pause (self->pipeline);
  else
    sluice_pipeline_resume (self->pipeline);
  update_pause_reason (self);
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0);
}

/**
 * sluice_run_set_network_available:
 *
 * Pauses the run while the network is away and resumes it when it is back (unless the user
 * paused it too). Called by the GNetworkMonitor handler and by tests. Main thread only.
 */
void
sluice_run_set_network_available (SluiceRun *self,
                                  gboolean   available)
{
  SluiceRunPauseReason reason;

  g_return_if_fail (SLUICE_IS_RUN (self));

  reason = self->pause_reason;
  if (available)
    reason &= ~SLUICE_RUN_PAUSED_NETWORK;
  else
    reason |= SLUICE_RUN_PAUSED_NETWORK;
  set_pause_reason (self, reason);
  apply_pause (self);
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    SluiceRun       *self)
{
  /* a server on this machine does not care about the network */
  if (self->local_endpoint)
    return;
  sluice_run_set_network_available (self, available);
}

/* ---- life cycle ----------------------------------------------------------------------------- */

static gboolean
is_local_host (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (host == NULL || g_str_equal (host, "localhost") || g_str_has_suffix (host, ".localhost"))
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

/**
 * sluice_run_new:
 * @credentials: (transfer full): the credentials to sign with
 * @options: everything but source, target and credentials, which come from the arguments
 *
 * Main thread only: the run reports to the thread-default main context of its creator.
 *
 * Returns: (transfer full) (nullable): a run that has not started yet
 */
SluiceRun *
sluice_run_new (GFile                       *source,
                const SluiceSavedTarget     *target,
                SluiceCredentialsProvider   *credentials,
                const SluicePipelineOptions *options,
                GError                     **error)
{
  g_autoptr(SluiceRun) self = NULL;
  g_autofree char *host = NULL;
  SluicePipelineOptions opts = *options;

  g_return_val_if_fail (G_IS_FILE (source), NULL);
  g_return_val_if_fail (target != NULL, NULL);
  g_return_val_if_fail (credentials != NULL, NULL);

  self = g_object_new (SLUICE_TYPE_RUN, NULL);
  self->credentials = credentials;
  self->source = g_object_ref (source);
  self->target = sluice_saved_target_copy (target);
  self->main_context = g_main_context_ref_thread_default ();

  opts.source = g_file_get_path (source);
  opts.target = target->target;
  opts.credentials = credentials;
  if (opts.source == NULL)
    {
      g_autofree char *uri = g_file_get_uri (source);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE,
                   _("“%s” is not a local folder"), uri);
      return NULL;
    }
  /* sluice_pipeline_new copies the options */
  self->pipeline = sluice_pipeline_new (&opts, error);
  g_free (opts.source);
  if (self->pipeline == NULL)
    return NULL;
  sluice_pipeline_set_file_func (self->pipeline, file_failed_cb, NULL, self);

  host = sluice_target_host (target->target);
  self->local_endpoint = is_local_host (host);
  return g_steal_pointer (&self);
}

static void
run_done_cb (GObject      *source_object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SluiceRun) self = user_data;
  g_autoptr(GError) error = NULL;
  SluicePipelineSummary summary = { 0 };

  sluice_pipeline_run_finish (self->pipeline, result, &summary, &error);
  self->run_id = summary.run_id;
  sluice_pipeline_summary_clear (&summary);

  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);

  /* every worker has returned: whatever they queued is there now */
  drain_failed (self);
  read_progress (self);
  self->progress.eta_seconds = -1;
  self->progress.upload_rate = 0;
  set_pause_reason (self, SLUICE_RUN_PAUSED_NONE);

  if (error == NULL)
    set_state (self, SLUICE_RUN_STATE_FINISHED);
  else if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED))
    set_state (self, SLUICE_RUN_STATE_CANCELLED);
  else
    set_state (self, SLUICE_RUN_STATE_FAILED);
  self->error = g_steal_pointer (&error);

  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

/**
 * sluice_run_start:
 *
 * Starts the pipeline on a worker thread and the 10 Hz timer. Main thread only.
 */
void
sluice_run_start (SluiceRun *self)
{
  g_return_if_fail (SLUICE_IS_RUN (self));
  g_return_if_fail (self->state == SLUICE_RUN_STATE_NEW);
  g_return_if_fail (g_main_context_is_owner (self->main_context));

  self->started_us = g_get_monotonic_time ();
  self->timer_id = g_timeout_add (TICK_MS, tick_cb, self);
  self->monitor = g_object_ref (g_network_monitor_get_default ());
  g_signal_connect (self->monitor, "network-changed", G_CALLBACK (network_changed_cb), self);

  set_state (self, SLUICE_RUN_STATE_RUNNING);
  /* the run keeps itself alive until the engine returns */
  sluice_pipeline_run_async (self->pipeline, NULL, run_done_cb, g_object_ref (self));

  if (!self->local_endpoint && !g_network_monitor_get_network_available (self->monitor))
    sluice_run_set_network_available (self, FALSE);
}

void
sluice_run_pause (SluiceRun *self)
{
  g_return_if_fail (SLUICE_IS_RUN (self));

  set_pause_reason (self, self->pause_reason | SLUICE_RUN_PAUSED_USER);
  apply_pause (self);
}

void
sluice_run_resume (SluiceRun *self)
{
  g_return_if_fail (SLUICE_IS_RUN (self));

  set_pause_reason (self, self->pause_reason & ~SLUICE_RUN_PAUSED_USER);
  apply_pause (self);
}

/**
 * sluice_run_cancel:
 * @discard: TRUE when the user cancels (unfinished multipart uploads are aborted on the
 *   server); FALSE for a quit (they are kept, and the next run continues them)
 *
 * Requests in flight finish; "finished" follows. Main thread only.
 */
void
sluice_run_cancel (SluiceRun *self,
                   gboolean   discard)
{
  g_return_if_fail (SLUICE_IS_RUN (self));

  if (!sluice_run_is_active (self))
    return;
  /* a paused gate would keep the workers waiting for a resume that never comes */
  sluice_pipeline_cancel (self->pipeline, discard);
  sluice_pipeline_resume (self->pipeline);
}

SluiceRunState
sluice_run_get_state (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), SLUICE_RUN_STATE_NEW);
  return self->state;
}

gboolean
sluice_run_is_active (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), FALSE);
  return self->state == SLUICE_RUN_STATE_RUNNING || self->state == SLUICE_RUN_STATE_PAUSED;
}

SluiceRunPauseReason
sluice_run_get_pause_reason (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), SLUICE_RUN_PAUSED_NONE);
  return self->pause_reason;
}

GFile *
sluice_run_get_source (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), NULL);
  return self->source;
}

const SluiceSavedTarget *
sluice_run_get_target (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), NULL);
  return self->target;
}

const SluiceRunProgress *
sluice_run_get_progress (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), NULL);
  return &self->progress;
}

/**
 * sluice_run_get_error:
 *
 * Returns: (nullable): why the run stopped, once finished: NULL when it ran to the end
 */
const GError *
sluice_run_get_error (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), NULL);
  return self->error;
}

/**
 * sluice_run_get_failed_files:
 *
 * Returns: (transfer none) (element-type SluiceFailedFile): the first failed files (at most
 *   5,000; sluice_run_get_n_failed() counts them all)
 */
GPtrArray *
sluice_run_get_failed_files (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), NULL);
  return self->failed;
}

/* The catalog's id of the run once it has ended (0 before, or when it never began one): the
 * browser's "what this run uploaded" filter. */
gint64
sluice_run_get_run_id (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), 0);
  return self->run_id;
}

guint64
sluice_run_get_n_failed (SluiceRun *self)
{
  g_return_val_if_fail (SLUICE_IS_RUN (self), 0);
  return self->n_failed;
}

/**
 * sluice_run_get_timer_lateness:
 * @out_ticks: (out) (optional): how many ticks were measured
 * @out_worst_us: (out) (optional): the latest a tick came, in microseconds
 * @out_p99_us: (out) (optional): the 99th percentile, rounded up to the millisecond
 *
 * How late the 10 Hz timer fired: a measure of how long the main loop was kept busy.
 */
void
sluice_run_get_timer_lateness (SluiceRun *self,
                               guint     *out_ticks,
                               gint64    *out_worst_us,
                               gint64    *out_p99_us)
{
  guint64 seen = 0, want;
  gint64 p99 = 0;

  g_return_if_fail (SLUICE_IS_RUN (self));

  want = (self->lateness_ticks * 99 + 99) / 100;
  for (guint i = 0; i <= LATENESS_BUCKETS && self->lateness_ticks > 0; i++)
    {
      seen += self->lateness[i];
      if (seen >= want)
        {
          /* the bucket's upper edge: lateness in [i, i + 1) ms */
          p99 = ((gint64) i + 1) * 1000;
          break;
        }
    }
  if (out_ticks != NULL)
    *out_ticks = self->lateness_ticks;
  if (out_worst_us != NULL)
    *out_worst_us = self->lateness_worst_us;
  if (out_p99_us != NULL)
    *out_p99_us = p99;
  g_debug ("worst timer lateness %.1f ms, %.1f s into the run",
           self->lateness_worst_us / 1000.0, self->lateness_worst_at_us / 1e6);
}
