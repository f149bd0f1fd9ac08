/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-buffer"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sluice-buffer.h"
#include "sluice-error.h"
#include "sluice-hash.h"

/* ---- budget ---------------------------------------------------------------------------- */

/* A slab: one memfd, mapped writable in this process, reused from file to file so that its
 * pages are allocated, zeroed and faulted in once, not once per file. */
struct _SluiceSlab {
  int      fd;          /* the memfd, read-write */
  int      ro_fd;       /* a read-only open file description of it, for the probe helpers */
  guint8  *map;         /* writable, shared mapping of capacity bytes (NULL when 0) */
  gsize    capacity;
};

struct _SluiceBudget {
  GMutex     mutex;
  GCond      cond;
  guint64    max;
  guint64    used;
  guint64    peak;
  guint      waiters;         /* threads in g_cond_wait_until (): a release wakes only them */
  GPtrArray *free_slabs;      /* SluiceSlab, ready for the next file */
  guint64    slab_bytes;      /* capacity of every slab alive, free or in use */
  guint64    slabs_made;
};

static void slab_destroy (SluiceSlab *slab);

SluiceBudget *
sluice_budget_new (guint64 max_bytes)
{
  SluiceBudget *self = g_new0 (SluiceBudget, 1);

  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->max = MAX (max_bytes, 1);
  self->free_slabs = g_ptr_array_new ();
  return self;
}

void
sluice_budget_free (SluiceBudget *self)
{
  if (self == NULL)
    return;
  /* buffers still alive keep their slab and destroy it themselves: they cannot outlive the
   * pipeline that made them, which frees the budget last */
  for (guint i = 0; i < self->free_slabs->len; i++)
    slab_destroy (g_ptr_array_index (self->free_slabs, i));
  g_ptr_array_unref (self->free_slabs);
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
      self->waiters++;
      g_cond_wait_until (&self->cond, &self->mutex,
                         g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND);
      self->waiters--;
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
  gboolean woken;

  self->waiters++;
  woken = g_cond_wait_until (&self->cond, &self->mutex,
                             g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND);
  self->waiters--;
  return woken;
}

void
sluice_budget_release (SluiceBudget *self,
                       guint64       bytes)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  g_assert (self->used >= bytes);
  self->used -= bytes;
  /* GLib's g_cond_broadcast () is a futex call even with nobody waiting: one per file */
  if (self->waiters > 0)
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

/* ---- slabs ----------------------------------------------------------------------------- */

/* Slabs grow in steps, so that files of similar sizes fit the same slab. */
static gsize
slab_round (gsize len)
{
  gsize step = len <= 4 * 1024 * 1024 ? 256 * 1024 : 1024 * 1024;

  return MAX ((len + step - 1) / step * step, step);
}

