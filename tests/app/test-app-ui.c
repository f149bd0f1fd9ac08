/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-test-app"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "app-test-util.h"
#include "sluice-application.h"
#include "sluice-engine.h"
#include "sluice-preferences-window.h"
#include "sluice-target-dialog-private.h"
#include "sluice-window-private.h"

/* The app without a server: the window, drops, the target editor and the keyring, the key
 * preview, preferences and shortcuts. Under Xvfb, in a private session
 * (tests/app/with-session.sh). */

static SluiceApplication *app;
static char *tmp_dir;
static gboolean have_keyring;

static SluiceWindow *
new_window (void)
{
  SluiceWindow *window;

  app_test_reset_settings ();
  window = sluice_window_new (app);
  app_test_show_and_wait (GTK_WINDOW (window));
  return window;
}

static char *
make_folder (const char *name,
             guint       n_images)
{
  g_autofree char *dir = g_build_filename (tmp_dir, name, NULL);

  for (guint i = 0; i < n_images; i++)
    {
      g_autoptr(GBytes) jpeg = app_test_tiny_jpeg (i);
      g_autofree char *file = g_strdup_printf ("photo-%02u.jpg", i);
      g_autofree char *path = g_build_filename (dir, "2020", file, NULL);

      /* 2020-02-29 12:00 UTC */
      app_test_write_file (path, jpeg, G_GINT64_CONSTANT (1582977600));
    }
  g_mkdir_with_parents (dir, 0755);
  return g_steal_pointer (&dir);
}

/* What a drop from a file manager delivers: a GdkFileList, through the window's own
 * GtkDropTarget and its "drop" handler. */
static gboolean
drop_files (SluiceWindow *window,
            GSList       *files)
{
  GtkDropTarget *target = _sluice_window_get_drop_target (window);
  g_auto(GValue) value = G_VALUE_INIT;
  gboolean accepted = FALSE;

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_list (files));
  g_signal_emit_by_name (target, "drop", &value, 10.0, 10.0, &accepted);
  return accepted;
}

static gboolean
has_sources (gpointer data)
{
  return _sluice_window_get_n_sources (data) > 0;
}

static gboolean
has_toast (gpointer data)
{
  return _sluice_window_get_last_toast (data) != NULL;
}

static gboolean
editor_shown (gpointer data)
{
  return app_test_find_toplevel (SLUICE_TYPE_TARGET_DIALOG) != NULL;
}

static gboolean
editor_gone (gpointer data)
{
  return app_test_find_toplevel (SLUICE_TYPE_TARGET_DIALOG) == NULL;
}

static void
test_window_opens (void)
{
  SluiceWindow *window;
  AdwStatusPage *page;

  app_test_reset_settings ();
  g_application_activate (G_APPLICATION (app));
  window = SLUICE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (SLUICE_IS_WINDOW (window));
  app_test_show_and_wait (GTK_WINDOW (window));

  g_assert_cmpstr (_sluice_window_get_page (window), ==, "empty");
  page = window->status_page;
  g_assert_cmpstr (adw_status_page_get_title (page), ==, _("Drop a folder here or choose one"));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (page)));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (window->recent_group)));
  /* with nothing chosen, there is nothing to start */
  g_assert_false (gtk_widget_get_sensitive (window->start_button));

  app_test_screenshots (GTK_WIDGET (window), "app-1-empty");

  /* recent folders: names are markup-escaped ("&"), the list stays short */
  {
    g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
    const char *uris[] = {
      "file:///mnt/nas/photos/2024/Drone%20&%20Boat",
      "file:///media/archive/Scans%20%3Cold%3E",
      "file:///run/media/user/CARD/DCIM",
      NULL
    };

    g_settings_set_strv (settings, "recent-sources", uris);
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window->recent_group)));
    app_test_screenshots (GTK_WIDGET (window), "app-1b-empty-recent");
  }
  app_test_destroy_window (GTK_WINDOW (window));
}

