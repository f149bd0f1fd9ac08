/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-probe-pool"

#include "config.h"

#include <fcntl.h>
#include <libexif/exif-data.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice-buffer.h"
#include "sluice-error.h"
#include "sluice-probe-pool.h"
#include "sluice-probe-protocol.h"
#include "sluice-test-util.h"

/*
 * The pool of probe helpers: the real sluice-probe ($SLUICE_PROBE_PATH) on generated JPEGs,
 * and probe-test-helper-*, which crash, stall, talk garbage or never start on purpose. The
 * pool must say what happened, replace the helper, and go on serving.
 */

#ifndef PROBE_TEST_HELPER_DIR
#error "PROBE_TEST_HELPER_DIR must name the folder of probe-test-helper-*"
#endif

/* Short enough to keep the stall cases quick, long enough for a helper to start on a loaded
 * machine (the same timeout covers its greeting). */
#define SHORT_TIMEOUT_MS 1500

/* A valid 24x16 grey baseline JPEG (the same as tests/exif uses). */
static const guint8 tiny_jpeg[] = {
  0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x10, 0x0b, 0x0c, 0x0e, 0x0c, 0x0a, 0x10,
  0x0e, 0x0d, 0x0e, 0x12, 0x11, 0x10, 0x13, 0x18, 0x28, 0x1a, 0x18, 0x16, 0x16, 0x18,
  0x31, 0x23, 0x25, 0x1d, 0x28, 0x3a, 0x33, 0x3d, 0x3c, 0x39, 0x33, 0x38, 0x37, 0x40,
  0x48, 0x5c, 0x4e, 0x40, 0x44, 0x57, 0x45, 0x37, 0x38, 0x50, 0x6d, 0x51, 0x57, 0x5f,
  0x62, 0x67, 0x68, 0x67, 0x3e, 0x4d, 0x71, 0x79, 0x70, 0x64, 0x78, 0x5c, 0x65, 0x67,
  0x63, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x18, 0x01, 0x01, 0x11, 0x00,
  0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0xc4, 0x00, 0x14, 0x10,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x90,
  0x00, 0xff, 0xd9,
};

/* ---- fixtures: EXIF written with libexif --------------------------------------------------- */

static ExifEntry *
put_entry (ExifData   *ed,
           ExifIfd     ifd,
           ExifTag     tag,
           ExifFormat  format,
           guint       components)
{
  ExifMem *mem = exif_mem_new_default ();
  ExifEntry *e = exif_entry_new_mem (mem);

  e->tag = tag;
  e->format = format;
  e->components = components;
  e->size = exif_format_get_size (format) * components;
  e->data = exif_mem_alloc (mem, e->size);
  exif_content_add_entry (ed->ifd[ifd], e);
  exif_mem_unref (mem);
  exif_entry_unref (e);
  return e;
}

static void
set_ascii (ExifData   *ed,
           ExifIfd     ifd,
           ExifTag     tag,
           const char *text)
{
  ExifEntry *e = put_entry (ed, ifd, tag, EXIF_FORMAT_ASCII, strlen (text) + 1);

  memcpy (e->data, text, strlen (text));
}

static void
set_short (ExifData *ed,
           ExifIfd   ifd,
           ExifTag   tag,
           guint16   v)
{
  ExifEntry *e = put_entry (ed, ifd, tag, EXIF_FORMAT_SHORT, 1);

  exif_set_short (e->data, exif_data_get_byte_order (ed), v);
}

static void
set_rational (ExifData *ed,
              ExifIfd   ifd,
              ExifTag   tag,
              guint32   num,
              guint32   den)
{
  ExifEntry *e = put_entry (ed, ifd, tag, EXIF_FORMAT_RATIONAL, 1);
  ExifRational r = { num, den };

  exif_set_rational (e->data, exif_data_get_byte_order (ed), r);
}

