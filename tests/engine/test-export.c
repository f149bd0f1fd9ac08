/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-export"

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "sluice-catalog.h"
#include "sluice-error.h"
#include "sluice-export.h"
#include "sluice-test-util.h"

/*
 * Manifests from a generated catalog: CSV (RFC 4180, formula protection) read back with a
 * small strict parser, JSON Lines read back with json-glib.
 */

#define ROW_TRICKY  "a,b \"q\"\nline.jpg"
#define ROW_PLAIN   "plain.jpg"
#define ROW_BAD     "bad\xff\xfename.jpg"
#define CONTROLS    "\x01\x1b[31mred\x7f"

typedef struct {
  char          *path;
  SluiceCatalog *catalog;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = sluice_test_make_dir ("export");
  g_autoptr(SluiceMetadata) tricky = sluice_metadata_new ();
  g_autoptr(SluiceMetadata) bad = sluice_metadata_new ();
  gint64 source, target, run, id, object;

  f->path = g_build_filename (dir, "catalog.db", NULL);
  f->catalog = sluice_catalog_open (f->path, FALSE, &error);
  g_assert_no_error (error);
  source = sluice_catalog_ensure_source (f->catalog, "/mnt/photos", &error);
  target = sluice_catalog_ensure_target (f->catalog, "http://127.0.0.1:7480", "bkt", &error);
  run = sluice_catalog_begin_run (f->catalog, source, target, "{}", &error);
  g_assert_no_error (error);

  /* values a spreadsheet would run as formulas, and numbers that must stay numbers */
  tricky->make = g_strdup ("=HYPERLINK(\"http://x\")");
  tricky->model = g_strdup ("+cmd");
  tricky->lens_model = g_strdup ("-2+3");
  tricky->datetime_original = g_strdup ("@SUM(1)");
  tricky->offset_time_original = g_strdup ("-05:00");
  tricky->exposure_num = 1;
  tricky->exposure_den = 250;
  tricky->f_number = 2.8;
  tricky->iso = 400;
  tricky->gps_latitude = -33.85;
  tricky->gps_longitude = -151.2;
  tricky->gps_altitude = -421.5;
  tricky->has_thumbnail = TRUE;
  id = sluice_catalog_upsert_file (f->catalog, source, ROW_TRICKY, 10, 1, "aa", run, &error);
  g_assert_true (sluice_catalog_set_metadata (f->catalog, id, run, tricky, SLUICE_PROBE_STATE_OK,
                                              NULL, &error));
  object = sluice_catalog_begin_object (f->catalog, id, target, "k1", "aa", 10, run, &error);
  g_assert_true (sluice_catalog_finish_object (f->catalog, object, SLUICE_OBJECT_UPLOADED, "e1",
                                               NULL, NULL, &error));
  g_assert_no_error (error);

  sluice_catalog_upsert_file (f->catalog, source, ROW_PLAIN, 20, 1, NULL, run, &error);
  g_assert_no_error (error);

  /* what the catalog holds is exported safely even if it never passed the sanitiser */
  bad->make = g_strdup (CONTROLS);
  bad->model = g_strdup ("tab\there");
  bad->lens_model = g_strdup ("line\nbreak");
  id = sluice_catalog_upsert_file (f->catalog, source, ROW_BAD, 30, 1, NULL, run, &error);
  g_assert_true (sluice_catalog_set_metadata (f->catalog, id, run, bad, SLUICE_PROBE_STATE_OK,
                                              NULL, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->catalog, sluice_catalog_close);
  g_free (f->path);
}

static char *
export (SluiceCatalog      *catalog,
        SluiceExportFormat  format,
        guint64            *out_rows)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  char nul = '\0';

  g_assert_true (sluice_export_catalog (catalog, format, out, out_rows, NULL, &error));
  g_assert_no_error (error);
  g_output_stream_write_all (out, &nul, 1, NULL, NULL, &error);
  g_output_stream_close (out, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
}

/* A strict RFC 4180 reader: rows end in CRLF, quoted fields may hold anything, a quote
 * inside is doubled. Returns a GPtrArray of GStrv. */
static GPtrArray *
parse_csv (const char *text)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  GPtrArray *fields = g_ptr_array_new ();
  GString *field = g_string_new (NULL);
  const char *p = text;

  while (*p != '\0')
    {
      if (*p == '"')
        {
          p++;
          for (;;)
            {
              g_assert_true (*p != '\0');
              if (p[0] == '"' && p[1] == '"')
                {
                  g_string_append_c (field, '"');
                  p += 2;
                }
              else if (p[0] == '"')
                {
                  p++;
                  break;
                }
              else
                g_string_append_c (field, *p++);
            }
          /* after a closing quote: a separator or the end of the row */
          g_assert_true (*p == ',' || (p[0] == '\r' && p[1] == '\n'));
        }
      else
        {
          while (*p != ',' && *p != '\r' && *p != '\0')
            {
              /* an unquoted field holds no quote and no line break */
              g_assert_true (*p != '"' && *p != '\n');
              g_string_append_c (field, *p++);
            }
        }

      g_ptr_array_add (fields, g_string_free (g_steal_pointer (&field), FALSE));
      field = g_string_new (NULL);
      if (*p == ',')
        {
          p++;
          continue;
        }
      g_assert_true (p[0] == '\r' && p[1] == '\n');
      p += 2;
      g_ptr_array_add (fields, NULL);
      g_ptr_array_add (rows, g_ptr_array_free (g_steal_pointer (&fields), FALSE));
      fields = g_ptr_array_new ();
    }
  g_assert_cmpuint (fields->len, ==, 0);
  g_ptr_array_free (fields, TRUE);
  g_string_free (field, TRUE);
  return rows;
}

