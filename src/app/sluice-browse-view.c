/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "sluice-application.h"
#include "sluice-browse-cell.h"
#include "sluice-browse-sorter.h"
#include "sluice-browse-view.h"

/* Main thread only. The widgets describe a SluiceQuery; the model runs it on workers. */

typedef enum {
  COLUMN_THUMBNAIL,
  COLUMN_NAME,
  COLUMN_DATE,
  COLUMN_CAMERA,
  COLUMN_LENS,
  COLUMN_EXPOSURE,
  COLUMN_ISO,
  COLUMN_FOCAL_LENGTH,
  COLUMN_SIZE,
  COLUMN_STATE,
  COLUMN_KEY,
  N_COLUMNS
} Column;

typedef struct {
  const char      *title;       /* N_() */
  int              sort;        /* SluiceQuerySort, -1: not sortable */
  int              width;       /* fixed width, -1: natural */
  gboolean         expand;
  gboolean         numeric;
} ColumnInfo;

/* Numbers and dates have fixed widths that fit their longest usual value, and the German and
 * French titles and state names (GTK 4.8 does not ellipsize a column title); name and key take
 * what is left. All eleven fit a 1280 px window with the detail pane hidden; with it shown
 * the key (also in the pane) scrolls. */
static const ColumnInfo columns[N_COLUMNS] = {
  [COLUMN_THUMBNAIL]    = { NULL, -1, 44, FALSE, FALSE },
  [COLUMN_NAME]         = { N_("Name"), SLUICE_QUERY_SORT_NAME, 180, TRUE, FALSE },
  [COLUMN_DATE]         = { N_("Taken"), SLUICE_QUERY_SORT_DATE_TAKEN, 134, FALSE, TRUE },
  [COLUMN_CAMERA]       = { N_("Camera"), SLUICE_QUERY_SORT_CAMERA, 128, FALSE, FALSE },
  [COLUMN_LENS]         = { N_("Lens"), SLUICE_QUERY_SORT_LENS, 128, FALSE, FALSE },
  [COLUMN_EXPOSURE]     = { N_("Exposure"), SLUICE_QUERY_SORT_EXPOSURE, 108, FALSE, TRUE },
  [COLUMN_ISO]          = { N_("ISO"), SLUICE_QUERY_SORT_ISO, 58, FALSE, TRUE },
  [COLUMN_FOCAL_LENGTH] = { N_("Focal"), SLUICE_QUERY_SORT_FOCAL_LENGTH, 86, FALSE, TRUE },
  [COLUMN_SIZE]         = { N_("Size"), SLUICE_QUERY_SORT_SIZE, 80, FALSE, TRUE },
  [COLUMN_STATE]        = { N_("State"), SLUICE_QUERY_SORT_STATE, 120, FALSE, FALSE },
  [COLUMN_KEY]          = { N_("S3 Key"), SLUICE_QUERY_SORT_KEY, 180, TRUE, FALSE },
};

struct _SluiceBrowseView
{
  AdwBin               parent_instance;

  SluiceBrowseModel   *model;
  GtkSingleSelection  *selection;
  char                *catalog_path;
  gboolean             applying;

  /* filters not read from widgets: their menus fill in later */
  char                *camera;
  char                *lens;
  gint64               run_id;
  GPtrArray           *camera_values;   /* char *, the menus' items after "any" */
  GPtrArray           *lens_values;
  GArray              *run_values;      /* gint64 */
  GCancellable        *cancellable;

  /* export */
  GCancellable        *export_cancellable;
  gint                 export_rows;     /* atomic */
  guint64              export_total;
  guint                export_timer;
  char                *export_name;
  GSettings           *settings;
  int                  details_width;   /* what to restore, then what the user dragged it to */
  gboolean             details_restored;

  /* Template children */
  GtkSearchEntry      *search_entry;
  GtkMenuButton       *filter_button;
  GtkEntry            *since_entry;
  GtkEntry            *until_entry;
  GtkDropDown         *camera_drop;
  GtkDropDown         *lens_drop;
  GtkDropDown         *gps_drop;
  GtkCheckButton      *uploaded_check;
  GtkCheckButton      *skipped_check;
  GtkCheckButton      *failed_check;
  GtkDropDown         *run_drop;
  GtkLabel            *count_label;
  GtkMenuButton       *export_button;
  GtkToggleButton     *details_button;
  GtkRevealer         *new_revealer;
  GtkLabel            *new_label;
  GtkRevealer         *export_revealer;
  GtkLabel            *export_label;
  GtkProgressBar      *export_bar;
  GtkPaned            *paned;
  GtkStack            *list_stack;
  GtkScrolledWindow   *scrolled;
  GtkColumnView       *column_view;
  AdwStatusPage       *empty_page;
  SluiceBrowseDetail  *detail;
};

