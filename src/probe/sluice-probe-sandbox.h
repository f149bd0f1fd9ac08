/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sluice-probe-protocol.h"

G_BEGIN_DECLS

/*
 * The probe helper's sandbox: resource limits and a seccomp allow-list, installed first thing
 * in main() (after the initialisation that needs more than the allow-list gives) and kept for
 * the life of the process. See sluice-probe-sandbox.c for the list and the reason for each
 * entry.
 */

/* SLUICE_PROBE_CPU_SECONDS and SLUICE_PROBE_THUMB_CPU_SECONDS: the protocol's */
/* The helper maps at most this much of a file (the engine sends at most 1 GiB today); the
 * address space limit is this plus SLUICE_PROBE_AS_HEADROOM. */
#define SLUICE_PROBE_MAX_MAP      ((guint64) 1 << 30)
#define SLUICE_PROBE_AS_HEADROOM  ((guint64) 2 << 30)

/* Sanitizer runtimes reserve terabytes of shadow memory (no RLIMIT_AS then) and read
 * /proc/self/maps and the binaries to write their reports. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
# define SLUICE_PROBE_SANITIZED 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
     __has_feature(memory_sanitizer)
#  define SLUICE_PROBE_SANITIZED 1
# endif
#endif
#ifndef SLUICE_PROBE_SANITIZED
# define SLUICE_PROBE_SANITIZED 0
#endif

gboolean    sluice_probe_sandbox_enter           (int       sock,
                                                  GError  **error);
void        sluice_probe_sandbox_arm_cpu_limit   (guint     seconds);
const char *sluice_probe_sandbox_describe        (void);

G_END_DECLS
