/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Two brakes on the upload side, shared by every worker.
 *
 * SluiceConcurrency: how many requests may be in flight. It starts at the number of workers;
 * a throttled answer (429, 503 SlowDown) halves it (at most once a second), and every run of
 * as many successes as the current limit raises it by one again (AIMD, as TCP does), so a
 * server that asks to slow down gets fewer requests instead of more retries.
 *
 * SluiceRateLimit: bytes per second of request bodies across all workers (--bwlimit), a token
 * bucket that goes into debt and makes the next sender wait it off, so the average rate is
 * exact whatever the chunk sizes.
 */

typedef struct _SluiceConcurrency SluiceConcurrency;

SluiceConcurrency *sluice_concurrency_new        (guint               max);
void               sluice_concurrency_free       (SluiceConcurrency  *self);
gboolean           sluice_concurrency_acquire    (SluiceConcurrency  *self,
                                                  GCancellable       *cancellable);
void               sluice_concurrency_release    (SluiceConcurrency  *self,
                                                  gboolean            throttled);
guint              sluice_concurrency_limit      (SluiceConcurrency  *self);
guint              sluice_concurrency_min_limit  (SluiceConcurrency  *self);
guint              sluice_concurrency_throttled  (SluiceConcurrency  *self);

typedef struct _SluiceRateLimit SluiceRateLimit;

SluiceRateLimit   *sluice_rate_limit_new         (guint64             bytes_per_second);
void               sluice_rate_limit_free        (SluiceRateLimit    *self);
void               sluice_rate_limit_consume     (SluiceRateLimit    *self,
                                                  gsize               bytes);
gboolean           sluice_rate_parse             (const char         *text,
                                                  guint64            *out_bytes_per_second);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceConcurrency, sluice_concurrency_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceRateLimit, sluice_rate_limit_free)

G_END_DECLS
