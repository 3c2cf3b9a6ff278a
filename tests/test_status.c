/* Staleness decisions and their explanations, against an in-memory filesystem (no disk):
 * the stat cache hashes a file once and again only when its stat changes; keys follow the
 * params, inputs and executable; reasons are exact strings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/key.h"
#include "engine/status.h"
#include "support/pztest.h"

/* ---- a fake filesystem ---- */

typedef struct ffile {
    char *path, *data;
    pz_fstat st;
} ffile;

typedef struct fakefs {
    ffile f[64];
    size_t n;
    int hashes;   /* how many times a file was read to hash it */
    int64_t now;
} fakefs;

static ffile *ff_find(fakefs *fs, const char *path)
{
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->f[i].path, path)) return &fs->f[i];
    return NULL;
}

static void ff_write(fakefs *fs, const char *path, const char *data)
{
    ffile *f = ff_find(fs, path);
    if (!f) {
        f = &fs->f[fs->n++];
        f->path = pz_xstrdup(path);
        f->st.ino = 1000 + fs->n;
        f->st.dev = 1;
        f->st.is_reg = 1;
    } else {
        free(f->data);
    }
    f->data = pz_xstrdup(data);
    f->st.size = strlen(data);
    f->st.mtime_ns = f->st.ctime_ns = fs->now;
    fs->now += 5000000000LL; /* time passes: nothing is racy unless a test says so */
}

static int ff_stat(void *ctx, const char *path, pz_fstat *st)
{
    ffile *f = ff_find(ctx, path);
    if (!f) return errno = ENOENT, -1;
    *st = f->st;
    return 0;
}

static int ff_hash(void *ctx, const char *path, char out[PZ_HASH_HEX], uint64_t *n, pz_err *err)
{
    fakefs *fs = ctx;
    ffile *f = ff_find(fs, path);
    if (!f) return pz_errf(err, "%s: missing", path);
    fs->hashes++;
    pz_hash_bytes(f->data, strlen(f->data), out);
    *n = strlen(f->data);
    return 0;
}

static char *ff_read(void *ctx, const char *path, size_t *len)
{
    ffile *f = ff_find(ctx, path);
    if (!f) return errno = ENOENT, NULL;
    if (len) *len = strlen(f->data);
    return pz_xstrdup(f->data);
}

static int64_t ff_now(void *ctx) { return ((fakefs *)ctx)->now; }

/* ---- an in-memory two-stage pipeline: prep <- data.csv; train <- prep/table ---- */

typedef struct world {
    fakefs ffs;
    pz_fs fs;
    pz_pipeline p;
    pz_stage st[2];
    pz_cache cache;
    pz_statcache *sc;
    pz_index *ix;
} world;

static pz_ynode *yaml(const char *text)
{
    pz_err err;
    pz_ynode *n = pz_yaml_load_string(text, strlen(text), "params", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    return n;
}

static void make_stage(pz_stage *s, const char *name, const char *exe, const char *params, const char *in_name,
                       pz_input_ref ref, const char *out)
{
    memset(s, 0, sizeof *s);
    s->name = pz_xstrdup(name);
    s->base_name = pz_xstrdup(name);
    s->exe_path = pz_xstrdup(exe);
    s->params = yaml(params);
    s->threads = 1;
    s->ninputs = 1;
    s->inputs = pz_xcalloc(1, sizeof *s->inputs);
    s->inputs[0].name = pz_xstrdup(in_name);
    s->inputs[0].nrefs = 1;
    s->inputs[0].refs = pz_xcalloc(1, sizeof(pz_input_ref));
    s->inputs[0].refs[0] = ref;
    s->noutputs = 1;
    s->outputs = pz_xcalloc(1, sizeof *s->outputs);
    s->outputs[0] = pz_xstrdup(out);
}

static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    w->ffs.now = 1000000000000LL;
    w->fs = (pz_fs){ff_stat, ff_hash, ff_read, ff_now, &w->ffs};
    ff_write(&w->ffs, "/bin/prep", "prep v1");
    ff_write(&w->ffs, "/bin/train", "train v1");
    ff_write(&w->ffs, "/data.csv", "a,b\n1,2\n");
    make_stage(&w->st[0], "prep", "/bin/prep", "{cut: 0.5}", "raw", (pz_input_ref){1, pz_xstrdup("/data.csv"), 0, NULL},
               "table");
    make_stage(&w->st[1], "train", "/bin/train", "{lr: 5e-4, layers: [200, 200]}", "table",
               (pz_input_ref){0, NULL, 0, pz_xstrdup("table")}, "model");
    w->st[1].ndeps = 1;
    w->st[1].deps = pz_xcalloc(1, sizeof(size_t));
    w->p.nstages = 2;
    w->p.stages = w->st;
    pz_err err;
    pz_cache_open(&w->cache, "/cache", 0, &err);
    w->sc = pz_statcache_open(&w->fs, NULL);
    w->ix = pz_index_new("/p.yaml");
}

