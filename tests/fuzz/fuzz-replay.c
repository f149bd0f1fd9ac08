/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-replay"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

/*
 * fuzz-replay FILE|DIR...: runs a libFuzzer target's LLVMFuzzerTestOneInput() once on each
 * file (directories are walked, in name order), with the normal compiler and no libFuzzer
 * runtime. Meson builds it with the fuzz target to replay tests/fuzz/regressions/ and the
 * generated seeds on every test run, under ASan/UBSan when the build uses -Db_sanitize.
 *
 * Output is TAP, one line per input; a crash or an abort ends the run, which is the failure.
 */

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static guint n_inputs;

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void replay_path (const char *path);

static void
replay_dir (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  const char *name;

  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      printf ("Bail out! %s\n", error->message);
      exit (1);
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      /* notes beside the inputs */
      if (g_str_has_suffix (name, ".md") || name[0] == '.')
        continue;
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
    }
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    replay_path (g_ptr_array_index (names, i));
}

static void
replay_file (const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      printf ("not ok %u - %s\n", ++n_inputs, error->message);
      return;
    }
  /* flushed first: if this input crashes, the log names it */
  printf ("# %s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
  fflush (stdout);
  LLVMFuzzerTestOneInput ((const guint8 *) contents, len);
  printf ("ok %u - %s\n", ++n_inputs, path);
}

static void
replay_path (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    replay_dir (path);
  else
    replay_file (path);
}

int
main (int   argc,
      char *argv[])
{
  LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++)
    replay_path (argv[i]);
  if (n_inputs == 0)
    {
      printf ("Bail out! no inputs to replay\n");
      return 1;
    }
  printf ("1..%u\n", n_inputs);
  return 0;
}
