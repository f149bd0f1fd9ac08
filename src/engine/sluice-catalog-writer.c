/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-catalog-writer"

#include "config.h"

#include "sluice-catalog-writer.h"
#include "sluice-error.h"
#include "sluice-queue.h"

#define QUEUE_CAPACITY 4096
#define BATCH_MAX      1024
/* how long completions may wait for company before they are committed on their own */
#define ASYNC_DELAY_US (150 * G_TIME_SPAN_MILLISECOND)
/* how often new paths go into the full-text index (sluice_catalog_index_pending ()): one FTS5
 * segment per interval instead of one per commit. A search finds the paths still waiting
 * anyway (search_pending). Every 200 ms, FTS5 took 64 CPU-ms on b (3,000 small files),
 * once a second 56 (3 alternating runs); more so as the index grows and merges. */
#define INDEX_INTERVAL_US (1000 * G_TIME_SPAN_MILLISECOND)

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
  gboolean         jumps;      /* an intent: may commit before the deferred completions */
} Operation;

struct _SluiceCatalogWriter {
  SluiceCatalog *catalog;      /* owned; used only on the writer thread once it runs */
  SluiceQueue   *queue;
  GThread       *thread;
  GMutex         mutex;
  GError        *fatal;
  guint64        commits;
  guint64        operations;
  gint64         next_index;   /* writer thread only */
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

/* Runs every operation of @batch in the open transaction, without savepoints; FALSE as soon
 * as one fails (its error is dropped: run_batch () runs them all again one by one). */
static gboolean
run_plain (SluiceCatalogWriter *self,
           GPtrArray           *batch)
{
  for (guint i = 0; i < batch->len; i++)
    {
      Operation *op = g_ptr_array_index (batch, i);
      g_autoptr(GError) op_error = NULL;

      if (!op->op (self->catalog, op->data, &op_error))
        return FALSE;
    }
  return TRUE;
}

/*
 * Runs on the writer thread only. A failing operation must undo only its own writes, so each
 * runs in a savepoint of its own; but operations almost never fail, and without a SAVEPOINT
 * and a RELEASE around each (two operations per small file) the catalog's statements took
 * 496 instead of 565 CPU-ms on 3,000 small files (issue 5, 3 alternating runs). So the batch
 * first runs without them; only when one fails is the transaction rolled back and the batch
 * run again with a savepoint per operation. An operation may therefore run twice: it
 * must do nothing but catalog writes and set its own results, which is what all of them do.
 */
static void
run_batch (SluiceCatalogWriter *self,
           GPtrArray           *batch)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) results = g_array_sized_new (FALSE, FALSE, sizeof (gboolean), batch->len);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (error_free0);
  gboolean committed, plain = FALSE;

  g_mutex_lock (&self->mutex);
  if (self->fatal != NULL)
    error = g_error_copy (self->fatal);
  g_mutex_unlock (&self->mutex);

  committed = error == NULL && sluice_catalog_begin (self->catalog, &error);
  if (committed)
    {
      plain = run_plain (self, batch);
      if (!plain)
        {
          sluice_catalog_rollback (self->catalog);
          committed = sluice_catalog_begin (self->catalog, &error);
        }
    }
  for (guint i = 0; i < batch->len && committed; i++)
    {
      Operation *op = g_ptr_array_index (batch, i);
      GError *op_error = NULL;
      gboolean ok = TRUE;

      if (plain)
        {
          g_array_append_val (results, ok);
          g_ptr_array_add (errors, NULL);
          continue;
        }
      ok = sluice_catalog_savepoint (self->catalog, &op_error);

      if (ok)
        ok = op->op (self->catalog, op->data, &op_error);
      sluice_catalog_savepoint_end (self->catalog, ok);
      g_array_append_val (results, ok);
      g_ptr_array_add (errors, op_error);
      if (!ok && op->waiter == NULL && op_error != NULL)
        g_warning ("catalog: %s", op_error->message);
    }
  if (committed && g_get_monotonic_time () >= self->next_index)
    {
      /* outside the operations' savepoints: a failure here fails the batch like a commit */
      committed = sluice_catalog_index_pending (self->catalog, &error);
      self->next_index = g_get_monotonic_time () + INDEX_INTERVAL_US;
    }
  if (committed)
    {
      committed = sluice_catalog_commit (self->catalog, &error);
      if (!committed)
        sluice_catalog_rollback (self->catalog);
      else
        {
          self->commits++;
          self->operations += batch->len;
        }
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

/* Whether someone waits for @op's commit (and for everything queued before it). */
static gboolean
barrier (const Operation *op)
{
  return !op->jumps && (op->waiter != NULL || op->urgent);
}

/*
 * Two kinds of commits. Intents (sluice_catalog_writer_run_intent ()) are each on a file's
 * critical path and touch a page or two: they are committed at once, together with the other
 * intents already waiting, but not with the completions. Completions (run ()) wait up to
 * ASYNC_DELAY_US for company and are committed together: the file, object and metadata rows of
 * 10–25 files share most of their index pages, where riding on each intent's commit (schema 4)
 * rewrote ~25 pages per commit for about two files (issue 5). Anything else that waits (run_sync
 * (), run_now (), a flush) commits everything queued before it, in order.
 */
/* A completion joins the batch that waits for company; the first one starts the clock. */
static void
defer (GPtrArray *later,
       gint64    *later_deadline,
       Operation *op)
{
  if (later->len == 0)
    *later_deadline = g_get_monotonic_time () + ASYNC_DELAY_US;
  g_ptr_array_add (later, op);
}

static gpointer
writer_thread (gpointer user_data)
{
  SluiceCatalogWriter *self = user_data;
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) operation_free);
  g_autoptr(GPtrArray) later = g_ptr_array_new_with_free_func ((GDestroyNotify) operation_free);
  gint64 later_deadline = 0;

  for (;;)
    {
      Operation *op;
      gboolean with_later = FALSE;

      if (later->len == 0)
        op = sluice_queue_pop (self->queue);
      else
        op = sluice_queue_pop_until (self->queue, later_deadline);
      if (op == NULL)
        {
          if (later->len == 0)
            break;   /* closed, and nothing left */
          /* the completions' time is up (or the queue closed) */
          run_batch (self, later);
          g_ptr_array_set_size (later, 0);
          continue;
        }

      if (!op->jumps && !barrier (op))
        {
          defer (later, &later_deadline, op);
          if (later->len >= BATCH_MAX)
            {
              run_batch (self, later);
              g_ptr_array_set_size (later, 0);
            }
          continue;
        }

      /* an intent or a barrier: take the intents and completions already waiting too (up to a
       * barrier: what comes after it stays after it) */
      g_ptr_array_add (batch, op);
      with_later = barrier (op);
      while (!with_later && batch->len + later->len < BATCH_MAX &&
             sluice_queue_length (self->queue) > 0)
        {
          Operation *next = sluice_queue_pop (self->queue);

          if (next == NULL)
            break;
          if (next->jumps || barrier (next))
            {
              g_ptr_array_add (batch, next);
              with_later |= barrier (next);
            }
          else
            defer (later, &later_deadline, next);
        }
      /* completions due anyway ride along rather than cost a commit of their own */
      if (with_later || (later->len > 0 && g_get_monotonic_time () >= later_deadline))
        {
          for (guint i = 0; i < batch->len; i++)
            g_ptr_array_add (later, g_ptr_array_index (batch, i));
          g_free (g_ptr_array_steal (batch, NULL));
          run_batch (self, later);
          g_ptr_array_set_size (later, 0);
        }
      else
        {
          run_batch (self, batch);
          g_ptr_array_set_size (batch, 0);
        }
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
  g_debug ("%" G_GUINT64_FORMAT " operations in %" G_GUINT64_FORMAT " commits",
           self->operations, self->commits);
  if (self->fatal == NULL)
    {
      g_autoptr(GError) error = NULL;

      /* the last interval's paths; should this fail, the next writer's open does it */
      if (!sluice_catalog_index_pending (self->catalog, &error))
        g_warning ("catalog: %s", error->message);
    }
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
  /* a completion waits for company: the writer need not wake for it while it waits for the
   * completions it has put aside (it wakes for them, or for the next intent) */
  if (!(urgent ? sluice_queue_push (self->queue, o) : sluice_queue_push_lazy (self->queue, o)))
    operation_free (o);
}

