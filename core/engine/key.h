/* Stage keys: what makes two runs of a stage "the same".
 *
 * key = XXH3-128 of, in this order, each field length-prefixed:
 *   "pzflow-key", PZ_STAGE_FORMAT, hash of the executable's bytes, requested threads,
 *   canonical params JSON, for each input sorted by name: (name, one|list, its content
 *   hashes in order), the sorted output names.
 * Stage names, the pipeline file's layout and comments, and times never enter the key, so a
 * rename or a reformatted pipeline file invalidates nothing. */
#ifndef PZ_KEY_H
#define PZ_KEY_H

#include "engine/record.h"
#include "util/ytree.h"

/* One-line JSON with sorted keys and numbers in one canonical spelling: a float is written
 * in the shortest form that reads back to the same double ("5e-4", "0.0005" and "5.0e-4" all
 * become 0.0005; "100.0" becomes 100); an integer in any YAML 1.2 core-schema spelling is
 * written as its decimal digits ("0x10", "0o20", "+16" and "016" all become 16; "16" stays
 * as written, so usual spellings keep their keys). Strings (including quoted numbers) are
 * untouched. The stage receives exactly this form in its spec,
 * so equal keys always mean equal stage inputs. */
char *pz_params_canonical(const pz_ynode *params);

/* A copy of `params` with numbers canonicalised (as above). */
pz_ynode *pz_params_canonical_tree(const pz_ynode *params);

/* Fill r->key from r's key ingredients. */
void pz_record_compute_key(pz_record *r);

#endif
