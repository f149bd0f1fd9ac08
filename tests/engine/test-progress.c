/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-progress"

#include "config.h"

#include "sluice-progress.h"

static void
test_add_and_snapshot (void)
{
  g_autoptr(SluiceProgress) p = sluice_progress_new ();
  SluiceProgressSnapshot snap;

  sluice_progress_snapshot (p, &snap);
  for (int i = 0; i < SLUICE_N_STAGES; i++)
    {
      g_assert_cmpint (snap.files[i], ==, 0);
      g_assert_cmpint (snap.bytes[i], ==, 0);
    }

  sluice_progress_add (p, SLUICE_STAGE_FOUND, 100);
  sluice_progress_add (p, SLUICE_STAGE_FOUND, 50);
  sluice_progress_add (p, SLUICE_STAGE_UPLOADED, 0);
  sluice_progress_add (p, SLUICE_STAGE_WARNINGS, 7);
  sluice_progress_snapshot (p, &snap);

  g_assert_cmpint (snap.files[SLUICE_STAGE_FOUND], ==, 2);
  g_assert_cmpint (snap.bytes[SLUICE_STAGE_FOUND], ==, 150);
  g_assert_cmpint (snap.files[SLUICE_STAGE_UPLOADED], ==, 1);
  g_assert_cmpint (snap.bytes[SLUICE_STAGE_UPLOADED], ==, 0);
  g_assert_cmpint (snap.files[SLUICE_STAGE_WARNINGS], ==, 1);
  g_assert_cmpint (snap.files[SLUICE_STAGE_READ], ==, 0);
}

static void
test_add_bytes (void)
{
  g_autoptr(SluiceProgress) p = sluice_progress_new ();
  SluiceProgressSnapshot snap;

  /* bytes of a file in progress (a multipart upload's parts), without counting a file */
  sluice_progress_add_bytes (p, SLUICE_STAGE_UPLOADED, 5 * 1024 * 1024);
  sluice_progress_add_bytes (p, SLUICE_STAGE_UPLOADED, 17);
  sluice_progress_snapshot (p, &snap);
  g_assert_cmpint (snap.files[SLUICE_STAGE_UPLOADED], ==, 0);
  g_assert_cmpint (snap.bytes[SLUICE_STAGE_UPLOADED], ==, 5 * 1024 * 1024 + 17);
}

static void
test_large_bytes (void)
{
  g_autoptr(SluiceProgress) p = sluice_progress_new ();
  SluiceProgressSnapshot snap;

  /* terabytes of NAS: well past 32 bits */
  for (int i = 0; i < 4; i++)
    sluice_progress_add (p, SLUICE_STAGE_READ, G_GUINT64_CONSTANT (3) << 40);
  sluice_progress_snapshot (p, &snap);
  g_assert_cmpint (snap.bytes[SLUICE_STAGE_READ], ==, G_GINT64_CONSTANT (12) << 40);
}

static void
test_walk_done (void)
{
  g_autoptr(SluiceProgress) p = sluice_progress_new ();

  g_assert_false (sluice_progress_walk_done (p));
  sluice_progress_set_walk_done (p);
  g_assert_true (sluice_progress_walk_done (p));
}

static void
test_stage_names (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpstr (sluice_stage_name (SLUICE_STAGE_FOUND), ==, "found");
  g_assert_cmpstr (sluice_stage_name (SLUICE_STAGE_PROBE_FAILED), ==, "probe_failed");
  g_assert_cmpstr (sluice_stage_name (SLUICE_N_STAGES), ==, "unknown");
  for (int i = 0; i < SLUICE_N_STAGES; i++)
    {
      const char *name = sluice_stage_name (i);
      g_assert_false (g_hash_table_contains (seen, name));
      g_hash_table_add (seen, (gpointer) name);
    }
}

#define THREADS 8
#define PER_THREAD 100000

