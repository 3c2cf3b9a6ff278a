#include "engine/describe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/fs.h"
#include "engine/load.h" /* pz_path_join_abs */
#include "util/params.h"
#include "util/sbuf.h"

/* A description is small; anything longer, or slower, is not one. */
#define DESCRIBE_MAX_BYTES (1 << 20)
#define DESCRIBE_TIMEOUT_MS 10000
/* What the cache remembers for an executable that does not describe itself. */
#define NOT_DESCRIBED "pzflow-describe none\n"

/* ---- asking an executable ---- */

static void child_describe(const char *exe, int out_fd)
{
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 2);
    }
    dup2(out_fd, 1);
    execl(exe, exe, "--describe", (char *)NULL);
    _exit(127);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* stdout of `exe --describe` when it exits 0 within the time limit, else NULL. */
static char *run_describe(const char *exe)
{
    int fds[2];
    if (pipe(fds) < 0) return NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        close(fds[0]);
        child_describe(exe, fds[1]);
    }
    close(fds[1]);
    pz_sbuf b = {0};
    pz_sb_put(&b, "", 0);
    double deadline = now_ms() + DESCRIBE_TIMEOUT_MS;
    int ok = 1;
    for (;;) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            if (errno == EINTR) continue;
            ok = 0;
            break;
        }
        char chunk[8192];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pz_sb_put(&b, chunk, (size_t)n);
        if (b.len > DESCRIBE_MAX_BYTES) {
            ok = 0;
            break;
        }
    }
    close(fds[0]);
    if (!ok) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- the cache of descriptions, by executable hash ---- */

typedef struct described {
    char *exe_path;
    pz_stage_desc *desc; /* NULL: the executable does not describe itself */
} described;

typedef struct describer {
    pz_statcache *sc;
    const char *dir;
    described *v;
    size_t n;
} describer;

/* A description as cached (compact lines) or as printed (JSON); NULL for anything else. */
static pz_stage_desc *parse_or_null(const char *text, const char *exe)
{
    pz_err ignore;
    if (!text) return NULL;
    pz_stage_desc *d = pz_stage_desc_parse_lines(text);
    return d ? d : pz_stage_desc_parse(text, exe, &ignore);
}

static void save_description(const describer *d, const char *hash, const char *text)
{
    if (!d->dir) return;
    pz_err ignore; /* only a cache: a read-only cache directory asks again next time */
    char *path = pz_xasprintf("%s/%s", d->dir, hash);
    if (pz_mkdirs(d->dir, &ignore) == 0) pz_write_atomic(path, text, strlen(text), &ignore);
    free(path);
}

/* The description of exe (NULL when it has none). Errors: the executable cannot be read. */
static int describe_exe(describer *d, const char *exe, const pz_stage_desc **out, pz_err *err)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->v[i].exe_path, exe)) return *out = d->v[i].desc, 0;
    char hash[PZ_HASH_HEX];
    if (pz_statcache_hash(d->sc, exe, hash, err) < 0) return pz_err_prefix(err, "executable ");
    char *path = d->dir ? pz_xasprintf("%s/%s", d->dir, hash) : NULL;
    pz_err ignore;
    char *text = path ? pz_read_file(path, NULL, &ignore) : NULL;
    free(path);
    if (!text) {
        char *full = run_describe(exe);
        pz_stage_desc *check = parse_or_null(full, exe);
        text = !check ? pz_xstrdup(NOT_DESCRIBED)
               : pz_stage_def_lines_safe(&check->def) ? pz_stage_desc_format_lines(&check->def)
                                                      : pz_xstrdup(full);
        save_description(d, hash, text);
        pz_stage_desc_free(check);
        free(full);
    }
    d->v = pz_xrealloc(d->v, (d->n + 1) * sizeof *d->v);
    d->v[d->n] = (described){pz_xstrdup(exe), parse_or_null(text, exe)};
    free(text);
    *out = d->v[d->n++].desc;
    return 0;
}

static void describer_free(describer *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].exe_path);
        pz_stage_desc_free(d->v[i].desc);
    }
    free(d->v);
}

/* ---- where things are declared, for messages ---- */

