/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "sluice-key-sample.h"

/* A preview is not worth reading a 4 GB video over a NAS for. */
#define SAMPLE_HASH_MAX_BYTES (G_GUINT64_CONSTANT (256) * 1024 * 1024)
/* Non-image files looked at before the first one found is taken. */
#define SAMPLE_MAX_OTHERS 500

typedef struct {
  GMutex           mutex;
  SluiceFoundFile *image;
  SluiceFoundFile *other;
  guint            others;
} Search;

void
sluice_key_sample_free (SluiceKeySample *sample)
{
  if (sample == NULL)
    return;
  g_free (sample->relpath);
  g_clear_pointer (&sample->metadata, sluice_metadata_free);
  g_free (sample->sha256);
  g_free (sample);
}

/* Called from the walker's lister thread. */
static gboolean
sink_cb (SluiceFoundFile *file,
         gpointer         user_data)
{
  Search *search = user_data;
  gboolean go_on = TRUE;

  g_mutex_lock (&search->mutex);
  if (file->kind == SLUICE_FILE_KIND_IMAGE && search->image == NULL)
    {
      search->image = g_new0 (SluiceFoundFile, 1);
      *search->image = *file;
      search->image->relpath = g_strdup (file->relpath);
      go_on = FALSE;
    }
  else
    {
      if (search->other == NULL)
        {
          search->other = g_new0 (SluiceFoundFile, 1);
          *search->other = *file;
          search->other->relpath = g_strdup (file->relpath);
        }
      go_on = ++search->others < SAMPLE_MAX_OTHERS;
    }
  g_mutex_unlock (&search->mutex);

  /* TRUE means the file is ours: free it; FALSE stops the walk and the walker frees it */
  if (go_on)
    sluice_found_file_free (file);
  return go_on;
}

static char *
hash_fd (int           fd,
         GCancellable *cancellable)
{
  g_autoptr(SluiceSha256) sha = sluice_sha256_new ();
  g_autofree guint8 *buf = g_malloc (1024 * 1024);
  guint8 digest[32];
  char hex[65];
  gssize n;

  while ((n = read (fd, buf, 1024 * 1024)) > 0)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return NULL;
      sluice_sha256_update (sha, buf, n);
    }
  if (n < 0)
    return NULL;
  sluice_sha256_finish (sha, digest, hex);
  return g_strdup (hex);
}

static SluiceMetadata *
probe_fd (int          fd,
          const char  *name,
          guint64      size)
{
  g_autoptr(SluiceProbePool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *helper = sluice_probe_find_helper ();
  SluiceMetadata *meta;

  if (helper == NULL)
    return NULL;
  pool = sluice_probe_pool_new (helper, 1, SLUICE_PROBE_DEFAULT_TIMEOUT_MS, &error);
  if (pool == NULL)
    {
      g_debug ("no metadata for the key preview: %s", error->message);
      return NULL;
    }
  meta = sluice_probe_pool_probe (pool, fd, name, size, &error);
  if (meta == NULL)
    g_debug ("no metadata for the key preview: %s", error->message);
  return meta;
}

/* Worker thread: walks until an image turns up, then reads and probes that one file. */
static void
find_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GFile *source = task_data;
  g_autofree char *root = g_file_get_path (source);
  g_autoptr(SluiceWalker) walker = NULL;
  g_autoptr(SluiceKeySample) sample = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  SluiceWalkerOptions options = { 0 };
  SluiceFoundFile *found;
  Search search = { 0 };
  int fd;

  if (root == NULL)
    {
      g_task_return_new_error (task, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE,
                               _("The folder is not a local folder"));
      return;
    }

  /* one lister: the first image in directory order, the same one each time */
  options.listers = 1;
  walker = sluice_walker_new (root, &options, &error);
  if (walker == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_mutex_init (&search.mutex);
  sluice_walker_set_sink (walker, sink_cb, &search);
  sluice_walker_run (walker, NULL, NULL, NULL, cancellable, NULL);
  g_mutex_clear (&search.mutex);

  found = search.image != NULL ? search.image : search.other;
  if (found == NULL)
    {
      g_task_return_new_error (task, SLUICE_ERROR, SLUICE_ERROR_NOT_FOUND,
                               _("The folder has no images"));
      return;
    }

  sample = g_new0 (SluiceKeySample, 1);
  sample->relpath = g_strdup (found->relpath);
  sample->mtime_ns = found->mtime_ns;
  sample->size = found->size;
  g_clear_pointer (&search.image, sluice_found_file_free);
  g_clear_pointer (&search.other, sluice_found_file_free);

  path = g_build_filename (root, sample->relpath, NULL);
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd >= 0)
    {
      if (sample->size <= SAMPLE_HASH_MAX_BYTES)
        sample->sha256 = hash_fd (fd, cancellable);
      sample->metadata = probe_fd (fd, sample->relpath, sample->size);
      close (fd);
    }

  g_task_return_pointer (task, g_steal_pointer (&sample), (GDestroyNotify) sluice_key_sample_free);
}

/**
 * sluice_key_sample_find_async:
 *
 * Finds a file of @source to preview keys on. Main thread; @callback runs there.
 */
