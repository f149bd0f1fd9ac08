/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-heif"

#include "config.h"

#include <string.h>

#include <libheif/heif.h>

#include "sluice-probe-codecs.h"
#include "sluice-probe-decoders.h"
#include "sluice-probe-protocol.h"

/*
 * The module's HEIF side (sluice-probe-decoders.h): libheif reads the file from the helper's memory
 * and decodes one picture of it to RGB; the helper's thumbnail code scales it.
 */

#define EXPORT __attribute__ ((visibility ("default")))

/* libheif decodes a picture whole (a grid's tiles into one), then converts it to RGB: about
 * 4.5 bytes a pixel. A camera's HEIF is 12 to 61 MP. */
#define HEIF_MAX_PIXELS  (G_GUINT64_CONSTANT (64) * 1000 * 1000)

typedef struct {
  SluiceProbeHeifPicture         pub;
  struct heif_context           *ctx;
  struct heif_image_handle      *primary;
  struct heif_image_handle      *thumb;
  struct heif_image             *image;
  struct heif_decoding_options  *options;
} Picture;

EXPORT gboolean                sluice_probe_heif_init    (void);
EXPORT gboolean                sluice_probe_heif_is_heif (const guint8 *data,
                                                          gsize         len);
EXPORT SluiceProbeHeifPicture *sluice_probe_heif_decode  (const guint8  *data,
                                                          gsize          len,
                                                          guint          max_edge,
                                                          guint         *out_failure,
                                                          char         **out_message);
EXPORT void                    sluice_probe_heif_free    (SluiceProbeHeifPicture *picture);

gboolean
sluice_probe_heif_init (void)
{
  struct heif_error err = heif_init (NULL);

  if (err.code != heif_error_Ok)
    return FALSE;
  sluice_probe_codecs_register ();
  return TRUE;
}

gboolean
sluice_probe_heif_is_heif (const guint8 *data,
                           gsize         len)
{
  enum heif_filetype_result type;

  if (len < 12 || memcmp (data + 4, "ftyp", 4) != 0)
    return FALSE;
  type = heif_check_filetype (data, (int) MIN (len, 4096));
  return type == heif_filetype_yes_supported || type == heif_filetype_yes_unsupported;
}

void
sluice_probe_heif_free (SluiceProbeHeifPicture *picture)
{
  Picture *p = (Picture *) picture;

  if (p == NULL)
    return;
  g_clear_pointer (&p->image, heif_image_release);
  g_clear_pointer (&p->thumb, heif_image_handle_release);
  g_clear_pointer (&p->primary, heif_image_handle_release);
  g_clear_pointer (&p->options, heif_decoding_options_free);
  g_clear_pointer (&p->ctx, heif_context_free);
  g_free (p);
}

static guint
failure_of (const struct heif_error *err)
{
  if (err->code == heif_error_Unsupported_feature || err->code == heif_error_Unsupported_filetype)
    return SLUICE_PROBE_THUMB_UNSUPPORTED;
  if (err->code == heif_error_Memory_allocation_error ||
      err->subcode == heif_suberror_Security_limit_exceeded)
    return SLUICE_PROBE_THUMB_TOO_LARGE;
  return SLUICE_PROBE_THUMB_DAMAGED;
}

static SluiceProbeHeifPicture *
fail (Picture                 *p,
      const struct heif_error *err,
      guint                   *out_failure,
      char                   **out_message)
{
  *out_failure = failure_of (err);
  *out_message = g_strdup_printf ("the HEIF data cannot be decoded: %s", err->message);
  sluice_probe_heif_free (&p->pub);
  return NULL;
}

/*
 * The primary picture, or the smallest of its thumbnail pictures (an iPhone stores one of 320
 * or 416 pixels) that is at least @max_edge on its longest side: decoding that instead of a
 * 12 MP grid of 48 tiles is what makes a phone's HEIC thumbnail cheap (15 ms, not 600). libheif
 * applies the picture's own rotation, mirroring and crop (irot, imir, clap), which replace
 * the EXIF orientation in a HEIF; 10-bit pictures come as 8-bit RGB.
 */
