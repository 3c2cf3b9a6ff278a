#include "engine/run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/display.h"
#include "engine/executor.h"
#include "engine/describe.h"
#include "engine/key.h"
#include "util/spec.h"

enum { S_WAIT, S_READY, S_RUNNING, S_DONE, S_FAILED, S_SKIPPED };

/* A stage the executor runs for us. */
typedef struct job {
    size_t stage;
    char *scratch;     /* its private directory (the executor's workdir) */
    int64_t start_ns;
    double start_mono;
} job;

typedef struct runner {
    pz_plan *pl;
    const pz_run_opts *o;
    pz_run_result *res;
    pz_display *disp;
    pz_executor *ex;
    int *st;
    size_t *ready;
    size_t nready;
    job *jobs;
    size_t njobs;
    int stop;
    double last_index_save;
    int *fresh;                      /* per stage: ran in this run (its outputs were just hashed) */
    char **note;                     /* per stage: why it was reopened (a damaged output object) */
    char (*verified)[PZ_HASH_HEX];   /* objects fully re-hashed in this run */
    size_t nverified;
} runner;

/* Signal handlers can only talk to the loop through process-wide state: a self-pipe that
 * wakes poll() and a flag. These are the engine's only mutable statics. */
static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    int e = errno;
    if (sig != SIGCHLD) interrupted = sig;
    if (wake_pipe[1] >= 0) {
        ssize_t w = write(wake_pipe[1], "x", 1);
        (void)w;
    }
    errno = e;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- index and workspace bookkeeping ---- */

static int save_index(runner *r, pz_err *err)
{
    pz_index *ix = r->pl->index;
    if (!ix->dirty || !r->o->index_path) return 0;
    char *text = pz_index_format(ix);
    int rc = pz_write_atomic(r->o->index_path, text, strlen(text), err);
    free(text);
    if (rc == 0) ix->dirty = 0;
    return rc;
}

static pz_index_entry *index_set(pz_index *ix, const char *stage, const char *key, const char *log, int failed)
{
    if (!pz_index_get(ix, stage)) ix->dirty = 1;
    pz_index_entry *e = pz_index_put(ix, stage);
    if (key && strcmp(e->key, key)) memcpy(e->key, key, PZ_HASH_HEX), ix->dirty = 1;
    if (log && strcmp(e->log_hash, log)) memcpy(e->log_hash, log, PZ_HASH_HEX), ix->dirty = 1;
    if (e->failed_status != failed) e->failed_status = failed, ix->dirty = 1;
    return e;
}

/* A stage is done with a current record: note it in the index. */
static int publish(runner *r, size_t i, const char *log, pz_err *err)
{
    pz_plan *pl = r->pl;
    const pz_stage *s = &pl->p->stages[i];
    pz_index_entry *e = index_set(pl->index, s->name, pl->current[i]->key, log, 0);
    const pz_record *cur = pl->current[i];
    if (cur->file_stat.mtime_ns && pz_index_set_outputs(e, cur, &cur->file_stat)) pl->index->dirty = 1;
    /* The results folder is not touched here: it is rebuilt as a whole when the run is
     * complete (results.h), so it never mixes this run with an earlier configuration. */
    /* The index is saved at most once a second (and at the end): it only names records that
     * already exist, so a crash loses at most which keys were last, and the next run finds
     * them again by key. */
    if (mono_s() - r->last_index_save < 1.0) return 0;
    r->last_index_save = mono_s();
    return save_index(r, err);
}

/* ---- the spec file (format and writer: util/spec.h) ---- */

