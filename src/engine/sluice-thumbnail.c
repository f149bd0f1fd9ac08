/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-thumbnail"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>
#include <unistd.h>

#include "sluice-buffer.h"
#include "sluice-walker.h"
#include "sluice-error.h"
#include "sluice-probe-pool.h"
#include "sluice-probe-protocol.h"
#include "sluice-thumbnail.h"


/* A decode sends nothing until it is done: a big HEIF or TIFF may take the helper's whole CPU
 * budget for a thumbnail (SLUICE_PROBE_THUMB_CPU_SECONDS, 20 s), and more on a busy machine. */
#define SLUICE_THUMBNAIL_TIMEOUT_MS 40000

/* Called from any thread: the memory cache, the disk cache's running size and the lazily
 * started pool are behind one mutex; decoding and file I/O happen outside it. */

#define CACHE_MAGIC    "SLTH"
#define CACHE_VERSION  1
#define CACHE_HEADER   20

struct _SluiceThumbnailer {
  char             *helper_path;
  char             *cache_dir;
  guint             max_edge;

  GMutex            mutex;
  SluiceProbePool  *pool;          /* started by the first decode */
  GHashTable       *memory;        /* key → SluiceThumbnail * */
  GQueue            lru;           /* keys, most recent first (owned by memory) */
  gint64            disk_bytes;    /* -1 until the folder was measured */
  guint64           disk_limit;
  guint             decodes;
};

gboolean
sluice_thumbnail_worth_decoding (const char *name,
                                 gboolean    probed,
                                 const char *container)
{
  /* what sluice-probe decodes (sluice-probe-thumbnail.c); a TIFF-based raw is "tiff" */
  static const char *const decodable[] = { "jpeg", "png", "webp", "heif", "tiff", "raf", "cr3" };

  /* pictures the walker takes that the helper does not decode, and raws whose preview it
   * does not find (not TIFF-based, nor RAF or CR3) */
  static const char *const refused[] = {
    "image/gif", "image/bmp", "image/vnd.adobe.photoshop", "image/jxl", "image/x-canon-crw",
    "image/x-sigma-x3f", "image/x-minolta-mrw", "image/x-kodak-kdc",
  };

  if (!probed)
    {
      const char *type;

      if (name == NULL || sluice_file_kind_for_name (name) != SLUICE_FILE_KIND_IMAGE)
        return FALSE;
      type = sluice_content_type_for_name (name);
      for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
        if (strcmp (type, refused[i]) == 0)
          return FALSE;
      return TRUE;
    }
  for (guint i = 0; container != NULL && i < G_N_ELEMENTS (decodable); i++)
    if (strcmp (container, decodable[i]) == 0)
      return TRUE;
  return FALSE;
}

SluiceThumbnail *
sluice_thumbnail_copy (const SluiceThumbnail *thumbnail)
{
  SluiceThumbnail *copy = g_new0 (SluiceThumbnail, 1);

  *copy = *thumbnail;
  copy->pixels = g_bytes_ref (thumbnail->pixels);
  copy->sha256 = g_strdup (thumbnail->sha256);
  return copy;
}

void
sluice_thumbnail_free (SluiceThumbnail *thumbnail)
{
  if (thumbnail == NULL)
    return;
  g_bytes_unref (thumbnail->pixels);
  g_free (thumbnail->sha256);
  g_free (thumbnail);
}

/**
 * sluice_thumbnailer_new:
 * @helper_path: the sluice-probe to start (sluice_probe_find_helper ())
 * @cache_dir: (nullable): the disk cache; NULL for $XDG_CACHE_HOME/sluice/thumbnails
 * @max_edge: the longest side of the thumbnails, 16..512 (0: SLUICE_THUMBNAIL_DEFAULT_EDGE)
 *
 * No helper starts until the first thumbnail that is not in a cache. Free it only when no
 * request is in flight.
 */