static void world_free(world *w)
{
    for (int i = 0; i < 2; i++) {
        pz_stage *s = &w->st[i];
        free(s->name), free(s->base_name), free(s->exe_path);
        pz_ynode_free(s->params);
        free(s->inputs[0].name), free(s->inputs[0].refs[0].path), free(s->inputs[0].refs[0].output);
        free(s->inputs[0].refs), free(s->inputs);
        free(s->outputs[0]), free(s->outputs), free(s->deps);
    }
    for (size_t i = 0; i < w->ffs.n; i++) free(w->ffs.f[i].path), free(w->ffs.f[i].data);
    pz_cache_close(&w->cache);
    pz_statcache_free(w->sc);
    pz_index_free(w->ix);
}

/* Pretend stage i ran: write its record and output object into the fake fs, update the index. */
static void pretend_ran(world *w, pz_plan *pl, size_t i, const char *output_bytes)
{
    pz_record *c = pl->cand[i];
    pz_hash_bytes(output_bytes, strlen(output_bytes), c->out_hashes[0]);
    char *obj = pz_cache_object_path(&w->cache, c->out_hashes[0]);
    ff_write(&w->ffs, obj, output_bytes);
    char *rec_path = pz_cache_record_path(&w->cache, c->key);
    char *text = pz_record_format(c);
    ff_write(&w->ffs, rec_path, text);
    memcpy(pz_index_put(w->ix, w->st[i].name)->key, c->key, PZ_HASH_HEX);
    pz_err err;
    pl->current[i] = pz_record_parse(text, "rec", &err);
    pl->state[i] = PZ_UP_TO_DATE;
    free(obj), free(rec_path), free(text);
}

/* Judge both stages as the scheduler would, pretending each stale one ran with `outputs`. */
static void run_all(world *w, const char *prep_out, int *ran)
{
    pz_plan *pl = pz_plan_new(&w->p, &w->fs, &w->cache, w->sc, w->ix);
    pz_err err;
    const char *outs[2] = {prep_out, "model bytes"};
    for (size_t i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL_FATAL(pz_plan_judge(pl, i, 0, &err), 0);
        ran[i] = pl->state[i] != PZ_UP_TO_DATE;
        if (ran[i]) pretend_ran(w, pl, i, outs[i]);
        else memcpy(pz_index_put(w->ix, w->st[i].name)->key, pl->current[i]->key, PZ_HASH_HEX); /* as publish() */
    }
    pz_plan_free(pl);
}

static pz_plan *judge_all(world *w)
{
    pz_plan *pl = pz_plan_new(&w->p, &w->fs, &w->cache, w->sc, w->ix);
    pz_err err;
    CU_ASSERT_EQUAL(pz_plan_judge_all(pl, &err), 0);
    return pl;
}