G_DEFINE_FINAL_TYPE (SluiceBrowseView, sluice_browse_view, ADW_TYPE_BIN)

static void
toast (SluiceBrowseView *self,
       const char       *text)
{
  sluice_widget_toast (GTK_WIDGET (self), text);
}

static char *
format_count (guint64 n)
{
  /* the locale's thousands separator: "5,000", "5.000", "5 000" */
  return g_strdup_printf ("%'" G_GUINT64_FORMAT, n);
}

/* ---- cells ---------------------------------------------------------------------------------- */

static char *
cell_text (Column                column,
           const SluiceQueryRow *row)
{
  switch (column)
    {
    case COLUMN_NAME:
      return g_strdup (row->relpath);
    case COLUMN_DATE:
      return sluice_browse_format_date (row->datetime_original);
    case COLUMN_CAMERA:
      return g_strdup (row->camera);
    case COLUMN_LENS:
      return g_strdup (row->lens);
    case COLUMN_EXPOSURE:
      {
        g_autofree char *time = sluice_browse_format_exposure (row->exposure_num,
                                                               row->exposure_den);
        if (!isnan (row->f_number) && row->f_number > 0)
          return time != NULL ? g_strdup_printf ("%s · f/%.1f", time, row->f_number)
                              : g_strdup_printf ("f/%.1f", row->f_number);
        return g_steal_pointer (&time);
      }
    case COLUMN_ISO:
      return row->iso > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, row->iso) : NULL;
    case COLUMN_FOCAL_LENGTH:
      return !isnan (row->focal_length) && row->focal_length > 0
             ? g_strdup_printf (_("%.0f mm"), row->focal_length) : NULL;
    case COLUMN_SIZE:
      return g_format_size (row->size);
    case COLUMN_STATE:
      return g_strdup (sluice_browse_state_name (row->state));
    case COLUMN_KEY:
      return g_strdup (row->key);
    case COLUMN_THUMBNAIL:
    case N_COLUMNS:
    default:
      return NULL;
    }
}

static Column
item_column (GtkListItem *item)
{
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (item), "sluice-column"));
}

static void
update_cell (GtkListItem *item)
{
  SluiceBrowseRow *row = gtk_list_item_get_item (item);
  GtkWidget *child = gtk_list_item_get_child (item);
  const SluiceQueryRow *data = row != NULL ? sluice_browse_row_get_data (row) : NULL;
  Column column = item_column (item);

  if (column == COLUMN_THUMBNAIL)
    {
      GdkPaintable *paintable = NULL;
      SluiceBrowseView *view = g_object_get_data (G_OBJECT (item), "sluice-view");

      /* embedded, or decoded from the file when the row is on screen */
      if (data != NULL)
        {
          paintable = sluice_browse_row_get_thumbnail (row);
          if (paintable == NULL && view->model != NULL)
            paintable = sluice_browse_model_get_thumbnail (view->model, row);
        }
      gtk_picture_set_paintable (GTK_PICTURE (child), paintable);
      return;
    }
  if (data == NULL)
    {
      sluice_browse_cell_set_text (SLUICE_BROWSE_CELL (child), NULL);
      return;
    }
  {
    g_autofree char *text = cell_text (column, data);

    sluice_browse_cell_set_text (SLUICE_BROWSE_CELL (child), text);
    if (column == COLUMN_STATE)
      {
        if (data->state == SLUICE_OBJECT_FAILED)
          gtk_widget_add_css_class (child, "error");
        else
          gtk_widget_remove_css_class (child, "error");
      }
  }
}

static void
setup_cell (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  user_data)
{
  Column column = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (factory), "sluice-column"));
  GtkWidget *child;

  g_object_set_data (G_OBJECT (item), "sluice-column", GINT_TO_POINTER (column));
  g_object_set_data (G_OBJECT (item), "sluice-view", user_data);
  if (column == COLUMN_THUMBNAIL)
    {
      child = gtk_picture_new ();
      gtk_picture_set_can_shrink (GTK_PICTURE (child), TRUE);
      gtk_picture_set_content_fit (GTK_PICTURE (child), GTK_CONTENT_FIT_COVER);
      gtk_widget_set_size_request (child, 32, 24);
      gtk_widget_add_css_class (child, "browse-cell-thumbnail");
    }
  else
    {
      child = sluice_browse_cell_new (columns[column].numeric ? 1 : 0,
                                      column == COLUMN_NAME || column == COLUMN_KEY
                                      ? PANGO_ELLIPSIZE_START : PANGO_ELLIPSIZE_END);
      if (columns[column].numeric)
        gtk_widget_add_css_class (child, "numeric");
      /* long values are ellipsized: the whole text on hover, asked for only then */
      if (column == COLUMN_NAME || column == COLUMN_KEY || column == COLUMN_LENS ||
          column == COLUMN_CAMERA)
        sluice_browse_cell_set_full_tooltip (SLUICE_BROWSE_CELL (child), TRUE);
    }
  gtk_list_item_set_child (item, child);
}