SluiceProbeHeifPicture *
sluice_probe_heif_decode (const guint8  *data,
                          gsize          len,
                          guint          max_edge,
                          guint         *out_failure,
                          char         **out_message)
{
  Picture *p = g_new0 (Picture, 1);
  struct heif_image_handle *pick;
  struct heif_error err;
  heif_item_id ids[16];
  int n_thumbs, width, height;
  guint64 pixels;

  p->ctx = heif_context_alloc ();
  /* the tiles of a grid one after the other, in this thread */
  heif_context_set_max_decoding_threads (p->ctx, 0);
  err = heif_context_read_from_memory_without_copy (p->ctx, data, len, NULL);
  if (err.code == heif_error_Ok)
    err = heif_context_get_primary_image_handle (p->ctx, &p->primary);
  if (err.code != heif_error_Ok)
    return fail (p, &err, out_failure, out_message);

  pick = p->primary;
  n_thumbs = heif_image_handle_get_list_of_thumbnail_IDs (p->primary, ids, G_N_ELEMENTS (ids));
  for (int i = 0; i < n_thumbs; i++)
    {
      struct heif_image_handle *thumb = NULL;
      int tw, th;

      if (heif_image_handle_get_thumbnail (p->primary, ids[i], &thumb).code != heif_error_Ok)
        continue;
      tw = heif_image_handle_get_width (thumb);
      th = heif_image_handle_get_height (thumb);
      if ((guint) MAX (tw, th) >= max_edge &&
          (pick == p->primary ||
           (gint64) tw * th < (gint64) heif_image_handle_get_width (pick) *
                              heif_image_handle_get_height (pick)))
        {
          g_clear_pointer (&p->thumb, heif_image_handle_release);
          p->thumb = thumb;
          pick = thumb;
        }
      else
        heif_image_handle_release (thumb);
    }

  /* a bomb is refused from its header (ispe), before a single tile is decoded */
  width = heif_image_handle_get_width (pick);
  height = heif_image_handle_get_height (pick);
  pixels = (guint64) MAX (width, 0) * MAX (height, 0);
  if (pixels == 0 || pixels > HEIF_MAX_PIXELS)
    {
      *out_failure = pixels == 0 ? SLUICE_PROBE_THUMB_DAMAGED : SLUICE_PROBE_THUMB_TOO_LARGE;
      *out_message = pixels == 0
        ? g_strdup ("the HEIF data cannot be decoded: the picture has no size")
        : g_strdup_printf ("a HEIF picture of %d × %d pixels is too large to decode",
                           width, height);
      sluice_probe_heif_free (&p->pub);
      return NULL;
    }

  p->pub.alpha = heif_image_handle_has_alpha_channel (pick);
  p->options = heif_decoding_options_alloc ();
  p->options->convert_hdr_to_8bit = 1;
  err = heif_decode_image (pick, &p->image, heif_colorspace_RGB,
                           p->pub.alpha ? heif_chroma_interleaved_RGBA
                                        : heif_chroma_interleaved_RGB,
                           p->options);
  if (err.code != heif_error_Ok)
    return fail (p, &err, out_failure, out_message);
  p->pub.rows = heif_image_get_plane_readonly (p->image, heif_channel_interleaved,
                                               &p->pub.stride);
  p->pub.width = heif_image_get_width (p->image, heif_channel_interleaved);
  p->pub.height = heif_image_get_height (p->image, heif_channel_interleaved);
  if (p->pub.rows == NULL || p->pub.width <= 0 || p->pub.height <= 0 ||
      heif_image_get_bits_per_pixel_range (p->image, heif_channel_interleaved) != 8)
    {
      *out_failure = SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup ("the HEIF data cannot be decoded: the decoder gave no picture");
      sluice_probe_heif_free (&p->pub);
      return NULL;
    }
  return &p->pub;
}
