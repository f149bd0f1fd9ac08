/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The wire between the engine and a sluice-probe helper: a SOCK_STREAM socketpair carrying
 * frames of a fixed 16-byte header (magic "SLPR", version, type, request id, payload length,
 * little endian) followed by a GVariant payload in normal form. A file descriptor travels with
 * the header as SCM_RIGHTS. Every length is checked against SLUICE_PROBE_FRAME_MAX before any
 * allocation; a payload that is not in normal form or not of the type its frame promises is
 * a protocol error.
 *
 *   HELLO   helper → engine  (u)        protocol version, sent once at start
 *   PROBE   engine → helper  (st)  +fd  name hint (for the extension), byte length; a
 *                                       read-only memfd whose first length bytes are the file
 *   RESULT  helper → engine  (axadauasayas) SluiceMetadata (see sluice_metadata_to_variant())
 *   ERROR   helper → engine  (s)        the request could not be served at all
 *   THUMBNAIL engine → helper (tu) +fd  byte length, wanted longest edge in pixels
 *                                       (SLUICE_PROBE_THUMB_MIN_EDGE..SLUICE_PROBE_THUMB_MAX_EDGE);
 *                                       the same kind of memfd as PROBE
 *   PIXELS  helper → engine  (uuuay)    width, height, stride and the rows of an 8-bit RGB
 *                                       image, no side over the wanted edge
 *   NO_THUMBNAIL helper → engine (us)   why none could be made (SluiceProbeThumbFailure) and
 *                                       the decoder's words
 *
 * Version 2 added THUMBNAIL, PIXELS and NO_THUMBNAIL; version 3 made RESULT fixed arrays in
 * place of an a{sv}.
 */

#define SLUICE_PROBE_PROTOCOL_VERSION 3
#define SLUICE_PROBE_FRAME_HEADER     16
#define SLUICE_PROBE_FRAME_MAX        (1024 * 1024)
/* The fd the helper finds its socket on (GSubprocessLauncher take_fd target). */
#define SLUICE_PROBE_SOCKET_FD        3

typedef enum {
  SLUICE_PROBE_MSG_HELLO  = 1,
  SLUICE_PROBE_MSG_PROBE  = 2,
  SLUICE_PROBE_MSG_RESULT = 3,
  SLUICE_PROBE_MSG_ERROR  = 4,
  SLUICE_PROBE_MSG_THUMBNAIL = 5,
  SLUICE_PROBE_MSG_PIXELS = 6,
  SLUICE_PROBE_MSG_NO_THUMBNAIL = 7,
} SluiceProbeMessage;

/* CPU time one request may cost before SIGXCPU ends the helper: a file's metadata, or its
 * thumbnail (a 48 MP HEIF of high entropy took 5.0 s to decode, in one thread). */
#define SLUICE_PROBE_CPU_SECONDS        5
#define SLUICE_PROBE_THUMB_CPU_SECONDS  20

/* The thumbnail a helper decodes is at most this big on its longest side: 512 × 512 RGB is
 * 768 KiB, which fits one frame. */
#define SLUICE_PROBE_THUMB_MIN_EDGE 16
#define SLUICE_PROBE_THUMB_MAX_EDGE 512

typedef enum {
  SLUICE_PROBE_THUMB_UNSUPPORTED = 1,   /* not a file type the helper decodes */
  SLUICE_PROBE_THUMB_DAMAGED     = 2,   /* the decoder gave up on the data */
  SLUICE_PROBE_THUMB_TOO_LARGE   = 3,   /* absurd dimensions: refused before decoding */
} SluiceProbeThumbFailure;

const GVariantType *sluice_probe_message_type (SluiceProbeMessage message);

gboolean sluice_probe_frame_send (int                sock,
                                  SluiceProbeMessage message,
                                  guint32            request_id,
                                  GVariant          *payload,
                                  int                fd,
                                  GError           **error);

/* @timeout_ms < 0 waits forever; a timeout is SLUICE_ERROR_PROBE_TIMEOUT, the peer closing is
 * SLUICE_ERROR_PROBE_CRASHED, anything malformed SLUICE_ERROR_PROBE_PROTOCOL. @out_fd may be
 * NULL, in which case a received descriptor is closed. */
gboolean sluice_probe_frame_recv (int                 sock,
                                  int                 timeout_ms,
                                  SluiceProbeMessage *out_message,
                                  guint32            *out_request_id,
                                  GVariant          **out_payload,
                                  int                *out_fd,
                                  GError            **error);

G_END_DECLS
