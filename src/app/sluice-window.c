/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>

#include "sluice-target-dialog.h"
#include "sluice-window-private.h"

/* The schema id stays fixed for the Devel build (STYLE.md rule 24): both builds share the
 * user's window size and recent sources. */
/* the schema id is the application id: a Devel build keeps settings of its own */
#define SLUICE_SETTINGS_SCHEMA_ID APPLICATION_ID
#define MAX_RECENT_SOURCES 10
#define MAX_RECENT_SHOWN 5

/* Everything in this file runs on the main thread. */

G_DEFINE_FINAL_TYPE (SluiceWindow, sluice_window, ADW_TYPE_APPLICATION_WINDOW)

static void start_next_run (SluiceWindow *self);
static void update_actions (SluiceWindow *self);

/* ---- small helpers -------------------------------------------------------------------------- */

/* @text is plain text: toasts parse markup in libadwaita 1.2, so it is escaped here. */
void
_sluice_window_toast (SluiceWindow *self,
                      const char   *text)
{
  g_autofree char *markup = sluice_sanitize_markup (text);
  AdwToast *toast = adw_toast_new (markup);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  g_free (self->last_toast);
  self->last_toast = g_strdup (text);
}

static char *
folder_display_name (GFile *file)
{
  g_autofree char *base = g_file_get_basename (file);

  return g_filename_display_name (base != NULL ? base : "/");
}

static char *
folder_display_path (GFile *file)
{
  g_autofree char *path = g_file_get_path (file);

  if (path != NULL)
    return g_filename_display_name (path);
  return g_file_get_parse_name (file);
}

static const SluiceSavedTarget *
selected_target (SluiceWindow *self)
{
  guint i = adw_combo_row_get_selected (self->target_row);
  const char *name;

  if (i == GTK_INVALID_LIST_POSITION ||
      i >= g_list_model_get_n_items (G_LIST_MODEL (self->target_names)))
    return NULL;
  name = gtk_string_list_get_string (self->target_names, i);
  return sluice_target_store_lookup (self->store, name);
}

/* ---- recent sources -------------------------------------------------------------------------- */

static void
recent_row_activated_cb (AdwActionRow *row,
                         SluiceWindow *self)
{
  const char *uri = g_object_get_data (G_OBJECT (row), "uri");
  g_autoptr(GFile) file = g_file_new_for_uri (uri);

  sluice_window_open_folders (self, &file, 1);
}

static void
update_recent (SluiceWindow *self)
{
  g_auto(GStrv) uris = g_settings_get_strv (self->settings, "recent-sources");
  GtkWidget *child;
  guint shown = 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))) != NULL)
    gtk_list_box_remove (self->recent_list, child);

  for (guint i = 0; uris[i] != NULL && shown < MAX_RECENT_SHOWN; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_uri (uris[i]);
      g_autofree char *name = folder_display_name (file);
      g_autofree char *path = folder_display_path (file);
      g_autofree char *title = sluice_sanitize_markup (name);
      g_autofree char *subtitle = sluice_sanitize_markup (path);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                                 gtk_image_new_from_icon_name ("folder-symbolic"));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data_full (G_OBJECT (row), "uri", g_strdup (uris[i]), g_free);
      g_signal_connect (row, "activated", G_CALLBACK (recent_row_activated_cb), self);
      gtk_list_box_append (self->recent_list, row);
      shown++;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->recent_group), shown > 0);
  /* with recent folders below it, a smaller icon keeps the list in view */
  if (shown > 0)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_page), "compact");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_page), "compact");
}

static void
remember_source (SluiceWindow *self,
                 GFile        *file)
{
  g_auto(GStrv) old = g_settings_get_strv (self->settings, "recent-sources");
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_autofree char *uri = g_file_get_uri (file);
  g_auto(GStrv) uris = NULL;
  guint n = 1;

  g_strv_builder_add (b, uri);
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT_SOURCES; i++)
    {
      if (g_str_equal (old[i], uri))
        continue;
      g_strv_builder_add (b, old[i]);
      n++;
    }
  uris = g_strv_builder_end (b);
  g_settings_set_strv (self->settings, "recent-sources", (const char * const *) uris);
}

/* ---- the folders ----------------------------------------------------------------------------- */

static void update_key_preview (SluiceWindow *self);

static void
sample_found_cb (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(SluiceWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  SluiceKeySample *sample = sluice_key_sample_find_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      (self->sample_cancellable != NULL && g_cancellable_is_cancelled (self->sample_cancellable)))
    {
      sluice_key_sample_free (sample);
      return;
    }
  g_clear_pointer (&self->sample, sluice_key_sample_free);
  self->sample = sample;
  if (sample == NULL)
    g_debug ("no file for the key preview: %s", error->message);
  update_key_preview (self);
}

