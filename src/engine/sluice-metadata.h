/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * SluiceMetadata:
 *
 * What the probe helper found in one file. Strings are valid UTF-8 (sanitised by the probe and
 * checked again by sluice_metadata_from_variant(), since the helper parses hostile bytes and is
 * not trusted); NULL means absent. Absent numbers are NAN (doubles) or -1 (integers);
 * exposure_den == 0 means no exposure time.
 */
typedef struct {
  char     *container;            /* "jpeg", "tiff", "heif", "png", "webp", "raf", "cr3", NULL */
  char     *make;
  char     *model;
  char     *lens_model;
  char     *datetime_original;    /* "YYYY:MM:DD HH:MM:SS", validated */
  char     *subsec_time_original;
  char     *offset_time_original; /* "+02:00" */
  guint32   exposure_num;         /* ExposureTime as the stored rational */
  guint32   exposure_den;
  double    f_number;
  gint64    iso;
  double    focal_length;
  gint64    orientation;          /* 1..8 */
  gint64    exif_width;           /* PixelXDimension */
  gint64    exif_height;
  gint64    width;                /* the real frame: JPEG SOF, HEIF ispe, TIFF IFD0 */
  gint64    height;
  double    gps_latitude;         /* signed decimal degrees */
  double    gps_longitude;
  double    gps_altitude;         /* metres; below sea level negative */
  gboolean  has_thumbnail;
  GBytes   *thumbnail;            /* embedded EXIF thumbnail, bounded; may be NULL */
  GPtrArray *warnings;            /* char *, sanitised one-line texts */
} SluiceMetadata;

/* Limits that bind the helper and are enforced again on the parent side. */
#define SLUICE_METADATA_MAX_STRING     256
#define SLUICE_METADATA_MAX_WARNINGS   32
#define SLUICE_METADATA_MAX_THUMBNAIL  (256 * 1024)

SluiceMetadata *sluice_metadata_new          (void);
void            sluice_metadata_free         (SluiceMetadata *self);
void            sluice_metadata_add_warning  (SluiceMetadata *self,
                                              const char     *format,
                                              ...) G_GNUC_PRINTF (2, 3);
/* What sluice_metadata_to_variant () makes and a probe RESULT carries (sluice-metadata.c) */
#define SLUICE_METADATA_VARIANT_TYPE   ((const GVariantType *) "(axadauasayas)")
/* where the thumbnail's bytes are in it */
#define SLUICE_METADATA_VARIANT_THUMBNAIL 4

GVariant       *sluice_metadata_to_variant   (const SluiceMetadata *self);
SluiceMetadata *sluice_metadata_from_variant (GVariant       *variant,
                                              GError        **error);
gboolean        sluice_metadata_is_empty     (const SluiceMetadata *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceMetadata, sluice_metadata_free)

G_END_DECLS
