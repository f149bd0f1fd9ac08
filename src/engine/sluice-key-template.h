/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sluice-metadata.h"
#include "sluice-target.h"

G_BEGIN_DECLS

/*
 * Key templates: how a file's object key is made from what is known about it.
 *
 *   {path}     the path relative to the source folder (the default template)
 *   {name}     the file name without its extension
 *   {ext}      the extension without the dot ("" when none; a "." written right before
 *              {ext} is dropped with it, so "{name}.{ext}" never ends in a dot)
 *   {year} {month} {day}
 *              when the photo was taken (EXIF DateTimeOriginal), or else the file's
 *              modification time in UTC; zero padded ("2024", "03", "07")
 *   {camera}   the camera model (with the make in front when the model does not start
 *              with it), or "unknown"
 *   {sha256}   the content's SHA-256 in hex: content-addressed keys
 *
 * Everything but {path} is one key segment and is sanitised with
 * sluice_sanitize_key_segment(): no '/', no "." or "..", no control characters, whatever the
 * EXIF says. Literal text between fields is kept; empty segments ("a//b", a leading '/') are
 * dropped. The result is relative: the target's prefix, the NFC normalisation and the key
 * length limit are applied by sluice_target_object_key() (sluice_key_template_object_key()
 * does both steps).
 *
 * A template is parsed once and is immutable; it can be shared by any number of threads.
 */

typedef struct _SluiceKeyTemplate SluiceKeyTemplate;

/**
 * SluiceKeyTemplateNeeds:
 * @SLUICE_KEY_NEEDS_NOTHING: the key follows from the path alone (known at walk time)
 * @SLUICE_KEY_NEEDS_MTIME: a date field falls back to the modification time
 * @SLUICE_KEY_NEEDS_METADATA: a date or camera field: the probe must have run
 * @SLUICE_KEY_NEEDS_SHA256: {sha256}: the file must have been read
 *
 * What must be known about a file before its key can be made. The pipeline makes keys that
 * need nothing at walk time (as today), and the others after the read (and probe).
 */
typedef enum {
  SLUICE_KEY_NEEDS_NOTHING  = 0,
  SLUICE_KEY_NEEDS_MTIME    = 1 << 0,
  SLUICE_KEY_NEEDS_METADATA = 1 << 1,
  SLUICE_KEY_NEEDS_SHA256   = 1 << 2,
} SluiceKeyTemplateNeeds;

#define SLUICE_KEY_TEMPLATE_DEFAULT "{path}"
#define SLUICE_KEY_TEMPLATE_MAX_LENGTH 512

SluiceKeyTemplate      *sluice_key_template_new          (const char              *text,
                                                          GError                 **error);
void                    sluice_key_template_free         (SluiceKeyTemplate       *self);
const char             *sluice_key_template_get_text     (const SluiceKeyTemplate *self);
SluiceKeyTemplateNeeds  sluice_key_template_get_needs    (const SluiceKeyTemplate *self);
gboolean                sluice_key_template_is_default   (const SluiceKeyTemplate *self);
char                   *sluice_key_template_expand       (const SluiceKeyTemplate *self,
                                                          const char              *relpath,
                                                          const SluiceMetadata    *metadata,
                                                          gint64                   mtime_ns,
                                                          const char              *sha256_hex,
                                                          GError                 **error);

char                   *sluice_key_template_object_key   (const SluiceKeyTemplate *self,
                                                          const SluiceTarget      *target,
                                                          const char              *relpath,
                                                          const SluiceMetadata    *metadata,
                                                          gint64                   mtime_ns,
                                                          const char              *sha256_hex,
                                                          GError                 **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceKeyTemplate, sluice_key_template_free)

G_END_DECLS
