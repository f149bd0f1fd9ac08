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

/*
 * A RESULT on the wire (sluice-probe-protocol.h), SLUICE_METADATA_VARIANT_TYPE "(axadauasayas)":
 * the integers, the doubles, (exposure numerator, denominator, has_thumbnail), the strings ("" for
 * none), the thumbnail's bytes (none when empty) and the warnings, each array in the order of the
 * lists below. A field is only ever added at the end of its list: a shorter array leaves the
 * missing fields absent, a longer one's extra values are ignored.
 *
 * Fixed arrays and two string arrays, not a dictionary: an a{sv} of ~15 entries cost about
 * 70 µs per file on both sides together (a GVariant per key, box and value, each checked and
 * freed), as much as the rest of the round trip (issue 5).
 */
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
#define AS_STRING(f) self->f != NULL ? self->f : "",
#define AS_VALUE(f) self->f,
  const char *strings[] = { FOR_EACH_STRING (AS_STRING) };
  const double doubles[] = { FOR_EACH_DOUBLE (AS_VALUE) };
  const gint64 ints[] = { FOR_EACH_INT (AS_VALUE) };
#undef AS_STRING
#undef AS_VALUE
  const guint32 exposure[] = { self->exposure_num, self->exposure_den,
                               self->has_thumbnail ? 1 : 0 };
  GVariant *children[6];

  children[0] = g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ints, G_N_ELEMENTS (ints),
                                           sizeof ints[0]);
  children[1] = g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, doubles,
                                           G_N_ELEMENTS (doubles), sizeof doubles[0]);
  children[2] = g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, exposure,
                                           G_N_ELEMENTS (exposure), sizeof exposure[0]);
  children[3] = g_variant_new_strv (strings, G_N_ELEMENTS (strings));
  children[4] = self->thumbnail != NULL
                  ? g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, self->thumbnail, TRUE)
                  : g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1);
  children[5] = g_variant_new_strv ((const char * const *) self->warnings->pdata,
                                    self->warnings->len);
  return g_variant_new_tuple (children, G_N_ELEMENTS (children));
}

/* The @index'th fixed-size array of @variant: its elements (NULL when none) and how many. */
static gconstpointer
fixed_child (GVariant  *variant,
             gsize      index,
             gsize      element_size,
             GVariant **out_child,
             gsize     *out_n)
{
  *out_child = g_variant_get_child_value (variant, index);
  return g_variant_get_fixed_array (*out_child, out_n, element_size);
}

/*
 * The helper is not trusted: every string is sanitised again and bounded, every number
 * checked for range, the thumbnail bounded; an array of the wrong length gives what it holds
 * of the known fields. GVariant checks the framing of untrusted data on every access.
 */
SluiceMetadata *
sluice_metadata_from_variant (GVariant  *variant,
                              GError   **error)
{
  g_autoptr(SluiceMetadata) self = NULL;
  g_autoptr(GVariant) ints_v = NULL;
  g_autoptr(GVariant) doubles_v = NULL;
  g_autoptr(GVariant) exposure_v = NULL;
  g_autoptr(GVariant) strings_v = NULL;
  g_autoptr(GVariant) thumbnail_v = NULL;
  g_autoptr(GVariant) warnings_v = NULL;
  const gint64 *ints;
  const double *doubles;
  const guint32 *exposure;
  gsize n, i;

  if (!g_variant_is_of_type (variant, SLUICE_METADATA_VARIANT_TYPE))
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "metadata is of type %s, not %s", g_variant_get_type_string (variant),
                   (const char *) SLUICE_METADATA_VARIANT_TYPE);
      return NULL;
    }
  self = sluice_metadata_new ();

  ints = fixed_child (variant, 0, sizeof (gint64), &ints_v, &n);
  i = 0;
#define SET_INT(f) \
  if (i < n && ints[i] >= 0) \
    self->f = ints[i]; \
  i++;
  FOR_EACH_INT (SET_INT)
#undef SET_INT

  doubles = fixed_child (variant, 1, sizeof (double), &doubles_v, &n);
  i = 0;
#define SET_DOUBLE(f) \
  if (i < n && isfinite (doubles[i])) \
    self->f = doubles[i]; \
  i++;
  FOR_EACH_DOUBLE (SET_DOUBLE)
#undef SET_DOUBLE

  exposure = fixed_child (variant, 2, sizeof (guint32), &exposure_v, &n);
  if (n >= 2 && exposure[1] != 0)
    {
      self->exposure_num = exposure[0];
      self->exposure_den = exposure[1];
    }
  self->has_thumbnail = n >= 3 && exposure[2] != 0;

  strings_v = g_variant_get_child_value (variant, 3);
  n = g_variant_n_children (strings_v);
  i = 0;
#define SET_STRING(f) \
  if (i < n) \
    { \
      g_autoptr(GVariant) s = g_variant_get_child_value (strings_v, i); \
      self->f = sluice_sanitize_text (g_variant_get_string (s, NULL), -1, \
                                      SLUICE_METADATA_MAX_STRING); \
    } \
  i++;
  FOR_EACH_STRING (SET_STRING)
#undef SET_STRING

  thumbnail_v = g_variant_get_child_value (variant, 4);
  if (g_variant_get_size (thumbnail_v) > 0 &&
      g_variant_get_size (thumbnail_v) <= SLUICE_METADATA_MAX_THUMBNAIL)
    self->thumbnail = g_variant_get_data_as_bytes (thumbnail_v);

  warnings_v = g_variant_get_child_value (variant, 5);
  n = MIN (g_variant_n_children (warnings_v), SLUICE_METADATA_MAX_WARNINGS);
  for (i = 0; i < n; i++)
    {
      g_autoptr(GVariant) s = g_variant_get_child_value (warnings_v, i);
      char *w = sluice_sanitize_text (g_variant_get_string (s, NULL), -1,
                                      SLUICE_METADATA_MAX_STRING);
      if (w != NULL)
        g_ptr_array_add (self->warnings, w);
    }

  return g_steal_pointer (&self);
}
