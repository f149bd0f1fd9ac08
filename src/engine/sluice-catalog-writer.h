/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sluice-catalog.h"

G_BEGIN_DECLS

/*
 * The one thread that writes the catalog. Work arrives as operations (a function run with
 * the writer's connection); the thread runs a batch of them in one transaction, a failing
 * operation undoing only its own writes, and commits once: completions are batched for up to
 * 150 ms, and a caller that must know its write is durable (the upload intent) waits for its
 * commit with sluice_catalog_writer_run_intent() or sluice_catalog_writer_run_sync().
 *
 * If a commit fails (disk full), the writer keeps the error: sluice_catalog_writer_get_error()
 * tells the pipeline to stop, and every later operation fails with it.
 */

typedef struct _SluiceCatalogWriter SluiceCatalogWriter;
typedef struct _SluiceCatalogTicket SluiceCatalogTicket;

/* An operation may run twice in a batch (run_batch () in the .c file says why): it does
 * nothing but catalog writes and setting its own results. */
typedef gboolean (*SluiceCatalogOp) (SluiceCatalog *catalog,
                                     gpointer       data,
                                     GError       **error);

SluiceCatalogWriter *sluice_catalog_writer_new       (SluiceCatalog       *catalog);
void                 sluice_catalog_writer_free      (SluiceCatalogWriter *self);
SluiceCatalog       *sluice_catalog_writer_get_catalog (SluiceCatalogWriter *self);
void                 sluice_catalog_writer_run       (SluiceCatalogWriter *self,
                                                      SluiceCatalogOp      op,
                                                      gpointer             data,
                                                      GDestroyNotify       destroy);
void                 sluice_catalog_writer_run_now   (SluiceCatalogWriter *self,
                                                      SluiceCatalogOp      op,
                                                      gpointer             data,
                                                      GDestroyNotify       destroy);
gboolean             sluice_catalog_writer_run_sync  (SluiceCatalogWriter *self,
                                                      SluiceCatalogOp      op,
                                                      gpointer             data,
                                                      GError             **error);
gboolean             sluice_catalog_writer_run_intent (SluiceCatalogWriter *self,
                                                       SluiceCatalogOp      op,
                                                       gpointer             data,
                                                       GError             **error);
SluiceCatalogTicket *sluice_catalog_writer_start_intent (SluiceCatalogWriter *self,
                                                         SluiceCatalogOp      op,
                                                         gpointer             data);
gboolean             sluice_catalog_ticket_wait      (SluiceCatalogTicket *ticket,
                                                      GError             **error);
gboolean             sluice_catalog_writer_flush     (SluiceCatalogWriter *self,
                                                      GError             **error);
gboolean             sluice_catalog_writer_get_error (SluiceCatalogWriter *self,
                                                      GError             **error);
guint64              sluice_catalog_writer_commits   (SluiceCatalogWriter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceCatalogWriter, sluice_catalog_writer_free)

G_END_DECLS