static void set_param(world *w, size_t i, const char *params)
{
    pz_ynode_free(w->st[i].params);
    w->st[i].params = yaml(params);
}

static void test_never_run_then_noop_hashes_nothing(void)
{
    world w;
    world_init(&w);
    pz_plan *pl = judge_all(&w);
    CU_ASSERT_EQUAL(pl->state[0], PZ_STALE);
    CU_ASSERT_STRING_EQUAL(pl->reason[0], "never run");
    CU_ASSERT_STRING_EQUAL(pl->reason[1], "upstream prep has not run yet");
    pz_plan_free(pl);
    int ran[2];
    run_all(&w, "table v1", ran);
    CU_ASSERT_TRUE(ran[0] && ran[1]);
    int hashed = w.ffs.hashes;
    CU_ASSERT_EQUAL(hashed, 3); /* two executables and data.csv, once each */
    run_all(&w, "table v1", ran);
    CU_ASSERT_FALSE(ran[0] || ran[1]);
    CU_ASSERT_EQUAL(w.ffs.hashes, hashed); /* no-op: stats only */
    pl = judge_all(&w);
    CU_ASSERT_EQUAL(pl->state[0], PZ_UP_TO_DATE);
    CU_ASSERT_EQUAL(pl->state[1], PZ_UP_TO_DATE);
    CU_ASSERT_PTR_NULL(pl->reason[1]);
    pz_plan_free(pl);
    world_free(&w);
}

static void test_param_change_reason_and_run_cache(void)
{
    world w;
    world_init(&w);
    int ran[2];
    run_all(&w, "table v1", ran);
    set_param(&w, 1, "{lr: 1e-4, layers: [200, 200]}");
    pz_plan *pl = judge_all(&w);
    CU_ASSERT_EQUAL(pl->state[0], PZ_UP_TO_DATE);
    CU_ASSERT_EQUAL(pl->state[1], PZ_STALE);
    CU_ASSERT_STRING_EQUAL(pl->reason[1], "param lr changed 5e-4 \xe2\x86\x92 1e-4");
    pz_plan_free(pl);
    run_all(&w, "table v1", ran);
    CU_ASSERT_TRUE(!ran[0] && ran[1]);
    /* Back to the old value, spelled differently: a run-cache hit. */
    set_param(&w, 1, "{layers: [200, 200], lr: 0.0005}");
    run_all(&w, "table v1", ran);
    CU_ASSERT_FALSE(ran[0] || ran[1]);
    /* Several changes are all named. */
    set_param(&w, 1, "{lr: 0.0005, layers: [100], seed: 3}");
    pl = judge_all(&w);
    CU_ASSERT_STRING_EQUAL(pl->reason[1], "param layers changed [200,200] \xe2\x86\x92 [100]; param seed added (3)");
    pz_plan_free(pl);
    world_free(&w);
}

static void test_touch_rehashes_once_and_content_change_propagates(void)
{
    world w;
    world_init(&w);
    int ran[2];
    run_all(&w, "table v1", ran);
    int hashed = w.ffs.hashes;
    ff_write(&w.ffs, "/data.csv", "a,b\n1,2\n"); /* touch: same bytes, new mtime */
    run_all(&w, "table v1", ran);
    CU_ASSERT_FALSE(ran[0] || ran[1]);
    CU_ASSERT_EQUAL(w.ffs.hashes, hashed + 1);
    run_all(&w, "table v1", ran);
    CU_ASSERT_EQUAL(w.ffs.hashes, hashed + 1); /* remembered */
    ff_write(&w.ffs, "/data.csv", "a,b\n1,3\n");
    pz_plan *pl = judge_all(&w);
    CU_ASSERT_STRING_EQUAL(pl->reason[0], "input raw changed");
    CU_ASSERT_EQUAL(pl->state[1], PZ_MAYBE);
    CU_ASSERT_STRING_EQUAL(pl->reason[1], "runs only if the outputs of prep change");
    pz_plan_free(pl);
    /* prep reruns but writes the same table: train stays cached (early cutoff). */
    run_all(&w, "table v1", ran);
    CU_ASSERT_TRUE(ran[0] && !ran[1]);
    /* A different table reruns train, and status says why. */
    ff_write(&w.ffs, "/data.csv", "a,b\n1,4\n");
    run_all(&w, "table v2", ran);
    CU_ASSERT_TRUE(ran[0] && ran[1]);
    world_free(&w);
}

