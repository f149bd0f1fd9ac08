/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-probe-misbehave"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "probe-driver.h"
#include "sluice-error.h"
#include "sluice-probe-pool.h"

/*
 * Misbehaving helpers on purpose, through the engine's own SluiceProbePool: for each way a
 * helper can fail (sluice-probe-test-modes.h), the file gets the precise error, the pool
 * counts one restart, and the next file is probed normally by the fresh helper.
 *
 * SLUICE_PROBE_TEST_MODES_PATH is the test build of the helper; one helper per pool, so that
 * the next file necessarily goes to the replacement.
 */

/* The pool's no-progress timeout for these tests: a stall costs one second. */
#define SHORT_TIMEOUT_MS 1000
/* Longer than the helper's CPU limit (5 s of CPU, more on a busy machine), for the spin mode. */
#define LONG_TIMEOUT_MS  60000

typedef struct
{
  const char *mode;          /* the file's content */
  int         code;          /* SluiceError, or -1 for "answered" */
  const char *message;       /* exact message, or the start of it when prefix is set */
  gboolean    prefix;
  guint       timeout_ms;
} Case;

static const Case cases[] = {
  { "crash", SLUICE_ERROR_PROBE_CRASHED, "metadata helper crashed with SIGSEGV", TRUE,
    SHORT_TIMEOUT_MS },
  { "abort", SLUICE_ERROR_PROBE_CRASHED, "metadata helper crashed with SIGABRT", TRUE,
    SHORT_TIMEOUT_MS },
  { "stall", SLUICE_ERROR_PROBE_TIMEOUT, "no progress for 1 s", FALSE, SHORT_TIMEOUT_MS },
  { "spin", SLUICE_ERROR_PROBE_CRASHED, "metadata helper crashed with SIGXCPU", TRUE,
    LONG_TIMEOUT_MS },
  /* RLIMIT_AS makes malloc fail; g_malloc then calls g_error ("failed to allocate N bytes"),
   * which on Unix ends in G_BREAKPOINT: SIGTRAP */
  { "oom", SLUICE_ERROR_PROBE_CRASHED, "metadata helper crashed with SIGTRAP", TRUE,
    LONG_TIMEOUT_MS },
  { "garbage", SLUICE_ERROR_PROBE_PROTOCOL, "probe frame without the magic number", FALSE,
    SHORT_TIMEOUT_MS },
  { "truncated", SLUICE_ERROR_PROBE_CRASHED, "metadata helper exited with status 0", FALSE,
    SHORT_TIMEOUT_MS },
  { "exit-mid-response", SLUICE_ERROR_PROBE_CRASHED, "metadata helper exited with status 1",
    FALSE, SHORT_TIMEOUT_MS },
  { "wrong-id", SLUICE_ERROR_PROBE_PROTOCOL, "metadata helper answered request 2, expected 1",
    FALSE, SHORT_TIMEOUT_MS },
  { "write-file:/tmp/sluice-probe-misbehave-written", SLUICE_ERROR_PROBE_CRASHED,
    "metadata helper crashed with SIGSYS", TRUE, SHORT_TIMEOUT_MS },
  { "exec", SLUICE_ERROR_PROBE_CRASHED, "metadata helper crashed with SIGSYS", TRUE,
    SHORT_TIMEOUT_MS },
  /* refused with EPERM: not a failure of the file, the helper stays */
  { "socket", -1, "test mode: socket() failed: Operation not permitted", FALSE,
    SHORT_TIMEOUT_MS },
};

/* A JPEG the fresh helper must read normally: SOI, SOF0 24x16, EOI. */
static const guint8 plain_jpeg[] = {
  0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x18, 0x01, 0x01, 0x11, 0x00,
  0xff, 0xd9,
};

static SluiceMetadata *
probe_bytes (SluiceProbePool  *pool,
             const void       *data,
             gsize             len,
             GError          **error)
{
  int fd = probe_driver_memfd (data, len);
  SluiceMetadata *meta = sluice_probe_pool_probe (pool, fd, "misbehave.jpg", len, error);

  close (fd);
  return meta;
}

