/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-thumbnail"

#include "config.h"

#include <glib/gstdio.h>
#include <libexif/exif-data.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#if HAVE_HEIF
#include <libheif/heif.h>
#endif
#if HAVE_TIFF
#include <tiffio.h>
#endif
#include <png.h>
#include <webp/encode.h>
#include <webp/mux.h>
#include <zlib.h>

#include "sluice-buffer.h"
#include "sluice-error.h"
#include "sluice-probe-pool.h"
#include "sluice-probe-protocol.h"
#include "sluice-test-util.h"
#include "sluice-thumbnail.h"

/*
 * Thumbnails decoded by the real sluice-probe from JPEGs, PNGs, WebPs and HEIFs this test
 * writes with libjpeg, libpng, libwebp and libheif (x265): the size and colours that come
 * back, EXIF orientation and HEIF's own rotation, transparency, damaged and foreign files,
 * decompression bombs, a helper that crashes or stalls on a file (probe-test-helper-normal),
 * and the caches of SluiceThumbnailer. Real phone HEICs from ../shared/corpus/exif-samples
 * when it is there.
 */

#ifndef PROBE_TEST_HELPER_DIR
#error "PROBE_TEST_HELPER_DIR must name the folder of probe-test-helper-*"
#endif

#define SHORT_TIMEOUT_MS 1500

typedef void (*Painter) (guint   x,
                         guint   y,
                         guint   w,
                         guint   h,
                         guint8 *rgb);

static void
paint_red (guint x, guint y, guint w, guint h, guint8 *rgb)
{
  rgb[0] = 255;
  rgb[1] = 0;
  rgb[2] = 0;
}

static void
paint_green (guint x, guint y, guint w, guint h, guint8 *rgb)
{
  rgb[0] = 0;
  rgb[1] = 255;
  rgb[2] = 0;
}

/* left half red, right half blue */
static void
paint_halves (guint x, guint y, guint w, guint h, guint8 *rgb)
{
  gboolean left = x < w / 2;

  rgb[0] = left ? 255 : 0;
  rgb[1] = 0;
  rgb[2] = left ? 0 : 255;
}

/* A gradient with noise, so that the JPEG has a photo's entropy (and size) */
static void
paint_gradient (guint x, guint y, guint w, guint h, guint8 *rgb)
{
  static guint32 seed = 12345;

  for (guint c = 0; c < 3; c++)
    {
      int base = c == 0 ? (int) (x * 255 / w) : c == 1 ? (int) (y * 255 / h) : 64;
      int noise;

      seed = seed * 1103515245 + 12345;
      noise = (int) ((seed >> 16) % 33) - 16;
      rgb[c] = CLAMP (base + noise, 0, 255);
    }
}

/* An EXIF APP1 body ("Exif\0\0" + TIFF) with only an orientation, written by libexif. */
static GBytes *
make_orientation_exif (guint orientation)
{
  ExifData *ed = exif_data_new ();
  ExifEntry *e = exif_entry_new ();
  unsigned char *buf = NULL;
  unsigned int len = 0;
  GBytes *bytes;

  exif_data_set_byte_order (ed, EXIF_BYTE_ORDER_INTEL);
  exif_content_add_entry (ed->ifd[EXIF_IFD_0], e);
  exif_entry_initialize (e, EXIF_TAG_ORIENTATION);
  exif_set_short (e->data, EXIF_BYTE_ORDER_INTEL, orientation);
  exif_data_save_data (ed, &buf, &len);
  g_assert_nonnull (buf);
  bytes = g_bytes_new (buf, len);
  free (buf);
  exif_entry_unref (e);
  exif_data_unref (ed);
  return bytes;
}

typedef enum {
  JPEG_BASELINE,
  JPEG_PROGRESSIVE,
  JPEG_GRAY,
  JPEG_CMYK,      /* Adobe's inverted CMYK, as Photoshop writes it */
} JpegKind;

static GBytes *
make_jpeg_kind (guint     width,
                guint     height,
                Painter   paint,
                GBytes   *exif,
                JpegKind  kind)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  unsigned char *out = NULL;
  unsigned long out_len = 0;
  g_autofree guint8 *row = g_malloc ((gsize) width * 4);
  g_autofree guint8 *rgb = g_malloc ((gsize) width * 3);
  GBytes *bytes;

  cinfo.err = jpeg_std_error (&jerr);
  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, &out, &out_len);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = kind == JPEG_GRAY ? 1 : kind == JPEG_CMYK ? 4 : 3;
  cinfo.in_color_space = kind == JPEG_GRAY ? JCS_GRAYSCALE : kind == JPEG_CMYK ? JCS_CMYK
                                                                                : JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 90, TRUE);
  if (kind == JPEG_PROGRESSIVE)
    jpeg_simple_progression (&cinfo);
  jpeg_start_compress (&cinfo, TRUE);
  if (exif != NULL)
    jpeg_write_marker (&cinfo, JPEG_APP0 + 1, g_bytes_get_data (exif, NULL),
                       g_bytes_get_size (exif));
  while (cinfo.next_scanline < height)
    {
      JSAMPROW rows[1] = { row };

      for (guint x = 0; x < width; x++)
        {
          guint8 *p = rgb + x * 3;

          paint (x, cinfo.next_scanline, width, height, p);
          if (kind == JPEG_GRAY)
            row[x] = (p[0] * 30 + p[1] * 59 + p[2] * 11) / 100;
          else if (kind == JPEG_CMYK)
            {
              /* inverted: 255 is no ink; K is 255 (no black), the colour is in C, M, Y */
              row[x * 4] = p[0];
              row[x * 4 + 1] = p[1];
              row[x * 4 + 2] = p[2];
              row[x * 4 + 3] = 255;
            }
          else
            memcpy (row + x * 3, p, 3);
        }
      jpeg_write_scanlines (&cinfo, rows, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  bytes = g_bytes_new (out, out_len);
  free (out);
  return bytes;
}

static GBytes *
make_jpeg (guint    width,
           guint    height,
           Painter  paint,
           GBytes  *exif)
{
  return make_jpeg_kind (width, height, paint, exif, JPEG_BASELINE);
}

typedef enum {
  PNG_RGB,
  PNG_RGBA,         /* alpha from the painter's fourth byte */
  PNG_PALETTE,
  PNG_GRAY16,
  PNG_INTERLACED,   /* Adam7, RGB */
} PngKind;

static void
png_write_bytes (png_structp png,
                 png_bytep   data,
                 png_size_t  len)
{
  g_byte_array_append (png_get_io_ptr (png), data, len);
}

static void
png_flush_nothing (png_structp png)
{
}

/* A PNG of @kind; @paint gives RGB and @alpha (NULL: opaque) the alpha of PNG_RGBA. */
static GBytes *
make_png (guint    width,
          guint    height,
          Painter  paint,
          guint8   alpha,
          PngKind  kind)
{
  GByteArray *out = g_byte_array_new ();
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  guint channels = kind == PNG_RGBA ? 4 : kind == PNG_PALETTE ? 1 : kind == PNG_GRAY16 ? 2 : 3;
  g_autofree guint8 *row = g_malloc ((gsize) width * channels);
  int color = kind == PNG_RGBA ? PNG_COLOR_TYPE_RGB_ALPHA
              : kind == PNG_PALETTE ? PNG_COLOR_TYPE_PALETTE
              : kind == PNG_GRAY16 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
  int passes;

  g_assert_nonnull (png);
  g_assert_nonnull (info);
  g_assert_cmpint (setjmp (png_jmpbuf (png)), ==, 0);
  png_set_write_fn (png, out, png_write_bytes, png_flush_nothing);
  png_set_IHDR (png, info, width, height, kind == PNG_GRAY16 ? 16 : 8, color,
                kind == PNG_INTERLACED ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (kind == PNG_PALETTE)
    {
      /* a palette of the painter's colours, found per pixel */
      png_color palette[256];

      for (guint i = 0; i < 256; i++)
        {
          palette[i].red = i & 0xe0;
          palette[i].green = (i << 3) & 0xe0;
          palette[i].blue = (i << 6) & 0xc0;
        }
      palette[255].red = 255;   /* exact red */
      palette[255].green = 0;
      palette[255].blue = 0;
      png_set_PLTE (png, info, palette, 256);
    }
  png_write_info (png, info);
  passes = kind == PNG_INTERLACED ? png_set_interlace_handling (png) : 1;
  for (int pass = 0; pass < passes; pass++)
    for (guint y = 0; y < height; y++)
      {
        for (guint x = 0; x < width; x++)
          {
            guint8 rgb[3];

            paint (x, y, width, height, rgb);
            if (kind == PNG_PALETTE)
              row[x] = rgb[0] == 255 && rgb[1] == 0 && rgb[2] == 0
                       ? 255 : (rgb[0] & 0xe0) | ((rgb[1] & 0xe0) >> 3) | (rgb[2] >> 6);
            else if (kind == PNG_GRAY16)
              {
                guint v = (rgb[0] * 30 + rgb[1] * 59 + rgb[2] * 11) / 100 * 257;

                row[x * 2] = v >> 8;
                row[x * 2 + 1] = v & 0xff;
              }
            else
              {
                memcpy (row + x * channels, rgb, 3);
                if (kind == PNG_RGBA)
                  row[x * 4 + 3] = alpha;
              }
          }
        png_write_row (png, row);
      }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  return g_byte_array_free_to_bytes (out);
}

/* @png with its IHDR's width and height replaced (and the chunk's CRC made right again). */
static GBytes *
png_with_size (GBytes  *png,
               guint32  width,
               guint32  height)
{
  gsize len = g_bytes_get_size (png);
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (png, NULL), len);
  guint32 crc;

  /* signature (8), length (4), "IHDR" (4), width (4), height (4), 5 bytes, CRC (4) */
  g_assert_cmpmem (data + 12, 4, "IHDR", 4);
  for (guint i = 0; i < 4; i++)
    {
      data[16 + i] = (width >> (24 - 8 * i)) & 0xff;
      data[20 + i] = (height >> (24 - 8 * i)) & 0xff;
    }
  crc = crc32 (0, data + 12, 17);
  for (guint i = 0; i < 4; i++)
    data[29 + i] = (crc >> (24 - 8 * i)) & 0xff;
  return g_bytes_new (data, len);
}

/* A mutated file's outcome: pixels of at most @edge, or the helper's clean refusal (never a
 * crash, a stall or a broken frame); counted in @decoded or @refused. */
static void
tally_mutant (GBytes       *pixels,
              guint         width,
              guint         height,
              guint         edge,
              const GError *error,
              guint        *decoded,
              guint        *refused)
{
  if (pixels != NULL)
    {
      g_assert_cmpuint (width, >, 0);
      g_assert_cmpuint (width, <=, edge);
      g_assert_cmpuint (height, <=, edge);
      (*decoded)++;
      return;
    }
  g_assert_true (error->domain == SLUICE_ERROR);
  g_assert_cmpint (error->code, !=, SLUICE_ERROR_PROBE_CRASHED);
  g_assert_cmpint (error->code, !=, SLUICE_ERROR_PROBE_TIMEOUT);
  g_assert_cmpint (error->code, !=, SLUICE_ERROR_PROBE_PROTOCOL);
  (*refused)++;
}

/* A still WebP, lossy or lossless, painted by @paint with a constant @alpha (255: opaque, no
 * alpha channel), with @exif (libexif's "Exif\0\0" + TIFF, or NULL) in an EXIF chunk. */
static GBytes *
make_webp (guint     width,
           guint     height,
           Painter   paint,
           guint8    alpha,
           gboolean  lossless,
           GBytes   *exif)
{
  g_autofree guint8 *rgba = g_malloc ((gsize) width * height * 4);
  guint8 *out = NULL;
  gsize len;
  GBytes *bytes;

  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      {
        guint8 *p = rgba + ((gsize) y * width + x) * 4;

        paint (x, y, width, height, p);
        p[3] = alpha;
      }
  len = lossless ? WebPEncodeLosslessRGBA (rgba, width, height, width * 4, &out)
                 : WebPEncodeRGBA (rgba, width, height, width * 4, 90, &out);
  g_assert_cmpuint (len, >, 0);
  bytes = g_bytes_new (out, len);
  WebPFree (out);

  if (exif != NULL)
    {
      WebPData image = { g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes) };
      WebPData chunk = { g_bytes_get_data (exif, NULL), g_bytes_get_size (exif) };
      WebPData assembled = { NULL, 0 };
      WebPMux *mux = WebPMuxNew ();

      g_assert_cmpint (WebPMuxSetImage (mux, &image, 1), ==, WEBP_MUX_OK);
      g_assert_cmpint (WebPMuxSetChunk (mux, "EXIF", &chunk, 1), ==, WEBP_MUX_OK);
      g_assert_cmpint (WebPMuxAssemble (mux, &assembled), ==, WEBP_MUX_OK);
      WebPMuxDelete (mux);
      g_bytes_unref (bytes);
      bytes = g_bytes_new (assembled.bytes, assembled.size);
      WebPDataClear (&assembled);
    }
  return bytes;
}

