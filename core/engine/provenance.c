/* `pzflow provenance`: an output's chain of runs, read from the run records (provenance.h). */
#include "engine/provenance.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/cache.h"
#include "engine/fs.h"
#include "engine/record.h"
#include "util/sbuf.h"

/* ---- finding the object ---- */

/* "<cache>/objects/ab/cdef..." (the first two hex digits name the directory, the other 30 the
 * file: cache.c) -> the hash, and the cache directory. 0 when the path is not an object's. */
static int object_path_hash(const char *real, char hash[PZ_HASH_HEX], char **cache)
{
    size_t n = strlen(real);
    const char *tail = "/objects/";
    size_t tl = strlen(tail);
    if (n < tl + 2 + 1 + 30 || real[n - 31] != '/' || strncmp(real + n - 33 - tl, tail, tl)) return 0;
    char h[PZ_HASH_HEX];
    memcpy(h, real + n - 33, 2);
    memcpy(h + 2, real + n - 30, 31);
    if (!pz_hash_valid(h)) return 0;
    memcpy(hash, h, PZ_HASH_HEX);
    *cache = pz_xasprintf("%.*s", (int)(n - 33 - tl), real);
    return 1;
}

int pz_provenance_resolve(const char *target, const char *cache_dir, char **cache, char hash[PZ_HASH_HEX],
                          pz_err *err)
{
    struct stat st;
    *cache = NULL;
    if (pz_hash_valid(target) && stat(target, &st) < 0) {
        memcpy(hash, target, PZ_HASH_HEX);
        *cache = pz_xstrdup(cache_dir ? cache_dir : "cache");
        return 0;
    }
    char *real = realpath(target, NULL);
    if (!real) return pz_errf(err, "%s: %s", target, strerror(errno));
    char *found_cache = NULL;
    int in_cache = object_path_hash(real, hash, &found_cache);
    if (!in_cache && pz_hash_file(real, hash, NULL, err) < 0) { /* a copy taken out of the cache */
        free(real);
        return -1;
    }
    free(real);
    *cache = cache_dir ? pz_xstrdup(cache_dir) : found_cache ? found_cache : pz_xstrdup("cache");
    if (cache_dir || !found_cache) free(found_cache);
    return 0;
}

/* ---- the records of a cache ---- */

typedef struct record_set {
    pz_record **r;
    size_t n;
} record_set;

static int load_records(const char *runs, record_set *rs, pz_err *err)
{
    memset(rs, 0, sizeof *rs);
    DIR *d = opendir(runs);
    if (!d) return pz_errf(err, "cannot read the run records in %s: %s", runs, strerror(errno));
    for (struct dirent *e; (e = readdir(d));) {
        if (!pz_hash_valid(e->d_name)) continue; /* tmp files of interrupted writes, . and .. */
        char *path = pz_xasprintf("%s/%s", runs, e->d_name);
        pz_err ignored;
        char *text = pz_read_file(path, NULL, &ignored);
        pz_record *r = text ? pz_record_parse(text, path, &ignored) : NULL;
        free(text);
        free(path);
        /* A record that does not parse, or names another key, is ignored by every command. */
        if (!r || strcmp(r->key, e->d_name)) {
            pz_record_free(r);
            continue;
        }
        rs->r = pz_xrealloc(rs->r, (rs->n + 1) * sizeof *rs->r);
        rs->r[rs->n++] = r;
    }
    closedir(d);
    return 0;
}

static void free_records(record_set *rs)
{
    for (size_t i = 0; i < rs->n; i++) pz_record_free(rs->r[i]);
    free(rs->r);
}

/* What `hash` is in record r: an output's name, "(log)", or NULL. */
static const char *role_in(const pz_record *r, const char *hash)
{
    for (size_t k = 0; k < r->noutputs; k++)
        if (!strcmp(r->out_hashes[k], hash)) return r->out_names[k];
    return !strcmp(r->log_hash, hash) ? "(log)" : NULL;
}

static int newest_first(const void *a, const void *b)
{
    const pz_record *x = *(pz_record *const *)a, *y = *(pz_record *const *)b;
    return x->end_ns < y->end_ns ? 1 : x->end_ns > y->end_ns ? -1 : strcmp(x->key, y->key);
}

/* The records that produced `hash`, newest first (malloc'd array, may be empty). */
static size_t producers(const record_set *rs, const char *hash, pz_record ***out)
{
    size_t n = 0;
    *out = pz_xcalloc(rs->n + 1, sizeof **out);
    for (size_t i = 0; i < rs->n; i++)
        if (role_in(rs->r[i], hash)) (*out)[n++] = rs->r[i];
    qsort(*out, n, sizeof **out, newest_first);
    return n;
}

/* The absolute path the stat cache last saw with this hash, or NULL: records keep hashes of
 * external inputs, not their paths. */
static char *statcache_path_of(const char *statcache_text, const char *hash)
{
    char *found = NULL;
    for (const char *line = statcache_text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *last_space = memrchr(line, ' ', len);
        if (len > 33 && !strncmp(line, hash, 32) && line[32] == ' ' && last_space) {
            char *escaped = pz_xasprintf("%.*s", (int)(line + len - last_space - 1), last_space + 1);
            free(found);
            found = pz_unescape(escaped);
            free(escaped);
        }
        line = end ? end + 1 : NULL;
    }
    return found;
}

