/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-pool"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <signal.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sluice-error.h"
#include "sluice-probe-pool.h"
#include "sluice-probe-protocol.h"

typedef struct {
  GSubprocess *process;
  int          sock;
  guint32      next_id;
} Helper;

struct _SluiceProbePool {
  char        *helper_path;
  gboolean     thumbnails; /* started with --thumbnails: HEIF decoding loaded */
  guint        timeout_ms;
  guint        n_helpers;
  GAsyncQueue *idle;       /* Helper *, ready for a request */
  GPtrArray   *all;        /* every Helper, for shutdown */
  GMutex       mutex;      /* guards all */
  guint        restarts;   /* atomic */
};

/* For a program in @exe_dir = ROOT + BINDIR (ROOT being DESTDIR, or "" when installed where
 * it was configured to go), sets @root_out to ROOT. */
static gboolean
installed_root (const char  *exe_dir,
                char       **root_out)
{
  gsize n = strlen (exe_dir), m = strlen (BINDIR);

  if (n < m || strcmp (exe_dir + n - m, BINDIR) != 0)
    return FALSE;
  *root_out = g_strndup (exe_dir, n - m);
  return TRUE;
}

/**
 * sluice_probe_find_helper:
 *
 * $SLUICE_PROBE_PATH; else, for a program of this build tree (run uninstalled), this build's
 * helper; else the helper where meson installed it relative to the program (BINDIR →
 * LIBEXECDIR, so that an install under DESTDIR uses its own helper); else LIBEXECDIR's.
 */
char *
sluice_probe_find_helper (void)
{
  const char *env = g_getenv ("SLUICE_PROBE_PATH");
  g_autofree char *exe = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *root = NULL;

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);

  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe != NULL)
    {
      dir = g_path_get_dirname (exe);
      if (g_str_has_prefix (exe, BUILD_ROOT "/"))
        {
          g_autofree char *uninstalled = g_build_filename (PROBE_BUILDDIR, "sluice-probe", NULL);

          if (g_file_test (uninstalled, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer (&uninstalled);
        }
      if (installed_root (dir, &root) && root[0] != '\0')
        {
          g_autofree char *relocated = g_build_filename (root, LIBEXECDIR, "sluice-probe",
                                                         NULL);

          if (g_file_test (relocated, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer (&relocated);
        }
    }
  return g_build_filename (LIBEXECDIR, "sluice-probe", NULL);
}

static void
helper_free (Helper *h)
{
  if (h == NULL)
    return;
  if (h->sock >= 0)
    close (h->sock);
  if (h->process != NULL)
    {
      g_subprocess_force_exit (h->process);
      g_subprocess_wait (h->process, NULL, NULL);
      g_object_unref (h->process);
    }
  g_free (h);
}

static Helper *
helper_spawn (SluiceProbePool *self,
              GError         **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GVariant) hello = NULL;
  Helper *h;
  SluiceProbeMessage message;
  guint32 id, version = 0;
  int pair[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED, "socketpair: %s",
                   g_strerror (errno));
      return NULL;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  /* the child gets its end as fd 3 and nothing else of ours */
  g_subprocess_launcher_take_fd (launcher, pair[1], SLUICE_PROBE_SOCKET_FD);

  h = g_new0 (Helper, 1);
  h->sock = pair[0];
  h->process = g_subprocess_launcher_spawn (launcher, error, self->helper_path,
                                            self->thumbnails ? "--thumbnails" : NULL, NULL);
  /* drop our copy of the child's end: a helper that dies at once then reads as a crash (the
   * socket closes), not as a helper that never greets */
  g_subprocess_launcher_close (launcher);
  if (h->process == NULL)
    {
      g_prefix_error (error, _("Cannot start the metadata helper %s: "), self->helper_path);
      helper_free (h);
      return NULL;
    }

  if (!sluice_probe_frame_recv (h->sock, (int) self->timeout_ms, &message, &id, &hello, NULL,
                                error) ||
      message != SLUICE_PROBE_MSG_HELLO)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                             "the helper did not greet");
      g_prefix_error (error, _("The metadata helper %s did not start: "), self->helper_path);
      helper_free (h);
      return NULL;
    }
  g_variant_get (hello, "(u)", &version);
  if (version != SLUICE_PROBE_PROTOCOL_VERSION)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   _("The metadata helper %s speaks protocol %u, not %u"), self->helper_path,
                   version, SLUICE_PROBE_PROTOCOL_VERSION);
      helper_free (h);
      return NULL;
    }
  return h;
}

