/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-catalog-query"

#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "sluice-catalog.h"
#include "sluice-catalog-query.h"
#include "sluice-error.h"
#include "sluice-export.h"
#include "sluice-test-util.h"

/*
 * The browser's queries: keyset pages in every order (ties, empty values, page sizes around
 * the result size), filters, the full-text search, random access through anchors, new rows,
 * detail and the filtered manifest. The expected order comes from one plain ORDER BY over the
 * whole result, run here with SQLite directly: the engine's paging must give exactly it.
 */

typedef struct {
  char          *path;
  SluiceCatalog *catalog;
  gint64         source;
  gint64         source2;
  gint64         target;
  gint64         target2;
  gint64         run;
  gint64         run2;
  guint          n_files;
} Fixture;

static const char *const makes[] = { "Canon", "NIKON CORPORATION", "FUJIFILM", NULL };
static const char *const models[] = { "Canon EOS R5", "NIKON D850", "X-T4", "Pixel 7" };
static const char *const lenses[] = { "RF24-70mm F2.8 L IS USM", "Zürich 50mm", NULL,
                                      "XF35mmF1.4 R" };

static SluiceMetadata *
make_metadata (guint i)
{
  SluiceMetadata *meta = sluice_metadata_new ();
  guint cam = i % 4;

  meta->container = g_strdup ("jpeg");
  meta->make = g_strdup (makes[cam]);
  meta->model = i % 11 == 5 ? NULL : g_strdup (models[cam]);
  meta->lens_model = g_strdup (lenses[i % 4]);
  /* ties: only 7 distinct dates; every 9th file has none */
  if (i % 9 != 4)
    meta->datetime_original = g_strdup_printf ("20%02u:0%u:1%u 12:00:00", 18 + i % 7,
                                               1 + i % 7, i % 7);
  if (i % 5 != 0)
    {
      meta->exposure_num = 1;
      meta->exposure_den = (i % 3 + 1) * 100;
    }
  meta->f_number = i % 6 == 0 ? NAN : 1.4 * (1 + i % 3);
  meta->iso = i % 8 == 0 ? -1 : (gint64) (100 * (1 + i % 4));
  meta->focal_length = i % 10 == 0 ? NAN : 24.0 + 26 * (i % 3);
  if (i % 10 == 3)
    {
      meta->gps_latitude = 47.3;
      meta->gps_longitude = 8.5;
    }
  meta->has_thumbnail = i % 2 == 0;
  if (meta->has_thumbnail)
    meta->thumbnail = g_bytes_new_take (g_strdup_printf ("thumb-%u", i), 7 + (i > 9) + (i > 99));
  return meta;
}

/*
 * @n files: most uploaded in target 1, some also in target 2 (two rows), some failed, some
 * skipped, some without any object (one failed before it had a key, one pending), some never
 * probed. Sizes repeat (ties), paths contain words to search for.
 */
static void
fill (Fixture *f,
      guint    n)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sluice_catalog_begin (f->catalog, &error));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("%s/%04u/IMG_%04u%s.jpg",
                                                  i % 3 == 0 ? "Holidays" : "Work", 2018 + i % 7,
                                                  i, i % 13 == 1 ? " Zürich “quoted”" : "");
      g_autofree char *key = g_strdup_printf ("photos/%s", relpath);
      g_autofree char *sha = g_strdup_printf ("%064u", i);
      gint64 source = i % 17 == 16 ? f->source2 : f->source;
      gint64 run = i < n / 2 ? f->run : f->run2;
      gint64 file, obj;

      if (i % 23 == 7)
        {
          /* failed before it had a key: a file row and an error, no object */
          g_assert_true (sluice_catalog_record_failure (f->catalog, source, f->target, relpath,
                                                        NULL, run, "InvalidKey",
                                                        "the name is not UTF-8", &error));
          g_assert_no_error (error);
          continue;
        }
      file = sluice_catalog_upsert_file (f->catalog, source, relpath, 1000 * (1 + i % 5),
                                         1000 + i, sha, run, &error);
      g_assert_no_error (error);
      if (i % 19 != 2)
        {
          g_autoptr(SluiceMetadata) meta = make_metadata (i);
          g_assert_true (sluice_catalog_set_metadata (f->catalog, file, run, meta,
                                                      SLUICE_PROBE_STATE_OK, NULL, &error));
        }
      if (i % 29 == 11)
        continue;   /* pending: no object yet */
      obj = sluice_catalog_begin_object (f->catalog, file, f->target, key, sha, 1000, run,
                                         &error);
      g_assert_no_error (error);
      g_assert_true (sluice_catalog_finish_object (f->catalog, obj,
                                                   i % 10 == 7 ? SLUICE_OBJECT_FAILED :
                                                   i % 10 == 8 ? SLUICE_OBJECT_SKIPPED :
                                                   SLUICE_OBJECT_UPLOADED,
                                                   i % 10 == 7 ? NULL : "\"etag\"",
                                                   i % 10 == 7 ? "AccessDenied" : NULL,
                                                   i % 10 == 7 ? "denied" : NULL, &error));
      if (i % 6 == 1)
        {
          obj = sluice_catalog_begin_object (f->catalog, file, f->target2, key, sha, 1000,
                                             run, &error);
          g_assert_no_error (error);
          g_assert_true (sluice_catalog_finish_object (f->catalog, obj, SLUICE_OBJECT_UPLOADED,
                                                       "\"etag2\"", NULL, NULL, &error));
        }
    }
  g_assert_true (sluice_catalog_commit (f->catalog, &error));
  f->n_files = n;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = sluice_test_make_dir ("catalog-query");

  f->path = g_build_filename (dir, "catalog.db", NULL);
  f->catalog = sluice_catalog_open (f->path, FALSE, &error);
  g_assert_no_error (error);
  f->source = sluice_catalog_ensure_source (f->catalog, "/mnt/nas/photos", &error);
  f->source2 = sluice_catalog_ensure_source (f->catalog, "/mnt/nas/archive", &error);
  f->target = sluice_catalog_ensure_target (f->catalog, "http://127.0.0.1:7480", "photos",
                                            &error);
  f->target2 = sluice_catalog_ensure_target (f->catalog, "http://127.0.0.1:7480", "backup",
                                             &error);
  f->run = sluice_catalog_begin_run (f->catalog, f->source, f->target, "{}", &error);
  f->run2 = sluice_catalog_begin_run (f->catalog, f->source, f->target, "{}", &error);
  g_assert_no_error (error);
  if (GPOINTER_TO_UINT (data) > 0)
    fill (f, GPOINTER_TO_UINT (data));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->catalog, sluice_catalog_close);
  g_free (f->path);
}

