/* Partitioning a catalogue and merging parts (partition.h), streamed through the table reader
 * and writer. */
#include "photoz/partition.h"

#include <chealpix.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CHUNK_ROWS 65536
#define DEFAULT_MAX_OPEN 256

int64_t pz_part_number(const char *s)
{
    if (!s || !*s || (s[0] == '0' && s[1])) return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

int64_t pz_healpix_pixel(long nside, int ring, double ra_deg, double dec_deg)
{
    if (!isfinite(ra_deg) || !isfinite(dec_deg) || dec_deg < -90 || dec_deg > 90) return -1;
    double theta = (90.0 - dec_deg) * (M_PI / 180.0);
    double phi = fmod(ra_deg, 360.0);
    if (phi < 0) phi += 360.0;
    phi *= M_PI / 180.0;
    int64_t pix;
    if (ring) ang2pix_ring64(nside, theta, phi, &pix);
    else ang2pix_nest64(nside, theta, phi, &pix);
    return pix;
}

/* ---- the partitioner ---- */

typedef struct partitioner {
    const pz_source *src;
    const pz_partition_opts *o;
    pz_part **by_id;            /* the parts sorted by id, for bsearch */
    size_t n;
    pz_table_writer **w;        /* per by_id index; NULL until its first row (or the end) */
    int *done;                  /* written and closed */
    pz_table *proto;            /* the catalogue's columns and attributes, no rows */
    size_t chunk_rows;
    long nrows;                 /* of the catalogue, -1 when the format cannot tell */
    size_t rows_read;           /* over all passes, for progress */
    size_t passes;
} partitioner;

static int cmp_part_id(const void *a, const void *b)
{
    int64_t x = (*(pz_part *const *)a)->id, y = (*(pz_part *const *)b)->id;
    return (x > y) - (x < y);
}

static long find_part(const partitioner *p, int64_t id)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->by_id[mid]->id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < p->n && p->by_id[lo]->id == id ? (long)lo : -1;
}

static int open_part(partitioner *p, size_t k, pz_err *err)
{
    if (p->w[k]) return 0;
    p->w[k] = pz_table_writer_open(p->by_id[k]->path, p->o->format, p->proto, err);
    return p->w[k] ? 0 : pz_err_prefix(err, "part %lld: ", (long long)p->by_id[k]->id);
}

static int append_part(partitioner *p, size_t k, const pz_table *rows, pz_err *err)
{
    if (open_part(p, k, err) < 0) return -1;
    if (pz_table_writer_append(p->w[k], rows, err) < 0) return pz_err_prefix(err, "part %lld: ", (long long)p->by_id[k]->id);
    p->by_id[k]->rows += rows->nrows;
    return 0;
}

/* Close part k, writing it with no rows if none fell in it. */
static int finish_part(partitioner *p, size_t k, pz_err *err)
{
    if (p->done[k]) return 0;
    if (open_part(p, k, err) < 0) return -1;
    pz_table_writer *w = p->w[k];
    p->w[k] = NULL;
    p->done[k] = 1;
    return pz_table_writer_close(w, err) < 0 ? pz_err_prefix(err, "part %lld: ", (long long)p->by_id[k]->id) : 0;
}

static void report(partitioner *p, size_t rows)
{
    p->rows_read += rows;
    if (!p->o->progress || p->nrows <= 0) return;
    p->o->progress(p->o->ctx, (double)p->rows_read / ((double)p->nrows * (double)p->passes));
}

static char *part_range_hint(const partitioner *p)
{
    if (p->nrows < 0) return pz_xstrdup("");
    long long need = (p->nrows + p->o->rows_per_part - 1) / p->o->rows_per_part;
    return pz_xasprintf("; the catalogue has %ld rows: parts 0..%lld (vars: parts: range(0, %lld))", p->nrows,
                        need - 1, need);
}

/* Row ranges: each read stops at a part boundary, so a chunk belongs to one part whole and
 * at most one part is open at a time. */
