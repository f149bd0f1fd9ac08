/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-probe-sandbox"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <math.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>

#include "probe-driver.h"
#include "sluice-error.h"
#include "sluice-probe-exif.h"

/*
 * The probe helper's sandbox, seen from outside: what it refuses and how (EPERM for socket(),
 * SIGSYS and a "blocked system call" line for a write-open or execve), that it lets every real
 * and generated file through with the same result as an unsandboxed extraction, what the helper
 * does when the kernel refuses the filter, and the same checks inside bubblewrap.
 *
 * The bubblewrap case is an EMULATION of the Flatpak sandbox, not the Flatpak runtime (which
 * cannot be downloaded here): the same tool Flatpak uses (bwrap), with the namespaces Flatpak
 * unshares, no_new_privs, and a seccomp filter in the spirit of Flatpak's (the syscalls and
 * socket families it refuses); our filter stacks on top of it as it would in Flatpak.
 *
 * The helpers come from the environment: SLUICE_PROBE_PATH (the installed helper) and
 * SLUICE_PROBE_TEST_MODES_PATH (the test build, see sluice-probe-test-modes.h).
 */

#define SANDBOX_LINE_PREFIX "test mode: sandbox: "

/* ---- helpers ---------------------------------------------------------------------------------- */

static const char *
real_helper (void)
{
  const char *path = g_getenv ("SLUICE_PROBE_PATH");

  g_assert_nonnull (path);
  return path;
}

static const char *
test_helper (void)
{
  const char *path = g_getenv ("SLUICE_PROBE_TEST_MODES_PATH");

  g_assert_nonnull (path);
  return path;
}

static ProbeDriver *
start_helper (const char           *path,
              GSpawnChildSetupFunc  setup,
              const char           *stderr_path)
{
  const char *argv[] = { path, NULL };
  g_autoptr(GError) error = NULL;
  ProbeDriver *driver = probe_driver_start (argv, setup, NULL, stderr_path, &error);

  g_assert_no_error (error);
  return driver;
}

