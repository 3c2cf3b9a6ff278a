/* The cache directory can't eat user files (issue 17): a directory is a cache only with its
 * marker file (or empty, or holding only names pzflow writes); every command refuses anything
 * else before touching it; run and gc remove only names pzflow made; gc -n lists exactly what
 * gc removes. Runs the real pzflow binary on toy stages. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/pztest.h"
#include "util/err.h"
#include "util/sbuf.h"

static const char *toy_yaml =
    "stages:\n"
    "  a:\n"
    "    run: pzflow-toy-const\n"
    "    params:\n"
    "      text: \"${text}\"\n"
    "    outputs: [table]\n"
    "  b:\n"
    "    run: pzflow-toy-copy\n"
    "    params: {suffix: B}\n"
    "    inputs: {t: a/table}\n"
    "    outputs: [out]\n"
    "vars: {text: T}\n";

static char *setup(void)
{
    char *dir = pzt_mkdtemp("cachesafe");
    char *p = pz_xasprintf("%s/p.yaml", dir);
    pzt_write_file(p, toy_yaml);
    free(p);
    return dir;
}

/* setup() and one `pzflow run p.yaml`: a cache and a results folder that pzflow made. */
static char *after_one_run(void)
{
    char *dir = setup(), *out;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    free(out);
    return dir;
}

/* Give stage b another suffix by editing p.yaml: an edit, not --set, which would make its run an
 * experiment. */
static void edit_suffix(const char *dir, const char *suffix)
{
    pzt_run(dir, NULL, "sed -i 's/suffix: [A-Z]*}/suffix: %s}/' p.yaml", suffix);
}

/* String equality that shows both sides, and survives a NULL (a file that is not there). */
static int same(const char *a, const char *b)
{
    int ok = a && b && !strcmp(a, b);
    if (!ok) fprintf(stderr, "\n--- want:\n%s\n--- got:\n%s\n", b ? b : "(null)", a ? a : "(null)");
    return ok;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; p && *p; p++) n += *p == '\n';
    return n;
}

/* Every path under dir with its type, size and mtime: any write or removal changes it. */
static char *snapshot(const char *dir, const char *sub)
{
    char *out = NULL;
    pzt_run(dir, &out, "cd '%s' && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+%%s.%%N", sub);
    return out;
}

/* A pid that is certainly dead: a child that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

static void user_project(const char *dir)
{
    pzt_run(dir, NULL, "mkdir -p proj/tmp/drafts proj/runs proj/objects/ab && echo draft > proj/tmp/drafts/ch1.tex"
                       " && echo notes > proj/runs/notes.txt && echo mine > proj/objects/ab/photo.jpg"
                       " && echo hi > proj/README");
}

static void every_command_refuses_a_directory_with_files_but_no_marker(void)
{
    char *dir = setup();
    user_project(dir);
    char *before = snapshot(dir, "proj");
    const char *cmds[] = {"run p.yaml", "run -n p.yaml", "status p.yaml", "why p.yaml a", "log p.yaml a",
                          "show p.yaml", "dag p.yaml", "gc p.yaml", "gc -n p.yaml"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *args = pz_xasprintf("%s -C proj", cmds[i]), *out;
        CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, args), 4);
        CU_ASSERT_TRUE(pzt_has(out, "/proj is not a pzflow cache (no pzflow-cache file, and it holds "));
        CU_ASSERT_EQUAL(count_lines(out), 1);
        free(out), free(args);
    }
    char *after = snapshot(dir, "proj");
    CU_ASSERT_TRUE(same(before, after)); /* nothing deleted, nothing written (no statcache, no lock) */
    free(before), free(after);
    pzt_rmtree(dir);
    free(dir);
}

