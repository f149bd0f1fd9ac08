/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-walker"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice-error.h"
#include "sluice-progress.h"
#include "sluice-queue.h"
#include "sluice-test-util.h"
#include "sluice-walker.h"

/*
 * The walker over a generated tree: what is taken (by extension, any case), what is skipped
 * (other files, hidden files, NAS clutter, links, special files), globs, sizes and mtimes,
 * problems that do not stop the walk, and the bounded output queue.
 */

typedef struct {
  const char     *relpath;
  SluiceFileKind  kind;
} Expected;

/* taken by default */
static const Expected media[] = {
  { "a.jpg", SLUICE_FILE_KIND_IMAGE },
  { "B.JPG", SLUICE_FILE_KIND_IMAGE },
  { "c.Jpeg", SLUICE_FILE_KIND_IMAGE },
  { "d.heic", SLUICE_FILE_KIND_IMAGE },
  { "e.CR2", SLUICE_FILE_KIND_IMAGE },
  { "f.png", SLUICE_FILE_KIND_IMAGE },
  { "caf\xc3\xa9 photo.webp", SLUICE_FILE_KIND_IMAGE },
  { "bad\xff" "name.jpg", SLUICE_FILE_KIND_IMAGE },
  { "v.mov", SLUICE_FILE_KIND_VIDEO },
  { "V2.MP4", SLUICE_FILE_KIND_VIDEO },
  { "a.xmp", SLUICE_FILE_KIND_SIDECAR },
  { "IMG_0001.AAE", SLUICE_FILE_KIND_SIDECAR },
  { "sub/g.tif", SLUICE_FILE_KIND_IMAGE },
  { "sub/deeper/h.dng", SLUICE_FILE_KIND_IMAGE },
};

/* regular files that only --all-files takes */
static const char *const others[] = {
  "notes.txt", "data.bin", "noext", "trailingdot.", "sub/readme.md", NULL
};

/* hidden: only --hidden takes them */
static const char *const hidden[] = {
  ".hidden.jpg", ".hiddendir/x.jpg", NULL
};

/* NAS and desktop clutter: never taken */
static const char *const clutter[] = {
  "@eaDir/a.jpg/SYNOFILE_THUMB_XL.jpg", "#recycle/old.jpg", "#snapshot/s.jpg",
  ".@__thumb/t.jpg", ".DS_Store", "Thumbs.db", "._a.jpg", "desktop.ini", "lost+found/x.jpg",
  "sub/._g.tif", "sub/@eaDir/g.tif/thumb.jpg",
};

/* what the default walk skips by name in the listed folders: 4 other files in the root and 1
 * in sub, 2 hidden entries, 9 clutter entries in the root and 2 in sub, 3 links and a FIFO */
#define DEFAULT_SKIPPED 22

static void
set_mtime (const char *path,
           gint64      sec,
           long        nsec)
{
  struct timespec times[2] = { { sec, nsec }, { sec, nsec } };

  g_assert_cmpint (utimensat (AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), ==, 0);
}

static void
make_tree (const char *dir)
{
  g_autofree char *empty = g_build_filename (dir, "empty", NULL);
  g_autofree char *link = g_build_filename (dir, "link.jpg", NULL);
  g_autofree char *linkdir = g_build_filename (dir, "linkdir", NULL);
  g_autofree char *dangling = g_build_filename (dir, "dangling.jpg", NULL);
  g_autofree char *fifo = g_build_filename (dir, "pipe.jpg", NULL);

  /* every file has its own size and mtime, so a mix-up shows */
  for (guint i = 0; i < G_N_ELEMENTS (media); i++)
    {
      g_autofree char *path = g_build_filename (dir, media[i].relpath, NULL);
      g_autofree char *content = g_strnfill (100 + 37 * i, 'm');

      sluice_test_write_file (path, content, -1);
      set_mtime (path, 1500000000 + 86400 * i, 123456789 + i);
    }
  for (guint i = 0; i < G_N_ELEMENTS (others) - 1; i++)
    sluice_test_write_file_at (dir, others[i], "other", -1);
  for (guint i = 0; i < G_N_ELEMENTS (hidden) - 1; i++)
    sluice_test_write_file_at (dir, hidden[i], "hidden", -1);
  for (guint i = 0; i < G_N_ELEMENTS (clutter); i++)
    sluice_test_write_file_at (dir, clutter[i], "clutter", -1);

  g_assert_cmpint (g_mkdir (empty, 0755), ==, 0);
  g_assert_cmpint (symlink ("a.jpg", link), ==, 0);
  g_assert_cmpint (symlink ("sub", linkdir), ==, 0);
  g_assert_cmpint (symlink ("nowhere.jpg", dangling), ==, 0);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
}

