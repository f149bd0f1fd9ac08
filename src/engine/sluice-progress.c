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
