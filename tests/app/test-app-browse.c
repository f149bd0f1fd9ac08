/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-test-app"

#include "config.h"

#include <gdk/x11/gdkx.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#if HAVE_HEIF
#include <libheif/heif.h>
#endif
#include <webp/encode.h>

#include "app-test-util.h"
#include "sluice-application.h"
#include "sluice-browse-cell.h"
#include "sluice-browse-model-private.h"
#include "sluice-browse-sorter.h"
#include "sluice-browse-view.h"
#include "sluice-engine.h"
#include "sluice-window-private.h"

/* The metadata browser against catalogs the tests make through the engine's own catalog API:
 * the model's paging at page boundaries and past its LRU, header clicks to queries, filters
 * and the count, new rows while an ingest writes, and screenshots. Under Xvfb, in a private
 * session (tests/app/with-session.sh). */

static SluiceApplication *app;
static char *tmp_dir;

static const char *const cameras[][2] = {
  { "Canon", "Canon EOS R5" },
  { "NIKON CORPORATION", "NIKON D850" },
  { "SONY", "ILCE-7M3" },
  { "FUJIFILM", "X-T4" },
};
static const char *const lenses[] = {
  "RF24-70mm F2.8 L IS USM", "24.0-70.0 mm f/2.8", "FE 85mm F1.8", "XF35mmF1.4 R",
};
static const char *const events[] = {
  "Wedding Smith", "Holidays Zürich", "Garden", "Hiking Alps", "Harbour at night",
};

/* A thumbnail like a camera's: 160×120, a gradient with a band, different per seed. */
static GBytes *
make_thumbnail (guint seed)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 160, 120);
  g_autoptr(GError) error = NULL;
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  char *buffer = NULL;
  gsize len = 0;

  for (int y = 0; y < 120; y++)
    for (int x = 0; x < 160; x++)
      {
        guchar *p = pixels + y * stride + x * 3;
        p[0] = (guchar) ((x * 255 / 160 + seed * 40) % 256);
        p[1] = (guchar) ((y * 255 / 120 + seed * 70) % 256);
        p[2] = (guchar) (y > 70 && y < 90 ? 230 : (seed * 90) % 256);
      }
  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "jpeg", &error,
                                            "quality", "80", NULL));
  g_assert_no_error (error);
  return g_bytes_new_take (buffer, len);
}

typedef struct {
  SluiceCatalog *catalog;
  gint64         source;
  gint64         target;
  gint64         run;
  guint          next;       /* files made so far */
} Gen;

/* Files @gen->next … + @n - 1: file i has size 1000 + (i * 7919) % 100000, camera i % 4,
 * GPS when i % 10 == 0, failed when i % 50 == 7, skipped when i % 20 == 3, no metadata when
 * i % 100 == 99; thumbnails when @thumbnails. */
static void
gen_files (Gen      *gen,
           guint     n,
           gboolean  thumbnails)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sluice_catalog_begin (gen->catalog, &error));
  for (guint k = 0; k < n; k++)
    {
      guint i = gen->next++;
      g_autofree char *relpath = g_strdup_printf ("2023/%s/IMG_%05u.JPG",
                                                  events[i / 40 % G_N_ELEMENTS (events)], i);
      g_autofree char *key = g_strconcat ("archive/", relpath, NULL);
      g_autofree char *sha = g_strdup_printf ("%064u", i);
      guint64 size = 1000 + (i * 7919u) % 100000;
      g_autoptr(SluiceMetadata) meta = NULL;
      SluiceObjectState state = i % 50 == 7 ? SLUICE_OBJECT_FAILED
                                : i % 20 == 3 ? SLUICE_OBJECT_SKIPPED : SLUICE_OBJECT_UPLOADED;
      gint64 file, obj;

      file = sluice_catalog_upsert_file (gen->catalog, gen->source, relpath, size,
                                         G_GINT64_CONSTANT (1690000000000000000) + i, sha,
                                         gen->run, &error);
      g_assert_no_error (error);
      if (i % 100 != 99)
        {
          meta = sluice_metadata_new ();
          meta->container = g_strdup ("jpeg");
          meta->make = g_strdup (cameras[i % 4][0]);
          meta->model = g_strdup (cameras[i % 4][1]);
          meta->lens_model = g_strdup (lenses[i % 4]);
          meta->datetime_original = g_strdup_printf ("2023:%02u:%02u %02u:%02u:%02u",
                                                     1 + i / 28 % 12, 1 + i % 28, 8 + i % 12,
                                                     i % 60, (i * 7) % 60);
          meta->exposure_num = 1;
          meta->exposure_den = 60u << (i % 5);
          meta->f_number = 1.8 + (i % 5) * 0.9;
          meta->iso = 100 << (i % 6);
          meta->focal_length = 24 + i % 60;
          meta->orientation = 1;
          meta->width = 6000;
          meta->height = 4000;
          if (i % 10 == 0)
            {
              meta->gps_latitude = 47.3769 + i * 0.0001;
              meta->gps_longitude = 8.5417 - i * 0.0001;
              meta->gps_altitude = 408;
            }
          if (thumbnails)
            {
              meta->has_thumbnail = TRUE;
              meta->thumbnail = make_thumbnail (i);
            }
        }
      g_assert_true (sluice_catalog_set_metadata (gen->catalog, file, gen->run, meta,
                                                  meta != NULL ? SLUICE_PROBE_STATE_OK
                                                               : SLUICE_PROBE_STATE_FAILED,
                                                  meta != NULL ? NULL : "helper crashed",
                                                  &error));
      g_assert_no_error (error);
      obj = sluice_catalog_begin_object (gen->catalog, file, gen->target, key, sha, size,
                                         gen->run, &error);
      g_assert_no_error (error);
      g_assert_true (sluice_catalog_finish_object (gen->catalog, obj, state,
                                                   state == SLUICE_OBJECT_FAILED ? NULL
                                                                                 : "\"etag\"",
                                                   state == SLUICE_OBJECT_FAILED ? "SlowDown"
                                                                                 : NULL,
                                                   state == SLUICE_OBJECT_FAILED
                                                   ? "Please reduce your request rate." : NULL,
                                                   &error));
      g_assert_no_error (error);
    }
  g_assert_true (sluice_catalog_commit (gen->catalog, &error));
}

static Gen *
gen_new_at (const char *name,
            const char *source)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
  Gen *gen = g_new0 (Gen, 1);

  gen->catalog = sluice_catalog_open (path, FALSE, &error);
  g_assert_no_error (error);
  gen->source = sluice_catalog_ensure_source (gen->catalog, source, &error);
  gen->target = sluice_catalog_ensure_target (gen->catalog, "https://s3.example.com",
                                              "photo-archive", &error);
  gen->run = sluice_catalog_begin_run (gen->catalog, gen->source, gen->target, "{}", &error);
  g_assert_no_error (error);
  return gen;
}

static Gen *
gen_new (const char *name)
{
  return gen_new_at (name, "/mnt/nas/photos");
}

static void
gen_free (Gen *gen)
{
  sluice_catalog_close (gen->catalog);
  g_free (gen);
}

static char *
gen_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* ---- waiting ------------------------------------------------------------------------------- */

static gboolean
model_counted (gpointer data)
{
  return !sluice_browse_model_get_loading (data);
}

static void
wait_count (SluiceBrowseModel *model)
{
  app_test_wait_until (model_counted, model, APP_TEST_TIMEOUT_S, "the count");
}

static gboolean
anchors_ready (gpointer data)
{
  return sluice_browse_model_get_anchors_ready (data);
}

static gboolean
row_loaded (gpointer data)
{
  return sluice_browse_row_get_loaded (data);
}

/* The row at @position, loaded. */
static SluiceBrowseRow *
load_row (SluiceBrowseModel *model,
          guint              position)
{
  SluiceBrowseRow *row = g_list_model_get_item (G_LIST_MODEL (model), position);

  g_assert_nonnull (row);
  app_test_wait_until (row_loaded, row, APP_TEST_TIMEOUT_S, "a page of rows");
  g_assert_cmpuint (sluice_browse_row_get_position (row), ==, position);
  return row;
}

static guint64
engine_count (const char        *path,
              const SluiceQuery *query)
{
  g_autoptr(GError) error = NULL;
  SluiceCatalog *catalog = sluice_catalog_open (path, TRUE, &error);
  guint64 count = 0;

  g_assert_no_error (error);
  g_assert_true (sluice_catalog_query_count (catalog, query, &count, &error));
  g_assert_no_error (error);
  sluice_catalog_close (catalog);
  return count;
}

/* ---- model --------------------------------------------------------------------------------- */

/* Pages of 128 rows: the rows on both sides of every boundary follow each other (keyset after
 * the previous page's last row), a deep row comes from the anchors, the LRU stays bounded. */
