/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Integration tests: sluice-cli against a real S3 server (Ceph RGW on 127.0.0.1, started by
 * tests/s3/sluice-test-s3.sh), verified from the server's side: listings, HEAD, ETags, metadata.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libexif/exif-data.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>
#include <unistd.h>

#include "sluice-engine.h"
#include "sluice-test-util.h"

static const char *endpoint;
static const char *cli;

/* ---- helpers ------------------------------------------------------------------------------- */

typedef struct {
  int    status;
  char  *out;
  char  *err;
} CliResult;

static void
cli_result_clear (CliResult *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliResult, cli_result_clear)

static GSubprocessLauncher *
launcher_new (const char *secret_override)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                      G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (secret_override != NULL)
    g_subprocess_launcher_setenv (l, "AWS_SECRET_ACCESS_KEY", secret_override, TRUE);
  return l;
}

/* @as_nobody: the CLI runs as "nobody" (for permission tests run as root) */
static void
run_cli_full (CliResult          *r,
              const char * const *args,
              const char         *secret_override,
              gboolean            as_nobody)
{
  g_autoptr(GSubprocessLauncher) l = launcher_new (secret_override);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  if (as_nobody)
    g_subprocess_launcher_set_child_setup (l, sluice_test_become_nobody, NULL, NULL);
  p = g_subprocess_launcher_spawnv (l, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &r->out, &r->err, &error);
  g_assert_no_error (error);
  r->status = g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : -1;
  if (g_test_verbose ())
    g_printerr ("$ sluice-cli %s\n[%d]\n%s%s", args[0], r->status, r->out, r->err);
}

static void
run_cli (CliResult          *r,
         const char * const *args,
         const char         *secret_override)
{
  run_cli_full (r, args, secret_override, FALSE);
}

static JsonObject *
parse_summary (const char *out)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static gint64
summary_files (JsonObject *summary,
               const char *stage)
{
  return json_object_get_int_member (json_object_get_object_member (summary, "files"), stage);
}

static SluiceTarget *
target_for (const char *bucket,
            const char *prefix)
{
  SluiceTarget *t = sluice_target_new ();

  t->endpoint = g_strdup (endpoint);
  t->bucket = g_strdup (bucket);
  g_free (t->prefix);
  t->prefix = g_strdup (prefix ? prefix : "");
  g_free (t->region);
  t->region = g_strdup (g_getenv ("AWS_DEFAULT_REGION") ? g_getenv ("AWS_DEFAULT_REGION")
                                                         : "us-east-1");
  t->path_style = TRUE;
  return t;
}

typedef struct {
  SluiceCredentialsProvider *creds;
  SluiceS3Client            *s3;
  char                      *bucket;
  char                      *dir;      /* test folder: src/, catalog.db */
  char                      *src;
  char                      *catalog;
  char                      *uri;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(SluiceTarget) t = NULL;
  g_autoptr(GError) error = NULL;
  static guint counter;

  f->bucket = g_strdup_printf ("sluice-it-%d-%u-%u", (int) getpid (), ++counter,
                               g_random_int_range (0, 100000));
  f->creds = sluice_credentials_provider_new (NULL);
  t = target_for (f->bucket, NULL);
  f->s3 = sluice_s3_client_new (t, f->creds);
  sluice_s3_client_create_bucket (f->s3, &error);
  g_assert_no_error (error);

  f->dir = g_dir_make_tmp ("sluice-it-XXXXXX", &error);
  g_assert_no_error (error);
  f->src = g_build_filename (f->dir, "src", NULL);
  f->catalog = g_build_filename (f->dir, "catalog.db", NULL);
  g_mkdir (f->src, 0755);
  f->uri = g_strdup_printf ("s3://%s/photos", f->bucket);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  sluice_s3_client_free (f->s3);
  sluice_credentials_provider_free (f->creds);
  /* the test folder goes; the bucket stays on the throw-away server */
  if (!g_test_failed ())
    {
      const char *argv[] = { "rm", "-rf", f->dir, NULL };
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                    NULL, NULL);
    }
  g_free (f->bucket);
  g_free (f->dir);
  g_free (f->src);
  g_free (f->catalog);
  g_free (f->uri);
}

/* A small but real JPEG: SOI, APP1 with EXIF written by libexif, a baseline SOF0 of @w × @h,
 * and filler bytes. */
static GBytes *
make_jpeg (const char *make,
           const char *model,
           guint       w,
           guint       h,
           gsize       filler)
{
  ExifData *ed = exif_data_new ();
  ExifEntry *e;
  unsigned char *exif = NULL;
  unsigned int exif_len = 0;
  GByteArray *out = g_byte_array_new ();
  static const guint8 soi[] = { 0xff, 0xd8 };
  static const guint8 eoi[] = { 0xff, 0xd9 };
  guint8 app1_hdr[4];
  guint8 sof[] = { 0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03,
                   0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01 };
  const char *strings[2] = { make, model };
  const ExifTag tags[2] = { EXIF_TAG_MAKE, EXIF_TAG_MODEL };

  exif_data_set_byte_order (ed, EXIF_BYTE_ORDER_INTEL);
  for (int i = 0; i < 2; i++)
    {
      e = exif_entry_new ();
      exif_content_add_entry (ed->ifd[EXIF_IFD_0], e);
      e->tag = tags[i];
      e->format = EXIF_FORMAT_ASCII;
      e->size = strlen (strings[i]) + 1;
      e->components = e->size;
      e->data = malloc (e->size);
      memcpy (e->data, strings[i], e->size);
      exif_entry_unref (e);
    }
  exif_data_save_data (ed, &exif, &exif_len);
  exif_data_unref (ed);

  g_byte_array_append (out, soi, 2);
  app1_hdr[0] = 0xff;
  app1_hdr[1] = 0xe1;
  app1_hdr[2] = (exif_len + 2) >> 8;
  app1_hdr[3] = (exif_len + 2) & 0xff;
  g_byte_array_append (out, app1_hdr, 4);
  g_byte_array_append (out, exif, exif_len);
  free (exif);
  sof[5] = h >> 8;
  sof[6] = h & 0xff;
  sof[7] = w >> 8;
  sof[8] = w & 0xff;
  g_byte_array_append (out, sof, sizeof sof);
  for (gsize i = 0; i < filler; i++)
    {
      guint8 b = g_random_int_range (0, 255);  /* no 0xff: no stray markers */
      g_byte_array_append (out, &b, 1);
    }
  g_byte_array_append (out, eoi, 2);
  return g_byte_array_free_to_bytes (out);
}

