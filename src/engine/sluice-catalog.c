/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-catalog"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "sluice-catalog-private.h"
#include "sluice-error.h"

struct _SluiceCatalog {
  sqlite3    *db;
  char       *path;
  GHashTable *stmts;    /* SQL text (static) → sqlite3_stmt */
  gboolean    readonly;
  int         writers_fd; /* PATH-writers, flock()ed while this connection runs uploads */
  gboolean    uploads_alone; /* no other process was uploading when begin_uploads () ran */
};

/* Version 1. Portable SQL where it costs nothing (a PostgreSQL catalog is planned); SQLite-only
 * details (WAL, PRAGMAs, INSERT OR IGNORE) stay in this file. */
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

/* Version 2: multipart uploads in progress and their finished parts, so that a restart
 * continues an upload instead of starting over. */
static const char schema_v2[] =
  "CREATE TABLE uploads ("
  "  object_id INTEGER PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,"
  "  upload_id TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  mtime_ns INTEGER NOT NULL,"
  "  part_size INTEGER NOT NULL,"
  "  sha256 TEXT,"
  "  created_at INTEGER NOT NULL);"
  "CREATE TABLE parts ("
  "  object_id INTEGER NOT NULL REFERENCES uploads (object_id) ON DELETE CASCADE,"
  "  number INTEGER NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  etag TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  hash_state BLOB,"
  "  PRIMARY KEY (object_id, number));";

/* Version 3: finding content by hash (--dedupe), and what a target's server can do. */
static const char schema_v3[] =
  "CREATE INDEX objects_by_sha256 ON objects (target_id, sha256);"
  "CREATE TABLE capabilities ("
  "  target_id INTEGER PRIMARY KEY REFERENCES targets (id) ON DELETE CASCADE,"
  "  report TEXT NOT NULL,"
  "  probed_at INTEGER NOT NULL);";

/* Version 4: browsing (sluice-catalog-query.c). Designed for what it costs the ingest: every
 * index and trigger here is paid on each file written, so each one earns its place by a sort or
 * filter that would otherwise take over 100 ms at a million rows (DESIGN.md, "Browsing").
 *
 * - No row per file in metadata until it is probed: the browser LEFT JOINs it.
 * - Camera and exposure are virtual generated columns: indexed, not stored.
 * - One index per sortable column (the rowid, i.e. the file id, breaks ties); has-GPS is a
 *   partial index (the 10 % that have it); objects by (state, file_id) serves the state sort,
 *   the state filter and the writer's "left uploading" lookup (it replaces schema 1's
 *   (target_id, state)).
 * - Full-text search over the path only: contentless (content=''), without the per-row size
 *   table (columnsize=0), written once per file by a trigger (a path never changes). Camera
 *   and lens are searched through their few distinct values instead (sluice-catalog-query.c).
 * - Counts: object rows per run and state (browse_counts), the files without any object
 *   (files_without_object) and the objects of a file beyond its first (files_extra_objects;
 *   both normally empty) are kept by triggers, so the unfiltered, state and run counts are a
 *   few row reads, and a metadata filter's count is a count of its index (files) plus the
 *   extra objects of those files, never a join with objects. */
static const char schema_v4[] =
  "ALTER TABLE metadata ADD COLUMN camera TEXT GENERATED ALWAYS AS ("
  "  CASE WHEN model IS NULL THEN make"
  "       WHEN make IS NULL OR substr (model, 1, length (make)) = make THEN model"
  "       ELSE make || ' ' || model END) VIRTUAL;"
  "ALTER TABLE metadata ADD COLUMN exposure REAL GENERATED ALWAYS AS ("
  "  CASE WHEN exposure_den > 0 THEN CAST (exposure_num AS REAL) / exposure_den END) VIRTUAL;"
  "CREATE INDEX metadata_by_date ON metadata (datetime_original);"
  "CREATE INDEX metadata_by_camera ON metadata (camera);"
  "CREATE INDEX metadata_by_lens ON metadata (lens_model);"
  "CREATE INDEX metadata_by_exposure ON metadata (exposure);"
  "CREATE INDEX metadata_by_iso ON metadata (iso);"
  "CREATE INDEX metadata_by_focal_length ON metadata (focal_length);"
  "CREATE INDEX metadata_with_gps ON metadata (gps_latitude) WHERE gps_latitude IS NOT NULL;"
  "CREATE INDEX files_by_size ON files (size);"
  "CREATE INDEX objects_by_key ON objects (key, file_id);"
  "DROP INDEX objects_by_state;"
  "CREATE INDEX objects_by_state ON objects (state, file_id);"
  "CREATE INDEX warnings_errors ON warnings (file_id) WHERE stage = 'error';"
  "CREATE VIRTUAL TABLE catalog_search USING fts5 (path, content = '', columnsize = 0,"
  "  tokenize = 'unicode61 remove_diacritics 2');"
  "INSERT INTO catalog_search (rowid, path) SELECT id, relpath FROM files;"
  "CREATE TRIGGER files_search_insert AFTER INSERT ON files BEGIN"
  "  INSERT INTO catalog_search (rowid, path) VALUES (new.id, new.relpath);"
  "END;"
  "CREATE TRIGGER files_search_delete AFTER DELETE ON files BEGIN"
  "  INSERT INTO catalog_search (catalog_search, rowid, path)"
  "    VALUES ('delete', old.id, old.relpath);"
  "END;"
  "CREATE TABLE files_without_object (file_id INTEGER PRIMARY KEY);"
  "INSERT INTO files_without_object (file_id)"
  "  SELECT id FROM files f WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.file_id = f.id);"
  /* object rows per (run, state): the state, run and unfiltered counts are a few rows */
  "CREATE TABLE browse_counts (run_id INTEGER NOT NULL, state INTEGER NOT NULL,"
  "  n INTEGER NOT NULL, PRIMARY KEY (run_id, state)) WITHOUT ROWID;"
  "INSERT INTO browse_counts (run_id, state, n)"
  "  SELECT IFNULL (run_id, 0), state, count(*) FROM objects GROUP BY 1, 2;"
  /* the objects of a file beyond its first (a second target, a changed key): normally empty,
   * so that a count of files (from a metadata index alone) plus these is a count of rows */
  "CREATE TABLE files_extra_objects (file_id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
  "INSERT INTO files_extra_objects (file_id, n)"
  "  SELECT file_id, count(*) - 1 FROM objects GROUP BY file_id HAVING count(*) > 1;"
  "CREATE TRIGGER objects_count_insert AFTER INSERT ON objects BEGIN"
  "  INSERT INTO browse_counts (run_id, state, n) VALUES (IFNULL (new.run_id, 0), new.state, 1)"
  "    ON CONFLICT DO UPDATE SET n = n + 1;"
  "  INSERT INTO files_extra_objects (file_id, n) SELECT new.file_id, 1"
  "    WHERE NOT EXISTS (SELECT 1 FROM files_without_object WHERE file_id = new.file_id)"
  "    ON CONFLICT DO UPDATE SET n = n + 1;"
  "  DELETE FROM files_without_object WHERE file_id = new.file_id;"
  "END;"
  "CREATE TRIGGER objects_count_update AFTER UPDATE OF state, run_id ON objects"
  "  WHEN old.state IS NOT new.state OR old.run_id IS NOT new.run_id BEGIN"
  "  UPDATE browse_counts SET n = n - 1 WHERE run_id = IFNULL (old.run_id, 0)"
  "    AND state = old.state;"
  "  INSERT INTO browse_counts (run_id, state, n) VALUES (IFNULL (new.run_id, 0), new.state, 1)"
  "    ON CONFLICT DO UPDATE SET n = n + 1;"
  "END;"
  "CREATE TRIGGER objects_count_delete AFTER DELETE ON objects BEGIN"
  "  UPDATE browse_counts SET n = n - 1 WHERE run_id = IFNULL (old.run_id, 0)"
  "    AND state = old.state;"
  "  UPDATE files_extra_objects SET n = n - 1 WHERE file_id = old.file_id;"
  "  DELETE FROM files_extra_objects WHERE file_id = old.file_id AND n <= 0;"
  "  INSERT OR IGNORE INTO files_without_object (file_id)"
  "    SELECT old.file_id WHERE EXISTS (SELECT 1 FROM files WHERE id = old.file_id)"
  "      AND NOT EXISTS (SELECT 1 FROM objects WHERE file_id = old.file_id);"
  "END;"
  "CREATE TRIGGER files_count_insert AFTER INSERT ON files BEGIN"
  "  INSERT INTO files_without_object (file_id) VALUES (new.id);"
  "END;"
  "CREATE TRIGGER files_count_delete AFTER DELETE ON files BEGIN"
  "  DELETE FROM files_without_object WHERE file_id = old.id;"
  "END;";

/* Version 5: the path index written in batches. Schema 4's trigger put each new path into the
 * full-text index in the transaction that inserted the file, and the writer commits about once
 * per file (the upload intent must be durable before the request goes out): FTS5 then wrote a
 * segment per commit, and merged them, about 0.6 CPU-s on 3,000 small files (issue 5). Now the
 * trigger only notes the file id in search_pending (a tiny table, emptied again and again);
 * sluice_catalog_index_pending () moves those paths into the index in one statement, which the
 * writer runs once a second, when it stops, and a writing connection runs when it opens (what a
 * crash left). Until then a search finds them through search_pending with the same word rules
 * (sluice-catalog-query.c), so a search is never missing the newest files.
 *
 * And a lighter upload intent for small files. The intent must be committed before the request
 * goes out, so it commits on its own, once per file; as the file row and the object row, with
 * their dozen indexes and the browser's counters, it dirtied ~12 pages per commit (15 WAL
 * frames per file in all on 3,000 small files). Now it is one row in intents (two pages); the
 * file, its metadata and its object are written when the upload is done, batched with other
 * completions, and the intent row goes in the same transaction. An intent that a run left (a
 * crash, a kill, a cancel) becomes, when the next run starts and no other run is going
 * (sluice_catalog_begin_uploads ()), what schema 4 wrote at once: the file and an object in
 * state UPLOADING, which that run checks with a HEAD. */