static void the_cache_line_of_the_pipeline_file_is_checked_too(void)
{
    char *dir = setup();
    user_project(dir);
    char *p = pz_xasprintf("%s/q.yaml", dir);
    char *yaml = pz_xasprintf("cache: proj\n%s", toy_yaml);
    pzt_write_file(p, yaml);
    char *before = snapshot(dir, "proj"), *out;
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run q.yaml", 4, "proj is not a pzflow cache"));
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "gc q.yaml"), 4);
    free(out);
    char *after = snapshot(dir, "proj");
    CU_ASSERT_TRUE(same(before, after));
    free(before), free(after), free(p), free(yaml);
    pzt_rmtree(dir);
    free(dir);
}

static void an_empty_directory_becomes_a_cache_and_status_writes_nothing_there(void)
{
    char *dir = setup();
    pzt_run(dir, NULL, "mkdir empty");
    char *out;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "status p.yaml -C empty"), 0);
    free(out);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run -n p.yaml -C empty"), 0);
    free(out);
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "ls -A empty"), 0);
    CU_ASSERT_TRUE(same(out, "")); /* no statcache in a directory that is not (yet) a cache */
    free(out);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml -C empty"), 0);
    free(out);
    char *marker = pz_xasprintf("%s/empty/pzflow-cache", dir), *text = pzt_read_file(marker, NULL);
    CU_ASSERT_TRUE(same(text, "pzflow-cache 1\n"));
    free(text), free(marker);
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml -C empty", 0, "pzflow: 0 ran, 2 up to date"));
    pzt_rmtree(dir);
    free(dir);
}

static void a_cache_made_before_the_marker_is_adopted_only_if_pzflow_wrote_everything_in_it(void)
{
    char *dir = after_one_run(), *out;
    /* A cache of an older pzflow: same layout, no marker. */
    pzt_run(dir, NULL, "rm cache/pzflow-cache");
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "status p.yaml", 0, "0 stale, 0 waiting on upstream, 2 up to date"));
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml", 0, "pzflow: 0 ran, 2 up to date"));
    char *marker = pz_xasprintf("%s/cache/pzflow-cache", dir);
    CU_ASSERT_TRUE(pzt_exists(marker)); /* adopted by run */
    free(marker);
    /* The same cache holding one file that pzflow would not write is not adopted. */
    pzt_run(dir, NULL, "rm cache/pzflow-cache && echo x > cache/runs/mine.txt");
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "gc p.yaml"), 4);
    CU_ASSERT_TRUE(pzt_has(out, "/cache is not a pzflow cache (no pzflow-cache file, and it holds "));
    CU_ASSERT_TRUE(pzt_has(out, "/cache/runs/mine.txt, which pzflow did not write)"));
    free(out);
    pzt_rmtree(dir);
    free(dir);
}

static void a_marker_of_another_format_is_refused(void)
{
    char *dir = after_one_run();
    char *marker = pz_xasprintf("%s/cache/pzflow-cache", dir);
    pzt_write_file(marker, "pzflow-cache 2\n");
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "status p.yaml", 4,
                                   "/cache/pzflow-cache: not a pzflow cache of a format this pzflow reads"));
    free(marker);
    pzt_rmtree(dir);
    free(dir);
}

/* The files that disappeared between two `find -type f` listings. */
static char *removed_files(const char *before, const char *after)
{
    pz_sbuf gone = {0};
    char *copy = pz_xstrdup(before);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
        char *needle = pz_xasprintf("%s\n", line);
        if (!strstr(after, needle)) pz_sb_printf(&gone, "%s\n", line);
        free(needle);
    }
    free(copy);
    return gone.p ? gone.p : pz_xstrdup("");
}

/* The files under each "would remove PATH" line of gc -n: a path ending in '/' stands for
 * every file inside it. */
static char *listed_files(const char *dir, const char *gc_out)
{
    pz_sbuf cmd = {0};
    pz_sb_printf(&cmd, "{ :");
    char *copy = pz_xstrdup(gc_out);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n"))
        if (!strncmp(line, "would remove /", 14)) pz_sb_printf(&cmd, "; find '%s' -type f", line + 13);
    pz_sb_printf(&cmd, "; } | sort");
    char *out = NULL;
    pzt_run(dir, &out, "%s", cmd.p);
    free(copy), free(cmd.p);
    return out;
}

