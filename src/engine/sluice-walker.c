/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-walker"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice-buffer.h"
#include "sluice-error.h"
#include "sluice-walker.h"

#define DEFAULT_LISTERS 8

typedef struct {
  const char     *ext;
  SluiceFileKind  kind;
  const char     *content_type;
} Extension;

/* What is taken by default: the pictures of every camera maker's raw format, the videos
 * cameras and phones write, and the sidecars beside them. */
static const Extension extensions[] = {
  /* pictures */
  { "jpg", SLUICE_FILE_KIND_IMAGE, "image/jpeg" },
  { "jpeg", SLUICE_FILE_KIND_IMAGE, "image/jpeg" },
  { "jpe", SLUICE_FILE_KIND_IMAGE, "image/jpeg" },
  { "jfif", SLUICE_FILE_KIND_IMAGE, "image/jpeg" },
  { "tif", SLUICE_FILE_KIND_IMAGE, "image/tiff" },
  { "tiff", SLUICE_FILE_KIND_IMAGE, "image/tiff" },
  { "heic", SLUICE_FILE_KIND_IMAGE, "image/heic" },
  { "heif", SLUICE_FILE_KIND_IMAGE, "image/heif" },
  { "hif", SLUICE_FILE_KIND_IMAGE, "image/heif" },
  { "avif", SLUICE_FILE_KIND_IMAGE, "image/avif" },
  { "png", SLUICE_FILE_KIND_IMAGE, "image/png" },
  { "webp", SLUICE_FILE_KIND_IMAGE, "image/webp" },
  { "jxl", SLUICE_FILE_KIND_IMAGE, "image/jxl" },
  { "gif", SLUICE_FILE_KIND_IMAGE, "image/gif" },
  { "bmp", SLUICE_FILE_KIND_IMAGE, "image/bmp" },
  { "psd", SLUICE_FILE_KIND_IMAGE, "image/vnd.adobe.photoshop" },
  /* raw files */
  { "dng", SLUICE_FILE_KIND_IMAGE, "image/x-adobe-dng" },
  { "gpr", SLUICE_FILE_KIND_IMAGE, "image/x-gopro-gpr" },
  { "cr2", SLUICE_FILE_KIND_IMAGE, "image/x-canon-cr2" },
  { "cr3", SLUICE_FILE_KIND_IMAGE, "image/x-canon-cr3" },
  { "crw", SLUICE_FILE_KIND_IMAGE, "image/x-canon-crw" },
  { "nef", SLUICE_FILE_KIND_IMAGE, "image/x-nikon-nef" },
  { "nrw", SLUICE_FILE_KIND_IMAGE, "image/x-nikon-nrw" },
  { "arw", SLUICE_FILE_KIND_IMAGE, "image/x-sony-arw" },
  { "srf", SLUICE_FILE_KIND_IMAGE, "image/x-sony-srf" },
  { "sr2", SLUICE_FILE_KIND_IMAGE, "image/x-sony-sr2" },
  { "orf", SLUICE_FILE_KIND_IMAGE, "image/x-olympus-orf" },
  { "rw2", SLUICE_FILE_KIND_IMAGE, "image/x-panasonic-rw2" },
  { "rwl", SLUICE_FILE_KIND_IMAGE, "image/x-leica-rwl" },
  { "raf", SLUICE_FILE_KIND_IMAGE, "image/x-fuji-raf" },
  { "pef", SLUICE_FILE_KIND_IMAGE, "image/x-pentax-pef" },
  { "srw", SLUICE_FILE_KIND_IMAGE, "image/x-samsung-srw" },
  { "x3f", SLUICE_FILE_KIND_IMAGE, "image/x-sigma-x3f" },
  { "mrw", SLUICE_FILE_KIND_IMAGE, "image/x-minolta-mrw" },
  { "3fr", SLUICE_FILE_KIND_IMAGE, "image/x-hasselblad-3fr" },
  { "fff", SLUICE_FILE_KIND_IMAGE, "image/x-hasselblad-fff" },
  { "iiq", SLUICE_FILE_KIND_IMAGE, "image/x-phaseone-iiq" },
  { "erf", SLUICE_FILE_KIND_IMAGE, "image/x-epson-erf" },
  { "dcr", SLUICE_FILE_KIND_IMAGE, "image/x-kodak-dcr" },
  { "kdc", SLUICE_FILE_KIND_IMAGE, "image/x-kodak-kdc" },
  { "mef", SLUICE_FILE_KIND_IMAGE, "image/x-mamiya-mef" },
  { "mos", SLUICE_FILE_KIND_IMAGE, "image/x-leaf-mos" },
  /* videos */
  { "mov", SLUICE_FILE_KIND_VIDEO, "video/quicktime" },
  { "mp4", SLUICE_FILE_KIND_VIDEO, "video/mp4" },
  { "m4v", SLUICE_FILE_KIND_VIDEO, "video/x-m4v" },
  { "lrv", SLUICE_FILE_KIND_VIDEO, "video/mp4" },        /* GoPro's low-resolution copy */
  { "insv", SLUICE_FILE_KIND_VIDEO, "video/mp4" },       /* Insta360 */
  { "mts", SLUICE_FILE_KIND_VIDEO, "video/mp2t" },       /* AVCHD */
  { "m2ts", SLUICE_FILE_KIND_VIDEO, "video/mp2t" },
  { "avi", SLUICE_FILE_KIND_VIDEO, "video/x-msvideo" },
  { "mkv", SLUICE_FILE_KIND_VIDEO, "video/x-matroska" },
  { "webm", SLUICE_FILE_KIND_VIDEO, "video/webm" },
  { "3gp", SLUICE_FILE_KIND_VIDEO, "video/3gpp" },
  { "mpg", SLUICE_FILE_KIND_VIDEO, "video/mpeg" },
  { "mpeg", SLUICE_FILE_KIND_VIDEO, "video/mpeg" },
  { "wmv", SLUICE_FILE_KIND_VIDEO, "video/x-ms-wmv" },
  { "mxf", SLUICE_FILE_KIND_VIDEO, "application/mxf" },
  /* sidecars */
  { "xmp", SLUICE_FILE_KIND_SIDECAR, "application/rdf+xml" },
  { "aae", SLUICE_FILE_KIND_SIDECAR, "application/xml" },
  { "thm", SLUICE_FILE_KIND_SIDECAR, "image/jpeg" },     /* a video's thumbnail */
  { "dop", SLUICE_FILE_KIND_SIDECAR, "text/plain" },     /* DxO */
  { "pp3", SLUICE_FILE_KIND_SIDECAR, "text/plain" },     /* RawTherapee */
};

