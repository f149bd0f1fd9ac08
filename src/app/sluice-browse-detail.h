/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "sluice-browse-model.h"

G_BEGIN_DECLS

/*
 * The browser's detail pane for the selected row: the thumbnail, every field, the map link,
 * copy the S3 URI or a presigned HTTPS link, open the containing folder. Main thread only.
 */

#define SLUICE_TYPE_BROWSE_DETAIL (sluice_browse_detail_get_type ())

G_DECLARE_FINAL_TYPE (SluiceBrowseDetail, sluice_browse_detail, SLUICE, BROWSE_DETAIL, AdwBin)

void                     sluice_browse_detail_set_model (SluiceBrowseDetail *self,
                                                         SluiceBrowseModel  *model);
void                     sluice_browse_detail_set_row   (SluiceBrowseDetail *self,
                                                         SluiceBrowseRow    *row);
/* For tests: the detail shown, NULL while none or loading. */
const SluiceQueryDetail *sluice_browse_detail_get_detail (SluiceBrowseDetail *self);
char                    *sluice_browse_detail_get_geo_uri (SluiceBrowseDetail *self);
/* For tests: the thumbnail shown (NULL while the placeholder is), the placeholder's text
 * (NULL while a thumbnail is shown). */
GdkPaintable            *sluice_browse_detail_get_thumbnail (SluiceBrowseDetail *self);
const char              *sluice_browse_detail_get_thumbnail_text (SluiceBrowseDetail *self);

G_END_DECLS
