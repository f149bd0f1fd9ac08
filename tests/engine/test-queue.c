/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-queue"

#include "config.h"

#include "sluice-queue.h"

/*
 * The bounded queue between pipeline stages. "Blocks" is shown with a second thread that must
 * still be waiting a while later; the opposite outcome (it returned) would be immediate, so
 * the checks cannot pass by luck, only (on a very slow machine) fail to notice a bug.
 */

#define SETTLE_US (100 * G_TIME_SPAN_MILLISECOND)

static gint freed;

static void
count_free (gpointer item)
{
  g_atomic_int_inc (&freed);
}

typedef struct {
  SluiceQueue *queue;
  gpointer     item;      /* to push */
  gpointer     result;    /* popped */
  gboolean     pushed;
  gint         done;
} Worker;

static gpointer
push_worker (gpointer user_data)
{
  Worker *w = user_data;

  w->pushed = sluice_queue_push (w->queue, w->item);
  g_atomic_int_set (&w->done, 1);
  return NULL;
}

static gpointer
pop_worker (gpointer user_data)
{
  Worker *w = user_data;

  w->result = sluice_queue_pop (w->queue);
  g_atomic_int_set (&w->done, 1);
  return NULL;
}

static void
test_fifo (void)
{
  g_autoptr(SluiceQueue) q = sluice_queue_new (10, NULL);

  for (guintptr i = 1; i <= 5; i++)
    g_assert_true (sluice_queue_push (q, GUINT_TO_POINTER (i)));
  g_assert_cmpuint (sluice_queue_length (q), ==, 5);
  for (guintptr i = 1; i <= 5; i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (sluice_queue_pop (q)), ==, i);
  g_assert_cmpuint (sluice_queue_length (q), ==, 0);
}

static void
test_push_blocks_when_full (void)
{
  g_autoptr(SluiceQueue) q = sluice_queue_new (2, NULL);
  Worker w = { q, GUINT_TO_POINTER (3), NULL, FALSE, 0 };
  GThread *thread;

  g_assert_true (sluice_queue_push (q, GUINT_TO_POINTER (1)));
  g_assert_true (sluice_queue_push (q, GUINT_TO_POINTER (2)));

  thread = g_thread_new ("push", push_worker, &w);
  g_usleep (SETTLE_US);
  g_assert_cmpint (g_atomic_int_get (&w.done), ==, 0);
  g_assert_cmpuint (sluice_queue_length (q), ==, 2);

  /* room for one: the waiting push goes through, and the queue is full again */
  g_assert_cmpuint (GPOINTER_TO_UINT (sluice_queue_pop (q)), ==, 1);
  g_thread_join (thread);
  g_assert_true (w.pushed);
  g_assert_cmpuint (sluice_queue_length (q), ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (sluice_queue_pop (q)), ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (sluice_queue_pop (q)), ==, 3);
}

static void
test_pop_blocks_when_empty (void)
{
  g_autoptr(SluiceQueue) q = sluice_queue_new (2, NULL);
  Worker w = { q, NULL, NULL, FALSE, 0 };
  GThread *thread = g_thread_new ("pop", pop_worker, &w);

  g_usleep (SETTLE_US);
  g_assert_cmpint (g_atomic_int_get (&w.done), ==, 0);
  g_assert_true (sluice_queue_push (q, GUINT_TO_POINTER (7)));
  g_thread_join (thread);
  g_assert_cmpuint (GPOINTER_TO_UINT (w.result), ==, 7);
  g_assert_cmpuint (sluice_queue_length (q), ==, 0);
}

typedef struct {
  SluiceQueue *queue;
  gint64       deadline;
  gpointer     result;
  gint64       returned;  /* monotonic time */
  gint         done;
} Timed;

static gpointer
pop_until_worker (gpointer user_data)
{
  Timed *t = user_data;

  t->result = sluice_queue_pop_until (t->queue, t->deadline);
  t->returned = g_get_monotonic_time ();
  g_atomic_int_set (&t->done, 1);
  return NULL;
}

/* A lazy push wakes a consumer that waits without a deadline, like a push. */
static void
test_lazy_wakes_pop (void)
{
  g_autoptr(SluiceQueue) q = sluice_queue_new (2, NULL);
  Worker w = { q, NULL, NULL, FALSE, 0 };
  GThread *thread = g_thread_new ("pop", pop_worker, &w);

  g_usleep (SETTLE_US);
  g_assert_cmpint (g_atomic_int_get (&w.done), ==, 0);
  g_assert_true (sluice_queue_push_lazy (q, GUINT_TO_POINTER (8)));
  g_thread_join (thread);
  g_assert_cmpuint (GPOINTER_TO_UINT (w.result), ==, 8);
}

/* A consumer waiting for a deadline is not woken by a lazy push: it takes the item at its
 * deadline. A plain push wakes it at once. */
