#include "engine/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* The pid in <cache>/lock: informational only (the lock is on the directory). */
static long holder_pid(const char *path)
{
    char buf[32] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    return n > 0 ? atol(buf) : 0;
}

/* Best effort: a read-only cache (which can still serve a no-op run) cannot take it. */
static void write_pid(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (write(fd, text, (size_t)n) != n) { /* only a message would lack the pid */
    }
    close(fd);
}

static int lock_blocking(int fd)
{
    int rc;
    while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR) {
    }
    return rc;
}

int pz_lock_acquire(pz_lock *lk, const char *cache_dir, int wait, FILE *notice, int *busy, pz_err *err)
{
    if (busy) *busy = 0;
    char *path = pz_xasprintf("%s/lock", cache_dir);
    /* The flock is on the cache directory itself, held through this descriptor: removing or
     * replacing the file `lock` while a run holds it cannot let a second run in. */
    lk->fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lk->fd < 0) {
        pz_errf(err, "cannot open cache directory %s to lock it: %s", cache_dir, strerror(errno));
        free(path);
        return -1;
    }
    if (flock(lk->fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK) goto io_error;
        long pid = holder_pid(path);
        if (!wait) {
            if (busy) *busy = 1;
            pz_errf(err, "cache %s is in use by another pzflow run (pid %ld); try again later or drop --no-wait",
                    cache_dir, pid);
            close(lk->fd);
            lk->fd = -1;
            free(path);
            return -1;
        }
        if (notice) {
            fprintf(notice, "pzflow: waiting for lock held by pid %ld (%s)\n", pid, path);
            fflush(notice);
        }
        if (lock_blocking(lk->fd) < 0) goto io_error;
    }
    write_pid(path);
    free(path);
    return 0;
io_error:
    pz_errf(err, "cannot lock %s: %s", path, strerror(errno));
    close(lk->fd);
    lk->fd = -1;
    free(path);
    return -1;
}

void pz_lock_release(pz_lock *lk)
{
    if (lk->fd < 0) return;
    /* The pid is left in the file: it is only read while someone holds the lock. */
    flock(lk->fd, LOCK_UN);
    close(lk->fd);
    lk->fd = -1;
}
