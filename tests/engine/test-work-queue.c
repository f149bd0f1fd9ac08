/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-work-queue"

#include "config.h"

#include <string.h>

#include "sluice-work-queue.h"

/*
 * The run's work queue: every file comes out once; a file wakes one idle worker, not all of
 * them, yet a burst of files gets every worker going; extra workers take only small files;
 * a worker waiting on its own large file's parts uploads parts meanwhile and returns when they
 * are done; an abort ends everyone's wait.
 */

#define SMALL 1000
#define LARGE (SLUICE_WORK_SMALL_FILE_SIZE + 1)

static SluiceFoundFile *
found (guint   n,
       guint64 size)
{
  SluiceFoundFile *f = g_new0 (SluiceFoundFile, 1);

  f->relpath = g_strdup_printf ("%u.jpg", n);
  f->size = size;
  return f;
}

typedef struct {
  SluiceWorkQueue *q;
  gboolean         small_only;
  guint            work_us;     /* how long each file keeps the worker busy */
  gint            *busy;        /* workers busy now (atomic) */
  gint            *busy_max;    /* the most at once */
  guint            files;       /* files this worker took */
  guint            large;       /* of them, large ones */
  GHashTable      *seen;        /* relpaths, shared (under seen_lock) */
  GMutex          *seen_lock;
} Consumer;

static gpointer
consume (gpointer data)
{
  Consumer *c = data;
  SluiceFoundFile *f;
  gpointer part;

  while (sluice_work_queue_pop (c->q, c->small_only, &part, &f))
    {
      gint now;

      g_assert_null (part);
      g_assert_nonnull (f);
      now = g_atomic_int_add (c->busy, 1) + 1;
      for (gint max = g_atomic_int_get (c->busy_max);
           now > max && !g_atomic_int_compare_and_exchange (c->busy_max, max, now);
           max = g_atomic_int_get (c->busy_max))
        ;
      if (c->work_us > 0)
        g_usleep (c->work_us);
      g_atomic_int_add (c->busy, -1);
      c->files++;
      if (f->size >= SLUICE_WORK_SMALL_FILE_SIZE)
        c->large++;
      g_mutex_lock (c->seen_lock);
      g_assert_true (g_hash_table_add (c->seen, g_steal_pointer (&f->relpath)));
      g_mutex_unlock (c->seen_lock);
      sluice_found_file_free (f);
    }
  return NULL;
}

typedef struct {
  SluiceWorkQueue q;
  Consumer        consumers[64];
  GThread        *threads[64];
  guint           n;
  gint            busy, busy_max;
  GHashTable     *seen;
  GMutex          seen_lock;
} Pool;

static void
pool_start (Pool    *p,
            guint    n_main,
            guint    n_small,
            guint    work_us,
            guint    capacity)
{
  memset (p, 0, sizeof *p);
  sluice_work_queue_init (&p->q);
  sluice_work_queue_reset (&p->q, capacity);
  p->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&p->seen_lock);
  p->n = n_main + n_small;
  for (guint i = 0; i < p->n; i++)
    {
      Consumer *c = &p->consumers[i];

      c->q = &p->q;
      c->small_only = i >= n_main;
      c->work_us = work_us;
      c->busy = &p->busy;
      c->busy_max = &p->busy_max;
      c->seen = p->seen;
      c->seen_lock = &p->seen_lock;
      p->threads[i] = g_thread_new ("consumer", consume, c);
    }
}

static void
pool_finish (Pool  *p,
             guint  files)
{
  sluice_work_queue_close_files (&p->q);
  for (guint i = 0; i < p->n; i++)
    g_thread_join (p->threads[i]);
  g_assert_cmpuint (g_hash_table_size (p->seen), ==, files);
}

static void
pool_clear (Pool *p)
{
  g_hash_table_unref (p->seen);
  g_mutex_clear (&p->seen_lock);
  sluice_work_queue_clear (&p->q);
}

/* Files that trickle in, to 32 idle workers: about one wake-up per file. Waking every idle
 * worker for each (as the queue once did) is some 30 per file here. */
static void
test_one_wake_per_file (void)
{
  Pool p;
  guint64 wakeups;

  pool_start (&p, 32, 0, 0, 1024);
  g_usleep (50 * 1000);   /* all of them waiting */
  for (guint i = 0; i < 300; i++)
    {
      g_assert_true (sluice_work_queue_push_file (&p.q, found (i, SMALL)));
      g_usleep (500);
    }
  wakeups = sluice_work_queue_get_wakeups (&p.q);
  pool_finish (&p, 300);
  g_test_message ("%" G_GUINT64_FORMAT " wake-ups for 300 files", wakeups);
  g_assert_cmpuint (wakeups, <=, 2 * 300);
  pool_clear (&p);
}

/* A burst of files wakes one worker, which wakes the next while files are left: all of them
 * get going, and every file comes out once, through a queue smaller than the burst. */