static void
slab_destroy (SluiceSlab *slab)
{
  if (slab == NULL)
    return;
  if (slab->map != NULL)
    munmap (slab->map, slab->capacity);
  if (slab->ro_fd >= 0)
    close (slab->ro_fd);
  if (slab->fd >= 0)
    close (slab->fd);
  g_free (slab);
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

/* Makes the slab @capacity bytes long (it only grows) and maps it writable. */
static gboolean
slab_resize (SluiceSlab *slab,
             gsize       capacity,
             GError    **error)
{
  guint8 *map;

  if (capacity <= slab->capacity)
    return TRUE;
  if (ftruncate (slab->fd, capacity) < 0)
    return set_errno_error (error, errno, SLUICE_ERROR_NO_SPACE, "ftruncate", "buffer");
  if (slab->map == NULL)
    map = mmap (NULL, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, slab->fd, 0);
  else
    map = mremap (slab->map, slab->capacity, capacity, MREMAP_MAYMOVE);
  if (map == MAP_FAILED)
    return set_errno_error (error, errno, SLUICE_ERROR_FAILED, "mmap", "buffer");
  /* a helper forked by another thread must not inherit a writable view of file bytes */
  madvise (map, capacity, MADV_DONTFORK);
  slab->map = map;
  slab->capacity = capacity;
  return TRUE;
}

static SluiceSlab *
slab_new (GError **error)
{
  g_autoptr(GError) local = NULL;
  SluiceSlab *slab = g_new0 (SluiceSlab, 1);
  char path[64];

  slab->ro_fd = -1;
  slab->fd = memfd_create ("sluice-buffer", MFD_CLOEXEC);
  if (slab->fd < 0)
    {
      set_errno_error (error, errno, SLUICE_ERROR_FAILED, "memfd_create", "buffer");
      g_free (slab);
      return NULL;
    }
  /* the helpers get this one: even a helper that tried could not write through it */
  g_snprintf (path, sizeof path, "/proc/self/fd/%d", slab->fd);
  slab->ro_fd = open (path, O_RDONLY | O_CLOEXEC);
  if (slab->ro_fd < 0)
    {
      set_errno_error (error, errno, SLUICE_ERROR_FAILED, "reopen read-only", "buffer");
      slab_destroy (slab);
      return NULL;
    }
  return slab;
}

/*
 * A slab of at least @len bytes: the smallest free one that fits, else the largest free one
 * grown, else a new one. Without a budget the slab is the buffer's alone.
 */
static SluiceSlab *
slab_take (SluiceBudget *budget,
           gsize         len,
           GError      **error)
{
  SluiceSlab *slab = NULL;
  gsize want = slab_round (len);
  gsize before;

  if (budget != NULL)
    {
      g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&budget->mutex);
      guint best = G_MAXUINT, largest = G_MAXUINT;

      for (guint i = 0; i < budget->free_slabs->len; i++)
        {
          SluiceSlab *s = g_ptr_array_index (budget->free_slabs, i);

          if (s->capacity >= want &&
              (best == G_MAXUINT ||
               s->capacity < ((SluiceSlab *) g_ptr_array_index (budget->free_slabs, best))->capacity))
            best = i;
          if (largest == G_MAXUINT ||
              s->capacity > ((SluiceSlab *) g_ptr_array_index (budget->free_slabs, largest))->capacity)
            largest = i;
        }
      if (best != G_MAXUINT)
        slab = g_ptr_array_steal_index_fast (budget->free_slabs, best);
      else if (largest != G_MAXUINT)
        slab = g_ptr_array_steal_index_fast (budget->free_slabs, largest);
    }

  if (slab == NULL)
    {
      slab = slab_new (error);
      if (slab == NULL)
        return NULL;
      if (budget != NULL)
        {
          g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&budget->mutex);
          budget->slabs_made++;
        }
    }

  before = slab->capacity;
  if (!slab_resize (slab, budget != NULL ? want : MAX (len, 1), error))
    {
      if (budget != NULL)
        {
          g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&budget->mutex);
          budget->slab_bytes -= before;
        }
      slab_destroy (slab);
      return NULL;
    }
  if (budget != NULL)
    {
      g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&budget->mutex);
      budget->slab_bytes += slab->capacity - before;
    }
  return slab;
}

/* How much memory the slabs may keep, free or in use, next to the budget's bytes in flight.
 * Slabs are as large as the largest file each has held, so the files in flight fill only
 * part of them: on 600 camera JPEGs of 1-4 MB, 57 MB in flight needed 89 MB of slabs. Kept
 * within the budget itself, 100 of the run's slabs were dropped and made again, and faulting
 * in and zeroing their fresh pages was 11 % of the client's CPU (issue 5, stop 22). */
guint64
sluice_budget_slab_keep_max (SluiceBudget *self)
{
  return self->max + self->max / 2;
}

/* Keeps the slab for the next file while all slabs together stay within
 * sluice_budget_slab_keep_max (). */
static void
slab_give_back (SluiceBudget *budget,
                SluiceSlab   *slab)
{
  if (budget != NULL)
    {
      g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&budget->mutex);

      if (budget->slab_bytes <= sluice_budget_slab_keep_max (budget))
        {
          g_ptr_array_add (budget->free_slabs, slab);
          return;
        }
      budget->slab_bytes -= slab->capacity;
    }
  slab_destroy (slab);
}

/* Bytes of memory the budget's slabs hold, free or in use (for tests and reports). */
guint64
sluice_budget_slab_bytes (SluiceBudget *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  return self->slab_bytes;
}

/* How many slabs were ever made: far fewer than files when slabs are reused. */
guint64
sluice_budget_slabs_made (SluiceBudget *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  return self->slabs_made;
}

/* ---- buffers --------------------------------------------------------------------------- */

#define READ_CHUNK (1024 * 1024)
/* Reads around the page cache are synchronous: larger, so that the device has several
 * requests at once. Their length and address must be multiples of the file system's block
 * (512 or 4096 bytes); a page is both. */
#define READ_CHUNK_DIRECT (4 * 1024 * 1024)
#define DIRECT_ALIGN      4096
/* how far a direct read of a @size byte file goes: whole blocks, and one byte more */
#define DIRECT_END(size)  (((gsize) (size) + DIRECT_ALIGN) & ~(gsize) (DIRECT_ALIGN - 1))

static const guint8 empty_data[1];

