/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>

#include "sluice-target-dialog-private.h"

/* The target editor: presets, fields, the secret to the keyring, and "Test" with the outcome
 * in plain words. Main thread only, like every function here that is not marked otherwise. */

struct _SluiceTargetDialog
{
  AdwWindow            parent_instance;

  SluiceTargetStore   *store;       /* borrowed from the window, which outlives us */
  char                *old_name;    /* NULL for a new target */
  gboolean             old_transient;
  gboolean             loading;
  GCancellable        *cancellable; /* keyring and connection test; cancelled on close */
  GtkStringList       *preset_model;
  GtkStringList       *region_model;
  char                *ca_file;
  gboolean             testing;
  gboolean             result_success;

  /* Template children */
  AdwWindowTitle      *window_title;
  AdwToastOverlay     *toast_overlay;
  AdwEntryRow         *name_row;
  AdwComboRow         *preset_row;
  AdwEntryRow         *endpoint_row;
  AdwComboRow         *region_combo_row;
  AdwEntryRow         *region_entry_row;
  AdwComboRow         *addressing_row;
  AdwEntryRow         *bucket_row;
  AdwEntryRow         *prefix_row;
  AdwComboRow         *credentials_row;
  AdwEntryRow         *access_key_row;
  AdwPasswordEntryRow *secret_row;
  AdwActionRow        *ca_row;
  GtkButton           *ca_clear_button;
  AdwActionRow        *verify_row;
  GtkSwitch           *verify_switch;
  AdwEntryRow         *storage_class_row;
  AdwComboRow         *sse_row;
  AdwEntryRow         *kms_key_row;
  AdwEntryRow         *tags_row;
  GtkSwitch           *acl_switch;
  GtkSpinner          *test_spinner;
  GtkBox              *result_box;
  GtkImage            *result_icon;
  GtkLabel            *result_title;
  GtkLabel            *result_description;
  GtkLabel            *result_details;
  GtkButton           *create_bucket_button;
  AdwPreferencesGroup *capabilities_group;
  GtkListBox          *capabilities_list;
  AdwPreferencesGroup *remove_group;
};

G_DEFINE_FINAL_TYPE (SluiceTargetDialog, sluice_target_dialog, ADW_TYPE_WINDOW)

enum {
  SIGNAL_SAVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

enum {
  ADDRESSING_PATH,
  ADDRESSING_VIRTUAL,
};

enum {
  CREDENTIALS_KEYRING,
  CREDENTIALS_ENVIRONMENT,
};

/* ---- reading and filling the rows ------------------------------------------------------------ */

static const SluiceTargetPreset *
selected_preset (SluiceTargetDialog *self)
{
  guint n = 0;
  const SluiceTargetPreset *presets = sluice_target_presets (&n);
  guint i = adw_combo_row_get_selected (self->preset_row);

  return i < n ? &presets[i] : sluice_target_preset_lookup ("custom");
}

static char *
entry_text (gpointer row)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (row)));

  return g_strstrip (g_steal_pointer (&text));
}

static char *
selected_region (SluiceTargetDialog *self)
{
  const SluiceTargetPreset *preset = selected_preset (self);

  if (preset->regions != NULL)
    {
      guint i = adw_combo_row_get_selected (self->region_combo_row);

      if (i < g_strv_length ((GStrv) preset->regions))
        return g_strdup (preset->regions[i]);
      return g_strdup (preset->default_region);
    }
  return entry_text (self->region_entry_row);
}

static void
update_endpoint_subtitle (SluiceTargetDialog *self)
{
  const SluiceTargetPreset *preset = selected_preset (self);
  g_autofree char *region = selected_region (self);
  g_autofree char *endpoint = sluice_target_preset_endpoint (preset, region);
  g_autofree char *subtitle = NULL;

  if (endpoint != NULL)
    subtitle = g_markup_escape_text (endpoint, -1);
  else if (preset->endpoint_hint != NULL)
    {
      g_autofree char *hint = g_markup_escape_text (preset->endpoint_hint, -1);

      /* TRANSLATORS: %s is an example URL such as https://rgw.example.com */
      subtitle = g_strdup_printf (_("Endpoint like %s"), hint);
    }
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->preset_row), subtitle ? subtitle : "");
}

static void
select_region (SluiceTargetDialog *self,
               const char         *region)
{
  const SluiceTargetPreset *preset = selected_preset (self);

  if (preset->regions != NULL)
    {
      for (guint i = 0; preset->regions[i] != NULL; i++)
        {
          if (g_strcmp0 (preset->regions[i], region) == 0)
            {
              adw_combo_row_set_selected (self->region_combo_row, i);
              return;
            }
        }
      adw_combo_row_set_selected (self->region_combo_row, 0);
    }
  else
    gtk_editable_set_text (GTK_EDITABLE (self->region_entry_row), region ? region : "");
}

static void
apply_preset (SluiceTargetDialog *self)
{
  const SluiceTargetPreset *preset = selected_preset (self);
  g_autoptr(GtkStringList) regions = gtk_string_list_new (preset->regions);

  g_set_object (&self->region_model, regions);
  adw_combo_row_set_model (self->region_combo_row, G_LIST_MODEL (regions));
  gtk_widget_set_visible (GTK_WIDGET (self->region_combo_row), preset->regions != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->region_entry_row), preset->regions == NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->endpoint_row), preset->endpoint == NULL);

  if (!self->loading)
    {
      select_region (self, preset->default_region);
      adw_combo_row_set_selected (self->addressing_row,
                                  preset->path_style ? ADDRESSING_PATH : ADDRESSING_VIRTUAL);
    }
  update_endpoint_subtitle (self);
}