static void gc_dry_run_lists_exactly_what_gc_removes_and_gc_spares_what_pzflow_did_not_write(void)
{
    char *dir = setup(), *out;
    /* An edit of the file, not --set: a --set run is an experiment, which gc keeps. */
    pzt_run(dir, NULL, "sed -i 's/text: T}/text: OLD}/' p.yaml");
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    free(out);
    pzt_run(dir, NULL, "sed -i 's/text: OLD}/text: T}/' p.yaml");
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0); /* the OLD run's records and objects: garbage */
    free(out);
    long dead = dead_pid();
    pzt_run(dir, NULL,
            "cd cache && mkdir -p tmp/%ld.a.Ab12Cd/out tmp/mine objects/zz objects/ab"
            " && echo scratch > tmp/%ld.a.Ab12Cd/out/table && echo keep > tmp/mine/f"
            " && echo keep > objects/zz/f && echo keep > objects/ab/notes.txt && echo keep > runs/README"
            " && echo half > runs/0123456789abcdef0123456789abcdef.tmp.%ld && echo keep > runs/x.tmp.%ld"
            " && echo keep > foo.tmp.%ld && echo half > statcache.tmp.%ld",
            dead, dead, dead, dead, dead, dead);
    char *before = NULL;
    pzt_run(dir, &before, "find \"$PWD/cache\" -type f | sort");
    char *dry = NULL;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &dry, "gc -n p.yaml"), 0);
    char *listed = listed_files(dir, dry);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "gc p.yaml"), 0);
    char *after = NULL;
    pzt_run(dir, &after, "find \"$PWD/cache\" -type f | sort");
    char *gone = removed_files(before, after);
    CU_ASSERT_TRUE(same(listed, gone));
    /* The counts of both agree with the listing. */
    CU_ASSERT_TRUE(pzt_has(dry, "would remove 2 objects"));
    CU_ASSERT_TRUE(pzt_has(dry, "and 2 run records"));
    CU_ASSERT_TRUE(pzt_has(dry, "would remove 3 temporary files"));
    CU_ASSERT_TRUE(pzt_has(out, "removed 2 objects"));
    CU_ASSERT_TRUE(pzt_has(gone, "/runs/0123456789abcdef0123456789abcdef.tmp."));
    CU_ASSERT_TRUE(pzt_has(gone, ".a.Ab12Cd/out/table"));
    const char *kept[] = {"tmp/mine/f", "objects/zz/f", "objects/ab/notes.txt", "runs/README", "runs/x.tmp.",
                          "cache/foo.tmp."};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) CU_ASSERT_TRUE(pzt_has(after, kept[i]));
    free(out);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 2 up to date"));
    free(out), free(dry), free(listed), free(before), free(after), free(gone);
    pzt_rmtree(dir);
    free(dir);
}

/* gc prunes cache/slurm/ and cache/describe/ down to what a record or a running job needs. Job
 * folders: one whose job may still run (job file, no exit file, key not committed) is kept with
 * Slurm's output file of that job; one whose job ended, one never submitted, one of a committed
 * key, a killed sbatch call's script and other jobs' output files go. Descriptions: those of
 * executables a kept record ran, or that are installed (described by `status`, never run), stay;
 * one of an executable no longer installed goes. What pzflow did not write stays. */
