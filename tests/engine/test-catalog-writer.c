/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-catalog-writer"

#include "config.h"

#include <sqlite3.h>

#include "sluice-catalog-writer.h"
#include "sluice-error.h"
#include "sluice-test-util.h"

/*
 * The catalog writer thread: synchronous operations return only once committed (seen from
 * another connection), asynchronous ones from many threads all land, and a failing operation
 * undoes only its own writes within a shared batch.
 */

typedef struct {
  char                *path;
  SluiceCatalogWriter *writer;
  gint64               source;
} Fixture;

typedef struct {
  gint64    source;
  char     *relpath;
  gboolean  fail;          /* write, then fail: the write must be undone */
  guint64   seen_commits;  /* commits counted when the op ran (on the writer thread) */
  Fixture  *f;
} UpsertOp;

static gint destroyed;

static void
upsert_op_free (UpsertOp *op)
{
  g_atomic_int_inc (&destroyed);
  g_free (op->relpath);
  g_free (op);
}

static UpsertOp *
upsert_op_new (Fixture    *f,
               const char *relpath,
               gboolean    fail)
{
  UpsertOp *op = g_new0 (UpsertOp, 1);

  op->f = f;
  op->source = f->source;
  op->relpath = g_strdup (relpath);
  op->fail = fail;
  return op;
}

/* Runs on the writer thread. */
static gboolean
upsert_op (SluiceCatalog *catalog,
           gpointer       data,
           GError       **error)
{
  UpsertOp *op = data;

  op->seen_commits = sluice_catalog_writer_commits (op->f->writer);
  if (sluice_catalog_upsert_file (catalog, op->source, op->relpath, 1, 1, NULL, 0, error) == 0)
    return FALSE;
  if (op->fail)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY, "boom: %s", op->relpath);
      return FALSE;
    }
  return TRUE;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = sluice_test_make_dir ("writer");
  SluiceCatalog *catalog;

  f->path = g_build_filename (dir, "catalog.db", NULL);
  catalog = sluice_catalog_open (f->path, FALSE, &error);
  g_assert_no_error (error);
  f->source = sluice_catalog_ensure_source (catalog, "/src", &error);
  g_assert_no_error (error);
  f->writer = sluice_catalog_writer_new (catalog);
  g_assert_true (sluice_catalog_writer_get_catalog (f->writer) == catalog);
  g_atomic_int_set (&destroyed, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->writer, sluice_catalog_writer_free);
  g_free (f->path);
}

/* Whether @relpath is visible to a separate, read-only connection: committed. */
static gboolean
committed (Fixture    *f,
           const char *relpath)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) reader = sluice_catalog_open (f->path, TRUE, &error);
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gboolean found;

  g_assert_no_error (error);
  found = sluice_catalog_lookup (reader, f->source, 0, relpath, &entry, &error);
  g_assert_no_error (error);
  return found;
}

static void
test_run_sync_commits (Fixture       *f,
                       gconstpointer  data)
{
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("sync-%d.jpg", i);
      g_autoptr(GError) error = NULL;
      UpsertOp *op = upsert_op_new (f, relpath, FALSE);
      guint64 before = sluice_catalog_writer_commits (f->writer);

      /* the upload intent: durable when run_sync returns, not merely queued */
      g_assert_true (sluice_catalog_writer_run_sync (f->writer, upsert_op, op, &error));
      g_assert_no_error (error);
      g_assert_true (committed (f, relpath));
      g_assert_cmpuint (sluice_catalog_writer_commits (f->writer), >, before);
      upsert_op_free (op);
    }
}

/* Completions (nobody waits) ride on the next synchronous operation's commit (it commits
 * everything queued before it) instead of costing their own; left alone they are still
 * committed within moments, not only at a flush. */