static const char schema_v5[] =
  "DROP TRIGGER files_search_insert;"
  "DROP TRIGGER files_search_delete;"
  "CREATE TABLE search_pending (file_id INTEGER PRIMARY KEY);"
  "CREATE TRIGGER files_search_insert AFTER INSERT ON files BEGIN"
  "  INSERT INTO search_pending (file_id) VALUES (new.id);"
  "END;"
  /* a contentless index must be told exactly what it holds: only indexed paths are deleted */
  "CREATE TRIGGER files_search_delete AFTER DELETE ON files BEGIN"
  "  INSERT INTO catalog_search (catalog_search, rowid, path)"
  "    SELECT 'delete', old.id, old.relpath"
  "    WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE file_id = old.id);"
  "  DELETE FROM search_pending WHERE file_id = old.id;"
  "END;"
  /* upload intents of small files (sluice_catalog_add_intent ()) */
  "CREATE TABLE intents ("
  "  id INTEGER PRIMARY KEY,"
  "  target_id INTEGER NOT NULL REFERENCES targets (id),"
  "  key TEXT NOT NULL,"
  "  source_id INTEGER NOT NULL REFERENCES sources (id),"
  "  relpath TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  mtime_ns INTEGER NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  run_id INTEGER REFERENCES runs (id),"
  "  UNIQUE (target_id, key));";

/* Version 6: an upload intent may be committed before its file is read, so without the hash
 * (sluice_catalog_add_intent () with sha256 NULL): on a first ingest the intents of the next
 * files are committed together, one commit for dozens of files instead of one per file and
 * a half (issue 5). SQLite cannot drop a NOT NULL, so the table (empty but for what a dead
 * run left) is made again. */
static const char schema_v6[] =
  "CREATE TABLE intents_v6 ("
  "  id INTEGER PRIMARY KEY,"
  "  target_id INTEGER NOT NULL REFERENCES targets (id),"
  "  key TEXT NOT NULL,"
  "  source_id INTEGER NOT NULL REFERENCES sources (id),"
  "  relpath TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  mtime_ns INTEGER NOT NULL,"
  "  sha256 TEXT,"
  "  run_id INTEGER REFERENCES runs (id),"
  "  UNIQUE (target_id, key));"
  "INSERT INTO intents_v6 (id, target_id, key, source_id, relpath, size, mtime_ns, sha256, run_id)"
  "  SELECT id, target_id, key, source_id, relpath, size, mtime_ns, sha256, run_id FROM intents;"
  "DROP TABLE intents;"
  "ALTER TABLE intents_v6 RENAME TO intents;";

static gboolean
set_db_error (SluiceCatalog *self,
              GError       **error,
              int            rc,
              const char    *what)
{
  int ext = self->db != NULL ? sqlite3_extended_errcode (self->db) : rc;
  SluiceError code = SLUICE_ERROR_CATALOG;

  if (rc == SQLITE_FULL || ext == SQLITE_IOERR_WRITE || ext == SQLITE_IOERR_FSYNC)
    code = errno == ENOSPC || rc == SQLITE_FULL ? SLUICE_ERROR_NO_SPACE : SLUICE_ERROR_CATALOG;
  g_set_error (error, SLUICE_ERROR, code, _("Catalog %s: %s (%s)"), self->path, what,
               self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
  return FALSE;
}

static gboolean
exec (SluiceCatalog *self,
      const char    *sql,
      GError       **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    return set_db_error (self, error, rc, sql);
  return TRUE;
}

/* Prepared once per connection and kept: the pipeline runs the same few statements millions
 * of times. @sql must be a string literal (it is the cache key). */
static sqlite3_stmt *
stmt (SluiceCatalog *self,
      const char    *sql,
      GError       **error)
{
  sqlite3_stmt *s = g_hash_table_lookup (self->stmts, sql);
  int rc;

  if (s != NULL)
    {
      sqlite3_reset (s);
      sqlite3_clear_bindings (s);
      return s;
    }
  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, error, rc, "prepare");
      return NULL;
    }
  g_hash_table_insert (self->stmts, (gpointer) sql, s);
  return s;
}

static void
bind_text_or_null (sqlite3_stmt *s,
                   int           i,
                   const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (s, i, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (s, i);
}

static gboolean
step_done (SluiceCatalog *self,
           sqlite3_stmt  *s,
           GError       **error)
{
  int rc = sqlite3_step (s);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      set_db_error (self, error, rc, "step");
      sqlite3_reset (s);
      return FALSE;
    }
  sqlite3_reset (s);
  return TRUE;
}

char *
sluice_catalog_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "sluice", "catalog.db", NULL);
}

/**
 * sluice_catalog_path_is_remote:
 *
 * SQLite's locking is unreliable on network file systems and WAL needs shared memory: a
 * catalog there can be corrupted. The caller warns.
 */
gboolean
sluice_catalog_path_is_remote (const char  *path,
                               char       **out_fs_name)
{
  g_autofree char *dir = g_path_get_dirname (path);
  struct statfs sfs;

  if (statfs (dir, &sfs) < 0)
    return FALSE;
  switch ((unsigned long) sfs.f_type)
    {
    case 0x6969:      /* NFS */
      *out_fs_name = g_strdup ("NFS");
      return TRUE;
    case 0xFF534D42:  /* CIFS */
    case 0xFE534D42:  /* SMB2 */
    case 0x517B:      /* SMB */
      *out_fs_name = g_strdup ("SMB/CIFS");
      return TRUE;
    case 0x65735546:  /* FUSE (sshfs, GVFS, countfs…) */
      *out_fs_name = g_strdup ("FUSE");
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
migrate_step (SluiceCatalog *self,
              const char    *sql,
              const char    *set_version,
              GError       **error)
{
  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!exec (self, sql, error) || !exec (self, set_version, error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return exec (self, "COMMIT", error);
}

static gboolean
migrate (SluiceCatalog *self,
         GError       **error)
{
  sqlite3_stmt *s = NULL;
  int version = 0;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
    return set_db_error (self, error, SQLITE_ERROR, "user_version");
  if (sqlite3_step (s) == SQLITE_ROW)
    version = sqlite3_column_int (s, 0);
  sqlite3_finalize (s);

  if (version > SLUICE_CATALOG_SCHEMA_VERSION)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG,
                   _("The catalog %s was written by a newer Sluice (schema %d); this version "
                     "reads schema %d"), self->path, version, SLUICE_CATALOG_SCHEMA_VERSION);
      return FALSE;
    }
  if (version == SLUICE_CATALOG_SCHEMA_VERSION)
    return TRUE;
  if (self->readonly && version == 0)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG,
                   _("The catalog %s is not initialised"), self->path);
      return FALSE;
    }
  if (self->readonly)
    {
      /* written by an older Sluice: a reader (the browser, an export) upgrades it through a
       * writing connection of its own first, rather than failing on a missing table */
      SluiceCatalog *writer = sluice_catalog_open (self->path, FALSE, error);

      if (writer == NULL)
        return FALSE;
      sluice_catalog_close (writer);
      return TRUE;
    }

  /* each step in its own transaction: a crash mid-migration leaves the old version intact */
  if (version < 1 && !migrate_step (self, schema_v1, "PRAGMA user_version = 1", error))
    return FALSE;
  if (version < 2 && !migrate_step (self, schema_v2, "PRAGMA user_version = 2", error))
    return FALSE;
  if (version < 3 && !migrate_step (self, schema_v3, "PRAGMA user_version = 3", error))
    return FALSE;
  if (version < 4 && !migrate_step (self, schema_v4, "PRAGMA user_version = 4", error))
    return FALSE;
  if (version < 5 && !migrate_step (self, schema_v5, "PRAGMA user_version = 5", error))
    return FALSE;
  if (version < 6 && !migrate_step (self, schema_v6, "PRAGMA user_version = 6", error))
    return FALSE;
  return TRUE;
}

static void
finalize_stmt (gpointer data)
{
  sqlite3_finalize (data);
}

/* Before SQLite's first use in the process: its memory statistics (on in Debian's build) put
 * every allocation of every connection behind one global mutex, to keep counts nothing here
 * reads. (Debian's build also has no lookaside: each small object of a statement is a
 * malloc.) Too late once something else has started SQLite; then it stays on. */
static void
configure_sqlite (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
      g_once_init_leave (&done, 1);
    }
}