static void
test_model_paging (void)
{
  Gen *gen = gen_new ("paging.db");
  g_autofree char *path = gen_path ("paging.db");
  g_autoptr(SluiceBrowseModel) model = NULL;
  g_autoptr(SluiceQuery) query = sluice_query_new ();
  const guint n = 10000;
  gint64 previous_id = 0;

  gen_files (gen, n, FALSE);
  gen_free (gen);

  model = sluice_browse_model_new (path);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (model)) == SLUICE_TYPE_BROWSE_ROW);
  sluice_browse_model_set_query (model, query);
  wait_count (model);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, n);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (model), n));

  /* the first pages in order, across two boundaries: file ids 1, 2, 3, … with no gap */
  for (guint i = 0; i < 3 * SLUICE_BROWSE_PAGE_SIZE + 5; i++)
    {
      g_autoptr(SluiceBrowseRow) row = load_row (model, i);
      const SluiceQueryRow *data = sluice_browse_row_get_data (row);

      g_assert_cmpint (data->file_id, ==, previous_id + 1);
      previous_id = data->file_id;
    }

  /* placeholders first, the same objects filled in place */
  {
    g_autoptr(SluiceBrowseRow) a = g_list_model_get_item (G_LIST_MODEL (model), 5000);
    g_autoptr(SluiceBrowseRow) b = NULL;

    g_assert_false (sluice_browse_row_get_loaded (a));
    app_test_wait_until (anchors_ready, model, APP_TEST_TIMEOUT_S, "the anchors");
    app_test_wait_until (row_loaded, a, APP_TEST_TIMEOUT_S, "row 5000");
    b = g_list_model_get_item (G_LIST_MODEL (model), 5000);
    g_assert_true (a == b);
    g_assert_cmpstr (sluice_browse_row_get_data (a)->relpath, ==,
                     "2023/Wedding Smith/IMG_05000.JPG");
  }

  /* the very last row, the last page being short (10000 = 78 × 128 + 16) */
  {
    g_autoptr(SluiceBrowseRow) last = load_row (model, n - 1);
    g_autoptr(SluiceBrowseRow) before = load_row (model, n - 17);

    g_assert_cmpint (sluice_browse_row_get_data (last)->file_id, ==, n);
    g_assert_cmpint (sluice_browse_row_get_data (before)->file_id, ==, n - 16);
  }

  /* every page touched once: never more than the LRU holds */
  for (guint p = 0; p * SLUICE_BROWSE_PAGE_SIZE < n; p++)
    {
      g_autoptr(SluiceBrowseRow) row = g_list_model_get_item (G_LIST_MODEL (model),
                                                              p * SLUICE_BROWSE_PAGE_SIZE);
      g_assert_cmpuint (sluice_browse_model_get_n_cached_pages (model), <=,
                        SLUICE_BROWSE_MAX_PAGES);
    }
  {
    /* and what was evicted loads again */
    g_autoptr(SluiceBrowseRow) first = load_row (model, 1);
    g_assert_cmpint (sluice_browse_row_get_data (first)->file_id, ==, 2);
  }

  /* sorted by size, descending: non-increasing across a page boundary */
  sluice_query_set_sort (query, SLUICE_QUERY_SORT_SIZE, TRUE);
  sluice_browse_model_set_query (model, query);
  wait_count (model);
  {
    guint64 previous = G_MAXUINT64;

    for (guint i = SLUICE_BROWSE_PAGE_SIZE - 3; i < SLUICE_BROWSE_PAGE_SIZE + 3; i++)
      {
        g_autoptr(SluiceBrowseRow) row = load_row (model, i);
        guint64 size = sluice_browse_row_get_data (row)->size;

        g_assert_cmpuint (size, <=, previous);
        previous = size;
      }
  }
}

/* ---- the view ------------------------------------------------------------------------------ */

typedef struct {
  GtkWindow        *window;
  SluiceBrowseView *view;
  SluiceBrowseModel *model;
} Browser;

/* The browser with the settings as they are (show_browser) or as they ship (open_browser). */
static Browser
show_browser (const char *catalog_path,
              int         width,
              int         height)
{
  Browser b = { 0 };
  GtkWidget *overlay = adw_toast_overlay_new ();

  b.window = GTK_WINDOW (adw_application_window_new (GTK_APPLICATION (app)));
  gtk_window_set_default_size (b.window, width, height);
  b.view = g_object_new (SLUICE_TYPE_BROWSE_VIEW, NULL);
  adw_toast_overlay_set_child (ADW_TOAST_OVERLAY (overlay), GTK_WIDGET (b.view));
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (b.window), overlay);
  sluice_browse_view_set_catalog_path (b.view, catalog_path);
  b.model = _sluice_browse_view_get_model (b.view);
  app_test_show_and_wait (b.window);
  wait_count (b.model);
  return b;
}

static Browser
open_browser (const char *catalog_path,
              int         width,
              int         height)
{
  app_test_reset_settings ();
  return show_browser (catalog_path, width, height);
}

static GtkColumnViewColumn *
find_column (GtkColumnView *view,
             const char    *title)
{
  GListModel *columns = gtk_column_view_get_columns (view);

  for (guint i = 0; i < g_list_model_get_n_items (columns); i++)
    {
      g_autoptr(GtkColumnViewColumn) c = g_list_model_get_item (columns, i);

      if (g_strcmp0 (gtk_column_view_column_get_title (c), title) == 0)
        return c;
    }
  g_assert_not_reached ();
}

/* The header button of @column, as the column view made it. */
static GtkWidget *
find_title_widget (GtkWidget  *widget,
                   const char *title)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (g_str_equal (G_OBJECT_TYPE_NAME (child), "GtkColumnViewTitle"))
        {
          for (GtkWidget *c = gtk_widget_get_first_child (child); c != NULL;
               c = gtk_widget_get_next_sibling (c))
            for (GtkWidget *l = gtk_widget_get_first_child (c); l != NULL;
                 l = gtk_widget_get_next_sibling (l))
              if (GTK_IS_LABEL (l) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (l)), title) == 0)
                return child;
        }
      found = find_title_widget (child, title);
      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct {
  SluiceBrowseModel *model;
  SluiceQuerySort    sort;
  gboolean           descending;
} SortWait;

static gboolean
sorted_as (gpointer data)
{
  SortWait *w = data;
  gboolean descending = FALSE;

  return sluice_query_get_sort (sluice_browse_model_get_query (w->model), &descending) == w->sort
         && descending == w->descending;
}

static gboolean
timeout_once (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* A real click on a header: the X server gets a button press at the title's centre (xdotool,
 * under Xvfb), GTK delivers it to the column view's own gesture. GTK 4 cannot synthesize
 * events itself, and an emitted "released" has no button, which the title ignores. */