/* Called from any thread; blocks only while the queue is full. The operation may wait up to
 * ASYNC_DELAY_US for company before it is committed: for records whose loss costs nothing
 * but a check on the next run (a completion: the intent becomes an UPLOADING object that is
 * reconciled by a HEAD). */
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

/* Queues @op for @w to wait on; when the writer is closed, @w is finished with an error. */
static void
start (SluiceCatalogWriter *self,
       SluiceCatalogOp      op,
       gpointer             data,
       gboolean             jumps,
       Waiter              *w)
{
  Operation *o = g_new0 (Operation, 1);

  g_mutex_init (&w->mutex);
  g_cond_init (&w->cond);
  o->jumps = jumps;
  o->op = op;
  o->data = data;
  o->waiter = w;
  if (!sluice_queue_push (self->queue, o))
    {
      g_autoptr(GError) closed = g_error_new_literal (SLUICE_ERROR, SLUICE_ERROR_CANCELLED,
                                                      "catalog closed");

      g_free (o);
      waiter_finish (w, FALSE, closed);
    }
}

/* Waits for what start () queued, and clears @w. */
static gboolean
finish (Waiter  *w,
        GError **error)
{
  gboolean ok;

  g_mutex_lock (&w->mutex);
  while (!w->done)
    g_cond_wait (&w->cond, &w->mutex);
  g_mutex_unlock (&w->mutex);

  ok = w->ok;
  if (!ok)
    {
      if (w->error != NULL)
        g_propagate_error (error, g_steal_pointer (&w->error));
      else
        g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_CATALOG, "catalog write failed");
    }
  g_mutex_clear (&w->mutex);
  g_cond_clear (&w->cond);
  return ok;
}

