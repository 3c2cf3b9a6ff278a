/* HSC PDR2 object table (mock): measurement model, blends, detection, FITS writing. */
#include "mock/mock_hsc.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table/table.h"
#include "util/progress.h"

#define PIX_ARCSEC 0.168 /* HSC coadd pixel */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

double pz_mock_hash_uniform(long seed, uint64_t serial, uint64_t salt)
{
    uint64_t h = splitmix64(splitmix64(splitmix64((uint64_t)seed) ^ serial) ^ salt);
    return (h >> 11) * (1.0 / 9007199254740992.0);
}

void pz_mock_hsc_depths(const pz_mock_params *p, const char *depth, double d5[PZ_NBANDS])
{
    const double *src = strcmp(depth, "udeep") ? &p->wide_depth_g : &p->udeep_depth_g;
    for (int b = 0; b < PZ_NBANDS; b++) d5[b] = src[b];
}

void pz_mock_hsc_measure(const pz_mock_params *p, const pz_mock_obj *o, const double d5[PZ_NBANDS], gsl_rng *rng,
                         pz_mock_hscphot *out)
{
    /* CModel noise: the point-source noise scaled by the source's effective area over the PSF's
     * (sky-dominated regime), plus a calibration floor. */
    double sp = p->psf_hsc / 2.3548, sg = o->r_half / 1.1774;
    double area_ratio = (sp * sp + sg * sg) / (sp * sp);
    for (int b = 0; b < PZ_NBANDS; b++) {
        double f_ujy = pow(10, -0.4 * (o->mag[b] - 23.9));
        double sig = pow(10, -0.4 * (d5[b] - 23.9)) / 5 * sqrt(area_ratio);
        double calib = exp(p->calib_floor * 0.921 * gsl_ran_gaussian_ziggurat(rng, 1.0));
        double f = f_ujy * calib + gsl_ran_gaussian_ziggurat(rng, sig);
        out->flux[b] = f * 1e-29; /* uJy -> erg/s/cm2/Hz */
        out->fluxerr[b] = sig * 1e-29;
        out->mag[b] = f > 0 ? -2.5 * log10(f) + 23.9 : NAN;
        out->magerr[b] = f > 0 ? 1.0857 * sig / f : NAN;
        out->cmodel_flag[b] = !(f > 0) || gsl_rng_uniform(rng) < 0.005;
        /* Extendedness: measured size excess over the PSF, noisy at low S/N. */
        double snr = f_ujy / sig, size = sg / sp + gsl_ran_gaussian_ziggurat(rng, 1.0) / fmax(snr, 1);
        out->ext[b] = size > 0.15 ? 1.0 : 0.0;
    }
}

void pz_mock_hsc_position(const pz_mock_params *p, const pz_mock_obj *o, uint64_t serial, double *ra, double *dec)
{
    double u1 = pz_mock_hash_uniform(p->seed, serial, 1), u2 = pz_mock_hash_uniform(p->seed, serial, 2);
    double r = sqrt(-2 * log(1 - u1)) * p->hsc_astrom_arcsec / M_SQRT2 / 3600.0; /* per axis */
    double dx = r * cos(2 * M_PI * u2), dy = r * sin(2 * M_PI * u2);
    *dec = o->dec + dy;
    *ra = o->ra + dx / cos(o->dec * M_PI / 180);
}

void pz_mock_hsc_tract_patch(double ra, double dec, int *tract, int *px, int *py)
{
    const double w = 1.68;
    int nring = (int)(180 / w) + 1, ring = (int)((dec + 90) / w), base = 0;
    if (ring >= nring) ring = nring - 1;
    int nra_ring = 1;
    for (int r = 0; r <= ring; r++) {
        double dc = -90 + (r + 0.5) * w;
        nra_ring = (int)fmax(1, floor(360 * cos(dc * M_PI / 180) / w));
        if (r < ring) base += nra_ring;
    }
    double fra = fmod(fmod(ra, 360) + 360, 360) / 360 * nra_ring;
    int ira = (int)fra;
    *tract = base + ira;
    double fdec = (dec + 90) / w - ring;
    *px = (int)((fra - ira) * 9);
    *py = (int)(fdec * 9);
    if (*px > 8) *px = 8;
    if (*py > 8) *py = 8;
}

int64_t pz_mock_hsc_object_id(double ra, double dec, uint64_t serial)
{
    int tract, px, py;
    pz_mock_hsc_tract_patch(ra, dec, &tract, &px, &py);
    return ((int64_t)tract << 42) | ((int64_t)(px * 9 + py) << 32) | (int64_t)(serial & 0xffffffffULL);
}