static int partition_rows(partitioner *p, pz_table_reader *r, pz_err *err)
{
    size_t row = 0;
    const size_t per = (size_t)p->o->rows_per_part;
    for (;;) {
        size_t part = row / per, end = (part + 1) * per;
        size_t want = end - row < p->chunk_rows ? end - row : p->chunk_rows;
        pz_table *t = NULL;
        if (pz_table_reader_next(r, want, &t, err) < 0) return -1;
        if (!t) return 0;
        if (t->nrows == 0) {
            pz_table_free(t);
            return 0;
        }
        long k = find_part(p, (int64_t)part);
        if (k < 0) {
            pz_table_free(t);
            char *hint = part_range_hint(p);
            pz_errf(err, "row %zu of %s falls in part %zu (rows %zu..%zu at rows_per_part %zu), which is not among the "
                         "outputs%s", row, p->src->path, part, part * per, end - 1, per, hint);
            free(hint);
            return -1;
        }
        int rc = append_part(p, (size_t)k, t, err);
        row += t->nrows;
        report(p, t->nrows);
        pz_table_free(t);
        if (rc < 0) return -1;
        if (row == end && finish_part(p, (size_t)k, err) < 0) return -1;
    }
}

/* Pixel of every row of a chunk, as an index into by_id; an undeclared pixel is an error. */
static int chunk_parts(partitioner *p, const pz_table *t, size_t first_row, long *slot, pz_err *err)
{
    const pz_column *ra = pz_table_need(t, p->o->ra, p->src->path, err);
    const pz_column *dec = ra ? pz_table_need(t, p->o->dec, p->src->path, err) : NULL;
    if (!dec) return -1;
    for (size_t i = 0; i < t->nrows; i++) {
        double a = pz_col_f64(ra, i), d = pz_col_f64(dec, i);
        int64_t pix = pz_healpix_pixel(p->o->nside, p->o->ring, a, d);
        if (pix < 0)
            return pz_errf(err, "row %zu of %s: no HEALPix pixel for %s = %g, %s = %g (degrees; dec in [-90, 90])",
                           first_row + i, p->src->path, p->o->ra, a, p->o->dec, d);
        slot[i] = find_part(p, pix);
        if (slot[i] < 0)
            return pz_errf(err, "row %zu of %s (%s %g, %s %g) is in HEALPix pixel %lld (nside %ld, %s), which is not "
                                "among the outputs; declare it, or choose pixels that cover the catalogue",
                           first_row + i, p->src->path, p->o->ra, a, p->o->dec, d, (long long)pix, p->o->nside,
                           p->o->ring ? "ring" : "nested");
    }
    return 0;
}

/* One chunk into the parts [g0, g1): rows grouped by part with a stable counting sort, so
 * each part gets its rows in catalogue order. */
static int scatter_chunk(partitioner *p, const pz_table *t, const long *slot, size_t g0, size_t g1, size_t *count,
                         size_t *order, pz_err *err)
{
    size_t ng = g1 - g0;
    memset(count, 0, (ng + 1) * sizeof *count);
    for (size_t i = 0; i < t->nrows; i++)
        if ((size_t)slot[i] >= g0 && (size_t)slot[i] < g1) count[slot[i] - g0 + 1]++;
    for (size_t s = 0; s < ng; s++) count[s + 1] += count[s];
    for (size_t i = 0; i < t->nrows; i++)
        if ((size_t)slot[i] >= g0 && (size_t)slot[i] < g1) order[count[slot[i] - g0]++] = i;
    /* count[s] is now the end of group s's rows in order[] */
    size_t start = 0;
    for (size_t s = 0; s < ng; s++) {
        size_t end = count[s];
        if (end > start) {
            pz_table *sub = pz_table_take(t, order + start, end - start);
            int rc = append_part(p, g0 + s, sub, err);
            pz_table_free(sub);
            if (rc < 0) return -1;
        }
        start = end;
    }
    return 0;
}

/* HEALPix: rows of any pixel can come at any point, so every part of the group stays open for
 * a whole pass; groups of max_open parts bound the open files (and their buffers). */