static void
write_file (const char *dir,
            const char *relpath,
            GBytes     *bytes)
{
  g_autofree char *path = g_build_filename (dir, relpath, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (parent, 0755);
  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

static void
write_text (const char *dir,
            const char *relpath,
            const char *text)
{
  g_autoptr(GBytes) b = g_bytes_new (text, strlen (text));
  write_file (dir, relpath, b);
}

static char *
file_checksum (const char    *dir,
               const char    *relpath,
               GChecksumType  type)
{
  g_autofree char *path = g_build_filename (dir, relpath, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_compute_checksum_for_data (type, (const guchar *) data, len);
}

typedef struct {
  GHashTable *etags;     /* key → etag */
  GHashTable *modified;  /* key → LastModified */
} Listing;

static gboolean
collect (const char *key,
         guint64     size,
         const char *etag,
         const char *last_modified,
         gpointer    user_data)
{
  Listing *l = user_data;

  g_hash_table_insert (l->etags, g_strdup (key), g_strdup (etag));
  g_hash_table_insert (l->modified, g_strdup (key), g_strdup (last_modified));
  return TRUE;
}

static void
listing_init (Listing *l)
{
  l->etags = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  l->modified = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
listing_clear (Listing *l)
{
  g_clear_pointer (&l->etags, g_hash_table_unref);
  g_clear_pointer (&l->modified, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Listing, listing_clear)

static void
list_bucket (Fixture *f,
             Listing *l)
{
  g_autoptr(GError) error = NULL;

  listing_init (l);
  sluice_s3_client_list_objects (f->s3, NULL, collect, l, &error);
  g_assert_no_error (error);
}

/* Every expected file is on the server under PREFIX/relpath with ETag = MD5 of the source and
 * our sha256 in its metadata, and nothing else is there. */
static void
assert_server_matches (Fixture            *f,
                       const char * const *relpaths)
{
  g_auto(Listing) l = { 0 };
  guint n = g_strv_length ((char **) relpaths);

  list_bucket (f, &l);
  g_assert_cmpuint (g_hash_table_size (l.etags), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strconcat ("photos/", relpaths[i], NULL);
      g_autofree char *md5 = file_checksum (f->src, relpaths[i], G_CHECKSUM_MD5);
      g_autofree char *sha = file_checksum (f->src, relpaths[i], G_CHECKSUM_SHA256);
      g_auto(SluiceS3ObjectInfo) info = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_cmpstr (g_hash_table_lookup (l.etags, key), ==, md5);
      sluice_s3_client_head_object (f->s3, key, &info, &error);
      g_assert_no_error (error);
      g_assert_true (info.exists);
      g_assert_cmpstr (info.etag, ==, md5);
      g_assert_cmpstr (info.sha256, ==, sha);
    }
}

static const char *const tree_files[] = {
  "2019/2019-07-14 Trip to Zürich/IMG_0001.JPG",
  "2019/2019-07-14 Trip to Zürich/IMG_0002.jpg",
  "2019/a+b & c (1).jpeg",
  "Phone Backup/DCIM/Camera/PXL_20230101_101010123.jpg",
  "Phone Backup/DCIM/Camera/clip.MOV",
  "Phone Backup/DCIM/Camera/PXL_20230101_101010123.xmp",
  "empty.jpg",
  "corrupt.jpg",
  "not-a-jpeg.png",
  NULL
};

static void
make_tree (Fixture *f)
{
  g_autoptr(GBytes) a = make_jpeg ("Canon", "Canon EOS 40D", 640, 480, 5000);
  g_autoptr(GBytes) b = make_jpeg ("NIKON CORPORATION", "NIKON D70", 300, 200, 70000);
  g_autoptr(GBytes) c = make_jpeg ("Google", "Pixel 7", 1024, 768, 1000);
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  static const guint8 corrupt_bytes[] = { 0xff, 0xd8, 0xff, 0xe1, 0x7f, 0xff, 'E', 'x', 'i', 'f',
                                          0, 0, 'I', 'I', 42, 0, 0xff, 0xff, 0xff, 0x7f };
  g_autoptr(GBytes) corrupt = g_bytes_new_static (corrupt_bytes, sizeof corrupt_bytes);

  write_file (f->src, tree_files[0], a);
  write_file (f->src, tree_files[1], b);
  write_file (f->src, tree_files[2], c);
  write_file (f->src, tree_files[3], c);
  write_text (f->src, tree_files[4], "not really a movie, but a .MOV all the same");
  write_text (f->src, tree_files[5], "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>");
  write_file (f->src, tree_files[6], empty);
  write_file (f->src, tree_files[7], corrupt);
  write_file (f->src, tree_files[8], a);   /* JPEG bytes behind a .png name */
  /* what must not be uploaded */
  write_text (f->src, "notes.txt", "a text file is not an image");
  write_file (f->src, "2019/@eaDir/IMG_0001.JPG@SYNOFILE_THUMB_XL.jpg", c);
  write_file (f->src, "#recycle/deleted.jpg", c);
  write_file (f->src, ".hidden/secret.jpg", c);
  write_file (f->src, "2019/._IMG_0001.JPG", c);
  write_text (f->src, "2019/Thumbs.db", "x");
}

static void
ingest_json_full (Fixture            *f,
                  CliResult          *r,
                  const char * const *extra,
                  gboolean            as_nobody)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *base[] = { "ingest", f->src, f->uri, "--endpoint", endpoint, "--catalog",
                         f->catalog, "--json", NULL };

  for (guint i = 0; base[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) base[i]);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) extra[i]);
  g_ptr_array_add (args, NULL);
  run_cli_full (r, (const char * const *) args->pdata, NULL, as_nobody);
}

static void
ingest_json (Fixture            *f,
             CliResult          *r,
             const char * const *extra)
{
  ingest_json_full (f, r, extra, FALSE);
}

/* ---- tests ----------------------------------------------------------------------------------- */

/* Upload intents the catalog still holds: none once a run has finished (each was completed,
 * or dropped when its file was not sent). */
static gint64
intents_left (Fixture *f)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_open_v2 (f->catalog, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM intents", -1, &s, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  sqlite3_close (db);
  return n;
}

static void
test_ingest_tree (Fixture       *f,
                  gconstpointer  data)
{
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) summary = NULL;
  g_autofree char *key = NULL;
  g_auto(SluiceS3ObjectInfo) info = { 0 };
  g_autoptr(GError) error = NULL;

  make_tree (f);
  ingest_json (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 0);
  summary = parse_summary (r.out);
  g_assert_cmpint (summary_files (summary, "found"), ==, 9);
  g_assert_cmpint (summary_files (summary, "uploaded"), ==, 9);
  g_assert_cmpint (summary_files (summary, "failed"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (summary, "exit_code"), ==, 0);

  assert_server_matches (f, tree_files);

  key = g_strconcat ("photos/", tree_files[0], NULL);
  sluice_s3_client_head_object (f->s3, key, &info, &error);
  g_assert_no_error (error);
  g_assert_true (info.exists);
  g_assert_cmpint (intents_left (f), ==, 0);
}

static void
test_rerun_uploads_nothing (Fixture       *f,
                            gconstpointer  data)
{
  g_auto(CliResult) r1 = { 0 };
  g_auto(CliResult) r2 = { 0 };
  g_auto(CliResult) r3 = { 0 };
  g_autoptr(JsonObject) s2 = NULL;
  g_auto(Listing) before = { 0 };
  g_auto(Listing) after = { 0 };
  const char *text_args[] = { "ingest", f->src, f->uri, "--endpoint", endpoint, "--catalog",
                              f->catalog, NULL };
  GHashTableIter it;
  gpointer k, v;

  make_tree (f);
  ingest_json (f, &r1, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  list_bucket (f, &before);
  g_usleep (1100 * 1000);  /* LastModified has one-second resolution on some servers */

  ingest_json (f, &r2, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  s2 = parse_summary (r2.out);
  g_assert_cmpint (summary_files (s2, "uploaded"), ==, 0);
  g_assert_cmpint (summary_files (s2, "read"), ==, 0);
  g_assert_cmpint (summary_files (s2, "skipped"), ==, 9);

  /* it says so, in words */
  run_cli (&r3, text_args, NULL);
  g_assert_cmpint (r3.status, ==, 0);
  g_assert_nonnull (strstr (r3.out, "Nothing to upload"));

  /* and the server agrees: no object was written again */
  list_bucket (f, &after);
  g_assert_cmpuint (g_hash_table_size (after.modified), ==, g_hash_table_size (before.modified));
  g_hash_table_iter_init (&it, before.modified);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_assert_cmpstr (g_hash_table_lookup (after.modified, k), ==, v);
}

/* Exported "make" of @relpath, or NULL when the catalog has none. */
static char *
exported_make (Fixture    *f,
               const char *relpath)
{
  g_auto(CliResult) e = { 0 };
  g_auto(GStrv) lines = NULL;
  const char *args[] = { "catalog", "export", "--catalog", f->catalog, "--format", "jsonl",
                         NULL };

  run_cli (&e, args, NULL);
  g_assert_cmpint (e.status, ==, 0);
  lines = g_strsplit (e.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonObject) row = NULL;

      if (lines[i][0] == '\0')
        continue;
      row = parse_summary (lines[i]);
      if (g_str_equal (json_object_get_string_member (row, "path"), relpath))
        return json_object_get_null_member (row, "make")
                 ? NULL : g_strdup (json_object_get_string_member (row, "make"));
    }
  g_assert_not_reached ();
}

/*
 * A small file's metadata is committed after its upload intent, batched with the completions.
 * A run that died between the two left the file uploaded but "not probed": the next run must
 * read and probe it again, and not send it again. The catalog is put in that state by hand.
 */
static void
test_metadata_after_crash (Fixture       *f,
                           gconstpointer  data)
{
  g_auto(CliResult) r1 = { 0 };
  g_auto(CliResult) r2 = { 0 };
  g_autoptr(JsonObject) s2 = NULL;
  g_auto(Listing) before = { 0 };
  g_auto(Listing) after = { 0 };
  g_autofree char *make_before = NULL;
  g_autofree char *make_after = NULL;
  static const char script[] = (
    "import sqlite3, sys\n"
    "db = sqlite3.connect(sys.argv[1])\n"
    "n = db.execute('UPDATE files SET probe_state = 0 WHERE relpath = ?', (sys.argv[2],)).rowcount\n"
    "db.execute('DELETE FROM metadata WHERE file_id IN "
    "(SELECT id FROM files WHERE relpath = ?)', (sys.argv[2],))\n"
    "db.commit()\n"
    "print(n)\n");
  const char *argv[] = { "python3", "-c", script, f->catalog, tree_files[0], NULL };
  g_autoptr(GError) error = NULL;
  int status = 0;
  g_autofree char *out = NULL;

  make_tree (f);
  ingest_json (f, &r1, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  make_before = exported_make (f, tree_files[0]);
  g_assert_cmpstr (make_before, ==, "Canon");
  list_bucket (f, &before);
  g_usleep (1100 * 1000);  /* LastModified has one-second resolution on some servers */

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (g_strstrip (out), ==, "1");
  g_assert_null (exported_make (f, tree_files[0]));

  ingest_json (f, &r2, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  s2 = parse_summary (r2.out);
  g_assert_cmpint (summary_files (s2, "uploaded"), ==, 0);
  g_assert_cmpint (summary_files (s2, "read"), ==, 1);
  make_after = exported_make (f, tree_files[0]);
  g_assert_cmpstr (make_after, ==, "Canon");

  /* not sent again */
  list_bucket (f, &after);
  {
    g_autofree char *key = g_strconcat ("photos/", tree_files[0], NULL);
    g_assert_cmpstr (g_hash_table_lookup (after.modified, key), ==,
                     g_hash_table_lookup (before.modified, key));
  }
}

static void
test_changed_file_uploaded_again (Fixture       *f,
                                  gconstpointer  data)
{
  g_auto(CliResult) r1 = { 0 };
  g_auto(CliResult) r2 = { 0 };
  g_autoptr(JsonObject) s2 = NULL;
  g_autoptr(GBytes) other = make_jpeg ("Sony", "ILCE-7M3", 100, 100, 3333);
  g_autofree char *touched = g_build_filename (f->src, tree_files[1], NULL);

  make_tree (f);
  ingest_json (f, &r1, NULL);
  g_assert_cmpint (r1.status, ==, 0);

  write_file (f->src, tree_files[0], other);          /* new content */
  g_utime (touched, NULL);                             /* new mtime, same content */

  ingest_json (f, &r2, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  s2 = parse_summary (r2.out);
  g_assert_cmpint (summary_files (s2, "uploaded"), ==, 1);
  g_assert_cmpint (summary_files (s2, "read"), ==, 2);      /* the touched one is read, not sent */
  g_assert_cmpint (summary_files (s2, "skipped"), ==, 8);
  assert_server_matches (f, tree_files);
}

static gboolean
contains_bytes (const char *path,
                const char *needle)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  return memmem (data, len, needle, strlen (needle)) != NULL;
}

static void
test_wrong_secret (Fixture       *f,
                   gconstpointer  data)
{
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) ok = { 0 };
  const char *wrong = "WrongSecretWrongSecretWrongSecret1234567";
  const char *real = g_getenv ("AWS_SECRET_ACCESS_KEY");
  const char *args[] = { "ingest", f->src, f->uri, "--endpoint", endpoint, "--catalog",
                         f->catalog, NULL };
  g_autofree char *wal = g_strconcat (f->catalog, "-wal", NULL);

  make_tree (f);
  run_cli (&r, args, wrong);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "secret key is wrong"));
  g_assert_null (strstr (r.err, wrong));
  g_assert_null (strstr (r.out, wrong));

  /* a successful run: the secret is nowhere in what it printed or stored */
  ingest_json (f, &ok, NULL);
  g_assert_cmpint (ok.status, ==, 0);
  g_assert_null (strstr (ok.out, real));
  g_assert_null (strstr (ok.err, real));
  g_assert_false (contains_bytes (f->catalog, real));
  g_assert_false (contains_bytes (wal, real));
  g_assert_false (contains_bytes (f->catalog, wrong));
}

static void
test_configuration_errors (Fixture       *f,
                           gconstpointer  data)
{
  g_auto(CliResult) nb = { 0 };
  g_auto(CliResult) down = { 0 };
  g_auto(CliResult) badurl = { 0 };
  g_auto(CliResult) nosrc = { 0 };
  g_autofree char *missing = g_strdup_printf ("s3://%s-missing/x", f->bucket);
  g_autofree char *nowhere = g_build_filename (f->dir, "nowhere", NULL);
  const char *a1[] = { "ingest", f->src, missing, "--endpoint", endpoint, "--catalog",
                       f->catalog, NULL };
  const char *a2[] = { "ingest", f->src, f->uri, "--endpoint", "http://127.0.0.1:1",
                       "--catalog", f->catalog, NULL };
  const char *a3[] = { "ingest", f->src, "http://bucket/x", "--endpoint", endpoint, NULL };
  const char *a4[] = { "ingest", nowhere, f->uri, "--endpoint", endpoint, "--catalog",
                       f->catalog, NULL };

  make_tree (f);
  run_cli (&nb, a1, NULL);
  g_assert_cmpint (nb.status, ==, 2);
  g_assert_nonnull (strstr (nb.err, "bucket does not exist"));

  run_cli (&down, a2, NULL);
  g_assert_cmpint (down.status, ==, 2);
  g_assert_nonnull (strstr (down.err, "refused the connection"));

  run_cli (&badurl, a3, NULL);
  g_assert_cmpint (badurl.status, ==, 2);
  g_assert_nonnull (strstr (badurl.err, "s3://BUCKET"));

  run_cli (&nosrc, a4, NULL);
  g_assert_cmpint (nosrc.status, ==, 2);
  g_assert_nonnull (strstr (nosrc.err, "source folder"));
}

static void
test_dry_run_sends_nothing (Fixture       *f,
                            gconstpointer  data)
{
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_auto(Listing) l = { 0 };
  const char *extra[] = { "--dry-run", NULL };

  make_tree (f);
  ingest_json (f, &r, extra);
  g_assert_cmpint (r.status, ==, 0);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "read"), ==, 9);       /* would send */
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 0);
  list_bucket (f, &l);
  g_assert_cmpuint (g_hash_table_size (l.etags), ==, 0);
}

