/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-tiff"

#include "config.h"

#include <string.h>

#include <tiffio.h>

#include "sluice-probe-decoders.h"
#include "sluice-probe-protocol.h"

/*
 * The module's TIFF side (sluice-probe-decoders.h): libtiff reads the helper's memory through
 * client procedures (never a file), and its RGBA interface hands over a band of rows at a
 * time whatever the file's layout, compression, bit depth or colour model. A band is one row
 * of tiles or one strip (libtiff decodes those whole anyway; it chops a big uncompressed
 * strip into small ones itself), so nothing is decoded twice; it is the only picture-sized
 * memory, and libtiff's own allocations are capped.
 */

#define EXPORT __attribute__ ((visibility ("default")))

/* one allocation of libtiff's (a compressed strip it must decode whole, a tile), and the band */
#define TIFF_MAX_ALLOC     ((tmsize_t) 256 << 20)

typedef struct {
  const guint8 *data;
  gsize         len;
  gsize         pos;
  char          error[256];
} Source;

EXPORT gboolean sluice_probe_tiff_decode (const guint8             *data,
                                          gsize                     len,
                                          guint64                   max_pixels,
                                          SluiceProbeTiffStartFunc  start,
                                          SluiceProbeTiffRowFunc    row,
                                          gpointer                  user_data,
                                          guint                    *out_failure,
                                          char                    **out_message);

static tmsize_t
source_read (thandle_t handle,
             void     *buf,
             tmsize_t  size)
{
  Source *s = handle;
  gsize n;

  if (size <= 0 || s->pos >= s->len)
    return 0;
  n = MIN ((gsize) size, s->len - s->pos);
  memcpy (buf, s->data + s->pos, n);
  s->pos += n;
  return (tmsize_t) n;
}

static tmsize_t
source_write (thandle_t handle,
              void     *buf,
              tmsize_t  size)
{
  return -1;
}

static toff_t
source_seek (thandle_t handle,
             toff_t    offset,
             int       whence)
{
  Source *s = handle;
  guint64 base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? s->len : 0;

  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
    return (toff_t) -1;
  /* toff_t is unsigned: a negative offset from CUR or END wraps, as libtiff intends */
  s->pos = (gsize) (base + offset);
  return (toff_t) s->pos;
}

static int
source_close (thandle_t handle)
{
  return 0;
}

static toff_t
source_size (thandle_t handle)
{
  return ((Source *) handle)->len;
}

static int
source_map (thandle_t handle,
            void    **base,
            toff_t   *size)
{
  return 0;
}

static void
source_unmap (thandle_t handle,
              void     *base,
              toff_t    size)
{
}

/* libtiff's errors: the first one is kept for the message; warnings are dropped (a damaged
 * file still gives what could be read, and the helper's stderr is for its own messages) */
static int
on_error (TIFF       *tif,
          void       *user_data,
          const char *module,
          const char *fmt,
          va_list     ap)
{
  Source *s = user_data;

  if (s->error[0] == '\0')
    g_vsnprintf (s->error, sizeof s->error, fmt, ap);
  return 1;
}

static int
on_warning (TIFF       *tif,
            void       *user_data,
            const char *module,
            const char *fmt,
            va_list     ap)
{
  return 1;
}

static gboolean
fail (guint       *out_failure,
      char       **out_message,
      guint        failure,
      const char  *what,
      const char  *detail)
{
  *out_failure = failure;
  *out_message = g_strdup_printf ("%s%s%s", what, detail != NULL && *detail ? ": " : "",
                                  detail != NULL ? detail : "");
  return FALSE;
}