#if HAVE_HEIF
static struct heif_error
heif_write_to_array (struct heif_context *ctx,
                     const void          *data,
                     size_t               size,
                     void                *user_data)
{
  g_byte_array_append (user_data, data, size);
  return (struct heif_error) { heif_error_Ok, heif_suberror_Unspecified, "" };
}

static struct heif_image *
heif_painted (guint    width,
              guint    height,
              Painter  paint,
              guint8   alpha)
{
  struct heif_image *image = NULL;
  guint8 *plane;
  int stride = 0;

  g_assert_cmpint (heif_image_create (width, height, heif_colorspace_RGB,
                                      alpha != 255 ? heif_chroma_interleaved_RGBA
                                                   : heif_chroma_interleaved_RGB,
                                      &image).code, ==, heif_error_Ok);
  g_assert_cmpint (heif_image_add_plane (image, heif_channel_interleaved, width, height,
                                         8).code, ==, heif_error_Ok);
  plane = heif_image_get_plane (image, heif_channel_interleaved, &stride);
  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      {
        guint8 *p = plane + (gsize) y * stride + x * (alpha != 255 ? 4 : 3);

        paint (x, y, width, height, p);
        if (alpha != 255)
          p[3] = alpha;
      }
  return image;
}

/* A HEIC (HEVC by libheif's x265 encoder; AV1 with @av1) painted by @paint with a constant
 * @alpha (255: no alpha channel), displayed turned by @orientation (EXIF's 1..8, written as
 * HEIF's irot/imir), and with @thumb (or NULL) painted into a thumbnail item of at most
 * @thumb_edge pixels. */
static GBytes *
make_heif (guint    width,
           guint    height,
           Painter  paint,
           guint8   alpha,
           guint    orientation,
           Painter  thumb,
           guint    thumb_edge,
           gboolean av1)
{
  struct heif_context *ctx = heif_context_alloc ();
  struct heif_encoder *encoder = NULL;
  struct heif_encoding_options *options = heif_encoding_options_alloc ();
  struct heif_image *image = heif_painted (width, height, paint, alpha);
  struct heif_image_handle *handle = NULL;
  struct heif_writer writer = { 1, heif_write_to_array };
  GByteArray *out = g_byte_array_new ();

  g_assert_cmpint (heif_context_get_encoder_for_format (ctx, av1 ? heif_compression_AV1
                                                                 : heif_compression_HEVC,
                                                        &encoder).code, ==, heif_error_Ok);
  heif_encoder_set_lossy_quality (encoder, 90);
  options->image_orientation = (enum heif_orientation) orientation;
  g_assert_cmpint (heif_context_encode_image (ctx, image, encoder, options, &handle).code, ==,
                   heif_error_Ok);
  if (thumb != NULL)
    {
      struct heif_image *small = heif_painted (width, height, thumb, 255);
      struct heif_image_handle *thumb_handle = NULL;

      g_assert_cmpint (heif_context_encode_thumbnail (ctx, small, handle, encoder, options,
                                                      thumb_edge, &thumb_handle).code, ==,
                       heif_error_Ok);
      g_assert_nonnull (thumb_handle);
      heif_image_handle_release (thumb_handle);
      heif_image_release (small);
    }
  g_assert_cmpint (heif_context_write (ctx, &writer, out).code, ==, heif_error_Ok);
  heif_image_handle_release (handle);
  heif_image_release (image);
  heif_encoding_options_free (options);
  heif_encoder_release (encoder);
  heif_context_free (ctx);
  return g_byte_array_free_to_bytes (out);
}

#endif

static SluiceProbePool *
real_pool (void)
{
  g_autofree char *helper = sluice_probe_find_helper ();
  g_autoptr(GError) error = NULL;
  SluiceProbePool *pool = sluice_probe_pool_new_for_thumbnails (helper, 1, 0, &error);

  g_assert_no_error (error);
  return pool;
}

/* The pixels of @data as the helper decodes them, through a memfd as the engine sends it. */
static GBytes *
thumbnail_of (SluiceProbePool  *pool,
              GBytes           *data,
              guint             max_edge,
              guint            *width,
              guint            *height,
              gsize            *stride,
              GError          **error)
{
  g_autoptr(SluiceBuffer) buffer = NULL;
  g_autoptr(GError) local_error = NULL;
  GBytes *pixels;
  int fd;

  buffer = sluice_buffer_new_from_data (g_bytes_get_data (data, NULL), g_bytes_get_size (data),
                                        &local_error);
  g_assert_no_error (local_error);
  fd = sluice_buffer_get_readonly_fd (buffer);
  pixels = sluice_probe_pool_thumbnail (pool, fd, buffer->len, max_edge, width, height, stride,
                                        error);
  return pixels;
}

static void
assert_pixel (GBytes *pixels,
              gsize   stride,
              guint   x,
              guint   y,
              int     r,
              int     g,
              int     b)
{
  const guint8 *p = (const guint8 *) g_bytes_get_data (pixels, NULL) + y * stride + x * 3;

  if (ABS (p[0] - r) > 12 || ABS (p[1] - g) > 12 || ABS (p[2] - b) > 12)
    g_error ("pixel %u,%u is %u,%u,%u, expected about %d,%d,%d", x, y, p[0], p[1], p[2], r, g, b);
}

/* The thumbnail of @data at @edge: @w × @h pixels, about (@r, @g, @b) at (@x, @y). */
static void
assert_thumbnail (SluiceProbePool *pool,
                  GBytes          *data,
                  guint            edge,
                  guint            w,
                  guint            h,
                  guint            x,
                  guint            y,
                  int              r,
                  int              g,
                  int              b)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pixels = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;

  pixels = thumbnail_of (pool, data, edge, &width, &height, &stride, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (width, ==, w);
  g_assert_cmpuint (height, ==, h);
  assert_pixel (pixels, stride, x, y, r, g, b);
}

/* The same with red at (@rx, @ry) and blue at (@bx, @by): a paint_halves() picture. */
static void
assert_halves (SluiceProbePool *pool,
               GBytes          *data,
               guint            edge,
               guint            w,
               guint            h,
               guint            rx,
               guint            ry,
               guint            bx,
               guint            by)
{
  assert_thumbnail (pool, data, edge, w, h, rx, ry, 255, 0, 0);
  assert_thumbnail (pool, data, edge, w, h, bx, by, 0, 0, 255);
}

#if HAVE_HEIF || HAVE_TIFF
/* The thumbnail of the real file at @path at @edge, timed, in @width × @height: a picture,
 * its green spreading over more than @min_spread levels. FALSE if the file is not there. */
static gboolean
real_thumbnail (SluiceProbePool *pool,
                const char      *path,
                guint            edge,
                guint            min_spread,
                guint           *width,
                guint           *height)
{
  g_autofree char *contents = NULL;
  g_autofree char *name = g_path_get_basename (path);
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GBytes) pixels = NULL;
  g_autoptr(GError) error = NULL;
  guint lo = 255, hi = 0;
  gsize stride = 0, len = 0;
  gint64 start;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return FALSE;
  data = g_bytes_new (contents, len);
  start = g_get_monotonic_time ();
  pixels = thumbnail_of (pool, data, edge, width, height, &stride, &error);
  g_assert_no_error (error);
  g_test_message ("%s at %u: %u × %u in %.0f ms", name, edge, *width, *height,
                  (g_get_monotonic_time () - start) / 1000.0);
  for (guint y = 0; y < *height; y += 3)
    for (guint x = 0; x < *width; x += 3)
      {
        guint v = ((const guint8 *) g_bytes_get_data (pixels, NULL))[y * stride + x * 3 + 1];

        lo = MIN (lo, v);
        hi = MAX (hi, v);
      }
  g_assert_cmpuint (hi - lo, >, min_spread);
  return TRUE;
}
#endif

static void
assert_red_thumbnail (SluiceProbePool *pool)
{
  g_autoptr(GBytes) jpeg = make_jpeg (640, 480, paint_red, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pixels = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;

  pixels = thumbnail_of (pool, jpeg, 256, &width, &height, &stride, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (width, ==, 256);
  g_assert_cmpuint (height, ==, 192);
  g_assert_cmpuint (stride, >=, 256 * 3);
  g_assert_cmpuint (g_bytes_get_size (pixels), >=, stride * 191 + 256 * 3);
  assert_pixel (pixels, stride, 0, 0, 255, 0, 0);
  assert_pixel (pixels, stride, 128, 96, 255, 0, 0);
  assert_pixel (pixels, stride, 255, 191, 255, 0, 0);
}

/* What the browser may send to the helper: a file whose probe recognised a container the
 * helper decodes a picture or a raw preview from; a file never probed whose name says image.
 * Never a video (the probe recognises no container in one), nor a probed file of no known
 * container. */
static void
test_worth_decoding (void)
{
  static const char *const yes[] = { "jpeg", "png", "webp", "heif", "tiff", "raf", "cr3" };
  static const char *const no[] = { NULL, "mov", "mp4", "unknown", "", "JPEG" };

  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    g_assert_true (sluice_thumbnail_worth_decoding ("a/b.jpg", TRUE, yes[i]));
  for (guint i = 0; i < G_N_ELEMENTS (no); i++)
    g_assert_false (sluice_thumbnail_worth_decoding ("a/b.jpg", TRUE, no[i]));
  /* the probe's word over the name's */
  g_assert_true (sluice_thumbnail_worth_decoding ("a/b.mov", TRUE, "jpeg"));
  g_assert_false (sluice_thumbnail_worth_decoding ("a/clip.mov", TRUE, NULL));
  /* never probed: by the name */
  g_assert_true (sluice_thumbnail_worth_decoding ("a/IMG_0001.HEIC", FALSE, NULL));
  g_assert_true (sluice_thumbnail_worth_decoding ("/nas/P5060001.ORF", FALSE, NULL));
  g_assert_false (sluice_thumbnail_worth_decoding ("a/clip.mov", FALSE, NULL));
  g_assert_false (sluice_thumbnail_worth_decoding ("a/notes.txt", FALSE, NULL));
  /* images the helper would only refuse */
  g_assert_false (sluice_thumbnail_worth_decoding ("a/anim.gif", FALSE, NULL));
  g_assert_false (sluice_thumbnail_worth_decoding ("a/SDIM0001.X3F", FALSE, NULL));
  g_assert_false (sluice_thumbnail_worth_decoding ("a/CRW_0001.CRW", FALSE, NULL));
  g_assert_true (sluice_thumbnail_worth_decoding ("a/IMGP0001.PEF", FALSE, NULL));
  g_assert_false (sluice_thumbnail_worth_decoding (NULL, FALSE, NULL));
}

static void
test_decode_red (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();

  assert_red_thumbnail (pool);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* A 12 MP photo decodes in the DCT at 1/8 and is box-filtered to the edge asked for. */
static void
test_decode_large (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) jpeg = make_jpeg (4000, 3000, paint_gradient, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pixels = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;
  gint64 start, took;

  start = g_get_monotonic_time ();
  pixels = thumbnail_of (pool, jpeg, 256, &width, &height, &stride, &error);
  took = g_get_monotonic_time () - start;
  g_assert_no_error (error);
  g_assert_cmpuint (width, ==, 256);
  g_assert_cmpuint (height, ==, 192);
  /* the gradient's corners: dark top left, red top right, green bottom left */
  assert_pixel (pixels, stride, 0, 0, 0, 0, 64);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (pixels, NULL))[255 * 3], >, 230);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (pixels, NULL))[191 * stride + 1], >,
                    230);
  g_test_message ("12 MP JPEG (%" G_GSIZE_FORMAT " bytes) to 256 px in the helper: %.1f ms",
                  g_bytes_get_size (jpeg), took / 1000.0);
}

/* The other JPEGs cameras and editors write: progressive (libjpeg keeps every coefficient),
 * greyscale, and Adobe CMYK. Each under the helper's sandbox, each the right colour. */