static void
bind_cell (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  SluiceBrowseRow *row = gtk_list_item_get_item (item);
  gulong id;

  id = g_signal_connect_swapped (row, item_column (item) == COLUMN_THUMBNAIL
                                      ? "notify::thumbnail" : "notify::loaded",
                                 G_CALLBACK (update_cell), item);
  g_object_set_data (G_OBJECT (item), "sluice-handler", GSIZE_TO_POINTER (id));
  if (item_column (item) == COLUMN_THUMBNAIL)
    {
      id = g_signal_connect_swapped (row, "notify::loaded", G_CALLBACK (update_cell), item);
      g_object_set_data (G_OBJECT (item), "sluice-handler-2", GSIZE_TO_POINTER (id));
    }
  update_cell (item);
}

static void
unbind_cell (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             gpointer                  user_data)
{
  SluiceBrowseRow *row = gtk_list_item_get_item (item);
  gulong id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (item), "sluice-handler"));
  gulong id2 = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (item), "sluice-handler-2"));

  g_clear_signal_handler (&id, row);
  g_clear_signal_handler (&id2, row);
  g_object_set_data (G_OBJECT (item), "sluice-handler", NULL);
  g_object_set_data (G_OBJECT (item), "sluice-handler-2", NULL);
  if (item_column (item) == COLUMN_THUMBNAIL)
    {
      /* the cache keeps the texture; a row scrolled away must not keep it too */
      SluiceBrowseView *view = g_object_get_data (G_OBJECT (item), "sluice-view");

      gtk_picture_set_paintable (GTK_PICTURE (gtk_list_item_get_child (item)), NULL);
      sluice_browse_row_set_thumbnail (row, NULL);
      if (view->model != NULL)
        sluice_browse_model_forget_thumbnail (view->model, row);
    }
}

static void
add_columns (SluiceBrowseView *self)
{
  for (Column c = 0; c < N_COLUMNS; c++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      g_autoptr(GtkColumnViewColumn) column = NULL;

      g_object_set_data (G_OBJECT (factory), "sluice-column", GINT_TO_POINTER (c));
      g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), self);
      g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), self);
      g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cell), self);
      column = gtk_column_view_column_new (columns[c].title != NULL ? _(columns[c].title) : NULL,
                                           factory);
      if (columns[c].sort >= 0)
        {
          g_autoptr(GtkSorter) sorter = sluice_browse_sorter_new (columns[c].sort);
          gtk_column_view_column_set_sorter (column, sorter);
        }
      if (columns[c].width > 0)
        gtk_column_view_column_set_fixed_width (column, columns[c].width);
      gtk_column_view_column_set_expand (column, columns[c].expand);
      gtk_column_view_column_set_resizable (column, c != COLUMN_THUMBNAIL);
      gtk_column_view_append_column (self->column_view, column);
    }
}

/* ---- the query ---------------------------------------------------------------------------- */

static guint
selected_states (SluiceBrowseView *self)
{
  guint states = 0;

  if (gtk_check_button_get_active (self->uploaded_check))
    states |= SLUICE_QUERY_STATE (SLUICE_OBJECT_UPLOADED);
  if (gtk_check_button_get_active (self->skipped_check))
    states |= SLUICE_QUERY_STATE (SLUICE_OBJECT_SKIPPED);
  if (gtk_check_button_get_active (self->failed_check))
    states |= SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED);
  return states;
}

static const char *
entry_text (GtkEntry *entry)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  return text != NULL && *text != '\0' ? text : NULL;
}

static SluiceQuery *
build_query (SluiceBrowseView *self)
{
  SluiceQuery *query = sluice_query_new ();
  SluiceQuerySort sort;
  gboolean descending;
  g_autoptr(GError) error = NULL;
  const char *since = entry_text (self->since_entry);
  const char *until = entry_text (self->until_entry);

  sluice_browse_sorter_read (gtk_column_view_get_sorter (self->column_view), &sort, &descending);
  sluice_query_set_sort (query, sort, descending);
  sluice_query_set_search (query, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  sluice_query_set_camera (query, self->camera);
  sluice_query_set_lens (query, self->lens);
  sluice_query_set_gps (query, gtk_drop_down_get_selected (self->gps_drop) == 1
                               ? SLUICE_QUERY_GPS_WITH
                               : gtk_drop_down_get_selected (self->gps_drop) == 2
                               ? SLUICE_QUERY_GPS_WITHOUT : SLUICE_QUERY_GPS_ANY);
  sluice_query_set_states (query, selected_states (self));
  sluice_query_set_run (query, self->run_id);

  /* a date being typed is not an error yet: it just does not filter until it is one */
  if (!sluice_query_set_date_range (query, since, until, &error))
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->since_entry), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->until_entry), "error");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->since_entry), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->until_entry), "error");
    }
  return query;
}

