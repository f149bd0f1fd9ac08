/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "sluice-engine.h"

G_BEGIN_DECLS

#define SLUICE_TYPE_TARGET_DIALOG (sluice_target_dialog_get_type ())

G_DECLARE_FINAL_TYPE (SluiceTargetDialog, sluice_target_dialog, SLUICE, TARGET_DIALOG, AdwWindow)

SluiceTargetDialog *sluice_target_dialog_new (GtkWindow         *parent,
                                              SluiceTargetStore *store,
                                              const char        *name);

G_END_DECLS
