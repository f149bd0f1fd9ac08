/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-hash.h"

G_BEGIN_DECLS

/*
 * Read once. A source file is read exactly once, into a memfd drawn from a budget of bytes in
 * flight; that one read feeds the SHA-256 (libcrypto, SHA-NI where the CPU has it), the probe
 * helper (which receives a read-only descriptor of the memfd) and the upload body.
 *
 * The memfds are slabs the budget keeps and reuses from file to file: a fresh memfd per file
 * cost more CPU in page faults, zeroing and unmapping than reading the file did (issue 5).
 * The budget bounds the bytes of the files in flight; slabs are as large as the largest file
 * each has held, and all of them together, free or in use, are kept within one and a half
 * budgets (sluice_budget_slab_keep_max()): that is the process's memory bound for file bytes.
 */

typedef struct _SluiceBudget SluiceBudget;
typedef struct _SluiceSlab SluiceSlab;

SluiceBudget *sluice_budget_new      (guint64        max_bytes);
void          sluice_budget_free     (SluiceBudget  *self);
gboolean      sluice_budget_acquire  (SluiceBudget  *self,
                                      guint64        bytes,
                                      GCancellable  *cancellable);
gboolean      sluice_budget_try_acquire (SluiceBudget *self,
                                         guint64       bytes);
gboolean      sluice_budget_wait     (SluiceBudget  *self,
                                      guint          timeout_ms);
void          sluice_budget_release  (SluiceBudget  *self,
                                      guint64        bytes);
guint64       sluice_budget_in_use   (SluiceBudget  *self);
guint64       sluice_budget_peak     (SluiceBudget  *self);
guint64       sluice_budget_max      (SluiceBudget  *self);
guint64       sluice_budget_slab_bytes (SluiceBudget *self);
guint64       sluice_budget_slab_keep_max (SluiceBudget *self);
guint64       sluice_budget_slabs_made (SluiceBudget *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceBudget, sluice_budget_free)

/* Files from this size up are read through the page cache even where direct reads suit
 * (sluice_buffer_direct_suits ()): readahead overlaps their reading with their hashing. On
 * corpus a (1–4 MB photos) direct reads took 11 % off the client's CPU but added 3 % to the
 * wall time, which is what bounds a; on b (20–200 KB) they take 7 % off the CPU. */
#define SLUICE_BUFFER_DIRECT_MAX  (1024 * 1024)

/* One file larger than this is never put in memory whole; it waits for multipart support. */
#define SLUICE_BUFFER_MAX_SINGLE  (G_GUINT64_CONSTANT (1) << 30)

typedef struct {
  int            fd;            /* the memfd holding the bytes (it may be longer than len) */
  const guint8  *data;          /* len bytes, not to be written ("" when empty) */
  gsize          len;
  gint64         mtime_ns;      /* as seen after the read */
  guint8         sha256[32];
  char           sha256_hex[65];
  /* private */
  SluiceBudget  *budget;
  guint64        charged;
  SluiceSlab    *slab;
} SluiceBuffer;

int           sluice_buffer_open_source       (int            dirfd,
                                               const char    *relpath,
                                               int            flags);
SluiceBuffer *sluice_buffer_read_file         (int            dirfd,
                                               const char    *relpath,
                                               SluiceBudget  *budget,
                                               GCancellable  *cancellable,
                                               GError       **error);
SluiceBuffer *sluice_buffer_read_file_charged (int           dirfd,
                                               const char    *relpath,
                                               SluiceBudget  *budget,
                                               guint64        budget_taken,
                                               gboolean       direct,
                                               GCancellable  *cancellable,
                                               GError       **error);
gboolean      sluice_buffer_direct_suits      (int            fd);
SluiceBuffer *sluice_buffer_read_range        (int            fd,
                                               const char    *relpath,
                                               guint64        offset,
                                               gsize          len,
                                               SluiceBudget  *budget,
                                               guint64        budget_taken,
                                               SluiceSha256  *whole,
                                               GCancellable  *cancellable,
                                               GError       **error);
SluiceBuffer *sluice_buffer_new_from_data     (const guint8  *data,
                                               gsize          len,
                                               GError       **error);
int           sluice_buffer_get_readonly_fd   (SluiceBuffer  *self);
void          sluice_buffer_free              (SluiceBuffer  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceBuffer, sluice_buffer_free)

G_END_DECLS