/* The preview follows the first folder; a new first folder means a new sample. */
static void
refresh_sample (SluiceWindow *self)
{
  GFile *first = self->sources->len > 0 ? self->sources->pdata[0] : NULL;

  if (first != NULL && self->sample_source != NULL && g_file_equal (first, self->sample_source))
    return;

  g_cancellable_cancel (self->sample_cancellable);
  g_clear_object (&self->sample_cancellable);
  g_clear_object (&self->sample_source);
  g_clear_pointer (&self->sample, sluice_key_sample_free);
  if (first == NULL)
    return;

  self->sample_source = g_object_ref (first);
  self->sample_cancellable = g_cancellable_new ();
  sluice_key_sample_find_async (first, self->sample_cancellable, sample_found_cb,
                                g_object_ref (self));
  update_key_preview (self);
}

static void
remove_source_cb (GtkButton    *button,
                  SluiceWindow *self)
{
  GFile *file = g_object_get_data (G_OBJECT (button), "file");

  for (guint i = 0; i < self->sources->len; i++)
    {
      if (g_file_equal (self->sources->pdata[i], file))
        {
          g_ptr_array_remove_index (self->sources, i);
          break;
        }
    }
  _sluice_window_add_folders (self, NULL);
}

static void
rebuild_source_rows (SluiceWindow *self)
{
  for (guint i = 0; i < self->source_rows->len; i++)
    adw_preferences_group_remove (self->sources_group, self->source_rows->pdata[i]);
  g_ptr_array_set_size (self->source_rows, 0);

  for (guint i = 0; i < self->sources->len; i++)
    {
      GFile *file = self->sources->pdata[i];
      g_autofree char *name = folder_display_name (file);
      g_autofree char *path = folder_display_path (file);
      g_autofree char *title = sluice_sanitize_markup (name);
      g_autofree char *subtitle = sluice_sanitize_markup (path);
      g_autofree char *remove_label = g_strdup_printf (_("Remove “%s”"), name);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                                 gtk_image_new_from_icon_name ("folder-symbolic"));
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _("Remove Folder"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label, -1);
      g_object_set_data_full (G_OBJECT (remove), "file", g_object_ref (file), g_object_unref);
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_source_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      adw_preferences_group_add (self->sources_group, row);
      g_ptr_array_add (self->source_rows, row);
    }
}

static void
update_title (SluiceWindow *self)
{
  g_autofree char *subtitle = NULL;

  if (self->sources->len == 1)
    subtitle = folder_display_name (self->sources->pdata[0]);
  else if (self->sources->len > 1)
    subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u folder", "%u folders",
                                             self->sources->len), self->sources->len);
  adw_window_title_set_subtitle (self->window_title, subtitle ? subtitle : "");
}

static void
show_page (SluiceWindow *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->stack);

  /* the run page stays until the user is done with it */
  if (g_strcmp0 (page, "run") == 0 && self->run != NULL)
    return;
  gtk_stack_set_visible_child_name (self->stack, self->sources->len > 0 ? "ready" : "empty");
}

static void open_target_editor (SluiceWindow *self,
                                const char   *name);

/**
 * _sluice_window_add_folders:
 * @folders: (nullable) (element-type GFile): folders to add (checked to be folders)
 *
 * Adds folders to the next run and shows them. A folder given before any target exists
 * opens the target editor, keeping the folder.
 */
void
_sluice_window_add_folders (SluiceWindow *self,
                            GPtrArray    *folders)
{
  guint added = 0;

  for (guint i = 0; folders != NULL && i < folders->len; i++)
    {
      GFile *file = folders->pdata[i];
      gboolean known = FALSE;

      for (guint j = 0; j < self->sources->len && !known; j++)
        known = g_file_equal (self->sources->pdata[j], file);
      remember_source (self, file);
      if (known)
        continue;
      g_ptr_array_add (self->sources, g_object_ref (file));
      added++;
    }

  rebuild_source_rows (self);
  update_title (self);
  update_recent (self);
  refresh_sample (self);
  show_page (self);
  update_actions (self);

  if (added > 0 && self->run != NULL && sluice_run_is_active (self->run))
    _sluice_window_toast (self, _("Added for the next upload; this one goes on"));
  else if (added > 0 && sluice_target_store_get_n_targets (self->store) == 0)
    open_target_editor (self, NULL);
}

/* ---- targets --------------------------------------------------------------------------------- */

static void
update_target_description (SluiceWindow *self)
{
  const SluiceSavedTarget *t = selected_target (self);
  g_autofree char *description = NULL;

  if (t != NULL)
    {
      g_autofree char *uri = sluice_target_to_uri (t->target);
      g_autofree char *host = sluice_target_host (t->target);

      /* TRANSLATORS: "s3://bucket/prefix on s3.example.com" */
      description = g_strdup_printf (_("%s on %s"), uri, host);
    }
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->target_row),
                               description ? description : "");
}

/**
 * _sluice_window_reload_targets:
 * @select: (nullable): the name to select, or NULL for the default target
 */