static char *spec_json(runner *r, size_t i, const char *scratch, long threads)
{
    pz_plan *pl = r->pl;
    const pz_stage *s = &pl->p->stages[i];
    const pz_record *c = pl->cand[i];
    pz_spec_writer *w = pz_spec_writer_new(s->name, threads, pz_params_canonical_tree(s->params));
    for (size_t k = 0; k < s->ninputs; k++) {
        const pz_stage_input *in = &s->inputs[k];
        /* A file named by a param: the stage reads the resolved path (describe.h). */
        if (!strncmp(in->name, PZ_PARAM_INPUT_PREFIX, strlen(PZ_PARAM_INPUT_PREFIX)) && in->nrefs == 1)
            pz_spec_writer_param_path(w, in->name + strlen(PZ_PARAM_INPUT_PREFIX), in->refs[0].path);
        char **paths = pz_xcalloc(in->nrefs ? in->nrefs : 1, sizeof *paths);
        for (size_t j = 0; j < in->nrefs; j++) {
            const pz_input_ref *ref = &in->refs[j];
            paths[j] = ref->is_external ? pz_xstrdup(ref->path) : pz_cache_object_path(pl->cache, c->inputs[k].hashes[j]);
            /* Messages name the pipeline output, not the cache object (schemas/spec.md). */
            if (!ref->is_external) {
                char *what = pz_xasprintf("%s/%s", pl->p->stages[ref->stage].name, ref->output);
                pz_spec_writer_source(w, paths[j], what);
                free(what);
            }
        }
        if (in->is_list) pz_spec_writer_input_list(w, in->name, (const char *const *)paths, in->nrefs);
        else if (in->nrefs) pz_spec_writer_input(w, in->name, paths[in->nrefs - 1]);
        for (size_t j = 0; j < in->nrefs; j++) free(paths[j]);
        free(paths);
    }
    for (size_t k = 0; k < s->noutputs; k++) {
        char *path = pz_xasprintf("%s/out/%s", scratch, s->outputs[k]);
        pz_spec_writer_output(w, s->outputs[k], path);
        free(path);
    }
    /* No key, input hash or pzflow version: a stage that cannot see them cannot write them into
     * its outputs, so equal inputs+params+code give equal bytes (early cutoff). Provenance is the
     * run record's job (core/engine/provenance.c). */
    return pz_spec_writer_json(w);
}

/* ---- starting stages ---- */

static long thread_share(runner *r, size_t i)
{
    long runnable = (long)(r->njobs + r->nready);
    long k = runnable < r->o->jobs ? runnable : r->o->jobs;
    if (k < 1) k = 1;
    long share = r->o->cores / k, want = r->pl->p->stages[i].threads;
    if (share > want) share = want;
    return share < 1 ? 1 : share;
}

/* Give stage i a directory with spec.json and out/ (unless the executor reattaches to a job
 * already running it) and a slot in r->jobs; *t is what the executor is handed. */
static int prepare_stage(runner *r, size_t i, pz_task *t, pz_err *err)
{
    pz_plan *pl = r->pl;
    const pz_stage *s = &pl->p->stages[i];
    long threads = r->o->slurm ? s->threads : thread_share(r, i);
    *t = (pz_task){.id = i, .stage = s, .key = pl->cand[i]->key, .threads = threads};
    int attached = 0;
    char *dir = r->ex->workdir(r->ex, t, &attached, err);
    if (!dir) return -1;
    int rc = 0;
    if (!attached) {
        char *outdir = pz_xasprintf("%s/out", dir), *spec_path = pz_xasprintf("%s/spec.json", dir);
        char *spec = spec_json(r, i, dir, threads);
        if (mkdir(outdir, 0777) < 0) rc = pz_errf(err, "cannot create %s: %s", outdir, strerror(errno));
        else rc = pz_write_atomic(spec_path, spec, strlen(spec), err);
        free(outdir), free(spec_path), free(spec);
    }
    if (rc < 0) {
        pz_err ignored;
        pz_rmtree(dir, &ignored);
        free(dir);
        return -1;
    }
    t->dir = dir;
    job *j = &r->jobs[r->njobs++];
    *j = (job){.stage = i, .scratch = dir, .start_ns = wall_ns(), .start_mono = mono_s()};
    r->st[i] = S_RUNNING;
    pz_display_start(r->disp, i, s->name, attached ? "reattached to its Slurm job" : pl->reason[i]);
    return 0;
}

static job *find_job(runner *r, size_t stage)
{
    for (size_t k = 0; k < r->njobs; k++)
        if (r->jobs[k].stage == stage) return &r->jobs[k];
    return NULL;
}

