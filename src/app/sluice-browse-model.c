/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "sluice-browse-model-private.h"
#include "sluice-probe-pool.h"

/*
 * Paging design (see the header): pages of SLUICE_BROWSE_PAGE_SIZE rows, each a GPtrArray of
 * row objects made as placeholders when get_item () first touches the page. A page is fetched
 * by at most MAX_IN_FLIGHT workers at a time, newest request first (a scrollbar dragged across
 * a million rows asks for hundreds of pages; only the last ones matter), and requests far from
 * the newest are dropped: their rows are not on screen any more, and get_item () asks again if
 * they come back. While the scrollbar is dragged nothing starts until the view rests (see
 * pump ()). The loaded pages on screen are read again once a second while live. A page fetch is a keyset page after a cursor the model already has (the row
 * before the page, when loaded) or, for random access, an anchors page.
 *
 * Every query run is a generation: results of an older one are dropped on arrival.
 */

#define MAX_IN_FLIGHT      2
#define DROP_DISTANCE      8      /* pages from the newest request */
#define JUMP_SETTLE_US     25000  /* in a drag, how long the view must stay before fetching */
#define DRAG_GAP_US        100000 /* jumps closer than this are a drag */
#define MAX_THUMBNAILS     256    /* decoded textures kept (~160×120, ~75 KB each) */
#define THUMBS_PER_TASK    16
#define MAX_THUMB_QUEUE    256
#define LIST_THUMB_EDGE    64     /* decoded for a list cell: 32 × 24, twice that on HiDPI */
#define DECODES_IN_FLIGHT  1      /* one helper decodes for the list */
#define DECODE_MARGIN      8      /* rows beyond the visible ones decoded ahead */
#define MAX_IDLE_CATALOGS  4
#define LIVE_INTERVAL_MS   1000
#define MAX_REFRESH_PAGES  4      /* pages read again per live tick: what is on screen */

/* ---- shared with the workers: the catalog path and a pool of read-only connections ------- */

typedef struct {
  char        *path;
  GAsyncQueue *idle;      /* SluiceCatalog *, read-only */
} Shared;

static void
shared_clear (gpointer data)
{
  Shared *shared = data;
  SluiceCatalog *catalog;

  while ((catalog = g_async_queue_try_pop (shared->idle)) != NULL)
    sluice_catalog_close (catalog);
  g_async_queue_unref (shared->idle);
  g_free (shared->path);
}

static Shared *
shared_ref (Shared *shared)
{
  return g_atomic_rc_box_acquire (shared);
}

static void
shared_unref (Shared *shared)
{
  g_atomic_rc_box_release_full (shared, shared_clear);
}

/* Any thread. A connection of the pool, or a new one. */
static SluiceCatalog *
shared_acquire (Shared  *shared,
                GError **error)
{
  SluiceCatalog *catalog = g_async_queue_try_pop (shared->idle);

  if (catalog != NULL)
    return catalog;
  return sluice_catalog_open (shared->path, TRUE, error);
}

/* Any thread. */
static void
shared_release (Shared        *shared,
                SluiceCatalog *catalog)
{
  if (catalog == NULL)
    return;
  if (g_async_queue_length (shared->idle) >= MAX_IDLE_CATALOGS)
    sluice_catalog_close (catalog);
  else
    g_async_queue_push (shared->idle, catalog);
}

/* The anchors of one query, shared by the page workers (read-only once built). */
typedef struct {
  SluiceQueryAnchors *anchors;
  guint64             n_rows;
} Anchors;

static void
anchors_clear (gpointer data)
{
  Anchors *a = data;
  g_clear_pointer (&a->anchors, sluice_query_anchors_free);
}

static void
anchors_unref (Anchors *a)
{
  g_atomic_rc_box_release_full (a, anchors_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Anchors, anchors_unref)

/* ---- the model -------------------------------------------------------------------------- */

typedef struct {
  guint      index;
  guint      start;
  GPtrArray *rows;         /* SluiceBrowseRow */
  guint      n_loaded;     /* rows filled, from the start of the page */
  gboolean   done;         /* nothing more to fetch (complete, or the query ended early) */
  gboolean   queued;
  gboolean   in_flight;
  GList      lru_link;
  GList      pending_link;
} Page;

struct _SluiceBrowseModel
{
  GObject        parent_instance;

  Shared        *shared;
  SluiceQuery   *query;
  guint          generation;
  GCancellable  *cancellable;      /* this generation's work */
  char          *error;

  guint          n_items;
  gboolean       loading;
  gint64         base_max_file_id; /* the rows describe files up to this id */
  Anchors       *anchors;          /* NULL until built */
  gboolean       anchors_loading;

  GHashTable    *pages;            /* index → Page */
  GQueue         lru;              /* head: most recently used */
  GQueue         pending;          /* head: newest request */
  guint          n_in_flight;
  guint          newest_page;
  gint64         jumped_at;        /* monotonic µs of the last request far from the one before */
  gboolean       dragging;         /* that jump came soon after another */
  guint          settle_id;

  /* live */
  guint          live_id;
  gboolean       checking_new;
  guint64        n_new;
  gint64         new_max_file_id;
  guint          visible_first;    /* the rows on screen, as the view last said */
  guint          visible_n;
  gboolean       refreshing;

  /* thumbnails */
  GHashTable    *thumbs;           /* gint64 * file id → GdkPaintable or the NO_THUMB marker */
  GQueue         thumb_lru;        /* gint64 * (the hash table's keys), head: newest */
  GHashTable    *thumb_waiting;    /* file id → GPtrArray of SluiceBrowseRow */
  GQueue         thumb_queue;      /* gint64 file ids (as pointers to keys of waiting) */
  gboolean       thumb_in_flight;
  /* thumbnails decoded from the source file, for rows without an embedded one */
  GQueue         decode_queue;     /* Decode *, oldest first */
  guint          decodes_in_flight;
  guint          thumb_generation; /* bumped when the requests are cleared (a new query) */
  GCancellable  *decode_cancellable;
};

typedef struct {
  gint64  file_id;
  char   *path;
  char   *sha256;
} Decode;

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SluiceBrowseModel, sluice_browse_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_COUNT,
  PROP_LOADING,
  PROP_ERROR,
  PROP_N_NEW,
  PROP_ANCHORS_READY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gpointer NO_THUMB = &NO_THUMB;

static void start_count (SluiceBrowseModel *self);
static void pump (SluiceBrowseModel *self);
static void pump_thumbnails (SluiceBrowseModel *self);
static void pump_decodes (SluiceBrowseModel *self);

static void
page_free (gpointer data)
{
  Page *page = data;

  g_ptr_array_unref (page->rows);
  g_free (page);
}

static void
set_error (SluiceBrowseModel *self,
           const char        *message)
{
  if (g_strcmp0 (self->error, message) == 0)
    return;
  g_free (self->error);
  self->error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
set_loading (SluiceBrowseModel *self,
             gboolean           loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
set_n_new (SluiceBrowseModel *self,
           guint64            n_new)
{
  if (self->n_new == n_new)
    return;
  self->n_new = n_new;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_NEW]);
}

static void
clear_pages (SluiceBrowseModel *self)
{
  /* the links are inside the pages: forget them, never g_queue_clear () them */
  g_queue_init (&self->lru);
  g_queue_init (&self->pending);
  g_hash_table_remove_all (self->pages);
}

static void
decode_free (Decode *d)
{
  g_free (d->path);
  g_free (d->sha256);
  g_free (d);
}

static void
clear_thumbnail_requests (SluiceBrowseModel *self)
{
  g_queue_clear (&self->thumb_queue);
  g_queue_clear_full (&self->decode_queue, (GDestroyNotify) decode_free);
  /* decodes under way finish in the helper; their answers are dropped */
  self->thumb_generation++;
  g_cancellable_cancel (self->decode_cancellable);
  g_clear_object (&self->decode_cancellable);
  self->decode_cancellable = g_cancellable_new ();
  g_hash_table_remove_all (self->thumb_waiting);
}

/* ---- GListModel ------------------------------------------------------------------------- */

static GType
get_item_type (GListModel *model)
{
  return SLUICE_TYPE_BROWSE_ROW;
}

static guint
get_n_items (GListModel *model)
{
  return SLUICE_BROWSE_MODEL (model)->n_items;
}

static void
evict (SluiceBrowseModel *self)
{
  GList *l = self->lru.tail;

  while (g_hash_table_size (self->pages) > SLUICE_BROWSE_MAX_PAGES && l != NULL)
    {
      Page *page = l->data;
      GList *prev = l->prev;

      /* a page being fetched stays: its result fills its rows */
      if (!page->in_flight)
        {
          g_queue_unlink (&self->lru, &page->lru_link);
          if (page->queued)
            g_queue_unlink (&self->pending, &page->pending_link);
          g_hash_table_remove (self->pages, GUINT_TO_POINTER (page->index));
        }
      l = prev;
    }
}

static Page *
ensure_page (SluiceBrowseModel *self,
             guint              index)
{
  Page *page = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (index));
  guint len;

  if (page != NULL)
    {
      g_queue_unlink (&self->lru, &page->lru_link);
      g_queue_push_head_link (&self->lru, &page->lru_link);
      return page;
    }

  page = g_new0 (Page, 1);
  page->index = index;
  page->start = index * SLUICE_BROWSE_PAGE_SIZE;
  len = MIN (SLUICE_BROWSE_PAGE_SIZE, self->n_items - page->start);
  page->rows = g_ptr_array_new_full (len, g_object_unref);
  for (guint i = 0; i < len; i++)
    g_ptr_array_add (page->rows, sluice_browse_row_new (page->start + i));
  page->lru_link.data = page;
  page->pending_link.data = page;
  g_hash_table_insert (self->pages, GUINT_TO_POINTER (index), page);
  g_queue_push_head_link (&self->lru, &page->lru_link);
  evict (self);
  return page;
}