void
sluice_buffer_free (SluiceBuffer *self)
{
  if (self == NULL)
    return;
  if (self->slab != NULL)
    slab_give_back (self->budget, self->slab);
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

/* Gives the buffer a slab of at least @len bytes to read into. */
static gboolean
buffer_create (SluiceBuffer *self,
               gsize         len,
               guint8      **out_map,
               GError      **error)
{
  self->slab = slab_take (self->budget, len, error);
  if (self->slab == NULL)
    return FALSE;
  self->fd = self->slab->fd;
  *out_map = self->slab->map;
  return TRUE;
}

/* From here on the bytes are what was hashed: the buffer hands out only a read-only view. */
static void
buffer_fill (SluiceBuffer *self,
             gsize         len)
{
  self->len = len;
  self->data = len > 0 ? self->slab->map : empty_data;
}

static gint64
stat_mtime_ns (const struct stat *st)
{
  return (gint64) st->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st->st_mtim.tv_nsec;
}

/* Turns O_DIRECT off on @src, for the rest of a read. */
static gboolean
leave_direct (int src)
{
  int flags = fcntl (src, F_GETFL);

  return flags >= 0 && fcntl (src, F_SETFL, flags & ~O_DIRECT) == 0;
}

/**
 * sluice_buffer_open_source:
 * @dirfd: the source's root, or AT_FDCWD
 * @relpath: a file below it, as the walker listed it (an absolute path opens as with openat)
 * @flags: open(2) flags; O_NOFOLLOW and O_CLOEXEC are added
 *
 * Opens a source file without following a symbolic link anywhere on its path. The walker
 * never descends through one, so a path that crosses one now was changed after the listing
 * (a folder swapped for a link to somewhere else): it fails with ELOOP instead of being read
 * from outside the source. Without openat2 (Linux < 5.6, or a seccomp filter that refuses
 * it) only the last component is guarded, by O_NOFOLLOW.
 *
 * Returns: the descriptor, or -1 with errno set.
 */
int
sluice_buffer_open_source (int         dirfd,
                           const char *relpath,
                           int         flags)
{
  /* once refused, not asked again for every file */
  static gint no_openat2;

  flags |= O_NOFOLLOW | O_CLOEXEC;
  if (relpath[0] != '/' && !g_atomic_int_get (&no_openat2))
    {
      struct open_how how = { .flags = (guint64) flags,
                              .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
      int fd = syscall (SYS_openat2, dirfd, relpath, &how, sizeof how);

      if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
        return fd;
      g_atomic_int_set (&no_openat2, 1);
    }
  return openat (dirfd, relpath, flags);
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
static SluiceBuffer *
read_file (int            dirfd,
           const char    *relpath,
           SluiceBudget  *budget,
           gboolean       acquire,
           guint64        budget_taken,
           gboolean       direct,
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

  /* a charge taken by the caller goes back with the buffer, also when reading fails */
  if (!acquire)
    {
      self->budget = budget;
      self->charged = budget_taken;
    }

  /* O_NONBLOCK: a FIFO named like a photo must be refused, not wait for a writer */
  src = sluice_buffer_open_source (dirfd, relpath, O_RDONLY | O_NOCTTY | O_NONBLOCK |
                                                  (direct ? O_DIRECT : 0));
  if (src < 0 && direct && errno == EINVAL)
    {
      /* a file system that does not read around its cache after all */
      direct = FALSE;
      src = sluice_buffer_open_source (dirfd, relpath, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    }
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

  if (budget != NULL && acquire)
    {
      if (!sluice_budget_acquire (budget, before.st_size, cancellable))
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");
          goto out;
        }
      self->budget = budget;
      self->charged = before.st_size;
    }

  /* direct: room for the blocks that hold one byte more than the file (how growth shows) */
  if (!buffer_create (self, direct ? DIRECT_END (before.st_size) : (gsize) before.st_size, &map,
                      error))
    goto out;

  if (!direct)
    posix_fadvise (src, 0, 0, POSIX_FADV_SEQUENTIAL);
  ctx = sluice_sha256_new ();

  for (;;)
    {
      gsize size = before.st_size;
      /* direct reads go in whole blocks, to a block-aligned address (the slab's pages) */
      gsize end = direct ? DIRECT_END (size) : size;
      gsize want;
      gboolean last;
      char extra;
      ssize_t n;

      if (direct ? done >= end : done > size)
        break;
      want = MIN (end - done, direct ? READ_CHUNK_DIRECT : READ_CHUNK);
      /* a cached read that reaches the file's end asks for one byte more, into @extra: a file
       * that grew shows, and one that did not says so by falling short, with no read of
       * nothing after it (on a NAS every read is a round trip; issue 5) */
      last = !direct && done + want == size;
      if (last)
        {
          struct iovec iov[2] = { { map + done, want }, { &extra, 1 } };

          n = readv (src, iov, 2);
        }
      else
        n = read (src, map + done, want);
      if (n < 0 && errno == EINTR)
        continue;
      /* not aligned to what this file system wants: the rest through the cache */
      if (n < 0 && direct && errno == EINVAL && leave_direct (src))
        {
          direct = FALSE;
          continue;
        }
      if (n < 0)
        {
          set_errno_error (error, errno, SLUICE_ERROR_SOURCE_UNREADABLE, "read", relpath);
          goto out;
        }
      if (n == 0)
        break;
      /* the hash covers the file as stat saw it; a byte beyond is growth, caught below */
      if (done < size)
        sluice_sha256_update (ctx, map + done, MIN ((gsize) n, size - done));
      done += n;
      /* the file's end, where stat said, or a byte past it */
      if (last && done >= size)
        break;
      /* a direct read falls short at the end: no read of nothing to confirm it. Short of
       * the end (never seen), the rest goes through the cache, which takes any offset. */
      if (direct && (gsize) n < want)
        {
          if (done >= size || !leave_direct (src))
            break;
          direct = FALSE;
        }
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "cancelled");
          goto out;
        }
    }

  /* a byte more than stat said (the last read of either kind asked for it): the file grew */
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

  buffer_fill (self, before.st_size);
  ok = TRUE;

out:
  close (src);
  return ok ? g_steal_pointer (&self) : NULL;
}

SluiceBuffer *
sluice_buffer_read_file (int            dirfd,
                         const char    *relpath,
                         SluiceBudget  *budget,
                         GCancellable  *cancellable,
                         GError       **error)
{
  return read_file (dirfd, relpath, budget, TRUE, 0, FALSE, cancellable, error);
}

/**
 * sluice_buffer_read_file_charged:
 * @budget_taken: bytes of @budget the caller already acquired for this file (released when
 *   the buffer is freed, or here on failure)
 * @direct: read around the page cache (O_DIRECT), for a file system where
 *   sluice_buffer_direct_suits() said so; a file it refuses is read through the cache
 *
 * Like sluice_buffer_read_file() for a caller that took the budget itself (the pipeline,
 * which runs other work while it waits for room).
 */
SluiceBuffer *
sluice_buffer_read_file_charged (int            dirfd,
                                 const char    *relpath,
                                 SluiceBudget  *budget,
                                 guint64        budget_taken,
                                 gboolean       direct,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  return read_file (dirfd, relpath, budget, FALSE, budget_taken, direct, cancellable, error);
}

/**
 * sluice_buffer_direct_suits:
 * @fd: any descriptor on the file system (an O_PATH one will do)
 *
 * Whether files there are best read around the page cache. Every source byte is read once
 * (issue 5), so caching it buys nothing; filling the cache, on the other hand, cost a sixth of
 * a worker's CPU on small photos (page allocation, LRU, the copy out). Only local block file
 * systems, where a direct read is a DMA into our pages: over FUSE or a network file system a
 * direct read is a round trip per request, without the readahead that hides latency.
 */
gboolean
sluice_buffer_direct_suits (int fd)
{
  struct statfs sfs;

  if (fstatfs (fd, &sfs) < 0)
    return FALSE;
  switch ((unsigned long) sfs.f_type)
    {
    case EXT4_SUPER_MAGIC:   /* ext2, ext3 and ext4 */
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
      return TRUE;
    default:
      return FALSE;
    }
}

/**
 * sluice_buffer_read_range:
 * @fd: an open source file
 * @budget_taken: bytes of @budget the caller already acquired for this buffer (it is released
 *   when the buffer is freed)
 * @whole: when not NULL, the running hash of the whole file, fed with these bytes too
 *
 * Reads @len bytes at @offset once, hashing them as they arrive (the part's own SHA-256 and,
 * for the whole file, @whole), into a memfd slab. A short read means the file shrank:
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
  buffer_fill (self, len);
  ok = TRUE;

out:
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
  buffer_fill (self, len);
  return g_steal_pointer (&self);
}

/**
 * sluice_buffer_get_readonly_fd:
 *
 * A descriptor of the buffer's bytes for the probe helper: a read-only open file description,
 * so a helper cannot write through it, whatever it tries. It is the buffer's (its slab's),
 * valid while the buffer lives: not to be closed. Passing it is what duplicates it into the
 * helper; a duplicate per probe, and its close, were ~0.5 % of the client's CPU on small files
 * (issue 5). The memory file can be longer than the buffer (slabs are reused): pass the
 * buffer's length along, the helper reads no more than that.
 */
int
sluice_buffer_get_readonly_fd (SluiceBuffer *self)
{
  return self->slab->ro_fd;
}