static SluiceMetadata *
probe_text (ProbeDriver  *driver,
            const char   *text,
            GError      **error)
{
  return probe_driver_probe (driver, text, strlen (text), "test.jpg", error);
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
assert_warning (const SluiceMetadata *meta,
                const char           *needle)
{
  if (find_warning (meta, needle) == NULL)
    {
      for (guint i = 0; i < meta->warnings->len; i++)
        g_test_message ("warning: %s", (char *) g_ptr_array_index (meta->warnings, i));
      g_error ("no warning contains \"%s\"", needle);
    }
}

static void
assert_killed_by (int status,
                  int sig)
{
  if (!WIFSIGNALED (status))
    g_error ("helper exited with status %d, expected signal %d", WEXITSTATUS (status), sig);
  g_assert_cmpint (WTERMSIG (status), ==, sig);
}

static void
assert_exited (int status,
               int code)
{
  if (WIFSIGNALED (status))
    g_error ("helper killed by signal %d, expected exit %d", WTERMSIG (status), code);
  g_assert_cmpint (WEXITSTATUS (status), ==, code);
}

/* A JPEG with an EXIF block written by libexif: Make, Model, a date. */
static GBytes *
build_jpeg (void)
{
  static const guint8 soi_app1[] = { 0xff, 0xd8, 0xff, 0xe1 };
  static const guint8 sof_eoi[] = {
    0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x18, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9,
  };
  static const struct {
    ExifIfd     ifd;
    ExifTag     tag;
    const char *value;
  } fields[] = {
    { EXIF_IFD_0, EXIF_TAG_MAKE, "Sluice Optical" },
    { EXIF_IFD_0, EXIF_TAG_MODEL, "SL-1 Sandbox" },
    { EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, "2024:02:29 13:45:10" },
  };
  ExifData *ed = exif_data_new ();
  GByteArray *jpeg = g_byte_array_new ();
  unsigned char *block = NULL;
  unsigned int size = 0;
  guint8 len[2];

  exif_data_unset_option (ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_set_byte_order (ed, EXIF_BYTE_ORDER_INTEL);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      ExifEntry *e = exif_entry_new ();
      gsize n = strlen (fields[i].value) + 1;

      e->tag = fields[i].tag;
      e->format = EXIF_FORMAT_ASCII;
      e->components = n;
      e->size = n;
      e->data = malloc (n);
      memcpy (e->data, fields[i].value, n);
      exif_content_add_entry (ed->ifd[fields[i].ifd], e);
      exif_entry_unref (e);
    }
  exif_data_save_data (ed, &block, &size);
  g_assert_nonnull (block);
  exif_data_unref (ed);

  g_byte_array_append (jpeg, soi_app1, sizeof soi_app1);
  len[0] = (size + 2) >> 8;
  len[1] = (size + 2) & 0xff;
  g_byte_array_append (jpeg, len, 2);
  g_byte_array_append (jpeg, block, size);
  g_byte_array_append (jpeg, sof_eoi, sizeof sof_eoi);
  free (block);
  return g_byte_array_free_to_bytes (jpeg);
}

static void
assert_jpeg_probes (ProbeDriver *driver)
{
  g_autoptr(GBytes) jpeg = build_jpeg ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;

  meta = probe_driver_probe (driver, g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg),
                             "sandbox.jpg", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (meta->container, ==, "jpeg");
  g_assert_cmpstr (meta->make, ==, "Sluice Optical");
  g_assert_cmpstr (meta->model, ==, "SL-1 Sandbox");
  g_assert_cmpstr (meta->datetime_original, ==, "2024:02:29 13:45:10");
  g_assert_cmpint (meta->width, ==, 24);
}

/* ---- what the sandbox refuses --------------------------------------------------------------- */

static void
test_status (void)
{
  g_autoptr(ProbeDriver) driver = start_helper (test_helper (), NULL, NULL);
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;
  const char *line;

  meta = probe_text (driver, "SLUICE-TEST:status", &error);
  g_assert_no_error (error);
  line = find_warning (meta, SANDBOX_LINE_PREFIX);
  g_assert_nonnull (line);
  g_test_message ("%s", line);
  g_assert_true (g_str_has_prefix (line, SANDBOX_LINE_PREFIX "seccomp filter active; "
                                   "no_new_privs; "));
  g_assert_nonnull (strstr (line, "RLIMIT_NOFILE 16;"));
  g_assert_nonnull (strstr (line, "RLIMIT_CORE 0;"));
  g_assert_nonnull (strstr (line, "RLIMIT_FSIZE 0;"));
  g_assert_nonnull (strstr (line, "RLIMIT_CPU +5 s per file"));
#if defined(__SANITIZE_ADDRESS__)
  g_assert_nonnull (strstr (line, "RLIMIT_AS not set (sanitizer build)"));
#else
  g_assert_nonnull (strstr (line, "RLIMIT_AS 3221225472;"));
#endif

  assert_exited (probe_driver_finish (driver, &err_text), 0);
  /* nothing to say on stderr when the sandbox is in place */
  g_assert_cmpstr (err_text, ==, "");
}

static void
test_socket_refused (void)
{
  g_autoptr(ProbeDriver) driver = start_helper (test_helper (), NULL, NULL);
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;

  meta = probe_text (driver, "SLUICE-TEST:socket", &error);
  g_assert_no_error (error);
  assert_warning (meta, "test mode: socket() failed: Operation not permitted");
  /* refused, not fatal: the same helper goes on */
  assert_jpeg_probes (driver);
  assert_exited (probe_driver_finish (driver, &err_text), 0);
  g_assert_cmpstr (err_text, ==, "");
}

static void
test_read_refused (void)
{
  g_autoptr(ProbeDriver) driver = start_helper (test_helper (), NULL, NULL);
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *request = g_strdup_printf ("SLUICE-TEST:read-file:%s", real_helper ());

  meta = probe_text (driver, request, &error);
  g_assert_no_error (error);
#if defined(__SANITIZE_ADDRESS__)
  /* sanitizer reports need read-only opens (/proc/self/maps, the binaries) */
  assert_warning (meta, "test mode: open() for reading succeeded");
#else
  assert_warning (meta, "test mode: open() for reading failed: Permission denied");
#endif
  assert_jpeg_probes (driver);
}

static void
test_write_trapped (void)
{
  g_autoptr(ProbeDriver) driver = start_helper (test_helper (), NULL, NULL);
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sluice-probe-XXXXXX", NULL);
  g_autofree char *target = g_build_filename (dir, "written-by-the-helper", NULL);
  g_autofree char *request = g_strdup_printf ("SLUICE-TEST:write-file:%s", target);

  meta = probe_text (driver, request, &error);
  g_assert_null (meta);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED);
  assert_killed_by (probe_driver_finish (driver, &err_text), SIGSYS);
  g_assert_cmpstr (err_text, ==, "sluice-probe: blocked system call openat\n");
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
  g_rmdir (dir);
}