static void
preset_changed_cb (SluiceTargetDialog *self)
{
  apply_preset (self);
}

static void
update_credentials_rows (SluiceTargetDialog *self)
{
  gboolean keyring = adw_combo_row_get_selected (self->credentials_row) == CREDENTIALS_KEYRING;

  gtk_widget_set_visible (GTK_WIDGET (self->access_key_row), keyring);
  gtk_widget_set_visible (GTK_WIDGET (self->secret_row), keyring);
}

static void
update_verify_row (SluiceTargetDialog *self)
{
  if (gtk_switch_get_active (self->verify_switch))
    {
      adw_action_row_set_subtitle (self->verify_row,
                                   _("Recommended: the connection cannot be intercepted"));
      gtk_widget_remove_css_class (GTK_WIDGET (self->verify_row), "warning");
    }
  else
    {
      adw_action_row_set_subtitle (self->verify_row,
                                   _("Off: anyone on the network path could read and change "
                                     "the uploads. Use a certificate authority file instead."));
      gtk_widget_add_css_class (GTK_WIDGET (self->verify_row), "warning");
    }
}

static void
set_ca_file (SluiceTargetDialog *self,
             const char         *path)
{
  g_free (self->ca_file);
  self->ca_file = path != NULL && *path != '\0' ? g_strdup (path) : NULL;
  if (self->ca_file != NULL)
    {
      g_autofree char *display = g_filename_display_name (self->ca_file);
      g_autofree char *markup = sluice_sanitize_markup (display);
      adw_action_row_set_subtitle (self->ca_row, markup);
    }
  else
    adw_action_row_set_subtitle (self->ca_row, _("The system's certificates"));
  gtk_widget_set_visible (GTK_WIDGET (self->ca_clear_button), self->ca_file != NULL);
}

static GStrv
parse_tags (const char *text)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  GStrv tags;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (*parts[i] != '\0')
        g_strv_builder_add (b, parts[i]);
    }
  tags = g_strv_builder_end (b);
  if (tags[0] == NULL)
    g_clear_pointer (&tags, g_strfreev);
  return tags;
}

static char *
nonempty (char *text)
{
  if (text != NULL && *text == '\0')
    g_clear_pointer (&text, g_free);
  return text;
}

/* What the rows say, as a saved target; NULL with @error when a field is not valid. */
static SluiceSavedTarget *
collect (SluiceTargetDialog  *self,
         GError             **error)
{
  g_autofree char *name = entry_text (self->name_row);
  g_autoptr(SluiceSavedTarget) t = sluice_saved_target_new (name);
  const SluiceTargetPreset *preset = selected_preset (self);
  g_autofree char *region = selected_region (self);
  g_autofree char *tags = entry_text (self->tags_row);
  g_autofree char *prefix = entry_text (self->prefix_row);
  guint sse = adw_combo_row_get_selected (self->sse_row);
  char *endpoint;

  g_free (t->preset);
  t->preset = g_strdup (preset->id);
  endpoint = sluice_target_preset_endpoint (preset, region);
  if (endpoint == NULL)
    endpoint = entry_text (self->endpoint_row);
  while (g_str_has_suffix (endpoint, "/"))
    endpoint[strlen (endpoint) - 1] = '\0';
  t->target->endpoint = nonempty (endpoint);
  if (region != NULL && *region != '\0')
    {
      g_free (t->target->region);
      t->target->region = g_steal_pointer (&region);
    }
  t->target->bucket = nonempty (entry_text (self->bucket_row));
  /* "photos/" and "/photos" are the prefix "photos" */
  g_strdelimit (prefix, "\\", '/');
  while (g_str_has_suffix (prefix, "/"))
    prefix[strlen (prefix) - 1] = '\0';
  g_free (t->target->prefix);
  t->target->prefix = g_strdup (prefix + strspn (prefix, "/"));
  t->target->path_style = adw_combo_row_get_selected (self->addressing_row) == ADDRESSING_PATH;
  t->target->insecure = !gtk_switch_get_active (self->verify_switch);
  t->target->ca_file = g_strdup (self->ca_file);
  t->target->storage_class = nonempty (entry_text (self->storage_class_row));
  t->target->sse = sse == 1 ? g_strdup ("AES256") : sse == 2 ? g_strdup ("aws:kms") : NULL;
  t->target->sse_kms_key_id = sse == 2 ? nonempty (entry_text (self->kms_key_row)) : NULL;
  t->target->tags = parse_tags (tags);
  t->target->acl_owner_full_control = gtk_switch_get_active (self->acl_switch);
  t->credentials = adw_combo_row_get_selected (self->credentials_row) == CREDENTIALS_KEYRING
                   ? SLUICE_CREDENTIALS_SOURCE_KEYRING : SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT;
  if (t->credentials == SLUICE_CREDENTIALS_SOURCE_KEYRING)
    t->access_key_id = nonempty (entry_text (self->access_key_row));
  if (self->old_name != NULL)
    {
      const SluiceSavedTarget *old = sluice_target_store_lookup (self->store, self->old_name);

      if (old != NULL)
        {
          t->profile = g_strdup (old->profile);
          t->target->resolve = g_strdupv (old->target->resolve);
        }
    }

  if (t->target->endpoint == NULL)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("Enter the server's endpoint URL, like https://s3.example.com"));
      return NULL;
    }
  if (t->target->bucket == NULL)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("Enter the name of the bucket"));
      return NULL;
    }
  if (!sluice_target_validate (t->target, error))
    return NULL;
  return g_steal_pointer (&t);
}

