/* The Slurm executor: each task is a Slurm batch job (executor.h; the user's view is
 * docs/cluster.md, the files schemas/cache.md).
 *
 * Files, all under <cache>/slurm/ (the cache must be on a filesystem the compute nodes share):
 *   <key>.XXXXXX/      one task's directory: spec.json, out/, log (the stage's stdout+stderr),
 *                      run.sh (what the job runs), job (its Slurm id, "1234_7\n", written
 *                      atomically once sbatch accepted it), exit (written by run.sh when the
 *                      stage ends: its exit status, then "<bytes> <name>" per output file)
 *   out/<job>_<task>.out  Slurm's own output for the task (slurmstepd's "*** CANCELLED ... DUE
 *                      TO TIME LIMIT ***" lands there)
 *
 * Submitting: tasks handed over together with the same executable base name and sbatch options
 * (the instances of one foreach) go as one job array, one sbatch call; its script picks the
 * task's run.sh by SLURM_ARRAY_TASK_ID. A task alone is an array of one.
 *
 * Watching: every interval, each task's exit file is looked for (a stat, no Slurm call); then
 * one `squeue -t all` for the jobs still without one, whatever their number. A job gone from
 * the queue (or in a final state) without an exit file, twice in a row, has ended without
 * running run.sh to its end (node failure, SIGKILL): it is reported with Slurm's reason, from
 * squeue's state, sacct if there is accounting, or Slurm's output file. Exit codes never need
 * accounting.
 *
 * Reattaching: a task directory with a job file is a job a killed pzflow submitted; the next
 * run with the same key watches it instead of submitting again. A directory without one
 * (killed between the sbatch call and the write) is removed: the job, if it was accepted, finds
 * no directory and ends at once.
 *
 * Refusals by a busy controller (sbatch, squeue, scancel) are retried with a doubling wait, for
 * up to retry_s in total, then the run stops with the command's last message; running jobs are
 * left to the next run. */
#include "engine/executor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/fs.h"
#include "util/sbuf.h"

typedef struct sjob {
    size_t id;
    char *dir;          /* <cache>/slurm/<key>.XXXXXX */
    char jobid[64];     /* "1234_7"; "" until submitted */
    int missing;        /* polls in a row it was neither queued nor had an exit file */
    char state[64];     /* the last state squeue gave ("" unknown) */
} sjob;

typedef struct slurm_executor {
    pz_executor ex;
    pz_exec_env env;
    pz_slurm_config cfg;
    char *root;         /* <cache>/slurm */
    char **left;        /* task directories a killed run left (with a job file): reattached by key */
    size_t nleft;
    sjob *jobs;
    size_t njobs, cap;
    double next_poll;   /* monotonic time of the next squeue call */
    double failing_since; /* squeue has failed since then (0: it works) */
    char last_error[256];
} slurm_executor;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- configuration ---- */

static int env_seconds(const char *name, double *out, pz_err *err)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    double d = strtod(v, &end);
    if (*end || !(d >= 0) || d > 1e6) return pz_errf(err, "%s must be a number of seconds, got '%s'", name, v);
    *out = d;
    return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int pz_slurm_config_from_env(pz_slurm_config *c, pz_err *err)
{
    c->sbatch = env_or("PZFLOW_SBATCH", "sbatch");
    c->squeue = env_or("PZFLOW_SQUEUE", "squeue");
    c->scancel = env_or("PZFLOW_SCANCEL", "scancel");
    c->sacct = env_or("PZFLOW_SACCT", "sacct");
    c->poll_s = 10;
    c->retry_s = 600;
    if (env_seconds("PZFLOW_SLURM_POLL", &c->poll_s, err) < 0 || env_seconds("PZFLOW_SLURM_RETRY", &c->retry_s, err) < 0)
        return -1;
    return 0;
}

/* ---- running the Slurm commands ---- */

/* A sleep the scheduler's wake pipe cuts short (a signal: Ctrl-C, a finished child). */
static void nap(slurm_executor *S, double seconds)
{
    struct pollfd p = {.fd = S->env.wake_fd, .events = POLLIN};
    int ms = seconds > 0 ? (int)(seconds * 1000) : 0;
    if (poll(&p, 1, ms) > 0 && (p.revents & POLLIN)) {
        char buf[64];
        while (read(S->env.wake_fd, buf, sizeof buf) > 0) {
        }
    }
}