/* ---- the oracle ------------------------------------------------------------------------------ */

static const char *const sort_sql[SLUICE_QUERY_N_SORTS] = {
  [SLUICE_QUERY_SORT_INGEST] = NULL,
  [SLUICE_QUERY_SORT_NAME] = "f.relpath",
  [SLUICE_QUERY_SORT_DATE_TAKEN] = "m.datetime_original",
  [SLUICE_QUERY_SORT_CAMERA] = "m.camera",
  [SLUICE_QUERY_SORT_LENS] = "m.lens_model",
  [SLUICE_QUERY_SORT_EXPOSURE] = "m.exposure",
  [SLUICE_QUERY_SORT_ISO] = "m.iso",
  [SLUICE_QUERY_SORT_FOCAL_LENGTH] = "m.focal_length",
  [SLUICE_QUERY_SORT_SIZE] = "f.size",
  [SLUICE_QUERY_SORT_STATE] = "o.state",
  [SLUICE_QUERY_SORT_KEY] = "o.key",
};

/* "file:object" of every row in the order the whole result sorts in, with empty values last. */
static GPtrArray *
oracle (Fixture         *f,
        SluiceQuerySort  sort,
        gboolean         desc,
        const char      *where)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  const char *dir = desc ? "DESC" : "ASC";
  g_autofree char *order = NULL;
  g_autofree char *sql = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;

  if (sort == SLUICE_QUERY_SORT_INGEST)
    order = g_strdup_printf ("f.id %s, o.id %s", dir, dir);
  else
    {
      const char *col = sort_sql[sort];

      /* names sort by source folder first */
      order = g_strdup_printf ("(%s IS NULL), %s%s%s%s %s, f.id %s, o.id %s", col,
                               sort == SLUICE_QUERY_SORT_NAME ? "f.source_id " : "",
                               sort == SLUICE_QUERY_SORT_NAME ? dir : "",
                               sort == SLUICE_QUERY_SORT_NAME ? ", " : "", col, dir, dir, dir);
    }
  sql = g_strdup_printf ("SELECT f.id, IFNULL (o.id, 0) FROM files f "
                         "LEFT JOIN metadata m ON m.file_id = f.id "
                         "LEFT JOIN objects o ON o.file_id = f.id WHERE %s ORDER BY %s",
                         where ? where : "1", order);
  g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  if (sqlite3_prepare_v2 (db, sql, -1, &s, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  while (sqlite3_step (s) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                                           (gint64) sqlite3_column_int64 (s, 0),
                                           (gint64) sqlite3_column_int64 (s, 1)));
  sqlite3_finalize (s);
  sqlite3_close (db);
  return ids;
}

/* Every row of @query, page by page. */
static GPtrArray *
page_all (Fixture           *f,
          const SluiceQuery *query,
          guint              page_size)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(SluiceQueryCursor) after = NULL;

  for (guint guard = 0; guard < 100000; guard++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rows = sluice_catalog_query_page (f->catalog, query, after,
                                                             page_size, &error);

      g_assert_no_error (error);
      g_assert_nonnull (rows);
      g_assert_cmpuint (rows->len, <=, page_size);
      for (guint i = 0; i < rows->len; i++)
        {
          SluiceQueryRow *row = g_ptr_array_index (rows, i);
          g_ptr_array_add (ids, g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                                                 row->file_id, row->object_id));
        }
      if (rows->len < page_size)
        break;
      g_clear_pointer (&after, sluice_query_cursor_free);
      after = sluice_query_cursor_copy (&((SluiceQueryRow *) g_ptr_array_index (rows, rows->len - 1))->cursor);
    }
  return ids;
}

static void
assert_same_ids (GPtrArray  *got,
                 GPtrArray  *want,
                 const char *what)
{
  for (guint i = 0; i < MIN (got->len, want->len); i++)
    if (!g_str_equal (g_ptr_array_index (got, i), g_ptr_array_index (want, i)))
      g_error ("%s: row %u is %s, expected %s", what, i, (char *) g_ptr_array_index (got, i),
               (char *) g_ptr_array_index (want, i));
  g_assert_cmpuint (got->len, ==, want->len);
}