static void
test_kinds (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  static const struct {
    JpegKind kind;
    int      r, g, b;
  } cases[] = {
    { JPEG_PROGRESSIVE, 255, 0, 0 },
    { JPEG_GRAY, 76, 76, 76 },     /* red as grey: 0.30 × 255 */
    { JPEG_CMYK, 255, 0, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) jpeg = make_jpeg_kind (1000, 500, paint_red, NULL, cases[i].kind);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) pixels = NULL;
      guint width = 0, height = 0;
      gsize stride = 0;

      pixels = thumbnail_of (pool, jpeg, 100, &width, &height, &stride, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (width, ==, 100);
      g_assert_cmpuint (height, ==, 50);
      assert_pixel (pixels, stride, 50, 25, cases[i].r, cases[i].g, cases[i].b);
    }
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* The PNGs editors and screenshots write, each the right colour: 8-bit RGB and RGBA, a
 * palette, 16-bit grey and Adam7 interlacing; transparency is shown over white. */
static void
test_png_kinds (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  static const struct {
    PngKind kind;
    guint8  alpha;
    int     r, g, b;
  } cases[] = {
    { PNG_RGB, 255, 255, 0, 0 },
    { PNG_RGBA, 255, 255, 0, 0 },
    { PNG_RGBA, 0, 255, 255, 255 },       /* transparent: white */
    { PNG_RGBA, 128, 255, 127, 127 },     /* half: red over white */
    { PNG_PALETTE, 255, 255, 0, 0 },
    { PNG_GRAY16, 255, 76, 76, 76 },      /* red as grey: 0.30 × 255 */
    { PNG_INTERLACED, 255, 255, 0, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) png = make_png (1000, 500, paint_red, cases[i].alpha, cases[i].kind);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) pixels = NULL;
      guint width = 0, height = 0;
      gsize stride = 0;

      pixels = thumbnail_of (pool, png, 100, &width, &height, &stride, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (width, ==, 100);
      g_assert_cmpuint (height, ==, 50);
      assert_pixel (pixels, stride, 50, 25, cases[i].r, cases[i].g, cases[i].b);
      assert_pixel (pixels, stride, 0, 0, cases[i].r, cases[i].g, cases[i].b);
    }

  /* the picture's layout survives the box filter: red left, blue right */
  {
    g_autoptr(GBytes) png = make_png (320, 160, paint_halves, 255, PNG_RGB);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) pixels = NULL;
    guint width = 0, height = 0;
    gsize stride = 0;

    pixels = thumbnail_of (pool, png, 64, &width, &height, &stride, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (width, ==, 64);
    g_assert_cmpuint (height, ==, 32);
    assert_pixel (pixels, stride, 10, 16, 255, 0, 0);
    assert_pixel (pixels, stride, 53, 16, 0, 0, 255);
  }
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* @data is refused with @code, the message saying @what; quickly, for a bomb's header. */
static void
assert_refused (SluiceProbePool *pool,
                GBytes          *data,
                int              code,
                const char      *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pixels = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;
  gint64 start = g_get_monotonic_time ();

  pixels = thumbnail_of (pool, data, 64, &width, &height, &stride, &error);
  g_assert_null (pixels);
  g_assert_error (error, SLUICE_ERROR, code);
  if (what != NULL)
    g_assert_nonnull (strstr (error->message, what));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
}

/* The first @len bytes of a 200 × 100 paint_gradient() picture still give its top rows. */
static void
assert_top_rows (SluiceProbePool *pool,
                 GBytes          *picture,
                 gsize            len)
{
  g_autoptr(GBytes) part = g_bytes_new_from_bytes (picture, 0, len);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pixels = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;

  pixels = thumbnail_of (pool, part, 64, &width, &height, &stride, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (width, ==, 64);
  g_assert_cmpuint (height, ==, 32);
  assert_pixel (pixels, stride, 0, 0, 0, 0, 64);
}

/* @good with its first @keep bytes (the signature) and noise after them: refused. */
static void
assert_noise_refused (SluiceProbePool *pool,
                      GBytes          *good,
                      gsize            keep)
{
  guint8 noise[512];
  g_autoptr(GBytes) garbage = NULL;

  memcpy (noise, g_bytes_get_data (good, NULL), keep);
  for (guint i = keep; i < sizeof noise; i++)
    noise[i] = g_test_rand_int_range (0, 256);
  garbage = g_bytes_new (noise, sizeof noise);
  assert_refused (pool, garbage, SLUICE_ERROR_FAILED, NULL);
}

/* 200 copies of @good with a bit flipped after its first @keep bytes, half of them cut short:
 * each gives pixels or an error, never a crashed or stalled helper. */
static void
assert_mutants_handled (SluiceProbePool *pool,
                        GBytes          *good,
                        gsize            keep,
                        const char      *kind)
{
  gsize len = g_bytes_get_size (good);
  guint decoded = 0, refused = 0;

  for (guint round = 0; round < 200; round++)
    {
      g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (good, NULL), len);
      g_autoptr(GBytes) mutated = NULL;
      g_autoptr(GBytes) pixels = NULL;
      g_autoptr(GError) error = NULL;
      gsize at = g_test_rand_int_range ((gint32) keep, (gint32) len);
      guint width = 0, height = 0;
      gsize stride = 0;

      data[at] ^= 1u << g_test_rand_int_range (0, 8);
      mutated = g_bytes_new (data, g_test_rand_bit ()
                                   ? len : (gsize) g_test_rand_int_range (keep + 1, (gint32) len));
      pixels = thumbnail_of (pool, mutated, 64, &width, &height, &stride, &error);
      tally_mutant (pixels, width, height, 64, error, &decoded, &refused);
    }
  g_test_message ("200 mutated %ss: %u decoded, %u refused", kind, decoded, refused);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* A PNG cut short gives the rows it had; one without pixel data, noise after the signature,
 * a header promising 60000 × 60000 or a 25 MP interlaced picture are refused with a reason;
 * mutated PNGs never take the helper down. */
static void
test_png_damaged (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) good = make_png (200, 100, paint_gradient, 255, PNG_RGB);
  g_autoptr(GBytes) interlaced = make_png (64, 64, paint_red, 255, PNG_INTERLACED);
  g_autoptr(GBytes) head = g_bytes_new_from_bytes (good, 0, 40);
  g_autoptr(GBytes) bomb = png_with_size (good, 60000, 60000);
  g_autoptr(GBytes) big_interlaced = png_with_size (interlaced, 5000, 5000);

  /* the header and nothing else: no picture at all */
  assert_refused (pool, head, SLUICE_ERROR_FAILED, "PNG data cannot be decoded");
  /* half the file: the top rows are there */
  assert_top_rows (pool, good, g_bytes_get_size (good) / 2);
  assert_noise_refused (pool, good, 8);
  assert_refused (pool, bomb, SLUICE_ERROR_TOO_LARGE, "60000 × 60000");
  assert_refused (pool, big_interlaced, SLUICE_ERROR_TOO_LARGE,
                  "interlaced PNG of 5000 × 5000");
  assert_mutants_handled (pool, good, 8, "PNG");
  assert_red_thumbnail (pool);
}

/* Still WebPs as cameras, phones and converters write them: lossy (with and without an alpha
 * channel) and lossless, each the right colour and size, transparency over white; the layout
 * survives the scaling; EXIF orientation is applied. */
static void
test_webp_kinds (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  static const struct {
    gboolean lossless;
    guint8   alpha;
    int      r, g, b;
  } cases[] = {
    { FALSE, 255, 255, 0, 0 },
    { FALSE, 0, 255, 255, 255 },      /* transparent: white */
    { FALSE, 128, 255, 127, 127 },    /* half: red over white */
    { TRUE, 255, 255, 0, 0 },
    { TRUE, 128, 255, 127, 127 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) webp = make_webp (1000, 500, paint_red, cases[i].alpha,
                                          cases[i].lossless, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) pixels = NULL;
      guint width = 0, height = 0;
      gsize stride = 0;

      pixels = thumbnail_of (pool, webp, 100, &width, &height, &stride, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (width, ==, 100);
      g_assert_cmpuint (height, ==, 50);
      assert_pixel (pixels, stride, 50, 25, cases[i].r, cases[i].g, cases[i].b);
      assert_pixel (pixels, stride, 0, 0, cases[i].r, cases[i].g, cases[i].b);
    }

  /* red left, blue right; a small picture keeps its own size */
  for (guint lossless = 0; lossless < 2; lossless++)
    {
      g_autoptr(GBytes) webp = make_webp (320, 160, paint_halves, 255, lossless, NULL);
      g_autoptr(GBytes) small = make_webp (40, 30, paint_halves, 255, lossless, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) pixels = NULL;
      g_autoptr(GBytes) small_pixels = NULL;
      guint width = 0, height = 0;
      gsize stride = 0;

      pixels = thumbnail_of (pool, webp, 64, &width, &height, &stride, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (width, ==, 64);
      g_assert_cmpuint (height, ==, 32);
      assert_pixel (pixels, stride, 10, 16, 255, 0, 0);
      assert_pixel (pixels, stride, 53, 16, 0, 0, 255);

      small_pixels = thumbnail_of (pool, small, 64, &width, &height, &stride, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (width, ==, 40);
      g_assert_cmpuint (height, ==, 30);
      assert_pixel (small_pixels, stride, 5, 15, 255, 0, 0);
      assert_pixel (small_pixels, stride, 35, 15, 0, 0, 255);
    }

  /* EXIF orientation 6 in the WebP's EXIF chunk: the stored left half ends up on top */
  {
    g_autoptr(GBytes) exif = make_orientation_exif (6);
    g_autoptr(GBytes) webp = make_webp (320, 160, paint_halves, 255, FALSE, exif);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) pixels = NULL;
    guint width = 0, height = 0;
    gsize stride = 0;

    pixels = thumbnail_of (pool, webp, 128, &width, &height, &stride, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (width, ==, 64);
    g_assert_cmpuint (height, ==, 128);
    assert_pixel (pixels, stride, 32, 10, 255, 0, 0);
    assert_pixel (pixels, stride, 32, 117, 0, 0, 255);
  }
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* @webp with the 14-bit width and height of its bitstream header replaced: a plain lossy
 * ("VP8 ") or lossless ("VP8L") file, as libwebp writes one without alpha or metadata. */
static GBytes *
webp_with_size (GBytes *webp,
                guint   width,
                guint   height)
{
  gsize len = g_bytes_get_size (webp);
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (webp, NULL), len);

  g_assert_cmpuint (len, >, 30);
  if (memcmp (data + 12, "VP8 ", 4) == 0)
    {
      /* frame tag (3 bytes), start code (3), then width and height, 16 bits little-endian */
      g_assert_cmpint (memcmp (data + 23, "\x9d\x01\x2a", 3), ==, 0);
      data[26] = width & 0xff;
      data[27] = (width >> 8) & 0x3f;
      data[28] = height & 0xff;
      data[29] = (height >> 8) & 0x3f;
    }
  else
    {
      guint32 bits;

      /* signature 0x2f, then width − 1 and height − 1 in 14 bits each, LSB first */
      g_assert_cmpint (memcmp (data + 12, "VP8L", 4), ==, 0);
      g_assert_cmpuint (data[20], ==, 0x2f);
      bits = data[21] | (guint32) data[22] << 8 | (guint32) data[23] << 16 |
             (guint32) data[24] << 24;
      bits = (bits & 0xf0000000u) | (width - 1) | (height - 1) << 14;
      data[21] = bits & 0xff;
      data[22] = (bits >> 8) & 0xff;
      data[23] = (bits >> 16) & 0xff;
      data[24] = (bits >> 24) & 0xff;
    }
  return g_bytes_new (data, len);
}

/* A two-frame lossless animation of @width × @height: red, then red and blue halves. With
 * @huge, its canvas says 5000 × 5000 (the frames stay small). */
static GBytes *
make_webp_animation (guint    width,
                     guint    height,
                     gboolean huge)
{
  g_autoptr(GBytes) red = make_webp (width, height, paint_red, 255, TRUE, NULL);
  g_autoptr(GBytes) blue = make_webp (width, height, paint_halves, 255, TRUE, NULL);
  GBytes *frames[2] = { red, blue };
  WebPMuxAnimParams anim = { 0xffffffff, 0 };
  WebPData assembled = { NULL, 0 };
  WebPMux *mux = WebPMuxNew ();
  GBytes *bytes;

  for (guint i = 0; i < 2; i++)
    {
      WebPMuxFrameInfo info = { 0 };

      info.bitstream.bytes = g_bytes_get_data (frames[i], &info.bitstream.size);
      info.duration = 100;
      info.id = WEBP_CHUNK_ANMF;
      info.dispose_method = WEBP_MUX_DISPOSE_NONE;
      info.blend_method = WEBP_MUX_NO_BLEND;
      g_assert_cmpint (WebPMuxPushFrame (mux, &info, 1), ==, WEBP_MUX_OK);
    }
  g_assert_cmpint (WebPMuxSetAnimationParams (mux, &anim), ==, WEBP_MUX_OK);
  if (huge)
    g_assert_cmpint (WebPMuxSetCanvasSize (mux, 5000, 5000), ==, WEBP_MUX_OK);
  g_assert_cmpint (WebPMuxAssemble (mux, &assembled), ==, WEBP_MUX_OK);
  WebPMuxDelete (mux);
  bytes = g_bytes_new (assembled.bytes, assembled.size);
  WebPDataClear (&assembled);
  return bytes;
}

/* A WebP cut short gives the rows it had; its header alone, noise after the RIFF header, a
 * lossy header promising 16383 × 16383, a 256 MP lossless one or a 25 MP animated canvas are
 * refused with a reason; an animation shows its first frame; mutated WebPs never take the
 * helper down. */
static void
test_webp_damaged (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) good = make_webp (200, 100, paint_gradient, 255, FALSE, NULL);
  g_autoptr(GBytes) lossless = make_webp (64, 64, paint_red, 255, TRUE, NULL);
  g_autoptr(GBytes) head = g_bytes_new_from_bytes (good, 0, 30);
  g_autoptr(GBytes) bomb = webp_with_size (good, 16383, 16383);
  g_autoptr(GBytes) big_lossless = webp_with_size (lossless, 16000, 16000);

  /* the header and nothing else: no picture at all */
  assert_refused (pool, head, SLUICE_ERROR_FAILED, "WebP data cannot be decoded");
  /* three quarters of the file: the top rows are there */
  assert_top_rows (pool, good, g_bytes_get_size (good) * 3 / 4);
  assert_noise_refused (pool, good, 12);   /* RIFF, a size and WEBP */
  assert_refused (pool, bomb, SLUICE_ERROR_TOO_LARGE, "WebP of 16383 × 16383");
  assert_refused (pool, big_lossless, SLUICE_ERROR_TOO_LARGE, "lossless WebP of 16000 × 16000");

  /* an animation shows its first frame on its canvas: red, where the second is half blue; one
   * whose canvas is over 16 MP (two are kept whole) is refused */
  {
    g_autoptr(GBytes) animated = make_webp_animation (64, 32, FALSE);
    g_autoptr(GBytes) huge = make_webp_animation (64, 32, TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) pixels = NULL;
    guint width = 0, height = 0;
    gsize stride = 0;

    pixels = thumbnail_of (pool, animated, 64, &width, &height, &stride, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (width, ==, 64);
    g_assert_cmpuint (height, ==, 32);
    assert_pixel (pixels, stride, 5, 5, 255, 0, 0);
    assert_pixel (pixels, stride, 60, 28, 255, 0, 0);
    assert_refused (pool, huge, SLUICE_ERROR_TOO_LARGE, "animated WebP of 5000 × 5000");
  }

  assert_mutants_handled (pool, good, 12, "WebP");
  assert_red_thumbnail (pool);
}

#if HAVE_HEIF
/* HEICs as phones write them, made by libheif with x265: the right colour and size, the
 * layout survives, transparency over white, HEIF's own rotation (irot) applied; the
 * thumbnail item is decoded instead of the picture when it is big enough for the edge asked
 * for, and the picture when it is not; an AVIF is decoded too (dav1d, without threads). */
static void
test_heif_kinds (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) red = make_heif (1000, 500, paint_red, 255, 1, NULL, 0, FALSE);
  g_autoptr(GBytes) halves = make_heif (320, 160, paint_halves, 255, 1, NULL, 0, FALSE);
  g_autoptr(GBytes) clear = make_heif (320, 160, paint_red, 128, 1, NULL, 0, FALSE);
  g_autoptr(GBytes) turned = make_heif (320, 160, paint_halves, 255, 6, NULL, 0, FALSE);
  g_autoptr(GBytes) with_thumb = make_heif (1280, 640, paint_red, 255, 1, paint_green, 320,
                                            FALSE);
  g_autoptr(GBytes) avif = make_heif (320, 160, paint_halves, 255, 1, NULL, 0, TRUE);

  assert_thumbnail (pool, red, 100, 100, 50, 0, 0, 255, 0, 0);
  assert_thumbnail (pool, red, 100, 100, 50, 50, 25, 255, 0, 0);
  /* red left, blue right; half transparent red is shown over white */
  assert_halves (pool, halves, 64, 64, 32, 10, 16, 53, 16);
  assert_thumbnail (pool, clear, 64, 64, 32, 32, 16, 255, 127, 127);
  /* stored on its side with irot (EXIF orientation 6): the stored left half ends up on top */
  assert_halves (pool, turned, 128, 64, 128, 32, 10, 32, 117);
  /* a red picture with a green thumbnail item of 320 × 160: the item covers 256, not 512 */
  assert_thumbnail (pool, with_thumb, 256, 256, 128, 128, 64, 0, 255, 0);
  assert_thumbnail (pool, with_thumb, 512, 512, 256, 256, 128, 255, 0, 0);
  /* an AVIF (AV1 in HEIF), decoded by dav1d without its threads */
  assert_halves (pool, avif, 64, 64, 32, 10, 16, 53, 16);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);

  /* the helpers of an ingest do not load the decoders module: the format is refused */
  {
    g_autofree char *helper = sluice_probe_find_helper ();
    g_autoptr(GError) error = NULL;
    g_autoptr(SluiceProbePool) plain = sluice_probe_pool_new (helper, 1, 0, &error);

    g_assert_no_error (error);
    assert_refused (plain, red, SLUICE_ERROR_INVALID_ARGUMENT,
                    "only JPEG, PNG and WebP are decoded");
  }
}

/* @heif with the size in its (first) ispe box replaced by @width × @height. */
static GBytes *
heif_with_size (GBytes *heif,
                guint   width,
                guint   height)
{
  gsize len = g_bytes_get_size (heif);
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (heif, NULL), len);
  guint8 *ispe = memmem (data, len, "ispe", 4);

  g_assert_nonnull (ispe);
  /* "ispe", version and flags, then width and height, 32 bits big-endian */
  for (guint i = 0; i < 4; i++)
    {
      ispe[8 + i] = (width >> (24 - 8 * i)) & 0xff;
      ispe[12 + i] = (height >> (24 - 8 * i)) & 0xff;
    }
  return g_bytes_new (data, len);
}

/* A HEIF cut short, its ftyp box alone or noise after it are refused as damaged; a picture
 * whose ispe says 9000 × 9000 is refused before decoding; mutated HEICs and AVIFs never take
 * the helper down. */
static void
test_heif_damaged (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) good = make_heif (200, 100, paint_gradient, 255, 1, NULL, 0, FALSE);
  const guint8 *bytes = g_bytes_get_data (good, NULL);
  gsize ftyp = (gsize) bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3];
  g_autoptr(GBytes) head = g_bytes_new_from_bytes (good, 0, ftyp);
  g_autoptr(GBytes) cut = g_bytes_new_from_bytes (good, 0, g_bytes_get_size (good) / 2);
  g_autoptr(GBytes) bomb = heif_with_size (good, 9000, 9000);

  g_assert_cmpuint (ftyp, <, 64);
  assert_refused (pool, head, SLUICE_ERROR_FAILED, "HEIF data cannot be decoded");
  assert_refused (pool, cut, SLUICE_ERROR_FAILED, "HEIF data cannot be decoded");
  assert_noise_refused (pool, good, ftyp);
  assert_refused (pool, bomb, SLUICE_ERROR_TOO_LARGE, "9000 × 9000");
  assert_mutants_handled (pool, good, ftyp, "HEIF");

  /* the same for an AVIF (its ftyp box is as long) */
  {
    g_autoptr(GBytes) avif = make_heif (200, 100, paint_gradient, 255, 1, NULL, 0, TRUE);
    g_autoptr(GBytes) avif_cut = g_bytes_new_from_bytes (avif, 0, g_bytes_get_size (avif) / 2);

    assert_refused (pool, avif_cut, SLUICE_ERROR_FAILED, "HEIF data cannot be decoded");
    assert_mutants_handled (pool, avif, ftyp, "AVIF");
  }
  assert_red_thumbnail (pool);
}

