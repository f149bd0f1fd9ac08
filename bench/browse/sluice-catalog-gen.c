/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-catalog-gen"

#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sluice-engine.h"

/*
 * Makes a realistic catalog for the browser benchmark, through the engine's own catalog API
 * (so it also measures what ingesting costs the catalog per row): ~30 camera models and their
 * lenses, dates taken over twelve years, 10 % with GPS, some failed and skipped objects, a few
 * files that never got metadata, paths shaped like NAS photo trees.
 *
 *   sluice-catalog-gen --rows 1000000 --output catalog.db [--seed N] [--bare]
 *
 * --bare drops what schema 4 added for browsing (triggers, indexes, full-text table) before
 * filling, to measure what those cost per inserted row.
 */

typedef struct {
  const char *make;
  const char *model;
  const char *lenses[4];
} Camera;

static const Camera cameras[] = {
  { "Canon", "Canon EOS R5", { "RF24-70mm F2.8 L IS USM", "RF70-200mm F2.8 L IS USM", "RF50mm F1.2 L USM", NULL } },
  { "Canon", "Canon EOS R6", { "RF24-105mm F4 L IS USM", "RF35mm F1.8 MACRO IS STM", NULL, NULL } },
  { "Canon", "Canon EOS 5D Mark IV", { "EF24-70mm f/2.8L II USM", "EF100mm f/2.8L Macro IS USM", NULL, NULL } },
  { "Canon", "Canon EOS 90D", { "EF-S18-135mm f/3.5-5.6 IS USM", NULL, NULL, NULL } },
  { "Canon", "Canon EOS M50", { "EF-M15-45mm f/3.5-6.3 IS STM", NULL, NULL, NULL } },
  { "NIKON CORPORATION", "NIKON D850", { "24.0-70.0 mm f/2.8", "70.0-200.0 mm f/2.8", "105.0 mm f/1.4", NULL } },
  { "NIKON CORPORATION", "NIKON D750", { "24.0-120.0 mm f/4.0", "50.0 mm f/1.8", NULL, NULL } },
  { "NIKON CORPORATION", "NIKON Z 6_2", { "NIKKOR Z 24-70mm f/4 S", "NIKKOR Z 85mm f/1.8 S", NULL, NULL } },
  { "NIKON CORPORATION", "NIKON Z 7", { "NIKKOR Z 14-30mm f/4 S", NULL, NULL, NULL } },
  { "NIKON CORPORATION", "NIKON D7500", { "18.0-140.0 mm f/3.5-5.6", NULL, NULL, NULL } },
  { "SONY", "ILCE-7M3", { "FE 24-105mm F4 G OSS", "FE 85mm F1.8", "FE 35mm F1.8", NULL } },
  { "SONY", "ILCE-7RM4", { "FE 24-70mm F2.8 GM", "FE 100-400mm F4.5-5.6 GM OSS", NULL, NULL } },
  { "SONY", "ILCE-6400", { "E 18-135mm F3.5-5.6 OSS", NULL, NULL, NULL } },
  { "SONY", "DSC-RX100M7", { NULL, NULL, NULL, NULL } },
  { "FUJIFILM", "X-T4", { "XF16-55mmF2.8 R LM WR", "XF35mmF1.4 R", NULL, NULL } },
  { "FUJIFILM", "X-T30", { "XF18-55mmF2.8-4 R LM OIS", NULL, NULL, NULL } },
  { "FUJIFILM", "X100V", { NULL, NULL, NULL, NULL } },
  { "FUJIFILM", "GFX100S", { "GF63mmF2.8 R WR", NULL, NULL, NULL } },
  { "OLYMPUS CORPORATION", "E-M1MarkIII", { "OLYMPUS M.12-40mm F2.8", NULL, NULL, NULL } },
  { "OLYMPUS CORPORATION", "E-M10MarkIV", { "OLYMPUS M.14-42mm F3.5-5.6 EZ", NULL, NULL, NULL } },
  { "Panasonic", "DC-GH5", { "LUMIX G VARIO 12-35/F2.8", NULL, NULL, NULL } },
  { "Panasonic", "DC-S5", { "LUMIX S 20-60/F3.5-5.6", NULL, NULL, NULL } },
  { "LEICA CAMERA AG", "LEICA Q2", { "SUMMILUX 1:1.7/28 ASPH.", NULL, NULL, NULL } },
  { "LEICA CAMERA AG", "LEICA M10", { "SUMMICRON-M 1:2/35 ASPH.", NULL, NULL, NULL } },
  { "Apple", "iPhone 12 Pro", { "iPhone 12 Pro back triple camera 4.2mm f/1.6", NULL, NULL, NULL } },
  { "Apple", "iPhone 14", { "iPhone 14 back dual wide camera 5.7mm f/1.5", NULL, NULL, NULL } },
  { "Apple", "iPhone 8", { "iPhone 8 back camera 3.99mm f/1.8", NULL, NULL, NULL } },
  { "samsung", "SM-G991B", { NULL, NULL, NULL, NULL } },
  { "Google", "Pixel 7", { NULL, NULL, NULL, NULL } },
  { "GoPro", "HERO9 Black", { NULL, NULL, NULL, NULL } },
};

