/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sluice-browse-model.h"

G_BEGIN_DECLS

/* For the tests: thumbnail jobs stop on their worker before they read anything while @hold
 * is TRUE (a query can then change during a job, deterministically); each pass lets one
 * stopped job go on. jobs_held: how many are stopped now, and in @out_arrived how many jobs
 * have reached that point since the process started; a job that stops wakes the default
 * main context, so a test waiting there sees it. Process-wide. */
void  _sluice_browse_model_hold_thumbnail_jobs (gboolean hold);
void  _sluice_browse_model_pass_thumbnail_job  (void);
guint _sluice_browse_model_thumbnail_jobs_held (guint *out_arrived);

G_END_DECLS