static void
test_drop_not_a_folder (void)
{
  SluiceWindow *window = new_window ();
  g_autofree char *path = g_build_filename (tmp_dir, "Drone & Boat.jpg", NULL);
  g_autoptr(GBytes) jpeg = app_test_tiny_jpeg (1);
  g_autoptr(GFile) file = NULL;
  GSList *files;

  app_test_write_file (path, jpeg, 0);
  file = g_file_new_for_path (path);

  /* dragging over the window shows where to drop */
  {
    GtkDropTarget *target = _sluice_window_get_drop_target (window);
    GdkDragAction action = 0;

    g_signal_emit_by_name (target, "enter", 10.0, 10.0, &action);
    g_assert_cmpint (action, ==, GDK_ACTION_COPY);
    g_assert_true (gtk_widget_get_visible (window->drop_highlight));
    app_test_screenshots (GTK_WIDGET (window), "app-1c-drop-highlight");
    g_signal_emit_by_name (target, "leave");
    g_assert_false (gtk_widget_get_visible (window->drop_highlight));
  }

  files = g_slist_prepend (NULL, file);
  g_assert_true (drop_files (window, files));
  g_slist_free (files);

  app_test_wait_until (has_toast, window, APP_TEST_TIMEOUT_S, "a toast");
  g_test_message ("toast: %s", _sluice_window_get_last_toast (window));
  g_assert_nonnull (strstr (_sluice_window_get_last_toast (window), "Drone & Boat.jpg"));
  g_assert_cmpuint (_sluice_window_get_n_sources (window), ==, 0);
  g_assert_cmpstr (_sluice_window_get_page (window), ==, "empty");
  /* the toast parses markup: the name must have been escaped, or it would not show */
  app_test_wait_frames (GTK_WIDGET (window), 3);

  g_unlink (path);
  app_test_destroy_window (GTK_WINDOW (window));
}

static void
test_drop_folder_without_target (void)
{
  SluiceWindow *window = new_window ();
  g_autofree char *dir = make_folder ("Drone & Boat", 3);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_auto(GStrv) recent = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  GtkWindow *editor;
  GSList *files = g_slist_prepend (NULL, folder);

  g_assert_cmpuint (sluice_target_store_get_n_targets (_sluice_window_get_store (window)), ==, 0);
  g_assert_true (drop_files (window, files));
  g_slist_free (files);

  /* the folder is kept, and the target editor opens for the missing target */
  app_test_wait_until (has_sources, window, APP_TEST_TIMEOUT_S, "the folder to be added");
  g_assert_cmpstr (_sluice_window_get_page (window), ==, "ready");
  app_test_wait_until (editor_shown, NULL, APP_TEST_TIMEOUT_S, "the target editor");
  editor = app_test_find_toplevel (SLUICE_TYPE_TARGET_DIALOG);
  g_assert_true (gtk_window_get_transient_for (editor) == GTK_WINDOW (window));
  g_assert_true (gtk_window_get_modal (editor));

  recent = g_settings_get_strv (settings, "recent-sources");
  g_assert_cmpuint (g_strv_length (recent), ==, 1);
  g_assert_true (g_str_has_suffix (recent[0], "Drone%20&%20Boat"));

  app_test_show_and_wait (editor);
  app_test_screenshots (GTK_WIDGET (editor), "app-2-target-editor");

  gtk_window_close (editor);
  app_test_wait_until (editor_gone, NULL, APP_TEST_TIMEOUT_S, "the editor to close");
  g_assert_cmpuint (_sluice_window_get_n_sources (window), ==, 1);
  app_test_screenshots (GTK_WIDGET (window), "app-2b-ready-no-target");
  app_test_destroy_window (GTK_WINDOW (window));
}

static gboolean
preview_ready (gpointer data)
{
  return _sluice_window_get_key_preview (data) != NULL;
}

