/* The local executor: each task is a child process of pzflow (executor.h).
 *
 * `<exe> spec.json` runs in the task's scratch directory (<cache>/tmp/<pid>.<stage>.XXXXXX), in
 * its own process group, stdin /dev/null, stdout+stderr to log, PZFLOW_PROGRESS_FD=3 (a pipe
 * read for the live display), OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set to its thread share,
 * and a parent-death signal so a stage never outlives a killed pzflow. A stage past its
 * `timeout:` is killed with its whole process group. */
#include "engine/executor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/fs.h"

/* Bytes of disk reserved for each stage's log while it runs (submit). */
enum { LOG_RESERVE = 16384, MAX_LOCAL_JOBS = 64 };

typedef struct child {
    size_t id;
    pid_t pid;
    int progress_fd;
    char *dir;
    double start_mono;
    double deadline;   /* monotonic seconds after which the stage is killed; 0 = no timeout */
    double timeout_s;
    int timed_out;     /* killed for passing its deadline */
    char buf[1024];    /* partial progress line */
    size_t blen;
} child;

typedef struct local_executor {
    pz_executor ex;
    pz_exec_env env;
    child kids[MAX_LOCAL_JOBS];
    size_t nkids;
} local_executor;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char *local_workdir(pz_executor *ex, const pz_task *t, int *attached, pz_err *err)
{
    local_executor *L = (local_executor *)ex;
    *attached = 0;
    return pz_cache_scratch(L->env.cache, t->stage->name, err);
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

static int start_one(local_executor *L, const pz_task *t, pz_err *err)
{
    if (L->nkids == MAX_LOCAL_JOBS) return pz_errf(err, "internal error: more than %d local jobs", MAX_LOCAL_JOBS);
    char *log_path = pz_xasprintf("%s/log", t->dir);
    int rc = -1, pfd[2] = {-1, -1};
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
        pz_errf(err, "cannot set up %s: %s", t->dir, strerror(errno));
        goto out;
    }
    /* Blocks for the log's first bytes, taken now: a stage that fills the disk can still say
     * why it failed (best effort; released again before the log is stored). */
    if (fallocate(log_fd, FALLOC_FL_KEEP_SIZE, 0, LOG_RESERVE) < 0) { /* unsupported: no reserve */
    }
    pid_t pid = fork();
    if (pid < 0) {
        pz_errf(err, "cannot start %s: fork: %s", t->stage->name, strerror(errno));
        goto out;
    }
    if (pid == 0) child_exec(t->stage->exe_path, t->dir, log_fd, pfd[1], t->threads);
    setpgid(pid, pid); /* also in the child: whichever runs first wins the race */
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    child *c = &L->kids[L->nkids++];
    memset(c, 0, sizeof *c);
    c->id = t->id;
    c->pid = pid;
    c->progress_fd = pfd[0];
    pfd[0] = -1;
    c->dir = pz_xstrdup(t->dir);
    c->start_mono = mono_s();
    c->timeout_s = t->stage->timeout_s;
    c->deadline = c->timeout_s > 0 ? c->start_mono + c->timeout_s : 0;
    rc = 0;
out:
    if (log_fd >= 0) close(log_fd);
    if (pfd[0] >= 0) close(pfd[0]);
    if (pfd[1] >= 0) close(pfd[1]);
    free(log_path);
    return rc;
}

static int local_submit(pz_executor *ex, const pz_task *tasks, size_t n, pz_err *err)
{
    local_executor *L = (local_executor *)ex;
    for (size_t k = 0; k < n; k++)
        if (start_one(L, &tasks[k], err) < 0) return -1;
    return 0;
}

/* ---- progress lines ---- */

static void handle_progress_line(local_executor *L, child *c, char *line)
{
    if (strncmp(line, "@progress ", 10)) return;
    char *end;
    double f = strtod(line + 10, &end);
    if (end == line + 10) return;
    while (*end == ' ') end++;
    pz_display_progress(L->env.disp, c->id, f, end);
}

static void drain_progress(local_executor *L, child *c)
{
    for (;;) {
        if (c->blen == sizeof c->buf - 1) c->blen = 0; /* overlong line: drop it */
        ssize_t n = read(c->progress_fd, c->buf + c->blen, sizeof c->buf - 1 - c->blen);
        if (n <= 0) return;
        c->blen += (size_t)n;
        char *start = c->buf, *nl;
        while ((nl = memchr(start, '\n', c->buf + c->blen - start))) {
            *nl = 0;
            handle_progress_line(L, c, start);
            start = nl + 1;
        }
        c->blen -= (size_t)(start - c->buf);
        memmove(c->buf, start, c->blen);
    }
}

/* ---- waiting ---- */