SluiceCatalog *
sluice_catalog_open (const char *path,
                     gboolean    readonly,
                     GError    **error)
{
  g_autoptr(SluiceCatalog) self = g_new0 (SluiceCatalog, 1);
  int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc;

  self->path = g_strdup (path);
  self->readonly = readonly;
  self->writers_fd = -1;
  self->stmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, finalize_stmt);

  if (!readonly)
    {
      g_autofree char *dir = g_path_get_dirname (path);
      if (g_mkdir_with_parents (dir, 0700) < 0)
        {
          int saved = errno;
          g_set_error (error, SLUICE_ERROR,
                       saved == ENOSPC ? SLUICE_ERROR_NO_SPACE : SLUICE_ERROR_CATALOG,
                       _("Cannot create the catalog folder %s: %s"), dir, g_strerror (saved));
          return NULL;
        }
    }

  configure_sqlite ();
  rc = sqlite3_open_v2 (path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, error, rc, _("cannot open"));
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  /* the writer holds its lock briefly, but readers and a second process must wait, not fail */
  sqlite3_busy_timeout (self->db, 10000);

  if (!readonly)
    {
      /* WAL: readers never block the writer. synchronous=NORMAL: a commit is in the WAL (the
       * kernel's page cache) before the call returns, so it survives the process dying at any
       * point (kill -9, crash), which is what the upload intent needs; only a power cut or a
       * kernel crash can lose the last commits, and then a rerun sends those files again
       * under the same keys (idempotent). FULL cost an fsync per batch: 4 % of the client's
       * CPU and much of the catalog thread's time on small files (issue 5). */
      if (!exec (self, "PRAGMA journal_mode = WAL", error) ||
          !exec (self, "PRAGMA synchronous = NORMAL", error))
        return NULL;
    }
  /* the browsing indexes are spread over the whole catalog: the writer touches pages of each
   * for every file, and at a million rows the default 2 MB cache makes that reads of the
   * kernel's page cache. 16 MiB: inserting 1,000,000 rows (bench/browse/sluice-catalog-gen)
   * took 162 µs of CPU per row against 158 µs with 64 MiB, and 27 MB of RSS against 81 MB;
   * an ingest's whole tree must stay under 150 MB (issue 5). A reader's sorts and counts
   * walk whole indexes: the browser's readers get 32 MiB (the pipeline's lookup readers set
   * their own). */
  sluice_catalog_set_cache_limit (self, readonly ? 32768 : 16384);
  if (!exec (self, "PRAGMA foreign_keys = ON", error) ||
      !exec (self, "PRAGMA temp_store = MEMORY", error))
    return NULL;

  rc = _sluice_catalog_register_functions (self->db);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, error, rc, "functions");
      return NULL;
    }
  if (!migrate (self, error))
    return NULL;
  /* paths a writer that died left unindexed (its upload intents: sluice_catalog_begin_uploads) */
  if (!readonly && !sluice_catalog_index_pending (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * sluice_catalog_set_cache_limit:
 * @kib: the most page cache this connection may keep, in KiB
 *
 * A connection keeps the pages it has read up to its limit (sluice_catalog_open() gives a
 * reader 32 MiB for the browser's sorts and counts). Many connections that each do point
 * lookups need little of it, and would otherwise hold up to the catalog's size each.
 */
void
sluice_catalog_set_cache_limit (SluiceCatalog *self,
                                guint          kib)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA cache_size = -%u", MAX (kib, 1));

  g_return_if_fail (self != NULL);
  /* cannot fail on an open connection: a pragma that only sets a number */
  sqlite3_exec (self->db, sql, NULL, NULL, NULL);
}

/**
 * sluice_catalog_get_cache_used:
 *
 * Returns: the bytes of page cache this connection holds now (for tests and diagnostics).
 */
gsize
sluice_catalog_get_cache_used (SluiceCatalog *self)
{
  int used = 0, highwater = 0;

  g_return_val_if_fail (self != NULL, 0);
  sqlite3_db_status (self->db, SQLITE_DBSTATUS_CACHE_USED, &used, &highwater, FALSE);
  return (gsize) MAX (used, 0);
}

sqlite3 *
_sluice_catalog_get_db (SluiceCatalog *self)
{
  return self->db;
}

gboolean
_sluice_catalog_set_error (SluiceCatalog *self,
                           GError       **error,
                           int            rc,
                           const char    *what)
{
  return set_db_error (self, error, rc, what);
}

void
sluice_catalog_close (SluiceCatalog *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->stmts, g_hash_table_unref);
  if (self->db != NULL)
    sqlite3_close (self->db);
  if (self->writers_fd >= 0)
    close (self->writers_fd);   /* and with it the lock */
  g_free (self->path);
  g_free (self);
}

const char *
sluice_catalog_get_path (SluiceCatalog *self)
{
  return self->path;
}

/* Transaction control through the statement cache too: the writer begins and commits a
 * transaction per batch (and runs a savepoint per operation when one of them fails), and
 * parsing "SAVEPOINT op" anew each time was a visible share of its CPU. */
static gboolean
exec_cached (SluiceCatalog *self,
             const char    *sql,
             GError       **error)
{
  sqlite3_stmt *s = stmt (self, sql, error);

  return s != NULL && step_done (self, s, error);
}

/* Moves the paths of new files into the full-text index (schema 5): one statement for all of
 * them, so FTS5 writes one segment. Inside the caller's transaction, or one of its own: the
 * insert and the delete go together (a contentless index must never get a row twice).
 * CROSS JOIN keeps search_pending the outer loop (as the browser's search does): without
 * statistics the planner scanned every file's path (a covering index) and looked each up in
 * the pending ones, which at 1,000,000 files took ~200 ms of the writer's time for each
 * second's paths (issue 5: 169 ms against 1.4 ms for 250 pending paths). */
gboolean
sluice_catalog_index_pending (SluiceCatalog *self,
                              GError       **error)
{
  sqlite3_stmt *s;
  gboolean ok;

  if (!exec_cached (self, "SAVEPOINT index_pending", error))
    return FALSE;
  s = stmt (self, "INSERT INTO catalog_search (rowid, path)"
                  "  SELECT f.id, f.relpath FROM search_pending p CROSS JOIN files f"
                  "    ON f.id = p.file_id",
            error);
  ok = s != NULL && step_done (self, s, error);
  if (ok && sqlite3_changes (self->db) > 0)
    {
      s = stmt (self, "DELETE FROM search_pending", error);
      ok = s != NULL && step_done (self, s, error);
    }
  if (!ok)
    exec_cached (self, "ROLLBACK TO index_pending", NULL);
  exec_cached (self, "RELEASE index_pending", NULL);
  return ok;
}

/**
 * sluice_catalog_begin_uploads:
 *
 * Says that this connection's process is about to upload (it holds a shared flock() on
 * PATH-writers until the catalog is closed or the process dies), and first, when no other
 * process is uploading with this catalog, turns the upload intents that dead runs left into
 * UPLOADING objects (sluice_catalog_recover_intents ()). The intents of a run that is still
 * going are its own: another process's export, browser or ingest must not take them.
 */
gboolean
sluice_catalog_begin_uploads (SluiceCatalog *self,
                              GError       **error)
{
  g_autofree char *lock_path = g_strconcat (self->path, "-writers", NULL);
  int fd;

  if (self->writers_fd >= 0)
    return TRUE;
  fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, SLUICE_ERROR,
                   saved == ENOSPC ? SLUICE_ERROR_NO_SPACE : SLUICE_ERROR_CATALOG,
                   _("Cannot open the catalog lock %s: %s"), lock_path, g_strerror (saved));
      return FALSE;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) == 0)
    {
      /* nobody else uploads: every intent there is an orphan */
      if (!sluice_catalog_recover_intents (self, error))
        {
          close (fd);
          return FALSE;
        }
      self->uploads_alone = TRUE;
    }
  /* shared from now on (the conversion may let another process's recovery in between: it
   * finds none of ours, there are none yet) */
  while (flock (fd, LOCK_SH) < 0)
    if (errno != EINTR)
      {
        int saved = errno;
        g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG,
                     _("Cannot lock the catalog %s: %s"), lock_path, g_strerror (saved));
        close (fd);
        return FALSE;
      }
  self->writers_fd = fd;
  return TRUE;
}

/**
 * sluice_catalog_uploads_alone:
 *
 * Whether sluice_catalog_begin_uploads () found no other process uploading with this catalog.
 * A process that starts uploading later finds this one's lock and is not alone.
 */
gboolean
sluice_catalog_uploads_alone (SluiceCatalog *self)
{
  return self->writers_fd >= 0 && self->uploads_alone;
}

/**
 * sluice_catalog_source_has_files:
 *
 * Whether any file of @source_id is on record (in any state, for any target).
 */
gboolean
sluice_catalog_source_has_files (SluiceCatalog *self,
                                 gint64         source_id,
                                 gboolean      *out_has,
                                 GError       **error)
{
  sqlite3_stmt *s;
  int rc;

  s = stmt (self, "SELECT EXISTS (SELECT 1 FROM files WHERE source_id = ?1)", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, source_id);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    *out_has = sqlite3_column_int (s, 0) != 0;
  else
    set_db_error (self, error, rc, "source files");
  sqlite3_reset (s);
  return rc == SQLITE_ROW;
}

gboolean
sluice_catalog_begin (SluiceCatalog *self,
                      GError       **error)
{
  return exec_cached (self, "BEGIN IMMEDIATE", error);
}

gboolean
sluice_catalog_commit (SluiceCatalog *self,
                       GError       **error)
{
  return exec_cached (self, "COMMIT", error);
}