static gboolean
has_filters (SluiceBrowseView *self)
{
  return self->camera != NULL || self->lens != NULL || self->run_id != 0 ||
         selected_states (self) != 0 || gtk_drop_down_get_selected (self->gps_drop) != 0 ||
         entry_text (self->since_entry) != NULL || entry_text (self->until_entry) != NULL;
}

static void
apply_query (SluiceBrowseView *self)
{
  g_autoptr(SluiceQuery) query = NULL;

  if (self->model == NULL || self->applying)
    return;
  query = build_query (self);
  if (has_filters (self))
    gtk_widget_add_css_class (GTK_WIDGET (self->filter_button), "accent");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->filter_button), "accent");
  sluice_browse_model_set_query (self->model, query);
}

static void
update_count (SluiceBrowseView *self)
{
  guint64 count = sluice_browse_model_get_count (self->model);
  gboolean loading = sluice_browse_model_get_loading (self->model);
  const char *error = sluice_browse_model_get_error (self->model);
  g_autofree char *number = format_count (count);
  g_autofree char *text = NULL;

  if (error != NULL)
    text = g_strdup (_("No rows"));
  else
    /* TRANSLATORS: the number of rows the search and filters match */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s file", "%s files",
                                         (gulong) count),
                            number);
  gtk_label_set_text (self->count_label, text);

  if (error != NULL)
    {
      adw_status_page_set_icon_name (self->empty_page, "dialog-error-symbolic");
      adw_status_page_set_title (self->empty_page, _("The Catalog Could Not Be Read"));
      adw_status_page_set_description (self->empty_page, error);
      gtk_stack_set_visible_child_name (self->list_stack, "empty");
    }
  else if (count == 0 && !loading)
    {
      gboolean searching = has_filters (self) ||
        *gtk_editable_get_text (GTK_EDITABLE (self->search_entry)) != '\0';

      adw_status_page_set_icon_name (self->empty_page, "system-search-symbolic");
      adw_status_page_set_title (self->empty_page, searching ? _("No Files Match")
                                                             : _("Nothing Cataloged Yet"));
      adw_status_page_set_description (self->empty_page,
                                       searching ? _("Change the search or the filters")
                                                 : _("Files appear here as they are uploaded"));
      gtk_stack_set_visible_child_name (self->list_stack, "empty");
    }
  else if (count > 0)
    gtk_stack_set_visible_child_name (self->list_stack, "list");
}

static void
update_new (SluiceBrowseView *self)
{
  guint64 n = sluice_browse_model_get_n_new (self->model);
  g_autofree char *number = format_count (n);
  g_autofree char *text = NULL;

  if (n > 0)
    {
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s new file was cataloged",
                                           "%s new files were cataloged",
                                           (gulong) n),
                              number);
      gtk_label_set_text (self->new_label, text);
    }
  gtk_revealer_set_reveal_child (self->new_revealer, n > 0);
}

static void
selection_changed_cb (SluiceBrowseView *self)
{
  SluiceBrowseRow *row = gtk_single_selection_get_selected_item (self->selection);

  sluice_browse_detail_set_row (self->detail, row);
}

/* ---- filter menus --------------------------------------------------------------------------- */

static void
fill_drop (GtkDropDown *drop,
           const char  *any,
           GPtrArray   *values,
           const char  *current)
{
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);
  guint selected = 0;

  gtk_string_list_append (list, any);
  for (guint i = 0; i < values->len; i++)
    {
      gtk_string_list_append (list, g_ptr_array_index (values, i));
      if (g_strcmp0 (current, g_ptr_array_index (values, i)) == 0)
        selected = i + 1;
    }
  gtk_drop_down_set_model (drop, G_LIST_MODEL (list));
  gtk_drop_down_set_selected (drop, selected);
}

static char *
run_title (const SluiceCatalogRun *run)
{
  g_autofree char *when = NULL;
  g_autofree char *folder = g_path_get_basename (run->source);
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (run->started_at);
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, run->id);

  when = dt != NULL ? g_date_time_format (dt, "%Y-%m-%d %H:%M") : g_strdup ("");
  /* TRANSLATORS: a run in the filter menu: "Run 12 · 2024-05-01 14:02 · Photos" */
  return g_strdup_printf (_("Run %s · %s · %s"), id, when, folder);
}

