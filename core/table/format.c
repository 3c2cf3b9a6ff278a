/* Which format a file is. Reading: told from the file's first bytes, never its name, so a
 * misnamed FITS or HDF5 file still reads and a text file named .fits gets one clear error;
 * only text files need their name (.csv), since any text could look like a table. Writing:
 * told from the name the user chose, which must say a format (no silent HDF5 for "x.fits"). */
#include "table/table.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

static int is_text_table_name(const char *path)
{
    static const char *const ext[] = {"csv", "ecsv", "txt", "dat", NULL};
    for (int i = 0; ext[i]; i++)
        if (!strcasecmp(extension(path), ext[i])) return 1;
    return 0;
}

/* Printable text (or UTF-8) with no NUL: a text table is possible. */
static int looks_text(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == 0 || (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')) return 0;
    return 1;
}

int pz_table_format(const char *path, pz_format *fmt, pz_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return pz_errf(err, "%s: cannot open: %m", path);
    unsigned char head[512] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n >= 6 && memcmp(head, "SIMPLE", 6) == 0) return *fmt = PZ_FMT_FITS, 0;
    if (n >= 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0) return *fmt = PZ_FMT_HDF5, 0;
    if (n >= 7 && memcmp(head, "# %ECSV", 7) == 0) return *fmt = PZ_FMT_ECSV, 0;
    if (looks_text(head, n) && is_text_table_name(path)) return *fmt = PZ_FMT_CSV, 0;
    return pz_errf(err, "%s: neither a FITS nor an HDF5 file%s", path,
                   looks_text(head, n) ? " (a text table must be named .csv or .ecsv)" : "");
}

int pz_format_from_name(const char *path, pz_format *fmt, pz_err *err)
{
    static const struct { const char *ext; pz_format fmt; } known[] = {
        {"fits", PZ_FMT_FITS}, {"fit", PZ_FMT_FITS}, {"fts", PZ_FMT_FITS}, {"h5", PZ_FMT_HDF5},
        {"hdf5", PZ_FMT_HDF5}, {"csv", PZ_FMT_CSV},  {"ecsv", PZ_FMT_ECSV},
    };
    const char *ext = extension(path);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcasecmp(ext, known[i].ext)) return *fmt = known[i].fmt, 0;
    return pz_errf(err, "%s: cannot tell the table format from the name%s%s%s; name it .fits, .h5, .csv or .ecsv",
                   path, ext[0] ? " (extension '." : "", ext, ext[0] ? "')" : "");
}