static void
fill (SluiceTargetDialog      *self,
      const SluiceSavedTarget *t)
{
  guint n = 0;
  const SluiceTargetPreset *presets = sluice_target_presets (&n);
  const SluiceTarget *tg = t->target;
  g_autofree char *tags = NULL;

  self->loading = TRUE;
  for (guint i = 0; i < n; i++)
    {
      if (g_strcmp0 (presets[i].id, t->preset) == 0)
        adw_combo_row_set_selected (self->preset_row, i);
    }
  apply_preset (self);
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), t->name ? t->name : "");
  gtk_editable_set_text (GTK_EDITABLE (self->endpoint_row), tg->endpoint ? tg->endpoint : "");
  select_region (self, tg->region);
  adw_combo_row_set_selected (self->addressing_row,
                              tg->path_style ? ADDRESSING_PATH : ADDRESSING_VIRTUAL);
  gtk_editable_set_text (GTK_EDITABLE (self->bucket_row), tg->bucket ? tg->bucket : "");
  gtk_editable_set_text (GTK_EDITABLE (self->prefix_row), tg->prefix ? tg->prefix : "");
  adw_combo_row_set_selected (self->credentials_row,
                              t->credentials == SLUICE_CREDENTIALS_SOURCE_KEYRING
                              ? CREDENTIALS_KEYRING : CREDENTIALS_ENVIRONMENT);
  gtk_editable_set_text (GTK_EDITABLE (self->access_key_row),
                         t->access_key_id ? t->access_key_id : "");
  gtk_switch_set_active (self->verify_switch, !tg->insecure);
  set_ca_file (self, tg->ca_file);
  gtk_editable_set_text (GTK_EDITABLE (self->storage_class_row),
                         tg->storage_class ? tg->storage_class : "");
  adw_combo_row_set_selected (self->sse_row, g_strcmp0 (tg->sse, "AES256") == 0 ? 1
                                             : g_strcmp0 (tg->sse, "aws:kms") == 0 ? 2 : 0);
  gtk_editable_set_text (GTK_EDITABLE (self->kms_key_row),
                         tg->sse_kms_key_id ? tg->sse_kms_key_id : "");
  tags = tg->tags != NULL ? g_strjoinv (", ", tg->tags) : g_strdup ("");
  gtk_editable_set_text (GTK_EDITABLE (self->tags_row), tags);
  gtk_switch_set_active (self->acl_switch, tg->acl_owner_full_control);
  if (sluice_target_has_object_options (tg))
    adw_expander_row_set_expanded (ADW_EXPANDER_ROW (gtk_widget_get_ancestor (
      GTK_WIDGET (self->sse_row), ADW_TYPE_EXPANDER_ROW)), TRUE);
  self->loading = FALSE;

  update_credentials_rows (self);
  update_verify_row (self);
  update_endpoint_subtitle (self);
}

/* ---- connection test ------------------------------------------------------------------------- */

typedef struct {
  SluiceTarget              *target;
  SluiceCredentialsProvider *credentials;
  GError                    *error;          /* why the bucket check failed */
  gboolean                   upload_only;    /* listing denied, a test upload worked */
  SluiceCapabilities        *capabilities;
  GError                    *probe_error;
} TestData;

static void
test_data_free (TestData *data)
{
  g_clear_pointer (&data->target, sluice_target_free);
  g_clear_pointer (&data->credentials, sluice_credentials_provider_free);
  g_clear_error (&data->error);
  g_clear_pointer (&data->capabilities, sluice_capabilities_free);
  g_clear_error (&data->probe_error);
  g_free (data);
}

/* Worker thread: the requests, with the same client the runs use. */
static void
test_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  TestData *data = task_data;
  g_autoptr(SluiceS3Client) s3 = sluice_s3_client_new (data->target, data->credentials);
  g_autoptr(SluiceCredentials) creds = NULL;

  creds = sluice_credentials_provider_get (data->credentials, &data->error);
  if (creds == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  sluice_s3_client_set_cancellable (s3, cancellable);
  if (!sluice_s3_client_check_bucket (s3, &data->error))
    {
      /* credentials allowed only to upload cannot list: see whether they can write */
      if (g_error_matches (data->error, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED))
        {
          data->capabilities = sluice_capabilities_probe (data->target, data->credentials,
                                                          &data->probe_error);
          data->upload_only = data->capabilities != NULL;
        }
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* connected: find out what the server really does (a few small objects under a probe
   * prefix, deleted again) */
  data->capabilities = sluice_capabilities_probe (data->target, data->credentials,
                                                  &data->probe_error);
  g_task_return_boolean (task, TRUE);
}

/* Once the result is laid out, scrolls the page so that it is in view: the editor is
 * taller than the window, and an answer below the fold would go unseen. */
static gboolean
scroll_to_result_cb (GtkWidget     *widget,
                     GdkFrameClock *clock,
                     gpointer       user_data)
{
  GtkWidget *scrolled = gtk_widget_get_ancestor (widget, GTK_TYPE_SCROLLED_WINDOW);
  GtkWidget *viewport;
  GtkAdjustment *adj;
  graphene_rect_t bounds;

  if (scrolled == NULL)
    return G_SOURCE_REMOVE;
  viewport = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled));
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  if (viewport != NULL && gtk_widget_compute_bounds (widget, viewport, &bounds))
    {
      double page = gtk_adjustment_get_page_size (adj);
      double value = gtk_adjustment_get_value (adj);

      /* the test row and the answer below it, or as much as fits */
      if (bounds.origin.y + bounds.size.height > page || bounds.origin.y < 0)
        gtk_adjustment_set_value (adj, value + bounds.origin.y - 96);
    }
  return G_SOURCE_REMOVE;
}

