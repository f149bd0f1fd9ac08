/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-catalog"

#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "sluice-catalog.h"
#include "sluice-catalog-private.h"
#include "sluice-error.h"
#include "sluice-test-util.h"

/*
 * The catalog: schema, idempotent upserts, the upload intent and its completion, key
 * collisions, failures, metadata and the export rows. SQLite itself is opened here only to
 * look at what the catalog wrote (schema version, tables, thumbnails).
 */

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

typedef struct {
  char          *path;
  SluiceCatalog *catalog;
  gint64         source;
  gint64         target;
  gint64         run;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = sluice_test_make_dir ("catalog");

  f->path = g_build_filename (dir, "nested", "catalog.db", NULL);
  f->catalog = sluice_catalog_open (f->path, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->catalog);
  f->source = sluice_catalog_ensure_source (f->catalog, "/mnt/nas/photos", &error);
  g_assert_no_error (error);
  f->target = sluice_catalog_ensure_target (f->catalog, "http://127.0.0.1:7480", "photos",
                                            &error);
  g_assert_no_error (error);
  f->run = sluice_catalog_begin_run (f->catalog, f->source, f->target, "{}", &error);
  g_assert_no_error (error);
  g_assert_cmpint (f->source, >, 0);
  g_assert_cmpint (f->target, >, 0);
  g_assert_cmpint (f->run, >, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->catalog, sluice_catalog_close);
  g_free (f->path);
}

/* Looks at the database with plain SQLite: one integer answer. */
static gint64
query_int (const char *path,
           const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  gint64 value = -1;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &s, NULL), ==, SQLITE_OK);
  if (sqlite3_step (s) == SQLITE_ROW)
    value = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  sqlite3_close (db);
  return value;
}

static char *
query_text (const char *path,
            const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &s, NULL), ==, SQLITE_OK);
  if (sqlite3_step (s) == SQLITE_ROW && sqlite3_column_text (s, 0) != NULL)
    value = g_strdup ((const char *) sqlite3_column_text (s, 0));
  sqlite3_finalize (s);
  sqlite3_close (db);
  return value;
}

static void
exec_sql (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static gint64
upsert (Fixture    *f,
        const char *relpath,
        guint64     size,
        const char *sha256)
{
  g_autoptr(GError) error = NULL;
  gint64 id = sluice_catalog_upsert_file (f->catalog, f->source, relpath, size, 1000 + size,
                                          sha256, f->run, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static void
lookup (Fixture            *f,
        gint64              target,
        const char         *relpath,
        SluiceCatalogEntry *entry)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sluice_catalog_lookup (f->catalog, f->source, target, relpath, entry, &error));
  g_assert_no_error (error);
}

/* ---- schema ------------------------------------------------------------------------------ */

static void
test_schema (Fixture       *f,
             gconstpointer  data)
{
  const char *tables[] = {
    "sources", "targets", "runs", "files", "metadata", "thumbnails", "objects", "warnings",
    "uploads", "parts", "capabilities",
  };
  g_autofree char *journal = NULL;

  g_assert_true (g_file_test (f->path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpstr (sluice_catalog_get_path (f->catalog), ==, f->path);
  g_assert_cmpint (query_int (f->path, "PRAGMA user_version"), ==,
                   SLUICE_CATALOG_SCHEMA_VERSION);
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM sqlite_master "
                                              "WHERE type = 'table' AND name = '%s'", tables[i]);
      g_assert_cmpint (query_int (f->path, sql), ==, 1);
    }
  journal = query_text (f->path, "PRAGMA journal_mode");
  g_assert_cmpstr (journal, ==, "wal");
}

static void
test_reopen_keeps_data (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gint64 id = upsert (f, "2024/a.jpg", 1234, SHA_A);

  g_clear_pointer (&f->catalog, sluice_catalog_close);
  f->catalog = sluice_catalog_open (f->path, FALSE, &error);
  g_assert_no_error (error);

  /* the same ids come back: sources, targets and files are found, not recreated */
  g_assert_cmpint (sluice_catalog_ensure_source (f->catalog, "/mnt/nas/photos", &error), ==,
                   f->source);
  g_assert_cmpint (sluice_catalog_ensure_target (f->catalog, "http://127.0.0.1:7480", "photos",
                                                 &error), ==, f->target);
  lookup (f, f->target, "2024/a.jpg", &entry);
  g_assert_cmpint (entry.file_id, ==, id);
  g_assert_cmpuint (entry.size, ==, 1234);
  g_assert_cmpint (entry.mtime_ns, ==, 1000 + 1234);
  g_assert_cmpstr (entry.sha256, ==, SHA_A);
  g_assert_cmpint (query_int (f->path, "PRAGMA user_version"), ==,
                   SLUICE_CATALOG_SCHEMA_VERSION);
}

/* The schema of version 1 as it shipped, frozen: what an old catalog on disk looks like. */
static const char schema_v1[] =
  "CREATE TABLE sources ("
  "  id INTEGER PRIMARY KEY,"
  "  path TEXT NOT NULL UNIQUE,"
  "  created_at INTEGER NOT NULL);"
  "CREATE TABLE targets ("
  "  id INTEGER PRIMARY KEY,"
  "  endpoint TEXT NOT NULL,"
  "  bucket TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  UNIQUE (endpoint, bucket));"
  "CREATE TABLE runs ("
  "  id INTEGER PRIMARY KEY,"
  "  source_id INTEGER NOT NULL REFERENCES sources (id),"
  "  target_id INTEGER REFERENCES targets (id),"
  "  started_at INTEGER NOT NULL,"
  "  finished_at INTEGER,"
  "  status TEXT NOT NULL,"
  "  config TEXT NOT NULL,"
  "  summary TEXT);"
  "CREATE TABLE files ("
  "  id INTEGER PRIMARY KEY,"
  "  source_id INTEGER NOT NULL REFERENCES sources (id),"
  "  relpath TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  mtime_ns INTEGER NOT NULL,"
  "  sha256 TEXT,"
  "  probe_state INTEGER NOT NULL DEFAULT 0,"
  "  probe_error TEXT,"
  "  first_run_id INTEGER REFERENCES runs (id),"
  "  last_run_id INTEGER REFERENCES runs (id),"
  "  UNIQUE (source_id, relpath));"
  "CREATE TABLE metadata ("
  "  file_id INTEGER PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,"
  "  container TEXT, make TEXT, model TEXT, lens_model TEXT,"
  "  datetime_original TEXT, subsec_time_original TEXT, offset_time_original TEXT,"
  "  exposure_num INTEGER, exposure_den INTEGER, f_number REAL, iso INTEGER,"
  "  focal_length REAL, orientation INTEGER, exif_width INTEGER, exif_height INTEGER,"
  "  width INTEGER, height INTEGER,"
  "  gps_latitude REAL, gps_longitude REAL, gps_altitude REAL,"
  "  has_thumbnail INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE thumbnails ("
  "  file_id INTEGER PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,"
  "  data BLOB NOT NULL);"
  "CREATE TABLE objects ("
  "  id INTEGER PRIMARY KEY,"
  "  file_id INTEGER NOT NULL REFERENCES files (id),"
  "  target_id INTEGER NOT NULL REFERENCES targets (id),"
  "  key TEXT NOT NULL,"
  "  state INTEGER NOT NULL,"
  "  sha256 TEXT,"
  "  size INTEGER,"
  "  etag TEXT,"
  "  error_code TEXT,"
  "  error_message TEXT,"
  "  run_id INTEGER REFERENCES runs (id),"
  "  updated_at INTEGER NOT NULL,"
  "  UNIQUE (target_id, key));"
  "CREATE INDEX objects_by_file ON objects (file_id, target_id);"
  "CREATE INDEX objects_by_state ON objects (target_id, state);"
  "CREATE TABLE warnings ("
  "  id INTEGER PRIMARY KEY,"
  "  file_id INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,"
  "  run_id INTEGER REFERENCES runs (id),"
  "  stage TEXT NOT NULL,"
  "  message TEXT NOT NULL);"
  "CREATE INDEX warnings_by_file ON warnings (file_id);";

static void
test_upgrade_from_v1 (void)
{
  g_autofree char *dir = sluice_test_make_dir ("old");
  g_autofree char *path = g_build_filename (dir, "catalog.db", NULL);
  g_autofree char *populate = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) catalog = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gint64 source;

  populate = g_strconcat (schema_v1,
                          "PRAGMA user_version = 1;"
                          "INSERT INTO sources VALUES (1, '/mnt/old', 0);"
                          "INSERT INTO targets VALUES (1, 'http://h', 'b', 0);"
                          "INSERT INTO files (id, source_id, relpath, size, mtime_ns, sha256) "
                          "  VALUES (7, 1, 'kept.jpg', 42, 4242, '" SHA_A "');"
                          "INSERT INTO objects (file_id, target_id, key, state, sha256, size, "
                          "  etag, updated_at) VALUES (7, 1, 'kept.jpg', 2, '" SHA_A "', 42, "
                          "  'e0', 0);"
                          /* a second object of the same file (an older key), a file without */
                          "INSERT INTO objects (file_id, target_id, key, state, updated_at) "
                          "  VALUES (7, 1, 'old/kept.jpg', 4, 0);"
                          "INSERT INTO files (id, source_id, relpath, size, mtime_ns) "
                          "  VALUES (8, 1, 'new.jpg', 1, 1);", NULL);
  exec_sql (path, populate);

  /* opening it upgrades it, in place, and keeps what it held */
  catalog = sluice_catalog_open (path, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (path, "PRAGMA user_version"), ==, SLUICE_CATALOG_SCHEMA_VERSION);
  source = sluice_catalog_ensure_source (catalog, "/mnt/old", &error);
  g_assert_cmpint (source, ==, 1);
  g_assert_true (sluice_catalog_lookup (catalog, source, 1, "kept.jpg", &entry, &error));
  g_assert_no_error (error);
  g_assert_cmpint (entry.file_id, ==, 7);
  g_assert_cmpstr (entry.sha256, ==, SHA_A);
  g_assert_cmpint (entry.state, ==, SLUICE_OBJECT_UPLOADED);
  g_assert_cmpstr (entry.etag, ==, "e0");
  /* the browsing counters start from what the catalog held */
  g_assert_cmpint (query_int (path, "SELECT sum (n) FROM browse_counts"), ==, 2);
  g_assert_cmpint (query_int (path, "SELECT n FROM browse_counts WHERE run_id = 0 AND state = 4"),
                   ==, 1);
  g_assert_cmpint (query_int (path, "SELECT n FROM files_extra_objects WHERE file_id = 7"), ==, 1);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM files_extra_objects"), ==, 1);
  /* the paths it held are in the full-text index, none left waiting for it */
  g_assert_cmpint (query_int (path, "SELECT rowid FROM catalog_search "
                                    "WHERE catalog_search MATCH 'kept'"), ==, 7);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM search_pending"), ==, 0);
  g_assert_cmpint (query_int (path, "SELECT file_id FROM files_without_object"), ==, 8);
}