void
_sluice_window_reload_targets (SluiceWindow *self,
                               const char   *select)
{
  g_autoptr(GPtrArray) list = sluice_target_store_list (self->store);
  g_autofree char *wanted = select != NULL ? g_strdup (select)
                            : g_settings_get_string (self->settings, "default-target");
  guint selected = 0;
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_auto(GStrv) names = NULL;

  for (guint i = 0; i < list->len; i++)
    {
      SluiceSavedTarget *t = list->pdata[i];

      g_strv_builder_add (b, t->name);
      if (g_strcmp0 (t->name, wanted) == 0)
        selected = i;
    }
  names = g_strv_builder_end (b);

  self->updating_targets = TRUE;
  gtk_string_list_splice (self->target_names, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->target_names)),
                          (const char * const *) names);
  if (list->len > 0)
    adw_combo_row_set_selected (self->target_row, selected);
  self->updating_targets = FALSE;

  gtk_widget_set_visible (GTK_WIDGET (self->target_row), list->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->no_target_row), list->len == 0);
  if (list->len > 0 && select != NULL)
    g_settings_set_string (self->settings, "default-target", select);
  update_target_description (self);
  update_key_preview (self);
  update_actions (self);
}

static void
target_selected_cb (SluiceWindow *self)
{
  const SluiceSavedTarget *t;

  if (self->updating_targets)
    return;
  t = selected_target (self);
  if (t != NULL)
    g_settings_set_string (self->settings, "default-target", t->name);
  update_target_description (self);
  update_key_preview (self);
  update_actions (self);
}

static void
target_saved_cb (SluiceTargetDialog *dialog,
                 const char         *name,
                 SluiceWindow       *self)
{
  _sluice_window_reload_targets (self, name);
}

static void
open_target_editor (SluiceWindow *self,
                    const char   *name)
{
  SluiceTargetDialog *dialog = sluice_target_dialog_new (GTK_WINDOW (self), self->store, name);

  g_signal_connect_object (dialog, "saved", G_CALLBACK (target_saved_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
load_targets (SluiceWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (!sluice_target_store_load (self->store, &error))
    _sluice_window_toast (self, error->message);

  /* the README's run command: a ready target for the local test server, made from the
   * environment (its secret stays there: nothing is written) */
  if (sluice_target_store_get_n_targets (self->store) == 0)
    {
      g_autoptr(SluiceSavedTarget) env = sluice_saved_target_from_environment ();

      if (env != NULL && !sluice_target_store_put (self->store, env, NULL, &error))
        g_warning ("%s", error->message);
    }
  _sluice_window_reload_targets (self, NULL);
}

/* ---- key preview ----------------------------------------------------------------------------- */

static void
update_key_preview (SluiceWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->key_template_row));
  const SluiceSavedTarget *t = selected_target (self);
  g_autoptr(SluiceKeyTemplate) tmpl = NULL;
  g_autoptr(SluiceTarget) fallback = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  tmpl = sluice_key_template_new (text, &error);
  if (tmpl == NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->key_template_row), "error");
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->key_preview_row),
                                     _("The template cannot be used"));
      subtitle = sluice_sanitize_markup (error->message);
      adw_action_row_set_subtitle (self->key_preview_row, subtitle);
      return;
    }
  gtk_widget_remove_css_class (GTK_WIDGET (self->key_template_row), "error");

  if (self->sample == NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->key_preview_row), _("Example"));
      adw_action_row_set_subtitle (self->key_preview_row,
                                   self->sample_cancellable != NULL
                                   ? _("Looking for an image in the folder…")
                                   : _("Choose a folder to see an example"));
      return;
    }

  if (t == NULL)
    {
      fallback = sluice_target_new ();
      fallback->endpoint = g_strdup ("http://localhost");
      fallback->bucket = g_strdup ("bucket");
    }
  key = sluice_key_template_object_key (tmpl, t != NULL ? t->target : fallback,
                                        self->sample->relpath, self->sample->metadata,
                                        self->sample->mtime_ns, self->sample->sha256, &error);
  {
    g_autofree char *display = g_filename_display_name (self->sample->relpath);
    g_autofree char *escaped = sluice_sanitize_markup (display);

    /* TRANSLATORS: %s is a file's path in the chosen folder */
    title = g_strdup_printf (_("Example: %s"), escaped);
  }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->key_preview_row), title);
  if (key != NULL)
    subtitle = sluice_sanitize_markup (key);
  else
    subtitle = sluice_sanitize_markup (error->message);
  adw_action_row_set_subtitle (self->key_preview_row, subtitle);
}

/* ---- runs ------------------------------------------------------------------------------------ */

