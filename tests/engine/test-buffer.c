/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-buffer"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice-buffer.h"
#include "sluice-error.h"
#include "sluice-test-util.h"

/*
 * Read once: the budget of bytes in flight, and the sealed memfd that one read of a source
 * file produces (hash, probe descriptor and upload body at once).
 */

#define SETTLE_US (100 * G_TIME_SPAN_MILLISECOND)
#define MIB (1024 * 1024)

/* ---- budget ------------------------------------------------------------------------------ */

static void
test_budget_accounting (void)
{
  g_autoptr(SluiceBudget) b = sluice_budget_new (100);

  g_assert_cmpuint (sluice_budget_max (b), ==, 100);
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 0);
  g_assert_cmpuint (sluice_budget_peak (b), ==, 0);

  g_assert_true (sluice_budget_acquire (b, 30, NULL));
  g_assert_true (sluice_budget_acquire (b, 50, NULL));
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 80);
  g_assert_cmpuint (sluice_budget_peak (b), ==, 80);

  sluice_budget_release (b, 50);
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 30);
  g_assert_true (sluice_budget_acquire (b, 70, NULL));
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 100);
  g_assert_cmpuint (sluice_budget_peak (b), ==, 100);

  sluice_budget_release (b, 70);
  sluice_budget_release (b, 30);
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 0);
  /* the peak is a high-water mark */
  g_assert_cmpuint (sluice_budget_peak (b), ==, 100);

  /* zero-byte requests (empty files) never wait */
  g_assert_true (sluice_budget_acquire (b, 100, NULL));
  g_assert_true (sluice_budget_acquire (b, 0, NULL));
  sluice_budget_release (b, 0);
  sluice_budget_release (b, 100);
}

static void
test_budget_zero_max (void)
{
  g_autoptr(SluiceBudget) b = sluice_budget_new (0);

  g_assert_cmpuint (sluice_budget_max (b), ==, 1);
  g_assert_true (sluice_budget_acquire (b, 1, NULL));
  sluice_budget_release (b, 1);
}

typedef struct {
  SluiceBudget *budget;
  guint64       bytes;
  GCancellable *cancellable;
  gboolean      granted;
  gint          done;
} Acquirer;

static gpointer
acquire_thread (gpointer user_data)
{
  Acquirer *a = user_data;

  a->granted = sluice_budget_acquire (a->budget, a->bytes, a->cancellable);
  g_atomic_int_set (&a->done, 1);
  return NULL;
}

static void
test_budget_blocks (void)
{
  g_autoptr(SluiceBudget) b = sluice_budget_new (100);
  Acquirer a = { b, 40, NULL, FALSE, 0 };
  GThread *thread;

  g_assert_true (sluice_budget_acquire (b, 80, NULL));
  thread = g_thread_new ("acquire", acquire_thread, &a);
  g_usleep (SETTLE_US);
  /* 80 + 40 > 100: waits, and is not counted while it waits */
  g_assert_cmpint (g_atomic_int_get (&a.done), ==, 0);
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 80);

  sluice_budget_release (b, 80);
  g_thread_join (thread);
  g_assert_true (a.granted);
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 40);
  g_assert_cmpuint (sluice_budget_peak (b), ==, 80);
  sluice_budget_release (b, 40);
}

static void
test_budget_oversize (void)
{
  g_autoptr(SluiceBudget) b = sluice_budget_new (10);
  Acquirer a = { b, 1000, NULL, FALSE, 0 };
  GThread *thread;

  /* bigger than the whole budget: granted at once when nothing else is in flight */
  g_assert_true (sluice_budget_acquire (b, 1000, NULL));
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 1000);
  g_assert_cmpuint (sluice_budget_peak (b), ==, 1000);
  sluice_budget_release (b, 1000);

  /* but it waits for the others to finish */
  g_assert_true (sluice_budget_acquire (b, 5, NULL));
  thread = g_thread_new ("acquire", acquire_thread, &a);
  g_usleep (SETTLE_US);
  g_assert_cmpint (g_atomic_int_get (&a.done), ==, 0);
  sluice_budget_release (b, 5);
  g_thread_join (thread);
  g_assert_true (a.granted);
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 1000);
  sluice_budget_release (b, 1000);
}

static void
test_budget_cancel (void)
{
  g_autoptr(SluiceBudget) b = sluice_budget_new (100);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) already = g_cancellable_new ();
  Acquirer a = { b, 1, cancellable, TRUE, 0 };
  GThread *thread;
  gint64 start;

  g_assert_true (sluice_budget_acquire (b, 100, NULL));
  thread = g_thread_new ("acquire", acquire_thread, &a);
  g_usleep (SETTLE_US);
  g_assert_cmpint (g_atomic_int_get (&a.done), ==, 0);

  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);
  /* the waiter gives up promptly and takes nothing */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_false (a.granted);
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 100);
  sluice_budget_release (b, 100);

  /* a cancelled run takes nothing even when there is room */
  g_cancellable_cancel (already);
  g_assert_false (sluice_budget_acquire (b, 1, already));
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 0);
}

static void
test_budget_try_acquire (void)
{
  g_autoptr(SluiceBudget) b = sluice_budget_new (100);

  /* never waits: takes what fits, refuses what does not */
  g_assert_true (sluice_budget_try_acquire (b, 60));
  g_assert_false (sluice_budget_try_acquire (b, 41));
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 60);
  g_assert_true (sluice_budget_try_acquire (b, 40));
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 100);
  sluice_budget_release (b, 100);
  /* an oversize request is granted when nothing else is in flight, as with acquire */
  g_assert_true (sluice_budget_try_acquire (b, 500));
  g_assert_false (sluice_budget_try_acquire (b, 1));
  sluice_budget_release (b, 500);
}