/* ---- blends: brightest-first grouping on a coarse grid of primaries ---- */

typedef struct {
    double ra, dec;      /* HSC position (unblended) */
    int primary;         /* index of the primary this object merged into, or itself */
} hsc_src;

typedef struct { float mag; int idx; } mag_idx;

static int by_brightness(const void *a, const void *b)
{
    const mag_idx *x = a, *y = b;
    if (x->mag != y->mag) return x->mag < y->mag ? -1 : 1;
    return x->idx - y->idx;
}

static void group_blends(const pz_mock_params *p, const pz_mock_obj *objs, hsc_src *src, size_t n, double dec0)
{
    mag_idx *mi = pz_xmalloc(n * sizeof *mi);
    for (size_t i = 0; i < n; i++) mi[i] = (mag_idx){objs[i].mag[2], (int)i};
    qsort(mi, n, sizeof *mi, by_brightness);
    int *order = pz_xmalloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = mi[i].idx;
    free(mi);
    double cell = 10.0 / 3600, cosd = cos(dec0 * M_PI / 180), rad = p->hsc_blend_arcsec / 3600;
    double ra_lo = 1e9, dec_lo = 1e9, ra_hi = -1e9, dec_hi = -1e9;
    for (size_t i = 0; i < n; i++) {
        ra_lo = fmin(ra_lo, src[i].ra * cosd); ra_hi = fmax(ra_hi, src[i].ra * cosd);
        dec_lo = fmin(dec_lo, src[i].dec); dec_hi = fmax(dec_hi, src[i].dec);
    }
    int nx = (int)((ra_hi - ra_lo) / cell) + 1, ny = (int)((dec_hi - dec_lo) / cell) + 1;
    int *head = pz_xmalloc((size_t)nx * ny * sizeof *head), *next = pz_xmalloc(n * sizeof *next);
    for (size_t c = 0; c < (size_t)nx * ny; c++) head[c] = -1;
    for (size_t k = 0; k < n; k++) {
        int i = order[k];
        int cx = (int)((src[i].ra * cosd - ra_lo) / cell), cy = (int)((src[i].dec - dec_lo) / cell);
        src[i].primary = i;
        for (int dy = -1; dy <= 1 && src[i].primary == i; dy++)
            for (int dx = -1; dx <= 1 && src[i].primary == i; dx++) {
                int x = cx + dx, y = cy + dy;
                if (x < 0 || y < 0 || x >= nx || y >= ny) continue;
                for (int j = head[(size_t)y * nx + x]; j >= 0; j = next[j]) {
                    double ddec = src[i].dec - src[j].dec, dra = (src[i].ra - src[j].ra) * cosd;
                    if (ddec * ddec + dra * dra < rad * rad) { src[i].primary = j; break; }
                }
            }
        if (src[i].primary == i) {
            size_t c = (size_t)cy * nx + cx;
            next[i] = head[c];
            head[c] = i;
        }
    }
    free(order);
    free(head);
    free(next);
}

/* ---- rows ---- */

typedef struct {
    size_t n, cap;
    int64_t *id;
    double *ra, *dec;
    int32_t *tract, *patch;
    float *a[PZ_NBANDS], *mag[PZ_NBANDS], *magsig[PZ_NBANDS], *ext[PZ_NBANDS];
    double *flux[PZ_NBANDS], *fluxsig[PZ_NBANDS];
    char *cflag[PZ_NBANDS], *edge[PZ_NBANDS], *sat[PZ_NBANDS], *bright[PZ_NBANDS];
} hsc_rows;

#define GROW(ptr, cap) ptr = pz_xrealloc(ptr, (cap) * sizeof *(ptr))
static void rows_reserve(hsc_rows *r, size_t cap)
{
    r->cap = cap;
    GROW(r->id, cap); GROW(r->ra, cap); GROW(r->dec, cap); GROW(r->tract, cap); GROW(r->patch, cap);
    for (int b = 0; b < PZ_NBANDS; b++) {
        GROW(r->a[b], cap); GROW(r->mag[b], cap); GROW(r->magsig[b], cap); GROW(r->ext[b], cap);
        GROW(r->flux[b], cap); GROW(r->fluxsig[b], cap); GROW(r->cflag[b], cap); GROW(r->edge[b], cap);
        GROW(r->sat[b], cap); GROW(r->bright[b], cap);
    }
}

