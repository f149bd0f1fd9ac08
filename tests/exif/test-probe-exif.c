/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-probe-exif"

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>

#include "sluice-metadata.h"
#include "sluice-probe-exif.h"

/*
 * Tests for the EXIF extractor. Every fixture is built here: the EXIF with libexif (the same
 * library that reads it back, so a round trip checks our container and field handling), hostile
 * structures with a small TIFF writer that can express what libexif would refuse to write, and
 * the containers (JPEG, TIFF, PNG, WebP, HEIF) by hand around them.
 */

/* A valid 24x16 grey baseline JPEG (ImageMagick, JFIF segment removed). Used as the image body
 * after the EXIF segment and as the IFD1 thumbnail. */
static const guint8 tiny_jpeg[] = {
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
#define TINY_WIDTH  24
#define TINY_HEIGHT 16

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExifData, exif_data_unref)

/* Byte helpers */

static void
append_be16 (GByteArray *b,
             guint16     v)
{
  guint8 p[2] = { v >> 8, v & 0xff };
  g_byte_array_append (b, p, 2);
}

static void
append_be32 (GByteArray *b,
             guint32     v)
{
  guint8 p[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };
  g_byte_array_append (b, p, 4);
}

static void
append_le16 (GByteArray *b,
             guint16     v)
{
  guint8 p[2] = { v & 0xff, v >> 8 };
  g_byte_array_append (b, p, 2);
}

