/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "probe-run"

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <sys/wait.h>

#include "probe-driver.h"

/*
 * probe-run HELPER [WRAPPER-ARGS...] -- FILE...: sends each file to one helper over the probe
 * protocol and prints what came back, then the helper's stderr and how it ended. A test-only
 * tool, for looking at the sandbox by hand (under strace -f, or with HELPER replaced by
 * "bwrap ... sluice-probe"). Not installed.
 */

static void
print_meta (const char     *path,
            SluiceMetadata *meta)
{
  printf ("%s: container=%s make=%s model=%s date=%s size=%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
          " thumbnail=%s\n",
          path, meta->container ? meta->container : "-", meta->make ? meta->make : "-",
          meta->model ? meta->model : "-",
          meta->datetime_original ? meta->datetime_original : "-", meta->width, meta->height,
          meta->thumbnail != NULL ? "yes" : "no");
  for (guint i = 0; i < meta->warnings->len; i++)
    printf ("  warning: %s\n", (char *) g_ptr_array_index (meta->warnings, i));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) helper = g_ptr_array_new ();
  g_autoptr(ProbeDriver) driver = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;
  int i, status, failures = 0;

  for (i = 1; i < argc && g_strcmp0 (argv[i], "--") != 0; i++)
    g_ptr_array_add (helper, argv[i]);
  g_ptr_array_add (helper, NULL);
  if (helper->len < 2 || i >= argc)
    {
      fprintf (stderr, "usage: %s HELPER [ARGS...] -- FILE...\n", argv[0]);
      return 2;
    }

  driver = probe_driver_start ((const char * const *) helper->pdata, NULL, NULL, NULL, &error);
  if (driver == NULL)
    {
      fprintf (stderr, "probe-run: %s\n", error->message);
      return 1;
    }
  for (i++; i < argc; i++)
    {
      g_autofree char *contents = NULL;
      g_autoptr(SluiceMetadata) meta = NULL;
      gsize len = 0;

      if (!g_file_get_contents (argv[i], &contents, &len, &error))
        {
          printf ("%s: %s\n", argv[i], error->message);
          g_clear_error (&error);
          failures++;
          continue;
        }
      meta = probe_driver_probe (driver, contents, len, argv[i], &error);
      if (meta == NULL)
        {
          printf ("%s: FAILED: %s\n", argv[i], error->message);
          failures++;
          break;
        }
      print_meta (argv[i], meta);
    }

  status = probe_driver_finish (driver, &err_text);
  if (err_text[0] != '\0')
    printf ("helper stderr:\n%s", err_text);
  if (WIFSIGNALED (status))
    printf ("helper killed by signal %d\n", WTERMSIG (status));
  else
    printf ("helper exited with status %d\n", WEXITSTATUS (status));
  return failures > 0 ? 1 : 0;
}
