/* The Slurm executor against stand-in sbatch, squeue, scancel and sacct scripts that count
 * their calls (PZFLOW_SBATCH etc. point at them; the real daemons are tests/slurm/). The stand-in
 * sbatch keeps each job script; the stand-in squeue lists a job's tasks as PENDING, and the
 * N-th time it sees the job (FAKE_RUN_AT) runs every task of it, as a cluster would, then
 * lists it no more. So how
 * many calls a run makes is exact, whatever the machine's speed. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/pztest.h"
#include "util/err.h"

static const char *fake_sbatch =
    "#!/bin/sh\n"
    "S=\"$FAKE_SLURM_STATE\"\n"
    "echo \"$*\" >> \"$S/sbatch.log\"\n"
    "n=$(wc -l < \"$S/sbatch.log\")\n"
    "if [ \"$n\" -eq 2 ] && [ -n \"$FAKE_SBATCH_SIGNAL\" ]; then kill -\"$FAKE_SBATCH_SIGNAL\" $PPID; fi\n"
    "if [ \"$n\" -le \"${FAKE_SBATCH_FAIL:-0}\" ]; then\n"
    "  echo 'sbatch: error: Batch job submission failed: Socket timed out on send/recv operation' >&2; exit 1; fi\n"
    "if [ -n \"$FAKE_SBATCH_REFUSE\" ]; then\n"
    "  echo 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2; exit 1; fi\n"
    "id=$((100 + n)); last=''; range=''; out=''\n"
    "for a in \"$@\"; do case \"$a\" in --array=0-*) range=${a#--array=0-};; --output=*) out=${a#--output=};; esac; "
    "last=\"$a\"; done\n"
    "cp \"$last\" \"$S/job$id.sh\"\n"
    "dirname \"$out\" > \"$S/job$id.outdir\"\n"
    "echo \"$range\" > \"$S/job$id.range\"\n"
    "echo \"$id\"\n";

static const char *fake_squeue =
    "#!/bin/sh\n"
    "S=\"$FAKE_SLURM_STATE\"\n"
    "echo \"$*\" >> \"$S/squeue.log\"\n"
    "n=$(wc -l < \"$S/squeue.log\")\n"
    "if [ \"$n\" -eq 1 ] && [ -n \"$FAKE_SIGNAL\" ]; then kill -\"$FAKE_SIGNAL\" $PPID; sleep 1; fi\n"
    "for f in \"$S\"/job*.range; do\n"
    "  [ -e \"$f\" ] || continue\n"
    "  id=$(basename \"$f\" .range); id=${id#job}; last=$(cat \"$f\"); outdir=$(cat \"$S/job$id.outdir\")\n"
    "  n=$(( $(cat \"$S/job$id.seen\" 2>/dev/null || echo 0) + 1 )); echo $n > \"$S/job$id.seen\"\n"
    "  i=0\n"
    "  while [ $i -le $last ]; do\n"
    "    if [ \"$n\" -lt \"${FAKE_RUN_AT:-3}\" ]; then echo \"${id}_$i PENDING\"\n"
    "    elif [ \"$FAKE_MODE\" = vanish ]; then\n"
    "      echo \"slurmstepd: error: *** JOB $id ON node1 CANCELLED AT 2026-12-02T10:00:00 DUE TO NODE FAILURE ***\" "
    "> \"$outdir/${id}_$i.out\"\n"
    "    else SLURM_ARRAY_TASK_ID=$i sh \"$S/job$id.sh\"; fi\n"
    "    i=$((i + 1))\n"
    "  done\n"
    "  if [ \"$n\" -ge \"${FAKE_RUN_AT:-3}\" ]; then\n"
    "    rm \"$f\"\n"
    "    if [ \"$FAKE_MODE\" = tamper ]; then for o in \"$(dirname \"$outdir\")\"/*/out/*; do echo x >> \"$o\"; done; fi\n"
    "  fi\n"
    "done\n";

static const char *fake_log_only =
    "#!/bin/sh\n"
    "echo \"$*\" >> \"$FAKE_SLURM_STATE/$(basename \"$0\").log\"\n"
    "exit ${FAKE_EXIT:-0}\n";

typedef struct env {
    char *dir, *state;
} env;

static env setup(size_t ninstances, const char *resources)
{
    env e = {pzt_mkdtemp("slurmx"), NULL};
    e.state = pz_xasprintf("%s/state", e.dir);
    pzt_run(e.dir, NULL, "mkdir -p state fake");
    const char *names[] = {"sbatch", "squeue", "scancel", "sacct"};
    const char *texts[] = {fake_sbatch, fake_squeue, fake_log_only, fake_log_only};
    for (int k = 0; k < 4; k++) {
        char *p = pz_xasprintf("%s/fake/%s", e.dir, names[k]);
        pzt_write_file(p, texts[k]);
        free(p);
    }
    pzt_run(e.dir, NULL, "chmod +x fake/*");
    char *items = pz_xstrdup("");
    for (size_t i = 0; i < ninstances; i++) {
        char *n = pz_xasprintf("%s%s%zu", items, i ? ", " : "", i);
        free(items);
        items = n;
    }
    char *yaml = pz_xasprintf("stages:\n"
                              "  each:\n"
                              "    run: pzflow-toy-copy\n"
                              "    foreach: [%s]\n"
                              "    params: {suffix: \"part ${item}\", steps: 0}\n"
                              "    outputs: [out]\n"
                              "%s"
                              "  all:\n"
                              "    run: pzflow-toy-copy\n"
                              "    params: {suffix: end, steps: 0}\n"
                              "    inputs: {parts: \"each[*]/out\"}\n"
                              "    outputs: [out]\n",
                              items, resources ? resources : "");
    char *p = pz_xasprintf("%s/p.yaml", e.dir);
    pzt_write_file(p, yaml);
    free(p), free(yaml), free(items);
    return e;
}

static void teardown(env *e)
{
    pzt_rmtree(e->dir);
    free(e->dir), free(e->state);
}

/* `pzflow run --executor slurm` with the stand-ins; `extra` is more environment, then args. */
static int run_slurm(env *e, char **out, const char *extra)
{
    return pzt_run(e->dir, out,
                   "FAKE_SLURM_STATE='%s' PZFLOW_SBATCH='%s/fake/sbatch' PZFLOW_SQUEUE='%s/fake/squeue' "
                   "PZFLOW_SCANCEL='%s/fake/scancel' PZFLOW_SACCT='%s/fake/sacct' PZFLOW_SLURM_POLL=0.02 "
                   "PZFLOW_SLURM_RETRY=20 %s '%s/pzflow' run p.yaml --executor slurm",
                   e->state, e->dir, e->dir, e->dir, e->dir, extra, pzt_bin_dir());
}