/* tiny_jpeg with @padding bytes of APP2 segments, then an APP1 EXIF segment naming @make */
static GBytes *
jpeg_with_exif_at (const char *make,
                   gsize       padding)
{
  ExifData *ed = exif_data_new ();
  unsigned char *exif = NULL;
  unsigned int size = 0;
  GByteArray *b = g_byte_array_new ();
  guint8 marker[4];

  exif_data_unset_option (ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_set_byte_order (ed, EXIF_BYTE_ORDER_INTEL);
  set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MAKE, make);
  set_ascii (ed, EXIF_IFD_0, EXIF_TAG_MODEL, "PoolCam");
  set_short (ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, 1);
  set_ascii (ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, "2023:07:14 09:30:00");
  set_rational (ed, EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME, 1, 250);
  set_rational (ed, EXIF_IFD_EXIF, EXIF_TAG_FNUMBER, 28, 10);
  set_short (ed, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS, 200);
  exif_data_save_data (ed, &exif, &size);
  exif_data_unref (ed);
  g_assert_nonnull (exif);
  g_assert_cmpuint (size + 2, <=, 0xffff);

  marker[0] = 0xff;
  marker[1] = 0xe1;
  marker[2] = (size + 2) >> 8;
  marker[3] = (size + 2) & 0xff;
  g_byte_array_append (b, tiny_jpeg, 2);
  while (padding > 0)
    {
      gsize n = MIN (padding, 0xfff0);
      guint8 app2[4] = { 0xff, 0xe2, (n + 2) >> 8, (n + 2) & 0xff };
      g_autofree guint8 *fill = g_malloc0 (n);

      g_byte_array_append (b, app2, 4);
      g_byte_array_append (b, fill, n);
      padding -= n;
    }
  g_byte_array_append (b, marker, 4);
  g_byte_array_append (b, exif, size);
  g_byte_array_append (b, tiny_jpeg + 2, sizeof tiny_jpeg - 2);
  free (exif);
  return g_byte_array_free_to_bytes (b);
}

static GBytes *
jpeg_with_exif (void)
{
  return jpeg_with_exif_at ("Sluice Test", 0);
}

static SluiceBuffer *
buffer_for (const void *data,
            gsize       len)
{
  g_autoptr(GError) error = NULL;
  SluiceBuffer *buf = sluice_buffer_new_from_data (data, len, &error);

  g_assert_no_error (error);
  return buf;
}

/* Probes the bytes of @buf as @name through @pool; returns the metadata or sets @error. */
static SluiceMetadata *
probe_buffer (SluiceProbePool  *pool,
              SluiceBuffer     *buf,
              const char       *name,
              GError          **error)
{
  SluiceMetadata *meta;
  int fd = sluice_buffer_get_readonly_fd (buf);

  meta = sluice_probe_pool_probe (pool, fd, name, buf->len, error);
  /* the pool does not take the caller's descriptor */
  g_assert_cmpint (fcntl (fd, F_GETFD), >=, 0);
  return meta;
}

static SluiceMetadata *
probe (SluiceProbePool  *pool,
       const void       *data,
       gsize             len,
       const char       *name,
       GError          **error)
{
  g_autoptr(SluiceBuffer) buf = buffer_for (data, len);

  return probe_buffer (pool, buf, name, error);
}

static const char *
real_helper (void)
{
  const char *path = g_getenv ("SLUICE_PROBE_PATH");

  return path != NULL && g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) ? path : NULL;
}

static char *
test_helper (const char *startup)
{
  return g_strdup_printf ("%s/probe-test-helper-%s", PROBE_TEST_HELPER_DIR, startup);
}

static SluiceProbePool *
test_pool (guint n_helpers)
{
  g_autofree char *path = test_helper ("normal");
  g_autoptr(GError) error = NULL;
  SluiceProbePool *pool = sluice_probe_pool_new (path, n_helpers, SHORT_TIMEOUT_MS, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pool);
  return pool;
}

/* The test helper's answer for an ordinary name: the request and its bytes arrived. */
static void
assert_served (SluiceProbePool *pool,
               const char      *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = probe (pool, "0123456789", 10, name, &error);

  g_assert_no_error (error);
  g_assert_nonnull (meta);
  g_assert_cmpstr (meta->make, ==, "TestHelper");
  g_assert_cmpstr (meta->model, ==, name);
  g_assert_cmpint (meta->exif_width, ==, 10);
}

/* ---- the real helper ----------------------------------------------------------------------- */

static void
test_find_helper (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("SLUICE_PROBE_PATH"));
  g_autofree char *from_env = NULL;
  g_autofree char *fallback = NULL;

  g_setenv ("SLUICE_PROBE_PATH", "/opt/x/sluice-probe", TRUE);
  from_env = sluice_probe_find_helper ();
  g_assert_cmpstr (from_env, ==, "/opt/x/sluice-probe");

  /* this test runs from the build tree, so it gets this build's helper, as the app and
   * sluice-cli do when run uninstalled (tests/packaging/check-install.py checks installed) */
  g_unsetenv ("SLUICE_PROBE_PATH");
  fallback = sluice_probe_find_helper ();
  g_assert_cmpstr (fallback, ==, PROBE_BUILDDIR "/sluice-probe");

  if (saved != NULL)
    g_setenv ("SLUICE_PROBE_PATH", saved, TRUE);
}

