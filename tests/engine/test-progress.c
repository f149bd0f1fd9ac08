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

  return g_test_run ();
}
