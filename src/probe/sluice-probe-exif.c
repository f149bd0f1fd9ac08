/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-exif"

#include "config.h"

#include <math.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <libexif/exif-log.h>
#include <libexif/exif-mem.h>
#include <libexif/exif-utils.h>

#include "sluice-metadata.h"
#include "sluice-probe-exif.h"
#include "sluice-sanitize.h"

/*
 * EXIF extraction for the probe helper.
 *
 * The container is recognised from its first bytes, never from the name. Each container parser
 * only locates two things: the TIFF block that holds the EXIF IFDs and the real frame size. The
 * TIFF block goes to libexif, which decodes the entries; the fields the catalog wants are then
 * read from libexif's tree and checked (ranges, dates, denominators) before they are kept.
 *
 * Every walk here is bounded: bytes scanned, segments, boxes, chunks, IFD entries and the memory
 * libexif may allocate. Anything odd becomes a warning, nothing aborts.
 */

/* How far a JPEG is walked looking for the APP1 and SOF segments. */
#define MAX_JPEG_SCAN         (16 * 1024 * 1024)
#define MAX_JPEG_SEGMENTS     4096
/* TIFF-based raws may put IFD0 anywhere in the file; beyond this we do not look. */
#define MAX_TIFF_INPUT        ((gsize) 256 * 1024 * 1024)
/* An EXIF item assembled from HEIF extents, or a PNG/WebP EXIF chunk. */
#define MAX_EXIF_BLOCK        (4 * 1024 * 1024)
/* libexif caps its input at 0xfffe bytes, "Exif\0\0" included: a TIFF block larger than this
 * is rebuilt (compacted) so that the IFDs we need fall inside the window libexif reads. */
#define LIBEXIF_MAX_TIFF      (0xfffe - 6)
#define MAX_IFD_ENTRIES       1024
#define MAX_COMPACT_VALUE     (8 * 1024)
#define MAX_BOXES             4096
#define MAX_CHUNKS            4096
#define MAX_HEIF_ITEMS        4096
#define MAX_HEIF_PROPERTIES   1024
#define MAX_LIBEXIF_WARNINGS  8
#define MAX_LIBEXIF_MEMORY    ((gsize) 32 * 1024 * 1024)

static const guint8 exif_header[6] = { 'E', 'x', 'i', 'f', 0, 0 };

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExifData, exif_data_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExifLog, exif_log_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExifMem, exif_mem_unref)

typedef struct
{
  SluiceMetadata *meta;
  const char     *kind;        /* container recognised from the content */
  const guint8   *tiff;        /* TIFF block ("II*\0" / "MM\0*") inside the file or `owned` */
  gsize           tiff_len;
  GByteArray     *owned;       /* a block assembled from several HEIF extents */
  const guint8   *cr3_exif;    /* CR3: CMT2 holds the Exif IFD as its own TIFF block */
  gsize           cr3_exif_len;
  const guint8   *cr3_gps;     /* CR3: CMT4 holds the GPS IFD */
  gsize           cr3_gps_len;
  gboolean        tiff_size;   /* the frame size is IFD0's ImageWidth/ImageLength */
  guint           n_boxes;
  guint           n_libexif_warnings;
} Probe;

/* Byte readers. Callers check the bounds first. */

