/* Toy stage for engine tests: every output gets the concatenation of all inputs (in input-name
 * order, list inputs in list order) followed by the `suffix` param and a newline. Params:
 * suffix (string, default ""), sleep_ms (sleep before writing, for kill tests; default 0),
 * steps (progress lines to emit while sleeping; default 4), link (hard or sym: make each output a
 * hard or symbolic link to the first input instead, as a careless stage might; default ""). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/progress.h"
#include "util/spec.h"

static int append_file(FILE *out, const char *path, pz_err *err)
{
    FILE *in = fopen(path, "rb");
    if (!in) return pz_errf(err, "cannot read %s", path);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    pz_err err;
    if (argc != 2) return fputs("usage: pzflow-toy-copy spec.json\n", stderr), 2;
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die("toy-copy", &err, 1);
    const char *suffix = "", *link_kind = "";
    long ms = 0, steps = 4;
    if (pz_spec_str(spec, "suffix", &suffix, &err) < 0 || pz_spec_long(spec, "sleep_ms", &ms, &err) < 0 ||
        pz_spec_long(spec, "steps", &steps, &err) < 0 || pz_spec_str(spec, "link", &link_kind, &err) < 0)
        pz_die("toy-copy", &err, 1);
    if (*link_kind) {
        const char **paths;
        size_t n;
        if (!spec->inputs || !spec->inputs->n || !spec->outputs || !spec->outputs->n ||
            pz_spec_inputs(spec, spec->inputs->keys[0]->str, &paths, &n, &err) < 0 || n == 0)
            pz_die("toy-copy", &(pz_err){"link needs an input and an output"}, 1);
        for (size_t o = 0; o < spec->outputs->n; o++) {
            const char *out = spec->outputs->items[o]->str;
            if ((!strcmp(link_kind, "hard") ? link(paths[0], out) : symlink(paths[0], out)) < 0)
                pz_die("toy-copy", &(pz_err){"cannot link the output"}, 1);
        }
        free(paths);
        pz_spec_free(spec);
        return 0;
    }
    for (long s = 0; s < steps; s++) {
        pz_progress((double)s / (double)steps, "step %ld of %ld", s + 1, steps);
        sleep_ms(ms / (steps > 0 ? steps : 1));
    }
    const pz_ynode *outs = spec->outputs;
    for (size_t o = 0; outs && o < outs->n; o++) {
        FILE *out = fopen(outs->items[o]->str, "wb");
        if (!out) pz_die("toy-copy", &(pz_err){"cannot write output"}, 1);
        const pz_ynode *ins = spec->inputs;
        for (size_t i = 0; ins && i < ins->n; i++) {
            const char **paths;
            size_t n;
            if (pz_spec_inputs(spec, ins->keys[i]->str, &paths, &n, &err) < 0) pz_die("toy-copy", &err, 1);
            for (size_t k = 0; k < n; k++)
                if (append_file(out, paths[k], &err) < 0) pz_die("toy-copy", &err, 1);
            free(paths);
        }
        fprintf(out, "%s\n", suffix);
        if (fclose(out) != 0) pz_die("toy-copy", &(pz_err){"write failed"}, 1);
    }
    pz_progress(1.0, "done");
    printf("toy-copy: wrote %zu outputs\n", outs ? outs->n : 0);
    pz_spec_free(spec);
    return 0;
}