static void rows_free(hsc_rows *r)
{
    free(r->id); free(r->ra); free(r->dec); free(r->tract); free(r->patch);
    for (int b = 0; b < PZ_NBANDS; b++) {
        free(r->a[b]); free(r->mag[b]); free(r->magsig[b]); free(r->ext[b]); free(r->flux[b]);
        free(r->fluxsig[b]); free(r->cflag[b]); free(r->edge[b]); free(r->sat[b]); free(r->bright[b]);
    }
}

static void add_row(hsc_rows *r, const pz_mock_params *p, const pz_mock_field *f, const pz_mock_obj *o, double ra,
                    double dec, uint64_t serial, const pz_mock_hscphot *ph, int blended)
{
    if (r->n == r->cap) rows_reserve(r, r->cap ? 2 * r->cap : 4096);
    size_t i = r->n++;
    int tract, px, py;
    pz_mock_hsc_tract_patch(ra, dec, &tract, &px, &py);
    r->id[i] = pz_mock_hsc_object_id(ra, dec, serial);
    r->ra[i] = ra;
    r->dec[i] = dec;
    r->tract[i] = tract;
    r->patch[i] = px * 100 + py; /* "x,y" patch written as 100 x + y */
    int masked = pz_mock_field_in_hsc_mask(f, ra, dec);
    for (int b = 0; b < PZ_NBANDS; b++) {
        r->a[b][i] = (float)(pz_mock_mw_k[b] * o->ebv_mw);
        r->mag[b][i] = (float)ph->mag[b];
        r->magsig[b][i] = (float)ph->magerr[b];
        r->flux[b][i] = ph->flux[b];
        r->fluxsig[b][i] = ph->fluxerr[b];
        r->ext[b][i] = (float)(blended ? 1.0 : ph->ext[b]);
        r->cflag[b][i] = (char)ph->cmodel_flag[b];
        r->edge[b][i] = 0;
        r->sat[b][i] = o->mag[b] < 17.0;
        r->bright[b][i] = (char)masked;
    }
}

/* Sum of the members' light as one object, at the flux-weighted position; its size grows with
 * the members' separation. */
static void merge_members(const pz_mock_obj *objs, const hsc_src *src, const int *members, int nm, pz_mock_obj *out,
                          double *ra, double *dec)
{
    *out = objs[members[0]];
    double w = 0, sra = 0, sdec = 0, flux[PZ_NBANDS] = {0}, r2 = 0;
    for (int k = 0; k < nm; k++) {
        const pz_mock_obj *o = &objs[members[k]];
        double fi = pow(10, -0.4 * o->mag[2]);
        w += fi;
        sra += fi * src[members[k]].ra;
        sdec += fi * src[members[k]].dec;
        for (int b = 0; b < PZ_NBANDS; b++) flux[b] += pow(10, -0.4 * o->mag[b]);
        r2 = fmax(r2, o->r_half * o->r_half);
    }
    *ra = sra / w;
    *dec = sdec / w;
    double cosd = cos(*dec * M_PI / 180), sep2 = 0;
    for (int k = 0; k < nm; k++) {
        double dx = (src[members[k]].ra - *ra) * cosd * 3600, dy = (src[members[k]].dec - *dec) * 3600;
        sep2 = fmax(sep2, dx * dx + dy * dy);
    }
    for (int b = 0; b < PZ_NBANDS; b++) out->mag[b] = (float)(-2.5 * log10(flux[b]));
    out->r_half = (float)sqrt(r2 + sep2);
}

/* ---- FITS ---- */

typedef struct { char name[48]; const char *unit; pz_coltype type; void *data; } hsc_col;

