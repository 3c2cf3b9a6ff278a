#include "engine/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/display.h"
#include "engine/describe.h"
#include "engine/key.h"
#include "util/spec.h"

enum { S_WAIT, S_READY, S_RUNNING, S_DONE, S_FAILED, S_SKIPPED };

/* Bytes of disk reserved for each stage's log while it runs (start_stage). */
enum { LOG_RESERVE = 16384 };

typedef struct job {
    size_t stage;
    pid_t pid;
    int progress_fd;
    char *scratch;
    int64_t start_ns;
    double start_mono;
    double deadline;   /* monotonic seconds after which the stage is killed; 0 = no timeout */
    int timed_out;     /* killed for passing its deadline */
    char buf[1024]; /* partial progress line */
    size_t blen;
} job;

typedef struct runner {
    pz_plan *pl;
    const pz_run_opts *o;
    pz_run_result *res;
    pz_display *disp;
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

/* ---- starting a stage ---- */

static long thread_share(runner *r, size_t i)
{
    long runnable = (long)(r->njobs + r->nready);
    long k = runnable < r->o->jobs ? runnable : r->o->jobs;
    if (k < 1) k = 1;
    long share = r->o->cores / k, want = r->pl->p->stages[i].threads;
    if (share > want) share = want;
    return share < 1 ? 1 : share;
}

static void child_exec(const char *exe, const char *scratch, int log_fd, int progress_fd, long threads)
{
    /* Only async-signal-safe work and exec from here on. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGXFSZ, SIG_DFL);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) _exit(127);
    if (progress_fd == 3) fcntl(3, F_SETFD, 0);
    else if (dup2(progress_fd, 3) < 0) _exit(127);
    if (chdir(scratch) < 0) _exit(127);
    char t[32];
    snprintf(t, sizeof t, "%ld", threads);
    setenv("PZFLOW_PROGRESS_FD", "3", 1);
    setenv("OPENBLAS_NUM_THREADS", t, 1);
    setenv("OMP_NUM_THREADS", t, 1);
    char *argv[] = {(char *)exe, "spec.json", NULL};
    execv(exe, argv);
    dprintf(2, "pzflow: cannot execute %s: %s\n", exe, strerror(errno));
    _exit(127);
}

static int start_stage(runner *r, size_t i, pz_err *err)
{
    pz_plan *pl = r->pl;
    const pz_stage *s = &pl->p->stages[i];
    long threads = thread_share(r, i);
    char *scratch = pz_cache_scratch(pl->cache, s->name, err);
    if (!scratch) return -1;
    char *outdir = pz_xasprintf("%s/out", scratch), *spec_path = pz_xasprintf("%s/spec.json", scratch);
    char *log_path = pz_xasprintf("%s/log", scratch);
    char *spec = spec_json(r, i, scratch, threads);
    int rc = -1, log_fd = -1, pfd[2] = {-1, -1};
    if (mkdir(outdir, 0777) < 0) {
        pz_errf(err, "cannot create %s: %s", outdir, strerror(errno));
        goto out;
    }
    if (pz_write_atomic(spec_path, spec, strlen(spec), err) < 0) goto out;
    log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
        pz_errf(err, "cannot set up %s: %s", scratch, strerror(errno));
        goto out;
    }
    /* Blocks for the log's first bytes, taken now: a stage that fills the disk can still say
     * why it failed (best effort; released again before the log is stored). */
    if (fallocate(log_fd, FALLOC_FL_KEEP_SIZE, 0, LOG_RESERVE) < 0) { /* unsupported: no reserve */
    }
    pid_t pid = fork();
    if (pid < 0) {
        pz_errf(err, "cannot start %s: fork: %s", s->name, strerror(errno));
        goto out;
    }
    if (pid == 0) child_exec(s->exe_path, scratch, log_fd, pfd[1], threads);
    setpgid(pid, pid); /* also in the child: whichever runs first wins the race */
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    job *j = &r->jobs[r->njobs++];
    memset(j, 0, sizeof *j);
    j->stage = i;
    j->pid = pid;
    j->progress_fd = pfd[0];
    pfd[0] = -1;
    j->scratch = scratch;
    scratch = NULL;
    j->start_ns = wall_ns();
    j->start_mono = mono_s();
    j->deadline = s->timeout_s > 0 ? j->start_mono + s->timeout_s : 0;
    j->timed_out = 0;
    r->st[i] = S_RUNNING;
    pz_display_start(r->disp, i, s->name, pl->reason[i]);
    rc = 0;
out:
    if (log_fd >= 0) close(log_fd);
    if (pfd[0] >= 0) close(pfd[0]);
    if (pfd[1] >= 0) close(pfd[1]);
    if (scratch) {
        pz_err ignored;
        pz_rmtree(scratch, &ignored);
        free(scratch);
    }
    free(outdir);
    free(spec_path);
    free(log_path);
    free(spec);
    return rc;
}

/* ---- progress lines ---- */

static void handle_progress_line(runner *r, job *j, char *line)
{
    if (strncmp(line, "@progress ", 10)) return;
    char *end;
    double f = strtod(line + 10, &end);
    if (end == line + 10) return;
    while (*end == ' ') end++;
    pz_display_progress(r->disp, j->stage, f, end);
}

static void drain_progress(runner *r, job *j)
{
    for (;;) {
        if (j->blen == sizeof j->buf - 1) j->blen = 0; /* overlong line: drop it */
        ssize_t n = read(j->progress_fd, j->buf + j->blen, sizeof j->buf - 1 - j->blen);
        if (n <= 0) return;
        j->blen += (size_t)n;
        char *start = j->buf, *nl;
        while ((nl = memchr(start, '\n', j->buf + j->blen - start))) {
            *nl = 0;
            handle_progress_line(r, j, start);
            start = nl + 1;
        }
        j->blen -= (size_t)(start - j->buf);
        memmove(j->buf, start, j->blen);
    }
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

static int finish_stage(runner *r, job *j, int wstatus, pz_err *err)
{
    pz_plan *pl = r->pl;
    size_t i = j->stage;
    drain_progress(r, j);
    close(j->progress_fd);
    double secs = mono_s() - j->start_mono;
    char *log_path = pz_xasprintf("%s/log", j->scratch);
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    int rc = 0, commit_failed = 0;
    pz_err why;
    char what[PZ_ERR_MAX + 64];
    pz_record *rec = NULL;
    if (j->timed_out) {
        snprintf(what, sizeof what, "timed out after %.1f s (timeout: %g s); killed", secs,
                 pl->p->stages[i].timeout_s);
        code = 128 + SIGKILL;
    } else if (code != 0) {
        if (WIFEXITED(wstatus)) snprintf(what, sizeof what, "exit status %d", code);
        else snprintf(what, sizeof what, "killed by signal %d (%s)", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
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
    /* A stage past `ulimit -f` is not at fault either: the limit is the machine's. */
    int file_limit = !j->timed_out && WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGXFSZ;
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
    } else if (file_limit) {
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
    pz_rmtree(j->scratch, &why);
    free(j->scratch);
    free(log_path);
    *j = r->jobs[--r->njobs];
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

static void wait_for_event(runner *r)
{
    struct pollfd fds[65];
    size_t n = 0;
    fds[n++] = (struct pollfd){.fd = wake_pipe[0], .events = POLLIN};
    for (size_t k = 0; k < r->njobs && n < 65; k++) fds[n++] = (struct pollfd){.fd = r->jobs[k].progress_fd, .events = POLLIN};
    int ms = r->o->live ? 100 : 1000;
    double now = mono_s();
    for (size_t k = 0; k < r->njobs; k++) /* wake in time for the nearest timeout */
        if (r->jobs[k].deadline > 0 && (r->jobs[k].deadline - now) * 1000 + 1 < ms)
            ms = r->jobs[k].deadline > now ? (int)((r->jobs[k].deadline - now) * 1000) + 1 : 0;
    int rc = poll(fds, n, ms);
    if (rc > 0 && (fds[0].revents & POLLIN)) {
        char buf[64];
        while (read(wake_pipe[0], buf, sizeof buf) > 0) {
        }
    }
    for (size_t k = 0; k < r->njobs; k++) drain_progress(r, &r->jobs[k]);
    pz_display_tick(r->disp);
}

/* A stage past its `timeout:` is killed with its whole process group (a hung library call
 * ignores SIGTERM as readily as anything else); reap() then reports it as timed out. */
static void enforce_timeouts(runner *r)
{
    double now = mono_s();
    for (size_t k = 0; k < r->njobs; k++) {
        job *j = &r->jobs[k];
        if (j->deadline > 0 && !j->timed_out && now > j->deadline) {
            kill(-j->pid, SIGKILL);
            j->timed_out = 1;
        }
    }
}

static int reap(runner *r, pz_err *err)
{
    for (size_t k = 0; k < r->njobs;) {
        int ws;
        pid_t got = waitpid(r->jobs[k].pid, &ws, WNOHANG);
        if (got == r->jobs[k].pid) {
            if (finish_stage(r, &r->jobs[k], ws, err) < 0) return -1;
            continue; /* finish_stage moved the last job into slot k */
        }
        k++;
    }
    return 0;
}

/* Ctrl-C: stop the running stages, drop their scratch, keep everything committed. */
static void abort_running(runner *r)
{
    for (size_t k = 0; k < r->njobs; k++) kill(-r->jobs[k].pid, SIGTERM);
    double deadline = mono_s() + 2.0;
    for (size_t k = 0; k < r->njobs; k++) {
        int ws;
        while (waitpid(r->jobs[k].pid, &ws, WNOHANG) == 0) {
            if (mono_s() > deadline) {
                kill(-r->jobs[k].pid, SIGKILL);
                waitpid(r->jobs[k].pid, &ws, 0);
                break;
            }
            usleep(10000);
        }
        kill(-r->jobs[k].pid, SIGKILL); /* anything the stage left behind in its group */
        close(r->jobs[k].progress_fd);
        pz_err ignored;
        pz_rmtree(r->jobs[k].scratch, &ignored);
        pz_display_line(r->disp, "pzflow: interrupted %s", r->pl->p->stages[r->jobs[k].stage].name);
        free(r->jobs[k].scratch);
    }
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
        while (!r->stop && !interrupted && r->njobs < (size_t)r->o->jobs && r->nready) {
            size_t i = r->ready[0];
            memmove(r->ready, r->ready + 1, --r->nready * sizeof *r->ready);
            if (start_stage(r, i, err) < 0) return PZ_RUN_ERROR;
        }
        if (!r->njobs) break;
        wait_for_event(r);
        enforce_timeouts(r);
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
    long jobs = o->jobs < 1 ? 1 : o->jobs > 64 ? 64 : o->jobs;
    pz_run_opts opts = *o;
    opts.jobs = jobs;
    r.o = &opts;
    r.jobs = pz_xcalloc((size_t)jobs, sizeof *r.jobs);
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

    int rc = loop(&r, err);
    pz_err ignored;
    if (rc != PZ_RUN_ERROR) {
        if (save_index(&r, err) < 0) rc = PZ_RUN_ERROR;
    } else {
        abort_running(&r);
        save_index(&r, &ignored);
    }

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
