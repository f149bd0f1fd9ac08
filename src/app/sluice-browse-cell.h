/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/*
 * A text cell of the browser's column view: one line, ellipsized, laid out only when drawn.
 * GTK 4.8's list view keeps ~200 rows bound around what is shown and rebinds them all after a
 * jump; with a GtkLabel per cell every rebind measured and laid out 2,000 labels. This cell's
 * height is the font's line height and its width the column's, so binding only stores a
 * string, and Pango runs for the ~30 rows actually drawn. Main thread only.
 */

#define SLUICE_TYPE_BROWSE_CELL (sluice_browse_cell_get_type ())

G_DECLARE_FINAL_TYPE (SluiceBrowseCell, sluice_browse_cell, SLUICE, BROWSE_CELL, GtkWidget)

GtkWidget  *sluice_browse_cell_new      (float               xalign,
                                         PangoEllipsizeMode  ellipsize);
void        sluice_browse_cell_set_text (SluiceBrowseCell   *self,
                                         const char         *text);
const char *sluice_browse_cell_get_text (SluiceBrowseCell   *self);
void        sluice_browse_cell_set_full_tooltip (SluiceBrowseCell *self,
                                                 gboolean          full_tooltip);
const char *sluice_browse_cell_get_tooltip_text (SluiceBrowseCell *self);

G_END_DECLS
