/* pzflow-ingest-hsc spec.json: see core/table/ingest.h and docs/tables.md. */
#include <stdio.h>
#include <stdlib.h>

#include "table/ingest.h"

int main(int argc, char **argv)
{
    const char *prog = "pzflow-ingest-hsc";
    pz_err err;
    if (argc != 2) {
        fprintf(stderr, "usage: %s spec.json\n", prog);
        return 2;
    }
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die(prog, &err, 1);
    char *summary = NULL;
    if (pz_ingest_stage_hsc(spec, &summary, &err) < 0) pz_die(prog, &err, 1);
    printf("%s\n", summary);
    free(summary);
    pz_spec_free(spec);
    return 0;
}