static gboolean
run_sync (SluiceCatalogWriter *self,
          SluiceCatalogOp      op,
          gpointer             data,
          gboolean             jumps,
          GError             **error)
{
  Waiter w = { 0 };

  start (self, op, data, jumps, &w);
  return finish (&w, error);
}

/* Called from any thread but the writer's: returns once the operation, and every operation
 * queued before it, is committed. */
gboolean
sluice_catalog_writer_run_sync (SluiceCatalogWriter *self,
                                SluiceCatalogOp      op,
                                gpointer             data,
                                GError             **error)
{
  return run_sync (self, op, data, FALSE, error);
}

/* Like sluice_catalog_writer_run_sync (), for an upload intent: committed at once, possibly
 * before completions queued earlier (they wait for their own batch). */
gboolean
sluice_catalog_writer_run_intent (SluiceCatalogWriter *self,
                                  SluiceCatalogOp      op,
                                  gpointer             data,
                                  GError             **error)
{
  return run_sync (self, op, data, TRUE, error);
}

struct _SluiceCatalogTicket {
  Waiter waiter;
};

/**
 * sluice_catalog_writer_start_intent:
 *
 * sluice_catalog_writer_run_intent () in two halves: queues the intent and returns at once;
 * sluice_catalog_ticket_wait () then waits for its commit. The caller does other work
 * meanwhile (a worker probes the file while its intent commits), and must not touch what
 * @op reads until the wait returns.
 *
 * Returns: (transfer full): the ticket, for exactly one sluice_catalog_ticket_wait ().
 */
SluiceCatalogTicket *
sluice_catalog_writer_start_intent (SluiceCatalogWriter *self,
                                    SluiceCatalogOp      op,
                                    gpointer             data)
{
  SluiceCatalogTicket *ticket = g_new0 (SluiceCatalogTicket, 1);

  start (self, op, data, TRUE, &ticket->waiter);
  return ticket;
}

/* Waits for the ticket's operation to be committed (or to fail), and frees the ticket. */
gboolean
sluice_catalog_ticket_wait (SluiceCatalogTicket *ticket,
                            GError             **error)
{
  gboolean ok = finish (&ticket->waiter, error);

  g_free (ticket);
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