void
sluice_catalog_rollback (SluiceCatalog *self)
{
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

/* One operation inside a batch: its failure undoes only its own writes. */
gboolean
sluice_catalog_savepoint (SluiceCatalog *self,
                          GError       **error)
{
  return exec_cached (self, "SAVEPOINT op", error);
}

void
sluice_catalog_savepoint_end (SluiceCatalog *self,
                              gboolean       keep)
{
  if (!keep)
    exec_cached (self, "ROLLBACK TO op", NULL);
  exec_cached (self, "RELEASE op", NULL);
}

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static gint64
ensure_row (SluiceCatalog *self,
            const char    *insert_sql,
            const char    *select_sql,
            const char    *a,
            const char    *b,
            GError       **error)
{
  sqlite3_stmt *s;
  gint64 id = 0;
  int rc;

  s = stmt (self, insert_sql, error);
  if (s == NULL)
    return 0;
  sqlite3_bind_text (s, 1, a, -1, SQLITE_TRANSIENT);
  if (b != NULL)
    sqlite3_bind_text (s, 2, b, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, b != NULL ? 3 : 2, now_s ());
  if (!step_done (self, s, error))
    return 0;

  s = stmt (self, select_sql, error);
  if (s == NULL)
    return 0;
  sqlite3_bind_text (s, 1, a, -1, SQLITE_TRANSIENT);
  if (b != NULL)
    sqlite3_bind_text (s, 2, b, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (s, 0);
  else
    set_db_error (self, error, rc, "lookup");
  sqlite3_reset (s);
  return id;
}

gint64
sluice_catalog_ensure_source (SluiceCatalog *self,
                              const char    *path,
                              GError       **error)
{
  return ensure_row (self,
                     "INSERT OR IGNORE INTO sources (path, created_at) VALUES (?1, ?2)",
                     "SELECT id FROM sources WHERE path = ?1",
                     path, NULL, error);
}

gint64
sluice_catalog_ensure_target (SluiceCatalog *self,
                              const char    *endpoint,
                              const char    *bucket,
                              GError       **error)
{
  return ensure_row (self,
                     "INSERT OR IGNORE INTO targets (endpoint, bucket, created_at) "
                     "VALUES (?1, ?2, ?3)",
                     "SELECT id FROM targets WHERE endpoint = ?1 AND bucket = ?2",
                     endpoint, bucket, error);
}

gint64
sluice_catalog_begin_run (SluiceCatalog *self,
                          gint64         source_id,
                          gint64         target_id,
                          const char    *config_json,
                          GError       **error)
{
  sqlite3_stmt *s = stmt (self,
                          "INSERT INTO runs (source_id, target_id, started_at, status, config) "
                          "VALUES (?1, ?2, ?3, 'running', ?4)", error);
  if (s == NULL)
    return 0;
  sqlite3_bind_int64 (s, 1, source_id);
  if (target_id > 0)
    sqlite3_bind_int64 (s, 2, target_id);
  sqlite3_bind_int64 (s, 3, now_s ());
  sqlite3_bind_text (s, 4, config_json, -1, SQLITE_TRANSIENT);
  if (!step_done (self, s, error))
    return 0;
  return sqlite3_last_insert_rowid (self->db);
}

gboolean
sluice_catalog_end_run (SluiceCatalog *self,
                        gint64         run_id,
                        const char    *status,
                        const char    *summary_json,
                        GError       **error)
{
  sqlite3_stmt *s = stmt (self,
                          "UPDATE runs SET finished_at = ?2, status = ?3, summary = ?4 "
                          "WHERE id = ?1", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, run_id);
  sqlite3_bind_int64 (s, 2, now_s ());
  sqlite3_bind_text (s, 3, status, -1, SQLITE_TRANSIENT);
  bind_text_or_null (s, 4, summary_json);
  return step_done (self, s, error);
}

static char *
column_strdup (sqlite3_stmt *s,
               int           i)
{
  const unsigned char *text = sqlite3_column_text (s, i);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

void
sluice_catalog_entry_clear (SluiceCatalogEntry *entry)
{
  g_free (entry->sha256);
  g_free (entry->key);
  g_free (entry->object_sha256);
  g_free (entry->etag);
  g_free (entry->probe_error);
  memset (entry, 0, sizeof *entry);
}

/**
 * sluice_catalog_lookup:
 *
 * What the catalog knows of one source file and its object in one target. Returns FALSE
 * with no error when the file is new.
 */
gboolean
sluice_catalog_lookup (SluiceCatalog      *self,
                       gint64              source_id,
                       gint64              target_id,
                       const char         *relpath,
                       SluiceCatalogEntry *out_entry,
                       GError            **error)
{
  sqlite3_stmt *s;
  gboolean found = FALSE;
  int rc;

  memset (out_entry, 0, sizeof *out_entry);
  s = stmt (self,
            "SELECT f.id, f.size, f.mtime_ns, f.sha256, o.id, o.key, o.state, o.sha256, o.etag, "
            "  f.probe_state, f.probe_error "
            "FROM files f LEFT JOIN objects o ON o.file_id = f.id AND o.target_id = ?2 "
            "WHERE f.source_id = ?1 AND f.relpath = ?3", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, source_id);
  sqlite3_bind_int64 (s, 2, target_id);
  sqlite3_bind_text (s, 3, relpath, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      found = TRUE;
      out_entry->file_id = sqlite3_column_int64 (s, 0);
      out_entry->size = sqlite3_column_int64 (s, 1);
      out_entry->mtime_ns = sqlite3_column_int64 (s, 2);
      out_entry->sha256 = column_strdup (s, 3);
      out_entry->object_id = sqlite3_column_int64 (s, 4);
      out_entry->key = column_strdup (s, 5);
      out_entry->state = sqlite3_column_int (s, 6);
      out_entry->object_sha256 = column_strdup (s, 7);
      out_entry->etag = column_strdup (s, 8);
      out_entry->probe_state = sqlite3_column_int (s, 9);
      out_entry->probe_error = column_strdup (s, 10);
    }
  else if (rc != SQLITE_DONE)
    set_db_error (self, error, rc, "lookup");
  sqlite3_reset (s);
  return found;
}

/* The file's row, inserted or updated; @out_new says which. An UPSERT that updates leaves
 * last_insert_rowid alone (and a trigger's inserts restore it when the trigger ends), so it is
 * the new row's id only when this statement inserted the row. */
static gint64
upsert_file (SluiceCatalog *self,
             gint64         source_id,
             const char    *relpath,
             guint64        size,
             gint64         mtime_ns,
             const char    *sha256,
             gint64         run_id,
             gboolean      *out_new,
             GError       **error)
{
  sqlite3_stmt *s;
  gint64 id = 0;
  int rc;

  s = stmt (self,
            "INSERT INTO files (source_id, relpath, size, mtime_ns, sha256, first_run_id, "
            "                   last_run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
            "ON CONFLICT (source_id, relpath) DO UPDATE SET size = excluded.size, "
            "  mtime_ns = excluded.mtime_ns, sha256 = COALESCE (excluded.sha256, sha256), "
            "  last_run_id = excluded.last_run_id "
            "RETURNING id", error);
  if (s == NULL)
    return 0;
  sqlite3_bind_int64 (s, 1, source_id);
  sqlite3_bind_text (s, 2, relpath, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 3, size);
  sqlite3_bind_int64 (s, 4, mtime_ns);
  bind_text_or_null (s, 5, sha256);
  if (run_id > 0)
    sqlite3_bind_int64 (s, 6, run_id);
  sqlite3_set_last_insert_rowid (self->db, 0);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (s, 0);
  else
    set_db_error (self, error, rc, "file");
  /* step to the end so the statement is complete before reset */
  while (rc == SQLITE_ROW)
    rc = sqlite3_step (s);
  sqlite3_reset (s);
  if (out_new != NULL)
    *out_new = id != 0 && sqlite3_last_insert_rowid (self->db) == id;
  return id;
}

gint64
sluice_catalog_upsert_file (SluiceCatalog *self,
                            gint64         source_id,
                            const char    *relpath,
                            guint64        size,
                            gint64         mtime_ns,
                            const char    *sha256,
                            gint64         run_id,
                            GError       **error)
{
  return upsert_file (self, source_id, relpath, size, mtime_ns, sha256, run_id, NULL, error);
}

static void
bind_double_or_null (sqlite3_stmt *s,
                     int           i,
                     double        v)
{
  if (isnan (v))
    sqlite3_bind_null (s, i);
  else
    sqlite3_bind_double (s, i, v);
}

static void
bind_int_or_null (sqlite3_stmt *s,
                  int           i,
                  gint64        v)
{
  if (v < 0)
    sqlite3_bind_null (s, i);
  else
    sqlite3_bind_int64 (s, i, v);
}

static gboolean
set_metadata (SluiceCatalog        *self,
              gint64                file_id,
              gint64                run_id,
              const SluiceMetadata *meta,
              SluiceProbeState      state,
              const char           *probe_error,
              gboolean              new_file,
              GError              **error)
{
  sqlite3_stmt *s;

  s = stmt (self, "UPDATE files SET probe_state = ?2, probe_error = ?3 WHERE id = ?1", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, file_id);
  sqlite3_bind_int (s, 2, state);
  bind_text_or_null (s, 3, probe_error);
  if (!step_done (self, s, error))
    return FALSE;

  /* a file probed again replaces what the last probe said of it; a new row has nothing yet
   * (these tables cascade from files, so no row of a deleted file keeps its id) */
  if (!new_file)
    {
      s = stmt (self, "DELETE FROM warnings WHERE file_id = ?1", error);
      if (s == NULL)
        return FALSE;
      sqlite3_bind_int64 (s, 1, file_id);
      if (!step_done (self, s, error))
        return FALSE;
      s = stmt (self, "DELETE FROM thumbnails WHERE file_id = ?1", error);
      if (s == NULL)
        return FALSE;
      sqlite3_bind_int64 (s, 1, file_id);
      if (!step_done (self, s, error))
        return FALSE;
    }

  if (meta == NULL && new_file)
    return TRUE;
  if (meta == NULL)
    {
      s = stmt (self, "DELETE FROM metadata WHERE file_id = ?1", error);
      if (s == NULL)
        return FALSE;
      sqlite3_bind_int64 (s, 1, file_id);
      return step_done (self, s, error);
    }

  s = stmt (self,
            "INSERT INTO metadata (file_id, container, make, model, lens_model, "
            "  datetime_original, subsec_time_original, offset_time_original, exposure_num, "
            "  exposure_den, f_number, iso, focal_length, orientation, exif_width, exif_height, "
            "  width, height, gps_latitude, gps_longitude, gps_altitude, has_thumbnail) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
            "        ?18, ?19, ?20, ?21, ?22) "
            "ON CONFLICT (file_id) DO UPDATE SET container = excluded.container, "
            "  make = excluded.make, model = excluded.model, lens_model = excluded.lens_model, "
            "  datetime_original = excluded.datetime_original, "
            "  subsec_time_original = excluded.subsec_time_original, "
            "  offset_time_original = excluded.offset_time_original, "
            "  exposure_num = excluded.exposure_num, exposure_den = excluded.exposure_den, "
            "  f_number = excluded.f_number, iso = excluded.iso, "
            "  focal_length = excluded.focal_length, orientation = excluded.orientation, "
            "  exif_width = excluded.exif_width, exif_height = excluded.exif_height, "
            "  width = excluded.width, height = excluded.height, "
            "  gps_latitude = excluded.gps_latitude, gps_longitude = excluded.gps_longitude, "
            "  gps_altitude = excluded.gps_altitude, has_thumbnail = excluded.has_thumbnail",
            error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, file_id);
  bind_text_or_null (s, 2, meta->container);
  bind_text_or_null (s, 3, meta->make);
  bind_text_or_null (s, 4, meta->model);
  bind_text_or_null (s, 5, meta->lens_model);
  bind_text_or_null (s, 6, meta->datetime_original);
  bind_text_or_null (s, 7, meta->subsec_time_original);
  bind_text_or_null (s, 8, meta->offset_time_original);
  if (meta->exposure_den != 0)
    {
      sqlite3_bind_int64 (s, 9, meta->exposure_num);
      sqlite3_bind_int64 (s, 10, meta->exposure_den);
    }
  bind_double_or_null (s, 11, meta->f_number);
  bind_int_or_null (s, 12, meta->iso);
  bind_double_or_null (s, 13, meta->focal_length);
  bind_int_or_null (s, 14, meta->orientation);
  bind_int_or_null (s, 15, meta->exif_width);
  bind_int_or_null (s, 16, meta->exif_height);
  bind_int_or_null (s, 17, meta->width);
  bind_int_or_null (s, 18, meta->height);
  bind_double_or_null (s, 19, meta->gps_latitude);
  bind_double_or_null (s, 20, meta->gps_longitude);
  bind_double_or_null (s, 21, meta->gps_altitude);
  sqlite3_bind_int (s, 22, meta->has_thumbnail ? 1 : 0);
  if (!step_done (self, s, error))
    return FALSE;

  if (meta->thumbnail != NULL)
    {
      gsize len;
      gconstpointer data = g_bytes_get_data (meta->thumbnail, &len);

      s = stmt (self, "INSERT OR REPLACE INTO thumbnails (file_id, data) VALUES (?1, ?2)", error);
      if (s == NULL)
        return FALSE;
      sqlite3_bind_int64 (s, 1, file_id);
      sqlite3_bind_blob (s, 2, data, len, SQLITE_TRANSIENT);
      if (!step_done (self, s, error))
        return FALSE;
    }

  for (guint i = 0; i < meta->warnings->len; i++)
    if (!sluice_catalog_add_warning (self, file_id, run_id, "probe",
                                     g_ptr_array_index (meta->warnings, i), error))
      return FALSE;
  return TRUE;
}

/* What a probe found of @file_id (@meta NULL: nothing), replacing what an earlier probe said. */
gboolean
sluice_catalog_set_metadata (SluiceCatalog        *self,
                             gint64                file_id,
                             gint64                run_id,
                             const SluiceMetadata *meta,
                             SluiceProbeState      state,
                             const char           *probe_error,
                             GError              **error)
{
  return set_metadata (self, file_id, run_id, meta, state, probe_error, FALSE, error);
}

/**
 * sluice_catalog_set_first_metadata:
 *
 * sluice_catalog_set_metadata () for a file row that this transaction inserted
 * (sluice_catalog_finish_intent ()'s @out_new_file): no earlier probe's warnings or thumbnail
 * to clear, two statements fewer per new file (issue 5).
 */
gboolean
sluice_catalog_set_first_metadata (SluiceCatalog        *self,
                                   gint64                file_id,
                                   gint64                run_id,
                                   const SluiceMetadata *meta,
                                   SluiceProbeState      state,
                                   const char           *probe_error,
                                   GError              **error)
{
  return set_metadata (self, file_id, run_id, meta, state, probe_error, TRUE, error);
}

gboolean
sluice_catalog_add_warning (SluiceCatalog *self,
                            gint64         file_id,
                            gint64         run_id,
                            const char    *stage,
                            const char    *message,
                            GError       **error)
{
  sqlite3_stmt *s = stmt (self,
                          "INSERT INTO warnings (file_id, run_id, stage, message) "
                          "VALUES (?1, ?2, ?3, ?4)", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, file_id);
  if (run_id > 0)
    sqlite3_bind_int64 (s, 2, run_id);
  sqlite3_bind_text (s, 3, stage, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 4, message, -1, SQLITE_TRANSIENT);
  return step_done (self, s, error);
}

static void
key_collision (SluiceCatalog *self,
               const char    *key,
               const char    *other,
               GError       **error)
{
  g_autofree char *valid = other != NULL ? g_utf8_make_valid (other, -1) : NULL;

  g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION,
               _("The object key “%s” already belongs to “%s”"), key,
               valid != NULL ? valid : "?");
}

/* Steps @s, a bound query whose first column is the path of a file that holds @key: TRUE when
 * it finds none; else FALSE with SLUICE_ERROR_KEY_COLLISION naming that file, or with the
 * catalog's error (@what) when the query failed. Resets @s. */
static gboolean
key_is_free (SluiceCatalog *self,
             sqlite3_stmt  *s,
             const char    *key,
             const char    *what,
             GError       **error)
{
  int rc = sqlite3_step (s);

  if (rc == SQLITE_ROW)
    key_collision (self, key, (const char *) sqlite3_column_text (s, 0), error);
  else if (rc != SQLITE_DONE)
    set_db_error (self, error, rc, what);
  sqlite3_reset (s);
  return rc == SQLITE_DONE;
}

static gboolean
insert_object (SluiceCatalog     *self,
               gint64             file_id,
               gint64             target_id,
               const char        *key,
               const char        *sha256,
               guint64            size,
               gint64             run_id,
               SluiceObjectState  state,
               const char        *etag,
               const char        *error_code,
               const char        *error_message,
               int               *out_rc,
               GError           **error)
{
  sqlite3_stmt *s = stmt (self,
                          "INSERT INTO objects (file_id, target_id, key, state, sha256, size, "
                          "  run_id, updated_at, etag, error_code, error_message) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                          error);
  int rc;

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, file_id);
  sqlite3_bind_int64 (s, 2, target_id);
  sqlite3_bind_text (s, 3, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (s, 4, state);
  sqlite3_bind_text (s, 5, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 6, size);
  if (run_id > 0)
    sqlite3_bind_int64 (s, 7, run_id);
  sqlite3_bind_int64 (s, 8, now_s ());
  bind_text_or_null (s, 9, etag);
  bind_text_or_null (s, 10, error_code);
  bind_text_or_null (s, 11, error_message);
  rc = sqlite3_step (s);
  if (rc == SQLITE_DONE)
    {
      sqlite3_reset (s);
      return TRUE;
    }
  if (out_rc != NULL)
    *out_rc = sqlite3_extended_errcode (self->db);
  else
    set_db_error (self, error, rc, "step");
  sqlite3_reset (s);
  return FALSE;
}

/* @file_id's object under @key, in @state (with the outcome's ETag and error, as
 * sluice_catalog_finish_object () sets them), unless another file owns @key.
 *
 * @claimed: @file_id is a row this transaction inserted, and @key is held by its intent. Then
 * it has no object yet, and no other file can have put one under @key since the intent
 * checked (intents hold keys against every writer of objects but the failure record, which
 * the table's UNIQUE (target_id, key) catches): the row goes in without the two lookups
 * (issue 5), and only a refused insert takes the long way, to name the owner. */
static gint64
put_object (SluiceCatalog     *self,
            gint64             file_id,
            gint64             target_id,
            const char        *key,
            const char        *sha256,
            guint64            size,
            gint64             run_id,
            SluiceObjectState  state,
            const char        *etag,
            const char        *error_code,
            const char        *error_message,
            gboolean           claimed,
            GError           **error)
{
  sqlite3_stmt *s;
  gint64 owner = 0, id = 0;
  int rc;

  if (claimed)
    {
      int insert_rc = SQLITE_OK;

      if (insert_object (self, file_id, target_id, key, sha256, size, run_id, state, etag,
                         error_code, error_message, &insert_rc, error))
        return sqlite3_last_insert_rowid (self->db);
      if (insert_rc != SQLITE_CONSTRAINT_UNIQUE)
        {
          /* SQLITE_OK: the statement could not be prepared, and @error says so */
          if (insert_rc != SQLITE_OK)
            set_db_error (self, error, insert_rc, "object");
          return 0;
        }
    }

  s = stmt (self, "SELECT file_id, id FROM objects WHERE target_id = ?1 AND key = ?2", error);
  if (s == NULL)
    return 0;
  sqlite3_bind_int64 (s, 1, target_id);
  sqlite3_bind_text (s, 2, key, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      owner = sqlite3_column_int64 (s, 0);
      id = sqlite3_column_int64 (s, 1);
    }
  sqlite3_reset (s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc, "object lookup");
      return 0;
    }

  if (owner != 0 && owner != file_id)
    {
      s = stmt (self, "SELECT relpath FROM files WHERE id = ?1", error);
      if (s == NULL)
        return 0;
      sqlite3_bind_int64 (s, 1, owner);
      if (key_is_free (self, s, key, "object owner", error))
        key_collision (self, key, NULL, error);   /* taken, with no path to name */
      return 0;
    }

  /* a small file being sent under @key (its light intent, schema 5) owns it as well */
  s = stmt (self, "SELECT i.relpath FROM intents i WHERE i.target_id = ?1 AND i.key = ?2 "
                  "  AND NOT EXISTS (SELECT 1 FROM files f WHERE f.id = ?3 "
                  "                    AND f.source_id = i.source_id AND f.relpath = i.relpath)",
            error);
  if (s == NULL)
    return 0;
  sqlite3_bind_int64 (s, 1, target_id);
  sqlite3_bind_text (s, 2, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 3, file_id);
  if (!key_is_free (self, s, key, "intent lookup", error))
    return 0;

  /* a file that maps to a new key (a changed prefix) keeps its old object row elsewhere */
  if (id == 0)
    {
      if (!insert_object (self, file_id, target_id, key, sha256, size, run_id, state, etag,
                          error_code, error_message, NULL, error))
        return 0;
      return sqlite3_last_insert_rowid (self->db);
    }

  s = stmt (self,
            "UPDATE objects SET state = ?2, sha256 = ?3, size = ?4, run_id = ?5, updated_at = ?6,"
            "  etag = COALESCE (?7, etag), error_code = ?8, error_message = ?9 WHERE id = ?1",
            error);
  if (s == NULL)
    return 0;
  sqlite3_bind_int64 (s, 1, id);
  sqlite3_bind_int (s, 2, state);
  sqlite3_bind_text (s, 3, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 4, size);
  if (run_id > 0)
    sqlite3_bind_int64 (s, 5, run_id);
  sqlite3_bind_int64 (s, 6, now_s ());
  bind_text_or_null (s, 7, etag);
  bind_text_or_null (s, 8, error_code);
  bind_text_or_null (s, 9, error_message);
  if (!step_done (self, s, error))
    return 0;
  return id;
}

/**
 * sluice_catalog_begin_object:
 *
 * Records the intent to upload @file_id under @key: state UPLOADING, with the sha256 that is
 * about to be sent. If another file already owns @key in this target, this is
 * SLUICE_ERROR_KEY_COLLISION and nothing is changed.
 */
gint64
sluice_catalog_begin_object (SluiceCatalog *self,
                             gint64         file_id,
                             gint64         target_id,
                             const char    *key,
                             const char    *sha256,
                             guint64        size,
                             gint64         run_id,
                             GError       **error)
{
  return put_object (self, file_id, target_id, key, sha256, size, run_id,
                     SLUICE_OBJECT_UPLOADING, NULL, NULL, NULL, FALSE, error);
}

/**
 * sluice_catalog_add_intent:
 *
 * The upload intent of a small file (schema 5): one row that says @key is about to be sent
 * with these bytes, committed before the request goes out. sluice_catalog_complete_intent ()
 * writes the file, the object and removes it; sluice_catalog_recover_intents () turns one
 * that was left into an UPLOADING object. If another file owns @key in this target, or is
 * being sent under it, this is SLUICE_ERROR_KEY_COLLISION and nothing is written.
 *
 * @sha256 is NULL for an intent made before the file is read (schema 6): @size and
 * @mtime_ns are then the listing's, and sluice_catalog_finish_intent () is told what was sent.
 *
 * Returns: the intent's id, or 0 on error.
 */
gint64
sluice_catalog_add_intent (SluiceCatalog *self,
                           gint64         source_id,
                           gint64         target_id,
                           const char    *relpath,
                           const char    *key,
                           guint64        size,
                           gint64         mtime_ns,
                           const char    *sha256,
                           gint64         run_id,
                           GError       **error)
{
  sqlite3_stmt *s;
  gint64 id = 0;
  int rc;

  s = stmt (self, "SELECT f.relpath FROM objects o JOIN files f ON f.id = o.file_id "
                  "WHERE o.target_id = ?1 AND o.key = ?2 "
                  "  AND (f.source_id IS NOT ?3 OR f.relpath IS NOT ?4)", error);
  if (s == NULL)
    return 0;
  sqlite3_bind_int64 (s, 1, target_id);
  sqlite3_bind_text (s, 2, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 3, source_id);
  sqlite3_bind_text (s, 4, relpath, -1, SQLITE_TRANSIENT);
  if (!key_is_free (self, s, key, "object lookup", error))
    return 0;

  /* the same file's intent can be there only if a recovery failed: it is replaced */
  s = stmt (self,
            "INSERT INTO intents (target_id, key, source_id, relpath, size, mtime_ns, sha256, "
            "                     run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
            "ON CONFLICT (target_id, key) DO UPDATE SET size = excluded.size, "
            "  mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, run_id = excluded.run_id "
            "  WHERE source_id = excluded.source_id AND relpath = excluded.relpath "
            "RETURNING id", error);
  if (s == NULL)
    return 0;
  sqlite3_bind_int64 (s, 1, target_id);
  sqlite3_bind_text (s, 2, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 3, source_id);
  sqlite3_bind_text (s, 4, relpath, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 5, size);
  sqlite3_bind_int64 (s, 6, mtime_ns);
  bind_text_or_null (s, 7, sha256);
  if (run_id > 0)
    sqlite3_bind_int64 (s, 8, run_id);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (s, 0);
  while (rc == SQLITE_ROW)
    rc = sqlite3_step (s);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc, "intent");
      return 0;
    }
  if (id != 0)
    return id;

  /* another file of this run is being sent under the same key */
  s = stmt (self, "SELECT relpath FROM intents WHERE target_id = ?1 AND key = ?2", error);
  if (s == NULL)
    return 0;
  sqlite3_bind_int64 (s, 1, target_id);
  sqlite3_bind_text (s, 2, key, -1, SQLITE_TRANSIENT);
  if (key_is_free (self, s, key, "intent owner", error))
    key_collision (self, key, NULL, error);   /* taken, with no path to name */
  return 0;
}