static void
test_editor_saves_to_keyring (void)
{
  SluiceWindow *window;
  SluiceTargetDialog *editor;
  SluiceTargetStore *store;
  const SluiceSavedTarget *t;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_folder ("Keys", 2);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  char *secret;

  if (!have_keyring)
    {
      g_test_skip ("no Secret Service (run through tests/app/with-session.sh)");
      return;
    }

  window = new_window ();
  store = _sluice_window_get_store (window);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.new-target", NULL);
  app_test_wait_until (editor_shown, NULL, APP_TEST_TIMEOUT_S, "the target editor");
  editor = SLUICE_TARGET_DIALOG (app_test_find_toplevel (SLUICE_TYPE_TARGET_DIALOG));
  app_test_show_and_wait (GTK_WINDOW (editor));

  _sluice_target_dialog_set_preset (editor, "minio");
  _sluice_target_dialog_set_text (editor, "name_row", "NAS <MinIO> & co");
  _sluice_target_dialog_set_text (editor, "endpoint_row", "http://127.0.0.1:9000/");
  _sluice_target_dialog_set_text (editor, "bucket_row", "photos");
  _sluice_target_dialog_set_text (editor, "prefix_row", "/archive/");
  _sluice_target_dialog_set_text (editor, "access_key_row", "AKIATEST");
  _sluice_target_dialog_set_text (editor, "secret_row", "secret/value+1");
  gtk_widget_activate_action (GTK_WIDGET (editor), "target.save", NULL);
  app_test_wait_until (editor_gone, NULL, APP_TEST_TIMEOUT_S, "the editor to save and close");

  t = sluice_target_store_lookup (store, "NAS <MinIO> & co");
  g_assert_nonnull (t);
  g_assert_cmpstr (t->preset, ==, "minio");
  g_assert_cmpstr (t->target->endpoint, ==, "http://127.0.0.1:9000");
  g_assert_cmpstr (t->target->prefix, ==, "archive");
  g_assert_true (t->target->path_style);
  g_assert_cmpstr (t->access_key_id, ==, "AKIATEST");
  secret = sluice_target_secret_lookup_sync ("NAS <MinIO> & co", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "secret/value+1");
  sluice_target_secret_free (secret);
  {
    /* the secret is nowhere in the key file */
    g_autofree char *contents = NULL;
    g_assert_true (g_file_get_contents (sluice_target_store_get_path (store), &contents,
                                        NULL, NULL));
    g_assert_null (strstr (contents, "secret/value"));
  }

  /* the window selected it; with a folder, a key preview on a real file of it */
  g_settings_set_string (settings, "key-template", "{year}/{month}/{name}.{ext}");
  sluice_window_open_folders (window, &folder, 1);
  app_test_wait_until (preview_ready, window, APP_TEST_TIMEOUT_S, "the key preview");
  g_test_message ("preview: %s (target %u of %u)", _sluice_window_get_key_preview (window),
                  adw_combo_row_get_selected (window->target_row),
                  g_list_model_get_n_items (adw_combo_row_get_model (window->target_row)));
  g_assert_true (g_str_has_prefix (_sluice_window_get_key_preview (window),
                                   "archive/2020/02/photo-0"));
  g_assert_true (gtk_widget_get_sensitive (window->start_button));
  app_test_screenshots (GTK_WIDGET (window), "app-3-ready");

  /* an invalid template is shown as such, in plain words */
  g_settings_set_string (settings, "key-template", "{year}/{month}");
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (window->key_template_row), "error"));

  /* the editor removes it again, with its secret */
  g_assert_true (sluice_target_secret_clear_sync ("NAS <MinIO> & co", NULL, NULL));
  g_assert_true (sluice_target_store_remove (store, "NAS <MinIO> & co", NULL));
  app_test_destroy_window (GTK_WINDOW (window));
}

