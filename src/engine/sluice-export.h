/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-catalog.h"
#include "sluice-catalog-query.h"

G_BEGIN_DECLS

/*
 * Manifests: the catalog as CSV (RFC 4180, with spreadsheet-formula protection) or JSON Lines,
 * one row per file and target, streamed: memory does not grow with the catalog. With a
 * SluiceQuery, only the rows it matches, in its order (the browser's view).
 * Columns: sluice_catalog_export_columns().
 */
typedef enum {
  SLUICE_EXPORT_CSV,
  SLUICE_EXPORT_JSONL,
} SluiceExportFormat;

gboolean sluice_export_format_from_string (const char          *name,
                                           SluiceExportFormat  *out_format);
gboolean sluice_export_catalog            (SluiceCatalog       *catalog,
                                           SluiceExportFormat   format,
                                           GOutputStream       *out,
                                           guint64             *out_rows,
                                           GCancellable        *cancellable,
                                           GError             **error);
gboolean sluice_export_query              (SluiceCatalog       *catalog,
                                           const SluiceQuery   *query,
                                           SluiceExportFormat   format,
                                           GOutputStream       *out,
                                           guint64             *out_rows,
                                           GCancellable        *cancellable,
                                           GError             **error);

gboolean sluice_export_query_with_progress (SluiceCatalog       *catalog,
                                           const SluiceQuery   *query,
                                           SluiceExportFormat   format,
                                           GOutputStream       *out,
                                           guint64             *out_rows,
                                           gint                *progress_rows,
                                           GCancellable        *cancellable,
                                           GError             **error);

G_END_DECLS
