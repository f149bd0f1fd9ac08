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

/*
 * The helper is not trusted: every string is sanitised again and bounded, every number
 * checked for range, the thumbnail bounded; a value of the wrong type counts as absent, and
 * of a key given twice the last one counts (as with GVariantDict). One pass over the entries:
 * building a GVariantDict and looking each field up by name was 7 % of a worker's CPU on
 * small files (issue 5).
 */
SluiceMetadata *
sluice_metadata_from_variant (GVariant  *variant,
                              GError   **error)
{
  g_autoptr(SluiceMetadata) self = sluice_metadata_new ();
  GVariantIter iter;
  const char *key;
  GVariant *boxed;

  if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "metadata is of type %s, not a{sv}", g_variant_get_type_string (variant));
      return NULL;
    }

#define INIT_DOUBLE(f) self->f = NAN;
#define INIT_INT(f) self->f = -1;
  FOR_EACH_DOUBLE (INIT_DOUBLE)
  FOR_EACH_INT (INIT_INT)
#undef INIT_DOUBLE
#undef INIT_INT
  self->exposure_num = self->exposure_den = 0;

  g_variant_iter_init (&iter, variant);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &boxed))
    {
      g_autoptr(GVariant) v = boxed;

      if (FALSE)
        ;
#define SET_STRING(f) \
      else if (strcmp (key, #f) == 0) \
        { \
          g_clear_pointer (&self->f, g_free); \
          if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING)) \
            self->f = sluice_sanitize_text (g_variant_get_string (v, NULL), -1, \
                                            SLUICE_METADATA_MAX_STRING); \
        }
#define SET_DOUBLE(f) \
      else if (strcmp (key, #f) == 0) \
        { \
          self->f = NAN; \
          if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE) && \
              isfinite (g_variant_get_double (v))) \
            self->f = g_variant_get_double (v); \
        }
#define SET_INT(f) \
      else if (strcmp (key, #f) == 0) \
        { \
          self->f = -1; \
          if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64) && g_variant_get_int64 (v) >= 0) \
            self->f = g_variant_get_int64 (v); \
        }
      FOR_EACH_STRING (SET_STRING)
      FOR_EACH_DOUBLE (SET_DOUBLE)
      FOR_EACH_INT (SET_INT)
#undef SET_STRING
#undef SET_DOUBLE
#undef SET_INT
      else if (strcmp (key, "exposure_time") == 0)
        {
          self->exposure_num = self->exposure_den = 0;
          if (g_variant_is_of_type (v, G_VARIANT_TYPE ("(uu)")))
            g_variant_get (v, "(uu)", &self->exposure_num, &self->exposure_den);
        }
      else if (strcmp (key, "has_thumbnail") == 0)
        {
          if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
            self->has_thumbnail = g_variant_get_boolean (v);
        }
      else if (strcmp (key, "thumbnail") == 0)
        {
          g_clear_pointer (&self->thumbnail, g_bytes_unref);
          if (g_variant_is_of_type (v, G_VARIANT_TYPE_BYTESTRING) &&
              g_variant_get_size (v) <= SLUICE_METADATA_MAX_THUMBNAIL &&
              g_variant_get_size (v) > 0)
            self->thumbnail = g_variant_get_data_as_bytes (v);
        }
      else if (strcmp (key, "warnings") == 0)
        {
          g_autofree const char **warnings = NULL;
          gsize n_warnings = 0;

          g_ptr_array_set_size (self->warnings, 0);
          if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY))
            continue;
          warnings = g_variant_get_strv (v, &n_warnings);
          for (gsize i = 0; i < n_warnings && i < SLUICE_METADATA_MAX_WARNINGS; i++)
            {
              char *w = sluice_sanitize_text (warnings[i], -1, SLUICE_METADATA_MAX_STRING);
              if (w != NULL)
                g_ptr_array_add (self->warnings, w);
            }
        }
    }

  return g_steal_pointer (&self);
}
