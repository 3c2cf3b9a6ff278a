#include "engine/export.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/fs.h"
#include "engine/provenance.h"
#include "engine/record.h"
#include "engine/results.h"
#include "engine/workspace.h"
#include "util/sbuf.h"

typedef struct exporter {
    const char *cache_dir, *out_dir, *stamp_exe;
    char *prov_tmp;        /* scratch file holding one file's provenance for pzflow-stamp */
    pz_sbuf all_prov;      /* PROVENANCE.txt */
    pz_sbuf listing;       /* the marker's file list */
    char *earlier;         /* an earlier export's marker, or NULL */
    pz_export_stats *stats;
} exporter;

/* ---- DIR: new, empty, or an earlier export ---- */

static int prepare_out_dir(const char *dir, pz_err *err)
{
    struct stat st;
    if (lstat(dir, &st) < 0) return pz_mkdirs(dir, err);
    if (!S_ISDIR(st.st_mode)) return pz_errf(err, "%s exists and is not a folder", dir);
    char *marker = pz_xasprintf("%s/%s", dir, PZ_EXPORT_MARKER);
    int earlier = access(marker, F_OK) == 0;
    free(marker);
    if (earlier) return 0;
    DIR *d = opendir(dir);
    if (!d) return pz_errf(err, "%s: cannot read: %s", dir, strerror(errno));
    struct dirent *e;
    const char *first = NULL;
    while (!first && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) first = e->d_name;
    int rc = first ? pz_errf(err, "%s is not empty (it holds %s) and is not an earlier export; export into a new or "
                                  "empty folder",
                             dir, first)
                   : 0;
    closedir(d);
    return rc;
}

/* ---- one file ---- */

static int copy_file(const char *from, const char *to, pz_err *err)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return pz_errf(err, "%s: cannot open: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return pz_errf(err, "%s: cannot create: %s", to, strerror(errno));
    }
    static char buf[1 << 20];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) rc = errno == EINTR ? 0 : pz_errf(err, "%s: read error: %s", from, strerror(errno));
        for (ssize_t done = 0; rc == 0 && n > 0 && done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno != EINTR) rc = pz_errf(err, "%s: write error: %s", to, strerror(errno));
            if (w > 0) done += w;
        }
    }
    close(in);
    if (close(out) < 0 && rc == 0) rc = pz_errf(err, "%s: write error: %s", to, strerror(errno));
    return rc;
}