static void
test_async_rides_along (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  UpsertOp *op;
  guint64 before = sluice_catalog_writer_commits (f->writer);
  gint64 deadline;

  for (int i = 0; i < 50; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("async-%d.jpg", i);

      sluice_catalog_writer_run (f->writer, upsert_op, upsert_op_new (f, relpath, FALSE),
                                 (GDestroyNotify) upsert_op_free);
    }
  op = upsert_op_new (f, "intent.jpg", FALSE);
  g_assert_true (sluice_catalog_writer_run_sync (f->writer, upsert_op, op, &error));
  g_assert_no_error (error);
  upsert_op_free (op);
  /* fifty completions and the intent: one commit (two if the writer was quicker than us) */
  g_assert_cmpuint (sluice_catalog_writer_commits (f->writer) - before, <=, 2);
  g_assert_true (committed (f, "async-0.jpg"));
  g_assert_true (committed (f, "async-49.jpg"));

  sluice_catalog_writer_run (f->writer, upsert_op, upsert_op_new (f, "alone.jpg", FALSE),
                             (GDestroyNotify) upsert_op_free);
  deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  while (!committed (f, "alone.jpg") && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  g_assert_true (committed (f, "alone.jpg"));
}

/* An upload intent commits at once and on its own: the completions queued before it keep
 * waiting for their batch (they would otherwise be rewritten into every intent's commit), and
 * then all of them cost one commit. */
static void
test_intent_jumps_completions (Fixture       *f,
                               gconstpointer  data)
{
  gboolean seen = FALSE;

  for (int attempt = 0; attempt < 5 && !seen; attempt++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *intent = g_strdup_printf ("intent-%d.jpg", attempt);
      g_autofree char *first = g_strdup_printf ("c-%d-0.jpg", attempt);
      g_autofree char *last = g_strdup_printf ("c-%d-49.jpg", attempt);
      guint64 before = sluice_catalog_writer_commits (f->writer);
      gint64 start = g_get_monotonic_time (), deadline;
      UpsertOp *op;

      for (int i = 0; i < 50; i++)
        {
          g_autofree char *relpath = g_strdup_printf ("c-%d-%d.jpg", attempt, i);

          sluice_catalog_writer_run (f->writer, upsert_op, upsert_op_new (f, relpath, FALSE),
                                     (GDestroyNotify) upsert_op_free);
        }
      op = upsert_op_new (f, intent, FALSE);
      g_assert_true (sluice_catalog_writer_run_intent (f->writer, upsert_op, op, &error));
      g_assert_no_error (error);
      upsert_op_free (op);
      g_assert_true (committed (f, intent));
      /* a loaded machine may take the completions' 150 ms before we look: try again */
      if (g_get_monotonic_time () - start < 100 * G_TIME_SPAN_MILLISECOND &&
          !committed (f, first))
        seen = TRUE;
      deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
      while (!committed (f, last) && g_get_monotonic_time () < deadline)
        g_usleep (10 * 1000);
      g_assert_true (committed (f, first));
      g_assert_true (committed (f, last));
      if (seen)
        g_assert_cmpuint (sluice_catalog_writer_commits (f->writer) - before, ==, 2);
    }
  g_assert_true (seen);
}

/* An intent in two halves (the worker probes meanwhile): started intents from one thread are
 * all committed when their waits return, in one commit or a few, and an op's own error comes
 * back through its own ticket without failing the others. */
static void
test_intent_tickets (Fixture       *f,
                     gconstpointer  data)
{
  SluiceCatalogTicket *tickets[8];
  UpsertOp *ops[8];
  guint64 before = sluice_catalog_writer_commits (f->writer);

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      g_autofree char *relpath = g_strdup_printf ("ticket-%u.jpg", i);

      ops[i] = upsert_op_new (f, relpath, i == 3);
      tickets[i] = sluice_catalog_writer_start_intent (f->writer, upsert_op, ops[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok = sluice_catalog_ticket_wait (tickets[i], &error);

      if (i == 3)
        {
          g_assert_false (ok);
          g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY);
          g_assert_false (committed (f, ops[i]->relpath));
        }
      else
        {
          g_assert_true (ok);
          g_assert_no_error (error);
          g_assert_true (committed (f, ops[i]->relpath));
        }
    }
  g_assert_cmpuint (sluice_catalog_writer_commits (f->writer) - before, >=, 1);
  g_assert_cmpuint (sluice_catalog_writer_commits (f->writer) - before, <=, G_N_ELEMENTS (ops));
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    upsert_op_free (ops[i]);
}

static void
test_run_sync_error (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  UpsertOp *bad = upsert_op_new (f, "bad.jpg", TRUE);
  UpsertOp *good = upsert_op_new (f, "good.jpg", FALSE);

  /* the op's own error comes back, its writes are undone, the writer carries on */
  g_assert_false (sluice_catalog_writer_run_sync (f->writer, upsert_op, bad, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_KEY);
  g_assert_cmpstr (error->message, ==, "boom: bad.jpg");
  g_clear_error (&error);
  g_assert_false (committed (f, "bad.jpg"));

  g_assert_true (sluice_catalog_writer_get_error (f->writer, &error));
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_writer_run_sync (f->writer, upsert_op, good, &error));
  g_assert_no_error (error);
  g_assert_true (committed (f, "good.jpg"));
  upsert_op_free (bad);
  upsert_op_free (good);
}

#define THREADS 8
#define PER_THREAD 250

typedef struct {
  Fixture *f;
  guint    index;
} Producer;

static gpointer
producer_thread (gpointer user_data)
{
  Producer *p = user_data;

  for (guint i = 0; i < PER_THREAD; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("t%u/%u.jpg", p->index, i);
      sluice_catalog_writer_run (p->f->writer, upsert_op, upsert_op_new (p->f, relpath, FALSE),
                                 (GDestroyNotify) upsert_op_free);
    }
  return NULL;
}

static void
test_async_from_threads (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) reader = NULL;
  Producer producers[THREADS];
  GThread *threads[THREADS];

  for (guint i = 0; i < THREADS; i++)
    {
      producers[i].f = f;
      producers[i].index = i;
      threads[i] = g_thread_new ("producer", producer_thread, &producers[i]);
    }
  for (guint i = 0; i < THREADS; i++)
    g_thread_join (threads[i]);

  /* flush: everything queued before it is committed */
  g_assert_true (sluice_catalog_writer_flush (f->writer, &error));
  g_assert_no_error (error);

  reader = sluice_catalog_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  for (guint t = 0; t < THREADS; t++)
    for (guint i = 0; i < PER_THREAD; i++)
      {
        g_autofree char *relpath = g_strdup_printf ("t%u/%u.jpg", t, i);
        g_auto(SluiceCatalogEntry) entry = { 0 };

        g_assert_true (sluice_catalog_lookup (reader, f->source, 0, relpath, &entry, &error));
      }

  /* every operation's data is released, once the writer has finished (the ops still look at
   * f->writer while it shuts down, so it is cleared afterwards) */
  sluice_catalog_writer_free (f->writer);
  f->writer = NULL;
  g_assert_cmpint (g_atomic_int_get (&destroyed), ==, THREADS * PER_THREAD);
}

