/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-progress.h"
#include "sluice-queue.h"

G_BEGIN_DECLS

/*
 * The walker lists a source tree with several directory listings in flight (a NAS answers
 * each one slowly), using readdir's d_type so that only the files it keeps are stat'ed, once.
 * Symlinks are never followed; a directory seen twice (bind mounts) is a loop and is reported;
 * an unreadable folder is reported and the walk goes on. Found files go into a bounded queue:
 * when the rest of the pipeline is slower, the walker waits, and memory stays flat.
 */

typedef enum {
  SLUICE_FILE_KIND_IMAGE,
  SLUICE_FILE_KIND_VIDEO,
  SLUICE_FILE_KIND_SIDECAR,
  SLUICE_FILE_KIND_OTHER,
} SluiceFileKind;

typedef struct {
  char           *relpath;     /* relative to the source root, file system bytes */
  guint64         size;
  gint64          mtime_ns;
  SluiceFileKind  kind;
  gint64          intent_id;   /* the pipeline's: an upload intent committed before the read */
} SluiceFoundFile;

typedef struct {
  GStrv     include;        /* globs; a file matching one is taken whatever its extension */
  GStrv     exclude;        /* globs; a file or folder matching one is skipped */
  gboolean  all_files;      /* every regular file, not only images, videos and sidecars */
  gboolean  hidden;         /* also hidden files and folders (NAS clutter stays skipped) */
  guint     listers;        /* listings in flight; 0 = default (8) */
} SluiceWalkerOptions;

/* Called from a lister thread for every problem that does not stop the walk. */
typedef void (*SluiceWalkerProblemFunc) (const char   *relpath,
                                         const GError *error,
                                         gpointer      user_data);

/* Where found files go instead of a queue: returns FALSE to stop the walk (file not taken). */
typedef gboolean (*SluiceWalkerSinkFunc) (SluiceFoundFile *file,
                                          gpointer         user_data);

typedef struct _SluiceWalker SluiceWalker;

SluiceWalker   *sluice_walker_new          (const char                *root,
                                            const SluiceWalkerOptions *options,
                                            GError                   **error);
void            sluice_walker_free         (SluiceWalker              *self);
int             sluice_walker_get_root_fd  (SluiceWalker              *self);
void            sluice_walker_set_progress (SluiceWalker              *self,
                                            SluiceProgress            *progress);
void            sluice_walker_set_sink     (SluiceWalker              *self,
                                            SluiceWalkerSinkFunc       sink,
                                            gpointer                   user_data);
gboolean        sluice_walker_run          (SluiceWalker              *self,
                                            SluiceQueue               *out,
                                            SluiceWalkerProblemFunc    problem,
                                            gpointer                   user_data,
                                            GCancellable              *cancellable,
                                            GError                   **error);
guint64         sluice_walker_get_dirs     (SluiceWalker              *self);
guint64         sluice_walker_get_skipped  (SluiceWalker              *self);

SluiceFileKind  sluice_file_kind_for_name  (const char                *name);
const char     *sluice_content_type_for_name (const char              *name);
/* What a file is, as the browser names it: the @container the probe recognised ("JPEG",
 * "HEIF"), or for a raw file in a TIFF, RAF or CR3 container the maker's format from @name's
 * extension ("ORF raw"), and AVIF or HEIC for a HEIF so named. */
char           *sluice_file_format_name    (const char                *name,
                                            const char                *container);
gboolean        sluice_walker_is_clutter   (const char                *name);
void            sluice_found_file_free     (SluiceFoundFile           *file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceWalker, sluice_walker_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceFoundFile, sluice_found_file_free)

G_END_DECLS