static void
test_real_exif (void)
{
  const char *path = real_helper ();
  g_autoptr(SluiceProbePool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) jpeg = jpeg_with_exif ();
  g_autoptr(SluiceMetadata) meta = NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (jpeg, &len);

  if (path == NULL)
    {
      g_test_skip ("SLUICE_PROBE_PATH does not name the sluice-probe helper");
      return;
    }
  pool = sluice_probe_pool_new (path, 1, 0, &error);
  g_assert_no_error (error);

  meta = probe (pool, data, len, "IMG_0001.JPG", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (meta->container, ==, "jpeg");
  g_assert_cmpstr (meta->make, ==, "Sluice Test");
  g_assert_cmpstr (meta->model, ==, "PoolCam");
  g_assert_cmpstr (meta->datetime_original, ==, "2023:07:14 09:30:00");
  g_assert_cmpuint (meta->exposure_num, ==, 1);
  g_assert_cmpuint (meta->exposure_den, ==, 250);
  g_assert_cmpfloat_with_epsilon (meta->f_number, 2.8, 1e-9);
  g_assert_cmpint (meta->iso, ==, 200);
  g_assert_cmpint (meta->orientation, ==, 1);
  g_assert_cmpint (meta->width, ==, 24);
  g_assert_cmpint (meta->height, ==, 16);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* Writes @jpeg at the start of @memfd (growing it to at least @size) and probes it through a
 * fresh read-only descriptor, as the pipeline does with a slab it reuses. */
static SluiceMetadata *
probe_slab (SluiceProbePool *pool,
            int              memfd,
            gsize            size,
            GBytes          *jpeg,
            GError         **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", memfd);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (jpeg, &len);
  SluiceMetadata *meta;
  struct stat st;
  int ro;

  g_assert_cmpint (fstat (memfd, &st), ==, 0);
  if ((gsize) st.st_size < MAX (size, len))
    g_assert_cmpint (ftruncate (memfd, MAX (size, len)), ==, 0);
  g_assert_cmpint (pwrite (memfd, data, len, 0), ==, (gssize) len);
  ro = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (ro, >=, 0);
  meta = sluice_probe_pool_probe (pool, ro, "slab.jpg", len, error);
  close (ro);
  return meta;
}

/* The helper keeps its mappings of the engine's slabs from request to request (issue 5). A
 * slab that holds another file next time must be read afresh, and one that grew must be
 * mapped again: the EXIF of the last file here lies beyond the slab's first length. */
static void
test_real_reused_slab (void)
{
  const char *path = real_helper ();
  g_autoptr(SluiceProbePool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) first = jpeg_with_exif_at ("First Cam", 0);
  g_autoptr(GBytes) second = jpeg_with_exif_at ("Second Cam", 0);
  g_autoptr(GBytes) deep = jpeg_with_exif_at ("Deep Cam", 300 * 1024);
  int memfd, other;

  if (path == NULL)
    {
      g_test_skip ("SLUICE_PROBE_PATH does not name the sluice-probe helper");
      return;
    }
  pool = sluice_probe_pool_new (path, 1, 0, &error);
  g_assert_no_error (error);
  memfd = memfd_create ("test-slab", MFD_CLOEXEC);
  other = memfd_create ("test-slab-2", MFD_CLOEXEC);
  g_assert_cmpint (memfd, >=, 0);
  g_assert_cmpint (other, >=, 0);

  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(SluiceMetadata) a = probe_slab (pool, memfd, 64 * 1024, first, &error);
      g_autoptr(SluiceMetadata) b = NULL;
      g_autoptr(SluiceMetadata) c = NULL;
      g_autoptr(SluiceMetadata) d = NULL;

      g_assert_no_error (error);
      g_assert_cmpstr (a->make, ==, "First Cam");
      /* another slab in between */
      b = probe_slab (pool, other, 64 * 1024, second, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (b->make, ==, "Second Cam");
      /* the first slab, rewritten */
      c = probe_slab (pool, memfd, 64 * 1024, second, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (c->make, ==, "Second Cam");
      g_assert_cmpint (c->width, ==, 24);
      /* and grown: 64 KiB, then 512 KiB */
      d = probe_slab (pool, memfd, round == 0 ? 512 * 1024 : 0, deep, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (d->make, ==, "Deep Cam");
      g_assert_cmpint (d->height, ==, 16);
    }
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
  close (memfd);
  close (other);
}

static void
test_real_no_exif (void)
{
  const char *path = real_helper ();
  g_autoptr(SluiceProbePool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) plain = NULL;
  g_autoptr(SluiceMetadata) empty = NULL;
  g_autoptr(SluiceMetadata) junk = NULL;
  guint8 noise[4096];

  if (path == NULL)
    {
      g_test_skip ("SLUICE_PROBE_PATH does not name the sluice-probe helper");
      return;
    }
  for (guint i = 0; i < sizeof noise; i++)
    noise[i] = (i * 7919) & 0xff;
  pool = sluice_probe_pool_new (path, 1, 0, &error);
  g_assert_no_error (error);

  /* a JPEG without EXIF: empty metadata, and no error */
  plain = probe (pool, tiny_jpeg, sizeof tiny_jpeg, "plain.jpg", &error);
  g_assert_no_error (error);
  g_assert_true (sluice_metadata_is_empty (plain));
  g_assert_cmpstr (plain->container, ==, "jpeg");
  g_assert_cmpint (plain->width, ==, 24);

  /* a zero-byte file and bytes that are no image at all */
  empty = probe (pool, "", 0, "empty.jpg", &error);
  g_assert_no_error (error);
  g_assert_true (sluice_metadata_is_empty (empty));
  junk = probe (pool, noise, sizeof noise, "noise.bin", &error);
  g_assert_no_error (error);
  g_assert_true (sluice_metadata_is_empty (junk));
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

typedef struct {
  SluiceProbePool *pool;
  SluiceBuffer    *jpeg;
  gint             failures;
} Concurrent;

static gpointer
probe_many (gpointer user_data)
{
  Concurrent *c = user_data;

  for (int i = 0; i < 10; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceMetadata) meta = probe_buffer (c->pool, c->jpeg, "IMG.JPG", &error);

      if (meta == NULL || g_strcmp0 (meta->model, "PoolCam") != 0)
        g_atomic_int_inc (&c->failures);
    }
  return NULL;
}

static void
test_real_concurrent (void)
{
  const char *path = real_helper ();
  g_autoptr(SluiceProbePool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) jpeg = jpeg_with_exif ();
  g_autoptr(SluiceBuffer) buf = buffer_for (g_bytes_get_data (jpeg, NULL),
                                            g_bytes_get_size (jpeg));
  Concurrent c = { NULL, buf, 0 };
  GThread *threads[6];

  if (path == NULL)
    {
      g_test_skip ("SLUICE_PROBE_PATH does not name the sluice-probe helper");
      return;
    }
  /* more workers than helpers: they wait their turn, each request gets its own answer */
  pool = sluice_probe_pool_new (path, 3, 0, &error);
  g_assert_no_error (error);
  c.pool = pool;
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("probe", probe_many, &c);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (c.failures, ==, 0);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
}

/* ---- misbehaving helpers ------------------------------------------------------------------- */

static void
assert_fails_then_recovers (const char *name,
                            gint        code,
                            const char *message)
{
  g_autoptr(SluiceProbePool) pool = test_pool (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  gint64 start;

  assert_served (pool, "before.jpg");
  start = g_get_monotonic_time ();
  meta = probe (pool, "0123456789", 10, name, &error);
  g_assert_null (meta);
  g_assert_error (error, SLUICE_ERROR, code);
  if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  /* decided within the no-progress timeout (plus the time to reap and respawn) */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);

  /* the helper was replaced, and the next file is served */
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 1);
  assert_served (pool, "after.jpg");
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 1);
}

static void
test_crash_segv (void)
{
  assert_fails_then_recovers ("crash.jpg", SLUICE_ERROR_PROBE_CRASHED,
                              "metadata helper crashed with SIGSEGV");
}

static void
test_crash_abort (void)
{
  assert_fails_then_recovers ("abort.jpg", SLUICE_ERROR_PROBE_CRASHED,
                              "metadata helper crashed with SIGABRT");
}

static void
test_exit (void)
{
  assert_fails_then_recovers ("exit.jpg", SLUICE_ERROR_PROBE_CRASHED,
                              "metadata helper exited with status 3");
}

static void
test_stall (void)
{
  gint64 start = g_get_monotonic_time ();

  assert_fails_then_recovers ("stall.jpg", SLUICE_ERROR_PROBE_TIMEOUT, NULL);
  /* it waited for the timeout, not less */
  g_assert_cmpint (g_get_monotonic_time () - start, >=,
                   (SHORT_TIMEOUT_MS - 50) * G_TIME_SPAN_MILLISECOND);
}

static void
test_garbage (void)
{
  assert_fails_then_recovers ("garbage.jpg", SLUICE_ERROR_PROBE_PROTOCOL, NULL);
}

static void
test_wrong_request_id (void)
{
  assert_fails_then_recovers ("wrongid.jpg", SLUICE_ERROR_PROBE_PROTOCOL, NULL);
}

static void
test_unexpected_message (void)
{
  assert_fails_then_recovers ("hello.jpg", SLUICE_ERROR_PROBE_PROTOCOL, NULL);
}

static void
test_error_reply (void)
{
  g_autoptr(SluiceProbePool) pool = test_pool (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = probe (pool, "x", 1, "error.jpg", &error);

  /* the helper could not serve this one, but it is healthy: no restart */
  g_assert_null (meta);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "cannot read this"));
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 0);
  assert_served (pool, "next.jpg");
}

