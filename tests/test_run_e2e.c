/* End to end: the pzflow binary running toy stages (tests/toys) on small pipelines. Checks
 * what reruns and what does not, crash safety under kill -9 and Ctrl-C, the run lock,
 * failure reports, gc, and the read-only commands. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "support/pztest.h"
#include "util/err.h"

/* prep <- data.txt ; mid <- prep ; last <- mid ; side <- data.txt */
static const char *chain_yaml =
    "stages:\n"
    "  prep:\n"
    "    run: pzflow-toy-const\n"
    "    params: {text: T, unused: 1}\n"
    "    inputs: {raw: data.txt}\n"
    "    outputs: [table]\n"
    "  mid:\n"
    "    run: pzflow-toy-copy\n"
    "    params:\n"
    "      suffix: M\n"
    "      sleep_ms: ${sleep}\n"
    "    inputs: {t: prep/table}\n"
    "    outputs: [out]\n"
    "  last:\n"
    "    run: pzflow-toy-copy\n"
    "    params: {suffix: L}\n"
    "    inputs: {m: mid/out}\n"
    "    outputs: [out]\n"
    "  side:\n"
    "    run: pzflow-toy-copy\n"
    "    foreach: [1, 2]\n"
    "    params: {suffix: \"S${item}\"}\n"
    "    inputs: {d: data.txt}\n"
    "    outputs: [out]\n"
    "vars: {sleep: 0}\n"
    "show: [last/out]\n";

typedef struct env {
    char *dir;
} env;

static env setup(const char *yaml)
{
    env e = {pzt_mkdtemp("run")};
    char *p = pz_xasprintf("%s/p.yaml", e.dir), *d = pz_xasprintf("%s/data.txt", e.dir);
    pzt_write_file(p, yaml);
    pzt_write_file(d, "some data\n");
    /* Make data.txt old enough that the stat cache trusts it (racy rule). */
    pzt_run(e.dir, NULL, "touch -d '2020-01-01' data.txt");
    usleep(100000); /* past the stat cache's racy window (50 ms) */
    free(p), free(d);
    return e;
}

static void teardown(env *e)
{
    pzt_rmtree(e->dir);
    free(e->dir);
}

/* Run pzflow in the env dir; returns the exit status, output in *out (freed by caller). */
static int pzflow(env *e, char **out, const char *args)
{
    char *o = NULL;
    int rc = pzt_run(e->dir, &o, "'%s/pzflow' %s", pzt_bin_dir(), args);
    if (out) *out = o;
    else free(o);
    return rc;
}


static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void test_noop_param_cutoff_touch(void)
{
    env e = setup(chain_yaml);
    char *out;
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 5 ran, 0 up to date"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 5 up to date in "));
    CU_ASSERT_TRUE(pzt_has(out, " s; hashed 0 external files"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "show p.yaml"), 0);
    CU_ASSERT_STRING_EQUAL(out, "T\nM\nL\n");
    free(out);
    /* One param: that stage and what depends on it. */
    CU_ASSERT_EQUAL(pzflow(&e, &out, "status p.yaml --set stages.mid.params.suffix=X"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "stale  mid: param suffix changed M \xe2\x86\x92 X\n"));
    CU_ASSERT_TRUE(pzt_has(out, "maybe  last: runs only if the outputs of mid change\n"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --set stages.mid.params.suffix=X"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "run mid: param suffix changed M \xe2\x86\x92 X"));
    CU_ASSERT_TRUE(pzt_has(out, "run last: input m changed"));
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 2 ran, 3 up to date"));
    free(out);
    /* Back to the old value: run cache. */
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 5 up to date"));
    free(out);
    /* prep reruns (param) but writes the same bytes: nothing downstream reruns. */
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --set stages.prep.params.unused=2"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "run prep: param unused changed 1 \xe2\x86\x92 2"));
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 1 ran, 4 up to date"));
    free(out);
    /* Touching the input: hashed once, nothing reruns, then remembered. */
    pzt_run(e.dir, NULL, "touch -d '2021-01-01' data.txt");
    usleep(100000);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --set stages.prep.params.unused=2"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 5 up to date in "));
    CU_ASSERT_TRUE(pzt_has(out, " s; hashed 1 external file"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --set stages.prep.params.unused=2"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "hashed 0 external files"));
    free(out);
    /* Changing its bytes reruns its readers. */
    pzt_run(e.dir, NULL, "echo changed > data.txt && touch -d '2022-01-01' data.txt");
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml -n --set stages.prep.params.unused=2"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "would run side[1]: input d changed"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --set stages.prep.params.unused=2 --name u2 --until side"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 2 ran, 0 up to date, 3 not run"));
    CU_ASSERT_TRUE(pzt_has(out, "not made: only a complete run makes it")); /* --until: not a complete run */
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --set stages.prep.params.unused=2 --name u2"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 1 ran, 4 up to date"));
    free(out);
    char *ws = pz_xasprintf("%s/results/p@u2/side/2/out", e.dir);
    char *txt = pzt_read_file(ws, NULL);
    CU_ASSERT_STRING_EQUAL(txt, "changed\nS2\n");
    free(txt), free(ws);
    teardown(&e);
}