/* Run argv (argv[0] looked up in PATH) with stdin /dev/null, in its own process group (so a
 * Ctrl-C meant for pzflow does not kill an sbatch half way); its stdout into *out, its stderr
 * into *errtext (both malloc'd). Returns the exit status, 128+signal, or 127 when it cannot
 * be started. */
static int run_command(char *const *argv, char **out, char **errtext)
{
    int po[2], pe[2];
    *out = *errtext = NULL;
    if (pipe2(po, O_CLOEXEC) < 0) return 127;
    if (pipe2(pe, O_CLOEXEC) < 0) return close(po[0]), close(po[1]), 127;
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return 127;
    }
    if (pid == 0) {
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0) _exit(127);
        execvp(argv[0], argv);
        dprintf(2, "cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]), close(pe[1]);
    pz_sbuf bo = {0}, be = {0};
    struct pollfd fds[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
    int open_fds = 2;
    while (open_fds) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = read(fds[k].fd, buf, sizeof buf);
            if (n > 0) pz_sb_put(k ? &be : &bo, buf, (size_t)n);
            else if (n == 0 || errno != EINTR) close(fds[k].fd), fds[k].fd = -1, open_fds--;
        }
    }
    for (int k = 0; k < 2; k++)
        if (fds[k].fd >= 0) close(fds[k].fd);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    *out = bo.p ? bo.p : pz_xstrdup("");
    *errtext = be.p ? be.p : pz_xstrdup("");
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* A refusal worth retrying: the controller busy, down or unreachable for a while. A bad option
 * or partition is not: it is reported at once. */
static int is_transient(int status, const char *errtext)
{
    static const char *const signs[] = {"Unable to contact slurm controller", "Socket timed out", "timed out",
                                        "Connection refused", "temporarily", "try again", "Try again",
                                        "not responding", "Zero Bytes were transmitted", "connection failure",
                                        "Transport endpoint", "Resource temporarily unavailable"};
    if (status == 127) return 0;
    if (status > 128) return 1; /* killed: try once more */
    for (size_t k = 0; k < sizeof signs / sizeof *signs; k++)
        if (strstr(errtext, signs[k])) return 1;
    return 0;
}

static void first_line(const char *text, char *out, size_t size)
{
    size_t n = strcspn(text, "\n");
    while (n && (text[n - 1] == '\r' || text[n - 1] == ' ')) n--;
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), text);
}

/* Run a Slurm command, retrying transient refusals with a doubling wait (1 s, 2 s, ... at most
 * 30 s) until `budget` seconds have passed (or, with on_interrupt_stop, Ctrl-C). 0 with *out
 * (malloc'd), or -1 with err. */
static int slurm_call(slurm_executor *S, char *const *argv, double budget, int on_interrupt_stop, char **out,
                      pz_err *err)
{
    double start = mono_s(), delay = 1;
    for (int attempt = 1;; attempt++) {
        char *errtext;
        int st = run_command(argv, out, &errtext);
        if (st == 0) {
            free(errtext);
            return 0;
        }
        char line[200];
        first_line(*errtext ? errtext : *out, line, sizeof line);
        int stop = on_interrupt_stop && *S->env.interrupted;
        int again = is_transient(st, errtext) && mono_s() - start + delay <= budget && !stop;
        free(errtext);
        free(*out);
        *out = NULL;
        if (!again) {
            char tries[64] = "";
            if (attempt > 1) snprintf(tries, sizeof tries, ", %d attempts in %.0f s", attempt, mono_s() - start);
            return pz_errf(err, "%s failed (exit status %d%s): %s%s", argv[0], st, tries, *line ? line : "(no message)",
                           attempt > 1 ? " (is slurmctld up? PZFLOW_SLURM_RETRY sets how long pzflow waits)" : "");
        }
        pz_display_line(S->env.disp, "pzflow: %s refused (%s); trying again in %.0f s", argv[0], line, delay);
        /* A signal cuts a nap short: Ctrl-C ends the wait, anything else (SIGCHLD) does not. */
        for (double wake = mono_s() + delay; !(on_interrupt_stop && *S->env.interrupted) && mono_s() < wake;)
            nap(S, wake - mono_s());
        if (on_interrupt_stop && *S->env.interrupted) return pz_errf(err, "interrupted");
        delay = delay * 2 > 30 ? 30 : delay * 2;
    }
}