static int
column (const char *name)
{
  guint n = 0;
  const char *const *columns = sluice_catalog_export_columns (&n);

  for (guint i = 0; i < n; i++)
    if (g_str_equal (columns[i], name))
      return i;
  g_error ("no column %s", name);
}

#define FIELD(row, name) (((GStrv) (row))[column (name)])

static void
test_format_from_string (void)
{
  SluiceExportFormat format = 99;

  g_assert_true (sluice_export_format_from_string ("csv", &format));
  g_assert_cmpint (format, ==, SLUICE_EXPORT_CSV);
  g_assert_true (sluice_export_format_from_string ("jsonl", &format));
  g_assert_cmpint (format, ==, SLUICE_EXPORT_JSONL);
  format = SLUICE_EXPORT_CSV;
  g_assert_true (sluice_export_format_from_string ("json-lines", &format));
  g_assert_cmpint (format, ==, SLUICE_EXPORT_JSONL);
  g_assert_false (sluice_export_format_from_string ("xml", &format));
  g_assert_false (sluice_export_format_from_string ("CSV", &format));
  g_assert_false (sluice_export_format_from_string (NULL, &format));
}

static void
test_csv_header (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *text = export (f->catalog, SLUICE_EXPORT_CSV, NULL);
  guint n = 0;
  const char *const *columns = sluice_catalog_export_columns (&n);
  GString *expected = g_string_new (NULL);
  g_autofree char *header = NULL;

  for (guint i = 0; i < n; i++)
    g_string_append_printf (expected, "%s%s", i > 0 ? "," : "", columns[i]);
  g_string_append (expected, "\r\n");
  header = g_string_free (expected, FALSE);

  g_assert_true (g_str_has_prefix (text, header));
}

static void
test_csv_rows (Fixture       *f,
               gconstpointer  data)
{
  guint64 n_rows = 0;
  g_autofree char *text = export (f->catalog, SLUICE_EXPORT_CSV, &n_rows);
  g_autoptr(GPtrArray) rows = parse_csv (text);
  guint n = 0;
  GStrv tricky, plain, bad;

  sluice_catalog_export_columns (&n);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_cmpuint (n_rows, ==, 3);
  g_assert_cmpuint (rows->len, ==, 4);
  for (guint i = 0; i < rows->len; i++)
    g_assert_cmpuint (g_strv_length (g_ptr_array_index (rows, i)), ==, n);
  tricky = g_ptr_array_index (rows, 1);
  plain = g_ptr_array_index (rows, 2);
  bad = g_ptr_array_index (rows, 3);

  /* commas, quotes and line breaks survive in quoted fields */
  g_assert_cmpstr (FIELD (tricky, "path"), ==, ROW_TRICKY);
  g_assert_nonnull (strstr (text, "\"a,b \"\"q\"\"\nline.jpg\""));
  g_assert_cmpstr (FIELD (tricky, "source"), ==, "/mnt/photos");
  g_assert_cmpstr (FIELD (tricky, "bucket"), ==, "bkt");
  g_assert_cmpstr (FIELD (tricky, "key"), ==, "k1");
  g_assert_cmpstr (FIELD (tricky, "state"), ==, "uploaded");
  g_assert_cmpstr (FIELD (tricky, "etag"), ==, "e1");

  /* formulas get an apostrophe, inside quotes */
  g_assert_cmpstr (FIELD (tricky, "make"), ==, "'=HYPERLINK(\"http://x\")");
  g_assert_nonnull (strstr (text, ",\"'=HYPERLINK(\"\"http://x\"\")\","));
  g_assert_cmpstr (FIELD (tricky, "model"), ==, "'+cmd");
  g_assert_nonnull (strstr (text, ",\"'+cmd\","));
  g_assert_cmpstr (FIELD (tricky, "lens_model"), ==, "'-2+3");
  g_assert_cmpstr (FIELD (tricky, "datetime_original"), ==, "'@SUM(1)");
  g_assert_cmpstr (FIELD (tricky, "offset_time_original"), ==, "'-05:00");

  /* numbers are written bare, negative ones too, without an apostrophe */
  g_assert_cmpstr (FIELD (tricky, "size"), ==, "10");
  g_assert_cmpstr (FIELD (tricky, "iso"), ==, "400");
  g_assert_cmpstr (FIELD (tricky, "f_number"), ==, "2.8");
  g_assert_cmpstr (FIELD (tricky, "gps_latitude"), ==, "-33.85");
  g_assert_cmpstr (FIELD (tricky, "gps_longitude"), ==, "-151.2");
  g_assert_cmpstr (FIELD (tricky, "gps_altitude"), ==, "-421.5");
  g_assert_nonnull (strstr (text, ",-33.85,-151.2,-421.5,true\r\n"));
  g_assert_cmpstr (FIELD (tricky, "exposure_time"), ==, "1/250");
  g_assert_cmpstr (FIELD (tricky, "has_thumbnail"), ==, "true");

  /* NULL is an empty field */
  g_assert_cmpstr (FIELD (plain, "path"), ==, ROW_PLAIN);
  g_assert_cmpstr (FIELD (plain, "state"), ==, "pending");
  g_assert_cmpstr (FIELD (plain, "bucket"), ==, "");
  g_assert_cmpstr (FIELD (plain, "make"), ==, "");
  g_assert_cmpstr (FIELD (plain, "has_thumbnail"), ==, "");

  /* a file name that is not UTF-8 comes out as valid UTF-8 */
  g_assert_true (g_str_has_prefix (FIELD (bad, "path"), "bad\xef\xbf\xbd"));
  g_assert_true (g_str_has_suffix (FIELD (bad, "path"), "name.jpg"));
  g_assert_cmpstr (FIELD (bad, "lens_model"), ==, "line\nbreak");
  g_assert_cmpstr (FIELD (bad, "has_thumbnail"), ==, "false");
}

