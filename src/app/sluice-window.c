/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>

#include "sluice-window.h"

/* The schema id stays fixed for the Devel build (STYLE.md rule 24): both builds share the
 * user's window size and recent sources. */
#define SLUICE_SETTINGS_SCHEMA_ID "io.github.sluice.Sluice"

struct _SluiceWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;

  /* Template children */
  AdwStatusPage        *status_page;
  GtkMenuButton        *primary_menu_button;
};

G_DEFINE_FINAL_TYPE (SluiceWindow, sluice_window, ADW_TYPE_APPLICATION_WINDOW)

static void
sluice_window_dispose (GObject *object)
{
  SluiceWindow *self = SLUICE_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), SLUICE_TYPE_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sluice_window_parent_class)->dispose (object);
}

static void
sluice_window_constructed (GObject *object)
{
  SluiceWindow *self = SLUICE_WINDOW (object);

  G_OBJECT_CLASS (sluice_window_parent_class)->constructed (object);

  /* Bound here rather than in init(): "maximized" is a construct property of GtkWindow, and
   * GObject sets it to FALSE after init(), which would overwrite the restored state and
   * store FALSE back into the settings.
   *
   * GTK updates default-width/-height as the user resizes (not while maximized), so the
   * bindings store the last unmaximized size. */
  self->settings = g_settings_new (SLUICE_SETTINGS_SCHEMA_ID);
  g_settings_bind (self->settings, "window-width",
                   self, "default-width",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height",
                   self, "default-height",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized",
                   self, "maximized",
                   G_SETTINGS_BIND_DEFAULT);
}

static void
sluice_window_class_init (SluiceWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = sluice_window_constructed;
  object_class->dispose = sluice_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/sluice/Sluice/sluice-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, status_page);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, primary_menu_button);
}

static void
sluice_window_init (SluiceWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

#if DEVELOPMENT_BUILD
  /* libadwaita draws the striped "development" header bar for this class. */
  gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
#endif
}

/**
 * sluice_window_new:
 * @application: the application the window belongs to
 *
 * Main thread only.
 *
 * Returns: (transfer none): a new main window, owned by @application
 */
SluiceWindow *
sluice_window_new (SluiceApplication *application)
{
  g_return_val_if_fail (SLUICE_IS_APPLICATION (application), NULL);

  return g_object_new (SLUICE_TYPE_WINDOW,
                       "application", application,
                       NULL);
}