static void test_racy_file_is_hashed_again(void)
{
    world w;
    world_init(&w);
    pz_err err;
    char h[PZ_HASH_HEX];
    ff_write(&w.ffs, "/fresh", "x");
    w.ffs.now -= 4900000000LL; /* hashed 0.1 s after it was written (whole-second stamps: 2 s window) */
    pz_statcache *sc = pz_statcache_open(&w.fs, NULL);
    CU_ASSERT_EQUAL(pz_statcache_hash(sc, "/fresh", h, &err), 0);
    CU_ASSERT_EQUAL(pz_statcache_hash(sc, "/fresh", h, &err), 0); /* same process: trusted */
    CU_ASSERT_EQUAL(w.ffs.hashes, 1);
    CU_ASSERT_EQUAL(pz_statcache_hash(sc, "/missing", h, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "/missing: file not found");
    pz_statcache_free(sc);
    world_free(&w);
}

static void test_executable_and_missing_object_and_forced(void)
{
    world w;
    world_init(&w);
    int ran[2];
    run_all(&w, "table v1", ran);
    ff_write(&w.ffs, "/bin/train", "train v2");
    pz_plan *pl = judge_all(&w);
    CU_ASSERT_STRING_EQUAL(pl->reason[1], "executable changed");
    pz_plan_free(pl);
    ff_write(&w.ffs, "/bin/train", "train v1");
    pl = judge_all(&w);
    CU_ASSERT_EQUAL(pl->state[1], PZ_UP_TO_DATE);
    pz_plan_free(pl);
    /* An object deleted behind pzflow's back makes its stage stale, with a reason. */
    char h[PZ_HASH_HEX];
    pz_hash_bytes("table v1", 8, h);
    char *obj = pz_cache_object_path(&w.cache, h);
    ffile *f = ff_find(&w.ffs, obj);
    free(f->path);
    f->path = pz_xstrdup("/gone");
    free(obj);
    pl = judge_all(&w);
    CU_ASSERT_STRING_EQUAL(pl->reason[0], "output table is missing from the cache");
    pz_plan_free(pl);
    pl = pz_plan_new(&w.p, &w.fs, &w.cache, w.sc, w.ix);
    pl->forced[1] = 1;
    pz_err err;
    CU_ASSERT_EQUAL(pz_plan_judge_all(pl, &err), 0);
    CU_ASSERT_STRING_EQUAL(pl->reason[1], "forced");
    pz_plan_free(pl);
    pz_index_get(w.ix, "train")->failed_status = 2;
    set_param(&w, 1, "{lr: 1e-3, layers: [200, 200]}");
    pl = judge_all(&w);
    CU_ASSERT_STRING_EQUAL(pl->reason[1], "last run failed (exit status 2); param lr changed 5e-4 \xe2\x86\x92 1e-3 (and upstream prep is stale)");
    pz_plan_free(pl);
    world_free(&w);
}

int main(void)
{
    pzt_suite("status", (pzt_case[]){{"never run, then a no-op hashes nothing", test_never_run_then_noop_hashes_nothing},
                                     {"param change reason and run cache", test_param_change_reason_and_run_cache},
                                     {"touch rehashes once; early cutoff", test_touch_rehashes_once_and_content_change_propagates},
                                     {"racy stat", test_racy_file_is_hashed_again},
                                     {"executable, missing object, forced, failed", test_executable_and_missing_object_and_forced},
                                     {0}});
    return pzt_main();
}