static void
test_exec_trapped (void)
{
  g_autoptr(ProbeDriver) driver = start_helper (test_helper (), NULL, NULL);
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;

  meta = probe_text (driver, "SLUICE-TEST:exec", &error);
  g_assert_null (meta);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED);
  assert_killed_by (probe_driver_finish (driver, &err_text), SIGSYS);
  g_assert_cmpstr (err_text, ==, "sluice-probe: blocked system call execve\n");
}

/* Under AddressSanitizer a memory error in the helper is reported in full, symbolised, through
 * the filter (which allows what the report needs in sanitizer builds only). */
static void
test_sanitizer_report (void)
{
#if defined(__SANITIZE_ADDRESS__)
  g_autoptr(ProbeDriver) driver = start_helper (test_helper (), NULL, NULL);
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;

  meta = probe_text (driver, "SLUICE-TEST:overflow", &error);
  g_assert_null (meta);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED);
  assert_exited (probe_driver_finish (driver, &err_text), 1);
  g_assert_nonnull (strstr (err_text, "ERROR: AddressSanitizer: heap-buffer-overflow"));
  g_assert_nonnull (strstr (err_text, " in mode_overflow "));
  g_assert_null (strstr (err_text, "blocked system call"));
#else
  g_test_skip ("not an AddressSanitizer build");
#endif
}

/* A stderr redirected to a file (sluice-cli 2>log) must not turn messages into SIGXFSZ. */
static void
test_stderr_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sluice-probe-XXXXXX", NULL);
  g_autofree char *log = g_build_filename (dir, "helper.log", NULL);
  g_autoptr(ProbeDriver) driver = start_helper (test_helper (), NULL, log);
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;

  meta = probe_text (driver, "SLUICE-TEST:status", &error);
  g_assert_no_error (error);
  assert_warning (meta, "RLIMIT_FSIZE not set (stderr is a file)");
  g_clear_pointer (&meta, sluice_metadata_free);

  meta = probe_text (driver, "SLUICE-TEST:exec", &error);
  g_assert_null (meta);
  assert_killed_by (probe_driver_finish (driver, &err_text), SIGSYS);
  g_assert_cmpstr (err_text, ==, "sluice-probe: blocked system call execve\n");
  g_unlink (log);
  g_rmdir (dir);
}

/* ---- what the sandbox lets through ------------------------------------------------------------ */

static GVariant *
wire_form (const SluiceMetadata *meta)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (sluice_metadata_to_variant (meta));

  return g_variant_get_normal_form (v);
}

/* The helper's answer for @data must be exactly what the extractor gives in this process,
 * after the same trip through the parent's reader. */
static void
compare_with_local (ProbeDriver  *driver,
                    const guint8 *data,
                    gsize         len,
                    const char   *name)
{
  g_autoptr(SluiceMetadata) local = sluice_probe_exif_extract (len > 0 ? data : NULL, len, name);
  g_autoptr(GVariant) local_wire = wire_form (local);
  g_autoptr(SluiceMetadata) local_back = sluice_metadata_from_variant (local_wire, NULL);
  g_autoptr(SluiceMetadata) remote = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) a = NULL;
  g_autoptr(GVariant) b = NULL;

  remote = probe_driver_probe (driver, data, len, name, &error);
  if (error != NULL)
    g_error ("%s: %s", name, error->message);
  a = wire_form (local_back);
  b = wire_form (remote);
  if (!g_variant_equal (a, b))
    {
      g_autofree char *sa = g_variant_print (a, FALSE);
      g_autofree char *sb = g_variant_print (b, FALSE);
      g_error ("%s: in process %.400s\nhelper %.400s", name, sa, sb);
    }
}

static guint
compare_tree (ProbeDriver *driver,
              const char  *dir,
              gboolean     hint_byte)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  if (d == NULL)
    return 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          n += compare_tree (driver, path, hint_byte);
          continue;
        }
      if (g_str_has_suffix (name, ".md") || !g_file_get_contents (path, &contents, &len, NULL))
        continue;
      /* fuzz inputs start with a byte that picks the name hint: drop it */
      if (hint_byte && len > 0)
        compare_with_local (driver, (const guint8 *) contents + 1, len - 1, "input.jpg");
      else
        compare_with_local (driver, (const guint8 *) contents, len, path);
      n++;
    }
  return n;
}

/* Every real sample, every fuzz seed and every regression input through one sandboxed helper:
 * the allow-list is wide enough for all of them, and the sandbox changes no result. */