/* ---- task directories and job records ---- */

/* 'text' quoted for sh. */
static void sh_quote(pz_sbuf *b, const char *text)
{
    pz_sb_puts(b, "'");
    for (const char *p = text; *p; p++) {
        if (*p == '\'') pz_sb_puts(b, "'\\''");
        else pz_sb_put(b, p, 1);
    }
    pz_sb_puts(b, "'");
}

static int is_hex(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f'))) return 0;
    return 1;
}

/* "<key>.XXXXXX": a task directory this executor made. */
static int is_task_dir_name(const char *name)
{
    size_t k = PZ_HASH_HEX - 1;
    return strlen(name) == k + 7 && is_hex(name, k) && name[k] == '.';
}

/* The task directories a killed run left: those with a job file are kept for reattaching,
 * the others (never submitted, or killed before the job file was written) removed. */
static void scan_left(slurm_executor *S)
{
    DIR *d = opendir(S->root);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_task_dir_name(e->d_name)) continue;
        char *dir = pz_xasprintf("%s/%s", S->root, e->d_name), *jobf = pz_xasprintf("%s/job", dir);
        if (access(jobf, F_OK) == 0) {
            S->left = pz_xrealloc(S->left, (S->nleft + 1) * sizeof *S->left);
            S->left[S->nleft++] = dir;
            dir = NULL;
        } else {
            pz_err ignored;
            pz_rmtree(dir, &ignored);
        }
        free(dir), free(jobf);
    }
    closedir(d);
}

static sjob *add_job(slurm_executor *S, size_t id, char *dir)
{
    if (S->njobs == S->cap) {
        S->cap = S->cap ? 2 * S->cap : 64;
        S->jobs = pz_xrealloc(S->jobs, S->cap * sizeof *S->jobs);
    }
    sjob *j = &S->jobs[S->njobs++];
    memset(j, 0, sizeof *j);
    j->id = id;
    j->dir = dir;
    return j;
}

static sjob *find_job(slurm_executor *S, size_t id)
{
    for (size_t k = 0; k < S->njobs; k++)
        if (S->jobs[k].id == id) return &S->jobs[k];
    return NULL;
}

/* The job id a task directory's job file names, "" if none. */
static void read_jobid(const char *dir, char out[64])
{
    char *path = pz_xasprintf("%s/job", dir);
    pz_err ignored;
    char *text = pz_read_file(path, NULL, &ignored);
    out[0] = 0;
    if (text) first_line(text, out, 64);
    free(text), free(path);
}

static char *slurm_workdir(pz_executor *ex, const pz_task *t, int *attached, pz_err *err)
{
    slurm_executor *S = (slurm_executor *)ex;
    size_t klen = strlen(t->key);
    for (size_t k = 0; k < S->nleft; k++) {
        const char *base = strrchr(S->left[k], '/') + 1;
        if (strncmp(base, t->key, klen) || base[klen] != '.') continue;
        char *dir = S->left[k];
        S->left[k] = S->left[--S->nleft];
        sjob *j = add_job(S, t->id, pz_xstrdup(dir));
        read_jobid(dir, j->jobid);
        *attached = 1;
        return dir;
    }
    *attached = 0;
    char *dir = pz_xasprintf("%s/%s.XXXXXX", S->root, t->key);
    if (!mkdtemp(dir)) {
        pz_errf(err, "cannot create a job directory in %s: %s", S->root, strerror(errno));
        free(dir);
        return NULL;
    }
    add_job(S, t->id, pz_xstrdup(dir));
    return dir;
}

/* run.sh: the stage, then its exit status and output sizes in ./exit. A SIGTERM from Slurm
 * (time limit, scancel) stops the stage; the trap lets the script still write the exit file. */
