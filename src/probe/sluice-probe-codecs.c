/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-codecs"

#include "config.h"

#include <string.h>

#include <dav1d/dav1d.h>
#include <errno.h>
#include <libde265/de265.h>
#include <libheif/heif.h>
#include <libheif/heif_plugin.h>

#include "sluice-probe-codecs.h"

/*
 * Decoder plugins as libheif's own, without their threads. For HEVC, libheif hands over the
 * item's NAL units (its hvcC parameter sets first), each after a 4-byte big-endian length; for
 * AV1, the av1C configuration OBUs and the item's OBUs. Each is asked for the one picture
 * they make, which is copied plane by plane into a heif_image.
 */

/* above libheif's built-in decoders (100 for libde265, up to 150 for AV1) */
#define PLUGIN_PRIORITY  1000

/* dav1d refuses a frame over this many pixels before allocating it (the module refuses over
 * 64 MP from ispe; a tile of a grid can claim more in its own header) */
#define AV1_MAX_FRAME_PIXELS  (64u * 1000 * 1000)

typedef struct {
  de265_decoder_context *ctx;
} HevcDecoder;

typedef struct {
  Dav1dContext *ctx;
  GByteArray   *data;
} Av1Decoder;

static const struct heif_error ok = { heif_error_Ok, heif_suberror_Unspecified, "Success" };

/* A @width × @height heif_image of @n_planes planes (Y, Cb, Cr) in @chroma, each filled by
 * copying rows from @planes at @strides (bytes), @bits a sample (stored in 16 over 8). */
static struct heif_error
image_from_planes (int                width,
                   int                height,
                   enum heif_chroma   chroma,
                   int                n_planes,
                   const guint8      *planes[3],
                   const int          strides[3],
                   const int          widths[3],
                   const int          heights[3],
                   int                bits,
                   struct heif_image **out)
{
  static const enum heif_channel channels[3] = {
    heif_channel_Y, heif_channel_Cb, heif_channel_Cr
  };
  struct heif_image *image = NULL;
  struct heif_error err;

  if (width <= 0 || height <= 0 || bits <= 0 || bits > 16)
    return (struct heif_error) { heif_error_Decoder_plugin_error, heif_suberror_Unspecified,
                                 "the decoder gave an empty picture" };
  err = heif_image_create (width, height,
                           chroma == heif_chroma_monochrome ? heif_colorspace_monochrome
                                                            : heif_colorspace_YCbCr,
                           chroma, &image);
  if (err.code != heif_error_Ok)
    return err;
  for (int c = 0; c < n_planes; c++)
    {
      int out_stride = 0;
      guint8 *plane;
      gsize row = (gsize) widths[c] * (bits > 8 ? 2 : 1);

      if (planes[c] == NULL || widths[c] <= 0 || heights[c] <= 0)
        {
          heif_image_release (image);
          return (struct heif_error) { heif_error_Decoder_plugin_error,
                                       heif_suberror_Unspecified,
                                       "the decoder gave an empty picture" };
        }
      err = heif_image_add_plane (image, channels[c], widths[c], heights[c], bits);
      if (err.code != heif_error_Ok)
        {
          heif_image_release (image);
          return err;
        }
      plane = heif_image_get_plane (image, channels[c], &out_stride);
      for (int y = 0; y < heights[c]; y++)
        memcpy (plane + (gsize) y * out_stride, planes[c] + (gsize) y * strides[c], row);
    }
  *out = image;
  return ok;
}

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

/* libde265's picture as a heif_image */
static struct heif_error
hevc_convert (const struct de265_image *picture,
              struct heif_image       **out)
{
  enum de265_chroma format = de265_get_chroma_format (picture);
  const guint8 *planes[3] = { NULL, NULL, NULL };
  int strides[3] = { 0 }, widths[3] = { 0 }, heights[3] = { 0 };
  enum heif_chroma chroma;
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
  for (int c = 0; c < n_planes; c++)
    {
      planes[c] = de265_get_image_plane (picture, c, &strides[c]);
      widths[c] = de265_get_image_width (picture, c);
      heights[c] = de265_get_image_height (picture, c);
      /* the chroma planes have the luma's depth in every stream a camera writes */
      if (de265_get_bits_per_pixel (picture, c) != de265_get_bits_per_pixel (picture, 0))
        return (struct heif_error) { heif_error_Unsupported_feature,
                                     heif_suberror_Unsupported_color_conversion,
                                     "the HEVC picture's planes differ in depth" };
    }
  return image_from_planes (widths[0], heights[0], chroma, n_planes, planes, strides, widths,
                            heights, de265_get_bits_per_pixel (picture, 0), out);
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
  return "dav1d AV1 decoder, in the calling thread (Sluice)";
}

