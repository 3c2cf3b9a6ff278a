/* Toy stage for engine tests: prints `lines` numbered lines to stdout, then exits with
 * `status` (default 3) after a one-line reason on stderr. With status 0 it exits successfully
 * without writing its outputs (the scheduler must refuse that). */
#include <stdio.h>

#include "util/spec.h"

int main(int argc, char **argv)
{
    pz_err err;
    if (argc != 2) return fputs("usage: pzflow-toy-fail spec.json\n", stderr), 2;
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die("toy-fail", &err, 1);
    long status = 3, lines = 30;
    if (pz_spec_long(spec, "status", &status, &err) < 0 || pz_spec_long(spec, "lines", &lines, &err) < 0)
        pz_die("toy-fail", &err, 1);
    for (long i = 1; i <= lines; i++) printf("toy-fail line %ld\n", i);
    fflush(stdout);
    if (status) fprintf(stderr, "toy-fail: failing on purpose with status %ld\n", status);
    pz_spec_free(spec);
    return (int)status;
}
