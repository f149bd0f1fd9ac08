/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "sluice-application.h"
#include "sluice-browse-detail.h"

/* Main thread only. The detail is read on a worker (sluice_browse_model_detail_async); a
 * newer selection cancels the older read and its answer is dropped.
 *
 * The thumbnail is the embedded EXIF one the model decodes from the catalog; for a file
 * without one, the source file is decoded by the sandboxed helper through the engine's
 * SluiceThumbnailer (on a worker thread, cached by content hash): no image decoder runs on the
 * source file in this process. A newer selection cancels the decode and bumps a generation,
 * so a late answer never shows on another file. */

static const guint expiry_seconds[] = { 3600, 86400, 604800 };

struct _SluiceBrowseDetail
{
  AdwBin              parent_instance;

  SluiceBrowseModel  *model;
  SluiceBrowseRow    *row;
  SluiceQueryDetail  *detail;
  GCancellable       *cancellable;
  gulong              loaded_id;
  gulong              thumb_id;
  SluiceTargetStore  *store;

  /* the thumbnail decoded from the source file, for the file whose detail is shown */
  GCancellable       *decode_cancellable;
  guint               decode_generation;
  gint64              decode_file_id;     /* 0: none asked for yet */
  GdkTexture         *decoded;
  char               *decode_error;       /* in plain words, or NULL */

  /* Template children */
  GtkStack           *stack;
  GtkStack           *thumb_stack;
  GtkPicture         *picture;
  GtkLabel           *no_thumb_label;
  GtkLabel           *name_label;
  GtkWidget          *copy_uri_button;
  GtkDropDown        *expiry_drop;
  GtkWidget          *maps_button;
  GtkGrid            *fields_grid;
};

G_DEFINE_FINAL_TYPE (SluiceBrowseDetail, sluice_browse_detail, ADW_TYPE_BIN)

static void
toast (SluiceBrowseDetail *self,
       const char         *text)
{
  sluice_widget_toast (GTK_WIDGET (self), text);
}

static void
add_field (SluiceBrowseDetail *self,
           int                *row,
           const char         *name,
           const char         *value)
{
  GtkWidget *key, *val;

  if (value == NULL || *value == '\0')
    return;
  key = gtk_label_new (name);
  gtk_label_set_xalign (GTK_LABEL (key), 1);
  gtk_label_set_yalign (GTK_LABEL (key), 0);
  gtk_widget_add_css_class (key, "dim-label");
  val = gtk_label_new (value);
  gtk_label_set_xalign (GTK_LABEL (val), 0);
  gtk_label_set_wrap (GTK_LABEL (val), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (val), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (val), TRUE);
  gtk_widget_set_hexpand (val, TRUE);
  gtk_grid_attach (self->fields_grid, key, 0, *row, 1, 1);
  gtk_grid_attach (self->fields_grid, val, 1, *row, 1, 1);
  (*row)++;
}

static void
add_field_take (SluiceBrowseDetail *self,
                int                *row,
                const char         *name,
                char               *value)
{
  add_field (self, row, name, value);
  g_free (value);
}

static void
clear_fields (SluiceBrowseDetail *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->fields_grid))) != NULL)
    gtk_grid_remove (self->fields_grid, child);
}

static char *
format_time (gint64 unix_seconds)
{
  g_autoptr(GDateTime) dt = NULL;

  if (unix_seconds <= 0)
    return NULL;
  dt = g_date_time_new_from_unix_local (unix_seconds);
  return dt != NULL ? g_date_time_format (dt, "%Y-%m-%d %H:%M:%S") : NULL;
}

static char *
format_coordinate (double value,
                   char   positive,
                   char   negative)
{
  /* TRANSLATORS: a latitude or longitude, e.g. "47.376887° N" */
  return g_strdup_printf (_("%.6f° %c"), fabs (value), value >= 0 ? positive : negative);
}