static void
test_export_after_ingest (Fixture       *f,
                          gconstpointer  data)
{
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) e = { 0 };
  g_auto(CliResult) c = { 0 };
  g_auto(GStrv) lines = NULL;
  const char *export_jsonl[] = { "catalog", "export", "--catalog", f->catalog, "--format",
                                 "jsonl", NULL };
  const char *export_csv[] = { "catalog", "export", "--catalog", f->catalog, NULL };
  guint rows = 0;
  gboolean saw_canon = FALSE, saw_corrupt = FALSE, saw_mismatch = FALSE;

  make_tree (f);
  ingest_json (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 0);

  run_cli (&e, export_jsonl, NULL);
  g_assert_cmpint (e.status, ==, 0);
  lines = g_strsplit (e.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonObject) row = NULL;
      const char *path;

      if (lines[i][0] == '\0')
        continue;
      row = parse_summary (lines[i]);
      rows++;
      path = json_object_get_string_member (row, "path");
      g_assert_cmpstr (json_object_get_string_member (row, "state"), ==, "uploaded");
      g_assert_cmpstr (json_object_get_string_member (row, "bucket"), ==, f->bucket);
      {
        g_autofree char *key = g_strconcat ("photos/", path, NULL);
        g_autofree char *sha = file_checksum (f->src, path, G_CHECKSUM_SHA256);
        g_autofree char *md5 = file_checksum (f->src, path, G_CHECKSUM_MD5);
        g_assert_cmpstr (json_object_get_string_member (row, "key"), ==, key);
        g_assert_cmpstr (json_object_get_string_member (row, "sha256"), ==, sha);
        g_assert_cmpstr (json_object_get_string_member (row, "etag"), ==, md5);
      }
      if (g_str_equal (path, tree_files[0]))
        {
          saw_canon = TRUE;
          g_assert_cmpstr (json_object_get_string_member (row, "make"), ==, "Canon");
          g_assert_cmpstr (json_object_get_string_member (row, "model"), ==, "Canon EOS 40D");
          g_assert_cmpint (json_object_get_int_member (row, "width"), ==, 640);
          g_assert_cmpint (json_object_get_int_member (row, "height"), ==, 480);
        }
      if (g_str_equal (path, "corrupt.jpg"))
        {
          /* damaged: flagged, and uploaded all the same */
          saw_corrupt = TRUE;
          g_assert_false (json_object_get_null_member (row, "warning"));
        }
      if (g_str_equal (path, "not-a-jpeg.png"))
        {
          saw_mismatch = TRUE;
          g_assert_false (json_object_get_null_member (row, "warning"));
          g_assert_nonnull (strstr (json_object_get_string_member (row, "warning"), "png"));
        }
    }
  g_assert_cmpuint (rows, ==, 9);
  g_assert_true (saw_canon);
  g_assert_true (saw_corrupt);
  g_assert_true (saw_mismatch);

  run_cli (&c, export_csv, NULL);
  g_assert_cmpint (c.status, ==, 0);
  g_assert_true (g_str_has_prefix (c.out, "path,source,bucket,key,size,sha256,etag,state,warning,"
                                          "make,model,lens_model,datetime_original,"));
}