static void
show_result (SluiceTargetDialog *self,
             const char         *kind,
             const char         *title,
             const char         *description,
             const char         *details)
{
  const char *icon = g_str_equal (kind, "success") ? "emblem-ok-symbolic"
                     : g_str_equal (kind, "warning") ? "dialog-warning-symbolic"
                     : "dialog-error-symbolic";

  g_autofree char *css_class = g_strconcat ("result-", kind, NULL);

  /* not libadwaita's .error/.success: those would colour the whole explanation */
  gtk_widget_remove_css_class (GTK_WIDGET (self->result_box), "result-success");
  gtk_widget_remove_css_class (GTK_WIDGET (self->result_box), "result-warning");
  gtk_widget_remove_css_class (GTK_WIDGET (self->result_box), "result-error");
  gtk_widget_add_css_class (GTK_WIDGET (self->result_box), css_class);
  gtk_image_set_from_icon_name (self->result_icon, icon);
  gtk_label_set_text (self->result_title, title);
  gtk_label_set_text (self->result_description, description ? description : "");
  gtk_widget_set_visible (GTK_WIDGET (self->result_description),
                          description != NULL && *description != '\0');
  gtk_label_set_text (self->result_details, details ? details : "");
  gtk_widget_set_visible (GTK_WIDGET (self->result_details), details != NULL && *details != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->create_bucket_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->result_box), TRUE);
  self->result_success = !g_str_equal (kind, "error");
  gtk_widget_add_tick_callback (GTK_WIDGET (self->result_box), scroll_to_result_cb, NULL, NULL);

  /* screen readers hear the outcome, not only see an icon change */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->result_box),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  description ? description : "",
                                  -1);
}

/* Plain words for the failures the issue names; sluice_error_describe() for the rest. */
static void
explain_error (const GError        *error,
               const SluiceTarget  *target,
               char               **out_title,
               char               **out_description)
{
  g_autofree char *host = sluice_target_host (target);
  int code = error->domain == SLUICE_ERROR ? error->code : SLUICE_ERROR_FAILED;

  switch (code)
    {
    case SLUICE_ERROR_DNS:
      *out_title = g_strdup (_("Host not found"));
      *out_description = g_strdup_printf (_("No server called “%s” could be found. Check the "
                                            "endpoint address and the network."), host);
      break;
    case SLUICE_ERROR_CONNECT:
      *out_title = g_strdup (_("Connection refused"));
      *out_description = g_strdup_printf (_("“%s” does not accept connections. Check the "
                                            "port in the endpoint address, and that the server "
                                            "is running."), host);
      break;
    case SLUICE_ERROR_TLS:
      *out_title = g_strdup (_("TLS certificate problem"));
      *out_description = g_strdup (_("The server's certificate is not trusted, or the secure "
                                     "connection failed. If the server uses its own "
                                     "certificate authority, choose its file under Secure "
                                     "Connection."));
      break;
    case SLUICE_ERROR_TIMEOUT:
      *out_title = g_strdup (_("No answer"));
      *out_description = g_strdup (_("The server did not answer in time. Check the endpoint "
                                     "address and the network."));
      break;
    case SLUICE_ERROR_AUTH_ACCESS_KEY:
      *out_title = g_strdup (_("Wrong access key"));
      *out_description = g_strdup (_("The server does not know this access key ID. Check it "
                                     "for typing mistakes, and that the key was not deleted."));
      break;
    case SLUICE_ERROR_AUTH_SIGNATURE:
      *out_title = g_strdup (_("Wrong secret key"));
      *out_description = g_strdup (_("The server knows the access key ID, but the secret key "
                                     "does not match it. Enter the secret key again."));
      break;
    case SLUICE_ERROR_CLOCK_SKEW:
      *out_title = g_strdup (_("Clock difference"));
      *out_description = g_strdup (_("This computer's clock differs too much from the "
                                     "server's, so the server refuses the requests. Set the "
                                     "time automatically in Settings."));
      break;
    case SLUICE_ERROR_NO_SUCH_BUCKET:
      *out_title = g_strdup (_("No such bucket"));
      *out_description = g_strdup_printf (_("The server has no bucket called “%s”. Check the "
                                            "name, or create the bucket here."),
                                          target->bucket);
      break;
    case SLUICE_ERROR_ACCESS_DENIED:
      *out_title = g_strdup (_("Access denied"));
      *out_description = g_strdup_printf (_("These credentials may not use the bucket “%s”. "
                                            "Ask its owner for permission to list and upload."),
                                          target->bucket);
      break;
    case SLUICE_ERROR_NO_CREDENTIALS:
      *out_title = g_strdup (_("No credentials"));
      *out_description = g_strdup (_("Enter the access key ID and the secret key, or set "
                                     "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."));
      break;
    default:
      *out_title = g_strdup (_("The connection test failed"));
      *out_description = g_strdup (sluice_error_describe (code));
      break;
    }
}

