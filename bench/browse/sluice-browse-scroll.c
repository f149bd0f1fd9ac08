/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-browse-scroll"

#include "config.h"

#include <adwaita.h>
#include <stdlib.h>

#include "sluice-browse-view.h"

/*
 * Frame times of the metadata browser scrolling a big catalog (bench/browse-scroll.sh runs it
 * under Xvfb on sluice-catalog-gen's million rows):
 *
 *   sluice-browse-scroll CATALOG [--sort size] [--only wheel|jumps|drag]
 *
 * Three phases, driven from a tick callback (one step per frame, as a user's input would be):
 *   wheel  — 600 frames of smooth scrolling, 420 px (15 rows) a frame;
 *   jumps  — 300 frames, a jump to a random position every 10th (a click in the scrollbar);
 *   drag   — 300 frames sweeping the scrollbar from top to bottom (3,300 rows a frame).
 * For each frame: the interval since the previous one and the time the frame's own work took
 * (layout + paint, the frame clock's phases), and the main loop's worst stall, measured by a
 * 1 ms timer's lateness. Reports p50 / p99 / max per phase, and how long the rows at a jump's
 * destination take to arrive. --only runs one phase (to profile it alone).
 */

typedef struct {
  const char *name;
  GArray     *intervals;   /* double ms */
  GArray     *work;        /* double ms */
  GArray     *stalls;      /* double ms */
  GArray     *arrivals;    /* double ms: a jump to its rows on screen */
} Phase;

enum { PHASE_WARMUP, PHASE_WHEEL, PHASE_JUMPS, PHASE_DRAG, N_PHASES };

static Phase phases[N_PHASES] = {
  { "warm-up" }, { "wheel" }, { "jumps" }, { "drag" },
};

static int phase = PHASE_WARMUP;
static guint frame_in_phase;
static gint64 last_frame_us, paint_start_us, last_tick_us, jump_at_us;
static guint jump_target;
static GtkAdjustment *vadj;
static SluiceBrowseModel *model;
static GMainLoop *loop;
static GRand *rnd;
static int only = -1;     /* a phase, or -1: all */

/* The phase after @p, skipping those --only leaves out. */
static int
next_phase (int p)
{
  p++;
  while (only >= 0 && p < N_PHASES && p != only)
    p++;
  return p;
}

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
report (const char *what,
        GArray     *values)
{
  double p50, p99, max;

  if (values->len == 0)
    {
      g_print ("  %-22s (none)\n", what);
      return;
    }
  g_array_sort (values, cmp_double);
  p50 = g_array_index (values, double, values->len / 2);
  p99 = g_array_index (values, double, MIN (values->len - 1, values->len * 99 / 100));
  max = g_array_index (values, double, values->len - 1);
  g_print ("  %-22s n=%-5u p50 %6.2f ms   p99 %6.2f ms   max %6.2f ms\n", what, values->len,
           p50, p99, max);
}

static gboolean
stall_probe_cb (gpointer data)
{
  gint64 now = g_get_monotonic_time ();

  if (last_tick_us != 0 && phase > PHASE_WARMUP && phase < N_PHASES)
    {
      double late = (now - last_tick_us) / 1000.0 - 1.0;
      g_array_append_val (phases[phase].stalls, late);
    }
  last_tick_us = now;
  return G_SOURCE_CONTINUE;
}

static void
before_paint_cb (GdkFrameClock *clock)
{
  paint_start_us = g_get_monotonic_time ();
}

static gboolean
destination_loaded (void)
{
  g_autoptr(SluiceBrowseRow) row = g_list_model_get_item (G_LIST_MODEL (model), jump_target);
  return row != NULL && sluice_browse_row_get_loaded (row);
}