static void
click_header (GtkColumnView *view,
              const char    *title,
              SortWait      *expect)
{
  GtkWidget *button = find_title_widget (GTK_WIDGET (view), title);
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (view));
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  graphene_rect_t bounds;
  double sx = 0, sy = 0;
  int status = 0;

  g_assert_nonnull (button);
  /* two clicks closer than the double-click time would be one double click */
  {
    gboolean done = FALSE;
    g_timeout_add (600, timeout_once, &done);
    while (!done)
      g_main_context_iteration (NULL, TRUE);
  }
  /* the header scrolls with the columns: bring this one into view */
  {
    GtkAdjustment *hadj = gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (view));

    g_assert_true (gtk_widget_compute_bounds (button, GTK_WIDGET (view), &bounds));
    gtk_adjustment_set_value (hadj, MAX (0, gtk_adjustment_get_value (hadj) + bounds.origin.x - 60));
    app_test_wait_frames (GTK_WIDGET (view), 3);
  }
  g_assert_true (gtk_widget_compute_bounds (button, GTK_WIDGET (native), &bounds));
  gtk_native_get_surface_transform (native, &sx, &sy);
  command = g_strdup_printf ("xdotool mousemove --window %lu %d %d click 1",
                             (gulong) gdk_x11_surface_get_xid (gtk_native_get_surface (native)),
                             (int) (sx + bounds.origin.x + bounds.size.width / 2),
                             (int) (sy + bounds.origin.y + bounds.size.height / 2));
  g_assert_true (g_spawn_command_line_sync (command, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  app_test_wait_until (sorted_as, expect, APP_TEST_TIMEOUT_S, "the click's query");
}

/* The titles of the columns and the sort each one asks for. */
static const struct {
  const char      *title;
  SluiceQuerySort  sort;
} column_sorts[] = {
  { N_("Name"), SLUICE_QUERY_SORT_NAME },
  { N_("Taken"), SLUICE_QUERY_SORT_DATE_TAKEN },
  { N_("Camera"), SLUICE_QUERY_SORT_CAMERA },
  { N_("Lens"), SLUICE_QUERY_SORT_LENS },
  { N_("Exposure"), SLUICE_QUERY_SORT_EXPOSURE },
  { N_("ISO"), SLUICE_QUERY_SORT_ISO },
  { N_("Focal"), SLUICE_QUERY_SORT_FOCAL_LENGTH },
  { N_("Size"), SLUICE_QUERY_SORT_SIZE },
  { N_("State"), SLUICE_QUERY_SORT_STATE },
  { N_("S3 Key"), SLUICE_QUERY_SORT_KEY },
};

/* The column view's sorter becomes the catalog query's order, and the rows follow it. */
static void
test_sort_mapping (void)
{
  Gen *gen = gen_new ("sort.db");
  g_autofree char *path = gen_path ("sort.db");
  Browser b;
  GtkColumnView *view;
  gboolean descending = TRUE;

  gen_files (gen, 300, FALSE);
  gen_free (gen);
  b = open_browser (path, 1400, 600);
  view = _sluice_browse_view_get_column_view (b.view);

  /* nothing clicked: ingest order */
  g_assert_cmpint (sluice_query_get_sort (sluice_browse_model_get_query (b.model), &descending),
                   ==, SLUICE_QUERY_SORT_INGEST);
  g_assert_false (descending);

  for (guint i = 0; i < G_N_ELEMENTS (column_sorts); i++)
    {
      GtkColumnViewColumn *column = find_column (view, _(column_sorts[i].title));

      gtk_column_view_sort_by_column (view, column, GTK_SORT_ASCENDING);
      g_assert_cmpint (sluice_query_get_sort (sluice_browse_model_get_query (b.model),
                                              &descending), ==, column_sorts[i].sort);
      g_assert_false (descending);
    }
  gtk_column_view_sort_by_column (view, find_column (view, _("ISO")), GTK_SORT_DESCENDING);
  g_assert_cmpint (sluice_query_get_sort (sluice_browse_model_get_query (b.model), &descending),
                   ==, SLUICE_QUERY_SORT_ISO);
  g_assert_true (descending);
  gtk_column_view_sort_by_column (view, NULL, GTK_SORT_ASCENDING);
  g_assert_cmpint (sluice_query_get_sort (sluice_browse_model_get_query (b.model), &descending),
                   ==, SLUICE_QUERY_SORT_INGEST);

  /* the rows follow the query: by size, descending */
  gtk_column_view_sort_by_column (view, find_column (view, _("Size")), GTK_SORT_DESCENDING);
  wait_count (b.model);
  {
    g_autoptr(SluiceBrowseRow) r0 = load_row (b.model, 0);
    g_autoptr(SluiceBrowseRow) r1 = load_row (b.model, 1);

    g_assert_cmpuint (sluice_browse_row_get_data (r0)->size, >=,
                      sluice_browse_row_get_data (r1)->size);
  }
  app_test_destroy_window (b.window);
}

/* Real clicks on every header, as a user makes them: ascending, then descending. Needs an X
 * server and xdotool (tools/install-deps.sh installs it); elsewhere the case is skipped. */
static void
test_header_clicks (void)
{
  Gen *gen = gen_new ("clicks.db");
  g_autofree char *path = gen_path ("clicks.db");
  g_autofree char *xdotool = g_find_program_in_path ("xdotool");
  Browser b;
  GtkColumnView *view;

  if (!GDK_IS_X11_DISPLAY (gdk_display_get_default ()))
    {
      g_test_skip ("header clicks are sent with xdotool, which needs an X server");
      gen_free (gen);
      return;
    }
  if (xdotool == NULL)
    {
      g_test_skip ("no xdotool (Debian: xdotool): header clicks not tested");
      gen_free (gen);
      return;
    }
  gen_files (gen, 300, FALSE);
  gen_free (gen);
  b = open_browser (path, 1400, 600);
  view = _sluice_browse_view_get_column_view (b.view);
  for (guint i = 0; i < G_N_ELEMENTS (column_sorts); i++)
    {
      SortWait w = { b.model, column_sorts[i].sort, FALSE };

      click_header (view, _(column_sorts[i].title), &w);
      w.descending = TRUE;
      click_header (view, _(column_sorts[i].title), &w);
    }
  app_test_destroy_window (b.window);
}

static gboolean
query_settled (gpointer data)
{
  Browser *b = data;
  return !sluice_browse_model_get_loading (b->model);
}

static void
expect_count (Browser           *b,
              const char        *path,
              guint64            expected)
{
  g_autofree char *number = g_strdup_printf ("%'" G_GUINT64_FORMAT, expected);

  app_test_wait_until (query_settled, b, APP_TEST_TIMEOUT_S, "the count");
  g_assert_cmpuint (sluice_browse_model_get_count (b->model), ==, expected);
  g_assert_cmpuint (engine_count (path, sluice_browse_model_get_query (b->model)), ==, expected);
  /* the count is on screen */
  g_assert_nonnull (strstr (_sluice_browse_view_get_count_text (b->view), number));
}

typedef struct {
  SluiceBrowseModel *model;
  const char        *search;
} SearchWait;

static gboolean
search_applied (gpointer data)
{
  SearchWait *w = data;
  g_autoptr(SluiceQuery) q = sluice_query_copy (sluice_browse_model_get_query (w->model));
  g_autoptr(SluiceQuery) expected = sluice_query_copy (q);

  sluice_query_set_search (expected, w->search);
  return sluice_query_equal (q, expected) && !sluice_browse_model_get_loading (w->model);
}

static void
test_filters (void)
{
  Gen *gen = gen_new ("filters.db");
  g_autofree char *path = gen_path ("filters.db");
  Browser b;
  SearchWait w;

  gen_files (gen, 1000, FALSE);
  gen_free (gen);
  b = open_browser (path, 1200, 600);
  expect_count (&b, path, 1000);

  /* the search entry (FTS5 in the engine, after the entry's own short delay) */
  w.model = b.model;
  w.search = "zürich";
  gtk_editable_set_text (_sluice_browse_view_get_search (b.view), "zürich");
  app_test_wait_until (search_applied, &w, APP_TEST_TIMEOUT_S, "the search");
  expect_count (&b, path, 200);
  w.search = "harbour D850";
  gtk_editable_set_text (_sluice_browse_view_get_search (b.view), "harbour D850");
  app_test_wait_until (search_applied, &w, APP_TEST_TIMEOUT_S, "the search");
  expect_count (&b, path, 50);
  w.search = "";
  gtk_editable_set_text (_sluice_browse_view_get_search (b.view), "");
  app_test_wait_until (search_applied, &w, APP_TEST_TIMEOUT_S, "no search");
  expect_count (&b, path, 1000);

  /* camera: every fourth file, but for the 10 without metadata */
  _sluice_browse_view_set_filters (b.view, "Canon EOS R5", NULL, NULL, SLUICE_QUERY_GPS_ANY, 0);
  expect_count (&b, path, 250);
  /* with GPS: i % 10 == 0 */
  _sluice_browse_view_set_filters (b.view, NULL, NULL, NULL, SLUICE_QUERY_GPS_WITH, 0);
  expect_count (&b, path, 100);
  /* failed: i % 50 == 7 */
  _sluice_browse_view_set_filters (b.view, NULL, NULL, NULL, SLUICE_QUERY_GPS_ANY,
                                   SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED));
  expect_count (&b, path, 20);
  /* a date range: January 2023 */
  _sluice_browse_view_set_filters (b.view, NULL, "2023-01-01", "2023-01-31",
                                   SLUICE_QUERY_GPS_ANY, 0);
  expect_count (&b, path, engine_count (path, sluice_browse_model_get_query (b.model)));
  g_assert_cmpuint (sluice_browse_model_get_count (b.model), >, 0);
  g_assert_cmpuint (sluice_browse_model_get_count (b.model), <, 1000);
  /* nothing matches: the empty page says so, the count says 0 */
  _sluice_browse_view_set_filters (b.view, "Canon EOS R5", NULL, NULL, SLUICE_QUERY_GPS_ANY,
                                   SLUICE_QUERY_STATE (SLUICE_OBJECT_SKIPPED) |
                                   SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED));
  expect_count (&b, path, engine_count (path, sluice_browse_model_get_query (b.model)));
  _sluice_browse_view_set_filters (b.view, "No Such Camera", NULL, NULL, SLUICE_QUERY_GPS_ANY, 0);
  expect_count (&b, path, 0);
  app_test_screenshot (GTK_WIDGET (b.window), "browse-nothing-matches");
  app_test_destroy_window (b.window);
}

static gboolean
has_new (gpointer data)
{
  return sluice_browse_model_get_n_new (data) > 0;
}

static gboolean
count_is_450 (gpointer data)
{
  return sluice_browse_model_get_count (data) == 450 && !sluice_browse_model_get_loading (data);
}

/* Rows ingested while the browser is open: announced, then merged in place in ingest order
 * without moving the scroll position or the selection. */