/* Removes an intent: completed, or its file will not be sent after all (it could not be read,
 * the run was cancelled before its turn, its key went to another file). */
gboolean
sluice_catalog_drop_intent (SluiceCatalog *self,
                            gint64         intent_id,
                            GError       **error)
{
  sqlite3_stmt *s = stmt (self, "DELETE FROM intents WHERE id = ?1", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, intent_id);
  return step_done (self, s, error);
}

typedef struct {
  gint64  source_id, target_id, run_id, mtime_ns;
  guint64 size;
  char   *relpath, *key, *sha256;
} Intent;

static void
intent_clear (Intent *intent)
{
  g_free (intent->relpath);
  g_free (intent->key);
  g_free (intent->sha256);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Intent, intent_clear)

static gboolean
get_intent (SluiceCatalog *self,
            gint64         intent_id,
            Intent        *out,
            GError       **error)
{
  sqlite3_stmt *s = stmt (self, "SELECT source_id, target_id, run_id, mtime_ns, size, relpath, "
                                "  key, sha256 FROM intents WHERE id = ?1", error);
  int rc;

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, intent_id);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      out->source_id = sqlite3_column_int64 (s, 0);
      out->target_id = sqlite3_column_int64 (s, 1);
      out->run_id = sqlite3_column_int64 (s, 2);
      out->mtime_ns = sqlite3_column_int64 (s, 3);
      out->size = sqlite3_column_int64 (s, 4);
      out->relpath = g_strdup ((const char *) sqlite3_column_text (s, 5));
      out->key = g_strdup ((const char *) sqlite3_column_text (s, 6));
      out->sha256 = g_strdup ((const char *) sqlite3_column_text (s, 7));   /* may be NULL */
    }
  sqlite3_reset (s);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG, "no upload intent %" G_GINT64_FORMAT,
                 intent_id);
  else
    set_db_error (self, error, rc, "intent");
  return FALSE;
}

