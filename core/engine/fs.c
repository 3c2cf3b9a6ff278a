#include "engine/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int real_stat(void *ctx, const char *path, pz_fstat *st)
{
    struct stat s;
    if (stat(path, &s) < 0) return -1;
    st->dev = s.st_dev;
    st->ino = s.st_ino;
    st->size = (uint64_t)s.st_size;
    st->mtime_ns = (int64_t)s.st_mtim.tv_sec * 1000000000 + s.st_mtim.tv_nsec;
    st->ctime_ns = (int64_t)s.st_ctim.tv_sec * 1000000000 + s.st_ctim.tv_nsec;
    st->is_reg = S_ISREG(s.st_mode);
    return 0;
}

static int real_hash(void *ctx, const char *path, char out[PZ_HASH_HEX], uint64_t *nbytes, pz_err *err)
{
    return pz_hash_file(path, out, nbytes, err);
}

static char *real_read(void *ctx, const char *path, size_t *len)
{
    pz_err err;
    return pz_read_file(path, len, &err);
}

static int64_t real_now(void *ctx)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const pz_fs *pz_fs_real(void)
{
    static const pz_fs fs = {real_stat, real_hash, real_read, real_now, NULL};
    return &fs;
}

char *pz_read_file(const char *path, size_t *len, pz_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pz_errf(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = pz_xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = pz_xrealloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r == 0) break;
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            pz_errf(err, "%s: read failed: %s", path, strerror(e));
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int pz_fsync_dir(const char *dir, pz_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return pz_errf(err, "%s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc < 0 && e != EINVAL) return pz_errf(err, "%s: fsync failed: %s", dir, strerror(e));
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int pz_write_atomic(const char *path, const void *data, size_t len, pz_err *err)
{
    char *tmp = pz_xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        pz_errf(err, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        pz_errf(err, "cannot write %s: %s", path, strerror(e));
        free(tmp);
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        pz_errf(err, "cannot write %s: %s", path, strerror(e));
        free(tmp);
        return -1;
    }
    free(tmp);
    char *dir = pz_xstrdup(path);
    int rc = pz_fsync_dir(dirname(dir), err);
    free(dir);
    return rc;
}

int pz_mkdirs(const char *path, pz_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0; /* the usual case: nothing to do */
    char *p = pz_xstrdup(path);
    for (char *s = p + 1; ; s++) {
        if (*s != '/' && *s != 0) continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0777) < 0 && errno != EEXIST) {
            pz_errf(err, "cannot create directory %s: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = c;
        if (!c) break;
    }
    free(p);
    return 0;
}

int pz_rmtree(const char *path, pz_err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) return errno == ENOENT ? 0 : pz_errf(err, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0 && errno != ENOENT) return pz_errf(err, "cannot remove %s: %s", path, strerror(errno));
        return 0;
    }
    if ((st.st_mode & 0700) != 0700) chmod(path, st.st_mode | 0700);
    DIR *d = opendir(path);
    if (!d) return pz_errf(err, "cannot open directory %s: %s", path, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *child = pz_xasprintf("%s/%s", path, e->d_name);
        rc = pz_rmtree(child, err);
        free(child);
    }
    closedir(d);
    if (rc == 0 && rmdir(path) < 0 && errno != ENOENT)
        rc = pz_errf(err, "cannot remove %s: %s", path, strerror(errno));
    return rc;
}
