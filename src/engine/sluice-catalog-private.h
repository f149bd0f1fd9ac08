/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Shared by the catalog's own units (sluice-catalog.c, sluice-catalog-query.c): the two files
 * that include <sqlite3.h>. Nothing outside the catalog includes this header.
 */

#include <sqlite3.h>

#include "sluice-catalog.h"

G_BEGIN_DECLS

/* The manifest's columns, in the order _sluice_catalog_export_values () reads them, over the
 * aliases f (files), s (sources), o (objects), t (targets) and m (metadata). */
#define _SLUICE_CATALOG_EXPORT_SELECT \
  "SELECT f.relpath, s.path, t.bucket, o.key, f.size, f.sha256, o.etag, o.state," \
  "  (SELECT group_concat (w.message, '; ') FROM warnings w WHERE w.file_id = f.id)," \
  "  f.probe_error, o.error_message," \
  "  m.make, m.model, m.lens_model, m.datetime_original, m.subsec_time_original," \
  "  m.offset_time_original, m.exposure_num, m.exposure_den, m.f_number, m.iso," \
  "  m.focal_length, m.orientation, m.exif_width, m.exif_height, m.width, m.height," \
  "  m.gps_latitude, m.gps_longitude, m.gps_altitude, " \
  "  CASE WHEN m.file_id IS NOT NULL THEN m.has_thumbnail END," \
  "  EXISTS (SELECT 1 FROM warnings w WHERE w.file_id = f.id AND w.stage = 'error')"
#define _SLUICE_CATALOG_EXPORT_N_SELECT 32

sqlite3  *_sluice_catalog_get_db        (SluiceCatalog *self);
gboolean  _sluice_catalog_set_error     (SluiceCatalog *self,
                                         GError       **error,
                                         int            rc,
                                         const char    *what);
int       _sluice_catalog_register_functions (sqlite3 *db);
void      _sluice_catalog_export_values (sqlite3_stmt  *s,
                                         SluiceValue   *values,
                                         GString       *warning,
                                         char         **exposure_out);

G_END_DECLS
