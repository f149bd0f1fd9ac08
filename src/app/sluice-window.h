/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "sluice-application.h"

G_BEGIN_DECLS

#define SLUICE_TYPE_WINDOW (sluice_window_get_type ())

G_DECLARE_FINAL_TYPE (SluiceWindow, sluice_window, SLUICE, WINDOW, AdwApplicationWindow)

SluiceWindow *sluice_window_new          (SluiceApplication  *application);
void          sluice_window_open_folders (SluiceWindow       *self,
                                          GFile             **files,
                                          guint               n_files);
gboolean      sluice_window_is_busy      (SluiceWindow       *self);

G_END_DECLS
