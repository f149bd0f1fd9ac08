/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-thumbnail"

#include "config.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <dlfcn.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include "sluice-probe-decoders.h"
#include "sluice-probe-preview.h"
#include "sluice-probe-protocol.h"
#include "sluice-probe-thumbnail.h"

/*
 * Thumbnails decoded from the file itself, for files without an embedded EXIF thumbnail: JPEG
 * (libjpeg-turbo), PNG (libpng), WebP (libwebp), the JPEG preview of a raw file
 * (sluice-probe-preview.h) and, in a helper started with --thumbnails, HEIF (libheif) and
 * TIFF (libtiff), in the module of sluice-probe-decoders.h. Runs in the sandboxed helper only:
 * the app never runs an image decoder on a source file.
 *
 * libjpeg reports a fatal error by calling error_exit(), whose default prints and calls
 * exit(); here it formats the message and longjmp()s back. libpng's error function does the
 * same through png_longjmp(). Everything that must be freed after such a jump lives in a
 * Decode struct that is not touched between setjmp() and the jump in a way the compiler could
 * keep in a register.
 */

/* libjpeg's own allocations (a progressive JPEG keeps every coefficient) stop here; the
 * helper's address space limit is the backstop. jmemnobs has no backing store, so going over
 * is an error, not a temporary file. */
#define JPEG_MAX_MEMORY  (G_GUINT64_CONSTANT (512) << 20)

/* An interlaced PNG is decoded whole (its passes fill the rows in turn): up to this many
 * pixels, 4 bytes each. A plain PNG is decoded a row at a time, whatever its size. */
#define PNG_MAX_INTERLACED_PIXELS  (G_GUINT64_CONSTANT (16) * 1000 * 1000)
/* what libpng may allocate for one ancillary chunk (a compressed profile or text) */
#define PNG_MAX_CHUNK_MEMORY       (G_GUINT64_CONSTANT (8) << 20)
/* A lossless WebP is decoded whole (4 bytes a pixel) before it is scaled; a lossy one a few
 * rows at a time, whatever its size (WebP stops at 16383 × 16383). An animation's decoder
 * keeps two whole canvases. */
#define WEBP_MAX_LOSSLESS_PIXELS   (G_GUINT64_CONSTANT (64) * 1000 * 1000)
#define WEBP_MAX_ANIMATED_PIXELS   (G_GUINT64_CONSTANT (16) * 1000 * 1000)

/* How the decoder hands over a row. */
typedef enum {
  LAYOUT_RGB,
  LAYOUT_CMYK,           /* as most writers store it */
  LAYOUT_CMYK_INVERTED,  /* as Adobe writes it */
  LAYOUT_RGBA,           /* 8-bit, not premultiplied; shown over white */
} Layout;

/* the decoders module's functions, once sluice_probe_thumbnail_load_decoders() found it */
static struct {
  SluiceProbeHeifIsHeifFunc is_heif;
  SluiceProbeHeifDecodeFunc decode;
  SluiceProbeHeifFreeFunc   free;
} heif_module;
static SluiceProbeTiffDecodeFunc tiff_decode;

typedef struct {
  struct jpeg_error_mgr  pub;
  jmp_buf                jump;
  char                   message[JMSG_LENGTH_MAX];
} ErrorManager;

typedef struct {
  const guint8 *data;
  gsize         len;
  gsize         pos;
} PngSource;

typedef struct {
  struct jpeg_decompress_struct  cinfo;
  ErrorManager                   err;
  gboolean                       created;
  png_structp                    png;
  png_infop                      png_info;
  PngSource                      png_source;
  guint8                        *image;     /* an interlaced PNG, whole */
  png_bytep                     *image_rows;
  guint                          rows_done;
  WebPDecoderConfig              webp;
  gboolean                       webp_inited;
  WebPIDecoder                  *webp_dec;
  WebPAnimDecoder               *webp_anim;
  SluiceProbeHeifPicture        *heif;
  guint8                        *row;       /* one decoded scanline */
  guint32                       *sums;      /* tw × th × 3 */
  guint32                       *counts;    /* tw × th */
  guint                          max_edge;  /* for decoders that call back (TIFF) */
  guint                          src_width, src_height;
  guint                          tw, th;
} Decode;

static void
on_error_exit (j_common_ptr cinfo)
{
  ErrorManager *err = (ErrorManager *) cinfo->err;

  err->pub.format_message (cinfo, err->message);
  longjmp (err->jump, 1);
}

/* Warnings ("premature end of data segment") would go to stderr; a damaged file still gives
 * what could be decoded, and the helper's stderr is for the helper's own messages. */
static void
on_output_message (j_common_ptr cinfo)
{
}

static void
decode_clear (Decode *d)
{
  if (d->created)
    jpeg_destroy_decompress (&d->cinfo);
  d->created = FALSE;
  if (d->png != NULL)
    png_destroy_read_struct (&d->png, d->png_info != NULL ? &d->png_info : NULL, NULL);
  g_clear_pointer (&d->webp_dec, WebPIDelete);
  g_clear_pointer (&d->webp_anim, WebPAnimDecoderDelete);
  if (d->webp_inited)
    WebPFreeDecBuffer (&d->webp.output);
  if (d->heif != NULL)
    heif_module.free (d->heif);
  d->heif = NULL;
  d->webp_inited = FALSE;
  g_clear_pointer (&d->image, g_free);
  g_clear_pointer (&d->image_rows, g_free);
  g_clear_pointer (&d->row, g_free);
  g_clear_pointer (&d->sums, g_free);
  g_clear_pointer (&d->counts, g_free);
}