static int write_run_script(const pz_task *t, pz_err *err)
{
    pz_sbuf b = {0};
    pz_sb_printf(&b, "#!/bin/sh\n# pzflow: stage %s as a Slurm job (docs/cluster.md)\ntrap 'stopped=1' TERM\ncd ",
                 t->stage->name);
    sh_quote(&b, t->dir);
    pz_sb_printf(&b, " || exit 1\nexport OPENBLAS_NUM_THREADS=%ld OMP_NUM_THREADS=%ld\n", t->threads, t->threads);
    sh_quote(&b, t->stage->exe_path);
    pz_sb_puts(&b, " spec.json >log 2>&1 </dev/null\nrc=$?\n"
                   "{ echo \"$rc\"; for f in out/*; do [ -f \"$f\" ] && echo \"$(wc -c <\"$f\") ${f#out/}\"; done; } "
                   ">exit.tmp && mv exit.tmp exit\nexit $rc\n");
    char *path = pz_xasprintf("%s/run.sh", t->dir);
    int rc = pz_write_atomic(path, b.p, b.len, err);
    free(path), free(b.p);
    return rc;
}

/* ---- submitting ---- */

/* The sbatch options of a stage: its resources, else its threads and timeout. */
static void resource_args(const pz_task *t, char **argv, size_t *n)
{
    const pz_stage *s = t->stage;
    const pz_resources *r = &s->resources;
    long cpus = r->cpus > 0 ? r->cpus : t->threads;
    argv[(*n)++] = pz_xasprintf("--cpus-per-task=%ld", cpus);
    if (r->mem) argv[(*n)++] = pz_xasprintf("--mem=%s", r->mem);
    if (r->time) argv[(*n)++] = pz_xasprintf("--time=%s", r->time);
    else if (s->timeout_s > 0) argv[(*n)++] = pz_xasprintf("--time=%ld", (long)((s->timeout_s + 59) / 60));
    if (r->partition) argv[(*n)++] = pz_xasprintf("--partition=%s", r->partition);
    if (r->account) argv[(*n)++] = pz_xasprintf("--account=%s", r->account);
}

/* Tasks k and l can share a job array: same base stage, same options. */
static int same_array(const pz_task *a, const pz_task *b)
{
    const pz_resources *x = &a->stage->resources, *y = &b->stage->resources;
#define SAME_STR(f) ((!x->f && !y->f) || (x->f && y->f && !strcmp(x->f, y->f)))
    return !strcmp(a->stage->base_name, b->stage->base_name) && x->cpus == y->cpus && a->threads == b->threads &&
           a->stage->timeout_s == b->stage->timeout_s && SAME_STR(mem) && SAME_STR(time) && SAME_STR(partition) &&
           SAME_STR(account);
#undef SAME_STR
}

/* One sbatch for tasks[0..n): a job array whose task k runs tasks[k]'s run.sh. */
static int submit_array(slurm_executor *S, const pz_task *tasks, size_t n, pz_err *err)
{
    for (size_t k = 0; k < n; k++)
        if (write_run_script(&tasks[k], err) < 0) return -1;
    pz_sbuf b = {0};
    pz_sb_puts(&b, "#!/bin/sh\n# pzflow: one job array; task k runs the stage instance listed as k\ncase \"$SLURM_ARRAY_TASK_ID\" in\n");
    for (size_t k = 0; k < n; k++) {
        char *run = pz_xasprintf("%s/run.sh", tasks[k].dir);
        pz_sb_printf(&b, "%zu) exec /bin/sh ", k);
        sh_quote(&b, run);
        pz_sb_puts(&b, " ;;\n");
        free(run);
    }
    pz_sb_puts(&b, "esac\necho \"pzflow: no task $SLURM_ARRAY_TASK_ID in this array\" >&2\nexit 1\n");
    char *script = pz_xasprintf("%s/submit.XXXXXX", S->root);
    int fd = mkstemp(script);
    if (fd < 0 || write(fd, b.p, b.len) != (ssize_t)b.len) {
        int e = errno;
        if (fd >= 0) close(fd), unlink(script);
        free(b.p), free(script);
        return pz_errf(err, "cannot write a job script in %s: %s", S->root, strerror(e));
    }
    close(fd);
    free(b.p);

    char *argv[32];
    size_t na = 0;
    argv[na++] = pz_xstrdup(S->cfg.sbatch);
    argv[na++] = pz_xstrdup("--parsable");
    argv[na++] = pz_xasprintf("--array=0-%zu", n - 1);
    argv[na++] = pz_xasprintf("--job-name=pzflow-%s", tasks[0].stage->base_name);
    argv[na++] = pz_xasprintf("--output=%s/out/%%A_%%a.out", S->root);
    argv[na++] = pz_xasprintf("--chdir=%s", S->root);
    resource_args(&tasks[0], argv, &na);
    argv[na++] = pz_xstrdup(script);
    argv[na] = NULL;
    char *out = NULL;
    int rc = slurm_call(S, argv, S->cfg.retry_s, 1, &out, err);
    unlink(script); /* sbatch keeps its own copy */
    free(script);
    for (size_t k = 0; k < na; k++) free(argv[k]);
    long jobid = 0;
    if (rc == 0) {
        char *end;
        jobid = strtol(out, &end, 10);
        if (jobid <= 0 || (*end && *end != ';' && *end != '\n'))
            rc = pz_errf(err, "%s gave no job id: '%.80s'", S->cfg.sbatch, out);
    }
    free(out);
    for (size_t k = 0; rc == 0 && k < n; k++) {
        sjob *j = find_job(S, tasks[k].id);
        snprintf(j->jobid, sizeof j->jobid, "%ld_%zu", jobid, k);
        char *path = pz_xasprintf("%s/job", j->dir), *text = pz_xasprintf("%s\n", j->jobid);
        rc = pz_write_atomic(path, text, strlen(text), err);
        free(path), free(text);
    }
    return rc;
}

