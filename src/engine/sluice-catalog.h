/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sluice-metadata.h"

G_BEGIN_DECLS

/*
 * The catalog: SQLite in WAL mode, the job journal and the metadata store at once. Only the
 * catalog's units include <sqlite3.h> (sluice-catalog.c and sluice-catalog-query.c, through
 * sluice-catalog-private.h); browsing queries are in sluice-catalog-query.h. A SluiceCatalog is one connection and is used from one
 * thread at a time: the catalog writer thread owns the writing one; readers open their own.
 *
 * Tables: sources, targets, runs (the configuration of each run, no secrets), files (source,
 * relative path, size, mtime, sha256), metadata (one row per file), thumbnails (kept apart from
 * the wide tables), objects (file × target → key, state, ETag, sha256; UNIQUE (target, key), so
 * two files can never silently share a key), warnings.
 */

typedef struct _SluiceCatalog SluiceCatalog;

typedef enum {
  SLUICE_OBJECT_PENDING,
  SLUICE_OBJECT_UPLOADING,   /* intent: durable before the request goes out */
  SLUICE_OBJECT_UPLOADED,
  SLUICE_OBJECT_SKIPPED,
  SLUICE_OBJECT_FAILED,
} SluiceObjectState;

typedef enum {
  SLUICE_PROBE_STATE_NONE,      /* not probed (yet) */
  SLUICE_PROBE_STATE_OK,
  SLUICE_PROBE_STATE_WARNING,   /* partial metadata, warnings recorded */
  SLUICE_PROBE_STATE_FAILED,    /* the helper crashed or stalled on it */
} SluiceProbeState;

typedef struct {
  gint64             file_id;
  guint64            size;
  gint64             mtime_ns;
  char              *sha256;        /* of the file as last read, or NULL */
  SluiceProbeState   probe_state;
  char              *probe_error;
  gint64             object_id;     /* 0 when the file has no object in this target */
  char              *key;
  SluiceObjectState  state;
  char              *object_sha256;
  char              *etag;
} SluiceCatalogEntry;

typedef struct {
  gint64   object_id;
  char    *key;
  char    *sha256;
} SluiceCatalogPending;

typedef struct {
  guint    number;
  guint64  size;
  char    *etag;
  char    *sha256;
  GBytes  *hash_state;     /* SHA-256 state of the whole file after this part, or NULL */
} SluiceCatalogPart;

typedef struct {
  gint64     object_id;
  char      *upload_id;
  guint64    size;         /* the version of the file being uploaded */
  gint64     mtime_ns;
  guint64    part_size;
  char      *sha256;       /* whole file, once every part was read */
  GPtrArray *parts;        /* SluiceCatalogPart, by number */
} SluiceCatalogUpload;

#define SLUICE_CATALOG_SCHEMA_VERSION 6

char          *sluice_catalog_default_path       (void);
SluiceCatalog *sluice_catalog_open               (const char          *path,
                                                  gboolean             readonly,
                                                  GError             **error);
void           sluice_catalog_close              (SluiceCatalog       *self);
void           sluice_catalog_set_cache_limit    (SluiceCatalog       *self,
                                                  guint                kib);
gsize          sluice_catalog_get_cache_used     (SluiceCatalog       *self);
const char    *sluice_catalog_get_path           (SluiceCatalog       *self);
gboolean       sluice_catalog_path_is_remote     (const char          *path,
                                                  char               **out_fs_name);

gboolean       sluice_catalog_begin              (SluiceCatalog       *self,
                                                  GError             **error);
gboolean       sluice_catalog_commit             (SluiceCatalog       *self,
                                                  GError             **error);
void           sluice_catalog_rollback           (SluiceCatalog       *self);
gboolean       sluice_catalog_index_pending      (SluiceCatalog       *self,
                                                  GError             **error);
gboolean       sluice_catalog_savepoint          (SluiceCatalog       *self,
                                                  GError             **error);
void           sluice_catalog_savepoint_end      (SluiceCatalog       *self,
                                                  gboolean             keep);

gint64         sluice_catalog_ensure_source      (SluiceCatalog       *self,
                                                  const char          *path,
                                                  GError             **error);
gint64         sluice_catalog_ensure_target      (SluiceCatalog       *self,
                                                  const char          *endpoint,
                                                  const char          *bucket,
                                                  GError             **error);
gint64         sluice_catalog_begin_run          (SluiceCatalog       *self,
                                                  gint64               source_id,
                                                  gint64               target_id,
                                                  const char          *config_json,
                                                  GError             **error);