static void
filter_values_cb (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  SluiceBrowseView *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBrowseFilterValues) values = NULL;
  g_autoptr(GPtrArray) run_titles = g_ptr_array_new_with_free_func (g_free);
  guint run_selected = 0;

  values = sluice_browse_model_filter_values_finish (SLUICE_BROWSE_MODEL (source_object),
                                                     result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (values == NULL)
    {
      g_debug ("Filter values: %s", error->message);
      return;
    }
  self->applying = TRUE;
  g_clear_pointer (&self->camera_values, g_ptr_array_unref);
  g_clear_pointer (&self->lens_values, g_ptr_array_unref);
  self->camera_values = g_ptr_array_ref (values->cameras);
  self->lens_values = g_ptr_array_ref (values->lenses);
  fill_drop (self->camera_drop, _("Any camera"), values->cameras, self->camera);
  fill_drop (self->lens_drop, _("Any lens"), values->lenses, self->lens);

  g_array_set_size (self->run_values, 0);
  for (guint i = 0; i < values->runs->len; i++)
    {
      const SluiceCatalogRun *run = g_ptr_array_index (values->runs, i);

      g_array_append_val (self->run_values, run->id);
      g_ptr_array_add (run_titles, run_title (run));
      if (run->id == self->run_id)
        run_selected = i + 1;
    }
  fill_drop (self->run_drop, _("Any run"), run_titles, NULL);
  gtk_drop_down_set_selected (self->run_drop, run_selected);
  self->applying = FALSE;
}

static void
load_filter_values (SluiceBrowseView *self)
{
  if (self->model == NULL)
    return;
  sluice_browse_model_filter_values_async (self->model, self->cancellable, filter_values_cb,
                                           self);
}

static void
drop_changed_cb (SluiceBrowseView *self)
{
  guint camera, lens, run;

  if (self->applying)
    return;
  camera = gtk_drop_down_get_selected (self->camera_drop);
  lens = gtk_drop_down_get_selected (self->lens_drop);
  run = gtk_drop_down_get_selected (self->run_drop);
  g_clear_pointer (&self->camera, g_free);
  g_clear_pointer (&self->lens, g_free);
  if (self->camera_values != NULL && camera > 0 && camera <= self->camera_values->len)
    self->camera = g_strdup (g_ptr_array_index (self->camera_values, camera - 1));
  if (self->lens_values != NULL && lens > 0 && lens <= self->lens_values->len)
    self->lens = g_strdup (g_ptr_array_index (self->lens_values, lens - 1));
  self->run_id = run > 0 && run <= self->run_values->len
                 ? g_array_index (self->run_values, gint64, run - 1) : 0;
  apply_query (self);
}

static void
clear_filters_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  SluiceBrowseView *self = SLUICE_BROWSE_VIEW (widget);

  self->applying = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->since_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->until_entry), "");
  gtk_drop_down_set_selected (self->camera_drop, 0);
  gtk_drop_down_set_selected (self->lens_drop, 0);
  gtk_drop_down_set_selected (self->gps_drop, 0);
  gtk_drop_down_set_selected (self->run_drop, 0);
  gtk_check_button_set_active (self->uploaded_check, FALSE);
  gtk_check_button_set_active (self->skipped_check, FALSE);
  gtk_check_button_set_active (self->failed_check, FALSE);
  g_clear_pointer (&self->camera, g_free);
  g_clear_pointer (&self->lens, g_free);
  self->run_id = 0;
  self->applying = FALSE;
  apply_query (self);
}

/* ---- live --------------------------------------------------------------------------------- */

static void
show_new_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  SluiceBrowseView *self = SLUICE_BROWSE_VIEW (widget);

  if (self->model != NULL)
    sluice_browse_model_show_new (self->model);
}

/* The rows on screen, for the live refresh. Every row has the same height (the cells are one
 * line), so the adjustment maps linearly onto positions. */
static void
update_visible_range (SluiceBrowseView *self)
{
  GtkAdjustment *vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->column_view));
  double upper, value, page;
  guint n, first, shown;

  if (self->model == NULL || vadj == NULL)
    return;
  n = g_list_model_get_n_items (G_LIST_MODEL (self->model));
  upper = gtk_adjustment_get_upper (vadj);
  value = gtk_adjustment_get_value (vadj);
  page = gtk_adjustment_get_page_size (vadj);
  if (n == 0 || upper <= 0)
    {
      sluice_browse_model_set_visible_range (self->model, 0, 0);
      return;
    }
  first = (guint) MIN ((double) n - 1, floor (value / upper * n));
  shown = (guint) ceil (page / upper * n) + 1;
  sluice_browse_model_set_visible_range (self->model, first, shown);
}

static void
map_cb (SluiceBrowseView *self)
{
  if (self->model == NULL)
    sluice_browse_view_set_catalog_path (self, NULL);
  sluice_browse_model_set_live (self->model, TRUE);
}

static void
unmap_cb (SluiceBrowseView *self)
{
  if (self->model != NULL)
    sluice_browse_model_set_live (self->model, FALSE);
  /* once, not on every step of a drag */
  if (self->details_restored &&
      g_settings_get_int (self->settings, "browse-details-width") != self->details_width)
    g_settings_set_int (self->settings, "browse-details-width", self->details_width);
}