static gboolean
is_jpeg (const guint8 *data,
         gsize         len)
{
  return len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff;
}

/* The largest DCT reduction (1/1 … 1/8) that still leaves the longest side at least @edge:
 * a 24 MP photo for a 256 px thumbnail decodes at 1/8, about 1/30 of the work. */
static guint
pick_denominator (guint width,
                  guint height,
                  guint edge)
{
  guint longest = MAX (width, height);
  guint denom = 8;

  while (denom > 1 && (longest + denom - 1) / denom < edge)
    denom /= 2;
  return denom;
}

static gboolean
is_png (const guint8 *data,
        gsize         len)
{
  return len >= 8 && png_sig_cmp (data, 0, 8) == 0;
}

static gboolean
is_webp (const guint8 *data,
         gsize         len)
{
  return len >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0;
}

static gboolean
is_heif (const guint8 *data,
         gsize         len)
{
  return heif_module.decode != NULL && len >= 12 && memcmp (data + 4, "ftyp", 4) == 0 &&
         heif_module.is_heif (data, len);
}

static void
accumulate_row (Decode       *d,
                const guint8 *row,
                guint         y,
                guint         width,
                guint         height,
                Layout        layout)
{
  guint ty = (guint) ((guint64) y * d->th / height);
  guint32 *sums = d->sums + (gsize) ty * d->tw * 3;
  guint32 *counts = d->counts + (gsize) ty * d->tw;

  for (guint x = 0; x < width; x++)
    {
      guint tx = (guint) ((guint64) x * d->tw / width);
      guint r, g, b;

      if (layout == LAYOUT_RGBA)
        {
          guint a = row[x * 4 + 3];

          /* over white, as a viewer shows a transparent picture on a light background */
          r = (row[x * 4] * a + 255 * (255 - a) + 127) / 255;
          g = (row[x * 4 + 1] * a + 255 * (255 - a) + 127) / 255;
          b = (row[x * 4 + 2] * a + 255 * (255 - a) + 127) / 255;
        }
      else if (layout != LAYOUT_RGB)
        {
          /* Adobe writes CMYK inverted; the naive conversion is enough for a thumbnail */
          guint c = row[x * 4], m = row[x * 4 + 1], yy = row[x * 4 + 2], k = row[x * 4 + 3];

          if (layout == LAYOUT_CMYK)
            {
              c = 255 - c;
              m = 255 - m;
              yy = 255 - yy;
              k = 255 - k;
            }
          r = c * k / 255;
          g = m * k / 255;
          b = yy * k / 255;
        }
      else
        {
          r = row[x * 3];
          g = row[x * 3 + 1];
          b = row[x * 3 + 2];
        }
      sums[tx * 3] += r;
      sums[tx * 3 + 1] += g;
      sums[tx * 3 + 2] += b;
      counts[tx]++;
    }
}

/* Where the pixel shown at (dx, dy) is stored, for EXIF orientation @o of a w × h image. */
static void
orient_source (guint  o,
               guint  w,
               guint  h,
               guint  dx,
               guint  dy,
               guint *sx,
               guint *sy)
{
  switch (o)
    {
    case 2: *sx = w - 1 - dx; *sy = dy; break;
    case 3: *sx = w - 1 - dx; *sy = h - 1 - dy; break;
    case 4: *sx = dx; *sy = h - 1 - dy; break;
    case 5: *sx = dy; *sy = dx; break;
    case 6: *sx = dy; *sy = h - 1 - dx; break;
    case 7: *sx = w - 1 - dy; *sy = h - 1 - dx; break;
    case 8: *sx = w - 1 - dy; *sy = dx; break;
    default: *sx = dx; *sy = dy; break;
    }
}

/* The averaged, upright RGB image as the PIXELS payload. */
static GVariant *
finish_pixels (Decode *d,
               guint   orientation)
{
  gboolean swap = orientation >= 5 && orientation <= 8;
  guint ow = swap ? d->th : d->tw;
  guint oh = swap ? d->tw : d->th;
  gsize stride = (gsize) ow * 3;
  guint8 *pixels = g_malloc ((gsize) oh * stride);
  GVariant *bytes;

  for (guint dy = 0; dy < oh; dy++)
    for (guint dx = 0; dx < ow; dx++)
      {
        guint sx, sy;
        gsize i;
        guint32 n;

        orient_source (orientation, d->tw, d->th, dx, dy, &sx, &sy);
        i = (gsize) sy * d->tw + sx;
        n = MAX (d->counts[i], 1);
        for (guint c = 0; c < 3; c++)
          pixels[dy * stride + dx * 3 + c] = (d->sums[i * 3 + c] + n / 2) / n;
      }
  bytes = g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, pixels, (gsize) oh * stride, TRUE,
                                   g_free, pixels);
  return g_variant_new ("(uuu@ay)", ow, oh, (guint32) stride, bytes);
}

/* The thumbnail's size for a @width × @height picture, and its zeroed accumulator. */
static void
start_accumulator (Decode *d,
                   guint   width,
                   guint   height,
                   guint   max_edge)
{
  if (MAX (width, height) > max_edge)
    {
      double f = (double) max_edge / MAX (width, height);

      d->tw = MAX (1, (guint) (width * f + 0.5));
      d->th = MAX (1, (guint) (height * f + 0.5));
    }
  else
    {
      d->tw = width;
      d->th = height;
    }
  d->sums = g_new0 (guint32, (gsize) d->tw * d->th * 3);
  d->counts = g_new0 (guint32, (gsize) d->tw * d->th);
}

