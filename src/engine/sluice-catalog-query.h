/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-catalog.h"

G_BEGIN_DECLS

/*
 * Browsing the catalog: the queries behind the metadata browser and filtered manifests. The app
 * holds no SQL; it describes what it wants with a SluiceQuery (filters + one sort column and a
 * direction) and asks for a count, pages of rows, the detail of one row and its thumbnail.
 *
 * A row is one file and one of its objects (one per target), exactly the rows of a manifest; a
 * file that has no object yet (or failed before it had a key) is one row with object_id 0.
 *
 * Paging is keyset paging, never OFFSET: each row carries a SluiceQueryCursor (its sort value,
 * file id and object id) and the next page is "the rows after this cursor". Ties in the sort
 * column are ordered by (file id, object id), so a page boundary inside a run of equal values
 * never skips nor repeats a row. Empty (NULL) sort values come last in both directions.
 *
 * Threads: every function here runs on the thread that uses @catalog, and may take tens of
 * milliseconds; the app calls them from a worker (GTask) with its own read-only connection
 * (sluice_catalog_open (path, TRUE, …)), which WAL lets read while an ingest writes. A
 * SluiceQuery is a plain value: copy it to hand it to another thread.
 */

typedef enum {
  SLUICE_QUERY_SORT_INGEST,        /* ingest order (file id) */
  SLUICE_QUERY_SORT_NAME,          /* source folder, then relative path */
  SLUICE_QUERY_SORT_DATE_TAKEN,    /* DateTimeOriginal */
  SLUICE_QUERY_SORT_CAMERA,        /* make + model, as sluice_catalog_camera_name() */
  SLUICE_QUERY_SORT_LENS,
  SLUICE_QUERY_SORT_EXPOSURE,      /* exposure time in seconds */
  SLUICE_QUERY_SORT_ISO,
  SLUICE_QUERY_SORT_FOCAL_LENGTH,
  SLUICE_QUERY_SORT_SIZE,
  SLUICE_QUERY_SORT_STATE,         /* the object's state; files without an object come last */
  SLUICE_QUERY_SORT_KEY,           /* the S3 key; files without an object come last */
  SLUICE_QUERY_N_SORTS,
} SluiceQuerySort;

/* Bits for sluice_query_set_states (): 1 << SluiceObjectState. A file without an object counts
 * as FAILED when it carries an error, else as PENDING (as in the manifest). */
#define SLUICE_QUERY_STATE(s) (1u << (s))
#define SLUICE_QUERY_ALL_STATES 0u

typedef enum {
  SLUICE_QUERY_GPS_ANY,
  SLUICE_QUERY_GPS_WITH,
  SLUICE_QUERY_GPS_WITHOUT,
} SluiceQueryGps;

typedef struct _SluiceQuery SluiceQuery;

SluiceQuery     *sluice_query_new             (void);
SluiceQuery     *sluice_query_copy            (const SluiceQuery  *query);
void             sluice_query_free            (SluiceQuery        *query);
gboolean         sluice_query_equal           (const SluiceQuery  *a,
                                               const SluiceQuery  *b);

void             sluice_query_set_sort        (SluiceQuery        *query,
                                               SluiceQuerySort     sort,
                                               gboolean            descending);
SluiceQuerySort  sluice_query_get_sort        (const SluiceQuery  *query,
                                               gboolean           *out_descending);
/* Words the user typed, searched in the path, camera and lens (FTS5). Any text is valid: each
 * word is matched as a quoted prefix, never parsed as FTS syntax. NULL or "" clears it. */
void             sluice_query_set_search      (SluiceQuery        *query,
                                               const char         *text);
/* Exact values, as sluice_catalog_list_cameras () / _lenses () give them; NULL clears. */
void             sluice_query_set_camera      (SluiceQuery        *query,
                                               const char         *camera);
void             sluice_query_set_lens        (SluiceQuery        *query,
                                               const char         *lens);
/* Dates taken from @since to @until, both included, ISO "YYYY-MM-DD" (NULL: open ended).
 * FALSE with SLUICE_ERROR_INVALID_ARGUMENT for a date that is not one. */
gboolean         sluice_query_set_date_range  (SluiceQuery        *query,
                                               const char         *since,
                                               const char         *until,
                                               GError            **error);
void             sluice_query_set_gps         (SluiceQuery        *query,
                                               SluiceQueryGps      gps);