static void
request_page (SluiceBrowseModel *self,
              Page              *page)
{
  guint distance = page->index > self->newest_page ? page->index - self->newest_page
                                                    : self->newest_page - page->index;

  if (distance > DROP_DISTANCE)
    {
      gint64 now = g_get_monotonic_time ();

      self->dragging = self->jumped_at != 0 && now - self->jumped_at < DRAG_GAP_US;
      self->jumped_at = now;
    }
  self->newest_page = page->index;
  if (page->done || page->in_flight)
    return;
  if (page->queued)
    g_queue_unlink (&self->pending, &page->pending_link);
  page->queued = TRUE;
  g_queue_push_head_link (&self->pending, &page->pending_link);
  pump (self);
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  SluiceBrowseModel *self = SLUICE_BROWSE_MODEL (model);
  Page *page;

  if (position >= self->n_items)
    return NULL;
  page = ensure_page (self, position / SLUICE_BROWSE_PAGE_SIZE);
  if (page->n_loaded < page->rows->len)
    request_page (self, page);
  return g_object_ref (g_ptr_array_index (page->rows, position - page->start));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

/* ---- page fetches ------------------------------------------------------------------------ */

typedef struct {
  Shared            *shared;
  SluiceQuery       *query;
  Anchors           *anchors;     /* with no cursor */
  SluiceQueryCursor *after;       /* NULL and no anchors: from the first row */
  guint64            position;
  guint              limit;
  guint              generation;
  guint              index;
} PageFetch;

static void
page_fetch_free (PageFetch *f)
{
  shared_unref (f->shared);
  sluice_query_free (f->query);
  g_clear_pointer (&f->anchors, anchors_unref);
  g_clear_pointer (&f->after, sluice_query_cursor_free);
  g_free (f);
}

/* Worker thread. */
static void
page_fetch_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  PageFetch *f = task_data;
  g_autoptr(GError) error = NULL;
  SluiceCatalog *catalog;
  GPtrArray *rows;

  if (g_task_return_error_if_cancelled (task))
    return;
  catalog = shared_acquire (f->shared, &error);
  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (f->anchors != NULL)
    rows = sluice_query_anchors_page (f->anchors->anchors, catalog, f->position, f->limit, &error);
  else
    rows = sluice_catalog_query_page (catalog, f->query, f->after, f->limit, &error);
  shared_release (f->shared, catalog);
  if (rows == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, rows, (GDestroyNotify) g_ptr_array_unref);
}

/* Main thread. */
static void
page_fetched_cb (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(SluiceBrowseModel) self = user_data;
  PageFetch *f = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = g_task_propagate_pointer (G_TASK (result), &error);
  Page *page;
  guint n;

  self->n_in_flight--;
  if (f->generation != self->generation)
    {
      pump (self);
      return;
    }
  page = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (f->index));
  if (page == NULL || !page->in_flight)
    {
      pump (self);
      return;
    }
  page->in_flight = FALSE;
  if (rows == NULL)
    {
      g_warning ("Could not read rows %u–%u of the catalog: %s", page->start,
                 page->start + page->rows->len, error->message);
      set_error (self, error->message);
      page->done = TRUE;
      pump (self);
      return;
    }
  n = MIN (rows->len, page->rows->len - page->n_loaded);
  for (guint i = 0; i < n; i++)
    {
      SluiceBrowseRow *row = g_ptr_array_index (page->rows, page->n_loaded + i);

      /* the row array frees nothing it gave away: steal each row */
      sluice_browse_row_set_data (row, g_steal_pointer (&rows->pdata[i]));
    }
  page->n_loaded += n;
  /* fewer rows than asked: the catalog changed under the count; do not ask again and again */
  if (page->n_loaded >= page->rows->len || rows->len < f->limit)
    page->done = TRUE;
  pump (self);
}

static const SluiceQueryCursor *
cursor_before (SluiceBrowseModel *self,
               Page              *page)
{
  Page *prev;

  if (page->n_loaded > 0)
    {
      SluiceBrowseRow *row = g_ptr_array_index (page->rows, page->n_loaded - 1);
      return &sluice_browse_row_get_data (row)->cursor;
    }
  if (page->index == 0)
    return NULL;
  prev = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (page->index - 1));
  if (prev != NULL && prev->n_loaded == prev->rows->len && prev->rows->len > 0)
    {
      SluiceBrowseRow *row = g_ptr_array_index (prev->rows, prev->rows->len - 1);
      return &sluice_browse_row_get_data (row)->cursor;
    }
  return NULL;
}

/* Starts the fetch of @page if the model knows where it begins; FALSE to wait for anchors. */
static gboolean
start_fetch (SluiceBrowseModel *self,
             Page              *page)
{
  guint64 position = page->start + page->n_loaded;
  const SluiceQueryCursor *after = cursor_before (self, page);
  g_autoptr(GTask) task = NULL;
  PageFetch *f;

  if (after == NULL && position > 0 &&
      (self->anchors == NULL || position >= self->anchors->n_rows))
    return FALSE;

  f = g_new0 (PageFetch, 1);
  f->shared = shared_ref (self->shared);
  f->query = sluice_query_copy (self->query);
  f->position = position;
  f->limit = page->rows->len - page->n_loaded;
  f->generation = self->generation;
  f->index = page->index;
  if (after != NULL)
    f->after = sluice_query_cursor_copy (after);
  else if (position > 0)
    f->anchors = g_atomic_rc_box_acquire (self->anchors);

  page->in_flight = TRUE;
  self->n_in_flight++;
  task = g_task_new (NULL, self->cancellable, page_fetched_cb, g_object_ref (self));
  g_task_set_source_tag (task, start_fetch);
  g_task_set_task_data (task, f, (GDestroyNotify) page_fetch_free);
  g_task_run_in_thread (task, page_fetch_thread);
  return TRUE;
}