/* ---- details pane ------------------------------------------------------------------------- */

/* Its width is kept from the end: the list takes what the window gains or loses (the paned's
 * resize-start-child), so the pane's own width is what the user chose. It is restored at the
 * first allocation, when the paned knows its width (max-position is set then), recorded from
 * every position the handle is given, and saved when the view is unmapped (unmap_cb ()). */

static void
paned_max_position_cb (SluiceBrowseView *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self->paned));

  if (self->details_restored || width <= 0)
    return;
  self->details_restored = TRUE;
  if (self->details_width > 0)
    gtk_paned_set_position (self->paned, MAX (0, width - self->details_width));
}

static void
paned_position_cb (SluiceBrowseView *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self->paned));
  gboolean set = FALSE;

  /* a hidden pane has no width to keep; nor has a paned not yet laid out */
  g_object_get (self->paned, "position-set", &set, NULL);
  if (!self->details_restored || width <= 0 || !set ||
      !gtk_widget_get_visible (GTK_WIDGET (self->detail)))
    return;
  self->details_width = MAX (0, width - gtk_paned_get_position (self->paned));
}

/* ---- export ------------------------------------------------------------------------------- */

static gboolean
export_progress_cb (gpointer user_data)
{
  SluiceBrowseView *self = user_data;
  guint64 rows = (guint64) g_atomic_int_get (&self->export_rows);

  if (self->export_total > 0)
    gtk_progress_bar_set_fraction (self->export_bar,
                                   CLAMP ((double) rows / self->export_total, 0, 1));
  else
    gtk_progress_bar_pulse (self->export_bar);
  return G_SOURCE_CONTINUE;
}

static void
export_done_cb (GObject      *source_object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(SluiceBrowseView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *number = NULL;
  guint64 rows = 0;

  g_clear_handle_id (&self->export_timer, g_source_remove);
  g_clear_object (&self->export_cancellable);
  gtk_revealer_set_reveal_child (self->export_revealer, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "browse.export", TRUE);
  if (!sluice_browse_model_export_finish (SLUICE_BROWSE_MODEL (source_object), result, &rows,
                                          &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        text = g_strdup (_("Export stopped; no file was written"));
      else
        text = g_strdup_printf (_("The manifest could not be written: %s"), error->message);
      toast (self, text);
      return;
    }
  number = format_count (rows);
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s row exported to “%s”",
                                       "%s rows exported to “%s”",
                                       (gulong) rows),
                          number, self->export_name);
  toast (self, text);
}

static void
start_export (SluiceBrowseView   *self,
              GFile              *file,
              SluiceExportFormat  format)
{
  g_autofree char *text = NULL;

  g_clear_pointer (&self->export_name, g_free);
  self->export_name = g_file_get_basename (file);
  self->export_total = sluice_browse_model_get_count (self->model);
  g_atomic_int_set (&self->export_rows, 0);
  self->export_cancellable = g_cancellable_new ();
  /* TRANSLATORS: %s is a file name */
  text = g_strdup_printf (_("Exporting “%s”…"), self->export_name);
  gtk_label_set_text (self->export_label, text);
  gtk_progress_bar_set_fraction (self->export_bar, 0);
  gtk_revealer_set_reveal_child (self->export_revealer, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "browse.export", FALSE);
  self->export_timer = g_timeout_add (100, export_progress_cb, self);
  sluice_browse_model_export_async (self->model, file, format, &self->export_rows,
                                    self->export_cancellable, export_done_cb,
                                    g_object_ref (self));
}

