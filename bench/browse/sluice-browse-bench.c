/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-browse-bench"

#include "config.h"

#include <stdio.h>

#include "sluice-engine.h"

/*
 * What the metadata browser does, timed against a big catalog (sluice-catalog-gen), through a
 * read-only connection as the app's worker uses: open and the first page, sort by date taken,
 * filter by camera, search a word, pages at deep positions (anchors), steady scrolling, the
 * filter menus, and a 100,000-row export. Prints one line per action; the interactive ones
 * should stay under 100 ms.
 *
 * First a table: for each filter the UI offers, alone and in common pairs, the count and the
 * first page in every sort order.
 *
 *   sluice-browse-bench CATALOG [--search WORD] [--camera NAME] [--lens NAME] [--matrix]
 */

#define PAGE 100

static double
ms_since (gint64 t0)
{
  return (g_get_monotonic_time () - t0) / 1000.0;
}

static void
report (const char *what,
        double      ms,
        const char *note)
{
  g_print ("%-44s %9.1f ms%s%s%s\n", what, ms, ms > 100 ? "  (over 100 ms)" : "",
           note ? "  " : "", note ? note : "");
}

/* count + first page, as the browser does when the query changes */
static SluiceQueryCursor *
first_view (SluiceCatalog     *catalog,
            const SluiceQuery *query,
            const char        *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *note = NULL;
  guint64 n = 0;
  double count_ms, page_ms;
  gint64 t0 = g_get_monotonic_time ();

  if (!sluice_catalog_query_count (catalog, query, &n, &error))
    g_error ("%s", error->message);
  count_ms = ms_since (t0);
  t0 = g_get_monotonic_time ();
  rows = sluice_catalog_query_page (catalog, query, NULL, PAGE, &error);
  if (rows == NULL)
    g_error ("%s", error->message);
  page_ms = ms_since (t0);
  note = g_strdup_printf ("(count %.1f ms: %" G_GUINT64_FORMAT " rows; first page %.1f ms)",
                          count_ms, n, page_ms);
  report (what, count_ms + page_ms, note);
  if (rows->len == 0)
    return NULL;
  return sluice_query_cursor_copy (&((SluiceQueryRow *) g_ptr_array_index (rows, rows->len - 1))->cursor);
}

/* 200 consecutive pages from @after: the scroll's worst and mean page */
static void
scroll (SluiceCatalog           *catalog,
        const SluiceQuery       *query,
        const SluiceQueryCursor *start,
        const char              *what)
{
  g_autoptr(SluiceQueryCursor) after = start ? sluice_query_cursor_copy (start) : NULL;
  double worst = 0, total = 0;
  guint pages = 0;
  g_autofree char *note = NULL;

  for (; pages < 200; pages++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rows = NULL;
      gint64 t0 = g_get_monotonic_time ();
      double ms;

      rows = sluice_catalog_query_page (catalog, query, after, PAGE, &error);
      if (rows == NULL)
        g_error ("%s", error->message);
      ms = ms_since (t0);
      worst = MAX (worst, ms);
      total += ms;
      if (rows->len < PAGE)
        break;
      g_clear_pointer (&after, sluice_query_cursor_free);
      after = sluice_query_cursor_copy (&((SluiceQueryRow *) g_ptr_array_index (rows, rows->len - 1))->cursor);
    }
  note = g_strdup_printf ("(worst of %u pages of %d; mean %.2f ms)", pages, PAGE,
                          total / MAX (pages, 1));
  report (what, worst, note);
}

static void
deep_pages (SluiceCatalog     *catalog,
            const SluiceQuery *query,
            const char        *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceQueryAnchors) anchors = NULL;
  g_autofree char *note = NULL;
  guint64 n;
  gint64 t0 = g_get_monotonic_time ();
  double worst = 0;

  anchors = sluice_catalog_query_anchors (catalog, query, SLUICE_QUERY_ANCHOR_STRIDE, NULL,
                                          &error);
  if (anchors == NULL)
    g_error ("%s", error->message);
  n = sluice_query_anchors_get_n_rows (anchors);
  note = g_strdup_printf ("(%" G_GUINT64_FORMAT " rows, once per query, on a worker)", n);
  g_print ("%-44s %9.1f ms  %s\n", g_strdup_printf ("%s: anchors", what), ms_since (t0), note);
  for (guint i = 0; i <= 10; i++)
    {
      guint64 pos = n > PAGE ? (n - PAGE) / 10 * i + i * 37 % SLUICE_QUERY_ANCHOR_STRIDE : 0;
      g_autoptr(GPtrArray) rows = NULL;
      double ms;

      pos = MIN (pos, n > PAGE ? n - PAGE : 0);
      t0 = g_get_monotonic_time ();
      rows = sluice_query_anchors_page (anchors, catalog, pos, PAGE, &error);
      if (rows == NULL)
        g_error ("%s", error->message);
      ms = ms_since (t0);
      worst = MAX (worst, ms);
    }
  g_clear_pointer (&note, g_free);
  note = g_strdup_printf ("(worst of 11 pages at 0 %%, 10 %%, … 100 %% of the list)");
  report (g_strdup_printf ("%s: page at any position", what), worst, note);
}