static guint64
count (Fixture           *f,
       const SluiceQuery *query)
{
  g_autoptr(GError) error = NULL;
  guint64 n = 0;

  g_assert_true (sluice_catalog_query_count (f->catalog, query, &n, &error));
  g_assert_no_error (error);
  return n;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void
test_sort_every_column (Fixture       *f,
                        gconstpointer  data)
{
  const guint page_sizes[] = { 1, 7, 64 };

  for (SluiceQuerySort sort = 0; sort < SLUICE_QUERY_N_SORTS; sort++)
    for (int desc = 0; desc <= 1; desc++)
      {
        g_autoptr(SluiceQuery) query = sluice_query_new ();
        g_autoptr(GPtrArray) want = oracle (f, sort, desc, NULL);

        sluice_query_set_sort (query, sort, desc);
        g_assert_cmpuint (count (f, query), ==, want->len);
        for (guint p = 0; p < G_N_ELEMENTS (page_sizes); p++)
          {
            g_autoptr(GPtrArray) got = page_all (f, query, page_sizes[p]);
            g_autofree char *what = g_strdup_printf ("sort %d %s, pages of %u", sort,
                                                     desc ? "desc" : "asc", page_sizes[p]);
            assert_same_ids (got, want, what);
          }
      }
}

/* Page sizes at the size of the result, one less and one more; an empty result. */
static void
test_page_boundaries (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(SluiceQuery) query = sluice_query_new ();
  g_autoptr(GPtrArray) want = NULL;
  g_autoptr(GError) error = NULL;
  guint n;

  sluice_query_set_sort (query, SLUICE_QUERY_SORT_DATE_TAKEN, FALSE);
  want = oracle (f, SLUICE_QUERY_SORT_DATE_TAKEN, FALSE, NULL);
  n = want->len;
  for (guint size = n - 1; size <= n + 1; size++)
    {
      g_autoptr(GPtrArray) got = page_all (f, query, size);
      assert_same_ids (got, want, "boundary");
    }
  {
    /* a page of exactly the rest is followed by an empty one */
    g_autoptr(GPtrArray) first = sluice_catalog_query_page (f->catalog, query, NULL, n, &error);
    g_autoptr(GPtrArray) next = NULL;
    g_assert_no_error (error);
    g_assert_cmpuint (first->len, ==, n);
    next = sluice_catalog_query_page (f->catalog, query,
                                      &((SluiceQueryRow *) g_ptr_array_index (first, n - 1))->cursor,
                                      10, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (next->len, ==, 0);
  }

  sluice_query_set_camera (query, "no such camera");
  g_assert_cmpuint (count (f, query), ==, 0);
  {
    g_autoptr(GPtrArray) rows = sluice_catalog_query_page (f->catalog, query, NULL, 10, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (rows->len, ==, 0);
  }
}

static void
test_empty_catalog (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(SluiceQuery) query = sluice_query_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(SluiceQueryAnchors) anchors = NULL;

  for (SluiceQuerySort sort = 0; sort < SLUICE_QUERY_N_SORTS; sort++)
    {
      g_autoptr(GPtrArray) r = NULL;

      sluice_query_set_sort (query, sort, TRUE);
      g_assert_cmpuint (count (f, query), ==, 0);
      r = sluice_catalog_query_page (f->catalog, query, NULL, 100, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (r->len, ==, 0);
    }
  g_assert_cmpint (sluice_catalog_max_file_id (f->catalog, &error), ==, 0);
  anchors = sluice_catalog_query_anchors (f->catalog, query, 4, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sluice_query_anchors_get_n_rows (anchors), ==, 0);
  rows = sluice_query_anchors_page (anchors, f->catalog, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 0);
}

/* Each filter and some combinations: the count, the pages and a plain WHERE agree. */
static void
test_filters (Fixture       *f,
              gconstpointer  data)
{
  struct {
    const char *camera, *lens, *since, *until, *search;
    SluiceQueryGps gps;
    guint states;
    gboolean run2;
    const char *where;
  } cases[] = {
    { "Canon EOS R5", NULL, NULL, NULL, NULL, 0, 0, FALSE, "m.camera = 'Canon EOS R5'" },
    { "NIKON CORPORATION NIKON D850", NULL, NULL, NULL, NULL, 0, 0, FALSE,
      "m.make = 'NIKON CORPORATION' AND m.model = 'NIKON D850'" },
    { NULL, "Zürich 50mm", NULL, NULL, NULL, 0, 0, FALSE, "m.lens_model = 'Zürich 50mm'" },
    { NULL, NULL, "2019-02-11", "2020-03-12", NULL, 0, 0, FALSE,
      "m.datetime_original BETWEEN '2019:02:11' AND '2020:03:12 99'" },
    { NULL, NULL, "2019-02-12", NULL, NULL, 0, 0, FALSE, "m.datetime_original >= '2019:02:12'" },
    { NULL, NULL, NULL, "2019-02-11", NULL, 0, 0, FALSE, "m.datetime_original < '2019:02:12'" },
    { NULL, NULL, NULL, NULL, NULL, SLUICE_QUERY_GPS_WITH, 0, FALSE, "m.gps_latitude IS NOT NULL" },
    { NULL, NULL, NULL, NULL, NULL, SLUICE_QUERY_GPS_WITHOUT, 0, FALSE, "m.gps_latitude IS NULL" },
    { NULL, NULL, NULL, NULL, NULL, 0, SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED), FALSE,
      "(o.state = 4 OR (o.id IS NULL AND EXISTS (SELECT 1 FROM warnings w WHERE "
      "w.file_id = f.id AND w.stage = 'error')))" },
    { NULL, NULL, NULL, NULL, NULL, 0, SLUICE_QUERY_STATE (SLUICE_OBJECT_PENDING) |
      SLUICE_QUERY_STATE (SLUICE_OBJECT_SKIPPED), FALSE,
      "(o.state = 3 OR (o.id IS NULL AND NOT EXISTS (SELECT 1 FROM warnings w WHERE "
      "w.file_id = f.id AND w.stage = 'error')))" },
    { NULL, NULL, NULL, NULL, NULL, 0, 0, TRUE, NULL },
    { "Canon EOS R5", NULL, "2019-01-01", NULL, NULL, SLUICE_QUERY_GPS_WITHOUT,
      SLUICE_QUERY_STATE (SLUICE_OBJECT_UPLOADED), FALSE,
      "m.camera = 'Canon EOS R5' AND m.datetime_original >= '2019:01:01' AND "
      "m.gps_latitude IS NULL AND o.state = 2" },
    { NULL, NULL, NULL, NULL, "holidays", 0, 0, FALSE, "f.relpath LIKE 'Holidays/%'" },
    { NULL, NULL, NULL, NULL, "HOLI img_00", 0, 0, FALSE, "f.relpath LIKE 'Holidays/%/IMG_00%'" },
    { NULL, NULL, NULL, NULL, "zurich", 0, 0, FALSE,
      "(f.relpath LIKE '%Zürich%' OR m.lens_model LIKE 'Zürich%')" },
    { NULL, NULL, NULL, NULL, "\"R5\" canon", 0, 0, FALSE, "m.camera = 'Canon EOS R5'" },
    { "FUJIFILM X-T4", NULL, NULL, NULL, "work", 0, 0, FALSE,
      "m.camera = 'FUJIFILM X-T4' AND f.relpath LIKE 'Work/%'" },
    { NULL, NULL, NULL, NULL, NULL, SLUICE_QUERY_GPS_WITH,
      SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED) | SLUICE_QUERY_STATE (SLUICE_OBJECT_UPLOADED),
      FALSE, "m.gps_latitude IS NOT NULL AND o.state IN (2, 4)" },
    { NULL, NULL, "2019-01-01", NULL, NULL, 0, SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED) |
      SLUICE_QUERY_STATE (SLUICE_OBJECT_PENDING), TRUE,
      "m.datetime_original >= '2019:01:01' AND (o.state IN (0, 4) OR o.id IS NULL)" },
  };

  /* the engine's own choice, then each way a page can be found forced (choose_plan ()) */
  const char *plans[] = { NULL, "walk", "index", "states" };

  for (guint p = 0; p < G_N_ELEMENTS (plans); p++)
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (SluiceQuerySort sort = 0; sort < SLUICE_QUERY_N_SORTS; sort += p == 0 ? 1 : 2)
      {
        g_autoptr(SluiceQuery) query = sluice_query_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) want = NULL;
        g_autoptr(GPtrArray) got = NULL;
        g_autofree char *where = cases[c].run2
          ? g_strdup_printf ("%s%sIFNULL (o.run_id, f.last_run_id) = %d",
                             cases[c].where ? cases[c].where : "", cases[c].where ? " AND " : "",
                             (int) f->run2)
          : g_strdup (cases[c].where);
        g_autofree char *what = g_strdup_printf ("case %u (%s), sort %d, plan %s", c, where,
                                                 sort, plans[p] ? plans[p] : "chosen");

        _sluice_catalog_query_force_plan (plans[p]);

        sluice_query_set_sort (query, sort, c % 2);
        sluice_query_set_camera (query, cases[c].camera);
        sluice_query_set_lens (query, cases[c].lens);
        g_assert_true (sluice_query_set_date_range (query, cases[c].since, cases[c].until,
                                                    &error));
        g_assert_no_error (error);
        sluice_query_set_search (query, cases[c].search);
        sluice_query_set_gps (query, cases[c].gps);
        sluice_query_set_states (query, cases[c].states);
        sluice_query_set_run (query, cases[c].run2 ? f->run2 : 0);
        want = oracle (f, sort, c % 2, where);
        g_assert_cmpuint (want->len, >, 0);
        got = page_all (f, query, 5);
        assert_same_ids (got, want, what);
        g_assert_cmpuint (count (f, query), ==, want->len);
        _sluice_catalog_query_force_plan (NULL);
      }
}