static gboolean
settle_cb (gpointer user_data)
{
  SluiceBrowseModel *self = user_data;

  self->settle_id = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

/* Main thread: starts the newest requests while there is room.
 *
 * A request far from the one before is a jump, and a dragged scrollbar makes one every frame
 * (3,300 rows a frame in bench/browse-scroll.sh, which made ~750 page queries in 300 frames,
 * nearly all for rows gone from the screen before they arrived). So after a jump that follows
 * another within DRAG_GAP_US nothing starts until the view has stayed JUMP_SETTLE_US (a frame
 * and a half): if it moved on, the requests it left behind are dropped below as far from the
 * newest, and only where the drag rests is read. A single jump (a click in the trough, Home,
 * End) and scrolling by wheel or keys are not delayed. */
static void
pump (SluiceBrowseModel *self)
{
  GQueue waiting = G_QUEUE_INIT;
  gint64 settled;

  /* while a count runs, the rows about to be replaced are not worth fetching */
  if (self->loading)
    return;
  settled = g_get_monotonic_time () - self->jumped_at;
  if (self->dragging && settled < JUMP_SETTLE_US)
    {
      if (self->settle_id == 0 && self->pending.head != NULL)
        self->settle_id = g_timeout_add (MAX (1, (JUMP_SETTLE_US - settled + 999) / 1000),
                                         settle_cb, self);
      return;
    }
  while (self->n_in_flight < MAX_IN_FLIGHT && self->pending.head != NULL)
    {
      GList *link = g_queue_pop_head_link (&self->pending);
      Page *page = link->data;
      guint distance = page->index > self->newest_page ? page->index - self->newest_page
                                                        : self->newest_page - page->index;

      page->queued = FALSE;
      if (distance > DROP_DISTANCE || page->done || page->n_loaded >= page->rows->len)
        continue;
      if (!start_fetch (self, page))
        {
          page->queued = TRUE;
          g_queue_push_tail_link (&waiting, link);
        }
    }
  /* those waiting for the anchors go back, behind newer requests */
  while (waiting.head != NULL)
    g_queue_push_tail_link (&self->pending, g_queue_pop_head_link (&waiting));
}

/* ---- count and anchors --------------------------------------------------------------------- */

typedef struct {
  Shared      *shared;
  SluiceQuery *query;
  guint        generation;
  guint64      count;
  gint64       max_file_id;
  gboolean     merge;         /* show_new in ingest order: append, keep the pages */
} CountJob;

static void
count_job_free (CountJob *j)
{
  shared_unref (j->shared);
  sluice_query_free (j->query);
  g_free (j);
}

/* Worker thread. The count and the highest file id it covers must agree: a row ingested
 * between the two reads would be counted and announced as new. Read the id, count, read it
 * again, and retry while an ingest moved it. */
static void
count_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CountJob *j = task_data;
  g_autoptr(GError) error = NULL;
  SluiceCatalog *catalog = shared_acquire (j->shared, &error);
  gboolean ok = FALSE;

  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  for (guint attempt = 0; attempt < 5 && !ok; attempt++)
    {
      gint64 before, after;

      before = sluice_catalog_max_file_id (catalog, &error);
      if (error != NULL)
        break;
      if (!sluice_catalog_query_count (catalog, j->query, &j->count, &error))
        break;
      after = sluice_catalog_max_file_id (catalog, &error);
      if (error != NULL)
        break;
      j->max_file_id = before;
      ok = before == after;
    }
  /* still moving after five tries: a few rows may show twice ("new"); better than waiting */
  if (error == NULL && !ok)
    ok = TRUE;
  shared_release (j->shared, catalog);
  if (!ok)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

typedef struct {
  Shared      *shared;
  SluiceQuery *query;
  guint        generation;
} AnchorsJob;

static void
anchors_job_free (AnchorsJob *j)
{
  shared_unref (j->shared);
  sluice_query_free (j->query);
  g_free (j);
}

/* Worker thread: one streaming pass over the query's order. */
static void
anchors_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  AnchorsJob *j = task_data;
  g_autoptr(GError) error = NULL;
  SluiceCatalog *catalog = shared_acquire (j->shared, &error);
  SluiceQueryAnchors *anchors;
  Anchors *a;

  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  anchors = sluice_catalog_query_anchors (catalog, j->query, SLUICE_QUERY_ANCHOR_STRIDE,
                                          cancellable, &error);
  shared_release (j->shared, catalog);
  if (anchors == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  a = g_atomic_rc_box_new0 (Anchors);
  a->anchors = anchors;
  a->n_rows = sluice_query_anchors_get_n_rows (anchors);
  g_task_return_pointer (task, a, (GDestroyNotify) anchors_unref);
}

static void
anchors_done_cb (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(SluiceBrowseModel) self = user_data;
  AnchorsJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(Anchors) anchors = g_task_propagate_pointer (G_TASK (result), &error);

  if (j->generation != self->generation)
    return;
  self->anchors_loading = FALSE;
  if (anchors == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_error (self, error->message);
      return;
    }
  g_clear_pointer (&self->anchors, anchors_unref);
  self->anchors = g_steal_pointer (&anchors);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANCHORS_READY]);
  pump (self);
}

static void
start_anchors (SluiceBrowseModel *self)
{
  g_autoptr(GTask) task = NULL;
  AnchorsJob *j = g_new0 (AnchorsJob, 1);

  j->shared = shared_ref (self->shared);
  j->query = sluice_query_copy (self->query);
  j->generation = self->generation;
  self->anchors_loading = TRUE;
  task = g_task_new (NULL, self->cancellable, anchors_done_cb, g_object_ref (self));
  g_task_set_source_tag (task, start_anchors);
  g_task_set_task_data (task, j, (GDestroyNotify) anchors_job_free);
  g_task_run_in_thread (task, anchors_thread);
}

static void
count_done_cb (GObject      *source_object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SluiceBrowseModel) self = user_data;
  CountJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  guint old_n = self->n_items;
  guint new_n;

  if (j->generation != self->generation)
    return;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_error (self, error->message);
      set_loading (self, FALSE);
      return;
    }
  set_error (self, NULL);
  new_n = (guint) MIN (j->count, (guint64) G_MAXUINT);
  self->base_max_file_id = j->max_file_id;
  self->new_max_file_id = j->max_file_id;
  set_n_new (self, 0);

  if (j->merge)
    {
      /* ingest order: the new rows all come after the old ones; rows already shown keep
       * their objects and positions, the last page grows and fetches the rest after its
       * last loaded row. */
      if (new_n > old_n)
        {
          Page *last = g_hash_table_lookup (self->pages,
                                            GUINT_TO_POINTER (old_n / SLUICE_BROWSE_PAGE_SIZE));

          self->n_items = new_n;
          if (last != NULL)
            {
              guint len = MIN (SLUICE_BROWSE_PAGE_SIZE, new_n - last->start);

              for (guint i = last->rows->len; i < len; i++)
                g_ptr_array_add (last->rows, sluice_browse_row_new (last->start + i));
              last->done = FALSE;
            }
          g_list_model_items_changed (G_LIST_MODEL (self), old_n, 0, new_n - old_n);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COUNT]);
        }
      /* the old anchors still place the old rows; new ones place the new rows too */
      start_anchors (self);
      set_loading (self, FALSE);
      pump (self);
      return;
    }

  clear_pages (self);
  g_clear_pointer (&self->anchors, anchors_unref);
  self->n_items = new_n;
  /* "loading" ends before items-changed: the list view asks for the rows at once */
  set_loading (self, FALSE);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, new_n);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COUNT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANCHORS_READY]);
  if (new_n > SLUICE_BROWSE_PAGE_SIZE)
    start_anchors (self);
}

