/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sluice-metadata.h"

G_BEGIN_DECLS

/*
 * Extracts metadata from the bytes of one file (already in memory: the probe maps the memfd it
 * was given). Never fails: a file with no EXIF gives an empty SluiceMetadata, a damaged one
 * gives what is sound plus warnings. @name_hint is the file name, used only for its extension.
 * Runs in the sandboxed helper; it must not open files, sockets, or allocate without bound.
 */
SluiceMetadata *sluice_probe_exif_extract (const guint8 *data,
                                           gsize         len,
                                           const char   *name_hint);

/*
 * Runs the extractor once on a built-in sample and asks libexif for a translated name, so that
 * whatever libexif and the extractor set up lazily (libexif's message catalogue lookup, which
 * opens files) is done before the helper's sandbox forbids it. Returns what it extracted.
 */
SluiceMetadata *sluice_probe_exif_warm_up (void);

G_END_DECLS