static void
assert_plain_jpeg_probes (SluiceProbePool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = probe_bytes (pool, plain_jpeg, sizeof plain_jpeg, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (meta->container, ==, "jpeg");
  g_assert_cmpint (meta->width, ==, 24);
  g_assert_cmpint (meta->height, ==, 16);
}

static const char *
find_warning (const SluiceMetadata *meta,
              const char           *needle)
{
  for (guint i = 0; i < meta->warnings->len; i++)
    if (strstr (g_ptr_array_index (meta->warnings, i), needle) != NULL)
      return g_ptr_array_index (meta->warnings, i);
  return NULL;
}

static void
test_mode (gconstpointer data)
{
  const Case *c = data;
  const char *helper = g_getenv ("SLUICE_PROBE_TEST_MODES_PATH");
  g_autoptr(SluiceProbePool) pool = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *content = g_strconcat ("SLUICE-TEST:", c->mode, NULL);
  gint64 started;

#if defined(__SANITIZE_ADDRESS__)
  if (g_str_equal (c->mode, "oom"))
    {
      g_test_skip ("no RLIMIT_AS under AddressSanitizer: the helper sets none");
      return;
    }
#endif
  g_assert_nonnull (helper);
  pool = sluice_probe_pool_new (helper, 1, c->timeout_ms, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);

  started = g_get_monotonic_time ();
  meta = probe_bytes (pool, content, strlen (content), &error);
  g_test_message ("%s: %s after %.1f s", c->mode, error != NULL ? error->message : "answered",
                  (g_get_monotonic_time () - started) / 1e6);

  if (c->code < 0)
    {
      /* answered, with the refusal as a warning; no restart */
      g_assert_no_error (error);
      g_assert_nonnull (find_warning (meta, c->message));
      g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
    }
  else
    {
      g_assert_null (meta);
      g_assert_error (error, SLUICE_ERROR, c->code);
      if (c->prefix)
        g_assert_true (g_str_has_prefix (error->message, c->message));
      else
        g_assert_cmpstr (error->message, ==, c->message);
      /* the helper was replaced, once */
      g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 1);
    }

  /* the pool survives: the next file is read by the (fresh) helper */
  assert_plain_jpeg_probes (pool);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, c->code < 0 ? 0 : 1);
  g_assert_false (g_file_test ("/tmp/sluice-probe-misbehave-written", G_FILE_TEST_EXISTS));
}

/* Several failures in a row, with files in between: every one is replaced and counted. */
static void
test_in_a_row (void)
{
  const char *helper = g_getenv ("SLUICE_PROBE_TEST_MODES_PATH");
  static const char *const modes[] = {
    "SLUICE-TEST:crash", "SLUICE-TEST:garbage", "SLUICE-TEST:exec", "SLUICE-TEST:abort",
  };
  g_autoptr(SluiceProbePool) pool = NULL;
  g_autoptr(GError) error = NULL;

  pool = sluice_probe_pool_new (helper, 2, SHORT_TIMEOUT_MS, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(SluiceMetadata) meta = probe_bytes (pool, modes[i], strlen (modes[i]), &error);

      g_assert_null (meta);
      g_assert_nonnull (error);
      g_clear_error (&error);
      assert_plain_jpeg_probes (pool);
      assert_plain_jpeg_probes (pool);
    }
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, G_N_ELEMENTS (modes));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *mode = g_strdup (cases[i].mode);
      g_autofree char *path = NULL;

      /* "write-file:/tmp/..." → "write-file" */
      *strchrnul (mode, ':') = '\0';
      path = g_strdup_printf ("/probe/misbehave/%s", mode);
      g_test_add_data_func (path, &cases[i], test_mode);
    }
  g_test_add_func ("/probe/misbehave/in-a-row", test_in_a_row);

  return g_test_run ();
}
