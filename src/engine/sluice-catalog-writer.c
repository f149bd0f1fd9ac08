/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-catalog-writer"

#include "config.h"

#include "sluice-catalog-writer.h"
#include "sluice-error.h"
#include "sluice-queue.h"

#define QUEUE_CAPACITY 4096
#define BATCH_MAX      1024
/* how long completions may wait for company before they are committed on their own */
#define ASYNC_DELAY_US (50 * G_TIME_SPAN_MILLISECOND)

typedef struct {
  GMutex   mutex;
  GCond    cond;
  gboolean done;
  gboolean ok;
  GError  *error;
} Waiter;

typedef struct {
  SluiceCatalogOp  op;
  gpointer         data;
  GDestroyNotify   destroy;
  Waiter          *waiter;     /* NULL for fire-and-forget */
  gboolean         urgent;     /* commit without waiting for company */
} Operation;

struct _SluiceCatalogWriter {
  SluiceCatalog *catalog;      /* owned; used only on the writer thread once it runs */
  SluiceQueue   *queue;
  GThread       *thread;
  GMutex         mutex;
  GError        *fatal;
  guint64        commits;
};

static void
waiter_finish (Waiter       *w,
               gboolean      ok,
               const GError *error)
{
  g_mutex_lock (&w->mutex);
  w->ok = ok;
  if (!ok && error != NULL)
    w->error = g_error_copy (error);
  w->done = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->mutex);
}

static void
operation_free (Operation *op)
{
  if (op->destroy != NULL)
    op->destroy (op->data);
  g_free (op);
}

static void
error_free0 (gpointer error)
{
  if (error != NULL)
    g_error_free (error);
}

static void
set_fatal (SluiceCatalogWriter *self,
           const GError        *error)
{
  g_mutex_lock (&self->mutex);
  if (self->fatal == NULL)
    self->fatal = g_error_copy (error);
  g_mutex_unlock (&self->mutex);
  g_warning ("%s", error->message);
}

/* Runs on the writer thread only. */
static void
run_batch (SluiceCatalogWriter *self,
           GPtrArray           *batch)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) results = g_array_sized_new (FALSE, FALSE, sizeof (gboolean), batch->len);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (error_free0);
  gboolean committed;

  g_mutex_lock (&self->mutex);
  if (self->fatal != NULL)
    error = g_error_copy (self->fatal);
  g_mutex_unlock (&self->mutex);

  committed = error == NULL && sluice_catalog_begin (self->catalog, &error);
  for (guint i = 0; i < batch->len && committed; i++)
    {
      Operation *op = g_ptr_array_index (batch, i);
      GError *op_error = NULL;
      gboolean ok = sluice_catalog_savepoint (self->catalog, &op_error);

      if (ok)
        ok = op->op (self->catalog, op->data, &op_error);
      sluice_catalog_savepoint_end (self->catalog, ok);
      g_array_append_val (results, ok);
      g_ptr_array_add (errors, op_error);
      if (!ok && op->waiter == NULL && op_error != NULL)
        g_warning ("catalog: %s", op_error->message);
    }
  if (committed)
    {
      committed = sluice_catalog_commit (self->catalog, &error);
      if (!committed)
        sluice_catalog_rollback (self->catalog);
      else
        self->commits++;
    }
  if (!committed)
    set_fatal (self, error);

  for (guint i = 0; i < batch->len; i++)
    {
      Operation *op = g_ptr_array_index (batch, i);

      if (op->waiter == NULL)
        continue;
      if (!committed)
        waiter_finish (op->waiter, FALSE, error);
      else
        waiter_finish (op->waiter, g_array_index (results, gboolean, i),
                       g_ptr_array_index (errors, i));
    }
}

static gpointer
writer_thread (gpointer user_data)
{
  SluiceCatalogWriter *self = user_data;
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) operation_free);
  Operation *op;

  while ((op = sluice_queue_pop (self->queue)) != NULL)
    {
      gint64 deadline = g_get_monotonic_time () + ASYNC_DELAY_US;
      gboolean someone_waits = op->waiter != NULL || op->urgent;

      g_ptr_array_add (batch, op);
      /* Take whatever else is already waiting: one commit for all of it. While nobody waits
       * for this commit (completions only), keep collecting for a moment, until someone does:
       * completions then ride on the next upload intent's commit instead of costing one of
       * their own (each commit rewrites the touched B-tree pages into the WAL; ~150 µs). */
      while (batch->len < BATCH_MAX)
        {
          if (sluice_queue_length (self->queue) > 0)
            op = sluice_queue_pop (self->queue);
          else if (!someone_waits)
            op = sluice_queue_pop_until (self->queue, deadline);
          else
            break;
          if (op == NULL)
            break;
          someone_waits |= op->waiter != NULL || op->urgent;
          g_ptr_array_add (batch, op);
        }
      run_batch (self, batch);
      g_ptr_array_set_size (batch, 0);
    }
  return NULL;
}