/* Start `pzflow run` in the background; returns its pid. */
static long start_background(env *e, const char *args)
{
    char *out = NULL;
    pzt_run(e->dir, &out, "'%s/pzflow' run p.yaml %s </dev/null >bg.log 2>&1 & echo $!", pzt_bin_dir(), args);
    long pid = atol(out);
    free(out);
    return pid;
}

static int scratch_of(env *e, const char *stage)
{
    char *tmp = pz_xasprintf("%s/cache/tmp", e->dir), *needle = pz_xasprintf(".%s.", stage);
    DIR *d = opendir(tmp);
    int found = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, needle)) found = 1;
    if (d) closedir(d);
    free(tmp), free(needle);
    return found;
}

/* Wait until stage `mid` of run `pid` is running (its scratch dir exists); returns its pid. */
static long wait_for_stage(env *e, long pid)
{
    char *children = pz_xasprintf("/proc/%ld/task/%ld/children", pid, pid);
    long child = 0;
    for (int i = 0; i < 500 && !scratch_of(e, "mid"); i++) usleep(10000);
    for (int i = 0; i < 500 && !child; i++) {
        char *text = pzt_read_file(children, NULL);
        if (text) child = atol(text);
        free(text);
        if (!child) usleep(10000);
    }
    free(children);
    usleep(50000);
    return child;
}

static int wait_pid_exit(long pid)
{
    for (int i = 0; i < 1000; i++) {
        if (kill((pid_t)pid, 0) < 0) return 0;
        usleep(10000);
    }
    return -1;
}

static void reference_output(env *e, char **last)
{
    char *out = NULL;
    pzflow(e, &out, "run p.yaml -C ref-cache");
    free(out);
    *last = pz_xasprintf("%s/results/p/last/out", e->dir);
}

static void test_kill9_stage_and_pzflow(void)
{
    env e = setup(chain_yaml);
    char *out;
    /* Reference: an uninterrupted run into another cache. */
    char *last;
    reference_output(&e, &last);
    char *ref = pzt_read_file(last, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    pzt_run(e.dir, NULL, "rm -rf results");
    /* kill -9 the stage. */
    long pid = start_background(&e, "--set vars.sleep=3000");
    long stage = wait_for_stage(&e, pid);
    CU_ASSERT_TRUE_FATAL(stage > 0);
    kill((pid_t)stage, SIGKILL);
    CU_ASSERT_EQUAL(wait_pid_exit(pid), 0);
    char *bg = pz_xasprintf("%s/bg.log", e.dir);
    out = pzt_read_file(bg, NULL);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: stage mid failed: killed by signal 9"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "status p.yaml --set vars.sleep=3000"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "stale  mid: last run was killed by signal 9\n"));
    free(out);
    /* kill -9 pzflow itself: its stage dies with it, nothing partial counts. */
    pid = start_background(&e, "--set vars.sleep=3000");
    stage = wait_for_stage(&e, pid);
    CU_ASSERT_TRUE_FATAL(stage > 0);
    kill((pid_t)pid, SIGKILL);
    CU_ASSERT_EQUAL(wait_pid_exit(stage), 0);
    char *tmp = pz_xasprintf("%s/cache/tmp", e.dir);
    CU_ASSERT_EQUAL(count_entries(tmp), 1); /* the dead run's scratch */
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "run mid:"));
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 2 ran, 3 up to date"));
    free(out);
    CU_ASSERT_EQUAL(count_entries(tmp), 0);
    char *now = pzt_read_file(last, NULL);
    CU_ASSERT_STRING_EQUAL(now, ref);
    free(now), free(ref), free(last), free(bg), free(tmp);
    teardown(&e);
}