/* NAS clutter: Synology (@eaDir, #recycle, #snapshot), QNAP (.@__thumb, @Recycle), macOS and
 * Windows droppings. Matched on the exact name. */
static const char *const clutter[] = {
  "@eaDir", "#recycle", "#snapshot", "@Recycle", "@Recently-Snapshot", ".@__thumb",
  ".@__qini", ".DS_Store", "Thumbs.db", "desktop.ini", ".AppleDouble", ".Spotlight-V100",
  ".Trashes", ".fseventsd", ".TemporaryItems", "$RECYCLE.BIN", "System Volume Information",
  "lost+found", ".snapshot", ".zfs",
};

struct _SluiceWalker {
  char               *root;
  int                 root_fd;
  GPatternSpec      **include;
  GPatternSpec      **exclude;
  gboolean            all_files;
  gboolean            hidden;
  guint               listers;

  /* shared by the lister threads, under mutex */
  GMutex              mutex;
  GCond               cond;
  GQueue              dirs;          /* char * relpaths waiting to be listed ("" = root) */
  guint               busy;          /* listers holding a directory */
  GHashTable         *seen;          /* "dev:ino" of listed directories */
  gboolean            stop;

  SluiceQueue        *out;
  SluiceWalkerProblemFunc problem;
  gpointer            problem_data;
  GCancellable       *cancellable;
  guint64             n_dirs;
  guint               n_skipped;   /* atomic */
  SluiceProgress     *progress;    /* borrowed, may be NULL */
  SluiceWalkerSinkFunc sink;
  gpointer            sink_data;
};

void
sluice_found_file_free (SluiceFoundFile *file)
{
  if (file == NULL)
    return;
  g_free (file->relpath);
  g_free (file);
}

#define MAX_EXTENSION 8

/* The table by lowercase extension, made once: a lookup per file must not grow with it. */
static GHashTable *
extension_table (void)
{
  static GHashTable *table;

  if (g_once_init_enter (&table))
    {
      GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
        {
          g_assert (strlen (extensions[i].ext) <= MAX_EXTENSION);
          g_hash_table_insert (t, (gpointer) extensions[i].ext, (gpointer) &extensions[i]);
        }
      g_once_init_leave (&table, t);
    }
  return table;
}

