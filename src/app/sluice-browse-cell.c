/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include "sluice-browse-cell.h"

struct _SluiceBrowseCell
{
  GtkWidget           parent_instance;

  char               *text;
  float               xalign;
  PangoEllipsizeMode  ellipsize;
  PangoLayout        *layout;        /* NULL until drawn, and after a change */
  int                 layout_width;
  int                 line_height;   /* 0 until measured */
  gboolean            full_tooltip;  /* the whole text on hover, when it is ellipsized */
};

G_DEFINE_FINAL_TYPE (SluiceBrowseCell, sluice_browse_cell, GTK_TYPE_WIDGET)

static void
sluice_browse_cell_measure (GtkWidget      *widget,
                            GtkOrientation  orientation,
                            int             for_size,
                            int            *minimum,
                            int            *natural,
                            int            *minimum_baseline,
                            int            *natural_baseline)
{
  SluiceBrowseCell *self = SLUICE_BROWSE_CELL (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* the column gives the width */
      *minimum = *natural = 0;
      return;
    }
  if (self->line_height == 0)
    {
      PangoFontMetrics *metrics = pango_context_get_metrics (gtk_widget_get_pango_context (widget),
                                                             NULL, NULL);

      self->line_height = PANGO_PIXELS_CEIL (pango_font_metrics_get_ascent (metrics) +
                                             pango_font_metrics_get_descent (metrics));
      pango_font_metrics_unref (metrics);
    }
  *minimum = *natural = self->line_height;
}

static void
sluice_browse_cell_snapshot (GtkWidget   *widget,
                             GtkSnapshot *snapshot)
{
  SluiceBrowseCell *self = SLUICE_BROWSE_CELL (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  int text_width, text_height;

  if (self->text == NULL || *self->text == '\0' || width <= 0)
    return;
  if (self->layout == NULL)
    {
      self->layout = gtk_widget_create_pango_layout (widget, self->text);
      pango_layout_set_ellipsize (self->layout, self->ellipsize);
      pango_layout_set_single_paragraph_mode (self->layout, TRUE);
      self->layout_width = -1;
    }
  if (self->layout_width != width)
    {
      pango_layout_set_width (self->layout, width * PANGO_SCALE);
      self->layout_width = width;
    }
  pango_layout_get_pixel_size (self->layout, &text_width, &text_height);
  /* pango_layout_set_alignment would do it too, but not for RTL-neutral numbers */
  gtk_snapshot_render_layout (snapshot, gtk_widget_get_style_context (widget),
                              MAX (0, (width - text_width) * self->xalign),
                              (height - text_height) / 2.0, self->layout);
}

/* The tooltip is asked for on hover, not set per bind: gtk_widget_set_tooltip_text () on a
 * visible widget makes GTK 4.8 query the pointer (a synchronous X round trip), and a scroll
 * binds hundreds of cells a frame (issue 7: it was three quarters of a jump's main thread). */
static gboolean
sluice_browse_cell_query_tooltip (GtkWidget  *widget,
                                  int         x,
                                  int         y,
                                  gboolean    keyboard_tooltip,
                                  GtkTooltip *tooltip)
{
  SluiceBrowseCell *self = SLUICE_BROWSE_CELL (widget);

  if (!self->full_tooltip || self->text == NULL || self->layout == NULL ||
      !pango_layout_is_ellipsized (self->layout))
    return FALSE;
  gtk_tooltip_set_text (tooltip, self->text);
  return TRUE;
}

static void
sluice_browse_cell_finalize (GObject *object)
{
  SluiceBrowseCell *self = SLUICE_BROWSE_CELL (object);

  g_clear_pointer (&self->text, g_free);
  g_clear_object (&self->layout);
  G_OBJECT_CLASS (sluice_browse_cell_parent_class)->finalize (object);
}

static void
sluice_browse_cell_class_init (SluiceBrowseCellClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = sluice_browse_cell_finalize;
  widget_class->measure = sluice_browse_cell_measure;
  widget_class->snapshot = sluice_browse_cell_snapshot;
  widget_class->query_tooltip = sluice_browse_cell_query_tooltip;
  /* styled as a label: .numeric, .dim-label, .error apply */
  gtk_widget_class_set_css_name (widget_class, "label");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_LABEL);
}

static void
sluice_browse_cell_init (SluiceBrowseCell *self)
{
}

GtkWidget *
sluice_browse_cell_new (float              xalign,
                        PangoEllipsizeMode ellipsize)
{
  SluiceBrowseCell *self = g_object_new (SLUICE_TYPE_BROWSE_CELL, NULL);

  self->xalign = xalign;
  self->ellipsize = ellipsize;
  return GTK_WIDGET (self);
}

void
sluice_browse_cell_set_text (SluiceBrowseCell *self,
                             const char       *text)
{
  g_return_if_fail (SLUICE_IS_BROWSE_CELL (self));
  if (g_strcmp0 (self->text, text) == 0)
    return;
  g_free (self->text);
  self->text = g_strdup (text);
  /* the layout is made again when the cell is next drawn, not now */
  g_clear_object (&self->layout);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  text != NULL ? text : "", -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Shows the whole text in a tooltip when it does not fit. Set once, at setup. */
void
sluice_browse_cell_set_full_tooltip (SluiceBrowseCell *self,
                                     gboolean          full_tooltip)
{
  g_return_if_fail (SLUICE_IS_BROWSE_CELL (self));
  self->full_tooltip = full_tooltip;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), full_tooltip);
}

/* The text a tooltip would show now, or NULL: for tests. */
const char *
sluice_browse_cell_get_tooltip_text (SluiceBrowseCell *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_CELL (self), NULL);
  if (!self->full_tooltip || self->layout == NULL || !pango_layout_is_ellipsized (self->layout))
    return NULL;
  return self->text;
}

const char *
sluice_browse_cell_get_text (SluiceBrowseCell *self)
{
  g_return_val_if_fail (SLUICE_IS_BROWSE_CELL (self), NULL);
  return self->text;
}