static void
fill_options (SluiceWindow          *self,
              SluicePipelineOptions *opts)
{
  int probes = g_settings_get_int (self->settings, "probe-processes");
  guint64 threshold = (guint64) g_settings_get_int (self->settings, "multipart-threshold");
  guint64 part = (guint64) g_settings_get_int (self->settings, "part-size");

  sluice_pipeline_options_init (opts);
  opts->jobs = g_settings_get_int (self->settings, "concurrent-uploads");
  opts->probes = probes > 0 ? (guint) probes : g_get_num_processors ();
  opts->part_size = part * 1024 * 1024;
  opts->multipart_threshold = MAX (threshold, part) * 1024 * 1024;
  opts->bwlimit = (guint64) g_settings_get_int (self->settings, "bandwidth-limit") * 1024;
  opts->metadata_headers = g_settings_get_boolean (self->settings, "metadata-headers");
  opts->skip_probe_failed = !g_settings_get_boolean (self->settings, "upload-probe-failed");
  {
    g_autofree char *tmpl = g_settings_get_string (self->settings, "key-template");
    opts->key_template = g_steal_pointer (&tmpl);
  }
}

static void
uninhibit (SluiceWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (self->inhibit_cookie != 0 && app != NULL)
    gtk_application_uninhibit (app, self->inhibit_cookie);
  self->inhibit_cookie = 0;
}

static void
clear_interrupted (SluiceWindow *self)
{
  g_settings_set_string (self->settings, "interrupted-source", "");
  g_settings_set_string (self->settings, "interrupted-target", "");
}

static void
notify_series_end (SluiceWindow *self)
{
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;
  const char *title;

  if (app == NULL || gtk_window_is_active (GTK_WINDOW (self)))
    return;

  if (self->series_cancelled)
    title = _("Upload stopped");
  else if (self->series_failed > 0)
    {
      title = _("Upload finished with failures");
      /* "%lu", not "%" G_GUINT64_FORMAT: xgettext cannot see through the macro */
      body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%lu file could not be uploaded.",
                                           "%lu files could not be uploaded.",
                                           (gulong) self->series_failed),
                              (gulong) self->series_failed);
    }
  else
    title = _("Upload finished");

  notification = g_notification_new (title);
  if (body != NULL)
    g_notification_set_body (notification, body);
  g_notification_set_default_action (notification, "app.activate");
  g_application_send_notification (app, "run-finished", notification);
}

static void
end_series (SluiceWindow *self)
{
  uninhibit (self);
  g_clear_pointer (&self->series_credentials, g_ptr_array_unref);
  /* a quit keeps the note, so that the next start offers to continue */
  if (!self->close_after_run)
    clear_interrupted (self);
  notify_series_end (self);
  update_actions (self);
  if (self->close_after_run)
    gtk_window_destroy (GTK_WINDOW (self));
}

static void
run_finished_cb (SluiceRun    *run,
                 SluiceWindow *self)
{
  SluiceRunState state = sluice_run_get_state (run);

  self->series_failed += sluice_run_get_n_failed (run);
  if (state != SLUICE_RUN_STATE_FINISHED || sluice_run_get_n_failed (run) > 0)
    g_ptr_array_add (self->retry_sources, g_object_ref (sluice_run_get_source (run)));

  if (state == SLUICE_RUN_STATE_CANCELLED)
    self->series_cancelled = TRUE;

  /* a cancel, a quit, or an error no file gets past (catalog, credentials) ends the series;
   * the folders not reached yet are offered again with "Resume" */
  if (state == SLUICE_RUN_STATE_FINISHED && self->position + 1 < self->series->len &&
      !self->close_after_run)
    {
      self->position++;
      start_next_run (self);
      return;
    }
  for (guint i = self->position + 1; i < self->series->len; i++)
    g_ptr_array_add (self->retry_sources, g_object_ref (self->series->pdata[i]));
  end_series (self);
}

static void
start_next_run (SluiceWindow *self)
{
  SluicePipelineOptions opts;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceRun) run = NULL;
  GFile *source = self->series->pdata[self->position];
  SluiceCredentialsProvider *creds = g_ptr_array_steal_index (self->series_credentials, 0);
  g_autofree char *uri = g_file_get_uri (source);

  fill_options (self, &opts);
  run = sluice_run_new (source, self->series_target, creds, &opts, &error);
  sluice_pipeline_options_clear (&opts);
  if (run == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The upload could not start: %s"),
                                               error->message);
      sluice_credentials_provider_free (creds);
      _sluice_window_toast (self, text);
      end_series (self);
      return;
    }

  g_settings_set_string (self->settings, "interrupted-source", uri);
  g_settings_set_string (self->settings, "interrupted-target", self->series_target->name);

  if (self->run != NULL)
    g_signal_handlers_disconnect_by_data (self->run, self);
  g_set_object (&self->run, run);
  g_signal_connect_object (run, "finished", G_CALLBACK (run_finished_cb), self, 0);
  g_signal_connect_object (run, "notify::state", G_CALLBACK (update_actions), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (run, "notify::pause-reason", G_CALLBACK (update_actions), self,
                           G_CONNECT_SWAPPED);
  sluice_run_view_set_run (self->run_view, run, self->position, self->series->len);
  gtk_stack_set_visible_child_name (self->stack, "run");
  sluice_run_start (run);
  update_actions (self);
}