char *
sluice_browse_detail_get_geo_uri (SluiceBrowseDetail *self)
{
  const SluiceMetadata *m;
  char lat[G_ASCII_DTOSTR_BUF_SIZE], lon[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_val_if_fail (SLUICE_IS_BROWSE_DETAIL (self), NULL);
  if (self->detail == NULL || !self->detail->has_gps || self->detail->metadata == NULL)
    return NULL;
  m = self->detail->metadata;
  /* RFC 5870; the locale must not turn the dot into a comma */
  g_ascii_formatd (lat, sizeof lat, "%.6f", m->gps_latitude);
  g_ascii_formatd (lon, sizeof lon, "%.6f", m->gps_longitude);
  return g_strdup_printf ("geo:%s,%s", lat, lon);
}

static const char *
probe_state_name (SluiceProbeState state)
{
  switch (state)
    {
    case SLUICE_PROBE_STATE_OK:
      return _("Read");
    case SLUICE_PROBE_STATE_WARNING:
      return _("Read with warnings");
    case SLUICE_PROBE_STATE_FAILED:
      return _("Could not be read");
    case SLUICE_PROBE_STATE_NONE:
    default:
      return _("Not read yet");
    }
}

static void
show_fields (SluiceBrowseDetail *self)
{
  const SluiceQueryDetail *d = self->detail;
  const SluiceMetadata *m = d->metadata;
  g_autofree char *name = g_path_get_basename (d->relpath);
  int row = 0;

  clear_fields (self);
  gtk_label_set_text (self->name_label, name);

  add_field (self, &row, _("Folder"), d->folder);
  add_field_take (self, &row, _("Size"), g_format_size_full (d->size, G_FORMAT_SIZE_LONG_FORMAT));
  add_field_take (self, &row, _("Modified"), format_time (d->mtime_ns / G_GINT64_CONSTANT (1000000000)));
  if (m != NULL)
    {
      add_field_take (self, &row, _("Taken"), sluice_browse_format_date (m->datetime_original));
      add_field (self, &row, _("Camera"), d->camera);
      add_field (self, &row, _("Lens"), m->lens_model);
      add_field_take (self, &row, _("Exposure"),
                      sluice_browse_format_exposure (m->exposure_num, m->exposure_den));
      if (!isnan (m->f_number) && m->f_number > 0)
        add_field_take (self, &row, _("Aperture"), g_strdup_printf ("f/%.1f", m->f_number));
      if (m->iso > 0)
        add_field_take (self, &row, _("ISO"), g_strdup_printf ("%" G_GINT64_FORMAT, m->iso));
      if (!isnan (m->focal_length) && m->focal_length > 0)
        /* TRANSLATORS: a focal length in millimetres */
        add_field_take (self, &row, _("Focal length"), g_strdup_printf (_("%.0f mm"),
                                                                        m->focal_length));
      if (m->width > 0 && m->height > 0)
        add_field_take (self, &row, _("Dimensions"),
                        g_strdup_printf ("%" G_GINT64_FORMAT " × %" G_GINT64_FORMAT,
                                         m->width, m->height));
      if (m->container != NULL)
        add_field_take (self, &row, _("Format"),
                        sluice_file_format_name (d->relpath, m->container));
      if (d->has_gps)
        {
          add_field_take (self, &row, _("Latitude"), format_coordinate (m->gps_latitude,
                                                                        'N', 'S'));
          add_field_take (self, &row, _("Longitude"), format_coordinate (m->gps_longitude,
                                                                         'E', 'W'));
          if (!isnan (m->gps_altitude))
            add_field_take (self, &row, _("Altitude"), g_strdup_printf (_("%.0f m"),
                                                                        m->gps_altitude));
        }
    }
  add_field (self, &row, _("Metadata"), probe_state_name (d->probe_state));
  add_field (self, &row, _("Metadata error"), d->probe_error);
  if (d->object_id != 0)
    {
      add_field (self, &row, _("State"), sluice_browse_state_name (d->state));
      add_field (self, &row, _("S3 URI"), d->s3_uri);
      add_field (self, &row, _("Endpoint"), d->endpoint);
      add_field (self, &row, _("ETag"), d->etag);
      add_field (self, &row, _("Error"), d->error_message);
      add_field_take (self, &row, _("Updated"), format_time (d->updated_at));
    }
  add_field (self, &row, _("SHA-256"), d->sha256);
  if (d->run_id > 0 || d->last_run_id > 0)
    add_field_take (self, &row, _("Run"), g_strdup_printf ("%" G_GINT64_FORMAT,
                                                           d->run_id > 0 ? d->run_id
                                                                         : d->last_run_id));
  for (guint i = 0; d->warnings != NULL && i < d->warnings->len; i++)
    add_field (self, &row, i == 0 ? _("Warnings") : "", g_ptr_array_index (d->warnings, i));

  gtk_widget_set_visible (self->maps_button, d->has_gps);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "detail.copy-uri", d->s3_uri != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "detail.copy-link",
                                 d->s3_uri != NULL && d->state == SLUICE_OBJECT_UPLOADED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "detail.open-maps", d->has_gps);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "detail.open-folder", d->folder != NULL);
}