static inline guint16
rd16be (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static inline guint32
rd32be (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static inline guint64
rd64be (const guint8 *p)
{
  return ((guint64) rd32be (p) << 32) | rd32be (p + 4);
}

static inline guint16
rd16le (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline guint32
rd24le (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16);
}

static inline guint32
rd32le (const guint8 *p)
{
  return rd24le (p) | ((guint32) p[3] << 24);
}

static inline guint16
rd16 (const guint8 *p,
      gboolean      be)
{
  return be ? rd16be (p) : rd16le (p);
}

static inline guint32
rd32 (const guint8 *p,
      gboolean      be)
{
  return be ? rd32be (p) : rd32le (p);
}

static void
put16 (guint8   *p,
       guint16   v,
       gboolean  be)
{
  if (be)
    {
      p[0] = v >> 8;
      p[1] = v & 0xff;
    }
  else
    {
      p[0] = v & 0xff;
      p[1] = v >> 8;
    }
}

static void
put32 (guint8   *p,
       guint32   v,
       gboolean  be)
{
  if (be)
    {
      put16 (p, v >> 16, TRUE);
      put16 (p + 2, v & 0xffff, TRUE);
    }
  else
    {
      put16 (p, v & 0xffff, FALSE);
      put16 (p + 2, v >> 16, FALSE);
    }
}

static gboolean
has_tiff_header (const guint8 *p,
                 gsize         len)
{
  if (len < 8)
    return FALSE;
  /* 42 for TIFF; ORF uses "RO"/"RS" and RW2 0x55 in that place but keeps the TIFF layout */
  if (p[0] == 'I' && p[1] == 'I')
    return (p[2] == 0x2a && p[3] == 0) || (p[2] == 'R' && (p[3] == 'O' || p[3] == 'S')) ||
           (p[2] == 'U' && p[3] == 0);
  if (p[0] == 'M' && p[1] == 'M')
    return p[2] == 0 && p[3] == 0x2a;
  return FALSE;
}

/* The EXIF payload of a PNG/WebP chunk or a HEIF item sometimes keeps the JPEG "Exif\0\0"
 * prefix. Accepts either form and sets the block if it looks like TIFF. */
static gboolean
set_tiff_block (Probe        *probe,
                const guint8 *p,
                gsize         len,
                const char   *where)
{
  if (len >= 6 && memcmp (p, exif_header, 5) == 0)
    {
      p += 6;
      len -= 6;
    }
  if (!has_tiff_header (p, len))
    {
      sluice_metadata_add_warning (probe->meta, "%s does not hold a TIFF header", where);
      return FALSE;
    }
  probe->tiff = p;
  probe->tiff_len = len;
  return TRUE;
}

/* Container detection */

static const char *
sniff_isobmff (const guint8 *data,
               gsize         len)
{
  static const char *const heif_brands[] = {
    "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs",
    "mif1", "mif2", "msf1", "avif", "avis", NULL,
  };
  guint32 size;

  if (len < 16 || memcmp (data + 4, "ftyp", 4) != 0)
    return NULL;
  size = rd32be (data);
  if (size < 16 || size > len)
    size = MIN (len, 64);

  /* major brand at 8, minor version at 12, compatible brands from 16 */
  for (gsize off = 8; off + 4 <= size; off += 4)
    {
      if (off == 12)
        continue;
      if (memcmp (data + off, "crx ", 4) == 0)
        return "cr3";
      for (guint i = 0; heif_brands[i] != NULL; i++)
        if (memcmp (data + off, heif_brands[i], 4) == 0)
          return "heif";
    }
  return NULL;
}

static const char *
sniff_container (const guint8 *data,
                 gsize         len)
{
  static const guint8 png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

  if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return "jpeg";
  if (has_tiff_header (data, len))
    return "tiff";
  if (len >= 100 && memcmp (data, "FUJIFILMCCD-RAW", 15) == 0)
    return "raf";
  if (len >= 8 && memcmp (data, png_sig, 8) == 0)
    return "png";
  if (len >= 16 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0)
    return "webp";
  return sniff_isobmff (data, len);
}

static const char *
kind_from_extension (const char  *name,
                     char       **ext_out)
{
  static const struct {
    const char *ext;
    const char *kind;
  } table[] = {
    { "jpg", "jpeg" }, { "jpeg", "jpeg" }, { "jpe", "jpeg" }, { "jfif", "jpeg" },
    { "tif", "tiff" }, { "tiff", "tiff" }, { "dng", "tiff" }, { "nef", "tiff" },
    { "nrw", "tiff" }, { "cr2", "tiff" }, { "arw", "tiff" }, { "srf", "tiff" },
    { "sr2", "tiff" }, { "orf", "tiff" }, { "rw2", "tiff" }, { "pef", "tiff" },
    { "srw", "tiff" }, { "erf", "tiff" }, { "3fr", "tiff" }, { "iiq", "tiff" },
    { "rwl", "tiff" }, { "gpr", "tiff" }, { "dcr", "tiff" }, { "mef", "tiff" },
    { "mos", "tiff" }, { "fff", "tiff" },
    { "heic", "heif" }, { "heif", "heif" }, { "hif", "heif" }, { "avif", "heif" },
    { "png", "png" }, { "webp", "webp" }, { "raf", "raf" }, { "cr3", "cr3" },
  };
  const char *dot;
  g_autofree char *lower = NULL;

  *ext_out = NULL;
  if (name == NULL)
    return NULL;
  dot = strrchr (name, '.');
  if (dot == NULL || strchr (dot, '/') != NULL || strlen (dot + 1) > 8)
    return NULL;
  lower = g_ascii_strdown (dot + 1, -1);
  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      if (strcmp (lower, table[i].ext) == 0)
        {
          *ext_out = g_steal_pointer (&lower);
          return table[i].kind;
        }
    }
  return NULL;
}

static void
check_extension (Probe      *probe,
                 const char *name_hint)
{
  g_autofree char *ext = NULL;
  const char *named = kind_from_extension (name_hint, &ext);

  if (named == NULL || g_strcmp0 (named, probe->kind) == 0)
    return;
  /* a Fujifilm RAF or Canon CR3 named .jpg/.tif is still a mismatch worth reporting */
  if (probe->kind == NULL)
    sluice_metadata_add_warning (probe->meta,
                                 "content is not a recognised image but the name says .%s", ext);
  else
    sluice_metadata_add_warning (probe->meta, "content is %s but the name says .%s",
                                 probe->kind, ext);
}

/* JPEG: walk the marker segments up to the first SOS. The APP1 "Exif" segment holds the TIFF
 * block; the first SOF gives the frame size. Segment lengths are followed, so the thumbnail
 * inside APP1 (which has its own SOF) is never looked at. */

static gboolean
is_sof_marker (guint8 marker)
{
  /* SOF0..SOF15 minus DHT (C4), JPG (C8) and DAC (CC) */
  return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
}

static void
parse_jpeg (Probe        *probe,
            const guint8 *data,
            gsize         len)
{
  gsize limit = MIN (len, (gsize) MAX_JPEG_SCAN);
  gsize pos = 2;
  gboolean have_exif = FALSE;
  gboolean have_sof = FALSE;

  for (guint segments = 0; segments < MAX_JPEG_SEGMENTS; segments++)
    {
      guint8 marker;
      gsize seg_len, avail;
      const guint8 *payload;

      if (pos >= limit)
        break;
      if (data[pos] != 0xff)
        {
          sluice_metadata_add_warning (probe->meta, "JPEG: no marker at byte %" G_GSIZE_FORMAT,
                                       pos);
          break;
        }
      while (pos < limit && data[pos] == 0xff)
        pos++;
      if (pos >= limit)
        break;
      marker = data[pos++];

      /* markers without a length */
      if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
        continue;
      if (marker == 0xd9)
        break;

      if (limit - pos < 2)
        {
          sluice_metadata_add_warning (probe->meta, "JPEG: truncated segment header");
          break;
        }
      seg_len = rd16be (data + pos);
      if (seg_len < 2)
        {
          sluice_metadata_add_warning (probe->meta, "JPEG: segment length %" G_GSIZE_FORMAT
                                       " at byte %" G_GSIZE_FORMAT, seg_len, pos);
          break;
        }
      payload = data + pos + 2;
      avail = MIN (seg_len - 2, limit - pos - 2);

      if (marker == 0xe1 && !have_exif && avail >= 6 && memcmp (payload, exif_header, 5) == 0)
        {
          have_exif = TRUE;
          if (avail < seg_len - 2)
            sluice_metadata_add_warning (probe->meta,
                                         "JPEG: EXIF segment is truncated (%" G_GSIZE_FORMAT
                                         " of %" G_GSIZE_FORMAT " bytes)", avail, seg_len - 2);
          set_tiff_block (probe, payload + 6, avail - 6, "JPEG APP1 segment");
        }
      else if (is_sof_marker (marker) && !have_sof && avail >= 5)
        {
          have_sof = TRUE;
          probe->meta->height = rd16be (payload + 1);
          probe->meta->width = rd16be (payload + 3);
        }

      /* entropy-coded data follows SOS: every header we need came before it */
      if (marker == 0xda)
        break;
      if (seg_len > limit - pos)
        {
          if (limit == len)
            sluice_metadata_add_warning (probe->meta, "JPEG: file ends inside a segment");
          break;
        }
      pos += seg_len;
    }
}

/* RAF: a Fujifilm header whose offset 84 points at an embedded JPEG with the EXIF. */
static void
parse_raf (Probe        *probe,
           const guint8 *data,
           gsize         len)
{
  guint32 off = rd32be (data + 84);
  guint32 jpeg_len = rd32be (data + 88);

  if (off >= len || jpeg_len > len - off || jpeg_len < 4 ||
      data[off] != 0xff || data[off + 1] != 0xd8)
    {
      sluice_metadata_add_warning (probe->meta, "RAF: no embedded JPEG at the offset given");
      return;
    }
  parse_jpeg (probe, data + off, jpeg_len);
}

/* PNG: IHDR gives the size, eXIf holds the TIFF block. */
static void
parse_png (Probe        *probe,
           const guint8 *data,
           gsize         len)
{
  gsize pos = 8;

  for (guint n = 0; n < MAX_CHUNKS && len - pos >= 12; n++)
    {
      guint32 clen = rd32be (data + pos);
      const guint8 *type = data + pos + 4;
      const guint8 *payload = data + pos + 8;

      if (clen > len - pos - 12)
        {
          sluice_metadata_add_warning (probe->meta, "PNG: chunk runs past the end of the file");
          break;
        }
      if (memcmp (type, "IHDR", 4) == 0 && clen >= 8)
        {
          probe->meta->width = rd32be (payload);
          probe->meta->height = rd32be (payload + 4);
        }
      else if (memcmp (type, "eXIf", 4) == 0 && probe->tiff == NULL && clen <= MAX_EXIF_BLOCK)
        set_tiff_block (probe, payload, clen, "PNG eXIf chunk");
      else if (memcmp (type, "IEND", 4) == 0)
        break;
      pos += 12 + (gsize) clen;
    }
}

/* WebP: RIFF chunks. VP8X gives the canvas, else the VP8/VP8L bitstream header the frame. */
static void
parse_webp (Probe        *probe,
            const guint8 *data,
            gsize         len)
{
  gsize pos = 12;
  gboolean have_canvas = FALSE;

  for (guint n = 0; n < MAX_CHUNKS && len - pos >= 8; n++)
    {
      guint32 clen = rd32le (data + pos + 4);
      const guint8 *fourcc = data + pos;
      const guint8 *payload = data + pos + 8;

      if (clen > len - pos - 8)
        {
          sluice_metadata_add_warning (probe->meta, "WebP: chunk runs past the end of the file");
          break;
        }
      if (memcmp (fourcc, "VP8X", 4) == 0 && clen >= 10)
        {
          probe->meta->width = 1 + (gint64) rd24le (payload + 4);
          probe->meta->height = 1 + (gint64) rd24le (payload + 7);
          have_canvas = TRUE;
        }
      else if (memcmp (fourcc, "VP8 ", 4) == 0 && !have_canvas && clen >= 10 &&
               payload[3] == 0x9d && payload[4] == 0x01 && payload[5] == 0x2a)
        {
          probe->meta->width = rd16le (payload + 6) & 0x3fff;
          probe->meta->height = rd16le (payload + 8) & 0x3fff;
          have_canvas = TRUE;
        }
      else if (memcmp (fourcc, "VP8L", 4) == 0 && !have_canvas && clen >= 5 &&
               payload[0] == 0x2f)
        {
          guint32 bits = rd32le (payload + 1);

          probe->meta->width = 1 + (bits & 0x3fff);
          probe->meta->height = 1 + ((bits >> 14) & 0x3fff);
          have_canvas = TRUE;
        }
      else if (memcmp (fourcc, "EXIF", 4) == 0 && probe->tiff == NULL && clen <= MAX_EXIF_BLOCK)
        set_tiff_block (probe, payload, clen, "WebP EXIF chunk");

      pos += 8 + (gsize) clen + (clen & 1);
      if (pos > len)
        break;
    }
}

/* ISOBMFF (HEIF, AVIF, CR3) */

typedef struct
{
  guint32       type;
  const guint8 *payload;
  gsize         len;
} Box;

#define FOURCC(a, b, c, d) \
  (((guint32) (a) << 24) | ((guint32) (b) << 16) | ((guint32) (c) << 8) | (guint32) (d))

/* Reads the box at *pos inside [data, data + len). FALSE at the end or on a damaged header. */
static gboolean
box_next (Probe        *probe,
          const guint8 *data,
          gsize         len,
          gsize        *pos,
          Box          *box)
{
  gsize p = *pos;
  guint64 size;
  gsize header = 8;

  if (p >= len || len - p < 8)
    return FALSE;
  if (++probe->n_boxes > MAX_BOXES)
    {
      if (probe->n_boxes == MAX_BOXES + 1)
        sluice_metadata_add_warning (probe->meta, "ISOBMFF: more than %d boxes", MAX_BOXES);
      return FALSE;
    }
  size = rd32be (data + p);
  box->type = rd32be (data + p + 4);
  if (size == 1)
    {
      if (len - p < 16)
        return FALSE;
      size = rd64be (data + p + 8);
      header = 16;
    }
  else if (size == 0)
    size = len - p;

  if (size < header || size > len - p)
    {
      sluice_metadata_add_warning (probe->meta, "ISOBMFF: box size %" G_GUINT64_FORMAT
                                   " at byte %" G_GSIZE_FORMAT " is out of bounds", size, p);
      return FALSE;
    }
  box->payload = data + p + header;
  box->len = size - header;
  *pos = p + size;
  return TRUE;
}

static gboolean
find_box (Probe        *probe,
          const guint8 *data,
          gsize         len,
          guint32       type,
          Box          *out)
{
  gsize pos = 0;
  Box box;

  while (box_next (probe, data, len, &pos, &box))
    {
      if (box.type == type)
        {
          *out = box;
          return TRUE;
        }
    }
  return FALSE;
}

typedef struct
{
  guint32       primary;
  gboolean      have_primary;
  guint32       exif_id;
  gboolean      have_exif;
  Box           idat;
  gboolean      have_idat;
  Box           iloc;
  gboolean      have_iloc;
  Box           iprp;
  gboolean      have_iprp;
} HeifMeta;

static void
heif_read_pitm (HeifMeta  *hm,
                const Box *box)
{
  if (box->len >= 6 && box->payload[0] == 0)
    {
      hm->primary = rd16be (box->payload + 4);
      hm->have_primary = TRUE;
    }
  else if (box->len >= 8)
    {
      hm->primary = rd32be (box->payload + 4);
      hm->have_primary = TRUE;
    }
}

/* iinf: the first 'infe' (version 2 or 3) of type 'Exif' */
static void
heif_read_iinf (Probe     *probe,
                HeifMeta  *hm,
                const Box *box)
{
  gsize pos;
  Box infe;

  if (box->len < 6)
    return;
  pos = box->payload[0] == 0 ? 6 : 8;

  for (guint n = 0; n < MAX_HEIF_ITEMS; n++)
    {
      const guint8 *p;
      guint version;
      guint32 id, type;

      if (!box_next (probe, box->payload, box->len, &pos, &infe))
        break;
      if (infe.type != FOURCC ('i', 'n', 'f', 'e') || infe.len < 4)
        continue;
      p = infe.payload;
      version = p[0];
      if (version == 2 && infe.len >= 12)
        {
          id = rd16be (p + 4);
          type = rd32be (p + 8);
        }
      else if (version == 3 && infe.len >= 14)
        {
          id = rd32be (p + 4);
          type = rd32be (p + 10);
        }
      else
        continue;
      if (type == FOURCC ('E', 'x', 'i', 'f') && !hm->have_exif)
        {
          hm->exif_id = id;
          hm->have_exif = TRUE;
        }
    }
}

/* Cursor over a box payload that fails once and stays failed. */
typedef struct
{
  const guint8 *p;
  gsize         len;
  gsize         pos;
  gboolean      bad;
} Cursor;

static guint64
cursor_read (Cursor *c,
             guint   size)
{
  guint64 v = 0;

  if (size == 0)
    return 0;
  if (c->bad || size > 8 || c->len - c->pos < size)
    {
      c->bad = TRUE;
      return 0;
    }
  for (guint i = 0; i < size; i++)
    v = (v << 8) | c->p[c->pos + i];
  c->pos += size;
  return v;
}

/* iloc: find the extents of item @id and copy them into one bounded block. */
static GByteArray *
heif_read_item (Probe          *probe,
                const HeifMeta *hm,
                guint32         id,
                const guint8   *file,
                gsize           file_len)
{
  Cursor c = { hm->iloc.payload, hm->iloc.len, 0, FALSE };
  guint version, offset_size, length_size, base_offset_size, index_size = 0;
  guint32 count;

  version = cursor_read (&c, 1);
  cursor_read (&c, 3);
  offset_size = cursor_read (&c, 1);
  length_size = offset_size & 0xf;
  offset_size >>= 4;
  base_offset_size = cursor_read (&c, 1);
  if (version == 1 || version == 2)
    index_size = base_offset_size & 0xf;
  base_offset_size >>= 4;
  count = version < 2 ? cursor_read (&c, 2) : cursor_read (&c, 4);
  if (c.bad || version > 2)
    {
      sluice_metadata_add_warning (probe->meta, "HEIF: unsupported or damaged iloc box");
      return NULL;
    }

  for (guint32 i = 0; i < count && i < MAX_HEIF_ITEMS && !c.bad; i++)
    {
      guint32 item_id = version < 2 ? cursor_read (&c, 2) : cursor_read (&c, 4);
      guint method = 0;
      guint64 base;
      guint extents;
      g_autoptr(GByteArray) out = NULL;

      if (version == 1 || version == 2)
        method = cursor_read (&c, 2) & 0xf;
      cursor_read (&c, 2); /* data_reference_index */
      base = cursor_read (&c, base_offset_size);
      extents = cursor_read (&c, 2);
      if (item_id == id)
        out = g_byte_array_new ();

      for (guint e = 0; e < extents && !c.bad; e++)
        {
          guint64 off, elen;
          const guint8 *src = file;
          gsize src_len = file_len;

          if (index_size > 0)
            cursor_read (&c, index_size);
          off = cursor_read (&c, offset_size);
          elen = cursor_read (&c, length_size);
          if (out == NULL || c.bad)
            continue;
          if (method == 1 && hm->have_idat)
            {
              src = hm->idat.payload;
              src_len = hm->idat.len;
            }
          else if (method != 0)
            {
              sluice_metadata_add_warning (probe->meta,
                                           "HEIF: EXIF item uses construction method %u", method);
              return NULL;
            }
          if (base > src_len || off > src_len - base)
            {
              sluice_metadata_add_warning (probe->meta, "HEIF: EXIF extent outside the file");
              return NULL;
            }
          off += base;
          if (elen == 0)
            elen = src_len - off;
          if (elen > src_len - off || elen > MAX_EXIF_BLOCK - out->len)
            {
              sluice_metadata_add_warning (probe->meta, "HEIF: EXIF extent too large or "
                                           "outside the file");
              return NULL;
            }
          g_byte_array_append (out, src + off, elen);
        }
      if (out != NULL && !c.bad)
        return g_steal_pointer (&out);
    }
  if (c.bad)
    sluice_metadata_add_warning (probe->meta, "HEIF: damaged iloc box");
  return NULL;
}

/* iprp: the 'ispe' property associated (ipma) with the primary item */
static void
heif_read_size (Probe          *probe,
                const HeifMeta *hm)
{
  const guint8 *props[MAX_HEIF_PROPERTIES];
  gsize props_len[MAX_HEIF_PROPERTIES];
  guint n_props = 0;
  Box ipco, child;
  gsize pos = 0;

  if (!find_box (probe, hm->iprp.payload, hm->iprp.len, FOURCC ('i', 'p', 'c', 'o'), &ipco))
    return;
  while (n_props < MAX_HEIF_PROPERTIES && box_next (probe, ipco.payload, ipco.len, &pos, &child))
    {
      props[n_props] = child.type == FOURCC ('i', 's', 'p', 'e') ? child.payload : NULL;
      props_len[n_props] = child.len;
      n_props++;
    }

  pos = 0;
  while (box_next (probe, hm->iprp.payload, hm->iprp.len, &pos, &child))
    {
      Cursor c = { child.payload, child.len, 0, FALSE };
      guint version, flags;
      guint32 entries;

      if (child.type != FOURCC ('i', 'p', 'm', 'a'))
        continue;
      version = cursor_read (&c, 1);
      flags = cursor_read (&c, 3);
      entries = cursor_read (&c, 4);
      for (guint32 i = 0; i < entries && i < MAX_HEIF_ITEMS && !c.bad; i++)
        {
          guint32 item = version < 1 ? cursor_read (&c, 2) : cursor_read (&c, 4);
          guint assocs = cursor_read (&c, 1);

          for (guint a = 0; a < assocs && !c.bad; a++)
            {
              guint index = (flags & 1) ? cursor_read (&c, 2) & 0x7fff : cursor_read (&c, 1) & 0x7f;

              if (c.bad || item != hm->primary || index == 0 || index > n_props)
                continue;
              if (props[index - 1] != NULL && props_len[index - 1] >= 12)
                {
                  probe->meta->width = rd32be (props[index - 1] + 4);
                  probe->meta->height = rd32be (props[index - 1] + 8);
                  return;
                }
            }
        }
    }
}

static void
parse_heif (Probe        *probe,
            const guint8 *data,
            gsize         len)
{
  HeifMeta hm = { 0 };
  g_autoptr(GByteArray) item = NULL;
  Box meta, child;
  gsize pos = 4; /* meta is a full box: skip version and flags */
  guint32 off;

  if (!find_box (probe, data, len, FOURCC ('m', 'e', 't', 'a'), &meta) || meta.len < 4)
    {
      sluice_metadata_add_warning (probe->meta, "HEIF: no meta box");
      return;
    }
  while (box_next (probe, meta.payload, meta.len, &pos, &child))
    {
      switch (child.type)
        {
        case FOURCC ('p', 'i', 't', 'm'):
          heif_read_pitm (&hm, &child);
          break;
        case FOURCC ('i', 'i', 'n', 'f'):
          heif_read_iinf (probe, &hm, &child);
          break;
        case FOURCC ('i', 'l', 'o', 'c'):
          hm.iloc = child;
          hm.have_iloc = TRUE;
          break;
        case FOURCC ('i', 'p', 'r', 'p'):
          hm.iprp = child;
          hm.have_iprp = TRUE;
          break;
        case FOURCC ('i', 'd', 'a', 't'):
          hm.idat = child;
          hm.have_idat = TRUE;
          break;
        default:
          break;
        }
    }

  if (hm.have_iprp && hm.have_primary)
    heif_read_size (probe, &hm);
  if (!hm.have_exif || !hm.have_iloc)
    return;

  item = heif_read_item (probe, &hm, hm.exif_id, data, len);
  if (item == NULL)
    return;
  /* the Exif item starts with the offset of the TIFF header from the end of that field */
  if (item->len < 4 || (off = rd32be (item->data)) > item->len - 4)
    {
      sluice_metadata_add_warning (probe->meta, "HEIF: damaged EXIF item header");
      return;
    }
  probe->owned = g_steal_pointer (&item);
  set_tiff_block (probe, probe->owned->data + 4 + off, probe->owned->len - 4 - off,
                  "HEIF EXIF item");
}

/* CR3: moov/uuid(Canon) holds CMT1 (IFD0), CMT2 (Exif IFD) and CMT4 (GPS IFD), each a TIFF
 * block of its own. They are merged into one TIFF block by the compactor below. */
static void
parse_cr3 (Probe        *probe,
           const guint8 *data,
           gsize         len)
{
  static const guint8 canon_uuid[16] = {
    0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0,
    0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48,
  };
  Box moov, uuid, child;
  gsize pos = 0;

  if (!find_box (probe, data, len, FOURCC ('m', 'o', 'o', 'v'), &moov))
    {
      sluice_metadata_add_warning (probe->meta, "CR3: no moov box");
      return;
    }
  for (;;)
    {
      gsize cpos = 16;

      if (!box_next (probe, moov.payload, moov.len, &pos, &uuid))
        return;
      if (uuid.type != FOURCC ('u', 'u', 'i', 'd') || uuid.len < 16 ||
          memcmp (uuid.payload, canon_uuid, 16) != 0)
        continue;

      while (box_next (probe, uuid.payload, uuid.len, &cpos, &child))
        {
          if (!has_tiff_header (child.payload, child.len))
            continue;
          if (child.type == FOURCC ('C', 'M', 'T', '1'))
            {
              probe->tiff = child.payload;
              probe->tiff_len = child.len;
            }
          else if (child.type == FOURCC ('C', 'M', 'T', '2'))
            {
              probe->cr3_exif = child.payload;
              probe->cr3_exif_len = child.len;
            }
          else if (child.type == FOURCC ('C', 'M', 'T', '4'))
            {
              probe->cr3_gps = child.payload;
              probe->cr3_gps_len = child.len;
            }
        }
      return;
    }
}

/* TIFF compaction.
 *
 * libexif reads at most 64 KiB, which is enough for a JPEG APP1 segment but not for a TIFF or
 * raw file whose IFD0 sits after megabytes of image data. Such a block is rebuilt: IFD0, the
 * Exif, GPS and Interoperability IFDs and IFD1 are copied (each once, so loops end) with their
 * values into a new block in the same byte order, children first so that pointers are known
 * when the parent is written. Entries libexif cannot use after relocation (strip/tile offsets,
 * SubIFDs, the MakerNote, whose private offsets would break) and oversized values are left out.
 * The IFD1 thumbnail is not copied: its place in the source is remembered instead. */

typedef struct
{
  const guint8 *data;
  gsize         len;
  gboolean      be;
} TiffSrc;

typedef struct
{
  guint16       tag;
  guint16       type;
  guint32       count;
  guint8        value[4];
  const guint8 *ext;       /* out-of-line value in the source */
  guint32       ext_len;
} IfdEntry;

typedef struct
{
  Probe        *probe;
  GByteArray   *out;       /* "Exif\0\0" + the rebuilt TIFF block */
  gboolean      be;
  guint         done;      /* bit per ExifIfd already written */
  TiffSrc       extra_exif;
  TiffSrc       extra_gps;
  const guint8 *thumb;
  gsize         thumb_len;
} Compactor;

static gboolean
tiff_src_init (TiffSrc      *src,
               const guint8 *data,
               gsize         len,
               guint32      *ifd0)
{
  if (data == NULL || !has_tiff_header (data, len))
    return FALSE;
  src->data = data;
  src->len = len;
  src->be = data[0] == 'M';
  *ifd0 = rd32 (data + 4, src->be);
  return TRUE;
}

static gboolean
entry_u32 (const TiffSrc *src,
           const guint8  *p,
           guint32       *out)
{
  guint16 type = rd16 (p + 2, src->be);

  if (rd32 (p + 4, src->be) != 1)
    return FALSE;
  if (type == EXIF_FORMAT_LONG)
    *out = rd32 (p + 8, src->be);
  else if (type == EXIF_FORMAT_SHORT)
    *out = rd16 (p + 8, src->be);
  else
    return FALSE;
  return TRUE;
}

static gsize
entries_size (GArray *entries)
{
  gsize size = 2 + 12 * (gsize) entries->len + 4;

  for (guint i = 0; i < entries->len; i++)
    {
      const IfdEntry *e = &g_array_index (entries, IfdEntry, i);

      if (e->ext != NULL)
        size += e->ext_len + (e->ext_len & 1);
    }
  return size;
}

static ExifIfd
pointer_target (guint16 tag,
                ExifIfd ifd)
{
  if (ifd == EXIF_IFD_0 && tag == EXIF_TAG_EXIF_IFD_POINTER)
    return EXIF_IFD_EXIF;
  if (ifd == EXIF_IFD_0 && tag == EXIF_TAG_GPS_INFO_IFD_POINTER)
    return EXIF_IFD_GPS;
  if (ifd == EXIF_IFD_EXIF && tag == EXIF_TAG_INTEROPERABILITY_IFD_POINTER)
    return EXIF_IFD_INTEROPERABILITY;
  return EXIF_IFD_COUNT;
}

static guint32 compact_ifd (Compactor     *c,
                            const TiffSrc *src,
                            guint32        offset,
                            ExifIfd        ifd,
                            guint32       *next);

static void
add_pointer_entry (Compactor *c,
                   GArray    *entries,
                   guint16    tag,
                   guint32    target)
{
  IfdEntry e = { tag, EXIF_FORMAT_LONG, 1, { 0 }, NULL, 0 };

  put32 (e.value, target, c->be);
  g_array_append_val (entries, e);
}

static void
compact_collect (Compactor     *c,
                 const TiffSrc *src,
                 guint32        offset,
                 guint          n,
                 ExifIfd        ifd,
                 GArray        *entries)
{
  const guint8 *thumb_off = NULL, *thumb_len = NULL;

  for (guint i = 0; i < n; i++)
    {
      const guint8 *p = src->data + offset + 2 + 12 * (gsize) i;
      IfdEntry e = { rd16 (p, src->be), rd16 (p + 2, src->be), rd32 (p + 4, src->be) };
      guint fsize = exif_format_get_size (e.type);
      ExifIfd child = pointer_target (e.tag, ifd);
      guint32 total, doff;

      if (child != EXIF_IFD_COUNT)
        {
          guint32 child_off, target;

          /* followed whatever the declared type, as libexif does on the direct path */
          target = e.type == EXIF_FORMAT_SHORT ? rd16 (p + 8, src->be) : rd32 (p + 8, src->be);
          child_off = compact_ifd (c, src, target, child, NULL);
          if (child_off != 0)
            add_pointer_entry (c, entries, e.tag, child_off);
          continue;
        }
      if (ifd == EXIF_IFD_1 && e.tag == EXIF_TAG_JPEG_INTERCHANGE_FORMAT)
        thumb_off = p;
      if (ifd == EXIF_IFD_1 && e.tag == EXIF_TAG_JPEG_INTERCHANGE_FORMAT_LENGTH)
        thumb_len = p;
      if (e.tag == EXIF_TAG_MAKER_NOTE || e.tag == EXIF_TAG_STRIP_OFFSETS ||
          e.tag == EXIF_TAG_JPEG_INTERCHANGE_FORMAT ||
          e.tag == EXIF_TAG_JPEG_INTERCHANGE_FORMAT_LENGTH ||
          e.tag == 0x0144 /* TileOffsets */ || e.tag == 0x014a /* SubIFDs */)
        continue;
      if (fsize == 0 || e.count == 0 || e.count > G_MAXUINT32 / fsize)
        continue;
      total = fsize * e.count;
      if (total <= 4)
        {
          memcpy (e.value, p + 8, 4);
          g_array_append_val (entries, e);
          continue;
        }
      doff = rd32 (p + 8, src->be);
      if (doff > src->len || total > src->len - doff || total > MAX_COMPACT_VALUE)
        continue;
      e.ext = src->data + doff;
      e.ext_len = total;
      g_array_append_val (entries, e);
    }

  if (thumb_off != NULL && thumb_len != NULL)
    {
      guint32 toff = 0, tlen = 0;

      if (entry_u32 (src, thumb_off, &toff) && entry_u32 (src, thumb_len, &tlen) &&
          toff < src->len && tlen > 0 && tlen <= src->len - toff)
        {
          c->thumb = src->data + toff;
          c->thumb_len = tlen;
        }
    }
}

static guint32
compact_ifd (Compactor     *c,
             const TiffSrc *src,
             guint32        offset,
             ExifIfd        ifd,
             guint32       *next)
{
  g_autoptr(GArray) entries = g_array_new (FALSE, TRUE, sizeof (IfdEntry));
  gsize start, data_pos;
  guint n;

  if (next != NULL)
    *next = 0;
  if (c->done & (1u << ifd))
    return 0;
  c->done |= 1u << ifd;
  if (src->be != c->be)
    return 0;
  if (offset < 8 || offset > src->len - 2)
    {
      sluice_metadata_add_warning (c->probe->meta, "IFD %s at %u is outside the EXIF block",
                                   exif_ifd_get_name (ifd), offset);
      return 0;
    }
  n = rd16 (src->data + offset, src->be);
  if ((src->len - offset - 2) / 12 < n)
    {
      sluice_metadata_add_warning (c->probe->meta, "IFD %s is truncated",
                                   exif_ifd_get_name (ifd));
      n = (src->len - offset - 2) / 12;
    }
  else if (next != NULL && src->len - offset - 2 - 12 * (gsize) n >= 4)
    *next = rd32 (src->data + offset + 2 + 12 * (gsize) n, src->be);
  n = MIN (n, MAX_IFD_ENTRIES);

  compact_collect (c, src, offset, n, ifd, entries);

  /* CR3: the Exif and GPS IFDs come from their own blocks */
  if (ifd == EXIF_IFD_0 && c->extra_exif.data != NULL)
    {
      guint32 child = compact_ifd (c, &c->extra_exif, rd32 (c->extra_exif.data + 4, c->be),
                                   EXIF_IFD_EXIF, NULL);
      if (child != 0)
        add_pointer_entry (c, entries, EXIF_TAG_EXIF_IFD_POINTER, child);
    }
  if (ifd == EXIF_IFD_0 && c->extra_gps.data != NULL)
    {
      guint32 child = compact_ifd (c, &c->extra_gps, rd32 (c->extra_gps.data + 4, c->be),
                                   EXIF_IFD_GPS, NULL);
      if (child != 0)
        add_pointer_entry (c, entries, EXIF_TAG_GPS_INFO_IFD_POINTER, child);
    }

  /* drop the largest values until the directory fits in what libexif will read */
  while (entries->len > 0 && c->out->len - 6 + entries_size (entries) > LIBEXIF_MAX_TIFF)
    {
      guint largest = 0;

      for (guint i = 1; i < entries->len; i++)
        if (g_array_index (entries, IfdEntry, i).ext_len >
            g_array_index (entries, IfdEntry, largest).ext_len)
          largest = i;
      if (g_array_index (entries, IfdEntry, largest).ext_len == 0)
        return 0;
      g_array_remove_index (entries, largest);
    }
  if (entries->len == 0)
    return 0;

  start = c->out->len;
  g_byte_array_set_size (c->out, start + entries_size (entries));
  memset (c->out->data + start, 0, c->out->len - start);
  put16 (c->out->data + start, entries->len, c->be);
  data_pos = start + 2 + 12 * (gsize) entries->len + 4;
  for (guint i = 0; i < entries->len; i++)
    {
      const IfdEntry *e = &g_array_index (entries, IfdEntry, i);
      guint8 *p = c->out->data + start + 2 + 12 * (gsize) i;

      put16 (p, e->tag, c->be);
      put16 (p + 2, e->type, c->be);
      put32 (p + 4, e->count, c->be);
      if (e->ext == NULL)
        memcpy (p + 8, e->value, 4);
      else
        {
          put32 (p + 8, data_pos - 6, c->be);
          memcpy (c->out->data + data_pos, e->ext, e->ext_len);
          data_pos += e->ext_len + (e->ext_len & 1);
        }
    }
  return start - 6;
}

static GByteArray *
compact_tiff (Probe *probe)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  Compactor c = { probe, out };
  TiffSrc src;
  guint32 ifd0 = 0, ifd0_new, ifd1 = 0, ifd1_new, dummy;
  guint8 header[8];

  if (!tiff_src_init (&src, probe->tiff, probe->tiff_len, &ifd0))
    return NULL;
  c.be = src.be;
  if (probe->cr3_exif != NULL)
    tiff_src_init (&c.extra_exif, probe->cr3_exif, probe->cr3_exif_len, &dummy);
  if (probe->cr3_gps != NULL)
    tiff_src_init (&c.extra_gps, probe->cr3_gps, probe->cr3_gps_len, &dummy);

  memcpy (header, src.be ? "MM\0*" : "II*\0", 4);
  put32 (header + 4, 0, src.be);
  g_byte_array_append (out, exif_header, 6);
  g_byte_array_append (out, header, 8);

  ifd0_new = compact_ifd (&c, &src, ifd0, EXIF_IFD_0, &ifd1);
  if (ifd0_new == 0)
    return NULL;
  put32 (out->data + 6 + 4, ifd0_new, src.be);

  if (ifd1 != 0)
    {
      gsize next_pos = 6 + ifd0_new + 2 + 12 * (gsize) rd16 (out->data + 6 + ifd0_new, src.be);

      ifd1_new = compact_ifd (&c, &src, ifd1, EXIF_IFD_1, NULL);
      /* an IFD1 that held only the thumbnail pointers is not written; the thumbnail is kept */
      if (ifd1_new != 0)
        put32 (out->data + next_pos, ifd1_new, src.be);
    }

  if (c.thumb != NULL)
    {
      probe->meta->has_thumbnail = TRUE;
      if (c.thumb_len >= 2 && c.thumb[0] == 0xff && c.thumb[1] == 0xd8)
        {
          if (c.thumb_len <= SLUICE_METADATA_MAX_THUMBNAIL)
            probe->meta->thumbnail = g_bytes_new (c.thumb, c.thumb_len);
          else
            sluice_metadata_add_warning (probe->meta, "thumbnail of %" G_GSIZE_FORMAT
                                         " bytes is over the limit", c.thumb_len);
        }
      else
        {
          probe->meta->has_thumbnail = FALSE;
          sluice_metadata_add_warning (probe->meta, "IFD1 thumbnail is not a JPEG");
        }
    }
  return g_steal_pointer (&out);
}

