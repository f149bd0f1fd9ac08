/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sluice-target-dialog.h"

G_BEGIN_DECLS

/* For tests: drive the editor through its own rows and read what it shows. */
void        _sluice_target_dialog_set_text    (SluiceTargetDialog *self,
                                               const char         *row,
                                               const char         *text);
void        _sluice_target_dialog_set_preset  (SluiceTargetDialog *self,
                                               const char         *preset_id);
void        _sluice_target_dialog_set_ca_file (SluiceTargetDialog *self,
                                               const char         *path);
gboolean    _sluice_target_dialog_is_testing  (SluiceTargetDialog *self);
const char *_sluice_target_dialog_get_result  (SluiceTargetDialog *self,
                                               const char        **out_description,
                                               gboolean           *out_success);
guint       _sluice_target_dialog_get_n_capabilities (SluiceTargetDialog *self);
/* Whether the result offers to create the bucket (the test found none of its name). */
gboolean    _sluice_target_dialog_offers_create_bucket (SluiceTargetDialog *self);

G_END_DECLS