SluiceThumbnailer *
sluice_thumbnailer_new (const char *helper_path,
                        const char *cache_dir,
                        guint       max_edge)
{
  SluiceThumbnailer *self = g_new0 (SluiceThumbnailer, 1);

  g_return_val_if_fail (helper_path != NULL, NULL);

  self->helper_path = g_strdup (helper_path);
  self->cache_dir = cache_dir != NULL
    ? g_strdup (cache_dir)
    : g_build_filename (g_get_user_cache_dir (), "sluice", "thumbnails", NULL);
  self->max_edge = CLAMP (max_edge > 0 ? max_edge : SLUICE_THUMBNAIL_DEFAULT_EDGE,
                          SLUICE_PROBE_THUMB_MIN_EDGE, SLUICE_PROBE_THUMB_MAX_EDGE);
  g_mutex_init (&self->mutex);
  self->memory = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) sluice_thumbnail_free);
  g_queue_init (&self->lru);
  self->disk_bytes = -1;
  self->disk_limit = SLUICE_THUMBNAIL_CACHE_MAX_BYTES;
  return self;
}

void
sluice_thumbnailer_free (SluiceThumbnailer *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->pool, sluice_probe_pool_free);
  g_queue_clear (&self->lru);
  g_hash_table_unref (self->memory);
  g_mutex_clear (&self->mutex);
  g_free (self->helper_path);
  g_free (self->cache_dir);
  g_free (self);
}

guint
sluice_thumbnailer_decodes (SluiceThumbnailer *self)
{
  guint n;

  g_mutex_lock (&self->mutex);
  n = self->decodes;
  g_mutex_unlock (&self->mutex);
  return n;
}

const char *
sluice_thumbnailer_cache_dir (SluiceThumbnailer *self)
{
  return self->cache_dir;
}

/* The disk cache's bound in bytes (SLUICE_THUMBNAIL_CACHE_MAX_BYTES unless set). */
void
sluice_thumbnailer_set_cache_limit (SluiceThumbnailer *self,
                                    guint64            bytes)
{
  g_mutex_lock (&self->mutex);
  self->disk_limit = bytes;
  g_mutex_unlock (&self->mutex);
}