static const char *const events[] = {
  "Wedding Smith", "Holidays Zürich", "Birthday Anna", "Office party", "Garden", "Hiking Alps",
  "Christmas", "Product shoot", "Concert", "Beach trip", "Kids", "Road trip Norway",
  "Conference", "Family", "Street", "Wildlife", "Architecture", "Portraits", "Sports day",
  "New Year",
};

/* What --bare drops: everything the browsing schema (4) added on top of schema 3's tables,
 * found in sqlite_master so it follows the schema: triggers, indexes schema 3 did not have and
 * full-text tables. Tables and columns stay (the catalog's statements may name them). */
static const char *const schema3_indexes[] = {
  "objects_by_file", "objects_by_state", "objects_by_sha256", "warnings_by_file", NULL
};

static void
drop_browse_additions (sqlite3 *db)
{
  g_autoptr(GPtrArray) drops = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *s = NULL;

  g_assert (sqlite3_prepare_v2 (db, "SELECT type, name, sql FROM sqlite_master "
                                    "WHERE type IN ('trigger', 'index', 'table')", -1, &s,
                                NULL) == SQLITE_OK);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      const char *type = (const char *) sqlite3_column_text (s, 0);
      const char *name = (const char *) sqlite3_column_text (s, 1);
      const char *sql = (const char *) sqlite3_column_text (s, 2);

      if (g_str_equal (type, "trigger"))
        g_ptr_array_add (drops, g_strdup_printf ("DROP TRIGGER %s", name));
      else if (g_str_equal (type, "index") && sql != NULL &&
               !g_strv_contains (schema3_indexes, name))
        g_ptr_array_add (drops, g_strdup_printf ("DROP INDEX %s", name));
      else if (g_str_equal (type, "table") && sql != NULL && g_str_has_prefix (sql, "CREATE VIRTUAL TABLE"))
        g_ptr_array_add (drops, g_strdup_printf ("DROP TABLE %s", name));
    }
  sqlite3_finalize (s);
  for (guint i = 0; i < drops->len; i++)
    if (sqlite3_exec (db, g_ptr_array_index (drops, i), NULL, NULL, NULL) != SQLITE_OK)
      g_error ("%s: %s", (char *) g_ptr_array_index (drops, i), sqlite3_errmsg (db));
}

/* CPU time of this process, µs: what the ingest's CPU budget counts, and steadier than the
 * wall clock on a shared machine (the wall clock also has the commits' fsyncs). */