/* pzflow-stamp FILE PROV: 0 stamped, 3 the format has no header, else an error on its stderr. */
static int run_stamp(const exporter *x, const char *file, int *stamped, pz_err *err)
{
    pid_t pid = fork();
    if (pid < 0) return pz_errf(err, "cannot start %s: %s", x->stamp_exe, strerror(errno));
    if (pid == 0) {
        execl(x->stamp_exe, x->stamp_exe, file, x->prov_tmp, (char *)NULL);
        fprintf(stderr, "pzflow: cannot run %s: %s\n", x->stamp_exe, strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return pz_errf(err, "waiting for %s: %s", x->stamp_exe, strerror(errno));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    *stamped = code == 0;
    return code == 0 || code == 3 ? 0 : pz_errf(err, "%s could not write provenance into %s (exit %d)", x->stamp_exe,
                                                file, code);
}

/* "../../cache/objects/ab/<30 hex>" -> "ab<30 hex>" */
static void object_hash(const char *target, char hash[PZ_HASH_HEX])
{
    size_t n = strlen(target);
    memcpy(hash, target + n - 33, 2);
    memcpy(hash + 2, target + n - 30, 30);
    hash[32] = 0;
}

static int written_earlier(const exporter *x, const char *rel)
{
    char *e = pz_escape(rel);
    char *line = pz_xasprintf("\nfile %s\n", e);
    int found = x->earlier && strstr(x->earlier, line) != NULL;
    free(e);
    free(line);
    return found;
}

static int export_link(exporter *x, const char *link, const char *target, const char *rel, pz_err *err)
{
    char hash[PZ_HASH_HEX];
    object_hash(target, hash);
    pz_err perr;
    char *prov = pz_provenance_report(x->cache_dir, hash, &perr);
    if (!prov) prov = pz_xasprintf("(no run record found for object %s: %s)\n", hash, perr.msg);
    char *dest = pz_xasprintf("%s/%s", x->out_dir, rel);
    char *tmp = pz_xasprintf("%s.tmp.%ld", dest, (long)getpid());
    char *parent = pz_xstrdup(dest);
    *strrchr(parent, '/') = 0;
    int stamped = 0;
    int rc = pz_mkdirs(parent, err);
    if (rc == 0 && access(dest, F_OK) == 0 && !written_earlier(x, rel))
        rc = pz_errf(err, "%s exists and an earlier export did not write it; not replacing it", dest);
    if (rc == 0) rc = copy_file(link, tmp, err); /* through the link: the object itself */
    if (rc == 0) rc = pz_write_atomic(x->prov_tmp, prov, strlen(prov), err);
    if (rc == 0) rc = run_stamp(x, tmp, &stamped, err);
    if (rc == 0 && rename(tmp, dest) < 0) rc = pz_errf(err, "cannot create %s: %s", dest, strerror(errno));
    if (rc < 0) unlink(tmp);
    if (rc == 0) {
        x->stats->files++;
        x->stats->stamped += stamped;
        pz_sb_printf(&x->all_prov, "==== %s%s\n%s\n", rel, stamped ? "" : "  (no header in this format)", prov);
        char *e = pz_escape(rel);
        pz_sb_printf(&x->listing, "file %s\n", e);
        free(e);
    }
    free(prov);
    free(dest);
    free(tmp);
    free(parent);
    return rc;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every link pzflow made under dir, in name order (so PROVENANCE.txt is in a stable order). */
static int walk(exporter *x, const char *dir, const char *rel, pz_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return pz_errf(err, "%s: cannot read: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ".", "..", the manifest */
        names = pz_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = pz_xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char *path = pz_xasprintf("%s/%s", dir, names[i]);
        char *sub = *rel ? pz_xasprintf("%s/%s", rel, names[i]) : pz_xstrdup(names[i]);
        struct stat st;
        char target[PATH_MAX];
        ssize_t len;
        if (rc == 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) rc = walk(x, path, sub, err);
        else if (rc == 0 && S_ISLNK(st.st_mode) && (len = readlink(path, target, sizeof target - 1)) > 0 &&
                 (target[len] = 0, pz_workspace_is_object_link(target)))
            rc = export_link(x, path, target, sub, err);
        free(path);
        free(sub);
        free(names[i]);
    }
    free(names);
    return rc;
}

int pz_export(const char *results_dir, const char *cache_dir, const char *out_dir, const char *stamp_exe,
              pz_export_stats *stats, pz_err *err)
{
    *stats = (pz_export_stats){0};
    pz_results_manifest *m = pz_results_read(results_dir, err);
    if (!m) return -1;
    pz_results_free(m);
    if (prepare_out_dir(out_dir, err) < 0) return -1;
    exporter x = {.cache_dir = cache_dir, .out_dir = out_dir, .stamp_exe = stamp_exe, .stats = stats};
    x.prov_tmp = pz_xasprintf("%s/.pzflow-export.provenance.%ld", out_dir, (long)getpid());
    char *marker = pz_xasprintf("%s/%s", out_dir, PZ_EXPORT_MARKER);
    pz_err ignored;
    x.earlier = access(marker, F_OK) == 0 ? pz_read_file(marker, NULL, &ignored) : NULL;
    free(marker);
    pz_sb_printf(&x.listing, "pzflow-export 1\nfrom %s\n", results_dir);
    pz_sb_puts(&x.all_prov, "");
    int rc = walk(&x, results_dir, "", err);
    unlink(x.prov_tmp);
    if (rc == 0) {
        char *p = pz_xasprintf("%s/PROVENANCE.txt", out_dir);
        rc = pz_write_atomic(p, x.all_prov.p, x.all_prov.len, err);
        free(p);
    }
    if (rc == 0) {
        char *p = pz_xasprintf("%s/%s", out_dir, PZ_EXPORT_MARKER);
        rc = pz_write_atomic(p, x.listing.p, x.listing.len, err);
        free(p);
    }
    free(x.prov_tmp);
    free(x.earlier);
    free(x.all_prov.p);
    free(x.listing.p);
    return rc;
}
