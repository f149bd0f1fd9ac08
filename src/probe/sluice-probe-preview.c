/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-preview"

#include "config.h"

#include <string.h>

#include "sluice-probe-preview.h"

#define MAX_IFDS         64
#define MAX_ENTRIES      1000
#define MAX_SUBIFDS      8
#define MIN_JPEG_LEN     128

#define TAG_COMPRESSION         0x0103
#define TAG_STRIP_OFFSETS       0x0111
#define TAG_STRIP_BYTE_COUNTS   0x0117
#define TAG_SUB_IFDS            0x014a
#define TAG_JPEG_FORMAT         0x0201
#define TAG_JPEG_TABLES         0x015b   /* strips that are not whole JPEGs without these */
#define TAG_JPEG_FORMAT_LENGTH  0x0202
#define TAG_JPG_FROM_RAW        0x002e   /* Panasonic RW2: the JPEG as the tag's value */
#define TAG_EXIF_IFD            0x8769
#define TAG_MAKER_NOTE          0x927c

/* Olympus' maker note (ORF) */
#define OLY_CAMERA_SETTINGS     0x2020   /* an IFD */
#define OLY_PREVIEW_VALID       0x0100   /* in CameraSettings */
#define OLY_PREVIEW_START       0x0101
#define OLY_PREVIEW_LENGTH      0x0102
#define OLY_OLD_PREVIEW_START   0x0088   /* in an older camera's maker note itself */
#define OLY_OLD_PREVIEW_LENGTH  0x0089

typedef struct {
  const guint8       *data;
  gsize               len;
  gboolean            le;
  guint               max_edge;
  gboolean            found;
  SluiceProbePreview  best;
  guint32             queue[MAX_IFDS];
  guint               n_queued;
  gboolean            maker_note_read;
} Walk;

static guint32
rd16 (const Walk *w,
      gsize       at)
{
  const guint8 *p = w->data + at;

  return w->le ? (guint32) (p[0] | p[1] << 8) : (guint32) (p[0] << 8 | p[1]);
}

