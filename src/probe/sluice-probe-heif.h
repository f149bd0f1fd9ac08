/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * HEIF decoding (HEIC, AVIF) for the helper's thumbnails, as a module of its own
 * (sluice-probe-heif.so: libheif, and through it x265, libaom, dav1d and libstdc++). Only a
 * helper started to make thumbnails loads it (sluice-probe --thumbnails, before the sandbox),
 * so the helpers of an ingest, one per core, neither pay its ~4 MB of relocated memory and
 * 10 ms of start-up each nor carry its code.
 *
 * The thumbnail code looks these up with dlsym() by the names below.
 */

#define SLUICE_PROBE_HEIF_MODULE  "sluice-probe-heif.so"

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

G_END_DECLS
