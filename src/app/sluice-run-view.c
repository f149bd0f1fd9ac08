/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>

#include "sluice-run-view.h"

/* The run page: bars, counters, rate and ETA, buttons, failed files. Everything here runs on
 * the main thread, driven by the run's 10 Hz "progress" signal. */

/* Rows in the failed list; the rest are counted in one last row. */
#define MAX_FAILED_ROWS 200

typedef enum {
  COUNTER_FOUND,
  COUNTER_PROBED,
  COUNTER_UPLOADED,
  COUNTER_SKIPPED,
  COUNTER_FAILED,
  N_COUNTERS
} Counter;

struct _SluiceRunView
{
  AdwBin          parent_instance;

  SluiceRun      *run;
  guint           position;
  guint           n_runs;
  guint           n_failed_rows;
  guint64         n_failed_more;
  GtkWidget      *more_row;
  GtkLabel       *counter_values[N_COUNTERS];
  GtkWidget      *counter_cells[N_COUNTERS];

  /* Template children */
  GtkLabel            *title_label;
  GtkLabel            *subtitle_label;
  GtkLabel            *files_label;
  GtkProgressBar      *files_bar;
  GtkLabel            *bytes_label;
  GtkProgressBar      *bytes_bar;
  GtkLabel            *rate_label;
  GtkBox              *counters_box;
  GtkLabel            *status_label;
  GtkWidget           *pause_button;
  GtkWidget           *resume_button;
  GtkWidget           *cancel_button;
  GtkWidget           *retry_button;
  GtkWidget           *done_button;
  GtkWidget           *browse_button;
  AdwPreferencesGroup *failed_group;
  GtkListBox          *failed_list;
};

G_DEFINE_FINAL_TYPE (SluiceRunView, sluice_run_view, ADW_TYPE_BIN)

static char *
format_count (gint64 n)
{
  /* the locale's thousands separator: "5,000", "5.000", "5 000" */
  return g_strdup_printf ("%'" G_GINT64_FORMAT, n);
}

static char *
format_duration (double seconds)
{
  guint s = (guint) (seconds + 0.5);

  if (s < 60)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "About %u second left",
                                         "About %u seconds left", s), s);
  if (s < 3600)
    {
      guint m = (s + 30) / 60;
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "About %u minute left",
                                           "About %u minutes left", m), m);
    }
  {
    guint h = s / 3600, m = (s % 3600) / 60;
    /* TRANSLATORS: hours and minutes, e.g. "About 2 h 05 min left" */
    return g_strdup_printf (_("About %u h %02u min left"), h, m);
  }
}

static const char *
source_name (SluiceRun *run,
             char     **out_owned)
{
  GFile *source = sluice_run_get_source (run);
  g_autofree char *base = g_file_get_basename (source);

  *out_owned = g_filename_display_name (base != NULL ? base : "/");
  return *out_owned;
}

static void
update_title (SluiceRunView *self)
{
  const SluiceSavedTarget *target = sluice_run_get_target (self->run);
  g_autofree char *name = NULL;
  g_autofree char *title = NULL;
  g_autofree char *uri = sluice_target_to_uri (target->target);
  g_autofree char *subtitle = NULL;
  source_name (self->run, &name);
  switch (sluice_run_get_state (self->run))
    {
    case SLUICE_RUN_STATE_NEW:
    case SLUICE_RUN_STATE_RUNNING:
      /* TRANSLATORS: %s is a folder name */
      title = g_strdup_printf (_("Uploading “%s”"), name);
      break;
    case SLUICE_RUN_STATE_PAUSED:
      title = g_strdup_printf (_("Upload of “%s” Paused"), name);
      break;
    case SLUICE_RUN_STATE_FINISHED:
      title = sluice_run_get_n_failed (self->run) > 0
              ? g_strdup_printf (_("Some Files of “%s” Failed"), name)
              : g_strdup_printf (_("“%s” Uploaded"), name);
      break;
    case SLUICE_RUN_STATE_CANCELLED:
      title = g_strdup_printf (_("Upload of “%s” Stopped"), name);
      break;
    case SLUICE_RUN_STATE_FAILED:
    default:
      title = g_strdup_printf (_("Upload of “%s” Failed"), name);
      break;
    }

  if (self->n_runs > 1)
    /* TRANSLATORS: "to TARGET · s3://bucket/prefix · folder 2 of 3" */
    subtitle = g_strdup_printf (_("to %s · %s · folder %u of %u"), target->name, uri,
                                self->position + 1, self->n_runs);
  else
    /* TRANSLATORS: "to TARGET · s3://bucket/prefix" */
    subtitle = g_strdup_printf (_("to %s · %s"), target->name, uri);

  gtk_label_set_text (self->title_label, title);
  gtk_label_set_text (self->subtitle_label, subtitle);
}