static gint64
cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(SluiceCatalog) catalog = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autofree char *output = NULL;
  gint64 rows = 1000000, seed = 7;
  gboolean bare = FALSE;
  g_autofree char *drop = NULL;
  gint64 source, target, run, folder_start = 0;
  guint folder = 0, event = 0, cam = 0, year = 2012, month = 1, day = 1;
  gint64 t0, c0;
  gint64 in_batch = 0;
  GOptionEntry entries[] = {
    { "rows", 0, 0, G_OPTION_ARG_INT64, &rows, "Rows to make", "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The catalog file (new)", "FILE" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed", "N" },
    { "bare", 0, 0, G_OPTION_ARG_NONE, &bare, "Without schema 4's browsing additions", NULL },
    { "drop", 0, 0, G_OPTION_ARG_STRING, &drop, "Drop these (SQL) first, to measure them",
      "SQL" },
    { NULL }
  };

  ctx = g_option_context_new ("— make a catalog for the browser benchmark");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || output == NULL || rows < 1)
    {
      g_printerr ("sluice-catalog-gen: %s\n", error ? error->message : "--output FILE and --rows N");
      return 2;
    }
  if (g_file_test (output, G_FILE_TEST_EXISTS))
    {
      g_printerr ("sluice-catalog-gen: %s exists; give a new file\n", output);
      return 2;
    }
  catalog = sluice_catalog_open (output, FALSE, &error);
  if (catalog == NULL)
    {
      g_printerr ("sluice-catalog-gen: %s\n", error->message);
      return 1;
    }
  if (bare || drop != NULL)
    {
      sqlite3 *db = NULL;
      g_assert (sqlite3_open (output, &db) == SQLITE_OK);
      if (bare)
        drop_browse_additions (db);
      else if (sqlite3_exec (db, drop, NULL, NULL, NULL) != SQLITE_OK)
        g_error ("drop: %s", sqlite3_errmsg (db));
      sqlite3_close (db);
      /* reopen: the catalog's statements were prepared against the old schema */
      g_clear_pointer (&catalog, sluice_catalog_close);
      catalog = sluice_catalog_open (output, FALSE, &error);
      g_assert (catalog != NULL);
    }
  rand = g_rand_new_with_seed ((guint32) seed);
  source = sluice_catalog_ensure_source (catalog, "/mnt/nas/photos", &error);
  target = sluice_catalog_ensure_target (catalog, "https://s3.example.com", "photo-archive", &error);
  run = sluice_catalog_begin_run (catalog, source, target, "{}", &error);
  g_assert (run > 0);

  t0 = g_get_monotonic_time ();
  c0 = cpu_us ();
  for (gint64 i = 0; i < rows; i++)
    {
      g_autoptr(SluiceMetadata) meta = NULL;
      g_autofree char *relpath = NULL;
      g_autofree char *key = NULL;
      g_autofree char *sha = NULL;
      const Camera *c;
      guint64 size;
      gint64 file, obj;
      guint r = g_rand_int_range (rand, 0, 1000);

      if (in_batch == 0)
        {
          if (!sluice_catalog_begin (catalog, &error))
            g_error ("%s", error->message);
        }

      /* a folder per event: 50 to 800 files, one camera mostly, days advancing */
      if (i == folder_start)
        {
          folder++;
          event = g_rand_int_range (rand, 0, G_N_ELEMENTS (events));
          cam = g_rand_int_range (rand, 0, G_N_ELEMENTS (cameras));
          day += g_rand_int_range (rand, 1, 6);
          if (day > 28)
            {
              day = 1;
              month++;
            }
          if (month > 12)
            {
              month = 1;
              year++;
            }
          if (year > 2024)
            year = 2012;
          folder_start = i + g_rand_int_range (rand, 50, 800);
        }
      c = &cameras[r < 900 ? cam : (guint) g_rand_int_range (rand, 0, G_N_ELEMENTS (cameras))];
      relpath = g_strdup_printf ("%u/%u-%02u-%02u %s/%s_%06" G_GINT64_FORMAT ".%s", year, year,
                                 month, day, events[event],
                                 g_str_has_prefix (c->make, "NIKON") ? "DSC" : "IMG", i,
                                 r % 7 == 0 ? "CR3" : r % 7 == 1 ? "NEF" : "JPG");
      key = g_strconcat ("archive/", relpath, NULL);
      sha = g_strdup_printf ("%016" G_GINT64_MODIFIER "x%016x%016x%016x", i,
                             g_rand_int (rand), g_rand_int (rand), g_rand_int (rand));
      size = g_rand_int_range (rand, 2000000, 40000000);

      file = sluice_catalog_upsert_file (catalog, source, relpath, size, 1600000000000000000 + i,
                                         sha, run, &error);
      if (file == 0)
        g_error ("%s", error->message);
      if (r >= 5)   /* 0.5 % never got metadata (the helper crashed) */
        {
          guint lens = g_rand_int_range (rand, 0, 4);
          static const guint dens[] = { 30, 60, 125, 250, 500, 1000, 2000, 4000 };
          static const guint isos[] = { 100, 200, 400, 800, 1600, 3200, 6400 };

          meta = sluice_metadata_new ();
          meta->container = g_strdup ("jpeg");
          meta->make = g_strdup (c->make);
          meta->model = g_strdup (c->model);
          meta->lens_model = g_strdup (c->lenses[lens] ? c->lenses[lens] : c->lenses[0]);
          meta->datetime_original = g_strdup_printf ("%04u:%02u:%02u %02d:%02d:%02d", year, month,
                                                     day, g_rand_int_range (rand, 8, 22),
                                                     g_rand_int_range (rand, 0, 60),
                                                     g_rand_int_range (rand, 0, 60));
          meta->exposure_num = 1;
          meta->exposure_den = dens[g_rand_int_range (rand, 0, G_N_ELEMENTS (dens))];
          meta->f_number = 1.4 * (1 + g_rand_int_range (rand, 0, 8));
          meta->iso = isos[g_rand_int_range (rand, 0, G_N_ELEMENTS (isos))];
          meta->focal_length = g_rand_int_range (rand, 12, 200);
          meta->orientation = 1;
          meta->width = 6000;
          meta->height = 4000;
          if (g_rand_int_range (rand, 0, 10) == 0)
            {
              meta->gps_latitude = g_rand_double_range (rand, -60, 70);
              meta->gps_longitude = g_rand_double_range (rand, -180, 180);
              meta->gps_altitude = g_rand_double_range (rand, 0, 3000);
            }
          meta->has_thumbnail = TRUE;
        }
      if (!sluice_catalog_set_metadata (catalog, file, run, meta,
                                        meta ? SLUICE_PROBE_STATE_OK : SLUICE_PROBE_STATE_FAILED,
                                        meta ? NULL : "metadata helper crashed with SIGSEGV",
                                        &error))
        g_error ("%s", error->message);
      obj = sluice_catalog_begin_object (catalog, file, target, key, sha, size, run, &error);
      if (obj == 0)
        g_error ("%s", error->message);
      /* 2 % failed, 5 % skipped (unchanged on a rerun), the rest uploaded */
      if (!sluice_catalog_finish_object (catalog, obj,
                                         r < 20 ? SLUICE_OBJECT_FAILED :
                                         r < 70 ? SLUICE_OBJECT_SKIPPED : SLUICE_OBJECT_UPLOADED,
                                         r < 20 ? NULL : "\"0123456789abcdef0123456789abcdef\"",
                                         r < 20 ? "SlowDown" : NULL,
                                         r < 20 ? "Please reduce your request rate." : NULL,
                                         &error))
        g_error ("%s", error->message);
      if (++in_batch == 1000 || i == rows - 1)
        {
          /* the paths into the full-text index, as the writer does once a second (schema 5) */
          if (!bare && !sluice_catalog_index_pending (catalog, &error))
            g_error ("%s", error->message);
          if (!sluice_catalog_commit (catalog, &error))
            g_error ("%s", error->message);
          in_batch = 0;
        }
      if ((i + 1) % 100000 == 0)
        g_printerr ("  %" G_GINT64_FORMAT " rows, %.1f µs per row (CPU %.1f µs)\n", i + 1,
                    (double) (g_get_monotonic_time () - t0) / (i + 1),
                    (double) (cpu_us () - c0) / (i + 1));
    }
  sluice_catalog_end_run (catalog, run, "finished", "{}", &error);
  g_print ("%" G_GINT64_FORMAT " rows in %.1f s: %.1f µs per row, CPU %.1f µs per row (upsert, "
           "metadata, intent, completion; batches of 1000)%s\n", rows,
           (g_get_monotonic_time () - t0) / 1e6, (double) (g_get_monotonic_time () - t0) / rows,
           (double) (cpu_us () - c0) / rows,
           bare ? " — bare, without schema 4's browsing additions" : "");
  return 0;
}