static guint32
rd32 (const Walk *w,
      gsize       at)
{
  const guint8 *p = w->data + at;

  return w->le ? (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 |
                 (guint32) p[3] << 24
               : (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 |
                 (guint32) p[3];
}

/* The frame size of a JPEG that libjpeg decodes (SOF0, 1 or 2) within @len bytes at @data,
 * read from its markers up to the first scan; FALSE for lossless, arithmetic or hierarchical
 * frames, and for anything that is not a JPEG. */
static gboolean
jpeg_frame (const guint8 *data,
            gsize         len,
            guint        *width,
            guint        *height)
{
  gsize pos = 2;

  if (len < MIN_JPEG_LEN || data[0] != 0xff || data[1] != 0xd8 || data[2] != 0xff)
    return FALSE;
  while (pos + 4 <= len)
    {
      guint8 marker;
      gsize seg;

      if (data[pos] != 0xff)
        return FALSE;
      marker = data[pos + 1];
      if (marker == 0xff)
        {
          pos++;   /* fill byte */
          continue;
        }
      seg = (gsize) data[pos + 2] << 8 | data[pos + 3];
      if (seg < 2 || pos + 2 + seg > len)
        return FALSE;
      if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
          marker != 0xcc)
        {
          if (marker > 0xc2 || seg < 8)
            return FALSE;
          *height = (guint) data[pos + 5] << 8 | data[pos + 6];
          *width = (guint) data[pos + 7] << 8 | data[pos + 8];
          return *width > 0 && *height > 0;
        }
      if (marker == 0xda)
        return FALSE;   /* a scan before any frame */
      pos += 2 + seg;
    }
  return FALSE;
}

/* A JPEG at @offset, @len long, if it is one: kept if it is a better fit than the best so far
 * (the smallest of at least max_edge, else the largest). */
static void
consider (Walk  *w,
          gsize  offset,
          gsize  len)
{
  SluiceProbePreview c = { offset, len, 0, 0 };
  guint64 c_area, b_area;
  gboolean c_big, b_big;

  if (offset == 0 || offset >= w->len || len > w->len - offset ||
      !jpeg_frame (w->data + offset, len, &c.width, &c.height))
    return;
  if (!w->found)
    {
      w->best = c;
      w->found = TRUE;
      return;
    }
  c_area = (guint64) c.width * c.height;
  b_area = (guint64) w->best.width * w->best.height;
  c_big = MAX (c.width, c.height) >= w->max_edge;
  b_big = MAX (w->best.width, w->best.height) >= w->max_edge;
  if ((c_big && (!b_big || c_area < b_area)) || (!c_big && !b_big && c_area > b_area))
    w->best = c;
}

static void
enqueue (Walk    *w,
         guint32  offset)
{
  if (offset < 8 || offset >= w->len || w->n_queued >= MAX_IFDS)
    return;
  for (guint i = 0; i < w->n_queued; i++)
    if (w->queue[i] == offset)
      return;   /* a loop, or an IFD reached twice */
  w->queue[w->n_queued++] = offset;
}

/* The value of an entry of @count items of @size bytes: in the entry when it fits in 4 bytes,
 * else at the offset the entry holds. 0 when it is outside the file. */
static gsize
value_at (const Walk *w,
          gsize       entry,
          guint32     count,
          guint       size)
{
  guint64 bytes = (guint64) count * size;
  guint32 offset;

  if (bytes <= 4)
    return entry + 8;
  offset = rd32 (w, entry + 8);
  if (offset >= w->len || bytes > w->len - offset)
    return 0;
  return offset;
}

/* The number of entries of the IFD at @ifd, with the next IFD's offset after them; 0 when they
 * do not all lie in the file */
static guint
ifd_entries (const Walk *w,
             gsize       ifd)
{
  guint n;

  if (ifd >= w->len || w->len - ifd < 2)
    return 0;
  n = rd16 (w, ifd);
  if (n == 0 || n > MAX_ENTRIES || w->len - ifd < 2 + (gsize) n * 12 + 4)
    return 0;
  return n;
}

/*
 * An Olympus maker note, where an ORF keeps its preview (about 1600 × 1200): in the
 * CameraSettings IFD (0x2020), at an offset counted from the maker note's own start, in a note
 * that begins "OLYMPUS\0" or "OM SYSTEM\0\0\0", then its byte order and a version, then its
 * IFD. An older camera's note ("OLYMP\0" and a version, the IFD at 8) names it with 0x0088 and
 * 0x0089 and counts from the TIFF header. Other makers' notes are not read.
 */
static void
walk_olympus (Walk  *w,
              gsize  note,
              gsize  note_len)
{
  const guint8 *p = w->data + note;
  gboolean file_le = w->le, valid = TRUE;
  gsize base, ifd, sub = 0;
  guint32 start = 0, length = 0;
  guint n;

  if (note_len >= 12 + 6 && memcmp (p, "OLYMPUS\0", 8) == 0)
    base = note, ifd = note + 12, w->le = p[8] == 'I';
  else if (note_len >= 16 + 6 && memcmp (p, "OM SYSTEM\0\0\0", 12) == 0)
    base = note, ifd = note + 16, w->le = p[12] == 'I';
  else if (note_len >= 8 + 6 && memcmp (p, "OLYMP\0", 6) == 0)
    base = 0, ifd = note + 8;
  else
    return;

  n = ifd_entries (w, ifd);
  for (guint i = 0; i < n; i++)
    {
      gsize e = ifd + 2 + (gsize) i * 12;
      guint32 tag = rd16 (w, e), value = rd32 (w, e + 8);

      if (base == 0 && tag == OLY_OLD_PREVIEW_START)
        start = value;
      else if (base == 0 && tag == OLY_OLD_PREVIEW_LENGTH)
        length = value;
      else if (base != 0 && tag == OLY_CAMERA_SETTINGS)
        sub = base + value;   /* an IFD (13), or the same as UNDEFINED bytes (7) */
    }

  n = sub != 0 ? ifd_entries (w, sub) : 0;
  for (guint i = 0; i < n; i++)
    {
      gsize e = sub + 2 + (gsize) i * 12;
      guint32 tag = rd16 (w, e), value = rd32 (w, e + 8);

      if (tag == OLY_PREVIEW_VALID)
        valid = value != 0;
      else if (tag == OLY_PREVIEW_START && value <= w->len - base)
        start = (guint32) (base + value);
      else if (tag == OLY_PREVIEW_LENGTH)
        length = value;
    }
  w->le = file_le;
  if (valid && start != 0 && length != 0)
    consider (w, start, length);
}

static void
walk_ifd (Walk    *w,
          guint32  ifd)
{
  guint32 jpeg = 0, jpeg_len = 0, strip = 0, strip_len = 0, n_strips = 0, compression = 0;
  gboolean tables = FALSE;
  guint n = ifd_entries (w, ifd);

  if (n == 0)
    return;

  for (guint i = 0; i < n; i++)
    {
      gsize e = (gsize) ifd + 2 + (gsize) i * 12;
      guint32 tag = rd16 (w, e), type = rd16 (w, e + 2), count = rd32 (w, e + 4);
      gboolean is_long = type == 4 || type == 13;   /* LONG, IFD */
      guint32 first = type == 3 ? rd16 (w, e + 8) : rd32 (w, e + 8);

      switch (tag)
        {
        case TAG_COMPRESSION:
          compression = rd16 (w, e + 8);
          break;
        case TAG_STRIP_OFFSETS:
          n_strips = count;
          strip = first;
          break;
        case TAG_STRIP_BYTE_COUNTS:
          strip_len = first;
          break;
        case TAG_JPEG_FORMAT:
          jpeg = first;
          break;
        case TAG_JPEG_FORMAT_LENGTH:
          jpeg_len = first;
          break;
        case TAG_JPEG_TABLES:
          tables = TRUE;
          break;
        case TAG_JPG_FROM_RAW:
          if (type == 7 && count > 4)
            consider (w, rd32 (w, e + 8), count);
          break;
        case TAG_EXIF_IFD:
          if (is_long && count == 1)
            enqueue (w, first);   /* for the maker note */
          break;
        case TAG_MAKER_NOTE:
          if (type == 7 && !w->maker_note_read)
            {
              gsize at = value_at (w, e, count, 1);

              w->maker_note_read = TRUE;
              if (at != 0)
                walk_olympus (w, at, count);
            }
          break;
        case TAG_SUB_IFDS:
          if (is_long && count > 0)
            {
              gsize at = value_at (w, e, MIN (count, MAX_SUBIFDS), 4);

              for (guint k = 0; at != 0 && k < MIN (count, MAX_SUBIFDS); k++)
                enqueue (w, rd32 (w, at + k * 4));
            }
          break;
        default:
          break;
        }
    }
  if (jpeg != 0 && jpeg_len != 0)
    consider (w, jpeg, jpeg_len);
  /* a whole JPEG in one strip (a CR2's IFD0, a DNG's preview); old-style JPEG (6) or new (7);
   * a strip whose tables are kept apart is a TIFF's own picture, for libtiff */
  if (n_strips == 1 && strip != 0 && strip_len != 0 && (compression == 6 || compression == 7) &&
      !tables)
    consider (w, strip, strip_len);
  enqueue (w, rd32 (w, (gsize) ifd + 2 + (gsize) n * 12));
}

static gboolean
is_cr3 (const guint8 *data,
        gsize         len)
{
  return len >= 16 && memcmp (data + 4, "ftypcrx ", 8) == 0;
}

/*
 * A Canon CR3 (ISO base media): its 1620 × 1080 preview is a PRVW box inside a top-level uuid
 * box (eaf42b5e-1c98-4b88-b9fb-b7dc406e4d16), after 8 bytes of its own; the PRVW box's header
 * (sizes and the picture's dimensions) is followed by the JPEG, which runs to the box's end.
 * Found by the box names and the JPEG's SOI rather than fixed offsets.
 */
static void
walk_cr3 (Walk *w)
{
  static const guint8 prvw_uuid[16] = {
    0xea, 0xf4, 0x2b, 0x5e, 0x1c, 0x98, 0x4b, 0x88,
    0xb9, 0xfb, 0xb7, 0xdc, 0x40, 0x6e, 0x4d, 0x16,
  };
  gsize pos = 0;

  for (guint n = 0; n < 64 && pos + 8 <= w->len; n++)
    {
      guint64 size = rd32 (w, pos);
      gsize header = 8;

      if (size == 1 && pos + 16 <= w->len)
        {
          size = (guint64) rd32 (w, pos + 8) << 32 | rd32 (w, pos + 12);
          header = 16;
        }
      else if (size == 0)
        size = w->len - pos;
      if (size < header || size > w->len - pos)
        return;
      if (memcmp (w->data + pos + 4, "uuid", 4) == 0 && size >= header + 16 + 24 &&
          memcmp (w->data + pos + header, prvw_uuid, 16) == 0)
        {
          const guint8 *box = w->data + pos;
          gsize end = pos + size;

          /* the PRVW box within the first 64 bytes after the UUID */
          for (gsize at = header + 16; at + 8 <= MIN (size, header + 16 + 64); at++)
            if (memcmp (box + at + 4, "PRVW", 4) == 0)
              {
                gsize prvw_end = MIN (end, pos + at + (gsize) rd32 (w, pos + at));

                for (gsize soi = pos + at + 8; soi + 3 <= MIN (prvw_end, pos + at + 40); soi++)
                  if (w->data[soi] == 0xff && w->data[soi + 1] == 0xd8 &&
                      w->data[soi + 2] == 0xff)
                    {
                      consider (w, soi, prvw_end - soi);
                      return;
                    }
                return;
              }
          return;
        }
      pos += size;
    }
}

static gboolean
is_raf (const guint8 *data,
        gsize         len)
{
  return len >= 92 && memcmp (data, "FUJIFILMCCD-RAW", 15) == 0;
}

/* TIFF's two byte orders, and the variants of Olympus (ORF: IIRO, IIRS, MMOR) and Panasonic
 * (RW2: IIU) */
static gboolean
is_tiff_like (const guint8 *data,
              gsize         len)
{
  if (len < 8)
    return FALSE;
  return sluice_probe_preview_is_tiff (data, len) ||
         (memcmp (data, "II", 2) == 0 &&
          (memcmp (data + 2, "RO", 2) == 0 || memcmp (data + 2, "RS", 2) == 0 ||
           memcmp (data + 2, "U\x00", 2) == 0)) ||
         memcmp (data, "MMOR", 4) == 0;
}

gboolean
sluice_probe_preview_is_container (const guint8 *data,
                                   gsize         len)
{
  return is_raf (data, len) || is_cr3 (data, len) || is_tiff_like (data, len);
}

gboolean
sluice_probe_preview_is_tiff (const guint8 *data,
                              gsize         len)
{
  return len >= 8 &&
         (memcmp (data, "II\x2a\x00", 4) == 0 || memcmp (data, "MM\x00\x2a", 4) == 0);
}

gboolean
sluice_probe_preview_find (const guint8       *data,
                           gsize               len,
                           guint               max_edge,
                           SluiceProbePreview *out)
{
  Walk w = { data, len, TRUE, max_edge };

  g_return_val_if_fail (out != NULL, FALSE);

  if (!sluice_probe_preview_is_container (data, len))
    return FALSE;

  if (is_raf (data, len))
    {
      /* RAF: the JPEG's offset and length, big-endian, at 84 and 88 */
      w.le = FALSE;
      consider (&w, rd32 (&w, 84), rd32 (&w, 88));
    }
  else if (is_cr3 (data, len))
    {
      w.le = FALSE;
      walk_cr3 (&w);
    }
  else
    {
      w.le = data[0] == 'I';
      enqueue (&w, rd32 (&w, 4));
      for (guint i = 0; i < w.n_queued; i++)
        walk_ifd (&w, w.queue[i]);
    }
  if (w.found)
    *out = w.best;
  return w.found;
}