/* The executor is done with the stage and so is the scheduler: its directory goes. */
static void release_job(runner *r, job *j)
{
    pz_err ignored;
    r->ex->release(r->ex, j->stage);
    pz_rmtree(j->scratch, &ignored);
    free(j->scratch);
    *j = r->jobs[--r->njobs];
}

/* Start every ready stage the job limit allows, handed to the executor together (the Slurm
 * executor makes ready foreach instances one job array). */
static int start_ready(runner *r, pz_err *err)
{
    size_t room = (size_t)r->o->jobs - r->njobs, n = 0;
    if (room > r->nready) room = r->nready;
    if (!room) return 0;
    pz_task *tasks = pz_xcalloc(room, sizeof *tasks);
    int rc = 0;
    while (n < room && rc == 0) {
        size_t i = r->ready[0];
        memmove(r->ready, r->ready + 1, --r->nready * sizeof *r->ready);
        rc = prepare_stage(r, i, &tasks[n], err);
        if (rc == 0) n++;
    }
    /* On an error the run stops; what this batch started is stopped (or, on Slurm, left to
     * be reattached) with the rest by stop_after_error. */
    if (rc == 0 && r->ex->submit(r->ex, tasks, n, err) < 0) rc = -1;
    free(tasks);
    return rc;
}

/* ---- finishing a stage ---- */

static char *log_tail(const char *path, int nlines)
{
    pz_err err;
    size_t len;
    char *text = pz_read_file(path, &len, &err);
    if (!text) return pz_xstrdup("    (no log)\n");
    size_t start = len;
    int seen = 0;
    if (start && text[start - 1] == '\n') start--;
    while (start > 0 && seen < nlines) {
        start--;
        if (text[start] == '\n') seen++;
    }
    if (text[start] == '\n') start++;
    size_t cap = (len - start) * 2 + 64, o = 0;
    char *out = pz_xmalloc(cap);
    o += (size_t)snprintf(out, cap, "    | ");
    for (size_t k = start; k < len; k++) {
        out[o++] = text[k];
        if (text[k] == '\n' && k + 1 < len) o += (size_t)snprintf(out + o, cap - o, "    | ");
        if (o + 16 > cap) out = pz_xrealloc(out, cap *= 2);
    }
    if (!o || out[o - 1] != '\n') out[o++] = '\n';
    out[o] = 0;
    free(text);
    return out;
}

/* Store the log as an object; out gets its hash ("" if that failed). */
static void store_log(runner *r, const char *log_path, char out[PZ_HASH_HEX])
{
    pz_err err;
    out[0] = 0;
    /* Truncating to its own size drops the blocks reserved past the end (start_stage). */
    struct stat st;
    if (stat(log_path, &st) == 0 && truncate(log_path, st.st_size) < 0) { /* only space is lost */
    }
    if (pz_hash_file(log_path, out, NULL, &err) < 0 || pz_cache_put_object(r->pl->cache, log_path, out, NULL, &err) < 0)
        out[0] = 0;
}

/* Hash and store every output, then write the record: the commit. Returns 0, -1 when the
 * stage broke the protocol (a declared output missing or not a file: the stage's failure), or
 * -2 when the cache could not take the outputs (full disk, I/O error: pzflow's failure). */