/* A picture decoded whole (@stride bytes a row), scaled and turned upright. */
static GVariant *
scale_picture (Decode       *d,
               const guint8 *rows,
               guint         width,
               guint         height,
               gsize         stride,
               Layout        layout,
               guint         max_edge,
               guint         orientation)
{
  start_accumulator (d, width, height, max_edge);
  for (guint y = 0; y < height; y++)
    accumulate_row (d, rows + (gsize) y * stride, y, width, height, layout);
  return finish_pixels (d, orientation);
}

static GVariant *
decode_jpeg (Decode        *d,
             const guint8  *data,
             gsize          len,
             guint          max_edge,
             guint          orientation,
             guint         *out_failure,
             char         **out_message)
{
  struct jpeg_decompress_struct *cinfo = &d->cinfo;
  guint64 pixels;
  gboolean cmyk, inverted;
  guint width, height;

  cinfo->err = jpeg_std_error (&d->err.pub);
  d->err.pub.error_exit = on_error_exit;
  d->err.pub.output_message = on_output_message;
  if (setjmp (d->err.jump) != 0)
    {
      *out_failure = SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup_printf ("the JPEG data cannot be decoded: %s", d->err.message);
      return NULL;
    }

  jpeg_create_decompress (cinfo);
  d->created = TRUE;
  cinfo->mem->max_memory_to_use = JPEG_MAX_MEMORY;
  jpeg_mem_src (cinfo, data, len);
  jpeg_read_header (cinfo, TRUE);

  /* a bomb is refused from its header, before a single scanline is decoded */
  pixels = (guint64) cinfo->image_width * cinfo->image_height;
  if (pixels == 0 || pixels > SLUICE_PROBE_THUMB_MAX_SOURCE_PIXELS)
    {
      *out_failure = SLUICE_PROBE_THUMB_TOO_LARGE;
      *out_message = g_strdup_printf ("a JPEG of %u × %u pixels is too large to decode",
                                      cinfo->image_width, cinfo->image_height);
      return NULL;
    }

  cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  inverted = cmyk && cinfo->saw_Adobe_marker;
  cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  cinfo->scale_num = 1;
  cinfo->scale_denom = pick_denominator (cinfo->image_width, cinfo->image_height, max_edge);
  cinfo->dct_method = JDCT_ISLOW;
  cinfo->do_fancy_upsampling = FALSE;
  jpeg_calc_output_dimensions (cinfo);
  width = cinfo->output_width;
  height = cinfo->output_height;
  start_accumulator (d, width, height, max_edge);
  d->row = g_malloc ((gsize) width * cinfo->out_color_components);

  jpeg_start_decompress (cinfo);
  while (cinfo->output_scanline < height)
    {
      JSAMPROW rows[1] = { d->row };
      guint y = cinfo->output_scanline;

      if (jpeg_read_scanlines (cinfo, rows, 1) != 1)
        break;
      accumulate_row (d, d->row, y, width, height,
                      !cmyk ? LAYOUT_RGB : inverted ? LAYOUT_CMYK_INVERTED : LAYOUT_CMYK);
    }
  /* a truncated file has given what it has (libjpeg fills the rest); no need to read on */
  jpeg_abort_decompress (cinfo);

  return finish_pixels (d, orientation);
}

static void
png_read_memory (png_structp png,
                 png_bytep   out,
                 png_size_t  n)
{
  PngSource *src = png_get_io_ptr (png);

  if (n > src->len - src->pos)
    png_error (png, "the file ends early");
  memcpy (out, src->data + src->pos, n);
  src->pos += n;
}

static void
png_on_error (png_structp     png,
              png_const_charp message)
{
  Decode *d = png_get_error_ptr (png);

  g_strlcpy (d->err.message, message, sizeof d->err.message);
  png_longjmp (png, 1);
}

/* "iCCP: known incorrect sRGB profile" and the like: the picture is still shown */
static void
png_on_warning (png_structp     png,
                png_const_charp message)
{
}

/*
 * Every PNG is read as 8-bit RGBA (palettes, grey, 16 bits and transparency expanded by
 * libpng) and shown over white. A plain PNG is read a row at a time into the accumulator; an
 * interlaced one (its seven passes each fill some pixels of every row) needs the whole
 * picture, so it is refused over PNG_MAX_INTERLACED_PIXELS. A file that breaks off gives
 * the rows it had, as a truncated JPEG does.
 */