static gpointer
bump (gpointer user_data)
{
  for (int i = 0; i < PER_THREAD; i++)
    sluice_progress_add (user_data, SLUICE_STAGE_UPLOADED, 3);
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr(SluiceProgress) p = sluice_progress_new ();
  GThread *threads[THREADS];
  SluiceProgressSnapshot snap;

  /* no lock, and still no lost update */
  for (int i = 0; i < THREADS; i++)
    threads[i] = g_thread_new ("bump", bump, p);
  for (int i = 0; i < THREADS; i++)
    g_thread_join (threads[i]);
  sluice_progress_snapshot (p, &snap);
  g_assert_cmpint (snap.files[SLUICE_STAGE_UPLOADED], ==, THREADS * PER_THREAD);
  g_assert_cmpint (snap.bytes[SLUICE_STAGE_UPLOADED], ==, 3 * THREADS * PER_THREAD);
}

static void
test_bad_stage (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(SluiceProgress) p = sluice_progress_new ();
      sluice_progress_add (p, SLUICE_N_STAGES, 1);
      return;
    }
  /* a stage out of range is a programming error, caught before it writes past the arrays */
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stage < SLUICE_N_STAGES*");
}


/* ---- the meter: rates over the last seconds, and the time left ---- */

#define SECOND G_USEC_PER_SEC
#define MB     G_GINT64_CONSTANT (1000000)

/* Counters of a run that found @found files of @found_bytes and has uploaded @files of @bytes. */
static SluiceProgressSnapshot
counts (gint64 found,
        gint64 found_bytes,
        gint64 files,
        gint64 bytes)
{
  SluiceProgressSnapshot s = { 0 };

  s.files[SLUICE_STAGE_FOUND] = found;
  s.bytes[SLUICE_STAGE_FOUND] = found_bytes;
  s.files[SLUICE_STAGE_UPLOADED] = files;
  s.bytes[SLUICE_STAGE_UPLOADED] = bytes;
  return s;
}

static void
test_done_counts (void)
{
  SluiceProgressSnapshot s = { 0 };

  /* done: uploaded, skipped, failed, copied; not read or probed (still in flight) */
  s.files[SLUICE_STAGE_UPLOADED] = 1;
  s.files[SLUICE_STAGE_SKIPPED] = 10;
  s.files[SLUICE_STAGE_FAILED] = 100;
  s.files[SLUICE_STAGE_DEDUPLICATED] = 1000;
  s.files[SLUICE_STAGE_READ] = 10000;
  s.files[SLUICE_STAGE_PROBED] = 100000;
  for (int i = 0; i < SLUICE_N_STAGES; i++)
    s.bytes[i] = 2 * s.files[i];
  g_assert_cmpint (sluice_progress_files_done (&s), ==, 1111);
  g_assert_cmpint (sluice_progress_bytes_done (&s), ==, 2222);
}

static void
test_meter_steady (void)
{
  g_autoptr(SluiceProgressMeter) m = sluice_progress_meter_new (5 * SECOND);
  SluiceProgressRates r = { -7, -7, -7 };
  gint64 t0 = 1000 * SECOND;

  /* 100 files and 1 MB a second, sampled ten times a second: nothing to say for half a
   * second, then the rates */
  for (int tick = 0; tick <= 20; tick++)
    {
      SluiceProgressSnapshot s = counts (1000, 1000 * MB, 10 * tick, tick * MB / 10);
      gboolean ok = sluice_progress_meter_update (m, t0 + tick * SECOND / 10, &s, TRUE, &r);

      g_assert_true (ok == (tick >= 5));
      if (!ok)
        g_assert_cmpfloat (r.files_per_s, ==, -7);   /* left alone */
    }
  g_assert_cmpfloat_with_epsilon (r.files_per_s, 100, 1e-6);
  g_assert_cmpfloat_with_epsilon (r.bytes_per_s, 1 * MB, 1e-3);
  /* 800 files left at 100/s is 8 s, 998 MB at 1 MB/s is 998 s: the bytes bind */
  g_assert_cmpfloat_with_epsilon (r.eta_seconds, 998, 1e-6);
}

