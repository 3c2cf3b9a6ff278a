/* pzflow-stamp FILE PROVENANCE_FILE: write the provenance text into FILE's own header (FITS
 * HISTORY, HDF5 attribute, PNG iTXt, SVG comment; core/table/stamp.h). Run by `pzflow export`
 * on its copies, never on cache objects. Not a pipeline stage: the engine, which may not link
 * HDF5 or cfitsio, delegates the format work to it. Exit 0 stamped, 3 no header in this format,
 * 1 error (one line on stderr). */
#include <stdio.h>
#include <stdlib.h>

#include "table/stamp.h"

/* The provenance text: a report of a few KB; 1 MiB is far beyond any. */
static char *read_text(const char *path, pz_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return pz_errf(err, "%s: cannot open", path), NULL;
    size_t cap = 1 << 20;
    char *text = malloc(cap + 1);
    size_t n = text ? fread(text, 1, cap, f) : 0;
    int bad = !text || ferror(f) || !feof(f);
    fclose(f);
    if (bad) return free(text), pz_errf(err, "%s: unreadable or over 1 MiB", path), NULL;
    text[n] = 0;
    return text;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pzflow-stamp FILE PROVENANCE_FILE\n");
        return 2;
    }
    pz_err err = {0};
    char *text = read_text(argv[2], &err);
    int stamped = 0;
    if (!text || pz_stamp_provenance(argv[1], text, &stamped, &err) < 0) {
        fprintf(stderr, "pzflow-stamp: %s\n", err.msg);
        free(text);
        return 1;
    }
    free(text);
    return stamped ? 0 : 3;
}