static void
append_le32 (GByteArray *b,
             guint32     v)
{
  guint8 p[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
  g_byte_array_append (b, p, 4);
}

static void
append_str (GByteArray *b,
            const char *s)
{
  g_byte_array_append (b, (const guint8 *) s, strlen (s));
}

static void
put_be32 (guint8  *p,
          guint32  v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

static void
put_le32 (guint8  *p,
          guint32  v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = v >> 24;
}

/* EXIF built with libexif */

static ExifEntry *
put_entry (ExifData   *ed,
           ExifIfd     ifd,
           ExifTag     tag,
           ExifFormat  format,
           guint       components)
{
  ExifContent *content = ed->ifd[ifd];
  ExifEntry *e = exif_content_get_entry (content, tag);
  ExifMem *mem;

  if (e != NULL)
    exif_content_remove_entry (content, e);
  mem = exif_mem_new_default ();
  e = exif_entry_new_mem (mem);
  e->tag = tag;
  e->format = format;
  e->components = components;
  e->size = exif_format_get_size (format) * components;
  e->data = exif_mem_alloc (mem, e->size);
  exif_content_add_entry (content, e);
  exif_mem_unref (mem);
  exif_entry_unref (e);
  return e;
}

static void
set_ascii (ExifData   *ed,
           ExifIfd     ifd,
           ExifTag     tag,
           const char *bytes,
           gssize      len)
{
  ExifEntry *e;

  if (len < 0)
    len = strlen (bytes);
  e = put_entry (ed, ifd, tag, EXIF_FORMAT_ASCII, len + 1);
  memcpy (e->data, bytes, len);
}

static void
set_short (ExifData *ed,
           ExifIfd   ifd,
           ExifTag   tag,
           guint16   v)
{
  ExifEntry *e = put_entry (ed, ifd, tag, EXIF_FORMAT_SHORT, 1);
  exif_set_short (e->data, exif_data_get_byte_order (ed), v);
}

static void
set_long (ExifData *ed,
          ExifIfd   ifd,
          ExifTag   tag,
          guint32   v)
{
  ExifEntry *e = put_entry (ed, ifd, tag, EXIF_FORMAT_LONG, 1);
  exif_set_long (e->data, exif_data_get_byte_order (ed), v);
}

static void
set_byte (ExifData *ed,
          ExifIfd   ifd,
          ExifTag   tag,
          guint8    v)
{
  ExifEntry *e = put_entry (ed, ifd, tag, EXIF_FORMAT_BYTE, 1);
  e->data[0] = v;
}

static void
set_rationals (ExifData      *ed,
               ExifIfd        ifd,
               ExifTag        tag,
               const guint32 *pairs,
               guint          n)
{
  ExifEntry *e = put_entry (ed, ifd, tag, EXIF_FORMAT_RATIONAL, n);

  for (guint i = 0; i < n; i++)
    {
      ExifRational r = { pairs[2 * i], pairs[2 * i + 1] };
      exif_set_rational (e->data + 8 * i, exif_data_get_byte_order (ed), r);
    }
}

static void
set_rational (ExifData *ed,
              ExifIfd   ifd,
              ExifTag   tag,
              guint32   num,
              guint32   den)
{
  const guint32 pair[2] = { num, den };
  set_rationals (ed, ifd, tag, pair, 1);
}

static void
set_thumbnail (ExifData     *ed,
               const guint8 *data,
               gsize         len)
{
  ExifMem *mem = exif_mem_new_default ();

  exif_mem_free (mem, ed->data);
  ed->data = exif_mem_alloc (mem, len);
  memcpy (ed->data, data, len);
  ed->size = len;
  exif_mem_unref (mem);
}

static ExifData *
new_exif (ExifByteOrder order)
{
  ExifData *ed = exif_data_new ();

  exif_data_unset_option (ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_set_byte_order (ed, order);
  return ed;
}

/* Every field of the export contract, with values that show sign and rational handling. */
static ExifData *
new_full_exif (ExifByteOrder order)
{
  ExifData *ed = new_exif (order);
  static const guint32 lat[] = { 33, 1, 51, 1, 2154, 100 };  /* 33° 51' 21.54" S */
  static const guint32 lon[] = { 151, 1, 12, 1, 5130, 100 }; /* 151° 12' 51.30" W */

  set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MAKE, "Sluice Optical", -1);
  set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MODEL, "SL-1 Mark II", -1);
  set_short (ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, 6);
  set_ascii (ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, "2024:02:29 13:45:10", -1);
  set_ascii (ed, EXIF_IFD_EXIF, EXIF_TAG_SUB_SEC_TIME_ORIGINAL, "042", -1);
  set_ascii (ed, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, "+02:00", -1);
  set_ascii (ed, EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL, "Sluice 35mm f/1.4", -1);
  set_rational (ed, EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME, 1, 250);
  set_rational (ed, EXIF_IFD_EXIF, EXIF_TAG_FNUMBER, 28, 10);
  set_short (ed, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS, 400);
  set_rational (ed, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH, 35, 1);
  set_long (ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION, 6000);
  set_long (ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION, 4000);
  set_ascii (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE_REF, "S", -1);
  set_rationals (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE, lat, 3);
  set_ascii (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LONGITUDE_REF, "W", -1);
  set_rationals (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LONGITUDE, lon, 3);
  set_byte (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE_REF, 1);
  set_rational (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE, 4215, 10);
  set_thumbnail (ed, tiny_jpeg, sizeof tiny_jpeg);
  return ed;
}

#define EXPECTED_LAT (-(33 + 51 / 60.0 + 21.54 / 3600))
#define EXPECTED_LON (-(151 + 12 / 60.0 + 51.30 / 3600))

/* "Exif\0\0" + TIFF block */
static GBytes *
save_exif (ExifData *ed)
{
  unsigned char *buf = NULL;
  unsigned int size = 0;
  GBytes *bytes;

  exif_data_save_data (ed, &buf, &size);
  g_assert_nonnull (buf);
  g_assert_cmpuint (size, >, 14);
  g_assert_cmpmem (buf, 6, "Exif\0\0", 6);
  bytes = g_bytes_new (buf, size);
  free (buf);
  return bytes;
}

/* The TIFF block without the "Exif\0\0" header */
static GBytes *
save_tiff (ExifData *ed)
{
  g_autoptr(GBytes) exif = save_exif (ed);
  return g_bytes_new_from_bytes (exif, 6, g_bytes_get_size (exif) - 6);
}

/* Containers */

static GBytes *
wrap_jpeg (GBytes *exif)
{
  GByteArray *b = g_byte_array_new ();

  g_assert_cmpuint (g_bytes_get_size (exif) + 2, <=, 0xffff);
  g_byte_array_append (b, tiny_jpeg, 2);
  append_be16 (b, 0xffe1);
  append_be16 (b, g_bytes_get_size (exif) + 2);
  g_byte_array_append (b, g_bytes_get_data (exif, NULL), g_bytes_get_size (exif));
  g_byte_array_append (b, tiny_jpeg + 2, sizeof tiny_jpeg - 2);
  return g_byte_array_free_to_bytes (b);
}

static guint32
crc32_png (const guint8 *p,
           gsize         len)
{
  guint32 crc = 0xffffffff;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= p[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
    }
  return crc ^ 0xffffffff;
}

static void
png_chunk (GByteArray   *b,
           const char   *type,
           const guint8 *data,
           gsize         len)
{
  gsize start;

  append_be32 (b, len);
  start = b->len;
  append_str (b, type);
  if (len > 0)
    g_byte_array_append (b, data, len);
  append_be32 (b, crc32_png (b->data + start, b->len - start));
}

static GBytes *
wrap_png (GBytes  *tiff,
          guint32  width,
          guint32  height)
{
  static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  /* zlib stream of one filtered row per line would be the real thing; any IDAT does here */
  static const guint8 idat[] = { 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 };
  GByteArray *b = g_byte_array_new ();
  guint8 ihdr[13] = { 0 };

  put_be32 (ihdr, width);
  put_be32 (ihdr + 4, height);
  ihdr[8] = 8;
  ihdr[9] = 2;
  g_byte_array_append (b, sig, 8);
  png_chunk (b, "IHDR", ihdr, sizeof ihdr);
  png_chunk (b, "eXIf", g_bytes_get_data (tiff, NULL), g_bytes_get_size (tiff));
  png_chunk (b, "IDAT", idat, sizeof idat);
  png_chunk (b, "IEND", NULL, 0);
  return g_byte_array_free_to_bytes (b);
}

static void
riff_chunk (GByteArray   *b,
            const char   *fourcc,
            const guint8 *data,
            gsize         len)
{
  append_str (b, fourcc);
  append_le32 (b, len);
  g_byte_array_append (b, data, len);
  if (len & 1)
    g_byte_array_append (b, (const guint8 *) "", 1);
}

static GBytes *
wrap_webp (GBytes  *tiff,
           guint32  width,
           guint32  height)
{
  GByteArray *b = g_byte_array_new ();
  guint8 vp8x[10] = { 0x08 /* EXIF present */ };
  guint8 vp8l[5] = { 0x2f };

  vp8x[4] = (width - 1) & 0xff;
  vp8x[5] = ((width - 1) >> 8) & 0xff;
  vp8x[6] = ((width - 1) >> 16) & 0xff;
  vp8x[7] = (height - 1) & 0xff;
  vp8x[8] = ((height - 1) >> 8) & 0xff;
  vp8x[9] = ((height - 1) >> 16) & 0xff;
  /* a different size in the bitstream header: the canvas (VP8X) is what counts */
  put_le32 (vp8l + 1, (7 - 1) | ((5 - 1) << 14));

  append_str (b, "RIFF");
  append_le32 (b, 0);
  append_str (b, "WEBP");
  riff_chunk (b, "VP8X", vp8x, sizeof vp8x);
  riff_chunk (b, "VP8L", vp8l, sizeof vp8l);
  riff_chunk (b, "EXIF", g_bytes_get_data (tiff, NULL), g_bytes_get_size (tiff));
  put_le32 (b->data + 4, b->len - 8);
  return g_byte_array_free_to_bytes (b);
}

static gsize
box_open (GByteArray *b,
          const char *type)
{
  gsize at = b->len;

  append_be32 (b, 0);
  append_str (b, type);
  return at;
}

static void
box_close (GByteArray *b,
           gsize       at)
{
  put_be32 (b->data + at, b->len - at);
}

static void
full_box_header (GByteArray *b,
                 guint8      version,
                 guint32     flags)
{
  append_be32 (b, ((guint32) version << 24) | flags);
}

static void
heif_infe (GByteArray *b,
           guint16     id,
           const char *type)
{
  gsize at = box_open (b, "infe");

  full_box_header (b, 2, 0);
  append_be16 (b, id);
  append_be16 (b, 0);
  append_str (b, type);
  g_byte_array_append (b, (const guint8 *) "", 1);
  box_close (b, at);
}

static void
heif_ispe (GByteArray *b,
           guint32     width,
           guint32     height)
{
  gsize at = box_open (b, "ispe");

  full_box_header (b, 0, 0);
  append_be32 (b, width);
  append_be32 (b, height);
  box_close (b, at);
}

/* A HEIF with a primary image item 1 (width x height), a thumbnail item 2 (160x120) whose ispe
 * comes first in ipco, and an Exif item 3 whose bytes sit after the mdat box. */
static GBytes *
wrap_heif (GBytes  *tiff,
           guint32  width,
           guint32  height)
{
  GByteArray *b = g_byte_array_new ();
  gsize meta, sub, ipco, iloc_offset_at, mdat;

  sub = box_open (b, "ftyp");
  append_str (b, "heic");
  append_be32 (b, 0);
  append_str (b, "mif1heic");
  box_close (b, sub);

  meta = box_open (b, "meta");
  full_box_header (b, 0, 0);

  sub = box_open (b, "hdlr");
  full_box_header (b, 0, 0);
  append_be32 (b, 0);
  append_str (b, "pict");
  append_be32 (b, 0);
  append_be32 (b, 0);
  append_be32 (b, 0);
  g_byte_array_append (b, (const guint8 *) "", 1);
  box_close (b, sub);

  sub = box_open (b, "pitm");
  full_box_header (b, 0, 0);
  append_be16 (b, 1);
  box_close (b, sub);

  sub = box_open (b, "iinf");
  full_box_header (b, 0, 0);
  append_be16 (b, 3);
  heif_infe (b, 1, "hvc1");
  heif_infe (b, 2, "hvc1");
  heif_infe (b, 3, "Exif");
  box_close (b, sub);

  sub = box_open (b, "iloc");
  full_box_header (b, 1, 0);
  g_byte_array_append (b, (const guint8 *) "\x44\x00", 2); /* offset, length: 4; base: 0 */
  append_be16 (b, 1);
  append_be16 (b, 3);        /* item */
  append_be16 (b, 0);        /* construction method 0: file offset */
  append_be16 (b, 0);        /* data reference */
  append_be16 (b, 1);        /* one extent */
  iloc_offset_at = b->len;
  append_be32 (b, 0);
  append_be32 (b, 4 + 6 + g_bytes_get_size (tiff));
  box_close (b, sub);

  sub = box_open (b, "iprp");
  ipco = box_open (b, "ipco");
  heif_ispe (b, 160, 120);
  heif_ispe (b, width, height);
  box_close (b, ipco);
  ipco = box_open (b, "ipma");
  full_box_header (b, 0, 0);
  append_be32 (b, 2);
  append_be16 (b, 2);
  g_byte_array_append (b, (const guint8 *) "\x01\x81", 2);
  append_be16 (b, 1);
  g_byte_array_append (b, (const guint8 *) "\x01\x82", 2);
  box_close (b, ipco);
  box_close (b, sub);
  box_close (b, meta);

  mdat = box_open (b, "mdat");
  append_str (b, "not really HEVC");
  box_close (b, mdat);

  /* the Exif item: offset of the TIFF header (6, past "Exif\0\0"), then the block */
  put_be32 (b->data + iloc_offset_at, b->len);
  append_be32 (b, 6);
  g_byte_array_append (b, (const guint8 *) "Exif\0\0", 6);
  g_byte_array_append (b, g_bytes_get_data (tiff, NULL), g_bytes_get_size (tiff));
  return g_byte_array_free_to_bytes (b);
}

/* A little-endian TIFF writer for structures libexif would not write: loops, wrong types,
 * absurd counts, IFDs far into the file. */

typedef struct
{
  guint16       tag;
  guint16       type;
  guint32       count;
  const void   *data;   /* value bytes; NULL: `raw` is the value field as it is */
  gsize         len;
  guint32       raw;
} TEntry;

#define T_ASCII(tag, s)     { tag, EXIF_FORMAT_ASCII, sizeof s, s, sizeof s, 0 }
#define T_SHORT(tag, v)     { tag, EXIF_FORMAT_SHORT, 1, NULL, 0, v }
#define T_LONG(tag, v)      { tag, EXIF_FORMAT_LONG, 1, NULL, 0, v }

static GByteArray *
tiff_new (void)
{
  GByteArray *b = g_byte_array_new ();

  append_str (b, "II*");
  g_byte_array_append (b, (const guint8 *) "", 1);
  append_le32 (b, 0);
  return b;
}

static void
tiff_pad (GByteArray *b,
          gsize       n,
          guint8      fill)
{
  gsize at = b->len;

  g_byte_array_set_size (b, at + n);
  memset (b->data + at, fill, n);
}

/* Writes an IFD and its out-of-line values at the end of @b; returns its offset. */
static guint32
tiff_ifd (GByteArray   *b,
          const TEntry *entries,
          guint         n,
          guint32       next)
{
  guint32 start, data_pos;

  if (b->len & 1)
    tiff_pad (b, 1, 0);
  start = b->len;
  data_pos = start + 2 + 12 * n + 4;
  append_le16 (b, n);
  for (guint i = 0; i < n; i++)
    {
      append_le16 (b, entries[i].tag);
      append_le16 (b, entries[i].type);
      append_le32 (b, entries[i].count);
      if (entries[i].data == NULL)
        append_le32 (b, entries[i].raw);
      else if (entries[i].len <= 4)
        {
          guint8 v[4] = { 0 };
          memcpy (v, entries[i].data, entries[i].len);
          g_byte_array_append (b, v, 4);
        }
      else
        {
          append_le32 (b, data_pos);
          data_pos += entries[i].len + (entries[i].len & 1);
        }
    }
  append_le32 (b, next);
  for (guint i = 0; i < n; i++)
    {
      if (entries[i].data != NULL && entries[i].len > 4)
        {
          g_byte_array_append (b, entries[i].data, entries[i].len);
          if (entries[i].len & 1)
            tiff_pad (b, 1, 0);
        }
    }
  return start;
}

static void
tiff_set_ifd0 (GByteArray *b,
               guint32     offset)
{
  put_le32 (b->data + 4, offset);
}

/* Assertions */

static SluiceMetadata *
extract (GBytes     *bytes,
         const char *name)
{
  return sluice_probe_exif_extract (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                    name);
}

static gboolean
has_warning (const SluiceMetadata *meta,
             const char           *needle)
{
  for (guint i = 0; i < meta->warnings->len; i++)
    if (strstr (g_ptr_array_index (meta->warnings, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

static void
assert_clean_text (const char *s)
{
  if (s == NULL)
    return;
  g_assert_true (g_utf8_validate (s, -1, NULL));
  g_assert_cmpuint (strlen (s), <=, SLUICE_METADATA_MAX_STRING);
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      g_assert_false (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0));
    }
}

static void
assert_sane (const SluiceMetadata *meta)
{
  assert_clean_text (meta->make);
  assert_clean_text (meta->model);
  assert_clean_text (meta->lens_model);
  assert_clean_text (meta->datetime_original);
  assert_clean_text (meta->subsec_time_original);
  assert_clean_text (meta->offset_time_original);
  g_assert_cmpuint (meta->warnings->len, <=, SLUICE_METADATA_MAX_WARNINGS);
  for (guint i = 0; i < meta->warnings->len; i++)
    assert_clean_text (g_ptr_array_index (meta->warnings, i));
  g_assert_true (meta->orientation == -1 || (meta->orientation >= 1 && meta->orientation <= 8));
  g_assert_true (isnan (meta->gps_latitude) || fabs (meta->gps_latitude) <= 90);
  g_assert_true (isnan (meta->gps_longitude) || fabs (meta->gps_longitude) <= 180);
  if (meta->thumbnail != NULL)
    {
      g_assert_true (meta->has_thumbnail);
      g_assert_cmpuint (g_bytes_get_size (meta->thumbnail), <=, SLUICE_METADATA_MAX_THUMBNAIL);
    }
}

static void
assert_no_warnings (const SluiceMetadata *meta)
{
  for (guint i = 0; i < meta->warnings->len; i++)
    g_test_message ("unexpected warning: %s", (char *) g_ptr_array_index (meta->warnings, i));
  g_assert_cmpuint (meta->warnings->len, ==, 0);
}

static void
assert_full_fields (const SluiceMetadata *meta)
{
  g_assert_cmpstr (meta->make, ==, "Sluice Optical");
  g_assert_cmpstr (meta->model, ==, "SL-1 Mark II");
  g_assert_cmpstr (meta->lens_model, ==, "Sluice 35mm f/1.4");
  g_assert_cmpstr (meta->datetime_original, ==, "2024:02:29 13:45:10");
  g_assert_cmpstr (meta->subsec_time_original, ==, "042");
  g_assert_cmpstr (meta->offset_time_original, ==, "+02:00");
  g_assert_cmpuint (meta->exposure_num, ==, 1);
  g_assert_cmpuint (meta->exposure_den, ==, 250);
  g_assert_cmpfloat_with_epsilon (meta->f_number, 2.8, 1e-9);
  g_assert_cmpint (meta->iso, ==, 400);
  g_assert_cmpfloat_with_epsilon (meta->focal_length, 35.0, 1e-9);
  g_assert_cmpint (meta->orientation, ==, 6);
  g_assert_cmpint (meta->exif_width, ==, 6000);
  g_assert_cmpint (meta->exif_height, ==, 4000);
  g_assert_cmpfloat_with_epsilon (meta->gps_latitude, EXPECTED_LAT, 1e-9);
  g_assert_cmpfloat_with_epsilon (meta->gps_longitude, EXPECTED_LON, 1e-9);
  g_assert_cmpfloat_with_epsilon (meta->gps_altitude, -421.5, 1e-9);
  g_assert_true (meta->has_thumbnail);
  g_assert_nonnull (meta->thumbnail);
  g_assert_cmpmem (g_bytes_get_data (meta->thumbnail, NULL), g_bytes_get_size (meta->thumbnail),
                   tiny_jpeg, sizeof tiny_jpeg);
}

/* Round trips through every container */

static void
test_jpeg_roundtrip (void)
{
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_MOTOROLA);
  g_autoptr(GBytes) exif = save_exif (ed);
  g_autoptr(GBytes) jpeg = wrap_jpeg (exif);
  g_autoptr(SluiceMetadata) meta = extract (jpeg, "photo.jpg");

  g_assert_cmpstr (meta->container, ==, "jpeg");
  assert_full_fields (meta);
  /* the frame is the main image's SOF, not the thumbnail's inside APP1 (same JPEG here, so
   * make the main one differ by checking against the body that follows the segment) */
  g_assert_cmpint (meta->width, ==, TINY_WIDTH);
  g_assert_cmpint (meta->height, ==, TINY_HEIGHT);
  assert_no_warnings (meta);
  assert_sane (meta);
}

static void
test_jpeg_main_sof (void)
{
  /* the thumbnail inside APP1 is 24x16; the main image after it claims 640x480 */
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) exif = save_exif (ed);
  g_autoptr(GBytes) jpeg = wrap_jpeg (exif);
  g_autoptr(GByteArray) copy = g_byte_array_new ();
  g_autoptr(SluiceMetadata) meta = NULL;
  const guint8 *sof;
  gsize at;

  g_byte_array_append (copy, g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg));
  sof = memmem (copy->data + 4 + g_bytes_get_size (exif), copy->len - 4 - g_bytes_get_size (exif),
                "\xff\xc0", 2);
  g_assert_nonnull (sof);
  at = sof - copy->data;
  copy->data[at + 5] = 480 >> 8;
  copy->data[at + 6] = 480 & 0xff;
  copy->data[at + 7] = 640 >> 8;
  copy->data[at + 8] = 640 & 0xff;

  meta = sluice_probe_exif_extract (copy->data, copy->len, "photo.jpeg");
  g_assert_cmpint (meta->width, ==, 640);
  g_assert_cmpint (meta->height, ==, 480);
  g_assert_true (meta->has_thumbnail);
}