static void gc_prunes_ended_slurm_jobs_and_descriptions_of_executables_no_longer_installed(void)
{
    char *dir = after_one_run(), *out;
    /* pzflow-toy-progress: installed and described, never run (no record names it). */
    pzt_run(dir, NULL, "sed 's/run: pzflow-toy-copy/run: pzflow-toy-progress/' p.yaml > q.yaml");
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "status q.yaml"), 0);
    free(out);
    char *committed = NULL;
    pzt_run(dir, &committed, "ls cache/runs | head -1 | tr -d '\\n'");
    const char *k = "0123456789abcdef0123456789abcdef";
    pzt_run(dir, NULL,
            "cd cache && mkdir -p slurm/out slurm/%s.Run123 slurm/%s.End456 slurm/%s.New789 slurm/%s.Com012"
            " && echo 11_0 > slurm/%s.Run123/job && echo 12_0 > slurm/%s.End456/job && echo 0 > slurm/%s.End456/exit"
            " && echo 13_0 > slurm/%s.Com012/job && echo {} > slurm/%s.New789/spec.json && echo x > slurm/out/11_0.out && echo x > slurm/out/12_0.out"
            " && echo x > slurm/out/99_1.out && echo x > slurm/submit.Ab12Cd && echo mine > slurm/notes.txt"
            " && echo 'pzflow-describe none' > describe/%s",
            k, k, k, committed, k, k, k, committed, k, k);
    char *before = NULL, *descs = NULL;
    pzt_run(dir, &before, "find \"$PWD/cache\" -type f | sort");
    pzt_run(dir, &descs, "ls cache/describe | grep -vc %s", k);
    CU_ASSERT_TRUE(descs && atoi(descs) >= 2); /* toy-const and toy-copy (records), toy-progress (installed) */
    char *dry = NULL;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &dry, "gc -n p.yaml"), 0);
    char *listed = listed_files(dir, dry);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "gc p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "1 descriptions of executables no longer installed, 3 folders of ended Slurm jobs"));
    char *after = NULL;
    pzt_run(dir, &after, "find \"$PWD/cache\" -type f | sort");
    char *gone = removed_files(before, after);
    CU_ASSERT_TRUE(same(listed, gone));
    const char *removed[] = {".End456/exit", ".New789/spec.json", ".Com012/job", "slurm/out/12_0.out", "slurm/out/99_1.out",
                             "slurm/submit.Ab12Cd", "describe/0123456789abcdef0123456789abcdef"};
    for (size_t i = 0; i < sizeof removed / sizeof *removed; i++) CU_ASSERT_TRUE(pzt_has(gone, removed[i]));
    const char *kept[] = {".Run123/job", "slurm/out/11_0.out", "slurm/notes.txt"};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) CU_ASSERT_TRUE(pzt_has(after, kept[i]));
    char *left = NULL;
    pzt_run(dir, &left, "ls cache/describe | grep -vc %s", k);
    CU_ASSERT_TRUE(same(left, descs)); /* every description a record or an installed executable needs */
    free(out);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 2 up to date"));
    free(out), free(dry), free(listed), free(before), free(after), free(gone), free(descs), free(left), free(committed);
    pzt_rmtree(dir);
    free(dir);
}

static void run_removes_only_scratch_of_dead_runs(void)
{
    char *dir = after_one_run(), *out;
    long dead = dead_pid(), live = (long)getpid();
    pzt_run(dir, NULL, "cd cache/tmp && mkdir %ld.a.Xy12Zz %ld.b.Xy12Zz mine && echo x > mine/f", dead, live);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    free(out);
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "ls cache/tmp"), 0);
    char *want = pz_xasprintf("%ld.b.Xy12Zz\nmine\n", live); /* a live owner's scratch, and not ours */
    CU_ASSERT_TRUE(same(out, want));
    free(out), free(want);
    pzt_rmtree(dir);
    free(dir);
}

static void the_reproducer_script_passes(void)
{
    char *out = NULL;
    int rc = pzt_run(NULL, &out, "sh '%s/tests/repro/cache_not_a_cache.sh' '%s'", pzt_source_dir(), pzt_bin_dir());
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "ok: every command refused proj/"));
    free(out);
}