/* Camera and lens are searched through their distinct values, not the full-text index: a
 * word may match a camera only, a lens only, both, or a path and a lens; a phrase must match
 * words in sequence. Each is checked against the rows a plain SQL filter gives. */
static void
test_search_camera_lens (Fixture       *f,
                         gconstpointer  data)
{
  struct {
    const char *search;
    const char *where;
  } cases[] = {
    { "canon", "m.make = 'Canon'" },                                 /* camera only */
    { "NIKON d8", "m.model = 'NIKON D850'" },                        /* two words, one camera */
    { "usm", "m.lens_model = 'RF24-70mm F2.8 L IS USM'" },           /* lens only */
    { "x", "(m.model = 'X-T4' OR m.lens_model = 'XF35mmF1.4 R')" },  /* camera and lens */
    { "zurich", "(f.relpath LIKE '%Zürich%' OR m.lens_model = 'Zürich 50mm')" },
    { "\"eos r5\"", "m.model = 'Canon EOS R5'" },                    /* a phrase */
    { "\"r5 eos\"", "0" },                                           /* not in sequence */
    { "pixel holidays", "m.make IS NULL AND m.model = 'Pixel 7' AND f.relpath LIKE 'Holidays/%'" },
    { "f2", "m.lens_model = 'RF24-70mm F2.8 L IS USM'" },
    { "nothing", "0" },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (SluiceQuerySort sort = 0; sort < SLUICE_QUERY_N_SORTS; sort += 2)
      {
        g_autoptr(SluiceQuery) query = sluice_query_new ();
        g_autoptr(GPtrArray) want = oracle (f, sort, FALSE, cases[c].where);
        g_autoptr(GPtrArray) got = NULL;
        g_autofree char *what = g_strdup_printf ("search %s, sort %d", cases[c].search, sort);

        sluice_query_set_sort (query, sort, FALSE);
        sluice_query_set_search (query, cases[c].search);
        got = page_all (f, query, 7);
        assert_same_ids (got, want, what);
        g_assert_cmpuint (count (f, query), ==, want->len);
        if (!g_str_equal (cases[c].where, "0"))
          g_assert_cmpuint (want->len, >, 0);
      }
}

/* What a later run does to the kept counters: objects re-sent by another run (run and state
 * change), a file under a changed key (a third object), objects removed (by SQL: no API does
 * it yet), a pending file getting its object. */
static void
rerun (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  g_assert_true (sluice_catalog_begin (f->catalog, &error));
  for (guint i = 0; i < f->n_files; i += 5)
    {
      g_autofree char *relpath = g_strdup_printf ("%s/%04u/IMG_%04u%s.jpg",
                                                  i % 3 == 0 ? "Holidays" : "Work", 2018 + i % 7,
                                                  i, i % 13 == 1 ? " Zürich “quoted”" : "");
      g_autofree char *key = g_strdup_printf (i % 10 == 0 ? "photos/%s" : "new/%s", relpath);
      g_autofree char *sha = g_strdup_printf ("%064u", i);
      gint64 source = i % 17 == 16 ? f->source2 : f->source;
      gint64 run = i < f->n_files / 2 ? f->run2 : f->run;
      gint64 file, obj;

      if (i % 23 == 7)
        continue;
      file = sluice_catalog_upsert_file (f->catalog, source, relpath, 1000 * (1 + i % 5),
                                         1000 + i, sha, run, &error);
      g_assert_no_error (error);
      obj = sluice_catalog_begin_object (f->catalog, file, f->target, key, sha, 1000, run,
                                         &error);
      g_assert_no_error (error);
      g_assert_true (sluice_catalog_finish_object (f->catalog, obj,
                                                   i % 4 == 0 ? SLUICE_OBJECT_FAILED :
                                                   SLUICE_OBJECT_UPLOADED, NULL, NULL, NULL,
                                                   &error));
    }
  g_assert_true (sluice_catalog_commit (f->catalog, &error));
  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM objects WHERE id % 7 = 3", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (db);
}

/* Counts come from kept counters, from two partial counts or from joins depending on the
 * filters: every combination of the filters the browser offers equals a brute-force count. */
static void
test_count_every_filter (Fixture       *f,
                         gconstpointer  data)
{
  const char *searches[][2] = { { NULL, NULL }, { "zurich", "(f.relpath LIKE '%Zürich%' OR "
                                                  "m.lens_model = 'Zürich 50mm')" },
                                { "canon", "m.make = 'Canon'" } };
  const char *cameras[][2] = { { NULL, NULL }, { "Canon EOS R5", "m.camera = 'Canon EOS R5'" } };
  const char *dates[][2] = { { NULL, NULL }, { "2020-01-01", "m.datetime_original >= '2020:01:01'" } };
  const char *gps[] = { NULL, "m.gps_latitude IS NOT NULL", "m.gps_latitude IS NULL" };
  const struct { guint mask; const char *where; } states[] = {
    { 0, NULL },
    { SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED),
      "(o.state = 4 OR (o.id IS NULL AND (f.probe_error IS NOT NULL OR EXISTS (SELECT 1 FROM "
      "warnings w WHERE w.file_id = f.id AND w.stage = 'error'))))" },
    { SLUICE_QUERY_STATE (SLUICE_OBJECT_UPLOADED), "o.state = 2" },
    { SLUICE_QUERY_STATE (SLUICE_OBJECT_PENDING) | SLUICE_QUERY_STATE (SLUICE_OBJECT_SKIPPED),
      "(o.state IN (0, 3) OR (o.id IS NULL AND f.probe_error IS NULL AND NOT EXISTS (SELECT 1 "
      "FROM warnings w WHERE w.file_id = f.id AND w.stage = 'error')))" },
    { SLUICE_QUERY_STATE (SLUICE_OBJECT_UPLOADING), "o.state = 1" },
  };

  for (guint pass = 0; pass < 2; pass++)
  {
  if (pass == 1)
    rerun (f);
  for (guint a = 0; a < G_N_ELEMENTS (searches); a++)
    for (guint b = 0; b < G_N_ELEMENTS (cameras); b++)
      for (guint c = 0; c < G_N_ELEMENTS (dates); c++)
        for (guint d = 0; d < G_N_ELEMENTS (gps); d++)
          for (guint e = 0; e < G_N_ELEMENTS (states); e++)
            for (guint r = 0; r < 2; r++)
              {
                g_autoptr(SluiceQuery) query = sluice_query_new ();
                g_autoptr(GError) error = NULL;
                g_autoptr(GString) where = g_string_new ("1");
                g_autoptr(GPtrArray) want = NULL;

                sluice_query_set_search (query, searches[a][0]);
                sluice_query_set_camera (query, cameras[b][0]);
                g_assert_true (sluice_query_set_date_range (query, dates[c][0], NULL, &error));
                sluice_query_set_gps (query, d);
                sluice_query_set_states (query, states[e].mask);
                sluice_query_set_run (query, r ? f->run2 : 0);
                if (searches[a][1] != NULL)
                  g_string_append_printf (where, " AND %s", searches[a][1]);
                if (cameras[b][1] != NULL)
                  g_string_append_printf (where, " AND %s", cameras[b][1]);
                if (dates[c][1] != NULL)
                  g_string_append_printf (where, " AND %s", dates[c][1]);
                if (gps[d] != NULL)
                  g_string_append_printf (where, " AND %s", gps[d]);
                if (states[e].where != NULL)
                  g_string_append_printf (where, " AND %s", states[e].where);
                if (r)
                  g_string_append_printf (where, " AND IFNULL (o.run_id, f.last_run_id) = %d",
                                          (int) f->run2);
                want = oracle (f, SLUICE_QUERY_SORT_INGEST, FALSE, where->str);
                if (count (f, query) != want->len)
                  g_error ("%s: count %" G_GUINT64_FORMAT ", expected %u", where->str,
                           count (f, query), want->len);
              }
  }
}

