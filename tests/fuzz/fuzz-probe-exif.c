/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-probe-exif"

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice-metadata.h"
#include "sluice-probe-exif.h"
#include "sluice-probe-preview.h"
#include "sluice-probe-protocol.h"

/*
 * Fuzz target for the probe's parsing path: the bytes of one hostile file go through
 * sluice_probe_exif_extract() exactly as the helper runs it, then through the wire form the
 * helper sends (sluice_metadata_to_variant(), normal form, serialised) and back through the
 * parent's untrusting reader (sluice_metadata_from_variant()).
 *
 * The first input byte picks the name hint (the extractor only uses its extension, to warn about
 * a mismatch), the rest is the file. Besides crashes and sanitizer reports, the target aborts
 * when an invariant the parent relies on is broken: clean bounded strings, value ranges, a reply
 * that fits in one frame, and a round trip that loses nothing.
 *
 * The same bytes then go through the thumbnail's raw preview finder (sluice-probe-preview.c, a
 * walk of TIFF IFDs, a RAF header or CR3 boxes): what it finds must lie within the file and be
 * a JPEG frame of some size.
 *
 * Built by build-and-run.sh with clang -fsanitize=fuzzer,address,undefined, and by meson with
 * the normal compiler into fuzz-replay, which replays the regression files and the seeds.
 */

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static const char *const name_hints[] = {
  NULL, "IMG_0001.JPG", "a.jpg", "scan.tif", "raw.dng", "raw.nef", "photo.heic", "a.avif",
  "a.png", "a.webp", "DSCF0001.RAF", "IMG_0001.CR3", "notes.txt", "no-extension",
  "dir.jpg/file", "a.jpegjpegjpeg", "\xff\xfe.jpg", "",
};

#define FUZZ_CHECK(cond) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        fprintf (stderr, "fuzz-probe-exif: invariant broken at %s:%d: %s\n", __FILE__, \
                 __LINE__, #cond); \
        abort (); \
      } \
  } G_STMT_END

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* a critical from GLib (a g_return_if_fail in our code, invalid UTF-8 handed to GVariant) is
   * a bug worth a crash report, not a line on stderr */
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

static void
check_text (const char *s)
{
  if (s == NULL)
    return;
  FUZZ_CHECK (g_utf8_validate (s, -1, NULL));
  FUZZ_CHECK (strlen (s) > 0);
  FUZZ_CHECK (strlen (s) <= SLUICE_METADATA_MAX_STRING);
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      FUZZ_CHECK (!(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)));
    }
}

static void
check_sane (const SluiceMetadata *meta)
{
  check_text (meta->container);
  check_text (meta->make);
  check_text (meta->model);
  check_text (meta->lens_model);
  check_text (meta->datetime_original);
  check_text (meta->subsec_time_original);
  check_text (meta->offset_time_original);
  FUZZ_CHECK (meta->warnings != NULL);
  FUZZ_CHECK (meta->warnings->len <= SLUICE_METADATA_MAX_WARNINGS);
  for (guint i = 0; i < meta->warnings->len; i++)
    check_text (g_ptr_array_index (meta->warnings, i));
  FUZZ_CHECK (meta->orientation == -1 || (meta->orientation >= 1 && meta->orientation <= 8));
  FUZZ_CHECK (isnan (meta->gps_latitude) || fabs (meta->gps_latitude) <= 90);
  FUZZ_CHECK (isnan (meta->gps_longitude) || fabs (meta->gps_longitude) <= 180);
  if (meta->datetime_original != NULL)
    FUZZ_CHECK (strlen (meta->datetime_original) == 19);
  if (meta->thumbnail != NULL)
    {
      FUZZ_CHECK (meta->has_thumbnail);
      FUZZ_CHECK (g_bytes_get_size (meta->thumbnail) > 0);
      FUZZ_CHECK (g_bytes_get_size (meta->thumbnail) <= SLUICE_METADATA_MAX_THUMBNAIL);
    }
}

static void
check_same_double (double sent,
                   double received)
{
  /* the parent keeps finite numbers only */
  if (!isfinite (sent))
    FUZZ_CHECK (isnan (received));
  else
    FUZZ_CHECK (sent == received);
}