static int slurm_submit(pz_executor *ex, const pz_task *tasks, size_t n, pz_err *err)
{
    slurm_executor *S = (slurm_executor *)ex;
    char *outdir = pz_xasprintf("%s/out", S->root);
    int rc = pz_mkdirs(outdir, err);
    free(outdir);
    /* Group the new tasks into arrays; reattached ones (with a job id) are only watched. */
    int *done = pz_xcalloc(n ? n : 1, sizeof *done);
    pz_task *group = pz_xcalloc(n ? n : 1, sizeof *group);
    for (size_t k = 0; rc == 0 && k < n; k++) {
        if (done[k] || find_job(S, tasks[k].id)->jobid[0]) continue;
        size_t g = 0;
        for (size_t l = k; l < n; l++)
            if (!done[l] && !find_job(S, tasks[l].id)->jobid[0] && same_array(&tasks[k], &tasks[l]))
                group[g++] = tasks[l], done[l] = 1;
        rc = submit_array(S, group, g, err);
    }
    free(done), free(group);
    S->next_poll = mono_s() + S->cfg.poll_s;
    return rc;
}

/* ---- watching ---- */

/* States in which a job may still run its script to the end. */
static int is_live_state(const char *st)
{
    static const char *const live[] = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED",
                                       "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED",
                                       "RESV_DEL_HOLD", "SPECIAL_EXIT", "POWER_UP_NODE", "UPDATE_DB"};
    for (size_t k = 0; k < sizeof live / sizeof *live; k++)
        if (!strcmp(st, live[k])) return 1;
    return 0;
}

/* Read the task's exit file: 1 and *code when the stage has ended, 0 when not yet. Output
 * sizes the job saw that differ from what is here (a filesystem the nodes do not share, or one
 * not yet in sync) make it a failure: never commit what the job did not write. */
static int read_exit(const sjob *j, int *code, char *why, size_t whysize)
{
    char *path = pz_xasprintf("%s/exit", j->dir);
    pz_err ignored;
    char *text = pz_read_file(path, NULL, &ignored);
    free(path);
    if (!text) return 0;
    char *end, *line = text;
    *code = (int)strtol(line, &end, 10);
    why[0] = 0;
    if (end == line) *code = -1, snprintf(why, whysize, "its exit file is malformed");
    for (line = strchr(line, '\n'); *code == 0 && line && line[1]; line = strchr(line + 1, '\n')) {
        unsigned long long size = strtoull(line + 1, &end, 10);
        char name[256];
        first_line(end + (*end == ' '), name, sizeof name);
        char *out = pz_xasprintf("%s/out/%s", j->dir, name);
        struct stat st;
        if (lstat(out, &st) < 0)
            *code = -1, snprintf(why, whysize, "the job wrote output '%s' (%llu bytes) but it is not here: is the cache "
                                               "on a filesystem the compute nodes share?", name, size);
        else if ((unsigned long long)st.st_size != size)
            *code = -1, snprintf(why, whysize, "output '%s' is %llu bytes here but the job wrote %llu: is the cache on "
                                               "a filesystem the compute nodes share?", name, (unsigned long long)st.st_size, size);
        free(out);
    }
    free(text);
    return 1;
}