/* kill -9 in the middle of a run, then run again: everything arrives, and nothing that was
 * already on the server is sent a second time (its LastModified does not change). */
static void
test_kill_and_resume (Fixture       *f,
                      gconstpointer  data)
{
  const guint n_files = 600;
  g_autoptr(GSubprocessLauncher) l = launcher_new (NULL);
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Listing) at_kill = { 0 };
  g_auto(Listing) after = { 0 };
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer k, v;
  guint seen = 0;

  for (guint i = 0; i < n_files; i++)
    {
      g_autoptr(GBytes) jpeg = make_jpeg ("Canon", "Canon EOS 5D", 800, 600, 40000 + i * 17);
      g_autofree char *rel = g_strdup_printf ("roll-%02u/IMG_%04u.JPG", i / 50, i);
      write_file (f->src, rel, jpeg);
      g_ptr_array_add (expected, g_steal_pointer (&rel));
    }
  g_ptr_array_add (expected, NULL);

  p = g_subprocess_launcher_spawn (l, &error, cli, "ingest", f->src, f->uri, "--endpoint",
                                   endpoint, "--catalog", f->catalog, "--jobs", "2", NULL);
  g_assert_no_error (error);

  /* wait until part of the tree is on the server, then kill without warning */
  for (int tries = 0; tries < 400 && seen < n_files / 5; tries++)
    {
      g_auto(Listing) now = { 0 };
      g_usleep (25 * 1000);
      list_bucket (f, &now);
      seen = g_hash_table_size (now.etags);
    }
  g_subprocess_send_signal (p, SIGKILL);
  g_subprocess_wait (p, NULL, NULL);
  g_assert_true (g_subprocess_get_if_signaled (p));
  g_usleep (500 * 1000);   /* let the server finish what it had received */
  list_bucket (f, &at_kill);
  g_assert_cmpuint (g_hash_table_size (at_kill.etags), >, 0);
  g_assert_cmpuint (g_hash_table_size (at_kill.etags), <, n_files);
  g_usleep (1100 * 1000);

  ingest_json (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 0);
  s = parse_summary (r.out);
  /* exactly what was missing was sent */
  g_assert_cmpint (summary_files (s, "uploaded"), ==, n_files - g_hash_table_size (at_kill.etags));

  assert_server_matches (f, (const char * const *) expected->pdata);
  list_bucket (f, &after);
  g_hash_table_iter_init (&it, at_kill.modified);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_assert_cmpstr (g_hash_table_lookup (after.modified, k), ==, v);
  g_assert_cmpint (intents_left (f), ==, 0);
}

/* SIGTERM (or Ctrl+C) stops cleanly with exit 3, and the same command finishes the job. */
static void
test_sigterm_exit_3 (Fixture       *f,
                     gconstpointer  data)
{
  const guint n_files = 300;
  g_autoptr(GSubprocessLauncher) l = launcher_new (NULL);
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  guint seen = 0;

  for (guint i = 0; i < n_files; i++)
    {
      g_autoptr(GBytes) jpeg = make_jpeg ("Canon", "Canon EOS R5", 800, 600, 30000 + i);
      g_autofree char *rel = g_strdup_printf ("IMG_%04u.JPG", i);
      write_file (f->src, rel, jpeg);
      g_ptr_array_add (expected, g_steal_pointer (&rel));
    }
  g_ptr_array_add (expected, NULL);

  p = g_subprocess_launcher_spawn (l, &error, cli, "ingest", f->src, f->uri, "--endpoint",
                                   endpoint, "--catalog", f->catalog, "--jobs", "1", NULL);
  g_assert_no_error (error);
  for (int tries = 0; tries < 400 && seen < 20; tries++)
    {
      g_auto(Listing) now = { 0 };
      g_usleep (25 * 1000);
      list_bucket (f, &now);
      seen = g_hash_table_size (now.etags);
    }
  g_subprocess_send_signal (p, SIGTERM);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 3);
  g_assert_nonnull (strstr (err, "run the same command again"));
  /* the intents of files it never reached are gone (a first ingest commits them ahead of the
   * read); only those whose request was under way (at most one per worker) stay, for a HEAD */
  g_assert_cmpint (intents_left (f), <=, 2);

  ingest_json (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 0);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "uploaded") + summary_files (s, "skipped"), ==, n_files);
  g_assert_cmpint (summary_files (s, "skipped"), >=, 20);
  assert_server_matches (f, (const char * const *) expected->pdata);
}

/* A name that cannot become a key fails that file, by name, and only that file: exit 1. */
static void
test_bad_name_fails_one_file (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GBytes) jpeg = make_jpeg ("Canon", "Canon EOS 40D", 64, 64, 100);
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  const char *good[] = { "good.jpg", NULL };

  write_file (f->src, "good.jpg", jpeg);
  write_file (f->src, "bad\xff\xfename.jpg", jpeg);
  ingest_json (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 1);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 1);
  g_assert_cmpint (summary_files (s, "failed"), ==, 1);
  g_assert_nonnull (strstr (r.err, "not valid UTF-8"));
  g_assert_nonnull (strstr (r.err, "name.jpg"));
  assert_server_matches (f, good);
  g_assert_cmpint (intents_left (f), ==, 0);
}

/* A file that cannot be read fails by name, and only that file: on a first ingest its upload
 * intent was committed before the read, and is dropped. Once it can be read, a rerun sends it
 * and nothing else. Run as "nobody" when the tests run as root, which reads anything. */