static int commit(runner *r, job *j, pz_record *rec, const char *log_path, pz_err *err)
{
    const pz_stage *s = &r->pl->p->stages[j->stage];
    for (size_t k = 0; k < s->noutputs; k++) {
        char *path = pz_xasprintf("%s/out/%s", j->scratch, s->outputs[k]);
        struct stat st;
        int rc = 0;
        if (lstat(path, &st) < 0)
            rc = pz_errf(err, "it exited 0 but did not write output '%s'", s->outputs[k]);
        else if (!S_ISREG(st.st_mode))
            rc = pz_errf(err, "output '%s' is not a regular file (outputs must be single files)", s->outputs[k]);
        free(path);
        if (rc < 0) return -1;
    }
    for (size_t k = 0; k < s->noutputs; k++) {
        char *path = pz_xasprintf("%s/out/%s", j->scratch, s->outputs[k]);
        int rc = pz_hash_file(path, rec->out_hashes[k], NULL, err) < 0 ||
                 pz_cache_put_object(r->pl->cache, path, rec->out_hashes[k], &rec->out_stat[k], err) < 0;
        free(path);
        if (rc) return -2;
    }
    store_log(r, log_path, rec->log_hash);
    if (pz_cache_write_record(r->pl->cache, rec, err) < 0) return -2;
    /* For the index's copy of the outputs (valid while the record file is unchanged). */
    char *path = pz_cache_record_path(r->pl->cache, rec->key);
    struct stat st;
    if (stat(path, &st) == 0) {
        rec->file_stat.size = (uint64_t)st.st_size;
        rec->file_stat.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    free(path);
    return 0;
}

/* An external input whose bytes changed since its hash was taken for the key was edited while
 * the stage ran (or between judging and starting it): the outputs may come from the new bytes,
 * so they must not be committed under the old hash. The stat is compared first (free); only a
 * changed stat is re-hashed, since a link or chmod changes the ctime and not the bytes (a stage
 * that hard-links its output to its input does exactly that). 0, or -1 with err. */
static int external_inputs_unchanged(runner *r, size_t i, pz_err *err)
{
    const pz_stage *s = &r->pl->p->stages[i];
    for (size_t k = 0; k < s->ninputs; k++)
        for (size_t j = 0; j < s->inputs[k].nrefs; j++) {
            const pz_input_ref *ref = &s->inputs[k].refs[j];
            if (!ref->is_external || !pz_statcache_changed(r->pl->sc, ref->path)) continue;
            char now[PZ_HASH_HEX];
            pz_err ignored;
            if (pz_statcache_hash(r->pl->sc, ref->path, now, &ignored) < 0 ||
                strcmp(now, r->pl->cand[i]->inputs[k].hashes[j]))
                return pz_errf(err, "input %s (%s) changed while stage %s ran; nothing was committed; rerun", s->inputs[k].name,
                               ref->path, s->name);
        }
    return 0;
}

static pz_record *record_from_candidate(const pz_record *c)
{
    /* Round-trip through the text form: a deep copy that is also what will be on disk. */
    char *text = pz_record_format(c);
    pz_err err;
    pz_record *rec = pz_record_parse(text, "candidate", &err);
    if (!rec) {
        fprintf(stderr, "pzflow: internal error: %s\n%s", err.msg, text);
        abort();
    }
    free(text);
    return rec;
}

static void report_failure(runner *r, size_t i, const char *what, const char *log_path, const char *log_hash)
{
    const pz_stage *s = &r->pl->p->stages[i];
    char *obj = log_hash[0] ? pz_cache_object_path(r->pl->cache, log_hash) : pz_xstrdup(log_path);
    char *tail = log_tail(obj, 20);
    pz_display_line(r->disp, "pzflow: stage %s failed: %s\n  log: %s  (pzflow log %s)\n  last lines of the log:\n%s",
                    s->name, what, obj, s->name, tail);
    pz_display_failed(r->disp, s->name, obj);
    free(obj);
    free(tail);
}

static int finish_stage(runner *r, job *j, const pz_outcome *o, pz_err *err)
{
    pz_plan *pl = r->pl;
    size_t i = j->stage;
    double secs = mono_s() - j->start_mono;
    char *log_path = pz_xasprintf("%s/log", j->scratch);
    int code = o->code;
    int rc = 0, commit_failed = 0;
    pz_err why;
    char what[PZ_ERR_MAX + 64];
    snprintf(what, sizeof what, "%s", o->what);
    pz_record *rec = NULL;
    if (code != 0) {
    } else if (external_inputs_unchanged(r, i, &why) < 0) {
        snprintf(what, sizeof what, "%s", why.msg);
        code = -1;
    } else {
        rec = record_from_candidate(pl->cand[i]);
        rec->start_ns = j->start_ns;
        rec->end_ns = wall_ns();
        rec->status = 0;
        int c = commit(r, j, rec, log_path, &why);
        if (c == -1) {
            snprintf(what, sizeof what, "%s", why.msg);
            code = -1;
        } else if (c == -2) {
            /* The stage did its job; the cache could not take it (full disk, I/O error). That
             * is not the stage's failure: stop the run with the path that failed. */
            commit_failed = 1;
            code = -1;
        }
    }
    char log_hash[PZ_HASH_HEX];
    if (code == 0) memcpy(log_hash, rec->log_hash, PZ_HASH_HEX);
    else if (!commit_failed) {
        /* A failed stage's outputs are garbage, and when it failed on a full disk they are what
         * filled it: free that space first, so its log and the index can still be written. */
        char *outdir = pz_xasprintf("%s/out", j->scratch);
        pz_rmtree(outdir, &why);
        free(outdir);
        store_log(r, log_path, log_hash);
    }
    pz_display_finish(r->disp, i, code == 0, secs);
    if (code == 0) {
        pz_record_free(pl->current[i]);
        pl->current[i] = rec;
        rec = NULL;
        r->st[i] = S_DONE;
        r->fresh[i] = 1;
        r->res->ran++;
        rc = publish(r, i, log_hash, err);
    } else if (commit_failed) {
        r->st[i] = S_FAILED;
        r->res->failed++;
        r->stop = 1;
        rc = pz_errf(err, "cannot commit %s: %s", pl->p->stages[i].name, why.msg);
    } else if (o->file_limit) {
        r->st[i] = S_FAILED;
        r->res->failed++;
        r->stop = 1;
        index_set(pl->index, pl->p->stages[i].name, NULL, log_hash, code);
        save_index(r, &why);
        rc = pz_errf(err, "stage %s went past the file size limit (ulimit -f) writing its outputs (SIGXFSZ); "
                     "nothing of it was committed: raise the limit and run again", pl->p->stages[i].name);
    } else {
        r->st[i] = S_FAILED;
        r->res->failed++;
        index_set(pl->index, pl->p->stages[i].name, NULL, log_hash, code > 0 ? code : 1);
        report_failure(r, i, what, log_path, log_hash);
        if (!r->o->keep_going) r->stop = 1;
        rc = save_index(r, err);
    }
    pz_record_free(rec);
    free(log_path);
    release_job(r, j);
    return rc;
}

/* ---- damaged objects ---- */

static int was_verified(const runner *r, const char *hash)
{
    for (size_t k = 0; k < r->nverified; k++)
        if (!strcmp(r->verified[k], hash)) return 1;
    return 0;
}

/* Before a stage reads cached objects, re-hash every one that was not written in this run:
 * bit rot or an edit that kept size and mtime passes the cheap stat check of the judge, and
 * must not be fed to a stage. Returns 1 and the producing stage in *bad when an object is
 * missing or damaged (it is then removed from the store, so the producer reruns), 0 when all
 * are sound. Each object is hashed at most once per run. */
static int verify_inputs(runner *r, size_t i, size_t *bad)
{
    pz_plan *pl = r->pl;
    const pz_stage *s = &pl->p->stages[i];
    for (size_t k = 0; k < s->ninputs; k++) {
        const pz_stage_input *in = &s->inputs[k];
        for (size_t j = 0; j < in->nrefs; j++) {
            const pz_input_ref *ref = &in->refs[j];
            const char *want = pl->cand[i]->inputs[k].hashes[j];
            if (ref->is_external || r->fresh[ref->stage] || was_verified(r, want)) continue;
            char *path = pz_cache_object_path(pl->cache, want), got[PZ_HASH_HEX];
            pz_err e;
            int readable = pz_hash_file(path, got, NULL, &e) == 0;
            free(path);
            if (readable && !strcmp(got, want)) {
                r->verified = pz_xrealloc(r->verified, (r->nverified + 1) * sizeof *r->verified);
                memcpy(r->verified[r->nverified++], want, PZ_HASH_HEX);
                continue;
            }
            const char *up = pl->p->stages[ref->stage].name;
            free(r->note[ref->stage]);
            r->note[ref->stage] = pz_xasprintf("object %s of %s/%s is %s", want, up, ref->output,
                                               readable ? "corrupt (hash mismatch)" : "missing or unreadable");
            pz_display_line(r->disp, "pzflow: %s; rerunning %s", r->note[ref->stage], up);
            if (pz_cache_drop_object(pl->cache, want, &e) < 0) pz_display_line(r->disp, "pzflow: %s", e.msg);
            *bad = ref->stage;
            return 1;
        }
    }
    return 0;
}

/* ---- the loop ---- */

static int deps_state(const runner *r, size_t i)
{
    const pz_stage *s = &r->pl->p->stages[i];
    int all_done = 1;
    for (size_t k = 0; k < s->ndeps; k++) {
        int d = r->st[s->deps[k]];
        if (d == S_FAILED || d == S_SKIPPED) return S_SKIPPED;
        if (d != S_DONE) all_done = 0;
    }
    return all_done ? S_DONE : S_WAIT;
}

/* Judge every waiting stage whose upstream is done; cached ones complete at once. */
static int advance(runner *r, pz_err *err)
{
    pz_plan *pl = r->pl;
    for (int progress = 1; progress;) {
        progress = 0;
        for (size_t i = 0; i < pl->p->nstages; i++) {
            if (r->st[i] != S_WAIT) continue;
            int d = deps_state(r, i);
            if (d == S_WAIT) continue;
            progress = 1;
            if (d == S_SKIPPED) {
                r->st[i] = S_SKIPPED;
                r->res->skipped++;
                continue;
            }
            if (pz_plan_judge(pl, i, 0, err) < 0) return -1;
            size_t bad;
            if (pl->state[i] == PZ_UP_TO_DATE) {
                r->st[i] = S_DONE;
                r->res->up_to_date++;
                if (publish(r, i, NULL, err) < 0) return -1;
            } else if (verify_inputs(r, i, &bad)) {
                /* Reopen the producer of the damaged input; i waits for it again. */
                r->st[bad] = S_WAIT;
                r->res->up_to_date--;
            } else {
                if (r->note[i]) {
                    free(pl->reason[i]);
                    pl->reason[i] = pz_xstrdup(r->note[i]);
                } else if (pl->corrupt[i]) {
                    pz_display_line(r->disp, "pzflow: %s; rerunning %s", pl->reason[i], pl->p->stages[i].name);
                }
                r->st[i] = S_READY;
                r->ready[r->nready++] = i;
            }
        }
    }
    return 0;
}

static size_t count_possible(const runner *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->pl->p->nstages; i++)
        if (r->st[i] == S_WAIT || r->st[i] == S_READY) n++;
    return n;
}

