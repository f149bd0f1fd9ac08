/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-multipart"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice-error.h"
#include "sluice-pipeline-private.h"

/*
 * Large files go in parts. The worker that owns a file reads it once, part by part, in order:
 * each part's bytes feed the whole file's SHA-256 and the part's own (its signed payload hash),
 * and become a PartJob that any worker may upload. The upload id is durable in the catalog
 * before the first part goes out, and every finished part (number, size, ETag, SHA-256, and the
 * whole-file hash state after it) is recorded, so a restart continues the same upload: ListParts
 * says what the server holds, finished parts are not sent again and, where the hash state of an
 * unbroken run of finished parts was kept, not even read again.
 */

typedef struct {
  gint            refs;
  SluicePipeline *pipeline;
  gint64          object_id;
  char           *key;
  char           *upload_id;
  guint           n_parts;
  SluiceS3Part   *parts;      /* [n_parts]; etag NULL until the part is on the server */
  guint           pending;    /* queued or uploading; guarded by the work mutex */
  GError         *error;      /* the first part failure; guarded by the work mutex */
} Multipart;

struct _PartJob {
  Multipart    *mp;
  guint         number;
  SluiceBuffer *buf;
  GBytes       *hash_state;   /* whole-file SHA-256 state after this part */
};

static Multipart *
multipart_ref (Multipart *mp)
{
  g_atomic_int_inc (&mp->refs);
  return mp;
}

static void
multipart_unref (Multipart *mp)
{
  if (!g_atomic_int_dec_and_test (&mp->refs))
    return;
  for (guint i = 0; i < mp->n_parts; i++)
    g_free (mp->parts[i].etag);
  g_free (mp->parts);
  g_free (mp->key);
  g_free (mp->upload_id);
  g_clear_error (&mp->error);
  g_free (mp);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Multipart, multipart_unref)

static void
part_job_free (PartJob *job)
{
  sluice_buffer_free (job->buf);
  g_clear_pointer (&job->hash_state, g_bytes_unref);
  multipart_unref (job->mp);
  g_free (job);
}

/* ---- catalog operations ------------------------------------------------------------------ */

static gboolean
begin_upload_op (SluiceCatalog *catalog,
                 gpointer       data,
                 GError       **error)
{
  FileOp *op = data;

  return sluice_catalog_begin_upload (catalog, op->object_id, op->upload_id, op->size,
                                      op->mtime_ns, op->part_size, error);
}

static gboolean
end_upload_op (SluiceCatalog *catalog,
               gpointer       data,
               GError       **error)
{
  FileOp *op = data;

  return sluice_catalog_end_upload (catalog, op->object_id, error);
}

static gboolean
add_part_op (SluiceCatalog *catalog,
             gpointer       data,
             GError       **error)
{
  FileOp *op = data;

  return sluice_catalog_add_part (catalog, op->object_id, op->part_number, op->size, op->etag,
                                  op->sha256, op->hash_state, error);
}

static gboolean
upload_sha256_op (SluiceCatalog *catalog,
                  gpointer       data,
                  GError       **error)
{
  FileOp *op = data;

  return sluice_catalog_set_upload_sha256 (catalog, op->object_id, op->sha256, error);
}

/* ---- parts ------------------------------------------------------------------------------------ */

/**
 * _sluice_pipeline_run_part:
 *
 * Uploads one part (any worker may run it), records it, and releases its bytes.
 */
