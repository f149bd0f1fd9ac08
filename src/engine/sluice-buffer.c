/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-buffer"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice-buffer.h"
#include "sluice-error.h"
#include "sluice-hash.h"

/* ---- budget ---------------------------------------------------------------------------- */

struct _SluiceBudget {
  GMutex  mutex;
  GCond   cond;
  guint64 max;
  guint64 used;
  guint64 peak;
};

SluiceBudget *
sluice_budget_new (guint64 max_bytes)
{
  SluiceBudget *self = g_new0 (SluiceBudget, 1);

  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->max = MAX (max_bytes, 1);
  return self;
}

void
sluice_budget_free (SluiceBudget *self)
{
  if (self == NULL)
    return;
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  g_free (self);
}

/**
 * sluice_budget_acquire:
 *
 * Blocks until @bytes fit in the budget. A request larger than the whole budget is granted
 * when nothing else is in flight, so one big file cannot wait forever. Returns FALSE when
 * @cancellable fires first. Called from any thread (never the main thread: it blocks).
 */
gboolean
sluice_budget_acquire (SluiceBudget *self,
                       guint64       bytes,
                       GCancellable *cancellable)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  while (self->used > 0 && self->used + bytes > self->max)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      /* wake up now and then to look at the cancellable */
      g_cond_wait_until (&self->cond, &self->mutex,
                         g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND);
    }
  if (g_cancellable_is_cancelled (cancellable))
    return FALSE;
  self->used += bytes;
  self->peak = MAX (self->peak, self->used);
  return TRUE;
}

/* Takes @bytes if they fit now (or nothing else is in flight); never waits. */
gboolean
sluice_budget_try_acquire (SluiceBudget *self,
                           guint64       bytes)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  if (self->used > 0 && self->used + bytes > self->max)
    return FALSE;
  self->used += bytes;
  self->peak = MAX (self->peak, self->used);
  return TRUE;
}

/* Waits at most @timeout_ms for the budget to change; TRUE if it may have. */
gboolean
sluice_budget_wait (SluiceBudget *self,
                    guint         timeout_ms)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  return g_cond_wait_until (&self->cond, &self->mutex,
                            g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND);
}

void
sluice_budget_release (SluiceBudget *self,
                       guint64       bytes)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  g_assert (self->used >= bytes);
  self->used -= bytes;
  g_cond_broadcast (&self->cond);
}

guint64
sluice_budget_in_use (SluiceBudget *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  return self->used;
}

guint64
sluice_budget_peak (SluiceBudget *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  return self->peak;
}

guint64
sluice_budget_max (SluiceBudget *self)
{
  return self->max;
}

/* ---- buffers --------------------------------------------------------------------------- */

#define READ_CHUNK (1024 * 1024)

static const guint8 empty_data[1];

void
sluice_buffer_free (SluiceBuffer *self)
{
  if (self == NULL)
    return;
  if (self->data != NULL && self->data != empty_data)
    munmap ((void *) self->data, self->len);
  if (self->fd >= 0)
    close (self->fd);
  if (self->budget != NULL)
    sluice_budget_release (self->budget, self->charged);
  g_free (self);
}

static SluiceBuffer *
buffer_new (void)
{
  SluiceBuffer *self = g_new0 (SluiceBuffer, 1);

  self->fd = -1;
  return self;
}

static gboolean
set_errno_error (GError     **error,
                 int          saved_errno,
                 SluiceError  fallback,
                 const char  *what,
                 const char  *relpath)
{
  g_autofree char *display = g_filename_display_name (relpath);
  SluiceError code = saved_errno == ENOSPC ? SLUICE_ERROR_NO_SPACE : fallback;

  g_set_error (error, SLUICE_ERROR, code, "%s: %s: %s", display, what, g_strerror (saved_errno));
  return FALSE;
}

