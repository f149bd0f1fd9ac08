/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Per-stage counters, files and bytes, bumped with atomics by any thread and read by any
 * thread (the CLI's progress line, the app's 10 Hz timer) without locks.
 */
typedef enum {
  SLUICE_STAGE_FOUND,
  SLUICE_STAGE_READ,
  SLUICE_STAGE_PROBED,
  SLUICE_STAGE_UPLOADED,
  SLUICE_STAGE_SKIPPED,
  SLUICE_STAGE_FAILED,
  SLUICE_STAGE_PROBE_FAILED,  /* metadata lost, file still uploaded */
  SLUICE_STAGE_WARNINGS,      /* files with warnings */
  SLUICE_STAGE_DEDUPLICATED,  /* made by a server-side copy of the same content (--dedupe) */
  SLUICE_N_STAGES,
} SluiceStage;

typedef struct {
  gint64 files[SLUICE_N_STAGES];
  gint64 bytes[SLUICE_N_STAGES];
} SluiceProgressSnapshot;

typedef struct _SluiceProgress SluiceProgress;

SluiceProgress *sluice_progress_new       (void);
void            sluice_progress_free      (SluiceProgress         *self);
void            sluice_progress_add       (SluiceProgress         *self,
                                           SluiceStage             stage,
                                           guint64                 bytes);
void            sluice_progress_add_bytes (SluiceProgress         *self,
                                           SluiceStage             stage,
                                           guint64                 bytes);
void            sluice_progress_snapshot  (SluiceProgress         *self,
                                           SluiceProgressSnapshot *out);
void            sluice_progress_set_walk_done (SluiceProgress     *self);
gboolean        sluice_progress_walk_done (SluiceProgress         *self);
const char     *sluice_stage_name         (SluiceStage             stage);
gint64          sluice_progress_files_done (const SluiceProgressSnapshot *s);
gint64          sluice_progress_bytes_done (const SluiceProgressSnapshot *s);

/*
 * Rates over the last seconds and the time left, for a display that samples the counters a
 * few times a second (the CLI's progress line, the app's run page). One display owns a meter;
 * it is not shared between threads.
 */
typedef struct {
  double bytes_per_s;   /* bytes sent (uploaded, or copied on the server) per second */
  double files_per_s;   /* files done (uploaded, skipped, failed or copied) per second */
  double eta_seconds;   /* < 0: not known (the folder is still being listed, or nothing moved) */
} SluiceProgressRates;

typedef struct _SluiceProgressMeter SluiceProgressMeter;

SluiceProgressMeter *sluice_progress_meter_new    (gint64                        window_us);
void                 sluice_progress_meter_free   (SluiceProgressMeter          *self);
void                 sluice_progress_meter_reset  (SluiceProgressMeter          *self);
gboolean             sluice_progress_meter_update (SluiceProgressMeter          *self,
                                                   gint64                        now_us,
                                                   const SluiceProgressSnapshot *counts,
                                                   gboolean                      walk_done,
                                                   SluiceProgressRates          *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceProgress, sluice_progress_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceProgressMeter, sluice_progress_meter_free)

G_END_DECLS