/* libexif: bounded allocator and log capture */

static _Thread_local gsize libexif_in_use;

typedef union
{
  gsize  size;
  double align;
  void  *ptr;
} MemHeader;

static void *
bounded_alloc (ExifLong size)
{
  MemHeader *h;

  if (size == 0 || size > MAX_LIBEXIF_MEMORY - libexif_in_use)
    return NULL;
  h = g_try_malloc0 (sizeof (MemHeader) + size);
  if (h == NULL)
    return NULL;
  h->size = size;
  libexif_in_use += size;
  return h + 1;
}

static void
bounded_free (void *ptr)
{
  MemHeader *h;

  if (ptr == NULL)
    return;
  h = (MemHeader *) ptr - 1;
  libexif_in_use -= h->size;
  g_free (h);
}

static void *
bounded_realloc (void     *ptr,
                 ExifLong  size)
{
  MemHeader *h;
  gsize old;

  if (ptr == NULL)
    return bounded_alloc (size);
  if (size == 0)
    {
      bounded_free (ptr);
      return NULL;
    }
  h = (MemHeader *) ptr - 1;
  old = h->size;
  if (size > old && size - old > MAX_LIBEXIF_MEMORY - libexif_in_use)
    return NULL;
  h = g_try_realloc (h, sizeof (MemHeader) + size);
  if (h == NULL)
    return NULL;
  libexif_in_use = libexif_in_use - old + size;
  h->size = size;
  return h + 1;
}