static void
test_unreadable_file_fails_one (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GBytes) jpeg = make_jpeg ("Canon", "Canon EOS 40D", 64, 64, 3000);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *locked = g_build_filename (f->src, "locked.jpg", NULL);
  gboolean as_nobody = sluice_test_is_root ();
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) again = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autoptr(JsonObject) s2 = NULL;

  if (as_nobody && !sluice_test_can_drop_privileges ())
    {
      g_test_skip ("running as root, and cannot become nobody to make a file unreadable");
      return;
    }
  for (guint i = 0; i < 8; i++)
    {
      char *name = g_strdup_printf ("good-%u.jpg", i);
      g_autoptr(GBytes) other = make_jpeg ("Canon", "Canon EOS 40D", 64, 64, 3000);

      write_file (f->src, name, other);   /* random filler: no two files alike */
      g_ptr_array_add (names, name);
    }
  g_ptr_array_add (names, NULL);
  write_file (f->src, "locked.jpg", jpeg);
  g_assert_cmpint (g_chmod (locked, 0), ==, 0);
  if (as_nobody)
    {
      sluice_test_open_path_for_nobody (f->src);
      g_assert_cmpint (g_chmod (f->dir, 0777), ==, 0);   /* for the catalog */
    }

  ingest_json_full (f, &r, NULL, as_nobody);
  g_assert_cmpint (r.status, ==, 1);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 8);
  g_assert_cmpint (summary_files (s, "failed"), ==, 1);
  g_assert_nonnull (strstr (r.err, "locked.jpg"));
  g_assert_nonnull (strstr (r.err, "ermission denied"));
  assert_server_matches (f, (const char * const *) names->pdata);
  g_assert_cmpint (intents_left (f), ==, 0);

  g_assert_cmpint (g_chmod (locked, 0644), ==, 0);
  ingest_json_full (f, &again, NULL, as_nobody);
  g_assert_cmpint (again.status, ==, 0);
  s2 = parse_summary (again.out);
  g_assert_cmpint (summary_files (s2, "uploaded"), ==, 1);
  g_assert_cmpint (summary_files (s2, "skipped"), ==, 8);
  g_ptr_array_insert (names, names->len - 1, g_strdup ("locked.jpg"));
  assert_server_matches (f, (const char * const *) names->pdata);
  g_assert_cmpint (intents_left (f), ==, 0);
}

/* The real camera files of ../shared/corpus/exif-samples, when they are there: every file
 * uploaded with ETag = MD5, damaged ones flagged, and the metadata agreeing with exiftool on at
 * least 99 % of the fields (tools/check-fidelity.py). */
static void
test_exif_samples (Fixture       *f,
                   gconstpointer  data)
{
  const char *root = g_getenv ("SLUICE_SOURCE_ROOT");
  g_autofree char *corpus = g_build_filename (root, "..", "shared", "corpus", "exif-samples", NULL);
  g_autofree char *export_path = g_build_filename (f->dir, "export.jsonl", NULL);
  g_autofree char *fidelity = g_build_filename (root, "tools", "check-fidelity.py", NULL);
  const char *args[] = { "ingest", corpus, f->uri, "--endpoint", endpoint, "--catalog",
                         f->catalog, "--json", NULL };
  const char *export[] = { "catalog", "export", "--catalog", f->catalog, "--format", "jsonl",
                           "-o", export_path, NULL };
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) e = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autoptr(GSubprocess) check = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *check_out = NULL;
  g_autofree char *check_err = NULL;
  g_autofree char *exiftool = g_find_program_in_path ("exiftool");
  g_auto(Listing) l = { 0 };
  g_autofree char *jsonl = NULL;
  g_auto(GStrv) lines = NULL;
  guint flagged = 0, rows = 0;

  if (!g_file_test (corpus, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("../shared/corpus/exif-samples is not there");
      return;
    }

  run_cli (&r, args, NULL);
  g_assert_cmpint (r.status, ==, 0);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "found"), ==, 114);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 114);

  run_cli (&e, export, NULL);
  g_assert_cmpint (e.status, ==, 0);
  g_file_get_contents (export_path, &jsonl, NULL, &error);
  g_assert_no_error (error);

  list_bucket (f, &l);
  g_assert_cmpuint (g_hash_table_size (l.etags), ==, 114);
  lines = g_strsplit (jsonl, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonObject) row = NULL;
      g_autofree char *md5 = NULL;
      const char *path;

      if (lines[i][0] == '\0')
        continue;
      row = parse_summary (lines[i]);
      rows++;
      path = json_object_get_string_member (row, "path");
      md5 = file_checksum (corpus, path, G_CHECKSUM_MD5);
      g_assert_cmpstr (g_hash_table_lookup (l.etags, json_object_get_string_member (row, "key")),
                       ==, md5);
      g_assert_cmpstr (json_object_get_string_member (row, "state"), ==, "uploaded");
      /* ExifOffset stored as a string: damaged EXIF, flagged, uploaded all the same */
      if (g_str_equal (path, "ianare-exif-samples/jpg/tests/30-type_error.jpg"))
        flagged += !json_object_get_null_member (row, "warning");
    }
  g_assert_cmpuint (rows, ==, 114);
  g_assert_cmpuint (flagged, ==, 1);

  if (exiftool == NULL)
    {
      g_test_skip ("exiftool is not installed: fidelity not checked");
      return;
    }
  check = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            &error, "python3", fidelity, export_path, corpus, "--min", "99",
                            NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (check, NULL, NULL, &check_out, &check_err, &error);
  g_assert_no_error (error);
  if (g_test_verbose () || g_subprocess_get_exit_status (check) != 0)
    g_printerr ("%s%s", check_out, check_err);
  g_assert_cmpint (g_subprocess_get_exit_status (check), ==, 0);
}

/* ---- large files ------------------------------------------------------------------------------ */

#define MiB (1024 * 1024)

static void
write_random (const char *dir,
              const char *relpath,
              gsize       size)
{
  g_autofree guint8 *data = g_malloc (size);
  g_autoptr(GBytes) bytes = NULL;

  for (gsize i = 0; i < size; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (data + i, &r, MIN (4, size - i));
    }
  bytes = g_bytes_new_take (g_steal_pointer (&data), size);
  write_file (dir, relpath, bytes);
}

/* What S3 must answer for a file sent in parts of @part bytes: md5 of the part md5s, "-N". */
static char *
expected_multipart_etag (const char *dir,
                         const char *relpath,
                         gsize       part)
{
  g_autofree char *path = g_build_filename (dir, relpath, NULL);
  g_autofree char *data = NULL;
  g_autoptr(GChecksum) outer = g_checksum_new (G_CHECKSUM_MD5);
  gsize len = 0, n = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  for (gsize off = 0; off < len; off += part, n++)
    {
      g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
      guint8 digest[16];
      gsize dlen = sizeof digest;

      g_checksum_update (md5, (const guchar *) data + off, MIN (part, len - off));
      g_checksum_get_digest (md5, digest, &dlen);
      g_checksum_update (outer, digest, dlen);
    }
  return g_strdup_printf ("%s-%" G_GSIZE_FORMAT, g_checksum_get_string (outer), n);
}

static void
ingest_large (Fixture            *f,
              CliResult          *r,
              const char * const *extra)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *base[] = { "--multipart-threshold", "8", "--part-size", "5", NULL };

  for (guint i = 0; base[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) base[i]);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) extra[i]);
  g_ptr_array_add (args, NULL);
  ingest_json (f, r, (const char * const *) args->pdata);
}

static void
assert_multipart_object (Fixture    *f,
                         const char *relpath)
{
  g_autofree char *key = g_strconcat ("photos/", relpath, NULL);
  g_autofree char *etag = expected_multipart_etag (f->src, relpath, 5 * MiB);
  g_auto(SluiceS3ObjectInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->src, relpath, NULL);
  struct stat st;

  sluice_s3_client_head_object (f->s3, key, &info, &error);
  g_assert_no_error (error);
  g_assert_true (info.exists);
  g_assert_cmpstr (info.etag, ==, etag);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpuint (info.size, ==, st.st_size);
}

static void
test_multipart (Fixture       *f,
                gconstpointer  data)
{
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) e = { 0 };
  g_auto(CliResult) v = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_auto(GStrv) lines = NULL;
  const char *export[] = { "catalog", "export", "--catalog", f->catalog, "--format", "jsonl",
                           NULL };
  const char *verify[] = { "verify", f->uri, "--endpoint", endpoint, "--catalog", f->catalog,
                           NULL };
  g_autoptr(GBytes) jpeg = make_jpeg ("Canon", "Canon EOS R5", 640, 480, 1000);

  write_random (f->src, "video/clip.MOV", 23 * MiB + 12345);
  write_random (f->src, "video/exactly-two-parts.mp4", 10 * MiB);
  write_file (f->src, "small.jpg", jpeg);
  ingest_large (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 0);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 3);

  assert_multipart_object (f, "video/clip.MOV");
  assert_multipart_object (f, "video/exactly-two-parts.mp4");

  /* the catalog knows the whole file's SHA-256 although no single request carried it */
  run_cli (&e, export, NULL);
  g_assert_cmpint (e.status, ==, 0);
  lines = g_strsplit (e.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonObject) row = NULL;
      g_autofree char *sha = NULL;

      if (lines[i][0] == '\0')
        continue;
      row = parse_summary (lines[i]);
      sha = file_checksum (f->src, json_object_get_string_member (row, "path"),
                           G_CHECKSUM_SHA256);
      g_assert_cmpstr (json_object_get_string_member (row, "sha256"), ==, sha);
      g_assert_cmpstr (json_object_get_string_member (row, "state"), ==, "uploaded");
    }

  run_cli (&v, verify, NULL);
  g_assert_cmpint (v.status, ==, 0);
  g_assert_nonnull (strstr (v.out, "3 objects checked: 3 match"));
}