typedef struct {
  GMutex   mutex;
  GCond    cond;
  gboolean started;
  gboolean released;
} Gate;

/* Runs on the writer thread and holds it until the test opens the gate, so that everything
 * queued meanwhile goes into the next batch together. */
static gboolean
gate_op (SluiceCatalog *catalog,
         gpointer       data,
         GError       **error)
{
  Gate *gate = data;

  g_mutex_lock (&gate->mutex);
  gate->started = TRUE;
  g_cond_broadcast (&gate->cond);
  while (!gate->released)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);
  return TRUE;
}

static void
test_failure_in_batch (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Gate gate = { 0 };
  UpsertOp *ops[3];

  g_mutex_init (&gate.mutex);
  g_cond_init (&gate.cond);

  sluice_catalog_writer_run (f->writer, gate_op, &gate, NULL);
  g_mutex_lock (&gate.mutex);
  while (!gate.started)
    g_cond_wait (&gate.cond, &gate.mutex);
  g_mutex_unlock (&gate.mutex);

  /* three operations wait while the writer is held: one batch, one transaction */
  ops[0] = upsert_op_new (f, "before.jpg", FALSE);
  ops[1] = upsert_op_new (f, "failing.jpg", TRUE);
  ops[2] = upsert_op_new (f, "after.jpg", FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    sluice_catalog_writer_run (f->writer, upsert_op, ops[i], NULL);

  /* a fire-and-forget op that fails is logged */
  g_test_expect_message ("sluice-catalog-writer", G_LOG_LEVEL_WARNING, "*boom: failing.jpg*");
  g_mutex_lock (&gate.mutex);
  gate.released = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.mutex);

  g_assert_true (sluice_catalog_writer_flush (f->writer, &error));
  g_assert_no_error (error);
  g_test_assert_expected_messages ();

  /* they did run in the same transaction ... */
  g_assert_cmpuint (ops[0]->seen_commits, ==, ops[1]->seen_commits);
  g_assert_cmpuint (ops[1]->seen_commits, ==, ops[2]->seen_commits);
  /* ... and only the failing one was undone */
  g_assert_true (committed (f, "before.jpg"));
  g_assert_false (committed (f, "failing.jpg"));
  g_assert_true (committed (f, "after.jpg"));
  g_assert_true (sluice_catalog_writer_get_error (f->writer, &error));

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    upsert_op_free (ops[i]);
  g_mutex_clear (&gate.mutex);
  g_cond_clear (&gate.cond);
}