static void on_libexif_log (ExifLog     *log,
                            ExifLogCode  code,
                            const char  *domain,
                            const char  *format,
                            va_list      args,
                            void        *user_data) G_GNUC_PRINTF (4, 0);

static void
on_libexif_log (ExifLog     *log,
                ExifLogCode  code,
                const char  *domain,
                const char  *format,
                va_list      args,
                void        *user_data)
{
  Probe *probe = user_data;
  g_autofree char *message = NULL;

  /* debug messages are chatter; data and memory problems are worth a warning each */
  if (code != EXIF_LOG_CODE_CORRUPT_DATA && code != EXIF_LOG_CODE_NO_MEMORY)
    return;
  if (probe->n_libexif_warnings++ >= MAX_LIBEXIF_WARNINGS)
    return;
  message = g_strdup_vprintf (format, args);
  sluice_metadata_add_warning (probe->meta, "libexif: %s", message);
}

/* Field readers over libexif's tree */

static ExifEntry *
lookup (ExifData *ed,
        ExifIfd   ifd,
        ExifTag   tag)
{
  ExifEntry *e = exif_content_get_entry (ed->ifd[ifd], tag);

  /* exiftool reads a tag in whichever of IFD0 and the Exif IFD it was written to */
  if (e == NULL && ifd == EXIF_IFD_EXIF)
    e = exif_content_get_entry (ed->ifd[EXIF_IFD_0], tag);
  else if (e == NULL && ifd == EXIF_IFD_0)
    e = exif_content_get_entry (ed->ifd[EXIF_IFD_EXIF], tag);
  return e;
}

