/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-test-modes"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice-probe-protocol.h"
#include "sluice-probe-sandbox.h"
#include "sluice-probe-test-modes.h"

#ifndef SLUICE_PROBE_TEST_MODES
#error "sluice-probe-test-modes.c belongs in the test helper only"
#endif

/*
 * Deliberate misbehaviour of the probe helper, for the tests in tests/probe. See the header for
 * the list. Each mode does what a broken or compromised parser could do, through the same
 * system calls, so that the sandbox and the engine meet the real thing.
 */

#define MAX_PATH_ARG 1024

/* Sanitizers catch SIGSEGV to print a report and then exit with status 1: the crash mode has
 * to die of the signal itself, as the helper does in a normal build. */
void
sluice_probe_test_mode_init (void)
{
  signal (SIGSEGV, SIG_DFL);
  signal (SIGBUS, SIG_DFL);
}

static gboolean
write_all (int           sock,
           const guint8 *data,
           gsize         len)
{
  while (len > 0)
    {
      ssize_t n = write (sock, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

/* A frame as sluice-probe-protocol.c writes it, so that a part of it can be sent. */
static GByteArray *
encode_result_frame (guint32         request_id,
                     SluiceMetadata *meta)
{
  g_autoptr(GVariant) reply = g_variant_ref_sink (sluice_metadata_to_variant (meta));
  g_autoptr(GVariant) normal = g_variant_get_normal_form (reply);
  gsize size = g_variant_get_size (normal);
  GByteArray *frame = g_byte_array_sized_new (SLUICE_PROBE_FRAME_HEADER + size);
  guint8 header[SLUICE_PROBE_FRAME_HEADER] = { 'S', 'L', 'P', 'R' };
  guint32 fields[3] = { SLUICE_PROBE_PROTOCOL_VERSION | (SLUICE_PROBE_MSG_RESULT << 16),
                        request_id, size };

  for (guint i = 0; i < 12; i++)
    header[4 + i] = (fields[i / 4] >> (8 * (i % 4))) & 0xff;
  g_byte_array_append (frame, header, sizeof header);
  g_byte_array_set_size (frame, SLUICE_PROBE_FRAME_HEADER + size);
  g_variant_store (normal, frame->data + SLUICE_PROBE_FRAME_HEADER);
  return frame;
}

static void G_GNUC_NORETURN
mode_crash (void)
{
  /* volatile both ways: the compiler may neither drop the store (nothing reads it before
   * abort) nor turn a store it knows goes to NULL into a trap instruction (SIGILL) */
  volatile int *volatile nowhere = NULL;

  *nowhere = 1;
  abort ();
}

static void G_GNUC_NORETURN
mode_stall (void)
{
  for (;;)
    poll (NULL, 0, -1);
}

static void G_GNUC_NORETURN
mode_spin (void)
{
  volatile guint64 n = 0;

  for (;;)
    n++;
}

/* g_malloc gives up (g_error, SIGTRAP) when malloc fails, as it does once RLIMIT_AS is reached.
 * The blocks are never touched, so they cost address space, not memory; MALLOC_PERTURB_ (which
 * meson sets for tests) would have malloc fill each one, turning 3 GiB of address space into
 * 3 GiB of memory: it is switched off first. */
static void
mode_oom (SluiceMetadata *meta)
{
  const gsize chunk = 64 * 1024 * 1024;

  mallopt (M_PERTURB, 0);
  for (guint64 total = 0;; total += chunk)
    {
#if SLUICE_PROBE_SANITIZED
      /* no RLIMIT_AS under sanitizers: do not take the machine down with us */
      if (total >= (guint64) 4 << 30)
        {
          sluice_metadata_add_warning (meta, "test mode: allocated 4 GiB without a failure");
          return;
        }
#endif
      g_malloc (chunk);
    }
}

/* One byte past a heap block: AddressSanitizer reports it (and the report must get through the
 * filter); a normal build reads malloc's padding and goes on. */
static void
mode_overflow (void)
{
  g_autofree guint8 *block = g_malloc0 (16);
  /* an index the compiler cannot see, so that it does not warn about what is meant */
  volatile gsize end = 16;
  volatile guint8 past = block[end];

  (void) past;
}

static gboolean
mode_garbage (int sock)
{
  guint8 noise[4096];
  guint32 x = 0x2545f491;

  for (gsize i = 0; i < sizeof noise; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      noise[i] = x & 0xff;
    }
  /* never the magic number by chance */
  noise[0] = 0;
  write_all (sock, noise, sizeof noise);
  return TRUE;
}

static void G_GNUC_NORETURN
mode_truncated (guint32         request_id,
                SluiceMetadata *meta,
                int             sock,
                gboolean        in_payload)
{
  g_autoptr(GByteArray) frame = encode_result_frame (request_id, meta);
  gsize cut = in_payload ? SLUICE_PROBE_FRAME_HEADER + (frame->len - SLUICE_PROBE_FRAME_HEADER) / 2
                         : SLUICE_PROBE_FRAME_HEADER / 2;

  write_all (sock, frame->data, cut);
  _exit (in_payload ? 1 : 0);
}

static gboolean
mode_wrong_id (int             sock,
               guint32         request_id,
               SluiceMetadata *meta)
{
  sluice_probe_frame_send (sock, SLUICE_PROBE_MSG_RESULT, request_id + 1,
                           sluice_metadata_to_variant (meta), -1, NULL);
  return TRUE;
}

static void
mode_socket (SluiceMetadata *meta)
{
  int s = socket (AF_INET, SOCK_STREAM, 0);

  if (s < 0)
    {
      sluice_metadata_add_warning (meta, "test mode: socket() failed: %s", g_strerror (errno));
      return;
    }
  close (s);
  sluice_metadata_add_warning (meta, "test mode: socket() succeeded");
}

static void
mode_read_file (SluiceMetadata *meta,
                const char     *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      sluice_metadata_add_warning (meta, "test mode: open() for reading failed: %s",
                                   g_strerror (errno));
      return;
    }
  close (fd);
  sluice_metadata_add_warning (meta, "test mode: open() for reading succeeded");
}

static void
mode_write_file (SluiceMetadata *meta,
                 const char     *path)
{
  static const char text[] = "written by sluice-probe-test-modes\n";
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      sluice_metadata_add_warning (meta, "test mode: open() for writing failed: %s",
                                   g_strerror (errno));
      return;
    }
  if (write (fd, text, sizeof text - 1) < 0)
    sluice_metadata_add_warning (meta, "test mode: write() failed: %s", g_strerror (errno));
  close (fd);
  sluice_metadata_add_warning (meta, "test mode: wrote a file");
}

static void
mode_exec (SluiceMetadata *meta)
{
  char *const argv[] = { (char *) "/bin/true", NULL };
  char *const envp[] = { NULL };

  execve (argv[0], argv, envp);
  sluice_metadata_add_warning (meta, "test mode: execve() failed: %s", g_strerror (errno));
}

/* "write-file:/tmp/x\n..." → "/tmp/x" when @mode matches @name */
static char *
mode_argument (const char *mode,
               gsize       mode_len,
               const char *name)
{
  gsize name_len = strlen (name);
  gsize end;

  if (mode_len <= name_len || memcmp (mode, name, name_len) != 0 || mode[name_len] != ':')
    return NULL;
  mode += name_len + 1;
  mode_len -= name_len + 1;
  for (end = 0; end < mode_len && end < MAX_PATH_ARG; end++)
    if (mode[end] == '\n' || mode[end] == '\r' || mode[end] == '\0')
      break;
  return g_strndup (mode, end);
}

static gboolean
mode_is (const char *mode,
         gsize       mode_len,
         const char *name)
{
  gsize name_len = strlen (name);

  return mode_len >= name_len && memcmp (mode, name, name_len) == 0 &&
         (mode_len == name_len || g_ascii_isspace (mode[name_len]));
}

/**
 * sluice_probe_test_mode_run:
 *
 * Called with the file's bytes and what the extractor found. Returns TRUE when the mode has
 * answered on the socket itself (or deliberately not), FALSE to send @meta as usual. Some
 * modes do not return.
 */
gboolean
sluice_probe_test_mode_run (int             sock,
                            guint32         request_id,
                            const guint8   *data,
                            gsize           len,
                            SluiceMetadata *meta)
{
  const gsize prefix_len = strlen (SLUICE_PROBE_TEST_PREFIX);
  const char *mode;
  gsize mode_len;
  g_autofree char *read_path = NULL;
  g_autofree char *write_path = NULL;

  if (data == NULL || len <= prefix_len || memcmp (data, SLUICE_PROBE_TEST_PREFIX, prefix_len) != 0)
    return FALSE;
  mode = (const char *) data + prefix_len;
  mode_len = len - prefix_len;
  read_path = mode_argument (mode, mode_len, "read-file");
  write_path = mode_argument (mode, mode_len, "write-file");

  if (mode_is (mode, mode_len, "crash"))
    mode_crash ();
  if (mode_is (mode, mode_len, "abort"))
    abort ();
  if (mode_is (mode, mode_len, "stall"))
    mode_stall ();
  if (mode_is (mode, mode_len, "spin"))
    mode_spin ();
  if (mode_is (mode, mode_len, "oom"))
    mode_oom (meta);
  else if (mode_is (mode, mode_len, "overflow"))
    mode_overflow ();
  else if (mode_is (mode, mode_len, "garbage"))
    return mode_garbage (sock);
  else if (mode_is (mode, mode_len, "truncated"))
    mode_truncated (request_id, meta, sock, FALSE);
  else if (mode_is (mode, mode_len, "exit-mid-response"))
    mode_truncated (request_id, meta, sock, TRUE);
  else if (mode_is (mode, mode_len, "wrong-id"))
    return mode_wrong_id (sock, request_id, meta);
  else if (mode_is (mode, mode_len, "socket"))
    mode_socket (meta);
  else if (mode_is (mode, mode_len, "exec"))
    mode_exec (meta);
  else if (mode_is (mode, mode_len, "status"))
    sluice_metadata_add_warning (meta, "test mode: sandbox: %s", sluice_probe_sandbox_describe ());
  else if (read_path != NULL)
    mode_read_file (meta, read_path);
  else if (write_path != NULL)
    mode_write_file (meta, write_path);
  return FALSE;
}

/* CPU time used by this process so far, as RLIMIT_CPU counts it (a wall clock would count a
 * preempted wait too), in µs */
static gint64
cpu_used (void)
{
  struct rusage ru;

  if (getrusage (RUSAGE_SELF, &ru) < 0)
    return G_MAXINT64;
  return (gint64) ru.ru_utime.tv_sec * G_USEC_PER_SEC + ru.ru_utime.tv_usec +
         (gint64) ru.ru_stime.tv_sec * G_USEC_PER_SEC + ru.ru_stime.tv_usec;
}

void
sluice_probe_test_mode_thumbnail (const guint8 *data,
                                  gsize         len)
{
  const gsize prefix_len = strlen (SLUICE_PROBE_TEST_PREFIX);
  g_autofree char *mode = NULL;
  gint64 until;

  if (data == NULL || len <= prefix_len || memcmp (data, SLUICE_PROBE_TEST_PREFIX, prefix_len) != 0)
    return;
  mode = g_strndup ((const char *) data + prefix_len, MIN (len - prefix_len, 32));
  if (!g_str_has_prefix (mode, "spin-for:"))
    return;
  until = cpu_used () +
          (gint64) g_ascii_strtoull (mode + strlen ("spin-for:"), NULL, 10) * G_USEC_PER_SEC;
  while (cpu_used () < until)
    ;
}
