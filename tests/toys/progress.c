/* Toy stage for the terminal tests: reports `steps` progress lines, `ms` milliseconds apart, each
 * with the `text` param (made long on purpose) and the step, then writes `text` to every output. */
#include <stdio.h>
#include <time.h>

#include "util/progress.h"
#include "util/spec.h"

int main(int argc, char **argv)
{
    pz_err err;
    if (argc != 2) return fputs("usage: pzflow-toy-progress spec.json\n", stderr), 2;
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die("toy-progress", &err, 1);
    const char *text = "";
    long steps = 20, ms = 50;
    if (pz_spec_str(spec, "text", &text, &err) < 0 || pz_spec_long(spec, "steps", &steps, &err) < 0 ||
        pz_spec_long(spec, "ms", &ms, &err) < 0)
        pz_die("toy-progress", &err, 1);
    for (long i = 1; i <= steps; i++) {
        nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
        pz_progress((double)i / steps, "step %ld/%ld %s", i, steps, text);
    }
    for (size_t o = 0; spec->outputs && o < spec->outputs->n; o++) {
        FILE *out = fopen(spec->outputs->items[o]->str, "wb");
        if (!out || fprintf(out, "%s\n", text) < 0 || fclose(out) != 0)
            pz_die("toy-progress", &(pz_err){"cannot write output"}, 1);
    }
    pz_spec_free(spec);
    return 0;
}