static void
run_count (SluiceBrowseModel *self,
           gboolean           merge)
{
  g_autoptr(GTask) task = NULL;
  CountJob *j = g_new0 (CountJob, 1);

  j->shared = shared_ref (self->shared);
  j->query = sluice_query_copy (self->query);
  j->generation = self->generation;
  j->merge = merge;
  set_loading (self, TRUE);
  task = g_task_new (NULL, self->cancellable, count_done_cb, g_object_ref (self));
  g_task_set_source_tag (task, run_count);
  g_task_set_task_data (task, j, (GDestroyNotify) count_job_free);
  g_task_run_in_thread (task, count_thread);
}

/* A new generation: older results are dropped; the rows shown stay until the count arrives,
 * so the view does not flash empty between two queries. */
static void
start_count (SluiceBrowseModel *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->generation++;
  self->anchors_loading = FALSE;
  g_queue_init (&self->pending);
  for (GList *l = self->lru.head; l != NULL; l = l->next)
    {
      Page *page = l->data;
      page->queued = FALSE;
      page->done = TRUE;      /* nothing more of the old query */
      page->in_flight = FALSE;
    }
  clear_thumbnail_requests (self);
  run_count (self, FALSE);
}

/* ---- live ------------------------------------------------------------------------------- */

typedef struct {
  Shared      *shared;
  SluiceQuery *query;
  guint        generation;
  gint64       after;
  gint64       max_file_id;
  guint64      n_new;
} NewJob;

static void
new_job_free (NewJob *j)
{
  shared_unref (j->shared);
  sluice_query_free (j->query);
  g_free (j);
}

/* Worker thread: an index seek, and a count only when files were added. */
static void
new_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  NewJob *j = task_data;
  g_autoptr(GError) error = NULL;
  SluiceCatalog *catalog = shared_acquire (j->shared, &error);
  gboolean ok = TRUE;

  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  j->max_file_id = sluice_catalog_max_file_id (catalog, &error);
  if (error != NULL)
    ok = FALSE;
  else if (j->max_file_id > j->after)
    ok = sluice_catalog_query_count_new (catalog, j->query, j->after, &j->n_new, &error);
  shared_release (j->shared, catalog);
  if (!ok)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
new_done_cb (GObject      *source_object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SluiceBrowseModel) self = user_data;
  NewJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  self->checking_new = FALSE;
  if (j->generation != self->generation || self->loading)
    return;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not look for new rows: %s", error->message);
      return;
    }
  if (j->max_file_id > j->after)
    {
      self->new_max_file_id = j->max_file_id;
      set_n_new (self, j->n_new);
    }
}

void
sluice_browse_model_check_new (SluiceBrowseModel *self)
{
  g_autoptr(GTask) task = NULL;
  NewJob *j;

  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  if (self->checking_new || self->loading || self->query == NULL)
    return;
  j = g_new0 (NewJob, 1);
  j->shared = shared_ref (self->shared);
  j->query = sluice_query_copy (self->query);
  j->generation = self->generation;
  j->after = self->base_max_file_id;
  self->checking_new = TRUE;
  task = g_task_new (NULL, self->cancellable, new_done_cb, g_object_ref (self));
  g_task_set_source_tag (task, sluice_browse_model_check_new);
  g_task_set_task_data (task, j, (GDestroyNotify) new_job_free);
  g_task_run_in_thread (task, new_thread);
}

/* ---- live: the rows on screen read again ------------------------------------------------- */

/* One loaded page to read again: from the row before it, or at its position by the anchors. */
typedef struct {
  guint              index;
  guint64            position;
  guint              limit;
  SluiceQueryCursor *after;      /* NULL: from the first row, or by the anchors */
  GPtrArray         *rows;       /* the result: SluiceQueryRow, or NULL */
} RefreshPage;

typedef struct {
  Shared      *shared;
  SluiceQuery *query;
  Anchors     *anchors;          /* NULL when no page needs them */
  guint        generation;
  GArray      *pages;            /* RefreshPage */
} RefreshJob;

static void
refresh_page_clear (gpointer data)
{
  RefreshPage *r = data;

  g_clear_pointer (&r->after, sluice_query_cursor_free);
  g_clear_pointer (&r->rows, g_ptr_array_unref);
}

static void
refresh_job_free (RefreshJob *j)
{
  shared_unref (j->shared);
  sluice_query_free (j->query);
  g_clear_pointer (&j->anchors, anchors_unref);
  g_array_unref (j->pages);
  g_free (j);
}

/* Worker thread: the same keyset pages the rows came from. */
static void
refresh_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  RefreshJob *j = task_data;
  g_autoptr(GError) error = NULL;
  SluiceCatalog *catalog = shared_acquire (j->shared, &error);

  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  for (guint i = 0; i < j->pages->len && error == NULL; i++)
    {
      RefreshPage *r = &g_array_index (j->pages, RefreshPage, i);

      if (r->after == NULL && r->position > 0)
        r->rows = sluice_query_anchors_page (j->anchors->anchors, catalog, r->position,
                                             r->limit, &error);
      else
        r->rows = sluice_catalog_query_page (catalog, j->query, r->after, r->limit, &error);
    }
  shared_release (j->shared, catalog);
  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
same_double (double a,
             double b)
{
  return (isnan (a) && isnan (b)) || a == b;
}

/* What a cell shows differs (the cursor follows the row). */
static gboolean
row_shows_differently (const SluiceQueryRow *a,
                       const SluiceQueryRow *b)
{
  return a->state != b->state || a->size != b->size || a->iso != b->iso ||
         a->exposure_num != b->exposure_num || a->exposure_den != b->exposure_den ||
         !same_double (a->f_number, b->f_number) ||
         !same_double (a->focal_length, b->focal_length) ||
         a->has_gps != b->has_gps || a->has_thumbnail != b->has_thumbnail ||
         g_strcmp0 (a->key, b->key) != 0 || g_strcmp0 (a->relpath, b->relpath) != 0 ||
         g_strcmp0 (a->camera, b->camera) != 0 || g_strcmp0 (a->lens, b->lens) != 0 ||
         g_strcmp0 (a->datetime_original, b->datetime_original) != 0;
}

/* Main thread. A row still describing the same file and object takes the new values in
 * place (its cells update through "loaded"); nothing is inserted, removed or moved, so the
 * scroll position and the selection stay. A row whose position now holds another file (the
 * order changed under a sort by a value that changed) is left as it is until the query runs
 * again. */
static void
refresh_done_cb (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(SluiceBrowseModel) self = user_data;
  RefreshJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  self->refreshing = FALSE;
  if (j->generation != self->generation || self->loading)
    return;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not read the rows shown again: %s", error->message);
      return;
    }
  for (guint i = 0; i < j->pages->len; i++)
    {
      RefreshPage *r = &g_array_index (j->pages, RefreshPage, i);
      Page *page = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (r->index));
      guint n;

      if (page == NULL || r->rows == NULL)
        continue;
      n = MIN (r->rows->len, page->n_loaded);
      for (guint k = 0; k < n; k++)
        {
          SluiceBrowseRow *row = g_ptr_array_index (page->rows, k);
          const SluiceQueryRow *old = sluice_browse_row_get_data (row);
          SluiceQueryRow *fresh = g_ptr_array_index (r->rows, k);

          if (old == NULL || old->file_id != fresh->file_id ||
              old->object_id != fresh->object_id || !row_shows_differently (old, fresh))
            continue;
          /* the row array frees nothing it gave away */
          sluice_browse_row_set_data (row, g_steal_pointer (&r->rows->pdata[k]));
        }
    }
}

