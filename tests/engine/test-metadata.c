/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-metadata"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sluice-error.h"
#include "sluice-metadata.h"

/*
 * The metadata record and its wire form. The helper that produces the variant parses hostile
 * files and is not trusted, so from_variant() is tested with variants it should never send.
 */

static SluiceMetadata *
full_metadata (void)
{
  SluiceMetadata *m = sluice_metadata_new ();
  static const guint8 thumb[] = { 0xff, 0xd8, 0xff, 0xd9 };

  m->container = g_strdup ("jpeg");
  m->make = g_strdup ("Sluice Optical");
  m->model = g_strdup ("SL-1");
  m->lens_model = g_strdup ("35mm f/1.4");
  m->datetime_original = g_strdup ("2024:02:29 13:45:10");
  m->subsec_time_original = g_strdup ("042");
  m->offset_time_original = g_strdup ("+02:00");
  m->exposure_num = 1;
  m->exposure_den = 250;
  m->f_number = 2.8;
  m->iso = 400;
  m->focal_length = 35;
  m->orientation = 6;
  m->exif_width = 6000;
  m->exif_height = 4000;
  m->width = 24;
  m->height = 16;
  m->gps_latitude = -33.855983;
  m->gps_longitude = -151.214250;
  m->gps_altitude = -421.5;
  m->has_thumbnail = TRUE;
  m->thumbnail = g_bytes_new (thumb, sizeof thumb);
  sluice_metadata_add_warning (m, "first %d", 1);
  sluice_metadata_add_warning (m, "second");
  return m;
}

static void
test_new_is_empty (void)
{
  g_autoptr(SluiceMetadata) m = sluice_metadata_new ();

  g_assert_true (sluice_metadata_is_empty (m));
  g_assert_true (isnan (m->f_number));
  g_assert_true (isnan (m->gps_latitude));
  g_assert_cmpint (m->iso, ==, -1);
  g_assert_cmpint (m->orientation, ==, -1);
  g_assert_cmpint (m->width, ==, -1);
  g_assert_cmpuint (m->exposure_den, ==, 0);
  g_assert_cmpuint (m->warnings->len, ==, 0);

  /* the container alone is not metadata */
  m->container = g_strdup ("jpeg");
  g_assert_true (sluice_metadata_is_empty (m));
  m->iso = 100;
  g_assert_false (sluice_metadata_is_empty (m));
}

/* @v as the engine gets it: serialised bytes it does not trust */
static GVariant *
as_received (GVariant *v)
{
  g_autoptr(GVariant) sunk = g_variant_ref_sink (v);
  g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (sunk);

  return g_variant_ref_sink (g_variant_new_from_bytes (g_variant_get_type (sunk), bytes, FALSE));
}

static void
test_round_trip (void)
{
  g_autoptr(SluiceMetadata) m = full_metadata ();
  g_autoptr(GVariant) v = as_received (sluice_metadata_to_variant (m));
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) back = sluice_metadata_from_variant (v, &error);

  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (v, SLUICE_METADATA_VARIANT_TYPE));
  g_assert_cmpstr (back->container, ==, "jpeg");
  g_assert_cmpstr (back->make, ==, "Sluice Optical");
  g_assert_cmpstr (back->model, ==, "SL-1");
  g_assert_cmpstr (back->lens_model, ==, "35mm f/1.4");
  g_assert_cmpstr (back->datetime_original, ==, "2024:02:29 13:45:10");
  g_assert_cmpstr (back->subsec_time_original, ==, "042");
  g_assert_cmpstr (back->offset_time_original, ==, "+02:00");
  g_assert_cmpuint (back->exposure_num, ==, 1);
  g_assert_cmpuint (back->exposure_den, ==, 250);
  g_assert_cmpfloat (back->f_number, ==, 2.8);
  g_assert_cmpint (back->iso, ==, 400);
  g_assert_cmpfloat (back->focal_length, ==, 35);
  g_assert_cmpint (back->orientation, ==, 6);
  g_assert_cmpint (back->exif_width, ==, 6000);
  g_assert_cmpint (back->exif_height, ==, 4000);
  g_assert_cmpint (back->width, ==, 24);
  g_assert_cmpint (back->height, ==, 16);
  g_assert_cmpfloat (back->gps_latitude, ==, -33.855983);
  g_assert_cmpfloat (back->gps_longitude, ==, -151.214250);
  g_assert_cmpfloat (back->gps_altitude, ==, -421.5);
  g_assert_true (back->has_thumbnail);
  g_assert_true (g_bytes_equal (back->thumbnail, m->thumbnail));
  g_assert_cmpuint (back->warnings->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (back->warnings, 0), ==, "first 1");
  g_assert_cmpstr (g_ptr_array_index (back->warnings, 1), ==, "second");
}