/* Lines in state/<name>.log: how many times the stand-in was called (0 when never). */
static int calls(const env *e, const char *name)
{
    char *p = pz_xasprintf("%s/%s.log", e->state, name), *text = pzt_read_file(p, NULL);
    int n = 0;
    for (const char *c = text; c && *c; c++) n += *c == '\n';
    free(p), free(text);
    return n;
}

static char *log_text(const env *e, const char *name)
{
    char *p = pz_xasprintf("%s/%s.log", e->state, name), *text = pzt_read_file(p, NULL);
    free(p);
    return text ? text : pz_xstrdup("");
}

static void test_200_instances_are_one_array_polled_with_one_call_per_interval(void)
{
    env e = setup(200, NULL);
    char *out = NULL;
    int rc = run_slurm(&e, &out, "FAKE_RUN_AT=3");
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "201 ran"));
    /* One sbatch for the 200 instances (a job array), one for `all`. */
    CU_ASSERT_EQUAL(calls(&e, "sbatch"), 2);
    char *sb = log_text(&e, "sbatch");
    CU_ASSERT_TRUE(pzt_has(sb, "--array=0-199"));
    CU_ASSERT_TRUE(pzt_has(sb, "--array=0-0"));
    /* The array: squeue twice sees it pending, the third call runs it (3 calls, each for job
     * 101 as a whole); `all`: the same 3 more. Not one call per job. */
    CU_ASSERT_EQUAL(calls(&e, "squeue"), 6);
    char *sq = log_text(&e, "squeue");
    CU_ASSERT_TRUE(pzt_has(sq, "--jobs=101\n"));
    CU_ASSERT_TRUE(pzt_has(sq, "--jobs=102\n"));
    CU_ASSERT_EQUAL(calls(&e, "sacct"), 0);
    /* The results are the stages' own, committed as locally. */
    char *path = pz_xasprintf("%s/results/p/each/7/out", e.dir), *part = pzt_read_file(path, NULL);
    CU_ASSERT_STRING_EQUAL(part ? part : "", "part 7\n");
    /* A rerun submits nothing and asks nothing. */
    free(out);
    CU_ASSERT_EQUAL(run_slurm(&e, &out, ""), 0);
    CU_ASSERT_TRUE(pzt_has(out, "0 ran, 201 up to date"));
    CU_ASSERT_EQUAL(calls(&e, "sbatch"), 2);
    CU_ASSERT_EQUAL(calls(&e, "squeue"), 6);
    free(path), free(part), free(sb), free(sq), free(out);
    teardown(&e);
}

