/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-test-app"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "app-test-util.h"
#include "sluice-application.h"
#include "sluice-engine.h"
#include "sluice-preferences-window.h"
#include "sluice-target-dialog-private.h"
#include "sluice-window-private.h"

/* The app in German (LANG=de_DE.UTF-8, the catalogs this build compiled): the main window,
 * the folder-ready page, the target editor and the preferences show German text, no English
 * string that has a translation is left on screen, and no label is cut short. Screenshots
 * de-*.png go to the build directory. Under Xvfb, in a private session
 * (tests/app/with-session.sh). */

static SluiceApplication *app;
static char *tmp_dir;

/* ---- the widget tree's text ---------------------------------------------------------------- */

typedef struct {
  GPtrArray *texts;       /* every string shown, as set on the widgets */
  GPtrArray *ellipsized;  /* labels Pango had to shorten */
} Seen;

static void
add_text (Seen       *seen,
          const char *text)
{
  if (text != NULL && *text != '\0')
    g_ptr_array_add (seen->texts, g_strdup (text));
}

static void
collect (GtkWidget *widget,
         Seen      *seen)
{
  if (!gtk_widget_get_mapped (widget))
    return;

  add_text (seen, gtk_widget_get_tooltip_text (widget));
  if (GTK_IS_LABEL (widget))
    {
      GtkLabel *label = GTK_LABEL (widget);

      add_text (seen, gtk_label_get_text (label));
      if (gtk_label_get_ellipsize (label) != PANGO_ELLIPSIZE_NONE &&
          pango_layout_is_ellipsized (gtk_label_get_layout (label)))
        g_ptr_array_add (seen->ellipsized, g_strdup (gtk_label_get_text (label)));
    }
  else if (GTK_IS_WINDOW (widget))
    add_text (seen, gtk_window_get_title (GTK_WINDOW (widget)));
  else if (ADW_IS_STATUS_PAGE (widget))
    {
      add_text (seen, adw_status_page_get_title (ADW_STATUS_PAGE (widget)));
      add_text (seen, adw_status_page_get_description (ADW_STATUS_PAGE (widget)));
    }
  else if (ADW_IS_PREFERENCES_GROUP (widget))
    {
      add_text (seen, adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (widget)));
      add_text (seen, adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (widget)));
    }
  else if (GTK_IS_BUTTON (widget))
    add_text (seen, gtk_button_get_label (GTK_BUTTON (widget)));
  if (ADW_IS_PREFERENCES_ROW (widget))
    add_text (seen, adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)));
  if (ADW_IS_ACTION_ROW (widget))
    add_text (seen, adw_action_row_get_subtitle (ADW_ACTION_ROW (widget)));

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, seen);
}

static gboolean
seen_has (Seen       *seen,
          const char *text)
{
  for (guint i = 0; i < seen->texts->len; i++)
    if (g_str_equal (g_ptr_array_index (seen->texts, i), text))
      return TRUE;
  return FALSE;
}

/* Checks @widget in German: the @expected strings are shown (written out here, so that a
 * catalog that was not loaded fails), no shown string is an English msgid with a
 * translation, no label is ellipsized. Then takes the screenshot @name. */
static void
check_german (GtkWidget          *widget,
              const char * const *expected,
              const char         *name)
{
  Seen seen = { g_ptr_array_new_with_free_func (g_free),
                g_ptr_array_new_with_free_func (g_free) };
  g_autofree char *png = NULL;
  int minimum = 0, natural = 0;

  /* first, so that a failure below can be looked at */
  png = app_test_screenshot (widget, name);
  g_test_message ("screenshot: %s", png);
  collect (widget, &seen);
  g_assert_cmpuint (seen.texts->len, >, 3);

  for (guint i = 0; expected[i] != NULL; i++)
    {
      if (!seen_has (&seen, expected[i]))
        {
          for (guint j = 0; j < seen.texts->len; j++)
            g_test_message ("shown: %s", (char *) g_ptr_array_index (seen.texts, j));
          g_error ("%s: “%s” is not shown", name, expected[i]);
        }
    }

  for (guint i = 0; i < seen.texts->len; i++)
    {
      const char *text = g_ptr_array_index (seen.texts, i);
      const char *translated = g_dgettext (GETTEXT_PACKAGE, text);

      /* an msgid whose translation differs: English on a German screen */
      if (translated != text && !g_str_equal (translated, text))
        g_error ("%s: “%s” is shown in English (German: “%s”)", name, text, translated);
    }

  for (guint i = 0; i < seen.ellipsized->len; i++)
    g_error ("%s: the label “%s” is cut short", name,
             (char *) g_ptr_array_index (seen.ellipsized, i));

  gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, &natural, NULL, NULL);
  g_test_message ("%s: %u strings, minimum width %d, natural %d", name, seen.texts->len,
                  minimum, natural);

  g_ptr_array_unref (seen.texts);
  g_ptr_array_unref (seen.ellipsized);
}

/* ---- the pages ----------------------------------------------------------------------------- */