/**
 * sluice_catalog_finish_intent:
 *
 * Writes what @intent_id promised once the upload's outcome is known: the file row (with the
 * hash that was sent) and its object, written once in @state with the ETag and error that
 * sluice_catalog_finish_object () would set; then the intent row goes. (Issue 5: writing the
 * object as UPLOADING and updating it at once was a second write of the row, its two index
 * entries and the browser's counters per small file.) Ids in @out_file_id and @out_object_id;
 * @out_new_file says the file row was inserted now (for sluice_catalog_set_first_metadata ()).
 * @sent: what was read and sent (an intent made before the read has no hash); NULL: what the
 * intent says (a recovered intent).
 */
gboolean
sluice_catalog_finish_intent (SluiceCatalog           *self,
                              gint64                   intent_id,
                              const SluiceCatalogSent *sent,
                              SluiceObjectState        state,
                              const char              *etag,
                              const char              *error_code,
                              const char              *error_message,
                              gint64                  *out_file_id,
                              gint64                  *out_object_id,
                              gboolean                *out_new_file,
                              GError                 **error)
{
  g_auto(Intent) intent = { 0 };
  gint64 file_id, object_id;
  gboolean new_file = FALSE;

  if (!get_intent (self, intent_id, &intent, error))
    return FALSE;
  if (sent != NULL)
    {
      g_free (intent.sha256);
      intent.sha256 = g_strdup (sent->sha256);
      intent.size = sent->size;
      intent.mtime_ns = sent->mtime_ns;
    }
  file_id = upsert_file (self, intent.source_id, intent.relpath, intent.size, intent.mtime_ns,
                         intent.sha256, intent.run_id, &new_file, error);
  if (file_id == 0)
    return FALSE;
  object_id = put_object (self, file_id, intent.target_id, intent.key, intent.sha256,
                          intent.size, intent.run_id, state, etag, error_code, error_message,
                          new_file, error);
  if (object_id == 0)
    return FALSE;
  if (!sluice_catalog_drop_intent (self, intent_id, error))
    return FALSE;
  if (out_file_id != NULL)
    *out_file_id = file_id;
  if (out_object_id != NULL)
    *out_object_id = object_id;
  if (out_new_file != NULL)
    *out_new_file = new_file;
  return TRUE;
}

/**
 * sluice_catalog_complete_intent:
 *
 * Writes what @intent_id promised, as schema 4 wrote an intent: the file row (with the hash
 * being sent) and its object in state UPLOADING, for the caller to finish in the same
 * transaction; then the intent row goes. Their ids in @out_file_id and @out_object_id.
 */
gboolean
sluice_catalog_complete_intent (SluiceCatalog *self,
                                gint64         intent_id,
                                gint64        *out_file_id,
                                gint64        *out_object_id,
                                GError       **error)
{
  return sluice_catalog_finish_intent (self, intent_id, NULL, SLUICE_OBJECT_UPLOADING, NULL,
                                       NULL, NULL, out_file_id, out_object_id, NULL, error);
}

/**
 * sluice_catalog_recover_intents:
 *
 * The intents a writer left (it died, or the run was cancelled, while those files were being
 * sent) become UPLOADING objects: the next run asks the server whether each arrived. Only
 * when no other process uploads with this catalog: sluice_catalog_begin_uploads () knows.
 */
gboolean
sluice_catalog_recover_intents (SluiceCatalog *self,
                                GError       **error)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *s;
  int rc;

  if (!sluice_catalog_begin (self, error))
    return FALSE;
  s = stmt (self, "SELECT id FROM intents ORDER BY id", error);
  if (s == NULL)
    goto fail;
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (s, 0);
      g_array_append_val (ids, id);
    }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc, "intents");
      goto fail;
    }
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr(GError) local_error = NULL;
      gint64 id = g_array_index (ids, gint64, i);

      if (!sluice_catalog_savepoint (self, error))
        goto fail;
      if (sluice_catalog_complete_intent (self, id, NULL, NULL, &local_error))
        {
          sluice_catalog_savepoint_end (self, TRUE);
          continue;
        }
      sluice_catalog_savepoint_end (self, FALSE);
      if (!g_error_matches (local_error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          goto fail;
        }
      /* its key went to another file meanwhile: this file is simply not sent yet */
      g_warning ("catalog: dropping an upload intent: %s", local_error->message);
      if (!sluice_catalog_drop_intent (self, id, error))
        goto fail;
    }
  return sluice_catalog_commit (self, error);

fail:
  sluice_catalog_rollback (self);
  return FALSE;
}

gboolean
sluice_catalog_finish_object (SluiceCatalog     *self,
                              gint64             object_id,
                              SluiceObjectState  state,
                              const char        *etag,
                              const char        *error_code,
                              const char        *error_message,
                              GError           **error)
{
  sqlite3_stmt *s = stmt (self,
                          "UPDATE objects SET state = ?2, etag = COALESCE (?3, etag), "
                          "  error_code = ?4, error_message = ?5, updated_at = ?6 WHERE id = ?1",
                          error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, object_id);
  sqlite3_bind_int (s, 2, state);
  bind_text_or_null (s, 3, etag);
  bind_text_or_null (s, 4, error_code);
  bind_text_or_null (s, 5, error_message);
  sqlite3_bind_int64 (s, 6, now_s ());
  return step_done (self, s, error);
}

/**
 * sluice_catalog_record_failure:
 *
 * A file that failed before an intent existed (unreadable, bad name, probe-less): its file
 * row is kept (without sha256 if it was never read) and, when it has a key, its object row is
 * FAILED with the reason, so the export and the next run see it.
 */
gboolean
sluice_catalog_record_failure (SluiceCatalog *self,
                               gint64         source_id,
                               gint64         target_id,
                               const char    *relpath,
                               const char    *key,
                               gint64         run_id,
                               const char    *error_code,
                               const char    *error_message,
                               GError       **error)
{
  sqlite3_stmt *s;
  gint64 file_id;

  s = stmt (self,
            "INSERT INTO files (source_id, relpath, size, mtime_ns, first_run_id, last_run_id) "
            "VALUES (?1, ?2, 0, 0, ?3, ?3) ON CONFLICT (source_id, relpath) DO UPDATE SET "
            "  last_run_id = excluded.last_run_id RETURNING id", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, source_id);
  sqlite3_bind_text (s, 2, relpath, -1, SQLITE_TRANSIENT);
  if (run_id > 0)
    sqlite3_bind_int64 (s, 3, run_id);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      set_db_error (self, error, SQLITE_ERROR, "file");
      sqlite3_reset (s);
      return FALSE;
    }
  file_id = sqlite3_column_int64 (s, 0);
  while (sqlite3_step (s) == SQLITE_ROW)
    ;
  sqlite3_reset (s);

  if (key == NULL)
    return sluice_catalog_add_warning (self, file_id, run_id, "error", error_message, error);

  /* the object row: keep an uploaded state of an earlier run? no: a failure now is news */
  s = stmt (self,
            "INSERT INTO objects (file_id, target_id, key, state, run_id, updated_at, "
            "                     error_code, error_message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
            "ON CONFLICT (target_id, key) DO UPDATE SET state = excluded.state, "
            "  run_id = excluded.run_id, updated_at = excluded.updated_at, "
            "  error_code = excluded.error_code, error_message = excluded.error_message "
            "WHERE objects.file_id = excluded.file_id", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, file_id);
  sqlite3_bind_int64 (s, 2, target_id);
  sqlite3_bind_text (s, 3, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (s, 4, SLUICE_OBJECT_FAILED);
  if (run_id > 0)
    sqlite3_bind_int64 (s, 5, run_id);
  sqlite3_bind_int64 (s, 6, now_s ());
  bind_text_or_null (s, 7, error_code);
  bind_text_or_null (s, 8, error_message);
  return step_done (self, s, error);
}

