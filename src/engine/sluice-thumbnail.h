/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Thumbnails decoded from the source file, for files whose EXIF has none: the file is read
 * once into a sealed memfd (sluice_buffer_read_file), one lazily started sluice-probe helper
 * decodes it in its sandbox (sluice_probe_pool_thumbnail), and the pixels are kept, keyed by
 * the content's SHA-256 and the size asked for, in memory (the last
 * SLUICE_THUMBNAIL_MEMORY_ENTRIES) and on disk under $XDG_CACHE_HOME/sluice/thumbnails/.
 *
 * The disk cache is a folder of "<sha256>-<edge>.rgb" files: a 20-byte header ("SLTH",
 * version, width, height, stride, little endian) and the rows. Past
 * SLUICE_THUMBNAIL_CACHE_MAX_BYTES the least recently used files (by mtime, which a hit
 * refreshes) are removed down to three quarters of it. A damaged cache file is a miss.
 * Deleting the folder at any time is safe.
 */

#define SLUICE_THUMBNAIL_DEFAULT_EDGE     256
#define SLUICE_THUMBNAIL_CACHE_MAX_BYTES  (G_GUINT64_CONSTANT (64) << 20)
#define SLUICE_THUMBNAIL_MEMORY_ENTRIES   64
/* A source file larger than this is not read for a thumbnail. */
#define SLUICE_THUMBNAIL_MAX_SOURCE       (G_GUINT64_CONSTANT (256) << 20)

typedef struct {
  guint     width;
  guint     height;
  gsize     stride;
  GBytes   *pixels;       /* 8-bit RGB rows, stride bytes apart (GDK_MEMORY_R8G8B8) */
  char     *sha256;       /* the content shown, hex */
  gboolean  from_cache;   /* memory or disk: no helper was asked */
} SluiceThumbnail;

typedef struct _SluiceThumbnailer SluiceThumbnailer;

SluiceThumbnailer *sluice_thumbnailer_new        (const char          *helper_path,
                                                  const char          *cache_dir,
                                                  guint                max_edge);
void               sluice_thumbnailer_free       (SluiceThumbnailer   *self);
SluiceThumbnail   *sluice_thumbnailer_get        (SluiceThumbnailer   *self,
                                                  const char          *path,
                                                  const char          *sha256,
                                                  GCancellable        *cancellable,
                                                  GError             **error);
void               sluice_thumbnailer_get_async  (SluiceThumbnailer   *self,
                                                  const char          *path,
                                                  const char          *sha256,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
SluiceThumbnail   *sluice_thumbnailer_get_finish (SluiceThumbnailer   *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);
/* How many files were sent to the helper (cache misses that got as far as decoding). */
guint              sluice_thumbnailer_decodes    (SluiceThumbnailer   *self);
const char        *sluice_thumbnailer_cache_dir  (SluiceThumbnailer   *self);
void               sluice_thumbnailer_set_cache_limit (SluiceThumbnailer *self,
                                                       guint64            bytes);

/* Whether the file @name is worth reading for a thumbnail (its picture, or a raw file's JPEG
 * preview): when @probed, by the @container the probe recognised ("jpeg", "heif", …; NULL for
 * none, a video's case), else by its name's extension. A video is never read, nor a file
 * the helper would only refuse. */
gboolean           sluice_thumbnail_worth_decoding (const char *name,
                                                    gboolean    probed,
                                                    const char *container);

SluiceThumbnail   *sluice_thumbnail_copy         (const SluiceThumbnail *thumbnail);
void               sluice_thumbnail_free         (SluiceThumbnail     *thumbnail);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceThumbnailer, sluice_thumbnailer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceThumbnail, sluice_thumbnail_free)

G_END_DECLS