static void
test_newer_schema_refused (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) again = NULL;

  g_autofree char *newer = g_strdup_printf ("PRAGMA user_version = %d",
                                            SLUICE_CATALOG_SCHEMA_VERSION + 1);

  g_clear_pointer (&f->catalog, sluice_catalog_close);
  exec_sql (f->path, newer);

  again = sluice_catalog_open (f->path, FALSE, &error);
  g_assert_null (again);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG);
  g_assert_nonnull (strstr (error->message, "newer"));
  /* and it was left alone */
  g_assert_cmpint (query_int (f->path, "PRAGMA user_version"), ==,
                   SLUICE_CATALOG_SCHEMA_VERSION + 1);
}

static void
test_readonly_missing (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (g_get_user_cache_dir (), "none", "c.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) ro = sluice_catalog_open (missing, TRUE, &error);

  g_assert_null (ro);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG);
  g_assert_nonnull (strstr (error->message, missing));
  /* reading never creates anything */
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
}

/* A reader (the browser, an export) given a catalog of an older Sluice upgrades it first,
 * instead of failing on a table the old schema lacks. */
static void
test_readonly_upgrades (void)
{
  g_autofree char *dir = sluice_test_make_dir ("old-ro");
  g_autofree char *path = g_build_filename (dir, "catalog.db", NULL);
  g_autofree char *populate = g_strconcat (schema_v1, "PRAGMA user_version = 1;"
                                           "INSERT INTO sources VALUES (1, '/mnt/old', 0);",
                                           NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) ro = NULL;

  exec_sql (path, populate);
  ro = sluice_catalog_open (path, TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ro);
  g_assert_cmpint (query_int (path, "PRAGMA user_version"), ==, SLUICE_CATALOG_SCHEMA_VERSION);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM browse_counts"), >=, 0);
}

static void
test_readonly_uninitialised (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *fresh = g_build_filename (g_get_user_cache_dir (), "fresh.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) ro = NULL;

  exec_sql (fresh, "CREATE TABLE unrelated (x)");
  ro = sluice_catalog_open (fresh, TRUE, &error);
  g_assert_null (ro);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG);
  g_assert_cmpint (query_int (fresh, "PRAGMA user_version"), ==, 0);
}

static void
test_readonly_reads (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) ro = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };

  upsert (f, "a.jpg", 10, SHA_A);
  ro = sluice_catalog_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_lookup (ro, f->source, f->target, "a.jpg", &entry, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (entry.size, ==, 10);

  /* and it cannot write */
  g_assert_cmpint (sluice_catalog_upsert_file (ro, f->source, "b.jpg", 1, 1, NULL, 0, &error),
                   ==, 0);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG);
}

/* The catalog turns SQLite's memory statistics off before SQLite starts (they put every
 * allocation behind a global mutex): with them off, SQLite counts nothing. The fixture's
 * catalog was this process's first use of SQLite. */
static void
test_no_memory_statistics (Fixture       *f,
                           gconstpointer  data)
{
  g_assert_cmpint (upsert (f, "counted.jpg", 10, SHA_A), >, 0);
  g_assert_cmpint (sqlite3_memory_used (), ==, 0);
  g_assert_cmpint (sqlite3_memory_highwater (FALSE), ==, 0);
}

/* A reader told to keep little page cache keeps little, however many rows it looks up; one
 * left at its default keeps what it touched (the pipeline's 2 × --jobs lookup readers). */
static void
test_cache_limit (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) limited = NULL;
  g_autoptr(SluiceCatalog) plain = NULL;
  const guint n = 20000, limit_kib = 64;

  g_assert_true (sluice_catalog_begin (f->catalog, &error));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("2024/holiday-%03u/IMG_%06u.JPG", i % 97, i);
      upsert (f, relpath, i + 1, SHA_A);
    }
  g_assert_true (sluice_catalog_commit (f->catalog, &error));

  limited = sluice_catalog_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  plain = sluice_catalog_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  sluice_catalog_set_cache_limit (limited, limit_kib);

  for (guint i = 0; i < n; i += 3)
    {
      g_autofree char *relpath = g_strdup_printf ("2024/holiday-%03u/IMG_%06u.JPG", i % 97, i);
      g_auto(SluiceCatalogEntry) a = { 0 };
      g_auto(SluiceCatalogEntry) b = { 0 };

      g_assert_true (sluice_catalog_lookup (limited, f->source, f->target, relpath, &a, &error));
      g_assert_true (sluice_catalog_lookup (plain, f->source, f->target, relpath, &b, &error));
      g_assert_cmpint (a.size, ==, i + 1);
      g_assert_cmpint (b.size, ==, i + 1);
    }
  g_test_message ("page cache after %u lookups: %" G_GSIZE_FORMAT " bytes with a %u KiB limit, %"
                  G_GSIZE_FORMAT " without", n / 3, sluice_catalog_get_cache_used (limited),
                  limit_kib, sluice_catalog_get_cache_used (plain));
  /* a page in the cache costs a little more than the page: twice the limit is room enough */
  g_assert_cmpuint (sluice_catalog_get_cache_used (limited), <=, 2 * limit_kib * 1024);
  g_assert_cmpuint (sluice_catalog_get_cache_used (plain), >, 8 * limit_kib * 1024);
}

static int
count_step (void *data)
{
  (*(guint64 *) data)++;
  return 0;
}

/* Adds files @from..@to (their paths indexed but for the last one), then counts the indexing
 * of that last one in SQLite's virtual machine steps (the same on any machine). */
static guint64
steps_to_index_one (Fixture *f,
                    guint    from,
                    guint    to)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = _sluice_catalog_get_db (f->catalog);
  guint64 steps = 0;

  g_assert_true (sluice_catalog_begin (f->catalog, &error));
  for (guint i = from; i <= to; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("2024/trip-%03u/IMG_%06u.JPG", i % 97, i);

      if (i == to)
        {
          g_assert_true (sluice_catalog_index_pending (f->catalog, &error));
          g_assert_no_error (error);
        }
      upsert (f, relpath, i + 1, SHA_A);
    }
  sqlite3_progress_handler (db, 1, count_step, &steps);
  g_assert_true (sluice_catalog_index_pending (f->catalog, &error));
  sqlite3_progress_handler (db, 0, NULL, NULL);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_commit (f->catalog, &error));
  return steps;
}