static void test_ctrl_c(void)
{
    env e = setup(chain_yaml);
    pzflow(&e, NULL, "run p.yaml");
    long pid = start_background(&e, "--set vars.sleep=3000 --set stages.mid.params.suffix=Q");
    CU_ASSERT_TRUE_FATAL(wait_for_stage(&e, pid) > 0);
    kill((pid_t)pid, SIGINT);
    CU_ASSERT_EQUAL(wait_pid_exit(pid), 0);
    char *bg = pz_xasprintf("%s/bg.log", e.dir), *tmp = pz_xasprintf("%s/cache/tmp", e.dir);
    char *out = pzt_read_file(bg, NULL);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: interrupted mid"));
    free(out);
    CU_ASSERT_EQUAL(count_entries(tmp), 0);
    /* The earlier results are intact and still current for the old params. */
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 5 up to date"));
    free(out), free(bg), free(tmp);
    teardown(&e);
}

static void test_lock_between_runs(void)
{
    env e = setup(chain_yaml);
    /* The first run must still hold the lock when the waiting run starts, several pzflow calls
       later: under valgrind each call takes seconds, so the sleep scales. */
    char sleep[64];
    snprintf(sleep, sizeof sleep, "--set vars.sleep=%d", 1500 * pzt_time_scale());
    long pid = start_background(&e, sleep);
    CU_ASSERT_TRUE_FATAL(wait_for_stage(&e, pid) > 0);
    char *out, *nowait = pz_xasprintf("run p.yaml --no-wait %s", sleep), *waiting = pz_xasprintf("run p.yaml %s", sleep);
    CU_ASSERT_EQUAL(pzflow(&e, &out, nowait), 3);
    char *msg = pz_xasprintf("is in use by another pzflow run (pid %ld)", pid);
    CU_ASSERT_TRUE(pzt_has(out, msg));
    free(out), free(msg);
    /* Read-only commands do not wait. */
    CU_ASSERT_EQUAL(pzflow(&e, NULL, "status p.yaml"), 0);
    /* A second run waits, then finds everything done. */
    CU_ASSERT_EQUAL(pzflow(&e, &out, waiting), 0);
    msg = pz_xasprintf("waiting for lock held by pid %ld", pid);
    CU_ASSERT_TRUE(pzt_has(out, msg));
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 5 up to date"));
    free(out), free(msg), free(nowait), free(waiting);
    teardown(&e);
}

/* A hung stage (the known HDF5 1.10.8 loop on a corrupt heap, a stuck network mount) is killed at
 * its `timeout:` and reported like any failure; what was committed before stays current. */
static void test_timeout_kills_a_hung_stage(void)
{
    env e = setup(chain_yaml);
    CU_ASSERT_EQUAL(pzflow(&e, NULL, "run p.yaml"), 0);
    char *out;
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --set vars.sleep=60000 --set stages.mid.timeout=0.5"), 1);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: stage mid failed: timed out after "));
    CU_ASSERT_TRUE(pzt_has(out, " s (timeout: 0.5 s); killed\n  log: "));
    CU_ASSERT_FALSE(pzt_has(out, "] done mid")); /* the 60 s sleep never finished */
    free(out);
    char *tmp = pz_xasprintf("%s/cache/tmp", e.dir);
    CU_ASSERT_EQUAL(count_entries(tmp), 0); /* its scratch went with it */
    free(tmp);
    /* The timeout is not in the key: the earlier results are current for the old params. */
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --set stages.mid.timeout=1h"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 5 up to date"));
    free(out);
    teardown(&e);
}

static void test_failure_report_and_log(void)
{
    env e = setup("stages:\n"
                  "  bad:\n    run: pzflow-toy-fail\n    params: {status: 3}\n    outputs: [out]\n"
                  "  after:\n    run: pzflow-toy-copy\n    inputs: {x: bad/out}\n    outputs: [out]\n"
                  "  lazy:\n    run: pzflow-toy-fail\n    params: {status: 0, lines: 1}\n    outputs: [out]\n");
    char *out;
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --keep-going"), 1);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: stage bad failed: exit status 3\n  log: "));
    CU_ASSERT_TRUE(pzt_has(out, "    | toy-fail line 12\n"));
    CU_ASSERT_TRUE(pzt_has(out, "    | toy-fail: failing on purpose with status 3\n"));
    CU_ASSERT_PTR_NULL(strstr(out, "toy-fail line 11\n"));
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: stage lazy failed: it exited 0 but did not write output 'out'"));
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 0 up to date, 2 FAILED, 1 not run"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "log p.yaml bad"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "toy-fail line 1\n"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "status p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "stale  bad: last run failed (exit status 3)\n"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "why p.yaml nosuch"), 2);
    CU_ASSERT_TRUE(pzt_has(out, "no stage 'nosuch'"));
    free(out);
    teardown(&e);
}