static void
start_series (SluiceWindow            *self,
              GPtrArray               *sources,
              const SluiceSavedTarget *target,
              const char              *secret)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  g_clear_pointer (&self->series, g_ptr_array_unref);
  self->series = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < sources->len; i++)
    g_ptr_array_add (self->series, g_object_ref (sources->pdata[i]));

  /* one provider per run; the secret is not kept beyond this call */
  g_clear_pointer (&self->series_credentials, g_ptr_array_unref);
  self->series_credentials =
    g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_credentials_provider_free);
  for (guint i = 0; i < sources->len; i++)
    g_ptr_array_add (self->series_credentials,
                     sluice_saved_target_make_credentials (target, secret));

  g_clear_pointer (&self->series_target, sluice_saved_target_free);
  self->series_target = sluice_saved_target_copy (target);
  g_ptr_array_set_size (self->retry_sources, 0);
  self->position = 0;
  self->series_cancelled = FALSE;
  self->series_failed = 0;
  self->close_after_run = FALSE;
  sluice_run_view_clear_failed (self->run_view);

  if (app != NULL && self->inhibit_cookie == 0)
    self->inhibit_cookie = gtk_application_inhibit (app, GTK_WINDOW (self),
                                                    GTK_APPLICATION_INHIBIT_LOGOUT |
                                                    GTK_APPLICATION_INHIBIT_SUSPEND,
                                                    _("Uploading files"));
  start_next_run (self);
}

typedef struct {
  SluiceWindow      *self;
  GPtrArray         *sources;
  SluiceSavedTarget *target;
} StartData;

static void
start_data_free (StartData *data)
{
  g_clear_object (&data->self);
  g_clear_pointer (&data->sources, g_ptr_array_unref);
  g_clear_pointer (&data->target, sluice_saved_target_free);
  g_free (data);
}

static void
secret_for_run_cb (GObject      *source_object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  StartData *data = user_data;
  SluiceWindow *self = data->self;
  g_autoptr(GError) error = NULL;
  char *secret = sluice_target_secret_lookup_finish (result, &error);

  if (g_cancellable_is_cancelled (self->cancellable))
    {
      sluice_target_secret_free (secret);
      start_data_free (data);
      return;
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.start", TRUE);
  if (secret == NULL)
    {
      g_autofree char *text = error != NULL
        ? g_strdup_printf (_("The secret key could not be read from the keyring: %s"),
                           error->message)
        : g_strdup_printf (_("The keyring has no secret key for “%s”; enter it in the "
                             "target editor"), data->target->name);
      _sluice_window_toast (self, text);
      start_data_free (data);
      return;
    }
  start_series (self, data->sources, data->target, secret);
  sluice_target_secret_free (secret);
  start_data_free (data);
}

static void
continue_start (StartData *data)
{
  SluiceWindow *self = data->self;

  if (data->target->credentials == SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT)
    {
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.start", TRUE);
      start_series (self, data->sources, data->target, NULL);
      start_data_free (data);
      return;
    }
  sluice_target_secret_lookup_async (data->target->name, self->cancellable, secret_for_run_cb,
                                     data);
}

static void
collision_checked_cb (GObject      *source_object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  StartData *data = user_data;
  SluiceWindow *self = data->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceKeyCollision) collision = sluice_key_collision_find_finish (result, &error);
  g_autofree char *body = NULL;
  AdwMessageDialog *dialog;

  if (g_cancellable_is_cancelled (self->cancellable))
    {
      start_data_free (data);
      return;
    }
  if (collision == NULL)
    {
      continue_start (data);
      return;
    }

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.start", TRUE);
  body = g_strdup_printf (_("“%s” and “%s” would both be uploaded as “%s”, and one would "
                            "replace the other. Change the key template, for example by "
                            "adding {path} or {sha256}."),
                          collision->first, collision->second, collision->key);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                       _("Two Files Would Get One Key"),
                                                       body));
  adw_message_dialog_add_response (dialog, "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
  g_free (self->last_toast);
  self->last_toast = g_steal_pointer (&body);
  start_data_free (data);
}

static void
start_with (SluiceWindow            *self,
            GPtrArray               *sources,
            const SluiceSavedTarget *target)
{
  g_autofree char *text = g_settings_get_string (self->settings, "key-template");
  g_autoptr(SluiceKeyTemplate) tmpl = NULL;
  g_autoptr(GError) error = NULL;
  StartData *data;

  tmpl = sluice_key_template_new (text, &error);
  if (tmpl == NULL)
    {
      _sluice_window_toast (self, error->message);
      return;
    }
  data = g_new0 (StartData, 1);
  data->self = g_object_ref (self);
  data->sources = g_ptr_array_ref (sources);
  data->target = sluice_saved_target_copy (target);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.start", FALSE);

  /* a template that flattens folders can give two files one key: say so before anything
   * is sent (templates that need the content or the metadata are checked by the engine) */
  if (!sluice_key_template_is_default (tmpl) &&
      sluice_key_template_get_needs (tmpl) == SLUICE_KEY_NEEDS_NOTHING)
    {
      sluice_key_collision_find_async (sources, text, self->cancellable, collision_checked_cb,
                                       data);
      return;
    }
  continue_start (data);
}