static void test_outputs_that_disagree_with_the_job_are_a_failure_not_a_commit(void)
{
    env e = setup(2, NULL);
    char *out = NULL;
    int rc = run_slurm(&e, &out, "FAKE_MODE=tamper");
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_TRUE(pzt_has(out, "but the job wrote"));
    CU_ASSERT_TRUE(pzt_has(out, "filesystem the compute nodes share"));
    CU_ASSERT_TRUE(pzt_has(out, "0 ran"));
    free(out);
    teardown(&e);
}

static void test_transient_sbatch_refusals_are_retried(void)
{
    env e = setup(2, NULL);
    char *out = NULL;
    int rc = run_slurm(&e, &out, "FAKE_SBATCH_FAIL=2 FAKE_RUN_AT=1");
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "refused"));
    CU_ASSERT_TRUE(pzt_has(out, "3 ran"));
    CU_ASSERT_EQUAL(calls(&e, "sbatch"), 4); /* 2 refused, the array, then `all` */
    free(out);
    teardown(&e);
}

static void test_ctrl_c_stops_the_retries_of_a_refused_sbatch(void)
{
    env e = setup(2, NULL);
    char *out = NULL;
    /* sbatch is always refused; the first retry brings a Ctrl-C with it. */
    int rc = run_slurm(&e, &out, "FAKE_SBATCH_FAIL=100 FAKE_SBATCH_SIGNAL=INT");
    CU_ASSERT_EQUAL(rc, 130);
    CU_ASSERT_EQUAL(calls(&e, "sbatch"), 2); /* not retried after the Ctrl-C */
    free(out);
    teardown(&e);
}

static void test_a_permanent_refusal_is_reported_at_once(void)
{
    env e = setup(2, NULL);
    char *out = NULL;
    int rc = run_slurm(&e, &out, "FAKE_SBATCH_REFUSE=1");
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "Invalid partition name specified"));
    CU_ASSERT_EQUAL(calls(&e, "sbatch"), 1);
    free(out);
    teardown(&e);
}

static void test_a_killed_pzflow_reattaches_without_submitting_again(void)
{
    env e = setup(5, NULL);
    char *out = NULL;
    /* The first squeue call kills pzflow with SIGKILL, the jobs still queued. */
    int rc = run_slurm(&e, &out, "FAKE_SIGNAL=KILL FAKE_RUN_AT=1000");
    CU_ASSERT_EQUAL(rc, 128 + 9);
    CU_ASSERT_EQUAL(calls(&e, "sbatch"), 1);
    free(out);
    rc = run_slurm(&e, &out, "FAKE_RUN_AT=2");
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "reattached"));
    CU_ASSERT_TRUE(pzt_has(out, "6 ran"));
    CU_ASSERT_EQUAL(calls(&e, "sbatch"), 2); /* only `all` is new */
    char *sb = log_text(&e, "sbatch");
    CU_ASSERT_TRUE(pzt_has(sb, "--array=0-4"));
    free(sb), free(out);
    teardown(&e);
}

