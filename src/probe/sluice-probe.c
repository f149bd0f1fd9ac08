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
#include "sluice-probe-sandbox.h"
#include "sluice-probe-thumbnail.h"
#ifdef SLUICE_PROBE_TEST_MODES
#include "sluice-probe-test-modes.h"
#endif

/*
 * sluice-probe: parses untrusted file bytes for the engine.
 *
 * It talks only over the socket it inherits on fd 3, reads only the memfds the engine passes
 * it, and never opens files or sockets itself: a seccomp allow-list (sluice-probe-sandbox.c)
 * holds it to that. One request at a time; the engine restarts a helper that dies or stalls,
 * so any failure here costs one file's metadata, not the run.
 */

/* Everything that needs more than the allow-list gives, done once before it is installed. */
static void
warm_up (gboolean thumbnails)
{
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) normal = NULL;

  /* the extraction path, and a reply as it goes on the wire */
  meta = sluice_probe_exif_warm_up ();
  /* libjpeg only allocates, but its first use sets up tables and the SIMD choice */
  sluice_probe_thumbnail_warm_up ();
#if HAVE_DECODERS_MODULE
  /* HEIF and TIFF decoding only where thumbnails are made (sluice-probe-decoders.h) */
  if (thumbnails)
    {
      g_autofree char *problems = NULL;

      if (!sluice_probe_thumbnail_load_decoders (&problems))
        g_printerr ("sluice-probe: some pictures will get no thumbnails: %s\n", problems);
    }
#endif
  reply = g_variant_ref_sink (sluice_metadata_to_variant (meta));
  normal = g_variant_get_normal_form (reply);
  g_variant_get_size (normal);
  /* the protocol's error paths format errno: glibc looks for its message catalogue once */
  strerror (EPIPE);
  /* g_printerr converts to the console charset, looked up once (GLib's log writer asks on every
   * message whether stderr is the journal or a terminal: the filter answers "no" politely) */
  g_get_console_charset (NULL);
  sluice_error_quark ();
}

/*
 * The engine reads small files into slabs (memfds) that it reuses from file to file, and
 * passes each request a fresh descriptor of one. Mapping and unmapping it per request, and
 * faulting its first pages in again, was a fifth of this helper's CPU on 3,000 small JPEGs
 * (issue 5). A slab's mapping is therefore kept, found again by its inode, and read afresh:
 * MAP_SHARED sees what the engine wrote since. Only memfds are kept (no link count, so never a
 * file on disk), of up to CACHE_MAX_SLAB bytes each and CACHE_MAX_BYTES together. A slab the
 * engine has dropped stays alive only while its mapping is here: at most CACHE_MAX_BYTES, and
 * none while slabs are reused, as they are within the memory budget (3,000 small files: ~33
 * slabs per helper, 67 mmaps instead of 3,000). Slabs only grow, so a kept mapping never
 * reaches past the end of its memfd.
 */
#define CACHE_SLOTS     64
#define CACHE_MAX_SLAB  (1024 * 1024)
#define CACHE_MAX_BYTES (16 * 1024 * 1024)

typedef struct {
  dev_t   dev;
  ino_t   ino;
  void   *map;       /* NULL: a free slot */
  gsize   len;
  guint64 last_use;
} KeptMap;

static KeptMap kept[CACHE_SLOTS];
static guint64 use_clock;
static gsize   kept_bytes;

static void
kept_drop (KeptMap *slot)
{
  munmap (slot->map, slot->len);
  kept_bytes -= slot->len;
  slot->map = NULL;
}

/* The mapping used longest ago, if any. */
static KeptMap *
kept_oldest (void)
{
  KeptMap *oldest = NULL;

  for (guint i = 0; i < CACHE_SLOTS; i++)
    if (kept[i].map != NULL && (oldest == NULL || kept[i].last_use < oldest->last_use))
      oldest = &kept[i];
  return oldest;
}

/* A mapping of @len bytes or more of @fd (a memfd, @st its stat) from the cache, made and
 * kept if need be; NULL when mmap fails (errno set). */