static void
test_lazy_waits_for_deadline (void)
{
  g_autoptr(SluiceQueue) q = sluice_queue_new (4, NULL);
  Timed t = { q, 0, NULL, 0, 0 };
  GThread *thread;
  gint64 pushed;

  t.deadline = g_get_monotonic_time () + 4 * SETTLE_US;
  thread = g_thread_new ("pop-until", pop_until_worker, &t);
  g_usleep (SETTLE_US);
  g_assert_true (sluice_queue_push_lazy (q, GUINT_TO_POINTER (9)));
  g_usleep (SETTLE_US);
  /* still asleep with the item queued */
  g_assert_cmpint (g_atomic_int_get (&t.done), ==, 0);
  g_thread_join (thread);
  g_assert_cmpuint (GPOINTER_TO_UINT (t.result), ==, 9);
  g_assert_cmpint (t.returned, >=, t.deadline);

  /* the same wait, woken by a plain push long before its deadline */
  t.deadline = g_get_monotonic_time () + 100 * SETTLE_US;
  t.done = 0;
  thread = g_thread_new ("pop-until", pop_until_worker, &t);
  g_usleep (SETTLE_US);
  pushed = g_get_monotonic_time ();
  g_assert_true (sluice_queue_push (q, GUINT_TO_POINTER (10)));
  g_thread_join (thread);
  g_assert_cmpuint (GPOINTER_TO_UINT (t.result), ==, 10);
  g_assert_cmpint (t.returned, <, t.deadline);
  g_assert_cmpint (t.returned, >=, pushed);
}

static void
test_close_drains (void)
{
  g_autoptr(SluiceQueue) q = sluice_queue_new (4, count_free);

  g_atomic_int_set (&freed, 0);
  for (guintptr i = 1; i <= 3; i++)
    g_assert_true (sluice_queue_push (q, GUINT_TO_POINTER (i)));
  sluice_queue_close (q);

  /* refused after close, and the item stays the caller's */
  g_assert_false (sluice_queue_push (q, GUINT_TO_POINTER (99)));
  g_assert_cmpint (g_atomic_int_get (&freed), ==, 0);

  /* what was queued still comes out, in order, then NULL for good */
  for (guintptr i = 1; i <= 3; i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (sluice_queue_pop (q)), ==, i);
  g_assert_null (sluice_queue_pop (q));
  g_assert_null (sluice_queue_pop (q));
  g_assert_cmpint (g_atomic_int_get (&freed), ==, 0);
}

static void
test_close_wakes_waiters (void)
{
  g_autoptr(SluiceQueue) empty = sluice_queue_new (1, NULL);
  g_autoptr(SluiceQueue) full = sluice_queue_new (1, NULL);
  Worker popper = { empty, NULL, GUINT_TO_POINTER (1), FALSE, 0 };
  Worker pusher = { full, GUINT_TO_POINTER (2), NULL, TRUE, 0 };
  GThread *t1, *t2;

  g_assert_true (sluice_queue_push (full, GUINT_TO_POINTER (1)));
  t1 = g_thread_new ("pop", pop_worker, &popper);
  t2 = g_thread_new ("push", push_worker, &pusher);
  g_usleep (SETTLE_US);
  g_assert_cmpint (g_atomic_int_get (&popper.done), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&pusher.done), ==, 0);

  sluice_queue_close (empty);
  sluice_queue_close (full);
  g_thread_join (t1);
  g_thread_join (t2);
  g_assert_null (popper.result);
  g_assert_false (pusher.pushed);
  /* the item that was in the full queue is still there to drain */
  g_assert_cmpuint (GPOINTER_TO_UINT (sluice_queue_pop (full)), ==, 1);
}

static void
test_abort (void)
{
  g_autoptr(SluiceQueue) q = sluice_queue_new (8, count_free);
  g_autoptr(SluiceQueue) full = sluice_queue_new (1, count_free);
  Worker pusher = { full, GUINT_TO_POINTER (5), NULL, TRUE, 0 };
  GThread *thread;

  g_atomic_int_set (&freed, 0);
  for (guintptr i = 1; i <= 5; i++)
    g_assert_true (sluice_queue_push (q, GUINT_TO_POINTER (i)));
  sluice_queue_abort (q);

  /* queued items are dropped (and freed), nothing comes out, nothing goes in */
  g_assert_cmpint (g_atomic_int_get (&freed), ==, 5);
  g_assert_cmpuint (sluice_queue_length (q), ==, 0);
  g_assert_null (sluice_queue_pop (q));
  g_assert_false (sluice_queue_push (q, GUINT_TO_POINTER (6)));
  g_assert_cmpint (g_atomic_int_get (&freed), ==, 5);

  /* and a producer waiting for room is released */
  g_assert_true (sluice_queue_push (full, GUINT_TO_POINTER (4)));
  thread = g_thread_new ("push", push_worker, &pusher);
  g_usleep (SETTLE_US);
  g_assert_cmpint (g_atomic_int_get (&pusher.done), ==, 0);
  sluice_queue_abort (full);
  g_thread_join (thread);
  g_assert_false (pusher.pushed);
  g_assert_cmpint (g_atomic_int_get (&freed), ==, 6);
}

