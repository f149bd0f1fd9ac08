/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sluice-engine.h"

G_BEGIN_DECLS

/*
 * Options for a dry run of @source into a target nobody listens on (a dry run never connects),
 * one request slot, the catalog at @catalog_path. @creds must outlive the run.
 */
static inline void
sluice_test_dry_run_options (SluicePipelineOptions     *options,
                             const char                *source,
                             const char                *catalog_path,
                             SluiceCredentialsProvider *creds)
{
  sluice_credentials_provider_set_explicit (creds, "AKIDEXAMPLE", "secret", NULL);
  sluice_pipeline_options_init (options);
  options->source = g_strdup (source);
  options->target = sluice_target_new ();
  options->target->endpoint = g_strdup ("http://127.0.0.1:9");
  options->target->bucket = g_strdup ("photos");
  options->target->path_style = TRUE;
  options->credentials = creds;
  options->catalog_path = g_strdup (catalog_path);
  options->dry_run = TRUE;
  options->jobs = 1;
}

G_END_DECLS