static char *
entry_string (ExifEntry *e)
{
  if (e == NULL || e->data == NULL || e->size == 0)
    return NULL;
  if (e->format != EXIF_FORMAT_ASCII && e->format != EXIF_FORMAT_UNDEFINED &&
      e->format != EXIF_FORMAT_BYTE)
    return NULL;
  return sluice_sanitize_text ((const char *) e->data, e->size, SLUICE_METADATA_MAX_STRING);
}

static gboolean
entry_uint (ExifEntry *e,
            guint      index,
            guint64   *out)
{
  ExifByteOrder order;
  guint fsize;

  if (e == NULL || e->data == NULL || index >= e->components)
    return FALSE;
  fsize = exif_format_get_size (e->format);
  if (fsize == 0 || e->size / fsize <= index)
    return FALSE;
  order = exif_data_get_byte_order (e->parent->parent);

  switch (e->format)
    {
    case EXIF_FORMAT_BYTE:
      *out = e->data[index];
      return TRUE;
    case EXIF_FORMAT_SHORT:
      *out = exif_get_short (e->data + 2 * index, order);
      return TRUE;
    case EXIF_FORMAT_LONG:
      *out = exif_get_long (e->data + 4 * index, order);
      return TRUE;
    case EXIF_FORMAT_SSHORT:
      {
        ExifSShort v = exif_get_sshort (e->data + 2 * index, order);
        *out = v;
        return v >= 0;
      }
    case EXIF_FORMAT_SLONG:
      {
        ExifSLong v = exif_get_slong (e->data + 4 * index, order);
        *out = v;
        return v >= 0;
      }
    default:
      return FALSE;
    }
}

