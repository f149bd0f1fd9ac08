/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-pipeline"

#include "config.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "sluice-engine.h"
#include "sluice-test-pipeline.h"
#include "sluice-test-util.h"

/*
 * The pipeline's work queue without a server: a dry run walks, queues and looks up every file
 * but sends nothing. The queue itself, its wake-ups and its extra workers that take only small
 * files: test-work-queue.c. The integration tests cover the rest of a run against a real S3
 * server: /integration/large/multipart queues large and small files together.
 */

typedef struct {
  SluicePipeline *pipeline;
  SluicePipelineSummary summary;
  gboolean ok;
  GError *error;
  gboolean done;
  GMutex mutex;
  GCond cond;
} Run;

static gpointer
run_thread (gpointer data)
{
  Run *r = data;

  r->ok = sluice_pipeline_run (r->pipeline, NULL, &r->summary, &r->error);
  g_mutex_lock (&r->mutex);
  r->done = TRUE;
  g_cond_signal (&r->cond);
  g_mutex_unlock (&r->mutex);
  return NULL;
}

/*
 * More files than the queue holds (1,024), in many folders, so that the walker's listers fill
 * the queue and several of them wait for room at once while one worker drains it. Every file
 * must come out, and the run must end: a lister left asleep on a drained queue hangs it.
 */
static void
run_tree (guint folders,
          guint per_folder,
          guint large_every);

static void
test_full_queue_many_listers (void)
{
  run_tree (40, 100, 0);
}

/* Large files among small ones, through the full queue: every file and every byte a real run
 * would read is counted. The large files are sparse: a dry run does not read them. */
static void
test_mixed_sizes (void)
{
  run_tree (30, 100, 3);
}

static void
run_tree (guint folders,
          guint per_folder,
          guint large_every)
{
  g_autofree char *root = sluice_test_make_dir ("pipeline-queue");
  g_autofree char *source = g_build_filename (root, "source", NULL);
  g_autofree char *catalog = g_build_filename (root, "catalog.db", NULL);
  g_autoptr(SluiceCredentialsProvider) creds = sluice_credentials_provider_new (NULL);
  SluicePipelineOptions options;
  Run r = { 0 };
  GThread *thread;
  gint64 deadline;
  guint64 large = 0;

  for (guint d = 0; d < folders; d++)
    {
      g_autofree char *name = g_strdup_printf ("folder-%02u", d);
      g_autofree char *dir = g_build_filename (source, name, NULL);

      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      for (guint i = 0; i < per_folder; i++)
        {
          g_autofree char *file = g_strdup_printf ("img-%03u.jpg", i);
          sluice_test_write_file_at (dir, file, "x", 1);
          if (large_every > 0 && i % large_every == 0)
            {
              g_autofree char *path = g_build_filename (dir, file, NULL);
              g_assert_cmpint (truncate (path, 3 * 1024 * 1024), ==, 0);
              large++;
            }
        }
    }

  sluice_test_dry_run_options (&options, source, catalog, creds);

  r.pipeline = sluice_pipeline_new (&options, &r.error);
  g_assert_no_error (r.error);
  g_mutex_init (&r.mutex);
  g_cond_init (&r.cond);
  thread = g_thread_new ("test-run", run_thread, &r);

  /* a hang is a failure with a message, not a test killed by meson's timeout */
  deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  g_mutex_lock (&r.mutex);
  while (!r.done)
    if (!g_cond_wait_until (&r.cond, &r.mutex, deadline))
      g_error ("the dry run of %u files did not end within 60 s: the work queue hangs",
               folders * per_folder);
  g_mutex_unlock (&r.mutex);
  g_thread_join (thread);

  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  g_assert_cmpint (r.summary.counts.files[SLUICE_STAGE_FOUND], ==, folders * per_folder);
  g_assert_cmpint (r.summary.counts.files[SLUICE_STAGE_READ], ==, folders * per_folder);
  g_assert_cmpint (r.summary.counts.files[SLUICE_STAGE_FAILED], ==, 0);
  g_assert_cmpint (r.summary.counts.bytes[SLUICE_STAGE_READ], ==,
                   large * 3 * 1024 * 1024 + (folders * per_folder - large));

  sluice_pipeline_summary_clear (&r.summary);
  sluice_pipeline_free (r.pipeline);
  sluice_pipeline_options_clear (&options);
  g_mutex_clear (&r.mutex);
  g_cond_clear (&r.cond);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/engine/pipeline/full-queue-many-listers", test_full_queue_many_listers);
  g_test_add_func ("/engine/pipeline/mixed-sizes", test_mixed_sizes);
  return g_test_run ();
}