static void
test_live_show_new (void)
{
  Gen *gen = gen_new ("live.db");
  g_autofree char *path = gen_path ("live.db");
  g_autoptr(SluiceBrowseRow) selected = NULL;
  GtkAdjustment *vadj;
  GtkSelectionModel *selection;
  double scroll;
  Browser b;

  gen_files (gen, 400, FALSE);
  b = open_browser (path, 1200, 500);
  g_assert_cmpuint (sluice_browse_model_get_count (b.model), ==, 400);
  g_assert_null (_sluice_browse_view_get_new_text (b.view));

  /* the user scrolled down a bit and selected a row */
  vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (_sluice_browse_view_get_column_view (b.view)));
  gtk_adjustment_set_value (vadj, 600);
  app_test_wait_frames (GTK_WIDGET (b.window), 3);
  scroll = gtk_adjustment_get_value (vadj);
  g_assert_cmpfloat (scroll, >, 0);
  _sluice_browse_view_select (b.view, 30);
  selection = gtk_column_view_get_model (_sluice_browse_view_get_column_view (b.view));
  selected = load_row (b.model, 30);

  /* an ingest adds 50 files; the browser polls (here: at once) and announces them */
  gen_files (gen, 50, FALSE);
  sluice_browse_model_check_new (b.model);
  app_test_wait_until (has_new, b.model, APP_TEST_TIMEOUT_S, "new rows");
  g_assert_cmpuint (sluice_browse_model_get_n_new (b.model), ==, 50);
  app_test_wait_frames (GTK_WIDGET (b.window), 2);
  g_assert_nonnull (strstr (_sluice_browse_view_get_new_text (b.view), "50"));
  /* nothing moved yet */
  g_assert_cmpuint (sluice_browse_model_get_count (b.model), ==, 400);

  /* "Show": appended in place */
  gtk_widget_activate_action (GTK_WIDGET (b.view), "browse.show-new", NULL);
  app_test_wait_until (count_is_450, b.model, APP_TEST_TIMEOUT_S, "the merge");
  g_assert_cmpuint (sluice_browse_model_get_n_new (b.model), ==, 0);
  app_test_wait_frames (GTK_WIDGET (b.window), 3);
  g_assert_null (_sluice_browse_view_get_new_text (b.view));
  g_assert_cmpfloat (gtk_adjustment_get_value (vadj), ==, scroll);
  g_assert_true (gtk_selection_model_is_selected (selection, 30));
  {
    g_autoptr(SluiceBrowseRow) still = g_list_model_get_item (G_LIST_MODEL (b.model), 30);
    g_autoptr(SluiceBrowseRow) last = load_row (b.model, 449);
    g_autoptr(SluiceBrowseRow) first_new = load_row (b.model, 400);
    g_autoptr(SluiceBrowseRow) last_old = load_row (b.model, 399);

    g_assert_true (still == selected);
    g_assert_cmpint (sluice_browse_row_get_data (last)->file_id, ==, 450);
    g_assert_cmpint (sluice_browse_row_get_data (first_new)->file_id, ==, 401);
    g_assert_cmpint (sluice_browse_row_get_data (last_old)->file_id, ==, 400);
  }

  /* in another order, "Show" runs the query again */
  gtk_column_view_sort_by_column (_sluice_browse_view_get_column_view (b.view),
                                  find_column (_sluice_browse_view_get_column_view (b.view),
                                               _("Size")), GTK_SORT_ASCENDING);
  wait_count (b.model);
  gen_files (gen, 10, FALSE);
  sluice_browse_model_check_new (b.model);
  app_test_wait_until (has_new, b.model, APP_TEST_TIMEOUT_S, "new rows");
  g_assert_cmpuint (sluice_browse_model_get_n_new (b.model), ==, 10);
  sluice_browse_model_show_new (b.model);
  wait_count (b.model);
  g_assert_cmpuint (sluice_browse_model_get_count (b.model), ==, 460);

  gen_free (gen);
  app_test_destroy_window (b.window);
}

typedef struct {
  SluiceBrowseRow   *row;
  SluiceObjectState  state;
} StateWait;

static gboolean
row_in_state (gpointer data)
{
  StateWait *w = data;
  return sluice_browse_row_get_data (w->row)->state == w->state;
}

static void
set_object_state (Gen               *gen,
                  SluiceBrowseRow   *row,
                  SluiceObjectState  state)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sluice_catalog_begin (gen->catalog, &error));
  g_assert_true (sluice_catalog_finish_object (gen->catalog,
                                               sluice_browse_row_get_data (row)->object_id,
                                               state, "\"etag\"", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_commit (gen->catalog, &error));
}

/* An ingest changes the state of rows already loaded: those on screen follow within a live
 * tick, in place (same row objects, scroll position and selection kept); loaded rows off
 * screen are not read again. */
static void
test_live_refresh (void)
{
  Gen *gen = gen_new ("refresh.db");
  g_autofree char *path = gen_path ("refresh.db");
  g_autoptr(SluiceBrowseRow) shown = NULL;
  g_autoptr(SluiceBrowseRow) off_screen = NULL;
  GtkColumnView *column_view;
  GtkAdjustment *vadj;
  GtkSelectionModel *selection;
  double scroll;
  Browser b;

  gen_files (gen, 300, FALSE);
  b = open_browser (path, 1200, 500);
  column_view = _sluice_browse_view_get_column_view (b.view);
  vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (column_view));
  selection = gtk_column_view_get_model (column_view);

  /* row 57 failed (57 % 50 == 7); scroll it into view and select it */
  shown = load_row (b.model, 57);
  off_screen = load_row (b.model, 207);
  g_assert_cmpint (sluice_browse_row_get_data (shown)->state, ==, SLUICE_OBJECT_FAILED);
  g_assert_cmpint (sluice_browse_row_get_data (off_screen)->state, ==, SLUICE_OBJECT_FAILED);
  gtk_adjustment_set_value (vadj, gtk_adjustment_get_upper (vadj) * 50 / 300);
  app_test_wait_frames (GTK_WIDGET (b.window), 3);
  _sluice_browse_view_select (b.view, 57);
  scroll = gtk_adjustment_get_value (vadj);

  /* a rerun uploads both */
  set_object_state (gen, shown, SLUICE_OBJECT_UPLOADED);
  set_object_state (gen, off_screen, SLUICE_OBJECT_UPLOADED);
  sluice_browse_model_refresh_visible (b.model);
  {
    StateWait w = { shown, SLUICE_OBJECT_UPLOADED };
    app_test_wait_until (row_in_state, &w, APP_TEST_TIMEOUT_S, "the row on screen to update");
  }
  app_test_wait_frames (GTK_WIDGET (b.window), 2);
  {
    g_autoptr(SluiceBrowseRow) same = g_list_model_get_item (G_LIST_MODEL (b.model), 57);
    g_assert_true (same == shown);
  }
  g_assert_cmpfloat (gtk_adjustment_get_value (vadj), ==, scroll);
  g_assert_true (gtk_selection_model_is_selected (selection, 57));
  g_assert_cmpuint (sluice_browse_model_get_count (b.model), ==, 300);
  /* the refresh that updated row 57 read only the pages on screen */
  g_assert_cmpint (sluice_browse_row_get_data (off_screen)->state, ==, SLUICE_OBJECT_FAILED);

  gen_free (gen);
  app_test_destroy_window (b.window);
}

/* A cell's tooltip is its whole text when that is ellipsized, and nothing when it fits; it is
 * asked for on hover, never set per bind (issue 7). */
static void
test_cell_tooltip (void)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  GtkWidget *cell = sluice_browse_cell_new (0, PANGO_ELLIPSIZE_START);
  const char *long_text = "2023/Wedding Smith/a very long folder name/IMG_00020.JPG";

  gtk_widget_set_size_request (cell, 120, -1);
  gtk_widget_set_halign (cell, GTK_ALIGN_START);
  gtk_window_set_child (window, cell);
  sluice_browse_cell_set_full_tooltip (SLUICE_BROWSE_CELL (cell), TRUE);
  g_assert_true (gtk_widget_get_has_tooltip (cell));
  sluice_browse_cell_set_text (SLUICE_BROWSE_CELL (cell), long_text);
  app_test_show_and_wait (window);
  app_test_wait_frames (cell, 2);
  g_assert_cmpstr (sluice_browse_cell_get_tooltip_text (SLUICE_BROWSE_CELL (cell)), ==,
                   long_text);
  g_assert_null (gtk_widget_get_tooltip_text (cell));

  sluice_browse_cell_set_text (SLUICE_BROWSE_CELL (cell), "IMG_1.JPG");
  app_test_wait_frames (cell, 2);
  g_assert_null (sluice_browse_cell_get_tooltip_text (SLUICE_BROWSE_CELL (cell)));

  sluice_browse_cell_set_full_tooltip (SLUICE_BROWSE_CELL (cell), FALSE);
  sluice_browse_cell_set_text (SLUICE_BROWSE_CELL (cell), long_text);
  app_test_wait_frames (cell, 2);
  g_assert_null (sluice_browse_cell_get_tooltip_text (SLUICE_BROWSE_CELL (cell)));
  app_test_destroy_window (window);
}

/* All eleven columns fit a 1280 px window with the detail pane hidden. */
static void
test_columns_fit (void)
{
  Gen *gen = gen_new ("columns.db");
  g_autofree char *path = gen_path ("columns.db");
  GtkColumnView *column_view;
  GtkAdjustment *hadj;
  Browser b;

  gen_files (gen, 60, FALSE);
  gen_free (gen);
  b = open_browser (path, 1280, 700);
  column_view = _sluice_browse_view_get_column_view (b.view);
  hadj = gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (column_view));
  _sluice_browse_view_set_details_shown (b.view, FALSE);
  {
    g_autoptr(SluiceBrowseRow) row = load_row (b.model, 0);
  }
  app_test_wait_frames (GTK_WIDGET (b.window), 3);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (_sluice_browse_view_get_detail (b.view))));
  g_assert_cmpfloat (gtk_adjustment_get_upper (hadj), <=, gtk_adjustment_get_page_size (hadj));
  app_test_screenshot (GTK_WIDGET (b.window), "browse-3-no-detail");
  app_test_destroy_window (b.window);
}

/* The details pane comes back as the user left it: shown or hidden, and as wide as it was
 * dragged, whatever the window's width (the list takes the difference). */
