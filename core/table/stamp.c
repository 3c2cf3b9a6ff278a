#include "table/stamp.h"

#include <errno.h>
#include <fitsio.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "table/h5util.h"
#include "util/sbuf.h"

static const unsigned char PNG_MAGIC[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

enum kind { OTHER, FITS, HDF5, PNG, SVG };

static enum kind kind_of(const char *head, size_t n)
{
    if (n >= 6 && !memcmp(head, "SIMPLE", 6)) return FITS;
    if (n >= 8 && !memcmp(head, "\x89HDF\r\n\x1a\n", 8)) return HDF5;
    if (n >= 8 && !memcmp(head, PNG_MAGIC, 8)) return PNG;
    if (n >= 5 && (!memcmp(head, "<?xml", 5) || !memcmp(head, "<svg", 4)) && strstr(head, "<svg")) return SVG;
    return OTHER;
}

static char *read_all(const char *path, size_t *len, pz_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return pz_errf(err, "%s: cannot open: %s", path, strerror(errno)), NULL;
    pz_sbuf b = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) pz_sb_put(&b, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return free(b.p), pz_errf(err, "%s: read error", path), NULL;
    *len = b.len;
    return b.p ? b.p : calloc(1, 1);
}

static int write_all(const char *path, const void *a, size_t na, const void *b, size_t nb, const void *c, size_t nc,
                     pz_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f) return pz_errf(err, "%s: cannot write: %s", path, strerror(errno));
    int ok = fwrite(a, 1, na, f) == na && fwrite(b, 1, nb, f) == nb && fwrite(c, 1, nc, f) == nc;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : pz_errf(err, "%s: write failed: %s", path, strerror(errno));
}

/* ---- FITS: HISTORY cards, 70 characters each, in every HDU ---- */

static void history_lines(fitsfile *fp, const char *text, int *status)
{
    for (const char *line = text; *line && !*status;) {
        size_t len = strcspn(line, "\n");
        for (size_t at = 0; at < len || (len == 0 && at == 0); at += 62) {
            char card[80];
            size_t k = len - at < 62 ? len - at : 62;
            snprintf(card, sizeof card, "pzflow: %.*s", (int)k, line + at);
            for (char *p = card; *p; p++)
                if ((unsigned char)*p < 32 || (unsigned char)*p > 126) *p = '?'; /* FITS headers are ASCII */
            fits_write_history(fp, card, status);
            if (len == 0) break;
        }
        line += len + (line[len] == '\n');
    }
}

static int stamp_fits(const char *path, const char *text, pz_err *err)
{
    fitsfile *fp = NULL;
    int status = 0, nhdu = 0;
    fits_open_file(&fp, path, READWRITE, &status);
    if (!status) fits_get_num_hdus(fp, &nhdu, &status);
    for (int h = 1; h <= nhdu && !status; h++) {
        int type;
        fits_movabs_hdu(fp, h, &type, &status);
        history_lines(fp, text, &status);
    }
    char msg[FLEN_ERRMSG] = "";
    if (status) fits_get_errstatus(status, msg);
    int close_status = 0;
    if (fp) fits_close_file(fp, &close_status);
    if (status || close_status) return pz_errf(err, "%s: cannot write the FITS header: %s", path, msg);
    return 0;
}

/* ---- HDF5: a root attribute ---- */

static int stamp_hdf5(const char *path, const char *text, pz_err *err)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return pz_errf(err, "%s: cannot open the HDF5 file for writing", path);
    if (H5Aexists(f, "pzflow_provenance") > 0) H5Adelete(f, "pzflow_provenance");
    int rc = pz_h5_write_string_attr(f, "pzflow_provenance", text);
    if (H5Fclose(f) < 0 || rc < 0) return pz_errf(err, "%s: cannot write the attribute pzflow_provenance", path);
    return 0;
}

/* ---- PNG: an iTXt chunk before IEND ---- */

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static void put_be32(pz_sbuf *b, uint32_t v)
{
    unsigned char x[4] = {v >> 24, v >> 16, v >> 8, v};
    pz_sb_put(b, (const char *)x, 4);
}

static int stamp_png(const char *path, const char *data, size_t len, const char *text, pz_err *err)
{
    size_t at = 8, iend = 0;
    while (at + 12 <= len) { /* length, type, data, CRC */
        uint32_t n = be32((const unsigned char *)data + at);
        if (n > len - at - 12) break;
        if (!memcmp(data + at + 4, "IEND", 4)) {
            iend = at;
            break;
        }
        at += 12 + (size_t)n;
    }
    if (!iend) return pz_errf(err, "%s: not a well-formed PNG (no IEND chunk)", path);
    static const char keyword[] = "pzflow-provenance";
    pz_sbuf body = {0}; /* type + data, which the CRC covers */
    pz_sb_put(&body, "iTXt", 4);
    pz_sb_put(&body, keyword, sizeof keyword); /* with its NUL */
    pz_sb_put(&body, "\0\0\0\0", 4);            /* uncompressed, no language, no translation */
    pz_sb_puts(&body, text);
    pz_sbuf chunk = {0};
    put_be32(&chunk, (uint32_t)(body.len - 4));
    pz_sb_put(&chunk, body.p, body.len);
    put_be32(&chunk, (uint32_t)crc32(0, (const Bytef *)body.p, (uInt)body.len));
    int rc = write_all(path, data, iend, chunk.p, chunk.len, data + iend, len - iend, err);
    free(body.p);
    free(chunk.p);
    return rc;
}

/* ---- SVG: a comment ---- */

static int stamp_svg(const char *path, const char *data, size_t len, const char *text, pz_err *err)
{
    size_t at = 0;
    if (!strncmp(data, "<?xml", 5)) {
        const char *end = strstr(data, "?>");
        if (!end) return pz_errf(err, "%s: malformed XML declaration", path);
        at = (size_t)(end - data) + 2;
    }
    pz_sbuf c = {0};
    pz_sb_puts(&c, "\n<!-- pzflow provenance\n");
    for (const char *p = text; *p; p++) { /* "--" may not appear inside a comment */
        pz_sb_put(&c, p, 1);
        if (*p == '-' && p[1] == '-') pz_sb_put(&c, " ", 1);
    }
    pz_sb_puts(&c, "-->");
    int rc = write_all(path, data, at, c.p, c.len, data + at, len - at, err);
    free(c.p);
    return rc;
}

int pz_stamp_provenance(const char *path, const char *text, int *stamped, pz_err *err)
{
    *stamped = 0;
    size_t len;
    char *data = read_all(path, &len, err);
    if (!data) return -1;
    char head[256] = {0};
    memcpy(head, data, len < sizeof head - 1 ? len : sizeof head - 1);
    int rc = 0;
    switch (kind_of(head, len < sizeof head - 1 ? len : sizeof head - 1)) {
    case FITS: rc = stamp_fits(path, text, err); break;
    case HDF5: rc = stamp_hdf5(path, text, err); break;
    case PNG: rc = stamp_png(path, data, len, text, err); break;
    case SVG: rc = stamp_svg(path, data, len, text, err); break;
    case OTHER: free(data); return 0;
    }
    free(data);
    if (rc == 0) *stamped = 1;
    return rc;
}