static void
set_counter (SluiceRunView *self,
             Counter        counter,
             const char    *caption,
             gint64         value)
{
  g_autofree char *text = format_count (value);
  g_autofree char *label = NULL;

  if (g_strcmp0 (gtk_label_get_text (self->counter_values[counter]), text) == 0)
    return;
  gtk_label_set_text (self->counter_values[counter], text);
  /* TRANSLATORS: what a screen reader says for a counter: "Uploaded: 1,234" */
  label = g_strdup_printf (_("%s: %s"), caption, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->counter_cells[counter]),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

static const char *counter_captions[N_COUNTERS] = {
  /* TRANSLATORS: the counters of a run; keep them short */
  N_("Found"),
  N_("Metadata Read"),
  N_("Uploaded"),
  N_("Skipped"),
  N_("Failed"),
};

static void
update_status (SluiceRunView *self)
{
  SluiceRunState state = sluice_run_get_state (self->run);
  SluiceRunPauseReason reason = sluice_run_get_pause_reason (self->run);
  const GError *error = sluice_run_get_error (self->run);
  gboolean active = state == SLUICE_RUN_STATE_RUNNING || state == SLUICE_RUN_STATE_PAUSED;
  gboolean user_paused = (reason & SLUICE_RUN_PAUSED_USER) != 0;
  g_autofree char *text = NULL;

  gtk_widget_set_visible (self->pause_button, active && !user_paused);
  gtk_widget_set_visible (self->resume_button, active && user_paused);
  gtk_widget_set_visible (self->cancel_button, active);
  gtk_widget_set_visible (self->retry_button,
                          !active && (sluice_run_get_n_failed (self->run) > 0 ||
                                      state == SLUICE_RUN_STATE_FAILED ||
                                      state == SLUICE_RUN_STATE_CANCELLED));
  gtk_widget_set_visible (self->done_button, !active);
  gtk_widget_set_visible (self->browse_button, !active);
  gtk_button_set_label (GTK_BUTTON (self->retry_button),
                        state == SLUICE_RUN_STATE_CANCELLED || state == SLUICE_RUN_STATE_FAILED
                        ? _("_Resume") : _("_Retry Failed"));

  gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
  if (active && (reason & SLUICE_RUN_PAUSED_NETWORK))
    text = g_strdup (_("Paused: the network is away. The upload goes on by itself when it "
                       "is back."));
  else if (active && user_paused)
    text = g_strdup (_("Paused. Files being sent finish first; nothing is sent twice."));
  else if (active && (reason & SLUICE_RUN_PAUSED_SERVER))
    text = g_strdup (_("The server cannot be reached. Waiting for it…"));
  else if (state == SLUICE_RUN_STATE_CANCELLED)
    text = g_strdup (_("Stopped. Resume to continue where it stopped: what was uploaded is "
                       "not sent again."));
  else if (state == SLUICE_RUN_STATE_FAILED && error != NULL)
    {
      const char *plain = error->domain == SLUICE_ERROR
                          ? sluice_error_describe (error->code)
                          : sluice_error_describe (SLUICE_ERROR_FAILED);
      text = g_strdup_printf ("%s\n%s", plain, error->message);
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
    }
  else if (state == SLUICE_RUN_STATE_FINISHED && sluice_run_get_n_failed (self->run) > 0)
    text = g_strdup (_("The files below could not be uploaded. Fix what their reasons say, "
                       "then retry: files already uploaded are skipped."));

  gtk_label_set_text (self->status_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), text != NULL);
}