static void
test_details_pane_kept (void)
{
  Gen *gen = gen_new ("pane.db");
  g_autofree char *path = gen_path ("pane.db");
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  GtkWidget *detail;
  GtkPaned *paned;
  int natural, dragged;
  Browser b;

  gen_files (gen, 30, FALSE);
  gen_free (gen);
  b = open_browser (path, 1200, 700);
  detail = GTK_WIDGET (_sluice_browse_view_get_detail (b.view));
  paned = _sluice_browse_view_get_paned (b.view);
  app_test_wait_frames (GTK_WIDGET (b.window), 3);
  natural = gtk_widget_get_width (detail);
  g_assert_cmpint (natural, >, 0);

  /* the user drags the handle: the pane grows by 150 px */
  gtk_paned_set_position (paned, gtk_paned_get_position (paned) - 150);
  app_test_wait_frames (GTK_WIDGET (b.window), 3);
  dragged = gtk_widget_get_width (detail);
  g_assert_cmpint (dragged, ==, natural + 150);
  app_test_destroy_window (b.window);
  g_assert_cmpint (g_settings_get_int (settings, "browse-details-width"), >=, dragged);

  /* a narrower window next time: the pane keeps its width, the list gives way */
  b = show_browser (path, 1000, 700);
  detail = GTK_WIDGET (_sluice_browse_view_get_detail (b.view));
  app_test_wait_frames (GTK_WIDGET (b.window), 3);
  g_assert_true (gtk_widget_get_visible (detail));
  g_assert_cmpint (gtk_widget_get_width (detail), ==, dragged);
  app_test_screenshot (GTK_WIDGET (b.window), "browse-5-pane-kept");

  /* hidden stays hidden, and the width it had is not lost meanwhile */
  _sluice_browse_view_set_details_shown (b.view, FALSE);
  app_test_wait_frames (GTK_WIDGET (b.window), 3);
  app_test_destroy_window (b.window);
  g_assert_false (g_settings_get_boolean (settings, "browse-details-shown"));
  b = show_browser (path, 1000, 700);
  detail = GTK_WIDGET (_sluice_browse_view_get_detail (b.view));
  g_assert_false (gtk_widget_get_visible (detail));
  _sluice_browse_view_set_details_shown (b.view, TRUE);
  app_test_wait_frames (GTK_WIDGET (b.window), 3);
  g_assert_cmpint (gtk_widget_get_width (detail), ==, dragged);
  app_test_destroy_window (b.window);
  app_test_reset_settings ();
}

static gboolean
detail_shown (gpointer data)
{
  return sluice_browse_detail_get_detail (data) != NULL;
}

typedef struct {
  SluiceBrowseModel *model;
  SluiceBrowseRow   *row;
} ThumbWait;

static gboolean
thumbnail_decoded (gpointer data)
{
  ThumbWait *w = data;
  return sluice_browse_row_get_thumbnail (w->row) != NULL ||
         sluice_browse_model_get_thumbnail (w->model, w->row) != NULL;
}

typedef struct {
  guint held;      /* thumbnail jobs stopped on their worker now */
  guint arrived;   /* jobs that reached that point, in all */
} JobsHeld;

static gboolean
thumbnail_jobs_held (gpointer data)
{
  const JobsHeld *want = data;
  guint arrived = 0;
  guint held = _sluice_browse_model_thumbnail_jobs_held (&arrived);

  return held == want->held && arrived == want->arrived;
}

static gboolean
row_has_thumbnail (gpointer data)
{
  return sluice_browse_row_get_thumbnail (data) != NULL;
}

/* A thumbnail job still running when the query changes (fd95d25: it took the new query's
 * waiting entry for its own while that entry's key was still queued, a use-after-free). Its
 * textures go to the cache only; the rows the new query asked for keep waiting, and get
 * their thumbnails from the next job. The job is held on its worker to make the race happen
 * every time. */
static void
test_stale_thumbnail_job (void)
{
  Gen *gen = gen_new ("stale-thumbs.db");
  g_autofree char *path = gen_path ("stale-thumbs.db");
  g_autoptr(SluiceBrowseModel) model = NULL;
  g_autoptr(SluiceQuery) by_id = sluice_query_new ();
  g_autoptr(SluiceQuery) by_name = sluice_query_new ();
  g_autoptr(SluiceBrowseRow) old_row = NULL;
  g_autoptr(SluiceBrowseRow) new_row = NULL;
  const guint n = 10;
  gint64 file_id;
  JobsHeld first = { 1, 0 }, second = { 1, 0 }, none = { 0, 0 };

  _sluice_browse_model_thumbnail_jobs_held (&first.arrived);
  first.arrived++;
  second.arrived = first.arrived + 1;
  none.arrived = second.arrived;
  gen_files (gen, n, TRUE);
  gen_free (gen);
  sluice_query_set_sort (by_name, SLUICE_QUERY_SORT_NAME, TRUE);

  model = sluice_browse_model_new (path);
  sluice_browse_model_set_query (model, by_id);
  wait_count (model);
  old_row = load_row (model, 0);
  file_id = sluice_browse_row_get_data (old_row)->file_id;
  g_assert_true (sluice_browse_row_get_data (old_row)->has_thumbnail);

  /* the job for it stops on its worker before reading anything */
  _sluice_browse_model_hold_thumbnail_jobs (TRUE);
  g_assert_null (sluice_browse_model_get_thumbnail (model, old_row));
  app_test_wait_until (thumbnail_jobs_held, &first, APP_TEST_TIMEOUT_S,
                       "the first thumbnail job");

  /* meanwhile another query: the same file, on another row, asks again */
  sluice_browse_model_set_query (model, by_name);
  wait_count (model);
  for (guint i = 0; i < n && new_row == NULL; i++)
    {
      g_autoptr(SluiceBrowseRow) row = load_row (model, i);

      if (sluice_browse_row_get_data (row)->file_id == file_id)
        new_row = g_steal_pointer (&row);
    }
  g_assert_nonnull (new_row);
  g_assert_true (new_row != old_row);
  g_assert_null (sluice_browse_model_get_thumbnail (model, new_row));

  /* the stale job ends; the next one (the new row's request) starts and is held in turn */
  _sluice_browse_model_pass_thumbnail_job ();
  app_test_wait_until (thumbnail_jobs_held, &second, APP_TEST_TIMEOUT_S,
                       "the second thumbnail job");
  /* the stale job set no row's thumbnail, neither the old query's nor the new one's ... */
  g_assert_null (sluice_browse_row_get_thumbnail (old_row));
  g_assert_null (sluice_browse_row_get_thumbnail (new_row));
  /* ... but what it decoded is the file's, and cached */
  g_assert_nonnull (sluice_browse_model_get_thumbnail (model, new_row));

  /* the new row's own request is still pending, and answered */
  _sluice_browse_model_hold_thumbnail_jobs (FALSE);
  app_test_wait_until (row_has_thumbnail, new_row, APP_TEST_TIMEOUT_S,
                       "the new row's thumbnail");
  app_test_wait_until (thumbnail_jobs_held, &none, APP_TEST_TIMEOUT_S,
                       "no thumbnail job held");
  g_assert_null (sluice_browse_row_get_thumbnail (old_row));
}

/* The app's own window, @width × @height, browsing the catalog at @path as the shipped
 * settings have it, its rows counted (open_browser () is the view alone). */
static SluiceWindow *
open_app_browser (const char         *path,
                  int                 width,
                  int                 height,
                  SluiceBrowseView  **out_view,
                  SluiceBrowseModel **out_model)
{
  SluiceWindow *window;

  app_test_reset_settings ();
  window = sluice_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  app_test_show_and_wait (GTK_WINDOW (window));
  *out_view = _sluice_window_get_browse_view (window);
  sluice_browse_view_set_catalog_path (*out_view, path);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.browse", NULL);
  g_assert_cmpstr (_sluice_window_get_page (window), ==, "browse");
  *out_model = _sluice_browse_view_get_model (*out_view);
  wait_count (*out_model);
  return window;
}

/* The browser as a user sees it, in the app's window, with a selected row's detail; light
 * and dark. */
static void
test_screenshot (void)
{
  Gen *gen = gen_new ("shots.db");
  g_autofree char *path = gen_path ("shots.db");
  g_autofree char *geo = NULL;
  g_autoptr(SluiceBrowseRow) row = NULL;
  SluiceWindow *window;
  SluiceBrowseView *view;
  SluiceBrowseModel *model;
  SluiceBrowseDetail *detail;

  gen_files (gen, 300, TRUE);
  gen_free (gen);

  window = open_app_browser (path, 1500, 800, &view, &model);
  g_assert_cmpuint (sluice_browse_model_get_count (model), ==, 300);

  /* row 20: GPS, a thumbnail */
  _sluice_browse_view_select (view, 20);
  row = load_row (model, 20);
  detail = _sluice_browse_view_get_detail (view);
  app_test_wait_until (detail_shown, detail, APP_TEST_TIMEOUT_S, "the detail");
  g_assert_cmpstr (sluice_browse_detail_get_detail (detail)->relpath, ==,
                   "2023/Wedding Smith/IMG_00020.JPG");
  geo = sluice_browse_detail_get_geo_uri (detail);
  g_assert_cmpstr (geo, ==, "geo:47.378900,8.539700");
  {
    ThumbWait w = { model, row };
    app_test_wait_until (thumbnail_decoded, &w, APP_TEST_TIMEOUT_S, "the thumbnail");
  }

  /* the rows on screen have their thumbnails */
  for (guint i = 0; i < 24; i++)
    {
      g_autoptr(SluiceBrowseRow) r = load_row (model, i);
      ThumbWait w = { model, r };

      if (sluice_browse_row_get_data (r)->has_thumbnail)
        app_test_wait_until (thumbnail_decoded, &w, APP_TEST_TIMEOUT_S, "the thumbnails");
    }
  app_test_screenshots (GTK_WIDGET (window), "browse-1-detail");

  /* a file without metadata: the placeholder, no map */
  _sluice_browse_view_select (view, 99);
  {
    g_autoptr(SluiceBrowseRow) r = load_row (model, 99);
    app_test_wait_until (detail_shown, detail, APP_TEST_TIMEOUT_S, "the detail");
    g_assert_null (sluice_browse_detail_get_geo_uri (detail));
  }
  app_test_screenshot (GTK_WIDGET (window), "browse-2-no-metadata");

  /* back to the page before */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.browse", NULL);
  g_assert_cmpstr (_sluice_window_get_page (window), ==, "empty");
  app_test_destroy_window (GTK_WINDOW (window));
}