static int
av1_supports (enum heif_compression_format format)
{
  return format == heif_compression_AV1 ? PLUGIN_PRIORITY : 0;
}

static struct heif_error
av1_new (void **out)
{
  Av1Decoder *dec = g_new0 (Av1Decoder, 1);
  Dav1dSettings settings;

  dav1d_default_settings (&settings);
  /* one thread: dav1d then starts none; a still picture needs no frame delay */
  settings.n_threads = 1;
  settings.max_frame_delay = 1;
  settings.all_layers = 0;
  settings.frame_size_limit = AV1_MAX_FRAME_PIXELS;
  if (dav1d_open (&dec->ctx, &settings) != 0)
    {
      g_free (dec);
      return (struct heif_error) { heif_error_Memory_allocation_error,
                                   heif_suberror_Unspecified,
                                   "the AV1 decoder could not start" };
    }
  dec->data = g_byte_array_new ();
  *out = dec;
  return ok;
}

static void
av1_free (void *decoder)
{
  Av1Decoder *dec = decoder;

  if (dec == NULL)
    return;
  dav1d_close (&dec->ctx);
  g_byte_array_unref (dec->data);
  g_free (dec);
}

static struct heif_error
av1_push (void       *decoder,
          const void *data,
          size_t      size)
{
  Av1Decoder *dec = decoder;

  g_byte_array_append (dec->data, data, size);
  return ok;
}

static struct heif_error
av1_convert (const Dav1dPicture  *picture,
             struct heif_image  **out)
{
  const Dav1dPictureParameters *p = &picture->p;
  const guint8 *planes[3] = { picture->data[0], picture->data[1], picture->data[2] };
  int strides[3] = { (int) picture->stride[0], (int) picture->stride[1],
                     (int) picture->stride[1] };
  int widths[3] = { p->w, p->w, p->w }, heights[3] = { p->h, p->h, p->h };
  enum heif_chroma chroma;
  int n_planes = 3;

  switch (p->layout)
    {
    case DAV1D_PIXEL_LAYOUT_I400: chroma = heif_chroma_monochrome; n_planes = 1; break;
    case DAV1D_PIXEL_LAYOUT_I420: chroma = heif_chroma_420; break;
    case DAV1D_PIXEL_LAYOUT_I422: chroma = heif_chroma_422; break;
    case DAV1D_PIXEL_LAYOUT_I444: chroma = heif_chroma_444; break;
    default:
      return (struct heif_error) { heif_error_Unsupported_feature,
                                   heif_suberror_Unsupported_color_conversion,
                                   "the AV1 picture has an unknown layout" };
    }
  for (int c = 1; c < n_planes; c++)
    {
      if (p->layout != DAV1D_PIXEL_LAYOUT_I444)
        widths[c] = (p->w + 1) / 2;
      if (p->layout == DAV1D_PIXEL_LAYOUT_I420)
        heights[c] = (p->h + 1) / 2;
    }
  return image_from_planes (p->w, p->h, chroma, n_planes, planes, strides, widths, heights,
                            p->bpc, out);
}

static struct heif_error
av1_decode (void               *decoder,
            struct heif_image **out)
{
  Av1Decoder *dec = decoder;
  Dav1dPicture picture = { 0 };
  Dav1dData data = { 0 };
  struct heif_error err;
  int res;

  *out = NULL;
  if (dec->data->len == 0 || dav1d_data_create (&data, dec->data->len) == NULL)
    return (struct heif_error) { heif_error_Decoder_plugin_error, heif_suberror_Unspecified,
                                 "the AV1 data holds no picture" };
  memcpy ((guint8 *) data.data, dec->data->data, dec->data->len);

  /* a still picture: all of it in, one picture out (with one thread and no frame delay,
   * dav1d gives it as soon as it has it) */
  do
    {
      res = dav1d_send_data (dec->ctx, &data);
      if (res < 0 && res != DAV1D_ERR (EAGAIN))
        break;
      res = dav1d_get_picture (dec->ctx, &picture);
    }
  while (res == DAV1D_ERR (EAGAIN) && data.sz > 0);
  if (res == DAV1D_ERR (EAGAIN))
    res = dav1d_get_picture (dec->ctx, &picture);
  dav1d_data_unref (&data);
  if (res < 0)
    return (struct heif_error) { heif_error_Decoder_plugin_error, heif_suberror_Unspecified,
                                 res == DAV1D_ERR (EAGAIN) ? "the AV1 data holds no whole picture"
                                 : res == DAV1D_ERR (ENOMEM) ? "the AV1 picture is too large"
                                 : "the AV1 data is damaged" };
  err = av1_convert (&picture, out);
  dav1d_picture_unref (&picture);
  return err;
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
sluice_probe_codecs_register (void)
{
  heif_register_decoder_plugin (&hevc_plugin);
  heif_register_decoder_plugin (&av1_plugin);
}
