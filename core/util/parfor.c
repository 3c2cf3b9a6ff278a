#include "util/parfor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct loop loop;

typedef struct {
    loop *l;
    int id;
    pthread_t tid;
    int started;
} worker;

struct loop {
    pz_parfor_fn fn;
    void *ctx;
    size_t nitems;
    atomic_size_t next; /* the next item to take */
    worker *w;
    int nw;
};

static void take_items(loop *l, int id)
{
    for (size_t i; (i = atomic_fetch_add(&l->next, 1)) < l->nitems;) l->fn(l->ctx, id, i);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    take_items(w->l, w->id);
    return NULL;
}

int pz_parfor(int nworkers, size_t nitems, pz_parfor_fn fn, void *ctx, pz_err *err)
{
    /* On the heap: a thread that could not be joined may still read it, so it is then kept. */
    loop *l = pz_xcalloc(1, sizeof *l);
    l->fn = fn, l->ctx = ctx, l->nitems = nitems;
    atomic_init(&l->next, 0);
    l->nw = nworkers < 1 ? 1 : nitems < (size_t)nworkers ? (int)(nitems ? nitems : 1) : nworkers;
    l->w = pz_xcalloc((size_t)l->nw, sizeof *l->w);
    for (int t = 0; t < l->nw; t++) {
        l->w[t] = (worker){.l = l, .id = t};
        l->w[t].started = t > 0 && pthread_create(&l->w[t].tid, NULL, worker_main, &l->w[t]) == 0;
    }
    take_items(l, 0);
    int rc = 0;
    for (int t = 1; t < l->nw; t++) {
        int e = l->w[t].started ? pthread_join(l->w[t].tid, NULL) : 0;
        if (e && !rc) rc = pz_errf(err, "worker thread %d: pthread_join: %s", t, strerror(e));
    }
    if (rc) return rc;
    free(l->w);
    free(l);
    return 0;
}
