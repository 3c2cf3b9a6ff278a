#include "engine/results.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/workspace.h"
#include "util/sbuf.h"

/* ---- experiments ---- */

int pz_set_is_experiment(const char *set)
{
    static const char *const where[] = {"workspace=", "cache=", "show=", "description=", "executor="};
    for (size_t k = 0; k < sizeof where / sizeof *where; k++)
        if (!strncmp(set, where[k], strlen(where[k]))) return 0;
    /* stages.<name>.timeout=...: the timeout is not in any key (pipeline.h). */
    const char *eq = strchr(set, '=');
    size_t len = eq ? (size_t)(eq - set) : strlen(set);
    static const char tail[] = ".timeout";
    if (!strncmp(set, "stages.", 7) && len > 7 + sizeof tail - 1 && !strncmp(set + len - (sizeof tail - 1), tail, sizeof tail - 1))
        return 0;
    /* stages.<name>.resources[.<key>]=...: where and how long a stage may run (pipeline.h). */
    static const char res[] = ".resources";
    const char *r = strstr(set, res);
    if (!strncmp(set, "stages.", 7) && r && r < set + len && (r[sizeof res - 1] == '.' || r + sizeof res - 1 == set + len))
        return 0;
    return 1;
}

static int valid_name(const char *s)
{
    if (!*s || *s == '.' || strlen(s) > 64) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-') return 0;
    return 1;
}

int pz_experiment_name(const char *pipeline_name, const char *const *sets, size_t nsets, const char *given,
                       char **name, pz_err *err)
{
    *name = NULL;
    if (given) {
        if (!valid_name(given))
            return pz_errf(err, "--name '%s': use letters, digits, '.', '_' and '-' (not first '.', at most 64)", given);
        if (!strcmp(given, pipeline_name))
            return pz_errf(err, "--name '%s' is the pipeline's own name; pick another", given);
        *name = pz_xstrdup(given);
        return 0;
    }
    pz_hasher *h = pz_hasher_new();
    size_t n = 0;
    for (size_t k = 0; k < nsets; k++)
        if (pz_set_is_experiment(sets[k])) pz_hasher_str(h, sets[k]), n++;
    char hex[PZ_HASH_HEX];
    pz_hasher_final(h, hex);
    if (n) *name = pz_xasprintf("%.8s", hex);
    return 0;
}

char *pz_results_dir(const char *workspace_dir, const char *name)
{
    size_t len = strlen(workspace_dir);
    while (len > 1 && workspace_dir[len - 1] == '/') len--;
    return name ? pz_xasprintf("%.*s@%s", (int)len, workspace_dir, name) : pz_xasprintf("%.*s", (int)len, workspace_dir);
}

/* ---- the manifest ---- */

void pz_results_free(pz_results_manifest *m)
{
    if (!m) return;
    free(m->pipeline);
    free(m->experiment);
    for (size_t k = 0; k < m->nsets; k++) free(m->sets[k]);
    free(m->sets);
    for (size_t k = 0; k < m->n; k++) free(m->stages[k]);
    free(m->stages);
    free(m->keys);
    free(m);
}

const char *pz_results_key(const pz_results_manifest *m, const char *stage)
{
    for (size_t k = 0; m && k < m->n; k++)
        if (!strcmp(m->stages[k], stage)) return m->keys[k];
    return NULL;
}

static char *next_word(char **rest)
{
    char *s = *rest;
    while (*s == ' ') s++;
    if (!*s) return NULL;
    char *w = s;
    while (*s && *s != ' ') s++;
    if (*s) *s++ = 0;
    *rest = s;
    return w;
}

