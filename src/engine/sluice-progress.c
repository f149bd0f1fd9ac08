/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-progress"

#include "config.h"

#include <stdatomic.h>

#include "sluice-progress.h"

struct _SluiceProgress {
  _Atomic gint64 files[SLUICE_N_STAGES];
  _Atomic gint64 bytes[SLUICE_N_STAGES];
  _Atomic int    walk_done;
};

SluiceProgress *
sluice_progress_new (void)
{
  return g_new0 (SluiceProgress, 1);
}

void
sluice_progress_free (SluiceProgress *self)
{
  g_free (self);
}

/* Called from any thread. */
void
sluice_progress_add (SluiceProgress *self,
                     SluiceStage     stage,
                     guint64         bytes)
{
  g_return_if_fail (stage < SLUICE_N_STAGES);

  atomic_fetch_add_explicit (&self->files[stage], 1, memory_order_relaxed);
  atomic_fetch_add_explicit (&self->bytes[stage], (gint64) bytes, memory_order_relaxed);
}

/* Bytes without a file: the parts of a large file. Called from any thread. */
void
sluice_progress_add_bytes (SluiceProgress *self,
                           SluiceStage     stage,
                           guint64         bytes)
{
  g_return_if_fail (stage < SLUICE_N_STAGES);

  atomic_fetch_add_explicit (&self->bytes[stage], (gint64) bytes, memory_order_relaxed);
}

/* Called from any thread; the numbers of different stages may be a moment apart. */
void
sluice_progress_snapshot (SluiceProgress         *self,
                          SluiceProgressSnapshot *out)
{
  for (int i = 0; i < SLUICE_N_STAGES; i++)
    {
      out->files[i] = atomic_load_explicit (&self->files[i], memory_order_relaxed);
      out->bytes[i] = atomic_load_explicit (&self->bytes[i], memory_order_relaxed);
    }
}

void
sluice_progress_set_walk_done (SluiceProgress *self)
{
  atomic_store (&self->walk_done, 1);
}

gboolean
sluice_progress_walk_done (SluiceProgress *self)
{
  return atomic_load (&self->walk_done) != 0;
}

const char *
sluice_stage_name (SluiceStage stage)
{
  static const char *const names[SLUICE_N_STAGES] = {
    "found", "read", "probed", "uploaded", "skipped", "failed", "probe_failed", "warnings",
    "deduplicated",
  };

  return stage < SLUICE_N_STAGES ? names[stage] : "unknown";
}

/* Files that need nothing more: uploaded, skipped (already there), failed, or copied. */
gint64
sluice_progress_files_done (const SluiceProgressSnapshot *s)
{
  return s->files[SLUICE_STAGE_UPLOADED] + s->files[SLUICE_STAGE_SKIPPED] +
         s->files[SLUICE_STAGE_FAILED] + s->files[SLUICE_STAGE_DEDUPLICATED];
}

/* The bytes of those files, and the parts of large files sent so far. */
gint64
sluice_progress_bytes_done (const SluiceProgressSnapshot *s)
{
  return s->bytes[SLUICE_STAGE_UPLOADED] + s->bytes[SLUICE_STAGE_SKIPPED] +
         s->bytes[SLUICE_STAGE_FAILED] + s->bytes[SLUICE_STAGE_DEDUPLICATED];
}

/* ---- rates and time left -------------------------------------------------------------------- */

#define METER_SAMPLES 256
/* rates over less than this are noise */
#define METER_MIN_US  (G_USEC_PER_SEC / 2)

typedef struct {
  gint64 time_us;
  gint64 sent;
  gint64 files_done;
  gint64 bytes_done;
} MeterSample;

struct _SluiceProgressMeter {
  gint64      window_us;
  MeterSample samples[METER_SAMPLES];
  guint       head;   /* the oldest */
  guint       len;
};

/* Rates over the last @window_us (at least half a second). */
SluiceProgressMeter *
sluice_progress_meter_new (gint64 window_us)
{
  SluiceProgressMeter *self = g_new0 (SluiceProgressMeter, 1);

  self->window_us = MAX (window_us, METER_MIN_US);
  return self;
}