static void
test_round_trip_empty (void)
{
  g_autoptr(SluiceMetadata) m = sluice_metadata_new ();
  g_autoptr(GVariant) v = as_received (sluice_metadata_to_variant (m));
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) back = sluice_metadata_from_variant (v, &error);

  g_assert_no_error (error);
  g_assert_true (sluice_metadata_is_empty (back));
  g_assert_null (back->container);
  g_assert_null (back->thumbnail);
  g_assert_cmpint (back->height, ==, -1);
}

static void
test_wrong_type (void)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new ("(s)", "nope"));
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) m = sluice_metadata_from_variant (v, &error);

  g_assert_null (m);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL);
}

/* A RESULT as a helper could send it: the six members of SLUICE_METADATA_VARIANT_TYPE. */
static GVariant *
raw_result (const gint64  *ints,
            gsize          n_ints,
            const double  *doubles,
            gsize          n_doubles,
            const guint32 *exposure,
            gsize          n_exposure,
            const char   **strings,
            gsize          n_strings,
            const guint8  *thumbnail,
            gsize          thumbnail_len,
            const char   **warnings,
            gsize          n_warnings)
{
  GVariant *children[] = {
    g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ints, n_ints, sizeof (gint64)),
    g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, doubles, n_doubles, sizeof (double)),
    g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, exposure, n_exposure, sizeof (guint32)),
    g_variant_new_strv (strings, n_strings),
    g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, thumbnail, thumbnail_len, 1),
    g_variant_new_strv (warnings, n_warnings),
  };

  return as_received (g_variant_new_tuple (children, G_N_ELEMENTS (children)));
}

static void
test_hostile_variant (void)
{
  g_autofree char *huge = g_strnfill (100000, 'A');
  g_autofree guint8 *big_thumb = g_malloc0 (SLUICE_METADATA_MAX_THUMBNAIL + 1);
  const char *warnings[SLUICE_METADATA_MAX_WARNINGS + 10];
  /* iso, orientation, exif_width, exif_height, width, height */
  const gint64 ints[] = { -5, -1, G_MININT64, 0, 4000, -3000 };
  /* f_number, focal_length, gps_latitude, gps_longitude, gps_altitude */
  const double doubles[] = { INFINITY, NAN, -INFINITY, 8.5, -12.0 };
  const guint32 exposure[] = { 1, 0, 7 };
  const char *strings[] = { "jpeg", "Evil\r\nCorp\xe2\x80\xae", NULL, "   ", "", "\x1b[31m",
                            "+02:00" };
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) m = NULL;

  strings[2] = huge;
  for (guint i = 0; i < G_N_ELEMENTS (warnings); i++)
    warnings[i] = "w\x1b[2J\n";
  v = raw_result (ints, G_N_ELEMENTS (ints), doubles, G_N_ELEMENTS (doubles), exposure,
                  G_N_ELEMENTS (exposure), strings, G_N_ELEMENTS (strings), big_thumb,
                  SLUICE_METADATA_MAX_THUMBNAIL + 1, warnings, G_N_ELEMENTS (warnings));

  m = sluice_metadata_from_variant (v, &error);
  g_assert_no_error (error);
  /* strings sanitised and bounded, out-of-range numbers dropped */
  g_assert_cmpstr (m->container, ==, "jpeg");
  g_assert_cmpstr (m->make, ==, "Evil Corp");
  g_assert_cmpuint (strlen (m->model), ==, SLUICE_METADATA_MAX_STRING);
  g_assert_null (m->lens_model);
  g_assert_null (m->datetime_original);
  g_assert_cmpstr (m->subsec_time_original, ==, "[31m");
  g_assert_cmpstr (m->offset_time_original, ==, "+02:00");
  g_assert_cmpint (m->iso, ==, -1);
  g_assert_cmpint (m->orientation, ==, -1);
  g_assert_cmpint (m->exif_width, ==, -1);
  g_assert_cmpint (m->exif_height, ==, 0);
  g_assert_cmpint (m->width, ==, 4000);
  g_assert_cmpint (m->height, ==, -1);
  g_assert_true (isnan (m->f_number));
  g_assert_true (isnan (m->focal_length));
  g_assert_true (isnan (m->gps_latitude));
  g_assert_cmpfloat (m->gps_longitude, ==, 8.5);
  g_assert_cmpfloat (m->gps_altitude, ==, -12.0);
  /* a zero denominator is no exposure time; any other flag value means a thumbnail */
  g_assert_cmpuint (m->exposure_num, ==, 0);
  g_assert_cmpuint (m->exposure_den, ==, 0);
  g_assert_true (m->has_thumbnail);
  g_assert_null (m->thumbnail);
  g_assert_cmpuint (m->warnings->len, ==, SLUICE_METADATA_MAX_WARNINGS);
  g_assert_cmpstr (g_ptr_array_index (m->warnings, 0), ==, "w [2J");
}