static void *
kept_map (int                fd,
          const struct stat *st,
          gsize              len)
{
  KeptMap *slot = NULL, *victim = &kept[0];
  gsize whole = (gsize) st->st_size;

  for (guint i = 0; i < CACHE_SLOTS && slot == NULL; i++)
    {
      if (kept[i].map != NULL && kept[i].dev == st->st_dev && kept[i].ino == st->st_ino)
        slot = &kept[i];
      /* else a free slot, or the mapping used longest ago */
      else if (victim->map != NULL &&
               (kept[i].map == NULL || kept[i].last_use < victim->last_use))
        victim = &kept[i];
    }
  if (slot == NULL)
    slot = victim;
  slot->last_use = ++use_clock;

  /* another slab's mapping, or this slab's from before it grew */
  if (slot->map != NULL && (slot->dev != st->st_dev || slot->ino != st->st_ino || slot->len < len))
    kept_drop (slot);
  if (slot->map == NULL)
    {
      /* the whole slab: the next file in it may be longer than this one */
      void *map = mmap (NULL, whole, PROT_READ, MAP_SHARED, fd, 0);

      if (map == MAP_FAILED)
        return NULL;
      slot->dev = st->st_dev;
      slot->ino = st->st_ino;
      slot->map = map;
      slot->len = whole;
      kept_bytes += whole;
      while (kept_bytes > CACHE_MAX_BYTES)
        {
          KeptMap *oldest = kept_oldest ();

          if (oldest == slot)
            break;   /* only this one left: a slab is at most CACHE_MAX_SLAB */
          kept_drop (oldest);
        }
    }
  return slot->map;
}

/* Maps the first min(@declared_size, the descriptor's size, SLUICE_PROBE_MAX_MAP) bytes of @fd
 * read-only; @out_whole is how long the file is (it may be more than was mapped). *@out_map is
 * NULL for an empty file. *@out_kept: the mapping stays (kept_map ()), unmap_request () knows. */
static gboolean
map_request (int          fd,
             guint64      declared_size,
             void       **out_map,
             gsize       *out_len,
             guint64     *out_whole,
             gboolean    *out_kept,
             GError     **error)
{
  struct stat st;
  gsize len;

  *out_map = NULL;
  *out_kept = FALSE;
  if (fstat (fd, &st) < 0)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED, "fstat: %s", g_strerror (errno));
      return FALSE;
    }
  /* trust what we can see, not what the frame says; and no more than the address space limit
   * leaves room for */
  len = MIN (MIN ((guint64) st.st_size, declared_size), SLUICE_PROBE_MAX_MAP);
  if (len > 0)
    {
      void *map;

      *out_kept = S_ISREG (st.st_mode) && st.st_nlink == 0 && st.st_size <= CACHE_MAX_SLAB;
      if (*out_kept)
        map = kept_map (fd, &st, len);
      else
        {
          map = mmap (NULL, len, PROT_READ, MAP_SHARED, fd, 0);
          if (map == MAP_FAILED)
            map = NULL;
        }
      if (map == NULL)
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED, "mmap: %s", g_strerror (errno));
          return FALSE;
        }
      *out_map = map;
    }
  *out_len = len;
  *out_whole = MIN ((guint64) st.st_size, declared_size);
  return TRUE;
}

static void
unmap_request (void     *map,
               gsize     len,
               gboolean  kept_mapping)
{
  if (map != NULL && !kept_mapping)
    munmap (map, len);
}

/* A thumbnail decoded from the file: PIXELS, or NO_THUMBNAIL with the reason. The EXIF
 * orientation comes from the same extractor the PROBE request runs. FALSE only when the
 * answer could not be sent. */
static gboolean
thumbnail_one (int          sock,
               guint32      id,
               int          fd,
               guint64      declared_size,
               guint        max_edge,
               GError     **error)
{
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GVariant) pixels = NULL;
  g_autofree char *message = NULL;
  g_autoptr(GError) map_error = NULL;
  guint failure = 0;
  void *map = NULL;
  guint64 whole = 0;
  gsize len = 0;
  gboolean kept_mapping = FALSE;
  guint orientation;

  if (!map_request (fd, declared_size, &map, &len, &whole, &kept_mapping, &map_error))
    return sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_NO_THUMBNAIL, id,
                                    g_variant_new ("(us)", SLUICE_PROBE_THUMB_DAMAGED,
                                                   map_error->message), -1, error);

#ifdef SLUICE_PROBE_TEST_MODES
  sluice_probe_test_mode_thumbnail (map, len);
#endif
  meta = sluice_probe_exif_extract (map, len, "thumbnail.jpg");
  orientation = meta->orientation >= 1 && meta->orientation <= 8 ? (guint) meta->orientation : 1;
  pixels = sluice_probe_thumbnail_make (map, len, max_edge, orientation, &failure, &message);
  unmap_request (map, len, kept_mapping);

  if (pixels == NULL)
    return sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_NO_THUMBNAIL, id,
                                    g_variant_new ("(us)", failure, message), -1, error);
  return sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_PIXELS, id, g_steal_pointer (&pixels),
                                  -1, error);
}