static void
test_everything_passes (void)
{
  g_autoptr(ProbeDriver) driver = start_helper (real_helper (), NULL, NULL);
  const char *root = g_getenv ("SLUICE_SOURCE_ROOT");
  const char *seeds_tool = g_getenv ("SLUICE_FUZZ_SEEDS");
  g_autofree char *corpus = NULL;
  g_autofree char *regressions = NULL;
  g_autofree char *seeds = g_dir_make_tmp ("sluice-seeds-XXXXXX", NULL);
  g_autofree char *err_text = NULL;
  guint n;

  g_assert_nonnull (root);
  g_assert_nonnull (seeds_tool);
  {
    const char *argv[] = { seeds_tool, "--output", seeds, NULL };
    g_autoptr(GError) error = NULL;
    int status = 0;

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                  NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_cmpint (status, ==, 0);
  }
  n = compare_tree (driver, seeds, TRUE);
  g_test_message ("%u generated seeds", n);
  g_assert_cmpuint (n, >=, 40);

  regressions = g_build_filename (root, "tests", "fuzz", "regressions", NULL);
  n = compare_tree (driver, regressions, TRUE);
  g_test_message ("%u fuzz regression inputs", n);

  corpus = g_build_filename (root, "..", "shared", "corpus", "exif-samples", NULL);
  n = compare_tree (driver, corpus, FALSE);
  g_test_message ("%u real samples", n);

  /* no trap, no warning: the allow-list was wide enough all along */
  assert_exited (probe_driver_finish (driver, &err_text), 0);
  g_assert_cmpstr (err_text, ==, "");

  {
    g_autoptr(GDir) d = g_dir_open (seeds, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *path = g_build_filename (seeds, name, NULL);
        g_unlink (path);
      }
    g_rmdir (seeds);
  }
}

/* ---- test modes never reach the installed helper -------------------------------------------- */

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  return memmem (contents, len, needle, strlen (needle)) != NULL;
}

static void
test_no_test_modes_installed (void)
{
  static const char *const needles[] = {
    "SLUICE-TEST:", "exit-mid-response", "sluice_probe_test_mode_run", "test mode: socket()",
  };

  for (guint i = 0; i < G_N_ELEMENTS (needles); i++)
    {
      /* the test build has each of them: the search works */
      g_assert_true (file_contains (test_helper (), needles[i]));
      g_assert_false (file_contains (real_helper (), needles[i]));
    }
}

/* ---- no seccomp: loud fallback ---------------------------------------------------------------- */

static struct sock_fprog refuse_seccomp_prog;

/* A filter that makes the kernel look like one without seccomp filters: seccomp() does not
 * exist and prctl (PR_SET_SECCOMP) says EINVAL, as on a kernel built without
 * CONFIG_SECCOMP_FILTER. */
static void
prepare_refuse_seccomp (void)
{
  scmp_filter_ctx ctx;
  off_t size;
  int fd;

  if (refuse_seccomp_prog.filter != NULL)
    return;
  ctx = seccomp_init (SCMP_ACT_ALLOW);
  g_assert_nonnull (ctx);
  g_assert_cmpint (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (seccomp), 0), ==, 0);
  g_assert_cmpint (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EINVAL), SCMP_SYS (prctl), 1,
                                     SCMP_A0 (SCMP_CMP_EQ, PR_SET_SECCOMP)), ==, 0);
  fd = memfd_create ("refuse-seccomp", MFD_CLOEXEC);
  g_assert_cmpint (seccomp_export_bpf (ctx, fd), ==, 0);
  seccomp_release (ctx);
  size = lseek (fd, 0, SEEK_END);
  g_assert_cmpint (size, >, 0);
  refuse_seccomp_prog.filter = g_malloc (size);
  refuse_seccomp_prog.len = size / sizeof (struct sock_filter);
  g_assert_cmpint (pread (fd, refuse_seccomp_prog.filter, size, 0), ==, size);
  close (fd);
}

/* In the child between fork and exec: system calls only. */
static void
child_refuse_seccomp (gpointer user_data)
{
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
      prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &refuse_seccomp_prog) < 0)
    _exit (120);
}