static size_t hsc_columns(hsc_rows *r, hsc_col *cols)
{
    size_t n = 0;
#define COL(nm, un, ty, ptr) do { snprintf(cols[n].name, sizeof cols[n].name, "%s", nm); \
        cols[n].unit = un; cols[n].type = ty; cols[n].data = ptr; n++; } while (0)
    COL("object_id", "", PZ_I64, r->id);
    COL("ra", "deg", PZ_F64, r->ra);
    COL("dec", "deg", PZ_F64, r->dec);
    COL("tract", "", PZ_I32, r->tract);
    COL("patch", "", PZ_I32, r->patch);
    char nm[48];
    for (int b = 0; b < PZ_NBANDS; b++) {
        const char *bn = pz_band_names[b];
        snprintf(nm, sizeof nm, "a_%s", bn); COL(nm, "mag", PZ_F32, r->a[b]);
    }
    for (int b = 0; b < PZ_NBANDS; b++) {
        const char *bn = pz_band_names[b];
        snprintf(nm, sizeof nm, "%s_cmodel_mag", bn); COL(nm, "mag", PZ_F32, r->mag[b]);
        snprintf(nm, sizeof nm, "%s_cmodel_magsigma", bn); COL(nm, "mag", PZ_F32, r->magsig[b]);
        snprintf(nm, sizeof nm, "%s_cmodel_flux", bn); COL(nm, "erg/s/cm**2/Hz", PZ_F64, r->flux[b]);
        snprintf(nm, sizeof nm, "%s_cmodel_fluxsigma", bn); COL(nm, "erg/s/cm**2/Hz", PZ_F64, r->fluxsig[b]);
        snprintf(nm, sizeof nm, "%s_cmodel_flag", bn); COL(nm, "", PZ_BOOL, r->cflag[b]);
        snprintf(nm, sizeof nm, "%s_extendedness_value", bn); COL(nm, "", PZ_F32, r->ext[b]);
        snprintf(nm, sizeof nm, "%s_pixelflags_edge", bn); COL(nm, "", PZ_BOOL, r->edge[b]);
        snprintf(nm, sizeof nm, "%s_pixelflags_saturatedcenter", bn); COL(nm, "", PZ_BOOL, r->sat[b]);
        snprintf(nm, sizeof nm, "%s_pixelflags_bright_objectcenter", bn); COL(nm, "", PZ_BOOL, r->bright[b]);
    }
#undef COL
    return n;
}

/* Rows [start, start + m) as a table: what core/table's FITS writer takes. */
static pz_table *rows_table(const hsc_col *cols, size_t nc, size_t start, size_t m, const char *prov)
{
    pz_table *t = pz_table_new(m);
    for (size_t c = 0; c < nc; c++) {
        pz_column *col = pz_table_add(t, cols[c].name, cols[c].type, 0);
        if (cols[c].unit[0]) col->unit = pz_xstrdup(cols[c].unit);
        memcpy(col->data, (char *)cols[c].data + start * col->width, m * col->width);
    }
    pz_table_set_attr(t, "EXTNAME", "OBJECT");
    if (prov) pz_table_set_attr(t, "PZPROV", prov);
    pz_table_set_attr(t, "ORIGIN", "pzflow mock sky");
    return t;
}

static int write_fits(const char *path, hsc_rows *r, const char *prov, pz_err *err)
{
    hsc_col cols[64];
    size_t nc = hsc_columns(r, cols);
    pz_table *proto = rows_table(cols, nc, 0, 0, prov);
    pz_table_writer *w = pz_table_writer_open(path, PZ_FMT_FITS, proto, err);
    pz_table_free(proto);
    if (!w) return -1;
    int rc = 0;
    const size_t chunk = 65536; /* memory: one chunk's copy, whatever the catalogue's size */
    for (size_t start = 0; start < r->n && rc == 0; start += chunk) {
        size_t m = r->n - start < chunk ? r->n - start : chunk;
        pz_table *t = rows_table(cols, nc, start, m, prov);
        rc = pz_table_writer_append(w, t, err);
        pz_table_free(t);
    }
    pz_err close_err;
    if (pz_table_writer_close(w, &close_err) < 0 && rc == 0) *err = close_err, rc = -1;
    return rc;
}

/* Rows sorted by object_id, as the HSC database exports them. */
static int by_id(const void *a, const void *b)
{
    int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return (x > y) - (x < y);
}

static void sort_rows(hsc_rows *r)
{
    int64_t (*key)[2] = pz_xmalloc(r->n * sizeof *key);
    for (size_t i = 0; i < r->n; i++) { key[i][0] = r->id[i]; key[i][1] = (int64_t)i; }
    qsort(key, r->n, sizeof *key, by_id);
    hsc_rows s = {0};
    rows_reserve(&s, r->n ? r->n : 1);
    for (size_t k = 0; k < r->n; k++) {
        size_t i = (size_t)key[k][1];
        s.id[k] = r->id[i]; s.ra[k] = r->ra[i]; s.dec[k] = r->dec[i]; s.tract[k] = r->tract[i]; s.patch[k] = r->patch[i];
        for (int b = 0; b < PZ_NBANDS; b++) {
            s.a[b][k] = r->a[b][i]; s.mag[b][k] = r->mag[b][i]; s.magsig[b][k] = r->magsig[b][i];
            s.ext[b][k] = r->ext[b][i]; s.flux[b][k] = r->flux[b][i]; s.fluxsig[b][k] = r->fluxsig[b][i];
            s.cflag[b][k] = r->cflag[b][i]; s.edge[b][k] = r->edge[b][i]; s.sat[b][k] = r->sat[b][i];
            s.bright[b][k] = r->bright[b][i];
        }
    }
    s.n = r->n;
    free(key);
    rows_free(r);
    *r = s;
}