/* One manifest line into m; 0, or -1 when malformed. */
static int parse_manifest_line(pz_results_manifest *m, char *line)
{
    char *rest = line, *field = next_word(&rest), *a = next_word(&rest), *b = next_word(&rest);
    if (!field) return 0;
    if (!a) return -1;
    if (!strcmp(field, "finished")) {
        m->finished_ns = atoll(a);
        return 0;
    }
    char *u = pz_unescape(a);
    if (!u) return -1;
    if (!strcmp(field, "pipeline")) free(m->pipeline), m->pipeline = u;
    else if (!strcmp(field, "experiment")) {
        free(m->experiment);
        m->experiment = strcmp(u, "-") ? u : (free(u), NULL);
    } else if (!strcmp(field, "set")) {
        m->sets = pz_xrealloc(m->sets, (m->nsets + 1) * sizeof *m->sets);
        m->sets[m->nsets++] = u;
    } else if (!strcmp(field, "stage")) {
        if (!b || !pz_hash_valid(b)) return free(u), -1;
        if (m->n >= 4 ? !(m->n & (m->n - 1)) : !m->n) { /* doubling: 4, 8, 16, ... (3,000 stages) */
            size_t cap = m->n ? 2 * m->n : 4;
            m->stages = pz_xrealloc(m->stages, cap * sizeof *m->stages);
            m->keys = pz_xrealloc(m->keys, cap * sizeof *m->keys);
        }
        m->stages[m->n] = u;
        memcpy(m->keys[m->n++], b, PZ_HASH_HEX);
    } else {
        free(u); /* unknown fields: newer versions may add some */
    }
    return 0;
}

pz_results_manifest *pz_results_read(const char *dir, pz_err *err)
{
    char *path = pz_xasprintf("%s/%s", dir, PZ_RESULTS_MANIFEST);
    char *text = pz_read_file(path, NULL, err);
    if (!text) {
        free(path);
        return NULL;
    }
    pz_results_manifest *m = pz_xcalloc(1, sizeof *m);
    /* Version 1 folders (instance folders "train[3]", absolute links) still read; a run
     * rebuilds them in the version 2 layout (same_run). */
    int line_no = 0, bad = strncmp(text, "pzflow-results ", 15) || (text[15] != '1' && text[15] != '2') ||
                           text[16] != '\n';
    m->version = bad ? 0 : text[15] - '0';
    char *save = NULL;
    for (char *line = bad ? NULL : strtok_r(text + 17, "\n", &save); line && !bad; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        bad = parse_manifest_line(m, line) < 0;
    }
    if (bad) {
        pz_errf(err, "%s:%d: malformed results manifest", path, line_no + 1);
        pz_results_free(m);
        m = NULL;
    }
    free(text);
    free(path);
    return m;
}

static void sb_escaped(pz_sbuf *b, const char *field, const char *s)
{
    char *e = pz_escape(s);
    pz_sb_printf(b, "%s %s\n", field, e);
    free(e);
}

static char *manifest_text(const pz_plan *pl, const char *pipeline_abs, const char *experiment,
                           const char *const *sets, size_t nsets, int64_t finished_ns)
{
    pz_sbuf b = {0};
    pz_sb_printf(&b, "pzflow-results 2\n");
    sb_escaped(&b, "pipeline", pipeline_abs);
    sb_escaped(&b, "experiment", experiment ? experiment : "-");
    for (size_t k = 0; k < nsets; k++) sb_escaped(&b, "set", sets[k]);
    pz_sb_printf(&b, "finished %lld\n", (long long)finished_ns);
    for (size_t i = 0; i < pl->p->nstages; i++) {
        char *e = pz_escape(pl->p->stages[i].name);
        pz_sb_printf(&b, "stage %s %s\n", e, pl->current[i]->key);
        free(e);
    }
    return b.p;
}

/* ---- comparing ---- */

/* Key of `stage`, looking first just after the previous match (*cursor): the manifest lists the
 * stages in the pipeline's order, so a walk over the pipeline finds each at the next entry, and
 * after a stage added or removed it resynchronises with one scan. A scan per stage made the
 * no-op check quadratic: 45% of the instructions of a 3000-instance survey pipeline. */
static const char *key_after(const pz_results_manifest *m, size_t *cursor, const char *stage)
{
    if (!m) return NULL;
    if (*cursor < m->n && !strcmp(m->stages[*cursor], stage)) return m->keys[(*cursor)++];
    for (size_t k = 0; k < m->n; k++)
        if (!strcmp(m->stages[k], stage)) {
            *cursor = k + 1;
            return m->keys[k];
        }
    return NULL;
}

