/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sluice-engine.h"

G_BEGIN_DECLS

/*
 * How a click on a column header becomes a query. GTK 4.8 cannot tell which column the
 * column view sorts by (gtk_column_view_sorter_get_primary_sort_column () is 4.10), and a
 * GtkSortListModel would pull every row. So each sortable column gets a SluiceBrowseSorter
 * carrying its SluiceQuerySort; the column view's own sorter emits "changed" on a header
 * click, and sluice_browse_sorter_read () asks it to compare two marker objects: the column
 * view's sorter consults its primary column's sorter first, which records its sort id and
 * answers "smaller"; the column view inverts that when the column is descending. Nothing is
 * ever sorted in memory: real rows all compare equal.
 */

#define SLUICE_TYPE_BROWSE_SORTER (sluice_browse_sorter_get_type ())

G_DECLARE_FINAL_TYPE (SluiceBrowseSorter, sluice_browse_sorter, SLUICE, BROWSE_SORTER, GtkSorter)

GtkSorter       *sluice_browse_sorter_new      (SluiceQuerySort  sort);
SluiceQuerySort  sluice_browse_sorter_get_sort (SluiceBrowseSorter *self);

/* The sort of @column_view_sorter (gtk_column_view_get_sorter ()): FALSE when no column is
 * sorted (ingest order, then). Main thread only. */
gboolean         sluice_browse_sorter_read     (GtkSorter        *column_view_sorter,
                                                SluiceQuerySort  *out_sort,
                                                gboolean         *out_descending);

G_END_DECLS
