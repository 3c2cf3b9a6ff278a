/* JSON forms of the status and why reports. See report_json.h. */
#include "engine/report_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/record.h"
#include "util/ytree.h"

static const char *state_name(pz_state s)
{
    return s == PZ_UP_TO_DATE ? "ok" : s == PZ_STALE ? "stale" : s == PZ_MAYBE ? "maybe" : "unknown";
}

/* A string value, or null for NULL / "" (quoted scalars are always written as strings). */
static pz_ynode *str_or_null(const char *s) { return s && *s ? pz_ynode_scalar(s, 1) : pz_ynode_scalar("null", 0); }

static pz_ynode *count(size_t n)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", n);
    return pz_ynode_scalar(buf, 0);
}

static pz_ynode *stage_node(const pz_plan *pl, size_t i)
{
    pz_ynode *m = pz_ynode_map();
    pz_ymap_set(m, "name", pz_ynode_scalar(pl->p->stages[i].name, 1));
    pz_ymap_set(m, "state", pz_ynode_scalar(state_name(pl->state[i]), 1));
    pz_ymap_set(m, "reason", str_or_null(pl->reason[i]));
    return m;
}

static char *finish(pz_ynode *root)
{
    char *json = pz_yaml_to_json(root, 0, 2);
    pz_ynode_free(root);
    char *out = pz_xasprintf("%s\n", json);
    free(json);
    return out;
}

/* UTC, ISO 8601: a script compares it without knowing the machine's time zone. */
static pz_ynode *utc_time(int64_t ns)
{
    if (!ns) return pz_ynode_scalar("null", 0);
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return pz_ynode_scalar(buf, 1);
}

static pz_ynode *results_node(const pz_results_view *r)
{
    pz_ynode *m = pz_ynode_map(), *names = pz_ynode_seq();
    for (size_t k = 0; k < r->ndiffers; k++) pz_yseq_push(names, pz_ynode_scalar(r->differs[k], 1));
    pz_ymap_set(m, "folder", pz_ynode_scalar(r->folder, 1));
    pz_ymap_set(m, "state", pz_ynode_scalar(r->state, 1));
    pz_ymap_set(m, "finished", utc_time(r->finished_ns));
    pz_ymap_set(m, "differs", names);
    pz_ymap_set(m, "error", str_or_null(r->error));
    return m;
}

char *pz_status_json(const pz_plan *pl, const pz_results_view *results)
{
    size_t counts[4] = {0};
    pz_ynode *root = pz_ynode_map(), *stages = pz_ynode_seq();
    for (size_t i = 0; i < pl->p->nstages; i++) {
        counts[pl->state[i]]++;
        pz_yseq_push(stages, stage_node(pl, i));
    }
    pz_ymap_set(root, "pipeline", pz_ynode_scalar(pl->p->path, 1));
    pz_ymap_set(root, "stages", stages);
    pz_ymap_set(root, "stale", count(counts[PZ_STALE]));
    pz_ymap_set(root, "waiting", count(counts[PZ_MAYBE]));
    pz_ymap_set(root, "up_to_date", count(counts[PZ_UP_TO_DATE]));
    pz_ymap_set(root, "results", results_node(results));
    return finish(root);
}

/* A stage downstream of one that will run was judged against that stage's last outputs
 * (status.h): its key is not known until the upstream stage has run. */
static int key_known(const pz_plan *pl, size_t i)
{
    const pz_stage *st = &pl->p->stages[i];
    for (size_t k = 0; k < st->ndeps; k++)
        if (pl->state[st->deps[k]] != PZ_UP_TO_DATE) return 0;
    return pl->cand[i] != NULL;
}

char *pz_why_json(const pz_plan *pl, const size_t *idx, size_t n)
{
    pz_ynode *root = pz_ynode_map(), *stages = pz_ynode_seq();
    for (size_t k = 0; k < n; k++) {
        size_t i = idx[k];
        pz_ynode *m = stage_node(pl, i);
        const pz_record *cand = key_known(pl, i) ? pl->cand[i] : NULL;
        pz_ymap_set(m, "key", str_or_null(cand ? cand->key : NULL));
        const pz_index_entry *e = pz_index_get(pl->index, pl->p->stages[i].name);
        pz_ymap_set(m, "last_key", str_or_null(e ? e->key : NULL));
        pz_ymap_set(m, "last_failed_status", count(e && e->failed_status > 0 ? (size_t)e->failed_status : 0));
        pz_yseq_push(stages, m);
    }
    pz_ymap_set(root, "stages", stages);
    return finish(root);
}

char *pz_show_json(const char *pipeline, const char *results, const pz_shown *v, size_t n)
{
    pz_ynode *root = pz_ynode_map(), *outputs = pz_ynode_seq();
    for (size_t k = 0; k < n; k++) {
        pz_ynode *m = pz_ynode_map();
        pz_ymap_set(m, "stage", str_or_null(v[k].stage));
        pz_ymap_set(m, "output", str_or_null(v[k].output));
        pz_ymap_set(m, "hash", str_or_null(v[k].hash));
        pz_ymap_set(m, "path", str_or_null(v[k].path));
        /* "" is text too: an empty table is not a binary file */
        pz_ymap_set(m, "text", v[k].text ? pz_ynode_scalar(v[k].text, 1) : pz_ynode_scalar("null", 0));
        pz_yseq_push(outputs, m);
    }
    pz_ymap_set(root, "pipeline", pz_ynode_scalar(pipeline, 1));
    pz_ymap_set(root, "results", pz_ynode_scalar(results, 1));
    pz_ymap_set(root, "outputs", outputs);
    return finish(root);
}