typedef struct {
  GMutex      mutex;
  GHashTable *found;       /* relpath → SluiceFoundFile */
  guint       duplicates;
  GPtrArray  *problems;    /* "relpath\tcode\tmessage" */
} Results;

static void
results_init (Results *r)
{
  g_mutex_init (&r->mutex);
  r->found = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                    (GDestroyNotify) sluice_found_file_free);
  r->duplicates = 0;
  r->problems = g_ptr_array_new_with_free_func (g_free);
}

static void
results_clear (Results *r)
{
  g_mutex_clear (&r->mutex);
  g_clear_pointer (&r->found, g_hash_table_unref);
  g_clear_pointer (&r->problems, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Results, results_clear)

static void
results_add (Results         *r,
             SluiceFoundFile *file)
{
  if (g_hash_table_contains (r->found, file->relpath))
    {
      r->duplicates++;
      sluice_found_file_free (file);
      return;
    }
  g_hash_table_insert (r->found, file->relpath, file);
}

/* Called from lister threads. */
static void
on_problem (const char   *relpath,
            const GError *error,
            gpointer      user_data)
{
  Results *r = user_data;

  g_assert_true (error->domain == SLUICE_ERROR);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_mutex_lock (&r->mutex);
  g_ptr_array_add (r->problems, g_strdup_printf ("%s\t%d\t%s", relpath, error->code,
                                                 error->message));
  g_mutex_unlock (&r->mutex);
}

typedef struct {
  SluiceWalker *walker;
  SluiceQueue  *queue;
  Results      *results;
  GCancellable *cancellable;
  gboolean      ok;
  GError       *error;
} WalkJob;

static gpointer
walk_thread (gpointer user_data)
{
  WalkJob *job = user_data;

  job->ok = sluice_walker_run (job->walker, job->queue, on_problem, job->results,
                               job->cancellable, &job->error);
  sluice_queue_close (job->queue);
  return NULL;
}

/* Walks @root with @options into @r, consuming on this thread as a pipeline would. */
static gboolean
walk_full (const char                *root,
           const SluiceWalkerOptions *options,
           guint                      capacity,
           SluiceProgress            *progress,
           GCancellable              *cancellable,
           Results                   *r,
           guint64                   *out_dirs,
           guint64                   *out_skipped,
           GError                   **error)
{
  g_autoptr(SluiceWalker) walker = NULL;
  g_autoptr(SluiceQueue) queue = sluice_queue_new (capacity,
                                                   (GDestroyNotify) sluice_found_file_free);
  WalkJob job = { NULL, queue, r, cancellable, FALSE, NULL };
  SluiceFoundFile *file;
  GThread *thread;

  walker = sluice_walker_new (root, options, error);
  g_assert_nonnull (walker);
  g_assert_cmpint (sluice_walker_get_root_fd (walker), >=, 0);
  if (progress != NULL)
    sluice_walker_set_progress (walker, progress);
  job.walker = walker;

  thread = g_thread_new ("walk", walk_thread, &job);
  while ((file = sluice_queue_pop (queue)) != NULL)
    results_add (r, file);
  g_thread_join (thread);

  if (out_dirs != NULL)
    *out_dirs = sluice_walker_get_dirs (walker);
  if (out_skipped != NULL)
    *out_skipped = sluice_walker_get_skipped (walker);
  if (job.error != NULL)
    g_propagate_error (error, job.error);
  return job.ok;
}

static void
walk (const char                *root,
      const SluiceWalkerOptions *options,
      Results                   *r)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (walk_full (root, options, 64, NULL, NULL, r, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r->duplicates, ==, 0);
}

/* The found set is exactly @expected (NULL-terminated relpaths) */
static void
assert_found (Results           *r,
              const char *const *expected)
{
  guint n = 0;

  for (; expected[n] != NULL; n++)
    if (!g_hash_table_contains (r->found, expected[n]))
      g_error ("not found: %s", expected[n]);
  if (g_hash_table_size (r->found) != n)
    {
      GHashTableIter iter;
      const char *relpath;

      g_hash_table_iter_init (&iter, r->found);
      while (g_hash_table_iter_next (&iter, (gpointer *) &relpath, NULL))
        if (!g_strv_contains (expected, relpath))
          g_error ("unexpected: %s", relpath);
    }
}

static GPtrArray *
media_plus (const char *const *extra,
            const char        *without)
{
  GPtrArray *list = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (media); i++)
    if (g_strcmp0 (media[i].relpath, without) != 0)
      g_ptr_array_add (list, (gpointer) media[i].relpath);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (list, (gpointer) extra[i]);
  g_ptr_array_add (list, NULL);
  return list;
}