/* Whatever the user types is never an FTS5 syntax error. */
static void
test_search_user_text (Fixture       *f,
                       gconstpointer  data)
{
  const char *texts[] = {
    "\"", "\"\"", "\"unterminated", "a\"b\"c", "AND", "OR OR", "NOT img", "NEAR(a b)",
    "img*", "*", "^img", "path:img", "(", ")", "{path}", "-", "+", "\\", "'", "'; DROP TABLE files;",
    "Zürich", "ZÜRICH", "zurich", "日本", "🙂", "\xff\xfe", "img_0001", "IMG 0001 jpg",
    "   ", "a b c d e f g h i j k l m n o p q r s t u v w x y z",
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(SluiceQuery) query = sluice_query_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rows = NULL;
      guint64 n = 0;

      sluice_query_set_search (query, texts[i]);
      g_assert_true (sluice_catalog_query_count (f->catalog, query, &n, &error));
      g_assert_no_error (error);
      rows = sluice_catalog_query_page (f->catalog, query, NULL, 10, &error);
      g_assert_no_error (error);
      g_assert_nonnull (rows);
    }
  {
    g_autoptr(SluiceQuery) query = sluice_query_new ();
    g_autoptr(SluiceQuery) accents = sluice_query_new ();

    /* diacritics do not matter, case does not matter; a phrase must be adjacent */
    sluice_query_set_search (query, "ZURICH");
    sluice_query_set_search (accents, "zürich");
    g_assert_cmpuint (count (f, query), ==, count (f, accents));
    g_assert_cmpuint (count (f, query), >, 0);
    sluice_query_set_search (query, "\"EOS R5\"");
    sluice_query_set_search (accents, "\"R5 EOS\"");
    g_assert_cmpuint (count (f, query), >, 0);
    g_assert_cmpuint (count (f, accents), ==, 0);
  }
}