static const Extension *
lookup_extension (const char *name)
{
  const char *dot = strrchr (name, '.');
  char lower[MAX_EXTENSION + 1];
  gsize n;

  if (dot == NULL || dot == name || dot[1] == '\0')
    return NULL;
  n = strlen (dot + 1);
  if (n > MAX_EXTENSION)
    return NULL;
  for (gsize i = 0; i <= n; i++)
    lower[i] = g_ascii_tolower (dot[1 + i]);
  return g_hash_table_lookup (extension_table (), lower);
}

SluiceFileKind
sluice_file_kind_for_name (const char *name)
{
  const Extension *e = lookup_extension (name);

  return e != NULL ? e->kind : SLUICE_FILE_KIND_OTHER;
}

const char *
sluice_content_type_for_name (const char *name)
{
  const Extension *e = lookup_extension (name);

  return e != NULL ? e->content_type : "application/octet-stream";
}

gboolean
sluice_walker_is_clutter (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (clutter); i++)
    if (g_str_equal (name, clutter[i]))
      return TRUE;
  /* AppleDouble resource forks written by macOS on SMB shares */
  return g_str_has_prefix (name, "._");
}

static GPatternSpec **
compile_globs (GStrv globs)
{
  guint n = globs != NULL ? g_strv_length (globs) : 0;
  GPatternSpec **specs = g_new0 (GPatternSpec *, n + 1);

  for (guint i = 0; i < n; i++)
    specs[i] = g_pattern_spec_new (globs[i]);
  return specs;
}

static void
free_globs (GPatternSpec **specs)
{
  for (guint i = 0; specs != NULL && specs[i] != NULL; i++)
    g_pattern_spec_free (specs[i]);
  g_free (specs);
}

/* A glob matches the relative path or the base name: "*.jpg" and "2019-*" both work. */
static gboolean
globs_match (GPatternSpec **specs,
             const char    *relpath,
             const char    *name)
{
  for (guint i = 0; specs != NULL && specs[i] != NULL; i++)
    if (g_pattern_spec_match_string (specs[i], relpath) ||
        g_pattern_spec_match_string (specs[i], name))
      return TRUE;
  return FALSE;
}

