/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-work-queue"

#include "config.h"

#include <string.h>

#include "sluice-work-queue.h"

void
sluice_work_queue_init (SluiceWorkQueue *q)
{
  memset (q, 0, sizeof *q);
  g_mutex_init (&q->mutex);
  g_cond_init (&q->cond);
  g_cond_init (&q->small_cond);
  g_cond_init (&q->parts_cond);
  g_cond_init (&q->room);
  g_queue_init (&q->files);
  g_queue_init (&q->parts);
}

/* Drops the files still queued. */
void
sluice_work_queue_clear (SluiceWorkQueue *q)
{
  g_queue_clear_full (&q->files, (GDestroyNotify) sluice_found_file_free);
  g_queue_init (&q->files);
  g_mutex_clear (&q->mutex);
  g_cond_clear (&q->cond);
  g_cond_clear (&q->small_cond);
  g_cond_clear (&q->parts_cond);
  g_cond_clear (&q->room);
}

/* Ready for a run: open for files, no large file going. */
void
sluice_work_queue_reset (SluiceWorkQueue *q,
                         guint            files_capacity)
{
  g_mutex_lock (&q->mutex);
  g_queue_clear_full (&q->files, (GDestroyNotify) sluice_found_file_free);
  g_queue_init (&q->files);
  q->files_capacity = files_capacity;
  q->files_closed = FALSE;
  q->aborted = FALSE;
  q->active_large = 0;
  g_mutex_unlock (&q->mutex);
}

/* The walker's sink: blocks while the file queue is full (back-pressure). FALSE (the file not
 * taken) once the queue is aborted. */
gboolean
sluice_work_queue_push_file (SluiceWorkQueue *q,
                             SluiceFoundFile *file)
{
  gboolean taken = FALSE;

  g_mutex_lock (&q->mutex);
  while (!q->aborted && q->files.length >= q->files_capacity)
    {
      q->walker_waiting = TRUE;
      g_cond_wait (&q->room, &q->mutex);
    }
  if (!q->aborted)
    {
      g_queue_push_tail (&q->files, file);
      taken = TRUE;
      /* one worker for a file that finds the queue empty; it wakes the next if more come
       * meanwhile (sluice_work_queue_pop ()) */
      if (q->waiting > 0)
        {
          if (q->files.length == 1)
            g_cond_signal (&q->cond);
        }
      else if (q->small_waiting > 0 && file->size < SLUICE_WORK_SMALL_FILE_SIZE)
        g_cond_signal (&q->small_cond);   /* every worker is busy: an extra one takes it */
    }
  g_mutex_unlock (&q->mutex);
  return taken;
}

/* Wakes every waiting worker: the end, or a cancel. Called with the mutex held. */
static void
wake_all_workers (SluiceWorkQueue *q)
{
  g_cond_broadcast (&q->cond);
  g_cond_broadcast (&q->small_cond);
  g_cond_broadcast (&q->parts_cond);
}

/* The walk is over: no more files. */
void
sluice_work_queue_close_files (SluiceWorkQueue *q)
{
  g_mutex_lock (&q->mutex);
  q->files_closed = TRUE;
  wake_all_workers (q);
  g_mutex_unlock (&q->mutex);
}

/* Cancel: files not started are dropped, the walker's push fails; parts still come out, to be
 * failed quickly. */
void
sluice_work_queue_abort (SluiceWorkQueue *q)
{
  g_mutex_lock (&q->mutex);
  q->aborted = TRUE;
  q->files_closed = TRUE;
  g_queue_clear_full (&q->files, (GDestroyNotify) sluice_found_file_free);
  g_queue_init (&q->files);
  wake_all_workers (q);
  g_cond_broadcast (&q->room);
  g_mutex_unlock (&q->mutex);
}

/* The first small file among the next few queued, removed from the queue; or NULL. */
static SluiceFoundFile *
pop_small_file (SluiceWorkQueue *q)
{
  guint n = 0;

  for (GList *l = q->files.head; l != NULL && n < SLUICE_WORK_SMALL_FILE_SCAN; l = l->next, n++)
    {
      SluiceFoundFile *f = l->data;

      if (f->size < SLUICE_WORK_SMALL_FILE_SIZE)
        {
          g_queue_delete_link (&q->files, l);
          return f;
        }
    }
  return NULL;
}

