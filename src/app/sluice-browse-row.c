/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "sluice-browse-row.h"

struct _SluiceBrowseRow
{
  GObject          parent_instance;

  guint            position;
  SluiceQueryRow  *data;
  GdkPaintable    *thumbnail;
};

G_DEFINE_FINAL_TYPE (SluiceBrowseRow, sluice_browse_row, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LOADED,
  PROP_THUMBNAIL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
sluice_browse_row_finalize (GObject *object)
{
  SluiceBrowseRow *self = SLUICE_BROWSE_ROW (object);

  g_clear_pointer (&self->data, sluice_query_row_free);
  g_clear_object (&self->thumbnail);
  G_OBJECT_CLASS (sluice_browse_row_parent_class)->finalize (object);
}

static void
sluice_browse_row_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  SluiceBrowseRow *self = SLUICE_BROWSE_ROW (object);

  switch (prop_id)
    {
    case PROP_LOADED:
      g_value_set_boolean (value, self->data != NULL);
      break;
    case PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sluice_browse_row_class_init (SluiceBrowseRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sluice_browse_row_finalize;
  object_class->get_property = sluice_browse_row_get_property;

  properties[PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_THUMBNAIL] =
    g_param_spec_object ("thumbnail", NULL, NULL, GDK_TYPE_PAINTABLE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sluice_browse_row_init (SluiceBrowseRow *self)
{
}

SluiceBrowseRow *
sluice_browse_row_new (guint position)
{
  SluiceBrowseRow *self = g_object_new (SLUICE_TYPE_BROWSE_ROW, NULL);

  self->position = position;
  return self;
}

guint
sluice_browse_row_get_position (SluiceBrowseRow *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_ROW (self), 0);
  return self->position;
}

gboolean
sluice_browse_row_get_loaded (SluiceBrowseRow *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_ROW (self), FALSE);
  return self->data != NULL;
}

const SluiceQueryRow *
sluice_browse_row_get_data (SluiceBrowseRow *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_ROW (self), NULL);
  return self->data;
}

/* Takes @data. Main thread only. */
void
sluice_browse_row_set_data (SluiceBrowseRow *self,
                            SluiceQueryRow  *data)
{
  g_return_if_fail (SLUICE_IS_BROWSE_ROW (self));
  g_clear_pointer (&self->data, sluice_query_row_free);
  self->data = data;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
}

GdkPaintable *
sluice_browse_row_get_thumbnail (SluiceBrowseRow *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_ROW (self), NULL);
  return self->thumbnail;
}

void
sluice_browse_row_set_thumbnail (SluiceBrowseRow *self,
                                 GdkPaintable    *thumbnail)
{
  g_return_if_fail (SLUICE_IS_BROWSE_ROW (self));
  if (g_set_object (&self->thumbnail, thumbnail))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMBNAIL]);
}

char *
sluice_browse_format_exposure (gint64 num,
                               gint64 den)
{
  if (den <= 0 || num <= 0)
    return NULL;
  if (num >= den)
    {
      /* TRANSLATORS: an exposure time in seconds, e.g. "2 s" or "1.5 s" */
      return g_strdup_printf (_("%g s"), (double) num / den);
    }
  if (num == 1)
    return g_strdup_printf ("1/%" G_GINT64_FORMAT, den);
  return g_strdup_printf ("1/%.0f", (double) den / num);
}

/* "2021:07:04 18:22:10" → "2021-07-04 18:22" (ISO: sorts and reads the same everywhere). */
char *
sluice_browse_format_date (const char *exif_datetime)
{
  GString *s;

  if (exif_datetime == NULL || strlen (exif_datetime) < 16)
    return exif_datetime != NULL ? g_strdup (exif_datetime) : NULL;
  s = g_string_new_len (exif_datetime, 16);
  if (s->str[4] == ':')
    s->str[4] = '-';
  if (s->str[7] == ':')
    s->str[7] = '-';
  return g_string_free (s, FALSE);
}

const char *
sluice_browse_state_name (SluiceObjectState state)
{
  switch (state)
    {
    case SLUICE_OBJECT_PENDING:
      return C_("object state", "Pending");
    case SLUICE_OBJECT_UPLOADING:
      return C_("object state", "Uploading");
    case SLUICE_OBJECT_UPLOADED:
      return C_("object state", "Uploaded");
    case SLUICE_OBJECT_SKIPPED:
      return C_("object state", "Skipped");
    case SLUICE_OBJECT_FAILED:
    default:
      return C_("object state", "Failed");
    }
}
