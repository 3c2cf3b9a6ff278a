/* How long pz_pipeline_load takes on a generated 500-stage pipeline (the loader is on the
 * no-op path of every `pzflow run`). Usage: bench_pipeline_load [stages] [repeats]
 * Prints the median and best wall time of load+validate+free. The pipeline mixes chains,
 * fan-in, external files, vars and a foreach stage, and runs /bin/true (resolved once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/pipeline.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static char *generate(int n)
{
    size_t cap = 4096 + (size_t)n * 256, len = 0;
    char *t = pz_xmalloc(cap);
    len += (size_t)snprintf(t + len, cap - len, "vars:\n  lr: 5e-4\n  seeds: [1, 2, 3, 4]\n  data: input.txt\nstages:\n");
    for (int i = 0; i < n - 4; i++) {
        len += (size_t)snprintf(t + len, cap - len,
                                "  s%04d:\n    run: /bin/true\n    params: {i: %d, lr: \"${lr}\", name: \"s-%d\"}\n", i, i, i);
        if (i % 5 == 0) len += (size_t)snprintf(t + len, cap - len, "    inputs: {d: \"${data}\"}\n");
        else if (i % 10 == 9 && i >= 10)
            len += (size_t)snprintf(t + len, cap - len, "    inputs: {a: s%04d/out, b: s%04d/out}\n", i - 1, i - 10);
        else len += (size_t)snprintf(t + len, cap - len, "    inputs: {a: s%04d/out}\n", i - 1);
        len += (size_t)snprintf(t + len, cap - len, "    outputs: [out]\n");
    }
    len += (size_t)snprintf(t + len, cap - len,
                            "  fan:\n    run: /bin/true\n    foreach: ${seeds}\n    params: {seed: \"${item}\"}\n"
                            "    inputs: {a: s%04d/out}\n    outputs: [out]\n", n - 5);
    return t;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 500, reps = argc > 2 ? atoi(argv[2]) : 200;
    if (n < 10 || reps < 1) {
        fprintf(stderr, "usage: bench_pipeline_load [stages>=10] [repeats]\n");
        return 2;
    }
    char dir[] = "/tmp/pzbench-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char *yaml = pz_xasprintf("%s/bench.yaml", dir), *input = pz_xasprintf("%s/input.txt", dir);
    char *text = generate(n);
    FILE *f = fopen(yaml, "w"), *g = fopen(input, "w");
    if (!f || !g) return 1;
    fputs(text, f);
    fputs("x\n", g);
    fclose(f);
    fclose(g);
    double *t = pz_xmalloc((size_t)reps * sizeof *t);
    size_t nstages = 0;
    for (int r = 0; r < reps; r++) {
        pz_err err;
        double t0 = now_ms();
        pz_pipeline *p = pz_pipeline_load(yaml, NULL, 0, NULL, &err);
        if (!p) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        nstages = p->nstages;
        pz_pipeline_free(p);
        t[r] = now_ms() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("pipeline load: %zu stage instances, %zu bytes of YAML, median %.2f ms, best %.2f ms (%d runs)\n", nstages,
           strlen(text), t[reps / 2], t[0], reps);
    unlink(yaml);
    unlink(input);
    rmdir(dir);
    free(t);
    free(text);
    free(yaml);
    free(input);
    return 0;
}