/* Fields are only ever added at the end of their array: a shorter array (an older helper)
 * leaves the rest absent, a longer one's extra values (a newer helper) are ignored. */
static void
test_array_lengths (void)
{
  const gint64 ints[] = { 400, 6, 10, 20, 30, 40, 99, 99 };
  const double doubles[] = { 2.8 };
  const guint32 exposure[] = { 1, 250 };
  const char *strings[] = { "jpeg", "Canon", "EOS R", "RF 35", "2024:01:02 03:04:05", "12",
                            "+01:00", "a newer field" };
  const char *none[] = { NULL };
  g_autoptr(GVariant) longer = NULL;
  g_autoptr(GVariant) shorter = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) m = NULL;
  g_autoptr(SluiceMetadata) e = NULL;

  longer = raw_result (ints, G_N_ELEMENTS (ints), doubles, G_N_ELEMENTS (doubles), exposure,
                       G_N_ELEMENTS (exposure), strings, G_N_ELEMENTS (strings), NULL, 0, none,
                       0);
  m = sluice_metadata_from_variant (longer, &error);
  g_assert_no_error (error);
  g_assert_cmpint (m->iso, ==, 400);
  g_assert_cmpint (m->height, ==, 40);
  g_assert_cmpfloat (m->f_number, ==, 2.8);
  g_assert_true (isnan (m->focal_length));
  g_assert_cmpuint (m->exposure_num, ==, 1);
  g_assert_cmpuint (m->exposure_den, ==, 250);
  g_assert_false (m->has_thumbnail);
  g_assert_cmpstr (m->make, ==, "Canon");
  g_assert_cmpstr (m->offset_time_original, ==, "+01:00");
  g_assert_cmpuint (m->warnings->len, ==, 0);

  shorter = raw_result (ints, 1, doubles, 0, exposure, 1, strings, 2, NULL, 0, none, 0);
  e = sluice_metadata_from_variant (shorter, &error);
  g_assert_no_error (error);
  g_assert_cmpint (e->iso, ==, 400);
  g_assert_cmpint (e->orientation, ==, -1);
  g_assert_true (isnan (e->f_number));
  g_assert_cmpuint (e->exposure_den, ==, 0);
  g_assert_cmpstr (e->make, ==, "Canon");
  g_assert_null (e->model);
}

static void
test_add_warning (void)
{
  g_autoptr(SluiceMetadata) m = sluice_metadata_new ();

  /* bounded, sanitised, and an empty one is not kept */
  sluice_metadata_add_warning (m, "%s", "tab\there\nnewline");
  sluice_metadata_add_warning (m, "%s", " \t ");
  for (int i = 0; i < 100; i++)
    sluice_metadata_add_warning (m, "warning %d", i);

  g_assert_cmpuint (m->warnings->len, ==, SLUICE_METADATA_MAX_WARNINGS);
  g_assert_cmpstr (g_ptr_array_index (m->warnings, 0), ==, "tab here newline");
  g_assert_cmpstr (g_ptr_array_index (m->warnings, 1), ==, "warning 0");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/metadata/new-is-empty", test_new_is_empty);
  g_test_add_func ("/engine/metadata/round-trip", test_round_trip);
  g_test_add_func ("/engine/metadata/round-trip-empty", test_round_trip_empty);
  g_test_add_func ("/engine/metadata/wrong-type", test_wrong_type);
  g_test_add_func ("/engine/metadata/hostile-variant", test_hostile_variant);
  g_test_add_func ("/engine/metadata/add-warning", test_add_warning);
  g_test_add_func ("/engine/metadata/array-lengths", test_array_lengths);

  return g_test_run ();
}
