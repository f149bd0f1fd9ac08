/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-export"

#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "sluice-error.h"
#include "sluice-export.h"
#include "sluice-sanitize.h"

typedef struct {
  SluiceExportFormat  format;
  GOutputStream      *out;
  GCancellable       *cancellable;
  GString            *line;
  guint64             rows;
  const char *const  *columns;
  guint               n_columns;
  gint               *progress;   /* rows written, for another thread; may be NULL */
} ExportContext;

gboolean
sluice_export_format_from_string (const char         *name,
                                  SluiceExportFormat *out_format)
{
  if (g_strcmp0 (name, "csv") == 0)
    *out_format = SLUICE_EXPORT_CSV;
  else if (g_strcmp0 (name, "jsonl") == 0 || g_strcmp0 (name, "json-lines") == 0)
    *out_format = SLUICE_EXPORT_JSONL;
  else
    return FALSE;
  return TRUE;
}

static void
append_number (GString           *line,
               const SluiceValue *v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (v->kind == SLUICE_VALUE_INT)
    g_string_append_printf (line, "%" G_GINT64_FORMAT, v->i);
  else
    g_string_append (line, g_ascii_formatd (buf, sizeof buf, "%.15g", v->d));
}

static void
append_csv (ExportContext     *ctx,
            const SluiceValue *values)
{
  for (guint i = 0; i < ctx->n_columns; i++)
    {
      const SluiceValue *v = &values[i];

      if (i > 0)
        g_string_append_c (ctx->line, ',');
      switch (v->kind)
        {
        case SLUICE_VALUE_NULL:
          break;
        case SLUICE_VALUE_INT:
        case SLUICE_VALUE_REAL:
          append_number (ctx->line, v);
          break;
        case SLUICE_VALUE_BOOL:
          g_string_append (ctx->line, v->i ? "true" : "false");
          break;
        case SLUICE_VALUE_TEXT:
          {
            g_autofree char *valid = g_utf8_make_valid (v->s, -1);
            g_autofree char *field = sluice_sanitize_csv_field (valid);
            g_string_append (ctx->line, field);
          }
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_string_append (ctx->line, "\r\n");
}

static void
append_jsonl (ExportContext     *ctx,
              const SluiceValue *values)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  for (guint i = 0; i < ctx->n_columns; i++)
    {
      const SluiceValue *v = &values[i];

      json_builder_set_member_name (b, ctx->columns[i]);
      switch (v->kind)
        {
        case SLUICE_VALUE_NULL:
          json_builder_add_null_value (b);
          break;
        case SLUICE_VALUE_INT:
          json_builder_add_int_value (b, v->i);
          break;
        case SLUICE_VALUE_REAL:
          json_builder_add_double_value (b, v->d);
          break;
        case SLUICE_VALUE_BOOL:
          json_builder_add_boolean_value (b, v->i != 0);
          break;
        case SLUICE_VALUE_TEXT:
          {
            /* JSON must be UTF-8: a non-UTF-8 file name shows with U+FFFD */
            g_autofree char *valid = g_utf8_make_valid (v->s, -1);
            json_builder_add_string_value (b, valid);
          }
          break;
        default:
          g_assert_not_reached ();
        }
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_string_append (ctx->line, text);
  g_string_append_c (ctx->line, '\n');
}

#define FLUSH_AT (64 * 1024)

static gboolean
flush (ExportContext *ctx,
       GError       **error)
{
  gboolean ok;

  if (ctx->line->len == 0)
    return TRUE;
  ok = g_output_stream_write_all (ctx->out, ctx->line->str, ctx->line->len, NULL,
                                  ctx->cancellable, error);
  g_string_truncate (ctx->line, 0);
  return ok;
}

static gboolean
export_row (const SluiceValue *values,
            gpointer           user_data,
            GError           **error)
{
  ExportContext *ctx = user_data;

  if (ctx->format == SLUICE_EXPORT_CSV)
    append_csv (ctx, values);
  else
    append_jsonl (ctx, values);
  ctx->rows++;
  if (ctx->progress != NULL)
    g_atomic_int_set (ctx->progress, (gint) MIN (ctx->rows, (guint64) G_MAXINT));
  if (ctx->line->len >= FLUSH_AT)
    return flush (ctx, error);
  return TRUE;
}

gboolean
sluice_export_catalog (SluiceCatalog      *catalog,
                       SluiceExportFormat  format,
                       GOutputStream      *out,
                       guint64            *out_rows,
                       GCancellable       *cancellable,
                       GError            **error)
{
  return sluice_export_query (catalog, NULL, format, out, out_rows, cancellable, error);
}

/**
 * sluice_export_query:
 * @query: (nullable): the browser's current view; NULL for the whole catalog in ingest order
 *
 * The manifest of the rows @query matches, in its order. The app's "Export" and
 * `sluice-cli catalog export` with filters both come here.
 */
gboolean
sluice_export_query (SluiceCatalog      *catalog,
                     const SluiceQuery  *query,
                     SluiceExportFormat  format,
                     GOutputStream      *out,
                     guint64            *out_rows,
                     GCancellable       *cancellable,
                     GError            **error)
{
  return sluice_export_query_with_progress (catalog, query, format, out, out_rows, NULL,
                                            cancellable, error);
}

/* As sluice_export_query (), and *@progress_rows (when not NULL) follows the rows written so
 * far, set atomically: the app's progress bar reads it from the main thread. */
gboolean
sluice_export_query_with_progress (SluiceCatalog      *catalog,
                                   const SluiceQuery  *query,
                                   SluiceExportFormat  format,
                                   GOutputStream      *out,
                                   guint64            *out_rows,
                                   gint               *progress_rows,
                                   GCancellable       *cancellable,
                                   GError            **error)
{
  ExportContext ctx = { 0 };
  gboolean ok;

  ctx.progress = progress_rows;
  ctx.format = format;
  ctx.out = out;
  ctx.cancellable = cancellable;
  ctx.line = g_string_sized_new (FLUSH_AT + 4096);
  ctx.columns = sluice_catalog_export_columns (&ctx.n_columns);

  if (format == SLUICE_EXPORT_CSV)
    {
      for (guint i = 0; i < ctx.n_columns; i++)
        g_string_append_printf (ctx.line, "%s%s", i ? "," : "", ctx.columns[i]);
      g_string_append (ctx.line, "\r\n");
    }

  ok = sluice_catalog_query_export_rows (catalog, query, export_row, &ctx, cancellable, error) &&
       flush (&ctx, error);
  if (ok)
    ok = g_output_stream_flush (out, cancellable, error);
  if (out_rows != NULL)
    *out_rows = ctx.rows;
  g_string_free (ctx.line, TRUE);
  return ok;
}