void
sluice_key_sample_find_async (GFile               *source,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, sluice_key_sample_find_async);
  g_task_set_task_data (task, g_object_ref (source), g_object_unref);
  g_task_run_in_thread (task, find_in_thread);
}

/**
 * sluice_key_sample_find_finish:
 *
 * Returns: (transfer full) (nullable): the sample
 */
SluiceKeySample *
sluice_key_sample_find_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- key collisions before a run --------------------------------------------------------- */

/* Files looked at before the check gives up (the engine still refuses a second owner). */
#define COLLISION_MAX_FILES 200000

typedef struct {
  GPtrArray         *sources;    /* GFile */
  SluiceKeyTemplate *tmpl;
} CollisionData;

typedef struct {
  GMutex              mutex;
  const SluiceKeyTemplate *tmpl;
  const char         *root_name;
  GHashTable         *keys;      /* key → "root/relpath" */
  SluiceKeyCollision *found;
  guint               seen;
} CollisionSearch;

static void
collision_data_free (CollisionData *data)
{
  g_ptr_array_unref (data->sources);
  sluice_key_template_free (data->tmpl);
  g_free (data);
}

void
sluice_key_collision_free (SluiceKeyCollision *collision)
{
  if (collision == NULL)
    return;
  g_free (collision->key);
  g_free (collision->first);
  g_free (collision->second);
  g_free (collision);
}

/* Called from the walker's lister thread. */
static gboolean
collision_sink_cb (SluiceFoundFile *file,
                   gpointer         user_data)
{
  CollisionSearch *search = user_data;
  g_autofree char *key = NULL;
  g_autofree char *display = NULL;
  gboolean go_on;

  /* names that cannot become keys fail on their own in the run */
  key = sluice_key_template_expand (search->tmpl, file->relpath, NULL, file->mtime_ns, NULL,
                                    NULL);
  if (key != NULL)
    {
      g_autofree char *nfc = g_utf8_normalize (key, -1, G_NORMALIZE_NFC);
      g_autofree char *name = g_filename_display_name (file->relpath);

      display = g_build_filename (search->root_name, name, NULL);
      g_mutex_lock (&search->mutex);
      if (search->found == NULL)
        {
          const char *other = g_hash_table_lookup (search->keys, nfc);

          if (other != NULL)
            {
              search->found = g_new0 (SluiceKeyCollision, 1);
              search->found->key = g_strdup (nfc);
              search->found->first = g_strdup (other);
              search->found->second = g_strdup (display);
            }
          else
            g_hash_table_insert (search->keys, g_steal_pointer (&nfc), g_strdup (display));
        }
      g_mutex_unlock (&search->mutex);
    }

  g_mutex_lock (&search->mutex);
  go_on = search->found == NULL && ++search->seen < COLLISION_MAX_FILES;
  g_mutex_unlock (&search->mutex);
  if (go_on)
    sluice_found_file_free (file);
  return go_on;
}

static void
collision_in_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  CollisionData *data = task_data;
  CollisionSearch search = { 0 };

  g_mutex_init (&search.mutex);
  search.tmpl = data->tmpl;
  search.keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < data->sources->len && search.found == NULL; i++)
    {
      g_autofree char *root = g_file_get_path (data->sources->pdata[i]);
      g_autofree char *base = g_file_get_basename (data->sources->pdata[i]);
      g_autofree char *root_name = g_filename_display_name (base != NULL ? base : "/");
      g_autoptr(SluiceWalker) walker = NULL;
      SluiceWalkerOptions options = { 0 };

      if (root == NULL)
        continue;
      walker = sluice_walker_new (root, &options, NULL);
      if (walker == NULL)
        continue;
      search.root_name = root_name;
      sluice_walker_set_sink (walker, collision_sink_cb, &search);
      sluice_walker_run (walker, NULL, NULL, NULL, cancellable, NULL);
      if (search.seen >= COLLISION_MAX_FILES)
        break;
    }

  g_hash_table_unref (search.keys);
  g_mutex_clear (&search.mutex);
  if (g_cancellable_set_error_if_cancelled (cancellable, NULL))
    {
      sluice_key_collision_free (search.found);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      return;
    }
  g_task_return_pointer (task, search.found, (GDestroyNotify) sluice_key_collision_free);
}

/**
 * sluice_key_collision_find_async:
 * @sources: (element-type GFile): the folders of the run
 *
 * Walks the folders (on worker threads) and makes every key with @key_template, stopping at
 * the first two files that share one. Main thread; @callback runs there.
 */
void
sluice_key_collision_find_async (GPtrArray           *sources,
                                 const char          *key_template,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  CollisionData *data = g_new0 (CollisionData, 1);

  g_task_set_source_tag (task, sluice_key_collision_find_async);
  data->sources = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < sources->len; i++)
    g_ptr_array_add (data->sources, g_object_ref (sources->pdata[i]));
  data->tmpl = sluice_key_template_new (key_template, &error);
  g_task_set_task_data (task, data, (GDestroyNotify) collision_data_free);
  if (data->tmpl == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_run_in_thread (task, collision_in_thread);
}

/**
 * sluice_key_collision_find_finish:
 *
 * Returns: (transfer full) (nullable): the first collision, or NULL when there is none (or
 *   @error is set)
 */
SluiceKeyCollision *
sluice_key_collision_find_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