static JsonObject *
parse_json_line (const char *line)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static void
test_jsonl (Fixture       *f,
            gconstpointer  data)
{
  guint64 n_rows = 0;
  g_autofree char *text = export (f->catalog, SLUICE_EXPORT_JSONL, &n_rows);
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonObject) tricky = NULL;
  g_autoptr(JsonObject) plain = NULL;
  g_autoptr(JsonObject) bad = NULL;
  guint n = 0;
  const char *const *columns = sluice_catalog_export_columns (&n);
  const char *path;

  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_cmpuint (n_rows, ==, 3);
  g_assert_true (g_str_has_suffix (text, "}\n"));
  /* control characters are escaped: the only raw one is the line end */
  for (const char *p = text; *p != '\0'; p++)
    g_assert_true ((guchar) *p >= 0x20 || *p == '\n');

  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_cmpstr (lines[3], ==, "");
  tricky = parse_json_line (lines[0]);
  plain = parse_json_line (lines[1]);
  bad = parse_json_line (lines[2]);

  for (guint i = 0; i < n; i++)
    {
      g_assert_true (json_object_has_member (tricky, columns[i]));
      g_assert_true (json_object_has_member (plain, columns[i]));
    }
  g_assert_cmpuint (json_object_get_size (tricky), ==, n);

  g_assert_cmpstr (json_object_get_string_member (tricky, "path"), ==, ROW_TRICKY);
  /* JSON needs no formula protection: values are as stored */
  g_assert_cmpstr (json_object_get_string_member (tricky, "make"), ==,
                   "=HYPERLINK(\"http://x\")");
  g_assert_cmpstr (json_object_get_string_member (tricky, "lens_model"), ==, "-2+3");
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (tricky, "size")), ==,
                   G_TYPE_INT64);
  g_assert_cmpint (json_object_get_int_member (tricky, "size"), ==, 10);
  g_assert_cmpint (json_object_get_int_member (tricky, "iso"), ==, 400);
  g_assert_cmpfloat (json_object_get_double_member (tricky, "f_number"), ==, 2.8);
  g_assert_cmpfloat (json_object_get_double_member (tricky, "gps_latitude"), ==, -33.85);
  g_assert_cmpstr (json_object_get_string_member (tricky, "exposure_time"), ==, "1/250");
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (tricky, "has_thumbnail")),
                   ==, G_TYPE_BOOLEAN);
  g_assert_true (json_object_get_boolean_member (tricky, "has_thumbnail"));

  g_assert_true (json_object_get_null_member (plain, "bucket"));
  g_assert_true (json_object_get_null_member (plain, "make"));
  g_assert_true (json_object_get_null_member (plain, "has_thumbnail"));
  g_assert_cmpstr (json_object_get_string_member (plain, "state"), ==, "pending");

  /* control characters escaped, and read back as they were */
  g_assert_cmpstr (json_object_get_string_member (bad, "make"), ==, CONTROLS);
  g_assert_cmpstr (json_object_get_string_member (bad, "model"), ==, "tab\there");
  g_assert_cmpstr (json_object_get_string_member (bad, "lens_model"), ==, "line\nbreak");
  path = json_object_get_string_member (bad, "path");
  g_assert_true (g_utf8_validate (path, -1, NULL));
  g_assert_true (g_str_has_prefix (path, "bad\xef\xbf\xbd"));
  g_assert_true (g_str_has_suffix (path, "name.jpg"));
  g_assert_false (json_object_get_boolean_member (bad, "has_thumbnail"));
}