static GVariant *
decode_png (Decode        *d,
            const guint8  *data,
            gsize          len,
            guint          max_edge,
            guint          orientation,
            guint         *out_failure,
            char         **out_message)
{
  png_uint_32 width, height;
  int depth, color, interlace;
  guint64 pixels;

  d->png = png_create_read_struct (PNG_LIBPNG_VER_STRING, d, png_on_error, png_on_warning);
  if (d->png == NULL || (d->png_info = png_create_info_struct (d->png)) == NULL)
    {
      *out_failure = SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup ("the PNG decoder could not start");
      return NULL;
    }
  if (setjmp (png_jmpbuf (d->png)) != 0)
    {
      if (d->rows_done > 0 && d->sums != NULL)
        return finish_pixels (d, orientation);
      *out_failure = SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup_printf ("the PNG data cannot be decoded: %s", d->err.message);
      return NULL;
    }

  d->png_source.data = data;
  d->png_source.len = len;
  png_set_read_fn (d->png, &d->png_source, png_read_memory);
  png_set_chunk_malloc_max (d->png, PNG_MAX_CHUNK_MEMORY);
  png_read_info (d->png, d->png_info);
  png_get_IHDR (d->png, d->png_info, &width, &height, &depth, &color, &interlace, NULL, NULL);

  /* a bomb is refused from its header, before a single row is inflated */
  pixels = (guint64) width * height;
  if (pixels == 0 || pixels > SLUICE_PROBE_THUMB_MAX_SOURCE_PIXELS ||
      (interlace != PNG_INTERLACE_NONE && pixels > PNG_MAX_INTERLACED_PIXELS))
    {
      *out_failure = SLUICE_PROBE_THUMB_TOO_LARGE;
      *out_message = g_strdup_printf ("a%s PNG of %u × %u pixels is too large to decode",
                                      interlace != PNG_INTERLACE_NONE ? "n interlaced" : "",
                                      (guint) width, (guint) height);
      return NULL;
    }

  png_set_expand (d->png);
  png_set_scale_16 (d->png);
  png_set_gray_to_rgb (d->png);
  if ((color & PNG_COLOR_MASK_ALPHA) == 0 && !png_get_valid (d->png, d->png_info, PNG_INFO_tRNS))
    png_set_add_alpha (d->png, 0xff, PNG_FILLER_AFTER);
  if (interlace != PNG_INTERLACE_NONE)
    png_set_interlace_handling (d->png);
  png_read_update_info (d->png, d->png_info);
  if (png_get_rowbytes (d->png, d->png_info) != (gsize) width * 4)
    png_error (d->png, "unexpected row layout");

  start_accumulator (d, width, height, max_edge);
  if (interlace != PNG_INTERLACE_NONE)
    {
      d->image = g_malloc ((gsize) width * 4 * height);
      d->image_rows = g_new (png_bytep, height);
      for (png_uint_32 y = 0; y < height; y++)
        d->image_rows[y] = d->image + (gsize) y * width * 4;
      png_read_image (d->png, d->image_rows);
      for (png_uint_32 y = 0; y < height; y++)
        accumulate_row (d, d->image_rows[y], y, width, height, LAYOUT_RGBA);
    }
  else
    {
      d->row = g_malloc ((gsize) width * 4);
      for (png_uint_32 y = 0; y < height; y++)
        {
          png_read_row (d->png, d->row, NULL);
          accumulate_row (d, d->row, y, width, height, LAYOUT_RGBA);
          d->rows_done++;
        }
    }
  /* what follows the pixels (text, time) is not needed */
  return finish_pixels (d, orientation);
}

static const char *
webp_status_text (VP8StatusCode status)
{
  switch (status)
    {
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
      return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "the bitstream is damaged";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "a feature the decoder does not know";
    case VP8_STATUS_SUSPENDED:
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "the file ends early";
    case VP8_STATUS_USER_ABORT:
    case VP8_STATUS_OK:
    default:
      return "unknown error";
    }
}

/* An animation's first frame, composed on its canvas (a frame can cover a part of it) by
 * libwebpdemux's decoder, without threads. */
static GVariant *
decode_webp_animation (Decode        *d,
                       const guint8  *data,
                       gsize          len,
                       guint          max_edge,
                       guint          orientation,
                       guint         *out_failure,
                       char         **out_message)
{
  WebPAnimDecoderOptions options;
  WebPData whole = { data, len };
  WebPAnimInfo info;
  guint8 *canvas = NULL;
  int timestamp = 0;

  if (!WebPAnimDecoderOptionsInit (&options))
    {
      *out_failure = SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup ("the WebP decoder could not start");
      return NULL;
    }
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  d->webp_anim = WebPAnimDecoderNew (&whole, &options);
  if (d->webp_anim == NULL || !WebPAnimDecoderGetInfo (d->webp_anim, &info) ||
      !WebPAnimDecoderGetNext (d->webp_anim, &canvas, &timestamp) || canvas == NULL)
    {
      *out_failure = SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup ("the WebP data cannot be decoded: the animation's first frame "
                               "is damaged");
      return NULL;
    }
  return scale_picture (d, canvas, info.canvas_width, info.canvas_height,
                        (gsize) info.canvas_width * 4, LAYOUT_RGBA, max_edge, orientation);
}

/*
 * libwebp scales while it decodes (an area average, like the accumulator's), straight to the
 * thumbnail's size, as 8-bit RGBA shown over white. The incremental decoder is given the whole
 * file so that one that breaks off still gives the rows it had. An animation shows its first
 * frame.
 */