static void
update_progress (SluiceRunView *self)
{
  const SluiceRunProgress *p = sluice_run_get_progress (self->run);
  SluiceRunState state = sluice_run_get_state (self->run);
  gboolean active = state == SLUICE_RUN_STATE_RUNNING || state == SLUICE_RUN_STATE_PAUSED;
  g_autofree char *done = format_count (p->files_done);
  g_autofree char *total = format_count (p->files_total);
  g_autofree char *bytes_done = g_format_size (p->bytes_done);
  g_autofree char *bytes_total = g_format_size (p->bytes_total);
  g_autofree char *files_text = NULL;
  g_autofree char *bytes_text = NULL;
  g_autofree char *rate_text = NULL;
  double files_fraction = p->files_total > 0 ? (double) p->files_done / p->files_total : 0;
  double bytes_fraction = p->bytes_total > 0 ? (double) p->bytes_done / p->bytes_total : 0;

  if (p->walk_done || !active)
    /* TRANSLATORS: "1,234 of 5,000" files */
    files_text = g_strdup_printf (_("%s of %s"), done, total);
  else
    /* TRANSLATORS: "1,234 of 5,000 found so far" files, while the folder is being listed */
    files_text = g_strdup_printf (_("%s of %s found so far"), done, total);
  /* TRANSLATORS: "1.2 GB of 3.4 GB" */
  bytes_text = g_strdup_printf (_("%s of %s"), bytes_done, bytes_total);
  gtk_label_set_text (self->files_label, files_text);
  gtk_label_set_text (self->bytes_label, bytes_text);

  /* a finished run's bars are full, even for an empty folder; a run that failed or was
   * stopped shows how far it got (empty when it failed before the first file) */
  if (state == SLUICE_RUN_STATE_FINISHED && p->files_done == p->files_total)
    files_fraction = bytes_fraction = 1.0;
  gtk_progress_bar_set_fraction (self->files_bar, CLAMP (files_fraction, 0, 1));
  gtk_progress_bar_set_fraction (self->bytes_bar, CLAMP (bytes_fraction, 0, 1));

  if (active)
    {
      g_autofree char *rate = g_format_size ((guint64) MAX (p->upload_rate, 0));
      g_autofree char *eta = p->eta_seconds >= 0 ? format_duration (p->eta_seconds) : NULL;

      if (sluice_run_get_pause_reason (self->run) != SLUICE_RUN_PAUSED_NONE)
        {
          g_autofree char *sent = g_format_size (p->counts.bytes[SLUICE_STAGE_UPLOADED]);

          /* TRANSLATORS: "1.2 MB sent so far", while a run is paused */
          rate_text = g_strdup_printf (_("%s sent so far"), sent);
        }
      else if (!p->walk_done)
        /* TRANSLATORS: "12.3 MB/s · counting files…" */
        rate_text = g_strdup_printf (_("%s/s · counting files…"), rate);
      else if (eta != NULL)
        /* TRANSLATORS: "12.3 MB/s · About 3 minutes left" */
        rate_text = g_strdup_printf (_("%s/s · %s"), rate, eta);
      else
        rate_text = g_strdup_printf (_("%s/s"), rate);
    }
  else
    {
      g_autofree char *sent = g_format_size (p->counts.bytes[SLUICE_STAGE_UPLOADED]);
      guint s = (guint) p->elapsed_seconds;

      /* TRANSLATORS: "1.2 GB sent in 3:05" (minutes:seconds) */
      rate_text = g_strdup_printf (_("%s sent in %u:%02u"), sent, s / 60, s % 60);
    }
  gtk_label_set_text (self->rate_label, rate_text);

  set_counter (self, COUNTER_FOUND, _(counter_captions[COUNTER_FOUND]),
               p->counts.files[SLUICE_STAGE_FOUND]);
  set_counter (self, COUNTER_PROBED, _(counter_captions[COUNTER_PROBED]),
               p->counts.files[SLUICE_STAGE_PROBED]);
  set_counter (self, COUNTER_UPLOADED, _(counter_captions[COUNTER_UPLOADED]),
               p->counts.files[SLUICE_STAGE_UPLOADED] +
               p->counts.files[SLUICE_STAGE_DEDUPLICATED]);
  set_counter (self, COUNTER_SKIPPED, _(counter_captions[COUNTER_SKIPPED]),
               p->counts.files[SLUICE_STAGE_SKIPPED]);
  set_counter (self, COUNTER_FAILED, _(counter_captions[COUNTER_FAILED]),
               p->counts.files[SLUICE_STAGE_FAILED]);
  if (p->counts.files[SLUICE_STAGE_FAILED] > 0)
    gtk_widget_add_css_class (self->counter_cells[COUNTER_FAILED], "error");
  else
    gtk_widget_remove_css_class (self->counter_cells[COUNTER_FAILED], "error");
}

static void
progress_cb (SluiceRunView *self)
{
  update_progress (self);
}

static void
state_cb (SluiceRunView *self)
{
  update_title (self);
  update_status (self);
  update_progress (self);
}

static GtkWidget *
failed_row_new (const SluiceFailedFile *file)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *title = sluice_sanitize_markup (file->relpath);
  g_autofree char *subtitle = sluice_sanitize_markup (file->reason);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 2);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  /* the specifics (request, server code, request id) for whoever needs them */
  if (file->details != NULL)
    gtk_widget_set_tooltip_text (row, file->details);
  return row;
}

static void
update_more_row (SluiceRunView *self)
{
  g_autofree char *count = NULL;
  g_autofree char *title = NULL;

  if (self->n_failed_more == 0)
    return;
  if (self->more_row == NULL)
    {
      self->more_row = adw_action_row_new ();
      gtk_widget_add_css_class (self->more_row, "dim-label");
      gtk_list_box_append (self->failed_list, self->more_row);
    }
  count = format_count (self->n_failed_more);
  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "And %s more file",
                                        "And %s more files", self->n_failed_more), count);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->more_row), title);
}

