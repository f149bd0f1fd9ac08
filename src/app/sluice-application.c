/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>

#include "sluice-application.h"
#include "sluice-preferences-window.h"
#include "sluice-window.h"

/* The resources live under the release id's path in both builds, so that the Devel build
 * (whose default path would be derived from io.github.sluice.Sluice.Devel) still finds the
 * shortcuts window, the icons and the style sheet. */
#define SLUICE_RESOURCE_BASE_PATH "/io/github/sluice/Sluice"

struct _SluiceApplication
{
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (SluiceApplication, sluice_application, ADW_TYPE_APPLICATION)

/* Main thread only, like every callback in this file.
 *
 * Quitting closes the windows one by one, so that a window with a run going on asks first
 * (and, if told to stop, closes once the files in flight are finished). */
static void
sluice_application_quit_action (GSimpleAction *action,
                                GVariant      *parameter,
                                gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  g_autoptr(GList) windows = g_list_copy (gtk_application_get_windows (app));

  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
}

static void
sluice_application_preferences_action (GSimpleAction *action,
                                       GVariant      *parameter,
                                       gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (app);

  gtk_window_present (GTK_WINDOW (sluice_preferences_window_new (parent)));
}

static void
sluice_application_activate_action (GSimpleAction *action,
                                    GVariant      *parameter,
                                    gpointer       user_data)
{
  g_application_activate (G_APPLICATION (user_data));
}

static void
sluice_application_about_action (GSimpleAction *action,
                                 GVariant      *parameter,
                                 gpointer       user_data)
{
  static const char *developers[] = {
    "The Sluice developers",
    NULL
  };
  GtkApplication *app = GTK_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (app);

  adw_show_about_window (parent,
                         "application-name", "Sluice",
                         "application-icon", APPLICATION_ID,
                         "comments", _("Move image folders from a NAS to S3-compatible "
                                       "storage and catalog their metadata."),
                         "developer-name", _("The Sluice developers"),
                         "developers", developers,
                         "version", PACKAGE_VERSION,
                         "website", "https://github.com/sluice/Sluice",
                         "issue-url", "https://github.com/sluice/Sluice/issues",
                         "copyright", "© 2026 The Sluice developers",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         /* Translators: put your names here, one per line. */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static const GActionEntry app_entries[] = {
  { .name = "quit", .activate = sluice_application_quit_action },
  { .name = "about", .activate = sluice_application_about_action },
  { .name = "preferences", .activate = sluice_application_preferences_action },
  { .name = "activate", .activate = sluice_application_activate_action },
};

static void
sluice_application_activate (GApplication *app)
{
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (window == NULL)
    window = GTK_WINDOW (sluice_window_new (SLUICE_APPLICATION (app)));

  gtk_window_present (window);
}

/* Folders from the command line (`sluice ~/Pictures /mnt/nas/photos`) or a file manager's
 * "Open With". They go to the active window, or a new one. */
static void
sluice_application_open (GApplication  *app,
                         GFile        **files,
                         int            n_files,
                         const char    *hint)
{
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (window == NULL)
    window = GTK_WINDOW (sluice_window_new (SLUICE_APPLICATION (app)));

  gtk_window_present (window);
  sluice_window_open_folders (SLUICE_WINDOW (window), files, (guint) n_files);
}

static void
sluice_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };

  /* Chains up first: AdwApplication initialises libadwaita and loads style.css, and
   * GtkApplication loads gtk/help-overlay.ui and adds the resource icons to the theme. */
  G_APPLICATION_CLASS (sluice_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app),
                                   app_entries,
                                   G_N_ELEMENTS (app_entries),
                                   app);

  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences",
                                         preferences_accels);
}

static void
sluice_application_class_init (SluiceApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = sluice_application_activate;
  app_class->startup = sluice_application_startup;
  app_class->open = sluice_application_open;
}

static void
sluice_application_init (SluiceApplication *self)
{
  /* Names the application in the window list and in "--help" before a window exists. */
  g_set_application_name ("Sluice");
}

/**
 * sluice_application_new:
 * @application_id: the D-Bus name, normally `APPLICATION_ID` from config.h
 * @flags: flags for #GApplication
 *
 * Returns: (transfer full): a new application
 */
SluiceApplication *
sluice_application_new (const char        *application_id,
                        GApplicationFlags  flags)
{
  g_return_val_if_fail (application_id != NULL, NULL);

  /* "resource-base-path" is not a construct property, so GObject sets it after
   * GApplication's constructed() has derived the default from the id. */
  return g_object_new (SLUICE_TYPE_APPLICATION,
                       "application-id", application_id,
                       "flags", flags,
                       "resource-base-path", SLUICE_RESOURCE_BASE_PATH,
                       NULL);
}

/* A toast in the nearest toast overlay above @widget (or a message when there is none). Toasts
 * parse markup in libadwaita 1.2: file names and errors are escaped. */
void
sluice_widget_toast (GtkWidget  *widget,
                     const char *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (widget, ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    {
      g_autofree char *markup = g_markup_escape_text (text, -1);
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (markup));
    }
  else
    g_message ("%s", text);
}