static void
check_round_trip (const SluiceMetadata *a,
                  const SluiceMetadata *b)
{
  FUZZ_CHECK (g_strcmp0 (a->container, b->container) == 0);
  FUZZ_CHECK (g_strcmp0 (a->make, b->make) == 0);
  FUZZ_CHECK (g_strcmp0 (a->model, b->model) == 0);
  FUZZ_CHECK (g_strcmp0 (a->lens_model, b->lens_model) == 0);
  FUZZ_CHECK (g_strcmp0 (a->datetime_original, b->datetime_original) == 0);
  FUZZ_CHECK (g_strcmp0 (a->subsec_time_original, b->subsec_time_original) == 0);
  FUZZ_CHECK (g_strcmp0 (a->offset_time_original, b->offset_time_original) == 0);
  FUZZ_CHECK (a->exposure_num == b->exposure_num && a->exposure_den == b->exposure_den);
  check_same_double (a->f_number, b->f_number);
  check_same_double (a->focal_length, b->focal_length);
  check_same_double (a->gps_latitude, b->gps_latitude);
  check_same_double (a->gps_longitude, b->gps_longitude);
  check_same_double (a->gps_altitude, b->gps_altitude);
  FUZZ_CHECK (a->iso == b->iso && a->orientation == b->orientation);
  FUZZ_CHECK (a->exif_width == b->exif_width && a->exif_height == b->exif_height);
  FUZZ_CHECK (a->width == b->width && a->height == b->height);
  FUZZ_CHECK (!a->has_thumbnail == !b->has_thumbnail);
  FUZZ_CHECK ((a->thumbnail == NULL) == (b->thumbnail == NULL));
  if (a->thumbnail != NULL)
    FUZZ_CHECK (g_bytes_equal (a->thumbnail, b->thumbnail));
  FUZZ_CHECK (a->warnings->len == b->warnings->len);
  for (guint i = 0; i < a->warnings->len; i++)
    FUZZ_CHECK (strcmp (g_ptr_array_index (a->warnings, i),
                        g_ptr_array_index (b->warnings, i)) == 0);
}

/* What the helper sends and the parent reads: normal form, stored into a frame-sized buffer,
 * taken back from bytes it does not trust. */
static SluiceMetadata *
through_the_wire (const SluiceMetadata *meta)
{
  g_autoptr(GVariant) sent = g_variant_ref_sink (sluice_metadata_to_variant (meta));
  g_autoptr(GVariant) normal = g_variant_get_normal_form (sent);
  g_autoptr(GVariant) received = NULL;
  g_autoptr(GError) error = NULL;
  gsize size = g_variant_get_size (normal);
  guint8 *buf;
  SluiceMetadata *back;

  /* the reply must fit in one frame, or the helper could not send it at all */
  FUZZ_CHECK (size <= SLUICE_PROBE_FRAME_MAX - SLUICE_PROBE_FRAME_HEADER);
  buf = g_malloc (MAX (size, 1));
  g_variant_store (normal, buf);
  received = g_variant_ref_sink (g_variant_new_from_data (SLUICE_METADATA_VARIANT_TYPE, buf, size,
                                                          FALSE, g_free, buf));
  FUZZ_CHECK (g_variant_is_normal_form (received));
  back = sluice_metadata_from_variant (received, &error);
  FUZZ_CHECK (back != NULL && error == NULL);
  return back;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(SluiceMetadata) back = NULL;
  const char *hint = NULL;

  if (size > 0)
    {
      hint = name_hints[data[0] % G_N_ELEMENTS (name_hints)];
      data++;
      size--;
    }

  meta = sluice_probe_exif_extract (size > 0 ? data : NULL, size, hint);
  FUZZ_CHECK (meta != NULL);
  check_sane (meta);
  back = through_the_wire (meta);
  check_sane (back);
  check_round_trip (meta, back);

  for (guint edge = 16; edge <= 512; edge *= 32)
    {
      SluiceProbePreview preview;

      if (!sluice_probe_preview_find (data, size, edge, &preview))
        continue;
      FUZZ_CHECK (preview.offset < size && preview.len <= size - preview.offset);
      FUZZ_CHECK (preview.len >= 3 && data[preview.offset] == 0xff &&
                  data[preview.offset + 1] == 0xd8);
      FUZZ_CHECK (preview.width > 0 && preview.height > 0);
    }
  return 0;
}