/* A mask of SLUICE_QUERY_STATE () bits; SLUICE_QUERY_ALL_STATES (0) clears. */
void             sluice_query_set_states      (SluiceQuery        *query,
                                               guint               states);
/* Rows whose object was last written by run @run_id (a file without an object: the last run
 * that saw it); 0 clears. */
void             sluice_query_set_run         (SluiceQuery        *query,
                                               gint64              run_id);
/* "uploaded,failed" → mask; FALSE on an unknown name. */
gboolean         sluice_query_states_from_string (const char      *names,
                                               guint              *out_states,
                                               GError            **error);

/* Where a row sits in a query's order. Owned by its row, or by the caller of _copy. */
typedef struct {
  SluiceQuerySort  sort;
  SluiceValue      value;        /* the sort value; kind NULL for an empty value. .s is owned */
  gint64           aux;          /* SORT_NAME: the source id */
  gint64           file_id;
  gint64           object_id;    /* 0: the file has no object */
} SluiceQueryCursor;

SluiceQueryCursor *sluice_query_cursor_copy   (const SluiceQueryCursor *cursor);
void               sluice_query_cursor_free   (SluiceQueryCursor       *cursor);

/* One row of the browser: the columns it shows. */
typedef struct {
  SluiceQueryCursor  cursor;
  gint64             file_id;
  gint64             object_id;         /* 0: no object */
  char              *relpath;
  char              *camera;            /* NULL when unknown */
  char              *lens;
  char              *datetime_original; /* "YYYY:MM:DD HH:MM:SS" */
  gint64             exposure_num;      /* exposure_den 0: unknown */
  gint64             exposure_den;
  double             f_number;          /* NAN when unknown */
  gint64             iso;               /* -1 when unknown */
  double             focal_length;      /* NAN when unknown */
  guint64            size;
  SluiceObjectState  state;             /* as the manifest's state column */
  char              *key;               /* NULL: no object */
  gboolean           has_gps;
  gboolean           has_thumbnail;
} SluiceQueryRow;

void               sluice_query_row_free      (SluiceQueryRow          *row);

/* Rows the query matches: one count statement, from indexes where the filters allow. */
gboolean       sluice_catalog_query_count     (SluiceCatalog           *catalog,
                                               const SluiceQuery       *query,
                                               guint64                 *out_count,
                                               GError                 **error);
/* Up to @limit rows after @after (NULL: from the first row), in the query's order.
 * Returns a GPtrArray of SluiceQueryRow (empty at the end), NULL on error. */
GPtrArray     *sluice_catalog_query_page      (SluiceCatalog           *catalog,
                                               const SluiceQuery       *query,
                                               const SluiceQueryCursor *after,
                                               guint                    limit,
                                               GError                 **error);

/*
 * Random access (a scrollbar dragged to the middle). An anchor table holds the cursor of every
 * @stride-th row, made by one streaming pass over the query's order (run it on a worker, once
 * per query; it is cancellable). sluice_query_anchors_page () then fetches rows at any position
 * with a keyset page from the nearest anchor, skipping at most @stride - 1 rows. The anchors
 * describe the catalog when they were made: rows ingested later are announced by the "new
 * rows" functions below, and the app rebuilds the anchors when it takes them in.
 */
typedef struct _SluiceQueryAnchors SluiceQueryAnchors;

#define SLUICE_QUERY_ANCHOR_STRIDE 256

SluiceQueryAnchors *sluice_catalog_query_anchors (SluiceCatalog        *catalog,
                                               const SluiceQuery       *query,
                                               guint                    stride,
                                               GCancellable            *cancellable,
                                               GError                 **error);
guint64        sluice_query_anchors_get_n_rows (SluiceQueryAnchors     *anchors);
GPtrArray     *sluice_query_anchors_page      (SluiceQueryAnchors      *anchors,
                                               SluiceCatalog           *catalog,
                                               guint64                  position,
                                               guint                    limit,
                                               GError                 **error);
void           sluice_query_anchors_free      (SluiceQueryAnchors      *anchors);

/* Live: the highest file id now (0 for an empty catalog), and how many rows of @query / which
 * rows (in ingest order, up to @limit) belong to files with an id above @after_file_id. */
gint64         sluice_catalog_max_file_id     (SluiceCatalog           *catalog,
                                               GError                 **error);
gboolean       sluice_catalog_query_count_new (SluiceCatalog           *catalog,
                                               const SluiceQuery       *query,
                                               gint64                   after_file_id,
                                               guint64                 *out_count,
                                               GError                 **error);