static gboolean
has_sources (gpointer data)
{
  return _sluice_window_get_n_sources (data) > 0;
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
test_window (void)
{
  static const char * const expected[] = {
    "Ordner hier ablegen oder auswählen",
    "Ordner _wählen…",
    "Zuletzt verwendete Ordner",
    NULL
  };
  const char *uris[] = {
    "file:///mnt/nas/Fotos/2024/Hochzeit%20M%C3%BCller",
    "file:///media/archiv/Dias%20der%20Gro%C3%9Feltern",
    NULL
  };
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  SluiceWindow *window;

  app_test_reset_settings ();
  g_settings_set_strv (settings, "recent-sources", uris);
  g_application_activate (G_APPLICATION (app));
  window = SLUICE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  app_test_show_and_wait (GTK_WINDOW (window));
  g_assert_cmpstr (_sluice_window_get_page (window), ==, "empty");

  check_german (GTK_WIDGET (window), expected, "de-1-window");
  app_test_destroy_window (GTK_WINDOW (window));
}

/* A folder dropped without a target: the folder-ready page, and the target editor opens. */
static void
test_ready_and_editor (void)
{
  static const char * const expected_ready[] = {
    "Hochladen _starten",
    "Objektschlüssel",
    "Noch kein Ziel",
    NULL
  };
  static const char * const expected_editor[] = {
    "Anbieter",
    "Geheimer Zugriffsschlüssel",
    "Zugangsdaten",
    "Sichere Verbindung",
    NULL
  };
  g_autofree char *dir = g_build_filename (tmp_dir, "Urlaub am Bodensee", NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_auto(GValue) value = G_VALUE_INIT;
  GSList *files = g_slist_prepend (NULL, folder);
  gboolean accepted = FALSE;
  SluiceWindow *window;
  GtkWindow *editor;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  app_test_reset_settings ();
  window = sluice_window_new (app);
  app_test_show_and_wait (GTK_WINDOW (window));

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_list (files));
  g_slist_free (files);
  g_signal_emit_by_name (_sluice_window_get_drop_target (window), "drop", &value, 10.0, 10.0,
                         &accepted);
  g_assert_true (accepted);
  app_test_wait_until (has_sources, window, APP_TEST_TIMEOUT_S, "the folder to be added");
  app_test_wait_until (editor_shown, NULL, APP_TEST_TIMEOUT_S, "the target editor");
  editor = app_test_find_toplevel (SLUICE_TYPE_TARGET_DIALOG);
  app_test_show_and_wait (editor);
  check_german (GTK_WIDGET (editor), expected_editor, "de-3-target-editor");

  gtk_window_close (editor);
  app_test_wait_until (editor_gone, NULL, APP_TEST_TIMEOUT_S, "the editor to close");
  g_assert_cmpstr (_sluice_window_get_page (window), ==, "ready");
  check_german (GTK_WIDGET (window), expected_ready, "de-2-ready");
  app_test_destroy_window (GTK_WINDOW (window));
}

static void
test_preferences (void)
{
  static const char * const expected[] = {
    "Geschwindigkeit",
    "Große Dateien",
    "Teilgröße (MiB)",
    NULL
  };
  SluiceWindow *window;
  GtkWindow *prefs;

  app_test_reset_settings ();
  window = sluice_window_new (app);
  app_test_show_and_wait (GTK_WINDOW (window));
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  prefs = app_test_find_toplevel (SLUICE_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  app_test_show_and_wait (prefs);
  check_german (GTK_WIDGET (prefs), expected, "de-4-preferences");
  app_test_destroy_window (prefs);
  app_test_destroy_window (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  const char *locale;
  int ret;

  g_test_init (&argc, &argv, NULL);

  if (g_strcmp0 (g_getenv ("GSETTINGS_BACKEND"), "memory") != 0 ||
      g_getenv ("GSETTINGS_SCHEMA_DIR") == NULL)
    g_error ("run this through meson test: it needs GSETTINGS_BACKEND=memory and "
             "GSETTINGS_SCHEMA_DIR pointing at the build's data directory");

  /* What the app's main() does, with the catalogs of this build. LANGUAGE alone would not
   * do: gettext ignores it under the C locale, so the locale itself must exist. */
  locale = setlocale (LC_ALL, "");
  if (locale == NULL || !g_str_has_prefix (setlocale (LC_MESSAGES, NULL), "de_DE"))
    g_error ("the de_DE.UTF-8 locale is not available (setlocale gave %s for LANG=%s): "
             "generate it with tools/install-deps.sh (Debian: locales, locale-gen)",
             locale != NULL ? setlocale (LC_MESSAGES, NULL) : "nothing", g_getenv ("LANG"));
  bindtextdomain (GETTEXT_PACKAGE, PO_BUILDDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  if (g_str_equal (_("Drop a folder here or choose one"), "Drop a folder here or choose one"))
    g_error ("the German catalog was not found under %s", PO_BUILDDIR);

  tmp_dir = g_dir_make_tmp ("test-app-german-XXXXXX", &error);
  g_assert_no_error (error);

  if (!app_test_init_display ())
    {
      g_printerr ("no display\n");
      return 77;
    }

  app = sluice_application_new (APPLICATION_ID,
                                G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));

  g_test_add_func ("/app/german/window", test_window);
  g_test_add_func ("/app/german/ready-and-editor", test_ready_and_editor);
  g_test_add_func ("/app/german/preferences", test_preferences);

  ret = g_test_run ();

  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
  g_object_unref (app);
  return ret;
}