static void
test_hostile_result (void)
{
  g_autoptr(SluiceProbePool) pool = test_pool (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = probe (pool, "x", 1, "hostile.jpg", &error);

  /* what the helper says is checked again here: sanitised, bounded, ranges enforced */
  g_assert_no_error (error);
  g_assert_cmpstr (meta->make, ==, "Evil [2J Corp");
  g_assert_cmpuint (strlen (meta->model), ==, SLUICE_METADATA_MAX_STRING);
  g_assert_cmpint (meta->iso, ==, -1);
  g_assert_true (isnan (meta->f_number));
  /* taken as sent: the catalog stores what an orientation of 9 means to nobody, the thumbnail
   * code treats it as 1 */
  g_assert_cmpint (meta->orientation, ==, 9);
  g_assert_cmpuint (meta->exposure_den, ==, 0);
  g_assert_null (meta->thumbnail);
}

static void
test_repeated_crashes (void)
{
  g_autoptr(SluiceProbePool) pool = test_pool (1);

  /* every time the same way, never a hang, never a smaller pool */
  for (guint i = 1; i <= 5; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceMetadata) meta = probe (pool, "x", 1, "crash-again.jpg", &error);

      g_assert_null (meta);
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED);
      g_assert_cmpstr (error->message, ==, "metadata helper crashed with SIGSEGV");
      g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, i);
    }
  assert_served (pool, "survivor.jpg");
}

