/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A bounded blocking FIFO between pipeline stages (GAsyncQueue and GThreadPool are unbounded).
 * push() blocks while the queue is full; pop() blocks while it is empty. close() wakes everyone:
 * push() then refuses (returns FALSE, item not taken), pop() drains what is left, then
 * returns NULL. Called from any thread.
 */
typedef struct _SluiceQueue SluiceQueue;

SluiceQueue *sluice_queue_new      (guint           capacity,
                                    GDestroyNotify  free_func);
void         sluice_queue_free     (SluiceQueue    *self);
gboolean     sluice_queue_push     (SluiceQueue    *self,
                                    gpointer        item);
gboolean     sluice_queue_push_lazy (SluiceQueue   *self,
                                     gpointer       item);
gpointer     sluice_queue_pop      (SluiceQueue    *self);
gpointer     sluice_queue_pop_until (SluiceQueue   *self,
                                     gint64         deadline);
void         sluice_queue_close    (SluiceQueue    *self);
void         sluice_queue_abort    (SluiceQueue    *self);
guint        sluice_queue_length   (SluiceQueue    *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceQueue, sluice_queue_free)

G_END_DECLS
