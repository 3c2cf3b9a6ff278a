/* Helpers shared by the CUnit suites: scratch directories, running commands, file checks.
 * Every suite is its own executable (tests/test_<name>.c) registered with ctest. */
#ifndef PZ_TEST_H
#define PZ_TEST_H

#include <CUnit/Basic.h>
#include <stddef.h>

/* Paths from the ctest environment (CMakeLists.txt sets them). */
const char *pzt_bin_dir(void);    /* build/bin: pzflow and stage executables */
const char *pzt_source_dir(void); /* the checkout */

/* A fresh empty directory under build/testtmp/<suite>-XXXXXX; malloc'd path. */
char *pzt_mkdtemp(const char *suite);
/* rm -rf a directory tree (tests only). */
void pzt_rmtree(const char *path);

/* Run a shell command in `cwd` (NULL = current); capture stdout+stderr into *output (malloc'd,
 * may be NULL to discard). Returns the exit status, or 128+signal if killed. */
int pzt_run(const char *cwd, char **output, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whether `needle` occurs in `text`; when not, prints both (the output a test was reading) to
 * stderr, so a failed assertion shows what was there. */
int pzt_has(const char *text, const char *needle);

/* Run build/bin/pzflow with `args` (shell words) in `dir`, like pzt_run. */
int pzt_pzflow(const char *dir, char **output, const char *args);

/* Whether `pzflow ARGS` in `dir` exits with `status` and says `text`; when not, shows what it did
 * (as pzt_has does), so a test can assert it as one sentence. */
int pzt_pzflow_says(const char *dir, const char *args, int status, const char *text);

/* From a `pzflow run` output: whether it ran `stage` ("[k/n] run STAGE: reason"; false for a
 * NULL output), and how many stages it ran. */
int pzt_ran(const char *output, const char *stage);
int pzt_count_runs(const char *output);

/* Whole-file helpers. pzt_read_file returns NULL if missing; *len optional. */
char *pzt_read_file(const char *path, size_t *len);
int pzt_write_file(const char *path, const char *text);
/* Write table t (a pz_table) as HDF5 at dir/name, or abort naming it: a test fixture. */
struct pz_table;
void pzt_write_fixture(const char *dir, const char *name, const struct pz_table *t);
/* A table like GalaxiesML's, for the network stages' suites: object_id (PZT_FIRST_ID + row), the
 * five cmodel magnitudes g..y uniform in [19, 25) (a seeded LCG: a seed always gives the same
 * table), and `label`, a known smooth function of them, 0.8 + 0.25 tanh(g - r) + 0.1 (i - 22). */
#define PZT_FIRST_ID 74648828533440000LL
struct pz_table *pzt_galaxies(size_t n, unsigned seed, const char *label);
/* Write a spec (`stage` name, one thread, then the JSON members `fmt` formats) into dir/NAME.json
 * and run build/bin/pzflow-EXE on it in dir, as the scheduler would; like pzt_run. */
int pzt_run_stage(const char *dir, const char *exe, const char *name, char **output, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int pzt_files_equal(const char *a, const char *b);
int pzt_exists(const char *path);

/* Run the registered suites and return the exit status for main(). */
int pzt_main(void);

/* Register a suite: pzt_suite("name", (pzt_case[]){{"t1", fn}, ..., {0}}). */
typedef struct { const char *name; void (*fn)(void); } pzt_case;
void pzt_suite(const char *name, const pzt_case *cases);

/* The python interpreter with astropy/h5py (Debian's), for format cross-checks. */
const char *pzt_python(void);

/* PZT_TIME_SCALE (default 1): how much longer to make the sleeps of tests that race one pzflow
   run against another, for slow runners such as valgrind (scripts/valgrind.sh sets 10). */
int pzt_time_scale(void);

#endif