static void
update_failed_title (SluiceRunView *self)
{
  guint64 total = self->n_failed_rows + self->n_failed_more;
  g_autofree char *count = format_count (total);
  g_autofree char *description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s file",
                                                               "%s files", total), count);

  adw_preferences_group_set_description (self->failed_group, description);
  gtk_widget_set_visible (GTK_WIDGET (self->failed_group), total > 0);
}

static void
files_failed_cb (SluiceRunView *self,
                 GPtrArray     *batch)
{
  for (guint i = 0; i < batch->len; i++)
    {
      if (self->n_failed_rows < MAX_FAILED_ROWS)
        {
          gtk_list_box_append (self->failed_list, failed_row_new (batch->pdata[i]));
          self->n_failed_rows++;
        }
      else
        self->n_failed_more++;
    }
  update_more_row (self);
  update_failed_title (self);
}

static void
disconnect_run (SluiceRunView *self)
{
  if (self->run != NULL)
    g_signal_handlers_disconnect_by_data (self->run, self);
  g_clear_object (&self->run);
}

/**
 * sluice_run_view_clear_failed:
 *
 * Empties the failed list (a new series of runs starts). Main thread only.
 */
void
sluice_run_view_clear_failed (SluiceRunView *self)
{
  GtkWidget *child;

  g_return_if_fail (SLUICE_IS_RUN_VIEW (self));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->failed_list))) != NULL)
    gtk_list_box_remove (self->failed_list, child);
  self->more_row = NULL;
  self->n_failed_rows = 0;
  self->n_failed_more = 0;
  update_failed_title (self);
}

guint
sluice_run_view_get_n_failed_rows (SluiceRunView *self)
{
  return self->n_failed_rows;
}

/**
 * sluice_run_view_set_run:
 * @position: which of @n_runs runs (one per folder) this is, from 0
 *
 * Shows @run; failed files add to those already listed. Main thread only.
 */
void
sluice_run_view_set_run (SluiceRunView *self,
                         SluiceRun     *run,
                         guint          position,
                         guint          n_runs)
{
  g_return_if_fail (SLUICE_IS_RUN_VIEW (self));
  g_return_if_fail (SLUICE_IS_RUN (run));

  disconnect_run (self);
  self->run = g_object_ref (run);
  self->position = position;
  self->n_runs = n_runs;

  g_signal_connect_object (run, "progress", G_CALLBACK (progress_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (run, "files-failed", G_CALLBACK (files_failed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (run, "notify::state", G_CALLBACK (state_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (run, "notify::pause-reason", G_CALLBACK (state_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (run, "finished", G_CALLBACK (state_cb), self, G_CONNECT_SWAPPED);
  state_cb (self);
}

static void
sluice_run_view_dispose (GObject *object)
{
  SluiceRunView *self = SLUICE_RUN_VIEW (object);

  disconnect_run (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), SLUICE_TYPE_RUN_VIEW);

  G_OBJECT_CLASS (sluice_run_view_parent_class)->dispose (object);
}

static void
sluice_run_view_class_init (SluiceRunViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sluice_run_view_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/sluice/Sluice/sluice-run-view.ui");
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, title_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, files_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, files_bar);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, bytes_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, bytes_bar);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, rate_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, counters_box);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, status_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, pause_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, resume_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, retry_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, done_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, browse_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, failed_group);
  gtk_widget_class_bind_template_child (widget_class, SluiceRunView, failed_list);
}

static void
sluice_run_view_init (SluiceRunView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  for (guint i = 0; i < N_COUNTERS; i++)
    {
      GtkWidget *cell = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      GtkWidget *value = gtk_label_new ("0");
      GtkWidget *caption = gtk_label_new (_(counter_captions[i]));

      gtk_widget_add_css_class (cell, "counter");
      gtk_widget_add_css_class (value, "title-3");
      gtk_widget_add_css_class (value, "numeric");
      gtk_label_set_ellipsize (GTK_LABEL (value), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (caption, "caption");
      gtk_widget_add_css_class (caption, "dim-label");
      gtk_label_set_ellipsize (GTK_LABEL (caption), PANGO_ELLIPSIZE_END);
      gtk_box_append (GTK_BOX (cell), value);
      gtk_box_append (GTK_BOX (cell), caption);
      gtk_box_append (self->counters_box, cell);
      /* a screen reader reads "Uploaded: 1,234" as one thing */
      gtk_accessible_update_property (GTK_ACCESSIBLE (cell),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _(counter_captions[i]),
                                      -1);
      self->counter_values[i] = GTK_LABEL (value);
      self->counter_cells[i] = cell;
    }
}

GtkWidget *
sluice_run_view_new (void)
{
  return g_object_new (SLUICE_TYPE_RUN_VIEW, NULL);
}
