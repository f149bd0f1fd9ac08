/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe"

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice-error.h"
#include "sluice-probe-exif.h"
#include "sluice-probe-protocol.h"

/*
 * sluice-probe: parses untrusted file bytes for the engine.
 *
 * It talks only over the socket it inherits on fd 3, reads only the memfds the engine passes
 * it, and never opens files or sockets itself. One request at a time; the engine restarts a
 * helper that dies or stalls, so any failure here costs one file's metadata, not the run.
 */

static GVariant *
probe_one (int          fd,
           const char  *name,
           guint64      declared_size,
           GError     **error)
{
  g_autoptr(SluiceMetadata) meta = NULL;
  struct stat st;
  void *map = NULL;
  gsize len;

  if (fstat (fd, &st) < 0)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED, "fstat: %s", g_strerror (errno));
      return NULL;
    }
  /* trust what we can see, not what the frame says */
  len = MIN ((guint64) st.st_size, declared_size);

  if (len > 0)
    {
      map = mmap (NULL, len, PROT_READ, MAP_SHARED, fd, 0);
      if (map == MAP_FAILED)
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED, "mmap: %s", g_strerror (errno));
          return NULL;
        }
    }

  meta = sluice_probe_exif_extract (map, len, name);

  if (map != NULL)
    munmap (map, len);
  return sluice_metadata_to_variant (meta);
}

int
main (int   argc,
      char *argv[])
{
  const int sock = SLUICE_PROBE_SOCKET_FD;
  g_autoptr(GError) error = NULL;

  setlocale (LC_ALL, "C.UTF-8");

  if (!sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_HELLO, 0,
                                g_variant_new ("(u)", SLUICE_PROBE_PROTOCOL_VERSION), -1, &error))
    {
      g_printerr ("sluice-probe: %s\n", error->message);
      return 1;
    }

  for (;;)
    {
      g_autoptr(GVariant) request = NULL;
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GError) local_error = NULL;
      SluiceProbeMessage message;
      const char *name = NULL;
      guint64 size = 0;
      guint32 id;
      int fd = -1;

      if (!sluice_probe_frame_recv (sock, -1, &message, &id, &request, &fd, &local_error))
        {
          /* the engine closing the socket is how a helper is told to go */
          if (g_error_matches (local_error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED))
            return 0;
          g_printerr ("sluice-probe: %s\n", local_error->message);
          return 1;
        }

      if (message != SLUICE_PROBE_MSG_PROBE || fd < 0)
        {
          if (fd >= 0)
            close (fd);
          reply = g_variant_new ("(s)", "expected a probe request with a descriptor");
          if (!sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_ERROR, id, g_steal_pointer (&reply),
                                        -1, &local_error))
            return 1;
          continue;
        }

      g_variant_get (request, "(&st)", &name, &size);
      reply = probe_one (fd, name, size, &local_error);
      close (fd);

      if (reply == NULL)
        {
          if (!sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_ERROR, id,
                                        g_variant_new ("(s)", local_error->message), -1, NULL))
            return 1;
          continue;
        }
      if (!sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_RESULT, id, g_steal_pointer (&reply),
                                    -1, &local_error))
        {
          g_printerr ("sluice-probe: %s\n", local_error->message);
          return 1;
        }
    }
}