static void
add_capability_row (SluiceTargetDialog *self,
                    const char         *title,
                    SluiceCap           value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label;
  const char *text = value == SLUICE_CAP_YES ? _("Yes")
                     : value == SLUICE_CAP_NO ? _("No") : _("Not tested");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  label = gtk_label_new (text);
  gtk_widget_add_css_class (label, value == SLUICE_CAP_NO ? "warning" : "dim-label");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  gtk_list_box_append (self->capabilities_list, row);
}

static void
show_capabilities (SluiceTargetDialog       *self,
                   const SluiceCapabilities *caps)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->capabilities_list))) != NULL)
    gtk_list_box_remove (self->capabilities_list, child);

  gtk_widget_set_visible (GTK_WIDGET (self->capabilities_group), caps != NULL);
  if (caps == NULL)
    return;

  add_capability_row (self, _("Checks the content hash of uploads"), caps->verifies_payload_hash);
  add_capability_row (self, _("Checks Content-MD5"), caps->verifies_content_md5);
  add_capability_row (self, _("Refuses to replace existing objects when asked"),
                      caps->if_none_match_put);
  add_capability_row (self, _("The same for large files sent in parts"),
                      caps->if_none_match_complete);
  add_capability_row (self, _("Marks large files sent in parts in their ETag"),
                      caps->multipart_etag_suffix);
  add_capability_row (self, _("Accepts the bucket in the host name"), caps->virtual_hosted);
  add_capability_row (self, _("These credentials may delete"), caps->can_delete);
  for (guint i = 0; caps->notes != NULL && i < caps->notes->len; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *markup = sluice_sanitize_markup (g_ptr_array_index (caps->notes, i));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), markup);
      gtk_widget_add_css_class (row, "dim-label");
      gtk_list_box_append (self->capabilities_list, row);
    }
}

static void
set_testing (SluiceTargetDialog *self,
             gboolean            testing)
{
  self->testing = testing;
  gtk_widget_set_visible (GTK_WIDGET (self->test_spinner), testing);
  gtk_spinner_set_spinning (self->test_spinner, testing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "target.test", !testing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "target.create-bucket", !testing);
}

static void
test_done_cb (GObject      *source_object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SluiceTargetDialog) self = user_data;
  TestData *data = g_task_get_task_data (G_TASK (result));

  /* closed meanwhile: nothing to show */
  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  set_testing (self, FALSE);

  if (data->error == NULL && data->probe_error == NULL)
    {
      show_result (self, "success", _("Connected"),
                   _("The address, the keys and the bucket are right, and a test upload "
                     "worked."), NULL);
      show_capabilities (self, data->capabilities);
    }
  else if (data->error == NULL)
    {
      g_autofree char *title = NULL;
      g_autofree char *description = NULL;
      g_autofree char *full = NULL;

      explain_error (data->probe_error, data->target, &title, &description);
      full = g_strdup_printf (_("The bucket can be read, but a test upload failed: %s"),
                              description);
      show_result (self, "error", title, full, data->probe_error->message);
      show_capabilities (self, NULL);
    }
  else if (data->upload_only)
    {
      show_result (self, "warning", _("Uploads work; listing is not allowed"),
                   _("These credentials may upload but not list the bucket. Sluice could not "
                     "check that the bucket exists, nor see objects that were uploaded without "
                     "it; uploads recorded in its catalog are still not sent twice."),
                   NULL);
      show_capabilities (self, data->capabilities);
    }
  else
    {
      g_autofree char *title = NULL;
      g_autofree char *description = NULL;

      explain_error (data->error, data->target, &title, &description);
      show_result (self, "error", title, description, data->error->message);
      show_capabilities (self, NULL);
      /* a new target's bucket is often still to be made: one click, not a trip to a console */
      gtk_widget_set_visible (GTK_WIDGET (self->create_bucket_button),
                              g_error_matches (data->error, SLUICE_ERROR,
                                               SLUICE_ERROR_NO_SUCH_BUCKET));
    }
}

/* Runs @func on a worker with the target as the editor has it, then @done; or says what is
 * missing and returns FALSE. */