typedef struct {
  guint  uploads;
  char  *key;
  char  *upload_id;
} UploadsSeen;

static gboolean
count_upload (const char *key,
              const char *upload_id,
              const char *initiated,
              gpointer    user_data)
{
  UploadsSeen *u = user_data;

  u->uploads++;
  g_free (u->key);
  g_free (u->upload_id);
  u->key = g_strdup (key);
  u->upload_id = g_strdup (upload_id);
  return TRUE;
}

static gboolean
count_part (guint       number,
            guint64     size,
            const char *etag,
            gpointer    user_data)
{
  (*(guint *) user_data)++;
  return TRUE;
}

static guint
server_parts (Fixture     *f,
              UploadsSeen *u)
{
  g_autoptr(GError) error = NULL;
  guint parts = 0;

  u->uploads = 0;
  sluice_s3_client_list_uploads (f->s3, "photos/", count_upload, u, &error);
  g_assert_no_error (error);
  if (u->uploads == 0)
    return 0;
  sluice_s3_client_list_parts (f->s3, u->key, u->upload_id, count_part, &parts, &error);
  return error == NULL ? parts : 0;
}

/* kill -9 in the middle of a large file: the next run continues the same upload, sends only
 * the parts the server does not have, and the object is exactly the file. */
static void
test_multipart_kill_and_resume (Fixture       *f,
                                gconstpointer  data)
{
  const gsize size = 150 * MiB;
  const guint n_parts = 30;
  g_autoptr(GSubprocessLauncher) l = launcher_new (NULL);
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) c = { 0 };
  g_autoptr(JsonObject) s = NULL;
  UploadsSeen u = { 0 };
  const char *cleanup[] = { "cleanup", f->uri, "--endpoint", endpoint, "--catalog", f->catalog,
                            "-n", NULL };
  guint parts = 0;
  gint64 read_again;

  write_random (f->src, "big.MOV", size);
  p = g_subprocess_launcher_spawn (l, &error, cli, "ingest", f->src, f->uri, "--endpoint",
                                   endpoint, "--catalog", f->catalog, "--jobs", "2",
                                   "--multipart-threshold", "8", "--part-size", "5", NULL);
  g_assert_no_error (error);
  for (int tries = 0; tries < 600 && parts < n_parts / 3; tries++)
    {
      g_usleep (20 * 1000);
      parts = server_parts (f, &u);
    }
  g_subprocess_send_signal (p, SIGKILL);
  g_subprocess_wait (p, NULL, NULL);
  g_assert_cmpuint (parts, >=, n_parts / 3);
  g_assert_cmpuint (parts, <, n_parts);
  g_assert_cmpuint (u.uploads, ==, 1);

  /* the catalog knows the upload: cleanup would keep it for the next run */
  run_cli (&c, cleanup, NULL);
  g_assert_cmpint (c.status, ==, 0);
  g_assert_nonnull (strstr (c.out, "0 would be aborted, 1 kept"));

  ingest_large (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 0);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 1);
  /* finished parts whose hash state was kept are not even read again */
  read_again = json_object_get_int_member (json_object_get_object_member (s, "bytes"), "read");
  if (g_test_verbose ())
    g_printerr ("parts on the server at the kill: %u of %u; bytes read again: %" G_GINT64_FORMAT
                " of %" G_GSIZE_FORMAT "\n", parts, n_parts, read_again, size);
  g_assert_cmpint (read_again, <, (gint64) size);
  assert_multipart_object (f, "big.MOV");

  /* and nothing is left unfinished on the server */
  g_assert_cmpuint (server_parts (f, &u), ==, 0);
  g_assert_cmpuint (u.uploads, ==, 0);
  g_free (u.key);
  g_free (u.upload_id);
}

/* --no-overwrite: an object that exists is never replaced, whether sent whole or in parts. */
static void
test_no_overwrite (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GBytes) jpeg = make_jpeg ("Canon", "Canon EOS R5", 640, 480, 1000);
  const char *theirs = "somebody else's object";
  g_autofree char *theirs_md5 = g_compute_checksum_for_string (G_CHECKSUM_MD5, theirs, -1);
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  const char *extra[] = { "--no-overwrite", NULL };
  const char *keys[] = { "photos/a.jpg", "photos/big.MOV", NULL };
  char sha[65];

  write_file (f->src, "a.jpg", jpeg);
  write_random (f->src, "big.MOV", 12 * MiB);
  write_file (f->src, "b.jpg", jpeg);
  sluice_sha256_hex ((const guint8 *) theirs, strlen (theirs), sha);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      SluiceS3PutRequest req = { .key = keys[i], .body = (const guint8 *) theirs,
                                 .len = strlen (theirs), .sha256_hex = sha };
      g_autofree char *etag = NULL;
      g_autoptr(GError) error = NULL;

      sluice_s3_client_put_object (f->s3, &req, &etag, &error);
      g_assert_no_error (error);
    }

  ingest_large (f, &r, extra);
  g_assert_cmpint (r.status, ==, 0);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 1);   /* b.jpg */
  g_assert_cmpint (summary_files (s, "skipped"), ==, 2);

  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_auto(SluiceS3ObjectInfo) info = { 0 };
      g_autoptr(GError) error = NULL;

      sluice_s3_client_head_object (f->s3, keys[i], &info, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (info.etag, ==, theirs_md5);
    }
}