/* The phones' HEICs of ../shared/corpus/exif-samples (iPhone grids of 48 tiles with a
 * thumbnail item, Nokia's), when it is there: each gives a thumbnail, not a flat colour. */
static void
test_heif_real (void)
{
  const char *root = g_getenv ("SLUICE_SOURCE_ROOT");
  g_autofree char *corpus = g_build_filename (root != NULL ? root : ".", "..", "shared",
                                              "corpus", "exif-samples", NULL);
  static const char *const files[] = {
    "ianare-exif-samples/heic/IMG_5195.HEIC",
    "ianare-exif-samples/heic/mobile/iphone_13_pro_max.HEIC",
    "ianare-exif-samples/heic/mobile/HMD_Nokia_8.3_5G.heif",
    "ianare-exif-samples/heic/mobile/HMD_Nokia_8.3_5G_hdr.heif",
    "ianare-exif-samples/heic/samplefilehub.heif",
    "metadata-extractor-images/heic/IMG_2927.HEIC",
  };
  g_autoptr(SluiceProbePool) pool = NULL;
  guint found = 0;

  if (root == NULL || !g_file_test (corpus, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("../shared/corpus/exif-samples is not there");
      return;
    }
  pool = real_pool ();
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    for (guint edge = 256; edge <= 512; edge *= 2)
      {
        g_autofree char *path = g_build_filename (corpus, files[i], NULL);
        guint width = 0, height = 0;

        if (!real_thumbnail (pool, path, edge, 64, &width, &height))
          continue;
        g_assert_cmpuint (MAX (width, height), ==, edge);
        found++;
      }
  g_assert_cmpuint (found, >, 0);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

#else
static void
test_heif_not_built (void)
{
  g_test_skip ("built without HEIF thumbnails (-Dheif=disabled, or no libheif, libde265 or "
               "dav1d)");
}
#endif

/* ---- raw files: a TIFF structure pointing at JPEG previews ---------------------------- */

typedef struct {
  guint16 tag, type;
  guint32 count, value;
} TiffEntry;

typedef struct {
  GByteArray *b;
  gboolean    le;
} TiffWriter;

static void
tiff_put (TiffWriter *t,
          guint32     v,
          guint       bytes)
{
  for (guint i = 0; i < bytes; i++)
    {
      guint shift = t->le ? 8 * i : 8 * (bytes - 1 - i);
      guint8 byte = (v >> shift) & 0xff;

      g_byte_array_append (t->b, &byte, 1);
    }
}

/* a header of @magic (4 bytes), IFD0's offset to be set by tiff_finish() */
static TiffWriter
tiff_new (const char *magic)
{
  TiffWriter t = { g_byte_array_new (), magic[0] == 'I' };

  g_byte_array_append (t.b, (const guint8 *) magic, 4);
  tiff_put (&t, 0, 4);
  return t;
}

static guint32
tiff_blob (TiffWriter   *t,
           const guint8 *data,
           gsize         len)
{
  guint32 at;

  if (t->b->len % 2 != 0)
    tiff_put (t, 0, 1);
  at = t->b->len;
  g_byte_array_append (t->b, data, len);
  return at;
}

static guint32
tiff_bytes (TiffWriter *t,
            GBytes     *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return tiff_blob (t, data, len);
}

/* an IFD of @n entries (in tag order, values inline), then @next */
static guint32
tiff_ifd (TiffWriter      *t,
          const TiffEntry *entries,
          guint            n,
          guint32          next)
{
  guint32 at;

  if (t->b->len % 2 != 0)
    tiff_put (t, 0, 1);
  at = t->b->len;
  tiff_put (t, n, 2);
  for (guint i = 0; i < n; i++)
    {
      tiff_put (t, entries[i].tag, 2);
      tiff_put (t, entries[i].type, 2);
      tiff_put (t, entries[i].count, 4);
      if (entries[i].type == 3 && entries[i].count == 1)
        {
          tiff_put (t, entries[i].value, 2);
          tiff_put (t, 0, 2);
        }
      else
        tiff_put (t, entries[i].value, 4);
    }
  tiff_put (t, next, 4);
  return at;
}

static GBytes *
tiff_finish (TiffWriter *t,
             guint32     ifd0)
{
  TiffWriter at = { g_byte_array_new (), t->le };

  tiff_put (&at, ifd0, 4);
  memcpy (t->b->data + 4, at.b->data, 4);
  g_byte_array_unref (at.b);
  return g_byte_array_free_to_bytes (t->b);
}

/* The start of a lossless JPEG (SOF3) of 5000 × 3000, as a CR2 or DNG stores its raw data:
 * not a preview. */
static GBytes *
lossless_jpeg_head (void)
{
  guint8 data[256] = { 0xff, 0xd8, 0xff, 0xc3, 0x00, 0x0b, 0x0e, 0x0b, 0xb8, 0x13, 0x88, 0x01,
                       0x01, 0x11, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x00,
                       0x00 };

  for (guint i = 25; i < sizeof data; i++)
    data[i] = (guint8) (i * 37);
  return g_bytes_new (data, sizeof data);
}

/* Like a Canon CR2: IFD0 is the full-size JPEG in one strip, IFD1 a 160 × 120 JPEG, IFD2 the
 * lossless raw data; with @orientation in IFD0. */
static GBytes *
make_cr2_like (Painter paint,
               guint   orientation)
{
  g_autoptr(GBytes) full = make_jpeg (1200, 800, paint, NULL);
  g_autoptr(GBytes) small = make_jpeg (160, 120, paint_green, NULL);
  g_autoptr(GBytes) raw = lossless_jpeg_head ();
  TiffWriter t = tiff_new ("II*\0");
  guint32 full_at = tiff_bytes (&t, full);
  guint32 small_at = tiff_bytes (&t, small);
  guint32 raw_at = tiff_bytes (&t, raw);
  TiffEntry ifd2[] = {
    { 0x0103, 3, 1, 6 }, { 0x0111, 4, 1, raw_at }, { 0x0117, 4, 1, g_bytes_get_size (raw) },
  };
  TiffEntry ifd1[] = {
    { 0x0201, 4, 1, small_at }, { 0x0202, 4, 1, g_bytes_get_size (small) },
  };
  guint32 ifd2_at = tiff_ifd (&t, ifd2, G_N_ELEMENTS (ifd2), 0);
  guint32 ifd1_at = tiff_ifd (&t, ifd1, G_N_ELEMENTS (ifd1), ifd2_at);
  TiffEntry ifd0[] = {
    { 0x0100, 3, 1, 1200 }, { 0x0101, 3, 1, 800 }, { 0x0103, 3, 1, 6 },
    { 0x0111, 4, 1, full_at }, { 0x0112, 3, 1, orientation },
    { 0x0117, 4, 1, g_bytes_get_size (full) },
  };

  return tiff_finish (&t, tiff_ifd (&t, ifd0, G_N_ELEMENTS (ifd0), ifd1_at));
}

/* Like a Nikon NEF, big-endian: IFD0 a small uncompressed picture, its SubIFDs the JPEG
 * preview (@paint, 320 × 160) and the raw data (Nikon's compression) */
static GBytes *
make_nef_like (guint orientation)
{
  g_autoptr(GBytes) preview = make_jpeg (320, 160, paint_halves, NULL);
  guint8 rgb[48] = { 0 };
  guint8 raw[512];
  TiffWriter t = tiff_new ("MM\0*");
  guint32 preview_at, rgb_at, raw_at, sub0, sub1, subs_at;
  guint8 subs[8];

  memset (raw, 0x5a, sizeof raw);
  preview_at = tiff_bytes (&t, preview);
  rgb_at = tiff_blob (&t, rgb, sizeof rgb);
  raw_at = tiff_blob (&t, raw, sizeof raw);
  {
    TiffEntry s1[] = { { 0x0103, 3, 1, 34713 }, { 0x0111, 4, 1, raw_at },
                       { 0x0117, 4, 1, sizeof raw } };
    TiffEntry s0[] = { { 0x0201, 4, 1, preview_at },
                       { 0x0202, 4, 1, g_bytes_get_size (preview) } };

    sub1 = tiff_ifd (&t, s1, G_N_ELEMENTS (s1), 0);
    sub0 = tiff_ifd (&t, s0, G_N_ELEMENTS (s0), 0);
  }
  for (guint i = 0; i < 4; i++)
    {
      subs[i] = (sub0 >> (24 - 8 * i)) & 0xff;
      subs[4 + i] = (sub1 >> (24 - 8 * i)) & 0xff;
    }
  subs_at = tiff_blob (&t, subs, sizeof subs);
  {
    TiffEntry ifd0[] = {
      { 0x0100, 3, 1, 4 }, { 0x0101, 3, 1, 4 }, { 0x0103, 3, 1, 1 },
      { 0x0111, 4, 1, rgb_at }, { 0x0112, 3, 1, orientation }, { 0x0117, 4, 1, sizeof rgb },
      { 0x014a, 4, 2, subs_at },
    };

    return tiff_finish (&t, tiff_ifd (&t, ifd0, G_N_ELEMENTS (ifd0), 0));
  }
}

/* Like a Panasonic RW2: "IIU", the JPEG as the value of tag 0x2e */
static GBytes *
make_rw2_like (void)
{
  g_autoptr(GBytes) preview = make_jpeg (320, 160, paint_halves, NULL);
  TiffWriter t = tiff_new ("IIU\0");
  guint32 at = tiff_bytes (&t, preview);
  TiffEntry ifd0[] = { { 0x002e, 7, g_bytes_get_size (preview), at } };

  return tiff_finish (&t, tiff_ifd (&t, ifd0, G_N_ELEMENTS (ifd0), 0));
}

/* Like a Fujifilm RAF: its header gives the JPEG's offset and length, big-endian */
static GBytes *
make_raf_like (void)
{
  g_autoptr(GBytes) preview = make_jpeg (320, 160, paint_halves, NULL);
  GByteArray *b = g_byte_array_new ();
  guint8 head[160] = { 0 };
  guint32 len = g_bytes_get_size (preview);

  memcpy (head, "FUJIFILMCCD-RAW 0201FF129502", 28);
  head[84] = 0; head[85] = 0; head[86] = 0; head[87] = sizeof head;
  head[88] = len >> 24; head[89] = (len >> 16) & 0xff; head[90] = (len >> 8) & 0xff;
  head[91] = len & 0xff;
  g_byte_array_append (b, head, sizeof head);
  g_byte_array_append (b, g_bytes_get_data (preview, NULL), len);
  return g_byte_array_free_to_bytes (b);
}

static void
put_be32 (GByteArray *b,
          guint32     v)
{
  guint8 bytes[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

  g_byte_array_append (b, bytes, 4);
}

/* Like a Canon CR3, from LibRaw's and ExifTool's descriptions (no camera file was at hand):
 * ftyp "crx ", a moov box, then a uuid box eaf42b5e-… holding 8 bytes and a PRVW box (sizes,
 * 1620 × 1080 as the dimensions, then the JPEG), then mdat. */
static GBytes *
make_cr3_like (void)
{
  static const guint8 uuid[16] = { 0xea, 0xf4, 0x2b, 0x5e, 0x1c, 0x98, 0x4b, 0x88,
                                   0xb9, 0xfb, 0xb7, 0xdc, 0x40, 0x6e, 0x4d, 0x16 };
  static const guint8 prvw_head[12] = { 0, 0, 0, 0, 0, 1, 0x06, 0x54, 0x04, 0x38, 0, 1 };
  g_autoptr(GBytes) preview = make_jpeg (320, 160, paint_halves, NULL);
  guint32 jlen = g_bytes_get_size (preview);
  GByteArray *b = g_byte_array_new ();
  guint8 zeros[64] = { 0 };

  put_be32 (b, 24);
  g_byte_array_append (b, (const guint8 *) "ftypcrx \0\0\0\1crx isom", 20);
  put_be32 (b, 8 + 32);
  g_byte_array_append (b, (const guint8 *) "moov", 4);
  g_byte_array_append (b, zeros, 32);
  put_be32 (b, 8 + 16 + 8 + 8 + 12 + 4 + jlen);
  g_byte_array_append (b, (const guint8 *) "uuid", 4);
  g_byte_array_append (b, uuid, 16);
  g_byte_array_append (b, zeros, 8);
  put_be32 (b, 8 + 12 + 4 + jlen);
  g_byte_array_append (b, (const guint8 *) "PRVW", 4);
  g_byte_array_append (b, prvw_head, sizeof prvw_head);
  put_be32 (b, jlen);
  g_byte_array_append (b, g_bytes_get_data (preview, NULL), jlen);
  put_be32 (b, 8 + 64);
  g_byte_array_append (b, (const guint8 *) "mdat", 4);
  g_byte_array_append (b, zeros, 64);
  return g_byte_array_free_to_bytes (b);
}

typedef enum {
  ORF_NEW,        /* "OLYMPUS\0II\3\0": CameraSettings, offsets from the note's start */
  ORF_OM_SYSTEM,  /* "OM SYSTEM\0\0\0II\4\0": the same, after a longer header */
  ORF_OLD,        /* "OLYMP\0\1\0": 0x0088 and 0x0089, offsets from the TIFF header */
  ORF_INVALID,    /* ORF_NEW, with PreviewImageValid 0 */
} OrfStyle;

/* Like an Olympus ORF, from ExifTool's and LibRaw's descriptions (no camera file was at hand):
 * "IIRO", IFD0 the raw data, its Exif IFD a maker note that locates the 320 × 160 preview,
 * which follows the note. */
static GBytes *
make_orf_like (OrfStyle style)
{
  g_autoptr(GBytes) preview = make_jpeg (320, 160, paint_halves, NULL);
  guint32 jlen = g_bytes_get_size (preview);
  TiffWriter t = tiff_new ("IIRO");
  TiffWriter mn = { g_byte_array_new (), TRUE };
  guint8 raw[512];
  guint32 raw_at, note_at, note_len, exif_at, preview_at;

  memset (raw, 0x5a, sizeof raw);
  raw_at = tiff_blob (&t, raw, sizeof raw);
  note_at = t.b->len;
  if (style == ORF_OLD)
    {
      /* the preview right after the note's 8 + 30 bytes */
      TiffEntry e[] = { { 0x0088, 4, 1, note_at + 38 }, { 0x0089, 4, 1, jlen } };

      g_byte_array_append (mn.b, (const guint8 *) "OLYMP\0\1\0", 8);
      tiff_ifd (&mn, e, G_N_ELEMENTS (e), 0);
    }
  else
    {
      gsize head = style == ORF_OM_SYSTEM ? 16 : 12;
      /* the main IFD (18 bytes), then CameraSettings (42), then the preview */
      guint32 cs_at = head + 18, preview_rel = cs_at + 42;
      TiffEntry e[] = { { 0x2020, 13, 1, cs_at } };
      TiffEntry cs[] = { { 0x0100, 4, 1, style != ORF_INVALID }, { 0x0101, 4, 1, preview_rel },
                         { 0x0102, 4, 1, jlen } };

      g_byte_array_append (mn.b, (const guint8 *) (style == ORF_OM_SYSTEM
                                                   ? "OM SYSTEM\0\0\0II\4\0"
                                                   : "OLYMPUS\0II\3\0"), head);
      tiff_ifd (&mn, e, G_N_ELEMENTS (e), 0);
      g_assert_cmpuint (tiff_ifd (&mn, cs, G_N_ELEMENTS (cs), 0), ==, cs_at);
      g_assert_cmpuint (mn.b->len, ==, preview_rel);
    }
  note_len = mn.b->len;
  g_assert_cmpuint (tiff_blob (&t, mn.b->data, note_len), ==, note_at);
  g_byte_array_unref (mn.b);
  preview_at = tiff_bytes (&t, preview);
  g_assert_cmpuint (preview_at, ==, note_at + note_len);
  {
    TiffEntry exif[] = { { 0x927c, 7, note_len, note_at } };
    exif_at = tiff_ifd (&t, exif, G_N_ELEMENTS (exif), 0);
  }
  {
    TiffEntry ifd0[] = { { 0x0100, 3, 1, 16 }, { 0x0101, 3, 1, 16 }, { 0x0103, 3, 1, 1 },
                         { 0x0111, 4, 1, raw_at }, { 0x0117, 4, 1, sizeof raw },
                         { 0x8769, 4, 1, exif_at } };

    return tiff_finish (&t, tiff_ifd (&t, ifd0, G_N_ELEMENTS (ifd0), 0));
  }
}

/* Raw files by the JPEG previews they carry: a CR2's full-size JPEG in IFD0's strip, or its
 * 160 px one in IFD1 when that is big enough for the edge asked for (never the lossless raw
 * data); a big-endian NEF's preview in a SubIFD, turned by the raw's orientation; an RW2's
 * JpgFromRaw; a RAF's header; a CR3's PRVW box; an ORF's maker note, of each style. */
static void
test_raw_previews (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) cr2 = make_cr2_like (paint_halves, 1);
  g_autoptr(GBytes) nef = make_nef_like (6);
  g_autoptr(GBytes) rw2 = make_rw2_like ();
  g_autoptr(GBytes) raf = make_raf_like ();
  g_autoptr(GBytes) cr3 = make_cr3_like ();

  assert_halves (pool, cr2, 256, 256, 171, 20, 85, 235, 85);
  /* 160 × 120 is enough for 128: the small preview, green */
  assert_thumbnail (pool, cr2, 128, 128, 96, 64, 48, 0, 255, 0);
  /* stored 320 × 160, shown turned: the red left half on top */
  assert_halves (pool, nef, 128, 64, 128, 32, 10, 32, 117);
  assert_halves (pool, rw2, 64, 64, 32, 10, 16, 53, 16);
  assert_halves (pool, raf, 64, 64, 32, 10, 16, 53, 16);
  assert_halves (pool, cr3, 64, 64, 32, 10, 16, 53, 16);
  for (OrfStyle style = ORF_NEW; style <= ORF_OLD; style++)
    {
      g_autoptr(GBytes) orf = make_orf_like (style);

      assert_halves (pool, orf, 64, 64, 32, 10, 16, 53, 16);
    }
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* A TIFF without a JPEG is decoded by libtiff (refused as a format without it), a CR3 cut
 * before its preview is refused as one without; IFDs that point at themselves and at each
 * other are each read once; a preview that runs past the end of the file is passed over for
 * the one that does not; an ORF whose preview is marked not valid is refused as one without;
 * 200 mutated CR2s, CR3s and ORFs never take the helper down. */
static void
test_raw_damaged (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) cr2 = make_cr2_like (paint_halves, 1);

  {
    guint8 rgb[48] = { 0 };
    TiffWriter t = tiff_new ("II*\0");
    guint32 at = tiff_blob (&t, rgb, sizeof rgb);
    TiffEntry ifd0[] = { { 0x0100, 3, 1, 4 }, { 0x0101, 3, 1, 4 }, { 0x0103, 3, 1, 1 },
                         { 0x0111, 4, 1, at }, { 0x0117, 4, 1, sizeof rgb } };
    g_autoptr(GBytes) plain = tiff_finish (&t, tiff_ifd (&t, ifd0, G_N_ELEMENTS (ifd0), 0));

#if HAVE_TIFF
    /* no JPEG in it: libtiff decodes its own picture, 4 × 4 black */
    assert_thumbnail (pool, plain, 64, 4, 4, 2, 2, 0, 0, 0);
#else
    assert_refused (pool, plain, SLUICE_ERROR_INVALID_ARGUMENT, "holds no JPEG preview");
#endif
  }
  {
    /* IFD0 → IFD0 as its next and as its SubIFD: one JPEG found, quickly */
    g_autoptr(GBytes) preview = make_jpeg (320, 160, paint_halves, NULL);
    TiffWriter t = tiff_new ("II*\0");
    guint32 at = tiff_bytes (&t, preview);
    guint32 ifd0_at = t.b->len + (t.b->len % 2);
    TiffEntry ifd0[] = { { 0x014a, 4, 1, ifd0_at }, { 0x0201, 4, 1, at },
                         { 0x0202, 4, 1, g_bytes_get_size (preview) } };
    g_autoptr(GBytes) loop = NULL;

    g_assert_cmpuint (tiff_ifd (&t, ifd0, G_N_ELEMENTS (ifd0), ifd0_at), ==, ifd0_at);
    loop = tiff_finish (&t, ifd0_at);
    assert_halves (pool, loop, 64, 64, 32, 10, 16, 53, 16);
  }
  {
    /* the full-size JPEG's strip said to run 1 MB past the end: no preview to the finder, which
     * leaves the 160 px one, green (the fuzz target checks that a find lies in the file) */
    gsize len = g_bytes_get_size (cr2);
    g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (cr2, NULL), len);
    guint32 ifd0 = data[4] | data[5] << 8 | data[6] << 16 | (guint32) data[7] << 24;
    g_autoptr(GBytes) past = NULL;

    /* the 6th entry is StripByteCounts */
    g_assert_cmpuint (data[ifd0 + 2 + 5 * 12], ==, 0x17);
    data[ifd0 + 2 + 5 * 12 + 10] = 0x10;
    past = g_bytes_new (data, len);
#if HAVE_TIFF
    /* libtiff reads IFD0's old-style JPEG strip for what it is, whatever its count says */
    assert_halves (pool, past, 256, 256, 171, 20, 85, 235, 85);
#else
    assert_thumbnail (pool, past, 256, 160, 120, 80, 60, 0, 255, 0);
#endif
  }
  assert_mutants_handled (pool, cr2, 8, "CR2");
  {
    g_autoptr(GBytes) cr3 = make_cr3_like ();
    g_autoptr(GBytes) cut = g_bytes_new_from_bytes (cr3, 0, 200);

    assert_refused (pool, cut, SLUICE_ERROR_INVALID_ARGUMENT, "holds no JPEG preview");
    assert_mutants_handled (pool, cr3, 24, "CR3");
  }
  {
    /* an ORF whose maker note calls its preview not valid has none to show; its raw data in
     * IFD0 is not handed to libtiff */
    g_autoptr(GBytes) invalid = make_orf_like (ORF_INVALID);
    g_autoptr(GBytes) orf = make_orf_like (ORF_NEW);

    assert_refused (pool, invalid, SLUICE_ERROR_INVALID_ARGUMENT, "holds no JPEG preview");
    assert_mutants_handled (pool, orf, 8, "ORF");
  }
  assert_red_thumbnail (pool);
}

#if HAVE_TIFF
typedef enum {
  TIFF_STRIPS,       /* 8-bit RGB, Deflate, 8 rows a strip */
  TIFF_TILES_16,     /* 16-bit RGB, LZW, 64 × 64 tiles */
  TIFF_ALPHA,        /* 8-bit RGBA, unassociated alpha from @alpha */
  TIFF_JPEG,         /* JPEG-compressed YCbCr, 16 rows a strip */
  TIFF_JPEG_WHOLE,   /* the same in one strip, its tables apart (JPEGTables) */
  TIFF_CMYK,
  TIFF_CFA,          /* a raw's sensor data: PhotometricInterpretation 32803 */
} TiffKind;

/* A TIFF of @kind written by libtiff, painted by @paint, with @orientation (EXIF's 1..8). */
static GBytes *
make_tiff (guint     width,
           guint     height,
           Painter   paint,
           guint8    alpha,
           TiffKind  kind,
           guint     orientation)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  int fd = g_file_open_tmp ("sluice-test-XXXXXX.tif", &path, NULL);
  TIFF *t;
  guint spp = kind == TIFF_ALPHA || kind == TIFF_CMYK ? 4 : kind == TIFF_CFA ? 1 : 3;
  guint bps = kind == TIFF_TILES_16 ? 16 : 8;
  gsize row_bytes = (gsize) width * spp * bps / 8;
  g_autofree guint8 *image = g_malloc0 (row_bytes * height);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      {
        guint8 rgb[3];
        guint8 *p = image + y * row_bytes + (gsize) x * spp * bps / 8;

        paint (x, y, width, height, rgb);
        if (kind == TIFF_TILES_16)
          for (guint c = 0; c < 3; c++)
            ((guint16 *) p)[c] = rgb[c] * 257;
        else if (kind == TIFF_CMYK)
          {
            guint k = 255 - MAX (rgb[0], MAX (rgb[1], rgb[2]));

            for (guint c = 0; c < 3; c++)
              p[c] = k == 255 ? 0 : (255 - rgb[c] - k) * 255 / (255 - k);
            p[3] = k;
          }
        else if (kind == TIFF_CFA)
          p[0] = rgb[(x % 2) + (y % 2)];
        else
          {
            memcpy (p, rgb, 3);
            if (kind == TIFF_ALPHA)
              p[3] = alpha;
          }
      }

  t = TIFFOpen (path, "w");
  g_assert_nonnull (t);
  TIFFSetField (t, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField (t, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField (t, TIFFTAG_SAMPLESPERPIXEL, spp);
  TIFFSetField (t, TIFFTAG_BITSPERSAMPLE, bps);
  TIFFSetField (t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField (t, TIFFTAG_ORIENTATION, orientation);
  TIFFSetField (t, TIFFTAG_PHOTOMETRIC,
                kind == TIFF_CMYK ? PHOTOMETRIC_SEPARATED
                : kind == TIFF_JPEG || kind == TIFF_JPEG_WHOLE ? PHOTOMETRIC_YCBCR
                : kind == TIFF_CFA ? 32803 : PHOTOMETRIC_RGB);
  if (kind == TIFF_ALPHA)
    {
      guint16 extra = EXTRASAMPLE_UNASSALPHA;

      TIFFSetField (t, TIFFTAG_EXTRASAMPLES, 1, &extra);
    }
  if (kind == TIFF_CMYK)
    TIFFSetField (t, TIFFTAG_INKSET, INKSET_CMYK);
  TIFFSetField (t, TIFFTAG_COMPRESSION,
                kind == TIFF_TILES_16 ? COMPRESSION_LZW
                : kind == TIFF_JPEG || kind == TIFF_JPEG_WHOLE ? COMPRESSION_JPEG
                : COMPRESSION_ADOBE_DEFLATE);
  if (kind == TIFF_JPEG || kind == TIFF_JPEG_WHOLE)
    {
      TIFFSetField (t, TIFFTAG_JPEGQUALITY, 90);
      TIFFSetField (t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    }
  if (kind == TIFF_TILES_16)
    {
      TIFFSetField (t, TIFFTAG_TILEWIDTH, 64);
      TIFFSetField (t, TIFFTAG_TILELENGTH, 64);
      for (guint ty = 0; ty < height; ty += 64)
        for (guint tx = 0; tx < width; tx += 64)
          {
            g_autofree guint8 *tile = g_malloc0 (64 * 64 * 6);

            for (guint y = ty; y < MIN (ty + 64, height); y++)
              memcpy (tile + (y - ty) * 64 * 6, image + y * row_bytes + tx * 6,
                      MIN (64, width - tx) * 6);
            g_assert_cmpint (TIFFWriteTile (t, tile, tx, ty, 0, 0), >, 0);
          }
    }
  else
    {
      TIFFSetField (t, TIFFTAG_ROWSPERSTRIP,
                    kind == TIFF_JPEG_WHOLE ? height : kind == TIFF_JPEG ? 16 : 8);
      for (guint y = 0; y < height; y++)
        g_assert_cmpint (TIFFWriteScanline (t, image + y * row_bytes, y, 0), ==, 1);
    }
  TIFFClose (t);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_unlink (path);
  return g_bytes_new (contents, len);
}

/* TIFFs as scanners and raw converters write them, by libtiff: strips and tiles, 8 and
 * 16 bits, alpha over white, JPEG-compressed YCbCr (also in one strip with its tables apart,
 * which is no JPEG preview), CMYK; a JPEG thumbnail in IFD1 used only when it covers the
 * edge; the orientation tag applied. */
static void
test_tiff_kinds (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  static const TiffKind halves[] = {
    TIFF_STRIPS, TIFF_TILES_16, TIFF_JPEG, TIFF_JPEG_WHOLE, TIFF_CMYK
  };

  {
    g_autoptr(GBytes) red = make_tiff (1000, 500, paint_red, 255, TIFF_STRIPS, 1);
    g_autoptr(GBytes) clear = make_tiff (200, 100, paint_red, 128, TIFF_ALPHA, 1);

    assert_thumbnail (pool, red, 100, 100, 50, 0, 0, 255, 0, 0);
    assert_thumbnail (pool, red, 100, 100, 50, 99, 49, 255, 0, 0);
    assert_thumbnail (pool, clear, 100, 100, 50, 50, 25, 255, 127, 127);
  }
  for (guint i = 0; i < G_N_ELEMENTS (halves); i++)
    {
      g_autoptr(GBytes) tiff = make_tiff (320, 160, paint_halves, 255, halves[i], 1);

      assert_halves (pool, tiff, 64, 64, 32, 10, 16, 53, 16);
    }
  {
    /* a scan with a 32 × 16 green JPEG thumbnail in IFD1: its own 64 × 32 picture is better
     * at 64, the thumbnail is enough at 16 */
    g_autoptr(GBytes) small = make_jpeg (32, 16, paint_green, NULL);
    guint8 rgb[64 * 32 * 3];
    TiffWriter t = tiff_new ("II*\0");
    guint32 small_at, rgb_at, ifd1;
    g_autoptr(GBytes) scan = NULL;

    for (guint y = 0; y < 32; y++)
      for (guint x = 0; x < 64; x++)
        paint_halves (x, y, 64, 32, rgb + (y * 64 + x) * 3);
    small_at = tiff_bytes (&t, small);
    rgb_at = tiff_blob (&t, rgb, sizeof rgb);
    {
      TiffEntry e1[] = { { 0x0201, 4, 1, small_at },
                         { 0x0202, 4, 1, g_bytes_get_size (small) } };
      TiffEntry e0[] = { { 0x0100, 3, 1, 64 }, { 0x0101, 3, 1, 32 }, { 0x0102, 3, 1, 8 },
                         { 0x0103, 3, 1, 1 }, { 0x0106, 3, 1, 2 }, { 0x0111, 4, 1, rgb_at },
                         { 0x0115, 3, 1, 3 }, { 0x0116, 3, 1, 32 },
                         { 0x0117, 4, 1, sizeof rgb } };

      ifd1 = tiff_ifd (&t, e1, G_N_ELEMENTS (e1), 0);
      scan = tiff_finish (&t, tiff_ifd (&t, e0, G_N_ELEMENTS (e0), ifd1));
    }
    assert_halves (pool, scan, 64, 64, 32, 10, 16, 53, 16);
    assert_thumbnail (pool, scan, 16, 16, 8, 8, 4, 0, 255, 0);
  }
  {
    /* stored 320 × 160 with Orientation 6: shown 64 × 128, the red left half on top */
    g_autoptr(GBytes) turned = make_tiff (320, 160, paint_halves, 255, TIFF_STRIPS, 6);

    assert_halves (pool, turned, 128, 64, 128, 32, 10, 32, 117);
  }
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* @tiff (little-endian, as libtiff writes here) with ImageWidth and ImageLength set to @size. */
static GBytes *
tiff_with_size (GBytes *tiff,
                guint   size)
{
  gsize len = g_bytes_get_size (tiff);
  g_autofree guint8 *d = g_memdup2 (g_bytes_get_data (tiff, NULL), len);
  guint32 ifd = d[4] | d[5] << 8 | d[6] << 16 | (guint32) d[7] << 24;
  guint n = d[ifd] | d[ifd + 1] << 8, patched = 0;

  g_assert_cmpint (memcmp (d, "II*\0", 4), ==, 0);
  for (guint i = 0; i < n; i++)
    {
      guint8 *e = d + ifd + 2 + i * 12;
      guint tag = e[0] | e[1] << 8;

      if (tag == 256 || tag == 257)
        {
          /* SHORT or LONG, in the entry */
          e[8] = size & 0xff;
          e[9] = (size >> 8) & 0xff;
          patched++;
        }
    }
  g_assert_cmpuint (patched, ==, 2);
  return g_bytes_new (d, len);
}

/* A TIFF whose strips break gives the rows before them; cut short (libtiff writes its
 * directory last), its header alone or noise after it are refused as damaged, a header
 * promising 60000 × 60000 as too large, a raw's sensor data as a kind not decoded; mutated
 * TIFFs never take the helper down. */
static void
test_tiff_damaged (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) good = make_tiff (200, 100, paint_gradient, 255, TIFF_STRIPS, 1);
  g_autoptr(GBytes) head = g_bytes_new_from_bytes (good, 0, 8);
  g_autoptr(GBytes) bomb = tiff_with_size (good, 60000);
  g_autoptr(GBytes) cfa = make_tiff (64, 64, paint_halves, 255, TIFF_CFA, 1);

  assert_refused (pool, head, SLUICE_ERROR_FAILED, "TIFF data cannot be read");
  /* libtiff writes the directory last: a cut file has none */
  {
    g_autoptr(GBytes) cut = g_bytes_new_from_bytes (good, 0, g_bytes_get_size (good) / 2);

    assert_refused (pool, cut, SLUICE_ERROR_FAILED, "TIFF data cannot be read");
  }
  /* strips broken from the middle of the file on: the rows before them are there */
  {
    gsize len = g_bytes_get_size (good);
    g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (good, NULL), len);
    g_autoptr(GBytes) broken = NULL;

    memset (data + len / 2, 0xff, len / 10);
    broken = g_bytes_new (data, len);
    assert_top_rows (pool, broken, len);
  }
  assert_noise_refused (pool, good, 8);
  assert_refused (pool, bomb, SLUICE_ERROR_TOO_LARGE, "TIFF of 60000 × 60000");
  assert_refused (pool, cfa, SLUICE_ERROR_INVALID_ARGUMENT, "kind of TIFF is not decoded");
  assert_mutants_handled (pool, good, 8, "TIFF");
  assert_red_thumbnail (pool);
}

/* The scanned and camera TIFFs of ../shared/corpus/exif-samples, when it is there: each gives
 * a thumbnail of the edge asked for, not a flat colour. */
static void
test_tiff_real (void)
{
  const char *root = g_getenv ("SLUICE_SOURCE_ROOT");
  g_autofree char *dir = g_build_filename (root != NULL ? root : ".", "..", "shared", "corpus",
                                           "exif-samples", "ianare-exif-samples", "tiff", NULL);
  g_autoptr(GDir) listing = NULL;
  g_autoptr(SluiceProbePool) pool = NULL;
  const char *name;
  guint found = 0;

  if (root == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("../shared/corpus/exif-samples is not there");
      return;
    }
  pool = real_pool ();
  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      guint width = 0, height = 0;

      if (!g_str_has_suffix (name, ".tiff") ||
          !real_thumbnail (pool, path, 256, 32, &width, &height))
        continue;
      g_assert_cmpuint (MAX (width, height), <=, 256);
      g_assert_cmpuint (MAX (width, height), >, 16);
      found++;
    }
  g_assert_cmpuint (found, >, 0);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}
#endif

/* EXIF orientation 6 (turn 90° clockwise to show): the stored left half ends up on top. */
static void
test_orientation (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) exif = make_orientation_exif (6);
  g_autoptr(GBytes) jpeg = make_jpeg (320, 160, paint_halves, exif);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pixels = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;

  pixels = thumbnail_of (pool, jpeg, 128, &width, &height, &stride, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (width, ==, 64);
  g_assert_cmpuint (height, ==, 128);
  assert_pixel (pixels, stride, 32, 10, 255, 0, 0);
  assert_pixel (pixels, stride, 32, 117, 0, 0, 255);
}

static void
test_corrupt (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) good = make_jpeg (64, 64, paint_red, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pixels = NULL;
  g_autoptr(GBytes) cut = NULL;
  g_autoptr(GBytes) garbage = NULL;
  guint8 noise[4096];
  guint width = 0, height = 0;
  gsize stride = 0;

  /* cut inside the headers: no image at all */
  cut = g_bytes_new_from_bytes (good, 0, 120);
  pixels = thumbnail_of (pool, cut, 256, &width, &height, &stride, &error);
  g_assert_null (pixels);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "cannot be decoded"));
  g_clear_error (&error);

  /* a JPEG signature followed by noise */
  for (guint i = 0; i < sizeof noise; i++)
    noise[i] = g_test_rand_int_range (0, 256);
  noise[0] = 0xff;
  noise[1] = 0xd8;
  noise[2] = 0xff;
  garbage = g_bytes_new (noise, sizeof noise);
  pixels = thumbnail_of (pool, garbage, 256, &width, &height, &stride, &error);
  g_assert_null (pixels);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED);
  g_clear_error (&error);

  /* an error, not a crash: the same helper goes on serving */
  assert_red_thumbnail (pool);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