/* The buffers are made before the threads start: helpers are restarted (forked) meanwhile,
 * and making a buffer during a fork is test-buffer's seal-while-forking case, not this one. */
typedef struct {
  SluiceProbePool *pool;
  SluiceBuffer    *buf;
  guint            index;
  gint            *bad;
} Mixed;

static gpointer
mixed_worker (gpointer user_data)
{
  Mixed *m = user_data;

  for (guint i = 0; i < 6; i++)
    {
      gboolean crash = (i + m->index) % 3 == 0;
      g_autofree char *name = g_strdup_printf ("%s-%u-%u.jpg", crash ? "crash" : "fine",
                                               m->index, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceMetadata) meta = probe_buffer (m->pool, m->buf, name, &error);

      if (crash && !g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED))
        g_atomic_int_inc (m->bad);
      if (!crash && (meta == NULL || g_strcmp0 (meta->model, name) != 0))
        g_atomic_int_inc (m->bad);
    }
  return NULL;
}

static void
test_crashes_under_load (void)
{
  g_autoptr(SluiceProbePool) pool = test_pool (2);
  g_autoptr(SluiceBuffer) buf = buffer_for ("abc", 3);
  Mixed workers[4];
  GThread *threads[4];
  gint bad = 0;

  /* crashes among good files, from several threads: each file gets its own outcome */
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      workers[i] = (Mixed) { pool, buf, i, &bad };
      threads[i] = g_thread_new ("probe", mixed_worker, &workers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (bad, ==, 0);
  g_assert_cmpuint (sluice_probe_pool_restarts (pool), ==, 8);
}

static void
test_non_utf8_name (void)
{
  g_autoptr(SluiceProbePool) pool = test_pool (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceMetadata) meta = probe (pool, "x", 1, "bad\xff.jpg", &error);

  /* the name hint goes over the wire as valid UTF-8 (a GVariant string must be) */
  g_assert_no_error (error);
  g_assert_cmpstr (meta->model, ==, "bad\xef\xbf\xbd.jpg");
}

/* ---- helpers that do not start --------------------------------------------------------------- */

static void
assert_pool_fails (const char *startup,
                   guint       timeout_ms,
                   gint        code,
                   const char *message_part,
                   gint64      max_us)
{
  g_autofree char *path = test_helper (startup);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceProbePool) pool = NULL;
  gint64 start = g_get_monotonic_time ();

  pool = sluice_probe_pool_new (path, 2, timeout_ms, &error);
  g_assert_null (pool);
  g_assert_error (error, SLUICE_ERROR, code);
  g_assert_nonnull (strstr (error->message, path));
  if (message_part != NULL)
    g_assert_nonnull (strstr (error->message, message_part));
  g_assert_cmpint (g_get_monotonic_time () - start, <, max_us);
}

