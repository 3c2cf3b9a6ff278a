/* The sequence of issue 11 on pipelines/quick.yaml with the real stages: an experiment
 * (--set fine-tune-tl lr=5e-5), a failed --keep-going run of the pipeline as written, an
 * --until run. Afterwards results/quick/ never mixes the two configurations, gc keeps the
 * experiment, status is truthful, and diff shows the two runs side by side; `gc -n --experiment`
 * lists what removing the experiment would remove, and removes nothing. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/pztest.h"
#include "util/err.h"

static char *dir; /* cache and results of this suite */

static int quick(char **out, const char *cmd, const char *extra)
{
    return pzt_run(pzt_source_dir(), out, "'%s/pzflow' %s pipelines/quick.yaml -j 2 -C '%s/cache' --set 'workspace=%s/results/quick' %s",
                   pzt_bin_dir(), cmd, dir, dir, extra);
}


static char *link_target(const char *rel)
{
    char *p = pz_xasprintf("%s/results/%s", dir, rel), buf[4096];
    ssize_t n = readlink(p, buf, sizeof buf - 1);
    free(p);
    if (n <= 0) return NULL;
    buf[n] = 0;
    return pz_xstrdup(buf);
}

/* Every link of a results folder reaches an object in the cache. */
static int folder_intact(const char *name)
{
    return pzt_run(dir, NULL, "cd 'results/%s' && test -f .pzflow-results && find . -type l | grep -q . && "
                              "! find . -type l -exec test ! -e {} \\; -print | grep -q .", name) == 0;
}