size_t pz_results_differing(const pz_results_manifest *m, const pz_plan *pl, const char ***names)
{
    const char **v = pz_xmalloc((pl->p->nstages + (m ? m->n : 0) + 1) * sizeof *v);
    size_t n = 0, cursor = 0;
    for (size_t i = 0; i < pl->p->nstages; i++) {
        const char *have = key_after(m, &cursor, pl->p->stages[i].name);
        const pz_record *want = pl->current[i] ? pl->current[i] : pl->cand[i];
        if (!(have && want && !strcmp(have, want->key))) v[n++] = pl->p->stages[i].name;
    }
    for (size_t k = 0; m && k < m->n; k++)
        if (pz_pipeline_find(pl->p, m->stages[k]) < 0) v[n++] = m->stages[k];
    *names = v;
    return n;
}

size_t pz_results_mismatch(const pz_results_manifest *m, const pz_plan *pl, char **names)
{
    const char **v;
    size_t n = pz_results_differing(m, pl, &v);
    pz_sbuf b = {0};
    for (size_t k = 0; k < n && k < 3; k++) pz_sb_printf(&b, "%s%s", k ? ", " : "", v[k]);
    free(v);
    *names = b.p ? b.p : pz_xstrdup("");
    return n;
}

static int same_run(const pz_results_manifest *m, const pz_plan *pl, const char *pipeline_abs, const char *experiment,
                    const char *const *sets, size_t nsets)
{
    if (!m || m->version < 2 || !m->pipeline || strcmp(m->pipeline, pipeline_abs)) return 0;
    if (!experiment != !m->experiment || (experiment && strcmp(experiment, m->experiment))) return 0;
    if (m->nsets != nsets) return 0;
    for (size_t k = 0; k < nsets; k++)
        if (strcmp(m->sets[k], sets[k])) return 0;
    if (m->n != pl->p->nstages) return 0;
    char *names;
    size_t differ = pz_results_mismatch(m, pl, &names);
    free(names);
    return differ == 0;
}

/* ---- building and swapping ---- */

/* Remove what pzflow wrote in a results tree (links, the manifest, directories left empty).
 * Returns the number of entries kept because pzflow did not write them. */
static size_t remove_our_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t kept = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = pz_xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) < 0) {
        } else if (S_ISDIR(st.st_mode)) {
            size_t k = remove_our_tree(p);
            kept += k;
            if (!k && rmdir(p) < 0) kept++;
        } else if (S_ISLNK(st.st_mode) || (S_ISREG(st.st_mode) && !strcmp(e->d_name, PZ_RESULTS_MANIFEST))) {
            if (unlink(p) < 0) kept++;
        } else {
            kept++;
        }
        free(p);
    }
    closedir(d);
    return kept;
}

static int is_our_link(const char *path)
{
    char target[4096];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) return 0;
    target[n] = 0;
    return pz_workspace_is_object_link(target);
}

/* The paths a new tree will put links at must hold nothing of the user's: a file or a link of
 * theirs, or a folder that is a symbolic link (a swap would take it away from where they keep
 * it), stops the run with exit 4 and one line naming it. Other files of theirs elsewhere in the
 * folder are kept (retire_old_tree). */