/* The declaration of base stage `name`, or NULL. */
static const pz_ynode *stage_node(const pz_pipeline *p, const char *name, const pz_ynode **key)
{
    const pz_ynode *stages = pz_ymap_get(p->doc, "stages");
    for (size_t i = 0; stages && stages->kind == PZ_Y_MAP && i < stages->n; i++)
        if (!strcmp(stages->keys[i]->str, name)) {
            if (key) *key = stages->keys[i];
            return stages->items[i];
        }
    return NULL;
}

/* The key `name` of section (inputs, outputs) of a stage's declaration; else the stage's name. */
static const pz_ynode *declared_at(const pz_pipeline *p, const pz_stage *s, const char *section, const char *name)
{
    const pz_ynode *key = NULL;
    const pz_ynode *decl = stage_node(p, s->base_name, &key);
    const pz_ynode *sec = pz_ymap_get(decl, section);
    for (size_t i = 0; name && sec && sec->kind == PZ_Y_MAP && i < sec->n; i++)
        if (!strcmp(sec->keys[i]->str, name)) return sec->keys[i];
    for (size_t i = 0; name && sec && sec->kind == PZ_Y_SEQ && i < sec->n; i++)
        if (sec->items[i]->str && !strcmp(sec->items[i]->str, name)) return sec->items[i];
    return sec && name ? sec : key;
}

/* ---- the checks ---- */

