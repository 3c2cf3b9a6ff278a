/* `pzflow provenance FILE|HASH`: where a cached output came from.
 *
 * Outputs carry no provenance of their own (a stage key or input hash inside an output would
 * change its bytes whenever a key changes, and defeat early cutoff). The run records already
 * hold every ingredient of a run, so provenance is read from them: the record(s) whose outputs
 * (or log) include the object's hash, then, for each input hash, the record that produced it,
 * and so on up to external files.
 *
 * Object hash -> record: records are found by scanning cache/runs/ (one small text file per
 * stage key), not through a reverse index. At this project's sizes (hundreds to a few thousand
 * records, ~1 KB each) a scan takes milliseconds, and an index would be one more file to keep
 * consistent under kill -9 and gc. docs/engine.md, "Provenance", says the same. */
#ifndef PZ_PROVENANCE_H
#define PZ_PROVENANCE_H

#include "engine/hash.h"
#include "util/err.h"

/* What the user named: a 32-hex object hash, a cache object path, or a workspace link / any
 * path leading to one (results/quick/evaluate/table). `cache_dir` (-C) may be NULL: the cache is
 * then the one holding the object the path leads to, or ./cache for a bare hash or a file
 * outside any cache (whose bytes are hashed and looked up). *cache gets the directory
 * (malloc'd). Errors name the path. */
int pz_provenance_resolve(const char *target, const char *cache_dir, char **cache, char hash[PZ_HASH_HEX],
                          pz_err *err);

/* The whole chain for `hash` in `cache` as text (malloc'd): for the object, each run that
 * produced it (the most recent in full: stage, output, key, params, executable hash and path,
 * pzflow version, threads, start and end time, status, then each input with its hash and, indented,
 * its own producer, recursively; a run already shown is named, not repeated), and, for an input
 * no run produced, "external file" with its path when the stat cache knows it.
 * NULL with err when no run record in the cache produced `hash`. */
char *pz_provenance_report(const char *cache, const char *hash, pz_err *err);

#endif
