#include "support/pztest.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "table/table.h"
#include "util/err.h"

const char *pzt_bin_dir(void)
{
    const char *d = getenv("PZ_BIN_DIR");
    return d ? d : "build/bin";
}

const char *pzt_source_dir(void)
{
    const char *d = getenv("PZ_SOURCE_DIR");
    return d ? d : ".";
}

int pzt_time_scale(void)
{
    const char *s = getenv("PZT_TIME_SCALE");
    int k = s ? atoi(s) : 1;
    return k < 1 ? 1 : k > 100 ? 100 : k;
}

const char *pzt_python(void)
{
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

char *pzt_mkdtemp(const char *suite)
{
    const char *root = getenv("PZ_TEST_TMP");
    if (!root) root = "/tmp";
    mkdir(root, 0777);
    char *tmpl = pz_xasprintf("%s/%s-XXXXXX", root, suite);
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "mkdtemp %s: %s\n", tmpl, strerror(errno));
        abort();
    }
    return tmpl;
}

void pzt_rmtree(const char *path)
{
    char *cmd = pz_xasprintf("rm -rf '%s'", path);
    int rc = system(cmd);
    (void)rc;
    free(cmd);
}

int pzt_run(const char *cwd, char **output, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0) abort();
    va_end(ap);
    char *full = cwd ? pz_xasprintf("cd '%s' && ( %s ) 2>&1", cwd, cmd) : pz_xasprintf("( %s ) 2>&1", cmd);
    free(cmd);
    FILE *p = popen(full, "r");
    free(full);
    if (!p) return -1;
    size_t cap = 4096, len = 0;
    char *buf = pz_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (len + 1 >= cap) buf = pz_xrealloc(buf, cap *= 2);
    }
    buf[len] = 0;
    int status = pclose(p);
    if (output) *output = buf;
    else free(buf);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

char *pzt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = pz_xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 >= cap) buf = pz_xrealloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int pzt_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int pzt_files_equal(const char *a, const char *b)
{
    size_t la, lb;
    char *x = pzt_read_file(a, &la), *y = pzt_read_file(b, &lb);
    int eq = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return eq;
}

int pzt_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

void pzt_suite(const char *name, const pzt_case *cases)
{
    if (CU_get_registry() == NULL && CU_initialize_registry() != CUE_SUCCESS) abort();
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (!s) abort();
    for (const pzt_case *c = cases; c->name; c++)
        if (!CU_add_test(s, c->name, c->fn)) abort();
}

int pzt_main(void)
{
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed || run == 0) ? 1 : 0;
}

int pzt_has(const char *text, const char *needle)
{
    int ok = text && strstr(text, needle) != NULL;
    if (!ok) fprintf(stderr, "\n--- expected to find: %s\n--- in:\n%s\n", needle, text ? text : "(null)");
    return ok;
}

int pzt_pzflow(const char *dir, char **output, const char *args)
{
    char *o = NULL;
    int rc = pzt_run(dir, &o, "'%s/pzflow' %s", pzt_bin_dir(), args);
    if (output) *output = o;
    else free(o);
    return rc;
}

int pzt_pzflow_says(const char *dir, const char *args, int status, const char *text)
{
    char *out = NULL;
    int rc = pzt_pzflow(dir, &out, args), ok = pzt_has(out, text);
    if (rc != status) fprintf(stderr, "\n--- pzflow %s: exit status %d, expected %d; it said:\n%s\n", args, rc, status,
                              out ? out : "(null)");
    free(out);
    return ok && rc == status;
}

int pzt_ran(const char *output, const char *stage)
{
    char *needle = pz_xasprintf("] run %s:", stage);
    int found = output && strstr(output, needle) != NULL;
    free(needle);
    return found;
}

int pzt_count_runs(const char *output)
{
    int n = 0;
    for (const char *p = output; p && (p = strstr(p, "] run ")); p++) n++;
    return n;
}

int pzt_run_stage(const char *dir, const char *exe, const char *name, char **output, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *body = NULL;
    if (vasprintf(&body, fmt, ap) < 0) abort();
    va_end(ap);
    char *spec = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"%s\", \"threads\": 1, %s}", name, body);
    char *path = pz_xasprintf("%s/%s.json", dir, name);
    int rc = pzt_write_file(path, spec) ? -1 : pzt_run(dir, output, "'%s/pzflow-%s' '%s'", pzt_bin_dir(), exe, path);
    free(body), free(spec), free(path);
    return rc;
}

pz_table *pzt_galaxies(size_t n, unsigned seed, const char *label)
{
    pz_table *t = pz_table_new(n);
    pz_column *id = pz_table_add(t, "object_id", PZ_I64, 0);
    for (size_t r = 0; r < n; r++) ((int64_t *)id->data)[r] = PZT_FIRST_ID + (int64_t)r;
    float *m = pz_xmalloc(sizeof(float) * (n * 5 + 1));
    for (size_t i = 0; i < n * 5; i++) {
        seed = seed * 1664525u + 1013904223u;
        m[i] = 19.0f + 6.0f * ((seed >> 8) / 16777216.0f);
    }
    for (int j = 0; j < 5; j++) {
        char col[32];
        snprintf(col, sizeof col, "%c_cmodel_mag", "grizy"[j]);
        pz_column *c = pz_table_add(t, col, PZ_F32, 0);
        for (size_t r = 0; r < n; r++) ((float *)c->data)[r] = m[r * 5 + j];
    }
    pz_column *z = pz_table_add(t, label, PZ_F64, 0);
    for (size_t r = 0; r < n; r++)
        ((double *)z->data)[r] = 0.8 + 0.25 * tanh(m[r * 5] - m[r * 5 + 1]) + 0.1 * (m[r * 5 + 2] - 22.0);
    free(m);
    return t;
}

void pzt_write_fixture(const char *dir, const char *name, const pz_table *t)
{
    char *path = pz_xasprintf("%s/%s", dir, name);
    pz_err err;
    if (pz_table_write_hdf5(path, t, &err)) {
        fprintf(stderr, "fixture %s: %s\n", name, err.msg);
        abort();
    }
    free(path);
}
