/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-test-app"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#include "app-test-util.h"

/* gtk_init_check(), and the windowing system the test runs on. With SLUICE_TEST_GDK_BACKEND
 * ("x11" or "wayland", set by tests/app/meson.build) the display must be of that kind: a run
 * meant for Wayland that fell back to X11 would test nothing new. */
gboolean
app_test_init_display (void)
{
  const char *expected = g_getenv ("SLUICE_TEST_GDK_BACKEND");
  GdkDisplay *display;
  const char *kind;

  if (!gtk_init_check ())
    return FALSE;
  display = gdk_display_get_default ();
  kind = G_OBJECT_TYPE_NAME (display);
  g_print ("# display %s: %s\n", gdk_display_get_name (display), kind);
  if (g_strcmp0 (expected, "wayland") == 0)
    g_assert_cmpstr (kind, ==, "GdkWaylandDisplay");
  else if (g_strcmp0 (expected, "x11") == 0)
    g_assert_cmpstr (kind, ==, "GdkX11Display");
  else if (expected != NULL)
    g_error ("SLUICE_TEST_GDK_BACKEND=%s: expected x11 or wayland", expected);
  return TRUE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main context until @done holds; fails the test after @timeout_s. */
void
app_test_wait_until (AppTestCondition  done,
                     gpointer          data,
                     guint             timeout_s,
                     const char       *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (timeout_s, timeout_cb, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("timed out after %u s waiting for %s", timeout_s, what);
  g_source_remove (id);
}

typedef struct {
  guint seen;
  guint wanted;
} Frames;

static gboolean
count_frames_cb (GtkWidget     *widget,
                 GdkFrameClock *clock,
                 gpointer       user_data)
{
  Frames *f = user_data;

  f->seen++;
  return f->seen < f->wanted ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
frames_done (gpointer data)
{
  Frames *f = data;
  return f->seen >= f->wanted;
}

void
app_test_wait_frames (GtkWidget *widget,
                      guint      frames)
{
  Frames f = { 0, frames };

  gtk_widget_add_tick_callback (widget, count_frames_cb, &f, NULL);
  gtk_widget_queue_draw (widget);
  app_test_wait_until (frames_done, &f, APP_TEST_TIMEOUT_S, "frames to be drawn");
}

void
app_test_show_and_wait (GtkWindow *window)
{
  gtk_window_present (window);
  app_test_wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (window)));
}

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *) data == NULL;
}

void
app_test_destroy_window (GtkWindow *window)
{
  gpointer weak = window;

  g_object_add_weak_pointer (G_OBJECT (window), &weak);
  gtk_window_destroy (window);
  app_test_wait_until (pointer_cleared, &weak, APP_TEST_TIMEOUT_S,
                       "the window to be finalized");
}

void
app_test_reset_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
}

GtkWindow *
app_test_find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GtkWindow *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && found == NULL; i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (g_type_is_a (G_OBJECT_TYPE (w), type) && gtk_widget_get_visible (GTK_WIDGET (w)))
        found = GTK_WINDOW (w);
    }
  return found;
}

/* Renders @widget with its own renderer into a PNG in $SLUICE_TEST_SCREENSHOT_DIR (the
 * build directory, never the source tree), or the temporary directory. Returns the path. */
char *
app_test_screenshot (GtkWidget  *widget,
                     const char *name)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  const char *dir = g_getenv ("SLUICE_TEST_SCREENSHOT_DIR");
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  char *path;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  int width, height;

  /* let transitions (stack crossfades, squeezers, style changes) finish: 400 ms */
  {
    gboolean done = FALSE;
    g_timeout_add (400, timeout_cb, &done);
    while (!done)
      g_main_context_iteration (NULL, TRUE);
  }
  app_test_wait_frames (widget, 3);
  paintable = gtk_widget_paintable_new (widget);
  width = gdk_paintable_get_intrinsic_width (paintable);
  height = gdk_paintable_get_intrinsic_height (paintable);
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (dir == NULL || *dir == '\0')
    dir = g_get_tmp_dir ();
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  path = g_build_filename (dir, file, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot %s (%d×%d): %s", name, width, height, path);
  return path;
}

/* The same in the light and in the dark style. */
void
app_test_screenshots (GtkWidget  *widget,
                      const char *name)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  g_autofree char *dark = g_strconcat (name, "-dark", NULL);
  g_autofree char *light_path = NULL;
  g_autofree char *dark_path = NULL;

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  light_path = app_test_screenshot (widget, name);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  dark_path = app_test_screenshot (widget, dark);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
}

/* A small, valid JPEG (16×12), different for each seed: real bytes for the probe, tiny on
 * disk. */
GBytes *
app_test_tiny_jpeg (guint seed)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 16, 12);
  g_autoptr(GError) error = NULL;
  g_autofree char *quality = g_strdup_printf ("%u", 50 + seed % 40);
  char *buffer = NULL;
  gsize len = 0;

  gdk_pixbuf_fill (pixbuf, (seed * 2654435761u) | 0xff);
  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "jpeg", &error,
                                            "quality", quality, NULL));
  g_assert_no_error (error);
  return g_bytes_new_take (buffer, len);
}

void
app_test_write_file (const char *path,
                     GBytes     *bytes,
                     gint64      mtime_s)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
  if (mtime_s > 0)
    {
      struct utimbuf times = { mtime_s, mtime_s };
      g_assert_cmpint (g_utime (path, &times), ==, 0);
    }
}