/* The rates of a meter that saw @s0 and, a second later, @s1. */
static SluiceProgressRates
rates_over_a_second (SluiceProgressSnapshot s0,
                     SluiceProgressSnapshot s1,
                     gboolean               walk_done)
{
  g_autoptr(SluiceProgressMeter) m = sluice_progress_meter_new (5 * SECOND);
  SluiceProgressRates r = { 0 };

  g_assert_false (sluice_progress_meter_update (m, 0, &s0, walk_done, &r));
  g_assert_true (sluice_progress_meter_update (m, SECOND, &s1, walk_done, &r));
  return r;
}

static void
test_meter_walk_not_done (void)
{
  /* the totals still grow: rates, but no time left */
  SluiceProgressRates r = rates_over_a_second (counts (1000, 1000 * MB, 0, 0),
                                               counts (2000, 2000 * MB, 100, 100 * MB), FALSE);

  g_assert_cmpfloat_with_epsilon (r.files_per_s, 100, 1e-6);
  g_assert_cmpfloat (r.eta_seconds, <, 0);
}

static void
test_meter_many_small_files_left (void)
{
  /* the big files are done; 10,000 small ones (10 MB) are left, and 500 of them (5 MB) went
   * in the last second */
  SluiceProgressRates r = rates_over_a_second (counts (11000, 1010 * MB, 1000, 1000 * MB),
                                               counts (11000, 1010 * MB, 1500, 1005 * MB), TRUE);

  /* the 5 MB left would take 1 s at 5 MB/s; the 9,500 files take 19 s at 500 a second */
  g_assert_cmpfloat_with_epsilon (r.files_per_s, 500, 1e-6);
  g_assert_cmpfloat_with_epsilon (r.bytes_per_s, 5 * MB, 1e-3);
  g_assert_cmpfloat_with_epsilon (r.eta_seconds, 19, 1e-6);
}

static void
test_meter_parts_of_one_file (void)
{
  /* one 1 GB file's parts go; no file finishes in the window, the bytes still tell */
  SluiceProgressRates r = rates_over_a_second (counts (1, 1000 * MB, 0, 0),
                                               counts (1, 1000 * MB, 0, 100 * MB), TRUE);

  g_assert_cmpfloat_with_epsilon (r.files_per_s, 0, 1e-9);
  g_assert_cmpfloat_with_epsilon (r.bytes_per_s, 100 * MB, 1e-3);
  g_assert_cmpfloat_with_epsilon (r.eta_seconds, 9, 1e-6);
}

static void
test_meter_stalled (void)
{
  g_autoptr(SluiceProgressMeter) m = sluice_progress_meter_new (5 * SECOND);
  SluiceProgressSnapshot s = counts (100, 100 * MB, 10, 10 * MB);
  SluiceProgressRates r;

  /* nothing moved: no rate, no promise */
  sluice_progress_meter_update (m, 0, &s, TRUE, &r);
  g_assert_true (sluice_progress_meter_update (m, 2 * SECOND, &s, TRUE, &r));
  g_assert_cmpfloat (r.files_per_s, ==, 0);
  g_assert_cmpfloat (r.bytes_per_s, ==, 0);
  g_assert_cmpfloat (r.eta_seconds, <, 0);

  /* files left but not moving, and no bytes left (empty files): still no promise */
  s = counts (100, 10 * MB, 10, 10 * MB);
  g_assert_true (sluice_progress_meter_update (m, 3 * SECOND, &s, TRUE, &r));
  g_assert_cmpfloat (r.eta_seconds, <, 0);

  /* everything done: nothing left */
  s = counts (100, 100 * MB, 100, 100 * MB);
  g_assert_true (sluice_progress_meter_update (m, 4 * SECOND, &s, TRUE, &r));
  g_assert_cmpfloat (r.eta_seconds, ==, 0);
}