static void
after_paint_cb (GdkFrameClock *clock)
{
  gint64 now = g_get_monotonic_time ();

  if (phase > PHASE_WARMUP && phase < N_PHASES)
    {
      double work = (now - paint_start_us) / 1000.0;
      g_array_append_val (phases[phase].work, work);
      if (last_frame_us != 0)
        {
          double interval = (now - last_frame_us) / 1000.0;
          g_array_append_val (phases[phase].intervals, interval);
        }
      if (jump_at_us != 0 && destination_loaded ())
        {
          double arrival = (now - jump_at_us) / 1000.0;
          g_array_append_val (phases[phase].arrivals, arrival);
          jump_at_us = 0;
        }
    }
  last_frame_us = now;
}

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       data)
{
  double upper = gtk_adjustment_get_upper (vadj) - gtk_adjustment_get_page_size (vadj);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (model));

  frame_in_phase++;
  switch (phase)
    {
    case PHASE_WARMUP:
      if (frame_in_phase >= 60)
        {
          phase = next_phase (PHASE_WARMUP);
          frame_in_phase = 0;
        }
      break;
    case PHASE_WHEEL:
      gtk_adjustment_set_value (vadj, gtk_adjustment_get_value (vadj) + 420);
      if (frame_in_phase >= 600)
        {
          phase = next_phase (PHASE_WHEEL);
          frame_in_phase = 0;
        }
      break;
    case PHASE_JUMPS:
      if (frame_in_phase % 10 == 1)
        {
          double to = g_rand_double_range (rnd, 0, upper);

          gtk_adjustment_set_value (vadj, to);
          /* the row in the middle of the view after the jump */
          jump_target = MIN (n - 1, (guint) ((to + gtk_adjustment_get_page_size (vadj) / 2) /
                                             gtk_adjustment_get_upper (vadj) * n));
          jump_at_us = g_get_monotonic_time ();
        }
      if (frame_in_phase >= 300)
        {
          phase = next_phase (PHASE_JUMPS);
          frame_in_phase = 0;
          gtk_adjustment_set_value (vadj, 0);
          jump_at_us = 0;
        }
      break;
    case PHASE_DRAG:
      gtk_adjustment_set_value (vadj, upper * frame_in_phase / 300.0);
      if (frame_in_phase >= 300)
        {
          phase = N_PHASES;
          g_main_loop_quit (loop);
          return G_SOURCE_REMOVE;
        }
      break;
    default:
      break;
    }
  if (phase >= N_PHASES)
    {
      g_main_loop_quit (loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
error_cb (SluiceBrowseModel *m)
{
  if (sluice_browse_model_get_error (m) != NULL)
    g_error ("%s", sluice_browse_model_get_error (m));
}

static void
count_cb (SluiceBrowseModel *m)
{
  if (sluice_browse_model_get_loading (m) || sluice_browse_model_get_count (m) == 0)
    return;
  g_main_loop_quit (loop);
}

int
main (int   argc,
      char *argv[])
{
  GtkWindow *window;
  SluiceBrowseView *view;
  GtkColumnView *column_view;
  GdkFrameClock *clock;
  gint64 t0;

  if (argc < 2)
    {
      g_printerr ("usage: sluice-browse-scroll CATALOG [--sort size] [--only wheel|jumps|drag]\n");
      return 2;
    }
  adw_init ();
  rnd = g_rand_new_with_seed (42);
  for (int i = 0; i < N_PHASES; i++)
    {
      phases[i].intervals = g_array_new (FALSE, FALSE, sizeof (double));
      phases[i].work = g_array_new (FALSE, FALSE, sizeof (double));
      phases[i].stalls = g_array_new (FALSE, FALSE, sizeof (double));
      phases[i].arrivals = g_array_new (FALSE, FALSE, sizeof (double));
    }

  window = GTK_WINDOW (adw_window_new ());
  gtk_window_set_default_size (window, 1280, 800);
  view = g_object_new (SLUICE_TYPE_BROWSE_VIEW, NULL);
  adw_window_set_content (ADW_WINDOW (window), GTK_WIDGET (view));
  loop = g_main_loop_new (NULL, FALSE);

  t0 = g_get_monotonic_time ();
  sluice_browse_view_set_catalog_path (view, argv[1]);
  model = _sluice_browse_view_get_model (view);
  column_view = _sluice_browse_view_get_column_view (view);
  for (int i = 2; i + 1 < argc; i++)
    if (g_str_equal (argv[i], "--only"))
      for (int p = PHASE_WHEEL; p < N_PHASES; p++)
        if (g_str_equal (argv[i + 1], phases[p].name))
          only = p;
  if (argc > 3 && g_str_equal (argv[2], "--sort") && g_str_equal (argv[3], "size"))
    {
      GListModel *columns = gtk_column_view_get_columns (column_view);
      g_autoptr(GtkColumnViewColumn) size = g_list_model_get_item (columns, 8);
      gtk_column_view_sort_by_column (column_view, size, GTK_SORT_DESCENDING);
    }
  g_signal_connect (model, "notify::count", G_CALLBACK (count_cb), NULL);
  g_signal_connect (model, "notify::error", G_CALLBACK (error_cb), NULL);
  gtk_window_present (window);
  g_main_loop_run (loop);
  g_print ("catalog %s: %'" G_GUINT64_FORMAT " rows, counted in %.0f ms\n", argv[1],
           sluice_browse_model_get_count (model), (g_get_monotonic_time () - t0) / 1000.0);
  {
    g_autoptr(SluiceBrowseRow) first = g_list_model_get_item (G_LIST_MODEL (model), 0);
    while (!sluice_browse_row_get_loaded (first))
      g_main_context_iteration (NULL, TRUE);
    g_print ("first rows on screen after %.0f ms\n", (g_get_monotonic_time () - t0) / 1000.0);
  }

  vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (column_view));
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect (clock, "before-paint", G_CALLBACK (before_paint_cb), NULL);
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), NULL);
  g_timeout_add (1, stall_probe_cb, NULL);
  gtk_widget_add_tick_callback (GTK_WIDGET (column_view), tick_cb, NULL, NULL);
  g_main_loop_run (loop);

  for (int i = PHASE_WHEEL; i < N_PHASES; i++)
    {
      if (only >= 0 && i != only)
        continue;
      g_print ("%s:\n", phases[i].name);
      report ("frame interval", phases[i].intervals);
      report ("frame work", phases[i].work);
      report ("main loop lateness", phases[i].stalls);
      if (i == PHASE_JUMPS)
        report ("jump → rows shown", phases[i].arrivals);
    }
  g_print ("pages cached at the end: %u (limit %u)\n",
           sluice_browse_model_get_n_cached_pages (model), SLUICE_BROWSE_MAX_PAGES);
  return 0;
}