static void
test_not_an_image (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) text = g_bytes_new_static ("hello, this is a text file\n", 27);
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pixels = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;

  pixels = thumbnail_of (pool, text, 256, &width, &height, &stride, &error);
  g_assert_null (pixels);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "cannot make a thumbnail of this file type"));
  g_clear_error (&error);

  pixels = thumbnail_of (pool, empty, 256, &width, &height, &stride, &error);
  g_assert_null (pixels);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  assert_red_thumbnail (pool);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* Hostile variations of a valid JPEG (bytes flipped, runs zeroed, cut short): each gives
 * pixels or an error, never a crashed or stalled helper. */
static void
test_mutations (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) exif = make_orientation_exif (8);
  g_autoptr(GBytes) jpeg = make_jpeg_kind (96, 64, paint_gradient, exif, JPEG_PROGRESSIVE);
  gsize len = g_bytes_get_size (jpeg);
  guint decoded = 0, refused = 0;

  for (guint round = 0; round < 300; round++)
    {
      g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (jpeg, NULL), len);
      g_autoptr(GBytes) mutated = NULL;
      g_autoptr(GBytes) pixels = NULL;
      g_autoptr(GError) error = NULL;
      gsize cut = len;
      guint width = 0, height = 0;
      gsize stride = 0;

      for (guint n = g_test_rand_int_range (1, 6); n > 0; n--)
        {
          gsize at = g_test_rand_int_range (2, (gint32) len);

          switch (g_test_rand_int_range (0, 3))
            {
            case 0:
              data[at] ^= 1u << g_test_rand_int_range (0, 8);
              break;
            case 1:
              memset (data + at, g_test_rand_bit () ? 0xff : 0, MIN (8, len - at));
              break;
            default:
              cut = MIN (cut, at);
              break;
            }
        }
      mutated = g_bytes_new (data, cut);
      pixels = thumbnail_of (pool, mutated, 64, &width, &height, &stride, &error);
      tally_mutant (pixels, width, height, 64, error, &decoded, &refused);
    }
  g_test_message ("300 mutated JPEGs: %u decoded, %u refused", decoded, refused);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* A header that promises 60000 × 60000 pixels is refused before any decoding. */
