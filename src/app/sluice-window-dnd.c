/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-app"

#include "config.h"

#include <glib/gi18n.h>

#include "sluice-window-private.h"

/* Folders from drag and drop, the file chooser and the command line. Which of the given
 * files are folders is asked asynchronously: a NAS may take seconds to answer, and the main
 * loop never waits for it. Main thread only. */

typedef struct {
  SluiceWindow *self;
  GPtrArray    *files;     /* GFile, in the order given */
  GPtrArray    *types;     /* GFileType as pointers, same order */
  GPtrArray    *names;     /* display names, same order */
  guint         pending;
} Check;

static void
check_free (Check *check)
{
  g_clear_object (&check->self);
  g_ptr_array_unref (check->files);
  g_ptr_array_unref (check->types);
  g_ptr_array_unref (check->names);
  g_free (check);
}

static void
check_done (Check *check)
{
  SluiceWindow *self = check->self;
  g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) others = g_ptr_array_new ();

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  for (guint i = 0; i < check->files->len; i++)
    {
      if (GPOINTER_TO_UINT (check->types->pdata[i]) == G_FILE_TYPE_DIRECTORY)
        g_ptr_array_add (folders, g_object_ref (check->files->pdata[i]));
      else
        g_ptr_array_add (others, check->names->pdata[i]);
    }

  if (others->len == 1)
    {
      g_autofree char *text = g_strdup_printf (_("“%s” is not a folder. Drop a folder to "
                                                 "upload the images in it."),
                                               (const char *) others->pdata[0]);
      _sluice_window_toast (self, text);
    }
  else if (others->len > 1)
    {
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                            "%u item is not a folder and was "
                                                            "left out",
                                                            "%u items are not folders and were "
                                                            "left out", others->len),
                                               others->len);
      _sluice_window_toast (self, text);
    }

  if (folders->len > 0)
    _sluice_window_add_folders (self, folders);
}

static void
query_info_cb (GObject      *source_object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Check *check = user_data;
  GFile *file = G_FILE (source_object);
  g_autoptr(GFileInfo) info = g_file_query_info_finish (file, result, NULL);

  for (guint i = 0; i < check->files->len; i++)
    {
      if (check->files->pdata[i] != file)
        continue;
      if (info != NULL)
        {
          check->types->pdata[i] = GUINT_TO_POINTER (g_file_info_get_file_type (info));
          if (g_file_info_get_display_name (info) != NULL)
            {
              g_free (check->names->pdata[i]);
              check->names->pdata[i] = g_strdup (g_file_info_get_display_name (info));
            }
        }
    }

  if (--check->pending == 0)
    {
      check_done (check);
      check_free (check);
    }
}

/**
 * sluice_window_open_folders:
 * @files: (array length=n_files): folders (or anything: what is not a folder gets a toast)
 *
 * Adds folders to the next run, as a drop, the file chooser or the command line gives them.
 * Main thread only; the check that they are folders happens asynchronously.
 */
void
sluice_window_open_folders (SluiceWindow  *self,
                            GFile        **files,
                            guint          n_files)
{
  Check *check;

  g_return_if_fail (SLUICE_IS_WINDOW (self));

  if (n_files == 0)
    return;

  check = g_new0 (Check, 1);
  check->self = g_object_ref (self);
  check->files = g_ptr_array_new_with_free_func (g_object_unref);
  check->types = g_ptr_array_new ();
  check->names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *base = g_file_get_basename (files[i]);

      g_ptr_array_add (check->files, g_object_ref (files[i]));
      g_ptr_array_add (check->types, GUINT_TO_POINTER (G_FILE_TYPE_UNKNOWN));
      g_ptr_array_add (check->names, g_filename_display_name (base != NULL ? base : "/"));
    }
  check->pending = n_files;
  for (guint i = 0; i < n_files; i++)
    g_file_query_info_async (check->files->pdata[i],
                             G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                             G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
                             G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, self->cancellable,
                             query_info_cb, check);
}

static void
set_highlight (SluiceWindow *self,
               gboolean      on)
{
  gtk_widget_set_visible (self->drop_highlight, on);
  if (on)
    gtk_widget_add_css_class (GTK_WIDGET (self->stack), "drop-target");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->stack), "drop-target");
}

static GdkDragAction
drop_enter_cb (GtkDropTarget *target,
               double         x,
               double         y,
               SluiceWindow  *self)
{
  set_highlight (self, TRUE);
  return GDK_ACTION_COPY;
}

static void
drop_leave_cb (GtkDropTarget *target,
               SluiceWindow  *self)
{
  set_highlight (self, FALSE);
}

static gboolean
drop_cb (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         SluiceWindow  *self)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);

  set_highlight (self, FALSE);

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *list = gdk_file_list_get_files (g_value_get_boxed (value));

      for (GSList *l = list; l != NULL; l = l->next)
        g_ptr_array_add (files, g_object_ref (l->data));
      g_slist_free (list);
    }
  else if (G_VALUE_HOLDS (value, G_TYPE_FILE) && g_value_get_object (value) != NULL)
    g_ptr_array_add (files, g_value_dup_object (value));

  if (files->len == 0)
    return FALSE;
  sluice_window_open_folders (self, (GFile **) files->pdata, files->len);
  return TRUE;
}

void
_sluice_window_init_dnd (SluiceWindow *self)
{
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE };

  /* anywhere on the window: the controller sits on the content, above every page */
  self->drop_target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (self->drop_target, types, G_N_ELEMENTS (types));
  g_signal_connect (self->drop_target, "enter", G_CALLBACK (drop_enter_cb), self);
  g_signal_connect (self->drop_target, "leave", G_CALLBACK (drop_leave_cb), self);
  g_signal_connect (self->drop_target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->toast_overlay),
                             GTK_EVENT_CONTROLLER (self->drop_target));
}