static gboolean
run_with_target (SluiceTargetDialog  *self,
                 GTaskThreadFunc      func,
                 GAsyncReadyCallback  done)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceSavedTarget) t = NULL;
  g_autoptr(GTask) task = NULL;
  const char *secret = gtk_editable_get_text (GTK_EDITABLE (self->secret_row));
  gboolean keyring = adw_combo_row_get_selected (self->credentials_row) == CREDENTIALS_KEYRING;
  TestData *data;

  set_testing (self, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->result_box), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->capabilities_group), FALSE);

  if (keyring && *secret == '\0')
    {
      set_testing (self, FALSE);
      show_result (self, "error", _("No secret key"),
                   _("Enter the secret access key that belongs to the access key ID."), NULL);
      return FALSE;
    }
  t = collect (self, &error);
  if (t == NULL)
    {
      set_testing (self, FALSE);
      show_result (self, "error", _("The settings are not complete"), error->message, NULL);
      return FALSE;
    }

  data = g_new0 (TestData, 1);
  data->target = sluice_target_copy (t->target);
  data->credentials = sluice_saved_target_make_credentials (t, keyring ? secret : NULL);

  task = g_task_new (NULL, self->cancellable, done, g_object_ref (self));
  g_task_set_source_tag (task, run_with_target);
  g_task_set_task_data (task, data, (GDestroyNotify) test_data_free);
  g_task_set_check_cancellable (task, FALSE);
  g_task_run_in_thread (task, func);
  return TRUE;
}

static void
test_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  run_with_target (SLUICE_TARGET_DIALOG (widget), test_in_thread, test_done_cb);
}

/* Worker thread: CreateBucket (in the target's region), with the client the runs use. */
static void
create_bucket_in_thread (GTask        *task,
                         gpointer      source_object,
                         gpointer      task_data,
                         GCancellable *cancellable)
{
  TestData *data = task_data;
  g_autoptr(SluiceS3Client) s3 = sluice_s3_client_new (data->target, data->credentials);

  sluice_s3_client_set_cancellable (s3, cancellable);
  sluice_s3_client_create_bucket (s3, &data->error);
  g_task_return_boolean (task, TRUE);
}

static void
create_bucket_done_cb (GObject      *source_object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(SluiceTargetDialog) self = user_data;
  TestData *data = g_task_get_task_data (G_TASK (result));
  g_autofree char *title = NULL;
  g_autofree char *description = NULL;

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  set_testing (self, FALSE);
  if (data->error == NULL)
    {
      /* made: the whole test again, which ends in "Connected" and what the server does */
      test_action (GTK_WIDGET (self), NULL, NULL);
      return;
    }
  explain_error (data->error, data->target, &title, &description);
  if (g_error_matches (data->error, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED))
    {
      g_free (description);
      description = g_strdup_printf (_("These credentials may not create buckets. Ask the "
                                       "account's owner to create “%s”."),
                                     data->target->bucket);
    }
  show_result (self, "error", _("The bucket could not be created"), description,
               data->error->message);
}

static void
create_bucket_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  run_with_target (SLUICE_TARGET_DIALOG (widget), create_bucket_in_thread,
                   create_bucket_done_cb);
}

/* ---- save and remove ------------------------------------------------------------------------- */

static void
toast (SluiceTargetDialog *self,
       const char         *text)
{
  g_autofree char *markup = sluice_sanitize_markup (text);
  AdwToast *t = adw_toast_new (markup);

  adw_toast_set_timeout (t, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, t);
}

typedef struct {
  SluiceTargetDialog *self;
  char               *name;
  char               *old_name;
} SaveData;

static void
save_data_free (SaveData *data)
{
  g_clear_object (&data->self);
  g_free (data->name);
  g_free (data->old_name);
  g_free (data);
}

static void
old_secret_cleared_cb (GObject      *source_object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!sluice_target_secret_clear_finish (result, &error))
    g_warning ("Could not remove the old secret from the keyring: %s", error->message);
}

static void
finish_save (SaveData *data)
{
  SluiceTargetDialog *self = data->self;

  if (data->old_name != NULL && g_strcmp0 (data->old_name, data->name) != 0)
    sluice_target_secret_clear_async (data->old_name, NULL, old_secret_cleared_cb, NULL);
  g_signal_emit (self, signals[SIGNAL_SAVED], 0, data->name);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
secret_stored_cb (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  SaveData *data = user_data;
  g_autoptr(GError) error = NULL;

  if (!sluice_target_secret_store_finish (result, &error))
    {
      g_autofree char *text = g_strdup_printf (_("The secret key could not be stored in the "
                                                 "keyring: %s"), error->message);
      if (!g_cancellable_is_cancelled (data->self->cancellable))
        {
          gtk_widget_set_sensitive (GTK_WIDGET (data->self), TRUE);
          toast (data->self, text);
        }
      save_data_free (data);
      return;
    }
  finish_save (data);
  save_data_free (data);
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  SluiceTargetDialog *self = SLUICE_TARGET_DIALOG (widget);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceSavedTarget) t = NULL;
  const char *secret = gtk_editable_get_text (GTK_EDITABLE (self->secret_row));
  SaveData *data;

  t = collect (self, &error);
  if (t == NULL || !sluice_target_name_validate (t->name, &error))
    {
      toast (self, error->message);
      return;
    }
  if (g_strcmp0 (t->name, self->old_name) != 0 &&
      sluice_target_store_lookup (self->store, t->name) != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("There is a target called “%s” already; "
                                                 "choose another name"), t->name);
      toast (self, text);
      return;
    }
  if (t->credentials == SLUICE_CREDENTIALS_SOURCE_KEYRING &&
      (t->access_key_id == NULL || *secret == '\0'))
    {
      toast (self, _("Enter the access key ID and the secret key"));
      return;
    }

  /* a target made from the environment becomes a real one once the user saves it */
  t->transient = FALSE;
  if (!sluice_target_store_put (self->store, t, self->old_name, &error))
    {
      toast (self, error->message);
      return;
    }

  data = g_new0 (SaveData, 1);
  data->self = g_object_ref (self);
  data->name = g_strdup (t->name);
  data->old_name = g_strdup (self->old_name);

  if (t->credentials == SLUICE_CREDENTIALS_SOURCE_KEYRING)
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
      sluice_target_secret_store_async (t->name, secret, self->cancellable,
                                        secret_stored_cb, data);
      return;
    }
  finish_save (data);
  save_data_free (data);
}