gboolean
sluice_catalog_touch_file (SluiceCatalog *self,
                           gint64         file_id,
                           gint64         mtime_ns,
                           gint64         run_id,
                           GError       **error)
{
  sqlite3_stmt *s = stmt (self,
                          "UPDATE files SET mtime_ns = ?2, last_run_id = ?3 WHERE id = ?1", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, file_id);
  sqlite3_bind_int64 (s, 2, mtime_ns);
  if (run_id > 0)
    sqlite3_bind_int64 (s, 3, run_id);
  return step_done (self, s, error);
}

void
sluice_catalog_pending_free (SluiceCatalogPending *pending)
{
  if (pending == NULL)
    return;
  g_free (pending->key);
  g_free (pending->sha256);
  g_free (pending);
}

/* Objects left UPLOADING by a crash; bounded by the upload concurrency of that run. */
GPtrArray *
sluice_catalog_list_uploading (SluiceCatalog *self,
                               gint64         target_id,
                               GError       **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_catalog_pending_free);
  sqlite3_stmt *s;
  int rc;

  s = stmt (self, "SELECT id, key, sha256 FROM objects WHERE target_id = ?1 AND state = ?2",
            error);
  if (s == NULL)
    return NULL;
  sqlite3_bind_int64 (s, 1, target_id);
  sqlite3_bind_int (s, 2, SLUICE_OBJECT_UPLOADING);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      SluiceCatalogPending *p = g_new0 (SluiceCatalogPending, 1);
      p->object_id = sqlite3_column_int64 (s, 0);
      p->key = column_strdup (s, 1);
      p->sha256 = column_strdup (s, 2);
      g_ptr_array_add (out, p);
    }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc, "uploading objects");
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* ---- multipart uploads ---------------------------------------------------------------------- */

void
sluice_catalog_upload_free (SluiceCatalogUpload *upload)
{
  if (upload == NULL)
    return;
  g_free (upload->upload_id);
  g_free (upload->sha256);
  g_clear_pointer (&upload->parts, g_ptr_array_unref);
  g_free (upload);
}

static void
part_free (SluiceCatalogPart *part)
{
  g_free (part->etag);
  g_free (part->sha256);
  g_clear_pointer (&part->hash_state, g_bytes_unref);
  g_free (part);
}

/**
 * sluice_catalog_get_upload:
 *
 * The multipart upload in progress for an object, with its finished parts in part-number
 * order; NULL (and no error) when there is none.
 */
SluiceCatalogUpload *
sluice_catalog_get_upload (SluiceCatalog *self,
                           gint64         object_id,
                           GError       **error)
{
  g_autoptr(SluiceCatalogUpload) upload = NULL;
  sqlite3_stmt *s;
  int rc;

  s = stmt (self, "SELECT upload_id, size, mtime_ns, part_size, sha256 FROM uploads "
                  "WHERE object_id = ?1", error);
  if (s == NULL)
    return NULL;
  sqlite3_bind_int64 (s, 1, object_id);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      upload = g_new0 (SluiceCatalogUpload, 1);
      upload->object_id = object_id;
      upload->upload_id = column_strdup (s, 0);
      upload->size = sqlite3_column_int64 (s, 1);
      upload->mtime_ns = sqlite3_column_int64 (s, 2);
      upload->part_size = sqlite3_column_int64 (s, 3);
      upload->sha256 = column_strdup (s, 4);
      upload->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) part_free);
    }
  sqlite3_reset (s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc, "upload");
      return NULL;
    }
  if (upload == NULL)
    return NULL;

  s = stmt (self, "SELECT number, size, etag, sha256, hash_state FROM parts "
                  "WHERE object_id = ?1 ORDER BY number", error);
  if (s == NULL)
    return NULL;
  sqlite3_bind_int64 (s, 1, object_id);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      SluiceCatalogPart *part = g_new0 (SluiceCatalogPart, 1);

      part->number = sqlite3_column_int (s, 0);
      part->size = sqlite3_column_int64 (s, 1);
      part->etag = column_strdup (s, 2);
      part->sha256 = column_strdup (s, 3);
      if (sqlite3_column_type (s, 4) == SQLITE_BLOB)
        part->hash_state = g_bytes_new (sqlite3_column_blob (s, 4), sqlite3_column_bytes (s, 4));
      g_ptr_array_add (upload->parts, part);
    }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc, "parts");
      return NULL;
    }
  return g_steal_pointer (&upload);
}

/* Replaces whatever upload the object had: a new upload starts with no parts. */
gboolean
sluice_catalog_begin_upload (SluiceCatalog *self,
                             gint64         object_id,
                             const char    *upload_id,
                             guint64        size,
                             gint64         mtime_ns,
                             guint64        part_size,
                             GError       **error)
{
  sqlite3_stmt *s;

  if (!sluice_catalog_end_upload (self, object_id, error))
    return FALSE;
  s = stmt (self, "INSERT INTO uploads (object_id, upload_id, size, mtime_ns, part_size, "
                  "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, object_id);
  sqlite3_bind_text (s, 2, upload_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 3, size);
  sqlite3_bind_int64 (s, 4, mtime_ns);
  sqlite3_bind_int64 (s, 5, part_size);
  sqlite3_bind_int64 (s, 6, now_s ());
  return step_done (self, s, error);
}

gboolean
sluice_catalog_add_part (SluiceCatalog *self,
                         gint64         object_id,
                         guint          number,
                         guint64        size,
                         const char    *etag,
                         const char    *sha256,
                         GBytes        *hash_state,
                         GError       **error)
{
  sqlite3_stmt *s = stmt (self,
                          "INSERT OR REPLACE INTO parts (object_id, number, size, etag, sha256, "
                          "hash_state) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, object_id);
  sqlite3_bind_int (s, 2, number);
  sqlite3_bind_int64 (s, 3, size);
  sqlite3_bind_text (s, 4, etag, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 5, sha256, -1, SQLITE_TRANSIENT);
  if (hash_state != NULL)
    {
      gsize len;
      gconstpointer data = g_bytes_get_data (hash_state, &len);
      sqlite3_bind_blob (s, 6, data, len, SQLITE_TRANSIENT);
    }
  return step_done (self, s, error);
}

/* The whole file's SHA-256, known once every part was read: kept so that a crash between the
 * completion and its record can still be reconciled. */
gboolean
sluice_catalog_set_upload_sha256 (SluiceCatalog *self,
                                  gint64         object_id,
                                  const char    *sha256,
                                  GError       **error)
{
  sqlite3_stmt *s = stmt (self, "UPDATE uploads SET sha256 = ?2 WHERE object_id = ?1", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, object_id);
  sqlite3_bind_text (s, 2, sha256, -1, SQLITE_TRANSIENT);
  return step_done (self, s, error);
}

gboolean
sluice_catalog_end_upload (SluiceCatalog *self,
                           gint64         object_id,
                           GError       **error)
{
  sqlite3_stmt *s = stmt (self, "DELETE FROM parts WHERE object_id = ?1", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, object_id);
  if (!step_done (self, s, error))
    return FALSE;
  s = stmt (self, "DELETE FROM uploads WHERE object_id = ?1", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, object_id);
  return step_done (self, s, error);
}

/* Sets the content hash an object and its file are known by (multipart: at completion). */
gboolean
sluice_catalog_set_object_sha256 (SluiceCatalog *self,
                                  gint64         object_id,
                                  const char    *sha256,
                                  GError       **error)
{
  sqlite3_stmt *s = stmt (self, "UPDATE objects SET sha256 = ?2 WHERE id = ?1", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, object_id);
  sqlite3_bind_text (s, 2, sha256, -1, SQLITE_TRANSIENT);
  if (!step_done (self, s, error))
    return FALSE;
  s = stmt (self, "UPDATE files SET sha256 = ?2 WHERE id = (SELECT file_id FROM objects "
                  "WHERE id = ?1)", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, object_id);
  sqlite3_bind_text (s, 2, sha256, -1, SQLITE_TRANSIENT);
  return step_done (self, s, error);
}

/* Every upload id the catalog knows for a target (cleanup keeps those for resumption). */
GHashTable *
sluice_catalog_known_upload_ids (SluiceCatalog *self,
                                 gint64         target_id,
                                 GError       **error)
{
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sqlite3_stmt *s;
  int rc;

  s = stmt (self, "SELECT u.upload_id FROM uploads u JOIN objects o ON o.id = u.object_id "
                  "WHERE o.target_id = ?1", error);
  if (s == NULL)
    return NULL;
  sqlite3_bind_int64 (s, 1, target_id);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    g_hash_table_add (ids, column_strdup (s, 0));
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc, "uploads");
      return NULL;
    }
  return g_steal_pointer (&ids);
}

gint64
sluice_catalog_find_target (SluiceCatalog *self,
                            const char    *endpoint,
                            const char    *bucket,
                            GError       **error)
{
  sqlite3_stmt *s = stmt (self, "SELECT id FROM targets WHERE endpoint = ?1 AND bucket = ?2",
                          error);
  gint64 id = 0;

  if (s == NULL)
    return 0;
  sqlite3_bind_text (s, 1, endpoint, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 2, bucket, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (s) == SQLITE_ROW)
    id = sqlite3_column_int64 (s, 0);
  sqlite3_reset (s);
  return id;
}

struct _SluiceCatalogCursor {
  SluiceCatalog *catalog;
  sqlite3_stmt  *stmt;
  char          *upper;
};

/* Keys in [prefix, prefix with its last byte incremented): a range an index can serve, where
 * LIKE would have to escape '%' and '_' in user keys. */
static char *
prefix_upper_bound (const char *prefix)
{
  gsize len = strlen (prefix);
  char *upper = g_strndup (prefix, len);

  while (len > 0 && (guchar) upper[len - 1] == 0xff)
    upper[--len] = '\0';
  if (len == 0)
    {
      g_free (upper);
      return NULL;
    }
  upper[len - 1]++;
  return upper;
}