static void
test_never_greets (void)
{
  assert_pool_fails ("silent", SHORT_TIMEOUT_MS, SLUICE_ERROR_PROBE_TIMEOUT, "did not start",
                     10 * G_USEC_PER_SEC);
}

static void
test_bad_version (void)
{
  g_autofree char *expected = g_strdup_printf ("protocol %u, not %u",
                                               SLUICE_PROBE_PROTOCOL_VERSION + 1,
                                               SLUICE_PROBE_PROTOCOL_VERSION);

  assert_pool_fails ("badversion", SHORT_TIMEOUT_MS, SLUICE_ERROR_PROBE_PROTOCOL, expected,
                     10 * G_USEC_PER_SEC);
}

static void
test_exits_before_greeting (void)
{

  /* a helper that dies at once is reported as such, at once, not after the timeout */
  assert_pool_fails ("exit", 8000, SLUICE_ERROR_PROBE_CRASHED, "did not start",
                     4 * G_USEC_PER_SEC);
}

static void
test_missing_helper (void)
{
  g_autofree char *path = g_build_filename (g_get_user_cache_dir (), "no-such-probe", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceProbePool) pool = sluice_probe_pool_new (path, 1, SHORT_TIMEOUT_MS, &error);

  g_assert_null (pool);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, path));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/probe-pool/find-helper", test_find_helper);
  g_test_add_func ("/engine/probe-pool/real/exif", test_real_exif);
  g_test_add_func ("/engine/probe-pool/real/no-exif", test_real_no_exif);
  g_test_add_func ("/engine/probe-pool/real/reused-slab", test_real_reused_slab);
  g_test_add_func ("/engine/probe-pool/real/concurrent", test_real_concurrent);
  g_test_add_func ("/engine/probe-pool/crash-segv", test_crash_segv);
  g_test_add_func ("/engine/probe-pool/crash-abort", test_crash_abort);
  g_test_add_func ("/engine/probe-pool/exit", test_exit);
  g_test_add_func ("/engine/probe-pool/stall", test_stall);
  g_test_add_func ("/engine/probe-pool/garbage", test_garbage);
  g_test_add_func ("/engine/probe-pool/wrong-request-id", test_wrong_request_id);
  g_test_add_func ("/engine/probe-pool/unexpected-message", test_unexpected_message);
  g_test_add_func ("/engine/probe-pool/error-reply", test_error_reply);
  g_test_add_func ("/engine/probe-pool/hostile-result", test_hostile_result);
  g_test_add_func ("/engine/probe-pool/repeated-crashes", test_repeated_crashes);
  g_test_add_func ("/engine/probe-pool/crashes-under-load", test_crashes_under_load);
  g_test_add_func ("/engine/probe-pool/non-utf8-name", test_non_utf8_name);
  g_test_add_func ("/engine/probe-pool/never-greets", test_never_greets);
  g_test_add_func ("/engine/probe-pool/bad-version", test_bad_version);
  g_test_add_func ("/engine/probe-pool/exits-before-greeting", test_exits_before_greeting);
  g_test_add_func ("/engine/probe-pool/missing-helper", test_missing_helper);

  return g_test_run ();
}