static int check_params(const pz_pipeline *p, const pz_stage *s, const pz_stage_def *def, pz_err *err)
{
    const pz_ynode *at;
    if (pz_params_validate(def->params, s->params, &at, err) == 0) return 0;
    if (at == s->params || !at) at = declared_at(p, s, "params", NULL);
    char msg[PZ_ERR_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return pz_pipeline_err_at(p, at, err, "stage '%s' (%s): %s", s->name, def->prog, msg);
}

static int unknown_io(const pz_pipeline *p, const pz_stage *s, const pz_stage_def *def, const char *section,
                      const char *name, const pz_io_def *known, pz_err *err)
{
    const pz_ynode *at = declared_at(p, s, section, name);
    const char *near = pz_io_suggest(known, name);
    char list[PZ_ERR_MAX / 2] = "";
    for (const pz_io_def *k = known; k && k->name; k++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", k == known ? "" : ", ", k->name);
    }
    if (near)
        return pz_pipeline_err_at(p, at, err, "stage '%s': %s has no %s '%s' (did you mean '%s'?)", s->name, def->prog,
                                  section[0] == 'i' ? "input" : "output", name, near);
    return pz_pipeline_err_at(p, at, err, "stage '%s': %s has no %s '%s' (it has: %s)", s->name, def->prog,
                              section[0] == 'i' ? "input" : "output", name, list[0] ? list : "none");
}

static int check_inputs(const pz_pipeline *p, const pz_stage *s, const pz_stage_def *def, pz_err *err)
{
    for (size_t k = 0; k < s->ninputs; k++) {
        const pz_stage_input *in = &s->inputs[k];
        const pz_io_def *d = pz_io_find(def->inputs, in->name);
        if (!d && def->open_inputs) continue;
        if (!d) return unknown_io(p, s, def, "inputs", in->name, def->inputs, err);
        if (d->files == PZ_IO_ONE && in->is_list)
            return pz_pipeline_err_at(p, declared_at(p, s, "inputs", in->name), err,
                                      "stage '%s': input '%s' of %s takes one file, got a list", s->name, in->name,
                                      def->prog);
    }
    for (const pz_io_def *d = def->inputs; d && d->name; d++) {
        int have = 0;
        for (size_t k = 0; k < s->ninputs && !have; k++) have = !strcmp(s->inputs[k].name, d->name);
        if (!have && !d->optional)
            return pz_pipeline_err_at(p, declared_at(p, s, "inputs", NULL), err,
                                      "stage '%s': %s needs input '%s' (%s)", s->name, def->prog, d->name,
                                      d->doc ? d->doc : "");
    }
    return 0;
}

static int check_outputs(const pz_pipeline *p, const pz_stage *s, const pz_stage_def *def, pz_err *err)
{
    for (size_t k = 0; k < s->noutputs; k++)
        if (!pz_io_find(def->outputs, s->outputs[k]) && !def->open_outputs)
            return unknown_io(p, s, def, "outputs", s->outputs[k], def->outputs, err);
    for (const pz_io_def *d = def->outputs; d && d->name; d++) {
        int have = 0;
        for (size_t k = 0; k < s->noutputs && !have; k++) have = !strcmp(s->outputs[k], d->name);
        if (!have && !d->optional)
            return pz_pipeline_err_at(p, declared_at(p, s, "outputs", NULL), err,
                                      "stage '%s': %s writes output '%s' and the pipeline must declare it (%s)",
                                      s->name, def->prog, d->name, d->doc ? d->doc : "");
    }
    return 0;
}

/* The extensions the stage declares for its outputs, kept for the results folder's file names. */
static void record_output_exts(pz_stage *s, const pz_stage_def *def)
{
    s->output_exts = pz_xcalloc(s->noutputs ? s->noutputs : 1, sizeof *s->output_exts);
    for (size_t k = 0; k < s->noutputs; k++) {
        const pz_io_def *d = pz_io_find(def->outputs, s->outputs[k]);
        if (d && d->ext && *d->ext) s->output_exts[k] = pz_xstrdup(d->ext);
    }
}

/* ---- files named by params become inputs ---- */

static int cmp_input(const void *a, const void *b)
{
    return strcmp(((const pz_stage_input *)a)->name, ((const pz_stage_input *)b)->name);
}

static void add_param_input(pz_stage *s, const char *param, char *abs_path)
{
    s->inputs = pz_xrealloc(s->inputs, (s->ninputs + 1) * sizeof *s->inputs);
    pz_stage_input *in = &s->inputs[s->ninputs++];
    memset(in, 0, sizeof *in);
    in->name = pz_xasprintf("%s%s", PZ_PARAM_INPUT_PREFIX, param);
    in->nrefs = 1;
    in->refs = pz_xcalloc(1, sizeof *in->refs);
    in->refs[0].is_external = 1;
    in->refs[0].path = abs_path;
    qsort(s->inputs, s->ninputs, sizeof *s->inputs, cmp_input); /* inputs stay sorted by name */
}

static int declare_path_params(const pz_pipeline *p, pz_stage *s, const pz_stage_def *def, pz_err *err)
{
    for (const pz_param_def *d = def->params; d && d->name; d++) {
        if (d->type != PZ_PT_PATH) continue;
        const pz_ynode *v = pz_ymap_get(s->params, d->name);
        if (!v || v->kind != PZ_Y_SCALAR || pz_param_is_builtin(d, v->str)) continue;
        char *abs_path = pz_path_join_abs(p->root_dir, v->str);
        if (access(abs_path, R_OK) != 0) {
            int e = errno;
            pz_pipeline_err_at(p, v, err, "stage '%s': param '%s': %s: %s (relative paths resolve against %s%s%s)",
                               s->name, d->name, abs_path, strerror(e), p->root_dir, d->choices ? "; built-in: " : "",
                               d->choices ? d->choices : "");
            free(abs_path);
            return -1;
        }
        add_param_input(s, d->name, abs_path);
    }
    return 0;
}

int pz_pipeline_check(pz_pipeline *p, pz_statcache *sc, const char *desc_dir, pz_err *err)
{
    describer d = {.sc = sc, .dir = desc_dir};
    int rc = 0;
    for (size_t i = 0; i < p->nstages && rc == 0; i++) {
        pz_stage *s = &p->stages[i];
        const pz_stage_desc *desc;
        if ((rc = describe_exe(&d, s->exe_path, &desc, err)) < 0 || !desc) continue;
        rc = check_params(p, s, &desc->def, err) || check_inputs(p, s, &desc->def, err) ||
                     check_outputs(p, s, &desc->def, err) || declare_path_params(p, s, &desc->def, err)
                 ? -1
                 : 0;
        if (rc == 0) record_output_exts(s, &desc->def);
    }
    describer_free(&d);
    return rc;
}