static void wait_for_event(local_executor *L)
{
    struct pollfd fds[MAX_LOCAL_JOBS + 1];
    size_t n = 0;
    fds[n++] = (struct pollfd){.fd = L->env.wake_fd, .events = POLLIN};
    for (size_t k = 0; k < L->nkids; k++) fds[n++] = (struct pollfd){.fd = L->kids[k].progress_fd, .events = POLLIN};
    int ms = L->env.live ? 100 : 1000;
    double now = mono_s();
    for (size_t k = 0; k < L->nkids; k++) /* wake in time for the nearest timeout */
        if (L->kids[k].deadline > 0 && (L->kids[k].deadline - now) * 1000 + 1 < ms)
            ms = L->kids[k].deadline > now ? (int)((L->kids[k].deadline - now) * 1000) + 1 : 0;
    int rc = poll(fds, n, ms);
    if (rc > 0 && (fds[0].revents & POLLIN)) {
        char buf[64];
        while (read(L->env.wake_fd, buf, sizeof buf) > 0) {
        }
    }
    for (size_t k = 0; k < L->nkids; k++) drain_progress(L, &L->kids[k]);
}

/* A stage past its `timeout:` is killed with its whole process group (a hung library call
 * ignores SIGTERM as readily as anything else); the reaping then reports it as timed out. */
static void enforce_timeouts(local_executor *L)
{
    double now = mono_s();
    for (size_t k = 0; k < L->nkids; k++) {
        child *c = &L->kids[k];
        if (c->deadline > 0 && !c->timed_out && now > c->deadline) {
            kill(-c->pid, SIGKILL);
            c->timed_out = 1;
        }
    }
}

static void describe_end(const child *c, int wstatus, pz_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->id = c->id;
    o->code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    if (c->timed_out) {
        snprintf(o->what, sizeof o->what, "timed out after %.1f s (timeout: %g s); killed", mono_s() - c->start_mono,
                 c->timeout_s);
        o->code = 128 + SIGKILL;
    } else if (WIFSIGNALED(wstatus)) {
        snprintf(o->what, sizeof o->what, "killed by signal %d (%s)", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
        /* A stage past `ulimit -f` is not at fault: the limit is the machine's. */
        o->file_limit = WTERMSIG(wstatus) == SIGXFSZ;
    } else if (o->code) {
        snprintf(o->what, sizeof o->what, "exit status %d", o->code);
    }
}

static long local_wait(pz_executor *ex, pz_outcome *out, size_t cap, pz_err *err)
{
    local_executor *L = (local_executor *)ex;
    wait_for_event(L);
    enforce_timeouts(L);
    size_t n = 0;
    for (size_t k = 0; k < L->nkids && n < cap;) {
        child *c = &L->kids[k];
        int ws;
        if (waitpid(c->pid, &ws, WNOHANG) != c->pid) {
            k++;
            continue;
        }
        drain_progress(L, c);
        close(c->progress_fd);
        describe_end(c, ws, &out[n++]);
        free(c->dir);
        L->kids[k] = L->kids[--L->nkids]; /* the last child moves into slot k */
    }
    (void)err;
    return (long)n;
}

static void local_release(pz_executor *ex, size_t id)
{
    (void)ex;
    (void)id; /* the scheduler removes the scratch directory itself (see release_task in run.c) */
}

/* Ctrl-C: SIGTERM to every stage's process group, SIGKILL after 2 s, scratch removed. */
static size_t local_cancel(pz_executor *ex, size_t *ids, size_t cap)
{
    local_executor *L = (local_executor *)ex;
    for (size_t k = 0; k < L->nkids; k++) kill(-L->kids[k].pid, SIGTERM);
    double deadline = mono_s() + 2.0;
    size_t n = 0;
    for (size_t k = 0; k < L->nkids; k++) {
        child *c = &L->kids[k];
        int ws;
        while (waitpid(c->pid, &ws, WNOHANG) == 0) {
            if (mono_s() > deadline) {
                kill(-c->pid, SIGKILL);
                waitpid(c->pid, &ws, 0);
                break;
            }
            usleep(10000);
        }
        kill(-c->pid, SIGKILL); /* anything the stage left behind in its group */
        close(c->progress_fd);
        pz_err ignored;
        pz_rmtree(c->dir, &ignored);
        free(c->dir);
        if (n < cap) ids[n++] = c->id;
    }
    L->nkids = 0;
    return n;
}

static void local_free(pz_executor *ex)
{
    free(ex);
}

pz_executor *pz_executor_local(const pz_exec_env *env)
{
    local_executor *L = pz_xcalloc(1, sizeof *L);
    L->env = *env;
    L->ex = (pz_executor){.name = "local",
                          .max_jobs = MAX_LOCAL_JOBS,
                          .workdir = local_workdir,
                          .submit = local_submit,
                          .wait = local_wait,
                          .release = local_release,
                          .cancel = local_cancel,
                          .free = local_free};
    return &L->ex;
}