/* Only a real SHA-256 becomes part of a file name. */
static gboolean
is_sha256_hex (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

static char *
cache_key (SluiceThumbnailer *self,
           const char        *sha256)
{
  return g_strdup_printf ("%s-%u", sha256, self->max_edge);
}

static char *
cache_path (SluiceThumbnailer *self,
            const char        *key)
{
  g_autofree char *name = g_strconcat (key, ".rgb", NULL);

  return g_build_filename (self->cache_dir, name, NULL);
}

/* ---- memory ------------------------------------------------------------------------------ */

static SluiceThumbnail *
memory_lookup (SluiceThumbnailer *self,
               const char        *key)
{
  SluiceThumbnail *found, *copy = NULL;

  g_mutex_lock (&self->mutex);
  found = g_hash_table_lookup (self->memory, key);
  if (found != NULL)
    {
      GList *link = g_queue_find_custom (&self->lru, key, (GCompareFunc) g_strcmp0);

      g_queue_unlink (&self->lru, link);
      g_queue_push_head_link (&self->lru, link);
      copy = sluice_thumbnail_copy (found);
      copy->from_cache = TRUE;
    }
  g_mutex_unlock (&self->mutex);
  return copy;
}

static void
memory_insert (SluiceThumbnailer     *self,
               const char            *key,
               const SluiceThumbnail *thumbnail)
{
  char *owned;

  g_mutex_lock (&self->mutex);
  if (!g_hash_table_contains (self->memory, key))
    {
      owned = g_strdup (key);
      g_hash_table_insert (self->memory, owned, sluice_thumbnail_copy (thumbnail));
      g_queue_push_head (&self->lru, owned);
      while (g_queue_get_length (&self->lru) > SLUICE_THUMBNAIL_MEMORY_ENTRIES)
        g_hash_table_remove (self->memory, g_queue_pop_tail (&self->lru));
    }
  g_mutex_unlock (&self->mutex);
}

/* ---- disk -------------------------------------------------------------------------------- */

static guint32
get_u32le (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static void
put_u32le (guint8  *p,
           guint32  v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

static SluiceThumbnail *
disk_lookup (SluiceThumbnailer *self,
             const char        *key,
             const char        *sha256)
{
  g_autofree char *path = cache_path (self, key);
  g_autofree guint8 *data = NULL;
  g_autoptr(GBytes) whole = NULL;
  SluiceThumbnail *thumbnail;
  gsize len = 0;
  guint32 width, height, stride;

  if (!g_file_get_contents (path, (char **) &data, &len, NULL))
    return NULL;
  if (len < CACHE_HEADER || memcmp (data, CACHE_MAGIC, 4) != 0 ||
      get_u32le (data + 4) != CACHE_VERSION)
    return NULL;
  width = get_u32le (data + 8);
  height = get_u32le (data + 12);
  stride = get_u32le (data + 16);
  if (width == 0 || height == 0 || width > self->max_edge || height > self->max_edge ||
      stride < (gsize) width * 3 || len - CACHE_HEADER != (gsize) stride * height)
    return NULL;

  /* a hit makes it the most recently used */
  g_utime (path, NULL);
  whole = g_bytes_new_take (g_steal_pointer (&data), len);
  thumbnail = g_new0 (SluiceThumbnail, 1);
  thumbnail->width = width;
  thumbnail->height = height;
  thumbnail->stride = stride;
  thumbnail->pixels = g_bytes_new_from_bytes (whole, CACHE_HEADER, len - CACHE_HEADER);
  thumbnail->sha256 = g_strdup (sha256);
  thumbnail->from_cache = TRUE;
  return thumbnail;
}

typedef struct {
  char   *path;
  gint64  mtime;     /* ns */
  gint64  size;
} CacheFile;

static void
cache_file_free (CacheFile *f)
{
  g_free (f->path);
  g_free (f);
}

static int
cache_file_older (gconstpointer a,
                  gconstpointer b)
{
  const CacheFile *fa = *(CacheFile **) a, *fb = *(CacheFile **) b;

  return fa->mtime < fb->mtime ? -1 : fa->mtime > fb->mtime;
}

/* Lists the cache files; returns their total size. */
static gint64
disk_scan (SluiceThumbnailer *self,
           GPtrArray         *files)
{
  g_autoptr(GDir) dir = g_dir_open (self->cache_dir, 0, NULL);
  const char *name;
  gint64 total = 0;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      GStatBuf st;

      if (!g_str_has_suffix (name, ".rgb"))
        continue;
      path = g_build_filename (self->cache_dir, name, NULL);
      if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      total += st.st_size;
      if (files != NULL)
        {
          CacheFile *f = g_new0 (CacheFile, 1);

          f->path = g_steal_pointer (&path);
          /* nanoseconds: a burst of thumbnails is written within one second */
          f->mtime = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) +
                     st.st_mtim.tv_nsec;
          f->size = st.st_size;
          g_ptr_array_add (files, f);
        }
    }
  return total;
}

/* Removes the least recently used files until the folder is at 3/4 of its bound. */
static gint64
disk_trim (SluiceThumbnailer *self)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func ((GDestroyNotify) cache_file_free);
  gint64 total = disk_scan (self, files);

  g_ptr_array_sort (files, cache_file_older);
  for (guint i = 0; i < files->len && total > (gint64) (self->disk_limit / 4 * 3); i++)
    {
      CacheFile *f = g_ptr_array_index (files, i);

      if (g_unlink (f->path) == 0)
        total -= f->size;
    }
  return total;
}