SluiceCatalogCursor *
sluice_catalog_objects_cursor (SluiceCatalog *self,
                               gint64         target_id,
                               const char    *prefix,
                               GError       **error)
{
  g_autoptr(SluiceCatalogCursor) cursor = g_new0 (SluiceCatalogCursor, 1);
  int rc;

  cursor->catalog = self;
  cursor->upper = prefix_upper_bound (prefix ? prefix : "");
  rc = sqlite3_prepare_v2 (self->db,
                           "SELECT key, size, etag, state FROM objects WHERE target_id = ?1 "
                           "AND key >= ?2 AND (?3 IS NULL OR key < ?3) ORDER BY key",
                           -1, &cursor->stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, error, rc, "objects");
      return NULL;
    }
  sqlite3_bind_int64 (cursor->stmt, 1, target_id);
  sqlite3_bind_text (cursor->stmt, 2, prefix ? prefix : "", -1, SQLITE_TRANSIENT);
  bind_text_or_null (cursor->stmt, 3, cursor->upper);
  return g_steal_pointer (&cursor);
}

/* FALSE at the end (no error) or on an error. The strings live until the next call. */
gboolean
sluice_catalog_cursor_next (SluiceCatalogCursor *cursor,
                            SluiceCatalogObject *out_object,
                            GError             **error)
{
  int rc = sqlite3_step (cursor->stmt);

  if (rc == SQLITE_ROW)
    {
      out_object->key = (const char *) sqlite3_column_text (cursor->stmt, 0);
      out_object->size = sqlite3_column_int64 (cursor->stmt, 1);
      out_object->etag = (const char *) sqlite3_column_text (cursor->stmt, 2);
      out_object->state = sqlite3_column_int (cursor->stmt, 3);
      return TRUE;
    }
  if (rc != SQLITE_DONE)
    set_db_error (cursor->catalog, error, rc, "objects");
  return FALSE;
}

void
sluice_catalog_cursor_free (SluiceCatalogCursor *cursor)
{
  if (cursor == NULL)
    return;
  sqlite3_finalize (cursor->stmt);
  g_free (cursor->upper);
  g_free (cursor);
}

/* An uploaded object of this target with this content, other than @not_key; NULL if none. */
char *
sluice_catalog_find_content (SluiceCatalog *self,
                             gint64         target_id,
                             const char    *sha256,
                             const char    *not_key,
                             GError       **error)
{
  sqlite3_stmt *s = stmt (self,
                          "SELECT key FROM objects WHERE target_id = ?1 AND sha256 = ?2 "
                          "AND state = ?3 AND key != ?4 LIMIT 1", error);
  char *key = NULL;

  if (s == NULL)
    return NULL;
  sqlite3_bind_int64 (s, 1, target_id);
  sqlite3_bind_text (s, 2, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (s, 3, SLUICE_OBJECT_UPLOADED);
  sqlite3_bind_text (s, 4, not_key ? not_key : "", -1, SQLITE_TRANSIENT);
  if (sqlite3_step (s) == SQLITE_ROW)
    key = column_strdup (s, 0);
  sqlite3_reset (s);
  return key;
}

/* Whether an uploaded object of this target has exactly @size bytes (a cheap first test for
 * --dedupe of large files, before their content is hashed). */
gboolean
sluice_catalog_has_size (SluiceCatalog *self,
                         gint64         target_id,
                         guint64        size)
{
  sqlite3_stmt *s = stmt (self, "SELECT 1 FROM objects WHERE target_id = ?1 AND size = ?2 "
                                "AND state = ?3 AND sha256 IS NOT NULL LIMIT 1", NULL);
  gboolean found;

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, target_id);
  sqlite3_bind_int64 (s, 2, size);
  sqlite3_bind_int (s, 3, SLUICE_OBJECT_UPLOADED);
  found = sqlite3_step (s) == SQLITE_ROW;
  sqlite3_reset (s);
  return found;
}

char *
sluice_catalog_get_capabilities (SluiceCatalog *self,
                                 gint64         target_id,
                                 gint64        *out_probed_at)
{
  sqlite3_stmt *s = stmt (self, "SELECT report, probed_at FROM capabilities WHERE target_id = ?1",
                          NULL);
  char *report = NULL;

  if (s == NULL)
    return NULL;
  sqlite3_bind_int64 (s, 1, target_id);
  if (sqlite3_step (s) == SQLITE_ROW)
    {
      report = column_strdup (s, 0);
      if (out_probed_at != NULL)
        *out_probed_at = sqlite3_column_int64 (s, 1);
    }
  sqlite3_reset (s);
  return report;
}

gboolean
sluice_catalog_set_capabilities (SluiceCatalog *self,
                                 gint64         target_id,
                                 const char    *report,
                                 GError       **error)
{
  sqlite3_stmt *s = stmt (self, "INSERT OR REPLACE INTO capabilities (target_id, report, "
                                "probed_at) VALUES (?1, ?2, ?3)", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, target_id);
  sqlite3_bind_text (s, 2, report, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 3, now_s ());
  return step_done (self, s, error);
}

const char *
sluice_object_state_to_string (SluiceObjectState state)
{
  switch (state)
    {
    case SLUICE_OBJECT_PENDING:
      return "pending";
    case SLUICE_OBJECT_UPLOADING:
      return "uploading";
    case SLUICE_OBJECT_UPLOADED:
      return "uploaded";
    case SLUICE_OBJECT_SKIPPED:
      return "skipped";
    case SLUICE_OBJECT_FAILED:
      return "failed";
    default:
      return "unknown";
    }
}

/* ---- export ---------------------------------------------------------------------------------- */

static const char *const export_columns[] = {
  "path", "source", "bucket", "key", "size", "sha256", "etag", "state", "warning",
  "make", "model", "lens_model", "datetime_original", "subsec_time_original",
  "offset_time_original", "exposure_time", "f_number", "iso", "focal_length", "orientation",
  "exif_width", "exif_height", "width", "height", "gps_latitude", "gps_longitude",
  "gps_altitude", "has_thumbnail",
};

/* "state" is the object's state; a file that never got an object row (no target yet) is
 * "pending", or "failed" when it carries an error. The query unit selects the same columns
 * (_SLUICE_CATALOG_EXPORT_SELECT) over its own joins. */
static const char export_sql[] =
  _SLUICE_CATALOG_EXPORT_SELECT
  " FROM files f JOIN sources s ON s.id = f.source_id "
  "LEFT JOIN objects o ON o.file_id = f.id "
  "LEFT JOIN targets t ON t.id = o.target_id "
  "LEFT JOIN metadata m ON m.file_id = f.id "
  "ORDER BY f.id, o.id";

const char *const *
sluice_catalog_export_columns (guint *n_columns)
{
  *n_columns = G_N_ELEMENTS (export_columns);
  return export_columns;
}

static void
value_from_column (SluiceValue  *v,
                   sqlite3_stmt *s,
                   int           i)
{
  switch (sqlite3_column_type (s, i))
    {
    case SQLITE_NULL:
      v->kind = SLUICE_VALUE_NULL;
      break;
    case SQLITE_INTEGER:
      v->kind = SLUICE_VALUE_INT;
      v->i = sqlite3_column_int64 (s, i);
      break;
    case SQLITE_FLOAT:
      v->kind = SLUICE_VALUE_REAL;
      v->d = sqlite3_column_double (s, i);
      break;
    default:
      v->kind = SLUICE_VALUE_TEXT;
      v->s = (const char *) sqlite3_column_text (s, i);
      break;
    }
}

/* One manifest row from a statement whose first columns are _SLUICE_CATALOG_EXPORT_SELECT.
 * The values point into @s, @warning and *@exposure until the next step. */
void
_sluice_catalog_export_values (sqlite3_stmt *s,
                               SluiceValue  *values,
                               GString      *warning,
                               char        **exposure_out)
{
  int col = 0;

  memset (values, 0, sizeof (SluiceValue) * G_N_ELEMENTS (export_columns));
  for (int i = 0; i < 4; i++)            /* path source bucket key */
    value_from_column (&values[col++], s, i);
  value_from_column (&values[col++], s, 4);  /* size */
  value_from_column (&values[col++], s, 5);  /* sha256 */
  value_from_column (&values[col++], s, 6);  /* etag */

  values[col].kind = SLUICE_VALUE_TEXT;  /* state */
  if (sqlite3_column_type (s, 7) == SQLITE_NULL)
    values[col].s = sqlite3_column_type (s, 9) != SQLITE_NULL || sqlite3_column_int (s, 31)
                    ? "failed" : "pending";
  else
    values[col].s = sluice_object_state_to_string (sqlite3_column_int (s, 7));
  col++;

  /* warning: the object's error first, then the probe's failure, then the warnings */
  g_string_truncate (warning, 0);
  for (int i = 10; i >= 8; i--)
    {
      const char *t = (const char *) sqlite3_column_text (s, i);
      if (t == NULL || *t == '\0')
        continue;
      if (warning->len > 0)
        g_string_append (warning, "; ");
      g_string_append (warning, t);
    }
  values[col].kind = warning->len > 0 ? SLUICE_VALUE_TEXT : SLUICE_VALUE_NULL;
  values[col++].s = warning->str;

  for (int i = 11; i <= 16; i++)         /* make … offset_time_original */
    value_from_column (&values[col++], s, i);

  g_clear_pointer (exposure_out, g_free);
  if (sqlite3_column_type (s, 17) != SQLITE_NULL && sqlite3_column_int64 (s, 18) > 0)
    {
      *exposure_out = g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                                       (gint64) sqlite3_column_int64 (s, 17),
                                       (gint64) sqlite3_column_int64 (s, 18));
      values[col].kind = SLUICE_VALUE_TEXT;
      values[col].s = *exposure_out;
    }
  col++;

  for (int i = 19; i <= 29; i++)         /* f_number … gps_altitude */
    value_from_column (&values[col++], s, i);

  if (sqlite3_column_type (s, 30) != SQLITE_NULL)
    {
      values[col].kind = SLUICE_VALUE_BOOL;
      values[col].i = sqlite3_column_int (s, 30);
    }
  col++;
  g_assert (col == G_N_ELEMENTS (export_columns));
}

/**
 * sluice_catalog_export_rows:
 *
 * Streams the export rows, one at a time: memory does not grow with the catalog.
 */
gboolean
sluice_catalog_export_rows (SluiceCatalog       *self,
                            SluiceCatalogRowFunc func,
                            gpointer             user_data,
                            GError             **error)
{
  SluiceValue values[G_N_ELEMENTS (export_columns)];
  g_autoptr(GString) warning = g_string_new (NULL);
  g_autofree char *exposure = NULL;
  sqlite3_stmt *s;
  gboolean ok = TRUE;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, export_sql, -1, &s, NULL);
  if (rc != SQLITE_OK)
    return set_db_error (self, error, rc, "export");

  while (ok && (rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      _sluice_catalog_export_values (s, values, warning, &exposure);
      ok = func (values, user_data, error);
    }

  if (ok && rc != SQLITE_DONE)
    ok = set_db_error (self, error, rc, "export");
  sqlite3_finalize (s);
  return ok;
}