static void
test_tiff_roundtrip (void)
{
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) tiff = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;

  set_long (ed, EXIF_IFD_0, EXIF_TAG_IMAGE_WIDTH, 3000);
  set_short (ed, EXIF_IFD_0, EXIF_TAG_IMAGE_LENGTH, 2000);
  tiff = save_tiff (ed);
  meta = extract (tiff, "scan.TIF");

  g_assert_cmpstr (meta->container, ==, "tiff");
  assert_full_fields (meta);
  g_assert_cmpint (meta->width, ==, 3000);
  g_assert_cmpint (meta->height, ==, 2000);
  assert_no_warnings (meta);
}

static void
test_tiff_orf_magic (void)
{
  /* Olympus ORF: "IIRO" where TIFF has "II*\0", otherwise a TIFF */
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) tiff = save_tiff (ed);
  g_autoptr(GByteArray) orf = g_byte_array_new ();
  g_autoptr(SluiceMetadata) meta = NULL;

  g_byte_array_append (orf, g_bytes_get_data (tiff, NULL), g_bytes_get_size (tiff));
  orf->data[2] = 'R';
  orf->data[3] = 'O';
  meta = sluice_probe_exif_extract (orf->data, orf->len, "P1010001.ORF");
  g_assert_cmpstr (meta->container, ==, "tiff");
  g_assert_cmpstr (meta->make, ==, "Sluice Optical");
  g_assert_cmpstr (meta->datetime_original, ==, "2024:02:29 13:45:10");
  assert_no_warnings (meta);
}

/* An ORF as Olympus writes them: its Exif IFD holds an Olympus maker note ("OLYMPUS\0II\3\0",
 * offsets from its own start) whose CameraSettings IFD (0x2020) locates the JPEG preview, here
 * inside the note. libexif parses Olympus maker notes itself; the file's metadata is read all
 * the same. Also a seed for the fuzzer's raw preview finder. */
