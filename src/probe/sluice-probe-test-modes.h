/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sluice-metadata.h"

G_BEGIN_DECLS

/*
 * Deliberate misbehaviour, for tests only. Compiled into sluice-probe-test-modes (built with
 * -DSLUICE_PROBE_TEST_MODES, never installed), never into sluice-probe: a test checks that the
 * installed helper does not contain these names.
 *
 * A file whose bytes start with "SLUICE-TEST:" followed by a mode makes the helper:
 *
 *   crash               die of SIGSEGV (a write through a NULL pointer)
 *   abort               abort() (SIGABRT)
 *   stall               wait forever without answering (the engine's no-progress timeout)
 *   spin                loop on the CPU (RLIMIT_CPU ends it with SIGXCPU)
 *   oom                 allocate without bound (RLIMIT_AS makes malloc fail; g_malloc's
 *                       g_error ends in G_BREAKPOINT: SIGTRAP)
 *   garbage             write 4 KiB of noise on the socket instead of a frame
 *   truncated           write half a frame header, then exit with status 0
 *   exit-mid-response   write a frame header and half its payload, then exit with status 1
 *   wrong-id            answer with another request's id
 *   socket              try socket(); the answer carries a warning saying what happened
 *   read-file:PATH      try to open PATH read-only; likewise
 *   write-file:PATH     try to create PATH and write to it (the filter traps: SIGSYS)
 *   exec                try execve("/bin/true") (the filter traps: SIGSYS)
 *   overflow            read one byte past a heap block (an AddressSanitizer report, under
 *                       the filter; harmless otherwise)
 *   status              answer normally, with a warning describing the sandbox
 *
 * Anything else is probed normally.
 *
 * A THUMBNAIL request whose file starts with the prefix and "spin-for:N" first uses N seconds
 * of CPU, then is answered as usual (the file is no picture: "cannot make a thumbnail").
 */

#define SLUICE_PROBE_TEST_PREFIX "SLUICE-TEST:"

void     sluice_probe_test_mode_init  (void);
gboolean sluice_probe_test_mode_run   (int             sock,
                                       guint32         request_id,
                                       const guint8   *data,
                                       gsize           len,
                                       SluiceMetadata *meta);
void     sluice_probe_test_mode_thumbnail (const guint8 *data,
                                           gsize         len);

G_END_DECLS
