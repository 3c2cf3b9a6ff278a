/* Provenance in a file's own header, for files copied out of the cache (`pzflow export`).
 *
 * Objects in the cache never carry provenance (it would change their bytes whenever a key
 * changes: docs/engine.md). A copy handed to someone else should, so export writes the run
 * records' account of the file into the header its format has:
 *   FITS  HISTORY cards in every HDU's header ("pzflow: ..."), which astropy shows in meta
 *   HDF5  a string attribute `pzflow_provenance` on the root group
 *   PNG   an iTXt chunk, keyword "pzflow-provenance" (UTF-8), before IEND
 *   SVG   an XML comment after the XML declaration
 * Other formats (Markdown, JSON, DOT, CSV) have no header: *stamped = 0, nothing is changed,
 * and the export's PROVENANCE.txt is their record. The format is told from the bytes. */
#ifndef PZ_STAMP_H
#define PZ_STAMP_H

#include "util/err.h"

int pz_stamp_provenance(const char *path, const char *text, int *stamped, pz_err *err);

#endif