static GVariant *
decode_webp (Decode        *d,
             const guint8  *data,
             gsize          len,
             guint          max_edge,
             guint          orientation,
             guint         *out_failure,
             char         **out_message)
{
  WebPDecoderConfig *config = &d->webp;
  WebPBitstreamFeatures *in = &config->input;
  VP8StatusCode status;
  const guint8 *rgba;
  int last_y = 0, width = 0, height = 0, stride = 0;
  guint64 pixels;

  if (!WebPInitDecoderConfig (config))
    {
      *out_failure = SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup ("the WebP decoder could not start");
      return NULL;
    }
  d->webp_inited = TRUE;
  status = WebPGetFeatures (data, len, in);
  if (status != VP8_STATUS_OK)
    {
      *out_failure = SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup_printf ("the WebP data cannot be decoded: %s",
                                      webp_status_text (status));
      return NULL;
    }

  /* a bomb is refused from its header (an animation's canvas), before a single row is
   * decoded */
  pixels = (guint64) in->width * in->height;
  if (pixels == 0 || pixels > SLUICE_PROBE_THUMB_MAX_SOURCE_PIXELS ||
      (in->has_animation && pixels > WEBP_MAX_ANIMATED_PIXELS) ||
      (in->format != 1 && pixels > WEBP_MAX_LOSSLESS_PIXELS))
    {
      *out_failure = SLUICE_PROBE_THUMB_TOO_LARGE;
      *out_message = g_strdup_printf ("a%s WebP of %d × %d pixels is too large to decode",
                                      in->has_animation ? "n animated"
                                      : in->format != 1 ? " lossless" : "",
                                      in->width, in->height);
      return NULL;
    }
  if (in->has_animation)
    return decode_webp_animation (d, data, len, max_edge, orientation, out_failure,
                                  out_message);

  start_accumulator (d, in->width, in->height, max_edge);
  config->options.use_scaling = d->tw != (guint) in->width || d->th != (guint) in->height;
  config->options.scaled_width = d->tw;
  config->options.scaled_height = d->th;
  config->options.use_threads = 0;
  config->output.colorspace = MODE_RGBA;
  d->webp_dec = WebPIDecode (NULL, 0, config);
  if (d->webp_dec == NULL)
    {
      *out_failure = SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup ("the WebP decoder could not start");
      return NULL;
    }
  status = WebPIUpdate (d->webp_dec, data, len);
  rgba = WebPIDecGetRGB (d->webp_dec, &last_y, &width, &height, &stride);
  if ((status != VP8_STATUS_OK && status != VP8_STATUS_SUSPENDED) || rgba == NULL ||
      last_y <= 0 || (guint) width != d->tw || (guint) height != d->th)
    {
      *out_failure = status == VP8_STATUS_OUT_OF_MEMORY ? SLUICE_PROBE_THUMB_TOO_LARGE
                                                         : SLUICE_PROBE_THUMB_DAMAGED;
      *out_message = g_strdup_printf ("the WebP data cannot be decoded: %s",
                                      webp_status_text (status == VP8_STATUS_OK
                                                        ? VP8_STATUS_BITSTREAM_ERROR : status));
      return NULL;
    }
  for (int y = 0; y < MIN (last_y, height); y++)
    accumulate_row (d, rgba + (gsize) y * stride, y, width, height, LAYOUT_RGBA);
  return finish_pixels (d, orientation);
}

/* A HEIF's picture from the module, scaled; upright already (HEIF's own irot and imir). */
static GVariant *
decode_heif (Decode        *d,
             const guint8  *data,
             gsize          len,
             guint          max_edge,
             guint         *out_failure,
             char         **out_message)
{
  SluiceProbeHeifPicture *pic;

  d->heif = pic = heif_module.decode (data, len, max_edge, out_failure, out_message);
  if (pic == NULL)
    return NULL;
  return scale_picture (d, pic->rows, pic->width, pic->height, pic->stride,
                        pic->alpha ? LAYOUT_RGBA : LAYOUT_RGB, max_edge, 1);
}

static void
tiff_start (gpointer user_data,
            guint    width,
            guint    height)
{
  Decode *d = user_data;

  start_accumulator (d, width, height, d->max_edge);
  d->src_width = width;
  d->src_height = height;
}

static void
tiff_row (gpointer      user_data,
          const guint8 *rgb,
          guint         y)
{
  Decode *d = user_data;

  accumulate_row (d, rgb, y, d->src_width, d->src_height, LAYOUT_RGB);
  d->rows_done++;
}

/* A TIFF's first picture from the module, a band of rows at a time; a cut file gives the rows
 * it had. */
static GVariant *
decode_tiff (Decode        *d,
             const guint8  *data,
             gsize          len,
             guint          max_edge,
             guint          orientation,
             guint         *out_failure,
             char         **out_message)
{
  d->max_edge = max_edge;
  if (!tiff_decode (data, len, SLUICE_PROBE_THUMB_MAX_SOURCE_PIXELS, tiff_start, tiff_row, d,
                    out_failure, out_message) &&
      d->rows_done == 0)
    return NULL;
  g_clear_pointer (out_message, g_free);
  return finish_pixels (d, orientation);
}

GVariant *
sluice_probe_thumbnail_make (const guint8  *data,
                             gsize          len,
                             guint          max_edge,
                             guint          orientation,
                             guint         *out_failure,
                             char         **out_message)
{
  Decode *d;
  GVariant *result;

  g_return_val_if_fail (out_failure != NULL && out_message != NULL, NULL);

  max_edge = CLAMP (max_edge, SLUICE_PROBE_THUMB_MIN_EDGE, SLUICE_PROBE_THUMB_MAX_EDGE);

  /* a raw file (or a TIFF) by the JPEG it carries: decoded as that JPEG, which is stored as
   * the sensor saw it, like the raw data, so the file's orientation applies */
  if (sluice_probe_preview_is_container (data, len))
    {
      SluiceProbePreview preview;
      gboolean found = sluice_probe_preview_find (data, len, max_edge, &preview);

      /* a TIFF's own first picture unless a preview covers the edge (a scan's 160 px EXIF
       * thumbnail would be a blurred one); a raw's sensor data is refused there, and then
       * whatever preview there is will do */
      if ((!found || MAX (preview.width, preview.height) < max_edge) && tiff_decode != NULL &&
          sluice_probe_preview_is_tiff (data, len))
        {
          d = g_new0 (Decode, 1);
          result = decode_tiff (d, data, len, max_edge, orientation, out_failure, out_message);
          decode_clear (d);
          g_free (d);
          if (result != NULL || !found)
            return result;
          g_clear_pointer (out_message, g_free);
        }
      if (!found)
        {
          *out_failure = SLUICE_PROBE_THUMB_UNSUPPORTED;
          *out_message = g_strdup ("this TIFF or raw file holds no JPEG preview (its own "
                                   "pictures are not decoded)");
          return NULL;
        }
      data += preview.offset;
      len = preview.len;
    }

  if (!is_jpeg (data, len) && !is_png (data, len) && !is_webp (data, len) &&
      !is_heif (data, len))
    {
      *out_failure = SLUICE_PROBE_THUMB_UNSUPPORTED;
      *out_message = g_strdup (heif_module.decode != NULL
                               ? "cannot make a thumbnail of this file type (only JPEG, PNG, "
                                 "WebP and HEIF are decoded)"
                               : "cannot make a thumbnail of this file type (only JPEG, PNG "
                                 "and WebP are decoded)");
      return NULL;
    }

  /* on the heap, zeroed: nothing the error path frees is a local the jump could stale */
  d = g_new0 (Decode, 1);
  if (is_jpeg (data, len))
    result = decode_jpeg (d, data, len, max_edge, orientation, out_failure, out_message);
  else if (is_png (data, len))
    result = decode_png (d, data, len, max_edge, orientation, out_failure, out_message);
  else if (is_webp (data, len))
    result = decode_webp (d, data, len, max_edge, orientation, out_failure, out_message);
  else
    result = decode_heif (d, data, len, max_edge, out_failure, out_message);
  decode_clear (d);
  g_free (d);
  return result;
}

