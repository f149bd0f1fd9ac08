/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * libheif's decoders for the sandboxed helper. libheif's own HEVC decoder starts a libde265
 * worker thread for every image (every tile of a grid), and its AV1 decoders start threads
 * too (dav1d one per core); the helper's seccomp list has no clone(). This registers, ahead
 * of them:
 *
 *  - an HEVC decoder over libde265 that decodes in the calling thread, with deblocking and
 *    SAO off: a 12 MP picture becomes a thumbnail an eighth of its width or less, and what those
 *    filters smooth does not survive the averaging (thumbnails of the corpus' six phone HEIFs
 *    at two sizes, medians of three runs: 7.1 → 6.2 s, -13 %);
 *  - an AV1 decoder over dav1d with one thread, which dav1d takes to mean none of its own
 *    (AVIF).
 *
 * Call once, after heif_init() and before the sandbox.
 */
void sluice_probe_codecs_register (void);

G_END_DECLS