static void
export_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    gpointer         user_data)
{
  SluiceBrowseView *self = user_data;
  SluiceExportFormat format = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog),
                                                                  "sluice-format"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        start_export (self, file, format);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SluiceBrowseView *self = SLUICE_BROWSE_VIEW (widget);
  const char *name = g_variant_get_string (parameter, NULL);
  SluiceExportFormat format = SLUICE_EXPORT_CSV;
  GtkFileChooserNative *dialog;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->model == NULL || self->export_cancellable != NULL)
    return;
  sluice_export_format_from_string (name, &format);
  /* GtkFileDialog is 4.10; the native chooser uses the portal in a Flatpak */
  dialog = gtk_file_chooser_native_new (_("Export Manifest"),
                                        GTK_WINDOW (gtk_widget_get_root (widget)),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  if (format == SLUICE_EXPORT_CSV)
    {
      gtk_file_filter_set_name (filter, _("CSV files"));
      gtk_file_filter_add_pattern (filter, "*.csv");
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "manifest.csv");
    }
  else
    {
      gtk_file_filter_set_name (filter, _("JSON Lines files"));
      gtk_file_filter_add_pattern (filter, "*.jsonl");
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "manifest.jsonl");
    }
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_set_data (G_OBJECT (dialog), "sluice-format", GINT_TO_POINTER (format));
  g_signal_connect_object (dialog, "response", G_CALLBACK (export_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
cancel_export_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  SluiceBrowseView *self = SLUICE_BROWSE_VIEW (widget);

  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
}

/* ---- public ------------------------------------------------------------------------------- */

void
sluice_browse_view_set_catalog_path (SluiceBrowseView *self,
                                     const char       *path)
{
  g_autofree char *default_path = NULL;

  g_return_if_fail (SLUICE_IS_BROWSE_VIEW (self));
  if (path == NULL)
    path = default_path = sluice_catalog_default_path ();
  if (self->model != NULL && g_strcmp0 (self->catalog_path, path) == 0)
    return;
  g_free (self->catalog_path);
  self->catalog_path = g_strdup (path);

  if (self->model != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->model, self);
      sluice_browse_model_set_live (self->model, FALSE);
    }
  g_clear_object (&self->model);
  self->model = sluice_browse_model_new (path);
  g_signal_connect_object (self->model, "notify::count", G_CALLBACK (update_count), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->model, "notify::loading", G_CALLBACK (update_count), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->model, "notify::error", G_CALLBACK (update_count), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->model, "notify::n-new", G_CALLBACK (update_new), self,
                           G_CONNECT_SWAPPED);
  gtk_single_selection_set_model (self->selection, G_LIST_MODEL (self->model));
  sluice_browse_detail_set_model (self->detail, self->model);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    sluice_browse_model_set_live (self->model, TRUE);
  apply_query (self);
  load_filter_values (self);
  update_count (self);
}

void
sluice_browse_view_show_run (SluiceBrowseView *self,
                             gint64            run_id)
{
  g_return_if_fail (SLUICE_IS_BROWSE_VIEW (self));
  if (self->model == NULL)
    sluice_browse_view_set_catalog_path (self, NULL);
  self->run_id = run_id;
  apply_query (self);
  load_filter_values (self);
}

void
sluice_browse_view_refresh (SluiceBrowseView *self)
{
  g_return_if_fail (SLUICE_IS_BROWSE_VIEW (self));
  if (self->model == NULL)
    return;
  sluice_browse_model_reload (self->model);
  load_filter_values (self);
}

SluiceBrowseModel *
_sluice_browse_view_get_model (SluiceBrowseView *self)
{
  return self->model;
}

GtkColumnView *
_sluice_browse_view_get_column_view (SluiceBrowseView *self)
{
  return self->column_view;
}

SluiceBrowseDetail *
_sluice_browse_view_get_detail (SluiceBrowseView *self)
{
  return self->detail;
}

GtkPaned *
_sluice_browse_view_get_paned (SluiceBrowseView *self)
{
  return self->paned;
}

GtkEditable *
_sluice_browse_view_get_search (SluiceBrowseView *self)
{
  return GTK_EDITABLE (self->search_entry);
}

const char *
_sluice_browse_view_get_count_text (SluiceBrowseView *self)
{
  return gtk_label_get_text (self->count_label);
}

const char *
_sluice_browse_view_get_new_text (SluiceBrowseView *self)
{
  return gtk_revealer_get_reveal_child (self->new_revealer)
         ? gtk_label_get_text (self->new_label) : NULL;
}

void
_sluice_browse_view_set_filters (SluiceBrowseView *self,
                                 const char       *camera,
                                 const char       *since,
                                 const char       *until,
                                 SluiceQueryGps    gps,
                                 guint             states)
{
  self->applying = TRUE;
  g_free (self->camera);
  self->camera = g_strdup (camera);
  gtk_editable_set_text (GTK_EDITABLE (self->since_entry), since != NULL ? since : "");
  gtk_editable_set_text (GTK_EDITABLE (self->until_entry), until != NULL ? until : "");
  gtk_drop_down_set_selected (self->gps_drop, gps == SLUICE_QUERY_GPS_WITH ? 1
                                              : gps == SLUICE_QUERY_GPS_WITHOUT ? 2 : 0);
  gtk_check_button_set_active (self->uploaded_check,
                               (states & SLUICE_QUERY_STATE (SLUICE_OBJECT_UPLOADED)) != 0);
  gtk_check_button_set_active (self->skipped_check,
                               (states & SLUICE_QUERY_STATE (SLUICE_OBJECT_SKIPPED)) != 0);
  gtk_check_button_set_active (self->failed_check,
                               (states & SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED)) != 0);
  self->applying = FALSE;
  apply_query (self);
}

void
_sluice_browse_view_set_details_shown (SluiceBrowseView *self,
                                       gboolean          shown)
{
  gtk_toggle_button_set_active (self->details_button, shown);
}

void
_sluice_browse_view_select (SluiceBrowseView *self,
                            guint             position)
{
  gtk_single_selection_set_selected (self->selection, position);
}

/* ---- object ------------------------------------------------------------------------------- */