static void
test_burst_wakes_all (void)
{
  Pool p;
  gint busy_max;

  pool_start (&p, 16, 0, 2000, 64);
  g_usleep (50 * 1000);
  for (guint i = 0; i < 2000; i++)
    g_assert_true (sluice_work_queue_push_file (&p.q, found (i, SMALL)));
  /* before the end wakes everyone */
  busy_max = g_atomic_int_get (&p.busy_max);
  pool_finish (&p, 2000);
  g_test_message ("at most %d of 16 workers busy at once", busy_max);
  g_assert_cmpint (busy_max, >=, 12);
  pool_clear (&p);
}

/* Extra workers take small files only, even when every other worker is busy; the large ones
 * wait for the others. */
static void
test_small_only (void)
{
  Pool p;
  guint small_taken = 0, large_taken = 0;

  pool_start (&p, 2, 6, 3000, 1024);
  g_usleep (50 * 1000);
  for (guint i = 0; i < 400; i++)
    g_assert_true (sluice_work_queue_push_file (&p.q, found (i, i % 4 == 0 ? LARGE : SMALL)));
  pool_finish (&p, 400);
  for (guint i = 0; i < p.n; i++)
    {
      if (p.consumers[i].small_only)
        {
          g_assert_cmpuint (p.consumers[i].large, ==, 0);
          small_taken += p.consumers[i].files;
        }
      else
        large_taken += p.consumers[i].large;
    }
  g_assert_cmpuint (large_taken, ==, 100);
  /* six extra workers against two: they took most of the small files */
  g_assert_cmpuint (small_taken, >, 150);
  pool_clear (&p);
}

typedef struct {
  SluiceWorkQueue *q;
  guint           *pending;
  guint            ran;
} Owner;

static gpointer
own_parts (gpointer data)
{
  Owner *o = data;
  gpointer job;

  while ((job = sluice_work_queue_pop_part_until (o->q, o->pending)) != NULL)
    {
      o->ran++;
      g_mutex_lock (&o->q->mutex);
      (*o->pending)--;
      sluice_work_queue_part_done_locked (o->q);
      g_mutex_unlock (&o->q->mutex);
    }
  return NULL;
}

/* A worker waiting on its large file's parts uploads them as they come, and returns once the
 * last one is done, even when another worker did that one. */
static void
test_parts (void)
{
  SluiceWorkQueue q;
  guint pending = 3;
  Owner o = { &q, &pending, 0 };
  GThread *owner;
  gpointer part;
  SluiceFoundFile *f;

  sluice_work_queue_init (&q);
  sluice_work_queue_reset (&q, 16);
  sluice_work_queue_large_begin (&q);
  owner = g_thread_new ("owner", own_parts, &o);
  sluice_work_queue_push_part (&q, GUINT_TO_POINTER (1));
  sluice_work_queue_push_part (&q, GUINT_TO_POINTER (2));
  g_usleep (50 * 1000);
  /* the third is taken by another worker (a part comes before any file) */
  sluice_work_queue_push_file (&q, found (0, SMALL));
  sluice_work_queue_push_part (&q, GUINT_TO_POINTER (3));
  g_mutex_lock (&q.mutex);
  while (q.parts.length > 0 && pending > 1)
    {
      g_mutex_unlock (&q.mutex);
      g_usleep (1000);
      g_mutex_lock (&q.mutex);
    }
  g_mutex_unlock (&q.mutex);
  if (sluice_work_queue_pop (&q, FALSE, &part, &f) && part != NULL)
    {
      g_mutex_lock (&q.mutex);
      pending--;
      sluice_work_queue_part_done_locked (&q);
      g_mutex_unlock (&q.mutex);
    }
  g_thread_join (owner);
  g_assert_cmpuint (pending, ==, 0);
  g_assert_cmpuint (o.ran, >=, 2);
  sluice_work_queue_large_end (&q);
  sluice_work_queue_close_files (&q);
  /* the file is still there for the others; then the end */
  while (sluice_work_queue_pop (&q, FALSE, &part, &f))
    sluice_found_file_free (f);
  sluice_work_queue_clear (&q);
}

/* An abort wakes every waiter: workers stop, and the walker's push is refused. */
static void
test_abort (void)
{
  Pool p;
  SluiceFoundFile *late = found (1, SMALL);

  pool_start (&p, 4, 4, 0, 1024);
  g_usleep (50 * 1000);
  sluice_work_queue_abort (&p.q);
  for (guint i = 0; i < p.n; i++)
    g_thread_join (p.threads[i]);
  g_assert_false (sluice_work_queue_push_file (&p.q, late));
  sluice_found_file_free (late);
  g_assert_cmpuint (g_hash_table_size (p.seen), ==, 0);
  pool_clear (&p);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/work-queue/one-wake-per-file", test_one_wake_per_file);
  g_test_add_func ("/engine/work-queue/burst-wakes-all", test_burst_wakes_all);
  g_test_add_func ("/engine/work-queue/small-only", test_small_only);
  g_test_add_func ("/engine/work-queue/parts", test_parts);
  g_test_add_func ("/engine/work-queue/abort", test_abort);
  return g_test_run ();
}