/* ---- actions -------------------------------------------------------------------------------- */

static void
update_actions (SluiceWindow *self)
{
  gboolean active = self->run != NULL && sluice_run_is_active (self->run);
  SluiceRunPauseReason reason = self->run != NULL ? sluice_run_get_pause_reason (self->run) : 0;
  gboolean done = self->run != NULL && !active;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.start",
                                 !active && self->sources->len > 0 &&
                                 selected_target (self) != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.edit-target",
                                 selected_target (self) != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.pause",
                                 active && !(reason & SLUICE_RUN_PAUSED_USER));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.resume",
                                 active && (reason & SLUICE_RUN_PAUSED_USER));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel", active);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.retry-failed",
                                 done && self->retry_sources->len > 0 &&
                                 self->series_target != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.done", done);
}

static void
folder_chosen_cb (GtkNativeDialog *native,
                  int              response,
                  SluiceWindow    *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (native));
      guint n = g_list_model_get_n_items (files);
      g_autoptr(GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      sluice_window_open_folders (self, (GFile **) array->pdata, array->len);
    }
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

static void
open_folder_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);
  GtkFileChooserNative *native;

  /* in folder mode; under Flatpak this goes through the file chooser portal */
  native = gtk_file_chooser_native_new (_("Choose Folders to Upload"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                        _("_Choose"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (native), TRUE);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_signal_connect (native, "response", G_CALLBACK (folder_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
new_target_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  open_target_editor (SLUICE_WINDOW (widget), NULL);
}

static void
edit_target_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);
  const SluiceSavedTarget *t = selected_target (self);

  if (t != NULL)
    open_target_editor (self, t->name);
}

static void
start_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);
  const SluiceSavedTarget *t = selected_target (self);

  if (t == NULL)
    {
      open_target_editor (self, NULL);
      return;
    }
  if (self->sources->len == 0 || (self->run != NULL && sluice_run_is_active (self->run)))
    return;
  start_with (self, self->sources, t);
}

static void
pause_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);

  if (self->run != NULL)
    sluice_run_pause (self->run);
}

static void
resume_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);

  if (self->run != NULL)
    sluice_run_resume (self->run);
}

static void
cancel_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    SluiceWindow     *self)
{
  if (g_str_equal (response, "cancel-upload") && self->run != NULL)
    {
      self->series_cancelled = TRUE;
      /* discard: the multipart uploads in progress are aborted on the server */
      sluice_run_cancel (self->run, TRUE);
    }
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);
  AdwMessageDialog *dialog;

  if (self->run == NULL || !sluice_run_is_active (self->run))
    return;
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                               _("Cancel the Upload?"),
                               _("Files being sent now are finished; large files sent in parts "
                                 "are discarded on the server. Files already uploaded stay "
                                 "there, and a later upload skips them.")));
  adw_message_dialog_add_responses (dialog,
                                    "continue", _("_Keep Uploading"),
                                    "cancel-upload", _("_Cancel Upload"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "cancel-upload",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "continue");
  adw_message_dialog_set_close_response (dialog, "continue");
  g_signal_connect_object (dialog, "response", G_CALLBACK (cancel_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
retry_failed_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);
  g_autoptr(GPtrArray) sources = NULL;
  g_autoptr(SluiceSavedTarget) target = NULL;
  const SluiceSavedTarget *current;

  if (self->retry_sources->len == 0 || self->series_target == NULL)
    return;
  /* the same folders and target again: the engine skips what is uploaded and unchanged */
  sources = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->retry_sources->len; i++)
    g_ptr_array_add (sources, g_object_ref (self->retry_sources->pdata[i]));
  current = sluice_target_store_lookup (self->store, self->series_target->name);
  target = sluice_saved_target_copy (current != NULL ? current : self->series_target);
  start_with (self, sources, target);
}

static void
done_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);

  if (self->run != NULL && sluice_run_is_active (self->run))
    return;
  if (self->run != NULL)
    g_signal_handlers_disconnect_by_data (self->run, self);
  g_clear_object (&self->run);
  show_page (self);
  update_actions (self);
}

/* ---- the browser ---------------------------------------------------------------------------- */

