/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sluice-engine.h"

G_BEGIN_DECLS

/*
 * One row of the metadata browser, as SluiceBrowseModel hands it out. It starts empty (a
 * placeholder, "loaded" FALSE) and is filled in place when its page arrives, so the column
 * view and the selection keep the same object. Main thread only.
 */

#define SLUICE_TYPE_BROWSE_ROW (sluice_browse_row_get_type ())

G_DECLARE_FINAL_TYPE (SluiceBrowseRow, sluice_browse_row, SLUICE, BROWSE_ROW, GObject)

SluiceBrowseRow      *sluice_browse_row_new            (guint             position);
guint                 sluice_browse_row_get_position   (SluiceBrowseRow  *self);
gboolean              sluice_browse_row_get_loaded     (SluiceBrowseRow  *self);
/* NULL while not loaded. */
const SluiceQueryRow *sluice_browse_row_get_data       (SluiceBrowseRow  *self);
void                  sluice_browse_row_set_data       (SluiceBrowseRow  *self,
                                                        SluiceQueryRow   *data);
GdkPaintable         *sluice_browse_row_get_thumbnail  (SluiceBrowseRow  *self);
void                  sluice_browse_row_set_thumbnail  (SluiceBrowseRow  *self,
                                                        GdkPaintable     *thumbnail);

/* Text of a column, for the cells and the detail pane; NULL when empty. */
char                 *sluice_browse_format_exposure    (gint64            num,
                                                        gint64            den);
char                 *sluice_browse_format_date        (const char       *exif_datetime);
const char           *sluice_browse_state_name         (SluiceObjectState state);

G_END_DECLS