gboolean       sluice_catalog_end_run            (SluiceCatalog       *self,
                                                  gint64               run_id,
                                                  const char          *status,
                                                  const char          *summary_json,
                                                  GError             **error);

gboolean       sluice_catalog_lookup             (SluiceCatalog       *self,
                                                  gint64               source_id,
                                                  gint64               target_id,
                                                  const char          *relpath,
                                                  SluiceCatalogEntry  *out_entry,
                                                  GError             **error);
void           sluice_catalog_entry_clear        (SluiceCatalogEntry  *entry);

gint64         sluice_catalog_upsert_file        (SluiceCatalog       *self,
                                                  gint64               source_id,
                                                  const char          *relpath,
                                                  guint64              size,
                                                  gint64               mtime_ns,
                                                  const char          *sha256,
                                                  gint64               run_id,
                                                  GError             **error);
gboolean       sluice_catalog_set_metadata       (SluiceCatalog       *self,
                                                  gint64               file_id,
                                                  gint64               run_id,
                                                  const SluiceMetadata *meta,
                                                  SluiceProbeState     state,
                                                  const char          *probe_error,
                                                  GError             **error);
gboolean       sluice_catalog_set_first_metadata (SluiceCatalog       *self,
                                                  gint64               file_id,
                                                  gint64               run_id,
                                                  const SluiceMetadata *meta,
                                                  SluiceProbeState     state,
                                                  const char          *probe_error,
                                                  GError             **error);
gboolean       sluice_catalog_add_warning        (SluiceCatalog       *self,
                                                  gint64               file_id,
                                                  gint64               run_id,
                                                  const char          *stage,
                                                  const char          *message,
                                                  GError             **error);
gint64         sluice_catalog_begin_object       (SluiceCatalog       *self,
                                                  gint64               file_id,
                                                  gint64               target_id,
                                                  const char          *key,
                                                  const char          *sha256,
                                                  guint64              size,
                                                  gint64               run_id,
                                                  GError             **error);
gint64         sluice_catalog_add_intent         (SluiceCatalog       *self,
                                                  gint64               source_id,
                                                  gint64               target_id,
                                                  const char          *relpath,
                                                  const char          *key,
                                                  guint64              size,
                                                  gint64               mtime_ns,
                                                  const char          *sha256,
                                                  gint64               run_id,
                                                  GError             **error);
gboolean       sluice_catalog_drop_intent        (SluiceCatalog       *self,
                                                  gint64               intent_id,
                                                  GError             **error);
gboolean       sluice_catalog_complete_intent    (SluiceCatalog       *self,
                                                  gint64               intent_id,
                                                  gint64              *out_file_id,
                                                  gint64              *out_object_id,
                                                  GError             **error);
/* What was read and sent under an intent (one made before its file was read has no hash, and
 * the listing's size and mtime: schema 6). */
typedef struct {
  const char *sha256;
  guint64     size;
  gint64      mtime_ns;
} SluiceCatalogSent;

gboolean       sluice_catalog_finish_intent      (SluiceCatalog       *self,
                                                  gint64               intent_id,
                                                  const SluiceCatalogSent *sent,
                                                  SluiceObjectState    state,
                                                  const char          *etag,
                                                  const char          *error_code,
                                                  const char          *error_message,
                                                  gint64              *out_file_id,
                                                  gint64              *out_object_id,
                                                  gboolean            *out_new_file,
                                                  GError             **error);
gboolean       sluice_catalog_recover_intents    (SluiceCatalog       *self,
                                                  GError             **error);
gboolean       sluice_catalog_begin_uploads      (SluiceCatalog       *self,
                                                  GError             **error);
gboolean       sluice_catalog_uploads_alone      (SluiceCatalog       *self);
gboolean       sluice_catalog_source_has_files   (SluiceCatalog       *self,
                                                  gint64               source_id,
                                                  gboolean            *out_has,
                                                  GError             **error);
gboolean       sluice_catalog_finish_object      (SluiceCatalog       *self,
                                                  gint64               object_id,
                                                  SluiceObjectState    state,
                                                  const char          *etag,
                                                  const char          *error_code,
                                                  const char          *error_message,
                                                  GError             **error);
gboolean       sluice_catalog_record_failure     (SluiceCatalog       *self,
                                                  gint64               source_id,
                                                  gint64               target_id,
                                                  const char          *relpath,
                                                  const char          *key,
                                                  gint64               run_id,
                                                  const char          *error_code,
                                                  const char          *error_message,
                                                  GError             **error);
gboolean       sluice_catalog_touch_file         (SluiceCatalog       *self,
                                                  gint64               file_id,
                                                  gint64               mtime_ns,
                                                  gint64               run_id,
                                                  GError             **error);
