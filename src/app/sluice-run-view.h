/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "sluice-run.h"

G_BEGIN_DECLS

#define SLUICE_TYPE_RUN_VIEW (sluice_run_view_get_type ())

G_DECLARE_FINAL_TYPE (SluiceRunView, sluice_run_view, SLUICE, RUN_VIEW, AdwBin)

GtkWidget *sluice_run_view_new          (void);
void       sluice_run_view_set_run      (SluiceRunView *self,
                                         SluiceRun     *run,
                                         guint          position,
                                         guint          n_runs);
void       sluice_run_view_clear_failed (SluiceRunView *self);
guint      sluice_run_view_get_n_failed_rows (SluiceRunView *self);

G_END_DECLS
