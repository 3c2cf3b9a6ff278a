/* Fuzz target: the pipeline loader (YAML, vars, foreach, references, cycle detection) and the
 * DAG printers, with a fixed pair of --set overrides so that path is exercised too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("pipeline.yaml", 0);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const char *sets[] = {"vars.fuzz=[1, 2]", "stages.a.params.lr=1e-4"};
    pz_err err;
    for (size_t nsets = 0; nsets <= 2; nsets += 2) {
        pz_pipeline *p = pz_pipeline_load(path, sets, nsets, "/bin", &err);
        if (!p) continue;
        free(pz_pipeline_dag_text(p));
        free(pz_pipeline_dag_dot(p));
        size_t *idx;
        size_t n = pz_pipeline_match(p, "a", &idx);
        (void)n;
        free(idx);
        pz_pipeline_free(p);
    }
    close(fd);
    return 0;
}
