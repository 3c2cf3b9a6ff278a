#include "engine/status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/key.h"
#include "util/sbuf.h"

/* Append one clause, separated by "; ". */
static void sb_clause(pz_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_clause(pz_sbuf *b, const char *fmt, ...)
{
    if (b->len) pz_sb_printf(b, "; ");
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    pz_sb_printf(b, "%s", s);
    free(s);
}

/* ---- plan lifetime ---- */

pz_plan *pz_plan_new(const pz_pipeline *p, const pz_fs *fs, const pz_cache *cache, pz_statcache *sc,
                     pz_index *index)
{
    pz_plan *pl = pz_xcalloc(1, sizeof *pl);
    pl->p = p;
    pl->fs = fs;
    pl->cache = cache;
    pl->sc = sc;
    pl->index = index;
    size_t n = p->nstages ? p->nstages : 1;
    pl->forced = pz_xcalloc(n, sizeof *pl->forced);
    pl->state = pz_xcalloc(n, sizeof *pl->state);
    pl->reason = pz_xcalloc(n, sizeof *pl->reason);
    pl->cand = pz_xcalloc(n, sizeof *pl->cand);
    pl->current = pz_xcalloc(n, sizeof *pl->current);
    pl->assumed = pz_xcalloc(n, sizeof *pl->assumed);
    pl->corrupt = pz_xcalloc(n, sizeof *pl->corrupt);
    return pl;
}

static void reset_stage(pz_plan *pl, size_t i)
{
    free(pl->reason[i]);
    pz_record_free(pl->cand[i]);
    pz_record_free(pl->current[i]);
    pz_record_free(pl->assumed[i]);
    pl->reason[i] = NULL;
    pl->cand[i] = pl->current[i] = pl->assumed[i] = NULL;
    pl->state[i] = PZ_UNKNOWN;
    pl->corrupt[i] = 0;
}

void pz_plan_free(pz_plan *pl)
{
    if (!pl) return;
    for (size_t i = 0; i < pl->p->nstages; i++) reset_stage(pl, i);
    for (size_t i = 0; i < pl->nexe; i++) free(pl->exe_paths[i]);
    free(pl->exe_paths);
    free(pl->exe_hashes);
    free(pl->memo_canonical);
    free(pl->memo_text);
    free(pl->forced);
    free(pl->state);
    free(pl->reason);
    free(pl->cand);
    free(pl->current);
    free(pl->assumed);
    free(pl->corrupt);
    free(pl);
}

pz_record *pz_plan_read_record(const pz_plan *pl, const char *key)
{
    if (!key || !key[0]) return NULL;
    char *path = pz_cache_record_path(pl->cache, key);
    char *text = pl->fs->read(pl->fs->ctx, path, NULL);
    pz_record *r = NULL;
    if (text) {
        pz_err err;
        r = pz_record_parse(text, path, &err);
        /* A record for another key (hand-edited or damaged) must not count. */
        if (r && strcmp(r->key, key)) {
            pz_record_free(r);
            r = NULL;
        }
        pz_fstat st;
        if (r && pl->fs->stat(pl->fs->ctx, path, &st) == 0) {
            r->file_stat.size = st.size;
            r->file_stat.mtime_ns = st.mtime_ns;
        }
    }
    free(text);
    free(path);
    return r;
}

static int exe_hash(pz_plan *pl, const char *path, char out[PZ_HASH_HEX], pz_err *err)
{
    for (size_t i = 0; i < pl->nexe; i++)
        if (!strcmp(pl->exe_paths[i], path)) return memcpy(out, pl->exe_hashes[i], PZ_HASH_HEX), 0;
    if (pz_statcache_hash(pl->sc, path, out, err) < 0) return pz_err_prefix(err, "executable ");
    pl->exe_paths = pz_xrealloc(pl->exe_paths, (pl->nexe + 1) * sizeof *pl->exe_paths);
    pl->exe_hashes = pz_xrealloc(pl->exe_hashes, (pl->nexe + 1) * sizeof *pl->exe_hashes);
    pl->exe_paths[pl->nexe] = pz_xstrdup(path);
    memcpy(pl->exe_hashes[pl->nexe++], out, PZ_HASH_HEX);
    return 0;
}

/* The record downstream stages read stage j's outputs from. */
static const pz_record *provider(const pz_plan *pl, size_t j, int assume)
{
    if (pl->current[j]) return pl->current[j];
    return assume ? pl->assumed[j] : NULL;
}

/* The canonical and as-written JSON of params into c, printed again only when they differ from
 * the last params printed (a no-op check of 3,000 survey instances printed the same {label: ..}
 * 6,000 times). */
static void set_params(pz_plan *pl, pz_record *c, const pz_ynode *params)
{
    if (!pl->memo_canonical || !pz_ynode_equal(params, pl->memo_params)) {
        free(pl->memo_canonical);
        free(pl->memo_text);
        pl->memo_canonical = pz_params_canonical(params);
        pl->memo_text = params ? pz_yaml_to_json(params, 1, -1) : pz_xstrdup("{}");
        pl->memo_params = params;
    }
    c->params = pz_xstrdup(pl->memo_canonical);
    c->params_text = pz_xstrdup(pl->memo_text);
}

/* Build stage i's candidate record. *waiting names a stale upstream whose assumed outputs were
 * used; *blocked one that has no outputs to assume at all. */
static pz_record *build_candidate(pz_plan *pl, size_t i, int assume, const char **waiting, const char **blocked,
                                  pz_err *err)
{
    const pz_stage *s = &pl->p->stages[i];
    pz_record *c = pz_xcalloc(1, sizeof *c);
    c->stage = pz_xstrdup(s->name);
    c->format = PZ_STAGE_FORMAT;
    c->exe_path = pz_xstrdup(s->exe_path);
    c->threads = s->threads;
    set_params(pl, c, s->params);
    if (exe_hash(pl, s->exe_path, c->exe_hash, err) < 0) goto fail;
    static const char none[PZ_HASH_HEX] = "00000000000000000000000000000000";
    for (size_t k = 0; k < s->ninputs; k++) {
        const pz_stage_input *in = &s->inputs[k];
        pz_record_add_input(c, in->name, in->is_list);
        pz_record_input *rin = &c->inputs[c->ninputs - 1];
        for (size_t r = 0; r < in->nrefs; r++) {
            const pz_input_ref *ref = &in->refs[r];
            char h[PZ_HASH_HEX];
            if (ref->is_external) {
                if (pz_statcache_hash(pl->sc, ref->path, h, err) < 0) {
                    pz_err_prefix(err, "%s: input '%s': ", s->name, in->name);
                    goto fail;
                }
                pz_record_input_push(rin, h);
                continue;
            }
            const pz_record *up = provider(pl, ref->stage, assume);
            const char *oh = up ? pz_record_output(up, ref->output) : NULL;
            if (!pl->current[ref->stage]) {
                if (!assume) {
                    pz_errf(err, "internal: %s judged before upstream %s", s->name, pl->p->stages[ref->stage].name);
                    goto fail;
                }
                if (!oh && !*blocked) *blocked = pl->p->stages[ref->stage].name;
                if (!*waiting) *waiting = pl->p->stages[ref->stage].name;
            }
            pz_record_input_push(rin, oh ? oh : none);
        }
    }
    for (size_t k = 0; k < s->noutputs; k++) pz_record_add_output(c, s->outputs[k], none); /* filled in when it runs */
    pz_record_compute_key(c);
    return c;
fail:
    pz_record_free(c);
    return NULL;
}

/* Why an output object of r cannot be trusted, or NULL (malloc'd). A missing object is
 * plain. An object whose stat differs from the one recorded at commit (written to, replaced,
 * truncated) is re-hashed before it is trusted: through the stat cache, so an object that was
 * legitimately re-created (same bytes, new mtime) costs one hash, once. *corrupt is set when
 * the bytes no longer have the hash that names them. Bit rot that leaves the stat alone is
 * caught by the full re-hash of an object just before a stage reads it (run.c). */
static char *damaged_output(const pz_plan *pl, size_t i, const pz_record *r, int *corrupt)
{
    *corrupt = 0;
    for (size_t k = 0; k < r->noutputs; k++) {
        char *path = pz_cache_object_path(pl->cache, r->out_hashes[k]);
        pz_fstat st;
        const pz_objstat *want = pz_record_output_stat(r, k);
        char *why = NULL;
        if (pl->fs->stat(pl->fs->ctx, path, &st) < 0) {
            why = pz_xasprintf("output %s is missing from the cache", r->out_names[k]);
        } else if (want && (st.size != want->size || st.mtime_ns != want->mtime_ns)) {
            char h[PZ_HASH_HEX];
            pz_err err;
            if (pz_statcache_hash(pl->sc, path, h, &err) < 0 || strcmp(h, r->out_hashes[k])) {
                why = pz_xasprintf("object %s of %s/%s is corrupt (%s)", r->out_hashes[k], pl->p->stages[i].name,
                                   r->out_names[k], st.size != want->size ? "size changed" : "hash mismatch");
                *corrupt = 1;
            }
        }
        free(path);
        if (why) return why;
    }
    return NULL;
}

/* The record of stage i's candidate key: from the index's copy of its outputs when the record
 * file is unchanged since the copy was taken (one stat instead of reading and parsing a file
 * per stage), else read from the file. */
static pz_record *record_for_key(const pz_plan *pl, size_t i, const char *key)
{
    const pz_index_entry *e = pl->index ? pz_index_get(pl->index, pl->p->stages[i].name) : NULL;
    if (e && e->outputs && !strcmp(e->key, key)) {
        char *path = pz_cache_record_path(pl->cache, key);
        pz_fstat st;
        int same = pl->fs->stat(pl->fs->ctx, path, &st) == 0 && st.size == e->rec_stat.size &&
                   st.mtime_ns == e->rec_stat.mtime_ns;
        free(path);
        if (same) return pz_index_outputs_record(e);
    }
    return pz_plan_read_record(pl, key);
}

static pz_record *last_run(const pz_plan *pl, const char *stage)
{
    const pz_index_entry *e = pl->index ? pz_index_get(pl->index, stage) : NULL;
    return e ? pz_plan_read_record(pl, e->key) : NULL;
}

static char *stale_reason(const pz_plan *pl, size_t i, const pz_record *cand, const pz_record *prev)
{
    const pz_index_entry *e = pl->index ? pz_index_get(pl->index, pl->p->stages[i].name) : NULL;
    pz_sbuf b = {0};
    if (e && e->failed_status) {
        if (e->failed_status > 128) sb_clause(&b, "last run was killed by signal %d", e->failed_status - 128);
        else sb_clause(&b, "last run failed (exit status %d)", e->failed_status);
    }
    if (!prev && e && e->key[0]) sb_clause(&b, "no record of the last run (removed by gc?)");
    else if (!prev && !(e && e->failed_status)) sb_clause(&b, "never run");
    else if (prev) {
        char *why = pz_explain_change(cand, prev);
        if (*why && strcmp(why, "unchanged")) sb_clause(&b, "%s", why);
        free(why);
    }
    if (!b.p) sb_clause(&b, "no run record for this key");
    return b.p;
}

int pz_plan_judge(pz_plan *pl, size_t i, int assume, pz_err *err)
{
    reset_stage(pl, i);
    const char *waiting = NULL, *blocked = NULL;
    pz_record *c = build_candidate(pl, i, assume, &waiting, &blocked, err);
    if (!c) return -1;
    pl->cand[i] = c;
    if (blocked) {
        pl->state[i] = PZ_STALE;
        pl->reason[i] = pz_xasprintf("upstream %s has not run yet", blocked);
        return 0;
    }
    if (pl->forced[i]) {
        pl->state[i] = PZ_STALE;
        pl->reason[i] = pz_xstrdup("forced");
        pl->assumed[i] = pz_plan_read_record(pl, c->key);
        if (!pl->assumed[i]) pl->assumed[i] = last_run(pl, pl->p->stages[i].name);
        return 0;
    }
    pz_record *rec = record_for_key(pl, i, c->key);
    int corrupt = 0;
    char *damage = rec ? damaged_output(pl, i, rec, &corrupt) : NULL;
    if (rec && !damage) {
        if (waiting) {
            pl->state[i] = PZ_MAYBE;
            pl->reason[i] = pz_xasprintf("runs only if the outputs of %s change", waiting);
            pl->assumed[i] = rec;
        } else {
            pl->state[i] = PZ_UP_TO_DATE;
            pl->current[i] = rec;
        }
        return 0;
    }
    pl->state[i] = PZ_STALE;
    pz_record *prev = last_run(pl, pl->p->stages[i].name);
    if (damage) {
        pl->reason[i] = damage;
        pl->corrupt[i] = corrupt;
        pz_record_free(prev);
        prev = rec;
    } else {
        pl->reason[i] = stale_reason(pl, i, c, prev);
        pz_record_free(rec);
    }
    if (waiting) {
        char *r = pz_xasprintf("%s (and upstream %s is stale)", pl->reason[i], waiting);
        free(pl->reason[i]);
        pl->reason[i] = r;
    }
    pl->assumed[i] = prev;
    return 0;
}

int pz_plan_judge_all(pz_plan *pl, pz_err *err)
{
    for (size_t i = 0; i < pl->p->nstages; i++)
        if (pz_plan_judge(pl, i, 1, err) < 0) return -1;
    return 0;
}

/* ---- explaining differences ---- */

static char *value_text(const pz_ynode *n)
{
    if (!n) return pz_xstrdup("(none)");
    if (n->kind == PZ_Y_SCALAR) return pz_xstrdup(n->str);
    return pz_yaml_to_json(n, 1, -1);
}

static int same_value(const pz_ynode *a, const pz_ynode *b)
{
    char *ja = pz_yaml_to_json(a, 1, -1), *jb = pz_yaml_to_json(b, 1, -1);
    int same = !strcmp(ja, jb);
    free(ja);
    free(jb);
    return same;
}

/* Compare canonical trees a (old) and b (new); print values from the as-written trees. */
static void diff_params(pz_sbuf *out, const char *prefix, const pz_ynode *a, const pz_ynode *b, const pz_ynode *at,
                        const pz_ynode *bt)
{
    if (a && b && a->kind == PZ_Y_MAP && b->kind == PZ_Y_MAP) {
        for (int pass = 0; pass < 2; pass++) {
            const pz_ynode *m = pass ? a : b;
            for (size_t k = 0; k < m->n; k++) {
                const char *key = m->keys[k]->str;
                if (pass && pz_ymap_get(b, key)) continue; /* already seen from b */
                char *path = *prefix ? pz_xasprintf("%s.%s", prefix, key) : pz_xstrdup(key);
                diff_params(out, path, pz_ymap_get(a, key), pz_ymap_get(b, key), at ? pz_ymap_get(at, key) : NULL,
                            bt ? pz_ymap_get(bt, key) : NULL);
                free(path);
            }
        }
        return;
    }
    if (a && b && same_value(a, b)) return;
    char *va = value_text(at ? at : a), *vb = value_text(bt ? bt : b);
    if (!a) sb_clause(out, "param %s added (%s)", prefix, vb);
    else if (!b) sb_clause(out, "param %s removed (was %s)", prefix, va);
    else sb_clause(out, "param %s changed %s \xe2\x86\x92 %s", prefix, va, vb);
    free(va);
    free(vb);
}

static pz_ynode *parse_json(const char *text)
{
    pz_err err;
    return text ? pz_yaml_load_string(text, strlen(text), "params", &err) : NULL;
}

static void explain_params(pz_sbuf *b, const pz_record *cand, const pz_record *prev)
{
    if (!strcmp(cand->params ? cand->params : "{}", prev->params ? prev->params : "{}")) return;
    pz_ynode *a = parse_json(prev->params), *bn = parse_json(cand->params);
    pz_ynode *at = parse_json(prev->params_text), *bt = parse_json(cand->params_text);
    size_t before = b->len;
    if (a && bn) diff_params(b, "", a, bn, at, bt);
    if (b->len == before) sb_clause(b, "params changed");
    pz_ynode_free(a);
    pz_ynode_free(bn);
    pz_ynode_free(at);
    pz_ynode_free(bt);
}

static const pz_record_input *find_input(const pz_record *r, const char *name)
{
    for (size_t i = 0; i < r->ninputs; i++)
        if (!strcmp(r->inputs[i].name, name)) return &r->inputs[i];
    return NULL;
}

static int same_input(const pz_record_input *a, const pz_record_input *b)
{
    if (a->is_list != b->is_list || a->nhashes != b->nhashes) return 0;
    for (size_t k = 0; k < a->nhashes; k++)
        if (strcmp(a->hashes[k], b->hashes[k])) return 0;
    return 1;
}

static void explain_inputs(pz_sbuf *b, const pz_record *cand, const pz_record *prev)
{
    for (size_t i = 0; i < cand->ninputs; i++) {
        const pz_record_input *now = &cand->inputs[i], *was = find_input(prev, now->name);
        if (!was) sb_clause(b, "input %s added", now->name);
        else if (!same_input(now, was)) sb_clause(b, "input %s changed", now->name);
    }
    for (size_t i = 0; i < prev->ninputs; i++)
        if (!find_input(cand, prev->inputs[i].name)) sb_clause(b, "input %s removed", prev->inputs[i].name);
}

static int same_output_names(const pz_record *a, const pz_record *b)
{
    if (a->noutputs != b->noutputs) return 0;
    for (size_t k = 0; k < a->noutputs; k++)
        if (strcmp(a->out_names[k], b->out_names[k])) return 0;
    return 1;
}

char *pz_explain_change(const pz_record *cand, const pz_record *prev)
{
    if (!prev) return pz_xstrdup("never run");
    pz_sbuf b = {0};
    if (cand->format != prev->format) sb_clause(&b, "pzflow's stage format changed");
    if (strcmp(cand->exe_hash, prev->exe_hash)) sb_clause(&b, "executable changed");
    explain_params(&b, cand, prev);
    explain_inputs(&b, cand, prev);
    if (!same_output_names(cand, prev)) sb_clause(&b, "outputs changed");
    if (cand->threads != prev->threads) sb_clause(&b, "threads changed %ld \xe2\x86\x92 %ld", prev->threads, cand->threads);
    if (!b.p) return pz_xstrdup("unchanged");
    return b.p;
}

/* ---- pzflow why ---- */

static const char *state_name(pz_state s)
{
    switch (s) {
    case PZ_UP_TO_DATE: return "up to date";
    case PZ_STALE: return "stale";
    case PZ_MAYBE: return "waiting on upstream";
    default: return "unknown";
    }
}

static void why_inputs(pz_sbuf *b, const pz_record *c, const pz_record *prev)
{
    for (size_t k = 0; k < c->ninputs; k++) {
        const pz_record_input *in = &c->inputs[k];
        const pz_record_input *was = prev ? find_input(prev, in->name) : NULL;
        pz_sb_printf(b, "  input %s:", in->name);
        for (size_t h = 0; h < in->nhashes; h++) pz_sb_printf(b, " %s", in->hashes[h]);
        pz_sb_printf(b, "%s\n", !prev ? "" : !was ? "  (new)" : same_input(in, was) ? "  (unchanged)" : "  (changed)");
        if (was && !same_input(in, was)) {
            pz_sb_printf(b, "    was:");
            for (size_t h = 0; h < was->nhashes; h++) pz_sb_printf(b, " %s", was->hashes[h]);
            pz_sb_printf(b, "\n");
        }
    }
}

char *pz_plan_why(const pz_plan *pl, size_t i)
{
    const pz_stage *s = &pl->p->stages[i];
    const pz_record *c = pl->cand[i];
    pz_sbuf b = {0};
    pz_sb_printf(&b, "%s: %s%s%s\n", s->name, state_name(pl->state[i]), pl->reason[i] ? ": " : "",
              pl->reason[i] ? pl->reason[i] : "");
    if (!c) return b.p;
    pz_record *prev = last_run(pl, s->name);
    pz_sb_printf(&b, "  key:        %s\n", c->key);
    if (prev) {
        time_t t = (time_t)(prev->end_ns / 1000000000);
        char when[64];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
        pz_sb_printf(&b, "  last run:   %s at %s, %.2fs, exit status %d\n", prev->key, when,
                  (prev->end_ns - prev->start_ns) / 1e9, prev->status);
    } else {
        pz_sb_printf(&b, "  last run:   none\n");
    }
    pz_sb_printf(&b, "  executable: %s %s%s\n", c->exe_path, c->exe_hash,
              !prev ? "" : strcmp(c->exe_hash, prev->exe_hash) ? "  (changed)" : "  (unchanged)");
    pz_sb_printf(&b, "  threads:    %ld\n", c->threads);
    pz_sb_printf(&b, "  params:     %s\n", c->params_text);
    if (prev && strcmp(prev->params, c->params)) pz_sb_printf(&b, "    was:      %s\n", prev->params_text);
    why_inputs(&b, c, prev);
    const pz_record *out = pl->current[i] ? pl->current[i] : prev;
    for (size_t k = 0; out && k < out->noutputs; k++)
        pz_sb_printf(&b, "  output %s: %s%s\n", out->out_names[k], out->out_hashes[k],
                  pl->current[i] ? "" : "  (from the last run)");
    pz_record_free(prev);
    return b.p;
}
