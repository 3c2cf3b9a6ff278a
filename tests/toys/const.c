/* Toy stage for engine tests: writes the `text` param (plus a newline) to every output,
 * whatever its inputs are. Lets a test change an upstream stage without changing its bytes
 * (early cutoff). */
#include <stdio.h>

#include "util/spec.h"

int main(int argc, char **argv)
{
    pz_err err;
    if (argc != 2) return fputs("usage: pzflow-toy-const spec.json\n", stderr), 2;
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die("toy-const", &err, 1);
    const char *text = "";
    if (pz_spec_str(spec, "text", &text, &err) < 0) pz_die("toy-const", &err, 1);
    for (size_t o = 0; spec->outputs && o < spec->outputs->n; o++) {
        FILE *out = fopen(spec->outputs->items[o]->str, "wb");
        if (!out || fprintf(out, "%s\n", text) < 0 || fclose(out) != 0)
            pz_die("toy-const", &(pz_err){"cannot write output"}, 1);
    }
    pz_spec_free(spec);
    return 0;
}