/* The rational at @index as stored. FALSE if absent, not a rational or negative. */
static gboolean
entry_rational (ExifEntry *e,
                guint      index,
                guint32   *num,
                guint32   *den)
{
  ExifByteOrder order;

  if (e == NULL || e->data == NULL || index >= e->components || e->size / 8 <= index)
    return FALSE;
  order = exif_data_get_byte_order (e->parent->parent);
  if (e->format == EXIF_FORMAT_RATIONAL)
    {
      ExifRational r = exif_get_rational (e->data + 8 * index, order);
      *num = r.numerator;
      *den = r.denominator;
      return TRUE;
    }
  if (e->format == EXIF_FORMAT_SRATIONAL)
    {
      ExifSRational r = exif_get_srational (e->data + 8 * index, order);
      if (r.numerator < 0 || r.denominator < 0)
        return FALSE;
      *num = r.numerator;
      *den = r.denominator;
      return TRUE;
    }
  return FALSE;
}

static double
entry_double (SluiceMetadata *meta,
              ExifEntry      *e,
              const char     *name)
{
  guint32 num, den;

  if (!entry_rational (e, 0, &num, &den))
    return NAN;
  if (den == 0)
    {
      sluice_metadata_add_warning (meta, "%s has a zero denominator", name);
      return NAN;
    }
  return (double) num / den;
}

