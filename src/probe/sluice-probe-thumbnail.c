/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-thumbnail"

#include "config.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

#include "sluice-probe-protocol.h"
#include "sluice-probe-thumbnail.h"

/*
 * Thumbnails decoded from the file itself, for files without an embedded EXIF thumbnail.
 * Runs in the sandboxed helper only: the app never runs an image decoder on a source file.
 *
 * libjpeg reports a fatal error by calling error_exit(), whose default prints and calls
 * exit(); here it formats the message and longjmp()s back. Everything that must be freed
 * after such a jump lives in a Decode struct that is not touched between setjmp() and the
 * jump in a way the compiler could keep in a register.
 */

/* libjpeg's own allocations (a progressive JPEG keeps every coefficient) stop here; the
 * helper's address space limit is the backstop. jmemnobs has no backing store, so going over
 * is an error, not a temporary file. */
#define JPEG_MAX_MEMORY  (G_GUINT64_CONSTANT (512) << 20)

typedef struct {
  struct jpeg_error_mgr  pub;
  jmp_buf                jump;
  char                   message[JMSG_LENGTH_MAX];
} ErrorManager;

typedef struct {
  struct jpeg_decompress_struct  cinfo;
  ErrorManager                   err;
  gboolean                       created;
  guint8                        *row;       /* one decoded scanline */
  guint32                       *sums;      /* tw × th × 3 */
  guint32                       *counts;    /* tw × th */
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

static void
accumulate_row (Decode       *d,
                const guint8 *row,
                guint         y,
                guint         width,
                guint         height,
                gboolean      cmyk,
                gboolean      inverted)
{
  guint ty = (guint) ((guint64) y * d->th / height);
  guint32 *sums = d->sums + (gsize) ty * d->tw * 3;
  guint32 *counts = d->counts + (gsize) ty * d->tw;

  for (guint x = 0; x < width; x++)
    {
      guint tx = (guint) ((guint64) x * d->tw / width);
      guint r, g, b;

      if (cmyk)
        {
          /* Adobe writes CMYK inverted; the naive conversion is enough for a thumbnail */
          guint c = row[x * 4], m = row[x * 4 + 1], yy = row[x * 4 + 2], k = row[x * 4 + 3];

          if (!inverted)
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
  d->row = g_malloc ((gsize) width * cinfo->out_color_components);
  d->sums = g_new0 (guint32, (gsize) d->tw * d->th * 3);
  d->counts = g_new0 (guint32, (gsize) d->tw * d->th);

  jpeg_start_decompress (cinfo);
  while (cinfo->output_scanline < height)
    {
      JSAMPROW rows[1] = { d->row };
      guint y = cinfo->output_scanline;

      if (jpeg_read_scanlines (cinfo, rows, 1) != 1)
        break;
      accumulate_row (d, d->row, y, width, height, cmyk, inverted);
    }
  /* a truncated file has given what it has (libjpeg fills the rest); no need to read on */
  jpeg_abort_decompress (cinfo);

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
  if (!is_jpeg (data, len))
    {
      *out_failure = SLUICE_PROBE_THUMB_UNSUPPORTED;
      *out_message = g_strdup ("cannot make a thumbnail of this file type (only JPEG is "
                               "decoded)");
      return NULL;
    }

  /* on the heap, zeroed: nothing the error path frees is a local the jump could stale */
  d = g_new0 (Decode, 1);
  result = decode_jpeg (d, data, len, max_edge, orientation, out_failure, out_message);
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

void
sluice_probe_thumbnail_warm_up (void)
{
  g_autoptr(GVariant) pixels = NULL;
  g_autofree char *message = NULL;
  guint failure = 0;

  /* a whole decode with a turn, then the error path (a truncated copy) */
  pixels = sluice_probe_thumbnail_make (sample_jpeg, sizeof sample_jpeg, 16, 6, &failure,
                                        &message);
  if (pixels == NULL)
    g_printerr ("sluice-probe: thumbnail warm-up failed: %s\n", message);
  else
    g_variant_ref_sink (pixels);
  g_clear_pointer (&pixels, g_variant_unref);
  g_clear_pointer (&message, g_free);
  pixels = sluice_probe_thumbnail_make (sample_jpeg, 40, 16, 1, &failure, &message);
  if (pixels != NULL)
    g_variant_ref_sink (pixels);
}