static char *slurm_out_path(const slurm_executor *S, const sjob *j)
{
    return pz_xasprintf("%s/out/%s.out", S->root, j->jobid);
}

/* Slurm's own words about the task: slurmstepd's "*** JOB ... CANCELLED ... ***" or "error:"
 * lines in its output file, appended to the stage's log (so `pzflow log` shows them); the
 * most telling one goes to `reason`. */
static void collect_slurm_output(const slurm_executor *S, const sjob *j, char *reason, size_t size)
{
    char *path = slurm_out_path(S, j);
    pz_err ignored;
    char *text = pz_read_file(path, NULL, &ignored);
    free(path);
    if (!text) return;
    if (*text) {
        char *log = pz_xasprintf("%s/log", j->dir);
        FILE *f = fopen(log, "a");
        if (f) fprintf(f, "--- Slurm (job %s) ---\n%s", j->jobid, text), fclose(f);
        free(log);
    }
    path = slurm_out_path(S, j);
    unlink(path); /* read once: what counts is now in the log */
    free(path);
    for (char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        char one[300];
        first_line(line, one, sizeof one);
        if (strstr(one, "***") || (!reason[0] && strstr(one, "slurmstepd: error:"))) snprintf(reason, size, "%s", one);
    }
    free(text);
}

/* The outcome of an ended task. */
static void describe_end(slurm_executor *S, sjob *j, int code, const char *why, pz_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->id = j->id;
    o->code = code;
    char said[300] = "";
    collect_slurm_output(S, j, said, sizeof said);
    if (code == 0) return;
    char state[96] = "";
    if (j->state[0] && !is_live_state(j->state)) snprintf(state, sizeof state, "Slurm state %s; ", j->state);
    if (why && *why) snprintf(o->what, sizeof o->what, "%s (job %s)", why, j->jobid);
    else if (said[0]) snprintf(o->what, sizeof o->what, "exit status %d; %s%s (job %s)", code, state, said, j->jobid);
    else if (state[0]) snprintf(o->what, sizeof o->what, "exit status %d; killed by Slurm: %s (job %s)", code, j->state, j->jobid);
    else snprintf(o->what, sizeof o->what, "exit status %d (job %s)", code, j->jobid);
}

/* One sacct call for the final state of jobs that vanished without an exit file; optional:
 * without accounting the reason stays "left the queue". */
static void ask_accounting(slurm_executor *S, sjob **vanished, size_t n)
{
    pz_sbuf ids = {0};
    for (size_t k = 0; k < n; k++) pz_sb_printf(&ids, "%s%s", k ? "," : "", vanished[k]->jobid);
    char *argv[] = {(char *)S->cfg.sacct, "-n", "-P", "-X", "-o", "JobID,State", "-j", ids.p, NULL};
    char *out = NULL, *errtext = NULL;
    if (run_command(argv, &out, &errtext) == 0)
        for (char *line = out; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
            char one[200];
            first_line(line, one, sizeof one);
            char *bar = strchr(one, '|');
            if (!bar) continue;
            *bar = 0;
            for (size_t k = 0; k < n; k++)
                if (!strcmp(one, vanished[k]->jobid)) {
                    char *sp = strchr(bar + 1, ' '); /* "CANCELLED by 0" */
                    if (sp) *sp = 0;
                    snprintf(vanished[k]->state, sizeof vanished[k]->state, "%s", bar + 1);
                }
        }
    free(out), free(errtext), free(ids.p);
}

/* One squeue call: the state of every job of ours Slurm still knows. 0, or -1 when squeue
 * failed (the caller decides how long that is bearable). */
