/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-queue"

#include "config.h"

#include "sluice-queue.h"

struct _SluiceQueue {
  GMutex          mutex;
  GCond           not_full;
  GCond           not_empty;
  GQueue          items;
  guint           capacity;
  /* threads in g_cond_wait*: GLib's futex GCond makes a system call per signal, waiter or
   * not, so signals go only where someone waits (issue 5) */
  guint           pushers_waiting;
  guint           poppers_waiting;
  guint           poppers_waiting_forever;   /* of those, in sluice_queue_pop () */
  gboolean        closed;
  GDestroyNotify  free_func;
};

SluiceQueue *
sluice_queue_new (guint          capacity,
                  GDestroyNotify free_func)
{
  SluiceQueue *self;

  g_return_val_if_fail (capacity > 0, NULL);

  self = g_new0 (SluiceQueue, 1);
  g_mutex_init (&self->mutex);
  g_cond_init (&self->not_full);
  g_cond_init (&self->not_empty);
  g_queue_init (&self->items);
  self->capacity = capacity;
  self->free_func = free_func;
  return self;
}

void
sluice_queue_free (SluiceQueue *self)
{
  if (self == NULL)
    return;
  g_queue_clear_full (&self->items, self->free_func);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->not_full);
  g_cond_clear (&self->not_empty);
  g_free (self);
}

static gboolean
push (SluiceQueue *self,
      gpointer     item,
      gboolean     lazy)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  while (!self->closed && self->items.length >= self->capacity)
    {
      self->pushers_waiting++;
      g_cond_wait (&self->not_full, &self->mutex);
      self->pushers_waiting--;
    }
  if (self->closed)
    return FALSE;
  g_queue_push_tail (&self->items, item);
  if (lazy ? self->poppers_waiting_forever > 0 : self->poppers_waiting > 0)
    g_cond_signal (&self->not_empty);
  return TRUE;
}

gboolean
sluice_queue_push (SluiceQueue *self,
                   gpointer     item)
{
  return push (self, item, FALSE);
}

/**
 * sluice_queue_push_lazy:
 *
 * Like sluice_queue_push(), but wakes no consumer that waits in sluice_queue_pop_until(): the
 * item waits for that deadline, or for the next item pushed otherwise. For items that wait
 * for company anyway (the catalog writer's completions): a consumer woken for each of them
 * would only put it aside and sleep again.
 */
gboolean
sluice_queue_push_lazy (SluiceQueue *self,
                        gpointer     item)
{
  return push (self, item, TRUE);
}

/* Called with the mutex held, after an item was taken. */
static void
taken (SluiceQueue *self)
{
  if (self->pushers_waiting > 0)
    g_cond_signal (&self->not_full);
}

gpointer
sluice_queue_pop (SluiceQueue *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  gpointer item;

  while (!self->closed && self->items.length == 0)
    {
      self->poppers_waiting++;
      self->poppers_waiting_forever++;
      g_cond_wait (&self->not_empty, &self->mutex);
      self->poppers_waiting_forever--;
      self->poppers_waiting--;
    }
  item = g_queue_pop_head (&self->items);
  if (item != NULL)
    taken (self);
  return item;
}

/**
 * sluice_queue_pop_until:
 * @deadline: g_get_monotonic_time() value after which to give up
 *
 * Like sluice_queue_pop(), but returns NULL at @deadline when nothing came (or at once when
 * the queue is closed and empty).
 */
gpointer
sluice_queue_pop_until (SluiceQueue *self,
                        gint64       deadline)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  gpointer item;

  while (!self->closed && self->items.length == 0)
    {
      gboolean signalled;

      self->poppers_waiting++;
      signalled = g_cond_wait_until (&self->not_empty, &self->mutex, deadline);
      self->poppers_waiting--;
      if (!signalled)
        break;
    }
  item = g_queue_pop_head (&self->items);
  if (item != NULL)
    taken (self);
  return item;
}

/* No more items will come: consumers drain and then see NULL. */
void
sluice_queue_close (SluiceQueue *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  self->closed = TRUE;
  g_cond_broadcast (&self->not_full);
  g_cond_broadcast (&self->not_empty);
}

/* Cancel: close and drop what is queued. */
void
sluice_queue_abort (SluiceQueue *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  self->closed = TRUE;
  g_queue_clear_full (&self->items, self->free_func);
  g_queue_init (&self->items);
  g_cond_broadcast (&self->not_full);
  g_cond_broadcast (&self->not_empty);
}

guint
sluice_queue_length (SluiceQueue *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  return self->items.length;
}