GPtrArray     *sluice_catalog_list_uploading     (SluiceCatalog       *self,
                                                  gint64               target_id,
                                                  GError             **error);
void           sluice_catalog_pending_free       (SluiceCatalogPending *pending);

SluiceCatalogUpload *sluice_catalog_get_upload      (SluiceCatalog       *self,
                                                  gint64               object_id,
                                                  GError             **error);
void           sluice_catalog_upload_free        (SluiceCatalogUpload *upload);
gboolean       sluice_catalog_begin_upload       (SluiceCatalog       *self,
                                                  gint64               object_id,
                                                  const char          *upload_id,
                                                  guint64              size,
                                                  gint64               mtime_ns,
                                                  guint64              part_size,
                                                  GError             **error);
gboolean       sluice_catalog_add_part           (SluiceCatalog       *self,
                                                  gint64               object_id,
                                                  guint                number,
                                                  guint64              size,
                                                  const char          *etag,
                                                  const char          *sha256,
                                                  GBytes              *hash_state,
                                                  GError             **error);
gboolean       sluice_catalog_set_upload_sha256  (SluiceCatalog       *self,
                                                  gint64               object_id,
                                                  const char          *sha256,
                                                  GError             **error);
gboolean       sluice_catalog_end_upload         (SluiceCatalog       *self,
                                                  gint64               object_id,
                                                  GError             **error);
gboolean       sluice_catalog_set_object_sha256  (SluiceCatalog       *self,
                                                  gint64               object_id,
                                                  const char          *sha256,
                                                  GError             **error);
GHashTable    *sluice_catalog_known_upload_ids   (SluiceCatalog       *self,
                                                  gint64               target_id,
                                                  GError             **error);
gint64         sluice_catalog_find_target        (SluiceCatalog       *self,
                                                  const char          *endpoint,
                                                  const char          *bucket,
                                                  GError             **error);

char          *sluice_catalog_find_content       (SluiceCatalog       *self,
                                                  gint64               target_id,
                                                  const char          *sha256,
                                                  const char          *not_key,
                                                  GError             **error);
gboolean       sluice_catalog_has_size           (SluiceCatalog       *self,
                                                  gint64               target_id,
                                                  guint64              size);
char          *sluice_catalog_get_capabilities   (SluiceCatalog       *self,
                                                  gint64               target_id,
                                                  gint64              *out_probed_at);
gboolean       sluice_catalog_set_capabilities   (SluiceCatalog       *self,
                                                  gint64               target_id,
                                                  const char          *report,
                                                  GError             **error);

/* Objects of a target under a key prefix, in key order (the order S3 lists keys in: bytes). */
typedef struct _SluiceCatalogCursor SluiceCatalogCursor;

typedef struct {
  const char        *key;
  guint64            size;
  const char        *etag;
  SluiceObjectState  state;
} SluiceCatalogObject;

SluiceCatalogCursor *sluice_catalog_objects_cursor (SluiceCatalog       *self,
                                                    gint64               target_id,
                                                    const char          *prefix,
                                                    GError             **error);
gboolean       sluice_catalog_cursor_next        (SluiceCatalogCursor *cursor,
                                                  SluiceCatalogObject *out_object,
                                                  GError             **error);
void           sluice_catalog_cursor_free        (SluiceCatalogCursor *cursor);

/* Export: one row per file and target, columns as sluice_catalog_export_columns() names. */
typedef enum {
  SLUICE_VALUE_NULL,
  SLUICE_VALUE_INT,
  SLUICE_VALUE_REAL,
  SLUICE_VALUE_TEXT,
  SLUICE_VALUE_BOOL,
} SluiceValueKind;

typedef struct {
  SluiceValueKind  kind;
  gint64           i;
  double           d;
  const char      *s;
} SluiceValue;

typedef gboolean (*SluiceCatalogRowFunc) (const SluiceValue *values,
                                          gpointer           user_data,
                                          GError           **error);

const char *const *sluice_catalog_export_columns (guint               *n_columns);
gboolean           sluice_catalog_export_rows    (SluiceCatalog       *self,
                                                  SluiceCatalogRowFunc func,
                                                  gpointer             user_data,
                                                  GError             **error);

const char        *sluice_object_state_to_string (SluiceObjectState    state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceCatalog, sluice_catalog_close)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SluiceCatalogEntry, sluice_catalog_entry_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceCatalogUpload, sluice_catalog_upload_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceCatalogCursor, sluice_catalog_cursor_free)

G_END_DECLS