GPtrArray     *sluice_catalog_query_new_rows  (SluiceCatalog           *catalog,
                                               const SluiceQuery       *query,
                                               gint64                   after_file_id,
                                               guint                    limit,
                                               GError                 **error);

/* Everything about one row, for the detail pane. */
typedef struct {
  gint64             file_id;
  gint64             object_id;
  char              *source;             /* the source folder, absolute */
  char              *relpath;
  char              *folder;             /* source + the relative path's folder */
  guint64            size;
  gint64             mtime_ns;
  char              *sha256;
  SluiceProbeState   probe_state;
  char              *probe_error;
  gint64             first_run_id;
  gint64             last_run_id;
  /* the object (object_id 0: none) */
  char              *endpoint;
  char              *bucket;
  char              *key;
  char              *s3_uri;             /* "s3://bucket/key"; presign with sluice_s3_presign () */
  SluiceObjectState  state;
  char              *etag;
  char              *object_sha256;
  char              *error_code;
  char              *error_message;
  gint64             run_id;
  gint64             updated_at;         /* unix seconds */
  /* the metadata: every field of the metadata table; absent numbers are -1 / NAN */
  SluiceMetadata    *metadata;           /* NULL when the file has none; no thumbnail */
  char              *camera;
  gboolean           has_gps;
  GPtrArray         *warnings;           /* char *, "stage: message" */
} SluiceQueryDetail;

SluiceQueryDetail *sluice_catalog_query_detail (SluiceCatalog          *catalog,
                                               gint64                   file_id,
                                               gint64                   object_id,
                                               GError                 **error);
void           sluice_query_detail_free       (SluiceQueryDetail       *detail);
/* The embedded EXIF thumbnail (JPEG), or NULL with no error when there is none. */
GBytes        *sluice_catalog_get_thumbnail   (SluiceCatalog           *catalog,
                                               gint64                   file_id,
                                               GError                 **error);
/* Where a file is and what it was, for decoding its thumbnail: its absolute path (the source
 * folder and its relative path), its content SHA-256 (NULL if never read), whether its
 * metadata was read and the container the probe recognised in it (NULL for none or without
 * metadata). FALSE with SLUICE_ERROR_NOT_FOUND for no such file. */
gboolean       sluice_catalog_get_file_source (SluiceCatalog           *catalog,
                                               gint64                   file_id,
                                               char                   **out_path,
                                               char                   **out_sha256,
                                               gboolean                *out_probed,
                                               char                   **out_container,
                                               GError                 **error);

/* Values for the filter menus, sorted; each a few index seeks, not a scan. */
GPtrArray     *sluice_catalog_list_cameras    (SluiceCatalog           *catalog,
                                               GError                 **error);
GPtrArray     *sluice_catalog_list_lenses     (SluiceCatalog           *catalog,
                                               GError                 **error);

typedef struct {
  gint64  id;
  char   *source;
  char   *bucket;        /* NULL for a run without target */
  gint64  started_at;    /* unix seconds */
  gint64  finished_at;   /* 0 while running or interrupted */
  char   *status;
} SluiceCatalogRun;

GPtrArray     *sluice_catalog_list_runs       (SluiceCatalog           *catalog,
                                               GError                 **error);
void           sluice_catalog_run_free        (SluiceCatalogRun        *run);

/* The manifest rows (sluice_catalog_export_columns ()) of @query, in its order, streamed page
 * by page: memory does not grow with the result. A NULL @query is sluice_catalog_export_rows. */
gboolean       sluice_catalog_query_export_rows (SluiceCatalog         *catalog,
                                               const SluiceQuery       *query,
                                               SluiceCatalogRowFunc     func,
                                               gpointer                 user_data,
                                               GCancellable            *cancellable,
                                               GError                 **error);

/* "Canon" + "Canon EOS R5" → "Canon EOS R5"; "NIKON CORPORATION" + "NIKON D850" stays both. */
char          *sluice_catalog_camera_name     (const char              *make,
                                               const char              *model);

/* Exposed for tests: forces the plan of every later query ("walk", "index", "states"; NULL). */
void           _sluice_catalog_query_force_plan (const char            *plan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceQuery, sluice_query_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceQueryCursor, sluice_query_cursor_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceQueryRow, sluice_query_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceQueryAnchors, sluice_query_anchors_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceQueryDetail, sluice_query_detail_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceCatalogRun, sluice_catalog_run_free)

G_END_DECLS