static void
test_free_frees_items (void)
{
  SluiceQueue *q = sluice_queue_new (8, count_free);

  g_atomic_int_set (&freed, 0);
  for (guintptr i = 1; i <= 3; i++)
    g_assert_true (sluice_queue_push (q, GUINT_TO_POINTER (i)));
  g_assert_cmpuint (GPOINTER_TO_UINT (sluice_queue_pop (q)), ==, 1);
  sluice_queue_free (q);
  g_assert_cmpint (g_atomic_int_get (&freed), ==, 2);

  /* NULL is a no-op, for g_autoptr */
  sluice_queue_free (NULL);
}

#define PRODUCERS 4
#define CONSUMERS 4
#define PER_PRODUCER 20000
#define CAPACITY 8

typedef struct {
  SluiceQueue *q;
  gint        *seen;       /* how often each item came out */
  gint         overflow;   /* the queue was seen longer than its capacity */
} Stress;

typedef struct {
  Stress *s;
  guint   index;
} StressArg;

static gpointer
stress_producer (gpointer user_data)
{
  StressArg *a = user_data;

  for (guint i = 0; i < PER_PRODUCER; i++)
    {
      guint item = 1 + a->index * PER_PRODUCER + i;
      g_assert_true (sluice_queue_push (a->s->q, GUINT_TO_POINTER (item)));
    }
  return NULL;
}

static gpointer
stress_consumer (gpointer user_data)
{
  Stress *s = user_data;
  gpointer item;

  while ((item = sluice_queue_pop (s->q)) != NULL)
    {
      if (sluice_queue_length (s->q) > CAPACITY)
        g_atomic_int_inc (&s->overflow);
      g_atomic_int_inc (&s->seen[GPOINTER_TO_UINT (item)]);
    }
  return NULL;
}

static void
test_stress (void)
{
  g_autoptr(SluiceQueue) q = sluice_queue_new (CAPACITY, NULL);
  guint total = PRODUCERS * PER_PRODUCER;
  g_autofree gint *seen = g_new0 (gint, total + 1);
  Stress s = { q, seen, 0 };
  StressArg args[PRODUCERS];
  GThread *producers[PRODUCERS];
  GThread *consumers[CONSUMERS];

  for (guint i = 0; i < CONSUMERS; i++)
    consumers[i] = g_thread_new ("consumer", stress_consumer, &s);
  for (guint i = 0; i < PRODUCERS; i++)
    {
      args[i].s = &s;
      args[i].index = i;
      producers[i] = g_thread_new ("producer", stress_producer, &args[i]);
    }
  for (guint i = 0; i < PRODUCERS; i++)
    g_thread_join (producers[i]);
  sluice_queue_close (q);
  for (guint i = 0; i < CONSUMERS; i++)
    g_thread_join (consumers[i]);

  /* every item came out exactly once, and the bound held throughout */
  g_assert_cmpint (s.overflow, ==, 0);
  g_assert_cmpint (seen[0], ==, 0);
  for (guint n = 1; n <= total; n++)
    g_assert_cmpint (seen[n], ==, 1);
}

static void
test_zero_capacity (void)
{
  if (g_test_subprocess ())
    {
      sluice_queue_new (0, NULL);
      return;
    }
  /* a queue that can hold nothing would block its producer forever: a programming error */
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*capacity > 0*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/queue/fifo", test_fifo);
  g_test_add_func ("/engine/queue/push-blocks-when-full", test_push_blocks_when_full);
  g_test_add_func ("/engine/queue/pop-blocks-when-empty", test_pop_blocks_when_empty);
  g_test_add_func ("/engine/queue/lazy-wakes-pop", test_lazy_wakes_pop);
  g_test_add_func ("/engine/queue/lazy-waits-for-deadline", test_lazy_waits_for_deadline);
  g_test_add_func ("/engine/queue/close-drains", test_close_drains);
  g_test_add_func ("/engine/queue/close-wakes-waiters", test_close_wakes_waiters);
  g_test_add_func ("/engine/queue/abort", test_abort);
  g_test_add_func ("/engine/queue/free-frees-items", test_free_frees_items);
  g_test_add_func ("/engine/queue/stress", test_stress);
  g_test_add_func ("/engine/queue/zero-capacity", test_zero_capacity);

  return g_test_run ();
}
