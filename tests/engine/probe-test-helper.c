/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "probe-test-helper"

#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice-error.h"
#include "sluice-metadata.h"
#include "sluice-probe-protocol.h"

/*
 * A deliberately misbehaving stand-in for sluice-probe, for test-probe-pool (the idea of
 * tracker's test-extractor-modules). HELPER_STARTUP, fixed at build time, says how it starts:
 *
 *   normal      greets, then serves requests
 *   silent      never greets
 *   exit        exits with status 3 before greeting
 *   badversion  greets with a protocol version one above the real one
 *
 * Once serving, the file name hint of each request says what to do:
 *
 *   crash*    raise SIGSEGV          abort*    abort()
 *   exit*     _exit (3)              stall*    never answer
 *   garbage*  write bytes that are not a frame
 *   wrongid*  answer with another request id
 *   hello*    answer with a HELLO instead of a RESULT
 *   error*    answer with an ERROR frame
 *   hostile*  answer with a RESULT the engine must not trust
 *   anything else: a RESULT with make "TestHelper", model = the name, exif_width = the size of
 *   the descriptor received (so the test sees that the bytes arrived).
 *
 * A THUMBNAIL request of a 1-byte file stalls; of any other size, abort()s.
 *
 * It writes nothing to stdout or stderr: both are the test's TAP stream.
 */

#ifndef HELPER_STARTUP
#error "build with -DHELPER_STARTUP=\"normal\" (or silent, exit, badversion)"
#endif

static void
stall (void)
{
  for (;;)
    pause ();
}

static GVariant *
normal_result (const char *name,
               int         fd)
{
  g_autoptr(SluiceMetadata) meta = sluice_metadata_new ();
  struct stat st;

  meta->make = g_strdup ("TestHelper");
  meta->model = g_strdup (name);
  if (fd >= 0 && fstat (fd, &st) == 0)
    meta->exif_width = st.st_size;
  return sluice_metadata_to_variant (meta);
}

/* A RESULT no honest helper sends: control characters, an overlong string, out-of-range
 * numbers, an oversized thumbnail (SLUICE_METADATA_VARIANT_TYPE, built by hand). */
static GVariant *
hostile_result (void)
{
  g_autofree char *huge = g_strnfill (10000, 'Z');
  g_autofree guint8 *thumb = g_malloc0 (SLUICE_METADATA_MAX_THUMBNAIL + 1);
  /* iso, orientation */
  const gint64 ints[] = { -7, 9 };
  /* f_number */
  const double doubles[] = { INFINITY };
  const guint32 exposure[] = { 1, 0, 1 };
  const char *strings[] = { "", "Evil\x1b[2J\r\nCorp", huge };
  const char *none[] = { NULL };
  GVariant *children[] = {
    g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ints, G_N_ELEMENTS (ints), sizeof (gint64)),
    g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, doubles, G_N_ELEMENTS (doubles),
                               sizeof (double)),
    g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, exposure, G_N_ELEMENTS (exposure),
                               sizeof (guint32)),
    g_variant_new_strv (strings, G_N_ELEMENTS (strings)),
    g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, thumb, SLUICE_METADATA_MAX_THUMBNAIL + 1, 1),
    g_variant_new_strv (none, 0),
  };

  return g_variant_new_tuple (children, G_N_ELEMENTS (children));
}

static gboolean
serve (int                 sock,
       guint32             id,
       const char         *name,
       int                 fd)
{
  static const char garbage[] = "GARBAGE GARBAGE GARBAGE GARBAGE GARBAGE";

  if (g_str_has_prefix (name, "crash"))
    {
      /* a sanitizer would catch it and exit 1: die of the signal as a real crash does */
      signal (SIGSEGV, SIG_DFL);
      raise (SIGSEGV);
    }
  if (g_str_has_prefix (name, "abort"))
    abort ();
  if (g_str_has_prefix (name, "exit"))
    _exit (3);
  if (g_str_has_prefix (name, "stall"))
    stall ();
  if (g_str_has_prefix (name, "garbage"))
    return write (sock, garbage, sizeof garbage) == sizeof garbage;
  if (g_str_has_prefix (name, "wrongid"))
    return sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_RESULT, id + 1,
                                    normal_result (name, fd), -1, NULL);
  if (g_str_has_prefix (name, "hello"))
    return sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_HELLO, id,
                                    g_variant_new ("(u)", SLUICE_PROBE_PROTOCOL_VERSION), -1,
                                    NULL);
  if (g_str_has_prefix (name, "error"))
    return sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_ERROR, id,
                                    g_variant_new ("(s)", "cannot read this"), -1, NULL);
  if (g_str_has_prefix (name, "hostile"))
    return sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_RESULT, id, hostile_result (), -1,
                                    NULL);
  return sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_RESULT, id, normal_result (name, fd),
                                  -1, NULL);
}

int
main (int   argc,
      char *argv[])
{
  const int sock = SLUICE_PROBE_SOCKET_FD;
  guint32 version = SLUICE_PROBE_PROTOCOL_VERSION;

  if (g_str_equal (HELPER_STARTUP, "silent"))
    stall ();
  if (g_str_equal (HELPER_STARTUP, "exit"))
    _exit (3);
  if (g_str_equal (HELPER_STARTUP, "badversion"))
    version = SLUICE_PROBE_PROTOCOL_VERSION + 1;

  if (!sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_HELLO, 0, g_variant_new ("(u)", version),
                                -1, NULL))
    return 1;

  for (;;)
    {
      g_autoptr(GVariant) request = NULL;
      g_autoptr(GError) error = NULL;
      SluiceProbeMessage message;
      const char *name = NULL;
      guint64 size = 0;
      guint32 id = 0;
      int fd = -1;
      gboolean ok;

      if (!sluice_probe_frame_recv (sock, -1, &message, &id, &request, &fd, &error))
        return g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED) ? 0 : 1;
      if (message == SLUICE_PROBE_MSG_THUMBNAIL)
        {
          /* a decoder that a hostile file sends into a loop (size 1) or to its death */
          g_variant_get (request, "(tu)", &size, NULL);
          if (size == 1)
            stall ();
          abort ();
        }
      if (message != SLUICE_PROBE_MSG_PROBE)
        return 1;
      g_variant_get (request, "(&st)", &name, &size);
      ok = serve (sock, id, name, fd);
      if (fd >= 0)
        close (fd);
      if (!ok)
        return 1;
    }
}