/* ---- the report ---- */

typedef struct report {
    pz_sbuf out;
    record_set rs;
    char *statcache;   /* text of the stat cache, or NULL */
    const char **shown; /* keys already printed in full */
    size_t nshown;
} report;

static void put_time(pz_sbuf *b, int64_t ns)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    char buf[32] = "?";
    if (ns > 0 && gmtime_r(&t, &tm)) strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    pz_sb_puts(b, buf);
}

static int was_shown(report *rp, const char *key)
{
    for (size_t i = 0; i < rp->nshown; i++)
        if (!strcmp(rp->shown[i], key)) return 1;
    rp->shown = pz_xrealloc(rp->shown, (rp->nshown + 1) * sizeof *rp->shown);
    rp->shown[rp->nshown++] = key;
    return 0;
}

static void describe_object(report *rp, const char *hash, int depth);

static void describe_run(report *rp, const pz_record *r, const char *hash, int depth)
{
    pz_sbuf *b = &rp->out;
    int in = depth * 4;
    pz_sb_printf(b, "%*s= %s/%s, run %s", in, "", r->stage ? r->stage : "?", role_in(r, hash), r->key);
    if (was_shown(rp, r->key)) {
        pz_sb_puts(b, " (shown above)\n");
        return;
    }
    pz_sb_printf(b, "\n%*s  stage    %s\n", in, "", r->stage ? r->stage : "?");
    pz_sb_printf(b, "%*s  key      %s\n", in, "", r->key);
    pz_sb_printf(b, "%*s  params   %s\n", in, "", r->params ? r->params : "{}");
    pz_sb_printf(b, "%*s  exe      %s %s\n", in, "", r->exe_hash, r->exe_path ? r->exe_path : "");
    pz_sb_printf(b, "%*s  pzflow   %s\n", in, "", r->pzflow_version ? r->pzflow_version : "(not recorded)");
    pz_sb_printf(b, "%*s  threads  %ld\n", in, "", r->threads);
    pz_sb_printf(b, "%*s  started  ", in, "");
    put_time(b, r->start_ns);
    pz_sb_printf(b, "\n%*s  ended    ", in, "");
    put_time(b, r->end_ns);
    pz_sb_printf(b, " (%.1f s, exit status %d)\n", (double)(r->end_ns - r->start_ns) / 1e9, r->status);
    for (size_t i = 0; i < r->ninputs; i++) {
        const pz_record_input *inp = &r->inputs[i];
        for (size_t k = 0; k < inp->nhashes; k++) {
            pz_sb_printf(b, "%*s  input    %s", in, "", inp->name);
            if (inp->is_list) pz_sb_printf(b, "[%zu]", k);
            pz_sb_printf(b, " %s\n", inp->hashes[k]);
            describe_object(rp, inp->hashes[k], depth + 1);
        }
    }
}

static void describe_object(report *rp, const char *hash, int depth)
{
    pz_record **who;
    size_t n = producers(&rp->rs, hash, &who);
    if (n == 0) {
        char *path = rp->statcache ? statcache_path_of(rp->statcache, hash) : NULL;
        pz_sb_printf(&rp->out, "%*s= external file %s\n", depth * 4, "",
                     path ? path : "(no run in this cache produced it; path unknown)");
        free(path);
    }
    for (size_t k = 0; k < n; k++) {
        if (k == 0) {
            describe_run(rp, who[0], hash, depth);
            continue;
        }
        /* The same bytes from another run (early cutoff, or an older key): named, not expanded. */
        pz_sb_printf(&rp->out, "%*s  also produced by %s/%s, run %s, ended ", depth * 4, "",
                     who[k]->stage ? who[k]->stage : "?", role_in(who[k], hash), who[k]->key);
        put_time(&rp->out, who[k]->end_ns);
        pz_sb_puts(&rp->out, "\n");
    }
    free(who);
}

char *pz_provenance_report(const char *cache, const char *hash, pz_err *err)
{
    report rp = {0};
    char *runs = pz_xasprintf("%s/runs", cache);
    int rc = load_records(runs, &rp.rs, err);
    free(runs);
    if (rc < 0) return NULL;
    pz_record **who;
    size_t n = producers(&rp.rs, hash, &who);
    free(who);
    if (n == 0) {
        pz_errf(err, "no run recorded in %s produced object %s (an external file, an object of another cache, "
                     "or its records were removed by gc)", cache, hash);
        free_records(&rp.rs);
        return NULL;
    }
    char *scpath = pz_xasprintf("%s/statcache", cache);
    pz_err ignored;
    rp.statcache = pz_read_file(scpath, NULL, &ignored);
    free(scpath);
    pz_sb_printf(&rp.out, "object %s\n", hash);
    describe_object(&rp, hash, 0);
    free(rp.statcache);
    free(rp.shown);
    free_records(&rp.rs);
    return rp.out.p;
}