/* verify finds what went missing or changed behind the catalog's back. */
static void
test_verify_reports_problems (Fixture       *f,
                              gconstpointer  data)
{
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) v = { 0 };
  g_autoptr(JsonObject) report = NULL;
  g_autoptr(GError) error = NULL;
  const char *verify[] = { "verify", f->uri, "--endpoint", endpoint, "--catalog", f->catalog,
                           "--json", NULL };
  const char *other = "changed behind our back";
  g_autofree char *key_changed = g_strconcat ("photos/", tree_files[1], NULL);
  g_autofree char *key_deleted = g_strconcat ("photos/", tree_files[0], NULL);
  SluiceS3PutRequest req = { .key = key_changed, .body = (const guint8 *) other,
                             .len = strlen (other) };
  g_autofree char *etag = NULL;
  char sha[65];

  make_tree (f);
  ingest_json (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 0);

  sluice_s3_client_delete_object (f->s3, key_deleted, &error);
  g_assert_no_error (error);
  sluice_sha256_hex ((const guint8 *) other, strlen (other), sha);
  req.sha256_hex = sha;
  sluice_s3_client_put_object (f->s3, &req, &etag, &error);
  g_assert_no_error (error);
  req.key = "photos/stranger.jpg";
  sluice_s3_client_put_object (f->s3, &req, NULL, &error);
  g_assert_no_error (error);

  run_cli (&v, verify, NULL);
  g_assert_cmpint (v.status, ==, 1);
  report = parse_summary (v.out);
  g_assert_cmpint (json_object_get_int_member (report, "checked"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (report, "ok"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (report, "missing"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (report, "size_mismatch") +
                   json_object_get_int_member (report, "etag_mismatch"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (report, "extra"), ==, 1);
}

/* cleanup aborts unfinished uploads nobody will continue. */
static void
test_cleanup_aborts_orphans (Fixture       *f,
                             gconstpointer  data)
{
  g_auto(CliResult) c = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *upload_id = NULL;
  SluiceS3PutRequest req = { .key = "photos/orphan.MOV" };
  const char *cleanup[] = { "cleanup", f->uri, "--endpoint", endpoint, "--catalog", f->catalog,
                            NULL };
  UploadsSeen u = { 0 };

  sluice_s3_client_create_multipart (f->s3, &req, &upload_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint ((server_parts (f, &u), u.uploads), ==, 1);

  run_cli (&c, cleanup, NULL);
  g_assert_cmpint (c.status, ==, 0);
  g_assert_nonnull (strstr (c.out, "aborted: photos/orphan.MOV"));
  server_parts (f, &u);
  g_assert_cmpuint (u.uploads, ==, 0);
  g_free (u.key);
  g_free (u.upload_id);
}

/* --dedupe: content already in the bucket is copied on the server, not sent again. */
static void
test_dedupe (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GBytes) jpeg = make_jpeg ("Canon", "Canon EOS 40D", 640, 480, 30000);
  g_auto(CliResult) r1 = { 0 };
  g_auto(CliResult) r2 = { 0 };
  g_autoptr(JsonObject) s2 = NULL;
  const char *extra[] = { "--dedupe", NULL };
  const char *both[] = { "2019/IMG_0001.JPG", "Copy of 2019/IMG_0001.JPG", NULL };

  write_file (f->src, both[0], jpeg);
  ingest_json (f, &r1, extra);
  g_assert_cmpint (r1.status, ==, 0);

  write_file (f->src, both[1], jpeg);
  ingest_json (f, &r2, extra);
  g_assert_cmpint (r2.status, ==, 0);
  s2 = parse_summary (r2.out);
  g_assert_cmpint (summary_files (s2, "deduplicated"), ==, 1);
  g_assert_cmpint (summary_files (s2, "uploaded"), ==, 0);
  assert_server_matches (f, both);
}

/* --dedupe for files sent in parts: a same-size object makes Sluice hash first, then copy. */
static void
test_dedupe_large (Fixture       *f,
                   gconstpointer  data)
{
  g_auto(CliResult) r1 = { 0 };
  g_auto(CliResult) r2 = { 0 };
  g_autoptr(JsonObject) s2 = NULL;
  g_autofree char *path = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  const char *extra[] = { "--dedupe", NULL };

  write_random (f->src, "video/a.MOV", 12 * MiB);
  ingest_large (f, &r1, extra);
  g_assert_cmpint (r1.status, ==, 0);

  path = g_build_filename (f->src, "video/a.MOV", NULL);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  copy = g_build_filename (f->src, "backup/a copy.MOV", NULL);
  {
    g_autofree char *dir = g_path_get_dirname (copy);
    g_mkdir_with_parents (dir, 0755);
  }
  g_assert_true (g_file_set_contents (copy, contents, len, NULL));

  ingest_large (f, &r2, extra);
  g_assert_cmpint (r2.status, ==, 0);
  s2 = parse_summary (r2.out);
  g_assert_cmpint (summary_files (s2, "deduplicated"), ==, 1);
  g_assert_cmpint (summary_files (s2, "uploaded"), ==, 0);
  assert_multipart_object (f, "video/a.MOV");
  {
    g_auto(SluiceS3ObjectInfo) a = { 0 };
    g_auto(SluiceS3ObjectInfo) b = { 0 };
    g_autoptr(GError) error = NULL;

    sluice_s3_client_head_object (f->s3, "photos/video/a.MOV", &a, &error);
    g_assert_no_error (error);
    sluice_s3_client_head_object (f->s3, "photos/backup/a copy.MOV", &b, &error);
    g_assert_no_error (error);
    g_assert_true (b.exists);
    g_assert_cmpuint (b.size, ==, a.size);
  }
}

/* Object options the server rejects stop the run before any file is sent, in plain words. */
static void
test_object_options_checked_first (Fixture       *f,
                                   gconstpointer  data)
{
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) ok = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_auto(Listing) l = { 0 };
  const char *bad[] = { "--storage-class", "NO_SUCH_CLASS", NULL };
  const char *good[] = { "--tag", "project=sluice", "--tag", "owner=ml team",
                         "--acl-bucket-owner-full-control", NULL };
  JsonObject *caps;

  make_tree (f);
  ingest_json (f, &r, bad);
  g_assert_cmpint (r.status, ==, 2);
  s = parse_summary (r.out);
  g_assert_nonnull (strstr (json_object_get_string_member (
                              json_object_get_object_member (s, "error"), "message"),
                            "object options"));
  list_bucket (f, &l);
  g_assert_cmpuint (g_hash_table_size (l.etags), ==, 0);   /* nothing sent, nothing left */

  ingest_json (f, &ok, good);
  g_assert_cmpint (ok.status, ==, 0);
  g_clear_pointer (&s, json_object_unref);
  s = parse_summary (ok.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 9);
  /* what the capability probe found about this (strict) server */
  caps = json_object_get_object_member (s, "capabilities");
  g_assert_nonnull (caps);
  g_assert_cmpstr (json_object_get_string_member (caps, "verifies_payload_hash"), ==, "yes");
  g_assert_cmpstr (json_object_get_string_member (caps, "if_none_match_put"), ==, "yes");
  assert_server_matches (f, tree_files);
}

/* --key-template: keys from metadata and content; two files mapping to one key are an error for
 * the second, never an overwrite. */
static void
test_key_template (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GBytes) a = make_jpeg ("Canon", "Canon EOS 40D", 64, 64, 1000);
  g_autoptr(GBytes) b = make_jpeg ("Canon", "Canon EOS 40D", 64, 64, 2000);
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) c = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *expected = NULL;
  g_auto(Listing) l = { 0 };
  const char *tmpl[] = { "--key-template", "{camera}/{sha256}.{ext}", NULL };
  const char *flat[] = { "--key-template", "flat/{name}.{ext}", NULL };

  write_file (f->src, "2019/IMG_0001.JPG", a);
  write_file (f->src, "2020/IMG_0001.JPG", b);
  ingest_json (f, &r, tmpl);
  g_assert_cmpint (r.status, ==, 0);
  sha = file_checksum (f->src, "2019/IMG_0001.JPG", G_CHECKSUM_SHA256);
  expected = g_strdup_printf ("photos/Canon EOS 40D/%s.JPG", sha);
  list_bucket (f, &l);
  g_assert_true (g_hash_table_contains (l.etags, expected));
  g_assert_cmpuint (g_hash_table_size (l.etags), ==, 2);

  /* {name} flattens the folders: the second IMG_0001.JPG must not replace the first */
  ingest_json (f, &c, flat);
  g_assert_cmpint (c.status, ==, 1);
  s = parse_summary (c.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 1);
  g_assert_cmpint (summary_files (s, "failed"), ==, 1);
  g_assert_nonnull (strstr (c.err, "already belongs to"));
}

/* sluice-cli --target NAME uses a target saved by the app (targets.ini). */
static void
test_saved_target (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *config = g_build_filename (f->dir, "config", NULL);
  g_autofree char *dir = g_build_filename (config, "sluice", NULL);
  g_autofree char *ini = g_build_filename (dir, "targets.ini", NULL);
  g_autofree char *text = NULL;
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) missing = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) s = NULL;
  const char *args[] = { "ingest", f->src, "--target", "Local test", "--catalog", f->catalog,
                         "--json", NULL };
  const char *nope[] = { "ingest", f->src, "--target", "Nowhere", "--catalog", f->catalog,
                         NULL };

  make_tree (f);
  g_mkdir_with_parents (dir, 0700);
  /* the CLI inherits this: where it looks for the app's saved targets */
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  text = g_strdup_printf ("[Local test]\nendpoint=%s\nregion=%s\nbucket=%s\nprefix=photos\n"
                          "addressing=path\ncredentials=environment\n", endpoint,
                          g_getenv ("AWS_DEFAULT_REGION"), f->bucket);
  g_file_set_contents (ini, text, -1, &error);
  g_assert_no_error (error);

  run_cli (&r, args, NULL);
  g_assert_cmpint (r.status, ==, 0);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 9);
  assert_server_matches (f, tree_files);

  run_cli (&missing, nope, NULL);
  g_assert_cmpint (missing.status, ==, 2);
  g_assert_nonnull (strstr (missing.err, "no saved target named"));
}

/* The CLI's filters give the browser's view of the catalog, and --upload puts the manifest
 * beside the data: a GET returns exactly what -o wrote. */
