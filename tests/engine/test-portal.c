/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-portal"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/xattr.h>

#include <sqlite3.h>

#include "sluice-engine.h"
#include "sluice-test-pipeline.h"

/*
 * A source folder that reaches a Flatpak through the document portal keeps one identity in
 * the catalog from one grant to the next. The portal is faked: a folder laid out like its
 * mount (doc/DOC_ID/NAME/...), with the user.document-portal.host-path attribute the portal
 * sets on the exported folder. Skipped where the temporary directory takes no user xattrs.
 */

typedef struct {
  char *root;   /* the isolated temporary directory */
  char *mount;  /* root/doc, the fake portal mount */
} Fixture;

static gboolean
make_export (const char  *mount,
             const char  *doc_id,
             const char  *name,
             const char  *host,
             gboolean     with_nul)
{
  g_autofree char *dir = g_build_filename (mount, doc_id, name, "2024", "june", NULL);
  g_autofree char *exported = g_build_filename (mount, doc_id, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  if (host == NULL)
    return TRUE;
  /* the portal's value ends in a NUL; accept it either way */
  if (setxattr (exported, SLUICE_PORTAL_HOST_PATH_XATTR, host,
                strlen (host) + (with_nul ? 1 : 0), 0) != 0)
    {
      g_assert_true (errno == ENOTSUP || errno == EPERM);
      return FALSE;
    }
  return TRUE;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->root = g_dir_make_tmp ("test-portal-XXXXXX", NULL);
  g_assert_nonnull (f->root);
  f->mount = g_build_filename (f->root, "doc", NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        remove_tree (child);
      }
  g_remove (path);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  remove_tree (f->root);
  g_free (f->mount);
  g_free (f->root);
}

static char *
doc_path (Fixture    *f,
          const char *rest)
{
  return g_build_filename (f->mount, rest, NULL);
}

static void
test_host_path (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *photos = doc_path (f, "AbC123/Photos");
  g_autofree char *june = doc_path (f, "AbC123/Photos/2024/june");
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  if (!make_export (f->mount, "AbC123", "Photos", "/mnt/nas/Photos", TRUE))
    {
      g_test_skip ("no user extended attributes in the temporary directory");
      return;
    }
  a = sluice_portal_host_path (photos, f->mount);
  g_assert_cmpstr (a, ==, "/mnt/nas/Photos");
  /* a folder below the exported one: asked upwards, the rest appended */
  b = sluice_portal_host_path (june, f->mount);
  g_assert_cmpstr (b, ==, "/mnt/nas/Photos/2024/june");
}

static void
test_not_exported (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *plain = doc_path (f, "NoAttr1/Photos");
  g_autofree char *top = doc_path (f, "NoAttr1");

  make_export (f->mount, "NoAttr1", "Photos", NULL, FALSE);
  /* an older portal without the attribute: no host path, the caller keeps its path */
  g_assert_null (sluice_portal_host_path (plain, f->mount));
  /* the mount itself and a bare document id are never documents */
  g_assert_null (sluice_portal_host_path (f->mount, f->mount));
  g_assert_null (sluice_portal_host_path (top, f->mount));
  /* elsewhere: not the portal's */
  g_assert_null (sluice_portal_host_path ("/mnt/nas/Photos", f->mount));
  g_assert_null (sluice_portal_host_path ("/run/user/1000/docs/x/y", "/run/user/1000/doc"));
}

static void
dry_run (const char *source,
         const char *catalog_path)
{
  SluicePipelineOptions options;
  SluicePipelineSummary summary = { 0 };
  g_autoptr(SluiceCredentialsProvider) creds = sluice_credentials_provider_new (NULL);
  g_autoptr(SluicePipeline) pipeline = NULL;
  g_autoptr(GError) error = NULL;

  sluice_test_dry_run_options (&options, source, catalog_path, creds);

  pipeline = sluice_pipeline_new (&options, &error);
  g_assert_no_error (error);
  g_assert_true (sluice_pipeline_run (pipeline, NULL, &summary, &error));
  g_assert_no_error (error);
  sluice_pipeline_summary_clear (&summary);
  sluice_pipeline_options_clear (&options);
}

static char *
recorded_sources (const char *catalog_path)
{
  g_autoptr(GString) out = g_string_new (NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;

  g_assert_cmpint (sqlite3_open_v2 (catalog_path, &db, SQLITE_OPEN_READONLY, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT path FROM sources ORDER BY id", -1, &s,
                                       NULL), ==, SQLITE_OK);
  while (sqlite3_step (s) == SQLITE_ROW)
    g_string_append_printf (out, "%s;", (const char *) sqlite3_column_text (s, 0));
  sqlite3_finalize (s);
  sqlite3_close (db);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Two grants of the same folder give two document ids; a dry run from each records one
 * source in the catalog, by its host path. The fake mount is where the real one would be:
 * $XDG_RUNTIME_DIR/doc (a private directory under G_TEST_OPTION_ISOLATE_DIRS). */
static void
test_catalog_identity (void)
{
  g_autofree char *mount = g_build_filename (g_get_user_runtime_dir (), "doc", NULL);
  g_autofree char *first = g_build_filename (mount, "First1", "Photos", NULL);
  g_autofree char *second = g_build_filename (mount, "Second2", "Photos", "2024", NULL);
  g_autofree char *db = g_build_filename (g_get_user_data_dir (), "catalog.db", NULL);
  g_autofree char *sources = NULL;
  g_autofree char *id = NULL;

  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
  if (!make_export (mount, "First1", "Photos", "/media/nas/Photos", TRUE) ||
      !make_export (mount, "Second2", "Photos", "/media/nas/Photos", FALSE))
    {
      g_test_skip ("no user extended attributes in the temporary directory");
      return;
    }

  id = sluice_portal_source_identity (first);
  g_assert_cmpstr (id, ==, "/media/nas/Photos");

  dry_run (first, db);
  dry_run (second, db);
  dry_run (first, db);
  sources = recorded_sources (db);
  g_assert_cmpstr (sources, ==, "/media/nas/Photos;/media/nas/Photos/2024;");
}

/* Outside the portal (and outside a Flatpak), the identity is the path itself. */
static void
test_source_identity_plain (void)
{
  g_autofree char *id = sluice_portal_source_identity ("/mnt/nas/Photos");

  g_assert_cmpstr (id, ==, "/mnt/nas/Photos");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/engine/portal/host-path", Fixture, NULL, fixture_set_up, test_host_path,
              fixture_tear_down);
  g_test_add ("/engine/portal/not-exported", Fixture, NULL, fixture_set_up, test_not_exported,
              fixture_tear_down);
  g_test_add_func ("/engine/portal/catalog-identity", test_catalog_identity);
  g_test_add_func ("/engine/portal/identity-plain", test_source_identity_plain);
  return g_test_run ();
}