void
_sluice_pipeline_run_part (Worker  *w,
                           PartJob *job)
{
  SluicePipeline *self = w->pipeline;
  Multipart *mp = job->mp;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  gboolean ok = FALSE;

  for (guint attempt = 1; _sluice_pipeline_request_begin (self); attempt++)
    {
      g_clear_error (&error);
      ok = sluice_s3_client_upload_part (w->s3, mp->key, mp->upload_id, job->number,
                                         job->buf->data, job->buf->len, job->buf->sha256_hex,
                                         &etag, &error);
      _sluice_pipeline_request_end (self, error);
      if (ok || !_sluice_pipeline_should_retry (self, error, &attempt))
        break;
    }
  if (!ok && error == NULL)
    g_set_error_literal (&error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");

  if (ok)
    {
      FileOp *op = _sluice_file_op_new (self, NULL, NULL);

      op->object_id = mp->object_id;
      op->part_number = job->number;
      op->size = job->buf->len;
      op->etag = g_strdup (etag);
      op->sha256 = g_strdup (job->buf->sha256_hex);
      op->hash_state = g_steal_pointer (&job->hash_state);
      /* at once: a finished part that is not on record is sent again by the next run */
      sluice_catalog_writer_run_now (self->writer, add_part_op, op,
                                     (GDestroyNotify) _sluice_file_op_free);
    }

  g_mutex_lock (&self->work.mutex);
  if (ok)
    mp->parts[job->number - 1].etag = g_steal_pointer (&etag);
  else if (mp->error == NULL)
    mp->error = g_steal_pointer (&error);
  mp->pending--;
  sluice_work_queue_part_done_locked (&self->work);
  g_mutex_unlock (&self->work.mutex);

  part_job_free (job);
}

/* ---- resuming ------------------------------------------------------------------------------- */

static gboolean
collect_part_none (guint       number,
                   guint64     size,
                   const char *etag,
                   gpointer    user_data)
{
  return FALSE;  /* one page is enough to know the upload exists */
}

typedef struct {
  GHashTable *server;   /* part number → etag */
  GHashTable *sizes;    /* part number → size */
} ServerParts;

static gboolean
collect_part (guint       number,
              guint64     size,
              const char *etag,
              gpointer    user_data)
{
  ServerParts *sp = user_data;

  g_hash_table_insert (sp->server, GUINT_TO_POINTER (number), g_strdup (etag));
  g_hash_table_insert (sp->sizes, GUINT_TO_POINTER (number), g_memdup2 (&size, sizeof size));
  return TRUE;
}

/*
 * Which catalog parts the server still holds (same number, size and ETag): those are not sent
 * again. Returns FALSE with SLUICE_ERROR_NO_SUCH_UPLOAD when the upload is gone.
 */
static gboolean
reconcile_parts (SluiceS3Client       *s3,
                 const char           *key,
                 SluiceCatalogUpload  *upload,
                 GHashTable          **out_done,
                 GError              **error)
{
  ServerParts sp;
  g_autoptr(GHashTable) done = g_hash_table_new (NULL, NULL);
  gboolean ok;

  sp.server = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  sp.sizes = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  ok = sluice_s3_client_list_parts (s3, key, upload->upload_id, collect_part, &sp, error);
  if (ok)
    {
      for (guint i = 0; i < upload->parts->len; i++)
        {
          SluiceCatalogPart *part = g_ptr_array_index (upload->parts, i);
          const char *etag = g_hash_table_lookup (sp.server, GUINT_TO_POINTER (part->number));
          const guint64 *size = g_hash_table_lookup (sp.sizes, GUINT_TO_POINTER (part->number));

          if (etag != NULL && size != NULL && *size == part->size &&
              g_strcmp0 (etag, part->etag) == 0)
            g_hash_table_insert (done, GUINT_TO_POINTER (part->number), part);
        }
      *out_done = g_steal_pointer (&done);
    }
  g_hash_table_unref (sp.server);
  g_hash_table_unref (sp.sizes);
  return ok;
}

/* The longest run of finished parts 1..k whose hash state was kept: reading starts at k+1. */
static guint
restorable_prefix (GHashTable    *done,
                   guint          n_parts,
                   SluiceSha256 **out_hash)
{
  guint k = 0;

  *out_hash = NULL;
  for (guint n = 1; n <= n_parts; n++)
    {
      SluiceCatalogPart *part = g_hash_table_lookup (done, GUINT_TO_POINTER (n));
      SluiceSha256 *restored;

      if (part == NULL)
        break;
      restored = sluice_sha256_restore (part->hash_state);
      if (restored == NULL)
        break;
      g_clear_pointer (out_hash, sluice_sha256_free);
      *out_hash = restored;
      k = n;
    }
  return k;
}

static guint64
choose_part_size (guint64 size,
                  guint64 wanted)
{
  guint64 part = wanted;

  /* S3 allows 10,000 parts: a bigger file gets bigger parts (rounded to MiB) */
  while (size / part >= SLUICE_S3_MAX_PARTS)
    part *= 2;
  return part;
}

static gboolean
same_stat (const struct stat *a,
           const struct stat *b)
{
  return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
         a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static gint64
stat_mtime_ns (const struct stat *st)
{
  return (gint64) st->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st->st_mtim.tv_nsec;
}

/* Waits until every queued part of @mp is done, uploading parts (anyone's) meanwhile. */
static void
wait_for_parts (Worker    *w,
                Multipart *mp)
{
  PartJob *job;

  while ((job = sluice_work_queue_pop_part_until (&w->pipeline->work, &mp->pending)) != NULL)
    _sluice_pipeline_run_part (w, job);
}

static void
abort_upload (Worker     *w,
              Multipart  *mp)
{
  g_autoptr(GError) error = NULL;
  FileOp *op;

  if (!sluice_s3_client_abort_multipart (w->s3, mp->key, mp->upload_id, &error))
    g_debug ("aborting %s: %s", mp->key, error->message);
  op = _sluice_file_op_new (w->pipeline, NULL, NULL);
  op->object_id = mp->object_id;
  sluice_catalog_writer_run (w->pipeline->writer, end_upload_op, op,
                             (GDestroyNotify) _sluice_file_op_free);
}

/* ---- one large file ----------------------------------------------------------------------------- */

typedef struct {
  Worker             *w;
  SluiceFoundFile    *f;
  char               *key;        /* owned */
  SluiceCatalogEntry *entry;
  int                 fd;
  struct stat         before;
  guint64             part_size;
  Multipart          *mp;
  SluiceSha256       *hash;
  GHashTable         *done;     /* part number → SluiceCatalogPart held by the server */
  SluiceCatalogUpload *upload;
  gboolean            resumed;
  gint64              object_id;
} Large;

static void
large_clear (Large *l)
{
  if (l->fd >= 0)
    close (l->fd);
  g_clear_pointer (&l->mp, multipart_unref);
  g_clear_pointer (&l->hash, sluice_sha256_free);
  g_clear_pointer (&l->done, g_hash_table_unref);
  g_clear_pointer (&l->upload, sluice_catalog_upload_free);
  g_clear_pointer (&l->key, g_free);
}

/* Reads part @number (once), feeding the whole-file hash. */
static SluiceBuffer *
read_part (Large   *l,
           guint    number,
           GError **error)
{
  SluicePipeline *self = l->w->pipeline;
  guint64 offset = (guint64) (number - 1) * l->part_size;
  gsize len = MIN (l->part_size, (guint64) l->before.st_size - offset);

  if (!_sluice_pipeline_acquire (l->w, len))
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");
      return NULL;
    }
  return sluice_buffer_read_range (l->fd, l->f->relpath, offset, len, self->budget, len, l->hash,
                                   self->cancellable, error);
}

typedef struct {
  const char *key;
  GPtrArray  *ids;
} SameKey;

static gboolean
collect_same_key (const char *key,
                  const char *upload_id,
                  const char *initiated,
                  gpointer    user_data)
{
  SameKey *sk = user_data;

  if (g_str_equal (key, sk->key))
    g_ptr_array_add (sk->ids, g_strdup (upload_id));
  return TRUE;
}

/*
 * An upload id becomes durable in the catalog only after the server gave it: a crash between
 * the two leaves an upload nobody knows, billed until aborted; so does a CreateMultipartUpload
 * whose answer was lost, whether Sluice asked again or curl did by itself (it re-sends a
 * request whose kept connection closed before any answer). Once a new upload of a key is
 * made, the other unfinished uploads of that very key (which it replaces anyway) are aborted:
 * all but @keep_id (NULL: all).
 */
static void
abort_unrecorded_uploads (Large      *l,
                          const char *keep_id)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  SameKey sk = { l->key, ids };

  if (!sluice_s3_client_list_uploads (l->w->s3, l->key, collect_same_key, &sk, NULL))
    return;
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr(GError) error = NULL;

      if (g_strcmp0 (g_ptr_array_index (ids, i), keep_id) == 0)
        continue;
      if (!sluice_s3_client_abort_multipart (l->w->s3, l->key, g_ptr_array_index (ids, i),
                                             &error))
        g_debug ("aborting an unrecorded upload of %s: %s", l->key, error->message);
    }
}