static gint64
sql_int (Fixture    *f,
         const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &s, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  sqlite3_close (db);
  return value;
}

static gint64
add_file (Fixture    *f,
          const char *relpath)
{
  g_autoptr(GError) error = NULL;
  gint64 file;

  g_assert_true (sluice_catalog_begin (f->catalog, &error));
  file = sluice_catalog_upsert_file (f->catalog, f->source, relpath, 5, 5, NULL, f->run, &error);
  g_assert_no_error (error);
  g_assert_true (sluice_catalog_commit (f->catalog, &error));
  return file;
}

/*
 * New paths wait in search_pending until the writer moves them into the full-text index in one
 * go (schema 5). A search finds the same rows before and after, by the same word rules, and a
 * file deleted before or after it was indexed leaves the index as it should be.
 */
static void
test_search_pending (Fixture       *f,
                     gconstpointer  data)
{
  const char *searches[] = {
    "zurich", "ZÜRICH", "holidays", "work 2019", "\"Work 2019\"", "img_0001", "img_01",
    "2020 quoted", "jpg", "“quoted”", "canon", "oliday", "IMG 0001 jpg",
  };
  guint64 before[G_N_ELEMENTS (searches)];
  g_autoptr(GError) error = NULL;
  gint64 indexed_gone, pending_gone, pending_kept;

  /* the fixture wrote through the catalog API, as a writer does between two index runs */
  g_assert_cmpint (sql_int (f, "SELECT count(*) FROM search_pending"), ==,
                   sql_int (f, "SELECT count(*) FROM files"));
  for (guint i = 0; i < G_N_ELEMENTS (searches); i++)
    {
      g_autoptr(SluiceQuery) query = sluice_query_new ();

      sluice_query_set_search (query, searches[i]);
      before[i] = count (f, query);
    }
  g_assert_cmpuint (before[0], >, 0);
  g_assert_cmpuint (before[0], ==, before[1]);
  /* img_0001: IMG_0001 (in two targets); img_01: the last word is a prefix, IMG_0100… */
  g_assert_cmpuint (before[5], ==, 2);
  g_assert_cmpuint (before[6], >, 10);
  g_assert_cmpuint (before[11], ==, 0);       /* a word's middle is not a word */

  g_assert_true (sluice_catalog_index_pending (f->catalog, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sql_int (f, "SELECT count(*) FROM search_pending"), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (searches); i++)
    {
      g_autoptr(SluiceQuery) query = sluice_query_new ();

      sluice_query_set_search (query, searches[i]);
      if (count (f, query) != before[i])
        g_error ("\"%s\": %" G_GUINT64_FORMAT " rows indexed, %" G_GUINT64_FORMAT " pending",
                 searches[i], count (f, query), before[i]);
    }

  /* one indexed and two new files, each with a word of its own; delete one of each kind */
  indexed_gone = add_file (f, "gone/indexedword.jpg");
  g_assert_true (sluice_catalog_index_pending (f->catalog, &error));
  pending_gone = add_file (f, "gone/pendingword.jpg");
  pending_kept = add_file (f, "kept/pendingword keptword.jpg");
  {
    g_autoptr(SluiceQuery) query = sluice_query_new ();

    sluice_query_set_search (query, "pendingword");
    g_assert_cmpuint (count (f, query), ==, 2);
    sluice_query_set_search (query, "indexedword");
    g_assert_cmpuint (count (f, query), ==, 1);
  }
  {
    g_autofree char *sql = g_strdup_printf ("DELETE FROM files WHERE id IN (%" G_GINT64_FORMAT
                                            ", %" G_GINT64_FORMAT ")", indexed_gone,
                                            pending_gone);
    sqlite3 *db = NULL;

    g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
    sqlite3_busy_timeout (db, 5000);
    g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }
  g_assert_cmpint (sql_int (f, "SELECT count(*) FROM search_pending"), ==, 1);
  g_assert_true (sluice_catalog_index_pending (f->catalog, &error));
  g_assert_no_error (error);
  /* the index itself, not only the joined result: the deleted path's word is gone from it, and
   * the one kept is there once */
  g_assert_cmpint (sql_int (f, "SELECT count(*) FROM catalog_search "
                               "WHERE catalog_search MATCH 'indexedword'"), ==, 0);
  g_assert_cmpint (sql_int (f, "SELECT count(*) FROM catalog_search "
                               "WHERE catalog_search MATCH 'pendingword'"), ==, 1);
  g_assert_cmpint (sql_int (f, "SELECT rowid FROM catalog_search "
                               "WHERE catalog_search MATCH 'keptword'"), ==, pending_kept);
  g_assert_cmpint (sql_int (f, "SELECT count(*) FROM search_pending"), ==, 0);
  {
    sqlite3 *db = NULL;

    g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, "INSERT INTO catalog_search (catalog_search) "
                                       "VALUES ('integrity-check')", NULL, NULL, NULL),
                     ==, SQLITE_OK);
    sqlite3_close (db);
  }
}

