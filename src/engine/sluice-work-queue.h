/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sluice-walker.h"

G_BEGIN_DECLS

/*
 * Work for a run's workers: files from the walker (bounded: the walker's listers wait when it
 * is full) and parts of large files (bounded by the byte budget each part holds). Parts go
 * first, so that a large file's bytes leave memory as soon as possible; a worker that waits
 * for its own large file's parts uploads parts meanwhile, so the pool can never deadlock.
 *
 * Waking: each kind of waiter has its own condition, and a file wakes one worker, not every
 * idle one. Waking them all made a herd per file whenever the walker was slower than the
 * workers (a cold or slow NAS, a dry run: 200,000 files, cold cache, 1.9 s and 330,000 context
 * switches, now 1.1 s and 22,000); waking one per file costs a wake-up per file when it is
 * faster. So a file that finds the queue empty wakes one worker, and a worker that leaves
 * files behind wakes the next.
 *
 * Extra workers (small_only) take only files under SLUICE_WORK_SMALL_FILE_SIZE, among the
 * first SLUICE_WORK_SMALL_FILE_SCAN queued, and no parts.
 */

#define SLUICE_WORK_SMALL_FILE_SIZE  (1024 * 1024)
#define SLUICE_WORK_SMALL_FILE_SCAN  64

typedef struct {
  GMutex   mutex;          /* also guards the callers' part counts (pop_part_until) */
  GCond    cond;           /* workers: a file, a part or the end */
  GCond    small_cond;     /* extra workers: a small file or the end */
  GCond    parts_cond;     /* workers waiting on their own large file: a part, or a part done */
  GCond    room;           /* the walker's listers: the queue has drained to half */
  GQueue   files;          /* SluiceFoundFile * */
  guint    files_capacity;
  gboolean walker_waiting; /* a lister waits on room */
  guint    waiting;        /* workers waiting on cond */
  guint    small_waiting;  /* extra workers waiting on small_cond */
  gboolean files_closed;
  gboolean aborted;
  GQueue   parts;          /* opaque part jobs */
  guint    active_large;   /* large files whose parts may still come */
  guint64  wakeups;        /* workers woken from a wait (a statistic) */
} SluiceWorkQueue;

void      sluice_work_queue_init            (SluiceWorkQueue  *q);
void      sluice_work_queue_clear           (SluiceWorkQueue  *q);
void      sluice_work_queue_reset           (SluiceWorkQueue  *q,
                                             guint             files_capacity);

gboolean  sluice_work_queue_push_file       (SluiceWorkQueue  *q,
                                             SluiceFoundFile  *file);
void      sluice_work_queue_close_files     (SluiceWorkQueue  *q);
void      sluice_work_queue_abort           (SluiceWorkQueue  *q);
gboolean  sluice_work_queue_pop             (SluiceWorkQueue  *q,
                                             gboolean          small_only,
                                             gpointer         *out_part,
                                             SluiceFoundFile **out_file);

void      sluice_work_queue_push_part       (SluiceWorkQueue  *q,
                                             gpointer          part);
gpointer  sluice_work_queue_pop_part_until  (SluiceWorkQueue  *q,
                                             guint            *pending);
void      sluice_work_queue_part_done_locked (SluiceWorkQueue *q);
void      sluice_work_queue_large_begin     (SluiceWorkQueue  *q);
void      sluice_work_queue_large_end       (SluiceWorkQueue  *q);

guint64   sluice_work_queue_get_wakeups     (SluiceWorkQueue  *q);

G_END_DECLS