static void
test_export_filtered_upload (Fixture       *f,
                             gconstpointer  data)
{
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) e = { 0 };
  g_auto(CliResult) u = { 0 };
  g_auto(CliResult) bad = { 0 };
  g_autofree char *local = g_build_filename (f->dir, "canon.jsonl", NULL);
  g_autofree char *dest = g_strdup_printf ("s3://%s/manifests/canon.jsonl", f->bucket);
  g_autofree char *written = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  gsize len = 0;
  guint rows = 0;
  const char *filtered[] = { "catalog", "export", "--catalog", f->catalog, "--format", "jsonl",
                             "--camera", "Canon EOS 40D", "--state", "uploaded",
                             "--no-gps", "--search", "zurich \"jpg\"", "--sort", "name",
                             "-o", local, NULL };
  const char *upload[] = { "catalog", "export", "--catalog", f->catalog, "--format", "jsonl",
                           "--camera", "Canon EOS 40D", "--state", "uploaded",
                           "--no-gps", "--search", "zurich \"jpg\"", "--sort", "name",
                           "--upload", dest, "--endpoint", endpoint, NULL };
  const char *bad_state[] = { "catalog", "export", "--catalog", f->catalog, "--state", "lost",
                              NULL };

  make_tree (f);
  ingest_json (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 0);

  run_cli (&e, filtered, NULL);
  g_assert_cmpint (e.status, ==, 0);
  g_assert_true (g_file_get_contents (local, &written, &len, NULL));
  lines = g_strsplit (written, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonObject) row = NULL;

      if (lines[i][0] == '\0')
        continue;
      row = parse_summary (lines[i]);
      rows++;
      g_assert_cmpstr (json_object_get_string_member (row, "model"), ==, "Canon EOS 40D");
      g_assert_cmpstr (json_object_get_string_member (row, "state"), ==, "uploaded");
    }
  g_assert_cmpuint (rows, >=, 1);
  g_assert_cmpuint (rows, <, 9);

  run_cli (&u, upload, NULL);
  g_assert_cmpint (u.status, ==, 0);
  g_assert_true (sluice_s3_client_get_object (f->s3, "manifests/canon.jsonl", 1024 * 1024, &body,
                                              &error));
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), written, len);

  run_cli (&bad, bad_state, NULL);
  g_assert_cmpint (bad.status, ==, 2);
  g_assert_nonnull (strstr (bad.err, "lost"));
}

/* A presigned URL (Sluice signs it: curl does not presign) downloads the object, with no
 * credentials, from the real server; a tampered one is refused. */
static void
test_presigned_url (Fixture       *f,
                    gconstpointer  data)
{
  g_auto(CliResult) r = { 0 };
  g_auto(CliResult) p = { 0 };
  g_autofree char *uri = g_strdup_printf ("s3://%s/photos/%s", f->bucket, tree_files[2]);
  const char *presign[] = { "presign", uri, "--endpoint", endpoint, "--expires", "600", NULL };
  g_autofree char *url = NULL;
  g_autofree char *tampered = NULL;
  g_autofree char *md5 = NULL;
  g_autofree char *got = NULL;
  g_autoptr(GSubprocess) curl = NULL;
  g_autoptr(GSubprocess) bad = NULL;
  g_autoptr(GError) error = NULL;

  make_tree (f);
  md5 = file_checksum (f->src, tree_files[2], G_CHECKSUM_MD5);
  ingest_json (f, &r, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_cli (&p, presign, NULL);
  g_assert_cmpint (p.status, ==, 0);
  url = g_strstrip (g_strdup (p.out));
  g_assert_true (g_str_has_prefix (url, endpoint));
  g_assert_nonnull (strstr (url, "X-Amz-Signature="));

  curl = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "curl", "-sf", url, NULL);
  g_assert_no_error (error);
  {
    g_autoptr(GBytes) stdout_bytes = NULL;
    g_subprocess_communicate (curl, NULL, NULL, &stdout_bytes, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_subprocess_get_successful (curl));
    got = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, stdout_bytes);
  }
  g_assert_cmpstr (got, ==, md5);

  /* one character of the signature changed: the server says no */
  tampered = g_strdup (url);
  tampered[strlen (tampered) - 1] = tampered[strlen (tampered) - 1] == '0' ? '1' : '0';
  bad = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "curl", "-sf", tampered,
                          NULL);
  g_assert_no_error (error);
  g_subprocess_wait (bad, NULL, NULL);
  g_assert_false (g_subprocess_get_successful (bad));
}

/* Virtual-hosted addressing: BUCKET.s3.sluice.test, pinned to 127.0.0.1 without DNS. */
static void
test_virtual_hosted (Fixture       *f,
                     gconstpointer  data)
{
  const char *domain = g_getenv ("SLUICE_TEST_S3_VHOST_DOMAIN");
  g_autoptr(GUri) uri = g_uri_parse (endpoint, G_URI_FLAGS_NONE, NULL);
  g_autofree char *vendpoint = NULL;
  g_autofree char *pin = NULL;
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  const char *args[] = { "ingest", f->src, f->uri, "--endpoint", NULL, "--virtual-hosted",
                         "--resolve", NULL, "--catalog", f->catalog, "--json", NULL };

  if (domain == NULL)
    {
      g_test_skip ("the test server has no virtual-host domain");
      return;
    }
  vendpoint = g_strdup_printf ("http://%s:%d", domain, g_uri_get_port (uri));
  pin = g_strdup_printf ("%s.%s:%d:127.0.0.1", f->bucket, domain, g_uri_get_port (uri));
  args[4] = vendpoint;
  args[7] = pin;

  make_tree (f);
  run_cli (&r, args, NULL);
  g_assert_cmpint (r.status, ==, 0);
  s = parse_summary (r.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 9);
  assert_server_matches (f, tree_files);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  endpoint = g_getenv ("SLUICE_TEST_S3_ENDPOINT");
  cli = g_getenv ("SLUICE_CLI");
  if (endpoint == NULL || cli == NULL)
    {
      g_printerr ("run through tests/s3/sluice-test-s3.sh run (meson test does this): "
                  "SLUICE_TEST_S3_ENDPOINT and SLUICE_CLI must be set\n");
      return 1;
    }

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/integration/ingest/tree", test_ingest_tree);
  ADD ("/integration/ingest/rerun-uploads-nothing", test_rerun_uploads_nothing);
  ADD ("/integration/ingest/metadata-after-crash", test_metadata_after_crash);
  ADD ("/integration/ingest/changed-file", test_changed_file_uploaded_again);
  ADD ("/integration/ingest/wrong-secret", test_wrong_secret);
  ADD ("/integration/ingest/configuration-errors", test_configuration_errors);
  ADD ("/integration/ingest/dry-run", test_dry_run_sends_nothing);
  ADD ("/integration/ingest/export", test_export_after_ingest);
  ADD ("/integration/ingest/kill-and-resume", test_kill_and_resume);
  ADD ("/integration/ingest/virtual-hosted", test_virtual_hosted);
  ADD ("/integration/ingest/sigterm-exit-3", test_sigterm_exit_3);
  ADD ("/integration/ingest/bad-name", test_bad_name_fails_one_file);
  ADD ("/integration/ingest/unreadable-file", test_unreadable_file_fails_one);
  ADD ("/integration/ingest/exif-samples", test_exif_samples);
  ADD ("/integration/large/multipart", test_multipart);
  ADD ("/integration/large/kill-and-resume", test_multipart_kill_and_resume);
  ADD ("/integration/large/no-overwrite", test_no_overwrite);
  ADD ("/integration/verify/problems", test_verify_reports_problems);
  ADD ("/integration/cleanup/orphans", test_cleanup_aborts_orphans);
  ADD ("/integration/dedupe/server-side-copy", test_dedupe);
  ADD ("/integration/dedupe/large", test_dedupe_large);
  ADD ("/integration/options/checked-first", test_object_options_checked_first);
  ADD ("/integration/presign/get", test_presigned_url);
  ADD ("/integration/export/filtered-upload", test_export_filtered_upload);
  ADD ("/integration/key-template", test_key_template);
  ADD ("/integration/saved-target", test_saved_target);
#undef ADD

  return g_test_run ();
}
