/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The JPEG preview a raw file carries, for its thumbnail: raw sensor data is not decoded, but
 * every camera stores a developed JPEG beside it. Found by walking the TIFF structure of a
 * TIFF-based raw (CR2, NEF, ARW, DNG, RW2, SRW, PEF, ORF, and any TIFF that points at a JPEG:
 * IFD0 and the IFDs after it, their SubIFDs and Exif IFD, JPEGInterchangeFormat, one-strip
 * JPEG images, Panasonic's JpgFromRaw, the preview in Olympus' maker note), from a Fujifilm
 * RAF's header, or from a Canon CR3's PRVW box. Only
 * baseline, extended and progressive JPEGs count (a DNG's or CR2's lossless-JPEG raw data does
 * not); of those, the smallest whose longest side is at least @max_edge, else the largest.
 *
 * Bounded: at most 64 IFDs of 1,000 entries each are read, each once, and one maker note's
 * two, or 64 top-level boxes;
 * every offset is checked against @len.
 */

typedef struct {
  gsize offset;       /* of the JPEG's SOI in the file */
  gsize len;
  guint width;        /* from its SOF */
  guint height;
} SluiceProbePreview;

gboolean sluice_probe_preview_find (const guint8       *data,
                                    gsize               len,
                                    guint               max_edge,
                                    SluiceProbePreview *out);

/* Whether @data starts like a TIFF (either byte order, or Olympus' and Panasonic's variants),
 * a RAF or a CR3: a file sluice_probe_preview_find() can look into. */
gboolean sluice_probe_preview_is_container (const guint8 *data,
                                            gsize         len);

/* Whether @data starts like a TIFF of either byte order, one libtiff opens: not a maker's
 * variant (ORF, RW2), whose own pictures are raw sensor data. */
gboolean sluice_probe_preview_is_tiff      (const guint8 *data,
                                            gsize         len);

G_END_DECLS