static void
test_meter_window (void)
{
  g_autoptr(SluiceProgressMeter) m = sluice_progress_meter_new (5 * SECOND);
  SluiceProgressRates r;
  gint64 files = 0;

  /* 20 s at 100 files/s, then 10 s at 400: the rate is the recent one, not the average */
  for (int tick = 0; tick <= 300; tick++)
    {
      SluiceProgressSnapshot s;

      files += tick <= 200 ? (tick > 0 ? 10 : 0) : 40;
      s = counts (100000, 100000 * MB, files, files * MB);
      sluice_progress_meter_update (m, tick * SECOND / 10, &s, TRUE, &r);
      if (tick == 200)
        g_assert_cmpfloat_with_epsilon (r.files_per_s, 100, 1e-6);
    }
  g_assert_cmpfloat_with_epsilon (r.files_per_s, 400, 1e-6);
}

static void
test_meter_fed_often (void)
{
  g_autoptr(SluiceProgressMeter) m = sluice_progress_meter_new (5 * SECOND);
  SluiceProgressRates r = { 0 };
  gboolean ok = FALSE;

  /* a sample every millisecond for 10 s: more samples than the meter keeps, and still a
   * rate over the whole window */
  for (int ms = 0; ms <= 10000; ms++)
    {
      SluiceProgressSnapshot s = counts (1000000, 1000000 * MB, ms, ms * MB);

      ok = sluice_progress_meter_update (m, ms * (SECOND / 1000), &s, TRUE, &r);
    }
  g_assert_true (ok);
  g_assert_cmpfloat_with_epsilon (r.files_per_s, 1000, 1e-6);
}

static void
test_meter_reset (void)
{
  g_autoptr(SluiceProgressMeter) m = sluice_progress_meter_new (5 * SECOND);
  SluiceProgressSnapshot s0 = counts (100, 100 * MB, 0, 0);
  SluiceProgressSnapshot s1 = counts (100, 100 * MB, 10, 10 * MB);
  SluiceProgressRates r;

  sluice_progress_meter_update (m, 0, &s0, TRUE, &r);
  g_assert_true (sluice_progress_meter_update (m, SECOND, &s1, TRUE, &r));
  /* a pause: its standstill must not drag the rate down afterwards */
  sluice_progress_meter_reset (m);
  g_assert_false (sluice_progress_meter_update (m, 60 * SECOND, &s1, TRUE, &r));
  s0 = counts (100, 100 * MB, 30, 30 * MB);
  g_assert_true (sluice_progress_meter_update (m, 61 * SECOND, &s0, TRUE, &r));
  g_assert_cmpfloat_with_epsilon (r.files_per_s, 20, 1e-6);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/progress/add-and-snapshot", test_add_and_snapshot);
  g_test_add_func ("/engine/progress/add-bytes", test_add_bytes);
  g_test_add_func ("/engine/progress/large-bytes", test_large_bytes);
  g_test_add_func ("/engine/progress/walk-done", test_walk_done);
  g_test_add_func ("/engine/progress/stage-names", test_stage_names);
  g_test_add_func ("/engine/progress/threads", test_threads);
  g_test_add_func ("/engine/progress/bad-stage", test_bad_stage);
  g_test_add_func ("/engine/progress/done-counts", test_done_counts);
  g_test_add_func ("/engine/progress/meter-steady", test_meter_steady);
  g_test_add_func ("/engine/progress/meter-walk-not-done", test_meter_walk_not_done);
  g_test_add_func ("/engine/progress/meter-many-small-files-left",
                   test_meter_many_small_files_left);
  g_test_add_func ("/engine/progress/meter-parts-of-one-file", test_meter_parts_of_one_file);
  g_test_add_func ("/engine/progress/meter-stalled", test_meter_stalled);
  g_test_add_func ("/engine/progress/meter-window", test_meter_window);
  g_test_add_func ("/engine/progress/meter-fed-often", test_meter_fed_often);
  g_test_add_func ("/engine/progress/meter-reset", test_meter_reset);

  return g_test_run ();
}