static int partition_healpix_group(partitioner *p, size_t g0, size_t g1, pz_err *err)
{
    pz_table_reader *r = pz_table_reader_open(p->src, NULL, 0, err);
    if (!r) return -1;
    long *slot = pz_xcalloc(p->chunk_rows, sizeof *slot);
    size_t *count = pz_xcalloc(g1 - g0 + 1, sizeof *count), *order = pz_xcalloc(p->chunk_rows, sizeof *order);
    size_t row = 0;
    int rc = 0;
    for (;;) {
        pz_table *t = NULL;
        if ((rc = pz_table_reader_next(r, p->chunk_rows, &t, err)) < 0 || !t) break;
        if (t->nrows > p->chunk_rows) rc = pz_errf(err, "%s: the reader returned more rows than asked", p->src->path);
        if (rc == 0) rc = chunk_parts(p, t, row, slot, err);
        if (rc == 0) rc = scatter_chunk(p, t, slot, g0, g1, count, order, err);
        row += t->nrows;
        report(p, t->nrows);
        pz_table_free(t);
        if (rc < 0) break;
    }
    pz_table_reader_close(r);
    free(slot);
    free(count);
    free(order);
    for (size_t k = g0; rc == 0 && k < g1; k++) rc = finish_part(p, k, err);
    return rc;
}

static int check_parts(partitioner *p, pz_err *err)
{
    const pz_partition_opts *o = p->o;
    for (size_t k = 0; k + 1 < p->n; k++)
        if (p->by_id[k]->id == p->by_id[k + 1]->id)
            return pz_errf(err, "part %lld is asked for twice", (long long)p->by_id[k]->id);
    if (p->n && p->by_id[0]->id < 0) return pz_errf(err, "part %lld: part numbers start at 0", (long long)p->by_id[0]->id);
    if (o->by == PZ_PARTITION_ROWS && o->rows_per_part < 1)
        return pz_errf(err, "rows_per_part must be at least 1, got %ld", o->rows_per_part);
    if (o->by == PZ_PARTITION_HEALPIX) {
        if (o->nside < 1 || o->nside > (1L << 29) || (o->nside & (o->nside - 1)))
            return pz_errf(err, "nside must be a power of two from 1 to 2^29, got %ld", o->nside);
        int64_t npix = nside2npix64(o->nside);
        if (p->n && p->by_id[p->n - 1]->id >= npix)
            return pz_errf(err, "part %lld is not a HEALPix pixel at nside %ld (pixels 0..%lld)",
                           (long long)p->by_id[p->n - 1]->id, o->nside, (long long)(npix - 1));
    }
    return 0;
}

static void partitioner_free(partitioner *p)
{
    for (size_t k = 0; k < p->n; k++)
        if (p->w[k]) {
            pz_err ignored; /* an earlier error is the one reported */
            pz_table_writer_close(p->w[k], &ignored);
        }
    free(p->w);
    free(p->done);
    free(p->by_id);
    pz_table_free(p->proto);
}

int pz_partition(const pz_source *src, pz_part *parts, size_t nparts, const pz_partition_opts *o, size_t *total,
                 pz_err *err)
{
    partitioner p = {.src = src, .o = o, .n = nparts, .passes = 1, .nrows = -1};
    p.chunk_rows = o->chunk_rows ? o->chunk_rows : DEFAULT_CHUNK_ROWS;
    p.by_id = pz_xcalloc(nparts + 1, sizeof *p.by_id);
    p.w = pz_xcalloc(nparts + 1, sizeof *p.w);
    p.done = pz_xcalloc(nparts + 1, sizeof *p.done);
    for (size_t k = 0; k < nparts; k++) {
        parts[k].rows = 0;
        p.by_id[k] = &parts[k];
    }
    qsort(p.by_id, nparts, sizeof *p.by_id, cmp_part_id);
    int rc = check_parts(&p, err);
    if (rc == 0) rc = pz_table_read_src(src, NULL, 0, 0, 0, &p.proto, err);
    if (rc == 0 && o->by == PZ_PARTITION_ROWS) {
        pz_table_reader *r = pz_table_reader_open(src, NULL, 0, err);
        rc = r ? 0 : -1;
        if (r) {
            p.nrows = pz_table_reader_nrows(r);
            rc = partition_rows(&p, r, err);
            pz_table_reader_close(r);
        }
        for (size_t k = 0; rc == 0 && k < nparts; k++) rc = finish_part(&p, k, err);
    } else if (rc == 0) {
        pz_table_reader *r = pz_table_reader_open(src, NULL, 0, err); /* only to learn the size */
        rc = r ? 0 : -1;
        if (r) p.nrows = pz_table_reader_nrows(r);
        pz_table_reader_close(r);
        size_t group = o->max_open ? o->max_open : DEFAULT_MAX_OPEN;
        p.passes = nparts ? (nparts + group - 1) / group : 1;
        for (size_t g0 = 0; rc == 0 && g0 < nparts; g0 += group)
            rc = partition_healpix_group(&p, g0, g0 + group < nparts ? g0 + group : nparts, err);
    }
    if (total) *total = p.passes ? p.rows_read / p.passes : 0;
    partitioner_free(&p);
    return rc;
}

