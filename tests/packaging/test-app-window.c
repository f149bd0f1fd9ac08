/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-test-app"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "sluice-application.h"
#include "sluice-window.h"

/* Smoke test of the main window: built from the same static library as the app, shown on
 * the display (Xvfb under meson test), checked, and rendered to a PNG with the window's own
 * renderer. Main thread only, like GTK. */

#define SCHEMA_ID APPLICATION_ID
#define WAIT_TIMEOUT_SECONDS 10

static SluiceApplication *app;
static gboolean have_display;
static char *tmp_dir;

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main context until done (data) holds; fails the test after a timeout. */
static void
wait_until (gboolean  (*done) (gpointer data),
            gpointer    data,
            const char *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (timed_out)
    g_error ("timed out waiting for %s", what);
  g_source_remove (id);
}

static gboolean
count_frames_cb (GtkWidget     *widget,
                 GdkFrameClock *frame_clock,
                 gpointer       user_data)
{
  guint *frames = user_data;

  (*frames)++;
  return *frames < 3 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
three_frames (gpointer data)
{
  return *(guint *) data >= 3;
}

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* Presents @window and waits for three frames, so that it is mapped, allocated and drawn. */
static void
show_and_wait (GtkWindow *window)
{
  guint frames = 0;

  gtk_widget_add_tick_callback (GTK_WIDGET (window), count_frames_cb, &frames, NULL);
  gtk_window_present (window);
  wait_until (three_frames, &frames, "the window to be drawn");

  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (window)));
}

/* Destroys @window and checks that it is finalized: nothing else keeps it alive. */
static void
destroy_window (GtkWindow *window)
{
  gpointer weak = window;

  g_object_add_weak_pointer (G_OBJECT (window), &weak);
  gtk_window_destroy (window);
  wait_until (pointer_cleared, &weak, "the window to be finalized");
}

static void
reset_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (g_type_is_a (G_OBJECT_TYPE (widget), type))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_descendant (child, type);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static void
test_status_page (void)
{
  GtkWindow *window;
  AdwStatusPage *page;
  GtkIconTheme *theme;
  const char *icon_name;

  if (!have_display)
    {
      g_test_skip ("no display");
      return;
    }

  reset_settings ();

  /* Activation creates the main window, as it does when the app starts. */
  g_application_activate (G_APPLICATION (app));
  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_assert_true (SLUICE_IS_WINDOW (window));
  g_assert_cmpstr (gtk_window_get_title (window), ==, "Sluice");

  page = ADW_STATUS_PAGE (find_descendant (GTK_WIDGET (window), ADW_TYPE_STATUS_PAGE));
  g_assert_nonnull (page);
  g_assert_cmpstr (adw_status_page_get_title (page), ==, _("Drop a folder here or choose one"));
  g_assert_nonnull (strstr (adw_status_page_get_description (page),
                            "<tt>sluice-cli ingest</tt>"));

  /* The symbolic icon comes from the GResource, so it is there uninstalled too. */
  icon_name = adw_status_page_get_icon_name (page);
  g_assert_cmpstr (icon_name, ==, "io.github.sluice.Sluice-symbolic");
  theme = gtk_icon_theme_get_for_display (gtk_widget_get_display (GTK_WIDGET (window)));
  g_assert_true (gtk_icon_theme_has_icon (theme, icon_name));

  /* A second activation presents the same window rather than opening another. */
  g_application_activate (G_APPLICATION (app));
  g_assert_true (gtk_application_get_active_window (GTK_APPLICATION (app)) == window);
  g_assert_cmpuint (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))), ==, 1);

  destroy_window (window);
}

static void
test_actions (void)
{
  g_auto(GStrv) quit_accels = NULL;
  g_auto(GStrv) help_accels = NULL;
  GtkMenuButton *menu_button;
  SluiceWindow *window;
  GtkWindow *about = NULL;
  GList *toplevels;

  if (!have_display)
    {
      g_test_skip ("no display");
      return;
    }

  reset_settings ();
  window = sluice_window_new (app);

  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "quit"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "about"));
  quit_accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.quit");
  g_assert_true (g_strv_contains ((const char * const *) quit_accels, "<Control>q"));

  /* GtkApplication loaded gtk/help-overlay.ui from the resource base path, which is what
   * makes Ctrl+? work. */
  g_assert_nonnull (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));
  help_accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                       "win.show-help-overlay");
  g_assert_true (g_strv_contains ((const char * const *) help_accels, "<Control>question"));

  /* The primary menu opens with F10. */
  menu_button = GTK_MENU_BUTTON (find_descendant (GTK_WIDGET (window), GTK_TYPE_MENU_BUTTON));
  g_assert_nonnull (menu_button);
  g_assert_true (gtk_menu_button_get_primary (menu_button));
  g_assert_nonnull (gtk_menu_button_get_menu_model (menu_button));

  show_and_wait (GTK_WINDOW (window));

  /* app.about opens an about window over the main window. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  toplevels = gtk_window_list_toplevels ();
  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_ABOUT_WINDOW (l->data))
      about = l->data;
  g_list_free (toplevels);
  g_assert_nonnull (about);
  g_assert_true (gtk_window_get_transient_for (about) == GTK_WINDOW (window));
  g_assert_cmpstr (adw_about_window_get_version (ADW_ABOUT_WINDOW (about)), ==, PACKAGE_VERSION);
  destroy_window (about);

  destroy_window (GTK_WINDOW (window));
}

static void
test_settings (void)
{
  g_autoptr(GSettings) settings = NULL;
  SluiceWindow *window;
  int width, height;

  if (!have_display)
    {
      g_test_skip ("no display");
      return;
    }

  reset_settings ();
  settings = g_settings_new (SCHEMA_ID);

  /* Defaults: the size the issue asks for. */
  window = sluice_window_new (app);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 900);
  g_assert_cmpint (height, ==, 640);
  destroy_window (GTK_WINDOW (window));

  /* A stored size is restored... */
  g_settings_set_int (settings, "window-width", 1024);
  g_settings_set_int (settings, "window-height", 700);
  window = sluice_window_new (app);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 1024);
  g_assert_cmpint (height, ==, 700);

  /* ...and a new size is stored. */
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 600);
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 800);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 600);

  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
  gtk_window_maximize (GTK_WINDOW (window));
  g_assert_true (g_settings_get_boolean (settings, "window-maximized"));
  destroy_window (GTK_WINDOW (window));

  g_settings_set_boolean (settings, "window-maximized", TRUE);
  window = sluice_window_new (app);
  g_assert_true (gtk_window_is_maximized (GTK_WINDOW (window)));
  destroy_window (GTK_WINDOW (window));

  reset_settings ();
}