static void extra_arguments_are_errors(void)
{
    char *dir = setup(), *out;
    const char *cmds[] = {"run p.yaml p.yaml", "status p.yaml other.yaml", "gc p.yaml x", "show p.yaml x"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, cmds[i]), 2);
        CU_ASSERT_TRUE(pzt_has(out, "pzflow: unexpected argument '"));
        CU_ASSERT_TRUE(pzt_has(out, " takes one pipeline file\n"));
        free(out);
    }
    char *cache = pz_xasprintf("%s/cache", dir);
    CU_ASSERT_FALSE(pzt_exists(cache)); /* nothing ran */
    free(cache);
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml --set extends=q.yaml", 2,
                                   "p.yaml: --set 'extends=q.yaml': extends cannot be set from the command line"));
    pzt_run(dir, NULL, "mkfifo fifo.yaml");
    /* At once: before, open() blocked forever waiting for a writer (timeout's 124 says so). */
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "timeout 10 '%s/pzflow' run fifo.yaml", pzt_bin_dir()), 2);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: fifo.yaml: not a regular file (a device, FIFO or directory)"));
    free(out);
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run /dev/zero", 2, "pzflow: /dev/zero: not a regular file"));
    pzt_rmtree(dir);
    free(dir);
}

static const char *slow_yaml =
    "stages:\n"
    "  slow:\n"
    "    run: pzflow-toy-copy\n"
    "    params: {suffix: S, sleep_ms: 1500}\n"
    "    inputs: {t: data.txt}\n"
    "    outputs: [out]\n";

static int has_scratch(const char *dir)
{
    char *out = NULL;
    pzt_run(dir, &out, "ls cache/tmp 2>/dev/null");
    int found = out && strstr(out, ".slow.") != NULL;
    free(out);
    return found;
}

static void removing_the_lock_file_mid_run_lets_no_second_run_in(void)
{
    char *dir = pzt_mkdtemp("cachesafe"), *p = pz_xasprintf("%s/s.yaml", dir), *out;
    pzt_write_file(p, slow_yaml);
    pzt_run(dir, NULL, "echo data > data.txt");
    pzt_run(dir, NULL, "'%s/pzflow' run s.yaml > first.log 2>&1 & echo $! > first.pid", pzt_bin_dir());
    for (int i = 0; i < 500 && !has_scratch(dir); i++) usleep(10000);
    CU_ASSERT_TRUE_FATAL(has_scratch(dir));
    CU_ASSERT_EQUAL(pzt_run(dir, NULL, "rm cache/lock"), 0);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run s.yaml --no-wait"), 3); /* still held: on the directory */
    CU_ASSERT_TRUE(pzt_has(out, "is in use by another pzflow run"));
    free(out);
    CU_ASSERT_TRUE(has_scratch(dir)); /* the first run's scratch is still there */
    CU_ASSERT_EQUAL(pzt_run(dir, NULL, "while kill -0 $(cat first.pid) 2>/dev/null; do sleep 0.05; done"), 0);
    char *log = pz_xasprintf("%s/first.log", dir), *text = pzt_read_file(log, NULL);
    CU_ASSERT_TRUE(pzt_has(text, "pzflow: 1 ran, 0 up to date"));
    free(text), free(log), free(p);
    pzt_rmtree(dir);
    free(dir);
}

/* Run `cmds` with the cache mounted read-only in a private mount namespace; -1 if this machine
 * cannot make one (then the test says so and checks nothing). */
static int run_with_readonly_cache(const char *dir, char **out, const char *cmds)
{
    if (pzt_run(dir, NULL, "unshare -m true 2>/dev/null") != 0) return -1;
    return pzt_run(dir, out, "unshare -m sh -c 'mount --bind cache cache && mount -o remount,ro,bind cache && %s'",
                   cmds);
}

static void a_read_only_cache_serves_a_no_op_run(void)
{
    char *dir = after_one_run(), *out;
    char *cmds = pz_xasprintf("\"%s/pzflow\" run p.yaml && \"%s/pzflow\" status p.yaml && touch cache/x", pzt_bin_dir(),
                              pzt_bin_dir());
    int rc = run_with_readonly_cache(dir, &out, cmds);
    if (rc == -1) {
        fprintf(stderr, "\n  (no mount namespace here: read-only cache not checked)\n");
    } else {
        CU_ASSERT_NOT_EQUAL(rc, 0); /* the touch: the mount really was read-only */
        CU_ASSERT_TRUE(pzt_has(out, "pzflow: 0 ran, 2 up to date"));
        CU_ASSERT_TRUE(pzt_has(out, "0 stale, 0 waiting on upstream, 2 up to date"));
        CU_ASSERT_TRUE(pzt_has(out, "Read-only file system"));
    }
    free(out), free(cmds);
    pzt_rmtree(dir);
    free(dir);
}

