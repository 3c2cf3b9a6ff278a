/* Shell-completion words and the stage directory. See complete.h. */
#include "engine/complete.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cli.h"
#include "util/sbuf.h"

static int listed(const pz_pipeline *p, size_t upto, const char *name)
{
    for (size_t i = 0; i < upto; i++)
        if (!strcmp(p->stages[i].base_name, name)) return 1;
    return 0;
}

char *pz_complete_stages(const pz_pipeline *p)
{
    pz_sbuf b = {0};
    pz_sb_puts(&b, "");
    for (size_t i = 0; i < p->nstages; i++) /* declared names, each once */
        if (!listed(p, i, p->stages[i].base_name)) pz_sb_printf(&b, "%s\n", p->stages[i].base_name);
    for (size_t i = 0; i < p->nstages; i++) /* foreach instances: train-base[3] */
        if (strcmp(p->stages[i].name, p->stages[i].base_name)) pz_sb_printf(&b, "%s\n", p->stages[i].name);
    return b.p;
}

/* Every value a --set can replace: scalars and lists by their dotted path (a list is set
 * whole, as on the command line), maps by their keys. */
static void add_paths(pz_sbuf *b, const pz_ynode *node, const char *prefix)
{
    if (node->kind != PZ_Y_MAP || node->n == 0) {
        if (*prefix) pz_sb_printf(b, "%s=\n", prefix);
        return;
    }
    for (size_t k = 0; k < node->n; k++) {
        char *path = *prefix ? pz_xasprintf("%s.%s", prefix, node->keys[k]->str) : pz_xstrdup(node->keys[k]->str);
        add_paths(b, node->items[k], path);
        free(path);
    }
}

char *pz_complete_sets(const pz_pipeline *p)
{
    pz_sbuf b = {0};
    pz_sb_puts(&b, "");
    if (p->doc) add_paths(&b, p->doc, "");
    return b.p;
}

static char *exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return pz_xstrdup(".");
    buf[n] = 0;
    return pz_xstrdup(dirname(buf));
}

char *pz_stage_dir(void)
{
    char *dir = exe_dir();
#ifdef PZ_STAGE_DIR_FROM_BIN
    char *installed = pz_xasprintf("%s/%s", dir, PZ_STAGE_DIR_FROM_BIN);
    char *real = realpath(installed, NULL);
    struct stat st;
    free(installed);
    if (real && stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
        free(dir);
        return real;
    }
    free(real);
#endif
    return dir;
}

int pz_complete_main(int argc, char **argv)
{
    int stages = argc == 3 && !strcmp(argv[1], "stages"), sets = argc == 3 && !strcmp(argv[1], "sets");
    if (!stages && !sets) {
        fputs("usage: pzflow __complete stages|sets PIPELINE.yaml (for shell completion)\n", stderr);
        return PZ_EXIT_USAGE;
    }
    pz_err err;
    char *bins = pz_stage_dir();
    pz_pipeline *p = pz_pipeline_load(argv[2], NULL, 0, bins, &err);
    free(bins);
    if (!p) return PZ_EXIT_USAGE; /* silent: a half-typed command line is not an error to show */
    char *words = stages ? pz_complete_stages(p) : pz_complete_sets(p);
    fputs(words, stdout);
    free(words);
    pz_pipeline_free(p);
    return PZ_EXIT_OK;
}