static int query_queue(slurm_executor *S, char *line, size_t size)
{
    pz_sbuf ids = {0};
    size_t nids = 0;
    for (size_t k = 0; k < S->njobs; k++) {
        const char *jid = S->jobs[k].jobid;
        size_t len = strcspn(jid, "_");
        if (!*jid) continue;
        int seen = 0; /* the array's job id once */
        for (size_t l = 0; l < k && !seen; l++)
            seen = !strncmp(S->jobs[l].jobid, jid, len) && S->jobs[l].jobid[len] == '_';
        if (!seen) pz_sb_printf(&ids, "%s%.*s", nids++ ? "," : "", (int)len, jid);
    }
    for (size_t k = 0; k < S->njobs; k++) S->jobs[k].state[0] = 0;
    if (!nids) return free(ids.p), 0;
    char *jobs_arg = pz_xasprintf("--jobs=%s", ids.p);
    char *argv[] = {(char *)S->cfg.squeue, "-h", "-r", "-t", "all", "-o", "%i %T", jobs_arg, NULL};
    char *out = NULL, *errtext = NULL;
    int st = run_command(argv, &out, &errtext);
    free(jobs_arg), free(ids.p);
    /* Every listed job gone (purged) is an error for squeue, and an answer for us. */
    if (st != 0 && strstr(errtext, "Invalid job id")) st = 0, out[0] = 0;
    if (st != 0) {
        first_line(*errtext ? errtext : out, line, size);
        if (!*line) snprintf(line, size, "exit status %d", st);
        free(out), free(errtext);
        return -1;
    }
    for (char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        char one[200], *sp;
        first_line(l, one, sizeof one);
        if (!(sp = strchr(one, ' '))) continue;
        *sp = 0;
        for (size_t k = 0; k < S->njobs; k++)
            if (!strcmp(S->jobs[k].jobid, one)) snprintf(S->jobs[k].state, sizeof S->jobs[k].state, "%s", sp + 1);
    }
    free(out), free(errtext);
    return 0;
}

static void drop_job(slurm_executor *S, size_t k)
{
    free(S->jobs[k].dir);
    S->jobs[k] = S->jobs[--S->njobs];
}

/* Tasks with an exit file have ended (no Slurm call needed). */
static size_t collect_exits(slurm_executor *S, pz_outcome *out, size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < S->njobs && n < cap;) {
        sjob *j = &S->jobs[k];
        int code;
        char why[400];
        if (!j->jobid[0] || !read_exit(j, &code, why, sizeof why)) {
            k++;
            continue;
        }
        describe_end(S, j, code, why, &out[n++]);
        drop_job(S, k);
    }
    return n;
}