static void
secret_removed_cb (GObject      *source_object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!sluice_target_secret_clear_finish (result, &error))
    g_warning ("Could not remove the secret from the keyring: %s", error->message);
}

static void
remove_response_cb (AdwMessageDialog   *dialog,
                    const char         *response,
                    SluiceTargetDialog *self)
{
  g_autoptr(GError) error = NULL;

  if (!g_str_equal (response, "remove"))
    return;
  if (!sluice_target_store_remove (self->store, self->old_name, &error))
    {
      toast (self, error->message);
      return;
    }
  if (!self->old_transient)
    sluice_target_secret_clear_async (self->old_name, NULL, secret_removed_cb, NULL);
  g_signal_emit (self, signals[SIGNAL_SAVED], 0, NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
remove_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SluiceTargetDialog *self = SLUICE_TARGET_DIALOG (widget);
  g_autofree char *heading = NULL;
  AdwMessageDialog *dialog;

  if (self->old_name == NULL)
    return;
  heading = g_strdup_printf (_("Remove “%s”?"), self->old_name);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), heading,
                               _("Its settings and its secret key in the keyring are removed. "
                                 "Objects already uploaded stay in the bucket.")));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- the CA file ----------------------------------------------------------------------------- */

static void
ca_chosen_cb (GtkNativeDialog    *native,
              int                 response,
              SluiceTargetDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        set_ca_file (self, path);
    }
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

static void
choose_ca_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SluiceTargetDialog *self = SLUICE_TARGET_DIALOG (widget);
  GtkFileChooserNative *native;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  native = gtk_file_chooser_native_new (_("Choose a Certificate Authority File"),
                                        GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                        _("_Choose"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Certificates (PEM)"));
  gtk_file_filter_add_pattern (filter, "*.pem");
  gtk_file_filter_add_pattern (filter, "*.crt");
  gtk_file_filter_add_pattern (filter, "*.cer");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_signal_connect (native, "response", G_CALLBACK (ca_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
clear_ca_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  set_ca_file (SLUICE_TARGET_DIALOG (widget), NULL);
}

/* ---- the object ---------------------------------------------------------------------------- */

static void
secret_loaded_cb (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(SluiceTargetDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  char *secret = sluice_target_secret_lookup_finish (result, &error);

  if (g_cancellable_is_cancelled (self->cancellable))
    {
      sluice_target_secret_free (secret);
      return;
    }
  if (secret == NULL && error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The keyring could not be read: %s"),
                                               error->message);
      toast (self, text);
      return;
    }
  if (secret != NULL && *gtk_editable_get_text (GTK_EDITABLE (self->secret_row)) == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->secret_row), secret);
  sluice_target_secret_free (secret);
}

static void
sluice_target_dialog_dispose (GObject *object)
{
  SluiceTargetDialog *self = SLUICE_TARGET_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), SLUICE_TYPE_TARGET_DIALOG);
  g_clear_object (&self->preset_model);
  g_clear_object (&self->region_model);

  G_OBJECT_CLASS (sluice_target_dialog_parent_class)->dispose (object);
}

static void
sluice_target_dialog_finalize (GObject *object)
{
  SluiceTargetDialog *self = SLUICE_TARGET_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_free (self->old_name);
  g_free (self->ca_file);

  G_OBJECT_CLASS (sluice_target_dialog_parent_class)->finalize (object);
}

static void
sluice_target_dialog_class_init (SluiceTargetDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sluice_target_dialog_dispose;
  object_class->finalize = sluice_target_dialog_finalize;

  /**
   * SluiceTargetDialog::saved:
   * @name: (nullable): the target saved, or NULL when it was removed
   */
  signals[SIGNAL_SAVED] =
    g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/sluice/Sluice/sluice-target-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, window_title);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, preset_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, endpoint_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, region_combo_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, region_entry_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, addressing_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, bucket_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, prefix_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, credentials_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, access_key_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, secret_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, ca_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, ca_clear_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, verify_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, verify_switch);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, storage_class_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, sse_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, kms_key_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, tags_row);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, acl_switch);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, test_spinner);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, result_box);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, result_icon);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, result_title);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, result_description);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, result_details);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, create_bucket_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, capabilities_group);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, capabilities_list);
  gtk_widget_class_bind_template_child (widget_class, SluiceTargetDialog, remove_group);

  gtk_widget_class_install_action (widget_class, "target.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "target.test", NULL, test_action);
  gtk_widget_class_install_action (widget_class, "target.create-bucket", NULL,
                                   create_bucket_action);
  gtk_widget_class_install_action (widget_class, "target.remove", NULL, remove_action);
  gtk_widget_class_install_action (widget_class, "target.choose-ca", NULL, choose_ca_action);
  gtk_widget_class_install_action (widget_class, "target.clear-ca", NULL, clear_ca_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
                                       "target.save", NULL);
}