/* ---- thumbnails decoded from the source file ---------------------------------------------- */

/* A 1200×800 "photo" with no EXIF at all: blue sky, green ground, a red sun left of centre. */
static GBytes *
make_photo (void)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 1200, 800);
  g_autoptr(GError) error = NULL;
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  char *buffer = NULL;
  gsize len = 0;

  for (int y = 0; y < 800; y++)
    for (int x = 0; x < 1200; x++)
      {
        guchar *p = pixels + y * stride + x * 3;
        gboolean sun = (x - 400) * (x - 400) + (y - 300) * (y - 300) < 120 * 120;

        p[0] = sun ? 230 : y < 500 ? 90 : 40;
        p[1] = sun ? 30 : y < 500 ? 160 : 150;
        p[2] = sun ? 30 : y < 500 ? 230 : 50;
      }
  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "jpeg", &error,
                                            "quality", "90", NULL));
  g_assert_no_error (error);
  return g_bytes_new_take (buffer, len);
}

/* A file of @gen's source with metadata but no embedded thumbnail. */
static void
gen_plain_file (Gen        *gen,
                const char *relpath,
                const char *sha,
                const char *container)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = sluice_metadata_new ();
  g_autofree char *key = g_strconcat ("archive/", relpath, NULL);
  gint64 file, obj;

  g_assert_true (sluice_catalog_begin (gen->catalog, &error));
  file = sluice_catalog_upsert_file (gen->catalog, gen->source, relpath, 1000,
                                     G_GINT64_CONSTANT (1690000000000000000), sha, gen->run,
                                     &error);
  g_assert_no_error (error);
  meta->container = g_strdup (container);
  meta->make = g_strdup ("Canon");
  meta->model = g_strdup ("Canon EOS R5");
  meta->width = 1200;
  meta->height = 800;
  g_assert_true (sluice_catalog_set_metadata (gen->catalog, file, gen->run, meta,
                                              SLUICE_PROBE_STATE_OK, NULL, &error));
  g_assert_no_error (error);
  obj = sluice_catalog_begin_object (gen->catalog, file, gen->target, key, sha, 1000, gen->run,
                                     &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_finish_object (gen->catalog, obj, SLUICE_OBJECT_UPLOADED,
                                               "\"etag\"", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_commit (gen->catalog, &error));
}

static gboolean
list_decoded (gpointer data)
{
  return sluice_thumbnailer_decodes (sluice_browse_thumbnailer (64)) >= *(guint *) data;
}

/* The position of the row of @relpath. */
static guint
row_of (SluiceBrowseModel *model,
        const char        *relpath)
{
  for (guint i = 0; i < sluice_browse_model_get_count (model); i++)
    {
      g_autoptr(SluiceBrowseRow) r = load_row (model, i);

      if (g_strcmp0 (sluice_browse_row_get_data (r)->relpath, relpath) == 0)
        return i;
    }
  g_error ("no row for %s", relpath);
}

/* Selects the row of @relpath; returns its position. */
static guint
select_relpath (SluiceBrowseView  *view,
                SluiceBrowseModel *model,
                const char        *relpath)
{
  guint i = row_of (model, relpath);

  _sluice_browse_view_select (view, i);
  return i;
}

typedef struct {
  SluiceBrowseDetail *detail;
  const char         *relpath;
  const char         *text;      /* NULL: wait for a picture */
} DetailWait;

static gboolean
detail_settled (gpointer data)
{
  DetailWait *w = data;
  const SluiceQueryDetail *d = sluice_browse_detail_get_detail (w->detail);

  if (d == NULL || g_strcmp0 (d->relpath, w->relpath) != 0)
    return FALSE;
  if (w->text == NULL)
    return sluice_browse_detail_get_thumbnail (w->detail) != NULL;
  return g_strcmp0 (sluice_browse_detail_get_thumbnail_text (w->detail), w->text) == 0;
}

static void
wait_detail (SluiceBrowseDetail *detail,
             const char         *relpath,
             const char         *text)
{
  DetailWait w = { detail, relpath, text };

  app_test_wait_until (detail_settled, &w, APP_TEST_TIMEOUT_S,
                       text != NULL ? text : "the decoded thumbnail");
}

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* The pixel at @x, @y of @paintable (a texture), as R, G, B. */
static void
texture_pixel (GdkPaintable *paintable,
               int           x,
               int           y,
               guint8        rgb[3])
{
  GdkTexture *texture = GDK_TEXTURE (paintable);
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guint8 *data = g_malloc ((gsize) width * height * 4);
  guint32 px;

  gdk_texture_download (texture, data, (gsize) width * 4);
  /* GDK_MEMORY_DEFAULT: B8G8R8A8 premultiplied, native endian ARGB32 */
  memcpy (&px, data + ((gsize) y * width + x) * 4, 4);
  rgb[0] = (px >> 16) & 0xff;
  rgb[1] = (px >> 8) & 0xff;
  rgb[2] = px & 0xff;
}

#if HAVE_HEIF
static struct heif_error
heic_append (struct heif_context *ctx,
             const void          *data,
             size_t               size,
             void                *user_data)
{
  g_byte_array_append (user_data, data, size);
  return (struct heif_error) { heif_error_Ok, heif_suberror_Unspecified, "" };
}

/* 200 × 100 HEIC (libheif's x265 encoder), red on the left, white on the right, stored to be
 * shown turned a quarter clockwise (irot, EXIF's orientation 6) */
static GBytes *
make_heic (void)
{
  struct heif_context *ctx = heif_context_alloc ();
  struct heif_encoder *encoder = NULL;
  struct heif_encoding_options *options = heif_encoding_options_alloc ();
  struct heif_image *image = NULL;
  struct heif_writer writer = { 1, heic_append };
  GByteArray *out = g_byte_array_new ();
  guint8 *plane;
  int stride = 0;

  g_assert_cmpint (heif_image_create (200, 100, heif_colorspace_RGB,
                                      heif_chroma_interleaved_RGB, &image).code, ==,
                   heif_error_Ok);
  g_assert_cmpint (heif_image_add_plane (image, heif_channel_interleaved, 200, 100, 8).code,
                   ==, heif_error_Ok);
  plane = heif_image_get_plane (image, heif_channel_interleaved, &stride);
  for (guint y = 0; y < 100; y++)
    for (guint x = 0; x < 200; x++)
      {
        guint8 *p = plane + (gsize) y * stride + x * 3;

        p[0] = x < 100 ? 220 : 255;
        p[1] = x < 100 ? 0 : 255;
        p[2] = x < 100 ? 0 : 255;
      }
  g_assert_cmpint (heif_context_get_encoder_for_format (ctx, heif_compression_HEVC,
                                                        &encoder).code, ==, heif_error_Ok);
  heif_encoder_set_lossy_quality (encoder, 90);
  options->image_orientation = heif_orientation_rotate_90_cw;
  g_assert_cmpint (heif_context_encode_image (ctx, image, encoder, options, NULL).code, ==,
                   heif_error_Ok);
  g_assert_cmpint (heif_context_write (ctx, &writer, out).code, ==, heif_error_Ok);
  heif_image_release (image);
  heif_encoding_options_free (options);
  heif_encoder_release (encoder);
  heif_context_free (ctx);
  return g_byte_array_free_to_bytes (out);
}

#endif

/* what the detail pane says of a file the helper does not decode */
#define NOT_DECODABLE \
  _("No embedded thumbnail, and only JPEG, PNG, WebP, HEIC, AVIF and TIFF files and the " \
    "previews in raw files can be decoded")

/* A file without an embedded thumbnail: the detail pane shows it decoded by the sandboxed
 * helper, 256 px on its longest side, the right picture; a second selection comes from the
 * cache; a PNG, a WebP (transparency over white), a HEIC (turned by its irot) and a raw
 * file's JPEG preview are decoded too; a gone file, a file that
 * is not what its name says and a video say why in plain words; a late answer never shows on
 * another row. The list's rows show the same files decoded at 64 px; the video is never
 * read for it. */