static void a_hard_linked_output_is_copied_not_adopted(void)
{
    char *dir = pzt_mkdtemp("cachesafe"), *p = pz_xasprintf("%s/h.yaml", dir), *out;
    pzt_write_file(p, "stages:\n  h:\n    run: pzflow-toy-copy\n    params: {link: hard}\n"
                      "    inputs: {t: data.txt}\n    outputs: [out]\n");
    pzt_run(dir, NULL, "echo mine > data.txt && chmod 644 data.txt");
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run h.yaml"), 0);
    free(out);
    /* The user's file keeps its mode and its one name; the object is another inode. */
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "stat -c '%%a %%h' data.txt"), 0);
    CU_ASSERT_TRUE(same(out, "644 1\n"));
    free(out);
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "find cache/objects -samefile data.txt | wc -l"), 0);
    CU_ASSERT_TRUE(same(out, "0\n"));
    free(out);
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "cat results/h/h/out"), 0);
    CU_ASSERT_TRUE(same(out, "mine\n"));
    free(out), free(p);
    pzt_rmtree(dir);
    free(dir);
}

static const char *dag_yaml =
    "stages:\n"
    "  a:\n"
    "    run: pzflow-toy-copy\n"
    "    inputs: {t: data/in.txt}\n"
    "    outputs: [out]\n"
    "  dag:\n"
    "    run: pzflow-dag\n"
    "    inputs: {pipeline: p.yaml}\n"
    "    outputs: [dot]\n";

static char *dag_bytes_in(const char *base, const char *sub)
{
    char *dir = pz_xasprintf("%s/%s", base, sub), *p = pz_xasprintf("%s/p.yaml", dir), *out;
    pzt_run(base, NULL, "mkdir -p %s/data && echo x > %s/data/in.txt", sub, sub);
    pzt_write_file(p, dag_yaml);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run p.yaml"), 0);
    free(out);
    char *dot = pz_xasprintf("%s/results/p/dag/dot.dot", dir), *text = pzt_read_file(dot, NULL);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "dag p.yaml --dot"), 0);
    CU_ASSERT_TRUE(same(out, text)); /* `pzflow dag --dot` prints what the stage writes */
    free(out), free(dot), free(p), free(dir);
    return text;
}

static void the_dag_does_not_depend_on_where_the_pipeline_lives(void)
{
    char *base = pzt_mkdtemp("cachesafe");
    char *one = dag_bytes_in(base, "one"), *two = dag_bytes_in(base, "elsewhere/two");
    CU_ASSERT_TRUE(same(one, two));
    CU_ASSERT_TRUE(pzt_has(one, "\"file:data/in.txt\" -> \"a\""));
    CU_ASSERT_PTR_NULL(strstr(one ? one : "", base));
    free(one), free(two);
    pzt_rmtree(base);
    free(base);
}