static gboolean
is_valid_datetime (const char *s)
{
  static const char pattern[] = "dddd:dd:dd dd:dd:dd";
  guint year, month, day, hour, minute, second;

  if (strlen (s) != sizeof pattern - 1)
    return FALSE;
  for (guint i = 0; i < sizeof pattern - 1; i++)
    {
      if (pattern[i] == 'd' ? !g_ascii_isdigit (s[i]) : s[i] != pattern[i])
        return FALSE;
    }
#define DIGITS2(i) ((guint) (s[i] - '0') * 10 + (guint) (s[(i) + 1] - '0'))
  year = DIGITS2 (0) * 100 + DIGITS2 (2);
  month = DIGITS2 (5);
  day = DIGITS2 (8);
  hour = DIGITS2 (11);
  minute = DIGITS2 (14);
  second = DIGITS2 (17);
#undef DIGITS2
  if (year < 1 || month < 1 || month > 12 || day < 1)
    return FALSE;
  if (day > g_date_get_days_in_month ((GDateMonth) month, (GDateYear) year))
    return FALSE;
  /* 60 allows a leap second */
  return hour <= 23 && minute <= 59 && second <= 60;
}

static void
read_datetime (Probe    *probe,
               ExifData *ed)
{
  g_autofree char *value = entry_string (lookup (ed, EXIF_IFD_EXIF,
                                                 EXIF_TAG_DATE_TIME_ORIGINAL));

  if (value == NULL)
    {
      if (lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL) != NULL)
        sluice_metadata_add_warning (probe->meta, "DateTimeOriginal is blank");
      return;
    }
  if (!is_valid_datetime (value))
    {
      sluice_metadata_add_warning (probe->meta, "DateTimeOriginal \"%s\" is not a valid date",
                                   value);
      return;
    }
  probe->meta->datetime_original = g_steal_pointer (&value);
}

static void
read_exposure (Probe    *probe,
               ExifData *ed)
{
  guint32 num, den;

  if (!entry_rational (lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME), 0, &num, &den))
    return;
  if (den == 0)
    {
      sluice_metadata_add_warning (probe->meta, "ExposureTime has a zero denominator");
      return;
    }
  probe->meta->exposure_num = num;
  probe->meta->exposure_den = den;
}

static void
read_iso (Probe    *probe,
          ExifData *ed)
{
  guint64 iso = 0, better = 0;

  if (!entry_uint (lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS), 0, &iso))
    return;
  /* PhotographicSensitivity is a SHORT: 65535 means "look at ISOSpeed / REI" (EXIF 2.3) */
  if (iso == 65535 &&
      (entry_uint (lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED), 0, &better) ||
       entry_uint (lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_RECOMMENDED_EXPOSURE_INDEX), 0, &better)) &&
      better > 0)
    iso = better;
  probe->meta->iso = iso;
}

static void
read_dimensions (Probe    *probe,
                 ExifData *ed)
{
  guint64 v;

  if (entry_uint (lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION), 0, &v))
    probe->meta->exif_width = v;
  if (entry_uint (lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION), 0, &v))
    probe->meta->exif_height = v;

  if (probe->tiff_size)
    {
      ExifContent *ifd0 = ed->ifd[EXIF_IFD_0];

      if (entry_uint (exif_content_get_entry (ifd0, EXIF_TAG_IMAGE_WIDTH), 0, &v))
        probe->meta->width = v;
      if (entry_uint (exif_content_get_entry (ifd0, EXIF_TAG_IMAGE_LENGTH), 0, &v))
        probe->meta->height = v;
    }
}

static void
read_orientation (Probe    *probe,
                  ExifData *ed)
{
  guint64 v;

  if (!entry_uint (lookup (ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION), 0, &v))
    return;
  if (v < 1 || v > 8)
    {
      sluice_metadata_add_warning (probe->meta, "Orientation %" G_GUINT64_FORMAT
                                   " is out of range", v);
      return;
    }
  probe->meta->orientation = v;
}

/* Degrees, minutes, seconds as up to three rationals; NAN (with a warning) if unusable. */
static double
gps_degrees (Probe      *probe,
             ExifEntry  *e,
             const char *name)
{
  double value = 0, scale = 1;
  guint n;

  if (e == NULL)
    return NAN;
  n = MIN (e->components, 3);
  if (n == 0 || (e->format != EXIF_FORMAT_RATIONAL && e->format != EXIF_FORMAT_SRATIONAL))
    {
      sluice_metadata_add_warning (probe->meta, "%s is not a list of rationals", name);
      return NAN;
    }
  for (guint i = 0; i < n; i++, scale *= 60)
    {
      guint32 num, den;

      if (!entry_rational (e, i, &num, &den) || den == 0)
        {
          sluice_metadata_add_warning (probe->meta, "%s has an unusable component", name);
          return NAN;
        }
      value += (double) num / den / scale;
    }
  return value;
}

static gboolean
gps_ref_is (ExifEntry *e,
            char       negative)
{
  return e != NULL && e->data != NULL && e->size >= 1 &&
         g_ascii_toupper (e->data[0]) == negative;
}

static void
read_gps (Probe    *probe,
          ExifData *ed)
{
  ExifContent *gps = ed->ifd[EXIF_IFD_GPS];
  double lat, lon, alt;

  lat = gps_degrees (probe, exif_content_get_entry (gps, EXIF_TAG_GPS_LATITUDE), "GPSLatitude");
  lon = gps_degrees (probe, exif_content_get_entry (gps, EXIF_TAG_GPS_LONGITUDE), "GPSLongitude");
  if (gps_ref_is (exif_content_get_entry (gps, EXIF_TAG_GPS_LATITUDE_REF), 'S'))
    lat = -lat;
  if (gps_ref_is (exif_content_get_entry (gps, EXIF_TAG_GPS_LONGITUDE_REF), 'W'))
    lon = -lon;
  if (fabs (lat) > 90)
    {
      sluice_metadata_add_warning (probe->meta, "GPSLatitude %g is out of range", lat);
      lat = NAN;
    }
  if (fabs (lon) > 180)
    {
      sluice_metadata_add_warning (probe->meta, "GPSLongitude %g is out of range", lon);
      lon = NAN;
    }
  probe->meta->gps_latitude = lat;
  probe->meta->gps_longitude = lon;

  alt = entry_double (probe->meta, exif_content_get_entry (gps, EXIF_TAG_GPS_ALTITUDE),
                      "GPSAltitude");
  if (!isnan (alt))
    {
      ExifEntry *ref = exif_content_get_entry (gps, EXIF_TAG_GPS_ALTITUDE_REF);

      if (ref != NULL && ref->data != NULL && ref->size >= 1 && ref->data[0] == 1)
        alt = -alt;
      probe->meta->gps_altitude = alt;
    }
}

static void
read_thumbnail (Probe    *probe,
                ExifData *ed)
{
  if (ed->data == NULL || ed->size == 0)
    return;
  if (ed->size < 2 || ed->data[0] != 0xff || ed->data[1] != 0xd8)
    {
      sluice_metadata_add_warning (probe->meta, "IFD1 thumbnail is not a JPEG");
      return;
    }
  probe->meta->has_thumbnail = TRUE;
  if (ed->size > SLUICE_METADATA_MAX_THUMBNAIL)
    sluice_metadata_add_warning (probe->meta, "thumbnail of %u bytes is over the limit",
                                 ed->size);
  else
    probe->meta->thumbnail = g_bytes_new (ed->data, ed->size);
}

static void
read_fields (Probe    *probe,
             ExifData *ed)
{
  SluiceMetadata *meta = probe->meta;
  double v;

  meta->make = entry_string (lookup (ed, EXIF_IFD_0, EXIF_TAG_MAKE));
  meta->model = entry_string (lookup (ed, EXIF_IFD_0, EXIF_TAG_MODEL));
  meta->lens_model = entry_string (lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL));
  meta->subsec_time_original = entry_string (lookup (ed, EXIF_IFD_EXIF,
                                                     EXIF_TAG_SUB_SEC_TIME_ORIGINAL));
  meta->offset_time_original = entry_string (lookup (ed, EXIF_IFD_EXIF,
                                                     EXIF_TAG_OFFSET_TIME_ORIGINAL));
  read_datetime (probe, ed);
  read_exposure (probe, ed);
  v = entry_double (meta, lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_FNUMBER), "FNumber");
  meta->f_number = v;
  v = entry_double (meta, lookup (ed, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH), "FocalLength");
  meta->focal_length = v;
  read_iso (probe, ed);
  read_orientation (probe, ed);
  read_dimensions (probe, ed);
  read_gps (probe, ed);
}

