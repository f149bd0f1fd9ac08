/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-portal"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/xattr.h>

#include "sluice-portal.h"

#define MAX_HOST_PATH 4096

/* The host path the portal gives @path, or NULL (no attribute, or no portal behind it). */
static char *
read_host_path (const char *path)
{
  char value[MAX_HOST_PATH + 1];
  ssize_t n = lgetxattr (path, SLUICE_PORTAL_HOST_PATH_XATTR, value, MAX_HOST_PATH);

  if (n <= 0)
    return NULL;
  /* the portal counts the terminating NUL in the value; do not rely on it either way */
  value[n] = '\0';
  if (value[0] != '/' || strlen (value) != (gsize) n - (value[n - 1] == '\0' ? 1 : 0))
    return NULL;
  return g_strdup (value);
}

/**
 * sluice_portal_host_path:
 * @path: an absolute, canonical path (realpath)
 * @doc_mount: where the document portal is mounted, normally $XDG_RUNTIME_DIR/doc
 *
 * Returns: (transfer full) (nullable): the host path of @path when it lies inside a document
 * exported by the portal at @doc_mount and the portal says where it is; else NULL. A folder
 * below the exported one gets the exported folder's host path and the rest of @path.
 */
char *
sluice_portal_host_path (const char *path,
                         const char *doc_mount)
{
  g_autofree char *prefix = g_strconcat (doc_mount, "/", NULL);
  g_autofree char *current = NULL;
  g_autoptr(GString) rest = g_string_new (NULL);
  const char *doc;
  const char *slash;

  g_return_val_if_fail (path != NULL && doc_mount != NULL, NULL);

  if (!g_str_has_prefix (path, prefix))
    return NULL;
  /* DOC_ID/NAME at least: the attribute is on the exported entry and below */
  doc = path + strlen (prefix);
  slash = strchr (doc, '/');
  if (slash == NULL || slash[1] == '\0')
    return NULL;

  current = g_strdup (path);
  for (;;)
    {
      g_autofree char *host = read_host_path (current);
      char *last;

      if (host != NULL)
        return g_strconcat (host, rest->str, NULL);
      last = strrchr (current, '/');
      /* stop at DOC_ID/NAME: the document itself, above which there is nothing to ask */
      if (last == NULL || last <= current + strlen (prefix) + (slash - doc))
        return NULL;
      g_string_prepend (rest, last);
      *last = '\0';
    }
}

/**
 * sluice_portal_source_identity:
 * @path: the source folder, canonical (realpath)
 *
 * Returns: (transfer full): what the catalog records as the source: the host path for a
 * folder the document portal exported (stable from one grant to the next), else @path.
 */
char *
sluice_portal_source_identity (const char *path)
{
  g_autofree char *mount = g_build_filename (g_get_user_runtime_dir (), "doc", NULL);
  char *host = sluice_portal_host_path (path, mount);

  if (host != NULL)
    {
      g_debug ("source %s is the portal's export of %s", path, host);
      return host;
    }
  return g_strdup (path);
}