/* The first view of one query in every sort order, ascending: the count once (it does not
 * depend on the order) and the first page per order. One line per filter; the last column is
 * the worst count + first page, which must stay under 100 ms. */
static const char *const sort_names[SLUICE_QUERY_N_SORTS] = {
  "ingest", "name", "date", "camera", "lens", "expo", "iso", "focal", "size", "state", "key",
};

static void
matrix_header (void)
{
  g_print ("\n%-30s %8s %8s", "filter (count + first page)", "rows", "count");
  for (guint i = 0; i < SLUICE_QUERY_N_SORTS; i++)
    g_print (" %6s", sort_names[i]);
  g_print (" %8s\n", "worst");
}

static double
matrix_line (SluiceCatalog *catalog,
             SluiceQuery   *query,
             const char    *what)
{
  g_autoptr(GError) error = NULL;
  guint64 n = 0;
  double count_ms, worst = 0;
  gint64 t0 = g_get_monotonic_time ();

  if (!sluice_catalog_query_count (catalog, query, &n, &error))
    g_error ("%s", error->message);
  count_ms = ms_since (t0);
  g_print ("%-30s %8" G_GUINT64_FORMAT " %8.1f", what, n, count_ms);
  for (SluiceQuerySort sort = 0; sort < SLUICE_QUERY_N_SORTS; sort++)
    {
      g_autoptr(GPtrArray) rows = NULL;
      double ms;

      sluice_query_set_sort (query, sort, FALSE);
      t0 = g_get_monotonic_time ();
      rows = sluice_catalog_query_page (catalog, query, NULL, PAGE, &error);
      if (rows == NULL)
        g_error ("%s", error->message);
      ms = ms_since (t0);
      worst = MAX (worst, ms);
      g_print (" %6.1f", ms);
    }
  g_print (" %8.1f%s\n", count_ms + worst, count_ms + worst > 100 ? "  (over 100 ms)" : "");
  sluice_query_set_sort (query, SLUICE_QUERY_SORT_INGEST, FALSE);
  return count_ms + worst;
}

static const char *matrix_only;   /* --only: the lines whose name contains it */

static void
matrix (SluiceCatalog *catalog,
        const char    *search,
        const char    *camera,
        const char    *lens,
        gint64         run_id)
{
  g_autoptr(GError) error = NULL;
  guint over = 0, lines = 0;
  double worst = 0;
  struct {
    const char *what;
    const char *search;
    const char *camera;
    const char *lens;
    const char *since, *until;
    SluiceQueryGps gps;
    guint states;
    gboolean run;
  } filters[] = {
    { "no filter" },
    { "search a path word", search },
    { "search a camera word", "nikon" },
    { "search a lens word", "gm" },
    { "search two words", "zürich d850" },
    { "search a rare word", "000123" },
    { "camera", NULL, camera },
    { "lens", NULL, NULL, lens },
    { "date range (a year)", NULL, NULL, NULL, "2016-01-01", "2016-12-31" },
    { "date range (a month)", NULL, NULL, NULL, "2016-06-01", "2016-06-30" },
    { "has GPS", .gps = SLUICE_QUERY_GPS_WITH },
    { "has no GPS", .gps = SLUICE_QUERY_GPS_WITHOUT },
    { "state failed", .states = SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED) },
    { "state uploaded", .states = SLUICE_QUERY_STATE (SLUICE_OBJECT_UPLOADED) },
    { "state uploading (none)", .states = SLUICE_QUERY_STATE (SLUICE_OBJECT_UPLOADING) },
    { "run", .run = TRUE },
    { "camera + date range", NULL, camera, NULL, "2016-01-01", "2016-12-31" },
    { "camera + failed", NULL, camera, .states = SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED) },
    { "camera + GPS", NULL, camera, .gps = SLUICE_QUERY_GPS_WITH },
    { "search + camera", search, camera },
    { "search + failed", search, .states = SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED) },
    { "failed + GPS", .gps = SLUICE_QUERY_GPS_WITH,
      .states = SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED) },
    { "failed + date range", NULL, NULL, NULL, "2016-01-01", "2016-12-31",
      .states = SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED) },
    { "GPS + date range", NULL, NULL, NULL, "2016-01-01", "2016-12-31", SLUICE_QUERY_GPS_WITH },
    { "lens + camera", NULL, camera, lens },
  };

  matrix_header ();
  for (guint i = 0; i < G_N_ELEMENTS (filters); i++)
    {
      g_autoptr(SluiceQuery) query = sluice_query_new ();
      double ms;

      if (matrix_only != NULL && strstr (filters[i].what, matrix_only) == NULL)
        continue;
      sluice_query_set_search (query, filters[i].search);
      sluice_query_set_camera (query, filters[i].camera);
      sluice_query_set_lens (query, filters[i].lens);
      if (!sluice_query_set_date_range (query, filters[i].since, filters[i].until, &error))
        g_error ("%s", error->message);
      sluice_query_set_gps (query, filters[i].gps);
      sluice_query_set_states (query, filters[i].states);
      sluice_query_set_run (query, filters[i].run ? run_id : 0);
      ms = matrix_line (catalog, query, filters[i].what);
      worst = MAX (worst, ms);
      over += ms > 100;
      lines++;
    }
  g_print ("%u of %u filters over 100 ms (count + slowest first page); worst %.1f ms\n\n",
           over, lines, worst);
}