/* Main thread. Which rows the view shows; the live refresh reads their pages again. */
void
sluice_browse_model_set_visible_range (SluiceBrowseModel *self,
                                       guint              first,
                                       guint              n)
{
  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  self->visible_first = first;
  self->visible_n = n;
  pump_decodes (self);
}

/* Main thread. Reads the loaded pages under the visible range again (at most one read at a
 * time, of at most MAX_REFRESH_PAGES pages), so that an ingest's progress (pending →
 * uploaded) shows in rows already on screen. The live timer calls it once a second. */
void
sluice_browse_model_refresh_visible (SluiceBrowseModel *self)
{
  g_autoptr(GTask) task = NULL;
  RefreshJob *j;
  guint first_page, last_page;

  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  if (self->refreshing || self->loading || self->query == NULL || self->visible_n == 0 ||
      self->visible_first >= self->n_items)
    return;
  first_page = self->visible_first / SLUICE_BROWSE_PAGE_SIZE;
  last_page = (MIN (self->n_items, self->visible_first + self->visible_n) - 1) /
              SLUICE_BROWSE_PAGE_SIZE;
  last_page = MIN (last_page, first_page + MAX_REFRESH_PAGES - 1);

  j = g_new0 (RefreshJob, 1);
  j->pages = g_array_new (FALSE, TRUE, sizeof (RefreshPage));
  g_array_set_clear_func (j->pages, refresh_page_clear);
  for (guint index = first_page; index <= last_page; index++)
    {
      Page *page = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (index));
      RefreshPage r = { index, 0, 0, NULL, NULL };
      const SluiceQueryCursor *after;

      if (page == NULL || page->n_loaded == 0 || page->in_flight)
        continue;
      r.position = page->start;
      r.limit = page->n_loaded;
      if (index > 0)
        {
          Page *prev = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (index - 1));

          after = prev != NULL && prev->n_loaded == prev->rows->len && prev->rows->len > 0
                  ? &sluice_browse_row_get_data (g_ptr_array_index (prev->rows,
                                                                    prev->rows->len - 1))->cursor
                  : NULL;
          if (after != NULL)
            r.after = sluice_query_cursor_copy (after);
          else if (self->anchors == NULL || page->start >= self->anchors->n_rows)
            continue;
          else if (j->anchors == NULL)
            j->anchors = g_atomic_rc_box_acquire (self->anchors);
        }
      g_array_append_val (j->pages, r);
    }
  if (j->pages->len == 0)
    {
      g_array_unref (j->pages);
      g_clear_pointer (&j->anchors, anchors_unref);
      g_free (j);
      return;
    }
  j->shared = shared_ref (self->shared);
  j->query = sluice_query_copy (self->query);
  j->generation = self->generation;
  self->refreshing = TRUE;
  task = g_task_new (NULL, self->cancellable, refresh_done_cb, g_object_ref (self));
  g_task_set_source_tag (task, sluice_browse_model_refresh_visible);
  g_task_set_task_data (task, j, (GDestroyNotify) refresh_job_free);
  g_task_run_in_thread (task, refresh_thread);
}

static gboolean
live_cb (gpointer user_data)
{
  sluice_browse_model_check_new (user_data);
  sluice_browse_model_refresh_visible (user_data);
  return G_SOURCE_CONTINUE;
}

void
sluice_browse_model_set_live (SluiceBrowseModel *self,
                              gboolean           live)
{
  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  if (live == (self->live_id != 0))
    return;
  if (live)
    self->live_id = g_timeout_add (LIVE_INTERVAL_MS, live_cb, self);
  else
    g_clear_handle_id (&self->live_id, g_source_remove);
}

guint64
sluice_browse_model_get_n_new (SluiceBrowseModel *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_MODEL (self), 0);
  return self->n_new;
}

/* Takes the new rows in: in ingest order (ascending) they are appended in place, leaving the
 * rows on screen, the scroll position and the selection as they are; in any other order the
 * query runs again. */
void
sluice_browse_model_show_new (SluiceBrowseModel *self)
{
  gboolean descending = FALSE;

  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  if (self->query == NULL || self->loading)
    return;
  if (sluice_query_get_sort (self->query, &descending) == SLUICE_QUERY_SORT_INGEST &&
      !descending)
    run_count (self, TRUE);
  else
    start_count (self);
}

/* ---- thumbnails ---------------------------------------------------------------------------- */

typedef struct {
  Shared *shared;
  guint   generation;    /* the model's thumb_generation when the job was made */
  GArray *file_ids;      /* gint64 */
  GArray *embedded;      /* gboolean, one per file id: the row says it has an EXIF thumbnail */
  GPtrArray *textures;   /* GdkTexture or NULL, one per file id */
  GPtrArray *decodes;    /* without an embedded thumbnail: Decode * or NULL, one per file id */
} ThumbJob;

static void
thumb_job_free (ThumbJob *j)
{
  shared_unref (j->shared);
  g_array_unref (j->file_ids);
  g_array_unref (j->embedded);
  g_clear_pointer (&j->textures, g_ptr_array_unref);
  g_clear_pointer (&j->decodes, g_ptr_array_unref);
  g_free (j);
}

static void
decode_free_or_null (gpointer d)
{
  if (d != NULL)
    decode_free (d);
}

static void
clear_texture (gpointer texture)
{
  if (texture != NULL)
    g_object_unref (texture);
}

/* _sluice_browse_model_hold_thumbnail_jobs (), for the tests: outside them, one uncontended
 * lock per job of up to THUMBS_PER_TASK thumbnails */
static GMutex thumb_hold_mutex;
static GCond  thumb_hold_cond;
static gboolean thumb_hold;
static guint  thumb_held, thumb_passes, thumb_arrived;

void
_sluice_browse_model_hold_thumbnail_jobs (gboolean hold)
{
  g_mutex_lock (&thumb_hold_mutex);
  thumb_hold = hold;
  thumb_passes = 0;
  g_cond_broadcast (&thumb_hold_cond);
  g_mutex_unlock (&thumb_hold_mutex);
}

void
_sluice_browse_model_pass_thumbnail_job (void)
{
  g_mutex_lock (&thumb_hold_mutex);
  thumb_passes++;
  g_cond_broadcast (&thumb_hold_cond);
  g_mutex_unlock (&thumb_hold_mutex);
}

guint
_sluice_browse_model_thumbnail_jobs_held (guint *out_arrived)
{
  guint held;

  g_mutex_lock (&thumb_hold_mutex);
  held = thumb_held;
  if (out_arrived != NULL)
    *out_arrived = thumb_arrived;
  g_mutex_unlock (&thumb_hold_mutex);
  return held;
}

static void
thumb_job_wait_if_held (void)
{
  g_mutex_lock (&thumb_hold_mutex);
  thumb_arrived++;
  if (thumb_hold)
    {
      thumb_held++;
      /* a test waiting on the main loop looks again */
      g_main_context_wakeup (NULL);
      while (thumb_hold && thumb_passes == 0)
        g_cond_wait (&thumb_hold_cond, &thumb_hold_mutex);
      if (thumb_hold)
        thumb_passes--;
      thumb_held--;
    }
  g_mutex_unlock (&thumb_hold_mutex);
}

/* Worker thread: read the JPEG bytes kept at probe time and decode them here
 * (gdk_texture_new_from_bytes is thread-safe), never on the main thread. */