static void
test_index_pending_scale (Fixture       *f,
                          gconstpointer  data)
{
  guint64 small, large;

  /* the writer indexes each second's new paths in one go: the work must follow them, not the
   * catalog (it once scanned every path for each call: ~200 ms a second at a million files) */
  small = steps_to_index_one (f, 0, 1000);
  large = steps_to_index_one (f, 1001, 30000);
  g_test_message ("indexing one new path: %" G_GUINT64_FORMAT " steps among 1,001 files, %"
                  G_GUINT64_FORMAT " among 30,001", small, large);
  g_assert_cmpuint (large, <, 2 * small + 1000);

  /* both are found, and nothing waits */
  g_assert_cmpint (query_int (f->path, "SELECT rowid FROM catalog_search "
                                       "WHERE catalog_search MATCH '001000'"), >, 0);
  g_assert_cmpint (query_int (f->path, "SELECT rowid FROM catalog_search "
                                       "WHERE catalog_search MATCH '030000'"), >, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM search_pending"), ==, 0);
}

static void
test_default_path (void)
{
  g_autofree char *path = sluice_catalog_default_path ();
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "sluice", "catalog.db",
                                                NULL);

  g_assert_cmpstr (path, ==, expected);
}

/* ---- files and objects ------------------------------------------------------------------- */

static void
test_ensure_idempotent (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 other_source, other_target;

  g_assert_cmpint (sluice_catalog_ensure_source (f->catalog, "/mnt/nas/photos", &error), ==,
                   f->source);
  other_source = sluice_catalog_ensure_source (f->catalog, "/mnt/nas/other", &error);
  g_assert_cmpint (other_source, >, 0);
  g_assert_cmpint (other_source, !=, f->source);

  g_assert_cmpint (sluice_catalog_ensure_target (f->catalog, "http://127.0.0.1:7480", "photos",
                                                 &error), ==, f->target);
  other_target = sluice_catalog_ensure_target (f->catalog, "http://127.0.0.1:7480", "backup",
                                               &error);
  g_assert_cmpint (other_target, >, 0);
  g_assert_cmpint (other_target, !=, f->target);
  g_assert_no_error (error);
}

static void
test_runs (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *status = NULL;
  g_autofree char *summary = NULL;
  gint64 second = sluice_catalog_begin_run (f->catalog, f->source, 0, "{\"dry\":true}", &error);

  g_assert_no_error (error);
  g_assert_cmpint (second, >, f->run);
  g_assert_true (sluice_catalog_end_run (f->catalog, f->run, "done", "{\"uploaded\":3}",
                                         &error));
  g_assert_no_error (error);

  status = query_text (f->path, "SELECT status FROM runs ORDER BY id LIMIT 1");
  summary = query_text (f->path, "SELECT summary FROM runs ORDER BY id LIMIT 1");
  g_assert_cmpstr (status, ==, "done");
  g_assert_cmpstr (summary, ==, "{\"uploaded\":3}");
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM runs WHERE target_id IS NULL"),
                   ==, 1);
}

static void
test_upsert_idempotent (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gint64 id = upsert (f, "a.jpg", 10, SHA_A);
  gint64 again;

  g_assert_cmpint (upsert (f, "a.jpg", 10, SHA_A), ==, id);
  /* a changed file updates the same row; a NULL hash keeps the last known one */
  again = sluice_catalog_upsert_file (f->catalog, f->source, "a.jpg", 20, 99, NULL, f->run,
                                      &error);
  g_assert_no_error (error);
  g_assert_cmpint (again, ==, id);
  lookup (f, f->target, "a.jpg", &entry);
  g_assert_cmpuint (entry.size, ==, 20);
  g_assert_cmpint (entry.mtime_ns, ==, 99);
  g_assert_cmpstr (entry.sha256, ==, SHA_A);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM files"), ==, 1);

  /* another source, same relative path: another file */
  {
    gint64 other = sluice_catalog_ensure_source (f->catalog, "/elsewhere", &error);
    gint64 other_id = sluice_catalog_upsert_file (f->catalog, other, "a.jpg", 1, 1, NULL, 0,
                                                  &error);
    g_assert_no_error (error);
    g_assert_cmpint (other_id, !=, id);
  }
}

static void
test_lookup_unknown (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };

  g_assert_false (sluice_catalog_lookup (f->catalog, f->source, f->target, "new.jpg", &entry,
                                         &error));
  g_assert_no_error (error);
  g_assert_cmpint (entry.file_id, ==, 0);
  g_assert_null (entry.key);
}

static void
test_object_lifecycle (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) before = { 0 };
  g_auto(SluiceCatalogEntry) uploading = { 0 };
  g_auto(SluiceCatalogEntry) uploaded = { 0 };
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) none = NULL;
  SluiceCatalogPending *p;
  gint64 file = upsert (f, "2024/a.jpg", 10, SHA_A);
  gint64 object;

  lookup (f, f->target, "2024/a.jpg", &before);
  g_assert_cmpint (before.object_id, ==, 0);
  g_assert_null (before.key);

  /* the intent, durable before the request goes out */
  object = sluice_catalog_begin_object (f->catalog, file, f->target, "pfx/2024/a.jpg", SHA_A, 10,
                                        f->run, &error);
  g_assert_no_error (error);
  g_assert_cmpint (object, >, 0);
  lookup (f, f->target, "2024/a.jpg", &uploading);
  g_assert_cmpint (uploading.object_id, ==, object);
  g_assert_cmpstr (uploading.key, ==, "pfx/2024/a.jpg");
  g_assert_cmpint (uploading.state, ==, SLUICE_OBJECT_UPLOADING);
  g_assert_cmpstr (uploading.object_sha256, ==, SHA_A);
  g_assert_null (uploading.etag);

  /* what a crash leaves behind, for the next run to reconcile */
  pending = sluice_catalog_list_uploading (f->catalog, f->target, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pending->len, ==, 1);
  p = g_ptr_array_index (pending, 0);
  g_assert_cmpint (p->object_id, ==, object);
  g_assert_cmpstr (p->key, ==, "pfx/2024/a.jpg");
  g_assert_cmpstr (p->sha256, ==, SHA_A);

  g_assert_true (sluice_catalog_finish_object (f->catalog, object, SLUICE_OBJECT_UPLOADED,
                                               "9b2cf535f27731c974343645a3985328", NULL, NULL,
                                               &error));
  g_assert_no_error (error);
  lookup (f, f->target, "2024/a.jpg", &uploaded);
  g_assert_cmpint (uploaded.state, ==, SLUICE_OBJECT_UPLOADED);
  g_assert_cmpstr (uploaded.etag, ==, "9b2cf535f27731c974343645a3985328");
  none = sluice_catalog_list_uploading (f->catalog, f->target, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);
}

static void
test_object_again (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gint64 file = upsert (f, "a.jpg", 10, SHA_A);
  gint64 first, second;

  first = sluice_catalog_begin_object (f->catalog, file, f->target, "a.jpg", SHA_A, 10, f->run,
                                       &error);
  g_assert_true (sluice_catalog_finish_object (f->catalog, first, SLUICE_OBJECT_FAILED, NULL,
                                               "server", "HTTP 500", &error));
  /* the same file and key again (the file changed, or a retry): the same object row, its
   * error cleared, its hash updated, its ETag kept until a new one comes */
  second = sluice_catalog_begin_object (f->catalog, file, f->target, "a.jpg", SHA_B, 11, f->run,
                                        &error);
  g_assert_no_error (error);
  g_assert_cmpint (second, ==, first);
  lookup (f, f->target, "a.jpg", &entry);
  g_assert_cmpint (entry.state, ==, SLUICE_OBJECT_UPLOADING);
  g_assert_cmpstr (entry.object_sha256, ==, SHA_B);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects WHERE error_code IS NULL "
                                       "AND error_message IS NULL"), ==, 1);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects"), ==, 1);
}