static int check_old_tree(const char *dir, const pz_plan *pl, pz_err *err)
{
    struct stat st;
    if (lstat(dir, &st) < 0) return 0;
    if (S_ISLNK(st.st_mode)) return pz_errf(err, "%s is a symbolic link; pzflow writes results only into real folders", dir);
    if (!S_ISDIR(st.st_mode)) return pz_errf(err, "%s exists and is not a folder pzflow made; move it away", dir);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < pl->p->nstages; i++) {
        const pz_stage *s = &pl->p->stages[i];
        char *sd = pz_workspace_stage_dir(dir, s->name);
        if (lstat(sd, &st) == 0 && S_ISLNK(st.st_mode))
            rc = pz_errf(err, "%s is a symbolic link; pzflow writes results only into real folders", sd);
        else if (lstat(sd, &st) == 0 && !S_ISDIR(st.st_mode))
            rc = pz_errf(err, "%s exists and is not a folder pzflow made; not replacing it", sd);
        for (size_t k = 0; rc == 0 && k < s->noutputs; k++) {
            char *file = pz_workspace_file_name(s, s->outputs[k]);
            char *link = pz_xasprintf("%s/%s", sd, file);
            if (lstat(link, &st) == 0 && (!S_ISLNK(st.st_mode) || !is_our_link(link)))
                rc = pz_errf(err, "%s exists and is not a link pzflow made; not replacing it", link);
            free(link);
            free(file);
        }
        free(sd);
    }
    return rc;
}

static int build_tree(const char *tmp, const pz_plan *pl, const char *manifest, pz_err *err)
{
    if (pz_mkdirs(tmp, err) < 0) return -1;
    pz_linker lk = {.cache = pl->cache};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < pl->p->nstages; i++)
        rc = pz_workspace_link(&lk, tmp, &pl->p->stages[i], pl->current[i], err);
    pz_linker_free(&lk);
    if (rc < 0) return -1;
    char *path = pz_xasprintf("%s/%s", tmp, PZ_RESULTS_MANIFEST);
    rc = pz_write_atomic(path, manifest, strlen(manifest), err);
    free(path);
    return rc;
}

/* Put `tmp` at `dir`; afterwards the previous tree (if any) is at *old (malloc'd) or NULL. */
static int swap_in(const char *tmp, const char *dir, char **old, pz_err *err)
{
    *old = NULL;
    struct stat st;
    if (lstat(dir, &st) < 0) {
        if (rename(tmp, dir) < 0) return pz_errf(err, "cannot create %s: %s", dir, strerror(errno));
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) return pz_errf(err, "%s exists and is not a directory; move it away", dir);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0) {
        *old = pz_xstrdup(tmp);
        return 0;
    }
    /* A filesystem without the atomic exchange: two renames (a reader may find no folder for
     * that instant, never a mixed one). */
    char *aside = pz_xasprintf("%s.old.%ld", dir, (long)getpid());
    if (rename(dir, aside) < 0 || rename(tmp, dir) < 0) {
        int rc = pz_errf(err, "cannot replace %s: %s", dir, strerror(errno));
        free(aside);
        return rc;
    }
    *old = aside;
    return 0;
}

/* Remove the previous tree, or keep it under a dated name when it holds files of the user's. */
static void retire_old_tree(const char *old, const char *dir, char **note)
{
    if (remove_our_tree(old) == 0 && rmdir(old) == 0) return;
    char when[32];
    time_t t = time(NULL);
    strftime(when, sizeof when, "%Y%m%d-%H%M%S", localtime(&t));
    char *kept = pz_xasprintf("%s.old.%s", dir, when);
    if (rename(old, kept) == 0)
        *note = pz_xasprintf("%s held files pzflow did not write; the previous folder is kept as %s", dir, kept);
    else
        *note = pz_xasprintf("%s held files pzflow did not write; the previous folder is kept as %s", dir, old);
    free(kept);
}

void pz_results_remove(const char *dir, char **note)
{
    *note = NULL;
    size_t kept = remove_our_tree(dir);
    if (kept || (rmdir(dir) < 0 && errno != ENOENT))
        *note = pz_xasprintf("%s holds files pzflow did not write; they are left there", dir);
}