SluiceCatalogWriter *
sluice_catalog_writer_new (SluiceCatalog *catalog)
{
  SluiceCatalogWriter *self = g_new0 (SluiceCatalogWriter, 1);

  g_mutex_init (&self->mutex);
  self->catalog = catalog;
  self->queue = sluice_queue_new (QUEUE_CAPACITY, (GDestroyNotify) operation_free);
  self->thread = g_thread_new ("sluice-catalog", writer_thread, self);
  return self;
}

/* Finishes every queued operation, stops the thread and closes the catalog. */
void
sluice_catalog_writer_free (SluiceCatalogWriter *self)
{
  if (self == NULL)
    return;
  sluice_queue_close (self->queue);
  g_thread_join (self->thread);
  sluice_queue_free (self->queue);
  sluice_catalog_close (self->catalog);
  g_clear_error (&self->fatal);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

SluiceCatalog *
sluice_catalog_writer_get_catalog (SluiceCatalogWriter *self)
{
  return self->catalog;
}

static void
run_async (SluiceCatalogWriter *self,
           SluiceCatalogOp      op,
           gpointer             data,
           GDestroyNotify       destroy,
           gboolean             urgent)
{
  Operation *o = g_new0 (Operation, 1);

  o->urgent = urgent;
  o->op = op;
  o->data = data;
  o->destroy = destroy;
  if (!sluice_queue_push (self->queue, o))
    operation_free (o);
}

/* Called from any thread; blocks only while the queue is full. The operation may wait up to
 * ASYNC_DELAY_US for company before it is committed: for records whose loss costs nothing
 * but a check on the next run (a completion: the object stays "uploading" and is reconciled
 * by a HEAD). */
void
sluice_catalog_writer_run (SluiceCatalogWriter *self,
                           SluiceCatalogOp      op,
                           gpointer             data,
                           GDestroyNotify       destroy)
{
  run_async (self, op, data, destroy, FALSE);
}

/* Like sluice_catalog_writer_run(), committed without waiting for company: for records whose
 * loss would make the next run send bytes again (a finished part of a multipart upload). */
void
sluice_catalog_writer_run_now (SluiceCatalogWriter *self,
                               SluiceCatalogOp      op,
                               gpointer             data,
                               GDestroyNotify       destroy)
{
  run_async (self, op, data, destroy, TRUE);
}

/* Called from any thread but the writer's: returns once the operation is committed. */
gboolean
sluice_catalog_writer_run_sync (SluiceCatalogWriter *self,
                                SluiceCatalogOp      op,
                                gpointer             data,
                                GError             **error)
{
  Waiter w = { 0 };
  Operation *o = g_new0 (Operation, 1);
  gboolean ok;

  g_mutex_init (&w.mutex);
  g_cond_init (&w.cond);
  o->op = op;
  o->data = data;
  o->waiter = &w;
  if (!sluice_queue_push (self->queue, o))
    {
      g_free (o);
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED, "catalog closed");
      ok = FALSE;
      goto out;
    }

  g_mutex_lock (&w.mutex);
  while (!w.done)
    g_cond_wait (&w.cond, &w.mutex);
  g_mutex_unlock (&w.mutex);

  ok = w.ok;
  if (!ok)
    {
      if (w.error != NULL)
        g_propagate_error (error, w.error);
      else
        g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG, "catalog write failed");
    }

out:
  g_mutex_clear (&w.mutex);
  g_cond_clear (&w.cond);
  return ok;
}

static gboolean
noop (SluiceCatalog *catalog,
      gpointer       data,
      GError       **error)
{
  return TRUE;
}

/* Waits until everything queued before it is committed. */
gboolean
sluice_catalog_writer_flush (SluiceCatalogWriter *self,
                             GError             **error)
{
  if (!sluice_catalog_writer_run_sync (self, noop, NULL, error))
    return FALSE;
  return sluice_catalog_writer_get_error (self, error);
}

gboolean
sluice_catalog_writer_get_error (SluiceCatalogWriter *self,
                                 GError             **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  if (self->fatal != NULL)
    {
      g_propagate_error (error, g_error_copy (self->fatal));
      return FALSE;
    }
  return TRUE;
}

guint64
sluice_catalog_writer_commits (SluiceCatalogWriter *self)
{
  return self->commits;
}