typedef struct {
  char *root;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->root = sluice_test_make_dir ("tree");
  make_tree (f->root);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_free (f->root);
}

static void
test_default (Fixture       *f,
              gconstpointer  data)
{
  g_auto(Results) r = { 0 };
  g_autoptr(GPtrArray) expected = media_plus (NULL, NULL);
  g_autoptr(GError) error = NULL;
  guint64 dirs = 0, skipped = 0;

  results_init (&r);
  g_assert_true (walk_full (f->root, NULL, 64, NULL, NULL, &r, &dirs, &skipped, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r.duplicates, ==, 0);
  assert_found (&r, (const char *const *) expected->pdata);
  g_assert_cmpuint (r.problems->len, ==, 0);

  /* root, sub, sub/deeper, empty: not the clutter, the hidden folder or the linked one */
  g_assert_cmpuint (dirs, ==, 4);
  g_assert_cmpuint (skipped, ==, DEFAULT_SKIPPED);
}

static void
test_kinds_sizes_mtimes (Fixture       *f,
                         gconstpointer  data)
{
  g_auto(Results) r = { 0 };

  results_init (&r);
  walk (f->root, NULL, &r);
  for (guint i = 0; i < G_N_ELEMENTS (media); i++)
    {
      SluiceFoundFile *file = g_hash_table_lookup (r.found, media[i].relpath);
      g_autofree char *path = g_build_filename (f->root, media[i].relpath, NULL);

      g_assert_nonnull (file);
      g_assert_cmpint (file->kind, ==, media[i].kind);
      g_assert_cmpuint (file->size, ==, 100 + 37 * i);
      g_assert_cmpint (file->mtime_ns, ==,
                       (1500000000 + G_GINT64_CONSTANT (86400) * i) * 1000000000 +
                       123456789 + i);
      g_assert_cmpint (file->mtime_ns, ==, sluice_test_mtime_ns (path));
    }
}

static void
test_all_files (Fixture       *f,
                gconstpointer  data)
{
  SluiceWalkerOptions options = { .all_files = TRUE };
  g_auto(Results) r = { 0 };
  g_autoptr(GPtrArray) expected = media_plus (others, NULL);

  results_init (&r);
  walk (f->root, &options, &r);
  /* every regular file, still without hidden files, clutter, links and the FIFO */
  assert_found (&r, (const char *const *) expected->pdata);
  for (guint i = 0; i < G_N_ELEMENTS (others) - 1; i++)
    {
      SluiceFoundFile *file = g_hash_table_lookup (r.found, others[i]);
      g_assert_cmpint (file->kind, ==, SLUICE_FILE_KIND_OTHER);
    }
}

static void
test_hidden (Fixture       *f,
             gconstpointer  data)
{
  SluiceWalkerOptions options = { .hidden = TRUE };
  g_auto(Results) r = { 0 };
  g_autoptr(GPtrArray) expected = media_plus (hidden, NULL);

  results_init (&r);
  walk (f->root, &options, &r);
  /* hidden files and folders, but NAS clutter (.DS_Store, ._*, .@__thumb) stays out */
  assert_found (&r, (const char *const *) expected->pdata);
}

static void
test_include_takes_other_files (Fixture       *f,
                                gconstpointer  data)
{
  const char *include[] = { "*.txt", "sub/*.md", NULL };
  SluiceWalkerOptions options = { .include = (GStrv) include };
  g_auto(Results) r = { 0 };
  SluiceFoundFile *txt, *md;

  results_init (&r);
  walk (f->root, &options, &r);
  /* on the name or on the relative path, whatever the extension */
  txt = g_hash_table_lookup (r.found, "notes.txt");
  md = g_hash_table_lookup (r.found, "sub/readme.md");
  g_assert_nonnull (txt);
  g_assert_nonnull (md);
  g_assert_cmpint (txt->kind, ==, SLUICE_FILE_KIND_OTHER);
  g_assert_null (g_hash_table_lookup (r.found, "data.bin"));
  /* a glob does not reach into clutter or hidden folders */
  g_assert_null (g_hash_table_lookup (r.found, ".hiddendir/x.jpg"));
}

static void
test_include_adds (Fixture       *f,
                   gconstpointer  data)
{
  const char *include[] = { "*.txt", NULL };
  const char *const extra[] = { "notes.txt", NULL };
  SluiceWalkerOptions options = { .include = (GStrv) include };
  g_auto(Results) r = { 0 };
  g_autoptr(GPtrArray) expected = media_plus (extra, NULL);

  results_init (&r);
  walk (f->root, &options, &r);
  /* "--include GLOB adds files matching a glob": images, videos and sidecars still come */
  assert_found (&r, (const char *const *) expected->pdata);
}

static void
test_exclude (Fixture       *f,
              gconstpointer  data)
{
  const char *by_name[] = { "*.png", NULL };
  const char *folder[] = { "sub", NULL };
  const char *by_path[] = { "sub/deeper", "sub/g.tif", NULL };
  const char *const no_sub[] = {
    "a.jpg", "B.JPG", "c.Jpeg", "d.heic", "e.CR2", "f.png", "caf\xc3\xa9 photo.webp",
    "bad\xff" "name.jpg", "v.mov", "V2.MP4", "a.xmp", "IMG_0001.AAE", NULL,
  };
  g_autoptr(GPtrArray) without_png = media_plus (NULL, "f.png");
  g_autoptr(GError) error = NULL;
  guint64 dirs = 0;

  {
    SluiceWalkerOptions options = { .exclude = (GStrv) by_name };
    g_auto(Results) r = { 0 };

    results_init (&r);
    walk (f->root, &options, &r);
    assert_found (&r, (const char *const *) without_png->pdata);
  }
  {
    /* a folder is skipped whole, without being listed */
    SluiceWalkerOptions options = { .exclude = (GStrv) folder };
    g_auto(Results) r = { 0 };

    results_init (&r);
    g_assert_true (walk_full (f->root, &options, 64, NULL, NULL, &r, &dirs, NULL, &error));
    g_assert_no_error (error);
    assert_found (&r, no_sub);
    g_assert_cmpuint (dirs, ==, 2);
  }
  {
    SluiceWalkerOptions options = { .exclude = (GStrv) by_path };
    g_auto(Results) r = { 0 };

    results_init (&r);
    walk (f->root, &options, &r);
    assert_found (&r, no_sub);
  }
}

static void
test_exclude_wins (Fixture       *f,
                   gconstpointer  data)
{
  const char *globs[] = { "notes.txt", "f.png", NULL };
  SluiceWalkerOptions options = { .include = (GStrv) globs, .exclude = (GStrv) globs,
                                  .all_files = TRUE };
  g_auto(Results) r = { 0 };

  results_init (&r);
  walk (f->root, &options, &r);
  g_assert_null (g_hash_table_lookup (r.found, "notes.txt"));
  g_assert_null (g_hash_table_lookup (r.found, "f.png"));
  g_assert_nonnull (g_hash_table_lookup (r.found, "a.jpg"));
}

static void
test_links_not_followed (Fixture       *f,
                         gconstpointer  data)
{
  SluiceWalkerOptions options = { .all_files = TRUE, .hidden = TRUE };
  g_auto(Results) r = { 0 };

  results_init (&r);
  walk (f->root, &options, &r);
  g_assert_null (g_hash_table_lookup (r.found, "link.jpg"));
  g_assert_null (g_hash_table_lookup (r.found, "dangling.jpg"));
  g_assert_null (g_hash_table_lookup (r.found, "linkdir/g.tif"));
  g_assert_null (g_hash_table_lookup (r.found, "pipe.jpg"));
  /* the target itself is found once, by its own name */
  g_assert_nonnull (g_hash_table_lookup (r.found, "sub/g.tif"));
  g_assert_cmpuint (r.problems->len, ==, 0);
}

static void
test_progress (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(SluiceProgress) progress = sluice_progress_new ();
  g_auto(Results) r = { 0 };
  g_autoptr(GError) error = NULL;
  SluiceProgressSnapshot snap;
  guint64 bytes = 0;

  results_init (&r);
  g_assert_true (walk_full (f->root, NULL, 4, progress, NULL, &r, NULL, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (media); i++)
    bytes += 100 + 37 * i;

  sluice_progress_snapshot (progress, &snap);
  g_assert_cmpint (snap.files[SLUICE_STAGE_FOUND], ==, G_N_ELEMENTS (media));
  g_assert_cmpint (snap.bytes[SLUICE_STAGE_FOUND], ==, bytes);
  g_assert_cmpint (snap.files[SLUICE_STAGE_UPLOADED], ==, 0);
}

static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(Results) r = { 0 };
  g_autoptr(GError) error = NULL;

  results_init (&r);
  g_cancellable_cancel (cancellable);
  g_assert_false (walk_full (f->root, NULL, 64, NULL, cancellable, &r, NULL, NULL, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED);
  g_assert_cmpuint (g_hash_table_size (r.found), ==, 0);
}

static void
test_queue_aborted (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(SluiceWalker) walker = NULL;
  g_autoptr(SluiceQueue) queue = sluice_queue_new (1, (GDestroyNotify) sluice_found_file_free);
  g_autoptr(GError) error = NULL;
  g_auto(Results) r = { 0 };
  WalkJob job = { NULL, queue, &r, NULL, TRUE, NULL };
  SluiceFoundFile *first;
  GThread *thread;

  results_init (&r);
  walker = sluice_walker_new (f->root, NULL, &error);
  g_assert_no_error (error);
  job.walker = walker;

  /* the consumer goes away after one file: the walker, blocked on the full queue, stops */
  thread = g_thread_new ("walk", walk_thread, &job);
  first = sluice_queue_pop (queue);
  g_assert_nonnull (first);
  sluice_found_file_free (first);
  sluice_queue_abort (queue);
  g_thread_join (thread);

  g_assert_false (job.ok);
  g_assert_error (job.error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED);
  g_clear_error (&job.error);
}

typedef struct {
  Results *results;
  guint    limit;     /* refuse the file after this many; 0 = never */
  gint     taken;
} Sink;

/* Called from lister threads. */
static gboolean
sink_file (SluiceFoundFile *file,
           gpointer         user_data)
{
  Sink *sink = user_data;
  gboolean take;

  g_mutex_lock (&sink->results->mutex);
  take = sink->limit == 0 || (guint) sink->taken < sink->limit;
  if (take)
    {
      sink->taken++;
      results_add (sink->results, file);
    }
  g_mutex_unlock (&sink->results->mutex);
  return take;
}

static void
test_sink (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(SluiceWalker) walker = NULL;
  g_autoptr(SluiceQueue) unused = sluice_queue_new (1, (GDestroyNotify) sluice_found_file_free);
  g_autoptr(GPtrArray) expected = media_plus (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(Results) r = { 0 };
  Sink sink = { &r, 0, 0 };

  results_init (&r);
  walker = sluice_walker_new (f->root, NULL, &error);
  g_assert_no_error (error);
  /* found files go to the sink, not to the (never consumed) queue */
  sluice_walker_set_sink (walker, sink_file, &sink);
  g_assert_true (sluice_walker_run (walker, unused, on_problem, &r, NULL, &error));
  g_assert_no_error (error);
  assert_found (&r, (const char *const *) expected->pdata);
  g_assert_cmpuint (sluice_queue_length (unused), ==, 0);
}

static void
test_sink_stops (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(SluiceWalker) walker = NULL;
  g_autoptr(SluiceQueue) unused = sluice_queue_new (1, (GDestroyNotify) sluice_found_file_free);
  g_autoptr(GError) error = NULL;
  g_auto(Results) r = { 0 };
  Sink sink = { &r, 3, 0 };

  results_init (&r);
  walker = sluice_walker_new (f->root, NULL, &error);
  g_assert_no_error (error);
  /* a sink that refuses a file stops the walk; the refused file is not leaked */
  sluice_walker_set_sink (walker, sink_file, &sink);
  g_assert_false (sluice_walker_run (walker, unused, on_problem, &r, NULL, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED);
  g_assert_cmpuint (g_hash_table_size (r.found), ==, 3);
}

static void
test_missing_root (void)
{
  g_autofree char *dir = sluice_test_make_dir ("roots");
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  g_autofree char *file = g_build_filename (dir, "file.jpg", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceWalker) walker = NULL;

  walker = sluice_walker_new (missing, NULL, &error);
  g_assert_null (walker);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  sluice_test_write_file (file, "x", 1);
  walker = sluice_walker_new (file, NULL, &error);
  g_assert_null (walker);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
}

/* A wide tree, walked by many listers at once: each file exactly once, every time. */
static void
test_many_listers (void)
{
  g_autofree char *root = sluice_test_make_dir ("wide");
  SluiceWalkerOptions options = { .listers = 16 };
  guint n_files = 0;

  for (guint a = 0; a < 20; a++)
    for (guint b = 0; b < 5; b++)
      for (guint c = 0; c < 10; c++)
        {
          g_autofree char *relpath = g_strdup_printf ("d%02u/e%u/IMG_%u.jpg", a, b, c);
          sluice_test_write_file_at (root, relpath, relpath, -1);
          n_files++;
        }

  for (int round = 0; round < 3; round++)
    {
      g_auto(Results) r = { 0 };
      g_autoptr(GError) error = NULL;
      guint64 dirs = 0;

      results_init (&r);
      g_assert_true (walk_full (root, &options, 16, NULL, NULL, &r, &dirs, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (r.duplicates, ==, 0);
      g_assert_cmpuint (g_hash_table_size (r.found), ==, n_files);
      g_assert_cmpuint (dirs, ==, 1 + 20 + 20 * 5);
      for (guint a = 0; a < 20; a++)
        {
          g_autofree char *relpath = g_strdup_printf ("d%02u/e4/IMG_9.jpg", a);
          g_assert_true (g_hash_table_contains (r.found, relpath));
        }
    }
}

static gpointer
slow_consumer (gpointer user_data)
{
  SluiceQueue *queue = ((WalkJob *) user_data)->queue;
  Results *r = ((WalkJob *) user_data)->results;
  SluiceFoundFile *file;
  guint n = 0;

  while ((file = sluice_queue_pop (queue)) != NULL)
    {
      /* slower than the listers now and then: they must wait, not pile up */
      if (n++ % 16 == 0)
        g_usleep (500);
      results_add (r, file);
      g_assert_cmpuint (sluice_queue_length (queue), <=, 1);
    }
  return NULL;
}

static void
test_capacity_one (void)
{
  g_autofree char *root = sluice_test_make_dir ("narrow");
  SluiceWalkerOptions options = { .listers = 8 };
  g_autoptr(SluiceWalker) walker = NULL;
  g_autoptr(SluiceQueue) queue = sluice_queue_new (1, (GDestroyNotify) sluice_found_file_free);
  g_autoptr(GError) error = NULL;
  g_auto(Results) r = { 0 };
  WalkJob job = { NULL, queue, &r, NULL, FALSE, NULL };
  GThread *consumer;

  for (guint a = 0; a < 10; a++)
    for (guint c = 0; c < 30; c++)
      {
        g_autofree char *relpath = g_strdup_printf ("d%u/%u.jpg", a, c);
        sluice_test_write_file_at (root, relpath, "x", 1);
      }
  results_init (&r);
  walker = sluice_walker_new (root, &options, &error);
  g_assert_no_error (error);

  /* the walker on this thread, the consumer on another */
  consumer = g_thread_new ("consume", slow_consumer, &job);
  g_assert_true (sluice_walker_run (walker, queue, on_problem, &r, NULL, &error));
  g_assert_no_error (error);
  sluice_queue_close (queue);
  g_thread_join (consumer);

  g_assert_cmpuint (r.duplicates, ==, 0);
  g_assert_cmpuint (g_hash_table_size (r.found), ==, 300);
}

static void
test_unreadable_folder (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *root = sluice_test_make_dir ("unreadable");
      g_autofree char *locked = g_build_filename (root, "locked", NULL);
      g_auto(Results) r = { 0 };
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) parts = NULL;
      gint64 code = -1;

      sluice_test_write_file_at (root, "before.jpg", "1", -1);
      sluice_test_write_file_at (root, "locked/inside.jpg", "2", -1);
      sluice_test_write_file_at (root, "open/after.jpg", "3", -1);
      g_assert_cmpint (g_chmod (locked, 0), ==, 0);
      if (sluice_test_is_root ())
        sluice_test_drop_privileges (root);

      results_init (&r);
      g_assert_true (walk_full (root, NULL, 2, NULL, NULL, &r, NULL, NULL, &error));
      g_assert_no_error (error);

      /* reported, and the walk went on */
      g_assert_true (g_hash_table_contains (r.found, "before.jpg"));
      g_assert_true (g_hash_table_contains (r.found, "open/after.jpg"));
      g_assert_false (g_hash_table_contains (r.found, "locked/inside.jpg"));
      g_assert_cmpuint (r.problems->len, ==, 1);
      parts = g_strsplit (g_ptr_array_index (r.problems, 0), "\t", 3);
      g_assert_cmpstr (parts[0], ==, "locked");
      g_assert_true (g_ascii_string_to_signed (parts[1], 10, 0, 100, &code, NULL));
      g_assert_cmpint (code, ==, SLUICE_ERROR_SOURCE_UNREADABLE);
      g_assert_nonnull (strstr (parts[2], "locked"));
      g_assert_nonnull (strstr (parts[2], g_strerror (EACCES)));
      return;
    }

  /* root lists a chmod 000 folder anyway: then the walk runs as "nobody" */
  if (sluice_test_is_root () && !sluice_test_can_drop_privileges ())
    {
      g_test_skip ("running as root, and cannot become nobody to make a folder unreadable");
      return;
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_bind_mount_loop (void)
{
  g_autofree char *marker = g_build_filename (g_get_user_cache_dir (), "no-mount-ns", NULL);

  if (g_test_subprocess ())
    {
      g_autofree char *root = sluice_test_make_dir ("loop");
      g_autofree char *a = g_build_filename (root, "a", NULL);
      g_autofree char *mountpoint = g_build_filename (root, "a", "b", "loop", NULL);
      g_auto(Results) r = { 0 };
      g_autoptr(GError) error = NULL;
      gboolean loop_reported = FALSE;

      sluice_test_write_file_at (root, "a/one.jpg", "1", -1);
      sluice_test_write_file_at (root, "a/b/two.jpg", "2", -1);
      g_assert_cmpint (g_mkdir_with_parents (mountpoint, 0755), ==, 0);

      /* a private mount namespace: the bind mount exists for this child only */
      if (unshare (CLONE_NEWNS) != 0 ||
          mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
          mount (a, mountpoint, NULL, MS_BIND, NULL) != 0)
        {
          sluice_test_write_file (marker, g_strerror (errno), -1);
          return;
        }

      results_init (&r);
      g_assert_true (walk_full (root, NULL, 8, NULL, NULL, &r, NULL, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (r.duplicates, ==, 0);
      g_assert_true (g_hash_table_contains (r.found, "a/one.jpg"));
      g_assert_true (g_hash_table_contains (r.found, "a/b/two.jpg"));
      /* the folder seen again through the mount is not walked a second time */
      g_assert_cmpuint (g_hash_table_size (r.found), ==, 2);
      for (guint i = 0; i < r.problems->len; i++)
        if (g_str_has_prefix (g_ptr_array_index (r.problems, i), "a/b/loop\t"))
          loop_reported = TRUE;
      g_assert_true (loop_reported);
      g_assert_cmpuint (r.problems->len, ==, 1);
      return;
    }

  if (!sluice_test_is_root ())
    {
      g_test_skip ("a bind-mount loop needs root (a private mount namespace)");
      return;
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  if (g_file_test (marker, G_FILE_TEST_EXISTS))
    g_test_skip ("cannot make a private mount namespace here");
}

static void
test_kind_for_name (void)
{
  struct {
    const char     *name;
    SluiceFileKind  kind;
    const char     *content_type;
  } cases[] = {
    { "x.jpg", SLUICE_FILE_KIND_IMAGE, "image/jpeg" },
    { "X.JPG", SLUICE_FILE_KIND_IMAGE, "image/jpeg" },
    { "x.JpEg", SLUICE_FILE_KIND_IMAGE, "image/jpeg" },
    { "x.tiff", SLUICE_FILE_KIND_IMAGE, "image/tiff" },
    { "x.DNG", SLUICE_FILE_KIND_IMAGE, "image/x-adobe-dng" },
    { "x.cr3", SLUICE_FILE_KIND_IMAGE, "image/x-canon-cr3" },
    { "x.NEF", SLUICE_FILE_KIND_IMAGE, "image/x-nikon-nef" },
    { "x.heic", SLUICE_FILE_KIND_IMAGE, "image/heic" },
    { "x.HIF", SLUICE_FILE_KIND_IMAGE, "image/heif" },
    { "x.webp", SLUICE_FILE_KIND_IMAGE, "image/webp" },
    { "a.b.png", SLUICE_FILE_KIND_IMAGE, "image/png" },
    { "x.MOV", SLUICE_FILE_KIND_VIDEO, "video/quicktime" },
    { "x.mp4", SLUICE_FILE_KIND_VIDEO, "video/mp4" },
    { "x.m4v", SLUICE_FILE_KIND_VIDEO, "video/x-m4v" },
    { "IMGP0001.PEF", SLUICE_FILE_KIND_IMAGE, "image/x-pentax-pef" },
    { "SAM_0001.SRW", SLUICE_FILE_KIND_IMAGE, "image/x-samsung-srw" },
    { "DSCN0001.NRW", SLUICE_FILE_KIND_IMAGE, "image/x-nikon-nrw" },
    { "L1000001.RWL", SLUICE_FILE_KIND_IMAGE, "image/x-leica-rwl" },
    { "SDIM0001.X3F", SLUICE_FILE_KIND_IMAGE, "image/x-sigma-x3f" },
    { "B0000001.3FR", SLUICE_FILE_KIND_IMAGE, "image/x-hasselblad-3fr" },
    { "CF000001.IIQ", SLUICE_FILE_KIND_IMAGE, "image/x-phaseone-iiq" },
    { "CRW_0001.CRW", SLUICE_FILE_KIND_IMAGE, "image/x-canon-crw" },
    { "GOPR0001.GPR", SLUICE_FILE_KIND_IMAGE, "image/x-gopro-gpr" },
    { "x.avif", SLUICE_FILE_KIND_IMAGE, "image/avif" },
    { "x.gif", SLUICE_FILE_KIND_IMAGE, "image/gif" },
    { "00001.MTS", SLUICE_FILE_KIND_VIDEO, "video/mp2t" },
    { "GL010001.LRV", SLUICE_FILE_KIND_VIDEO, "video/mp4" },
    { "x.avi", SLUICE_FILE_KIND_VIDEO, "video/x-msvideo" },
    { "MVI_0001.THM", SLUICE_FILE_KIND_SIDECAR, "image/jpeg" },
    { "x.XMP", SLUICE_FILE_KIND_SIDECAR, "application/rdf+xml" },
    { "x.aae", SLUICE_FILE_KIND_SIDECAR, "application/xml" },
    { "x.txt", SLUICE_FILE_KIND_OTHER, "application/octet-stream" },
    { "jpg", SLUICE_FILE_KIND_OTHER, "application/octet-stream" },
    { ".jpg", SLUICE_FILE_KIND_OTHER, "application/octet-stream" },
    { "x.", SLUICE_FILE_KIND_OTHER, "application/octet-stream" },
    { "x.jpg.part", SLUICE_FILE_KIND_OTHER, "application/octet-stream" },
    { "x.jpgx", SLUICE_FILE_KIND_OTHER, "application/octet-stream" },
    { "x.verylongextension", SLUICE_FILE_KIND_OTHER, "application/octet-stream" },
    { "x.raw", SLUICE_FILE_KIND_OTHER, "application/octet-stream" },   /* whose? */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_cmpint (sluice_file_kind_for_name (cases[i].name), ==, cases[i].kind);
      g_assert_cmpstr (sluice_content_type_for_name (cases[i].name), ==,
                       cases[i].content_type);
    }
}

/* The browser's Format field: the container, or the maker's raw format, or AVIF/HEIC. */
static void
test_format_name (void)
{
  struct {
    const char *container, *name, *expected;
  } cases[] = {
    { "jpeg", "2021/IMG_0001.JPG", "JPEG" },
    { "tiff", "scans/page.tif", "TIFF" },
    { "tiff", "raw/P5060001.ORF", "ORF raw" },
    { "tiff", "raw/_DSC0001.arw", "ARW raw" },
    { "tiff", "raw/IMGP0001.PEF", "PEF raw" },
    { "tiff", "raw/x.dng", "DNG raw" },
    { "raf", "DSCF0001.RAF", "RAF raw" },
    { "cr3", "IMG_0001.CR3", "CR3 raw" },
    { "heif", "IMG_0001.HEIC", "HEIC" },
    { "heif", "photo.avif", "AVIF" },
    { "heif", "photo.hif", "HEIF" },
    /* a JPEG named .nef is what its content says */
    { "jpeg", "x.nef", "JPEG" },
    { "png", NULL, "PNG" },
    { "tiff", "noext", "TIFF" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = sluice_file_format_name (cases[i].name, cases[i].container);

      g_assert_cmpstr (name, ==, cases[i].expected);
    }
}

static void
test_is_clutter (void)
{
  const char *yes[] = {
    "@eaDir", "#recycle", "#snapshot", "@Recycle", ".@__thumb", ".DS_Store", "Thumbs.db",
    "desktop.ini", "._IMG_0001.JPG", "._", ".AppleDouble", "$RECYCLE.BIN",
    "System Volume Information", "lost+found",
  };
  const char *no[] = {
    "IMG_0001.JPG", "eaDir", "recycle", ".hidden", "_a.jpg", "a._b", "Thumbs.db.jpg",
  };

  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    g_assert_true (sluice_walker_is_clutter (yes[i]));
  for (guint i = 0; i < G_N_ELEMENTS (no); i++)
    g_assert_false (sluice_walker_is_clutter (no[i]));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn) \
  g_test_add ("/engine/walker/" path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("default", test_default);
  ADD ("kinds-sizes-mtimes", test_kinds_sizes_mtimes);
  ADD ("all-files", test_all_files);
  ADD ("hidden", test_hidden);
  ADD ("include-takes-other-files", test_include_takes_other_files);
  ADD ("include-adds", test_include_adds);
  ADD ("exclude", test_exclude);
  ADD ("exclude-wins", test_exclude_wins);
  ADD ("links-not-followed", test_links_not_followed);
  ADD ("progress", test_progress);
  ADD ("cancelled", test_cancelled);
  ADD ("queue-aborted", test_queue_aborted);
  ADD ("sink", test_sink);
  ADD ("sink-stops", test_sink_stops);
#undef ADD
  g_test_add_func ("/engine/walker/missing-root", test_missing_root);
  g_test_add_func ("/engine/walker/many-listers", test_many_listers);
  g_test_add_func ("/engine/walker/capacity-one", test_capacity_one);
  g_test_add_func ("/engine/walker/unreadable-folder", test_unreadable_folder);
  g_test_add_func ("/engine/walker/bind-mount-loop", test_bind_mount_loop);
  g_test_add_func ("/engine/walker/kind-for-name", test_kind_for_name);
  g_test_add_func ("/engine/walker/format-name", test_format_name);
  g_test_add_func ("/engine/walker/is-clutter", test_is_clutter);

  return g_test_run ();
}