static void
sluice_browse_view_dispose (GObject *object)
{
  SluiceBrowseView *self = SLUICE_BROWSE_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
  g_clear_handle_id (&self->export_timer, g_source_remove);
  if (self->model != NULL)
    sluice_browse_model_set_live (self->model, FALSE);
  gtk_widget_dispose_template (GTK_WIDGET (self), SLUICE_TYPE_BROWSE_VIEW);
  g_clear_object (&self->selection);
  g_clear_object (&self->model);
  G_OBJECT_CLASS (sluice_browse_view_parent_class)->dispose (object);
}

static void
sluice_browse_view_finalize (GObject *object)
{
  SluiceBrowseView *self = SLUICE_BROWSE_VIEW (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->export_cancellable);
  g_clear_pointer (&self->catalog_path, g_free);
  g_clear_pointer (&self->camera, g_free);
  g_clear_pointer (&self->lens, g_free);
  g_clear_pointer (&self->camera_values, g_ptr_array_unref);
  g_clear_pointer (&self->lens_values, g_ptr_array_unref);
  g_clear_pointer (&self->run_values, g_array_unref);
  g_clear_pointer (&self->export_name, g_free);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (sluice_browse_view_parent_class)->finalize (object);
}

static void
sluice_browse_view_class_init (SluiceBrowseViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sluice_browse_view_dispose;
  object_class->finalize = sluice_browse_view_finalize;

  g_type_ensure (SLUICE_TYPE_BROWSE_DETAIL);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/sluice/Sluice/sluice-browse-view.ui");
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, search_entry);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, filter_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, since_entry);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, until_entry);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, camera_drop);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, lens_drop);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, gps_drop);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, uploaded_check);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, skipped_check);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, failed_check);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, run_drop);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, count_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, export_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, details_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, new_revealer);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, new_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, export_revealer);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, export_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, export_bar);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, paned);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, list_stack);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, scrolled);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, column_view);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, empty_page);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseView, detail);

  gtk_widget_class_install_action (widget_class, "browse.show-new", NULL, show_new_action);
  gtk_widget_class_install_action (widget_class, "browse.export", "s", export_action);
  gtk_widget_class_install_action (widget_class, "browse.cancel-export", NULL,
                                   cancel_export_action);
  gtk_widget_class_install_action (widget_class, "browse.clear-filters", NULL,
                                   clear_filters_action);
}

static void
sluice_browse_view_init (SluiceBrowseView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->run_values = g_array_new (FALSE, FALSE, sizeof (gint64));

  add_columns (self);
  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect_object (self->selection, "notify::selected-item",
                           G_CALLBACK (selection_changed_cb), self, G_CONNECT_SWAPPED);

  /* a header click changes the column view's sorter; the query follows */
  g_signal_connect_object (gtk_column_view_get_sorter (self->column_view), "changed",
                           G_CALLBACK (apply_query), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->search_entry, "search-changed", G_CALLBACK (apply_query), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->since_entry, "changed", G_CALLBACK (apply_query), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->until_entry, "changed", G_CALLBACK (apply_query), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->gps_drop, "notify::selected", G_CALLBACK (apply_query), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->uploaded_check, "toggled", G_CALLBACK (apply_query), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->skipped_check, "toggled", G_CALLBACK (apply_query), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->failed_check, "toggled", G_CALLBACK (apply_query), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->camera_drop, "notify::selected", G_CALLBACK (drop_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->lens_drop, "notify::selected", G_CALLBACK (drop_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->run_drop, "notify::selected", G_CALLBACK (drop_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gtk_menu_button_get_popover (self->filter_button), "show", G_CALLBACK (load_filter_values), self,
                           G_CONNECT_SWAPPED);
  {
    GtkAdjustment *vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->column_view));

    g_assert (vadj != NULL);   /* the scrolled window gave it to the column view */
    g_signal_connect_object (vadj, "value-changed", G_CALLBACK (update_visible_range), self,
                             G_CONNECT_SWAPPED);
    g_signal_connect_object (vadj, "changed", G_CALLBACK (update_visible_range), self,
                             G_CONNECT_SWAPPED);
  }
  g_signal_connect (self, "map", G_CALLBACK (map_cb), NULL);
  g_signal_connect (self, "unmap", G_CALLBACK (unmap_cb), NULL);

  self->settings = g_settings_new (APPLICATION_ID);
  g_settings_bind (self->settings, "browse-details-shown", self->details_button, "active",
                   G_SETTINGS_BIND_DEFAULT);
  self->details_width = g_settings_get_int (self->settings, "browse-details-width");
  g_signal_connect_object (self->paned, "notify::max-position",
                           G_CALLBACK (paned_max_position_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->paned, "notify::position", G_CALLBACK (paned_position_cb), self,
                           G_CONNECT_SWAPPED);
}