static void
test_empty_catalog (void)
{
  g_autofree char *dir = sluice_test_make_dir ("empty");
  g_autofree char *path = g_build_filename (dir, "catalog.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) catalog = sluice_catalog_open (path, FALSE, &error);
  g_autofree char *csv = NULL;
  g_autofree char *jsonl = NULL;
  guint64 n_rows = 99;

  g_assert_no_error (error);
  csv = export (catalog, SLUICE_EXPORT_CSV, &n_rows);
  g_assert_cmpuint (n_rows, ==, 0);
  g_assert_true (g_str_has_prefix (csv, "path,"));
  g_assert_true (g_str_has_suffix (csv, "has_thumbnail\r\n"));
  jsonl = export (catalog, SLUICE_EXPORT_JSONL, &n_rows);
  g_assert_cmpuint (n_rows, ==, 0);
  g_assert_cmpstr (jsonl, ==, "");
}

static void
test_streams_many_rows (void)
{
  g_autofree char *dir = sluice_test_make_dir ("many");
  g_autofree char *path = g_build_filename (dir, "catalog.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) catalog = sluice_catalog_open (path, FALSE, &error);
  g_autofree char *csv = NULL;
  g_autofree char *jsonl = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_auto(GStrv) lines = NULL;
  guint64 n_rows = 0;
  gint64 source;

  g_assert_no_error (error);
  source = sluice_catalog_ensure_source (catalog, "/s", &error);
  g_assert_true (sluice_catalog_begin (catalog, &error));
  for (int i = 0; i < 3000; i++)
    {
      g_autofree char *relpath = g_strdup_printf ("dir/IMG_%05d, copy.jpg", i);
      sluice_catalog_upsert_file (catalog, source, relpath, i, i, NULL, 0, &error);
    }
  g_assert_true (sluice_catalog_commit (catalog, &error));
  g_assert_no_error (error);

  /* well over the 64 KiB the exporter writes at a time: every row arrives, in order */
  csv = export (catalog, SLUICE_EXPORT_CSV, &n_rows);
  g_assert_cmpuint (n_rows, ==, 3000);
  g_assert_cmpuint (strlen (csv), >, 128 * 1024);
  rows = parse_csv (csv);
  g_assert_cmpuint (rows->len, ==, 3001);
  g_assert_cmpstr (((GStrv) g_ptr_array_index (rows, 3000))[0], ==, "dir/IMG_02999, copy.jpg");

  jsonl = export (catalog, SLUICE_EXPORT_JSONL, &n_rows);
  g_assert_cmpuint (n_rows, ==, 3000);
  lines = g_strsplit (jsonl, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3001);
  for (int i = 0; i < 3000; i++)
    {
      g_autoptr(JsonObject) o = parse_json_line (lines[i]);
      g_assert_cmpint (json_object_get_int_member (o, "size"), ==, i);
    }
}

static void
test_write_error (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  g_output_stream_close (out, NULL, NULL);
  g_assert_false (sluice_export_catalog (f->catalog, SLUICE_EXPORT_CSV, out, NULL, NULL,
                                         &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (g_get_user_cache_dir (), "manifest.jsonl", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileOutputStream) out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL,
                                                     &error);

  /* the cancellable reaches the writes: a cancelled export to a file stops */
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_false (sluice_export_catalog (f->catalog, SLUICE_EXPORT_JSONL, G_OUTPUT_STREAM (out),
                                         NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/export/format-from-string", test_format_from_string);
#define ADD(path, fn) \
  g_test_add ("/engine/export/" path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("csv-header", test_csv_header);
  ADD ("csv-rows", test_csv_rows);
  ADD ("jsonl", test_jsonl);
  ADD ("write-error", test_write_error);
  ADD ("cancelled", test_cancelled);
#undef ADD
  g_test_add_func ("/engine/export/empty-catalog", test_empty_catalog);
  g_test_add_func ("/engine/export/streams-many-rows", test_streams_many_rows);

  return g_test_run ();
}