SluiceWalker *
sluice_walker_new (const char                *root,
                   const SluiceWalkerOptions *options,
                   GError                   **error)
{
  g_autoptr(SluiceWalker) self = g_new0 (SluiceWalker, 1);
  struct stat st;

  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  g_queue_init (&self->dirs);
  self->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->root = g_strdup (root);
  self->root_fd = -1;
  self->include = compile_globs (options ? options->include : NULL);
  self->exclude = compile_globs (options ? options->exclude : NULL);
  self->all_files = options ? options->all_files : FALSE;
  self->hidden = options ? options->hidden : FALSE;
  self->listers = options && options->listers > 0 ? options->listers : DEFAULT_LISTERS;

  self->root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (self->root_fd < 0 || fstat (self->root_fd, &st) < 0)
    {
      int saved = errno;
      g_set_error (error, SLUICE_ERROR,
                   saved == ENOENT || saved == ENOTDIR ? SLUICE_ERROR_INVALID_ARGUMENT
                                                       : SLUICE_ERROR_SOURCE_UNREADABLE,
                   _("Cannot open the source folder %s: %s"), root, g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
sluice_walker_free (SluiceWalker *self)
{
  if (self == NULL)
    return;
  if (self->root_fd >= 0)
    close (self->root_fd);
  g_queue_clear_full (&self->dirs, g_free);
  g_clear_pointer (&self->seen, g_hash_table_unref);
  free_globs (self->include);
  free_globs (self->exclude);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  g_free (self->root);
  g_free (self);
}

int
sluice_walker_get_root_fd (SluiceWalker *self)
{
  return self->root_fd;
}

/* Hands found files to @sink instead of the queue given to sluice_walker_run(). */
void
sluice_walker_set_sink (SluiceWalker         *self,
                        SluiceWalkerSinkFunc  sink,
                        gpointer              user_data)
{
  self->sink = sink;
  self->sink_data = user_data;
}

/* Counts every kept file as "found" the moment it is listed. */
void
sluice_walker_set_progress (SluiceWalker   *self,
                            SluiceProgress *progress)
{
  self->progress = progress;
}

guint64
sluice_walker_get_dirs (SluiceWalker *self)
{
  return self->n_dirs;
}

guint64
sluice_walker_get_skipped (SluiceWalker *self)
{
  return g_atomic_int_get (&self->n_skipped);
}

static void
report (SluiceWalker *self,
        const char   *relpath,
        SluiceError   code,
        const char   *format,
        ...) G_GNUC_PRINTF (4, 5);

static void
report (SluiceWalker *self,
        const char   *relpath,
        SluiceError   code,
        const char   *format,
        ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *display = g_filename_display_name (relpath[0] ? relpath : ".");
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  error = g_error_new (SLUICE_ERROR, code, "%s: %s", display, message);
  if (self->problem != NULL)
    self->problem (relpath, error, self->problem_data);
}

static char *
join (const char *dir,
      const char *name)
{
  return dir[0] == '\0' ? g_strdup (name) : g_strconcat (dir, "/", name, NULL);
}

/* Decides whether a regular file is kept, by name, before any stat. */
static gboolean
want_file (SluiceWalker   *self,
           const char     *relpath,
           const char     *name,
           SluiceFileKind *out_kind)
{
  *out_kind = sluice_file_kind_for_name (name);
  if (globs_match (self->exclude, relpath, name))
    return FALSE;
  if (globs_match (self->include, relpath, name))
    return TRUE;
  return self->all_files || *out_kind != SLUICE_FILE_KIND_OTHER;
}

static void
push_dir (SluiceWalker *self,
          char         *relpath)
{
  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->dirs, relpath);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->mutex);
}

/* Lists one directory. Runs on a lister thread. Returns FALSE when the walk must stop. */
static gboolean
list_dir (SluiceWalker *self,
          const char   *relpath)
{
  struct stat st;
  DIR *dir;
  struct dirent *de;
  char key[64];
  int fd;

  /* no link anywhere on the way, as for the files (a folder swapped for a link after its
   * parent was listed is not listed) */
  fd = sluice_buffer_open_source (self->root_fd, relpath[0] ? relpath : ".",
                                  O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    {
      report (self, relpath, SLUICE_ERROR_SOURCE_UNREADABLE, _("cannot open folder: %s"),
              g_strerror (errno));
      return TRUE;
    }
  if (fstat (fd, &st) < 0)
    {
      report (self, relpath, SLUICE_ERROR_SOURCE_UNREADABLE, _("cannot stat folder: %s"),
              g_strerror (errno));
      close (fd);
      return TRUE;
    }

  g_snprintf (key, sizeof key, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
              (guint64) st.st_dev, (guint64) st.st_ino);
  g_mutex_lock (&self->mutex);
  if (!g_hash_table_add (self->seen, g_strdup (key)))
    {
      g_mutex_unlock (&self->mutex);
      report (self, relpath, SLUICE_ERROR_SOURCE_UNREADABLE,
              _("folder loop: this folder was already listed under another path; skipped"));
      close (fd);
      return TRUE;
    }
  self->n_dirs++;
  g_mutex_unlock (&self->mutex);

  dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return TRUE;
    }

  for (;;)
    {
      g_autofree char *child = NULL;
      SluiceFileKind kind;
      unsigned char type;

      errno = 0;
      de = readdir (dir);
      if (de == NULL)
        {
          if (errno != 0)
            report (self, relpath, SLUICE_ERROR_SOURCE_UNREADABLE,
                    _("listing stopped early: %s"), g_strerror (errno));
          break;
        }
      if (g_cancellable_is_cancelled (self->cancellable))
        {
          closedir (dir);
          return FALSE;
        }
      if (g_str_equal (de->d_name, ".") || g_str_equal (de->d_name, ".."))
        continue;
      if (sluice_walker_is_clutter (de->d_name) || (!self->hidden && de->d_name[0] == '.'))
        {
          g_atomic_int_inc (&self->n_skipped);
          continue;
        }

      child = join (relpath, de->d_name);
      type = de->d_type;
      if (type == DT_UNKNOWN)
        {
          /* some file systems (older NFS, FUSE) do not fill d_type: ask, without following */
          if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
          type = S_ISDIR (st.st_mode) ? DT_DIR : S_ISREG (st.st_mode) ? DT_REG
                 : S_ISLNK (st.st_mode) ? DT_LNK : DT_UNKNOWN;
        }

      if (type == DT_DIR)
        {
          if (globs_match (self->exclude, child, de->d_name))
            continue;
          push_dir (self, g_steal_pointer (&child));
          continue;
        }
      if (type != DT_REG)
        {
          g_atomic_int_inc (&self->n_skipped);  /* symlinks are not followed; devices, sockets are not files */
          continue;
        }
      if (!want_file (self, child, de->d_name, &kind))
        {
          g_atomic_int_inc (&self->n_skipped);
          continue;
        }

      if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          report (self, child, SLUICE_ERROR_SOURCE_UNREADABLE, _("cannot stat: %s"),
                  g_strerror (errno));
          continue;
        }
      if (!S_ISREG (st.st_mode))
        continue;

      {
        SluiceFoundFile *file = g_new0 (SluiceFoundFile, 1);

        file->relpath = g_steal_pointer (&child);
        file->size = st.st_size;
        file->mtime_ns = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) +
                         st.st_mtim.tv_nsec;
        file->kind = kind;
        if (self->progress != NULL)
          sluice_progress_add (self->progress, SLUICE_STAGE_FOUND, file->size);
        /* blocks while the pipeline is busy: that is the back-pressure */
        if (self->sink != NULL ? !self->sink (file, self->sink_data)
                               : !sluice_queue_push (self->out, file))
          {
            sluice_found_file_free (file);
            closedir (dir);
            return FALSE;
          }
      }
    }
  closedir (dir);
  return TRUE;
}