/* Wait for stages to end and finish each one (commit or report). */
static int reap(runner *r, pz_err *err)
{
    pz_outcome *out = pz_xcalloc(r->njobs, sizeof *out);
    long n = r->ex->wait(r->ex, out, r->njobs, err);
    pz_display_tick(r->disp);
    int rc = n < 0 ? -1 : 0;
    for (long k = 0; k < n && rc == 0; k++) rc = finish_stage(r, find_job(r, out[k].id), &out[k], err);
    free(out);
    return rc;
}

/* Ctrl-C (or an error): stop the running stages, drop their directories, keep everything
 * committed. */
static void abort_running(runner *r)
{
    if (!r->njobs) return;
    size_t *ids = pz_xcalloc(r->njobs, sizeof *ids);
    size_t n = r->ex->cancel(r->ex, ids, r->njobs);
    for (size_t k = 0; k < n; k++) {
        job *j = find_job(r, ids[k]);
        if (!j) continue;
        pz_display_line(r->disp, "pzflow: interrupted %s", r->pl->p->stages[j->stage].name);
        free(j->scratch);
        *j = r->jobs[--r->njobs];
    }
    free(ids);
    for (size_t k = 0; k < r->njobs; k++) { /* prepared, never started (an error in between) */
        pz_err ignored;
        pz_rmtree(r->jobs[k].scratch, &ignored);
        free(r->jobs[k].scratch);
    }
    r->njobs = 0;
}