static gboolean
count_row (const SluiceValue *values,
           gpointer           user_data,
           GError           **error)
{
  (*(guint64 *) user_data)++;
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(SluiceCatalog) catalog = NULL;
  g_autoptr(SluiceQuery) query = NULL;
  g_autoptr(SluiceQueryCursor) cursor = NULL;
  g_autoptr(GPtrArray) cameras = NULL;
  g_autoptr(GPtrArray) lenses = NULL;
  g_autofree char *search = g_strdup ("wedding");
  g_autofree char *camera = g_strdup ("NIKON CORPORATION NIKON D850");
  g_autofree char *lens = g_strdup ("FE 24-70mm F2.8 GM");
  gboolean only_matrix = FALSE;
  g_autofree char *since = g_strdup ("2016-01-01");
  g_autofree char *until = g_strdup ("2016-12-31");
  g_autofree char *note = NULL;
  gint64 t0;
  GOptionEntry entries[] = {
    { "search", 0, 0, G_OPTION_ARG_STRING, &search, "Word to search", "WORD" },
    { "camera", 0, 0, G_OPTION_ARG_STRING, &camera, "Camera to filter by", "NAME" },
    { "lens", 0, 0, G_OPTION_ARG_STRING, &lens, "Lens to filter by", "NAME" },
    { "matrix", 0, 0, G_OPTION_ARG_NONE, &only_matrix, "Only the filters × sorts table", NULL },
    { "only", 0, 0, G_OPTION_ARG_STRING, &matrix_only, "Only the matrix lines naming this",
      "TEXT" },
    { "since", 0, 0, G_OPTION_ARG_STRING, &since, "Export from", "YYYY-MM-DD" },
    { "until", 0, 0, G_OPTION_ARG_STRING, &until, "Export to", "YYYY-MM-DD" },
    { NULL }
  };

  ctx = g_option_context_new ("CATALOG — time the metadata browser's queries");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    {
      g_printerr ("sluice-browse-bench: %s\n", error ? error->message : "give a catalog");
      return 2;
    }

  t0 = g_get_monotonic_time ();
  catalog = sluice_catalog_open (argv[1], TRUE, &error);
  if (catalog == NULL)
    g_error ("%s", error->message);
  report ("open the catalog (read-only connection)", ms_since (t0), NULL);

  {
    g_autoptr(GPtrArray) runs = sluice_catalog_list_runs (catalog, &error);

    g_assert (runs != NULL);
    matrix (catalog, search, camera, lens,
            runs->len > 0 ? ((SluiceCatalogRun *) g_ptr_array_index (runs, 0))->id : 1);
  }
  if (only_matrix)
    return 0;

  query = sluice_query_new ();
  cursor = first_view (catalog, query, "open: count + first page (ingest order)");
  scroll (catalog, query, cursor, "scroll (ingest order)");
  g_clear_pointer (&cursor, sluice_query_cursor_free);

  sluice_query_set_sort (query, SLUICE_QUERY_SORT_DATE_TAKEN, FALSE);
  cursor = first_view (catalog, query, "sort by date taken");
  scroll (catalog, query, cursor, "scroll (date taken)");
  g_clear_pointer (&cursor, sluice_query_cursor_free);
  sluice_query_set_sort (query, SLUICE_QUERY_SORT_DATE_TAKEN, TRUE);
  g_clear_pointer (&cursor, sluice_query_cursor_free);
  cursor = first_view (catalog, query, "sort by date taken, descending");
  g_clear_pointer (&cursor, sluice_query_cursor_free);

  for (SluiceQuerySort sort = SLUICE_QUERY_SORT_NAME; sort < SLUICE_QUERY_N_SORTS; sort++)
    {
      g_autofree char *what = g_strdup_printf ("sort by column %d", sort);
      sluice_query_set_sort (query, sort, sort % 2);
      g_clear_pointer (&cursor, sluice_query_cursor_free);
      cursor = first_view (catalog, query, what);
    }
  g_clear_pointer (&cursor, sluice_query_cursor_free);

  sluice_query_set_sort (query, SLUICE_QUERY_SORT_DATE_TAKEN, FALSE);
  deep_pages (catalog, query, "date taken");
  sluice_query_set_sort (query, SLUICE_QUERY_SORT_INGEST, FALSE);
  deep_pages (catalog, query, "ingest order");

  sluice_query_set_sort (query, SLUICE_QUERY_SORT_DATE_TAKEN, FALSE);
  sluice_query_set_camera (query, camera);
  cursor = first_view (catalog, query, "filter by camera (sorted by date)");
  scroll (catalog, query, cursor, "scroll (camera filter)");
  g_clear_pointer (&cursor, sluice_query_cursor_free);
  sluice_query_set_camera (query, NULL);

  sluice_query_set_search (query, search);
  cursor = first_view (catalog, query, "search a word (sorted by date)");
  g_clear_pointer (&cursor, sluice_query_cursor_free);
  sluice_query_set_sort (query, SLUICE_QUERY_SORT_INGEST, FALSE);
  cursor = first_view (catalog, query, "search a word (ingest order)");
  g_clear_pointer (&cursor, sluice_query_cursor_free);
  sluice_query_set_search (query, "zürich d850");
  cursor = first_view (catalog, query, "search two words");
  g_clear_pointer (&cursor, sluice_query_cursor_free);
  sluice_query_set_search (query, NULL);

  sluice_query_set_states (query, SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED));
  cursor = first_view (catalog, query, "filter state failed");
  g_clear_pointer (&cursor, sluice_query_cursor_free);
  sluice_query_set_states (query, 0);
  sluice_query_set_gps (query, SLUICE_QUERY_GPS_WITH);
  cursor = first_view (catalog, query, "filter has GPS");
  g_clear_pointer (&cursor, sluice_query_cursor_free);
  sluice_query_set_gps (query, SLUICE_QUERY_GPS_ANY);

  t0 = g_get_monotonic_time ();
  cameras = sluice_catalog_list_cameras (catalog, &error);
  lenses = sluice_catalog_list_lenses (catalog, &error);
  g_assert (cameras != NULL && lenses != NULL);
  note = g_strdup_printf ("(%u cameras, %u lenses)", cameras->len, lenses->len);
  report ("filter menus: cameras + lenses", ms_since (t0), note);

  t0 = g_get_monotonic_time ();
  {
    gint64 max = sluice_catalog_max_file_id (catalog, &error);
    guint64 n_new = 0;
    g_autoptr(GPtrArray) rows = NULL;

    sluice_catalog_query_count_new (catalog, query, max - 500, &n_new, &error);
    rows = sluice_catalog_query_new_rows (catalog, query, max - 500, PAGE, &error);
    g_assert (rows != NULL);
    g_clear_pointer (&note, g_free);
    note = g_strdup_printf ("(%" G_GUINT64_FORMAT " new rows)", n_new);
    report ("live: max id + count new + new rows", ms_since (t0), note);
  }

  {
    g_autoptr(SluiceQuery) export = sluice_query_new ();
    g_autoptr(GFile) devnull = g_file_new_for_path ("/dev/null");
    g_autoptr(GOutputStream) out = NULL;
    guint64 rows = 0;
    double ms;

    sluice_query_set_sort (export, SLUICE_QUERY_SORT_DATE_TAKEN, FALSE);
    if (!sluice_query_set_date_range (export, since, until, &error))
      g_error ("%s", error->message);
    out = G_OUTPUT_STREAM (g_file_append_to (devnull, G_FILE_CREATE_NONE, NULL, &error));
    t0 = g_get_monotonic_time ();
    if (!sluice_export_query (catalog, export, SLUICE_EXPORT_CSV, out, &rows, NULL, &error))
      g_error ("%s", error->message);
    ms = ms_since (t0);
    g_clear_pointer (&note, g_free);
    note = g_strdup_printf ("(%" G_GUINT64_FORMAT " rows of %s … %s, %.0f rows/s; not "
                            "interactive)", rows, since, until, rows / (ms / 1000));
    g_print ("%-44s %9.1f ms  %s\n", "export CSV, date range", ms, note);

    t0 = g_get_monotonic_time ();
    rows = 0;
    if (!sluice_catalog_query_export_rows (catalog, export, count_row, &rows, NULL, &error))
      g_error ("%s", error->message);
    ms = ms_since (t0);
    g_clear_pointer (&note, g_free);
    note = g_strdup_printf ("(%" G_GUINT64_FORMAT " rows: the query alone, no formatting)", rows);
    g_print ("%-44s %9.1f ms  %s\n", "export rows, date range", ms, note);
  }
  return 0;
}