static void
test_decoded_thumbnail (void)
{
  g_autofree char *source = g_build_filename (tmp_dir, "nas", NULL);
  g_autofree char *photo_path = g_build_filename (source, "Garden", "sunset.jpg", NULL);
  g_autofree char *notes_path = g_build_filename (source, "Garden", "notes.jpg", NULL);
  g_autofree char *logo_path = g_build_filename (source, "Garden", "logo.png", NULL);
  g_autofree char *leaf_path = g_build_filename (source, "Garden", "leaf.webp", NULL);
  g_autofree char *clip_path = g_build_filename (source, "Garden", "clip.mov", NULL);
  g_autofree char *fern_path = g_build_filename (source, "Garden", "fern.heic", NULL);
  g_autofree char *stump_path = g_build_filename (source, "Garden", "stump.raf", NULL);
  g_autofree char *path = gen_path ("decoded.db");
  g_autofree char *photo_sha = NULL;
  g_autofree char *cache_name = NULL;
  g_autofree char *cache_file = NULL;
  g_autoptr(GBytes) photo = make_photo ();
  g_autoptr(GBytes) notes = g_bytes_new_static ("shopping list\n", 14);
  GdkPaintable *picture;
  guint8 rgb[3];
  SluiceWindow *window;
  SluiceBrowseView *view;
  SluiceBrowseModel *model;
  SluiceBrowseDetail *detail;
  Gen *gen;
  guint list_decodes;

  g_autofree char *garden = g_path_get_dirname (photo_path);

  g_assert_cmpint (g_mkdir_with_parents (garden, 0700), ==, 0);
  app_test_write_file (photo_path, photo, 1690000000);
  app_test_write_file (notes_path, notes, 1690000000);
  {
    /* a Fujifilm RAF whose header points at its JPEG preview: the photo */
    GByteArray *raf = g_byte_array_new ();
    guint8 head[160] = { 0 };
    guint32 len = g_bytes_get_size (photo);
    g_autoptr(GBytes) bytes = NULL;

    memcpy (head, "FUJIFILMCCD-RAW 0201FF129502", 28);
    head[87] = sizeof head;
    head[88] = len >> 24;
    head[89] = (len >> 16) & 0xff;
    head[90] = (len >> 8) & 0xff;
    head[91] = len & 0xff;
    g_byte_array_append (raf, head, sizeof head);
    g_byte_array_append (raf, g_bytes_get_data (photo, NULL), len);
    bytes = g_byte_array_free_to_bytes (raf);
    app_test_write_file (stump_path, bytes, 1690000000);
  }
  photo_sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, photo);
  {
    /* 300 × 100, green on the left, transparent on the right (GDK writes it with libpng) */
    g_autofree guint8 *rgba = g_malloc0 (300 * 100 * 4);
    g_autoptr(GBytes) pixels = NULL;
    g_autoptr(GdkTexture) texture = NULL;
    g_autoptr(GBytes) png = NULL;

    for (guint y = 0; y < 100; y++)
      for (guint x = 0; x < 150; x++)
        {
          rgba[(y * 300 + x) * 4 + 1] = 200;
          rgba[(y * 300 + x) * 4 + 3] = 255;
        }
    pixels = g_bytes_new_take (g_steal_pointer (&rgba), 300 * 100 * 4);
    texture = gdk_memory_texture_new (300, 100, GDK_MEMORY_R8G8B8A8, pixels, 300 * 4);
    png = gdk_texture_save_to_png_bytes (texture);
    app_test_write_file (logo_path, png, 1690000000);
  }
  {
    /* 200 × 100 lossless WebP, blue on the left, transparent on the right */
    g_autofree guint8 *rgba = g_malloc0 (200 * 100 * 4);
    g_autoptr(GBytes) webp = NULL;
    guint8 *out = NULL;
    gsize len;

    for (guint y = 0; y < 100; y++)
      for (guint x = 0; x < 100; x++)
        {
          rgba[(y * 200 + x) * 4 + 2] = 200;
          rgba[(y * 200 + x) * 4 + 3] = 255;
        }
    len = WebPEncodeLosslessRGBA (rgba, 200, 100, 200 * 4, &out);
    g_assert_cmpuint (len, >, 0);
    webp = g_bytes_new (out, len);
    WebPFree (out);
    app_test_write_file (leaf_path, webp, 1690000000);
  }
#if HAVE_HEIF
  {
    g_autoptr(GBytes) heic = make_heic ();

    app_test_write_file (fern_path, heic, 1690000000);
  }
#endif
  /* a video is never read for a thumbnail, whatever it holds */
  app_test_write_file (clip_path, notes, 1690000000);

  gen = gen_new_at ("decoded.db", source);
  gen_plain_file (gen, "Garden/sunset.jpg", photo_sha, "jpeg");
  gen_plain_file (gen, "Garden/notes.jpg",
                  "1111111111111111111111111111111111111111111111111111111111111111", "jpeg");
  gen_plain_file (gen, "Garden/logo.png",
                  "3333333333333333333333333333333333333333333333333333333333333333", "png");
  gen_plain_file (gen, "Garden/leaf.webp",
                  "4444444444444444444444444444444444444444444444444444444444444444", "webp");
  /* as an ingest records a video: metadata read, no container recognised */
  gen_plain_file (gen, "Garden/clip.mov",
                  "5555555555555555555555555555555555555555555555555555555555555555", NULL);
  gen_plain_file (gen, "Garden/stump.raf",
                  "7777777777777777777777777777777777777777777777777777777777777777", "raf");
#if HAVE_HEIF
  gen_plain_file (gen, "Garden/fern.heic",
                  "6666666666666666666666666666666666666666666666666666666666666666", "heif");
#endif
  gen_plain_file (gen, "Garden/gone.jpg",
                  "2222222222222222222222222222222222222222222222222222222222222222", "jpeg");
  gen_free (gen);

  list_decodes = sluice_thumbnailer_decodes (sluice_browse_thumbnailer (64));
  window = open_app_browser (path, 1200, 700, &view, &model);
  g_assert_cmpuint (sluice_browse_model_get_count (model), ==, 7 + HAVE_HEIF);
  detail = _sluice_browse_view_get_detail (view);

  /* the list: the rows on screen (all of them) get their pictures decoded, 64 px */
  {
    static const char *const decoded[] = {
      "Garden/logo.png", "Garden/leaf.webp", "Garden/sunset.jpg", "Garden/stump.raf",
#if HAVE_HEIF
      "Garden/fern.heic",
#endif
    };
    guint expected = G_N_ELEMENTS (decoded) + 1;   /* and notes.jpg, which fails */

    for (guint i = 0; i < G_N_ELEMENTS (decoded); i++)
      {
        g_autoptr(SluiceBrowseRow) row = load_row (model, row_of (model, decoded[i]));
        ThumbWait w = { model, row };

        app_test_wait_until (thumbnail_decoded, &w, APP_TEST_TIMEOUT_S, decoded[i]);
        if (i == 0)
          {
            /* 300 × 100 → 64 × 21, green on the left */
            picture = sluice_browse_model_get_thumbnail (model, row);
            g_assert_cmpint (gdk_paintable_get_intrinsic_width (picture), ==, 64);
            g_assert_cmpint (gdk_paintable_get_intrinsic_height (picture), ==, 21);
            texture_pixel (picture, 10, 10, rgb);
            g_assert_cmpuint (rgb[1], >, 180);
          }
      }
    /* the video and the gone file were never sent to the helper */
    {
      guint until = list_decodes + expected;

      app_test_wait_until (list_decoded, &until, APP_TEST_TIMEOUT_S, "the list's decodes");
    }
    wait_ms (500);
    g_assert_cmpuint (sluice_thumbnailer_decodes (sluice_browse_thumbnailer (64)) - list_decodes,
                      ==, expected);
    app_test_screenshot (GTK_WIDGET (window), "browse-5-list-decoded");
  }

  /* the photo, and while it decodes (the helper is still starting) the gone file: the
   * photo's answer, which comes later, must not show on it */
  select_relpath (view, model, "Garden/sunset.jpg");
  wait_detail (detail, "Garden/sunset.jpg", _("Loading thumbnail…"));
  select_relpath (view, model, "Garden/gone.jpg");
  wait_detail (detail, "Garden/gone.jpg",
               _("No thumbnail: the file is no longer in its source folder"));
  wait_ms (1500);
  g_assert_null (sluice_browse_detail_get_thumbnail (detail));
  g_assert_cmpstr (sluice_browse_detail_get_thumbnail_text (detail), ==,
                   _("No thumbnail: the file is no longer in its source folder"));
  app_test_screenshot (GTK_WIDGET (window), "browse-4-thumbnail-gone");

  /* a PNG: 300×100 → 256×85, green on the left, white where it is transparent */
  select_relpath (view, model, "Garden/logo.png");
  wait_detail (detail, "Garden/logo.png", NULL);
  picture = sluice_browse_detail_get_thumbnail (detail);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (picture), ==, 256);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (picture), ==, 85);
  texture_pixel (picture, 40, 40, rgb);
  g_assert_cmpuint (rgb[0], <, 30);
  g_assert_cmpuint (rgb[1], >, 180);
  texture_pixel (picture, 220, 40, rgb);
  g_assert_cmpuint (rgb[0], >, 240);
  g_assert_cmpuint (rgb[1], >, 240);
  g_assert_cmpuint (rgb[2], >, 240);

  /* a WebP: 200×100 is kept, blue on the left, white where it is transparent */
  select_relpath (view, model, "Garden/leaf.webp");
  wait_detail (detail, "Garden/leaf.webp", NULL);
  picture = sluice_browse_detail_get_thumbnail (detail);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (picture), ==, 200);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (picture), ==, 100);
  texture_pixel (picture, 40, 40, rgb);
  g_assert_cmpuint (rgb[0], <, 30);
  g_assert_cmpuint (rgb[2], >, 180);
  texture_pixel (picture, 160, 40, rgb);
  g_assert_cmpuint (rgb[0], >, 240);
  g_assert_cmpuint (rgb[1], >, 240);
  g_assert_cmpuint (rgb[2], >, 240);