/*
 * Starts a new upload, or continues the one the catalog recorded for this object when it was
 * for the same version of the file. A stale upload (the file changed, the part size differs,
 * or the server dropped it) is aborted and started over.
 */
static gboolean
open_upload (Large                *l,
             const SluiceMetadata *meta,
             GError              **error)
{
  SluicePipeline *self = l->w->pipeline;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) headers = NULL;
  g_autofree char *upload_id = NULL;
  FileOp *op;

  if (l->upload != NULL && l->upload->size == (guint64) l->before.st_size &&
      l->upload->mtime_ns == stat_mtime_ns (&l->before) && l->upload->part_size == l->part_size)
    {
      if (reconcile_parts (l->w->s3, l->key, l->upload, &l->done, &local_error))
        {
          l->resumed = TRUE;
          l->mp->upload_id = g_strdup (l->upload->upload_id);
          return TRUE;
        }
      if (!g_error_matches (local_error, SLUICE_ERROR, SLUICE_ERROR_NO_SUCH_UPLOAD))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_clear_error (&local_error);
    }
  else if (l->upload != NULL)
    {
      /* a stale upload would be billed forever: abort it */
      if (!sluice_s3_client_abort_multipart (l->w->s3, l->key, l->upload->upload_id,
                                             &local_error))
        g_debug ("aborting a stale upload of %s: %s", l->key, local_error->message);
      g_clear_error (&local_error);
    }

  l->done = g_hash_table_new (NULL, NULL);
  headers = _sluice_pipeline_meta_headers (self, meta);
  {
    SluiceS3PutRequest req = {
      .key = l->key,
      .content_type = sluice_content_type_for_name (l->f->relpath),
      .meta = headers,
    };
    for (guint attempt = 1;; attempt++)
      {
        g_clear_error (&local_error);
        if (sluice_s3_client_create_multipart (l->w->s3, &req, &upload_id, &local_error))
          break;
        if (!_sluice_pipeline_should_retry (self, local_error, &attempt))
          {
            g_propagate_error (error, g_steal_pointer (&local_error));
            /* the server may have made an upload and lost only its answer */
            abort_unrecorded_uploads (l, NULL);
            return FALSE;
          }
      }
  }
  abort_unrecorded_uploads (l, upload_id);

  /* the upload id is durable before any part goes out: a crash leaves no unknown upload */
  op = _sluice_file_op_new (self, NULL, NULL);
  op->object_id = l->object_id;
  op->upload_id = g_strdup (upload_id);
  op->size = l->before.st_size;
  op->mtime_ns = stat_mtime_ns (&l->before);
  op->part_size = l->part_size;
  if (!sluice_catalog_writer_run_sync (self->writer, begin_upload_op, op, error))
    {
      _sluice_file_op_free (op);
      return FALSE;
    }
  /* begin_upload_op reads op->upload_id; the FileOp keeps its own copy */
  _sluice_file_op_free (op);
  l->mp->upload_id = g_steal_pointer (&upload_id);
  return TRUE;
}

