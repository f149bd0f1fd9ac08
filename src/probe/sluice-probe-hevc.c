/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-hevc"

#include "config.h"

#include <string.h>

#include <libde265/de265.h>
#include <libheif/heif.h>
#include <libheif/heif_plugin.h>

#include "sluice-probe-hevc.h"

/*
 * A decoder plugin as libheif's own libde265 one, without its worker thread: libheif hands
 * over the item's NAL units (its hvcC parameter sets first), each after a 4-byte big-endian
 * length, and asks for the one picture they make.
 */

/* above libheif's built-in decoders (100 for libde265, up to 150 for AV1) */
#define PLUGIN_PRIORITY  1000

typedef struct {
  de265_decoder_context *ctx;
} HevcDecoder;

static const struct heif_error ok = { heif_error_Ok, heif_suberror_Unspecified, "Success" };

static const char *
hevc_name (void)
{
  return "libde265 HEVC decoder, in the calling thread (Sluice)";
}

static int
hevc_supports (enum heif_compression_format format)
{
  return format == heif_compression_HEVC ? PLUGIN_PRIORITY : 0;
}

static struct heif_error
hevc_new (void **out)
{
  HevcDecoder *dec = g_new0 (HevcDecoder, 1);

  dec->ctx = de265_new_decoder ();
  if (dec->ctx == NULL)
    {
      g_free (dec);
      return (struct heif_error) { heif_error_Memory_allocation_error,
                                   heif_suberror_Unspecified,
                                   "the HEVC decoder could not start" };
    }
  /* no de265_start_worker_threads(): everything is decoded in this thread */
  de265_set_parameter_bool (dec->ctx, DE265_DECODER_PARAM_DISABLE_DEBLOCKING, 1);
  de265_set_parameter_bool (dec->ctx, DE265_DECODER_PARAM_DISABLE_SAO, 1);
  /* a picture with errors in it is still shown: most of it is usually there */
  de265_set_parameter_bool (dec->ctx, DE265_DECODER_PARAM_SUPPRESS_FAULTY_PICTURES, 0);
  *out = dec;
  return ok;
}

static void
hevc_free (void *decoder)
{
  HevcDecoder *dec = decoder;

  if (dec == NULL)
    return;
  de265_free_decoder (dec->ctx);
  g_free (dec);
}

static struct heif_error
hevc_push (void       *decoder,
           const void *data,
           size_t      size)
{
  HevcDecoder *dec = decoder;
  const guint8 *p = data;
  gsize pos = 0;

  while (pos < size)
    {
      guint32 nal;

      if (size - pos < 4)
        return (struct heif_error) { heif_error_Decoder_plugin_error,
                                     heif_suberror_End_of_data,
                                     "the HEVC data ends inside a NAL unit's length" };
      nal = (guint32) p[pos] << 24 | (guint32) p[pos + 1] << 16 | (guint32) p[pos + 2] << 8 |
            p[pos + 3];
      pos += 4;
      if (nal > size - pos || nal > G_MAXINT)
        return (struct heif_error) { heif_error_Decoder_plugin_error,
                                     heif_suberror_End_of_data,
                                     "an HEVC NAL unit runs past the end of its data" };
      if (!de265_isOK (de265_push_NAL (dec->ctx, p + pos, (int) nal, 0, NULL)))
        return (struct heif_error) { heif_error_Decoder_plugin_error,
                                     heif_suberror_Unspecified,
                                     "the HEVC decoder refused a NAL unit" };
      pos += nal;
    }
  return ok;
}

/* libde265's picture as a heif_image: planes copied, 8 bits a sample or 16 above that */
static struct heif_error
hevc_convert (const struct de265_image *picture,
              struct heif_image       **out)
{
  static const enum heif_channel channels[3] = {
    heif_channel_Y, heif_channel_Cb, heif_channel_Cr
  };
  enum de265_chroma format = de265_get_chroma_format (picture);
  enum heif_chroma chroma;
  struct heif_image *image = NULL;
  struct heif_error err;
  int n_planes;