/* Best effort: a cache that cannot be written only costs the next decode. */
static void
disk_store (SluiceThumbnailer     *self,
            const char            *key,
            const SluiceThumbnail *thumbnail)
{
  g_autofree char *path = cache_path (self, key);
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = NULL;
  gsize pixels_len = (gsize) thumbnail->stride * thumbnail->height;
  gsize len = CACHE_HEADER + pixels_len;

  /* the pool checked the helper's geometry against its bytes; this copy relies on it */
  if (g_bytes_get_size (thumbnail->pixels) != pixels_len)
    return;

  if (g_mkdir_with_parents (self->cache_dir, 0700) != 0)
    {
      g_debug ("Thumbnail cache %s: %s", self->cache_dir, g_strerror (errno));
      return;
    }
  data = g_malloc (len);
  memcpy (data, CACHE_MAGIC, 4);
  put_u32le (data + 4, CACHE_VERSION);
  put_u32le (data + 8, thumbnail->width);
  put_u32le (data + 12, thumbnail->height);
  put_u32le (data + 16, thumbnail->stride);
  memcpy (data + CACHE_HEADER, g_bytes_get_data (thumbnail->pixels, NULL), pixels_len);
  /* atomic: a reader sees the old file, none, or the whole new one */
  if (!g_file_set_contents_full (path, (const char *) data, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    {
      g_debug ("Thumbnail cache: %s", error->message);
      return;
    }

  g_mutex_lock (&self->mutex);
  if (self->disk_bytes < 0)
    self->disk_bytes = disk_scan (self, NULL);
  else
    self->disk_bytes += len;
  if (self->disk_bytes > (gint64) self->disk_limit)
    self->disk_bytes = disk_trim (self);
  g_mutex_unlock (&self->mutex);
}

/* ---- decoding ---------------------------------------------------------------------------- */

static SluiceProbePool *
get_pool (SluiceThumbnailer  *self,
          GError            **error)
{
  SluiceProbePool *pool;

  g_mutex_lock (&self->mutex);
  if (self->pool == NULL)
    self->pool = sluice_probe_pool_new_for_thumbnails (self->helper_path, 1,
                                                       SLUICE_THUMBNAIL_TIMEOUT_MS, error);
  pool = self->pool;
  if (pool != NULL)
    self->decodes++;
  g_mutex_unlock (&self->mutex);
  return pool;
}

static SluiceThumbnail *
decode (SluiceThumbnailer  *self,
        const char         *path,
        GCancellable       *cancellable,
        GError            **error)
{
  g_autoptr(SluiceBuffer) buffer = NULL;
  g_autoptr(SluiceThumbnail) thumbnail = g_new0 (SluiceThumbnail, 1);
  g_autofree char *display = g_filename_display_name (path);
  SluiceProbePool *pool;
  GStatBuf st;
  int fd;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, SLUICE_ERROR,
                   saved == ENOENT || saved == ENOTDIR ? SLUICE_ERROR_NOT_FOUND
                                                       : SLUICE_ERROR_SOURCE_UNREADABLE,
                   "%s: %s", display, g_strerror (saved));
      return NULL;
    }
  if ((guint64) st.st_size > SLUICE_THUMBNAIL_MAX_SOURCE)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE,
                   "%s: %" G_GUINT64_FORMAT " bytes is more than a thumbnail is read from",
                   display, (guint64) st.st_size);
      return NULL;
    }

  /* the one reader of source files: regular files only, no FIFO, no symlink, sealed memfd */
  buffer = sluice_buffer_read_file (AT_FDCWD, path, NULL, cancellable, error);
  if (buffer == NULL)
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  pool = get_pool (self, error);
  if (pool == NULL)
    return NULL;
  fd = sluice_buffer_get_readonly_fd (buffer);
  thumbnail->pixels = sluice_probe_pool_thumbnail (pool, fd, buffer->len, self->max_edge,
                                                   &thumbnail->width, &thumbnail->height,
                                                   &thumbnail->stride, error);
  if (thumbnail->pixels == NULL)
    return NULL;
  thumbnail->sha256 = g_strdup (buffer->sha256_hex);
  return g_steal_pointer (&thumbnail);
}

