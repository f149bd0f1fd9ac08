/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-hash.h"

G_BEGIN_DECLS

/*
 * Read once. A source file is read exactly once, into a sealed memfd drawn from a budget of
 * bytes in flight; that one read feeds the SHA-256 (libcrypto, SHA-NI where the CPU has it),
 * the probe helper (which receives a read-only descriptor of the memfd) and the upload body.
 */

typedef struct _SluiceBudget SluiceBudget;

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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceBudget, sluice_budget_free)

/* One file larger than this is never put in memory whole; it waits for multipart support. */
#define SLUICE_BUFFER_MAX_SINGLE  (G_GUINT64_CONSTANT (1) << 30)

typedef struct {
  int            fd;            /* sealed memfd holding the bytes */
  const guint8  *data;          /* read-only mapping, len bytes ("" when empty) */
  gsize          len;
  gint64         mtime_ns;      /* as seen after the read */
  guint8         sha256[32];
  char           sha256_hex[65];
  /* private */
  SluiceBudget  *budget;
  guint64        charged;
} SluiceBuffer;

SluiceBuffer *sluice_buffer_read_file         (int            dirfd,
                                               const char    *relpath,
                                               SluiceBudget  *budget,
                                               GCancellable  *cancellable,
                                               GError       **error);
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
int           sluice_buffer_open_readonly     (SluiceBuffer  *self,
                                               GError       **error);
void          sluice_buffer_free              (SluiceBuffer  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceBuffer, sluice_buffer_free)

G_END_DECLS
