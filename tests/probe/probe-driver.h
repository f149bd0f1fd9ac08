/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-metadata.h"

G_BEGIN_DECLS

/*
 * A bare engine side of the probe protocol, for tests that need what SluiceProbePool hides:
 * the helper's stderr (the SIGSYS reporter, the no-sandbox warning), its exact wait status,
 * a helper started under a wrapper or a hostile parent filter. One helper, one request at a
 * time, every wait bounded.
 */

typedef struct _ProbeDriver ProbeDriver;

/* @argv: the helper (and anything that wraps it); @child_setup may be NULL; the helper's
 * stderr goes to @stderr_path when it is given, else into a pipe read by finish() */
ProbeDriver    *probe_driver_start         (const char * const *argv,
                                            GSpawnChildSetupFunc child_setup,
                                            gpointer            user_data,
                                            const char         *stderr_path,
                                            GError            **error);
/* Hands @fd to the helper as @target_fd (bwrap --seccomp FD); before probe_driver_start() */
void            probe_driver_pass_fd       (int                 fd,
                                            int                 target_fd);
/* The reply to one file; NULL with SLUICE_ERROR_PROBE_* when the helper failed it. */
SluiceMetadata *probe_driver_probe         (ProbeDriver        *self,
                                            const void         *data,
                                            gsize               len,
                                            const char         *name,
                                            GError            **error);
/* Closes the socket, waits for the helper to end (at most 10 s, then kills it) and returns
 * its wait status; what it wrote on stderr (the pipe, or the file) is in @out_stderr. */
int             probe_driver_finish        (ProbeDriver        *self,
                                            char              **out_stderr);
void            probe_driver_free          (ProbeDriver        *self);

/* A sealed read-only memfd holding @data, as the engine sends. */
int             probe_driver_memfd         (const void         *data,
                                            gsize               len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeDriver, probe_driver_free)

G_END_DECLS
