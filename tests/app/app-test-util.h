/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Helpers shared by the app tests. Main thread only, like GTK. */

#define APP_TEST_TIMEOUT_S 20

typedef gboolean (*AppTestCondition) (gpointer data);

gboolean   app_test_init_display      (void);
void       app_test_wait_until        (AppTestCondition  done,
                                       gpointer          data,
                                       guint             timeout_s,
                                       const char       *what);
void       app_test_wait_frames       (GtkWidget        *widget,
                                       guint             frames);
void       app_test_show_and_wait     (GtkWindow        *window);
void       app_test_destroy_window    (GtkWindow        *window);
void       app_test_reset_settings    (void);
GtkWindow *app_test_find_toplevel     (GType             type);
char      *app_test_screenshot        (GtkWidget        *widget,
                                       const char       *name);
void       app_test_screenshots       (GtkWidget        *widget,
                                       const char       *name);
GBytes    *app_test_tiny_jpeg         (guint             seed);
void       app_test_write_file        (const char       *path,
                                       GBytes           *bytes,
                                       gint64            mtime_s);

G_END_DECLS
