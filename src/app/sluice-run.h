/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-engine.h"

G_BEGIN_DECLS

/*
 * One ingest run as the app sees it: a SluicePipeline on a worker thread, read by a 10 Hz
 * main-loop timer (the main loop never waits on the engine), failed files batched over to the
 * main thread, pause/resume/cancel, and a pause of its own while the network is away.
 */

typedef enum {
  SLUICE_RUN_STATE_NEW,
  SLUICE_RUN_STATE_RUNNING,
  SLUICE_RUN_STATE_PAUSED,
  SLUICE_RUN_STATE_FINISHED,    /* ran to the end; some files may have failed */
  SLUICE_RUN_STATE_CANCELLED,   /* stopped by the user or a quit; can be resumed */
  SLUICE_RUN_STATE_FAILED,      /* stopped by an error no file could get past */
} SluiceRunState;

typedef enum {
  SLUICE_RUN_PAUSED_NONE    = 0,
  SLUICE_RUN_PAUSED_USER    = 1 << 0,
  SLUICE_RUN_PAUSED_NETWORK = 1 << 1,   /* GNetworkMonitor said the network went away */
  SLUICE_RUN_PAUSED_SERVER  = 1 << 2,   /* the engine waits for an unreachable server */
} SluiceRunPauseReason;

typedef struct {
  char   *relpath;   /* for display: valid UTF-8 */
  int     code;      /* SluiceError, or -1 for another domain */
  char   *reason;    /* plain words */
  char   *details;   /* the error message: names the request, never a credential */
} SluiceFailedFile;

/* What the timer computed at its last tick. */
typedef struct {
  SluiceProgressSnapshot counts;
  gboolean               walk_done;
  gint64                 files_total;     /* found so far (final once walk_done) */
  gint64                 files_done;      /* uploaded + skipped + failed + deduplicated */
  gint64                 bytes_total;
  gint64                 bytes_done;
  double                 upload_rate;     /* bytes per second sent, over the last seconds */
  double                 eta_seconds;     /* < 0: not known yet */
  double                 elapsed_seconds;
} SluiceRunProgress;

#define SLUICE_TYPE_RUN (sluice_run_get_type ())

G_DECLARE_FINAL_TYPE (SluiceRun, sluice_run, SLUICE, RUN, GObject)

SluiceRun               *sluice_run_new               (GFile                       *source,
                                                       const SluiceSavedTarget     *target,
                                                       SluiceCredentialsProvider   *credentials,
                                                       const SluicePipelineOptions *options,
                                                       GError                     **error);
void                     sluice_run_start             (SluiceRun                   *self);
void                     sluice_run_pause             (SluiceRun                   *self);
void                     sluice_run_resume            (SluiceRun                   *self);
void                     sluice_run_cancel            (SluiceRun                   *self,
                                                       gboolean                     discard);
SluiceRunState           sluice_run_get_state         (SluiceRun                   *self);
gboolean                 sluice_run_is_active         (SluiceRun                   *self);
SluiceRunPauseReason     sluice_run_get_pause_reason  (SluiceRun                   *self);
GFile                   *sluice_run_get_source        (SluiceRun                   *self);
const SluiceSavedTarget *sluice_run_get_target        (SluiceRun                   *self);
const SluiceRunProgress *sluice_run_get_progress      (SluiceRun                   *self);
const GError            *sluice_run_get_error         (SluiceRun                   *self);
GPtrArray               *sluice_run_get_failed_files  (SluiceRun                   *self);
guint64                  sluice_run_get_n_failed      (SluiceRun                   *self);
gint64                   sluice_run_get_run_id        (SluiceRun                   *self);
void                     sluice_run_set_network_available (SluiceRun               *self,
                                                       gboolean                     available);
void                     sluice_run_get_timer_lateness (SluiceRun                  *self,
                                                       guint                       *out_ticks,
                                                       gint64                      *out_worst_us,
                                                       gint64                      *out_p99_us);

void                     sluice_failed_file_free      (SluiceFailedFile            *file);

G_END_DECLS