static void
test_tiff_orf_maker_note (void)
{
  g_autoptr(GByteArray) note = g_byte_array_new ();
  g_autoptr(GByteArray) b = tiff_new ();
  g_autoptr(SluiceMetadata) meta = NULL;
  guint32 exif_ifd, ifd0;

  g_byte_array_append (note, (const guint8 *) "OLYMPUS\0II\3\0", 12);
  {
    /* the main IFD (18 bytes), then CameraSettings (42), then the preview */
    TEntry main_ifd[] = { { 0x2020, 13, 1, NULL, 0, 12 + 18 } };
    TEntry camera_settings[] = {
      { 0x0100, EXIF_FORMAT_LONG, 1, NULL, 0, 1 },
      { 0x0101, EXIF_FORMAT_LONG, 1, NULL, 0, 12 + 18 + 42 },
      { 0x0102, EXIF_FORMAT_LONG, 1, NULL, 0, sizeof tiny_jpeg },
    };

    tiff_ifd (note, main_ifd, G_N_ELEMENTS (main_ifd), 0);
    g_assert_cmpuint (tiff_ifd (note, camera_settings, 3, 0), ==, 12 + 18);
    g_assert_cmpuint (note->len, ==, 12 + 18 + 42);
    g_byte_array_append (note, tiny_jpeg, sizeof tiny_jpeg);
  }
  {
    TEntry e[] = {
      T_ASCII (EXIF_TAG_DATE_TIME_ORIGINAL, "2021:05:06 07:08:09"),
      { EXIF_TAG_MAKER_NOTE, EXIF_FORMAT_UNDEFINED, note->len, note->data, note->len, 0 },
    };
    exif_ifd = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
  }
  {
    TEntry e[] = {
      T_LONG (EXIF_TAG_IMAGE_WIDTH, 4640),
      T_LONG (EXIF_TAG_IMAGE_LENGTH, 3472),
      T_ASCII (EXIF_TAG_MAKE, "OLYMPUS IMAGING CORP."),
      T_ASCII (EXIF_TAG_MODEL, "E-M5"),
      T_LONG (EXIF_TAG_EXIF_IFD_POINTER, exif_ifd),
    };
    ifd0 = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
  }
  tiff_set_ifd0 (b, ifd0);
  b->data[2] = 'R';
  b->data[3] = 'O';

  meta = sluice_probe_exif_extract (b->data, b->len, "P5060001.ORF");
  g_assert_cmpstr (meta->container, ==, "tiff");
  g_assert_cmpstr (meta->make, ==, "OLYMPUS IMAGING CORP.");
  g_assert_cmpstr (meta->model, ==, "E-M5");
  g_assert_cmpstr (meta->datetime_original, ==, "2021:05:06 07:08:09");
  g_assert_cmpint (meta->width, ==, 4640);
  assert_no_warnings (meta);
}

/* A raw-like TIFF: IFD0 after 200 KiB of image data, so past the 64 KiB libexif reads. */
static GBytes *
build_large_tiff (gsize thumb_size,
                  gsize makernote_size)
{
  static const guint32 lat[] = { 48, 1, 51, 1, 30, 1 };
  static const guint32 alt[] = { 35, 1 };
  static const guint32 exposure[] = { 10, 2500 };
  g_autofree guint8 *thumb = g_malloc0 (thumb_size);
  g_autofree guint8 *makernote = g_malloc (makernote_size);
  GByteArray *b = tiff_new ();
  guint32 exif_ifd, gps_ifd, ifd1, ifd0, thumb_at;

  memcpy (thumb, tiny_jpeg, MIN (thumb_size, sizeof tiny_jpeg));
  memset (makernote, 0xa5, makernote_size);
  tiff_pad (b, 200 * 1024, 0x55);

  {
    TEntry e[] = {
      T_ASCII (EXIF_TAG_DATE_TIME_ORIGINAL, "2019:07:14 08:09:10"),
      { EXIF_TAG_EXPOSURE_TIME, EXIF_FORMAT_RATIONAL, 1, exposure, 8, 0 },
      { EXIF_TAG_MAKER_NOTE, EXIF_FORMAT_UNDEFINED, makernote_size, makernote, makernote_size, 0 },
      T_SHORT (EXIF_TAG_ISO_SPEED_RATINGS, 1600),
    };
    exif_ifd = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
  }
  {
    TEntry e[] = {
      T_ASCII (EXIF_TAG_GPS_LATITUDE_REF, "N"),
      { EXIF_TAG_GPS_LATITUDE, EXIF_FORMAT_RATIONAL, 3, lat, sizeof lat, 0 },
      { EXIF_TAG_GPS_ALTITUDE_REF, EXIF_FORMAT_BYTE, 1, "\0", 1, 0 },
      { EXIF_TAG_GPS_ALTITUDE, EXIF_FORMAT_RATIONAL, 1, alt, sizeof alt, 0 },
    };
    gps_ifd = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
  }
  if (b->len & 1)
    tiff_pad (b, 1, 0);
  thumb_at = b->len;
  g_byte_array_append (b, thumb, thumb_size);
  {
    TEntry e[] = {
      T_LONG (EXIF_TAG_JPEG_INTERCHANGE_FORMAT, thumb_at),
      T_LONG (EXIF_TAG_JPEG_INTERCHANGE_FORMAT_LENGTH, thumb_size),
    };
    ifd1 = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
  }
  {
    TEntry e[] = {
      T_LONG (EXIF_TAG_IMAGE_WIDTH, 6000),
      T_LONG (EXIF_TAG_IMAGE_LENGTH, 4000),
      T_ASCII (EXIF_TAG_MAKE, "RAWMAKER"),
      T_ASCII (EXIF_TAG_MODEL, "R-100"),
      T_LONG (EXIF_TAG_STRIP_OFFSETS, 8),
      T_SHORT (EXIF_TAG_ORIENTATION, 8),
      T_LONG (EXIF_TAG_EXIF_IFD_POINTER, exif_ifd),
      T_LONG (EXIF_TAG_GPS_INFO_IFD_POINTER, gps_ifd),
    };
    ifd0 = tiff_ifd (b, e, G_N_ELEMENTS (e), ifd1);
  }
  tiff_set_ifd0 (b, ifd0);
  return g_byte_array_free_to_bytes (b);
}

static void
test_tiff_large (void)
{
  g_autoptr(GBytes) tiff = build_large_tiff (sizeof tiny_jpeg, 1024 * 1024);
  g_autoptr(SluiceMetadata) meta = extract (tiff, "IMG_0001.dng");

  g_assert_cmpuint (g_bytes_get_size (tiff), >, 0x10000);
  g_assert_cmpstr (meta->container, ==, "tiff");
  g_assert_cmpint (meta->width, ==, 6000);
  g_assert_cmpint (meta->height, ==, 4000);
  g_assert_cmpstr (meta->make, ==, "RAWMAKER");
  g_assert_cmpstr (meta->model, ==, "R-100");
  g_assert_cmpint (meta->orientation, ==, 8);
  g_assert_cmpstr (meta->datetime_original, ==, "2019:07:14 08:09:10");
  /* stored rationals are not reduced */
  g_assert_cmpuint (meta->exposure_num, ==, 10);
  g_assert_cmpuint (meta->exposure_den, ==, 2500);
  g_assert_cmpint (meta->iso, ==, 1600);
  g_assert_cmpfloat_with_epsilon (meta->gps_latitude, 48 + 51 / 60.0 + 30 / 3600.0, 1e-9);
  g_assert_true (isnan (meta->gps_longitude));
  g_assert_cmpfloat_with_epsilon (meta->gps_altitude, 35, 1e-9);
  g_assert_true (meta->has_thumbnail);
  g_assert_cmpmem (g_bytes_get_data (meta->thumbnail, NULL), g_bytes_get_size (meta->thumbnail),
                   tiny_jpeg, sizeof tiny_jpeg);
  assert_no_warnings (meta);
}

static void
test_png (void)
{
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_MOTOROLA);
  g_autoptr(GBytes) tiff = save_tiff (ed);
  g_autoptr(GBytes) png = wrap_png (tiff, 321, 123);
  g_autoptr(SluiceMetadata) meta = extract (png, "export.png");

  g_assert_cmpstr (meta->container, ==, "png");
  assert_full_fields (meta);
  g_assert_cmpint (meta->width, ==, 321);
  g_assert_cmpint (meta->height, ==, 123);
  assert_no_warnings (meta);
}