static void
test_environment_target (void)
{
  SluiceWindow *window;
  SluiceTargetStore *store;
  const SluiceSavedTarget *t;

  g_setenv ("SLUICE_DEFAULT_ENDPOINT", "http://127.0.0.1:7480", TRUE);
  g_setenv ("SLUICE_DEFAULT_BUCKET", "sluice-demo", TRUE);
  window = new_window ();
  store = _sluice_window_get_store (window);
  t = sluice_target_store_lookup (store, _("Local test server"));
  g_assert_nonnull (t);
  g_assert_true (t->transient);
  g_assert_cmpint (t->credentials, ==, SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window->target_row)));
  g_assert_false (g_file_test (sluice_target_store_get_path (store), G_FILE_TEST_EXISTS) &&
                  sluice_target_store_get_n_targets (store) == 0);
  g_unsetenv ("SLUICE_DEFAULT_ENDPOINT");
  g_unsetenv ("SLUICE_DEFAULT_BUCKET");
  app_test_destroy_window (GTK_WINDOW (window));
}

static void
test_preferences (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  SluiceWindow *window = new_window ();
  GtkWindow *prefs;
  GtkSpinButton *spin;

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  prefs = app_test_find_toplevel (SLUICE_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  app_test_show_and_wait (prefs);

  spin = GTK_SPIN_BUTTON (gtk_widget_get_template_child (GTK_WIDGET (prefs),
                                                         SLUICE_TYPE_PREFERENCES_WINDOW,
                                                         "uploads_spin"));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (spin), ==, 16);
  g_settings_set_int (settings, "concurrent-uploads", 4);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (spin), ==, 4);
  gtk_spin_button_set_value (spin, 32);
  g_assert_cmpint (g_settings_get_int (settings, "concurrent-uploads"), ==, 32);
  app_test_screenshots (GTK_WIDGET (prefs), "app-5-preferences");

  app_test_destroy_window (prefs);
  app_test_destroy_window (GTK_WINDOW (window));
}

static void
collision_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  SluiceKeyCollision **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = sluice_key_collision_find_finish (result, &error);
  g_assert_no_error (error);
  if (*out == NULL)
    *out = g_new0 (SluiceKeyCollision, 1);   /* "checked, none" */
}

static gboolean
pointer_set (gpointer data)
{
  return *(gpointer *) data != NULL;
}

/* A template that flattens folders is checked before anything is sent. */
static void
test_key_collisions (void)
{
  g_autofree char *dir = make_folder ("Flatten", 2);
  g_autofree char *twin = g_build_filename (dir, "2021", "photo-01.jpg", NULL);
  g_autoptr(GBytes) jpeg = app_test_tiny_jpeg (3);
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func (g_object_unref);
  SluiceKeyCollision *found = NULL;

  g_ptr_array_add (sources, g_file_new_for_path (dir));

  /* {path} keeps folders apart */
  sluice_key_collision_find_async (sources, "{name}-{ext}/{path}", NULL, collision_cb, &found);
  app_test_wait_until (pointer_set, &found, APP_TEST_TIMEOUT_S, "the check");
  g_assert_null (found->key);
  g_clear_pointer (&found, sluice_key_collision_free);

  /* 2020/photo-01.jpg and 2021/photo-01.jpg are both photo-01.jpg */
  app_test_write_file (twin, jpeg, 0);
  sluice_key_collision_find_async (sources, "{name}.{ext}", NULL, collision_cb, &found);
  app_test_wait_until (pointer_set, &found, APP_TEST_TIMEOUT_S, "the check");
  g_assert_cmpstr (found->key, ==, "photo-01.jpg");
  g_test_message ("%s and %s", found->first, found->second);
  g_clear_pointer (&found, sluice_key_collision_free);
}

/* `sluice FOLDER…` and a file manager's "Open With" go through GApplication::open. */
static void
test_command_line (void)
{
  g_autofree char *dir = make_folder ("From the command line", 1);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  SluiceWindow *window;

  app_test_reset_settings ();
  g_application_open (G_APPLICATION (app), &folder, 1, "");
  window = SLUICE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  app_test_wait_until (has_sources, window, APP_TEST_TIMEOUT_S, "the folder to be added");
  g_assert_cmpstr (_sluice_window_get_page (window), ==, "ready");
  /* no target yet: the editor opens, the folder stays */
  app_test_wait_until (editor_shown, NULL, APP_TEST_TIMEOUT_S, "the target editor");
  app_test_destroy_window (app_test_find_toplevel (SLUICE_TYPE_TARGET_DIALOG));
  g_assert_cmpuint (_sluice_window_get_n_sources (window), ==, 1);
  app_test_destroy_window (GTK_WINDOW (window));
}