static void
test_key_collision (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) a = { 0 };
  g_auto(SluiceCatalogEntry) b = { 0 };
  gint64 file_a = upsert (f, "Caf\xc3\xa9.jpg", 10, SHA_A);
  gint64 file_b = upsert (f, "Cafe\xcc\x81.jpg", 11, SHA_B);
  gint64 object, refused;

  object = sluice_catalog_begin_object (f->catalog, file_a, f->target, "pfx/Caf\xc3\xa9.jpg",
                                        SHA_A, 10, f->run, &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_finish_object (f->catalog, object, SLUICE_OBJECT_UPLOADED, "e1",
                                               NULL, NULL, &error));

  /* NFD and NFC names map to one key: the second file is refused, by name */
  refused = sluice_catalog_begin_object (f->catalog, file_b, f->target, "pfx/Caf\xc3\xa9.jpg",
                                         SHA_B, 11, f->run, &error);
  g_assert_cmpint (refused, ==, 0);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION);
  /* the key, and the file that owns it */
  g_assert_nonnull (strstr (error->message, "\xe2\x80\x9cpfx/Caf\xc3\xa9.jpg\xe2\x80\x9d"));
  g_assert_nonnull (strstr (error->message, "\xe2\x80\x9c" "Caf\xc3\xa9.jpg\xe2\x80\x9d"));
  g_assert_true (g_utf8_validate (error->message, -1, NULL));

  /* and nothing changed */
  lookup (f, f->target, "Caf\xc3\xa9.jpg", &a);
  g_assert_cmpint (a.object_id, ==, object);
  g_assert_cmpint (a.state, ==, SLUICE_OBJECT_UPLOADED);
  g_assert_cmpstr (a.object_sha256, ==, SHA_A);
  g_assert_cmpstr (a.etag, ==, "e1");
  lookup (f, f->target, "Cafe\xcc\x81.jpg", &b);
  g_assert_cmpint (b.object_id, ==, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects"), ==, 1);
}

static void
test_same_key_other_target (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) here = { 0 };
  g_auto(SluiceCatalogEntry) there = { 0 };
  gint64 other = sluice_catalog_ensure_target (f->catalog, "https://s3.example", "photos",
                                               &error);
  gint64 file_a = upsert (f, "a.jpg", 10, SHA_A);
  gint64 file_b = upsert (f, "b.jpg", 11, SHA_B);

  g_assert_cmpint (sluice_catalog_begin_object (f->catalog, file_a, f->target, "k.jpg", SHA_A,
                                                10, f->run, &error), >, 0);
  g_assert_cmpint (sluice_catalog_begin_object (f->catalog, file_b, other, "k.jpg", SHA_B, 11,
                                                f->run, &error), >, 0);
  g_assert_no_error (error);

  /* lookup answers for the target it is asked about */
  lookup (f, other, "a.jpg", &here);
  g_assert_cmpint (here.object_id, ==, 0);
  lookup (f, other, "b.jpg", &there);
  g_assert_cmpstr (there.key, ==, "k.jpg");
}

static void
test_record_failure (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };

  /* a file that failed before any intent: unreadable */
  g_assert_true (sluice_catalog_record_failure (f->catalog, f->source, f->target, "locked.jpg",
                                                "locked.jpg", f->run, "source-unreadable",
                                                "locked.jpg: open: Permission denied", &error));
  g_assert_no_error (error);
  lookup (f, f->target, "locked.jpg", &entry);
  g_assert_null (entry.sha256);
  g_assert_cmpstr (entry.key, ==, "locked.jpg");
  g_assert_cmpint (entry.state, ==, SLUICE_OBJECT_FAILED);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects WHERE "
                                       "error_code = 'source-unreadable'"), ==, 1);

  /* again in a later run: still one file, one object */
  g_assert_true (sluice_catalog_record_failure (f->catalog, f->source, f->target, "locked.jpg",
                                                "locked.jpg", f->run, "source-unreadable",
                                                "again", &error));
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM files"), ==, 1);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects"), ==, 1);
}

static void
test_record_failure_no_key (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  g_autofree char *message = NULL;

  /* a name that cannot become a key: the file is kept, with the reason as a warning */
  g_assert_true (sluice_catalog_record_failure (f->catalog, f->source, f->target, "bad\xff.jpg",
                                                NULL, f->run, "invalid-key",
                                                "bad\xef\xbf\xbd.jpg: not UTF-8", &error));
  g_assert_no_error (error);
  lookup (f, f->target, "bad\xff.jpg", &entry);
  g_assert_cmpint (entry.object_id, ==, 0);
  message = query_text (f->path, "SELECT message FROM warnings WHERE stage = 'error'");
  g_assert_cmpstr (message, ==, "bad\xef\xbf\xbd.jpg: not UTF-8");
}

static void
test_record_failure_keeps_other_owner (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) a = { 0 };
  gint64 file_a = upsert (f, "a.jpg", 10, SHA_A);
  gint64 object = sluice_catalog_begin_object (f->catalog, file_a, f->target, "k.jpg", SHA_A,
                                               10, f->run, &error);

  g_assert_true (sluice_catalog_finish_object (f->catalog, object, SLUICE_OBJECT_UPLOADED, "e1",
                                               NULL, NULL, &error));
  /* a failure of another file under the same key does not touch the owner's object */
  g_assert_true (sluice_catalog_record_failure (f->catalog, f->source, f->target, "b.jpg",
                                                "k.jpg", f->run, "failed", "x", &error));
  g_assert_no_error (error);
  lookup (f, f->target, "a.jpg", &a);
  g_assert_cmpint (a.state, ==, SLUICE_OBJECT_UPLOADED);
  g_assert_cmpstr (a.etag, ==, "e1");
}

static void
test_touch_file (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gint64 file = upsert (f, "a.jpg", 10, SHA_A);

  g_assert_true (sluice_catalog_touch_file (f->catalog, file, 424242, f->run, &error));
  g_assert_no_error (error);
  lookup (f, f->target, "a.jpg", &entry);
  g_assert_cmpint (entry.mtime_ns, ==, 424242);
  g_assert_cmpstr (entry.sha256, ==, SHA_A);
}

static void
test_transactions (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };

  g_assert_true (sluice_catalog_begin (f->catalog, &error));
  upsert (f, "kept.jpg", 1, NULL);
  g_assert_true (sluice_catalog_savepoint (f->catalog, &error));
  upsert (f, "undone.jpg", 2, NULL);
  sluice_catalog_savepoint_end (f->catalog, FALSE);
  g_assert_true (sluice_catalog_savepoint (f->catalog, &error));
  upsert (f, "also-kept.jpg", 3, NULL);
  sluice_catalog_savepoint_end (f->catalog, TRUE);
  g_assert_true (sluice_catalog_commit (f->catalog, &error));
  g_assert_no_error (error);

  g_assert_true (sluice_catalog_begin (f->catalog, &error));
  upsert (f, "rolled-back.jpg", 4, NULL);
  sluice_catalog_rollback (f->catalog);

  lookup (f, f->target, "kept.jpg", &entry);
  lookup (f, f->target, "also-kept.jpg", &entry);
  sluice_catalog_entry_clear (&entry);
  g_assert_false (sluice_catalog_lookup (f->catalog, f->source, f->target, "undone.jpg", &entry,
                                         &error));
  g_assert_false (sluice_catalog_lookup (f->catalog, f->source, f->target, "rolled-back.jpg",
                                         &entry, &error));
  g_assert_no_error (error);
}

/* ---- multipart uploads ------------------------------------------------------------------- */

static gint64
object_for (Fixture    *f,
            const char *relpath)
{
  g_autoptr(GError) error = NULL;
  gint64 file = upsert (f, relpath, 64 * 1024 * 1024, NULL);
  gint64 object = sluice_catalog_begin_object (f->catalog, file, f->target, relpath, NULL,
                                               64 * 1024 * 1024, f->run, &error);

  g_assert_no_error (error);
  g_assert_cmpint (object, >, 0);
  return object;
}

static void
test_upload_parts (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalogUpload) none = NULL;
  g_autoptr(SluiceCatalogUpload) upload = NULL;
  g_autoptr(GBytes) state1 = g_bytes_new ("state-after-1", 13);
  g_autoptr(GBytes) state2 = g_bytes_new ("state-after-2", 13);
  g_autoptr(GHashTable) ids = NULL;
  gint64 object = object_for (f, "big.mov");
  SluiceCatalogPart *p;

  none = sluice_catalog_get_upload (f->catalog, object, &error);
  g_assert_no_error (error);
  g_assert_null (none);

  g_assert_true (sluice_catalog_begin_upload (f->catalog, object, "u-1", 64 * 1024 * 1024, 777,
                                              8 * 1024 * 1024, &error));
  /* parts arrive in any order; one that is sent again replaces its row */
  g_assert_true (sluice_catalog_add_part (f->catalog, object, 2, 8 * 1024 * 1024, "e2-old", SHA_B,
                                          NULL, &error));
  g_assert_true (sluice_catalog_add_part (f->catalog, object, 1, 8 * 1024 * 1024, "e1", SHA_A,
                                          state1, &error));
  g_assert_true (sluice_catalog_add_part (f->catalog, object, 2, 8 * 1024 * 1024, "e2", SHA_B,
                                          state2, &error));
  g_assert_no_error (error);

  upload = sluice_catalog_get_upload (f->catalog, object, &error);
  g_assert_no_error (error);
  g_assert_nonnull (upload);
  g_assert_cmpint (upload->object_id, ==, object);
  g_assert_cmpstr (upload->upload_id, ==, "u-1");
  g_assert_cmpuint (upload->size, ==, 64 * 1024 * 1024);
  g_assert_cmpint (upload->mtime_ns, ==, 777);
  g_assert_cmpuint (upload->part_size, ==, 8 * 1024 * 1024);
  g_assert_null (upload->sha256);
  g_assert_cmpuint (upload->parts->len, ==, 2);
  p = g_ptr_array_index (upload->parts, 0);
  g_assert_cmpuint (p->number, ==, 1);
  g_assert_cmpstr (p->etag, ==, "e1");
  g_assert_cmpstr (p->sha256, ==, SHA_A);
  g_assert_true (g_bytes_equal (p->hash_state, state1));
  p = g_ptr_array_index (upload->parts, 1);
  g_assert_cmpuint (p->number, ==, 2);
  g_assert_cmpstr (p->etag, ==, "e2");
  g_assert_true (g_bytes_equal (p->hash_state, state2));

  ids = sluice_catalog_known_upload_ids (f->catalog, f->target, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (ids), ==, 1);
  g_assert_true (g_hash_table_contains (ids, "u-1"));
  g_clear_pointer (&ids, g_hash_table_unref);

  /* done: nothing left to resume */
  g_assert_true (sluice_catalog_end_upload (f->catalog, object, &error));
  g_clear_pointer (&upload, sluice_catalog_upload_free);
  upload = sluice_catalog_get_upload (f->catalog, object, &error);
  g_assert_no_error (error);
  g_assert_null (upload);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM parts"), ==, 0);
  ids = sluice_catalog_known_upload_ids (f->catalog, f->target, &error);
  g_assert_cmpuint (g_hash_table_size (ids), ==, 0);
}