/* Random access: a page at any position equals the same slice of the whole order. */
static void
test_anchors (Fixture       *f,
              gconstpointer  data)
{
  const SluiceQuerySort sorts[] = { SLUICE_QUERY_SORT_INGEST, SLUICE_QUERY_SORT_DATE_TAKEN,
                                    SLUICE_QUERY_SORT_KEY, SLUICE_QUERY_SORT_ISO };

  for (guint k = 0; k < G_N_ELEMENTS (sorts); k++)
    {
      g_autoptr(SluiceQuery) query = sluice_query_new ();
      g_autoptr(SluiceQueryAnchors) anchors = NULL;
      g_autoptr(GPtrArray) want = oracle (f, sorts[k], k % 2, NULL);
      g_autoptr(GError) error = NULL;

      sluice_query_set_sort (query, sorts[k], k % 2);
      anchors = sluice_catalog_query_anchors (f->catalog, query, 16, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (sluice_query_anchors_get_n_rows (anchors), ==, want->len);
      for (guint pos = 0; pos <= want->len + 2; pos += 7)
        {
          g_autoptr(GPtrArray) rows = sluice_query_anchors_page (anchors, f->catalog, pos, 10,
                                                                 &error);
          g_assert_no_error (error);
          g_assert_cmpuint (rows->len, ==, MIN (10, pos < want->len ? want->len - pos : 0));
          for (guint i = 0; i < rows->len; i++)
            {
              SluiceQueryRow *row = g_ptr_array_index (rows, i);
              g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                                                     row->file_id, row->object_id);
              g_assert_cmpstr (id, ==, g_ptr_array_index (want, pos + i));
            }
        }
    }
}

/* While an ingest runs: the highest id, how many new rows match, which ones. */
static void
test_new_rows (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(SluiceQuery) query = sluice_query_new ();
  g_autoptr(SluiceCatalog) reader = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;
  gint64 max;
  guint64 n = 1;
  guint before = f->n_files;

  reader = sluice_catalog_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  max = sluice_catalog_max_file_id (reader, &error);
  g_assert_cmpint (max, >, 0);
  g_assert_true (sluice_catalog_query_count_new (reader, query, max, &n, &error));
  g_assert_cmpuint (n, ==, 0);

  /* the writer adds files while the reader keeps its connection */
  fill (f, before + 40);
  g_assert_true (sluice_catalog_query_count_new (reader, query, max, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, >, 0);
  rows = sluice_catalog_query_new_rows (reader, query, max, 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, n);
  for (guint i = 0; i < rows->len; i++)
    {
      SluiceQueryRow *row = g_ptr_array_index (rows, i);
      g_assert_cmpint (row->file_id, >, max);
      if (i > 0)
        g_assert_cmpint (row->file_id, >=, ((SluiceQueryRow *) g_ptr_array_index (rows, i - 1))->file_id);
    }
  sluice_query_set_camera (query, "Canon EOS R5");
  g_assert_true (sluice_catalog_query_count_new (reader, query, max, &n, &error));
  g_assert_cmpuint (n, <, rows->len);
}

static void
test_detail (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(SluiceQuery) query = sluice_query_new ();
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) cameras = NULL;
  g_autoptr(GPtrArray) lens_list = NULL;
  g_autoptr(GPtrArray) runs = NULL;
  guint seen_thumb = 0, seen_gps = 0, seen_none = 0;

  rows = sluice_catalog_query_page (f->catalog, query, NULL, 1000, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < rows->len; i++)
    {
      SluiceQueryRow *row = g_ptr_array_index (rows, i);
      g_autoptr(SluiceQueryDetail) d = sluice_catalog_query_detail (f->catalog, row->file_id,
                                                                    row->object_id, &error);
      g_autoptr(GBytes) thumb = sluice_catalog_get_thumbnail (f->catalog, row->file_id, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (d->relpath, ==, row->relpath);
      g_assert_true (g_str_has_prefix (d->folder, d->source));
      g_assert_cmpint (d->state, ==, row->state);
      g_assert_cmpstr (d->key, ==, row->key);
      g_assert_cmpint (d->has_gps, ==, row->has_gps);
      if (row->object_id != 0)
        {
          g_autofree char *uri = g_strdup_printf ("s3://%s/%s", d->bucket, row->key);
          g_assert_cmpstr (d->s3_uri, ==, uri);
        }
      else
        {
          g_assert_null (d->s3_uri);
          seen_none++;
        }
      if (row->has_thumbnail)
        {
          g_assert_nonnull (thumb);
          g_assert_true (g_str_has_prefix (g_bytes_get_data (thumb, NULL), "thumb-"));
          seen_thumb++;
        }
      else
        g_assert_null (thumb);
      if (d->has_gps)
        {
          g_assert_cmpfloat_with_epsilon (d->metadata->gps_latitude, 47.3, 1e-9);
          seen_gps++;
        }
      if (d->metadata != NULL)
        g_assert_cmpstr (d->metadata->lens_model, ==, row->lens);
      {
        /* where the file is, for decoding its picture: as the detail says */
        g_autofree char *path = NULL, *sha256 = NULL, *container = NULL;
        g_autofree char *name = g_path_get_basename (d->relpath);
        g_autofree char *expected = g_build_filename (d->folder, name, NULL);
        gboolean probed = FALSE;

        g_assert_true (sluice_catalog_get_file_source (f->catalog, row->file_id, &path, &sha256,
                                                       &probed, &container, &error));
        g_assert_no_error (error);
        g_assert_cmpstr (path, ==, expected);
        g_assert_cmpstr (sha256, ==, d->sha256);
        g_assert_cmpint (probed, ==, d->metadata != NULL);
        g_assert_cmpstr (container, ==, d->metadata != NULL ? d->metadata->container : NULL);
      }
    }
  g_assert_cmpuint (seen_thumb, >, 0);
  g_assert_cmpuint (seen_gps, >, 0);
  g_assert_cmpuint (seen_none, >, 0);
  g_assert_null (sluice_catalog_query_detail (f->catalog, 999999, 0, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  {
    g_autofree char *path = NULL, *sha256 = NULL, *container = NULL;
    gboolean probed = FALSE;

    g_assert_false (sluice_catalog_get_file_source (f->catalog, 999999, &path, &sha256, &probed,
                                                    &container, &error));
    g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NOT_FOUND);
    g_assert_null (path);
    g_clear_error (&error);
  }

  cameras = sluice_catalog_list_cameras (f->catalog, &error);
  g_assert_no_error (error);
  /* four make + model names, and three makes of files without a model */
  g_assert_cmpuint (cameras->len, ==, 7);
  g_assert_cmpstr (g_ptr_array_index (cameras, 0), ==, "Canon");
  g_assert_cmpstr (g_ptr_array_index (cameras, 1), ==, "Canon EOS R5");
  lens_list = sluice_catalog_list_lenses (f->catalog, &error);
  g_assert_cmpuint (lens_list->len, ==, 3);
  runs = sluice_catalog_list_runs (f->catalog, &error);
  g_assert_cmpuint (runs->len, ==, 2);
  g_assert_cmpint (((SluiceCatalogRun *) g_ptr_array_index (runs, 0))->id, ==, f->run2);
}

static void
test_bad_dates (void)
{
  const char *bad[] = { "2024-02-30", "2024-13-01", "24-01-01", "2024/01/01", "2024-1-1",
                        "", "yesterday", "2024-01-01T00:00" };
  g_autoptr(SluiceQuery) query = sluice_query_new ();

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (sluice_query_set_date_range (query, bad[i], NULL, &error));
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (sluice_query_set_date_range (query, "2024-02-01", "2024-01-01", &error));
    g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT);
  }
  g_assert_true (sluice_query_set_date_range (query, "2024-02-29", "2024-02-29", NULL));
}

