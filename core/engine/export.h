/* `pzflow export PIPELINE DIR [--name NAME]`: a run's results as real files.
 *
 * The results folder holds relative links into the read-only cache; a collaborator needs files.
 * Export copies every result the folder shows (the last complete run, or experiment NAME) to
 * DIR under the same names (DIR/train-base/3/model.h5), writable, and puts the run records'
 * account of each (`pzflow provenance`) into the file's own header where its format has one
 * (FITS HISTORY, HDF5 attribute, PNG iTXt, SVG comment: core/table/stamp.h, done by the
 * pzflow-stamp helper because the engine does not link HDF5 or cfitsio). DIR/PROVENANCE.txt
 * holds every file's account, for the formats without a header.
 *
 * DIR must be new, empty, or an earlier export (it has DIR/.pzflow-export, listing what that
 * export wrote): only files pzflow wrote are ever replaced. Each file is copied to a temporary
 * name and renamed, so DIR never holds half a file under a result's name. */
#ifndef PZ_EXPORT_H
#define PZ_EXPORT_H

#include <stddef.h>
#include "util/err.h"

#define PZ_EXPORT_MARKER ".pzflow-export"

typedef struct pz_export_stats {
    size_t files;     /* results copied */
    size_t stamped;   /* of which carry provenance in their header */
} pz_export_stats;

/* results_dir: the folder to export (must hold a manifest); cache_dir: the cache its links
 * point into; stamp_exe: the pzflow-stamp executable. */
int pz_export(const char *results_dir, const char *cache_dir, const char *out_dir, const char *stamp_exe,
              pz_export_stats *stats, pz_err *err);

#endif