static void
test_bomb (void)
{
  g_autoptr(SluiceProbePool) pool = real_pool ();
  g_autoptr(GBytes) jpeg = make_jpeg (64, 64, paint_red, NULL);
  g_autoptr(GBytes) bomb = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pixels = NULL;
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg));
  gsize len = g_bytes_get_size (jpeg);
  guint width = 0, height = 0;
  gsize stride = 0;
  gboolean patched = FALSE;
  gint64 start;

  /* SOF0: FF C0, length (2), precision (1), height (2), width (2) */
  for (gsize i = 2; i + 9 < len; i++)
    if (data[i] == 0xff && data[i + 1] == 0xc0)
      {
        data[i + 5] = 60000 >> 8;
        data[i + 6] = 60000 & 0xff;
        data[i + 7] = 60000 >> 8;
        data[i + 8] = 60000 & 0xff;
        patched = TRUE;
        break;
      }
  g_assert_true (patched);
  bomb = g_bytes_new (data, len);

  start = g_get_monotonic_time ();
  pixels = thumbnail_of (pool, bomb, 256, &width, &height, &stride, &error);
  g_assert_null (pixels);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "60000 × 60000"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  assert_red_thumbnail (pool);
}

/* A thumbnail gets a bigger CPU budget than a file's metadata (SLUICE_PROBE_THUMB_CPU_SECONDS
 * against SLUICE_PROBE_CPU_SECONDS, after which SIGXCPU ends the helper; test-probe-misbehave
 * shows the 5 s of a probe): 8 s of CPU in a thumbnail request of the test-modes helper,
 * then the usual answer for a file that is no picture. */
