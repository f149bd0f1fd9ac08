/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The document portal. Inside a Flatpak, a folder outside the read-only NAS roots the app may
 * see (/mnt, /media, /run/media, Pictures) reaches it through the document portal as
 * /run/user/UID/doc/DOC_ID/NAME, and DOC_ID may differ from one grant to the next. The
 * catalog identifies a source by its path, so that path would change and a rerun would not
 * find what it uploaded. The portal tells the folder's real place in an extended attribute,
 * user.document-portal.host-path, on the exported file or folder (xdg-desktop-portal 1.19 and
 * later); that host path is the source's identity.
 */

#define SLUICE_PORTAL_HOST_PATH_XATTR "user.document-portal.host-path"

char *sluice_portal_source_identity (const char *path);
char *sluice_portal_host_path       (const char *path,
                                     const char *doc_mount);

G_END_DECLS