static void workspace_links_never_replace_user_files_or_follow_symlinked_folders(void)
{
    char *dir = after_one_run(), *out;
    /* A user's file where a result link would go: kept, and the run says why it stops. */
    pzt_run(dir, NULL, "rm results/p/b/out && echo mine > results/p/b/out");
    edit_suffix(dir, "X");
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml", 4,
                                   "/results/p/b/out exists and is not a link pzflow made; not replacing it"));
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "cat results/p/b/out"), 0);
    CU_ASSERT_TRUE(same(out, "mine\n"));
    free(out);
    /* A user's own link there is not replaced either. */
    pzt_run(dir, NULL, "ln -sf /etc/hostname results/p/b/out");
    edit_suffix(dir, "Y");
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml", 4, "is not a link pzflow made"));
    /* A stage folder that is a symlink: nothing is written where it points. */
    pzt_run(dir, NULL, "rm -rf results/p/b && mkdir elsewhere && ln -s ../../elsewhere results/p/b");
    edit_suffix(dir, "Z");
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml", 4,
                                   "/results/p/b is a symbolic link; pzflow writes results only into real folders"));
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "ls -A elsewhere"), 0);
    CU_ASSERT_TRUE(same(out, ""));
    free(out);
    /* The workspace folder itself a symlink. */
    pzt_run(dir, NULL, "rm -rf results && mkdir -p results ws2 && ln -s ../ws2 results/p");
    edit_suffix(dir, "W");
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml", 4, "/results/p is a symbolic link"));
    /* workspace: . (or above the pipeline) is refused at load. */
    char *w = pz_xasprintf("%s/w.yaml", dir), *yaml = pz_xasprintf("workspace: .\n%s", toy_yaml);
    pzt_write_file(w, yaml);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run w.yaml"), 2);
    CU_ASSERT_TRUE(pzt_has(out, "w.yaml:1:12: workspace "));
    CU_ASSERT_TRUE(pzt_has(out, " is the pipeline's own directory or above it; its stage folders would mix with your "
                            "files: give a folder of its own, e.g. results/w\n"));
    free(out), free(w), free(yaml);
    pzt_rmtree(dir);
    free(dir);
}

/* A no-op run over a results folder that already shows the run checks its links once
 * (results.c, repair_in_place): a link removed by hand comes back, relative; a user's file or a
 * symlinked stage folder there is refused as a new run's swap would refuse it. */
static void a_no_op_run_repairs_links_in_place_and_still_refuses_what_is_not_its(void)
{
    char *dir = after_one_run(), *out;
    char *before = NULL;
    pzt_run(dir, &before, "readlink results/p/a/table results/p/b/out && cat results/p/b/out");
    pzt_run(dir, NULL, "rm results/p/b/out");
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml", 0, "0 ran, 2 up to date"));
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "readlink results/p/a/table results/p/b/out && cat results/p/b/out"), 0);
    CU_ASSERT_TRUE(before && same(out, before) && before[0] == '.'); /* the same relative links, same bytes */
    free(out);
    free(before);
    pzt_run(dir, NULL, "rm results/p/b/out && echo mine > results/p/b/out");
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml", 4,
                                   "/results/p/b/out exists and is not a link pzflow made; not replacing it"));
    pzt_run(dir, NULL, "rm -rf results/p/b && mkdir elsewhere && ln -s ../../elsewhere results/p/b");
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "run p.yaml", 4,
                                   "/results/p/b is a symbolic link; pzflow writes results only into real folders"));
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "ls -A elsewhere"), 0);
    CU_ASSERT_TRUE(same(out, ""));
    free(out);
    pzt_rmtree(dir);
    free(dir);
}

static void a_stage_past_ulimit_f_stops_the_run_with_exit_4_and_one_line(void)
{
    char *dir = pzt_mkdtemp("cachesafe"), *p = pz_xasprintf("%s/big.yaml", dir), *out;
    pzt_write_file(p, "stages:\n  a:\n    run: pzflow-toy-copy\n    inputs: {t: big.bin}\n    outputs: [out]\n");
    pzt_run(dir, NULL, "head -c 300000 /dev/zero > big.bin");
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "ulimit -f 100 && '%s/pzflow' run big.yaml", pzt_bin_dir()), 4);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: stage a went past the file size limit (ulimit -f) writing its outputs (SIGXFSZ); "
                            "nothing of it was committed: raise the limit and run again\n"));
    CU_ASSERT_PTR_NULL(strstr(out ? out : "", "killed by signal"));
    free(out);
    CU_ASSERT_TRUE(pzt_pzflow_says(dir, "status big.yaml", 0, "stale  a: last run was killed by signal 25"));
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "run big.yaml"), 0); /* without the limit */
    free(out), free(p);
    pzt_rmtree(dir);
    free(dir);
}