/* ---- merging ---- */

static int same_columns(const pz_table *a, const pz_table *b, char *why, size_t len)
{
    if (a->ncols != b->ncols) return snprintf(why, len, "%zu columns, not %zu", b->ncols, a->ncols), 0;
    for (size_t j = 0; j < a->ncols; j++) {
        const pz_column *x = &a->cols[j], *y = &b->cols[j];
        if (strcmp(x->name, y->name))
            return snprintf(why, len, "column %zu is '%s', not '%s'", j + 1, y->name, x->name), 0;
        if (x->type != y->type || x->width != y->width)
            return snprintf(why, len, "column '%s' is %s, not %s", x->name, pz_coltype_name(y->type),
                            pz_coltype_name(x->type)), 0;
    }
    for (size_t k = 0; k < a->nattrs; k++) {
        const char *v = pz_table_attr(b, a->attr_keys[k]);
        if (!v || strcmp(v, a->attr_vals[k]))
            return snprintf(why, len, "attribute '%s' is '%s', not '%s'", a->attr_keys[k], v ? v : "(none)",
                            a->attr_vals[k]), 0;
    }
    if (b->nattrs != a->nattrs) return snprintf(why, len, "%zu attributes, not %zu", b->nattrs, a->nattrs), 0;
    return 1;
}

static int part_err(pz_err *err, const pz_source *src, size_t i, const char *what)
{
    char *name = pz_source_str(src);
    pz_errf(err, "part %zu (%s): %s", i, name, what);
    free(name);
    return -1;
}

static int check_merge_inputs(const pz_source *parts, size_t n, pz_table **proto, pz_err *err)
{
    if (pz_table_read_src(&parts[0], NULL, 0, 0, 0, proto, err) < 0) return -1;
    for (size_t i = 1; i < n; i++) {
        pz_table *t = NULL;
        if (pz_table_read_src(&parts[i], NULL, 0, 0, 0, &t, err) < 0) return -1;
        char why[512];
        int same = same_columns(*proto, t, why, sizeof why);
        pz_table_free(t);
        if (!same) {
            char *first = pz_source_str(&parts[0]), *what = pz_xasprintf("differs from part 0 (%s): %s", first, why);
            part_err(err, &parts[i], i, what);
            free(first);
            free(what);
            return -1;
        }
    }
    return 0;
}

static int copy_part(pz_table_writer *w, const pz_source *src, size_t i, size_t chunk_rows, size_t *rows, pz_err *err)
{
    pz_table_reader *r = pz_table_reader_open(src, NULL, 0, err);
    if (!r) return -1;
    int rc = 0;
    for (;;) {
        pz_table *t = NULL;
        if ((rc = pz_table_reader_next(r, chunk_rows, &t, err)) < 0 || !t) break;
        rc = pz_table_writer_append(w, t, err);
        *rows += t->nrows;
        pz_table_free(t);
        if (rc < 0) break;
    }
    pz_table_reader_close(r);
    if (rc < 0) {
        char what[PZ_ERR_MAX];
        snprintf(what, sizeof what, "%s", err->msg);
        return part_err(err, src, i, what);
    }
    return 0;
}

int pz_merge(const pz_source *parts, size_t n, const char *out, pz_format fmt, size_t chunk_rows, size_t *rows,
             pz_err *err)
{
    *rows = 0;
    if (n == 0) return pz_errf(err, "nothing to merge: no parts");
    if (!chunk_rows) chunk_rows = DEFAULT_CHUNK_ROWS;
    pz_table *proto = NULL;
    if (check_merge_inputs(parts, n, &proto, err) < 0) {
        pz_table_free(proto);
        return -1;
    }
    pz_table_writer *w = pz_table_writer_open(out, fmt, proto, err);
    pz_table_free(proto);
    if (!w) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) rc = copy_part(w, &parts[i], i, chunk_rows, rows, err);
    if (rc < 0) {
        pz_err ignored; /* the first error is the one reported */
        pz_table_writer_close(w, &ignored);
        return -1;
    }
    return pz_table_writer_close(w, err);
}