static gboolean
intent (Large           *l,
        SluiceMetadata **meta,
        SluiceProbeState probe_state,
        char           **probe_error,
        gboolean         keep_metadata,
        GError         **error)
{
  SluicePipeline *self = l->w->pipeline;
  g_autoptr(FileOp) op = _sluice_file_op_new (self, l->f, l->key);

  op->size = l->before.st_size;
  op->mtime_ns = stat_mtime_ns (&l->before);
  op->meta = meta != NULL ? g_steal_pointer (meta) : NULL;
  op->probe_state = probe_state;
  op->probe_error = probe_error != NULL ? g_steal_pointer (probe_error) : NULL;
  op->keep_metadata = keep_metadata;
  if (!sluice_catalog_writer_run_sync (self->writer, _sluice_intent_op, op, error))
    return FALSE;
  l->object_id = op->object_id;
  /* the metadata goes on: the upload's headers are made from it */
  if (meta != NULL)
    *meta = g_steal_pointer (&op->meta);
  return TRUE;
}

/* The whole file's SHA-256 before any part is sent, for a key template with {sha256}: the one
 * case where a large file is read twice (the content names its key). */
static gboolean
prehash (Large   *l,
         char     out_hex[65],
         GError **error)
{
  g_autoptr(SluiceSha256) hash = sluice_sha256_new ();
  g_autofree guint8 *chunk = g_malloc (1024 * 1024);
  guint64 done = 0;

  while (done < (guint64) l->before.st_size)
    {
      ssize_t n = pread (l->fd, chunk, 1024 * 1024, done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_autofree char *display = g_filename_display_name (l->f->relpath);
          g_set_error (error, SLUICE_ERROR, n == 0 ? SLUICE_ERROR_SOURCE_CHANGED
                                                   : SLUICE_ERROR_SOURCE_UNREADABLE,
                       "%s: read: %s", display, n == 0 ? "short" : g_strerror (errno));
          return FALSE;
        }
      sluice_sha256_update (hash, chunk, n);
      done += n;
      if (g_cancellable_is_cancelled (l->w->pipeline->cancellable))
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");
          return FALSE;
        }
    }
  sluice_sha256_finish (hash, NULL, out_hex);
  return TRUE;
}