/*
 * A worker's next job: a part if there is one, else a file; FALSE when all work is done. An
 * extra worker (@small_only) takes only small files and no parts; it stops when the walk is
 * over and no small file is left near the head of the queue (the other workers take the rest).
 */
gboolean
sluice_work_queue_pop (SluiceWorkQueue  *q,
                       gboolean          small_only,
                       gpointer         *out_part,
                       SluiceFoundFile **out_file)
{
  gboolean got = FALSE;

  *out_part = NULL;
  *out_file = NULL;
  g_mutex_lock (&q->mutex);
  for (;;)
    {
      if (!small_only && q->parts.length > 0)
        {
          *out_part = g_queue_pop_head (&q->parts);
          got = TRUE;
          break;
        }
      if (q->files.length > 0)
        *out_file = small_only ? pop_small_file (q) : g_queue_pop_head (&q->files);
      if (*out_file != NULL)
        {
          /* the walker's listers are woken (all of them) once the queue is half empty, not
           * for every file: on small files a wake-up per file was a third of the run's context
           * switches */
          if (q->walker_waiting && q->files.length <= q->files_capacity / 2)
            {
              q->walker_waiting = FALSE;
              g_cond_broadcast (&q->room);
            }
          got = TRUE;
          break;
        }
      if (q->files_closed && (small_only || q->active_large == 0))
        break;
      if (small_only)
        {
          q->small_waiting++;
          g_cond_wait (&q->small_cond, &q->mutex);
          q->small_waiting--;
        }
      else
        {
          q->waiting++;
          g_cond_wait (&q->cond, &q->mutex);
          q->waiting--;
        }
      q->wakeups++;
    }
  /* files left behind: the next idle worker */
  if (got && q->files.length > 0)
    {
      if (q->waiting > 0)
        g_cond_signal (&q->cond);
      else if (q->small_waiting > 0)
        g_cond_signal (&q->small_cond);
    }
  g_mutex_unlock (&q->mutex);
  return got;
}

void
sluice_work_queue_push_part (SluiceWorkQueue *q,
                             gpointer         part)
{
  g_mutex_lock (&q->mutex);
  g_queue_push_tail (&q->parts, part);
  /* an idle worker, and the workers waiting on their own large file (they take any part) */
  if (q->waiting > 0)
    g_cond_signal (&q->cond);
  g_cond_broadcast (&q->parts_cond);
  g_mutex_unlock (&q->mutex);
}

/*
 * For a worker that waits on its own large file's parts: returns a part to upload meanwhile,
 * or NULL once *@pending (guarded by the queue's mutex) is 0. @pending NULL: any part, no
 * wait. Whoever lowers *@pending calls sluice_work_queue_part_done_locked ().
 */
gpointer
sluice_work_queue_pop_part_until (SluiceWorkQueue *q,
                                  guint           *pending)
{
  gpointer job = NULL;

  g_mutex_lock (&q->mutex);
  for (;;)
    {
      if (q->parts.length > 0)
        {
          job = g_queue_pop_head (&q->parts);
          break;
        }
      if (pending == NULL || *pending == 0)
        break;
      g_cond_wait (&q->parts_cond, &q->mutex);
    }
  g_mutex_unlock (&q->mutex);
  return job;
}

/* A part is done (its count lowered, with the mutex held): its owner may be waiting. */
void
sluice_work_queue_part_done_locked (SluiceWorkQueue *q)
{
  g_cond_broadcast (&q->parts_cond);
}

void
sluice_work_queue_large_begin (SluiceWorkQueue *q)
{
  g_mutex_lock (&q->mutex);
  q->active_large++;
  g_mutex_unlock (&q->mutex);
}

/* A large file's parts are all queued: once none is left, idle workers may stop. */
void
sluice_work_queue_large_end (SluiceWorkQueue *q)
{
  g_mutex_lock (&q->mutex);
  q->active_large--;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->mutex);
}

guint64
sluice_work_queue_get_wakeups (SluiceWorkQueue *q)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&q->mutex);

  return q->wakeups;
}