static SluiceProbePool *
pool_new (const char  *helper_path,
          gboolean     thumbnails,
          guint        n_helpers,
          guint        timeout_ms,
          GError     **error)
{
  g_autoptr(SluiceProbePool) self = g_new0 (SluiceProbePool, 1);

  g_mutex_init (&self->mutex);
  self->helper_path = g_strdup (helper_path);
  self->thumbnails = thumbnails;
  self->timeout_ms = timeout_ms > 0 ? timeout_ms : SLUICE_PROBE_DEFAULT_TIMEOUT_MS;
  self->n_helpers = MAX (n_helpers, 1);
  self->idle = g_async_queue_new ();
  self->all = g_ptr_array_new ();

  for (guint i = 0; i < self->n_helpers; i++)
    {
      Helper *h = helper_spawn (self, error);
      if (h == NULL)
        return NULL;
      g_ptr_array_add (self->all, h);
      g_async_queue_push (self->idle, h);
    }
  return g_steal_pointer (&self);
}

SluiceProbePool *
sluice_probe_pool_new (const char  *helper_path,
                       guint        n_helpers,
                       guint        timeout_ms,
                       GError     **error)
{
  return pool_new (helper_path, FALSE, n_helpers, timeout_ms, error);
}

SluiceProbePool *
sluice_probe_pool_new_for_thumbnails (const char  *helper_path,
                                      guint        n_helpers,
                                      guint        timeout_ms,
                                      GError     **error)
{
  return pool_new (helper_path, TRUE, n_helpers, timeout_ms, error);
}

void
sluice_probe_pool_free (SluiceProbePool *self)
{
  if (self == NULL)
    return;
  /* closing the sockets is how helpers are told to exit; then reap them */
  if (self->all != NULL)
    {
      for (guint i = 0; i < self->all->len; i++)
        helper_free (g_ptr_array_index (self->all, i));
      g_ptr_array_unref (self->all);
    }
  if (self->idle != NULL)
    g_async_queue_unref (self->idle);
  g_mutex_clear (&self->mutex);
  g_free (self->helper_path);
  g_free (self);
}

guint
sluice_probe_pool_restarts (SluiceProbePool *self)
{
  return g_atomic_int_get (&self->restarts);
}

/* Why a helper went away, in the words the catalog keeps. */
static char *
describe_death (GSubprocess *process,
                gboolean     thumbnails)
{
  if (g_subprocess_get_if_signaled (process))
    {
      int sig = g_subprocess_get_term_sig (process);
      const char *abbrev = sigabbrev_np (sig);
      g_autofree char *why = NULL;

      if (sig == SIGSYS)
        why = g_strdup (" (a system call the sandbox forbids)");
      else if (sig == SIGXCPU)
        why = g_strdup_printf (" (more than %d s of CPU for one file)",
                               thumbnails ? SLUICE_PROBE_THUMB_CPU_SECONDS
                                          : SLUICE_PROBE_CPU_SECONDS);
      else if (sig == SIGTRAP)
        why = g_strdup (" (a fatal GLib error such as out of memory)");

      if (abbrev != NULL)
        return g_strdup_printf ("metadata helper crashed with SIG%s%s", abbrev,
                                why != NULL ? why : "");
      return g_strdup_printf ("metadata helper crashed with signal %d", sig);
    }
  return g_strdup_printf ("metadata helper exited with status %d",
                          g_subprocess_get_exit_status (process));
}

/* Waits up to @ms for a helper that closed its socket to finish dying on its own, so that
 * what killed it (SIGSEGV, SIGABRT, an exit status) is what gets reported. */
static void
wait_for_exit (GSubprocess *process,
               int          ms)
{
  const char *ident = g_subprocess_get_identifier (process);
  guint64 pid = 0;
  int pidfd;

  if (ident == NULL || !g_ascii_string_to_unsigned (ident, 10, 1, G_MAXINT, &pid, NULL))
    return;
  pidfd = syscall (SYS_pidfd_open, (pid_t) pid, 0);
  if (pidfd < 0)
    return;
  {
    struct pollfd pfd = { pidfd, POLLIN, 0 };
    while (poll (&pfd, 1, ms) < 0 && errno == EINTR)
      ;
  }
  close (pidfd);
}

/* Kills a helper that failed a request, says why in @error, and puts a fresh one in its
 * place. */