static void
test_webp (void)
{
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) tiff = save_tiff (ed);
  g_autoptr(GBytes) webp = wrap_webp (tiff, 1920, 1080);
  g_autoptr(SluiceMetadata) meta = extract (webp, "export.webp");

  g_assert_cmpstr (meta->container, ==, "webp");
  assert_full_fields (meta);
  g_assert_cmpint (meta->width, ==, 1920);
  g_assert_cmpint (meta->height, ==, 1080);
  assert_no_warnings (meta);
}

static void
test_heif (void)
{
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_MOTOROLA);
  g_autoptr(GBytes) tiff = save_tiff (ed);
  g_autoptr(GBytes) heif = wrap_heif (tiff, 4032, 3024);
  g_autoptr(SluiceMetadata) meta = extract (heif, "IMG_0001.HEIC");

  g_assert_cmpstr (meta->container, ==, "heif");
  assert_full_fields (meta);
  /* the primary item's ispe, not the thumbnail's that comes first */
  g_assert_cmpint (meta->width, ==, 4032);
  g_assert_cmpint (meta->height, ==, 3024);
  assert_no_warnings (meta);
}

static void
test_raf (void)
{
  /* Fujifilm RAF: a 100-byte header whose offset 84 points at an embedded JPEG */
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_MOTOROLA);
  g_autoptr(GBytes) exif = save_exif (ed);
  g_autoptr(GBytes) jpeg = wrap_jpeg (exif);
  g_autoptr(GByteArray) raf = g_byte_array_new ();
  g_autoptr(SluiceMetadata) meta = NULL;

  append_str (raf, "FUJIFILMCCD-RAW 0201FF383501");
  tiff_pad (raf, 148 - raf->len, 0);
  put_be32 (raf->data + 84, raf->len);
  put_be32 (raf->data + 88, g_bytes_get_size (jpeg));
  g_byte_array_append (raf, g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg));
  tiff_pad (raf, 1000, 0x11);

  meta = sluice_probe_exif_extract (raf->data, raf->len, "DSCF0001.RAF");
  g_assert_cmpstr (meta->container, ==, "raf");
  assert_full_fields (meta);
  assert_no_warnings (meta);
}

/* The TIFF block of @ed without its IFD1 (CR3 blocks carry one IFD each) */
static GBytes *
save_single_ifd (ExifData *ed)
{
  g_autoptr(GBytes) exif = NULL;

  ed->size = 0;
  exif = save_exif (ed);
  return g_bytes_new_from_bytes (exif, 6, g_bytes_get_size (exif) - 6);
}

static void
test_cr3 (void)
{
  static const guint8 canon_uuid[16] = {
    0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0,
    0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48,
  };
  static const guint32 lon[] = { 2, 1, 17, 1, 40, 1 };
  g_autoptr(ExifData) cmt1 = new_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(ExifData) cmt2 = new_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(ExifData) cmt4 = new_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) ifd0 = NULL;
  g_autoptr(GBytes) exif_ifd = NULL;
  g_autoptr(GBytes) gps_ifd = NULL;
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_autoptr(SluiceMetadata) meta = NULL;
  gsize box, moov, uuid;

  /* CMT1 is IFD0, CMT2 the Exif IFD and CMT4 the GPS IFD, each written as an IFD0 */
  set_ascii (cmt1, EXIF_IFD_0, EXIF_TAG_MAKE, "Canon", -1);
  set_ascii (cmt1, EXIF_IFD_0, EXIF_TAG_MODEL, "Canon EOS R5", -1);
  set_long (cmt1, EXIF_IFD_0, EXIF_TAG_IMAGE_WIDTH, 8192);
  set_long (cmt1, EXIF_IFD_0, EXIF_TAG_IMAGE_LENGTH, 5464);
  set_ascii (cmt2, EXIF_IFD_0, EXIF_TAG_DATE_TIME_ORIGINAL, "2022:10:11 12:13:14", -1);
  set_rational (cmt2, EXIF_IFD_0, EXIF_TAG_EXPOSURE_TIME, 1, 1000);
  set_ascii (cmt2, EXIF_IFD_0, EXIF_TAG_LENS_MODEL, "RF24-105mm F4 L IS USM", -1);
  set_ascii (cmt4, EXIF_IFD_0, EXIF_TAG_GPS_LONGITUDE_REF, "W", -1);
  set_rationals (cmt4, EXIF_IFD_0, EXIF_TAG_GPS_LONGITUDE, lon, 3);
  ifd0 = save_single_ifd (cmt1);
  exif_ifd = save_single_ifd (cmt2);
  gps_ifd = save_single_ifd (cmt4);

  box = box_open (b, "ftyp");
  append_str (b, "crx ");
  append_be32 (b, 1);
  append_str (b, "crx isom");
  box_close (b, box);
  moov = box_open (b, "moov");
  uuid = box_open (b, "uuid");
  g_byte_array_append (b, canon_uuid, 16);
  box = box_open (b, "CNCV");
  append_str (b, "CanonCR3_001/01.09.00/00.00.00");
  box_close (b, box);
  box = box_open (b, "CMT1");
  g_byte_array_append (b, g_bytes_get_data (ifd0, NULL), g_bytes_get_size (ifd0));
  box_close (b, box);
  box = box_open (b, "CMT2");
  g_byte_array_append (b, g_bytes_get_data (exif_ifd, NULL), g_bytes_get_size (exif_ifd));
  box_close (b, box);
  box = box_open (b, "CMT4");
  g_byte_array_append (b, g_bytes_get_data (gps_ifd, NULL), g_bytes_get_size (gps_ifd));
  box_close (b, box);
  box_close (b, uuid);
  box_close (b, moov);
  box = box_open (b, "mdat");
  tiff_pad (b, 64, 0);
  box_close (b, box);

  meta = sluice_probe_exif_extract (b->data, b->len, "IMG_0001.CR3");
  g_assert_cmpstr (meta->container, ==, "cr3");
  g_assert_cmpstr (meta->make, ==, "Canon");
  g_assert_cmpstr (meta->model, ==, "Canon EOS R5");
  g_assert_cmpint (meta->width, ==, 8192);
  g_assert_cmpint (meta->height, ==, 5464);
  g_assert_cmpstr (meta->datetime_original, ==, "2022:10:11 12:13:14");
  g_assert_cmpstr (meta->lens_model, ==, "RF24-105mm F4 L IS USM");
  g_assert_cmpuint (meta->exposure_num, ==, 1);
  g_assert_cmpuint (meta->exposure_den, ==, 1000);
  g_assert_cmpfloat_with_epsilon (meta->gps_longitude, -(2 + 17 / 60.0 + 40 / 3600.0), 1e-9);
  assert_no_warnings (meta);
}

/* Empty and missing EXIF */

static void
test_no_exif (void)
{
  g_autoptr(GBytes) jpeg = g_bytes_new_static (tiny_jpeg, sizeof tiny_jpeg);
  g_autoptr(SluiceMetadata) meta = extract (jpeg, "plain.jpg");

  g_assert_cmpstr (meta->container, ==, "jpeg");
  g_assert_true (sluice_metadata_is_empty (meta));
  g_assert_cmpint (meta->width, ==, TINY_WIDTH);
  g_assert_false (meta->has_thumbnail);
  assert_no_warnings (meta);
}

static void
test_zero_byte (void)
{
  static const guint8 nothing[1] = { 0 };
  g_autoptr(SluiceMetadata) a = sluice_probe_exif_extract (NULL, 0, "empty.jpg");
  g_autoptr(SluiceMetadata) b = sluice_probe_exif_extract (nothing, 0, NULL);
  g_autoptr(SluiceMetadata) c = sluice_probe_exif_extract (nothing, 1, "one.bin");

  g_assert_true (sluice_metadata_is_empty (a));
  g_assert_null (a->container);
  assert_no_warnings (a);
  g_assert_true (sluice_metadata_is_empty (b));
  assert_no_warnings (b);
  g_assert_true (sluice_metadata_is_empty (c));
  g_assert_null (c->container);
}

static void
test_truncated (void)
{
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) exif = save_exif (ed);
  g_autoptr(GBytes) jpeg = wrap_jpeg (exif);
  const guint8 *data = g_bytes_get_data (jpeg, NULL);
  gsize len = g_bytes_get_size (jpeg);
  g_autoptr(SluiceMetadata) meta = NULL;

  /* cut in the middle of the APP1 segment */
  meta = sluice_probe_exif_extract (data, 4 + g_bytes_get_size (exif) / 2, "cut.jpg");
  g_assert_cmpstr (meta->container, ==, "jpeg");
  g_assert_true (has_warning (meta, "EXIF segment is truncated"));
  g_assert_cmpint (meta->width, ==, -1);
  assert_sane (meta);

  /* every other cut: no crash, no out-of-bounds read (heap copies make ASan/valgrind see it) */
  for (gsize cut = 0; cut < len; cut++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, cut);
      g_autoptr(SluiceMetadata) m = sluice_probe_exif_extract (copy, cut, "cut.jpg");
      assert_sane (m);
    }
}