static SluiceThumbnailer *
get_thumbnailer (void)
{
  return sluice_browse_thumbnailer (SLUICE_THUMBNAIL_DEFAULT_EDGE);
}

/* What the user reads instead of the thumbnail. */
static char *
decode_error_text (const GError *error)
{
  if (error->domain == SLUICE_ERROR)
    {
      switch (error->code)
        {
        case SLUICE_ERROR_NOT_FOUND:
          return g_strdup (_("No thumbnail: the file is no longer in its source folder"));
        case SLUICE_ERROR_INVALID_ARGUMENT:
          return g_strdup (_("No embedded thumbnail, and only JPEG, PNG, WebP, HEIC, AVIF and "
                             "TIFF files and the previews in raw files can be decoded"));
        case SLUICE_ERROR_FAILED:
          return g_strdup (_("No thumbnail: the picture in the file is damaged"));
        case SLUICE_ERROR_TOO_LARGE:
          return g_strdup (_("No thumbnail: the picture is too large to decode"));
        case SLUICE_ERROR_PROBE_CRASHED:
        case SLUICE_ERROR_PROBE_TIMEOUT:
        case SLUICE_ERROR_PROBE_PROTOCOL:
          /* TRANSLATORS: the placeholder is the engine's reason, e.g. "metadata helper
           * crashed with SIGSEGV" */
          return g_strdup_printf (_("No thumbnail: the decoding helper failed on this file "
                                    "(%s)"), error->message);
        case SLUICE_ERROR_SOURCE_UNREADABLE:
          return g_strdup_printf (_("No thumbnail: the file cannot be read (%s)"),
                                  error->message);
        default:
          break;
        }
    }
  return g_strdup_printf (_("No thumbnail: %s"), error->message);
}

static void
show_placeholder (SluiceBrowseDetail *self,
                  const char         *text)
{
  gtk_picture_set_paintable (self->picture, NULL);
  gtk_label_set_text (self->no_thumb_label, text);
  gtk_stack_set_visible_child_name (self->thumb_stack, "none");
}

static void
show_picture (SluiceBrowseDetail *self,
              GdkPaintable       *paintable)
{
  gtk_picture_set_paintable (self->picture, paintable);
  gtk_stack_set_visible_child_name (self->thumb_stack, "picture");
}

static void
forget_decode (SluiceBrowseDetail *self)
{
  g_cancellable_cancel (self->decode_cancellable);
  g_clear_object (&self->decode_cancellable);
  self->decode_generation++;
  self->decode_file_id = 0;
  g_clear_object (&self->decoded);
  g_clear_pointer (&self->decode_error, g_free);
}

typedef struct {
  SluiceBrowseDetail *self;
  guint               generation;
} DecodeData;