void
sluice_progress_meter_free (SluiceProgressMeter *self)
{
  g_free (self);
}

/* Forgets the samples: after a pause, whose standstill is not the run's speed. */
void
sluice_progress_meter_reset (SluiceProgressMeter *self)
{
  self->head = 0;
  self->len = 0;
}

static const MeterSample *
sample_at (const SluiceProgressMeter *self,
           guint                      i)
{
  return &self->samples[(self->head + i) % METER_SAMPLES];
}

/* The time @left takes at @done per @dt seconds: 0 when nothing is left, G_MAXDOUBLE when
 * nothing moved. */
static double
time_for (gint64 left,
          gint64 done,
          double dt)
{
  if (left <= 0)
    return 0;
  if (done <= 0)
    return G_MAXDOUBLE;
  return left / (done / dt);
}

/**
 * sluice_progress_meter_update:
 * @now_us: g_get_monotonic_time ()
 * @counts: the counters now
 * @walk_done: whether the folder has been listed to the end (the totals are final)
 * @out: filled when the function returns TRUE
 *
 * Adds a sample and computes the rates over the window that ends with it. The time left is
 * the longer of two estimates, files left at the recent files per second and bytes left at
 * the recent bytes per second: many small files left are bound by the per-file cost, a few
 * large ones by the bytes (and while one large file's parts go, only the bytes move).
 *
 * Returns: FALSE while the samples span less than half a second (@out is left alone)
 */
gboolean
sluice_progress_meter_update (SluiceProgressMeter          *self,
                              gint64                        now_us,
                              const SluiceProgressSnapshot *counts,
                              gboolean                      walk_done,
                              SluiceProgressRates          *out)
{
  MeterSample sample = {
    now_us,
    counts->bytes[SLUICE_STAGE_UPLOADED] + counts->bytes[SLUICE_STAGE_DEDUPLICATED],
    sluice_progress_files_done (counts),
    sluice_progress_bytes_done (counts),
  };
  const MeterSample *oldest;
  double dt, t_files, t_bytes, eta;

  /* samples closer than a 128th of the window replace the newest, so the ring always spans
   * the window however often it is fed */
  if (self->len >= 2 &&
      now_us - sample_at (self, self->len - 2)->time_us < self->window_us / (METER_SAMPLES / 2))
    self->len--;
  else if (self->len == METER_SAMPLES)
    {
      self->head = (self->head + 1) % METER_SAMPLES;
      self->len--;
    }
  self->samples[(self->head + self->len) % METER_SAMPLES] = sample;
  self->len++;
  /* the window starts at the newest sample that is at least window_us old */
  while (self->len > 2 && now_us - sample_at (self, 1)->time_us >= self->window_us)
    {
      self->head = (self->head + 1) % METER_SAMPLES;
      self->len--;
    }

  oldest = sample_at (self, 0);
  if (now_us - oldest->time_us < METER_MIN_US)
    return FALSE;
  dt = (now_us - oldest->time_us) / (double) G_USEC_PER_SEC;

  out->bytes_per_s = (sample.sent - oldest->sent) / dt;
  out->files_per_s = (sample.files_done - oldest->files_done) / dt;
  out->eta_seconds = -1;
  if (!walk_done)
    return TRUE;
  t_files = time_for (counts->files[SLUICE_STAGE_FOUND] - sample.files_done,
                      sample.files_done - oldest->files_done, dt);
  t_bytes = time_for (counts->bytes[SLUICE_STAGE_FOUND] - sample.bytes_done,
                      sample.bytes_done - oldest->bytes_done, dt);
  /* the longer of the two; when one did not move, the other alone if it has work left */
  if (t_files == G_MAXDOUBLE)
    eta = t_bytes > 0 ? t_bytes : G_MAXDOUBLE;
  else if (t_bytes == G_MAXDOUBLE)
    eta = t_files > 0 ? t_files : G_MAXDOUBLE;
  else
    eta = MAX (t_files, t_bytes);
  if (eta != G_MAXDOUBLE)
    out->eta_seconds = eta;
  return TRUE;
}