/* A valid 24 × 16 grey baseline JPEG. */
static const guint8 sample_jpeg[] = {
  0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x10, 0x0b, 0x0c, 0x0e, 0x0c, 0x0a, 0x10,
  0x0e, 0x0d, 0x0e, 0x12, 0x11, 0x10, 0x13, 0x18, 0x28, 0x1a, 0x18, 0x16, 0x16, 0x18,
  0x31, 0x23, 0x25, 0x1d, 0x28, 0x3a, 0x33, 0x3d, 0x3c, 0x39, 0x33, 0x38, 0x37, 0x40,
  0x48, 0x5c, 0x4e, 0x40, 0x44, 0x57, 0x45, 0x37, 0x38, 0x50, 0x6d, 0x51, 0x57, 0x5f,
  0x62, 0x67, 0x68, 0x67, 0x3e, 0x4d, 0x71, 0x79, 0x70, 0x64, 0x78, 0x5c, 0x65, 0x67,
  0x63, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x18, 0x01, 0x01, 0x11, 0x00,
  0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0xc4, 0x00, 0x14, 0x10,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x90,
  0x00, 0xff, 0xd9,
};

/* A valid 8 × 4 RGBA PNG, half transparent red. */
static const guint8 sample_png[] = {
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
  0x44, 0x52, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x04, 0x08, 0x06, 0x00, 0x00,
  0x00, 0xb3, 0xcd, 0x7e, 0xf0, 0x00, 0x00, 0x00, 0x12, 0x49, 0x44, 0x41, 0x54, 0x78,
  0xda, 0x63, 0x38, 0xa1, 0xa1, 0xd1, 0x80, 0x0f, 0x33, 0xd0, 0x5e, 0x01, 0x00, 0x34,
  0xc7, 0x33, 0x01, 0x5f, 0x3b, 0xf9, 0x09, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
  0x44, 0xae, 0x42, 0x60, 0x82,
};

/* A valid 8 × 4 lossy WebP with a lossless alpha channel, half transparent red. */
static const guint8 sample_webp[] = {
  0x52, 0x49, 0x46, 0x46, 0x60, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50,
  0x38, 0x58, 0x0a, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x03,
  0x00, 0x00, 0x41, 0x4c, 0x50, 0x48, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x07, 0x50, 0xc0,
  0x88, 0x08, 0x44, 0x44, 0xff, 0x03, 0x56, 0x50, 0x38, 0x20, 0x30, 0x00, 0x00, 0x00,
  0xd0, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x34, 0x25,
  0xa0, 0x02, 0x74, 0xba, 0x01, 0xf8, 0x00, 0x03, 0xb0, 0x00, 0xfe, 0xf0, 0xc4, 0x0b,
  0xff, 0x20, 0xb9, 0x61, 0x75, 0xc8, 0xd7, 0xff, 0x20, 0x3f, 0xe4, 0x07, 0xfc, 0x80,
  0xff, 0xf8, 0xf2, 0x00, 0x00, 0x00,
};