/* Main thread: the thumbnailer's answer, dropped unless it is for the file still shown. */
static void
decoded_cb (GObject      *source_object,
            GAsyncResult *result,
            gpointer      user_data)
{
  DecodeData *data = user_data;
  g_autoptr(SluiceBrowseDetail) self = data->self;
  g_autoptr(SluiceThumbnail) thumbnail = NULL;
  g_autoptr(GError) error = NULL;
  guint generation = data->generation;

  g_free (data);
  thumbnail = sluice_thumbnailer_get_finish (get_thumbnailer (), result, &error);
  /* another file was selected since, or the pane went away (dispose bumps the generation) */
  if (generation != self->decode_generation ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (thumbnail == NULL)
    {
      self->decode_error = decode_error_text (error);
      g_debug ("Thumbnail of file %" G_GINT64_FORMAT ": %s", self->decode_file_id,
               error->message);
      show_placeholder (self, self->decode_error);
      return;
    }
  self->decoded = gdk_memory_texture_new (thumbnail->width, thumbnail->height,
                                          GDK_MEMORY_R8G8B8, thumbnail->pixels,
                                          thumbnail->stride);
  show_picture (self, GDK_PAINTABLE (self->decoded));
}

/* For a file without an embedded thumbnail: what was decoded, the reason there is none, or
 * a decode started now. */
static void
update_decoded (SluiceBrowseDetail *self)
{
  const SluiceQueryDetail *d = self->detail;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  DecodeData *data;

  if (d == NULL || d->folder == NULL || d->relpath == NULL)
    {
      show_placeholder (self, _("No embedded thumbnail"));
      return;
    }
  /* what the probe saw in the file, or without metadata its name: a video is not read in vain
   * (a TIFF or a raw file is, for its picture or its JPEG preview) */
  if (!sluice_thumbnail_worth_decoding (d->relpath, d->metadata != NULL,
                                        d->metadata != NULL ? d->metadata->container : NULL))
    {
      show_placeholder (self, _("No embedded thumbnail, and only JPEG, PNG, WebP, HEIC, AVIF "
                                "and TIFF files and the previews in raw files can be decoded"));
      return;
    }
  if (self->decode_file_id == d->file_id)
    {
      if (self->decoded != NULL)
        show_picture (self, GDK_PAINTABLE (self->decoded));
      else
        show_placeholder (self, self->decode_error != NULL ? self->decode_error
                                                           : _("Loading thumbnail…"));
      return;
    }

  forget_decode (self);
  self->decode_file_id = d->file_id;
  self->decode_cancellable = g_cancellable_new ();
  data = g_new0 (DecodeData, 1);
  data->self = g_object_ref (self);
  data->generation = self->decode_generation;
  /* the same folder "Open Folder" opens */
  name = g_path_get_basename (d->relpath);
  path = g_build_filename (d->folder, name, NULL);
  sluice_thumbnailer_get_async (get_thumbnailer (), path, d->sha256, self->decode_cancellable,
                                decoded_cb, data);
  show_placeholder (self, _("Loading thumbnail…"));
}

static void
update_thumbnail (SluiceBrowseDetail *self)
{
  GdkPaintable *paintable = NULL;
  const SluiceQueryRow *data = self->row != NULL ? sluice_browse_row_get_data (self->row) : NULL;

  if (data == NULL)
    {
      show_placeholder (self, _("Loading thumbnail…"));
      return;
    }
  /* the list's picture of a file without an embedded thumbnail is too small for the pane:
   * the pane decodes its own */
  if (!data->has_thumbnail)
    {
      update_decoded (self);
      return;
    }
  paintable = sluice_browse_row_get_thumbnail (self->row);
  if (paintable == NULL)
    paintable = sluice_browse_model_get_thumbnail (self->model, self->row);
  /* else the embedded one is on its way ("thumbnail" is notified) */
  if (paintable != NULL)
    show_picture (self, paintable);
  else
    show_placeholder (self, _("Loading thumbnail…"));
}

static void
detail_loaded_cb (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  SluiceBrowseDetail *self = user_data;
  g_autoptr(GError) error = NULL;
  SluiceQueryDetail *detail;

  detail = sluice_browse_model_detail_finish (SLUICE_BROWSE_MODEL (source_object), result,
                                              &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  /* not cancelled: self is alive (dispose cancels) */
  if (detail == NULL)
    {
      toast (self, error->message);
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  g_clear_pointer (&self->detail, sluice_query_detail_free);
  self->detail = detail;
  show_fields (self);
  update_thumbnail (self);
  gtk_stack_set_visible_child_name (self->stack, "detail");
}

static void
load_detail (SluiceBrowseDetail *self)
{
  const SluiceQueryRow *data = sluice_browse_row_get_data (self->row);

  if (data == NULL)
    return;   /* "loaded" comes later */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  sluice_browse_model_detail_async (self->model, data->file_id, data->object_id,
                                    self->cancellable, detail_loaded_cb, self);
}

static void
disconnect_row (SluiceBrowseDetail *self)
{
  if (self->row == NULL)
    return;
  g_clear_signal_handler (&self->loaded_id, self->row);
  g_clear_signal_handler (&self->thumb_id, self->row);
  g_clear_object (&self->row);
}

void
sluice_browse_detail_set_row (SluiceBrowseDetail *self,
                              SluiceBrowseRow    *row)
{
  g_return_if_fail (SLUICE_IS_BROWSE_DETAIL (self));
  g_return_if_fail (row == NULL || SLUICE_IS_BROWSE_ROW (row));
  if (row == self->row)
    return;
  disconnect_row (self);
  g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->detail, sluice_query_detail_free);
  forget_decode (self);
  if (row == NULL || self->model == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  self->row = g_object_ref (row);
  self->loaded_id = g_signal_connect_swapped (row, "notify::loaded", G_CALLBACK (load_detail),
                                              self);
  self->thumb_id = g_signal_connect_swapped (row, "notify::thumbnail",
                                             G_CALLBACK (update_thumbnail), self);
  load_detail (self);
}

void
sluice_browse_detail_set_model (SluiceBrowseDetail *self,
                                SluiceBrowseModel  *model)
{
  g_return_if_fail (SLUICE_IS_BROWSE_DETAIL (self));
  sluice_browse_detail_set_row (self, NULL);
  g_set_object (&self->model, model);
}

const SluiceQueryDetail *
sluice_browse_detail_get_detail (SluiceBrowseDetail *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_DETAIL (self), NULL);
  return self->detail;
}

GdkPaintable *
sluice_browse_detail_get_thumbnail (SluiceBrowseDetail *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_DETAIL (self), NULL);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->thumb_stack), "picture") != 0)
    return NULL;
  return gtk_picture_get_paintable (self->picture);
}