static void
thumb_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  ThumbJob *j = task_data;
  g_autoptr(GError) error = NULL;
  SluiceCatalog *catalog;

  thumb_job_wait_if_held ();
  catalog = shared_acquire (j->shared, &error);

  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  j->textures = g_ptr_array_new_with_free_func (clear_texture);
  j->decodes = g_ptr_array_new_with_free_func (decode_free_or_null);
  for (guint i = 0; i < j->file_ids->len; i++)
    {
      gint64 id = g_array_index (j->file_ids, gint64, i);
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      GdkTexture *texture = NULL;
      Decode *decode = NULL;

      if (g_array_index (j->embedded, gboolean, i))
        {
          bytes = sluice_catalog_get_thumbnail (catalog, id, &local_error);
          if (bytes != NULL)
            texture = gdk_texture_new_from_bytes (bytes, &local_error);
        }
      else
        {
          /* none embedded: where the file is, for the helper to decode it */
          g_autofree char *container = NULL;
          gboolean probed = FALSE;

          decode = g_new0 (Decode, 1);
          decode->file_id = id;
          if (!sluice_catalog_get_file_source (catalog, id, &decode->path, &decode->sha256,
                                               &probed, &container, &local_error) ||
              !sluice_thumbnail_worth_decoding (decode->path, probed, container))
            g_clear_pointer (&decode, decode_free);
        }
      if (local_error != NULL)
        g_debug ("No thumbnail for file %" G_GINT64_FORMAT ": %s", id, local_error->message);
      g_ptr_array_add (j->textures, texture);
      g_ptr_array_add (j->decodes, decode);
    }
  shared_release (j->shared, catalog);
  g_task_return_boolean (task, TRUE);
}

static void
thumb_value_free (gpointer value)
{
  if (value != NO_THUMB && value != NULL)
    g_object_unref (value);
}

static void
thumb_cache_put (SluiceBrowseModel *self,
                 gint64             file_id,
                 gpointer           value)
{
  gint64 *key = g_new (gint64, 1);

  *key = file_id;
  if (g_hash_table_contains (self->thumbs, key))
    {
      g_free (key);
      thumb_value_free (value);
      return;
    }
  g_hash_table_insert (self->thumbs, key, value);
  g_queue_push_head (&self->thumb_lru, key);
  while (g_queue_get_length (&self->thumb_lru) > MAX_THUMBNAILS)
    g_hash_table_remove (self->thumbs, g_queue_pop_tail (&self->thumb_lru));
}

static void
thumb_done_cb (GObject      *source_object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SluiceBrowseModel) self = user_data;
  ThumbJob *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  self->thumb_in_flight = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_debug ("No thumbnails: %s", error->message);
      pump_thumbnails (self);
      return;
    }
  if (j->generation != self->thumb_generation)
    {
      /* the requests were cleared meanwhile (a new query): the textures are still the files'
       * own, but the rows waiting now asked anew; their entries are not this job's to touch */
      for (guint i = 0; i < j->file_ids->len; i++)
        {
          GdkTexture *texture = g_ptr_array_index (j->textures, i);

          if (texture != NULL)
            thumb_cache_put (self, g_array_index (j->file_ids, gint64, i),
                             g_object_ref (texture));
        }
      pump_thumbnails (self);
      return;
    }
  for (guint i = 0; i < j->file_ids->len; i++)
    {
      gint64 id = g_array_index (j->file_ids, gint64, i);
      GdkTexture *texture = g_ptr_array_index (j->textures, i);
      GPtrArray *rows = g_hash_table_lookup (self->thumb_waiting, &id);

      if (texture == NULL && g_ptr_array_index (j->decodes, i) != NULL)
        {
          if (rows == NULL || rows->len == 0)
            {
              /* scrolled away meanwhile: nothing is cached, a row shown again asks again */
              g_hash_table_remove (self->thumb_waiting, &id);
              continue;
            }
          /* the rows keep waiting, for the helper now */
          g_queue_push_tail (&self->decode_queue, g_steal_pointer (&j->decodes->pdata[i]));
          while (g_queue_get_length (&self->decode_queue) > MAX_THUMB_QUEUE)
            {
              Decode *old = g_queue_pop_head (&self->decode_queue);

              g_hash_table_remove (self->thumb_waiting, &old->file_id);
              decode_free (old);
            }
          continue;
        }
      thumb_cache_put (self, id, texture != NULL ? g_object_ref (texture) : NO_THUMB);
      for (guint r = 0; rows != NULL && r < rows->len; r++)
        sluice_browse_row_set_thumbnail (g_ptr_array_index (rows, r), GDK_PAINTABLE (texture));
      g_hash_table_remove (self->thumb_waiting, &id);
    }
  pump_thumbnails (self);
  pump_decodes (self);
}

/* One thumbnailer per size for the whole app, each with one helper started by the first file
 * that needs it; they live as long as the process (a helper exits when its socket closes) and
 * share the disk cache. */
SluiceThumbnailer *
sluice_browse_thumbnailer (guint edge)
{
  static SluiceThumbnailer *detail_size, *list_size;
  SluiceThumbnailer **which = edge == LIST_THUMB_EDGE ? &list_size : &detail_size;

  g_return_val_if_fail (edge == LIST_THUMB_EDGE || edge == SLUICE_THUMBNAIL_DEFAULT_EDGE, NULL);
  if (g_once_init_enter (which))
    {
      g_autofree char *helper = sluice_probe_find_helper ();

      g_once_init_leave (which, sluice_thumbnailer_new (helper, NULL, edge));
    }
  return *which;
}

typedef struct {
  SluiceBrowseModel *self;
  gint64             file_id;
  guint              generation;
} DecodeCall;

static void
decode_done_cb (GObject      *source_object,
                GAsyncResult *result,
                gpointer      user_data)
{
  DecodeCall *call = user_data;
  g_autoptr(SluiceBrowseModel) self = call->self;
  g_autoptr(SluiceThumbnail) thumbnail = NULL;
  g_autoptr(GError) error = NULL;
  GdkTexture *texture = NULL;
  GPtrArray *rows;

  thumbnail = sluice_thumbnailer_get_finish (sluice_browse_thumbnailer (LIST_THUMB_EDGE), result,
                                             &error);
  self->decodes_in_flight--;
  if (call->generation != self->thumb_generation)
    {
      g_free (call);
      pump_decodes (self);
      return;
    }
  if (thumbnail != NULL)
    texture = gdk_memory_texture_new (thumbnail->width, thumbnail->height, GDK_MEMORY_R8G8B8,
                                      thumbnail->pixels, thumbnail->stride);
  else
    g_debug ("No list thumbnail for file %" G_GINT64_FORMAT ": %s", call->file_id,
             error->message);
  rows = g_hash_table_lookup (self->thumb_waiting, &call->file_id);
  for (guint r = 0; rows != NULL && r < rows->len; r++)
    sluice_browse_row_set_thumbnail (g_ptr_array_index (rows, r), GDK_PAINTABLE (texture));
  g_hash_table_remove (self->thumb_waiting, &call->file_id);
  /* a failure is kept too (the detail pane says why): not decoded again while cached; the
   * cache takes the texture (and drops it if it has one already) */
  thumb_cache_put (self, call->file_id, texture != NULL ? texture : NO_THUMB);
  g_free (call);
  pump_decodes (self);
}

/* Whether a row waiting for @file_id is on screen, or DECODE_MARGIN rows from it. */
static gboolean
decode_wanted (SluiceBrowseModel *self,
               GPtrArray         *rows)
{
  guint first = self->visible_first > DECODE_MARGIN ? self->visible_first - DECODE_MARGIN : 0;
  guint end = self->visible_first + self->visible_n + DECODE_MARGIN;

  for (guint r = 0; r < rows->len; r++)
    {
      guint position = sluice_browse_row_get_position (g_ptr_array_index (rows, r));

      if (position >= first && position < end)
        return TRUE;
    }
  return FALSE;
}