/* Makes an anonymous, sealable memory file of @len bytes and maps it writable. */
static gboolean
buffer_create (SluiceBuffer *self,
               gsize         len,
               guint8      **out_map,
               GError      **error)
{
  self->fd = memfd_create ("sluice-buffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (self->fd < 0)
    return set_errno_error (error, errno, SLUICE_ERROR_FAILED, "memfd_create", "buffer");
  if (ftruncate (self->fd, len) < 0)
    return set_errno_error (error, errno, SLUICE_ERROR_NO_SPACE, "ftruncate", "buffer");
  *out_map = NULL;
  if (len == 0)
    return TRUE;
  *out_map = mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
  if (*out_map == MAP_FAILED)
    {
      *out_map = NULL;
      return set_errno_error (error, errno, SLUICE_ERROR_FAILED, "mmap", "buffer");
    }
  /* a fork in another thread (a helper starting) must not inherit this writable mapping:
   * while a child holds it, the write seal cannot be added */
  madvise (*out_map, len, MADV_DONTFORK);
  return TRUE;
}

/* Drops the writable mapping, seals the bytes for good and maps them read-only: from here on
 * neither we, the probe helper nor curl can change what was hashed. */
static gboolean
buffer_seal (SluiceBuffer *self,
             guint8       *map,
             gsize         len,
             GError      **error)
{
  if (map != NULL)
    munmap (map, len);
  /* a fork that came between mmap and madvise holds the mapping until its exec: brief */
  for (int tries = 0;; tries++)
    {
      if (fcntl (self->fd, F_ADD_SEALS,
                 F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0)
        break;
      if (errno != EBUSY || tries >= 200)
        return set_errno_error (error, errno, SLUICE_ERROR_FAILED, "sealing", "buffer");
      g_usleep (1000);
    }
  self->len = len;
  if (len == 0)
    {
      self->data = empty_data;
      return TRUE;
    }
  self->data = mmap (NULL, len, PROT_READ, MAP_SHARED, self->fd, 0);
  if (self->data == MAP_FAILED)
    {
      self->data = NULL;
      return set_errno_error (error, errno, SLUICE_ERROR_FAILED, "mmap", "buffer");
    }
  return TRUE;
}

static gint64
stat_mtime_ns (const struct stat *st)
{
  return (gint64) st->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st->st_mtim.tv_nsec;
}

/**
 * sluice_buffer_read_file:
 * @dirfd: the source root, opened with O_PATH or O_DIRECTORY
 * @relpath: the file, relative to @dirfd
 *
 * Reads the file once, hashing as it goes. A file that changes while it is read (size or
 * mtime before and after differ, or it ends early or late) is SLUICE_ERROR_SOURCE_CHANGED,
 * which the caller retries: a body is never half old, half new.
 * Called from a pipeline worker thread.
 */
SluiceBuffer *
sluice_buffer_read_file (int            dirfd,
                         const char    *relpath,
                         SluiceBudget  *budget,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(SluiceBuffer) self = buffer_new ();
  g_autoptr(SluiceSha256) ctx = NULL;
  struct stat before, after;
  guint8 *map = NULL;
  gsize done = 0;
  int src;
  gboolean ok = FALSE;

  /* O_NONBLOCK: a FIFO named like a photo must be refused, not wait for a writer */
  src = openat (dirfd, relpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (src < 0)
    {
      set_errno_error (error, errno, SLUICE_ERROR_SOURCE_UNREADABLE, "open", relpath);
      return NULL;
    }
  if (fstat (src, &before) < 0)
    {
      set_errno_error (error, errno, SLUICE_ERROR_SOURCE_UNREADABLE, "stat", relpath);
      goto out;
    }
  if (!S_ISREG (before.st_mode))
    {
      g_autofree char *display = g_filename_display_name (relpath);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_UNREADABLE,
                   "%s: not a regular file", display);
      goto out;
    }
  if ((guint64) before.st_size > SLUICE_BUFFER_MAX_SINGLE)
    {
      g_autofree char *display = g_filename_display_name (relpath);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE,
                   "%s: %" G_GUINT64_FORMAT " bytes is more than one buffer holds (1 GiB); "
                   "such files are sent in parts",
                   display, (guint64) before.st_size);
      goto out;
    }

  if (budget != NULL)
    {
      if (!sluice_budget_acquire (budget, before.st_size, cancellable))
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");
          goto out;
        }
      self->budget = budget;
      self->charged = before.st_size;
    }

  if (!buffer_create (self, before.st_size, &map, error))
    goto out;

  posix_fadvise (src, 0, 0, POSIX_FADV_SEQUENTIAL);
  ctx = sluice_sha256_new ();

  while (done < (gsize) before.st_size)
    {
      gsize want = MIN ((gsize) before.st_size - done, READ_CHUNK);
      ssize_t n = read (src, map + done, want);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_errno_error (error, errno, SLUICE_ERROR_SOURCE_UNREADABLE, "read", relpath);
          goto out;
        }
      if (n == 0)
        break;
      sluice_sha256_update (ctx, map + done, n);
      done += n;
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");
          goto out;
        }
    }

  /* one more byte means the file grew under us */
  if (done == (gsize) before.st_size)
    {
      char probe;
      ssize_t n;

      do
        n = read (src, &probe, 1);
      while (n < 0 && errno == EINTR);
      if (n > 0)
        done++;
    }

  if (fstat (src, &after) < 0)
    {
      set_errno_error (error, errno, SLUICE_ERROR_SOURCE_UNREADABLE, "stat", relpath);
      goto out;
    }
  if (done != (gsize) before.st_size || after.st_size != before.st_size ||
      stat_mtime_ns (&after) != stat_mtime_ns (&before))
    {
      g_autofree char *display = g_filename_display_name (relpath);
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_CHANGED,
                   "%s: the file changed while it was being read", display);
      goto out;
    }

  sluice_sha256_finish (ctx, self->sha256, self->sha256_hex);
  self->mtime_ns = stat_mtime_ns (&after);

  ok = buffer_seal (self, map, before.st_size, error);
  map = NULL;