static void test_ctrl_c_cancels_the_jobs_with_one_scancel_and_exits_130(void)
{
    env e = setup(5, NULL);
    char *out = NULL;
    int rc = run_slurm(&e, &out, "FAKE_SIGNAL=INT FAKE_RUN_AT=1000");
    CU_ASSERT_EQUAL(rc, 130);
    CU_ASSERT_EQUAL(calls(&e, "scancel"), 1);
    char *sc = log_text(&e, "scancel");
    CU_ASSERT_TRUE(pzt_has(sc, "101_0 101_1 101_2 101_3 101_4"));
    /* Nothing left to reattach to. */
    char *left = NULL;
    pzt_run(e.dir, &left, "ls cache/slurm | grep -v '^out$' | wc -l");
    CU_ASSERT_TRUE(pzt_has(left, "0"));
    free(left), free(sc), free(out);
    teardown(&e);
}

static void test_a_job_gone_without_exit_status_is_reported_with_slurms_reason(void)
{
    env e = setup(1, NULL);
    char *out = NULL;
    int rc = run_slurm(&e, &out, "FAKE_MODE=vanish FAKE_RUN_AT=1 FAKE_EXIT=1");
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_TRUE(pzt_has(out, "ended without recording an exit status"));
    CU_ASSERT_TRUE(pzt_has(out, "DUE TO NODE FAILURE"));
    CU_ASSERT_EQUAL(calls(&e, "sacct"), 1); /* asked once; no accounting here (it fails) */
    free(out);
    teardown(&e);
}

static void test_resources_become_sbatch_options(void)
{
    env e = setup(2, "    resources: {cpus: 2, mem: 4G, time: \"1:30:00\", partition: debug, account: m1234}\n");
    char *out = NULL;
    int rc = run_slurm(&e, &out, "FAKE_RUN_AT=1");
    CU_ASSERT_EQUAL(rc, 0);
    char *sb = log_text(&e, "sbatch");
    CU_ASSERT_TRUE(pzt_has(sb, "--cpus-per-task=2 --mem=4G --time=1:30:00 --partition=debug --account=m1234"));
    free(sb), free(out);
    teardown(&e);
}

static void test_bad_resources_are_refused_at_load_with_their_position(void)
{
    env e = setup(2, "    resources: {mem: 4Q}\n");
    char *out = NULL;
    int rc = run_slurm(&e, &out, "");
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_TRUE(pzt_has(out, "p.yaml:7:"));
    CU_ASSERT_TRUE(pzt_has(out, "resources: mem must be a memory size"));
    CU_ASSERT_EQUAL(calls(&e, "sbatch"), 0);
    free(out);
    teardown(&e);
    e = setup(2, "    resources: {cpu: 2}\n");
    rc = run_slurm(&e, &out, "");
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_TRUE(pzt_has(out, "unknown key 'cpu' in resources (did you mean 'cpus'?)"));
    free(out);
    teardown(&e);
}

int main(void)
{
    pzt_suite("slurm_executor",
              (pzt_case[]){
                  {"200 instances are one job array, polled with one squeue call per interval",
                   test_200_instances_are_one_array_polled_with_one_call_per_interval},
                  {"outputs that disagree with the job are a failure, not a commit",
                   test_outputs_that_disagree_with_the_job_are_a_failure_not_a_commit},
                  {"transient sbatch refusals are retried", test_transient_sbatch_refusals_are_retried},
                  {"Ctrl-C stops the retries of a refused sbatch", test_ctrl_c_stops_the_retries_of_a_refused_sbatch},
                  {"a permanent refusal is reported at once", test_a_permanent_refusal_is_reported_at_once},
                  {"a killed pzflow reattaches without submitting again",
                   test_a_killed_pzflow_reattaches_without_submitting_again},
                  {"Ctrl-C cancels the jobs with one scancel and exits 130",
                   test_ctrl_c_cancels_the_jobs_with_one_scancel_and_exits_130},
                  {"a job gone without an exit status is reported with Slurm's reason",
                   test_a_job_gone_without_exit_status_is_reported_with_slurms_reason},
                  {"resources become sbatch options", test_resources_become_sbatch_options},
                  {"bad resources are refused at load with their position",
                   test_bad_resources_are_refused_at_load_with_their_position},
                  {0}});
    return pzt_main();
}