static void
test_upload_restart (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalogUpload) upload = NULL;
  gint64 object = object_for (f, "big.mov");

  g_assert_true (sluice_catalog_begin_upload (f->catalog, object, "u-old", 10, 1, 5, &error));
  g_assert_true (sluice_catalog_add_part (f->catalog, object, 1, 5, "e1", SHA_A, NULL, &error));
  g_assert_true (sluice_catalog_set_upload_sha256 (f->catalog, object, SHA_B, &error));
  /* a new upload for the object (the file changed) starts with no parts */
  g_assert_true (sluice_catalog_begin_upload (f->catalog, object, "u-new", 12, 2, 6, &error));
  g_assert_no_error (error);
  upload = sluice_catalog_get_upload (f->catalog, object, &error);
  g_assert_cmpstr (upload->upload_id, ==, "u-new");
  g_assert_cmpuint (upload->size, ==, 12);
  g_assert_null (upload->sha256);
  g_assert_cmpuint (upload->parts->len, ==, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM uploads"), ==, 1);
}

static void
test_upload_sha256 (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalogUpload) upload = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gint64 object = object_for (f, "big.mov");

  g_assert_true (sluice_catalog_begin_upload (f->catalog, object, "u", 10, 1, 5, &error));
  g_assert_true (sluice_catalog_set_upload_sha256 (f->catalog, object, SHA_A, &error));
  upload = sluice_catalog_get_upload (f->catalog, object, &error);
  g_assert_cmpstr (upload->sha256, ==, SHA_A);

  /* at completion, the object and its file are known by the whole file's hash */
  g_assert_true (sluice_catalog_set_object_sha256 (f->catalog, object, SHA_A, &error));
  g_assert_no_error (error);
  lookup (f, f->target, "big.mov", &entry);
  g_assert_cmpstr (entry.object_sha256, ==, SHA_A);
  g_assert_cmpstr (entry.sha256, ==, SHA_A);
}

static void
test_find_target (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (sluice_catalog_find_target (f->catalog, "http://127.0.0.1:7480", "photos",
                                               &error), ==, f->target);
  /* finding never creates */
  g_assert_cmpint (sluice_catalog_find_target (f->catalog, "http://127.0.0.1:7480", "other",
                                               &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM targets"), ==, 1);
}

/* ---- metadata ---------------------------------------------------------------------------- */

static SluiceMetadata *
sample_metadata (void)
{
  SluiceMetadata *m = sluice_metadata_new ();
  static const guint8 thumb[] = { 0xff, 0xd8, 0xff, 0xd9 };

  m->container = g_strdup ("jpeg");
  m->make = g_strdup ("Sluice Optical");
  m->model = g_strdup ("SL-1");
  m->datetime_original = g_strdup ("2024:02:29 13:45:10");
  m->exposure_num = 1;
  m->exposure_den = 250;
  m->f_number = 2.8;
  m->iso = 400;
  m->orientation = 6;
  m->width = 24;
  m->height = 16;
  m->gps_latitude = -33.855983;
  m->gps_longitude = 151.21425;
  m->gps_altitude = -12.5;
  m->has_thumbnail = TRUE;
  m->thumbnail = g_bytes_new (thumb, sizeof thumb);
  sluice_metadata_add_warning (m, "first warning");
  sluice_metadata_add_warning (m, "second warning");
  return m;
}

static void
test_set_metadata_replaces (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) first = sample_metadata ();
  g_autoptr(SluiceMetadata) second = sluice_metadata_new ();
  g_auto(SluiceCatalogEntry) entry = { 0 };
  g_autofree char *warning = NULL;
  g_autofree char *make = NULL;
  gint64 file = upsert (f, "a.jpg", 10, SHA_A);

  g_assert_true (sluice_catalog_set_metadata (f->catalog, file, f->run, first,
                                              SLUICE_PROBE_STATE_WARNING, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM warnings"), ==, 2);
  g_assert_cmpint (query_int (f->path, "SELECT length(data) FROM thumbnails"), ==, 4);
  g_assert_cmpint (query_int (f->path, "SELECT has_thumbnail FROM metadata"), ==, 1);

  /* probed again: what the last probe said is replaced, not added to */
  second->make = g_strdup ("Other");
  sluice_metadata_add_warning (second, "only warning");
  g_assert_true (sluice_catalog_set_metadata (f->catalog, file, f->run, second,
                                              SLUICE_PROBE_STATE_WARNING, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM warnings"), ==, 1);
  warning = query_text (f->path, "SELECT message FROM warnings");
  g_assert_cmpstr (warning, ==, "only warning");
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM thumbnails"), ==, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM metadata"), ==, 1);
  make = query_text (f->path, "SELECT make FROM metadata");
  g_assert_cmpstr (make, ==, "Other");
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM metadata WHERE iso IS NULL AND "
                                       "exposure_num IS NULL AND f_number IS NULL AND "
                                       "has_thumbnail = 0"), ==, 1);
  lookup (f, f->target, "a.jpg", &entry);
  g_assert_cmpint (entry.probe_state, ==, SLUICE_PROBE_STATE_WARNING);
}

static void
test_set_metadata_failed (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = sample_metadata ();
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gint64 file = upsert (f, "a.jpg", 10, SHA_A);

  g_assert_true (sluice_catalog_set_metadata (f->catalog, file, f->run, meta,
                                              SLUICE_PROBE_STATE_OK, NULL, &error));
  /* the helper crashed on it this time: no metadata, the reason kept */
  g_assert_true (sluice_catalog_set_metadata (f->catalog, file, f->run, NULL,
                                              SLUICE_PROBE_STATE_FAILED,
                                              "metadata helper crashed with SIGSEGV", &error));
  g_assert_no_error (error);
  lookup (f, f->target, "a.jpg", &entry);
  g_assert_cmpint (entry.probe_state, ==, SLUICE_PROBE_STATE_FAILED);
  g_assert_cmpstr (entry.probe_error, ==, "metadata helper crashed with SIGSEGV");
  /* what the last probe said replaces the earlier metadata: no row (the browser LEFT JOINs) */
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM metadata"), ==, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM thumbnails"), ==, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM warnings"), ==, 0);
}

/* ---- export rows ------------------------------------------------------------------------- */

typedef struct {
  GPtrArray *rows;    /* GPtrArray of char * per row, "kind:value" per column */
  guint      stop_after;
} Collect;

static char *
describe_value (const SluiceValue *v)
{
  switch (v->kind)
    {
    case SLUICE_VALUE_NULL:
      return g_strdup ("null");
    case SLUICE_VALUE_INT:
      return g_strdup_printf ("int:%" G_GINT64_FORMAT, v->i);
    case SLUICE_VALUE_REAL:
      return g_strdup_printf ("real:%.6f", v->d);
    case SLUICE_VALUE_TEXT:
      return g_strdup_printf ("text:%s", v->s);
    case SLUICE_VALUE_BOOL:
      return g_strdup_printf ("bool:%s", v->i ? "true" : "false");
    default:
      g_assert_not_reached ();
    }
}

