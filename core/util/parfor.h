/* A parallel for over numbered items, for work whose items are independent and whose results
 * must not depend on which thread did which (e.g. `pzflow predict --threads`, nn/predict.c).
 *
 * Threads take the next untaken item when they are free, so a thread slowed by another process
 * on a shared machine holds the loop up by one item at most, where fixed shares would wait for
 * its whole share. The only shared state is the next item's number. */
#ifndef PZ_PARFOR_H
#define PZ_PARFOR_H

#include <stddef.h>
#include "util/err.h"

/* fn(ctx, worker, item) for every item in 0..nitems-1, each once, on up to nworkers threads:
 * the calling thread is worker 0 and the others are started here (never more than there are
 * items). `worker` (< nworkers) lets fn use per-worker buffers. A thread that cannot be started
 * leaves its items to the others, so every item is done whatever the system allows. Returns when
 * all are done; -1 with err only if a thread cannot be joined. */
typedef void (*pz_parfor_fn)(void *ctx, int worker, size_t item);
int pz_parfor(int nworkers, size_t nitems, pz_parfor_fn fn, void *ctx, pz_err *err);

#endif