#if HAVE_HEIF
  /* a HEIC stored 200×100 on its side (irot): shown 100×200, its red left half on top */
  select_relpath (view, model, "Garden/fern.heic");
  wait_detail (detail, "Garden/fern.heic", NULL);
  picture = sluice_browse_detail_get_thumbnail (detail);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (picture), ==, 100);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (picture), ==, 200);
  texture_pixel (picture, 50, 40, rgb);
  g_assert_cmpuint (rgb[0], >, 180);
  g_assert_cmpuint (rgb[1], <, 60);
  texture_pixel (picture, 50, 160, rgb);
  g_assert_cmpuint (rgb[0], >, 230);
  g_assert_cmpuint (rgb[1], >, 230);
  g_assert_cmpuint (rgb[2], >, 230);
  app_test_screenshot (GTK_WIDGET (window), "browse-4-thumbnail-heic");

#endif

  /* a raw file: its JPEG preview, as the photo's (1200×800 → 256×171, the sun red) */
  select_relpath (view, model, "Garden/stump.raf");
  wait_detail (detail, "Garden/stump.raf", NULL);
  picture = sluice_browse_detail_get_thumbnail (detail);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (picture), ==, 256);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (picture), ==, 171);
  texture_pixel (picture, 85, 64, rgb);
  g_assert_cmpuint (rgb[0], >, 180);
  g_assert_cmpuint (rgb[1], <, 80);

  /* a file that says it is JPEG but is not, and a video the probe saw as one */
  select_relpath (view, model, "Garden/notes.jpg");
  wait_detail (detail, "Garden/notes.jpg",
               NOT_DECODABLE);
  select_relpath (view, model, "Garden/clip.mov");
  wait_detail (detail, "Garden/clip.mov",
               NOT_DECODABLE);

  /* the photo, decoded: 1200×800 → 256×171, the sun red, the sky blue, the ground green */
  select_relpath (view, model, "Garden/sunset.jpg");
  wait_detail (detail, "Garden/sunset.jpg", NULL);
  picture = sluice_browse_detail_get_thumbnail (detail);
  g_assert_true (GDK_IS_TEXTURE (picture));
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (picture), ==, 256);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (picture), ==, 171);
  texture_pixel (picture, 85, 64, rgb);
  g_assert_cmpuint (rgb[0], >, 180);
  g_assert_cmpuint (rgb[1], <, 80);
  texture_pixel (picture, 230, 20, rgb);
  g_assert_cmpuint (rgb[2], >, 180);
  texture_pixel (picture, 128, 160, rgb);
  g_assert_cmpuint (rgb[1], >, 110);
  g_assert_cmpuint (rgb[2], <, 100);
  app_test_screenshots (GTK_WIDGET (window), "browse-3-decoded-thumbnail");

  /* cached on disk by content hash, where the issue says */
  cache_name = g_strdup_printf ("%s-256.rgb", photo_sha);
  cache_file = g_build_filename (g_get_user_cache_dir (), "sluice", "thumbnails", cache_name,
                                 NULL);
  g_assert_true (g_file_test (cache_file, G_FILE_TEST_IS_REGULAR));

  /* away and back, with the source gone from the NAS: still there, from the cache */
  g_assert_cmpint (g_unlink (photo_path), ==, 0);
  select_relpath (view, model, "Garden/notes.jpg");
  wait_detail (detail, "Garden/notes.jpg",
               NOT_DECODABLE);
  select_relpath (view, model, "Garden/sunset.jpg");
  wait_detail (detail, "Garden/sunset.jpg", NULL);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (sluice_browse_detail_get_thumbnail (detail)),
                   ==, 256);

  app_test_destroy_window (GTK_WINDOW (window));
}

/* 400 files without embedded thumbnails, all decodable: the list decodes the rows on screen
 * and a few beyond, not the ~200 GTK binds around them nor the whole catalog; scrolled to
 * the end, the rows there are decoded in turn. */
static void
test_list_decodes_bounded (void)
{
  g_autofree char *source = g_build_filename (tmp_dir, "many", NULL);
  g_autofree char *path = gen_path ("many.db");
  g_autofree char *png_sha = NULL;
  g_autoptr(GBytes) png = NULL;
  GtkAdjustment *vadj;
  SluiceWindow *window;
  SluiceBrowseView *view;
  SluiceBrowseModel *model;
  guint before, on_screen, n = 400;
  Gen *gen;

  {
    /* 40 × 30, one colour; each file its own content, so that each is decoded */
    g_autofree guint8 *rgb = g_malloc (40 * 30 * 3);
    g_autoptr(GBytes) pixels = NULL;
    g_autoptr(GdkTexture) texture = NULL;

    memset (rgb, 0x80, 40 * 30 * 3);
    pixels = g_bytes_new_take (g_steal_pointer (&rgb), 40 * 30 * 3);
    texture = gdk_memory_texture_new (40, 30, GDK_MEMORY_R8G8B8, pixels, 40 * 3);
    png = gdk_texture_save_to_png_bytes (texture);
  }
  g_assert_cmpint (g_mkdir_with_parents (source, 0700), ==, 0);
  gen = gen_new_at ("many.db", source);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("img%04u.png", i);
      g_autofree char *file = g_build_filename (source, relpath, NULL);
      g_autofree char *sha = NULL;
      GByteArray *b = g_byte_array_new ();
      g_autoptr(GBytes) bytes = NULL;
      guint32 tag = i;

      /* the PNG, then 4 bytes after its IEND that make its hash its own */
      g_byte_array_append (b, g_bytes_get_data (png, NULL), g_bytes_get_size (png));
      g_byte_array_append (b, (const guint8 *) &tag, 4);
      bytes = g_byte_array_free_to_bytes (b);
      app_test_write_file (file, bytes, 1690000000);
      sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
      gen_plain_file (gen, relpath, sha, "png");
    }
  gen_free (gen);

  before = sluice_thumbnailer_decodes (sluice_browse_thumbnailer (64));
  window = open_app_browser (path, 1200, 700, &view, &model);
  g_assert_cmpuint (sluice_browse_model_get_count (model), ==, n);

  {
    g_autoptr(SluiceBrowseRow) row = load_row (model, 3);
    ThumbWait w = { model, row };

    app_test_wait_until (thumbnail_decoded, &w, APP_TEST_TIMEOUT_S, "the first rows' pictures");
  }
  wait_ms (1500);
  on_screen = sluice_thumbnailer_decodes (sluice_browse_thumbnailer (64)) - before;
  g_test_message ("decoded with the list at the top: %u of %u", on_screen, n);
  /* ~20 rows fit in 700 px, and 8 more are decoded ahead */
  g_assert_cmpuint (on_screen, >=, 10);
  g_assert_cmpuint (on_screen, <=, 60);

  vadj = gtk_scrollable_get_vadjustment (
    GTK_SCROLLABLE (_sluice_browse_view_get_column_view (view)));
  gtk_adjustment_set_value (vadj, gtk_adjustment_get_upper (vadj));
  {
    g_autoptr(SluiceBrowseRow) row = load_row (model, n - 2);
    ThumbWait w = { model, row };

    app_test_wait_until (thumbnail_decoded, &w, APP_TEST_TIMEOUT_S, "the last rows' pictures");
  }
  wait_ms (1500);
  g_assert_cmpuint (sluice_thumbnailer_decodes (sluice_browse_thumbnailer (64)) - before, <=,
                    2 * 60);
  app_test_destroy_window (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  if (g_strcmp0 (g_getenv ("GSETTINGS_BACKEND"), "memory") != 0 ||
      g_getenv ("GSETTINGS_SCHEMA_DIR") == NULL)
    g_error ("run this through meson test: it needs GSETTINGS_BACKEND=memory and "
             "GSETTINGS_SCHEMA_DIR pointing at the build's data directory");
  if (g_getenv ("XDG_CONFIG_HOME") == NULL || strstr (g_getenv ("XDG_CONFIG_HOME"),
                                                      "sluice-app-session") == NULL)
    g_error ("run this through tests/app/with-session.sh");

  tmp_dir = g_dir_make_tmp ("test-app-browse-XXXXXX", &error);
  g_assert_no_error (error);
  if (!app_test_init_display ())
    {
      g_printerr ("no display\n");
      return 77;
    }
  app = sluice_application_new (APPLICATION_ID,
                                G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));

  g_test_add_func ("/app/browse/model-paging", test_model_paging);
  g_test_add_func ("/app/browse/stale-thumbnail-job", test_stale_thumbnail_job);
  g_test_add_func ("/app/browse/sort-mapping", test_sort_mapping);
  g_test_add_func ("/app/browse/header-clicks", test_header_clicks);
  g_test_add_func ("/app/browse/filters", test_filters);
  g_test_add_func ("/app/browse/live-show-new", test_live_show_new);
  g_test_add_func ("/app/browse/screenshot", test_screenshot);
  g_test_add_func ("/app/browse/details-pane-kept", test_details_pane_kept);
  g_test_add_func ("/app/browse/decoded-thumbnail", test_decoded_thumbnail);
  g_test_add_func ("/app/browse/list-decodes-bounded", test_list_decodes_bounded);
  g_test_add_func ("/app/browse/live-refresh", test_live_refresh);
  g_test_add_func ("/app/browse/columns-fit", test_columns_fit);
  g_test_add_func ("/app/browse/cell-tooltip", test_cell_tooltip);

  ret = g_test_run ();
  g_object_unref (app);
  return ret;
}
