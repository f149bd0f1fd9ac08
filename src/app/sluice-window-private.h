/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sluice-browse-view.h"
#include "sluice-key-sample.h"
#include "sluice-run-view.h"
#include "sluice-run.h"
#include "sluice-window.h"

G_BEGIN_DECLS

struct _SluiceWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
  SluiceTargetStore    *store;
  GCancellable         *cancellable;      /* file queries, keyring; cancelled in dispose */
  GPtrArray            *sources;          /* GFile: the folders of the next run */
  GPtrArray            *source_rows;      /* rows in sources_group, one per source */
  GtkStringList        *target_names;
  gboolean              updating_targets;

  /* key preview */
  GCancellable         *sample_cancellable;
  GFile                *sample_source;
  SluiceKeySample      *sample;

  /* the runs: one per folder, one after another */
  SluiceRun            *run;
  GPtrArray            *series;           /* GFile: the folders of this series */
  GPtrArray            *series_credentials; /* SluiceCredentialsProvider, one per run */
  GPtrArray            *retry_sources;    /* GFile: folders whose run did not finish cleanly */
  guint                 position;
  SluiceSavedTarget    *series_target;
  gboolean              series_cancelled;
  guint64               series_failed;
  guint                 inhibit_cookie;
  gboolean              close_after_run;

  GtkDropTarget        *drop_target;
  char                 *last_toast;       /* for tests */

  /* Template children */
  AdwWindowTitle       *window_title;
  AdwToastOverlay      *toast_overlay;
  GtkStack             *stack;
  AdwStatusPage        *status_page;
  GtkMenuButton        *primary_menu_button;
  AdwPreferencesGroup  *recent_group;
  GtkListBox           *recent_list;
  AdwPreferencesGroup  *sources_group;
  AdwPreferencesGroup  *target_group;
  AdwComboRow          *target_row;
  AdwActionRow         *no_target_row;
  AdwEntryRow          *key_template_row;
  AdwActionRow         *key_preview_row;
  GtkWidget            *start_button;
  GtkWidget            *drop_highlight;
  SluiceRunView        *run_view;
  SluiceBrowseView     *browse_view;
  GtkToggleButton      *browse_button;
};

/* sluice-window-dnd.c */
void           _sluice_window_init_dnd          (SluiceWindow *self);

/* sluice-window.c, shared with the dnd part */
void           _sluice_window_toast             (SluiceWindow *self,
                                                 const char   *text);
void           _sluice_window_add_folders       (SluiceWindow *self,
                                                 GPtrArray    *folders);

/* For tests. */
GtkDropTarget *_sluice_window_get_drop_target   (SluiceWindow *self);
SluiceRun     *_sluice_window_get_run           (SluiceWindow *self);
guint          _sluice_window_get_n_sources     (SluiceWindow *self);
const char    *_sluice_window_get_page          (SluiceWindow *self);
const char    *_sluice_window_get_key_preview   (SluiceWindow *self);
const char    *_sluice_window_get_last_toast    (SluiceWindow *self);
SluiceBrowseView *_sluice_window_get_browse_view (SluiceWindow *self);
SluiceTargetStore *_sluice_window_get_store     (SluiceWindow *self);
void           _sluice_window_reload_targets    (SluiceWindow *self,
                                                 const char   *select);

G_END_DECLS