typedef struct {
  SluiceBudget *budget;
  guint64       bytes;
} Releaser;

static gpointer
release_later (gpointer user_data)
{
  Releaser *r = user_data;

  g_usleep (50 * G_TIME_SPAN_MILLISECOND);
  sluice_budget_release (r->budget, r->bytes);
  return NULL;
}

static void
test_budget_wait (void)
{
  g_autoptr(SluiceBudget) b = sluice_budget_new (100);
  Releaser r = { b, 100 };
  GThread *thread;
  gint64 start;

  g_assert_true (sluice_budget_acquire (b, 100, NULL));
  /* nothing changes: the wait ends with its timeout (a spurious wake-up may say "maybe") */
  start = g_get_monotonic_time ();
  if (!sluice_budget_wait (b, 100))
    g_assert_cmpint (g_get_monotonic_time () - start, >=, 90 * G_TIME_SPAN_MILLISECOND);

  /* a release wakes the waiter before its timeout */
  thread = g_thread_new ("release", release_later, &r);
  start = g_get_monotonic_time ();
  g_assert_true (sluice_budget_wait (b, 10000));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_thread_join (thread);
  g_assert_cmpuint (sluice_budget_in_use (b), ==, 0);
}

static void
test_budget_over_release (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(SluiceBudget) b = sluice_budget_new (100);

      g_assert_true (sluice_budget_acquire (b, 10, NULL));
      sluice_budget_release (b, 11);
      return;
    }
  /* releasing more than was taken is a bookkeeping bug: it must not wrap around silently */
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*used >= bytes*");
}

/* ---- buffers ----------------------------------------------------------------------------- */

