/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-dump"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "sluice-probe-exif.h"

/*
 * probe-dump FILE...: runs the EXIF extractor over each file and prints one JSON object per
 * line with the catalog's column names, for tools/check-fidelity.py. Test-only, not installed.
 */

static void
add_string (JsonBuilder *b,
            const char  *key,
            const char  *value)
{
  json_builder_set_member_name (b, key);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_double (JsonBuilder *b,
            const char  *key,
            double       value)
{
  json_builder_set_member_name (b, key);
  if (!isnan (value))
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b,
         const char  *key,
         gint64       value)
{
  json_builder_set_member_name (b, key);
  if (value >= 0)
    json_builder_add_int_value (b, value);
  else
    json_builder_add_null_value (b);
}

static char *
metadata_to_json (const char           *path,
                  const SluiceMetadata *meta)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *exposure = NULL;
  g_autofree char *warning = NULL;

  if (meta->exposure_den != 0)
    exposure = g_strdup_printf ("%u/%u", meta->exposure_num, meta->exposure_den);
  if (meta->warnings->len > 0)
    {
      g_ptr_array_add (meta->warnings, NULL);
      warning = g_strjoinv ("; ", (char **) meta->warnings->pdata);
      g_ptr_array_remove_index (meta->warnings, meta->warnings->len - 1);
    }

  json_builder_begin_object (b);
  add_string (b, "path", path);
  add_string (b, "make", meta->make);
  add_string (b, "model", meta->model);
  add_string (b, "lens_model", meta->lens_model);
  add_string (b, "datetime_original", meta->datetime_original);
  add_string (b, "subsec_time_original", meta->subsec_time_original);
  add_string (b, "offset_time_original", meta->offset_time_original);
  add_string (b, "exposure_time", exposure);
  add_double (b, "f_number", meta->f_number);
  add_int (b, "iso", meta->iso);
  add_double (b, "focal_length", meta->focal_length);
  add_int (b, "orientation", meta->orientation);
  add_int (b, "exif_width", meta->exif_width);
  add_int (b, "exif_height", meta->exif_height);
  add_int (b, "width", meta->width);
  add_int (b, "height", meta->height);
  add_double (b, "gps_latitude", meta->gps_latitude);
  add_double (b, "gps_longitude", meta->gps_longitude);
  add_double (b, "gps_altitude", meta->gps_altitude);
  json_builder_set_member_name (b, "has_thumbnail");
  json_builder_add_boolean_value (b, meta->has_thumbnail);
  add_string (b, "warning", warning);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static gboolean
dump_one (const char *path)
{
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autofree char *line = NULL;
  struct stat st;
  void *map = NULL;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      g_printerr ("probe-dump: %s: %s\n", path, g_strerror (errno));
      return FALSE;
    }
  if (fstat (fd, &st) < 0)
    {
      g_printerr ("probe-dump: %s: %s\n", path, g_strerror (errno));
      close (fd);
      return FALSE;
    }
  if (st.st_size > 0)
    {
      map = mmap (NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map == MAP_FAILED)
        {
          g_printerr ("probe-dump: %s: mmap: %s\n", path, g_strerror (errno));
          close (fd);
          return FALSE;
        }
    }
  close (fd);

  meta = sluice_probe_exif_extract (map, st.st_size, path);
  if (map != NULL)
    munmap (map, st.st_size);

  /* JSON Lines are UTF-8 whatever the locale: no g_print() charset conversion. A file name
   * that is not UTF-8 cannot be written as JSON text as it is. */
  if (g_utf8_validate (path, -1, NULL))
    line = metadata_to_json (path, meta);
  else
    {
      g_autofree char *valid = g_utf8_make_valid (path, -1);
      line = metadata_to_json (valid, meta);
    }
  fputs (line, stdout);
  fputc ('\n', stdout);
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  gboolean ok = TRUE;

  if (argc < 2)
    {
      g_printerr ("usage: probe-dump FILE...\n");
      return 2;
    }
  for (int i = 1; i < argc; i++)
    ok &= dump_one (argv[i]);
  return ok ? 0 : 1;
}