static void
helper_replace (SluiceProbePool *self,
                Helper          *h,
                GError          *error)
{
  g_autoptr(GError) spawn_error = NULL;
  Helper *fresh;

  close (h->sock);
  h->sock = -1;
  if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED))
    wait_for_exit (h->process, 2000);
  /* still alive (stalled, or talking garbage): it goes now */
  g_subprocess_force_exit (h->process);
  g_subprocess_wait (h->process, NULL, NULL);

  if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED))
    {
      g_free (error->message);
      error->message = describe_death (h->process, self->thumbnails);
    }

  g_mutex_lock (&self->mutex);
  g_ptr_array_remove (self->all, h);
  g_mutex_unlock (&self->mutex);
  g_clear_object (&h->process);
  g_free (h);

  g_atomic_int_inc (&self->restarts);
  fresh = helper_spawn (self, &spawn_error);
  if (fresh == NULL)
    {
      /* the next request tries again rather than the pool shrinking for good */
      g_warning ("%s", spawn_error->message);
      return;
    }
  g_mutex_lock (&self->mutex);
  g_ptr_array_add (self->all, fresh);
  g_mutex_unlock (&self->mutex);
  g_async_queue_push (self->idle, fresh);
}

/* Sends one request and reads the answer, which must be one of @replies (0-terminated);
 * FALSE means the helper is unusable now. */
static gboolean
helper_request (SluiceProbePool           *self,
                Helper                    *h,
                SluiceProbeMessage         request,
                GVariant                  *payload,
                int                        fd,
                const SluiceProbeMessage  *replies,
                SluiceProbeMessage        *out_message,
                GVariant                 **out_result,
                GError                   **error)
{
  SluiceProbeMessage message;
  guint32 id = ++h->next_id, got_id = 0;
  g_autoptr(GVariant) reply = NULL;

  if (!sluice_probe_frame_send (h->sock, request, id, payload, fd, error))
    return FALSE;
  if (!sluice_probe_frame_recv (h->sock, (int) self->timeout_ms, &message, &got_id, &reply, NULL,
                                error))
    return FALSE;
  if (got_id != id)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "metadata helper answered request %u, expected %u", got_id, id);
      return FALSE;
    }
  for (guint i = 0; replies[i] != 0; i++)
    {
      if (message == replies[i])
        {
          *out_message = message;
          *out_result = g_steal_pointer (&reply);
          return TRUE;
        }
    }
  g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
               "metadata helper sent message %u instead of a result", message);
  return FALSE;
}

/* An idle helper, or a fresh one when every helper is gone and none could be restarted. */
static Helper *
helper_take (SluiceProbePool  *self,
             GError          **error)
{
  Helper *h = g_async_queue_timeout_pop (self->idle, 60 * G_USEC_PER_SEC);

  if (h != NULL)
    return h;
  h = helper_spawn (self, error);
  if (h == NULL)
    return NULL;
  g_mutex_lock (&self->mutex);
  g_ptr_array_add (self->all, h);
  g_mutex_unlock (&self->mutex);
  return h;
}

/* One round trip on an idle helper; a helper that fails it is replaced, and @error says how
 * it failed (crashed with SIGSEGV, no progress for 10 s, garbage). */