static guint
count_distinct_pixels (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  gsize stride = (gsize) width * 4;
  g_autofree guint32 *pixels = g_new (guint32, (gsize) width * height);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  gdk_texture_download (texture, (guchar *) pixels, stride);
  for (gsize i = 0; i < (gsize) width * height; i++)
    {
      g_hash_table_add (seen, GUINT_TO_POINTER (pixels[i]));
      if (g_hash_table_size (seen) > 64)
        break;
    }

  return g_hash_table_size (seen);
}

static void
test_render (void)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  SluiceWindow *window;
  const char *out_dir;
  gsize length = 0;
  int width, height;

  if (!have_display)
    {
      g_test_skip ("no display");
      return;
    }

  reset_settings ();
  window = sluice_window_new (app);
  show_and_wait (GTK_WINDOW (window));

  paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
  width = gdk_paintable_get_intrinsic_width (paintable);
  height = gdk_paintable_get_intrinsic_height (paintable);
  g_test_message ("window renders at %d×%d", width, height);
  g_assert_cmpint (width, >=, 900);
  g_assert_cmpint (height, >=, 640);

  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);

  renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  g_assert_nonnull (renderer);
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_cmpint (gdk_texture_get_width (texture), ==, width);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, height);

  /* A blank or single-colour picture means nothing was drawn. */
  g_assert_cmpuint (count_distinct_pixels (texture), >, 16);

  path = g_build_filename (tmp_dir, "sluice-window.png", NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpuint (length, >, 1000);
  g_assert_true (memcmp (contents, "\x89PNG\r\n\x1a\n", 8) == 0);
  g_assert_cmpint (g_unlink (path), ==, 0);

  /* Keep a copy where a person (or CI) can look at it. */
  out_dir = g_getenv ("SLUICE_TEST_SCREENSHOT_DIR");
  if (out_dir != NULL && *out_dir != '\0')
    {
      g_autofree char *copy = g_build_filename (out_dir, "sluice-window.png", NULL);

      g_assert_true (g_file_set_contents (copy, contents, length, NULL));
      g_test_message ("screenshot: %s", copy);
    }

  destroy_window (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  /* Not G_TEST_OPTION_ISOLATE_DIRS: it empties XDG_DATA_DIRS, and gdk-pixbuf then cannot
   * sniff SVG icons without the shared-mime-info database. Nothing here writes to the user's
   * directories: the settings live in memory, and the PNG goes to a private temporary
   * directory. */
  g_test_init (&argc, &argv, NULL);

  /* The app test needs the schema compiled into the build directory and the memory
   * backend; say so rather than abort inside GSettings. */
  if (g_strcmp0 (g_getenv ("GSETTINGS_BACKEND"), "memory") != 0 ||
      g_getenv ("GSETTINGS_SCHEMA_DIR") == NULL)
    g_error ("run this through meson test: it needs GSETTINGS_BACKEND=memory and "
             "GSETTINGS_SCHEMA_DIR pointing at the build's data directory");

  tmp_dir = g_dir_make_tmp ("test-app-window-XXXXXX", &error);
  g_assert_no_error (error);

  have_display = gtk_init_check ();
  if (have_display)
    {
      app = sluice_application_new (APPLICATION_ID, G_APPLICATION_NON_UNIQUE);
      g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));
    }

  g_test_add_func ("/app/window/status-page", test_status_page);
  g_test_add_func ("/app/window/actions", test_actions);
  g_test_add_func ("/app/window/settings", test_settings);
  g_test_add_func ("/app/window/render", test_render);

  ret = g_test_run ();

  /* Every window was checked for leaks; the application itself stays referenced by
   * GtkApplication's platform glue, since it never ran (and so never shut down). */
  if (app != NULL)
    {
      g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
      g_object_unref (app);
    }

  g_assert_cmpint (g_rmdir (tmp_dir), ==, 0);
  g_free (tmp_dir);

  return ret;
}