/* A pointer to the Exif or GPS IFD should be a LONG. Some writers store it with another type
 * (30-type_error.jpg: an ASCII "string" whose bytes are the Exif IFD). libexif follows the
 * value anyway, and so do we, but the file is damaged and exiftool refuses it: say so. */
static void
warn_pointer_types (Probe *probe)
{
  TiffSrc src;
  guint32 ifd0;
  guint n;

  if (!tiff_src_init (&src, probe->tiff, probe->tiff_len, &ifd0) || ifd0 < 8 ||
      ifd0 > src.len - 2)
    return;
  n = MIN (rd16 (src.data + ifd0, src.be), (src.len - ifd0 - 2) / 12);
  for (guint i = 0; i < n && i < MAX_IFD_ENTRIES; i++)
    {
      const guint8 *p = src.data + ifd0 + 2 + 12 * (gsize) i;
      guint16 tag = rd16 (p, src.be);
      guint16 type = rd16 (p + 2, src.be);
      const char *name;

      if (pointer_target (tag, EXIF_IFD_0) == EXIF_IFD_COUNT || type == EXIF_FORMAT_LONG ||
          type == 13 /* IFD */)
        continue;
      name = exif_format_get_name (type);
      sluice_metadata_add_warning (probe->meta, "IFD0 %s has type %s instead of LONG",
                                   tag == EXIF_TAG_EXIF_IFD_POINTER ? "ExifIfdPointer" :
                                   "GPSInfoIfdPointer", name != NULL ? name : "unknown");
    }
}

/* The block libexif gets: "Exif\0\0" + the TIFF block, copied when it fits in the window
 * libexif reads, rebuilt by the compactor when it does not. */
static GByteArray *
make_libexif_block (Probe    *probe,
                    gboolean *compacted)
{
  GByteArray *block;

  *compacted = FALSE;
  if (probe->tiff_len <= LIBEXIF_MAX_TIFF && probe->cr3_exif == NULL && probe->cr3_gps == NULL)
    {
      block = g_byte_array_sized_new (6 + probe->tiff_len);
      g_byte_array_append (block, exif_header, 6);
      g_byte_array_append (block, probe->tiff, probe->tiff_len);
      /* ORF/RW2 magic: libexif only accepts 42 */
      put16 (block->data + 6 + 2, 0x2a, block->data[6] == 'M');
      return block;
    }
  *compacted = TRUE;
  block = compact_tiff (probe);
  if (block == NULL)
    sluice_metadata_add_warning (probe->meta, "no readable IFD0 in the EXIF block");
  return block;
}

static void
run_libexif (Probe      *probe,
             GByteArray *block,
             gboolean    compacted)
{
  g_autoptr(ExifMem) mem = exif_mem_new (bounded_alloc, bounded_realloc, bounded_free);
  g_autoptr(ExifLog) log = NULL;
  g_autoptr(ExifData) ed = NULL;

  if (mem == NULL)
    return;
  log = exif_log_new_mem (mem);
  ed = exif_data_new_mem (mem);
  if (log == NULL || ed == NULL)
    return;
  exif_log_set_func (log, on_libexif_log, probe);
  exif_data_log (ed, log);
  /* FOLLOW_SPECIFICATION would make libexif invent mandatory tags; unknown tags are kept so
   * that a tag written to the wrong IFD is still found (exiftool reads those too), which the
   * bounded allocator makes safe. */
  exif_data_unset_option (ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_unset_option (ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
  exif_data_set_option (ed, EXIF_DATA_OPTION_DONT_CHANGE_MAKER_NOTE);

  exif_data_load_data (ed, block->data, block->len);
  read_fields (probe, ed);
  if (!compacted)
    read_thumbnail (probe, ed);
}

static void
load_exif (Probe *probe)
{
  g_autoptr(GByteArray) block = NULL;
  gboolean compacted;

  block = make_libexif_block (probe, &compacted);
  if (block == NULL)
    return;
  libexif_in_use = 0;
  run_libexif (probe, block, compacted);
  /* everything libexif allocated is released by now; should a libexif path ever leak, the
   * budget of the next file must not pay for it */
  libexif_in_use = 0;
}

SluiceMetadata *
sluice_probe_exif_extract (const guint8 *data,
                           gsize         len,
                           const char   *name_hint)
{
  g_autoptr(SluiceMetadata) meta = sluice_metadata_new ();
  Probe probe = { meta };

  if (data == NULL || len == 0)
    return g_steal_pointer (&meta);

  probe.kind = sniff_container (data, len);
  meta->container = g_strdup (probe.kind);
  check_extension (&probe, name_hint);
  if (probe.kind == NULL)
    return g_steal_pointer (&meta);

  if (strcmp (probe.kind, "jpeg") == 0)
    parse_jpeg (&probe, data, len);
  else if (strcmp (probe.kind, "tiff") == 0)
    {
      probe.tiff = data;
      probe.tiff_len = MIN (len, MAX_TIFF_INPUT);
      probe.tiff_size = TRUE;
    }
  else if (strcmp (probe.kind, "raf") == 0)
    parse_raf (&probe, data, len);
  else if (strcmp (probe.kind, "png") == 0)
    parse_png (&probe, data, len);
  else if (strcmp (probe.kind, "webp") == 0)
    parse_webp (&probe, data, len);
  else if (strcmp (probe.kind, "heif") == 0)
    parse_heif (&probe, data, len);
  else if (strcmp (probe.kind, "cr3") == 0)
    {
      parse_cr3 (&probe, data, len);
      probe.tiff_size = TRUE;
    }

  if (probe.tiff != NULL)
    {
      warn_pointer_types (&probe);
      load_exif (&probe);
    }
  g_clear_pointer (&probe.owned, g_byte_array_unref);
  return g_steal_pointer (&meta);
}

/* A small JPEG whose EXIF block (IFD0 with Make, an Exif IFD with a date stored past the end of
 * the block, a GPS IFD) takes libexif through its loader and its log and the extractor through
 * its field readers. */
static const guint8 warm_up_jpeg[] = {
  0xff, 0xd8, 0xff, 0xe1, 0x00, 0x64, 'E', 'x', 'i', 'f', 0, 0,
  /* TIFF header, IFD0 at 8 */
  'I', 'I', 0x2a, 0, 8, 0, 0, 0,
  /* IFD0: Make (ASCII 5 at 50), ExifIfdPointer (56), GPSInfoIfdPointer (74) */
  3, 0,
  0x0f, 0x01, 2, 0, 5, 0, 0, 0, 50, 0, 0, 0,
  0x69, 0x87, 4, 0, 1, 0, 0, 0, 56, 0, 0, 0,
  0x25, 0x88, 4, 0, 1, 0, 0, 0, 74, 0, 0, 0,
  0, 0, 0, 0,
  /* 50: "Warm" */
  'W', 'a', 'r', 'm', 0, 0,
  /* 56: Exif IFD: DateTimeOriginal, 20 bytes at 200, past the end */
  1, 0,
  0x03, 0x90, 2, 0, 20, 0, 0, 0, 200, 0, 0, 0,
  0, 0, 0, 0,
  /* 74: GPS IFD: GPSVersionID 2.2.0.0 */
  1, 0,
  0x00, 0x00, 1, 0, 4, 0, 0, 0, 2, 2, 0, 0,
  0, 0, 0, 0,
  /* SOF0 8x8, EOI */
  0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00,
  0xff, 0xd9,
};

SluiceMetadata *
sluice_probe_exif_warm_up (void)
{
  /* libexif binds its text domain and looks up its catalogue on the first translated string;
   * the result, found or not, is cached for the life of the process */
  exif_format_get_name (EXIF_FORMAT_LONG);
  exif_tag_get_name_in_ifd (EXIF_TAG_MAKE, EXIF_IFD_0);
  return sluice_probe_exif_extract (warm_up_jpeg, sizeof warm_up_jpeg, "warm-up.jpg");
}
