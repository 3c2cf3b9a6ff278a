/* The results folder shows one configuration, experiments are kept, the lock covers the
 * index, and an input edited while its stage runs is never committed under its old hash.
 * Toy stages (tests/toys) for the timing-sensitive cases; test_experiments.c runs the same
 * promises on pipelines/quick.yaml with the real stages. */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/pztest.h"
#include "util/err.h"

/* prep -> mid (sleeps ${sleep} ms) -> last, and report: a Markdown table for `show`/`diff`. */
static const char *chain_yaml =
    "stages:\n"
    "  prep:\n"
    "    run: pzflow-toy-const\n"
    "    params: {text: T}\n"
    "    inputs: {raw: data.txt}\n"
    "    outputs: [table]\n"
    "  mid:\n"
    "    run: pzflow-toy-copy\n"
    "    params: {suffix: M, sleep_ms: \"${sleep}\"}\n"
    "    inputs: {t: prep/table}\n"
    "    outputs: [out]\n"
    "  last:\n"
    "    run: pzflow-toy-copy\n"
    "    params: {suffix: L}\n"
    "    inputs: {m: mid/out}\n"
    "    outputs: [out]\n"
    "  report:\n"
    "    run: pzflow-toy-const\n"
    "    params:\n"
    "      text: \"## Scores\\n\\n| model | test | bias | rms |\\n|---|---|---:|---:|\\n| A | X | ${bias} | 0.5 |\\n\"\n"
    "    inputs: {m: last/out}\n"
    "    outputs: [table]\n"
    "vars: {sleep: 0, bias: 0.25}\n"
    "show: [report/table]\n";

static char *setup(const char *yaml)
{
    char *dir = pzt_mkdtemp("results");
    char *p = pz_xasprintf("%s/p.yaml", dir), *d = pz_xasprintf("%s/data.txt", dir);
    pzt_write_file(p, yaml);
    pzt_write_file(d, "some data\n");
    pzt_run(dir, NULL, "touch -d '2020-01-01' data.txt");
    usleep(100000); /* past the stat cache's racy window */
    free(p), free(d);
    return dir;
}

static void teardown(char *dir)
{
    pzt_rmtree(dir);
    free(dir);
}


static char *read_in(const char *dir, const char *rel)
{
    char *p = pz_xasprintf("%s/%s", dir, rel);
    char *t = pzt_read_file(p, NULL);
    free(p);
    return t;
}

static size_t count_entries(const char *dir, const char *rel)
{
    char *p = pz_xasprintf("%s/%s", dir, rel);
    DIR *d = opendir(p);
    free(p);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

/* Start `pzflow run p.yaml ARGS` in the background (output in bg.log); its pid. */
static long start_background(const char *dir, const char *args)
{
    char *out = NULL;
    pzt_run(dir, &out, "'%s/pzflow' run p.yaml %s </dev/null >bg.log 2>&1 & echo $!", pzt_bin_dir(), args);
    long pid = atol(out);
    free(out);
    return pid;
}

/* Wait until a scratch directory of `stage` exists (the stage is running). */
static int wait_for_scratch(const char *dir, const char *stage)
{
    char *tmp = pz_xasprintf("%s/cache/tmp", dir), *needle = pz_xasprintf(".%s.", stage);
    int found = 0;
    for (int i = 0; i < 1000 && !found; i++) {
        DIR *d = opendir(tmp);
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (strstr(e->d_name, needle)) found = 1;
        if (d) closedir(d);
        if (!found) usleep(10000);
    }
    free(tmp), free(needle);
    return found;
}

static int wait_pid_exit(long pid)
{
    for (int i = 0; i < 3000; i++) {
        if (kill((pid_t)pid, 0) < 0) return 0;
        usleep(10000);
    }
    return -1;
}

static void test_incomplete_runs_leave_the_folder_as_it_was(void)
{
    char *dir = setup(chain_yaml), *out;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "results/p now shows this run"));
    free(out);
    char *before = read_in(dir, "results/p/.pzflow-results");
    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "status p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "results: ") && pzt_has(out, "results/p shows this configuration"));
    free(out);
    /* Edit the pipeline file, then run only part of it: the folder keeps the last complete run. */
    pzt_run(dir, NULL, "sed -i 's/suffix: M,/suffix: N,/' p.yaml");
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml --until mid"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 1 ran"));
    CU_ASSERT_TRUE(pzt_has(out, "results/p unchanged: this run stopped at --until"));
    free(out);
    char *now = read_in(dir, "results/p/.pzflow-results"), *mid = read_in(dir, "results/p/mid/out");
    CU_ASSERT_STRING_EQUAL(now, before);
    CU_ASSERT_STRING_EQUAL(mid, "T\nM\n");
    free(now), free(mid);
    /* status says the folder no longer matches the file; show prints what the folder shows. */
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "status p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "warning: ") && pzt_has(out, "results/p does not match p.yaml: 2 stages differ (mid, last)"));
    free(out);
    /* gc keeps what the folder links to, though the index moved on. */
    CU_ASSERT_EQUAL(pzt_pzflow(dir, NULL, "gc p.yaml"), 0);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "show p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "| A | X | 0.25 | 0.5 |"));
    free(out);
    mid = read_in(dir, "results/p/mid/out");
    CU_ASSERT_STRING_EQUAL(mid, "T\nM\n");
    free(mid);
    /* A complete run swaps the whole folder at once (and sweeps the tree a killed run left). */
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char *leftover = pz_xasprintf("mkdir -p results/p.new.%ld/mid && ln -s /nonexistent results/p.new.%ld/mid/out", (long)dead, (long)dead);
    CU_ASSERT_EQUAL(pzt_run(dir, NULL, "%s", leftover), 0);
    free(leftover);
    CU_ASSERT_EQUAL(count_entries(dir, "results"), 2);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "results/p now shows this run"));
    free(out);
    mid = read_in(dir, "results/p/mid/out");
    CU_ASSERT_STRING_EQUAL(mid, "T\nN\n");
    free(mid);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "status p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "results/p shows this configuration"));
    CU_ASSERT_PTR_NULL(strstr(out, "warning"));
    free(out);
    CU_ASSERT_EQUAL(count_entries(dir, "results"), 1); /* no .new/.old trees left beside it */
    free(before);
    teardown(dir);
}