#if HAVE_HEIF
/* A valid 8 × 4 HEIC (x265) turned by irot, with an alpha item: half transparent red. */
static const guint8 sample_heif[] = {
  0x00, 0x00, 0x00, 0x1c, 0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x63, 0x00, 0x00,
  0x00, 0x00, 0x6d, 0x69, 0x66, 0x31, 0x68, 0x65, 0x69, 0x63, 0x6d, 0x69, 0x61, 0x66,
  0x00, 0x00, 0x02, 0xa8, 0x6d, 0x65, 0x74, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x21, 0x68, 0x64, 0x6c, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x70, 0x69, 0x63, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x70, 0x69, 0x74, 0x6d, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x34, 0x69, 0x6c, 0x6f, 0x63, 0x00, 0x00, 0x00,
  0x00, 0x44, 0x40, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0xcc, 0x00,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x34, 0x00, 0x02, 0x00, 0x00, 0x00,
  0x00, 0x03, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x00,
  0x00, 0x00, 0x38, 0x69, 0x69, 0x6e, 0x66, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
  0x00, 0x00, 0x15, 0x69, 0x6e, 0x66, 0x65, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
  0x00, 0x68, 0x76, 0x63, 0x31, 0x00, 0x00, 0x00, 0x00, 0x15, 0x69, 0x6e, 0x66, 0x65,
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x68, 0x76, 0x63, 0x31, 0x00, 0x00,
  0x00, 0x01, 0xe7, 0x69, 0x70, 0x72, 0x70, 0x00, 0x00, 0x01, 0xbe, 0x69, 0x70, 0x63,
  0x6f, 0x00, 0x00, 0x00, 0x76, 0x68, 0x76, 0x63, 0x43, 0x01, 0x03, 0x70, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8,
  0x00, 0x00, 0x0f, 0x03, 0x20, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01, 0xff,
  0xff, 0x03, 0x70, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
  0x00, 0x1e, 0xba, 0x02, 0x40, 0x21, 0x00, 0x01, 0x00, 0x2a, 0x42, 0x01, 0x01, 0x03,
  0x70, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e,
  0xa0, 0x20, 0x81, 0x05, 0x96, 0xea, 0xae, 0x9a, 0xe6, 0xe0, 0x40, 0x40, 0xc0, 0x80,
  0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x03, 0x00, 0x84, 0x22, 0x00, 0x01, 0x00,
  0x06, 0x44, 0x01, 0xc1, 0x73, 0xc1, 0x89, 0x00, 0x00, 0x00, 0x28, 0x63, 0x6c, 0x61,
  0x70, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00,
  0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xc8, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff, 0xff,
  0xc4, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x69, 0x72, 0x6f, 0x74, 0x03,
  0x00, 0x00, 0x00, 0x14, 0x69, 0x73, 0x70, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x10, 0x70, 0x69, 0x78, 0x69,
  0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x08, 0x08, 0x00, 0x00, 0x00, 0x71, 0x68, 0x76,
  0x63, 0x43, 0x01, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x1e, 0xf0, 0x00, 0xfc, 0xfc, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0x20, 0x00, 0x01,
  0x00, 0x17, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x04, 0x08, 0x00, 0x00, 0x03, 0x00,
  0x9f, 0xf8, 0x00, 0x00, 0x03, 0x00, 0x00, 0x1e, 0xba, 0x02, 0x40, 0x21, 0x00, 0x01,
  0x00, 0x26, 0x42, 0x01, 0x01, 0x04, 0x08, 0x00, 0x00, 0x03, 0x00, 0x9f, 0xf8, 0x00,
  0x00, 0x03, 0x00, 0x00, 0x1e, 0xc0, 0x82, 0x04, 0x16, 0x5b, 0xaa, 0xba, 0x6b, 0x9b,
  0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x10, 0x22, 0x00,
  0x01, 0x00, 0x06, 0x44, 0x01, 0xc1, 0x73, 0xc1, 0x89, 0x00, 0x00, 0x00, 0x28, 0x63,
  0x6c, 0x61, 0x70, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
  0x04, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xc8, 0x00, 0x00, 0x00, 0x02, 0xff,
  0xff, 0xff, 0xc4, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x69, 0x72, 0x6f,
  0x74, 0x03, 0x00, 0x00, 0x00, 0x14, 0x69, 0x73, 0x70, 0x65, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x0e, 0x70, 0x69,
  0x78, 0x69, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x27, 0x61, 0x75,
  0x78, 0x43, 0x00, 0x00, 0x00, 0x00, 0x75, 0x72, 0x6e, 0x3a, 0x6d, 0x70, 0x65, 0x67,
  0x3a, 0x68, 0x65, 0x76, 0x63, 0x3a, 0x32, 0x30, 0x31, 0x35, 0x3a, 0x61, 0x75, 0x78,
  0x69, 0x64, 0x3a, 0x31, 0x00, 0x00, 0x00, 0x00, 0x21, 0x69, 0x70, 0x6d, 0x61, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x05, 0x81, 0x82, 0x03, 0x04,
  0x85, 0x00, 0x02, 0x06, 0x86, 0x87, 0x08, 0x09, 0x8a, 0x8b, 0x00, 0x00, 0x00, 0x1a,
  0x69, 0x72, 0x65, 0x66, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x61, 0x75,
  0x78, 0x6c, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x59, 0x6d, 0x64,
  0x61, 0x74, 0x00, 0x00, 0x00, 0x30, 0x28, 0x01, 0xaf, 0x13, 0x21, 0x66, 0x63, 0x40,
  0xf8, 0x10, 0xf7, 0x67, 0xff, 0xeb, 0xbc, 0x15, 0xff, 0x95, 0x6b, 0x3f, 0xf3, 0x37,
  0xb1, 0xe9, 0xce, 0xc8, 0x47, 0x40, 0xc0, 0xd2, 0x20, 0x80, 0x9b, 0x40, 0x48, 0x93,
  0x5d, 0x50, 0x0b, 0x16, 0x10, 0x80, 0x87, 0x76, 0xa5, 0x56, 0xdc, 0xf8, 0x00, 0x00,
  0x00, 0x19, 0x28, 0x01, 0xae, 0x26, 0x47, 0x23, 0x80, 0xef, 0x36, 0x7d, 0xe2, 0x28,
  0x73, 0x1b, 0xeb, 0x37, 0x80, 0x62, 0x30, 0xda, 0x4d, 0x63, 0xc7, 0x40, 0xec,
};

#endif

