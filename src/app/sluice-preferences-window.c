/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>

#include "sluice-engine.h"
#include "sluice-preferences-window.h"

/* the schema id is the application id: a Devel build keeps settings of its own */
#define SLUICE_SETTINGS_SCHEMA_ID APPLICATION_ID

struct _SluicePreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;

  /* Template children */
  GtkSpinButton        *uploads_spin;
  GtkSpinButton        *probes_spin;
  GtkSpinButton        *bwlimit_spin;
  GtkSpinButton        *threshold_spin;
  GtkSpinButton        *part_size_spin;
  AdwEntryRow          *key_template_row;
  GtkSwitch            *metadata_headers_switch;
  GtkSwitch            *upload_probe_failed_switch;
};

G_DEFINE_FINAL_TYPE (SluicePreferencesWindow, sluice_preferences_window,
                     ADW_TYPE_PREFERENCES_WINDOW)

/* Main thread only. A template is stored only once it parses. */
static void
key_template_apply_cb (SluicePreferencesWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->key_template_row));
  g_autoptr(SluiceKeyTemplate) tmpl = NULL;
  g_autoptr(GError) error = NULL;

  tmpl = sluice_key_template_new (text, &error);
  if (tmpl == NULL)
    {
      g_autofree char *markup = sluice_sanitize_markup (error->message);

      gtk_widget_add_css_class (GTK_WIDGET (self->key_template_row), "error");
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (markup));
      return;
    }
  gtk_widget_remove_css_class (GTK_WIDGET (self->key_template_row), "error");
  g_settings_set_string (self->settings, "key-template", text);
}

static void
key_template_setting_cb (SluicePreferencesWindow *self)
{
  g_autofree char *text = g_settings_get_string (self->settings, "key-template");

  if (g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (self->key_template_row))) != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->key_template_row), text);
}

static void
sluice_preferences_window_dispose (GObject *object)
{
  SluicePreferencesWindow *self = SLUICE_PREFERENCES_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), SLUICE_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sluice_preferences_window_parent_class)->dispose (object);
}

static void
sluice_preferences_window_class_init (SluicePreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sluice_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (
    widget_class, "/io/github/sluice/Sluice/sluice-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SluicePreferencesWindow, uploads_spin);
  gtk_widget_class_bind_template_child (widget_class, SluicePreferencesWindow, probes_spin);
  gtk_widget_class_bind_template_child (widget_class, SluicePreferencesWindow, bwlimit_spin);
  gtk_widget_class_bind_template_child (widget_class, SluicePreferencesWindow, threshold_spin);
  gtk_widget_class_bind_template_child (widget_class, SluicePreferencesWindow, part_size_spin);
  gtk_widget_class_bind_template_child (widget_class, SluicePreferencesWindow, key_template_row);
  gtk_widget_class_bind_template_child (widget_class, SluicePreferencesWindow,
                                        metadata_headers_switch);
  gtk_widget_class_bind_template_child (widget_class, SluicePreferencesWindow,
                                        upload_probe_failed_switch);
}

static void
sluice_preferences_window_init (SluicePreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (SLUICE_SETTINGS_SCHEMA_ID);
  g_settings_bind (self->settings, "concurrent-uploads", self->uploads_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "probe-processes", self->probes_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "bandwidth-limit", self->bwlimit_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "multipart-threshold", self->threshold_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "part-size", self->part_size_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "metadata-headers", self->metadata_headers_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "upload-probe-failed", self->upload_probe_failed_switch,
                   "active", G_SETTINGS_BIND_DEFAULT);

  key_template_setting_cb (self);
  g_signal_connect_object (self->settings, "changed::key-template",
                           G_CALLBACK (key_template_setting_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_swapped (self->key_template_row, "apply",
                            G_CALLBACK (key_template_apply_cb), self);
}

/**
 * sluice_preferences_window_new:
 *
 * Returns: (transfer none): the preferences window, not yet presented
 */
SluicePreferencesWindow *
sluice_preferences_window_new (GtkWindow *parent)
{
  return g_object_new (SLUICE_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       NULL);
}
