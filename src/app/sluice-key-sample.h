/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-engine.h"

G_BEGIN_DECLS

/*
 * A real file of the chosen source, to preview the key template on: the first image the
 * walker finds, with its modification time, its metadata (through a probe helper, as in a
 * run) and its SHA-256. Found on a worker thread: the main thread never touches the NAS.
 */
typedef struct {
  char           *relpath;     /* file system bytes, relative to the source */
  gint64          mtime_ns;
  guint64         size;
  SluiceMetadata *metadata;    /* NULL when the probe failed or is not available */
  char           *sha256;      /* NULL for files over the preview's read limit */
} SluiceKeySample;

void             sluice_key_sample_find_async  (GFile                *source,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
SluiceKeySample *sluice_key_sample_find_finish (GAsyncResult         *result,
                                                GError              **error);
void             sluice_key_sample_free        (SluiceKeySample      *sample);

/* Before a run with a template that flattens folders ({name}.{ext}): two files of the
 * chosen folders that would get one key. Only for templates that need nothing but the path
 * (the others are checked by the engine as it goes: SLUICE_ERROR_KEY_COLLISION). */
typedef struct {
  char *key;
  char *first;     /* display names of the two files */
  char *second;
} SluiceKeyCollision;

void                sluice_key_collision_find_async  (GPtrArray           *sources,
                                                      const char          *key_template,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
SluiceKeyCollision *sluice_key_collision_find_finish (GAsyncResult        *result,
                                                      GError             **error);
void                sluice_key_collision_free        (SluiceKeyCollision  *collision);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceKeySample, sluice_key_sample_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceKeyCollision, sluice_key_collision_free)

G_END_DECLS