/* Hostile structures */

static void
test_ifd_loop (void)
{
  GByteArray *b = tiff_new ();
  g_autoptr(GBytes) tiff = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  guint32 ifd0, exif_ifd;

  /* Exif IFD whose Interoperability pointer points back at itself, IFD0 whose Exif pointer
   * is patched below to IFD0 too, and IFD0's next pointer to IFD0 (IFD1 = IFD0) */
  {
    TEntry e[] = {
      T_ASCII (EXIF_TAG_DATE_TIME_ORIGINAL, "2020:01:02 03:04:05"),
      T_LONG (EXIF_TAG_INTEROPERABILITY_IFD_POINTER, 0),
    };
    exif_ifd = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
    put_le32 (b->data + exif_ifd + 2 + 12 + 8, exif_ifd);
  }
  {
    TEntry e[] = {
      T_ASCII (EXIF_TAG_MAKE, "Loopy"),
      T_LONG (EXIF_TAG_EXIF_IFD_POINTER, exif_ifd),
      T_LONG (EXIF_TAG_GPS_INFO_IFD_POINTER, 0),
    };
    ifd0 = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
    put_le32 (b->data + ifd0 + 2 + 24 + 8, ifd0);          /* GPS IFD = IFD0 */
    put_le32 (b->data + ifd0 + 2 + 36, ifd0);              /* IFD1 = IFD0 */
  }
  tiff_set_ifd0 (b, ifd0);
  tiff = g_byte_array_free_to_bytes (b);

  meta = extract (tiff, "loop.tif");
  g_assert_cmpstr (meta->make, ==, "Loopy");
  g_assert_cmpstr (meta->datetime_original, ==, "2020:01:02 03:04:05");
  assert_sane (meta);
}

static void
test_ifd_loop_large (void)
{
  /* the same loops on the compaction path (IFDs past 64 KiB) */
  GByteArray *b = tiff_new ();
  g_autoptr(GBytes) tiff = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  guint32 ifd0;

  tiff_pad (b, 100000, 0);
  {
    TEntry e[] = {
      T_ASCII (EXIF_TAG_MAKE, "Loopy"),
      T_LONG (EXIF_TAG_EXIF_IFD_POINTER, 0),
    };
    ifd0 = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
    put_le32 (b->data + ifd0 + 2 + 12 + 8, ifd0);
    put_le32 (b->data + ifd0 + 2 + 24, ifd0);
  }
  tiff_set_ifd0 (b, ifd0);
  tiff = g_byte_array_free_to_bytes (b);

  meta = extract (tiff, "loop.tif");
  g_assert_cmpstr (meta->make, ==, "Loopy");
  assert_sane (meta);
}

static void
test_absurd_counts (void)
{
  GByteArray *b = tiff_new ();
  g_autoptr(GBytes) tiff = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  guint32 ifd0;

  {
    TEntry e[] = {
      T_ASCII (EXIF_TAG_MAKE, "Counts"),
      /* a model of 4 G characters at an offset past the end */
      { EXIF_TAG_MODEL, EXIF_FORMAT_ASCII, 0xffffffff, NULL, 0, 0xfffffff0 },
      /* an Exif IFD far outside the file */
      T_LONG (EXIF_TAG_EXIF_IFD_POINTER, 0x7fffffff),
      /* rationals whose data offset wraps around */
      { EXIF_TAG_FNUMBER, EXIF_FORMAT_RATIONAL, 0x20000000, NULL, 0, 0xfffffffc },
      /* an unknown type */
      { EXIF_TAG_ORIENTATION, 0x7777, 1, NULL, 0, 1 },
    };
    ifd0 = tiff_ifd (b, e, G_N_ELEMENTS (e), 0xfffffff0);
  }
  tiff_set_ifd0 (b, ifd0);
  tiff = g_byte_array_free_to_bytes (b);

  meta = extract (tiff, "counts.tif");
  g_assert_cmpstr (meta->make, ==, "Counts");
  g_assert_null (meta->model);
  g_assert_true (isnan (meta->f_number));
  g_assert_cmpint (meta->orientation, ==, -1);
  assert_sane (meta);

  /* an IFD0 that claims 65535 entries and an IFD0 offset past the end */
  {
    g_autoptr(GByteArray) c = tiff_new ();
    g_autoptr(SluiceMetadata) m1 = NULL;
    g_autoptr(SluiceMetadata) m2 = NULL;

    append_le16 (c, 0xffff);
    tiff_pad (c, 100, 0x41);
    tiff_set_ifd0 (c, 8);
    m1 = sluice_probe_exif_extract (c->data, c->len, "many.tif");
    assert_sane (m1);
    tiff_set_ifd0 (c, 0xffffff00);
    m2 = sluice_probe_exif_extract (c->data, c->len, "far.tif");
    assert_sane (m2);
    g_assert_null (m2->make);
  }
}

static void
test_huge_makernote (void)
{
  /* as large as an APP1 segment allows, full of a Canon-like directory claiming many tags */
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) exif = NULL;
  g_autoptr(GBytes) jpeg = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(SluiceMetadata) large = NULL;
  g_autoptr(GBytes) tiff = NULL;
  ExifEntry *e;
  gsize size = 60000;

  set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MAKE, "Canon", -1);
  e = put_entry (ed, EXIF_IFD_EXIF, EXIF_TAG_MAKER_NOTE, EXIF_FORMAT_UNDEFINED, size);
  for (gsize i = 0; i < size; i++)
    e->data[i] = (i % 7 == 0) ? 0xff : (guint8) (i * 31);
  e->data[0] = 0xff;
  e->data[1] = 0xff;
  exif_data_set_option (ed, EXIF_DATA_OPTION_DONT_CHANGE_MAKER_NOTE);
  exif = save_exif (ed);
  jpeg = wrap_jpeg (exif);
  meta = extract (jpeg, "canon.jpg");
  g_assert_cmpstr (meta->make, ==, "Canon");
  g_assert_cmpstr (meta->datetime_original, ==, "2024:02:29 13:45:10");
  assert_sane (meta);

  /* a 1 MiB MakerNote in a large TIFF is left out by the compaction */
  tiff = build_large_tiff (sizeof tiny_jpeg, 1024 * 1024);
  large = extract (tiff, "raw.nef");
  g_assert_cmpstr (large->make, ==, "RAWMAKER");
  assert_sane (large);
}

static void
test_wrong_types (void)
{
  GByteArray *b = tiff_new ();
  g_autoptr(GBytes) tiff = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  static const guint8 orientation_rational[8] = { 6, 0, 0, 0, 1, 0, 0, 0 };
  guint32 exif_ifd, ifd0;

  {
    TEntry e[] = {
      T_ASCII (EXIF_TAG_DATE_TIME_ORIGINAL, "2021:05:06 07:08:09"),
      T_ASCII (EXIF_TAG_FNUMBER, "f/2.8"),
      T_SHORT (EXIF_TAG_EXPOSURE_TIME, 250),
    };
    exif_ifd = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
  }
  {
    /* ExifIfdPointer stored as ASCII whose value field still points at the Exif IFD, as in
     * exif-samples' 30-type_error.jpg; Make as a SHORT; Orientation as a RATIONAL */
    TEntry e[] = {
      T_SHORT (EXIF_TAG_MAKE, 42),
      T_ASCII (EXIF_TAG_MODEL, "Typed Wrong"),
      { EXIF_TAG_ORIENTATION, EXIF_FORMAT_RATIONAL, 1, orientation_rational, 8, 0 },
      { EXIF_TAG_EXIF_IFD_POINTER, EXIF_FORMAT_ASCII, 40, NULL, 0, exif_ifd },
    };
    ifd0 = tiff_ifd (b, e, G_N_ELEMENTS (e), 0);
  }
  tiff_set_ifd0 (b, ifd0);
  tiff = g_byte_array_free_to_bytes (b);

  meta = extract (tiff, "typed.tiff");
  g_assert_null (meta->make);
  g_assert_cmpstr (meta->model, ==, "Typed Wrong");
  g_assert_cmpint (meta->orientation, ==, -1);
  g_assert_true (isnan (meta->f_number));
  g_assert_cmpuint (meta->exposure_den, ==, 0);
  g_assert_true (has_warning (meta, "ExifIfdPointer has type ASCII"));
  /* the pointer's value is followed, as libexif does: the Exif IFD is there */
  g_assert_cmpstr (meta->datetime_original, ==, "2021:05:06 07:08:09");
  assert_sane (meta);
}

/* Field validation */