static void test_a_failed_run_leaves_the_folder_as_it_was(void)
{
    char *dir = setup(chain_yaml), *out;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, NULL, "run p.yaml"), 0);
    pzt_run(dir, NULL, "sed -i 's/suffix: L}/suffix: K}/; s/run: pzflow-toy-copy$/run: pzflow-toy-fail/' p.yaml");
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml --keep-going"), 1);
    CU_ASSERT_TRUE(pzt_has(out, "results/p unchanged: not every stage of this run finished"));
    free(out);
    char *last = read_in(dir, "results/p/last/out");
    CU_ASSERT_STRING_EQUAL(last, "T\nM\nL\n");
    free(last);
    teardown(dir);
}

static void test_a_users_file_in_the_folder_is_kept(void)
{
    char *dir = setup(chain_yaml), *out;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, NULL, "run p.yaml"), 0);
    char *mine = pz_xasprintf("%s/results/p/mid/notes.txt", dir);
    pzt_write_file(mine, "my notes\n");
    pzt_run(dir, NULL, "sed -i 's/suffix: M,/suffix: N,/' p.yaml");
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "held files pzflow did not write; the previous folder is kept as "));
    free(out);
    CU_ASSERT_EQUAL(pzt_run(dir, NULL, "cat results/p.old.*/mid/notes.txt | grep -q 'my notes'"), 0);
    free(mine);
    teardown(dir);
}

static void test_experiments_have_their_own_folder_and_diff(void)
{
    char *dir = setup(chain_yaml), *out;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, NULL, "run p.yaml"), 0);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml --set stages.last.params.suffix=Q --set vars.bias=0.125"), 0);
    /* Explained against the pipeline's own run, not "never run". */
    CU_ASSERT_TRUE(pzt_has(out, "run last: param suffix changed L \xe2\x86\x92 Q"));
    CU_ASSERT_TRUE(pzt_has(out, "results/p@"));
    free(out);
    char *last = read_in(dir, "results/p/last/out");
    CU_ASSERT_STRING_EQUAL(last, "T\nM\nL\n"); /* the pipeline's folder is untouched */
    free(last);
    /* The experiment's name: a hash of its overrides; its manifest records them. */
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "ls results"), 0);
    char name[64] = "";
    char *at = strstr(out, "p@");
    if (at) sscanf(at + 2, "%63s", name);
    CU_ASSERT_EQUAL(strlen(name), 8);
    free(out);
    char *rel = pz_xasprintf("results/p@%s/.pzflow-results", name);
    char *manifest = read_in(dir, rel);
    CU_ASSERT_TRUE(pzt_has(manifest, "set stages.last.params.suffix=Q\nset vars.bias=0.125\n"));
    free(manifest), free(rel);
    char *args = pz_xasprintf("diff p.yaml p %s", name);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, args), 0);
    CU_ASSERT_TRUE(pzt_has(out, "--set stages.last.params.suffix=Q --set vars.bias=0.125"));
    CU_ASSERT_TRUE(pzt_has(out, "last                     suffix                   L                    Q\n"));
    CU_ASSERT_TRUE(pzt_has(out, "Scores | A X | bias\n      0.25                         0.125                        -0.125\n"));
    CU_ASSERT_PTR_NULL(strstr(out, "| A X | rms")); /* unchanged metrics are not listed */
    free(out), free(args);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "diff p.yaml nosuch"), 2);
    CU_ASSERT_TRUE(pzt_has(out, "no complete run 'nosuch' of p.yaml"));
    free(out);
    /* status of the pipeline as written is about its own folder. */
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "status p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "4 up to date") && pzt_has(out, "results/p shows this configuration"));
    free(out);
    /* Location and timeout overrides are not experiments. */
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml --set stages.mid.timeout=1h"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 4 up to date"));
    CU_ASSERT_PTR_NULL(strstr(out, "@"));
    free(out);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml --name p"), 2);
    CU_ASSERT_TRUE(pzt_has(out, "--name 'p' is the pipeline's own name"));
    free(out);
    teardown(dir);
}

