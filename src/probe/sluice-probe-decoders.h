/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The decoders only the helper's thumbnails need, as a module of their own
 * (sluice-probe-decoders.so): HEIF (HEIC, AVIF) with libheif, which brings x265, libaom,
 * dav1d and libstdc++ along, and TIFF with libtiff, which brings libdeflate, liblzma, libzstd,
 * libjbig and liblerc. Only a helper started to make thumbnails loads it (sluice-probe
 * --thumbnails, before the sandbox), so the helpers of an ingest, one per core, neither pay
 * its memory and start-up (measured from exec to the helper's HELLO: 5.3 MB and 2.6 ms
 * without it, 10.1 MB and 9.8 ms with it) nor carry its code.
 *
 * The thumbnail code looks the functions up with dlsym() by the names below; a module built
 * without libheif or without libtiff lacks that family.
 */

#define SLUICE_PROBE_DECODERS_MODULE  "sluice-probe-decoders.so"

typedef struct {
  const guint8 *rows;     /* 8-bit RGB, or RGBA (not premultiplied) with @alpha */
  int           width;
  int           height;
  int           stride;
  gboolean      alpha;
  gpointer      priv;
} SluiceProbeHeifPicture;

/* "sluice_probe_heif_init": libheif set up with the decoders the sandbox allows
 * (sluice-probe-codecs.h); FALSE if libheif would not start. */
typedef gboolean                (*SluiceProbeHeifInitFunc)   (void);

/* "sluice_probe_heif_is_heif": whether @data starts like a HEIF libheif knows (HEIC, AVIF). */
typedef gboolean                (*SluiceProbeHeifIsHeifFunc) (const guint8 *data,
                                                              gsize         len);

/* "sluice_probe_heif_decode": the picture to make a thumbnail of at most @max_edge pixels
 * from, upright, or NULL with @out_failure (a SluiceProbeThumbFailure) and @out_message. */
typedef SluiceProbeHeifPicture *(*SluiceProbeHeifDecodeFunc) (const guint8  *data,
                                                              gsize          len,
                                                              guint          max_edge,
                                                              guint         *out_failure,
                                                              char         **out_message);

/* "sluice_probe_heif_free" */
typedef void                    (*SluiceProbeHeifFreeFunc)   (SluiceProbeHeifPicture *picture);

/* "sluice_probe_tiff_decode": the first picture of the TIFF in @data, whatever its layout,
 * compression, depth and colour model libtiff reads (not floating point, not a raw's sensor
 * data): @start is told its size, then @row gets each row top to bottom as stored (the
 * orientation is the caller's), as 8-bit RGB with any alpha shown over white. FALSE with
 * @out_failure (a SluiceProbeThumbFailure) and @out_message when not a row could be decoded;
 * a picture that breaks off later gives the rows before the break (TRUE). */
typedef void     (*SluiceProbeTiffStartFunc)  (gpointer      user_data,
                                               guint         width,
                                               guint         height);
typedef void     (*SluiceProbeTiffRowFunc)    (gpointer      user_data,
                                               const guint8 *rgb,
                                               guint         y);
typedef gboolean (*SluiceProbeTiffDecodeFunc) (const guint8             *data,
                                               gsize                     len,
                                               guint64                   max_pixels,
                                               SluiceProbeTiffStartFunc  start,
                                               SluiceProbeTiffRowFunc    row,
                                               gpointer                  user_data,
                                               guint                    *out_failure,
                                               char                    **out_message);

G_END_DECLS
