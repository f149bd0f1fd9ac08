/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-limiter"

#include "config.h"

#include <stdlib.h>

#include "sluice-engine.h"

/*
 * The request limiter (AIMD): more threads than places, as in a run where twice --jobs workers
 * share --jobs places.
 */

#define PLACES   4
#define THREADS  32
#define ROUNDS   300

typedef struct {
  SluiceConcurrency *limiter;
  gint in_flight;
  gint most;
} Shared;

static gpointer
contender (gpointer data)
{
  Shared *sh = data;

  for (guint i = 0; i < ROUNDS; i++)
    {
      gint now;

      g_assert_true (sluice_concurrency_acquire (sh->limiter, NULL));
      now = g_atomic_int_add (&sh->in_flight, 1) + 1;
      for (gint most = g_atomic_int_get (&sh->most); now > most;
           most = g_atomic_int_get (&sh->most))
        if (g_atomic_int_compare_and_exchange (&sh->most, most, now))
          break;
      g_thread_yield ();
      g_atomic_int_add (&sh->in_flight, -1);
      sluice_concurrency_release (sh->limiter, FALSE);
    }
  return NULL;
}

/* Never more than the limit in flight, however many threads want a place. */
static void
test_many_waiters (void)
{
  Shared sh = { 0 };
  GThread *threads[THREADS];
  gint64 start = g_get_monotonic_time ();
  double seconds;

  sh.limiter = sluice_concurrency_new (PLACES);
  g_assert_cmpuint (sluice_concurrency_limit (sh.limiter), ==, PLACES);
  for (guint i = 0; i < THREADS; i++)
    threads[i] = g_thread_new ("contender", contender, &sh);
  for (guint i = 0; i < THREADS; i++)
    g_thread_join (threads[i]);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  g_test_message ("%u acquisitions by %u threads for %u places: %.2f s", THREADS * ROUNDS,
                  THREADS, PLACES, seconds);
  g_assert_cmpint (sh.most, <=, PLACES);
  g_assert_cmpint (sh.most, >=, 1);
  g_assert_cmpuint (sluice_concurrency_throttled (sh.limiter), ==, 0);
  sluice_concurrency_free (sh.limiter);
}

typedef struct {
  SluiceConcurrency *limiter;
  gint got;
} Handoff;

static gpointer
waiter (gpointer data)
{
  Handoff *h = data;

  g_assert_true (sluice_concurrency_acquire (h->limiter, NULL));
  g_atomic_int_inc (&h->got);
  return NULL;   /* keeps its place: the test frees them all at the end */
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* A place freed goes to the thread waiting for it at once, not when the waiter's 100 ms
 * time-out comes round: with a lost wake-up the median hand-off is about 40 ms. */
static void
test_handoff (void)
{
  enum { ROUNDS_HANDOFF = 11 };
  Handoff h = { sluice_concurrency_new (PLACES), 0 };
  double took[ROUNDS_HANDOFF];

  for (guint i = 0; i < PLACES; i++)
    g_assert_true (sluice_concurrency_acquire (h.limiter, NULL));
  for (gint i = 0; i < ROUNDS_HANDOFF; i++)
    {
      GThread *thread = g_thread_new ("waiter", waiter, &h);
      gint64 start;

      g_usleep (20 * 1000);   /* it waits now: every place is taken */
      g_assert_cmpint (g_atomic_int_get (&h.got), ==, i);
      start = g_get_monotonic_time ();
      sluice_concurrency_release (h.limiter, FALSE);
      while (g_atomic_int_get (&h.got) == i)
        g_usleep (50);
      took[i] = (g_get_monotonic_time () - start) / 1000.0;
      g_thread_join (thread);   /* it holds the place it got */
    }
  qsort (took, ROUNDS_HANDOFF, sizeof took[0], compare_double);
  g_test_message ("hand-off: median %.2f ms, slowest %.2f ms", took[ROUNDS_HANDOFF / 2],
                  took[ROUNDS_HANDOFF - 1]);
  g_assert_cmpfloat (took[ROUNDS_HANDOFF / 2], <, 10.0);

  for (guint i = 0; i < PLACES; i++)
    sluice_concurrency_release (h.limiter, FALSE);
  sluice_concurrency_free (h.limiter);
}

/* A throttled answer halves the limit, successes raise it again one place at a time. */
static void
test_throttle_halves (void)
{
  g_autoptr(SluiceConcurrency) limiter = sluice_concurrency_new (16);

  g_assert_true (sluice_concurrency_acquire (limiter, NULL));
  sluice_concurrency_release (limiter, TRUE);
  g_assert_cmpuint (sluice_concurrency_limit (limiter), ==, 8);
  g_assert_cmpuint (sluice_concurrency_min_limit (limiter), ==, 8);
  g_assert_cmpuint (sluice_concurrency_throttled (limiter), ==, 1);
  for (guint i = 0; i < 8; i++)
    {
      g_assert_true (sluice_concurrency_acquire (limiter, NULL));
      sluice_concurrency_release (limiter, FALSE);
    }
  g_assert_cmpuint (sluice_concurrency_limit (limiter), ==, 9);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/limiter/many-waiters", test_many_waiters);
  g_test_add_func ("/engine/limiter/handoff", test_handoff);
  g_test_add_func ("/engine/limiter/throttle-halves", test_throttle_halves);
  return g_test_run ();
}
