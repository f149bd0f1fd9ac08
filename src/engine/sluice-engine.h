/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* The umbrella include for the app, the CLI and the tests. */

#include "sluice-buffer.h"
#include "sluice-capabilities.h"
#include "sluice-catalog.h"
#include "sluice-catalog-query.h"
#include "sluice-credentials.h"
#include "sluice-error.h"
#include "sluice-export.h"
#include "sluice-hash.h"
#include "sluice-key-template.h"
#include "sluice-limiter.h"
#include "sluice-metadata.h"
#include "sluice-pipeline.h"
#include "sluice-portal.h"
#include "sluice-probe-pool.h"
#include "sluice-progress.h"
#include "sluice-queue.h"
#include "sluice-s3-client.h"
#include "sluice-sanitize.h"
#include "sluice-sigv4.h"
#include "sluice-target.h"
#include "sluice-target-store.h"
#include "sluice-thumbnail.h"
#include "sluice-verify.h"
#include "sluice-walker.h"