typedef struct {
  GString *text;
} Sink;

static char *
export_text (Fixture           *f,
             const SluiceQuery *query,
             SluiceExportFormat format,
             guint64           *out_rows)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  g_assert_true (sluice_export_query (f->catalog, query, format, out, out_rows, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  return g_strndup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)),
                    g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)));
}

/* A filtered manifest has exactly the view's rows, in its order; CSV quoting and formula
 * protection, JSON escaping hold for it as for the whole catalog. */
static void
test_export_filtered (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(SluiceQuery) query = sluice_query_new ();
  g_autoptr(SluiceQuery) all = sluice_query_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *jsonl = NULL;
  g_autofree char *whole = NULL;
  g_autofree char *whole_query = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  guint64 n = 0;
  gint64 file;

  /* a formula-looking, quote- and comma-holding path */
  g_assert_true (sluice_catalog_begin (f->catalog, &error));
  file = sluice_catalog_upsert_file (f->catalog, f->source, "=HYPERLINK(\"x\"),\n\"Zürich\".jpg",
                                     5, 5, NULL, f->run, &error);
  g_assert_cmpint (file, >, 0);
  g_assert_true (sluice_catalog_commit (f->catalog, &error));

  sluice_query_set_search (query, "hyperlink");
  csv = export_text (f, query, SLUICE_EXPORT_CSV, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_nonnull (strstr (csv, "\"'=HYPERLINK(\"\"x\"\"),\n\"\"Zürich\"\".jpg\""));
  jsonl = export_text (f, query, SLUICE_EXPORT_JSONL, &n);
  g_assert_nonnull (strstr (jsonl, "\"path\":\"=HYPERLINK(\\\"x\\\"),\\n\\\"Zürich\\\".jpg\""));

  /* the view's rows in its order */
  g_clear_pointer (&csv, g_free);
  sluice_query_set_search (query, NULL);
  sluice_query_set_sort (query, SLUICE_QUERY_SORT_SIZE, TRUE);
  sluice_query_set_camera (query, "FUJIFILM X-T4");
  csv = export_text (f, query, SLUICE_EXPORT_CSV, &n);
  rows = sluice_catalog_query_page (f->catalog, query, NULL, 10000, &error);
  g_assert_cmpuint (n, ==, rows->len);
  g_assert_cmpuint (n, >, 3);
  lines = g_strsplit (csv, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, n + 2);   /* header, rows, "" */
  for (guint i = 0; i < rows->len; i++)
    {
      SluiceQueryRow *row = g_ptr_array_index (rows, i);
      g_assert_true (g_str_has_prefix (lines[i + 1], row->relpath));
      g_assert_nonnull (strstr (lines[i + 1], ",FUJIFILM,X-T4,"));
    }

  /* no query: the manifest as before; a query without filters: the same rows */
  whole = export_text (f, NULL, SLUICE_EXPORT_CSV, &n);
  whole_query = export_text (f, all, SLUICE_EXPORT_CSV, NULL);
  g_assert_cmpstr (whole, ==, whole_query);
  g_assert_cmpuint (n, ==, count (f, all));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, n, func) \
  g_test_add ("/engine/catalog-query/" path, Fixture, GUINT_TO_POINTER (n), fixture_set_up, \
              func, fixture_tear_down)
  ADD ("sort-every-column", 300, test_sort_every_column);
  ADD ("page-boundaries", 120, test_page_boundaries);
  ADD ("empty-catalog", 0, test_empty_catalog);
  ADD ("filters", 300, test_filters);
  ADD ("search-user-text", 120, test_search_user_text);
  ADD ("search-camera-lens", 150, test_search_camera_lens);
  ADD ("search-pending", 120, test_search_pending);
  ADD ("count-every-filter", 150, test_count_every_filter);
  ADD ("anchors", 200, test_anchors);
  ADD ("new-rows", 100, test_new_rows);
  ADD ("detail", 120, test_detail);
  ADD ("export-filtered", 200, test_export_filtered);
  g_test_add_func ("/engine/catalog-query/bad-dates", test_bad_dates);
#undef ADD
  return g_test_run ();
}