const char *
sluice_browse_detail_get_thumbnail_text (SluiceBrowseDetail *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_DETAIL (self), NULL);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->thumb_stack), "none") != 0)
    return NULL;
  return gtk_label_get_text (self->no_thumb_label);
}

/* ---- actions ------------------------------------------------------------------------------ */

static void
copy_uri_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  SluiceBrowseDetail *self = SLUICE_BROWSE_DETAIL (widget);

  if (self->detail == NULL || self->detail->s3_uri == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->detail->s3_uri);
  toast (self, _("S3 URI copied"));
}

typedef struct {
  SluiceBrowseDetail *self;
  SluiceSavedTarget  *target;
  char               *key;
  guint               expires;
} LinkData;

static void
link_data_free (LinkData *data)
{
  g_object_unref (data->self);
  sluice_saved_target_free (data->target);
  g_free (data->key);
  g_free (data);
}

static void
copy_presigned (LinkData   *data,
                const char *secret)
{
  SluiceBrowseDetail *self = data->self;
  g_autoptr(SluiceCredentialsProvider) provider = NULL;
  g_autoptr(SluiceCredentials) credentials = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *text = NULL;

  provider = sluice_saved_target_make_credentials (data->target, secret);
  credentials = sluice_credentials_provider_get (provider, &error);
  if (credentials == NULL)
    {
      text = g_strdup_printf (_("No credentials for “%s”: %s"), data->target->name,
                              error->message);
      toast (self, text);
      return;
    }
  url = sluice_s3_presign (data->target->target, credentials, data->key, now, data->expires);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), url);
  if (data->expires <= 3600)
    text = g_strdup (_("Link copied; it works for 1 hour"));
  else if (data->expires <= 86400)
    text = g_strdup (_("Link copied; it works for 1 day"));
  else
    text = g_strdup (_("Link copied; it works for 7 days"));
  toast (self, text);
}

static void
secret_cb (GObject      *source_object,
           GAsyncResult *result,
           gpointer      user_data)
{
  LinkData *data = user_data;
  g_autoptr(GError) error = NULL;
  char *secret = sluice_target_secret_lookup_finish (result, &error);

  if (secret == NULL)
    {
      g_autofree char *text = error != NULL
        ? g_strdup_printf (_("The secret key could not be read from the keyring: %s"),
                           error->message)
        : g_strdup_printf (_("The keyring has no secret key for “%s”; enter it in the "
                             "target editor"), data->target->name);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (data->self, text);
    }
  else
    copy_presigned (data, secret);
  sluice_target_secret_free (secret);
  link_data_free (data);
}

/* The saved target that wrote this object: same endpoint and bucket. */
static const SluiceSavedTarget *
find_target (SluiceBrowseDetail *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) targets = NULL;

  if (self->store == NULL)
    self->store = sluice_target_store_new (NULL);
  /* a small key file: re-read each time, the target editor may have changed it */
  if (!sluice_target_store_load (self->store, &error))
    {
      g_debug ("Saved targets: %s", error->message);
      return NULL;
    }
  targets = sluice_target_store_list (self->store);
  for (guint i = 0; i < targets->len; i++)
    {
      const SluiceSavedTarget *t = g_ptr_array_index (targets, i);

      if (g_strcmp0 (t->target->endpoint, self->detail->endpoint) == 0 &&
          g_strcmp0 (t->target->bucket, self->detail->bucket) == 0)
        return t;
    }
  return NULL;
}

