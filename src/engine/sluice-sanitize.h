/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * One rule for hostile text (EXIF strings, file names) and one function per sink.
 *
 * sluice_sanitize_text() is the rule: whatever bytes came in, what comes out is valid UTF-8
 * with no control characters (C0, DEL, C1; tabs, CR and LF become a space), trimmed of
 * surrounding white space and NUL padding, and at most @max_bytes long (cut on a character
 * boundary). Invalid sequences become U+FFFD. It returns NULL when nothing is left.
 *
 * The sink functions take text that already passed the rule and make it safe for one format.
 */
char *sluice_sanitize_text          (const char *bytes,
                                     gssize      len,
                                     gsize       max_bytes);
char *sluice_sanitize_header_value  (const char *text);
char *sluice_sanitize_csv_field     (const char *text);
char *sluice_sanitize_key_segment   (const char *text);
char *sluice_sanitize_markup        (const char *text);

G_END_DECLS