static GVariant *
probe_one (int          sock,
           guint32      id,
           int          fd,
           const char  *name,
           guint64      declared_size,
           GError     **error)
{
  g_autoptr(SluiceMetadata) meta = NULL;
  void *map = NULL;
  guint64 whole = 0;
  gsize len = 0;
  gboolean kept_mapping = FALSE;

  if (!map_request (fd, declared_size, &map, &len, &whole, &kept_mapping, error))
    return NULL;

  meta = sluice_probe_exif_extract (map, len, name);
  if (len < whole)
    sluice_metadata_add_warning (meta, "only the first %" G_GSIZE_FORMAT " bytes were read "
                                 "for metadata", len);

#ifdef SLUICE_PROBE_TEST_MODES
  /* test builds only: a file that starts with "SLUICE-TEST:" makes this helper misbehave */
  if (sluice_probe_test_mode_run (sock, id, map, len, meta))
    {
      unmap_request (map, len, kept_mapping);
      return NULL;
    }
#endif

  unmap_request (map, len, kept_mapping);
  return sluice_metadata_to_variant (meta);
}

/* Serves requests until the engine closes the socket. Returns the exit status. */
static int
serve (int sock)
{
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
      gboolean ok;

      if (!sluice_probe_frame_recv (sock, -1, &message, &id, &request, &fd, &local_error))
        {
          /* the engine closing the socket is how a helper is told to go */
          if (g_error_matches (local_error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED))
            return 0;
          g_printerr ("sluice-probe: %s\n", local_error->message);
          return 1;
        }

      if (message == SLUICE_PROBE_MSG_THUMBNAIL && fd >= 0)
        {
          guint32 max_edge = 0;

          g_variant_get (request, "(tu)", &size, &max_edge);
          /* this file's CPU budget starts now: a decode's, bigger than a parse's */
          sluice_probe_sandbox_arm_cpu_limit (SLUICE_PROBE_THUMB_CPU_SECONDS);
          ok = thumbnail_one (sock, id, fd, size, max_edge, &local_error);
          close (fd);
          if (!ok)
            {
              g_printerr ("sluice-probe: %s\n", local_error->message);
              return 1;
            }
          continue;
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
      /* this file's CPU budget starts now */
      sluice_probe_sandbox_arm_cpu_limit (SLUICE_PROBE_CPU_SECONDS);
      reply = probe_one (sock, id, fd, name, size, &local_error);
      close (fd);

      if (reply == NULL && local_error == NULL)
        continue; /* a test mode answered (or chose not to) */
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

int
main (int   argc,
      char *argv[])
{
  const int sock = SLUICE_PROBE_SOCKET_FD;
  g_autoptr(GError) error = NULL;
  gboolean thumbnails = FALSE;

  setlocale (LC_ALL, "C.UTF-8");

  /* The engine starts the helper without arguments, or with --thumbnails for the pool that
   * makes thumbnails. --version is for people and the install test: it answers before the
   * sandbox and without touching fd 3. */
  if (argc == 2 && strcmp (argv[1], "--thumbnails") == 0)
    thumbnails = TRUE;
  if (argc == 2 && strcmp (argv[1], "--version") == 0)
    {
      g_print ("sluice-probe %s (protocol %u)\n", PACKAGE_VERSION, SLUICE_PROBE_PROTOCOL_VERSION);
      return 0;
    }

#ifdef SLUICE_PROBE_TEST_MODES
  sluice_probe_test_mode_init ();
#endif
  warm_up (thumbnails);

  /* first thing after the warm-up, before a single byte from the engine is read */
  if (!sluice_probe_sandbox_enter (sock, &error))
    {
      /* loud, never silent; the engine cannot tell yet (see the HELLO in the protocol) */
      g_printerr ("sluice-probe: WARNING: running without a sandbox: %s\n", error->message);
      g_clear_error (&error);
    }

  if (!sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_HELLO, 0,
                                g_variant_new ("(u)", SLUICE_PROBE_PROTOCOL_VERSION), -1, &error))
    {
      g_printerr ("sluice-probe: %s\n", error->message);
      _exit (1);
    }

  /* _exit: there is nothing to flush, and exit handlers (LeakSanitizer's among them) would
   * need system calls the filter does not allow */
  _exit (serve (sock));
}