static SluiceMetadata *
extract_with_date (const char *date,
                   gssize      len)
{
  g_autoptr(ExifData) ed = new_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) exif = NULL;
  g_autoptr(GBytes) jpeg = NULL;

  set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MAKE, "Dater", -1);
  set_ascii (ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, date, len);
  exif = save_exif (ed);
  jpeg = wrap_jpeg (exif);
  return extract (jpeg, "date.jpg");
}

static void
test_bad_dates (void)
{
  static const char *const bad[] = {
    "0000:00:00 00:00:00",
    "                   ",
    "2024:13:40 25:61:61",
    "2023:02:29 10:00:00",   /* not a leap year */
    "2024:04:31 10:00:00",
    "2024-01-02 10:00:00",
    "2024:01:02 10:00",
    "2024:01:02 10:00:00 and more",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(SluiceMetadata) meta = extract_with_date (bad[i], -1);

      g_test_message ("date \"%s\"", bad[i]);
      g_assert_cmpstr (meta->make, ==, "Dater");
      g_assert_null (meta->datetime_original);
      g_assert_true (has_warning (meta, "DateTimeOriginal"));
    }
}

static void
test_future_date (void)
{
  g_autoptr(SluiceMetadata) y2100 = extract_with_date ("2100:01:01 00:00:00", -1);
  g_autoptr(SluiceMetadata) y2039 = extract_with_date ("2039:12:31 23:59:59", -1);
  g_autoptr(SluiceMetadata) leap = extract_with_date ("2000:02:29 12:00:00", -1);

  g_assert_cmpstr (y2100->datetime_original, ==, "2100:01:01 00:00:00");
  assert_no_warnings (y2100);
  g_assert_cmpstr (y2039->datetime_original, ==, "2039:12:31 23:59:59");
  g_assert_cmpstr (leap->datetime_original, ==, "2000:02:29 12:00:00");
}

static void
test_hostile_strings (void)
{
  static const char *const hostile[] = {
    "Canon\r\nX-Injected: 1",
    "<b>&amp;</b>",
    "=cmd|' /C calc'!A0",
    "\xff\xfe\xc3\x28 bad \xe2\x82",
    "../../etc/passwd",
    "\x1b[31mred\x1b[0m\x7f\xc2\x85",
    "\xe2\x80\xae" "txt.exe",
  };

  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr(ExifData) ed = new_exif (EXIF_BYTE_ORDER_MOTOROLA);
      g_autoptr(GBytes) exif = NULL;
      g_autoptr(GBytes) jpeg = NULL;
      g_autoptr(SluiceMetadata) meta = NULL;

      set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MAKE, hostile[i], -1);
      set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MODEL, hostile[i], -1);
      set_ascii (ed, EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL, hostile[i], -1);
      set_ascii (ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, hostile[i], -1);
      exif = save_exif (ed);
      jpeg = wrap_jpeg (exif);
      meta = extract (jpeg, "hostile.jpg");

      g_assert_nonnull (meta->make);
      assert_sane (meta);
      g_assert_null (strpbrk (meta->make, "\r\n\t"));
      g_assert_null (meta->datetime_original);
      g_assert_true (has_warning (meta, "DateTimeOriginal"));
    }

  /* the parts that are fine survive as they are; markup is the sink's business */
  {
    g_autoptr(ExifData) ed = new_exif (EXIF_BYTE_ORDER_INTEL);
    g_autoptr(GBytes) exif = NULL;
    g_autoptr(GBytes) jpeg = NULL;
    g_autoptr(SluiceMetadata) meta = NULL;
    g_autofree char *long_make = g_strnfill (1000, 'M');

    set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MAKE, "Canon\r\nX-Injected: 1", -1);
    set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MODEL, "<b>&amp;", -1);
    set_ascii (ed, EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL, long_make, -1);
    exif = save_exif (ed);
    jpeg = wrap_jpeg (exif);
    meta = extract (jpeg, "hostile.jpg");
    g_assert_cmpstr (meta->make, ==, "Canon X-Injected: 1");
    g_assert_cmpstr (meta->model, ==, "<b>&amp;");
    g_assert_cmpuint (strlen (meta->lens_model), ==, SLUICE_METADATA_MAX_STRING);
  }
}

static void
test_extension_mismatch (void)
{
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) exif = save_exif (ed);
  g_autoptr(GBytes) jpeg = wrap_jpeg (exif);
  g_autoptr(SluiceMetadata) as_png = extract (jpeg, "holiday/photo.png");
  g_autoptr(SluiceMetadata) as_upper = extract (jpeg, "holiday/PHOTO.JPG");
  g_autoptr(SluiceMetadata) as_heic = extract (jpeg, "photo.heic");
  g_autoptr(SluiceMetadata) no_ext = extract (jpeg, "photo");
  g_autoptr(SluiceMetadata) unknown_ext = extract (jpeg, "photo.bak");
  g_autoptr(GBytes) text = g_bytes_new_static ("hello world, not an image", 25);
  g_autoptr(SluiceMetadata) fake = extract (text, "fake.jpg");

  g_assert_true (has_warning (as_png, "content is jpeg but the name says .png"));
  g_assert_cmpstr (as_png->make, ==, "Sluice Optical");
  assert_no_warnings (as_upper);
  g_assert_true (has_warning (as_heic, "content is jpeg but the name says .heic"));
  assert_no_warnings (no_ext);
  assert_no_warnings (unknown_ext);
  g_assert_null (fake->container);
  g_assert_true (has_warning (fake, "name says .jpg"));
}

static void
test_thumbnail (void)
{
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_MOTOROLA);
  g_autoptr(GBytes) exif = save_exif (ed);
  g_autoptr(GBytes) jpeg = wrap_jpeg (exif);
  g_autoptr(SluiceMetadata) meta = extract (jpeg, "thumb.jpg");
  g_autoptr(ExifData) bad = new_full_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) bad_exif = NULL;
  g_autoptr(GBytes) bad_jpeg = NULL;
  g_autoptr(SluiceMetadata) bad_meta = NULL;

  g_assert_true (meta->has_thumbnail);
  g_assert_cmpmem (g_bytes_get_data (meta->thumbnail, NULL), g_bytes_get_size (meta->thumbnail),
                   tiny_jpeg, sizeof tiny_jpeg);

  /* a "thumbnail" that is not a JPEG is not one */
  set_thumbnail (bad, (const guint8 *) "GIF89a not a jpeg", 17);
  bad_exif = save_exif (bad);
  bad_jpeg = wrap_jpeg (bad_exif);
  bad_meta = extract (bad_jpeg, "thumb.jpg");
  g_assert_false (bad_meta->has_thumbnail);
  g_assert_null (bad_meta->thumbnail);
  g_assert_true (has_warning (bad_meta, "thumbnail is not a JPEG"));
}

static void
test_thumbnail_oversized (void)
{
  g_autoptr(GBytes) tiff = build_large_tiff (SLUICE_METADATA_MAX_THUMBNAIL + 1, 16);
  g_autoptr(SluiceMetadata) meta = extract (tiff, "big-thumb.tif");

  g_assert_true (meta->has_thumbnail);
  g_assert_null (meta->thumbnail);
  g_assert_true (has_warning (meta, "over the limit"));
  g_assert_cmpstr (meta->make, ==, "RAWMAKER");
}

static void
test_gps_invalid (void)
{
  static const guint32 zero_den[] = { 10, 1, 20, 0, 0, 1 };
  static const guint32 too_far[] = { 95, 1, 0, 1, 0, 1 };
  static const guint32 fine[] = { 10, 1, 30, 1, 0, 1 };
  g_autoptr(ExifData) ed = new_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) exif = NULL;
  g_autoptr(GBytes) jpeg = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;

  set_ascii (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE_REF, "N", -1);
  set_rationals (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE, zero_den, 3);
  set_ascii (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LONGITUDE_REF, "E", -1);
  set_rationals (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LONGITUDE, fine, 3);
  set_rational (ed, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE, 5, 0);
  exif = save_exif (ed);
  jpeg = wrap_jpeg (exif);
  meta = extract (jpeg, "gps.jpg");
  g_assert_true (isnan (meta->gps_latitude));
  g_assert_true (has_warning (meta, "GPSLatitude"));
  g_assert_cmpfloat_with_epsilon (meta->gps_longitude, 10.5, 1e-9);
  g_assert_true (isnan (meta->gps_altitude));
  g_assert_true (has_warning (meta, "GPSAltitude"));

  {
    g_autoptr(ExifData) ed2 = new_exif (EXIF_BYTE_ORDER_MOTOROLA);
    g_autoptr(GBytes) exif2 = NULL;
    g_autoptr(GBytes) jpeg2 = NULL;
    g_autoptr(SluiceMetadata) meta2 = NULL;

    set_ascii (ed2, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE_REF, "S", -1);
    set_rationals (ed2, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE, too_far, 3);
    exif2 = save_exif (ed2);
    jpeg2 = wrap_jpeg (exif2);
    meta2 = extract (jpeg2, "gps.jpg");
    g_assert_true (isnan (meta2->gps_latitude));
    g_assert_true (has_warning (meta2, "out of range"));
  }
}