/* A run waiting for the lock must read the index only once it has the lock: read before, it
 * is the state from before the other run, and saving it would drop what that run recorded
 * (gc would then delete its results). */
static void test_a_run_that_waited_for_the_lock_keeps_the_newer_index(void)
{
    char *yaml = pz_xasprintf("%s", chain_yaml), *at = strstr(yaml, "sleep: 0");
    char *slow = pz_xasprintf("%.*ssleep: %d%s", (int)(at - yaml), yaml, 1500 * pzt_time_scale(), at + 8);
    char *dir = setup(slow), *out;
    long pid = start_background(dir, "");
    CU_ASSERT_TRUE_FATAL(wait_for_scratch(dir, "mid"));
    /* Starts, waits for the lock, then reruns prep, which changes (and saves) the index. */
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml --until prep --force prep"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "waiting for lock held by pid"));
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 1 ran, 0 up to date"));
    free(out);
    CU_ASSERT_EQUAL(wait_pid_exit(pid), 0);
    /* What the first run recorded is still in the index: the log of last, and gc keeps it all. */
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "log p.yaml last"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "toy-copy: wrote 1 outputs"));
    free(out);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "gc p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "and 0 run records"));
    free(out);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 4 up to date"));
    free(out);
    free(yaml), free(slow);
    teardown(dir);
}

/* The stage reads data.txt at its end (toy-copy sleeps first), the test rewrites data.txt
 * while it sleeps: the outputs come from the new bytes, the key from the old hash. */
static void test_an_input_edited_while_its_stage_runs_is_not_committed(void)
{
    char *yaml = pz_xasprintf("stages:\n"
                              "  slow:\n"
                              "    run: pzflow-toy-copy\n"
                              "    params: {suffix: S, sleep_ms: %d}\n"
                              "    inputs: {d: data.txt}\n"
                              "    outputs: [out]\n",
                              1000 * pzt_time_scale());
    char *dir = setup(yaml), *out;
    long pid = start_background(dir, "");
    CU_ASSERT_TRUE_FATAL(wait_for_scratch(dir, "slow"));
    char *data = pz_xasprintf("%s/data.txt", dir);
    pzt_write_file(data, "edited data\n");
    CU_ASSERT_EQUAL(wait_pid_exit(pid), 0);
    char *bg = read_in(dir, "bg.log"), *msg = pz_xasprintf("input d (%s) changed while stage slow ran; nothing was committed; rerun", data);
    CU_ASSERT_TRUE(pzt_has(bg, "pzflow: stage slow failed: "));
    CU_ASSERT_TRUE(pzt_has(bg, msg));
    free(bg), free(msg);
    CU_ASSERT_EQUAL(count_entries(dir, "cache/runs"), 0);
    /* Putting the old bytes back is not a cache hit on a result made from the new ones. */
    pzt_write_file(data, "some data\n");
    usleep(100000);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 1 ran"));
    free(out);
    char *res = read_in(dir, "results/p/slow/out");
    CU_ASSERT_STRING_EQUAL(res, "some data\nS\n");
    free(res), free(data), free(yaml);
    teardown(dir);
}

int main(void)
{
    pzt_suite("results", (pzt_case[]){
                             {"an incomplete run leaves the results folder as it was", test_incomplete_runs_leave_the_folder_as_it_was},
                             {"a failed --keep-going run leaves the folder as it was", test_a_failed_run_leaves_the_folder_as_it_was},
                             {"a user's file in the results folder is kept", test_a_users_file_in_the_folder_is_kept},
                             {"experiments have their own folder, and diff", test_experiments_have_their_own_folder_and_diff},
                             {"a run that waited for the lock keeps the newer index", test_a_run_that_waited_for_the_lock_keeps_the_newer_index},
                             {"an input edited while its stage runs is not committed", test_an_input_edited_while_its_stage_runs_is_not_committed},
                             {0}});
    return pzt_main();
}
