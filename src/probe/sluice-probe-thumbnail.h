/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Decodes a thumbnail from the bytes of one file, in the sandboxed helper: a JPEG with
 * libjpeg-turbo, scaled in the DCT (1/2, 1/4, 1/8), a PNG with libpng or a WebP with libwebp
 * (both shown over white), the JPEG preview of a raw file, and with the decoders module
 * (sluice_probe_thumbnail_load_decoders()) a HEIF or a TIFF; then box-filtered down to at most
 * @max_edge pixels on its longest side and turned upright by @orientation (EXIF 1..8; anything
 * else is 1; a HEIF's own rotation replaces it). Rows are decoded a few at a time into an
 * accumulator of the output's size, so memory does not grow with the picture (an interlaced
 * PNG, a lossless WebP and a HEIF are decoded whole, with their own limits); the decoders' own
 * memory is capped, and a picture whose header promises more than
 * SLUICE_PROBE_THUMB_MAX_SOURCE_PIXELS is refused before decoding.
 *
 * Returns the PIXELS payload "(uuuay)" (width, height, stride, 8-bit RGB rows), or NULL with
 * @out_failure set to a SluiceProbeThumbFailure and @out_message to the reason.
 */

#define SLUICE_PROBE_THUMB_MAX_SOURCE_PIXELS  (G_GUINT64_CONSTANT (256) * 1000 * 1000)

GVariant *sluice_probe_thumbnail_make    (const guint8  *data,
                                          gsize          len,
                                          guint          max_edge,
                                          guint          orientation,
                                          guint         *out_failure,
                                          char         **out_message);

/* Decodes a built-in sample once, so that whatever libjpeg sets up lazily happens before the
 * sandbox (it only allocates, but its SIMD detection and tables are first-use). */
void      sluice_probe_thumbnail_warm_up (void);

/* Loads the decoders module (sluice-probe-decoders.h) and decodes a sample with each of its
 * decoders, before the sandbox: from then on HEIF and TIFF files get thumbnails too. FALSE
 * with @out_problems if the module, or one of its decoders, is not there or would not start;
 * what did load stays loaded, and the other formats are unaffected. */
gboolean  sluice_probe_thumbnail_load_decoders (char **out_problems);

G_END_DECLS