/* Starts the decodes of rows on screen, oldest request first; the others wait in the queue
 * until they are scrolled to, or are withdrawn when their cells are unbound. Decoding a
 * HEIC grid or a big TIFF takes a helper up to a second of CPU: the ~200 rows GTK binds
 * around the screen are not all decoded. */
static void
pump_decodes (SluiceBrowseModel *self)
{
  GList *l = self->decode_queue.head;

  while (l != NULL && self->decodes_in_flight < DECODES_IN_FLIGHT)
    {
      Decode *d = l->data;
      GList *next = l->next;
      GPtrArray *rows = g_hash_table_lookup (self->thumb_waiting, &d->file_id);

      if (rows == NULL || rows->len == 0)
        {
          /* withdrawn */
          g_hash_table_remove (self->thumb_waiting, &d->file_id);
          g_queue_delete_link (&self->decode_queue, l);
          decode_free (d);
        }
      else if (decode_wanted (self, rows))
        {
          DecodeCall *call = g_new0 (DecodeCall, 1);

          call->self = g_object_ref (self);
          call->file_id = d->file_id;
          call->generation = self->thumb_generation;
          self->decodes_in_flight++;
          sluice_thumbnailer_get_async (sluice_browse_thumbnailer (LIST_THUMB_EDGE), d->path,
                                        d->sha256, self->decode_cancellable, decode_done_cb,
                                        call);
          g_queue_delete_link (&self->decode_queue, l);
          decode_free (d);
        }
      l = next;
    }
}

static void
pump_thumbnails (SluiceBrowseModel *self)
{
  g_autoptr(GTask) task = NULL;
  ThumbJob *j;

  if (self->thumb_in_flight || self->thumb_queue.head == NULL)
    return;
  j = g_new0 (ThumbJob, 1);
  j->shared = shared_ref (self->shared);
  j->generation = self->thumb_generation;
  j->file_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  j->embedded = g_array_new (FALSE, FALSE, sizeof (gboolean));
  /* in the order the cells were bound: GTK 4.8's list view binds ~200 rows around what is
   * shown, from there outwards; an unbound cell withdraws its request */
  while (j->file_ids->len < THUMBS_PER_TASK && self->thumb_queue.head != NULL)
    {
      gint64 *id = g_queue_pop_head (&self->thumb_queue);
      GPtrArray *rows = g_hash_table_lookup (self->thumb_waiting, id);
      const SluiceQueryRow *data = rows != NULL && rows->len > 0
                                   ? sluice_browse_row_get_data (g_ptr_array_index (rows, 0))
                                   : NULL;
      gboolean embedded = data != NULL && data->has_thumbnail;

      g_array_append_val (j->file_ids, *id);
      g_array_append_val (j->embedded, embedded);
    }
  self->thumb_in_flight = TRUE;
  task = g_task_new (NULL, NULL, thumb_done_cb, g_object_ref (self));
  g_task_set_source_tag (task, pump_thumbnails);
  g_task_set_task_data (task, j, (GDestroyNotify) thumb_job_free);
  g_task_run_in_thread (task, thumb_thread);
}

GdkPaintable *
sluice_browse_model_get_thumbnail (SluiceBrowseModel *self,
                                   SluiceBrowseRow   *row)
{
  const SluiceQueryRow *data;
  gpointer value;
  GPtrArray *rows;

  g_return_val_if_fail (SLUICE_IS_BROWSE_MODEL (self), NULL);
  data = sluice_browse_row_get_data (row);
  if (data == NULL)
    return NULL;
  value = g_hash_table_lookup (self->thumbs, &data->file_id);
  if (value != NULL)
    return value != NO_THUMB ? value : NULL;

  rows = g_hash_table_lookup (self->thumb_waiting, &data->file_id);
  if (rows == NULL)
    {
      gint64 *key = g_new (gint64, 1);

      *key = data->file_id;
      rows = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->thumb_waiting, key, rows);
      g_queue_push_tail (&self->thumb_queue, key);
      /* bounded: the oldest requests are dropped (a cell still showing asks again on rebind) */
      while (g_queue_get_length (&self->thumb_queue) > MAX_THUMB_QUEUE)
        g_hash_table_remove (self->thumb_waiting, g_queue_pop_head (&self->thumb_queue));
    }
  if (!g_ptr_array_find (rows, row, NULL))
    g_ptr_array_add (rows, g_object_ref (row));
  pump_thumbnails (self);
  return NULL;
}

/* A cell no longer shows @row: its thumbnail request, if not started, is withdrawn. */
void
sluice_browse_model_forget_thumbnail (SluiceBrowseModel *self,
                                      SluiceBrowseRow   *row)
{
  const SluiceQueryRow *data;
  GPtrArray *rows;
  gpointer key = NULL;

  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  data = sluice_browse_row_get_data (row);
  if (data == NULL ||
      !g_hash_table_lookup_extended (self->thumb_waiting, &data->file_id, &key,
                                     (gpointer *) &rows))
    return;
  g_ptr_array_remove (rows, row);
  /* a decode waiting for its row to come on screen is dropped by pump_decodes () */
  if (rows->len == 0 && g_queue_remove (&self->thumb_queue, key))
    g_hash_table_remove (self->thumb_waiting, &data->file_id);
}

/* ---- detail, filter values, export ------------------------------------------------------ */

typedef struct {
  Shared *shared;
  gint64  file_id;
  gint64  object_id;
} DetailJob;

static void
detail_job_free (DetailJob *j)
{
  shared_unref (j->shared);
  g_free (j);
}

/* Worker thread. */
static void
detail_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  DetailJob *j = task_data;
  g_autoptr(GError) error = NULL;
  SluiceCatalog *catalog = shared_acquire (j->shared, &error);
  SluiceQueryDetail *detail;

  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  detail = sluice_catalog_query_detail (catalog, j->file_id, j->object_id, &error);
  shared_release (j->shared, catalog);
  if (detail == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, detail, (GDestroyNotify) sluice_query_detail_free);
}

void
sluice_browse_model_detail_async (SluiceBrowseModel   *self,
                                  gint64               file_id,
                                  gint64               object_id,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  DetailJob *j;

  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  j = g_new0 (DetailJob, 1);
  j->shared = shared_ref (self->shared);
  j->file_id = file_id;
  j->object_id = object_id;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sluice_browse_model_detail_async);
  g_task_set_task_data (task, j, (GDestroyNotify) detail_job_free);
  g_task_run_in_thread (task, detail_thread);
}

SluiceQueryDetail *
sluice_browse_model_detail_finish (SluiceBrowseModel  *self,
                                   GAsyncResult       *result,
                                   GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
sluice_browse_filter_values_free (SluiceBrowseFilterValues *values)
{
  if (values == NULL)
    return;
  g_clear_pointer (&values->cameras, g_ptr_array_unref);
  g_clear_pointer (&values->lenses, g_ptr_array_unref);
  g_clear_pointer (&values->runs, g_ptr_array_unref);
  g_free (values);
}

/* Worker thread. */
static void
filter_values_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  Shared *shared = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBrowseFilterValues) values = g_new0 (SluiceBrowseFilterValues, 1);
  SluiceCatalog *catalog = shared_acquire (shared, &error);

  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  values->cameras = sluice_catalog_list_cameras (catalog, &error);
  if (values->cameras != NULL)
    values->lenses = sluice_catalog_list_lenses (catalog, &error);
  if (values->lenses != NULL)
    values->runs = sluice_catalog_list_runs (catalog, &error);
  shared_release (shared, catalog);
  if (values->runs == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_steal_pointer (&values),
                           (GDestroyNotify) sluice_browse_filter_values_free);
}