static gboolean
pool_request (SluiceProbePool           *self,
              SluiceProbeMessage         request,
              GVariant                  *payload,
              int                        fd,
              const SluiceProbeMessage  *replies,
              SluiceProbeMessage        *out_message,
              GVariant                 **out_result,
              GError                   **error)
{
  g_autoptr(GError) local_error = NULL;
  Helper *h;

  g_variant_ref_sink (payload);
  h = helper_take (self, error);
  if (h == NULL)
    {
      g_variant_unref (payload);
      return FALSE;
    }
  if (!helper_request (self, h, request, payload, fd, replies, out_message, out_result,
                       &local_error))
    {
      g_variant_unref (payload);
      helper_replace (self, h, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_variant_unref (payload);
  g_async_queue_push (self->idle, h);
  return TRUE;
}

/**
 * sluice_probe_pool_probe:
 * @fd: a read-only descriptor of the file's bytes (the pool does not take it)
 *
 * Blocks until a helper is free and has answered. Called from pipeline worker threads.
 */
SluiceMetadata *
sluice_probe_pool_probe (SluiceProbePool *self,
                         int              fd,
                         const char      *name,
                         guint64          size,
                         GError         **error)
{
  static const SluiceProbeMessage replies[] = { SLUICE_PROBE_MSG_RESULT,
                                                 SLUICE_PROBE_MSG_ERROR, 0 };
  g_autoptr(GVariant) result = NULL;
  g_autofree char *valid_name = g_utf8_make_valid (name, -1);
  SluiceProbeMessage message = 0;

  if (!pool_request (self, SLUICE_PROBE_MSG_PROBE, g_variant_new ("(st)", valid_name, size), fd,
                     replies, &message, &result, error))
    return NULL;

  if (message == SLUICE_PROBE_MSG_ERROR)
    {
      const char *text = NULL;
      g_variant_get (result, "(&s)", &text);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "metadata helper: %s", text);
      return NULL;
    }
  return sluice_metadata_from_variant (result, error);
}

/**
 * sluice_probe_pool_thumbnail:
 * @fd: a read-only descriptor of the file's bytes (the pool does not take it)
 * @size: how many bytes of @fd are the file
 * @max_edge: the longest side wanted, SLUICE_PROBE_THUMB_MIN_EDGE..SLUICE_PROBE_THUMB_MAX_EDGE
 * @out_width, @out_height, @out_stride: the image's geometry
 *
 * A helper decodes the file and answers with 8-bit RGB rows (GDK_MEMORY_R8G8B8): no image
 * decoder runs in the calling process. A file the helper does not decode is
 * SLUICE_ERROR_INVALID_ARGUMENT, one it cannot decode SLUICE_ERROR_FAILED, an absurdly large
 * one SLUICE_ERROR_TOO_LARGE; a helper that crashes or stalls on it is replaced, as for
 * sluice_probe_pool_probe(). The answer's geometry is checked against its bytes.
 *
 * Returns: (transfer full): the rows, @out_stride bytes apart. Blocks; called from any thread
 * but the main one.
 */
GBytes *
sluice_probe_pool_thumbnail (SluiceProbePool  *self,
                             int               fd,
                             guint64           size,
                             guint             max_edge,
                             guint            *out_width,
                             guint            *out_height,
                             gsize            *out_stride,
                             GError          **error)
{
  static const SluiceProbeMessage replies[] = { SLUICE_PROBE_MSG_PIXELS,
                                                 SLUICE_PROBE_MSG_NO_THUMBNAIL, 0 };
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) bytes = NULL;
  SluiceProbeMessage message = 0;
  guint32 width = 0, height = 0, stride = 0;
  gsize len;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (out_width != NULL && out_height != NULL && out_stride != NULL, NULL);

  max_edge = CLAMP (max_edge, SLUICE_PROBE_THUMB_MIN_EDGE, SLUICE_PROBE_THUMB_MAX_EDGE);
  if (!pool_request (self, SLUICE_PROBE_MSG_THUMBNAIL, g_variant_new ("(tu)", size, max_edge),
                     fd, replies, &message, &result, error))
    return NULL;

  if (message == SLUICE_PROBE_MSG_NO_THUMBNAIL)
    {
      const char *text = NULL;
      guint32 failure = 0;

      g_variant_get (result, "(u&s)", &failure, &text);
      g_set_error_literal (error, SLUICE_ERROR,
                           failure == SLUICE_PROBE_THUMB_UNSUPPORTED ? SLUICE_ERROR_INVALID_ARGUMENT
                           : failure == SLUICE_PROBE_THUMB_TOO_LARGE ? SLUICE_ERROR_TOO_LARGE
                                                                     : SLUICE_ERROR_FAILED,
                           text);
      return NULL;
    }

  /* the helper is not trusted: the geometry must fit the request and the bytes */
  g_variant_get (result, "(uuu@ay)", &width, &height, &stride, &bytes);
  len = g_variant_get_size (bytes);
  /* rows padded to at most 4 bytes, and exactly stride × height bytes: whoever copies the
   * pixels may rely on both */
  if (width == 0 || height == 0 || width > max_edge || height > max_edge ||
      stride < (gsize) width * 3 || stride > (gsize) width * 3 + 3 ||
      len != (gsize) stride * height)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "thumbnail helper sent a %u × %u thumbnail (stride %u) in %" G_GSIZE_FORMAT
                   " bytes", width, height, stride, len);
      return NULL;
    }
  *out_width = width;
  *out_height = height;
  *out_stride = stride;
  return g_variant_get_data_as_bytes (bytes);
}
