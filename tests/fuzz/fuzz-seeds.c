/* SPDX-License-Identifier: GPL-3.0-or-later */

/*
 * fuzz-seeds --output DIR: writes the seed corpus of fuzz-probe-exif.
 *
 * The seeds are the fixtures of tests/exif/test-probe-exif.c, which already builds every
 * container (JPEG, TIFF, large raw-like TIFF, PNG, WebP, HEIF, RAF, CR3) and every hostile
 * structure (IFD loops, absurd counts, huge MakerNotes, wrong types, bad dates and strings)
 * the extractor is meant to survive. Rather than copy its builders, this file includes it: its
 * main() is renamed, its calls to sluice_probe_exif_extract() are routed through
 * capture_input(), and its test cases run as usual (they still assert what they assert), each
 * input it extracts being written to DIR as one seed. The first byte of a seed is the name hint
 * in the form fuzz-probe-exif expects.
 *
 * The random-mutation and real-corpus cases are skipped: they would add thousands of near
 * copies (build-and-run.sh adds the real corpus itself).
 */

#include "config.h"

#include <glib.h>

#include "sluice-metadata.h"

static SluiceMetadata *capture_input (const guint8 *data,
                                      gsize         len,
                                      const char   *name_hint);

int sluice_fuzz_seeds_test_main (int argc, char *argv[]);

#define main sluice_fuzz_seeds_test_main
#define sluice_probe_exif_extract capture_input
/* the included file names its own log domain */
#undef G_LOG_DOMAIN
#include "../exif/test-probe-exif.c"
#undef sluice_probe_exif_extract
#undef main

SluiceMetadata *sluice_probe_exif_extract (const guint8 *data,
                                           gsize         len,
                                           const char   *name_hint);

/* Keeps seeds small enough for the fuzzer to mutate quickly; larger fixtures are cut. */
#define MAX_SEED_SIZE  (512 * 1024)
/* Cases that loop over many cut lengths contribute this many seeds at most. */
#define MAX_SEEDS_PER_CASE 24

static const char *output_dir;
static GHashTable *seen;          /* checksums already written */
static char *current_case;
static guint seeds_in_case;
static guint n_seeds;

/* Must match name_hints in fuzz-probe-exif.c: the index of a hint with the same extension. */
static guint8
hint_byte (const char *name)
{
  static const struct {
    const char *suffix;
    guint8      index;
  } table[] = {
    { ".JPG", 1 }, { ".jpg", 2 }, { ".tif", 3 }, { ".tiff", 3 }, { ".dng", 4 }, { ".nef", 5 },
    { ".heic", 6 }, { ".avif", 7 }, { ".png", 8 }, { ".webp", 9 }, { ".RAF", 10 },
    { ".raf", 10 }, { ".CR3", 11 }, { ".cr3", 11 }, { ".txt", 12 },
  };

  if (name == NULL)
    return 0;
  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_str_has_suffix (name, table[i].suffix))
      return table[i].index;
  return 13; /* no extension */
}

static SluiceMetadata *
capture_input (const guint8 *data,
               gsize         len,
               const char   *name_hint)
{
  const char *path = g_test_get_path ();
  gsize kept = MIN (len, MAX_SEED_SIZE);
  g_autoptr(GByteArray) seed = g_byte_array_sized_new (kept + 1);
  g_autofree char *sum = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *file = NULL;
  g_autoptr(GError) error = NULL;
  guint8 hint = hint_byte (name_hint);

  if (g_strcmp0 (path, current_case) != 0)
    {
      g_free (current_case);
      current_case = g_strdup (path);
      seeds_in_case = 0;
    }

  g_byte_array_append (seed, &hint, 1);
  if (data != NULL)
    g_byte_array_append (seed, data, kept);
  sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, seed->data, seed->len);
  if (seeds_in_case < MAX_SEEDS_PER_CASE && !g_hash_table_contains (seen, sum))
    {
      slug = g_strdelimit (g_strdup (path + (g_str_has_prefix (path, "/probe/exif/") ? 12 : 0)),
                           "/", '-');
      file = g_strdup_printf ("%s/seed-%s-%.12s", output_dir, slug, sum);
      if (!g_file_set_contents (file, (const char *) seed->data, seed->len, &error))
        g_error ("%s", error->message);
      g_hash_table_add (seen, g_steal_pointer (&sum));
      seeds_in_case++;
      n_seeds++;
    }

  return sluice_probe_exif_extract (data, len, name_hint);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GStrvBuilder) args = g_strv_builder_new ();
  g_auto(GStrv) test_argv = NULL;
  int test_argc, status;

  if (argc != 3 || strcmp (argv[1], "--output") != 0)
    {
      g_printerr ("usage: %s --output DIR\n", argv[0]);
      return 2;
    }
  output_dir = argv[2];
  if (g_mkdir_with_parents (output_dir, 0755) < 0)
    {
      g_printerr ("%s: cannot create %s\n", argv[0], output_dir);
      return 1;
    }
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_strv_builder_add_many (args, argv[0], "-q", "-s", "/probe/exif/mutations",
                           "-s", "/probe/exif/corpus", NULL);
  test_argv = g_strv_builder_end (args);
  test_argc = g_strv_length (test_argv);
  {
    /* g_test_init() may rearrange the vector it is given: hand it a copy */
    char **copy = g_memdup2 (test_argv, sizeof (char *) * (test_argc + 1));
    status = sluice_fuzz_seeds_test_main (test_argc, copy);
    g_free (copy);
  }
  g_printerr ("%s: %u seeds in %s\n", argv[0], n_seeds, output_dir);
  g_hash_table_unref (seen);
  g_free (current_case);
  return status == 0 && n_seeds > 0 ? 0 : 1;
}