out:
  if (map != NULL)
    munmap (map, before.st_size);
  close (src);
  return ok ? g_steal_pointer (&self) : NULL;
}

/**
 * sluice_buffer_read_range:
 * @fd: an open source file
 * @budget_taken: bytes of @budget the caller already acquired for this buffer (it is released
 *   when the buffer is freed)
 * @whole: when not NULL, the running hash of the whole file, fed with these bytes too
 *
 * Reads @len bytes at @offset once, hashing them as they arrive (the part's own SHA-256 and,
 * for the whole file, @whole), into a sealed memfd. A short read means the file shrank:
 * SLUICE_ERROR_SOURCE_CHANGED. Called from a pipeline worker thread.
 */
SluiceBuffer *
sluice_buffer_read_range (int            fd,
                          const char    *relpath,
                          guint64        offset,
                          gsize          len,
                          SluiceBudget  *budget,
                          guint64        budget_taken,
                          SluiceSha256  *whole,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_autoptr(SluiceBuffer) self = buffer_new ();
  g_autoptr(SluiceSha256) part = sluice_sha256_new ();
  guint8 *map = NULL;
  gsize done = 0;
  gboolean ok = FALSE;

  self->budget = budget;
  self->charged = budget_taken;
  if (!buffer_create (self, len, &map, error))
    return NULL;

  while (done < len)
    {
      ssize_t n = pread (fd, map + done, MIN (len - done, READ_CHUNK), offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_errno_error (error, errno, SLUICE_ERROR_SOURCE_UNREADABLE, "read", relpath);
          goto out;
        }
      if (n == 0)
        {
          g_autofree char *display = g_filename_display_name (relpath);
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_SOURCE_CHANGED,
                       "%s: the file changed while it was being read", display);
          goto out;
        }
      sluice_sha256_update (part, map + done, n);
      if (whole != NULL)
        sluice_sha256_update (whole, map + done, n);
      done += n;
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");
          goto out;
        }
    }
  sluice_sha256_finish (part, self->sha256, self->sha256_hex);
  ok = buffer_seal (self, map, len, error);
  map = NULL;

out:
  if (map != NULL)
    munmap (map, len);
  return ok ? g_steal_pointer (&self) : NULL;
}

/* For tests and small generated bodies (manifests, probe objects). */
SluiceBuffer *
sluice_buffer_new_from_data (const guint8 *data,
                             gsize         len,
                             GError      **error)
{
  g_autoptr(SluiceBuffer) self = buffer_new ();
  guint8 *map = NULL;

  if (!buffer_create (self, len, &map, error))
    return NULL;
  if (len > 0)
    memcpy (map, data, len);
  {
    g_autoptr(SluiceSha256) hash = sluice_sha256_new ();
    sluice_sha256_update (hash, data, len);
    sluice_sha256_finish (hash, self->sha256, self->sha256_hex);
  }
  if (!buffer_seal (self, map, len, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * sluice_buffer_open_readonly:
 *
 * A new, read-only open file description of the sealed bytes, for the probe helper: even
 * a helper that ignored the seals could not write through it.
 */
int
sluice_buffer_open_readonly (SluiceBuffer *self,
                             GError      **error)
{
  char path[64];
  int fd;

  g_snprintf (path, sizeof path, "/proc/self/fd/%d", self->fd);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    set_errno_error (error, errno, SLUICE_ERROR_FAILED, "reopen read-only", "buffer");
  return fd;
}