static int detected(const pz_mock_params *p, const pz_mock_hscphot *ph)
{
    return ph->fluxerr[2] > 0 && ph->flux[2] / ph->fluxerr[2] >= p->hsc_det_snr;
}

int pz_mock_write_hsc(const char *path, const pz_mock_params *p, const pz_mock_kgrid *kg, const pz_mock_field *f,
                      const pz_mock_sampler *gal, double star_fraction, const pz_mock_obj *objs, size_t n,
                      const char *provenance, size_t *nrows, pz_err *err)
{
    double d5[PZ_NBANDS];
    pz_mock_hsc_depths(p, p->hsc_depth, d5);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)p->seed * 7919 + 23);
    hsc_src *src = pz_xmalloc((n ? n : 1) * sizeof *src);
    for (size_t i = 0; i < n; i++) pz_mock_hsc_position(p, &objs[i], i + 1, &src[i].ra, &src[i].dec);
    if (n) group_blends(p, objs, src, n, p->field_dec);
    /* Members of each primary, contiguous (counting sort by primary). */
    int *start = pz_xcalloc(n + 1, sizeof *start), *members = pz_xmalloc((n ? n : 1) * sizeof *members);
    for (size_t i = 0; i < n; i++) start[src[i].primary + 1]++;
    for (size_t i = 0; i < n; i++) start[i + 1] += start[i];
    int *fill = pz_xmalloc((n ? n : 1) * sizeof *fill);
    memcpy(fill, start, n * sizeof *fill);
    for (size_t i = 0; i < n; i++) members[fill[src[i].primary]++] = (int)i;
    free(fill);
    hsc_rows r = {0};
    rows_reserve(&r, n + 1024);
    for (size_t i = 0; i < n; i++) {
        int nm = start[i + 1] - start[i];
        if (nm == 0) continue; /* merged into a brighter neighbour */
        if (gsl_rng_uniform(rng) < p->hsc_missing_fraction) continue;
        pz_mock_obj merged;
        double ra = src[i].ra, dec = src[i].dec;
        const pz_mock_obj *o = &objs[i];
        if (nm > 1) {
            merge_members(objs, src, members + start[i], nm, &merged, &ra, &dec);
            o = &merged;
        }
        pz_mock_hscphot ph;
        pz_mock_hsc_measure(p, o, d5, rng, &ph);
        if (detected(p, &ph)) add_row(&r, p, f, o, ra, dec, i + 1, &ph, nm > 1);
    }
    free(start);
    free(members);
    free(src);
    /* HSC covers more sky than COSMOS2020: objects in the margin have no COSMOS counterpart. */
    double core = p->field_area_deg2, side = sqrt(core) + 2 * p->hsc_margin_deg;
    size_t nmargin = (size_t)llround((double)n * (side * side - core) / core);
    for (size_t k = 0; k < nmargin; k++) {
        pz_mock_obj o;
        if (gsl_rng_uniform(rng) < star_fraction) pz_mock_draw_star(p, kg, p->star_mag_bright, p->det_mag, rng, &o);
        else pz_mock_draw_galaxy(gal, rng, &o);
        int in_core = 1;
        while (in_core) pz_mock_field_position(f, p->hsc_margin_deg, rng, &o.ra, &o.dec, &in_core);
        pz_mock_apply_mw(p, &o);
        pz_mock_hscphot ph;
        pz_mock_hsc_measure(p, &o, d5, rng, &ph);
        if (detected(p, &ph)) add_row(&r, p, f, &o, o.ra, o.dec, n + k + 1, &ph, 0);
    }
    gsl_rng_free(rng);
    pz_progress(0.7, "hsc: %zu objects", r.n);
    sort_rows(&r);
    int rc = write_fits(path, &r, provenance, err);
    *nrows = r.n;
    rows_free(&r);
    return rc;
}