/* The header's toggle shows the browser over whichever page was there; off, that page again. */
static void
browse_toggled_cb (SluiceWindow *self)
{
  gboolean active = gtk_toggle_button_get_active (self->browse_button);
  gboolean browsing = g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "browse") == 0;

  if (active && !browsing)
    gtk_stack_set_visible_child_name (self->stack, "browse");
  else if (!active && browsing)
    {
      if (self->run != NULL)
        gtk_stack_set_visible_child_name (self->stack, "run");
      else
        gtk_stack_set_visible_child_name (self->stack,
                                          self->sources->len > 0 ? "ready" : "empty");
    }
}

/* Another page shown (a drop, a run): the toggle follows. */
static void
stack_page_cb (SluiceWindow *self)
{
  gboolean browsing = g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "browse") == 0;

  if (gtk_toggle_button_get_active (self->browse_button) != browsing)
    gtk_toggle_button_set_active (self->browse_button, browsing);
}

static void
browse_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);

  gtk_toggle_button_set_active (self->browse_button,
                                !gtk_toggle_button_get_active (self->browse_button));
}

/* "Browse Uploaded Files" on a finished run: the browser, filtered to that run. */
static void
browse_run_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);

  if (self->run == NULL || sluice_run_is_active (self->run))
    return;
  sluice_browse_view_show_run (self->browse_view, sluice_run_get_run_id (self->run));
  gtk_toggle_button_set_active (self->browse_button, TRUE);
}

SluiceBrowseView *
_sluice_window_get_browse_view (SluiceWindow *self)
{
  return self->browse_view;
}

static void
resume_interrupted_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  SluiceWindow *self = SLUICE_WINDOW (widget);
  g_autofree char *uri = g_settings_get_string (self->settings, "interrupted-source");
  g_autofree char *name = g_settings_get_string (self->settings, "interrupted-target");
  const SluiceSavedTarget *t = sluice_target_store_lookup (self->store, name);
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func (g_object_unref);

  if (*uri == '\0' || t == NULL)
    return;
  g_ptr_array_add (sources, g_file_new_for_uri (uri));
  _sluice_window_add_folders (self, sources);
  _sluice_window_reload_targets (self, name);
  start_with (self, sources, t);
}

static void
offer_interrupted (SluiceWindow *self)
{
  g_autofree char *uri = g_settings_get_string (self->settings, "interrupted-source");
  g_autofree char *name = g_settings_get_string (self->settings, "interrupted-target");
  g_autoptr(GFile) file = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *text = NULL;
  g_autofree char *markup = NULL;
  AdwToast *toast;

  if (*uri == '\0' || sluice_target_store_lookup (self->store, name) == NULL)
    return;
  file = g_file_new_for_uri (uri);
  folder = folder_display_name (file);
  text = g_strdup_printf (_("The upload of “%s” to %s was interrupted"), folder, name);
  markup = sluice_sanitize_markup (text);
  toast = adw_toast_new (markup);
  adw_toast_set_button_label (toast, _("_Resume"));
  adw_toast_set_action_name (toast, "win.resume-interrupted");
  adw_toast_set_timeout (toast, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  g_free (self->last_toast);
  self->last_toast = g_strdup (text);
}

/* ---- closing --------------------------------------------------------------------------------- */

static void
close_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   SluiceWindow     *self)
{
  if (!g_str_equal (response, "stop"))
    return;
  if (self->run == NULL || !sluice_run_is_active (self->run))
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  /* keep the multipart uploads: the next start continues them */
  self->close_after_run = TRUE;
  sluice_run_cancel (self->run, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
}

static gboolean
sluice_window_close_request (GtkWindow *window)
{
  SluiceWindow *self = SLUICE_WINDOW (window);
  AdwMessageDialog *dialog;

  if (self->run == NULL || !sluice_run_is_active (self->run))
    return GTK_WINDOW_CLASS (sluice_window_parent_class)->close_request (window);
  if (self->close_after_run)
    return TRUE;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (window, _("Stop the Upload?"),
                               _("The upload stops once the files being sent are finished. "
                                 "Sluice offers to continue it at the next start; nothing is "
                                 "uploaded twice.")));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Keep Uploading"),
                                    "stop", _("_Stop and Close"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "stop", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (close_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

/* ---- the object ------------------------------------------------------------------------------ */

static void
sluice_window_dispose (GObject *object)
{
  SluiceWindow *self = SLUICE_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->sample_cancellable);
  if (self->run != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->run, self);
      /* a window destroyed without asking (tests, the session ending) still stops its run */
      sluice_run_cancel (self->run, FALSE);
    }
  uninhibit (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), SLUICE_TYPE_WINDOW);
  g_clear_object (&self->run);
  g_clear_object (&self->settings);
  g_clear_object (&self->target_names);
  g_clear_object (&self->sample_cancellable);
  g_clear_object (&self->sample_source);
  g_clear_pointer (&self->sample, sluice_key_sample_free);
  g_clear_pointer (&self->sources, g_ptr_array_unref);
  g_clear_pointer (&self->source_rows, g_ptr_array_unref);
  g_clear_pointer (&self->series, g_ptr_array_unref);
  g_clear_pointer (&self->series_credentials, g_ptr_array_unref);
  g_clear_pointer (&self->retry_sources, g_ptr_array_unref);
  g_clear_pointer (&self->series_target, sluice_saved_target_free);

  G_OBJECT_CLASS (sluice_window_parent_class)->dispose (object);
}