static gboolean
make_late_key (Large                *l,
               const SluiceMetadata *meta,
               GError              **error)
{
  SluicePipeline *self = l->w->pipeline;
  char sha[65];
  gboolean need_hash = (self->key_needs & SLUICE_KEY_NEEDS_SHA256) != 0;

  if (need_hash && !prehash (l, sha, error))
    return FALSE;
  l->key = _sluice_pipeline_object_key (self, l->f, meta, stat_mtime_ns (&l->before),
                                        need_hash ? sha : NULL, error);
  return l->key != NULL;
}

static gboolean
upload_large (Large   *l,
              GError **error)
{
  Worker *w = l->w;
  SluicePipeline *self = w->pipeline;
  g_autoptr(SluiceBuffer) first = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autofree char *probe_error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *etag = NULL;
  SluiceProbeState probe_state = SLUICE_PROBE_STATE_NONE;
  char sha256[65];
  guint k = 0;
  struct stat after;
  gboolean resuming, counted = FALSE;
  FileOp *op;

  l->part_size = choose_part_size (l->before.st_size, self->options.part_size);
  l->mp = g_new0 (Multipart, 1);
  l->mp->refs = 1;
  l->mp->pipeline = self;
  l->mp->n_parts = (l->before.st_size + l->part_size - 1) / l->part_size;
  l->mp->parts = g_new0 (SluiceS3Part, l->mp->n_parts);
  for (guint i = 0; i < l->mp->n_parts; i++)
    l->mp->parts[i].number = i + 1;

  /* a key made from metadata or content: an upload recorded for this very version of the file
   * had the key it still has */
  if (l->key == NULL && l->entry != NULL && l->entry->object_id != 0 && l->entry->key != NULL &&
      l->entry->size == (guint64) l->before.st_size &&
      l->entry->mtime_ns == stat_mtime_ns (&l->before))
    l->key = g_strdup (l->entry->key);

  /* an object row exists already when this is a second attempt: its upload may continue */
  if (l->key != NULL && l->entry != NULL && l->entry->object_id != 0 &&
      g_strcmp0 (l->entry->key, l->key) == 0)
    {
      SluiceCatalog *reader = _sluice_worker_reader (w, error);

      if (reader == NULL)
        return FALSE;
      l->upload = sluice_catalog_get_upload (reader, l->entry->object_id, error);
      if (l->upload == NULL && error != NULL && *error != NULL)
        return FALSE;
    }
  resuming = l->upload != NULL && l->upload->size == (guint64) l->before.st_size &&
             l->upload->mtime_ns == stat_mtime_ns (&l->before) &&
             l->upload->part_size == l->part_size;

  /* metadata from the first part (EXIF sits at the start of every format Sluice reads); a
   * resumed upload keeps what the first attempt found */
  if (!resuming)
    {
      l->hash = sluice_sha256_new ();
      first = read_part (l, 1, error);
      if (first == NULL)
        return FALSE;
      sluice_progress_add (self->progress, SLUICE_STAGE_READ, first->len);
      counted = TRUE;
      if (!_sluice_pipeline_probe (self, l->f, first, l->entry, l->key, &meta, &probe_state,
                                   &probe_error))
        return TRUE;   /* failed and recorded (--skip-probe-failed) */
    }

  if (l->key == NULL && !make_late_key (l, meta, error))
    return FALSE;
  l->mp->key = g_strdup (l->key);

  /* --dedupe: when an uploaded object has this very size, hash first (a second read, only
   * then) and make a server-side copy if the content is there already */
  if (self->options.dedupe && !resuming && _sluice_worker_reader (w, NULL) != NULL &&
      sluice_catalog_has_size (w->reader, self->target_id, l->before.st_size))
    {
      char content[65];
      g_autofree char *twin = NULL;
      g_autofree char *copy_etag = NULL;
      g_autoptr(GError) copy_error = NULL;

      if (!prehash (l, content, error))
        return FALSE;
      twin = sluice_catalog_find_content (w->reader, self->target_id, content, l->key, NULL);
      if (twin != NULL)
        {
          if (!intent (l, &meta, probe_state, &probe_error, FALSE, error))
            return FALSE;
          if (sluice_s3_client_copy_object (w->s3, twin, l->key, self->options.no_overwrite,
                                            &copy_etag, &copy_error))
            {
              op = _sluice_file_op_new (self, l->f, l->key);
              op->object_id = l->object_id;
              op->state = SLUICE_OBJECT_UPLOADED;
              op->etag = g_steal_pointer (&copy_etag);
              op->sha256 = g_strdup (content);
              sluice_catalog_writer_run (self->writer, _sluice_finish_op, op,
                                         (GDestroyNotify) _sluice_file_op_free);
              sluice_progress_add (self->progress, SLUICE_STAGE_DEDUPLICATED, l->before.st_size);
              return TRUE;
            }
          g_debug ("copy of %s failed, uploading instead: %s", twin, copy_error->message);
        }
    }

  if (!intent (l, &meta, probe_state, &probe_error, resuming, error))
    return FALSE;
  l->mp->object_id = l->object_id;
  if (!open_upload (l, meta, error))
    return FALSE;

  if (l->resumed)
    {
      g_clear_pointer (&l->hash, sluice_sha256_free);
      g_clear_pointer (&first, sluice_buffer_free);
      k = restorable_prefix (l->done, l->mp->n_parts, &l->hash);
      if (l->hash == NULL)
        l->hash = sluice_sha256_new ();
      for (guint n = 1; n <= k; n++)
        {
          SluiceCatalogPart *part = g_hash_table_lookup (l->done, GUINT_TO_POINTER (n));
          l->mp->parts[n - 1].etag = g_strdup (part->etag);
        }
    }
  else if (!resuming && first == NULL)
    {
      /* a resumable upload the server had lost: start from the first byte */
      g_clear_pointer (&l->hash, sluice_sha256_free);
      l->hash = sluice_sha256_new ();
    }

  sluice_work_queue_large_begin (&self->work);
  for (guint n = k + 1; n <= l->mp->n_parts; n++)
    {
      g_autoptr(SluiceBuffer) buf = NULL;
      SluiceCatalogPart *held = g_hash_table_lookup (l->done, GUINT_TO_POINTER (n));
      PartJob *job;

      if (n == 1 && first != NULL)
        buf = g_steal_pointer (&first);
      else
        {
          buf = read_part (l, n, error);
          if (buf == NULL)
            break;
          if (!counted)
            sluice_progress_add (self->progress, SLUICE_STAGE_READ, buf->len);
          else
            sluice_progress_add_bytes (self->progress, SLUICE_STAGE_READ, buf->len);
          counted = TRUE;
        }

      /* on the server already (a resumed upload whose hash had to be rebuilt): not resent */
      if (held != NULL && g_strcmp0 (held->sha256, buf->sha256_hex) == 0)
        {
          l->mp->parts[n - 1].etag = g_strdup (held->etag);
          continue;
        }

      job = g_new0 (PartJob, 1);
      job->mp = multipart_ref (l->mp);
      job->number = n;
      job->hash_state = sluice_sha256_save (l->hash);
      job->buf = g_steal_pointer (&buf);
      g_mutex_lock (&self->work.mutex);
      l->mp->pending++;
      g_mutex_unlock (&self->work.mutex);
      sluice_work_queue_push_part (&self->work, job);
    }

  wait_for_parts (w, l->mp);
  sluice_work_queue_large_end (&self->work);

  if (error != NULL && *error != NULL)
    return FALSE;
  if (l->mp->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&l->mp->error));
      return FALSE;
    }

  /* the bytes sent are one version of the file, or the upload is not completed */
  if (fstat (l->fd, &after) < 0 || !same_stat (&l->before, &after))
    {
      g_autofree char *display = g_filename_display_name (l->f->relpath);
      abort_upload (w, l->mp);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_CHANGED,
                   "%s: the file changed while it was being read", display);
      return FALSE;
    }

  sluice_sha256_finish (l->hash, NULL, sha256);
  op = _sluice_file_op_new (self, NULL, NULL);
  op->object_id = l->object_id;
  op->sha256 = g_strdup (sha256);
  if (!sluice_catalog_writer_run_sync (self->writer, upload_sha256_op, op, error))
    {
      _sluice_file_op_free (op);
      return FALSE;
    }
  _sluice_file_op_free (op);

  /* --no-overwrite: Ceph RGW ignores If-None-Match on CompleteMultipartUpload, so look first
   * (a race with another writer between this HEAD and the completion remains) */
  if (self->options.no_overwrite)
    {
      g_auto(SluiceS3ObjectInfo) info = { 0 };

      if (!sluice_s3_client_head_object (w->s3, l->key, &info, error))
        return FALSE;
      if (info.exists)
        {
          abort_upload (w, l->mp);
          _sluice_pipeline_skip_existing (self, l->f, l->object_id, l->before.st_size);
          return TRUE;
        }
    }

  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;

      if (sluice_s3_client_complete_multipart (w->s3, l->key, l->mp->upload_id, l->mp->parts,
                                               l->mp->n_parts, self->options.no_overwrite,
                                               &etag, &local_error))
        break;
      if (g_error_matches (local_error, SLUICE_ERROR, SLUICE_ERROR_PRECONDITION))
        {
          abort_upload (w, l->mp);
          _sluice_pipeline_skip_existing (self, l->f, l->object_id, l->before.st_size);
          return TRUE;
        }
      if (!_sluice_pipeline_should_retry (self, local_error, &attempt))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }

  /* the server's ETag must be the one the parts it acknowledged make */
  expected = sluice_s3_multipart_etag (l->mp->parts, l->mp->n_parts);
  if (expected != NULL && g_strcmp0 (expected, etag) != 0)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_BAD_DIGEST,
                   "%s: the completed object's ETag %s is not %s, which its parts make", l->key,
                   etag, expected);
      return FALSE;
    }

  op = _sluice_file_op_new (self, l->f, l->key);
  op->object_id = l->object_id;
  op->state = SLUICE_OBJECT_UPLOADED;
  op->etag = g_steal_pointer (&etag);
  op->sha256 = g_strdup (sha256);
  op->upload_id = g_strdup (l->mp->upload_id);
  /* at once: a completed multipart object carries no x-amz-meta-sha256 for a HEAD to find, so
   * a completion lost to a kill would cost the next run the whole file again */
  sluice_catalog_writer_run_now (self->writer, _sluice_finish_op, op,
                                 (GDestroyNotify) _sluice_file_op_free);
  sluice_progress_add (self->progress, SLUICE_STAGE_UPLOADED, l->before.st_size);
  return TRUE;
}