static gboolean
collect_row (const SluiceValue *values,
             gpointer           user_data,
             GError           **error)
{
  Collect *c = user_data;
  guint n = 0;
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);

  sluice_catalog_export_columns (&n);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (row, describe_value (&values[i]));
  g_ptr_array_add (c->rows, row);
  if (c->stop_after > 0 && c->rows->len >= c->stop_after)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "disk full");
      return FALSE;
    }
  return TRUE;
}

static int
column (const char *name)
{
  guint n = 0;
  const char *const *columns = sluice_catalog_export_columns (&n);

  for (guint i = 0; i < n; i++)
    if (g_str_equal (columns[i], name))
      return i;
  g_error ("no column %s", name);
}

#define CELL(row, name) ((const char *) g_ptr_array_index ((row), column (name)))

static void
test_export_columns (void)
{
  const char *expected[] = {
    "path", "source", "bucket", "key", "size", "sha256", "etag", "state", "warning",
    "make", "model", "lens_model", "datetime_original", "subsec_time_original",
    "offset_time_original", "exposure_time", "f_number", "iso", "focal_length", "orientation",
    "exif_width", "exif_height", "width", "height", "gps_latitude", "gps_longitude",
    "gps_altitude", "has_thumbnail", NULL,
  };
  guint n = 0;
  const char *const *columns = sluice_catalog_export_columns (&n);

  g_assert_cmpuint (n, ==, g_strv_length ((char **) expected));
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (columns[i], ==, expected[i]);
}