/* An error stopped the run. Local stages die with it; Slurm jobs are left running, recorded in
 * the cache, so the next `pzflow run` reattaches to them (the error may be the controller's
 * silence, which a scancel would not get through either). */
static void stop_after_error(runner *r)
{
    if (!r->o->slurm) {
        abort_running(r);
        return;
    }
    if (r->njobs)
        pz_display_line(r->disp, "pzflow: %zu Slurm job%s left running; `pzflow run` again reattaches to %s", r->njobs,
                        r->njobs == 1 ? "" : "s", r->njobs == 1 ? "it" : "them");
    for (size_t k = 0; k < r->njobs; k++) free(r->jobs[k].scratch);
    r->njobs = 0;
}

static int loop(runner *r, pz_err *err)
{
    for (;;) {
        if (interrupted) {
            abort_running(r);
            return PZ_RUN_INTERRUPTED;
        }
        if (!r->stop && advance(r, err) < 0) return PZ_RUN_ERROR;
        pz_display_set_total(r->disp, r->res->ran + r->res->failed + r->njobs + count_possible(r));
        if (!r->stop && !interrupted && start_ready(r, err) < 0) {
            if (!interrupted) return PZ_RUN_ERROR;
            abort_running(r); /* Ctrl-C while a submission was being retried */
            return PZ_RUN_INTERRUPTED;
        }
        if (!r->njobs) break;
        if (reap(r, err) < 0) return PZ_RUN_ERROR;
    }
    return r->res->failed ? PZ_RUN_FAILED : PZ_RUN_OK;
}