static long slurm_wait(pz_executor *ex, pz_outcome *out, size_t cap, pz_err *err)
{
    slurm_executor *S = (slurm_executor *)ex;
    double wait = S->next_poll - mono_s();
    if (S->env.live && wait > 0.1) wait = 0.1; /* redraw the live display */
    if (wait > 0) nap(S, wait);
    if (mono_s() < S->next_poll) return 0; /* woken early (a signal) or a redraw */
    S->next_poll = mono_s() + S->cfg.poll_s;
    size_t n = collect_exits(S, out, cap);
    if (!S->njobs || n == cap) return (long)n;
    char line[256];
    if (query_queue(S, line, sizeof line) < 0) {
        if (!S->failing_since) S->failing_since = mono_s();
        snprintf(S->last_error, sizeof S->last_error, "%s", line);
        if (mono_s() - S->failing_since > S->cfg.retry_s)
            return pz_errf(err, "%s has failed for %.0f s (%s); the jobs keep running: `pzflow run` again reattaches to "
                           "them (PZFLOW_SLURM_RETRY sets how long pzflow waits)", S->cfg.squeue,
                           mono_s() - S->failing_since, line);
        pz_display_line(S->env.disp, "pzflow: %s failed (%s); asking again in %g s", S->cfg.squeue, line, S->cfg.poll_s);
        return (long)n;
    }
    S->failing_since = 0;
    /* Exit files written while squeue ran count before anything is called vanished. */
    n += collect_exits(S, out + n, cap - n);
    sjob **vanished = pz_xcalloc(S->njobs ? S->njobs : 1, sizeof *vanished);
    size_t nv = 0;
    for (size_t k = 0; k < S->njobs; k++) {
        sjob *j = &S->jobs[k];
        if (!j->jobid[0] || (j->state[0] && is_live_state(j->state))) {
            j->missing = 0;
            continue;
        }
        /* Gone, or in a final state, without an exit file: give a shared filesystem one more
         * interval to show the file before calling it lost. */
        if (++j->missing >= 2) vanished[nv++] = j;
    }
    int need_sacct = 0;
    for (size_t k = 0; k < nv; k++) need_sacct |= !vanished[k]->state[0];
    if (need_sacct) ask_accounting(S, vanished, nv);
    for (size_t k = 0; k < nv && n < cap; k++) {
        sjob *j = vanished[k];
        char why[300];
        snprintf(why, sizeof why, "the job ended without recording an exit status%s%s%s",
                 j->state[0] ? " (Slurm state " : " (it left Slurm's queue: node failure, or killed with SIGKILL?",
                 j->state, ")");
        char said[300] = "";
        collect_slurm_output(S, j, said, sizeof said);
        if (said[0]) snprintf(why + strlen(why), sizeof why - strlen(why), "; Slurm said: %s", said);
        memset(&out[n], 0, sizeof out[n]);
        out[n].id = j->id;
        out[n].code = -1;
        snprintf(out[n].what, sizeof out[n].what, "%s (job %s)", why, j->jobid);
        n++;
        drop_job(S, (size_t)(j - S->jobs));
        for (size_t l = k + 1; l < nv; l++) /* drop_job moved the last job into j's slot */
            if (vanished[l] == &S->jobs[S->njobs]) vanished[l] = j;
    }
    free(vanished);
    return (long)n;
}

static void slurm_release(pz_executor *ex, size_t id)
{
    slurm_executor *S = (slurm_executor *)ex;
    (void)S, (void)id; /* the job was dropped when it ended; its directory goes with the scheduler's */
}

/* Ctrl-C: one scancel for every job of ours (a short retry: a dead controller would not take
 * it later either), then their directories go. */
static size_t slurm_cancel(pz_executor *ex, size_t *ids, size_t cap)
{
    slurm_executor *S = (slurm_executor *)ex;
    char **argv = pz_xcalloc(S->njobs + 3, sizeof *argv);
    size_t na = 0;
    argv[na++] = (char *)S->cfg.scancel;
    for (size_t k = 0; k < S->njobs; k++)
        if (S->jobs[k].jobid[0]) argv[na++] = S->jobs[k].jobid;
    if (na > 1) {
        char *out = NULL;
        pz_err err;
        if (slurm_call(S, argv, S->cfg.retry_s < 10 ? S->cfg.retry_s : 10, 0, &out, &err) < 0)
            pz_display_line(S->env.disp, "pzflow: %s", err.msg);
        free(out);
    }
    free(argv);
    size_t n = 0;
    while (S->njobs) {
        pz_err ignored;
        pz_rmtree(S->jobs[0].dir, &ignored);
        if (n < cap) ids[n++] = S->jobs[0].id;
        drop_job(S, 0);
    }
    return n;
}

static void slurm_free(pz_executor *ex)
{
    slurm_executor *S = (slurm_executor *)ex;
    while (S->njobs) drop_job(S, 0);
    for (size_t k = 0; k < S->nleft; k++) free(S->left[k]);
    free(S->left), free(S->jobs), free(S->root);
    free(S);
}

pz_executor *pz_executor_slurm(const pz_exec_env *env, const pz_slurm_config *cfg, pz_err *err)
{
    char *root = pz_xasprintf("%s/slurm", env->cache->dir);
    if (pz_mkdirs(root, err) < 0) return free(root), NULL;
    slurm_executor *S = pz_xcalloc(1, sizeof *S);
    S->env = *env;
    S->cfg = *cfg;
    S->root = root;
    S->ex = (pz_executor){.name = "slurm",
                          .max_jobs = 100000,
                          .workdir = slurm_workdir,
                          .submit = slurm_submit,
                          .wait = slurm_wait,
                          .release = slurm_release,
                          .cancel = slurm_cancel,
                          .free = slurm_free};
    scan_left(S);
    return &S->ex;
}