static void
test_export_rows (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = sample_metadata ();
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  Collect c = { rows, 0 };
  gint64 with, without, object;
  GPtrArray *row;

  with = upsert (f, "2024/a.jpg", 10, SHA_A);
  g_assert_true (sluice_catalog_set_metadata (f->catalog, with, f->run, meta,
                                              SLUICE_PROBE_STATE_WARNING, NULL, &error));
  object = sluice_catalog_begin_object (f->catalog, with, f->target, "pfx/2024/a.jpg", SHA_A, 10,
                                        f->run, &error);
  g_assert_true (sluice_catalog_finish_object (f->catalog, object, SLUICE_OBJECT_UPLOADED, "e1",
                                               NULL, NULL, &error));
  without = upsert (f, "b.png", 20, NULL);
  g_assert_cmpint (without, >, with);

  g_assert_true (sluice_catalog_export_rows (f->catalog, collect_row, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 2);

  /* a file with metadata and an uploaded object */
  row = g_ptr_array_index (rows, 0);
  g_assert_cmpstr (CELL (row, "path"), ==, "text:2024/a.jpg");
  g_assert_cmpstr (CELL (row, "source"), ==, "text:/mnt/nas/photos");
  g_assert_cmpstr (CELL (row, "bucket"), ==, "text:photos");
  g_assert_cmpstr (CELL (row, "key"), ==, "text:pfx/2024/a.jpg");
  g_assert_cmpstr (CELL (row, "size"), ==, "int:10");
  g_assert_cmpstr (CELL (row, "sha256"), ==, "text:" SHA_A);
  g_assert_cmpstr (CELL (row, "etag"), ==, "text:e1");
  g_assert_cmpstr (CELL (row, "state"), ==, "text:uploaded");
  g_assert_cmpstr (CELL (row, "warning"), ==, "text:first warning; second warning");
  g_assert_cmpstr (CELL (row, "make"), ==, "text:Sluice Optical");
  g_assert_cmpstr (CELL (row, "model"), ==, "text:SL-1");
  g_assert_cmpstr (CELL (row, "lens_model"), ==, "null");
  g_assert_cmpstr (CELL (row, "datetime_original"), ==, "text:2024:02:29 13:45:10");
  g_assert_cmpstr (CELL (row, "exposure_time"), ==, "text:1/250");
  g_assert_cmpstr (CELL (row, "f_number"), ==, "real:2.800000");
  g_assert_cmpstr (CELL (row, "iso"), ==, "int:400");
  g_assert_cmpstr (CELL (row, "focal_length"), ==, "null");
  g_assert_cmpstr (CELL (row, "orientation"), ==, "int:6");
  g_assert_cmpstr (CELL (row, "exif_width"), ==, "null");
  g_assert_cmpstr (CELL (row, "width"), ==, "int:24");
  g_assert_cmpstr (CELL (row, "height"), ==, "int:16");
  g_assert_cmpstr (CELL (row, "gps_latitude"), ==, "real:-33.855983");
  g_assert_cmpstr (CELL (row, "gps_longitude"), ==, "real:151.214250");
  g_assert_cmpstr (CELL (row, "gps_altitude"), ==, "real:-12.500000");
  g_assert_cmpstr (CELL (row, "has_thumbnail"), ==, "bool:true");

  /* a file without metadata and without an object yet */
  row = g_ptr_array_index (rows, 1);
  g_assert_cmpstr (CELL (row, "path"), ==, "text:b.png");
  g_assert_cmpstr (CELL (row, "bucket"), ==, "null");
  g_assert_cmpstr (CELL (row, "key"), ==, "null");
  g_assert_cmpstr (CELL (row, "size"), ==, "int:20");
  g_assert_cmpstr (CELL (row, "sha256"), ==, "null");
  g_assert_cmpstr (CELL (row, "state"), ==, "text:pending");
  g_assert_cmpstr (CELL (row, "warning"), ==, "null");
  g_assert_cmpstr (CELL (row, "make"), ==, "null");
  g_assert_cmpstr (CELL (row, "exposure_time"), ==, "null");
  g_assert_cmpstr (CELL (row, "iso"), ==, "null");
  g_assert_cmpstr (CELL (row, "has_thumbnail"), ==, "null");
}

static void
test_export_failures (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  Collect c = { rows, 0 };
  gint64 probed = upsert (f, "crash.jpg", 5, SHA_B);
  gint64 object;
  GPtrArray *row;

  /* an upload that failed: the object's error comes first, then the probe's */
  g_assert_true (sluice_catalog_set_metadata (f->catalog, probed, f->run, NULL,
                                              SLUICE_PROBE_STATE_FAILED,
                                              "metadata helper crashed with SIGSEGV", &error));
  object = sluice_catalog_begin_object (f->catalog, probed, f->target, "crash.jpg", SHA_B, 5,
                                        f->run, &error);
  g_assert_true (sluice_catalog_finish_object (f->catalog, object, SLUICE_OBJECT_FAILED, NULL,
                                               "access-denied", "PUT: AccessDenied (HTTP 403)",
                                               &error));
  g_assert_no_error (error);

  g_assert_true (sluice_catalog_export_rows (f->catalog, collect_row, &c, &error));
  g_assert_cmpuint (rows->len, ==, 1);
  row = g_ptr_array_index (rows, 0);
  g_assert_cmpstr (CELL (row, "state"), ==, "text:failed");
  g_assert_cmpstr (CELL (row, "warning"), ==,
                   "text:PUT: AccessDenied (HTTP 403); metadata helper crashed with SIGSEGV");
}

static void
test_export_failure_without_key (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  Collect c = { rows, 0 };
  GPtrArray *row;


  /* the pipeline records invalid names and key collisions without a key */
  g_assert_true (sluice_catalog_record_failure (f->catalog, f->source, f->target, "bad\xff.jpg",
                                                NULL, f->run, "invalid-key", "not UTF-8",
                                                &error));
  g_assert_true (sluice_catalog_export_rows (f->catalog, collect_row, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 1);
  row = g_ptr_array_index (rows, 0);
  g_assert_cmpstr (CELL (row, "warning"), ==, "text:not UTF-8");
  /* it failed: the export must not call it pending */
  g_assert_cmpstr (CELL (row, "state"), ==, "text:failed");
}

static void
test_export_stops_on_error (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  Collect c = { rows, 2 };

  for (int i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("%d.jpg", i);
      upsert (f, name, i + 1, NULL);
    }
  g_assert_false (sluice_catalog_export_rows (f->catalog, collect_row, &c, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_cmpuint (rows->len, ==, 2);
}

static void
test_object_state_names (void)
{
  g_assert_cmpstr (sluice_object_state_to_string (SLUICE_OBJECT_PENDING), ==, "pending");
  g_assert_cmpstr (sluice_object_state_to_string (SLUICE_OBJECT_UPLOADING), ==, "uploading");
  g_assert_cmpstr (sluice_object_state_to_string (SLUICE_OBJECT_UPLOADED), ==, "uploaded");
  g_assert_cmpstr (sluice_object_state_to_string (SLUICE_OBJECT_SKIPPED), ==, "skipped");
  g_assert_cmpstr (sluice_object_state_to_string (SLUICE_OBJECT_FAILED), ==, "failed");
  g_assert_cmpstr (sluice_object_state_to_string (99), ==, "unknown");
}

/* ---- light upload intents (schema 5) ------------------------------------------------------ */

static gint64
add_intent (Fixture     *f,
            const char  *relpath,
            const char  *key,
            GError     **error)
{
  return sluice_catalog_add_intent (f->catalog, f->source, f->target, relpath, key, 42, 4242,
                                    SHA_A, f->run, error);
}

/* An intent is one row; completing it writes the file and its UPLOADING object, for the
 * completion to finish in the same transaction, and removes the row. */
static void
test_intent_complete (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gint64 intent, file_id = 0, object_id = 0;

  intent = add_intent (f, "2024/a.jpg", "photos/2024/a.jpg", &error);
  g_assert_no_error (error);
  g_assert_cmpint (intent, >, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM files"), ==, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects"), ==, 0);

  g_assert_true (sluice_catalog_complete_intent (f->catalog, intent, &file_id, &object_id,
                                                 &error));
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_finish_object (f->catalog, object_id, SLUICE_OBJECT_UPLOADED,
                                               "\"e\"", NULL, NULL, &error));
  lookup (f, f->target, "2024/a.jpg", &entry);
  g_assert_cmpint (entry.file_id, ==, file_id);
  g_assert_cmpint (entry.object_id, ==, object_id);
  g_assert_cmpint (entry.size, ==, 42);
  g_assert_cmpint (entry.mtime_ns, ==, 4242);
  g_assert_cmpstr (entry.sha256, ==, SHA_A);
  g_assert_cmpstr (entry.object_sha256, ==, SHA_A);
  g_assert_cmpstr (entry.key, ==, "photos/2024/a.jpg");
  g_assert_cmpint (entry.state, ==, SLUICE_OBJECT_UPLOADED);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents"), ==, 0);

  /* completing it twice is an error, not a second object */
  g_assert_false (sluice_catalog_complete_intent (f->catalog, intent, NULL, NULL, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects"), ==, 1);

  /* the same file again (changed, next run): its own key is not a collision */
  g_clear_error (&error);
  intent = add_intent (f, "2024/a.jpg", "photos/2024/a.jpg", &error);
  g_assert_no_error (error);
  g_assert_cmpint (intent, >, 0);
}

/* An intent made before the read (schema 6) has no hash: the completion says what was sent,
 * and that is what the file and its object record; one whose file is not sent after all is
 * dropped; one a dead run left becomes an UPLOADING object without a hash, for a HEAD. */
static void
test_intent_before_read (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  SluiceCatalogSent sent = { SHA_B, 43, 4343 };
  gint64 intent, dropped, left, file_id = 0, object_id = 0;
  gboolean new_file = FALSE;

  intent = sluice_catalog_add_intent (f->catalog, f->source, f->target, "early.jpg",
                                      "photos/early.jpg", 42, 4242, NULL, f->run, &error);
  g_assert_no_error (error);
  g_assert_cmpint (intent, >, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents WHERE sha256 IS NULL"), ==,
                   1);
  /* read and sent: 43 bytes of SHA_B (the file grew since the listing) */
  g_assert_true (sluice_catalog_finish_intent (f->catalog, intent, &sent, SLUICE_OBJECT_UPLOADED,
                                               "\"e\"", NULL, NULL, &file_id, &object_id,
                                               &new_file, &error));
  g_assert_no_error (error);
  g_assert_true (new_file);
  lookup (f, f->target, "early.jpg", &entry);
  g_assert_cmpint (entry.size, ==, 43);
  g_assert_cmpint (entry.mtime_ns, ==, 4343);
  g_assert_cmpstr (entry.sha256, ==, SHA_B);
  g_assert_cmpstr (entry.object_sha256, ==, SHA_B);
  g_assert_cmpint (entry.state, ==, SLUICE_OBJECT_UPLOADED);

  /* could not be read: its intent goes, and its key is free again */
  dropped = sluice_catalog_add_intent (f->catalog, f->source, f->target, "unreadable.jpg",
                                       "photos/unreadable.jpg", 1, 1, NULL, f->run, &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_drop_intent (f->catalog, dropped, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents"), ==, 0);
  g_assert_cmpint (sluice_catalog_add_intent (f->catalog, f->source, f->target, "other.jpg",
                                              "photos/unreadable.jpg", 1, 1, NULL, f->run,
                                              &error), >, 0);
  g_assert_no_error (error);

  /* left by a dead run: an UPLOADING object with the listing's size and no hash */
  left = sluice_catalog_add_intent (f->catalog, f->source, f->target, "left.jpg",
                                    "photos/left.jpg", 7, 77, NULL, f->run, &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_complete_intent (f->catalog, left, NULL, NULL, &error));
  g_assert_no_error (error);
  {
    g_auto(SluiceCatalogEntry) gone = { 0 };

    lookup (f, f->target, "left.jpg", &gone);
    g_assert_cmpint (gone.state, ==, SLUICE_OBJECT_UPLOADING);
    g_assert_cmpint (gone.size, ==, 7);
    g_assert_null (gone.object_sha256);
  }
}

/* Two files under one key: the one already uploaded, or the one being sent, keeps it. */
static void
test_intent_key_collision (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 file = upsert (f, "owner.jpg", 1, SHA_A);
  gint64 obj = sluice_catalog_begin_object (f->catalog, file, f->target, "k/owned", SHA_A, 1,
                                            f->run, &error);

  g_assert_cmpint (obj, >, 0);
  g_assert_cmpint (add_intent (f, "other.jpg", "k/owned", &error), ==, 0);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION);
  g_assert_nonnull (strstr (error->message, "owner.jpg"));
  g_clear_error (&error);

  g_assert_cmpint (add_intent (f, "first.jpg", "k/in-flight", &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (add_intent (f, "second.jpg", "k/in-flight", &error), ==, 0);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION);
  g_assert_nonnull (strstr (error->message, "first.jpg"));
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents"), ==, 1);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM files"), ==, 1);

  /* a large file (the full intent, begin_object) under a key a small file is being sent to */
  g_clear_error (&error);
  file = upsert (f, "big/first.jpg", 1 << 30, SHA_B);
  g_assert_cmpint (sluice_catalog_begin_object (f->catalog, file, f->target, "k/in-flight", SHA_B,
                                                1 << 30, f->run, &error), ==, 0);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION);
  g_assert_nonnull (strstr (error->message, "first.jpg"));
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects"), ==, 1);
}

static gint64
count_in_state (Fixture           *f,
                SluiceObjectState  state)
{
  g_autofree char *sql = g_strdup_printf ("SELECT IFNULL (sum (n), 0) FROM browse_counts "
                                          "WHERE state = %d", state);

  return query_int (f->path, sql);
}

/* A new file's rows go in without the lookups and the clearing that a known file needs; a key
 * that another file took meanwhile (a failure record does not look at intents) is still refused,
 * with its owner named, and the completion writes nothing. */
static void
test_intent_new_file (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = sample_metadata ();
  g_auto(SluiceCatalogEntry) entry = { 0 };
  gint64 intent, file_id = 0, object_id = 0;
  gboolean new_file = FALSE;

  intent = add_intent (f, "new.jpg", "k/new", &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_finish_intent (f->catalog, intent, NULL, SLUICE_OBJECT_UPLOADED,
                                               "\"e\"", NULL, NULL, &file_id, &object_id,
                                               &new_file, &error));
  g_assert_no_error (error);
  g_assert_true (new_file);
  g_assert_true (sluice_catalog_set_first_metadata (f->catalog, file_id, f->run, meta,
                                                    SLUICE_PROBE_STATE_WARNING, NULL, &error));
  g_assert_no_error (error);
  lookup (f, f->target, "new.jpg", &entry);
  g_assert_cmpint (entry.file_id, ==, file_id);
  g_assert_cmpint (entry.object_id, ==, object_id);
  g_assert_cmpint (entry.state, ==, SLUICE_OBJECT_UPLOADED);
  g_assert_cmpint (entry.probe_state, ==, SLUICE_PROBE_STATE_WARNING);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM warnings"), ==, 2);
  g_assert_cmpint (query_int (f->path, "SELECT length(data) FROM thumbnails"), ==, 4);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM metadata WHERE has_thumbnail = 1 "
                                       "AND gps_altitude = -12.5"), ==, 1);
  g_assert_cmpint (count_in_state (f, SLUICE_OBJECT_UPLOADED), ==, 1);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM files_without_object"), ==, 0);

  intent = add_intent (f, "late.jpg", "k/taken", &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_record_failure (f->catalog, f->source, f->target,
                                                "unreadable.jpg", "k/taken", f->run, "READ",
                                                "Permission denied", &error));
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_begin (f->catalog, &error));
  g_assert_true (sluice_catalog_savepoint (f->catalog, &error));
  g_assert_false (sluice_catalog_finish_intent (f->catalog, intent, NULL, SLUICE_OBJECT_UPLOADED,
                                                "\"e\"", NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION);
  g_assert_nonnull (strstr (error->message, "unreadable.jpg"));
  sluice_catalog_savepoint_end (f->catalog, FALSE);
  g_assert_true (sluice_catalog_commit (f->catalog, NULL));
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM files WHERE relpath = 'late.jpg'"),
                   ==, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects"), ==, 2);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents"), ==, 1);
}