static void
test_cpu_budget (void)
{
  g_autofree char *helper = g_build_filename (PROBE_BUILDDIR, "sluice-probe-test-modes", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceProbePool) pool = sluice_probe_pool_new_for_thumbnails (helper, 1, 60000,
                                                                          &error);
  g_autoptr(GBytes) spin = g_bytes_new_static ("SLUICE-TEST:spin-for:8 and no picture", 37);
  g_autoptr(GBytes) pixels = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;

  g_assert_no_error (error);
  pixels = thumbnail_of (pool, spin, 64, &width, &height, &stride, &error);
  g_assert_null (pixels);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* A helper that dies or stalls on a file: a clear error, and a fresh helper serves on. */
static void
test_helper_crash_and_stall (void)
{
  g_autofree char *path = g_build_filename (PROBE_TEST_HELPER_DIR, "probe-test-helper-normal",
                                            NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceProbePool) pool = sluice_probe_pool_new (path, 1, SHORT_TIMEOUT_MS, &error);
  g_autoptr(GBytes) two = g_bytes_new_static ("ab", 2);
  g_autoptr(GBytes) one = g_bytes_new_static ("a", 1);
  g_autoptr(GBytes) pixels = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(SluiceBuffer) buffer = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;
  int fd;

  g_assert_no_error (error);
  pixels = thumbnail_of (pool, two, 256, &width, &height, &stride, &error);
  g_assert_null (pixels);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED);
  g_assert_nonnull (strstr (error->message, "SIGABRT"));
  g_clear_error (&error);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 1);

  pixels = thumbnail_of (pool, one, 256, &width, &height, &stride, &error);
  g_assert_null (pixels);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_TIMEOUT);
  g_clear_error (&error);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 2);

  /* the replacement answers */
  buffer = sluice_buffer_new_from_data ((const guint8 *) "xyz", 3, &error);
  g_assert_no_error (error);
  fd = sluice_buffer_get_readonly_fd (buffer);
  meta = sluice_probe_pool_probe (pool, fd, "after.jpg", 3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (meta->make, ==, "TestHelper");
}