static void
sluice_window_finalize (GObject *object)
{
  SluiceWindow *self = SLUICE_WINDOW (object);

  g_clear_pointer (&self->store, sluice_target_store_free);
  g_clear_object (&self->cancellable);
  g_free (self->last_toast);

  G_OBJECT_CLASS (sluice_window_parent_class)->finalize (object);
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
  g_settings_bind (self->settings, "key-template",
                   self->key_template_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_object (self->settings, "changed::recent-sources",
                           G_CALLBACK (update_recent), self, G_CONNECT_SWAPPED);

  load_targets (self);
  update_recent (self);
  update_key_preview (self);
  update_actions (self);
  offer_interrupted (self);
}

static void
sluice_window_class_init (SluiceWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = sluice_window_constructed;
  object_class->dispose = sluice_window_dispose;
  object_class->finalize = sluice_window_finalize;
  window_class->close_request = sluice_window_close_request;

  g_type_ensure (SLUICE_TYPE_RUN_VIEW);
  g_type_ensure (SLUICE_TYPE_BROWSE_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/sluice/Sluice/sluice-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, status_page);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, recent_group);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, recent_list);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, sources_group);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, target_group);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, target_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, no_target_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, key_template_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, key_preview_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, start_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, drop_highlight);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, run_view);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, browse_view);
  gtk_widget_class_bind_template_child (widget_class, SluiceWindow, browse_button);

  gtk_widget_class_install_action (widget_class, "win.open-folder", NULL, open_folder_action);
  gtk_widget_class_install_action (widget_class, "win.new-target", NULL, new_target_action);
  gtk_widget_class_install_action (widget_class, "win.edit-target", NULL, edit_target_action);
  gtk_widget_class_install_action (widget_class, "win.start", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "win.pause", NULL, pause_action);
  gtk_widget_class_install_action (widget_class, "win.resume", NULL, resume_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "win.retry-failed", NULL, retry_failed_action);
  gtk_widget_class_install_action (widget_class, "win.done", NULL, done_action);
  gtk_widget_class_install_action (widget_class, "win.browse", NULL, browse_action);
  gtk_widget_class_install_action (widget_class, "win.browse-run", NULL, browse_run_action);
  gtk_widget_class_install_action (widget_class, "win.resume-interrupted", NULL,
                                   resume_interrupted_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK,
                                       "win.open-folder", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "win.start", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_b, GDK_CONTROL_MASK,
                                       "win.browse", NULL);
}

static void
sluice_window_init (SluiceWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->store = sluice_target_store_new (NULL);
  self->sources = g_ptr_array_new_with_free_func (g_object_unref);
  self->source_rows = g_ptr_array_new ();
  self->retry_sources = g_ptr_array_new_with_free_func (g_object_unref);
  self->target_names = gtk_string_list_new (NULL);
  adw_combo_row_set_model (self->target_row, G_LIST_MODEL (self->target_names));
  g_signal_connect_swapped (self->target_row, "notify::selected",
                            G_CALLBACK (target_selected_cb), self);
  g_signal_connect_swapped (self->key_template_row, "changed",
                            G_CALLBACK (update_key_preview), self);

  g_signal_connect_swapped (self->browse_button, "toggled", G_CALLBACK (browse_toggled_cb), self);
  g_signal_connect_swapped (self->stack, "notify::visible-child-name",
                            G_CALLBACK (stack_page_cb), self);

  _sluice_window_init_dnd (self);

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

/**
 * sluice_window_is_busy:
 *
 * Whether a run is going on (a quit should ask first).
 */
gboolean
sluice_window_is_busy (SluiceWindow *self)
{
  g_return_val_if_fail (SLUICE_IS_WINDOW (self), FALSE);
  return self->run != NULL && sluice_run_is_active (self->run);
}

/* ---- for tests ------------------------------------------------------------------------------ */

GtkDropTarget *
_sluice_window_get_drop_target (SluiceWindow *self)
{
  return self->drop_target;
}

SluiceRun *
_sluice_window_get_run (SluiceWindow *self)
{
  return self->run;
}

guint
_sluice_window_get_n_sources (SluiceWindow *self)
{
  return self->sources->len;
}

const char *
_sluice_window_get_page (SluiceWindow *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

const char *
_sluice_window_get_key_preview (SluiceWindow *self)
{
  if (self->sample == NULL)
    return NULL;
  return adw_action_row_get_subtitle (self->key_preview_row);
}

SluiceTargetStore *
_sluice_window_get_store (SluiceWindow *self)
{
  return self->store;
}

const char *
_sluice_window_get_last_toast (SluiceWindow *self)
{
  return self->last_toast;
}