/**
 * sluice_thumbnailer_get:
 * @path: the source file
 * @sha256: (nullable): its content hash as the catalog knows it, the cache key
 *
 * The cached thumbnail of @sha256, else the file decoded by the helper (and cached under the
 * hash of what was read, which is @sha256 unless the file changed since).
 * Errors: SLUICE_ERROR_NOT_FOUND (the file is gone), _SOURCE_UNREADABLE, _INVALID_ARGUMENT
 * (not a type the helper decodes), _FAILED (damaged), _TOO_LARGE, _PROBE_CRASHED / _TIMEOUT /
 * _PROTOCOL (the helper failed on it and was replaced), _CANCELLED.
 *
 * Blocks: called from a worker thread, never the main one.
 */
SluiceThumbnail *
sluice_thumbnailer_get (SluiceThumbnailer  *self,
                        const char         *path,
                        const char         *sha256,
                        GCancellable       *cancellable,
                        GError            **error)
{
  g_autoptr(SluiceThumbnail) thumbnail = NULL;
  g_autofree char *key = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);

  if (is_sha256_hex (sha256))
    {
      key = cache_key (self, sha256);
      thumbnail = memory_lookup (self, key);
      if (thumbnail != NULL)
        return g_steal_pointer (&thumbnail);
      thumbnail = disk_lookup (self, key, sha256);
      if (thumbnail != NULL)
        {
          memory_insert (self, key, thumbnail);
          return g_steal_pointer (&thumbnail);
        }
    }

  thumbnail = decode (self, path, cancellable, error);
  if (thumbnail == NULL)
    return NULL;
  g_free (key);
  key = cache_key (self, thumbnail->sha256);
  memory_insert (self, key, thumbnail);
  disk_store (self, key, thumbnail);
  return g_steal_pointer (&thumbnail);
}

typedef struct {
  SluiceThumbnailer *self;
  char              *path;
  char              *sha256;
} GetData;

static void
get_data_free (GetData *data)
{
  g_free (data->path);
  g_free (data->sha256);
  g_free (data);
}

/* Runs on a GTask worker thread. */
static void
get_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  GetData *data = task_data;
  GError *error = NULL;
  SluiceThumbnail *thumbnail;

  thumbnail = sluice_thumbnailer_get (data->self, data->path, data->sha256, cancellable, &error);
  if (thumbnail == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, thumbnail, (GDestroyNotify) sluice_thumbnail_free);
}

/**
 * sluice_thumbnailer_get_async:
 *
 * sluice_thumbnailer_get() on a worker thread; @callback runs in the thread-default main
 * context of the caller. @self must outlive the request.
 */
void
sluice_thumbnailer_get_async (SluiceThumbnailer   *self,
                              const char          *path,
                              const char          *sha256,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GetData *data;

  g_return_if_fail (self != NULL);
  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, sluice_thumbnailer_get_async);
  g_task_set_return_on_cancel (task, TRUE);
  data = g_new0 (GetData, 1);
  data->self = self;
  data->path = g_strdup (path);
  data->sha256 = g_strdup (sha256);
  g_task_set_task_data (task, data, (GDestroyNotify) get_data_free);
  g_task_run_in_thread (task, get_thread);
}

/**
 * sluice_thumbnailer_get_finish:
 *
 * Returns: (transfer full): the thumbnail, or NULL with @error set (G_IO_ERROR_CANCELLED when
 * the request was cancelled).
 */
SluiceThumbnail *
sluice_thumbnailer_get_finish (SluiceThumbnailer  *self,
                               GAsyncResult       *result,
                               GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == sluice_thumbnailer_get_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