static gpointer
lister_thread (gpointer user_data)
{
  SluiceWalker *self = user_data;

  for (;;)
    {
      g_autofree char *relpath = NULL;

      g_mutex_lock (&self->mutex);
      while (!self->stop && self->dirs.length == 0 && self->busy > 0)
        g_cond_wait (&self->cond, &self->mutex);
      if (self->stop || (self->dirs.length == 0 && self->busy == 0))
        {
          /* nothing queued and nobody listing: the walk is complete */
          g_cond_broadcast (&self->cond);
          g_mutex_unlock (&self->mutex);
          return NULL;
        }
      relpath = g_queue_pop_head (&self->dirs);
      self->busy++;
      g_mutex_unlock (&self->mutex);

      if (!list_dir (self, relpath))
        {
          g_mutex_lock (&self->mutex);
          self->stop = TRUE;
          g_mutex_unlock (&self->mutex);
        }

      g_mutex_lock (&self->mutex);
      self->busy--;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->mutex);
    }
}

/**
 * sluice_walker_run:
 *
 * Walks the whole tree into @out and returns when it is done (it does not close @out).
 * Blocks; run it on a thread of its own.
 */
gboolean
sluice_walker_run (SluiceWalker            *self,
                   SluiceQueue             *out,
                   SluiceWalkerProblemFunc  problem,
                   gpointer                 user_data,
                   GCancellable            *cancellable,
                   GError                 **error)
{
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();

  self->out = out;
  self->problem = problem;
  self->problem_data = user_data;
  self->cancellable = cancellable;
  self->stop = FALSE;
  g_hash_table_remove_all (self->seen);
  g_queue_push_tail (&self->dirs, g_strdup (""));

  for (guint i = 0; i < self->listers; i++)
    g_ptr_array_add (threads, g_thread_new ("sluice-lister", lister_thread, self));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));

  if (self->stop || g_cancellable_is_cancelled (cancellable))
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "walk stopped");
      return FALSE;
    }
  return TRUE;
}

char *
sluice_file_format_name (const char *name,
                         const char *container)
{
  const char *dot = name != NULL ? strrchr (name, '.') : NULL;
  const char *type = name != NULL ? sluice_content_type_for_name (name) : "";
  g_autofree char *ext = dot != NULL && dot[1] != '\0' ? g_ascii_strup (dot + 1, -1) : NULL;

  g_return_val_if_fail (container != NULL, NULL);
  /* the walker's content types of raw files are the makers' own, "image/x-…" */
  if (ext != NULL && g_str_has_prefix (type, "image/x-") &&
      (strcmp (container, "tiff") == 0 || strcmp (container, "raf") == 0 ||
       strcmp (container, "cr3") == 0))
    /* TRANSLATORS: the Format of a raw file, by its extension: "ORF raw" */
    return g_strdup_printf (_("%s raw"), ext);
  if (ext != NULL && strcmp (container, "heif") == 0 &&
      (strcmp (ext, "AVIF") == 0 || strcmp (ext, "HEIC") == 0))
    return g_steal_pointer (&ext);
  return g_ascii_strup (container, -1);
}