/* Once the upload's outcome is known, an intent becomes its object in one write, in the final
 * state: the same rows and counters as completing it as UPLOADING and finishing the object. A
 * later outcome for the same file replaces the state and keeps the ETag it had. */
static void
test_intent_finish (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  g_autofree char *etag = NULL;
  g_autofree char *code = NULL;
  gint64 intent, file_id = 0, object_id = 0, again_file = 0, again_object = 0;
  gboolean new_file = FALSE;

  intent = add_intent (f, "2024/a.jpg", "photos/2024/a.jpg", &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_finish_intent (f->catalog, intent, NULL, SLUICE_OBJECT_UPLOADED,
                                               "\"e\"", NULL, NULL, &file_id, &object_id, &new_file,
                                               &error));
  g_assert_no_error (error);
  g_assert_true (new_file);
  lookup (f, f->target, "2024/a.jpg", &entry);
  g_assert_cmpint (entry.file_id, ==, file_id);
  g_assert_cmpint (entry.object_id, ==, object_id);
  g_assert_cmpint (entry.state, ==, SLUICE_OBJECT_UPLOADED);
  g_assert_cmpstr (entry.object_sha256, ==, SHA_A);
  etag = query_text (f->path, "SELECT etag FROM objects");
  g_assert_cmpstr (etag, ==, "\"e\"");
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents"), ==, 0);
  g_assert_cmpint (count_in_state (f, SLUICE_OBJECT_UPLOADED), ==, 1);
  g_assert_cmpint (count_in_state (f, SLUICE_OBJECT_UPLOADING), ==, 0);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM files_without_object"), ==, 0);

  /* the same file, next run, failed: one object still, its ETag kept, the error recorded */
  intent = add_intent (f, "2024/a.jpg", "photos/2024/a.jpg", &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_finish_intent (f->catalog, intent, NULL, SLUICE_OBJECT_FAILED, NULL,
                                               "SERVER", "503 Slow Down", &again_file,
                                               &again_object, &new_file, &error));
  g_assert_no_error (error);
  g_assert_false (new_file);
  g_assert_cmpint (again_file, ==, file_id);
  g_assert_cmpint (again_object, ==, object_id);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM objects"), ==, 1);
  g_clear_pointer (&etag, g_free);
  etag = query_text (f->path, "SELECT etag FROM objects");
  g_assert_cmpstr (etag, ==, "\"e\"");
  code = query_text (f->path, "SELECT error_code || ': ' || error_message FROM objects");
  g_assert_cmpstr (code, ==, "SERVER: 503 Slow Down");
  g_assert_cmpint (count_in_state (f, SLUICE_OBJECT_UPLOADED), ==, 0);
  g_assert_cmpint (count_in_state (f, SLUICE_OBJECT_FAILED), ==, 1);
}

/* An intent left by a run that died becomes, when the next run begins its uploads, the
 * UPLOADING object that run reconciles with a HEAD. Opening the catalog (a reader, an export)
 * does not take it, nor does a run while another run is uploading (the intent may be that
 * run's, its PUT in flight). */
static void
test_intent_recovered (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) reader = NULL;
  g_autoptr(SluiceCatalog) second = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_auto(SluiceCatalogEntry) entry = { 0 };
  SluiceCatalogPending *p;

  gboolean has = TRUE;

  /* nothing of the source on record yet: the first run's workers skip their lookups */
  g_assert_true (sluice_catalog_source_has_files (f->catalog, f->source, &has, &error));
  g_assert_no_error (error);
  g_assert_false (has);

  /* a run that is uploading, and has an intent */
  g_assert_false (sluice_catalog_uploads_alone (f->catalog));
  g_assert_true (sluice_catalog_begin_uploads (f->catalog, &error));
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_uploads_alone (f->catalog));
  g_assert_cmpint (add_intent (f, "2024/live.jpg", "photos/2024/live.jpg", &error), >, 0);
  reader = sluice_catalog_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  second = sluice_catalog_open (f->path, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents"), ==, 1);
  /* a second run starting meanwhile leaves it to its owner, and knows it is not alone */
  g_assert_true (sluice_catalog_begin_uploads (second, &error));
  g_assert_no_error (error);
  g_assert_false (sluice_catalog_uploads_alone (second));
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents"), ==, 1);
  g_clear_pointer (&second, sluice_catalog_close);

  /* the run dies (its lock goes with its descriptor) */
  g_clear_pointer (&f->catalog, sluice_catalog_close);
  f->catalog = sluice_catalog_open (f->path, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents"), ==, 1);
  g_assert_true (sluice_catalog_begin_uploads (f->catalog, &error));
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_uploads_alone (f->catalog));
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM intents"), ==, 0);

  pending = sluice_catalog_list_uploading (f->catalog, f->target, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pending->len, ==, 1);
  p = g_ptr_array_index (pending, 0);
  g_assert_cmpstr (p->key, ==, "photos/2024/live.jpg");
  g_assert_cmpstr (p->sha256, ==, SHA_A);
  lookup (f, f->target, "2024/live.jpg", &entry);
  g_assert_cmpint (entry.state, ==, SLUICE_OBJECT_UPLOADING);
  /* the recovered intent is on record: the next run looks its files up */
  g_assert_true (sluice_catalog_source_has_files (f->catalog, f->source, &has, &error));
  g_assert_no_error (error);
  g_assert_true (has);
  g_assert_cmpint (entry.size, ==, 42);
  g_assert_cmpint (entry.probe_state, ==, SLUICE_PROBE_STATE_NONE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn) \
  g_test_add ("/engine/catalog/" path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("schema", test_schema);
  ADD ("reopen-keeps-data", test_reopen_keeps_data);
  ADD ("newer-schema-refused", test_newer_schema_refused);
  ADD ("readonly-missing", test_readonly_missing);
  ADD ("readonly-uninitialised", test_readonly_uninitialised);
  ADD ("readonly-reads", test_readonly_reads);
  ADD ("ensure-idempotent", test_ensure_idempotent);
  ADD ("runs", test_runs);
  ADD ("upsert-idempotent", test_upsert_idempotent);
  ADD ("lookup-unknown", test_lookup_unknown);
  ADD ("object-lifecycle", test_object_lifecycle);
  ADD ("object-again", test_object_again);
  ADD ("key-collision", test_key_collision);
  ADD ("intent-complete", test_intent_complete);
  ADD ("intent-finish", test_intent_finish);
  ADD ("intent-new-file", test_intent_new_file);
  ADD ("no-memory-statistics", test_no_memory_statistics);
  ADD ("cache-limit", test_cache_limit);
  ADD ("index-pending-scale", test_index_pending_scale);
  ADD ("intent-key-collision", test_intent_key_collision);
  ADD ("intent-before-read", test_intent_before_read);
  ADD ("intent-recovered", test_intent_recovered);
  ADD ("same-key-other-target", test_same_key_other_target);
  ADD ("record-failure", test_record_failure);
  ADD ("record-failure-no-key", test_record_failure_no_key);
  ADD ("record-failure-keeps-other-owner", test_record_failure_keeps_other_owner);
  ADD ("touch-file", test_touch_file);
  ADD ("transactions", test_transactions);
  ADD ("upload-parts", test_upload_parts);
  ADD ("upload-restart", test_upload_restart);
  ADD ("upload-sha256", test_upload_sha256);
  ADD ("find-target", test_find_target);
  ADD ("set-metadata-replaces", test_set_metadata_replaces);
  ADD ("set-metadata-failed", test_set_metadata_failed);
  ADD ("export-rows", test_export_rows);
  ADD ("export-failures", test_export_failures);
  ADD ("export-failure-without-key", test_export_failure_without_key);
  ADD ("export-stops-on-error", test_export_stops_on_error);
#undef ADD
  g_test_add_func ("/engine/catalog/default-path", test_default_path);
  g_test_add_func ("/engine/catalog/upgrade-from-v1", test_upgrade_from_v1);
  g_test_add_func ("/engine/catalog/readonly-upgrades", test_readonly_upgrades);
  g_test_add_func ("/engine/catalog/export-columns", test_export_columns);
  g_test_add_func ("/engine/catalog/object-state-names", test_object_state_names);

  return g_test_run ();
}