gboolean
sluice_probe_tiff_decode (const guint8             *data,
                          gsize                     len,
                          guint64                   max_pixels,
                          SluiceProbeTiffStartFunc  start,
                          SluiceProbeTiffRowFunc    row,
                          gpointer                  user_data,
                          guint                    *out_failure,
                          char                    **out_message)
{
  Source src = { data, len, 0, "" };
  TIFFOpenOptions *opts = TIFFOpenOptionsAlloc ();
  TIFFRGBAImage img;
  char emsg[1024] = "";
  g_autofree guint32 *band = NULL;
  g_autofree guint8 *rgb = NULL;
  guint32 width = 0, height = 0, band_rows = 0;
  guint16 orientation = ORIENTATION_TOPLEFT;
  gboolean ok = TRUE, begun = FALSE;
  TIFF *tif;

  TIFFOpenOptionsSetMaxSingleMemAlloc (opts, TIFF_MAX_ALLOC);
  TIFFOpenOptionsSetErrorHandlerExtR (opts, on_error, &src);
  TIFFOpenOptionsSetWarningHandlerExtR (opts, on_warning, &src);
  /* "m": no memory mapping of the client's "file" */
  tif = TIFFClientOpenExt ("picture", "rm", &src, source_read, source_write, source_seek,
                           source_close, source_size, source_map, source_unmap, opts);
  TIFFOpenOptionsFree (opts);
  if (tif == NULL)
    return fail (out_failure, out_message, SLUICE_PROBE_THUMB_DAMAGED,
                 "the TIFF data cannot be read", src.error);

  TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &height);
  if (width == 0 || height == 0)
    ok = fail (out_failure, out_message, SLUICE_PROBE_THUMB_DAMAGED,
               "the TIFF data cannot be read", "the picture has no size");
  else if ((guint64) width * height > max_pixels)
    {
      *out_failure = SLUICE_PROBE_THUMB_TOO_LARGE;
      *out_message = g_strdup_printf ("a TIFF of %u × %u pixels is too large to decode",
                                      width, height);
      ok = FALSE;
    }
  else if (!TIFFRGBAImageOK (tif, emsg) || !(begun = TIFFRGBAImageBegin (&img, tif, 0, emsg)))
    ok = fail (out_failure, out_message, SLUICE_PROBE_THUMB_UNSUPPORTED,
               "this kind of TIFF is not decoded", emsg);

  if (ok)
    {
      /* rows as stored: the file's orientation is applied by the caller, with EXIF's */
      TIFFGetFieldDefaulted (tif, TIFFTAG_ORIENTATION, &orientation);
      img.req_orientation = orientation;
      if (TIFFIsTiled (tif))
        TIFFGetField (tif, TIFFTAG_TILELENGTH, &band_rows);
      else
        TIFFGetFieldDefaulted (tif, TIFFTAG_ROWSPERSTRIP, &band_rows);
      band_rows = CLAMP (band_rows, 1, height);
      if ((guint64) width * band_rows * 4 > (guint64) TIFF_MAX_ALLOC)
        {
          *out_failure = SLUICE_PROBE_THUMB_TOO_LARGE;
          *out_message = g_strdup_printf ("a TIFF strip of %u × %u pixels is too large to decode",
                                          width, band_rows);
          ok = FALSE;
        }
    }
  if (ok)
    {
      band = g_new (guint32, (gsize) width * band_rows);
      rgb = g_malloc ((gsize) width * 3);
      start (user_data, width, height);
      for (guint32 y = 0; y < height && ok; y += band_rows)
        {
          guint32 rows = MIN (band_rows, height - y);

          img.row_offset = (int) y;
          img.col_offset = 0;
          if (!TIFFRGBAImageGet (&img, band, width, rows))
            {
              /* the rows before this band stand: a cut file shows its top */
              if (y == 0)
                ok = fail (out_failure, out_message, SLUICE_PROBE_THUMB_DAMAGED,
                           "the TIFF data cannot be decoded", src.error);
              break;
            }
          for (guint32 r = 0; r < rows; r++)
            {
              const guint32 *px = band + (gsize) r * width;

              for (guint32 x = 0; x < width; x++)
                {
                  /* premultiplied: over white is the colour plus what the alpha leaves */
                  guint a = TIFFGetA (px[x]);

                  rgb[x * 3] = MIN (255u, TIFFGetR (px[x]) + 255 - a);
                  rgb[x * 3 + 1] = MIN (255u, TIFFGetG (px[x]) + 255 - a);
                  rgb[x * 3 + 2] = MIN (255u, TIFFGetB (px[x]) + 255 - a);
                }
              row (user_data, rgb, y + r);
            }
        }
    }
  if (begun)
    TIFFRGBAImageEnd (&img);
  TIFFClose (tif);
  return ok;
}