static void
test_no_seccomp (void)
{
  g_autoptr(ProbeDriver) driver = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;
  const char *line;

  prepare_refuse_seccomp ();
  driver = start_helper (test_helper (), child_refuse_seccomp, NULL);

  meta = probe_text (driver, "SLUICE-TEST:status", &error);
  g_assert_no_error (error);
  line = find_warning (meta, SANDBOX_LINE_PREFIX);
  g_assert_nonnull (line);
  g_test_message ("%s", line);
  g_assert_true (g_str_has_prefix (line, SANDBOX_LINE_PREFIX "NO seccomp filter; "));
  /* the limits hold without the filter */
  g_assert_nonnull (strstr (line, "RLIMIT_NOFILE 16;"));
  g_clear_pointer (&meta, sluice_metadata_free);

  /* nothing stops a socket now: this is what "without a sandbox" means */
  meta = probe_text (driver, "SLUICE-TEST:socket", &error);
  g_assert_no_error (error);
  assert_warning (meta, "test mode: socket() succeeded");
  assert_jpeg_probes (driver);

  assert_exited (probe_driver_finish (driver, &err_text), 0);
  g_test_message ("stderr: %s", err_text);
  g_assert_true (g_str_has_prefix (err_text, "sluice-probe: WARNING: running without a sandbox: "
                                   "the kernel refused the seccomp filter: "));
}

/* ---- Flatpak emulation: bubblewrap ------------------------------------------------------------ */

/* A seccomp filter in the spirit of Flatpak's (flatpak-run.c, setup_seccomp): default allow,
 * EPERM for the system calls Flatpak refuses, EAFNOSUPPORT for socket families other than
 * AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK, no TIOCSTI, no new user namespaces. Our own filter
 * has to stack on top of it. Returns a descriptor holding the BPF program (bwrap --seccomp). */
static int
flatpak_like_filter (void)
{
  static const int refused[] = {
    SCMP_SYS (syslog), SCMP_SYS (uselib), SCMP_SYS (acct), SCMP_SYS (quotactl),
    SCMP_SYS (add_key), SCMP_SYS (keyctl), SCMP_SYS (request_key), SCMP_SYS (move_pages),
    SCMP_SYS (mbind), SCMP_SYS (get_mempolicy), SCMP_SYS (set_mempolicy),
    SCMP_SYS (migrate_pages), SCMP_SYS (unshare), SCMP_SYS (setns), SCMP_SYS (mount),
    SCMP_SYS (umount2), SCMP_SYS (pivot_root), SCMP_SYS (chroot), SCMP_SYS (perf_event_open),
    SCMP_SYS (ptrace), SCMP_SYS (open_tree), SCMP_SYS (move_mount), SCMP_SYS (fsopen),
  };
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  int fd;

  g_assert_nonnull (ctx);
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    g_assert_cmpint (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), refused[i], 0), ==, 0);
  g_assert_cmpint (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ioctl), 1,
                                     SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI)), ==, 0);
  g_assert_cmpint (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (clone), 1,
                                     SCMP_A0 (SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)),
                   ==, 0);
  for (int family = 0; family < AF_MAX; family++)
    {
      if (family == AF_UNIX || family == AF_INET || family == AF_INET6 || family == AF_NETLINK)
        continue;
      g_assert_cmpint (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EAFNOSUPPORT), SCMP_SYS (socket),
                                         1, SCMP_A0 (SCMP_CMP_EQ, family)), ==, 0);
    }
  fd = memfd_create ("flatpak-like-seccomp", MFD_CLOEXEC);
  g_assert_cmpint (seccomp_export_bpf (ctx, fd), ==, 0);
  g_assert_cmpint (lseek (fd, 0, SEEK_SET), ==, 0);
  seccomp_release (ctx);
  return fd;
}