/* ---- SluiceThumbnailer: the file, the caches ---------------------------------------------- */

static char *
write_file (const char *dir,
            const char *name,
            GBytes     *bytes)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  return path;
}

static void
test_cache (void)
{
  g_autofree char *helper = sluice_probe_find_helper ();
  g_autofree char *dir = g_build_filename (g_get_tmp_dir (), "source", NULL);
  g_autoptr(GBytes) jpeg = make_jpeg (800, 600, paint_red, NULL);
  g_autoptr(SluiceThumbnailer) thumbnailer = sluice_thumbnailer_new (helper, NULL, 200);
  g_autoptr(SluiceThumbnailer) again = NULL;
  g_autoptr(SluiceThumbnail) first = NULL;
  g_autoptr(SluiceThumbnail) second = NULL;
  g_autoptr(SluiceThumbnail) third = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *cached = NULL;
  gint64 start, took;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  path = write_file (dir, "red.jpg", jpeg);

  /* the cache lives in the user's cache folder (isolated by the test framework) */
  cached = g_build_filename (g_get_user_cache_dir (), "sluice", "thumbnails", NULL);
  g_assert_cmpstr (sluice_thumbnailer_cache_dir (thumbnailer), ==, cached);

  /* no hash known yet (a file probed before it was hashed): decoded, cached by content */
  first = sluice_thumbnailer_get (thumbnailer, path, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (first->from_cache);
  g_assert_cmpuint (first->width, ==, 200);
  g_assert_cmpuint (first->height, ==, 150);
  g_assert_cmpuint (strlen (first->sha256), ==, 64);
  g_assert_cmpuint (sluice_thumbnailer_decodes (thumbnailer), ==, 1);

  /* by its hash: from memory, no second decode */
  second = sluice_thumbnailer_get (thumbnailer, path, first->sha256, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (second->from_cache);
  g_assert_cmpuint (sluice_thumbnailer_decodes (thumbnailer), ==, 1);
  g_assert_true (g_bytes_equal (first->pixels, second->pixels));

  /* a new thumbnailer (a new app session), the source gone from the NAS: from disk */
  g_assert_cmpint (g_unlink (path), ==, 0);
  again = sluice_thumbnailer_new (helper, NULL, 200);
  start = g_get_monotonic_time ();
  third = sluice_thumbnailer_get (again, path, first->sha256, NULL, &error);
  took = g_get_monotonic_time () - start;
  g_assert_no_error (error);
  g_assert_true (third->from_cache);
  g_assert_cmpuint (sluice_thumbnailer_decodes (again), ==, 0);
  g_assert_cmpuint (third->width, ==, 200);
  g_assert_cmpuint (third->height, ==, 150);
  g_assert_cmpuint (third->stride, ==, first->stride);
  g_assert_true (g_bytes_equal (first->pixels, third->pixels));
  g_test_message ("disk cache hit: %.2f ms", took / 1000.0);
}

static void
test_cache_damaged_file (void)
{
  g_autofree char *helper = sluice_probe_find_helper ();
  g_autoptr(GBytes) jpeg = make_jpeg (100, 100, paint_red, NULL);
  g_autoptr(SluiceThumbnailer) thumbnailer = sluice_thumbnailer_new (helper, NULL, 64);
  g_autoptr(SluiceThumbnailer) again = NULL;
  g_autoptr(SluiceThumbnail) first = NULL;
  g_autoptr(SluiceThumbnail) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_file (g_get_tmp_dir (), "small.jpg", jpeg);
  g_autofree char *name = NULL;
  g_autofree char *cache_file = NULL;

  first = sluice_thumbnailer_get (thumbnailer, path, NULL, NULL, &error);
  g_assert_no_error (error);
  name = g_strdup_printf ("%s-64.rgb", first->sha256);
  cache_file = g_build_filename (sluice_thumbnailer_cache_dir (thumbnailer), name, NULL);
  g_assert_true (g_file_test (cache_file, G_FILE_TEST_IS_REGULAR));

  /* a cache file cut short is a miss: the source is decoded again */
  g_file_set_contents (cache_file, "SLTH", 4, &error);
  g_assert_no_error (error);
  again = sluice_thumbnailer_new (helper, NULL, 64);
  second = sluice_thumbnailer_get (again, path, first->sha256, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (second->from_cache);
  g_assert_cmpuint (sluice_thumbnailer_decodes (again), ==, 1);
  g_assert_true (g_bytes_equal (first->pixels, second->pixels));
}

static guint8 paint_level;

static void
paint_level_grey (guint x, guint y, guint w, guint h, guint8 *rgb)
{
  rgb[0] = rgb[1] = rgb[2] = paint_level;
}

static gboolean
cached (SluiceThumbnailer *thumbnailer,
        const char        *sha256,
        guint              edge)
{
  g_autofree char *name = g_strdup_printf ("%s-%u.rgb", sha256, edge);
  g_autofree char *path = g_build_filename (sluice_thumbnailer_cache_dir (thumbnailer), name,
                                            NULL);

  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* Past its bound the disk cache drops the least recently used files: a hit counts as a use. */
static void
test_cache_bound (void)
{
  g_autofree char *helper = sluice_probe_find_helper ();
  g_autoptr(SluiceThumbnailer) thumbnailer = sluice_thumbnailer_new (helper, NULL, 32);
  g_autoptr(GPtrArray) shas = g_ptr_array_new_with_free_func (g_free);
  const gsize file_size = 20 + 32 * 32 * 3;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint64 total = 0;

  /* room for 3.5 files: the 4th write trims to 3/4 of that, two files */
  sluice_thumbnailer_set_cache_limit (thumbnailer, file_size * 7 / 2);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *file = g_strdup_printf ("grey-%u.jpg", i);
      g_autofree char *path = NULL;
      g_autoptr(GBytes) jpeg = NULL;
      g_autoptr(SluiceThumbnail) thumbnail = NULL;
      g_autoptr(GError) error = NULL;

      paint_level = 40 + 50 * i;
      jpeg = make_jpeg (64, 64, paint_level_grey, NULL);
      path = write_file (g_get_tmp_dir (), file, jpeg);
      thumbnail = sluice_thumbnailer_get (thumbnailer, path, NULL, NULL, &error);
      g_assert_no_error (error);
      g_ptr_array_add (shas, g_strdup (thumbnail->sha256));
      if (i == 2)
        {
          g_autoptr(SluiceThumbnailer) other = sluice_thumbnailer_new (helper, NULL, 32);
          g_autoptr(SluiceThumbnail) hit = NULL;

          /* file 0 is used again (from disk, by another session): file 1 is now the oldest */
          g_usleep (20000);
          hit = sluice_thumbnailer_get (other, path, g_ptr_array_index (shas, 0), NULL, &error);
          g_assert_no_error (error);
          g_assert_true (hit->from_cache);
        }
      g_usleep (20000);
    }

  g_assert_true (cached (thumbnailer, g_ptr_array_index (shas, 0), 32));
  g_assert_false (cached (thumbnailer, g_ptr_array_index (shas, 1), 32));
  g_assert_false (cached (thumbnailer, g_ptr_array_index (shas, 2), 32));
  g_assert_true (cached (thumbnailer, g_ptr_array_index (shas, 3), 32));
  dir = g_dir_open (sluice_thumbnailer_cache_dir (thumbnailer), 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    total += file_size;
  g_assert_cmpuint (total, <=, file_size * 7 / 2);
}

static void
test_gone (void)
{
  g_autofree char *helper = sluice_probe_find_helper ();
  g_autoptr(SluiceThumbnailer) thumbnailer = sluice_thumbnailer_new (helper, NULL, 0);
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "nowhere", "gone.jpg", NULL);
  g_autoptr(SluiceThumbnail) thumbnail = NULL;
  g_autoptr(GError) error = NULL;

  thumbnail = sluice_thumbnailer_get (thumbnailer, path,
                                      "0000000000000000000000000000000000000000000000000000000000000000",
                                      NULL, &error);
  g_assert_null (thumbnail);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NOT_FOUND);
  /* nothing was started for a file that is not there */
  g_assert_cmpuint (sluice_thumbnailer_decodes (thumbnailer), ==, 0);
}

static void
got_async (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  SluiceThumbnail **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = sluice_thumbnailer_get_finish (NULL, result, &error);
  g_assert_no_error (error);
}

static void
test_async (void)
{
  g_autofree char *helper = sluice_probe_find_helper ();
  g_autoptr(GBytes) jpeg = make_jpeg (300, 300, paint_red, NULL);
  g_autoptr(SluiceThumbnailer) thumbnailer = sluice_thumbnailer_new (helper, NULL, 0);
  g_autofree char *path = write_file (g_get_tmp_dir (), "async.jpg", jpeg);
  SluiceThumbnail *thumbnail = NULL;

  sluice_thumbnailer_get_async (thumbnailer, path, NULL, NULL, got_async, &thumbnail);
  while (thumbnail == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (thumbnail->width, ==, 256);
  g_assert_cmpuint (thumbnail->height, ==, 256);
  sluice_thumbnail_free (thumbnail);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/thumbnail/worth-decoding", test_worth_decoding);
  g_test_add_func ("/engine/thumbnail/decode-red", test_decode_red);
  g_test_add_func ("/engine/thumbnail/decode-large", test_decode_large);
  g_test_add_func ("/engine/thumbnail/orientation", test_orientation);
  g_test_add_func ("/engine/thumbnail/kinds", test_kinds);
  g_test_add_func ("/engine/thumbnail/png-kinds", test_png_kinds);
  g_test_add_func ("/engine/thumbnail/png-damaged", test_png_damaged);
  g_test_add_func ("/engine/thumbnail/webp-kinds", test_webp_kinds);
  g_test_add_func ("/engine/thumbnail/webp-damaged", test_webp_damaged);
#if HAVE_HEIF
  g_test_add_func ("/engine/thumbnail/heif-kinds", test_heif_kinds);
  g_test_add_func ("/engine/thumbnail/heif-damaged", test_heif_damaged);
  g_test_add_func ("/engine/thumbnail/heif-real", test_heif_real);
#else
  g_test_add_func ("/engine/thumbnail/heif-kinds", test_heif_not_built);
  g_test_add_func ("/engine/thumbnail/heif-damaged", test_heif_not_built);
  g_test_add_func ("/engine/thumbnail/heif-real", test_heif_not_built);
#endif
  g_test_add_func ("/engine/thumbnail/raw-previews", test_raw_previews);
  g_test_add_func ("/engine/thumbnail/raw-damaged", test_raw_damaged);
#if HAVE_TIFF
  g_test_add_func ("/engine/thumbnail/tiff-kinds", test_tiff_kinds);
  g_test_add_func ("/engine/thumbnail/tiff-damaged", test_tiff_damaged);
  g_test_add_func ("/engine/thumbnail/tiff-real", test_tiff_real);
#endif
  g_test_add_func ("/engine/thumbnail/corrupt", test_corrupt);
  g_test_add_func ("/engine/thumbnail/not-an-image", test_not_an_image);
  g_test_add_func ("/engine/thumbnail/bomb", test_bomb);
  g_test_add_func ("/engine/thumbnail/mutations", test_mutations);
  g_test_add_func ("/engine/thumbnail/helper-crash-and-stall", test_helper_crash_and_stall);
  g_test_add_func ("/engine/thumbnail/cpu-budget", test_cpu_budget);
  g_test_add_func ("/engine/thumbnail/cache", test_cache);
  g_test_add_func ("/engine/thumbnail/cache-damaged-file", test_cache_damaged_file);
  g_test_add_func ("/engine/thumbnail/cache-bound", test_cache_bound);
  g_test_add_func ("/engine/thumbnail/gone", test_gone);
  g_test_add_func ("/engine/thumbnail/async", test_async);
  return g_test_run ();
}