#if HAVE_TIFF
/* A valid 8 × 4 red TIFF, Deflate-compressed, in two strips. */
static const guint8 sample_tiff[] = {
  0x49, 0x49, 0x2a, 0x00, 0x24, 0x00, 0x00, 0x00, 0x78, 0x9c, 0xfb, 0xcf, 0xc0, 0xf0,
  0x9f, 0x14, 0x04, 0x00, 0x96, 0xa7, 0x0f, 0xf1, 0x78, 0x9c, 0xfb, 0xcf, 0xc0, 0xf0,
  0x9f, 0x14, 0x04, 0x00, 0x96, 0xa7, 0x0f, 0xf1, 0x0a, 0x00, 0x00, 0x01, 0x03, 0x00,
  0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x01, 0x03, 0x00, 0x01, 0x00,
  0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x01, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00,
  0xa2, 0x00, 0x00, 0x00, 0x03, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00,
  0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
  0x11, 0x01, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, 0xa8, 0x00, 0x00, 0x00, 0x15, 0x01,
  0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x16, 0x01, 0x03, 0x00,
  0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x17, 0x01, 0x03, 0x00, 0x02, 0x00,
  0x00, 0x00, 0x0e, 0x00, 0x0e, 0x00, 0x1c, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00, 0x08, 0x00,
  0x08, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00,
};
#endif

/* A whole decode of @sample (turned by @orientation), then the error path: its first @cut
 * bytes. */
static void
warm_up_with (const guint8 *sample,
              gsize         len,
              guint         orientation,
              gsize         cut)
{
  for (guint pass = 0; pass < 2; pass++)
    {
      g_autoptr(GVariant) pixels = NULL;
      g_autofree char *message = NULL;
      guint failure = 0;

      pixels = sluice_probe_thumbnail_make (sample, pass == 0 ? len : cut, 16,
                                            pass == 0 ? orientation : 1, &failure, &message);
      if (pixels != NULL)
        g_variant_ref_sink (pixels);
      else if (pass == 0)
        g_printerr ("sluice-probe: thumbnail warm-up failed: %s\n", message);
    }
}

void
sluice_probe_thumbnail_warm_up (void)
{
  warm_up_with (sample_jpeg, sizeof sample_jpeg, 6, 40);
  warm_up_with (sample_png, sizeof sample_png, 1, 50);   /* libpng and zlib */
  warm_up_with (sample_webp, sizeof sample_webp, 1, 60);  /* both of libwebp's decoders */
}

/* The module next to this executable (a build tree), or where it was installed: under the
 * same root as this executable (ROOT + LIBEXECDIR, ROOT being DESTDIR or ""). */
static void *
open_decoders_module (GString *tried)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *here = self != NULL ? g_path_get_dirname (self) : NULL;
  g_autofree char *installed = NULL;
  const char *dirs[2];

  if (here != NULL && g_str_has_suffix (here, LIBEXECDIR))
    {
      g_autofree char *root = g_strndup (here, strlen (here) - strlen (LIBEXECDIR));

      installed = g_strconcat (root, PROBE_MODULEDIR, NULL);
    }
  dirs[0] = here;
  dirs[1] = installed != NULL ? installed : PROBE_MODULEDIR;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = NULL;
      void *module;

      if (dirs[i] == NULL)
        continue;
      path = g_build_filename (dirs[i], SLUICE_PROBE_DECODERS_MODULE, NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_string_append_printf (tried, "%s%s: not there", tried->len > 0 ? "; " : "", path);
          continue;
        }
      module = dlopen (path, RTLD_NOW | RTLD_LOCAL);
      if (module != NULL)
        return module;
      g_string_append_printf (tried, "%s%s", tried->len > 0 ? "; " : "", dlerror ());
    }
  return NULL;
}

#if HAVE_HEIF
/* The HEIF family of @module, set up and tried on the built-in sample. */
static gboolean
load_heif (void       *module,
           GString    *problems)
{
  SluiceProbeHeifInitFunc init;

  init = (SluiceProbeHeifInitFunc) dlsym (module, "sluice_probe_heif_init");

  heif_module.is_heif = (SluiceProbeHeifIsHeifFunc) dlsym (module, "sluice_probe_heif_is_heif");
  heif_module.free = (SluiceProbeHeifFreeFunc) dlsym (module, "sluice_probe_heif_free");
  if (init == NULL || heif_module.is_heif == NULL || heif_module.free == NULL ||
      dlsym (module, "sluice_probe_heif_decode") == NULL)
    {
      g_string_append_printf (problems, "%sno HEIF decoder in %s", problems->len > 0 ? "; " : "",
                              SLUICE_PROBE_DECODERS_MODULE);
      return FALSE;
    }
  if (!init ())
    {
      g_string_append_printf (problems, "%slibheif would not start",
                              problems->len > 0 ? "; " : "");
      return FALSE;
    }
  heif_module.decode = (SluiceProbeHeifDecodeFunc) dlsym (module, "sluice_probe_heif_decode");
  /* libheif looked for its plugin folder in init; the colour conversion sets up its tables
   * and libstdc++ its first allocations here */
  warm_up_with (sample_heif, sizeof sample_heif, 1, 400);
  return TRUE;
}
#endif

gboolean
sluice_probe_thumbnail_load_decoders (char **out_problems)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  void *module;

  module = open_decoders_module (problems);
  if (module == NULL)
    {
      *out_problems = g_string_free (g_steal_pointer (&problems), FALSE);
      return FALSE;
    }
#if HAVE_HEIF
  load_heif (module, problems);
#endif
#if HAVE_TIFF
  tiff_decode = (SluiceProbeTiffDecodeFunc) dlsym (module, "sluice_probe_tiff_decode");
  if (tiff_decode == NULL)
    g_string_append_printf (problems, "%sno TIFF decoder in %s", problems->len > 0 ? "; " : "",
                            SLUICE_PROBE_DECODERS_MODULE);
  else
    /* libtiff's first use: its codec table and the JPEG-in-TIFF path */
    warm_up_with (sample_tiff, sizeof sample_tiff, 1, 100);
#endif
  if (problems->len > 0)
    {
      *out_problems = g_string_free (g_steal_pointer (&problems), FALSE);
      return FALSE;
    }
  return TRUE;
}