static void
copy_link_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SluiceBrowseDetail *self = SLUICE_BROWSE_DETAIL (widget);
  const SluiceSavedTarget *target;
  LinkData *data;
  guint choice;

  if (self->detail == NULL || self->detail->key == NULL)
    return;
  target = find_target (self);
  if (target == NULL)
    {
      g_autofree char *text =
        g_strdup_printf (_("No saved target uploads to “%s” at %s: add one to sign links"),
                         self->detail->bucket, self->detail->endpoint);
      toast (self, text);
      return;
    }
  choice = gtk_drop_down_get_selected (self->expiry_drop);
  data = g_new0 (LinkData, 1);
  data->self = g_object_ref (self);
  data->target = sluice_saved_target_copy (target);
  data->key = g_strdup (self->detail->key);
  data->expires = expiry_seconds[MIN (choice, G_N_ELEMENTS (expiry_seconds) - 1)];
  if (target->credentials == SLUICE_CREDENTIALS_SOURCE_ENVIRONMENT)
    {
      copy_presigned (data, NULL);
      link_data_free (data);
      return;
    }
  sluice_target_secret_lookup_async (target->name, self->cancellable, secret_cb, data);
}

static void
show_uri (SluiceBrowseDetail *self,
          const char         *uri)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  /* gtk_show_uri goes through the OpenURI portal in a Flatpak (GtkFileLauncher is 4.10) */
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

static void
open_maps_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SluiceBrowseDetail *self = SLUICE_BROWSE_DETAIL (widget);
  g_autofree char *uri = sluice_browse_detail_get_geo_uri (self);

  if (uri != NULL)
    show_uri (self, uri);
}

static void
open_folder_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SluiceBrowseDetail *self = SLUICE_BROWSE_DETAIL (widget);
  g_autoptr(GFile) folder = NULL;
  g_autofree char *uri = NULL;

  if (self->detail == NULL || self->detail->folder == NULL)
    return;
  folder = g_file_new_for_path (self->detail->folder);
  uri = g_file_get_uri (folder);
  show_uri (self, uri);
}

/* ---- object ------------------------------------------------------------------------------ */

static void
sluice_browse_detail_dispose (GObject *object)
{
  SluiceBrowseDetail *self = SLUICE_BROWSE_DETAIL (object);

  g_cancellable_cancel (self->cancellable);
  forget_decode (self);
  disconnect_row (self);
  g_clear_object (&self->model);
  /* the bin's child is a template child too: let the bin drop it first, or both would */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), SLUICE_TYPE_BROWSE_DETAIL);
  G_OBJECT_CLASS (sluice_browse_detail_parent_class)->dispose (object);
}

static void
sluice_browse_detail_finalize (GObject *object)
{
  SluiceBrowseDetail *self = SLUICE_BROWSE_DETAIL (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->detail, sluice_query_detail_free);
  g_clear_pointer (&self->store, sluice_target_store_free);
  G_OBJECT_CLASS (sluice_browse_detail_parent_class)->finalize (object);
}

static void
sluice_browse_detail_class_init (SluiceBrowseDetailClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sluice_browse_detail_dispose;
  object_class->finalize = sluice_browse_detail_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/sluice/Sluice/sluice-browse-detail.ui");
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseDetail, stack);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseDetail, thumb_stack);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseDetail, picture);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseDetail, no_thumb_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseDetail, name_label);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseDetail, copy_uri_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseDetail, expiry_drop);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseDetail, maps_button);
  gtk_widget_class_bind_template_child (widget_class, SluiceBrowseDetail, fields_grid);

  gtk_widget_class_install_action (widget_class, "detail.copy-uri", NULL, copy_uri_action);
  gtk_widget_class_install_action (widget_class, "detail.copy-link", NULL, copy_link_action);
  gtk_widget_class_install_action (widget_class, "detail.open-maps", NULL, open_maps_action);
  gtk_widget_class_install_action (widget_class, "detail.open-folder", NULL,
                                   open_folder_action);
}

static void
sluice_browse_detail_init (SluiceBrowseDetail *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
}