int pz_run(pz_plan *pl, const pz_run_opts *o, pz_run_result *res, pz_err *err)
{
    memset(res, 0, sizeof *res);
    size_t n = pl->p->nstages ? pl->p->nstages : 1;
    runner r = {.pl = pl, .o = o, .res = res};
    r.st = pz_xcalloc(n, sizeof *r.st);
    r.ready = pz_xcalloc(n, sizeof *r.ready);
    r.fresh = pz_xcalloc(n, sizeof *r.fresh);
    r.note = pz_xcalloc(n, sizeof *r.note);
    for (size_t i = 0; i < pl->p->nstages; i++) {
        r.st[i] = (o->selected && !o->selected[i]) ? S_SKIPPED : S_WAIT;
        if (r.st[i] == S_SKIPPED) res->skipped++;
    }
    r.disp = pz_display_new(o->out, o->live, 0);
    pz_display_set_color(r.disp, o->color);

    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0) return pz_errf(err, "pipe: %s", strerror(errno)), PZ_RUN_ERROR;
    interrupted = 0;
    struct sigaction sa = {0}, old_int, old_term, old_hup, old_chld;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, &old_chld);

    pz_exec_env env = {.cache = pl->cache, .disp = r.disp, .wake_fd = wake_pipe[0], .live = o->live,
                       .interrupted = &interrupted};
    r.ex = o->slurm ? pz_executor_slurm(&env, o->slurm, err) : pz_executor_local(&env);
    int rc = PZ_RUN_ERROR;
    pz_run_opts opts = *o;
    if (r.ex) {
        long jobs = o->jobs < 1 ? 1 : o->jobs;
        opts.jobs = jobs > r.ex->max_jobs ? r.ex->max_jobs : jobs;
        r.o = &opts;
        r.jobs = pz_xcalloc((size_t)opts.jobs, sizeof *r.jobs);
        rc = loop(&r, err);
    }
    pz_err ignored;
    if (rc != PZ_RUN_ERROR) {
        if (save_index(&r, err) < 0) rc = PZ_RUN_ERROR;
    } else if (r.ex) {
        stop_after_error(&r);
        save_index(&r, &ignored);
    }
    if (r.ex) r.ex->free(r.ex);

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    wake_pipe[0] = wake_pipe[1] = -1;
    for (size_t i = 0; i < pl->p->nstages; i++)
        if (r.st[i] == S_WAIT || r.st[i] == S_READY) res->skipped++;
    pz_display_free(r.disp);
    for (size_t i = 0; i < pl->p->nstages; i++) free(r.note[i]);
    free(r.note);
    free(r.fresh);
    free(r.verified);
    free(r.st);
    free(r.ready);
    free(r.jobs);
    return rc;
}