  switch (format)
    {
    case de265_chroma_mono: chroma = heif_chroma_monochrome; n_planes = 1; break;
    case de265_chroma_420: chroma = heif_chroma_420; n_planes = 3; break;
    case de265_chroma_422: chroma = heif_chroma_422; n_planes = 3; break;
    case de265_chroma_444: chroma = heif_chroma_444; n_planes = 3; break;
    default:
      return (struct heif_error) { heif_error_Unsupported_feature,
                                   heif_suberror_Unsupported_color_conversion,
                                   "the HEVC picture has an unknown chroma format" };
    }
  err = heif_image_create (de265_get_image_width (picture, 0),
                           de265_get_image_height (picture, 0),
                           format == de265_chroma_mono ? heif_colorspace_monochrome
                                                       : heif_colorspace_YCbCr,
                           chroma, &image);
  if (err.code != heif_error_Ok)
    return err;

  for (int c = 0; c < n_planes; c++)
    {
      int w = de265_get_image_width (picture, c);
      int h = de265_get_image_height (picture, c);
      int bits = de265_get_bits_per_pixel (picture, c);
      int in_stride = 0, out_stride = 0;
      const guint8 *in = de265_get_image_plane (picture, c, &in_stride);
      guint8 *plane;
      gsize row;

      if (w <= 0 || h <= 0 || bits <= 0 || bits > 16 || in == NULL)
        {
          heif_image_release (image);
          return (struct heif_error) { heif_error_Decoder_plugin_error,
                                       heif_suberror_Unspecified,
                                       "the HEVC decoder gave an empty picture" };
        }
      err = heif_image_add_plane (image, channels[c], w, h, bits);
      if (err.code != heif_error_Ok)
        {
          heif_image_release (image);
          return err;
        }
      plane = heif_image_get_plane (image, channels[c], &out_stride);
      row = (gsize) w * (bits > 8 ? 2 : 1);
      for (int y = 0; y < h; y++)
        memcpy (plane + (gsize) y * out_stride, in + (gsize) y * in_stride, row);
    }
  *out = image;
  return ok;
}

static struct heif_error
hevc_decode (void               *decoder,
             struct heif_image **out)
{
  HevcDecoder *dec = decoder;
  de265_error status = DE265_OK;
  int more;

  *out = NULL;
  de265_flush_data (dec->ctx);
  do
    {
      const struct de265_image *picture;

      more = 0;
      status = de265_decode (dec->ctx, &more);
      if (status != DE265_OK)
        break;
      picture = de265_get_next_picture (dec->ctx);
      if (picture != NULL)
        {
          /* an image item is one picture: the first is it */
          struct heif_error err = hevc_convert (picture, out);

          de265_release_next_picture (dec->ctx);
          return err;
        }
    }
  while (more);

  /* the stream ended (or broke) without a whole picture */
  return (struct heif_error) { heif_error_Decoder_plugin_error, heif_suberror_Unspecified,
                               status == DE265_OK || status == DE265_ERROR_WAITING_FOR_INPUT_DATA
                               ? "the HEVC data holds no whole picture"
                               : "the HEVC data is damaged" };
}

static const char *
av1_name (void)
{
  return "AV1 refused (Sluice)";
}

static int
av1_supports (enum heif_compression_format format)
{
  return format == heif_compression_AV1 ? PLUGIN_PRIORITY : 0;
}

static struct heif_error
av1_new (void **out)
{
  *out = NULL;
  return (struct heif_error) { heif_error_Unsupported_feature, heif_suberror_Unsupported_codec,
                               "AV1 (AVIF) pictures are not decoded" };
}

static void
av1_free (void *decoder)
{
}

static struct heif_error
av1_push (void       *decoder,
          const void *data,
          size_t      size)
{
  return av1_new (&decoder);
}

static struct heif_error
av1_decode (void               *decoder,
            struct heif_image **out)
{
  *out = NULL;
  return av1_new (&decoder);
}

static const struct heif_decoder_plugin hevc_plugin = {
  .plugin_api_version = 1,
  .get_plugin_name = hevc_name,
  .does_support_format = hevc_supports,
  .new_decoder = hevc_new,
  .free_decoder = hevc_free,
  .push_data = hevc_push,
  .decode_image = hevc_decode,
};

static const struct heif_decoder_plugin av1_plugin = {
  .plugin_api_version = 1,
  .get_plugin_name = av1_name,
  .does_support_format = av1_supports,
  .new_decoder = av1_new,
  .free_decoder = av1_free,
  .push_data = av1_push,
  .decode_image = av1_decode,
};

void
sluice_probe_hevc_register (void)
{
  heif_register_decoder_plugin (&hevc_plugin);
  heif_register_decoder_plugin (&av1_plugin);
}