static void
test_flush_idle (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sluice_catalog_writer_flush (f->writer, &error));
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_writer_flush (f->writer, &error));
  g_assert_no_error (error);
}

static void
test_free_finishes_queue (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) reader = NULL;

  for (int i = 0; i < 500; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("late-%d.jpg", i);
      sluice_catalog_writer_run (f->writer, upsert_op, upsert_op_new (f, relpath, FALSE),
                                 (GDestroyNotify) upsert_op_free);
    }
  /* shutting down finishes every queued operation before closing the catalog */
  sluice_catalog_writer_free (f->writer);
  f->writer = NULL;
  g_assert_cmpint (g_atomic_int_get (&destroyed), ==, 500);

  reader = sluice_catalog_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 500; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("late-%d.jpg", i);
      g_auto(SluiceCatalogEntry) entry = { 0 };

      g_assert_true (sluice_catalog_lookup (reader, f->source, 0, relpath, &entry, &error));
    }
}

static gint64
pending_paths (Fixture *f)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM search_pending", -1, &s, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  sqlite3_close (db);
  return n;
}

static void
upsert_sync (Fixture    *f,
             const char *relpath)
{
  g_autoptr(GError) error = NULL;
  UpsertOp *op = upsert_op_new (f, relpath, FALSE);

  g_assert_true (sluice_catalog_writer_run_sync (f->writer, upsert_op, op, &error));
  g_assert_no_error (error);
  upsert_op_free (op);
}

/* New paths go into the full-text index in batches (one FTS5 segment per interval, not per
 * commit): at most once a second, and whatever is left when the writer stops. */
static void
test_search_index_batched (Fixture       *f,
                           gconstpointer  data)
{
  gboolean waited = FALSE;

  /* a commit 1.05 s after the last indexing indexes everything, itself included */
  upsert_sync (f, "first.jpg");
  g_usleep (1050 * G_TIME_SPAN_MILLISECOND);
  upsert_sync (f, "second.jpg");
  g_assert_cmpint (pending_paths (f), ==, 0);
  /* the commits right after it do not (a few tries: the test thread may be descheduled) */
  for (int i = 0; i < 10 && !waited; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("soon-%d.jpg", i);

      g_usleep (1050 * G_TIME_SPAN_MILLISECOND);
      upsert_sync (f, "trigger.jpg");
      upsert_sync (f, relpath);
      waited = pending_paths (f) == 1;
    }
  g_assert_true (waited);

  /* stopping indexes the rest */
  upsert_sync (f, "last.jpg");
  sluice_catalog_writer_free (f->writer);
  f->writer = NULL;
  g_assert_cmpint (pending_paths (f), ==, 0);
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;

    g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM catalog_search WHERE "
                                             "catalog_search MATCH 'last OR soon OR first'",
                                         -1, &s, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int64 (s, 0), >=, 3);
    sqlite3_finalize (s);
    sqlite3_close (db);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn) \
  g_test_add ("/engine/catalog-writer/" path, Fixture, NULL, fixture_set_up, fn, \
              fixture_tear_down)
  ADD ("run-sync-commits", test_run_sync_commits);
  ADD ("run-sync-error", test_run_sync_error);
  ADD ("async-rides-along", test_async_rides_along);
  ADD ("intent-jumps-completions", test_intent_jumps_completions);
  ADD ("intent-tickets", test_intent_tickets);
  ADD ("async-from-threads", test_async_from_threads);
  ADD ("failure-in-batch", test_failure_in_batch);
  ADD ("flush-idle", test_flush_idle);
  ADD ("free-finishes-queue", test_free_finishes_queue);
  ADD ("search-index-batched", test_search_index_batched);
#undef ADD

  return g_test_run ();
}