/* The part that runs inside bubblewrap: the same checks as above, one line each. */
static void G_GNUC_NORETURN
run_inside_bwrap (void)
{
  g_autofree char *status = NULL;
  int failures = 0;

#define CHECK(cond, what) \
  G_STMT_START { \
    if (cond) printf ("inside: ok %s\n", what); \
    else { printf ("inside: FAILED %s\n", what); failures++; } \
  } G_STMT_END

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    {
      CHECK (strstr (status, "NoNewPrivs:\t1") != NULL, "no_new_privs is set (as bwrap sets it)");
      CHECK (strstr (status, "Seccomp:\t2") != NULL, "the Flatpak-like filter is in place");
    }

  {
    g_autoptr(ProbeDriver) driver = start_helper (real_helper (), NULL, NULL);
    g_autofree char *err_text = NULL;
    int st;

    assert_jpeg_probes (driver);
    printf ("inside: ok the installed helper probes a JPEG\n");
    st = probe_driver_finish (driver, &err_text);
    CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 0, "the installed helper exits cleanly");
    CHECK (err_text[0] == '\0', "the installed helper has nothing to complain about");
  }
  {
    g_autoptr(ProbeDriver) driver = start_helper (test_helper (), NULL, NULL);
    g_autoptr(SluiceMetadata) meta = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *err_text = NULL;
    const char *line;
    int st;

    meta = probe_text (driver, "SLUICE-TEST:status", &error);
    g_assert_no_error (error);
    line = find_warning (meta, SANDBOX_LINE_PREFIX);
    printf ("inside: %s\n", line != NULL ? line : "(no status)");
    CHECK (line != NULL && strstr (line, "seccomp filter active") != NULL,
           "our seccomp filter installs on top of bwrap's");
    g_clear_pointer (&meta, sluice_metadata_free);

    meta = probe_text (driver, "SLUICE-TEST:socket", &error);
    g_assert_no_error (error);
    CHECK (find_warning (meta, "socket() failed: Operation not permitted") != NULL,
           "socket() is refused with EPERM");
    g_clear_pointer (&meta, sluice_metadata_free);

    meta = probe_text (driver, "SLUICE-TEST:write-file:/tmp/written-by-the-helper", &error);
    CHECK (meta == NULL && g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED),
           "a write-open costs the helper");
    st = probe_driver_finish (driver, &err_text);
    CHECK (WIFSIGNALED (st) && WTERMSIG (st) == SIGSYS, "the helper died of SIGSYS");
    CHECK (g_strcmp0 (err_text, "sluice-probe: blocked system call openat\n") == 0,
           "and said which call was blocked");
    CHECK (!g_file_test ("/tmp/written-by-the-helper", G_FILE_TEST_EXISTS),
           "no file was written");
  }
#undef CHECK
  printf ("inside: %d failures\n", failures);
  fflush (stdout);
  /* _exit: LeakSanitizer's exit check stops the process with ptrace, which the Flatpak-like
   * filter refuses (as Flatpak's does); leaks are looked for outside the sandbox */
  _exit (failures == 0 ? 0 : 1);
}

static void
test_bwrap (void)
{
  g_autofree char *bwrap = g_find_program_in_path ("bwrap");
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (bwrap == NULL)
    {
      g_test_skip ("bubblewrap (bwrap) is not installed: no Flatpak emulation");
      return;
    }
  g_assert_nonnull (self);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_take_fd (launcher, flatpak_like_filter (), 10);
  /* the namespaces and mounts of a Flatpak sandbox, minus the runtime: the host's / read-only */
  process = g_subprocess_launcher_spawn (launcher, &error, bwrap,
                                         "--unshare-all", "--die-with-parent", "--new-session",
                                         "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                         "--tmpfs", "/tmp", "--seccomp", "10",
                                         self, "--inside-bwrap", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  if (g_subprocess_get_if_exited (process) && g_subprocess_get_exit_status (process) == 1 &&
      strstr (out, "inside:") == NULL && g_str_has_prefix (err, "bwrap: "))
    {
      /* bwrap itself could not set up (no user namespaces in this container, say) */
      g_autofree char *why = g_strdup_printf ("bwrap could not create the sandbox here: %s", err);
      g_test_skip (why);
      return;
    }
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_nonnull (strstr (out, "inside: ok our seccomp filter installs on top of bwrap's"));
  g_assert_nonnull (strstr (out, "inside: 0 failures"));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 2 && strcmp (argv[1], "--inside-bwrap") == 0)
    run_inside_bwrap ();

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/probe/sandbox/status", test_status);
  g_test_add_func ("/probe/sandbox/socket-refused", test_socket_refused);
  g_test_add_func ("/probe/sandbox/read-refused", test_read_refused);
  g_test_add_func ("/probe/sandbox/write-trapped", test_write_trapped);
  g_test_add_func ("/probe/sandbox/exec-trapped", test_exec_trapped);
  g_test_add_func ("/probe/sandbox/stderr-file", test_stderr_file);
  g_test_add_func ("/probe/sandbox/sanitizer-report", test_sanitizer_report);
  g_test_add_func ("/probe/sandbox/everything-passes", test_everything_passes);
  g_test_add_func ("/probe/sandbox/no-test-modes-installed", test_no_test_modes_installed);
  g_test_add_func ("/probe/sandbox/no-seccomp", test_no_seccomp);
  g_test_add_func ("/probe/sandbox/bwrap", test_bwrap);

  return g_test_run ();
}