static void test_gc(void)
{
    env e = setup(chain_yaml);
    char *out;
    pzflow(&e, NULL, "run p.yaml --set stages.mid.params.suffix=OLD --name old");
    pzflow(&e, NULL, "run p.yaml");
    char *runs = pz_xasprintf("%s/cache/runs", e.dir);
    CU_ASSERT_EQUAL(count_entries(runs), 7);
    /* An experiment is kept by gc until it is removed. */
    CU_ASSERT_EQUAL(pzflow(&e, &out, "gc p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "removed 0 objects"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "show p.yaml --name old"), 0);
    CU_ASSERT_STRING_EQUAL(out, "T\nOLD\nL\n");
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "gc p.yaml --experiment nosuch"), 2);
    CU_ASSERT_TRUE(pzt_has(out, "no experiment 'nosuch' of p.yaml (experiments: old)"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "gc p.yaml --experiment old"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow gc: removed experiment old"));
    /* mid and last of the OLD run: 2 records; their outputs: 2 objects. */
    CU_ASSERT_TRUE(pzt_has(out, "removed 2 objects"));
    CU_ASSERT_TRUE(pzt_has(out, "and 2 run records"));
    free(out);
    CU_ASSERT_EQUAL(count_entries(runs), 5);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 5 up to date"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "show p.yaml"), 0);
    CU_ASSERT_STRING_EQUAL(out, "T\nM\nL\n");
    free(out), free(runs);
    teardown(&e);
}

static void test_parallel_and_dag(void)
{
    env e = setup(chain_yaml);
    char *out;
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml -j 2"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 5 ran"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "dag p.yaml --dot"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "digraph"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml --force side"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "run side[1]: forced"));
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 2 ran, 3 up to date"));
    free(out);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run"), 2);
    free(out);
    teardown(&e);
}

/* A one-stage pipeline whose integer param is spelled SLEEP. */
static char *sleep_yaml(const char *sleep)
{
    return pz_xasprintf("stages:\n"
                        "  copy:\n"
                        "    run: pzflow-toy-copy\n"
                        "    params: {suffix: C, sleep_ms: %s}\n"
                        "    inputs: {d: data.txt}\n"
                        "    outputs: [out]\n"
                        "show: [copy/out]\n",
                        sleep);
}

/* 0x10, 0o20, +16 and 016 are the integer 16 to YAML 1.2: respelling a param reruns nothing. */
static void test_a_param_written_0x10_or_16_has_one_key(void)
{
    char *yaml = sleep_yaml("0x10");
    env e = setup(yaml);
    free(yaml);
    char *out, *p = pz_xasprintf("%s/p.yaml", e.dir);
    CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 1 ran, 0 up to date"));
    free(out);
    const char *spellings[] = {"16", "0o20", "+16", "016"};
    for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++) {
        yaml = sleep_yaml(spellings[i]);
        pzt_write_file(p, yaml);
        free(yaml);
        CU_ASSERT_EQUAL(pzflow(&e, &out, "run p.yaml"), 0);
        int hit = pzt_has(out, "pzflow: 0 ran, 1 up to date");
        if (!hit) fprintf(stderr, "\n--- sleep_ms: %s reran:\n%s", spellings[i], out);
        CU_ASSERT_TRUE(hit);
        free(out);
    }
    /* the stage reads the same integer: its output is the same */
    CU_ASSERT_EQUAL(pzflow(&e, &out, "show p.yaml"), 0);
    CU_ASSERT_STRING_EQUAL(out, "some data\nC\n");
    free(out);
    free(p);
    teardown(&e);
}

int main(void)
{
    pzt_suite("run_e2e", (pzt_case[]){{"no-op, param change, early cutoff, touch", test_noop_param_cutoff_touch},
                                      {"kill -9 of a stage and of pzflow", test_kill9_stage_and_pzflow},
                                      {"Ctrl-C", test_ctrl_c},
                                      {"lock between concurrent runs", test_lock_between_runs},
                                      {"failure report and log", test_failure_report_and_log},
                                      {"timeout", test_timeout_kills_a_hung_stage},
                                      {"gc", test_gc},
                                      {"parallel, dag, force", test_parallel_and_dag},
                                      {"a param written 0x10 or 16 has one key", test_a_param_written_0x10_or_16_has_one_key},
                                      {0}});
    return pzt_main();
}
