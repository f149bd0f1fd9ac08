/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sluice-probe-bench: the CPU cost of one metadata probe round trip, apart from everything
 * else an ingest does (issue 5).
 *
 *   sluice-probe-bench DIR [THREADS [ROUNDS [HELPERS [FILES]]]]
 *
 * Reads every file under DIR once into budgeted buffers (as the pipeline does), then THREADS
 * threads (default 16) probe them ROUNDS times (default 3) through a pool of HELPERS helpers
 * (default 2), and prints the CPU both sides used per probe: this process's threads and the
 * helpers (reaped, so their rusage is ours). $SLUICE_PROBE_PATH picks the helper.
 *
 * Every file has a slab of its own here, so a helper maps each probe's slab afresh: an upper
 * bound. An ingest reuses a few dozen slabs, which the helpers keep mapped; FILES (say 32, the
 * small-file workers of --jobs 16) takes only the first FILES files, whose slabs the helpers
 * then keep, as in an ingest (raise ROUNDS to probe as often).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sluice-buffer.h"
#include "sluice-metadata.h"
#include "sluice-probe-pool.h"

typedef struct {
  GPtrArray       *buffers;   /* SluiceBuffer */
  GPtrArray       *names;     /* char *, relative paths */
  SluiceProbePool *pool;
  guint            total;
  gint             next;      /* atomic */
  gint             failed;    /* atomic */
} Bench;

static gpointer
probe_thread (gpointer data)
{
  Bench *b = data;

  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&b->next, 1);
      SluiceBuffer *buf;
      g_autoptr(GError) error = NULL;
      g_autoptr(SluiceMetadata) meta = NULL;
      int ro;

      if (i >= b->total)
        return NULL;
      buf = g_ptr_array_index (b->buffers, i % b->buffers->len);
      ro = sluice_buffer_get_readonly_fd (buf);
      meta = sluice_probe_pool_probe (b->pool, ro, g_ptr_array_index (b->names,
                                                                      i % b->names->len),
                                      buf->len, &error);
      if (meta == NULL)
        g_atomic_int_inc (&b->failed);
    }
}

static double
cpu_seconds (int who)
{
  struct rusage r;

  getrusage (who, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec +
         r.ru_stime.tv_usec / 1e6;
}

/* Every regular file under @root, read into @b's buffers. */
static void
read_tree (Bench        *b,
           int           rootfd,
           const char   *root,
           SluiceBudget *budget,
           guint         max_files)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (dirs, g_strdup (""));
  while (dirs->len > 0 && b->buffers->len < max_files)
    {
      g_autofree char *rel = g_ptr_array_steal_index (dirs, dirs->len - 1);
      g_autofree char *full = g_build_filename (root, rel, NULL);
      g_autoptr(GDir) dir = g_dir_open (full, 0, NULL);
      const char *name;

      while (dir != NULL && b->buffers->len < max_files && (name = g_dir_read_name (dir)) != NULL)
        {
          char *child = rel[0] != '\0' ? g_build_filename (rel, name, NULL) : g_strdup (name);
          g_autofree char *path = g_build_filename (root, child, NULL);
          SluiceBuffer *buf;

          if (g_file_test (path, G_FILE_TEST_IS_DIR))
            {
              g_ptr_array_add (dirs, child);
              continue;
            }
          buf = sluice_buffer_read_file (rootfd, child, budget, NULL, NULL);
          if (buf == NULL)
            {
              g_free (child);
              continue;
            }
          g_ptr_array_add (b->buffers, buf);
          g_ptr_array_add (b->names, child);
        }
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceBudget) budget = sluice_budget_new (G_GUINT64_CONSTANT (1) << 36);
  g_autofree char *helper = sluice_probe_find_helper ();
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  Bench b = { 0 };
  guint n_threads, rounds, helpers, max_files;
  double before, after, children;
  gint64 start, end;
  int rootfd;

  if (argc < 2)
    {
      g_printerr ("usage: %s DIR [THREADS [ROUNDS [HELPERS [FILES]]]]\n", argv[0]);
      return 2;
    }
  n_threads = argc > 2 ? MAX (atoi (argv[2]), 1) : 16;
  rounds = argc > 3 ? MAX (atoi (argv[3]), 1) : 3;
  helpers = argc > 4 ? MAX (atoi (argv[4]), 1) : 2;
  max_files = argc > 5 ? (guint) MAX (atoi (argv[5]), 1) : G_MAXUINT;

  rootfd = open (argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      g_printerr ("%s: cannot open %s\n", argv[0], argv[1]);
      return 1;
    }
  b.buffers = g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_buffer_free);
  b.names = g_ptr_array_new_with_free_func (g_free);
  read_tree (&b, rootfd, argv[1], budget, max_files);
  if (b.buffers->len == 0)
    {
      g_printerr ("%s: no files under %s\n", argv[0], argv[1]);
      return 1;
    }
  b.total = b.buffers->len * rounds;

  b.pool = sluice_probe_pool_new (helper, helpers, 0, &error);
  if (b.pool == NULL)
    {
      g_printerr ("%s: %s\n", argv[0], error->message);
      return 1;
    }

  before = cpu_seconds (RUSAGE_SELF);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n_threads; i++)
    g_ptr_array_add (threads, g_thread_new ("probe", probe_thread, &b));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
  end = g_get_monotonic_time ();
  after = cpu_seconds (RUSAGE_SELF);
  sluice_probe_pool_free (b.pool);   /* reaps the helpers: their CPU becomes ours */
  children = cpu_seconds (RUSAGE_CHILDREN);

  printf ("%u probes (%u files × %u) by %u threads, %u helpers: %.3f s wall\n"
          "  engine side %.0f µs, helpers %.0f µs, together %.0f µs of CPU per probe; "
          "%d failed\n",
          b.total, b.buffers->len, rounds, n_threads, helpers, (end - start) / 1e6,
          (after - before) * 1e6 / b.total, children * 1e6 / b.total,
          (after - before + children) * 1e6 / b.total, g_atomic_int_get (&b.failed));
  g_ptr_array_unref (b.buffers);
  g_ptr_array_unref (b.names);
  close (rootfd);
  return 0;
}