typedef struct {
  char *dir;
  int   dirfd;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = sluice_test_make_dir ("source");
  f->dirfd = open (f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (f->dirfd, >=, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  close (f->dirfd);
  g_free (f->dir);
}

static guint8 *
pattern (gsize len)
{
  guint8 *data = g_malloc (MAX (len, 1));
  guint32 x = 2463534242u;

  /* xorshift: no repeating period a wrong offset could hide in */
  for (gsize i = 0; i < len; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      data[i] = x & 0xff;
    }
  return data;
}

static void
assert_digest (const SluiceBuffer *buf,
               const guint8       *data,
               gsize               len)
{
  g_autofree char *expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
  g_autofree char *raw_hex = NULL;
  GString *s = g_string_new (NULL);

  g_assert_cmpstr (buf->sha256_hex, ==, expected);
  /* the raw digest is the same one */
  for (int i = 0; i < 32; i++)
    g_string_append_printf (s, "%02x", buf->sha256[i]);
  raw_hex = g_string_free (s, FALSE);
  g_assert_cmpstr (raw_hex, ==, expected);
}

/* What a seal used to promise, now that slabs are reused: the descriptor a helper gets can
 * neither write, truncate nor map the bytes writable, and shows at least the buffer's bytes. */
static void
assert_protected (SluiceBuffer *buf)
{
  struct stat st;
  void *map;
  int ro = sluice_buffer_get_readonly_fd (buf);

  g_assert_cmpint (ro, >=, 0);
  g_assert_cmpint (fcntl (ro, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
  g_assert_cmpint (fcntl (ro, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
  g_assert_cmpint (fcntl (buf->fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
  errno = 0;
  g_assert_cmpint (pwrite (ro, "x", 1, 0), ==, -1);
  g_assert_cmpint (errno, ==, EBADF);
  g_assert_cmpint (ftruncate (ro, 0), ==, -1);
  g_assert_cmpint (fstat (ro, &st), ==, 0);
  g_assert_cmpint (st.st_size, >=, (off_t) buf->len);
  if (buf->len > 0)
    {
      g_autofree guint8 *back = g_malloc (buf->len);

      map = mmap (NULL, buf->len, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
      g_assert_true (map == MAP_FAILED);
      g_assert_cmpint (pread (ro, back, buf->len, 0), ==, (ssize_t) buf->len);
      g_assert_cmpmem (back, buf->len, buf->data, buf->len);
    }
}

/* Reads @name as the pipeline does: around the page cache when @direct. */
static SluiceBuffer *
read_as (Fixture       *f,
         const char    *name,
         SluiceBudget  *budget,
         gboolean       direct,
         GError       **error)
{
  struct stat st;

  if (!direct)
    return sluice_buffer_read_file (f->dirfd, name, budget, NULL, error);
  g_assert_cmpint (fstatat (f->dirfd, name, &st, 0), ==, 0);
  if (budget != NULL)
    g_assert_true (sluice_budget_acquire (budget, st.st_size, NULL));
  return sluice_buffer_read_file_charged (f->dirfd, name, budget, budget != NULL ? st.st_size : 0,
                                          TRUE, NULL, error);
}

static void
read_and_check (Fixture  *f,
                gsize     len,
                gboolean  direct)
{
  g_autofree char *name = g_strdup_printf ("file-%" G_GSIZE_FORMAT ".bin", len);
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autofree guint8 *data = pattern (len);
  g_autoptr(SluiceBudget) budget = sluice_budget_new (64 * MIB);
  g_autoptr(GError) error = NULL;
  SluiceBuffer *buf;

  sluice_test_write_file (path, data, len);
  buf = read_as (f, name, budget, direct, &error);
  g_assert_no_error (error);
  g_assert_nonnull (buf);

  g_assert_cmpuint (buf->len, ==, len);
  g_assert_nonnull (buf->data);
  g_assert_cmpmem (buf->data, len, data, len);
  assert_digest (buf, data, len);
  g_assert_cmpint (buf->mtime_ns, ==, sluice_test_mtime_ns (path));
  assert_protected (buf);

  /* the bytes are charged to the budget while the buffer lives */
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, len);
  sluice_buffer_free (buf);
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
}

static void
test_read_sizes (Fixture       *f,
                 gconstpointer  data)
{
  /* around the 1 MiB read chunk, and a few chunks long */
  const gsize sizes[] = { 1, 4095, MIB - 1, MIB, MIB + 1, 3 * MIB + 17 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    read_and_check (f, sizes[i], FALSE);
}

static void
test_direct_read_sizes (Fixture       *f,
                        gconstpointer  data)
{
  /* around a block, a slab step (256 KiB, then 1 MiB past 4 MiB: the slab has to hold the
   * block past the end) and the 4 MiB direct read chunk */
  const gsize sizes[] = { 0, 1, 4095, 4096, 4097, 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1,
                          MIB, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, 9 * MIB + 17 };

  g_test_message ("direct reads suit %s: %s", f->dir,
                  sluice_buffer_direct_suits (f->dirfd) ? "yes" : "no");
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    read_and_check (f, sizes[i], TRUE);
}

/* Whether the first page of @path is in the page cache. */
static gboolean
first_page_cached (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  void *map;
  unsigned char resident = 0;

  g_assert_cmpint (fd, >=, 0);
  map = mmap (NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  g_assert_true (map != MAP_FAILED);
  g_assert_cmpint (mincore (map, 4096, &resident), ==, 0);
  munmap (map, 4096);
  close (fd);
  return (resident & 1) != 0;
}

static void
test_direct_bypasses_cache (Fixture       *f,
                            gconstpointer  data)
{
  const gsize len = 300000;
  g_autofree guint8 *bytes = pattern (len);
  g_autofree char *path = g_build_filename (f->dir, "cold.jpg", NULL);
  int fd;

  if (!sluice_buffer_direct_suits (f->dirfd))
    {
      g_test_skip ("the test folder's file system is not one for direct reads");
      return;
    }

  sluice_test_write_file (path, bytes, len);
  for (int i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceBuffer) buf = NULL;
      gboolean direct = i == 0;

      /* written back and dropped from the cache, as a photo on a disk is before a run */
      fd = open (path, O_RDONLY | O_CLOEXEC);
      g_assert_cmpint (fd, >=, 0);
      g_assert_cmpint (fdatasync (fd), ==, 0);
      g_assert_cmpint (posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED), ==, 0);
      close (fd);
      g_assert_false (first_page_cached (path));

      buf = read_as (f, "cold.jpg", NULL, direct, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (buf->data, buf->len, bytes, len);
      assert_digest (buf, bytes, len);
      /* a direct read leaves the cache as it was; a buffered one fills it */
      g_assert_cmpint (first_page_cached (path), ==, !direct);
    }
}

static void
test_direct_suits (Fixture       *f,
                   gconstpointer  data)
{
  int fd;

  /* neither procfs nor tmpfs is a block file system */
  fd = open ("/proc", O_PATH | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_false (sluice_buffer_direct_suits (fd));
  close (fd);
  fd = open ("/dev/shm", O_PATH | O_CLOEXEC);
  if (fd >= 0)
    {
      g_assert_false (sluice_buffer_direct_suits (fd));
      close (fd);
    }
  g_assert_false (sluice_buffer_direct_suits (-1));
}

static void
test_direct_longer_than_stat (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;

  /* procfs refuses O_DIRECT: the read goes through the cache, and still sees the growth */
  buf = sluice_buffer_read_file_charged (f->dirfd, "/proc/self/status", NULL, 0, TRUE, NULL,
                                         &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_CHANGED);
}

/* The read(2) and readv(2) calls this thread has made (/proc/thread-self/io's syscr), or -1. */
static gint64
thread_read_calls (void)
{
  char text[512];
  gsize len = 0;
  ssize_t n;
  const char *at;
  int fd = open ("/proc/thread-self/io", O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return -1;
  /* the same calls every time: one read that gets it all, one that gets nothing */
  while ((n = read (fd, text + len, sizeof text - 1 - len)) > 0)
    len += n;
  close (fd);
  text[len] = '\0';
  at = strstr (text, "syscr: ");
  return at != NULL ? g_ascii_strtoll (at + 7, NULL, 10) : -1;
}

/* A cached read that reaches the file's end asks for a byte more than the file holds: the
 * answer that falls short ends the reading, with no read of nothing after it (a round trip
 * on a NAS). Reads go 1 MiB at a time. */
static void
test_no_read_past_end (Fixture       *f,
                       gconstpointer  data)
{
  const struct { gsize size; gint64 reads; } files[] = {
    { 10, 1 }, { 100 * 1024, 1 }, { MIB, 1 }, { 2 * MIB + MIB / 2, 3 },
  };
  gint64 idle;

  idle = thread_read_calls ();
  idle = thread_read_calls () - idle;
  if (idle < 0 || thread_read_calls () < 0)
    {
      g_test_skip ("no per-thread I/O accounting (/proc/thread-self/io)");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceBuffer) buf = NULL;
      g_autofree guint8 *bytes = pattern (files[i].size);
      g_autofree char *name = g_strdup_printf ("f%u.jpg", i);
      gint64 before;

      sluice_test_write_file_at (f->dir, name, bytes, files[i].size);
      before = thread_read_calls ();
      buf = sluice_buffer_read_file (f->dirfd, name, NULL, NULL, &error);
      g_assert_cmpint (thread_read_calls () - before - idle, ==, files[i].reads);
      g_assert_no_error (error);
      g_assert_cmpuint (buf->len, ==, files[i].size);
      assert_digest (buf, bytes, files[i].size);
    }
}

/* A folder swapped for a link after the walk listed it: the file behind the link is not read
 * (the walker never descends through links, so no listed path crosses one). */
static void
test_link_on_path (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;
  g_autofree char *outside = sluice_test_make_dir ("outside");
  g_autofree char *link = g_build_filename (f->dir, "2024", NULL);
  g_autofree char *inside = g_build_filename (f->dir, "real", NULL);
  struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_BENEATH };
  int probe;

  probe = syscall (SYS_openat2, f->dirfd, ".", &how, sizeof how);
  if (probe < 0 && (errno == ENOSYS || errno == EPERM))
    {
      g_test_skip ("no openat2 here: only a link as the file itself is refused (O_NOFOLLOW)");
      return;
    }
  g_assert_cmpint (probe, >=, 0);
  close (probe);

  sluice_test_write_file_at (outside, "secret.jpg", "not yours", 9);
  sluice_test_write_file_at (f->dir, "real/ok.jpg", "yours", 5);
  g_assert_cmpint (symlink (outside, link), ==, 0);

  buf = sluice_buffer_read_file (f->dirfd, "2024/secret.jpg", NULL, NULL, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE);
  g_assert_nonnull (strstr (error->message, "2024/secret.jpg"));
  g_clear_error (&error);
  /* nor through a link back into the source, nor up and out of it */
  g_assert_cmpint (unlink (link), ==, 0);
  g_assert_cmpint (symlink (inside, link), ==, 0);
  buf = sluice_buffer_read_file (f->dirfd, "2024/ok.jpg", NULL, NULL, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE);
  g_clear_error (&error);
  buf = sluice_buffer_read_file (f->dirfd, "real/../../outside/secret.jpg", NULL, NULL, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE);
  g_clear_error (&error);

  /* the same file by its own path is read */
  buf = sluice_buffer_read_file (f->dirfd, "real/ok.jpg", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (buf->data, buf->len, "yours", 5);
}

static void
test_read_empty (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;

  sluice_test_write_file_at (f->dir, "empty.jpg", "", 0);
  buf = sluice_buffer_read_file (f->dirfd, "empty.jpg", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (buf);
  g_assert_cmpuint (buf->len, ==, 0);
  g_assert_nonnull (buf->data);
  g_assert_cmpstr (buf->sha256_hex, ==,
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_digest (buf, (const guint8 *) "", 0);
  assert_protected (buf);
}

static void
test_readonly_fd (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;
  char back[16] = { 0 };
  int fd;

  sluice_test_write_file_at (f->dir, "a.jpg", "0123456789", 10);
  buf = sluice_buffer_read_file (f->dirfd, "a.jpg", NULL, NULL, &error);
  g_assert_no_error (error);

  fd = sluice_buffer_get_readonly_fd (buf);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fd, !=, buf->fd);
  /* the buffer's own: the same descriptor each time, nothing for the caller to close */
  g_assert_cmpint (sluice_buffer_get_readonly_fd (buf), ==, fd);
  g_assert_cmpint (fcntl (fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
  g_assert_cmpint (fcntl (fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
  g_assert_cmpint (pread (fd, back, sizeof back, 0), ==, 10);
  g_assert_cmpstr (back, ==, "0123456789");
  /* a reader cannot write through it, whatever it tries */
  errno = 0;
  g_assert_cmpint (write (fd, "x", 1), ==, -1);
  g_assert_cmpint (errno, ==, EBADF);

  /* its own open file description, not the writable one's */
  g_assert_cmpint (fcntl (buf->fd, F_GETFL) & O_ACCMODE, ==, O_RDWR);
  g_assert_cmpmem (buf->data, buf->len, "0123456789", 10);
}

static void
test_new_from_data (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree guint8 *bytes = pattern (70000);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = sluice_buffer_new_from_data (bytes, 70000, &error);
  g_autoptr(SluiceBuffer) empty = NULL;
  g_autofree char *expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, bytes, 70000);

  g_assert_no_error (error);
  g_assert_cmpmem (buf->data, buf->len, bytes, 70000);
  g_assert_cmpstr (buf->sha256_hex, ==, expected);
  assert_protected (buf);

  empty = sluice_buffer_new_from_data (NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (empty->len, ==, 0);
  g_assert_cmpstr (empty->sha256_hex, ==,
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void
test_new_from_data_raw_digest (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;


  buf = sluice_buffer_new_from_data ((const guint8 *) "abc", 3, &error);
  g_assert_no_error (error);
  /* SluiceBuffer's public digest fields agree, however the buffer was made */
  assert_digest (buf, (const guint8 *) "abc", 3);
}

static void
test_sha256_hex (Fixture       *f,
                 gconstpointer  data)
{
  char hex[65];

  sluice_sha256_hex ((const guint8 *) "abc", 3, hex);
  g_assert_cmpstr (hex, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  sluice_sha256_hex ((const guint8 *) "", 0, hex);
  g_assert_cmpstr (hex, ==, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void
assert_unreadable (Fixture    *f,
                   const char *relpath,
                   gint        code)
{
  g_autoptr(SluiceBudget) budget = sluice_budget_new (MIB);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;
  guint fds = sluice_test_count_fds ();

  buf = sluice_buffer_read_file (f->dirfd, relpath, budget, NULL, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, code);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  /* nothing charged, nothing left open */
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
  g_assert_cmpuint (sluice_test_count_fds (), ==, fds);
}

static void
test_missing (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;

  assert_unreadable (f, "gone.jpg", SLUICE_ERROR_SOURCE_UNREADABLE);
  buf = sluice_buffer_read_file (f->dirfd, "gone.jpg", NULL, NULL, &error);
  g_assert_nonnull (strstr (error->message, "gone.jpg"));
}

static void
test_directory_refused (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *sub = g_build_filename (f->dir, "folder.jpg", NULL);

  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  assert_unreadable (f, "folder.jpg", SLUICE_ERROR_SOURCE_UNREADABLE);
}

static void
test_symlink_refused (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *link = g_build_filename (f->dir, "link.jpg", NULL);

  /* the walker never follows links; a link swapped in after the walk is not followed either */
  sluice_test_write_file_at (f->dir, "real.jpg", "data", 4);
  g_assert_cmpint (symlink ("real.jpg", link), ==, 0);
  assert_unreadable (f, "link.jpg", SLUICE_ERROR_SOURCE_UNREADABLE);
}

static void
test_fifo_refused (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = sluice_test_make_dir ("fifo");
      g_autofree char *path = g_build_filename (dir, "pipe.jpg", NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceBuffer) buf = NULL;
      int dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

      g_assert_cmpint (mkfifo (path, 0644), ==, 0);
      /* nobody ever writes to it: opening it for reading must not wait for a writer */
      buf = sluice_buffer_read_file (dirfd, "pipe.jpg", NULL, NULL, &error);
      g_assert_null (buf);
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE);
      close (dirfd);
      return;
    }


  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_unreadable_file (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = sluice_test_make_dir ("locked");
      g_autofree char *path = g_build_filename (dir, "secret.jpg", NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceBuffer) buf = NULL;
      int dirfd;

      sluice_test_write_file (path, "data", 4);
      g_assert_cmpint (g_chmod (path, 0), ==, 0);
      if (sluice_test_is_root ())
        sluice_test_drop_privileges (dir);
      dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      g_assert_cmpint (dirfd, >=, 0);

      buf = sluice_buffer_read_file (dirfd, "secret.jpg", NULL, NULL, &error);
      g_assert_null (buf);
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE);
      g_assert_nonnull (strstr (error->message, "secret.jpg"));
      g_assert_nonnull (strstr (error->message, g_strerror (EACCES)));
      close (dirfd);
      return;
    }

  /* root reads a chmod 000 file anyway: then the check runs as "nobody" */
  if (sluice_test_is_root () && !sluice_test_can_drop_privileges ())
    {
      g_test_skip ("running as root, and cannot become nobody to make a file unreadable");
      return;
    }
  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_too_large (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "huge.mov", NULL);
  g_autoptr(SluiceBudget) budget = sluice_budget_new (MIB);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

  /* sparse: costs no disk */
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, SLUICE_BUFFER_MAX_SINGLE + 1), ==, 0);
  close (fd);

  buf = sluice_buffer_read_file (f->dirfd, "huge.mov", budget, NULL, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE);
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
  g_assert_cmpuint (sluice_budget_peak (budget), ==, 0);
}

static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autofree guint8 *bytes = pattern (2 * MIB);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(SluiceBudget) budget = sluice_budget_new (64 * MIB);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;

  sluice_test_write_file_at (f->dir, "a.jpg", bytes, 2 * MIB);
  g_cancellable_cancel (cancellable);

  buf = sluice_buffer_read_file (f->dirfd, "a.jpg", budget, cancellable, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED);
  g_clear_error (&error);

  buf = sluice_buffer_read_file (f->dirfd, "a.jpg", NULL, cancellable, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED);
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
}

static void
test_longer_than_stat (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;
  struct stat st;

  /* a regular file that holds more bytes than its size says, exactly what a file that grew
   * between the stat and the end of the read looks like, deterministically: procfs */
  g_assert_cmpint (stat ("/proc/self/status", &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_size, ==, 0);

  buf = sluice_buffer_read_file (f->dirfd, "/proc/self/status", NULL, NULL, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_CHANGED);
  g_assert_true (sluice_error_is_retryable (error));
}

static void
test_shorter_than_stat (Fixture       *f,
                        gconstpointer  data)
{
  const char *candidates[] = {
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/sys/devices/system/cpu/online",
    "/sys/kernel/profiling",
  };
  const char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;

  /* sysfs attributes claim 4096 bytes and hold a few: a file cut short under the reader */
  for (guint i = 0; i < G_N_ELEMENTS (candidates) && path == NULL; i++)
    {
      struct stat st;
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (stat (candidates[i], &st) == 0 && S_ISREG (st.st_mode) && st.st_size > 0 &&
          g_file_get_contents (candidates[i], &contents, &len, NULL) &&
          len > 0 && len < (gsize) st.st_size)
        path = candidates[i];
    }
  if (path == NULL)
    {
      g_test_skip ("no sysfs attribute that is shorter than its stat size");
      return;
    }

  buf = sluice_buffer_read_file (f->dirfd, path, NULL, NULL, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_CHANGED);
}

typedef struct {
  char     *path;
  gboolean  append;      /* grow the file; otherwise rewrite its first byte in place */
  gint      stop;
  gint      writes;
} Writer;

static gpointer
writer_thread (gpointer user_data)
{
  Writer *w = user_data;
  int fd = open (w->path, O_WRONLY | O_CLOEXEC | (w->append ? O_APPEND : 0));
  guint8 byte = 0;

  g_assert_cmpint (fd, >=, 0);
  while (!g_atomic_int_get (&w->stop))
    {
      byte++;
      if (w->append)
        g_assert_cmpint (write (fd, &byte, 1), ==, 1);
      else
        g_assert_cmpint (pwrite (fd, &byte, 1, 0), ==, 1);
      g_atomic_int_inc (&w->writes);
      g_usleep (200);
    }
  close (fd);
  return NULL;
}

static void
changed_while_read (Fixture  *f,
                    gboolean  append,
                    gboolean  direct)
{
  g_autofree guint8 *bytes = pattern (32 * MIB);
  Writer w = { NULL, append, 0, 0 };
  GThread *thread;
  gboolean detected = FALSE;

  w.path = g_build_filename (f->dir, "busy.mov", NULL);
  sluice_test_write_file (w.path, bytes, 32 * MIB);
  thread = g_thread_new ("writer", writer_thread, &w);
  while (g_atomic_int_get (&w.writes) == 0)
    g_usleep (1000);

  /* a writer busy all along: some read must notice (almost always the first); a read that
   * does not notice anything must at least not be torn in size */
  for (int attempt = 0; attempt < 50 && !detected; attempt++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceBuffer) buf = read_as (f, "busy.mov", NULL, direct, &error);
      if (buf == NULL)
        {
          g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_CHANGED);
          detected = TRUE;
        }
    }

  g_atomic_int_set (&w.stop, 1);
  g_thread_join (thread);
  g_free (w.path);
  g_assert_true (detected);
}

static void
test_grows_while_read (Fixture       *f,
                       gconstpointer  data)
{
  changed_while_read (f, TRUE, FALSE);
}

static void
test_direct_grows_while_read (Fixture       *f,
                              gconstpointer  data)
{
  changed_while_read (f, TRUE, TRUE);
}

static void
test_rewritten_while_read (Fixture       *f,
                           gconstpointer  data)
{
  changed_while_read (f, FALSE, FALSE);
}

static void
test_direct_rewritten_while_read (Fixture       *f,
                                  gconstpointer  data)
{
  changed_while_read (f, FALSE, TRUE);
}

static void
test_read_range (Fixture       *f,
                 gconstpointer  data)
{
  const gsize size = 3 * MIB + 5;
  const gsize part = 2 * MIB;
  g_autofree guint8 *bytes = pattern (size);
  g_autofree char *path = g_build_filename (f->dir, "big.mov", NULL);
  g_autofree char *expected_whole = NULL;
  g_autoptr(SluiceBudget) budget = sluice_budget_new (64 * MIB);
  g_autoptr(SluiceSha256) whole = sluice_sha256_new ();
  g_autoptr(GError) error = NULL;
  SluiceBuffer *first, *second;
  char whole_hex[65];
  int fd;

  sluice_test_write_file (path, bytes, size);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);

  /* two parts read in order: each hashed on its own, and both into the whole file's hash */
  g_assert_true (sluice_budget_acquire (budget, part, NULL));
  first = sluice_buffer_read_range (fd, "big.mov", 0, part, budget, part, whole, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (sluice_budget_acquire (budget, size - part, NULL));
  second = sluice_buffer_read_range (fd, "big.mov", part, size - part, budget, size - part,
                                     whole, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpmem (first->data, first->len, bytes, part);
  g_assert_cmpmem (second->data, second->len, bytes + part, size - part);
  assert_digest (first, bytes, part);
  assert_digest (second, bytes + part, size - part);
  assert_protected (first);
  sluice_sha256_finish (whole, NULL, whole_hex);
  expected_whole = g_compute_checksum_for_data (G_CHECKSUM_SHA256, bytes, size);
  g_assert_cmpstr (whole_hex, ==, expected_whole);

  /* the budget the caller took is given back with each buffer */
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, size);
  sluice_buffer_free (first);
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, size - part);
  sluice_buffer_free (second);
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
  close (fd);
}

static void
test_read_range_short (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "shrunk.mov", NULL);
  g_autoptr(SluiceBudget) budget = sluice_budget_new (MIB);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBuffer) buf = NULL;
  int fd;

  sluice_test_write_file (path, "0123456789", 10);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);

  /* the file is shorter than the part: it shrank, and the caller's budget is released */
  g_assert_true (sluice_budget_acquire (budget, 100, NULL));
  buf = sluice_buffer_read_range (fd, "shrunk.mov", 5, 100, budget, 100, NULL, NULL, &error);
  g_assert_null (buf);
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_CHANGED);
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
  close (fd);
}

typedef struct {
  gint stop;
  gint forks;
} Forker;

/* What the probe pool does when it starts or restarts a helper: fork (GSubprocess) while
 * other threads are reading files. The child lives a moment, as a child does before exec. */
static gpointer
fork_thread (gpointer user_data)
{
  Forker *fk = user_data;

  while (!g_atomic_int_get (&fk->stop))
    {
      int status;
      pid_t pid = fork ();

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          usleep (2000);
          _exit (0);
        }
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_atomic_int_inc (&fk->forks);
    }
  return NULL;
}

static void
test_read_while_forking (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree guint8 *bytes = pattern (256 * 1024);
  Forker fk = { 0, 0 };
  GThread *thread;
  guint failures = 0;
  g_autofree char *first_error = NULL;


  sluice_test_write_file_at (f->dir, "a.jpg", bytes, 256 * 1024);
  thread = g_thread_new ("fork", fork_thread, &fk);
  while (g_atomic_int_get (&fk.forks) == 0)
    g_usleep (1000);

  /* reading must not depend on what other threads do meanwhile */
  for (int i = 0; i < 300; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceBuffer) read = sluice_buffer_read_file (f->dirfd, "a.jpg", NULL, NULL,
                                                              &error);
      g_autoptr(SluiceBuffer) made = NULL;

      if (read == NULL)
        {
          failures++;
          if (first_error == NULL)
            first_error = g_strdup (error->message);
          g_clear_error (&error);
        }
      made = sluice_buffer_new_from_data (bytes, 256 * 1024, &error);
      if (made == NULL)
        {
          failures++;
          if (first_error == NULL)
            first_error = g_strdup (error->message);
        }
    }
  g_atomic_int_set (&fk.stop, 1);
  g_thread_join (thread);

  if (failures > 0)
    g_test_message ("%u failures while forking, first: %s", failures, first_error);
  g_assert_cmpuint (failures, ==, 0);
}

/* One slab serves file after file: no new memfd, page faults or unmapping per file, and
 * every buffer still holds exactly its own file's bytes whatever the slab held before. */
static void
test_slab_reuse (Fixture       *f,
                 gconstpointer  data)
{
  const gsize sizes[] = { 3 * MIB, 100, 70000, MIB + 1, 1, 0, 5 * MIB + 3, 4096, 200 * 1024 };
  g_autoptr(SluiceBudget) budget = sluice_budget_new (64 * MIB);

  for (guint round = 0; round < 3; round++)
    for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
      {
        g_autofree char *name = g_strdup_printf ("f%u-%u.jpg", round, i);
        g_autofree guint8 *bytes = pattern (sizes[i] + round + i);
        gsize len = sizes[i] + round + i;
        g_autoptr(GError) error = NULL;
        g_autoptr(SluiceBuffer) buf = NULL;

        /* a pattern shifted per file, so stale bytes of an earlier file would show */
        for (gsize j = 0; j < len; j++)
          bytes[j] ^= (guint8) (round * 31 + i);
        sluice_test_write_file_at (f->dir, name, bytes, len);
        buf = sluice_buffer_read_file (f->dirfd, name, budget, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (buf->len, ==, len);
        g_assert_cmpmem (buf->data, buf->len, bytes, len);
        assert_digest (buf, bytes, len);
        assert_protected (buf);
      }
  /* one file at a time: one slab, grown when a file needed it */
  g_assert_cmpuint (sluice_budget_slabs_made (budget), ==, 1);
  g_assert_cmpuint (sluice_budget_slab_bytes (budget), <=, sluice_budget_slab_keep_max (budget));
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
}

/* Slabs are memory the process keeps: all of them together stay within half the budget again
 * (what it keeps for the next files) once the buffers that needed more (a file larger than
 * the budget goes alone) are gone. */
static void
test_slab_bound (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(SluiceBudget) budget = sluice_budget_new (2 * MIB);
  g_autofree guint8 *bytes = pattern (3 * MIB);
  SluiceBuffer *bufs[4];
  g_autoptr(GError) error = NULL;

  sluice_test_write_file_at (f->dir, "small.jpg", bytes, 700 * 1024);
  sluice_test_write_file_at (f->dir, "big.jpg", bytes, 3 * MIB);

  /* three small files fit at once (the budget counts bytes, slabs round up) */
  for (guint i = 0; i < 2; i++)
    {
      bufs[i] = sluice_buffer_read_file (f->dirfd, "small.jpg", budget, NULL, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (sluice_budget_slabs_made (budget), ==, 2);
  for (guint i = 0; i < 2; i++)
    sluice_buffer_free (bufs[i]);
  g_assert_cmpuint (sluice_budget_slab_keep_max (budget), ==, 3 * MIB);
  g_assert_cmpuint (sluice_budget_slab_bytes (budget), <=, 3 * MIB);

  /* alone, the big one may exceed the budget while it lives, not after */
  bufs[0] = sluice_buffer_read_file (f->dirfd, "big.jpg", budget, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (bufs[0]->data, bufs[0]->len, bytes, 3 * MIB);
  g_assert_cmpuint (sluice_budget_slab_bytes (budget), >=, 3 * MIB);
  sluice_buffer_free (bufs[0]);
  g_assert_cmpuint (sluice_budget_slab_bytes (budget), <=, 3 * MIB);

  /* and the next file still reads right */
  bufs[0] = sluice_buffer_read_file (f->dirfd, "small.jpg", budget, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (bufs[0]->data, bufs[0]->len, bytes, 700 * 1024);
  sluice_buffer_free (bufs[0]);
}

/* Files in flight fill their slabs only in part (a slab is as large as the largest file it
 * held): when the mix of sizes changes, the slabs of the last mix are kept for the next, not
 * dropped and made again, each time with fresh pages to fault in (issue 5). */
static void
test_slab_size_mix (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(SluiceBudget) budget = sluice_budget_new (8 * MIB);
  g_autofree guint8 *bytes = pattern (4 * MIB);
  g_autoptr(GError) error = NULL;
  SluiceBuffer *bufs[7];
  guint64 made_after_first = 0;

  sluice_test_write_file_at (f->dir, "big.jpg", bytes, 3 * MIB + MIB / 2);
  sluice_test_write_file_at (f->dir, "small.jpg", bytes, MIB);
  for (guint round = 0; round < 10; round++)
    {
      /* two large files, then seven small ones: 7 MiB in flight each time */
      for (guint i = 0; i < 2; i++)
        {
          bufs[i] = sluice_buffer_read_file (f->dirfd, "big.jpg", budget, NULL, &error);
          g_assert_no_error (error);
          g_assert_cmpmem (bufs[i]->data, bufs[i]->len, bytes, 3 * MIB + MIB / 2);
        }
      for (guint i = 0; i < 2; i++)
        sluice_buffer_free (bufs[i]);
      for (guint i = 0; i < 7; i++)
        {
          bufs[i] = sluice_buffer_read_file (f->dirfd, "small.jpg", budget, NULL, &error);
          g_assert_no_error (error);
          g_assert_cmpmem (bufs[i]->data, bufs[i]->len, bytes, MIB);
        }
      g_assert_cmpuint (sluice_budget_in_use (budget), ==, 7 * MIB);
      for (guint i = 0; i < 7; i++)
        sluice_buffer_free (bufs[i]);
      if (round == 0)
        made_after_first = sluice_budget_slabs_made (budget);
      g_assert_cmpuint (sluice_budget_slab_bytes (budget), <=,
                        sluice_budget_slab_keep_max (budget));
    }
  /* 2 large slabs and 5 small ones, made in the first round and reused since */
  g_assert_cmpuint (made_after_first, ==, 7);
  g_assert_cmpuint (sluice_budget_slabs_made (budget), ==, made_after_first);
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
}

/* The pipeline takes the budget itself: the charge goes back with the buffer, or at once when
 * the read fails, and the slab is the budget's, reused like any other. */
static void
test_read_charged (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(SluiceBudget) budget = sluice_budget_new (8 * MIB);
  g_autofree guint8 *bytes = pattern (300000);
  g_autoptr(GError) error = NULL;

  sluice_test_write_file_at (f->dir, "a.jpg", bytes, 300000);
  for (int i = 0; i < 5; i++)
    {
      SluiceBuffer *buf;

      g_assert_true (sluice_budget_acquire (budget, 300000, NULL));
      buf = sluice_buffer_read_file_charged (f->dirfd, "a.jpg", budget, 300000, FALSE, NULL,
                                             &error);
      g_assert_no_error (error);
      g_assert_cmpmem (buf->data, buf->len, bytes, 300000);
      g_assert_cmpuint (sluice_budget_in_use (budget), ==, 300000);
      sluice_buffer_free (buf);
      g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
    }
  g_assert_cmpuint (sluice_budget_slabs_made (budget), ==, 1);

  g_assert_true (sluice_budget_acquire (budget, 1000, NULL));
  g_assert_null (sluice_buffer_read_file_charged (f->dirfd, "missing.jpg", budget, 1000, FALSE,
                                                  NULL, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE);
  g_assert_cmpuint (sluice_budget_in_use (budget), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/buffer/budget/accounting", test_budget_accounting);
  g_test_add_func ("/engine/buffer/budget/zero-max", test_budget_zero_max);
  g_test_add_func ("/engine/buffer/budget/blocks", test_budget_blocks);
  g_test_add_func ("/engine/buffer/budget/oversize", test_budget_oversize);
  g_test_add_func ("/engine/buffer/budget/cancel", test_budget_cancel);
  g_test_add_func ("/engine/buffer/budget/try-acquire", test_budget_try_acquire);
  g_test_add_func ("/engine/buffer/budget/wait", test_budget_wait);
  g_test_add_func ("/engine/buffer/budget/over-release", test_budget_over_release);

#define ADD(path, fn) \
  g_test_add ("/engine/buffer/" path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("read-sizes", test_read_sizes);
  ADD ("read-empty", test_read_empty);
  ADD ("readonly-fd", test_readonly_fd);
  ADD ("new-from-data", test_new_from_data);
  ADD ("new-from-data-raw-digest", test_new_from_data_raw_digest);
  ADD ("sha256-hex", test_sha256_hex);
  ADD ("missing", test_missing);
  ADD ("directory-refused", test_directory_refused);
  ADD ("symlink-refused", test_symlink_refused);
  ADD ("too-large", test_too_large);
  ADD ("cancelled", test_cancelled);
  ADD ("longer-than-stat", test_longer_than_stat);
  ADD ("shorter-than-stat", test_shorter_than_stat);
  ADD ("grows-while-read", test_grows_while_read);
  ADD ("no-read-past-end", test_no_read_past_end);
  ADD ("link-on-path", test_link_on_path);
  ADD ("rewritten-while-read", test_rewritten_while_read);
  ADD ("read-while-forking", test_read_while_forking);
  ADD ("slab-reuse", test_slab_reuse);
  ADD ("slab-bound", test_slab_bound);
  ADD ("slab-size-mix", test_slab_size_mix);
  ADD ("read-charged", test_read_charged);
  ADD ("read-range", test_read_range);
  ADD ("read-range-short", test_read_range_short);
  ADD ("direct/read-sizes", test_direct_read_sizes);
  ADD ("direct/bypasses-cache", test_direct_bypasses_cache);
  ADD ("direct/suits", test_direct_suits);
  ADD ("direct/longer-than-stat", test_direct_longer_than_stat);
  ADD ("direct/grows-while-read", test_direct_grows_while_read);
  ADD ("direct/rewritten-while-read", test_direct_rewritten_while_read);
#undef ADD
  g_test_add_func ("/engine/buffer/fifo-refused", test_fifo_refused);
  g_test_add_func ("/engine/buffer/unreadable-file", test_unreadable_file);

  return g_test_run ();
}
