/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include "sluice-browse-sorter.h"

struct _SluiceBrowseSorter
{
  GtkSorter        parent_instance;
  SluiceQuerySort  sort;
};

G_DEFINE_FINAL_TYPE (SluiceBrowseSorter, sluice_browse_sorter, GTK_TYPE_SORTER)

/* The markers handed to the column view's sorter, and what its primary column said. Main
 * thread only (GTK is). */
static GObject *marker_a, *marker_b;
static int probed_sort = -1;

static GtkOrdering
sluice_browse_sorter_compare (GtkSorter *sorter,
                              gpointer   item1,
                              gpointer   item2)
{
  SluiceBrowseSorter *self = SLUICE_BROWSE_SORTER (sorter);

  if (item1 != marker_a || item2 != marker_b || marker_a == NULL)
    return GTK_ORDERING_EQUAL;
  if (probed_sort < 0)
    probed_sort = self->sort;
  return GTK_ORDERING_SMALLER;
}

static GtkSorterOrder
sluice_browse_sorter_get_order (GtkSorter *sorter)
{
  /* rows are ordered by the query, not here */
  return GTK_SORTER_ORDER_NONE;
}

static void
sluice_browse_sorter_class_init (SluiceBrowseSorterClass *klass)
{
  GtkSorterClass *sorter_class = GTK_SORTER_CLASS (klass);

  sorter_class->compare = sluice_browse_sorter_compare;
  sorter_class->get_order = sluice_browse_sorter_get_order;
}

static void
sluice_browse_sorter_init (SluiceBrowseSorter *self)
{
}

GtkSorter *
sluice_browse_sorter_new (SluiceQuerySort sort)
{
  SluiceBrowseSorter *self = g_object_new (SLUICE_TYPE_BROWSE_SORTER, NULL);

  self->sort = sort;
  return GTK_SORTER (self);
}

SluiceQuerySort
sluice_browse_sorter_get_sort (SluiceBrowseSorter *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_SORTER (self), SLUICE_QUERY_SORT_INGEST);
  return self->sort;
}

gboolean
sluice_browse_sorter_read (GtkSorter       *column_view_sorter,
                           SluiceQuerySort *out_sort,
                           gboolean        *out_descending)
{
  GtkOrdering order;

  g_return_val_if_fail (GTK_IS_SORTER (column_view_sorter), FALSE);
  if (marker_a == NULL)
    {
      marker_a = g_object_new (G_TYPE_OBJECT, NULL);
      marker_b = g_object_new (G_TYPE_OBJECT, NULL);
    }
  probed_sort = -1;
  order = gtk_sorter_compare (column_view_sorter, marker_a, marker_b);
  *out_sort = probed_sort >= 0 ? (SluiceQuerySort) probed_sort : SLUICE_QUERY_SORT_INGEST;
  *out_descending = probed_sort >= 0 && order == GTK_ORDERING_LARGER;
  return probed_sort >= 0;
}
