/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-verify"

#include "config.h"

#include <string.h>

#include "sluice-error.h"
#include "sluice-verify.h"

typedef struct {
  SluiceCatalogCursor *cursor;
  SluiceCatalogObject  current;
  gboolean             have;      /* current is valid */
  SluiceVerifyFunc     func;
  gpointer             user_data;
  SluiceVerifyReport   report;
  GError              *error;
} Merge;

const char *
sluice_verify_problem_name (SluiceVerifyProblem problem)
{
  switch (problem)
    {
    case SLUICE_VERIFY_MISSING:
      return "missing";
    case SLUICE_VERIFY_SIZE_MISMATCH:
      return "size-mismatch";
    case SLUICE_VERIFY_ETAG_MISMATCH:
      return "etag-mismatch";
    case SLUICE_VERIFY_EXTRA:
      return "extra";
    default:
      return "unknown";
    }
}

/* Moves to the next catalog object that is uploaded (others are not expected in the bucket). */
static void
advance (Merge *m)
{
  while ((m->have = sluice_catalog_cursor_next (m->cursor, &m->current, &m->error)))
    if (m->current.state == SLUICE_OBJECT_UPLOADED)
      {
        m->report.checked++;
        return;
      }
}

static void
report (Merge              *m,
        SluiceVerifyProblem problem,
        const char         *key,
        const char         *expected,
        const char         *found)
{
  switch (problem)
    {
    case SLUICE_VERIFY_MISSING:
      m->report.missing++;
      break;
    case SLUICE_VERIFY_SIZE_MISMATCH:
      m->report.size_mismatch++;
      break;
    case SLUICE_VERIFY_ETAG_MISMATCH:
      m->report.etag_mismatch++;
      break;
    case SLUICE_VERIFY_EXTRA:
      m->report.extra++;
      break;
    default:
      break;
    }
  if (m->func != NULL)
    m->func (problem, key, expected, found, m->user_data);
}

static gboolean
on_listed (const char *key,
           guint64     size,
           const char *etag,
           const char *last_modified,
           gpointer    user_data)
{
  Merge *m = user_data;

  /* catalog keys before this one were not listed: missing */
  while (m->have && strcmp (m->current.key, key) < 0)
    {
      report (m, SLUICE_VERIFY_MISSING, m->current.key, m->current.etag, NULL);
      advance (m);
    }
  if (m->error != NULL)
    return FALSE;

  if (!m->have || strcmp (m->current.key, key) > 0)
    {
      report (m, SLUICE_VERIFY_EXTRA, key, NULL, etag);
      return TRUE;
    }

  if (m->current.size != size)
    {
      g_autofree char *want = g_strdup_printf ("%" G_GUINT64_FORMAT, m->current.size);
      g_autofree char *got = g_strdup_printf ("%" G_GUINT64_FORMAT, size);
      report (m, SLUICE_VERIFY_SIZE_MISMATCH, key, want, got);
    }
  else if (g_strcmp0 (m->current.etag, etag) != 0)
    report (m, SLUICE_VERIFY_ETAG_MISMATCH, key, m->current.etag, etag);
  else
    m->report.ok++;
  advance (m);
  return m->error == NULL;
}

gboolean
sluice_verify_target (SluiceCatalog      *catalog,
                      gint64              target_id,
                      SluiceS3Client     *s3,
                      const char         *prefix,
                      SluiceVerifyFunc    func,
                      gpointer            user_data,
                      SluiceVerifyReport *out_report,
                      GError            **error)
{
  Merge m = { 0 };
  gboolean ok;

  m.cursor = sluice_catalog_objects_cursor (catalog, target_id, prefix, error);
  if (m.cursor == NULL)
    return FALSE;
  m.func = func;
  m.user_data = user_data;
  advance (&m);

  ok = m.error == NULL && sluice_s3_client_list_objects (s3, prefix, on_listed, &m, error);
  /* what the listing never reached is missing */
  while (ok && m.have)
    {
      report (&m, SLUICE_VERIFY_MISSING, m.current.key, m.current.etag, NULL);
      advance (&m);
    }
  if (m.error != NULL)
    {
      if (ok)
        g_propagate_error (error, g_steal_pointer (&m.error));
      g_clear_error (&m.error);
      ok = FALSE;
    }
  sluice_catalog_cursor_free (m.cursor);
  if (out_report != NULL)
    *out_report = m.report;
  return ok;
}