static void test_the_issue_sequence(void)
{
    dir = pzt_mkdtemp("experiments");
    char *out, name[64] = "";
    /* 1. An experiment: the TL fine-tuning rate halved. */
    CU_ASSERT_EQUAL(quick(&out, "run", "--set stages.fine-tune-tl.params.lr=5e-5"), 0);
    char *at = out ? strstr(out, "results/quick@") : NULL;
    if (at) sscanf(at + strlen("results/quick@"), "%63[^ ]", name);
    CU_ASSERT_EQUAL_FATAL(strlen(name), 8);
    CU_ASSERT_TRUE(pzt_has(out, " now shows this run"));
    free(out);
    char *exp = pz_xasprintf("quick@%s", name), *exp_set = pz_xasprintf("--name %s --set stages.fine-tune-tl.params.lr=5e-5", name);
    /* 2. The pipeline as written, with a stage that fails (evaluate killed at a 1 ms timeout;
     *    the timeout is not in the key, so this is not an experiment). */
    CU_ASSERT_EQUAL(quick(&out, "run", "--keep-going --set stages.evaluate.timeout=0.001"), 1);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: stage evaluate failed: timed out"));
    CU_ASSERT_TRUE(pzt_has(out, "not made: only a complete run makes it"));
    free(out);
    /* 3. An --until run. */
    CU_ASSERT_EQUAL(quick(&out, "run", "--until fine-tune-tl"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "not made: only a complete run makes it"));
    free(out);
    char *mine = pz_xasprintf("%s/results/quick", dir);
    CU_ASSERT_FALSE(pzt_exists(mine)); /* never a folder mixing the experiment's model and an old table */
    /* status is truthful: evaluate has not run as written, and there is no complete run. */
    CU_ASSERT_EQUAL(quick(&out, "status", ""), 0);
    CU_ASSERT_TRUE(pzt_has(out, "stale  evaluate: last run was killed by signal 9"));
    CU_ASSERT_TRUE(pzt_has(out, "holds no complete run yet"));
    free(out);
    /* gc keeps the experiment: its folder still resolves, and show prints its table. */
    CU_ASSERT_EQUAL(quick(&out, "gc", ""), 0);
    free(out);
    CU_ASSERT_TRUE(folder_intact(exp));
    CU_ASSERT_EQUAL(quick(&out, "show", exp_set), 0);
    CU_ASSERT_TRUE(pzt_has(out, "| NN-TL | GalaxiesML |"));
    free(out);
    /* 4. A complete run makes results/quick/, all of one configuration. */
    CU_ASSERT_EQUAL(quick(&out, "run", ""), 0);
    CU_ASSERT_TRUE(pzt_has(out, "run evaluate: last run was killed by signal 9"));
    CU_ASSERT_TRUE(pzt_has(out, "results/quick now shows this run"));
    free(out);
    CU_ASSERT_TRUE(folder_intact("quick"));
    CU_ASSERT_EQUAL(quick(&out, "status", ""), 0);
    CU_ASSERT_TRUE(pzt_has(out, "0 stale, 0 waiting on upstream, 96 up to date"));
    CU_ASSERT_TRUE(pzt_has(out, "results/quick shows this configuration"));
    CU_ASSERT_PTR_NULL(strstr(out, "warning"));
    free(out);
    /* The model in results/quick is the lr=1e-4 one (why names its params and output hash),
     * the experiment's is another object. */
    char *ours = link_target("quick/fine-tune-tl/1/model.h5"), *theirs = pz_xasprintf("%s/fine-tune-tl/1/model.h5", exp);
    char *other = link_target(theirs);
    CU_ASSERT_TRUE(ours && other && strcmp(ours, other));
    CU_ASSERT_EQUAL(quick(&out, "why", "'fine-tune-tl[1]'"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "\"lr\":1.0e-4"));
    char *hash = ours ? pz_xasprintf("%.2s%s", ours + strlen(ours) - 33, ours + strlen(ours) - 30) : NULL;
    CU_ASSERT_TRUE(hash && pzt_has(out, hash));
    free(out), free(hash), free(ours), free(theirs);
    /* show prints the table results/quick links to. */
    char *table = pz_xasprintf("%s/results/quick/evaluate/table.md", dir), *linked = pzt_read_file(table, NULL);
    CU_ASSERT_EQUAL(quick(&out, "show", ""), 0);
    CU_ASSERT_TRUE(linked && out && !strcmp(out, linked));
    free(out), free(linked), free(table);
    /* diff: the param that differs, and the metrics it moved. */
    char *args = pz_xasprintf("quick %s", name);
    CU_ASSERT_EQUAL(pzt_run(pzt_source_dir(), &out, "'%s/pzflow' diff pipelines/quick.yaml %s -C '%s/cache' --set 'workspace=%s/results/quick'",
                            pzt_bin_dir(), args, dir, dir), 0);
    CU_ASSERT_TRUE(pzt_has(out, "--set stages.fine-tune-tl.params.lr=5e-5"));
    CU_ASSERT_TRUE(pzt_has(out, "fine-tune-tl[1]          lr                       0.0001               5e-05"));
    CU_ASSERT_TRUE(pzt_has(out, "LSST window 0.3 < z_true \xe2\x89\xa4 1.5 | NN-TL GalaxiesML | bias\n"));
    CU_ASSERT_PTR_NULL(strstr(out, "| NN-Base GalaxiesML | bias\n")); /* NN-Base did not change */
    free(out), free(args);
    /* A dry run names the experiment's folder, its index and the model only it reached. */
    char *dry = pz_xasprintf("-n --experiment %s", name), *exp_dir = pz_xasprintf("would remove %s/results/%s/\n", dir, exp);
    char *object = other ? pz_xasprintf("/objects/%s\n", other + strlen(other) - 33) : NULL;
    char *index = pz_xasprintf("would remove %s/cache/pipelines/", dir);
    CU_ASSERT_EQUAL(quick(&out, "gc", dry), 0);
    CU_ASSERT_TRUE(pzt_has(out, exp_dir));
    CU_ASSERT_TRUE(pzt_has(out, index));
    CU_ASSERT_TRUE(object && pzt_has(out, object));
    CU_ASSERT_TRUE(pzt_has(out, "pzflow gc: would remove experiment "));
    CU_ASSERT_TRUE(out && !strstr(out, "would remove 0 objects"));
    free(out), free(dry), free(exp_dir), free(index);
    CU_ASSERT_TRUE(folder_intact(exp)); /* ... and removes nothing */
    CU_ASSERT_EQUAL(quick(&out, "show", exp_set), 0);
    free(out);
    /* Removing the experiment lets gc take what only it reached: what the dry run listed. */
    char *drop = pz_xasprintf("--experiment %s", name);
    CU_ASSERT_EQUAL(quick(&out, "gc", drop), 0);
    CU_ASSERT_TRUE(pzt_has(out, "removed experiment "));
    free(out), free(drop);
    char *gone = other ? pz_xasprintf("%s/cache/objects/%s", dir, other + strlen(other) - 33) : NULL;
    CU_ASSERT_TRUE(gone && !pzt_exists(gone));
    free(gone), free(object), free(other);
    CU_ASSERT_EQUAL(quick(&out, "show", exp_set), 5); /* not run yet: nothing failed */
    CU_ASSERT_TRUE(pzt_has(out, "holds no complete run yet"));
    free(out);
    CU_ASSERT_TRUE(folder_intact("quick"));
    free(mine), free(exp), free(exp_set);
    pzt_rmtree(dir);
    free(dir);
}

int main(void)
{
    pzt_suite("experiments", (pzt_case[]){{"set, failed keep-going, until: results/quick stays one configuration", test_the_issue_sequence},
                                          {0}});
    return pzt_main();
}