/**
 * _sluice_pipeline_upload_large:
 *
 * Uploads a file at or above the multipart threshold. Runs on the worker that took the file.
 */
void
_sluice_pipeline_upload_large (Worker             *w,
                               SluiceFoundFile    *f,
                               const char         *key,
                               SluiceCatalogEntry *entry)
{
  SluicePipeline *self = w->pipeline;
  g_autoptr(GError) error = NULL;
  Large l = { 0 };

  l.w = w;
  l.f = f;
  l.key = g_strdup (key);   /* NULL: made from metadata or content once they are known */
  l.entry = entry;
  l.fd = sluice_buffer_open_source (sluice_walker_get_root_fd (self->walker), f->relpath,
                                    O_RDONLY | O_NOCTTY);
  if (l.fd < 0 || fstat (l.fd, &l.before) < 0)
    {
      g_autofree char *display = g_filename_display_name (f->relpath);
      g_set_error (&error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE, "%s: open: %s", display,
                   g_strerror (errno));
      _sluice_pipeline_fail_file (self, f, key, 0, error);
      large_clear (&l);
      return;
    }
  posix_fadvise (l.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  if (!upload_large (&l, &error))
    {
      /* interrupted: the upload stays recorded and the next run continues it, unless the job
       * was cancelled for good */
      if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED) && self->discard &&
          l.mp != NULL && l.mp->upload_id != NULL)
        {
          g_autoptr(SluiceS3Client) s3 = sluice_s3_client_new (self->options.target,
                                                               self->options.credentials);
          g_autoptr(GError) abort_error = NULL;

          if (!sluice_s3_client_abort_multipart (s3, l.key, l.mp->upload_id, &abort_error))
            g_debug ("aborting %s: %s", l.key, abort_error->message);
        }
      else if (!g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED) &&
               !g_cancellable_is_cancelled (self->cancellable))
        {
          if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_KEY_COLLISION) ||
              l.key == NULL)
            _sluice_pipeline_fail_file (self, f, NULL, 0, error);
          else if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG) ||
                   g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_NO_SPACE))
            _sluice_pipeline_set_fatal (self, error);
          else
            _sluice_pipeline_fail_file (self, f, l.key, l.object_id, error);
        }
    }
  large_clear (&l);
}