char *pz_results_experiments(const char *workspace_dir)
{
    char *base = pz_results_dir(workspace_dir, NULL), *slash = strrchr(base, '/');
    char *parent = slash ? pz_xasprintf("%.*s", (int)(slash - base), base) : pz_xstrdup(".");
    const char *leaf = slash ? slash + 1 : base;
    size_t len = strlen(leaf);
    pz_sbuf b = {0};
    pz_sb_puts(&b, "");
    DIR *d = opendir(*parent ? parent : "/");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, leaf, len) || e->d_name[len] != '@') continue;
        char *m = pz_xasprintf("%s/%s/%s", parent, e->d_name, PZ_RESULTS_MANIFEST);
        if (access(m, F_OK) == 0) pz_sb_printf(&b, "%s%s", b.len ? " " : "", e->d_name + len + 1);
        free(m);
    }
    if (d) closedir(d);
    free(parent);
    free(base);
    return b.p;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* "<dir>.new.<pid>" trees of runs killed between building and swapping: the run lock is held,
 * so one whose pid is not running is a leftover. Only what pzflow wrote in it is removed. */
static void sweep_dead_new_trees(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    char *parent = slash ? pz_xasprintf("%.*s", (int)(slash - dir), dir) : pz_xstrdup(".");
    char *prefix = pz_xasprintf("%s.new.", slash ? slash + 1 : dir);
    DIR *d = opendir(*parent ? parent : "/");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix))) continue;
        char *end;
        long pid = strtol(e->d_name + strlen(prefix), &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH)) continue;
        char *p = pz_xasprintf("%s/%s", parent, e->d_name);
        if (remove_our_tree(p) == 0) rmdir(p);
        free(p);
    }
    if (d) closedir(d);
    free(parent);
    free(prefix);
}

/* 1 when the real folder `dir` has every link of the run, right: checked once, one readlink per
 * link (the no-op run of a 1,000-part survey checks 4,000 links). */
static int tree_shows(const char *dir, const pz_plan *pl)
{
    struct stat st;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) return 0;
    pz_linker lk = {.cache = pl->cache};
    int all = 1;
    for (size_t i = 0; all && i < pl->p->nstages; i++) all = pz_workspace_shows(&lk, dir, &pl->p->stages[i], pl->current[i]);
    pz_linker_free(&lk);
    return all;
}

/* The folder's manifest already names this run: nothing to do when every link is right, else
 * repair the links removed or changed by hand, in place (refusing a user's file as a swap would). */
static int repair_in_place(const char *dir, const pz_plan *pl, pz_err *err)
{
    if (tree_shows(dir, pl)) return 0;
    if (check_old_tree(dir, pl, err) < 0) return -1;
    pz_linker lk = {.cache = pl->cache};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < pl->p->nstages; i++)
        rc = pz_workspace_link(&lk, dir, &pl->p->stages[i], pl->current[i], err);
    pz_linker_free(&lk);
    return rc;
}

int pz_results_publish(const char *dir, const pz_plan *pl, const char *pipeline_abs, const char *experiment,
                       const char *const *sets, size_t nsets, int *changed, char **note, pz_err *err)
{
    *changed = 0;
    *note = NULL;
    for (size_t i = 0; i < pl->p->nstages; i++)
        if (!pl->current[i]) return pz_errf(err, "internal: results of an incomplete run (%s)", pl->p->stages[i].name);
    pz_err ignored;
    pz_results_manifest *m = pz_results_read(dir, &ignored);
    int same = same_run(m, pl, pipeline_abs, experiment, sets, nsets);
    pz_results_free(m);
    if (same) return repair_in_place(dir, pl, err);
    if (check_old_tree(dir, pl, err) < 0) return -1;
    sweep_dead_new_trees(dir);
    char *tmp = pz_xasprintf("%s.new.%ld", dir, (long)getpid());
    pz_rmtree(tmp, &ignored); /* a leftover of a run with our pid that died */
    char *text = manifest_text(pl, pipeline_abs, experiment, sets, nsets, now_ns());
    char *old = NULL;
    int rc = build_tree(tmp, pl, text, err);
    if (rc == 0) rc = swap_in(tmp, dir, &old, err);
    if (rc < 0) pz_rmtree(tmp, &ignored);
    if (old) retire_old_tree(old, dir, note);
    if (rc == 0) *changed = 1;
    free(old);
    free(text);
    free(tmp);
    return rc;
}