void
sluice_browse_model_filter_values_async (SluiceBrowseModel   *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sluice_browse_model_filter_values_async);
  g_task_set_task_data (task, shared_ref (self->shared), (GDestroyNotify) shared_unref);
  g_task_run_in_thread (task, filter_values_thread);
}

SluiceBrowseFilterValues *
sluice_browse_model_filter_values_finish (SluiceBrowseModel  *self,
                                          GAsyncResult       *result,
                                          GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct {
  Shared             *shared;
  SluiceQuery        *query;
  GFile              *file;
  SluiceExportFormat  format;
  gint               *progress;
  guint64             rows;
} ExportJob;

static void
export_job_free (ExportJob *j)
{
  shared_unref (j->shared);
  sluice_query_free (j->query);
  g_object_unref (j->file);
  g_free (j);
}

/* Worker thread: streamed page by page by the engine; memory does not grow with the rows.
 * A cancelled or failed export leaves no half file: GFile's replace only renames a complete
 * one into place. */
static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ExportJob *j = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileOutputStream) file_out = NULL;
  g_autoptr(GOutputStream) out = NULL;
  SluiceCatalog *catalog;
  gboolean ok;

  catalog = shared_acquire (j->shared, &error);
  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  file_out = g_file_replace (j->file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                             cancellable, &error);
  ok = file_out != NULL;
  if (ok)
    {
      out = g_buffered_output_stream_new_sized (G_OUTPUT_STREAM (file_out), 256 * 1024);
      ok = sluice_export_query_with_progress (catalog, j->query, j->format, out, &j->rows,
                                              j->progress, cancellable, &error);
      if (ok)
        ok = g_output_stream_close (out, cancellable, &error);
      else
        {
          /* closing after a cancel would put the partial file in place: abandon it */
          g_autoptr(GCancellable) abandon = g_cancellable_new ();
          g_cancellable_cancel (abandon);
          g_output_stream_close (G_OUTPUT_STREAM (file_out), abandon, NULL);
        }
    }
  shared_release (j->shared, catalog);
  if (!ok)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
sluice_browse_model_export_async (SluiceBrowseModel   *self,
                                  GFile               *file,
                                  SluiceExportFormat   format,
                                  gint                *progress_rows,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ExportJob *j;

  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  g_return_if_fail (G_IS_FILE (file));
  j = g_new0 (ExportJob, 1);
  j->shared = shared_ref (self->shared);
  j->query = self->query != NULL ? sluice_query_copy (self->query) : sluice_query_new ();
  j->file = g_object_ref (file);
  j->format = format;
  j->progress = progress_rows;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sluice_browse_model_export_async);
  g_task_set_task_data (task, j, (GDestroyNotify) export_job_free);
  g_task_run_in_thread (task, export_thread);
}

gboolean
sluice_browse_model_export_finish (SluiceBrowseModel  *self,
                                   GAsyncResult       *result,
                                   guint64            *out_rows,
                                   GError            **error)
{
  ExportJob *j;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  j = g_task_get_task_data (G_TASK (result));
  if (out_rows != NULL)
    *out_rows = j->rows;
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- object ------------------------------------------------------------------------------ */

static void
sluice_browse_model_dispose (GObject *object)
{
  SluiceBrowseModel *self = SLUICE_BROWSE_MODEL (object);

  g_clear_handle_id (&self->live_id, g_source_remove);
  g_clear_handle_id (&self->settle_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  clear_pages (self);
  clear_thumbnail_requests (self);
  G_OBJECT_CLASS (sluice_browse_model_parent_class)->dispose (object);
}

static void
sluice_browse_model_finalize (GObject *object)
{
  SluiceBrowseModel *self = SLUICE_BROWSE_MODEL (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->query, sluice_query_free);
  g_clear_pointer (&self->anchors, anchors_unref);
  g_clear_pointer (&self->error, g_free);
  g_hash_table_unref (self->pages);
  g_queue_clear (&self->thumb_lru);
  g_hash_table_unref (self->thumbs);
  g_hash_table_unref (self->thumb_waiting);
  g_clear_object (&self->decode_cancellable);
  if (self->shared != NULL)
    shared_unref (self->shared);
  G_OBJECT_CLASS (sluice_browse_model_parent_class)->finalize (object);
}

static void
sluice_browse_model_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  SluiceBrowseModel *self = SLUICE_BROWSE_MODEL (object);

  switch (prop_id)
    {
    case PROP_COUNT:
      g_value_set_uint64 (value, self->n_items);
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case PROP_N_NEW:
      g_value_set_uint64 (value, self->n_new);
      break;
    case PROP_ANCHORS_READY:
      g_value_set_boolean (value, self->anchors != NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sluice_browse_model_class_init (SluiceBrowseModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = sluice_browse_model_dispose;
  object_class->finalize = sluice_browse_model_finalize;
  object_class->get_property = sluice_browse_model_get_property;

  properties[PROP_COUNT] = g_param_spec_uint64 ("count", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE, flags);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, flags);
  properties[PROP_N_NEW] = g_param_spec_uint64 ("n-new", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  properties[PROP_ANCHORS_READY] = g_param_spec_boolean ("anchors-ready", NULL, NULL, FALSE,
                                                         flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sluice_browse_model_init (SluiceBrowseModel *self)
{
  self->pages = g_hash_table_new_full (NULL, NULL, NULL, page_free);
  self->thumbs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, thumb_value_free);
  self->thumb_waiting = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                               (GDestroyNotify) g_ptr_array_unref);
  self->cancellable = g_cancellable_new ();
  self->decode_cancellable = g_cancellable_new ();
}

SluiceBrowseModel *
sluice_browse_model_new (const char *catalog_path)
{
  SluiceBrowseModel *self;

  g_return_val_if_fail (catalog_path != NULL, NULL);
  self = g_object_new (SLUICE_TYPE_BROWSE_MODEL, NULL);
  self->shared = g_atomic_rc_box_new0 (Shared);
  self->shared->path = g_strdup (catalog_path);
  self->shared->idle = g_async_queue_new ();
  return self;
}

const char *
sluice_browse_model_get_catalog_path (SluiceBrowseModel *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_MODEL (self), NULL);
  return self->shared->path;
}

/* Copies @query; runs it when it differs from the current one. */
void
sluice_browse_model_set_query (SluiceBrowseModel *self,
                               const SluiceQuery *query)
{
  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  g_return_if_fail (query != NULL);
  if (self->query != NULL && sluice_query_equal (self->query, query))
    return;
  g_clear_pointer (&self->query, sluice_query_free);
  self->query = sluice_query_copy (query);
  start_count (self);
}

const SluiceQuery *
sluice_browse_model_get_query (SluiceBrowseModel *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_MODEL (self), NULL);
  return self->query;
}

void
sluice_browse_model_reload (SluiceBrowseModel *self)
{
  g_return_if_fail (SLUICE_IS_BROWSE_MODEL (self));
  if (self->query == NULL)
    self->query = sluice_query_new ();
  start_count (self);
}

guint64
sluice_browse_model_get_count (SluiceBrowseModel *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_MODEL (self), 0);
  return self->n_items;
}

gboolean
sluice_browse_model_get_loading (SluiceBrowseModel *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_MODEL (self), FALSE);
  return self->loading;
}

const char *
sluice_browse_model_get_error (SluiceBrowseModel *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_MODEL (self), NULL);
  return self->error;
}

gboolean
sluice_browse_model_get_anchors_ready (SluiceBrowseModel *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_MODEL (self), FALSE);
  return self->anchors != NULL;
}

guint
sluice_browse_model_get_n_cached_pages (SluiceBrowseModel *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_MODEL (self), 0);
  return g_hash_table_size (self->pages);
}