/* ---- reconciliation ----------------------------------------------------------------------------- */

/**
 * _sluice_pipeline_reconcile_upload:
 *
 * For an object a crash left UPLOADING that has a multipart upload recorded: if the upload
 * is gone from the server and the object there has the ETag its recorded parts make, the crash
 * came between completion and its record — the object is uploaded (*@out_state UPLOADED, with
 * its ETag and the whole-file SHA-256 the upload kept). Otherwise *@out_state is PENDING with no
 * ETag, and the next attempt continues or restarts the upload. No recorded upload: PENDING,
 * *@out_etag NULL, and the caller checks the object with a HEAD as for a single PUT.
 */
gboolean
_sluice_pipeline_reconcile_upload (SluicePipeline        *self,
                                   SluiceS3Client        *s3,
                                   SluiceCatalog         *reader,
                                   SluiceCatalogPending  *pending,
                                   SluiceObjectState     *out_state,
                                   char                 **out_etag,
                                   char                 **out_sha256,
                                   GError               **error)
{
  g_autoptr(SluiceCatalogUpload) upload = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(SluiceS3ObjectInfo) info = { 0 };
  g_autofree SluiceS3Part *parts = NULL;
  g_autofree char *expected = NULL;
  guint64 covered = 0;

  *out_state = SLUICE_OBJECT_PENDING;
  *out_etag = NULL;
  *out_sha256 = NULL;

  upload = sluice_catalog_get_upload (reader, pending->object_id, error);
  if (upload == NULL)
    return error == NULL || *error == NULL;

  /* still there: it is continued when the walk reaches the file */
  if (sluice_s3_client_list_parts (s3, pending->key, upload->upload_id, collect_part_none, NULL,
                                   &local_error))
    {
      *out_etag = g_strdup ("");   /* handled: no HEAD needed */
      return TRUE;
    }
  if (!g_error_matches (local_error, SLUICE_ERROR, SLUICE_ERROR_NO_SUCH_UPLOAD))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  parts = g_new0 (SluiceS3Part, MAX (upload->parts->len, 1));
  for (guint i = 0; i < upload->parts->len; i++)
    {
      SluiceCatalogPart *part = g_ptr_array_index (upload->parts, i);
      parts[i].number = part->number;
      parts[i].etag = part->etag;
      covered += part->size;
    }
  expected = covered == upload->size && upload->sha256 != NULL
             ? sluice_s3_multipart_etag (parts, upload->parts->len) : NULL;
  if (expected != NULL && sluice_s3_client_head_object (s3, pending->key, &info, NULL) &&
      info.exists && g_strcmp0 (info.etag, expected) == 0)
    {
      *out_state = SLUICE_OBJECT_UPLOADED;
      *out_etag = g_steal_pointer (&info.etag);
      *out_sha256 = g_strdup (upload->sha256);
      return TRUE;
    }
  *out_etag = g_strdup ("");
  return TRUE;
}
