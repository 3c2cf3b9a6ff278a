/* pzfault: an LD_PRELOAD shim that makes one chosen write-side system call fail, or kills the
 * process right before it, so tests can put a full disk, an I/O error or a SIGKILL at an exact
 * point of a run (tests/test_faults.c).
 *
 * Configured by environment variables (inherited by child processes, so the shim reaches the
 * stages a run starts; PZFAULT_TARGET picks which process it acts in):
 *
 *   PZFAULT_TARGET  base name of the executable to act in ("pzflow", "pzflow-quality-cuts");
 *                   in any other process the shim only passes calls through
 *   PZFAULT_PATH    only calls on files under this directory count (absolute)
 *   PZFAULT_SKIP    ':'-separated absolute paths (files or directories) under PZFAULT_PATH
 *                   whose calls do not count: writes whose number depends on timing (pzflow
 *                   saves the index at most once a second), so that the Nth counted call is
 *                   the same call on every machine
 *   PZFAULT_OPS     comma list of: write (write, pwrite, writev, fwrite), fsync (fsync, fdatasync),
 *                   rename, close, create (open with O_CREAT), mkdir, symlink, unlink
 *   PZFAULT_NTH     act at the Nth counted call (1-based); 0 or unset: only count
 *   PZFAULT_ACTION  ENOSPC, EIO, EDQUOT (the call fails with that errno, doing nothing) or
 *                   KILL (SIGKILL to the process itself, before the call)
 *   PZFAULT_STICKY  1: every counted call after the Nth fails too (a disk that stays full)
 *   PZFAULT_REPORT  file to append "<pid> <calls counted> <op of the fault or -> <path>" to
 *                   at the fault and at exit
 *
 * A failed close() still closes the descriptor, as on Linux. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* A preloaded shim has no caller to hand state to: this process-wide state is the design. */
static struct {
    int active, sticky, action_errno, kill;
    unsigned ops;
    long nth, count;
    char prefix[PATH_MAX];
    size_t prefix_len;
    char skip[PATH_MAX]; /* PZFAULT_SKIP */
    char report[PATH_MAX];
} cfg;

enum { OP_WRITE = 1, OP_FSYNC = 2, OP_RENAME = 4, OP_CLOSE = 8, OP_CREATE = 16, OP_MKDIR = 32, OP_SYMLINK = 64,
       OP_UNLINK = 128 };

static unsigned parse_ops(const char *s)
{
    static const struct { const char *name; unsigned bit; } names[] = {
        {"write", OP_WRITE}, {"fsync", OP_FSYNC}, {"rename", OP_RENAME}, {"close", OP_CLOSE},
        {"create", OP_CREATE}, {"mkdir", OP_MKDIR}, {"symlink", OP_SYMLINK}, {"unlink", OP_UNLINK}};
    unsigned ops = 0;
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        const char *p = s;
        size_t n = strlen(names[k].name);
        while ((p = strstr(p, names[k].name))) {
            if ((p == s || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) ops |= names[k].bit;
            p += n;
        }
    }
    return ops;
}

static void append_report(const char *op, const char *path)
{
    if (!cfg.report[0]) return;
    static ssize_t (*real_write)(int, const void *, size_t);
    if (!real_write) real_write = dlsym(RTLD_NEXT, "write");
    int (*real_open)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
    int fd = real_open(cfg.report, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char line[PATH_MAX + 128];
    int n = snprintf(line, sizeof line, "%ld %ld %s %s\n", (long)getpid(), cfg.count, op, path ? path : "-");
    if (n > 0) real_write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    int (*real_close)(int) = dlsym(RTLD_NEXT, "close");
    real_close(fd);
}

__attribute__((constructor)) static void pzfault_init(void)
{
    const char *target = getenv("PZFAULT_TARGET"), *path = getenv("PZFAULT_PATH");
    if (!target || !path) return;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    const char *base = strrchr(exe, '/');
    if (strcmp(base ? base + 1 : exe, target)) return;
    snprintf(cfg.prefix, sizeof cfg.prefix, "%s", path);
    cfg.prefix_len = strlen(cfg.prefix);
    while (cfg.prefix_len > 1 && cfg.prefix[cfg.prefix_len - 1] == '/') cfg.prefix[--cfg.prefix_len] = 0;
    const char *ops = getenv("PZFAULT_OPS"), *nth = getenv("PZFAULT_NTH"), *act = getenv("PZFAULT_ACTION");
    const char *sticky = getenv("PZFAULT_STICKY"), *report = getenv("PZFAULT_REPORT");
    cfg.ops = parse_ops(ops ? ops : "write");
    cfg.nth = nth ? atol(nth) : 0;
    cfg.sticky = sticky && atoi(sticky);
    cfg.kill = act && !strcmp(act, "KILL");
    cfg.action_errno = !act || !strcmp(act, "ENOSPC") ? ENOSPC : !strcmp(act, "EIO") ? EIO : !strcmp(act, "EDQUOT") ? EDQUOT : ENOSPC;
    if (report) snprintf(cfg.report, sizeof cfg.report, "%s", report);
    const char *skip = getenv("PZFAULT_SKIP");
    if (skip) snprintf(cfg.skip, sizeof cfg.skip, "%s", skip);
    cfg.active = 1;
}

__attribute__((destructor)) static void pzfault_fini(void)
{
    if (cfg.active) append_report("exit", NULL);
}

/* path is dir (dir_len bytes, no trailing '/') or inside it; a file name prefix also matches, so
 * "cache/statcache" covers its temporary files "cache/statcache.tmp.<pid>" too. */
static int is_under(const char *path, const char *dir, size_t dir_len)
{
    return !strncmp(path, dir, dir_len) && (path[dir_len] == '/' || path[dir_len] == 0 || path[dir_len] == '.');
}

static int under_prefix(const char *path)
{
    if (!path) return 0;
    char abs[PATH_MAX];
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return 0;
        snprintf(abs, sizeof abs, "%s/%s", cwd, path);
        path = abs;
    }
    if (!is_under(path, cfg.prefix, cfg.prefix_len)) return 0;
    for (const char *p = cfg.skip; *p;) { /* the ':'-separated list, without copying it */
        size_t n = strcspn(p, ":");
        if (n && is_under(path, p, n)) return 0;
        p += n + (p[n] == ':');
    }
    return 1;
}

