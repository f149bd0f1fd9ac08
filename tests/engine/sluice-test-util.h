/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Small helpers shared by the engine unit tests. Everything a test writes goes below the
 * per-test directories that G_TEST_OPTION_ISOLATE_DIRS sets up (and removes afterwards).
 */

/* A known engine bug makes this case fail: skip it, unless SLUICE_TEST_KNOWN_BUGS is set
 * (to check a fix). Remove the line once the bug is fixed. */
#define SLUICE_TEST_KNOWN_BUG(reason)                      \
  G_STMT_START {                                           \
    if (g_getenv ("SLUICE_TEST_KNOWN_BUGS") == NULL)       \
      {                                                    \
        g_test_skip ("known bug: " reason);                \
        return;                                            \
      }                                                    \
  } G_STMT_END

char     *sluice_test_make_dir            (const char   *name);
void      sluice_test_write_file          (const char   *path,
                                           const void   *data,
                                           gssize        len);
void      sluice_test_write_file_at       (const char   *dir,
                                           const char   *relpath,
                                           const void   *data,
                                           gssize        len);
guint     sluice_test_count_fds           (void);
gboolean  sluice_test_is_root             (void);
gboolean  sluice_test_can_drop_privileges (void);
void      sluice_test_open_path_for_nobody (const char  *dir);
void      sluice_test_become_nobody       (gpointer      unused);
void      sluice_test_drop_privileges     (const char   *dir);
gint64    sluice_test_mtime_ns            (const char   *path);

G_END_DECLS