static void
sluice_target_dialog_init (SluiceTargetDialog *self)
{
  guint n = 0;
  const SluiceTargetPreset *presets = sluice_target_presets (&n);

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();

  self->preset_model = gtk_string_list_new (NULL);
  for (guint i = 0; i < n; i++)
    gtk_string_list_append (self->preset_model, g_dgettext (GETTEXT_PACKAGE, presets[i].name));
  adw_combo_row_set_model (self->preset_row, G_LIST_MODEL (self->preset_model));

  g_signal_connect_swapped (self->preset_row, "notify::selected",
                            G_CALLBACK (preset_changed_cb), self);
  g_signal_connect_swapped (self->region_combo_row, "notify::selected",
                            G_CALLBACK (update_endpoint_subtitle), self);
  g_signal_connect_swapped (self->credentials_row, "notify::selected",
                            G_CALLBACK (update_credentials_rows), self);
  g_signal_connect_swapped (self->verify_switch, "notify::active",
                            G_CALLBACK (update_verify_row), self);

  /* titles of rows, toasts and the like are markup in libadwaita 1.2: the accessible names
   * of the rows whose titles say enough come from the titles; these need their own */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->test_spinner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Testing the connection"),
                                  -1);
  set_ca_file (self, NULL);
}

/**
 * sluice_target_dialog_new:
 * @parent: the window to be modal to
 * @store: the saved targets (borrowed: must outlive the dialog)
 * @name: (nullable): the target to edit, or NULL for a new one
 *
 * Returns: (transfer none): the editor, not yet presented
 */
SluiceTargetDialog *
sluice_target_dialog_new (GtkWindow         *parent,
                          SluiceTargetStore *store,
                          const char        *name)
{
  SluiceTargetDialog *self;
  const SluiceSavedTarget *t = name != NULL ? sluice_target_store_lookup (store, name) : NULL;

  g_return_val_if_fail (store != NULL, NULL);

  self = g_object_new (SLUICE_TYPE_TARGET_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->store = store;

  if (t != NULL)
    {
      self->old_name = g_strdup (t->name);
      self->old_transient = t->transient;
      adw_window_title_set_title (self->window_title, _("Edit Target"));
      fill (self, t);
      gtk_widget_set_visible (GTK_WIDGET (self->remove_group), TRUE);
      if (t->credentials == SLUICE_CREDENTIALS_SOURCE_KEYRING && !t->transient)
        sluice_target_secret_lookup_async (t->name, self->cancellable, secret_loaded_cb,
                                           g_object_ref (self));
    }
  else
    {
      g_autoptr(SluiceSavedTarget) fresh = sluice_saved_target_new ("");
      guint n = 0;
      const SluiceTargetPreset *presets = sluice_target_presets (&n);

      /* a new target starts as Amazon S3, the most common one */
      g_free (fresh->preset);
      fresh->preset = g_strdup (presets[0].id);
      g_free (fresh->target->region);
      fresh->target->region = g_strdup (presets[0].default_region);
      fresh->target->path_style = presets[0].path_style;
      adw_window_title_set_title (self->window_title, _("New Target"));
      fill (self, fresh);
    }
  return self;
}

/* ---- for tests ------------------------------------------------------------------------------ */

void
_sluice_target_dialog_set_text (SluiceTargetDialog *self,
                                const char         *row,
                                const char         *text)
{
  GObject *widget = gtk_widget_get_template_child (GTK_WIDGET (self),
                                                     SLUICE_TYPE_TARGET_DIALOG, row);

  g_return_if_fail (GTK_IS_EDITABLE (widget));
  gtk_editable_set_text (GTK_EDITABLE (widget), text);
}

void
_sluice_target_dialog_set_preset (SluiceTargetDialog *self,
                                  const char         *preset_id)
{
  guint n = 0;
  const SluiceTargetPreset *presets = sluice_target_presets (&n);

  for (guint i = 0; i < n; i++)
    {
      if (g_str_equal (presets[i].id, preset_id))
        adw_combo_row_set_selected (self->preset_row, i);
    }
}

/* What the file chooser of "Certificate authority" does. */
void
_sluice_target_dialog_set_ca_file (SluiceTargetDialog *self,
                                   const char         *path)
{
  set_ca_file (self, path);
}

gboolean
_sluice_target_dialog_is_testing (SluiceTargetDialog *self)
{
  return self->testing;
}

const char *
_sluice_target_dialog_get_result (SluiceTargetDialog  *self,
                                  const char         **out_description,
                                  gboolean            *out_success)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (self->result_box)))
    return NULL;
  if (out_description != NULL)
    *out_description = gtk_label_get_text (self->result_description);
  if (out_success != NULL)
    *out_success = self->result_success;
  return gtk_label_get_text (self->result_title);
}

guint
_sluice_target_dialog_get_n_capabilities (SluiceTargetDialog *self)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->capabilities_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;
  return n;
}

gboolean
_sluice_target_dialog_offers_create_bucket (SluiceTargetDialog *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->result_box)) &&
         gtk_widget_get_visible (GTK_WIDGET (self->create_bucket_button)) && !self->testing;
}
