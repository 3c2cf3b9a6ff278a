/* Fuzz target: the stage spec-file reader and its typed accessors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "util/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* pz_spec_load takes a path: give it an in-memory file. */
    int fd = memfd_create("spec", 0);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    pz_err err;
    pz_spec *s = pz_spec_load(path, &err);
    if (s) {
        double d; long l; int b; const char *str; const char **list; size_t n;
        pz_spec_double(s, "lr", &d, &err);
        pz_spec_long(s, "seed", &l, &err);
        pz_spec_bool(s, "images", &b, &err);
        pz_spec_str(s, "layout", &str, &err);
        if (pz_spec_strlist(s, "cuts", &list, &n, &err) == 0) free(list);
        if (pz_spec_inputs(s, "train", &list, &n, &err) == 0) free(list);
        pz_spec_input(s, "model", &str, &err);
        pz_spec_output(s, "model", &str, &err);
        struct { double lr; long seed; pz_strs cuts; } typed;
        const pz_param_def defs[] = {
            {PZ_PARAM("lr", PZ_PT_FLOAT, "5e-4", ""), PZ_RANGE(0, 1), .field = PZ_FIELD(__typeof__(typed), lr)},
            {PZ_PARAM("seed", PZ_PT_INT, "1", ""), .field = PZ_FIELD(__typeof__(typed), seed)},
            {PZ_PARAM("cuts", PZ_PT_STRINGS, NULL, ""), .field = PZ_FIELD(__typeof__(typed), cuts)},
            {0}};
        memset(&typed, 0, sizeof typed);
        pz_params_read(s, defs, &typed, &err);
        pz_params_release(defs, &typed);
        pz_spec_free(s);
    }
    close(fd);
    return 0;
}
