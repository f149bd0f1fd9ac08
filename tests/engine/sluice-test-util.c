/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-test-util"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice-test-util.h"

/* The uid and gid of "nobody" on Linux distributions. */
#define NOBODY 65534

/**
 * sluice_test_make_dir:
 *
 * A fresh directory named @name inside this test's isolated cache directory.
 */
char *
sluice_test_make_dir (const char *name)
{
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return g_steal_pointer (&dir);
}

void
sluice_test_write_file (const char *path,
                        const void *data,
                        gssize      len)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);

  if (len < 0)
    len = strlen (data);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  /* no fsync, no rename: these are throw-away fixtures, and some tests write thousands */
  g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_NONE, 0644, &error);
  g_assert_no_error (error);
}

void
sluice_test_write_file_at (const char *dir,
                           const char *relpath,
                           const void *data,
                           gssize      len)
{
  g_autofree char *path = g_build_filename (dir, relpath, NULL);

  sluice_test_write_file (path, data, len);
}

/* Open descriptors of this process, to show that nothing leaks. */
guint
sluice_test_count_fds (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *de;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((de = readdir (dir)) != NULL)
    if (de->d_name[0] != '.')
      n++;
  closedir (dir);
  return n - 1;  /* the directory's own descriptor */
}

gboolean
sluice_test_is_root (void)
{
  return geteuid () == 0;
}

/* Whether this root process can become "nobody" (it cannot in some containers). Tried in a
 * throw-away child so that the test process keeps its identity. */
gboolean
sluice_test_can_drop_privileges (void)
{
  int status = 0;
  pid_t pid;

  if (geteuid () != 0)
    return FALSE;
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      sluice_test_become_nobody (NULL);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

/**
 * sluice_test_open_path_for_nobody:
 * @dir: a directory an unprivileged process must reach
 *
 * Opens the path down to @dir for everyone: the isolated test directories are 0700.
 */
void
sluice_test_open_path_for_nobody (const char *dir)
{
  g_autofree char *path = g_strdup (dir);
  const char *tmp = g_get_tmp_dir ();

  /* every ancestor below the system temporary directory, which GLib's isolation created */
  while (g_str_has_prefix (path, tmp) && strlen (path) > strlen (tmp))
    {
      char *parent;

      g_assert_cmpint (g_chmod (path, 0755), ==, 0);
      parent = g_path_get_dirname (path);
      g_free (path);
      path = parent;
    }
}

/**
 * sluice_test_become_nobody:
 * @unused: ignored, so that it can be a #GSpawnChildSetupFunc
 *
 * Becomes "nobody", or exits with status 127. Async-signal-safe: it can run in a spawned
 * child between fork() and exec().
 */
void
sluice_test_become_nobody (gpointer unused)
{
  if (setgroups (0, NULL) != 0 || setgid (NOBODY) != 0 || setuid (NOBODY) != 0 ||
      geteuid () != NOBODY)
    _exit (127);
}

/**
 * sluice_test_drop_privileges:
 * @dir: a directory the unprivileged process must reach
 *
 * For permission tests run as root, where chmod 000 does not stop anything: opens the path
 * down to @dir for everyone and becomes "nobody". Only call it in a g_test_trap_subprocess()
 * child: it cannot be undone.
 */
void
sluice_test_drop_privileges (const char *dir)
{
  sluice_test_open_path_for_nobody (dir);
  sluice_test_become_nobody (NULL);
  g_assert_cmpint (geteuid (), ==, NOBODY);
}

gint64
sluice_test_mtime_ns (const char *path)
{
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  return (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec;
}
