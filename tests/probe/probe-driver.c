/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "probe-driver"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe-driver.h"
#include "sluice-error.h"
#include "sluice-probe-protocol.h"

#define HELLO_TIMEOUT_MS  10000
#define REPLY_TIMEOUT_MS  30000
#define EXIT_TIMEOUT_MS   10000
#define MAX_STDERR        (64 * 1024)

struct _ProbeDriver
{
  GSubprocess *process;
  int          sock;
  guint32      next_id;
  char        *stderr_path;
};

/* one extra descriptor for the next helper (a test runs one start at a time) */
static int pass_fd = -1;
static int pass_target = -1;

void
probe_driver_pass_fd (int fd,
                      int target_fd)
{
  pass_fd = fd;
  pass_target = target_fd;
}

int
probe_driver_memfd (const void *data,
                    gsize       len)
{
  g_autofree char *proc_path = NULL;
  int rw, ro;

  rw = memfd_create ("probe-driver", MFD_ALLOW_SEALING | MFD_CLOEXEC);
  g_assert_cmpint (rw, >=, 0);
  g_assert_cmpint (ftruncate (rw, len), ==, 0);
  if (len > 0)
    g_assert_cmpint (pwrite (rw, data, len, 0), ==, (gssize) len);
  g_assert_cmpint (fcntl (rw, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW |
                          F_SEAL_SEAL), ==, 0);
  /* a new, read-only open file description, as the engine gives the helper */
  proc_path = g_strdup_printf ("/proc/self/fd/%d", rw);
  ro = open (proc_path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (ro, >=, 0);
  close (rw);
  return ro;
}

ProbeDriver *
probe_driver_start (const char * const  *argv,
                    GSpawnChildSetupFunc child_setup,
                    gpointer             user_data,
                    const char          *stderr_path,
                    GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(ProbeDriver) self = g_new0 (ProbeDriver, 1);
  g_autoptr(GVariant) hello = NULL;
  SluiceProbeMessage message;
  guint32 id;
  int pair[2];

  self->sock = -1;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED, "socketpair: %s",
                   g_strerror (errno));
      return NULL;
    }
  self->sock = pair[0];

  launcher = g_subprocess_launcher_new (stderr_path == NULL ? G_SUBPROCESS_FLAGS_STDERR_PIPE
                                                            : G_SUBPROCESS_FLAGS_NONE);
  if (stderr_path != NULL)
    {
      g_subprocess_launcher_set_stderr_file_path (launcher, stderr_path);
      self->stderr_path = g_strdup (stderr_path);
    }
  g_subprocess_launcher_take_fd (launcher, pair[1], SLUICE_PROBE_SOCKET_FD);
  if (pass_fd >= 0)
    g_subprocess_launcher_take_fd (launcher, pass_fd, pass_target);
  pass_fd = pass_target = -1;
  if (child_setup != NULL)
    g_subprocess_launcher_set_child_setup (launcher, child_setup, user_data, NULL);
  self->process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (self->process == NULL)
    return NULL;

  if (!sluice_probe_frame_recv (self->sock, HELLO_TIMEOUT_MS, &message, &id, &hello, NULL, error))
    return NULL;
  if (message != SLUICE_PROBE_MSG_HELLO)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL, "message %u, not HELLO",
                   message);
      return NULL;
    }
  return g_steal_pointer (&self);
}

SluiceMetadata *
probe_driver_probe (ProbeDriver  *self,
                    const void   *data,
                    gsize         len,
                    const char   *name,
                    GError      **error)
{
  g_autoptr(GVariant) reply = NULL;
  SluiceProbeMessage message;
  guint32 id = ++self->next_id, got_id = 0;
  gboolean sent;
  int fd;

  fd = probe_driver_memfd (data, len);
  sent = sluice_probe_frame_send (self->sock, SLUICE_PROBE_MSG_PROBE, id,
                                  g_variant_new ("(st)", name, (guint64) len), fd, error);
  close (fd);
  if (!sent)
    return NULL;
  if (!sluice_probe_frame_recv (self->sock, REPLY_TIMEOUT_MS, &message, &got_id, &reply, NULL,
                                error))
    return NULL;
  if (got_id != id)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "answer to request %u, expected %u", got_id, id);
      return NULL;
    }
  if (message == SLUICE_PROBE_MSG_ERROR)
    {
      const char *text = NULL;

      g_variant_get (reply, "(&s)", &text);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL, "helper: %s", text);
      return NULL;
    }
  return sluice_metadata_from_variant (reply, error);
}

static gboolean
wait_for_exit (GSubprocess *process,
               int          ms)
{
  const char *ident = g_subprocess_get_identifier (process);
  guint64 pid = 0;
  struct pollfd pfd;
  int pidfd, r;

  if (ident == NULL)
    return TRUE;
  g_assert_true (g_ascii_string_to_unsigned (ident, 10, 1, G_MAXINT, &pid, NULL));
  pidfd = syscall (SYS_pidfd_open, (pid_t) pid, 0);
  if (pidfd < 0)
    return TRUE; /* already reaped */
  pfd.fd = pidfd;
  pfd.events = POLLIN;
  do
    r = poll (&pfd, 1, ms);
  while (r < 0 && errno == EINTR);
  close (pidfd);
  return r > 0;
}

int
probe_driver_finish (ProbeDriver  *self,
                     char        **out_stderr)
{
  GInputStream *err = g_subprocess_get_stderr_pipe (self->process);
  g_autofree char *text = NULL;

  if (self->sock >= 0)
    close (self->sock);
  self->sock = -1;
  if (!wait_for_exit (self->process, EXIT_TIMEOUT_MS))
    g_subprocess_force_exit (self->process);
  g_subprocess_wait (self->process, NULL, NULL);

  if (err != NULL)
    {
      gsize got = 0;

      text = g_malloc0 (MAX_STDERR + 1);
      g_input_stream_read_all (err, text, MAX_STDERR, &got, NULL, NULL);
      text[got] = '\0';
    }
  else if (!g_file_get_contents (self->stderr_path, &text, NULL, NULL))
    text = g_strdup ("");
  if (out_stderr != NULL)
    *out_stderr = g_steal_pointer (&text);
  return g_subprocess_get_status (self->process);
}

void
probe_driver_free (ProbeDriver *self)
{
  if (self == NULL)
    return;
  if (self->sock >= 0)
    close (self->sock);
  if (self->process != NULL)
    {
      g_subprocess_force_exit (self->process);
      g_subprocess_wait (self->process, NULL, NULL);
      g_object_unref (self->process);
    }
  g_free (self->stderr_path);
  g_free (self);
}