static void
test_orientation_range (void)
{
  g_autoptr(ExifData) ed = new_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) exif = NULL;
  g_autoptr(GBytes) jpeg = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;

  set_short (ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, 9);
  set_short (ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION, 640);
  set_short (ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION, 480);
  exif = save_exif (ed);
  jpeg = wrap_jpeg (exif);
  meta = extract (jpeg, "o.jpg");
  g_assert_cmpint (meta->orientation, ==, -1);
  g_assert_true (has_warning (meta, "Orientation 9"));
  /* SHORT dimensions read as well as LONG ones */
  g_assert_cmpint (meta->exif_width, ==, 640);
  g_assert_cmpint (meta->exif_height, ==, 480);
}

/* Random damage: whatever the bytes, no crash, no hang, sane output. */
static void
test_mutations (void)
{
  g_autoptr(ExifData) ed = new_full_exif (EXIF_BYTE_ORDER_INTEL);
  g_autoptr(GBytes) exif = save_exif (ed);
  g_autoptr(GBytes) tiff = save_tiff (ed);
  GBytes *fixtures[] = {
    wrap_jpeg (exif), g_bytes_ref (tiff), wrap_png (tiff, 10, 10), wrap_webp (tiff, 10, 10),
    wrap_heif (tiff, 10, 10),
  };
  guint rounds = g_test_quick () ? 300 : 3000;

  for (guint f = 0; f < G_N_ELEMENTS (fixtures); f++)
    {
      gsize len = g_bytes_get_size (fixtures[f]);

      for (guint r = 0; r < rounds; r++)
        {
          g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (fixtures[f], NULL), len);
          g_autoptr(SluiceMetadata) meta = NULL;
          guint flips = g_test_rand_int_range (1, 9);
          gsize cut = len;

          for (guint i = 0; i < flips; i++)
            copy[g_test_rand_int_range (0, len)] = g_test_rand_int_range (0, 256);
          if (g_test_rand_bit ())
            cut = g_test_rand_int_range (1, len + 1);
          meta = sluice_probe_exif_extract (copy, cut, "mutant.jpg");
          assert_sane (meta);
        }
      g_bytes_unref (fixtures[f]);
    }
}

/* The real-world corpus, when it is there */

static SluiceMetadata *
extract_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, &error);

  g_assert_no_error (error);
  return sluice_probe_exif_extract ((const guint8 *) g_mapped_file_get_contents (map),
                                    g_mapped_file_get_length (map), path);
}

static guint
extract_tree (const char *dir,
              guint       depth)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  if (d == NULL || depth > 8)
    return 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        n += extract_tree (path, depth + 1);
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && strcmp (name, "README.md") != 0)
        {
          g_autoptr(SluiceMetadata) meta = extract_file (path);
          assert_sane (meta);
          g_assert_nonnull (meta->container);
          n++;
        }
    }
  return n;
}

static void
test_corpus (void)
{
  const char *root = g_getenv ("SLUICE_SOURCE_ROOT");
  g_autofree char *corpus = NULL;

  if (root == NULL)
    {
      g_test_skip ("SLUICE_SOURCE_ROOT is not set");
      return;
    }
  corpus = g_build_filename (root, "..", "shared", "corpus", "exif-samples", NULL);
  if (!g_file_test (corpus, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("no exif-samples corpus next to the source tree");
      return;
    }

  g_assert_cmpuint (extract_tree (corpus, 0), >=, 100);

  {
    g_autofree char *path = g_build_filename (corpus, "ianare-exif-samples", "jpg",
                                              "Canon_40D.jpg", NULL);
    g_autoptr(SluiceMetadata) meta = extract_file (path);

    g_assert_cmpstr (meta->make, ==, "Canon");
    g_assert_cmpstr (meta->model, ==, "Canon EOS 40D");
    g_assert_cmpstr (meta->container, ==, "jpeg");
    g_assert_true (meta->has_thumbnail);
  }
  {
    /* GPS with a western longitude */
    g_autofree char *path = g_build_filename (corpus, "metadata-extractor-images", "jpg",
                                              "Apple iPhone 6.jpg", NULL);
    g_autoptr(SluiceMetadata) meta = extract_file (path);

    g_assert_cmpfloat_with_epsilon (meta->gps_latitude, 51.7624083333333, 1e-6);
    g_assert_cmpfloat_with_epsilon (meta->gps_longitude, -0.317891666666667, 1e-6);
    g_assert_cmpfloat (meta->gps_altitude, >, 0);
  }
  {
    /* southern latitude */
    g_autofree char *path = g_build_filename (corpus, "ianare-exif-samples", "jpg",
                                              "Kodak_CX7530.jpg", NULL);
    g_autoptr(SluiceMetadata) meta = extract_file (path);

    g_assert_cmpfloat_with_epsilon (meta->gps_latitude, -0.3713, 1e-6);
  }
  {
    /* HEIF: Exif item and primary ispe */
    g_autofree char *path = g_build_filename (corpus, "ianare-exif-samples", "heic",
                                              "IMG_5195.HEIC", NULL);
    g_autoptr(SluiceMetadata) meta = extract_file (path);

    g_assert_cmpstr (meta->container, ==, "heif");
    g_assert_cmpstr (meta->make, ==, "Apple");
    g_assert_cmpint (meta->width, ==, 2566);
    g_assert_cmpint (meta->height, ==, 3313);
    g_assert_cmpfloat_with_epsilon (meta->gps_longitude, -94.2887722222222, 1e-6);
  }
  {
    /* TIFF whose IFD0 lies past the first 64 KiB */
    g_autofree char *path = g_build_filename (corpus, "ianare-exif-samples", "tiff",
                                              "BSG1.tiff", NULL);
    g_autoptr(SluiceMetadata) meta = extract_file (path);

    g_assert_cmpstr (meta->container, ==, "tiff");
    g_assert_cmpint (meta->width, ==, 635);
    g_assert_cmpint (meta->height, ==, 348);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/probe/exif/jpeg/roundtrip", test_jpeg_roundtrip);
  g_test_add_func ("/probe/exif/jpeg/main-sof", test_jpeg_main_sof);
  g_test_add_func ("/probe/exif/tiff/roundtrip", test_tiff_roundtrip);
  g_test_add_func ("/probe/exif/tiff/orf-magic", test_tiff_orf_magic);
  g_test_add_func ("/probe/exif/tiff/orf-maker-note", test_tiff_orf_maker_note);
  g_test_add_func ("/probe/exif/tiff/large", test_tiff_large);
  g_test_add_func ("/probe/exif/png", test_png);
  g_test_add_func ("/probe/exif/webp", test_webp);
  g_test_add_func ("/probe/exif/heif", test_heif);
  g_test_add_func ("/probe/exif/raf", test_raf);
  g_test_add_func ("/probe/exif/cr3", test_cr3);
  g_test_add_func ("/probe/exif/no-exif", test_no_exif);
  g_test_add_func ("/probe/exif/zero-byte", test_zero_byte);
  g_test_add_func ("/probe/exif/truncated", test_truncated);
  g_test_add_func ("/probe/exif/ifd-loop", test_ifd_loop);
  g_test_add_func ("/probe/exif/ifd-loop-large", test_ifd_loop_large);
  g_test_add_func ("/probe/exif/absurd-counts", test_absurd_counts);
  g_test_add_func ("/probe/exif/huge-makernote", test_huge_makernote);
  g_test_add_func ("/probe/exif/wrong-types", test_wrong_types);
  g_test_add_func ("/probe/exif/bad-dates", test_bad_dates);
  g_test_add_func ("/probe/exif/future-date", test_future_date);
  g_test_add_func ("/probe/exif/hostile-strings", test_hostile_strings);
  g_test_add_func ("/probe/exif/extension-mismatch", test_extension_mismatch);
  g_test_add_func ("/probe/exif/thumbnail", test_thumbnail);
  g_test_add_func ("/probe/exif/thumbnail-oversized", test_thumbnail_oversized);
  g_test_add_func ("/probe/exif/gps-invalid", test_gps_invalid);
  g_test_add_func ("/probe/exif/orientation-range", test_orientation_range);
  g_test_add_func ("/probe/exif/mutations", test_mutations);
  g_test_add_func ("/probe/exif/corpus", test_corpus);

  return g_test_run ();
}