static void a_stage_that_fills_the_disk_keeps_its_log(void)
{
    char *dir = pzt_mkdtemp("cachesafe"), *p = pz_xasprintf("%s/big.yaml", dir), *out;
    pzt_write_file(p, "stages:\n  a:\n    run: pzflow-toy-copy\n    inputs: {t: big.bin}\n    outputs: [out]\n");
    pzt_run(dir, NULL, "head -c 3000000 /dev/zero > big.bin && mkdir cache");
    if (pzt_run(dir, NULL, "unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs cache' 2>/dev/null") != 0) {
        fprintf(stderr, "\n  (no mount namespace here: full disk not checked)\n");
    } else {
        /* The cache on a 1 MiB filesystem; the stage's 3 MB output fills it. */
        int rc = pzt_run(dir, &out,
                         "unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs cache && \"%s/pzflow\" run big.yaml;"
                         " echo run=$?; \"%s/pzflow\" log big.yaml a; echo log=$?'",
                         pzt_bin_dir(), pzt_bin_dir());
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_TRUE(pzt_has(out, "pzflow: stage a failed: exit status 1"));
        CU_ASSERT_TRUE(pzt_has(out, "    | toy-copy: write failed\n")); /* the reason, in the report's log tail */
        CU_ASSERT_TRUE(pzt_has(out, "run=1\ntoy-copy: write failed\nlog=0\n")); /* and kept for `pzflow log` */
        free(out);
    }
    free(p);
    pzt_rmtree(dir);
    free(dir);
}

int main(void)
{
    pzt_suite("cache_safety",
              (pzt_case[]){
                  {"every command refuses a directory with files but no marker", every_command_refuses_a_directory_with_files_but_no_marker},
                  {"the cache: line of the pipeline file is checked too", the_cache_line_of_the_pipeline_file_is_checked_too},
                  {"an empty directory becomes a cache; status writes nothing there", an_empty_directory_becomes_a_cache_and_status_writes_nothing_there},
                  {"a cache made before the marker is adopted only if pzflow wrote everything in it", a_cache_made_before_the_marker_is_adopted_only_if_pzflow_wrote_everything_in_it},
                  {"a marker of another format is refused", a_marker_of_another_format_is_refused},
                  {"gc -n lists exactly what gc removes; gc spares what pzflow did not write", gc_dry_run_lists_exactly_what_gc_removes_and_gc_spares_what_pzflow_did_not_write},
                  {"run removes only scratch of dead runs", run_removes_only_scratch_of_dead_runs},
                  {"the reproducer script passes", the_reproducer_script_passes},
                  {"removing the lock file mid-run lets no second run in", removing_the_lock_file_mid_run_lets_no_second_run_in},
                  {"a read-only cache serves a no-op run", a_read_only_cache_serves_a_no_op_run},
                  {"a hard-linked output is copied, not adopted", a_hard_linked_output_is_copied_not_adopted},
                  {"the dag does not depend on where the pipeline lives", the_dag_does_not_depend_on_where_the_pipeline_lives},
                  {"workspace links never replace user files or follow symlinked folders", workspace_links_never_replace_user_files_or_follow_symlinked_folders},
                  {"gc prunes ended Slurm jobs and descriptions of executables no longer installed", gc_prunes_ended_slurm_jobs_and_descriptions_of_executables_no_longer_installed},
                  {"a no-op run repairs links in place and still refuses what is not its", a_no_op_run_repairs_links_in_place_and_still_refuses_what_is_not_its},
                  {"a stage past ulimit -f stops the run with exit 4 and one line", a_stage_past_ulimit_f_stops_the_run_with_exit_4_and_one_line},
                  {"a stage that fills the disk keeps its log", a_stage_that_fills_the_disk_keeps_its_log},
                  {"extra arguments, --set extends, endless pipeline files are errors", extra_arguments_are_errors},
                  {0}});
    return pzt_main();
}
