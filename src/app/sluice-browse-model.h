/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sluice-browse-row.h"
#include "sluice-engine.h"

G_BEGIN_DECLS

/*
 * The metadata browser's list: a GListModel of SluiceBrowseRow over one SluiceQuery, paged on
 * demand through the engine's query API (no SQL here, never all rows in memory).
 *
 * get_item () answers at once: a row of a page that is not loaded is a placeholder, and the
 * page is fetched on a worker (GTask, read-only catalog connections from a small pool) and
 * filled into the same row objects, which notify "loaded"; no items-changed, so scroll
 * position and selection never move. Pages are kept in a bounded LRU. Random access uses the
 * engine's anchors, built once per query on a worker; until they are there, pages are fetched
 * from the start or after a loaded neighbour.
 *
 * Live: with set_live, a 1 s timer asks a worker whether rows were ingested since the query
 * ran ("n-new"); show_new () appends them in place when the query is in ingest order, else
 * runs the query again. The loaded pages the view shows are read again on the same timer, and
 * rows whose values changed update in place (no items-changed).
 *
 * Main thread only, but for the worker functions it schedules itself.
 */

#define SLUICE_TYPE_BROWSE_MODEL (sluice_browse_model_get_type ())

G_DECLARE_FINAL_TYPE (SluiceBrowseModel, sluice_browse_model, SLUICE, BROWSE_MODEL, GObject)

#define SLUICE_BROWSE_PAGE_SIZE 128
#define SLUICE_BROWSE_MAX_PAGES 64

SluiceBrowseModel *sluice_browse_model_new              (const char          *catalog_path);
const char        *sluice_browse_model_get_catalog_path (SluiceBrowseModel   *self);
void               sluice_browse_model_set_query        (SluiceBrowseModel   *self,
                                                         const SluiceQuery   *query);
const SluiceQuery *sluice_browse_model_get_query        (SluiceBrowseModel   *self);
void               sluice_browse_model_reload           (SluiceBrowseModel   *self);
guint64            sluice_browse_model_get_count        (SluiceBrowseModel   *self);
gboolean           sluice_browse_model_get_loading      (SluiceBrowseModel   *self);
const char        *sluice_browse_model_get_error        (SluiceBrowseModel   *self);
gboolean           sluice_browse_model_get_anchors_ready (SluiceBrowseModel  *self);
guint              sluice_browse_model_get_n_cached_pages (SluiceBrowseModel *self);

void               sluice_browse_model_set_live         (SluiceBrowseModel   *self,
                                                         gboolean             live);
void               sluice_browse_model_check_new        (SluiceBrowseModel   *self);
guint64            sluice_browse_model_get_n_new        (SluiceBrowseModel   *self);
void               sluice_browse_model_show_new         (SluiceBrowseModel   *self);
/* The rows on screen; with set_live their loaded pages are read again once a second and rows
 * whose values changed (an object's state during an ingest) update in place. */
void               sluice_browse_model_set_visible_range (SluiceBrowseModel  *self,
                                                          guint               first,
                                                          guint               n);
void               sluice_browse_model_refresh_visible  (SluiceBrowseModel   *self);

/* Thumbnails: the embedded EXIF thumbnail, decoded on a worker into a bounded cache; for a
 * file without one, its picture (or a raw file's JPEG preview) decoded by the sandboxed
 * helper at 64 px when its row is on screen. The texture, or NULL and a fetch that sets
 * @row's "thumbnail" when it arrives (not at all when there is none to show). */
GdkPaintable      *sluice_browse_model_get_thumbnail    (SluiceBrowseModel   *self,
                                                         SluiceBrowseRow     *row);
void               sluice_browse_model_forget_thumbnail (SluiceBrowseModel   *self,
                                                         SluiceBrowseRow     *row);
/* The app's thumbnail decoders: SLUICE_THUMBNAIL_DEFAULT_EDGE for the detail pane, 64 for
 * the list. */
SluiceThumbnailer *sluice_browse_thumbnailer            (guint                edge);

void               sluice_browse_model_detail_async     (SluiceBrowseModel   *self,
                                                         gint64               file_id,
                                                         gint64               object_id,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
SluiceQueryDetail *sluice_browse_model_detail_finish    (SluiceBrowseModel   *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

/* The values of the filter menus. */
typedef struct {
  GPtrArray *cameras;   /* char * */
  GPtrArray *lenses;    /* char * */
  GPtrArray *runs;      /* SluiceCatalogRun */
} SluiceBrowseFilterValues;

void               sluice_browse_filter_values_free     (SluiceBrowseFilterValues *values);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceBrowseFilterValues, sluice_browse_filter_values_free)

void               sluice_browse_model_filter_values_async  (SluiceBrowseModel   *self,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
SluiceBrowseFilterValues *sluice_browse_model_filter_values_finish (SluiceBrowseModel *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

/* The current query's rows as a manifest into @file, on a worker. *@progress_rows follows the
 * rows written (atomically; read it from a timer). */
void               sluice_browse_model_export_async     (SluiceBrowseModel   *self,
                                                         GFile               *file,
                                                         SluiceExportFormat   format,
                                                         gint                *progress_rows,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean           sluice_browse_model_export_finish    (SluiceBrowseModel   *self,
                                                         GAsyncResult        *result,
                                                         guint64             *out_rows,
                                                         GError             **error);

G_END_DECLS
