/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "sluice-browse-detail.h"
#include "sluice-browse-model.h"

G_BEGIN_DECLS

/*
 * The metadata browser page: search, filters, the result count, the column view over a
 * SluiceBrowseModel, the detail pane, new rows while an ingest runs, manifest export.
 * Main thread only.
 */

#define SLUICE_TYPE_BROWSE_VIEW (sluice_browse_view_get_type ())

G_DECLARE_FINAL_TYPE (SluiceBrowseView, sluice_browse_view, SLUICE, BROWSE_VIEW, AdwBin)

/* The catalog to browse; NULL: the default one. Runs the query. */
void               sluice_browse_view_set_catalog_path (SluiceBrowseView *self,
                                                        const char       *path);
/* Only the rows a run wrote (0: every run). */
void               sluice_browse_view_show_run         (SluiceBrowseView *self,
                                                        gint64            run_id);
/* Reads the catalog again (after a run, when the page is shown). */
void               sluice_browse_view_refresh          (SluiceBrowseView *self);

/* For tests. */
SluiceBrowseModel  *_sluice_browse_view_get_model       (SluiceBrowseView *self);
GtkColumnView      *_sluice_browse_view_get_column_view (SluiceBrowseView *self);
SluiceBrowseDetail *_sluice_browse_view_get_detail      (SluiceBrowseView *self);
GtkPaned           *_sluice_browse_view_get_paned       (SluiceBrowseView *self);
GtkEditable        *_sluice_browse_view_get_search      (SluiceBrowseView *self);
const char         *_sluice_browse_view_get_count_text  (SluiceBrowseView *self);
const char         *_sluice_browse_view_get_new_text    (SluiceBrowseView *self);
void                _sluice_browse_view_set_filters     (SluiceBrowseView *self,
                                                         const char       *camera,
                                                         const char       *since,
                                                         const char       *until,
                                                         SluiceQueryGps    gps,
                                                         guint             states);
void                _sluice_browse_view_select          (SluiceBrowseView *self,
                                                         guint             position);
void                _sluice_browse_view_set_details_shown (SluiceBrowseView *self,
                                                           gboolean          shown);

G_END_DECLS
