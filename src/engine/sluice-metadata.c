/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-metadata"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sluice-error.h"
#include "sluice-metadata.h"
#include "sluice-sanitize.h"

SluiceMetadata *
sluice_metadata_new (void)
{
  SluiceMetadata *self = g_new0 (SluiceMetadata, 1);

  self->f_number = NAN;
  self->focal_length = NAN;
  self->gps_latitude = NAN;
  self->gps_longitude = NAN;
  self->gps_altitude = NAN;
  self->iso = -1;
  self->orientation = -1;
  self->exif_width = -1;
  self->exif_height = -1;
  self->width = -1;
  self->height = -1;
  self->warnings = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
sluice_metadata_free (SluiceMetadata *self)
{
  if (self == NULL)
    return;
  g_free (self->container);
  g_free (self->make);
  g_free (self->model);
  g_free (self->lens_model);
  g_free (self->datetime_original);
  g_free (self->subsec_time_original);
  g_free (self->offset_time_original);
  g_clear_pointer (&self->thumbnail, g_bytes_unref);
  g_clear_pointer (&self->warnings, g_ptr_array_unref);
  g_free (self);
}

void
sluice_metadata_add_warning (SluiceMetadata *self,
                             const char     *format,
                             ...)
{
  g_autofree char *raw = NULL;
  va_list args;

  if (self->warnings->len >= SLUICE_METADATA_MAX_WARNINGS)
    return;
  va_start (args, format);
  raw = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (self->warnings, sluice_sanitize_text (raw, -1, SLUICE_METADATA_MAX_STRING));
  if (g_ptr_array_index (self->warnings, self->warnings->len - 1) == NULL)
    g_ptr_array_remove_index (self->warnings, self->warnings->len - 1);
}

gboolean
sluice_metadata_is_empty (const SluiceMetadata *self)
{
  return self->make == NULL && self->model == NULL && self->lens_model == NULL &&
         self->datetime_original == NULL && self->subsec_time_original == NULL &&
         self->offset_time_original == NULL && self->exposure_den == 0 &&
         isnan (self->f_number) && self->iso < 0 && isnan (self->focal_length) &&
         self->orientation < 0 && self->exif_width < 0 && self->exif_height < 0 &&
         isnan (self->gps_latitude) && isnan (self->gps_longitude) &&
         isnan (self->gps_altitude) && !self->has_thumbnail;
}

#define FOR_EACH_STRING(X) \
  X (container) X (make) X (model) X (lens_model) X (datetime_original) \
  X (subsec_time_original) X (offset_time_original)
#define FOR_EACH_DOUBLE(X) \
  X (f_number) X (focal_length) X (gps_latitude) X (gps_longitude) X (gps_altitude)
#define FOR_EACH_INT(X) \
  X (iso) X (orientation) X (exif_width) X (exif_height) X (width) X (height)

GVariant *
sluice_metadata_to_variant (const SluiceMetadata *self)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
#define ADD_STRING(f) \
  if (self->f != NULL) g_variant_builder_add (&b, "{sv}", #f, g_variant_new_string (self->f));
#define ADD_DOUBLE(f) \
  if (!isnan (self->f)) g_variant_builder_add (&b, "{sv}", #f, g_variant_new_double (self->f));
#define ADD_INT(f) \
  if (self->f >= 0) g_variant_builder_add (&b, "{sv}", #f, g_variant_new_int64 (self->f));
  FOR_EACH_STRING (ADD_STRING)
  FOR_EACH_DOUBLE (ADD_DOUBLE)
  FOR_EACH_INT (ADD_INT)
#undef ADD_STRING
#undef ADD_DOUBLE
#undef ADD_INT

  if (self->exposure_den != 0)
    g_variant_builder_add (&b, "{sv}", "exposure_time",
                           g_variant_new ("(uu)", self->exposure_num, self->exposure_den));
  g_variant_builder_add (&b, "{sv}", "has_thumbnail", g_variant_new_boolean (self->has_thumbnail));
  if (self->thumbnail != NULL)
    g_variant_builder_add (&b, "{sv}", "thumbnail",
                           g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING,
                                                     self->thumbnail, TRUE));
  if (self->warnings->len > 0)
    g_variant_builder_add (&b, "{sv}", "warnings",
                           g_variant_new_strv ((const char * const *) self->warnings->pdata,
                                               self->warnings->len));
  return g_variant_builder_end (&b);
}

/* The helper is not trusted: every string is sanitised again and bounded, every number
 * checked for range, the thumbnail bounded. */
static char *
lookup_string (GVariantDict *dict,
               const char   *name)
{
  const char *value = NULL;

  if (!g_variant_dict_lookup (dict, name, "&s", &value))
    return NULL;
  return sluice_sanitize_text (value, -1, SLUICE_METADATA_MAX_STRING);
}

SluiceMetadata *
sluice_metadata_from_variant (GVariant  *variant,
                              GError   **error)
{
  g_autoptr(SluiceMetadata) self = sluice_metadata_new ();
  g_autoptr(GVariantDict) dict = NULL;
  g_autoptr(GVariant) thumb = NULL;
  g_autofree const char **warnings = NULL;
  gsize n_warnings = 0;

  if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "metadata is of type %s, not a{sv}", g_variant_get_type_string (variant));
      return NULL;
    }
  dict = g_variant_dict_new (variant);

#define GET_STRING(f) self->f = lookup_string (dict, #f);
#define GET_DOUBLE(f) \
  if (!g_variant_dict_lookup (dict, #f, "d", &self->f) || !isfinite (self->f)) self->f = NAN;
#define GET_INT(f) \
  if (!g_variant_dict_lookup (dict, #f, "x", &self->f) || self->f < 0) self->f = -1;
  FOR_EACH_STRING (GET_STRING)
  FOR_EACH_DOUBLE (GET_DOUBLE)
  FOR_EACH_INT (GET_INT)
#undef GET_STRING
#undef GET_DOUBLE
#undef GET_INT

  if (!g_variant_dict_lookup (dict, "exposure_time", "(uu)",
                              &self->exposure_num, &self->exposure_den))
    self->exposure_num = self->exposure_den = 0;
  g_variant_dict_lookup (dict, "has_thumbnail", "b", &self->has_thumbnail);

  thumb = g_variant_dict_lookup_value (dict, "thumbnail", G_VARIANT_TYPE_BYTESTRING);
  if (thumb != NULL && g_variant_get_size (thumb) <= SLUICE_METADATA_MAX_THUMBNAIL &&
      g_variant_get_size (thumb) > 0)
    self->thumbnail = g_variant_get_data_as_bytes (thumb);

  if (g_variant_dict_lookup (dict, "warnings", "^a&s", &warnings))
    {
      n_warnings = g_strv_length ((char **) warnings);
      for (gsize i = 0; i < n_warnings && i < SLUICE_METADATA_MAX_WARNINGS; i++)
        {
          char *w = sluice_sanitize_text (warnings[i], -1, SLUICE_METADATA_MAX_STRING);
          if (w != NULL)
            g_ptr_array_add (self->warnings, w);
        }
    }

  return g_steal_pointer (&self);
}