/* A run that a quit or a crash interrupted is offered again at the next start. */
static void
test_interrupted_offered (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autofree char *dir = make_folder ("Interrupted", 1);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autofree char *uri = g_file_get_uri (folder);
  SluiceWindow *window;

  app_test_reset_settings ();
  g_setenv ("SLUICE_DEFAULT_ENDPOINT", "http://127.0.0.1:7480", TRUE);
  g_setenv ("SLUICE_DEFAULT_BUCKET", "sluice-demo", TRUE);
  g_settings_set_string (settings, "interrupted-source", uri);
  g_settings_set_string (settings, "interrupted-target", _("Local test server"));
  window = sluice_window_new (app);
  app_test_show_and_wait (GTK_WINDOW (window));
  g_assert_nonnull (_sluice_window_get_last_toast (window));
  g_test_message ("toast: %s", _sluice_window_get_last_toast (window));
  g_assert_nonnull (strstr (_sluice_window_get_last_toast (window), "Interrupted"));
  g_unsetenv ("SLUICE_DEFAULT_ENDPOINT");
  g_unsetenv ("SLUICE_DEFAULT_BUCKET");
  app_test_destroy_window (GTK_WINDOW (window));
}

static void
test_shortcuts (void)
{
  struct { const char *action; const char *accel; } wanted[] = {
    { "app.quit", "<Control>q" },
    { "app.preferences", "<Control>comma" },
    { "win.show-help-overlay", "<Control>question" },
  };
  SluiceWindow *window = new_window ();

  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                    wanted[i].action);
      g_assert_true (g_strv_contains ((const char * const *) accels, wanted[i].accel));
    }
  g_assert_true (gtk_menu_button_get_primary (window->primary_menu_button));
  g_assert_nonnull (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));
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
  /* the saved targets and the catalog go to the private session's directories */
  if (g_getenv ("XDG_CONFIG_HOME") == NULL || strstr (g_getenv ("XDG_CONFIG_HOME"),
                                                      "sluice-app-session") == NULL)
    g_error ("run this through tests/app/with-session.sh: it writes saved targets");
  g_unsetenv ("SLUICE_DEFAULT_ENDPOINT");
  g_unsetenv ("SLUICE_DEFAULT_BUCKET");

  tmp_dir = g_dir_make_tmp ("test-app-ui-XXXXXX", &error);
  g_assert_no_error (error);

  if (!app_test_init_display ())
    {
      g_printerr ("no display\n");
      return 77;
    }
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL)
    {
      have_keyring = sluice_target_secret_clear_sync ("sluice-probe-keyring", NULL, &error);
      if (!have_keyring)
        g_printerr ("# no keyring: %s\n", error->message);
      g_clear_error (&error);
    }

  app = sluice_application_new (APPLICATION_ID,
                                G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));

  g_test_add_func ("/app/ui/window-opens", test_window_opens);
  g_test_add_func ("/app/ui/drop-not-a-folder", test_drop_not_a_folder);
  g_test_add_func ("/app/ui/drop-folder-without-target", test_drop_folder_without_target);
  g_test_add_func ("/app/ui/editor-saves-to-keyring", test_editor_saves_to_keyring);
  g_test_add_func ("/app/ui/environment-target", test_environment_target);
  g_test_add_func ("/app/ui/preferences", test_preferences);
  g_test_add_func ("/app/ui/key-collisions", test_key_collisions);
  g_test_add_func ("/app/ui/command-line", test_command_line);
  g_test_add_func ("/app/ui/interrupted-offered", test_interrupted_offered);
  g_test_add_func ("/app/ui/shortcuts", test_shortcuts);

  ret = g_test_run ();

  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
  g_object_unref (app);
  return ret;
}