static int fd_path(int fd, char *out, size_t size)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, out, size - 1);
    if (n <= 0) return -1;
    out[n] = 0;
    return 0;
}

/* Count a call on `path` for op; 1 if it must fail (errno set), 0 to go ahead. Kills itself
 * when that is the action. */
static int fault(unsigned op, const char *opname, const char *path)
{
    if (!cfg.active || !(cfg.ops & op) || !under_prefix(path)) return 0;
    long k = ++cfg.count;
    if (cfg.nth <= 0 || k < cfg.nth || (k > cfg.nth && !cfg.sticky)) return 0;
    if (k == cfg.nth) append_report(opname, path);
    if (cfg.kill) {
        raise(SIGKILL);
        for (;;) pause();
    }
    errno = cfg.action_errno;
    return 1;
}

static int fault_fd(unsigned op, const char *opname, int fd)
{
    if (!cfg.active || !(cfg.ops & op)) return 0;
    char path[PATH_MAX];
    if (fd_path(fd, path, sizeof path) < 0) return 0;
    return fault(op, opname, path);
}

#define REAL(ret, name, ...)                                         \
    static ret (*real_##name)(__VA_ARGS__);                          \
    if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(ssize_t, write, int, const void *, size_t);
    if (fault_fd(OP_WRITE, "write", fd)) return -1;
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
    if (fault_fd(OP_WRITE, "write", fd)) return -1;
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    REAL(ssize_t, pwrite64, int, const void *, size_t, off_t);
    if (fault_fd(OP_WRITE, "write", fd)) return -1;
    return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    REAL(ssize_t, writev, int, const struct iovec *, int);
    if (fault_fd(OP_WRITE, "write", fd)) return -1;
    return real_writev(fd, iov, cnt);
}

/* stdio reaches the kernel through glibc's internal write, which a preload cannot see; cfitsio
 * writes FITS files with fwrite, so an fwrite counts as a write (a failed one writes nothing). */
size_t fwrite(const void *buf, size_t size, size_t n, FILE *f)
{
    REAL(size_t, fwrite, const void *, size_t, size_t, FILE *);
    if (fault_fd(OP_WRITE, "write", fileno(f))) return 0;
    return real_fwrite(buf, size, n, f);
}

int fsync(int fd)
{
    REAL(int, fsync, int);
    if (fault_fd(OP_FSYNC, "fsync", fd)) return -1;
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    REAL(int, fdatasync, int);
    if (fault_fd(OP_FSYNC, "fsync", fd)) return -1;
    return real_fdatasync(fd);
}

int close(int fd)
{
    REAL(int, close, int);
    int fail = fault_fd(OP_CLOSE, "close", fd);
    int rc = real_close(fd);
    if (fail) {
        errno = cfg.action_errno;
        return -1;
    }
    return rc;
}

int rename(const char *from, const char *to)
{
    REAL(int, rename, const char *, const char *);
    if (fault(OP_RENAME, "rename", to)) return -1;
    return real_rename(from, to);
}

int renameat(int dfd, const char *from, int tdfd, const char *to)
{
    REAL(int, renameat, int, const char *, int, const char *);
    if (fault(OP_RENAME, "rename", to)) return -1;
    return real_renameat(dfd, from, tdfd, to);
}

static int open_counts(const char *path, int flags)
{
    return (flags & O_CREAT) && fault(OP_CREATE, "create", path);
}

int open(const char *path, int flags, ...)
{
    REAL(int, open, const char *, int, ...);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (open_counts(path, flags)) return -1;
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    REAL(int, open64, const char *, int, ...);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (open_counts(path, flags)) return -1;
    return real_open64(path, flags, mode);
}

int mkdir(const char *path, mode_t mode)
{
    REAL(int, mkdir, const char *, mode_t);
    if (fault(OP_MKDIR, "mkdir", path)) return -1;
    return real_mkdir(path, mode);
}

int symlink(const char *target, const char *path)
{
    REAL(int, symlink, const char *, const char *);
    if (fault(OP_SYMLINK, "symlink", path)) return -1;
    return real_symlink(target, path);
}

int unlink(const char *path)
{
    REAL(int, unlink, const char *);
    if (fault(OP_UNLINK, "unlink", path)) return -1;
    return real_unlink(path);
}
