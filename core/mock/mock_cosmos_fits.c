/* COSMOS2020 CLASSIC writer: HSC aperture photometry from the UltraDeep depths, LePhare-like
 * photo-z, flags; rows filled into chunks of columns and written by core/table's FITS writer. */
#include "mock/mock_cosmos_fits.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_lephare.h"
#include "table/table.h"
#include "util/progress.h"

const char *const pz_cosmos_minimal[] = {
    "ID", "ALPHA_J2000", "DELTA_J2000", "FLAG_HSC", "FLAG_COMBINED", "EBV_MW",
#define HSC_BAND(b)                                                                                              \
    "HSC_" b "_FLUX_APER2", "HSC_" b "_FLUXERR_APER2", "HSC_" b "_FLUX_APER3", "HSC_" b "_FLUXERR_APER3",         \
        "HSC_" b "_FLUX_AUTO", "HSC_" b "_FLUXERR_AUTO", "HSC_" b "_MAG_APER2", "HSC_" b "_MAGERR_APER2",         \
        "HSC_" b "_MAG_APER3", "HSC_" b "_MAGERR_APER3", "HSC_" b "_MAG_AUTO", "HSC_" b "_MAGERR_AUTO"
    HSC_BAND("g"), HSC_BAND("r"), HSC_BAND("i"), HSC_BAND("z"), HSC_BAND("y"),
#undef HSC_BAND
    "total_off2", "total_off3", "lp_zBEST", "lp_type", "lp_zPDF", "lp_zPDF_l68", "lp_zPDF_u68", "lp_zMinChi2",
    "lp_chi2_best", "lp_NbFilt", "lp_chis", "ez_z_phot", NULL};

/* CLASSIC+LePhare HSC zero-point offsets (formats.md): catalogue mag = template-system mag + offset. */
static const double zp_offset[PZ_NBANDS] = {0.128, 0.127, 0.094, 0.084, 0.100};

static size_t tform_width(const char *tform)
{
    switch (tform[strlen(tform) - 1]) {
    case 'D': case 'K': return 8;
    case 'E': return 4;
    case 'I': return 2;
    case 'A': return (size_t)atoi(tform);
    default: return 0;
    }
}

/* ---- the row layout ---- */

enum { AP2, AP3, AUTO, NAP };
typedef struct {
    int flux[PZ_NBANDS][NAP], fluxerr[PZ_NBANDS][NAP], mag[PZ_NBANDS][NAP], magerr[PZ_NBANDS][NAP];
    int flags[PZ_NBANDS], imaflags[PZ_NBANDS];
    int id, ra, dec, x, y, errx2, erry2, flux_radius, kron_radius;
    int flag_hsc, flag_supcam, flag_uvista, flag_udeep, flag_combined, ebv;
    int off2, off3, id_chandra, zbest, type, zpdf, l68, u68, zminchi2, chi2, zp2, chi2_2, nbfilt, chis, mask;
    int ez_z, ez_nuse;
} col_offsets;

typedef struct {
    int ncols;
    int *def;           /* index into pz_cosmos_columns */
    col_offsets off;    /* column numbers (in the layout) of the fields the mock fills; -1 = absent */
} row_layout;

/* One row of a chunk being filled. */
typedef struct {
    pz_table *t;
    size_t i;
} out_row;

static void put_f32(out_row *row, int col, double v)
{
    if (col >= 0) ((float *)row->t->cols[col].data)[row->i] = (float)v;
}

static void put_f64(out_row *row, int col, double v)
{
    if (col >= 0) ((double *)row->t->cols[col].data)[row->i] = v;
}

static void put_i16(out_row *row, int col, int v)
{
    if (col >= 0) ((int16_t *)row->t->cols[col].data)[row->i] = (int16_t)v;
}

static void put_i64(out_row *row, int col, long v)
{
    if (col >= 0) ((int64_t *)row->t->cols[col].data)[row->i] = (int64_t)v;
}

static int find_offset(const row_layout *L, const char *name)
{
    for (int c = 0; c < L->ncols; c++)
        if (!strcmp(pz_cosmos_columns[L->def[c]].ttype, name)) return c;
    return -1;
}

static void fill_offsets(row_layout *L)
{
    col_offsets *o = &L->off;
    static const char *ap[NAP] = {"APER2", "APER3", "AUTO"};
    char name[64];
    for (int b = 0; b < PZ_NBANDS; b++) {
        for (int a = 0; a < NAP; a++) {
            snprintf(name, sizeof name, "HSC_%s_FLUX_%s", pz_band_names[b], ap[a]);
            o->flux[b][a] = find_offset(L, name);
            snprintf(name, sizeof name, "HSC_%s_FLUXERR_%s", pz_band_names[b], ap[a]);
            o->fluxerr[b][a] = find_offset(L, name);
            snprintf(name, sizeof name, "HSC_%s_MAG_%s", pz_band_names[b], ap[a]);
            o->mag[b][a] = find_offset(L, name);
            snprintf(name, sizeof name, "HSC_%s_MAGERR_%s", pz_band_names[b], ap[a]);
            o->magerr[b][a] = find_offset(L, name);
        }
        snprintf(name, sizeof name, "HSC_%s_FLAGS", pz_band_names[b]);
        o->flags[b] = find_offset(L, name);
        snprintf(name, sizeof name, "HSC_%s_IMAFLAGS_ISO", pz_band_names[b]);
        o->imaflags[b] = find_offset(L, name);
    }
#define OFF(field, nm) o->field = find_offset(L, nm)
    OFF(id, "ID"); OFF(ra, "ALPHA_J2000"); OFF(dec, "DELTA_J2000"); OFF(x, "X_IMAGE"); OFF(y, "Y_IMAGE");
    OFF(errx2, "ERRX2_IMAGE"); OFF(erry2, "ERRY2_IMAGE"); OFF(flux_radius, "FLUX_RADIUS");
    OFF(kron_radius, "KRON_RADIUS"); OFF(flag_hsc, "FLAG_HSC"); OFF(flag_supcam, "FLAG_SUPCAM");
    OFF(flag_uvista, "FLAG_UVISTA"); OFF(flag_udeep, "FLAG_UDEEP"); OFF(flag_combined, "FLAG_COMBINED");
    OFF(ebv, "EBV_MW"); OFF(off2, "total_off2"); OFF(off3, "total_off3"); OFF(id_chandra, "ID_CHANDRA");
    OFF(zbest, "lp_zBEST"); OFF(type, "lp_type"); OFF(zpdf, "lp_zPDF"); OFF(l68, "lp_zPDF_l68");
    OFF(u68, "lp_zPDF_u68"); OFF(zminchi2, "lp_zMinChi2"); OFF(chi2, "lp_chi2_best"); OFF(zp2, "lp_zp_2");
    OFF(chi2_2, "lp_chi2_2"); OFF(nbfilt, "lp_NbFilt"); OFF(chis, "lp_chis"); OFF(mask, "lp_mask");
    OFF(ez_z, "ez_z_phot"); OFF(ez_nuse, "ez_nusefilt");
#undef OFF
}

static pz_coltype column_type(const char *tform)
{
    switch (tform[strlen(tform) - 1]) {
    case 'E': return PZ_F32;
    case 'D': return PZ_F64;
    case 'I': return PZ_I16;
    case 'K': return PZ_I64;
    default: return PZ_STR;
    }
}

/* The columns as the real header declares them, no rows: the writer's prototype. */
static pz_table *layout_table(const row_layout *L, const char *prov)
{
    pz_table *t = pz_table_new(0);
    for (int c = 0; c < L->ncols; c++) {
        const pz_cosmos_coldef *d = &pz_cosmos_columns[L->def[c]];
        pz_column *col = pz_table_add(t, d->ttype, column_type(d->tform), tform_width(d->tform));
        if (d->tunit[0]) col->unit = pz_xstrdup(d->tunit);
        if (d->tcomm[0]) col->desc = pz_xstrdup(d->tcomm);
        if (d->tnull) col->has_null_value = 1, col->null_value = d->tnull;
    }
    pz_table_set_attr(t, "EXTNAME", "PHASE3CATALOG");
    if (prov) pz_table_set_attr(t, "PZPROV", prov);
    pz_table_set_attr(t, "ORIGIN", "pzflow mock sky");
    return t;
}

/* Rows [0, n) of a chunk before the mock fills them: NaN floats, TNULL (else 0) integers,
 * blank strings. */
static void chunk_defaults(pz_table *t, const row_layout *L, size_t n)
{
    for (int c = 0; c < L->ncols; c++) {
        const pz_cosmos_coldef *d = &pz_cosmos_columns[L->def[c]];
        pz_column *col = &t->cols[c];
        if (col->type == PZ_STR) memset(col->data, ' ', n * col->width);
        else for (size_t i = 0; i < n; i++) pz_col_set_f64(col, i, col->type == PZ_F32 || col->type == PZ_F64 ? NAN : (double)d->tnull);
    }
}

static int layout_init(row_layout *L, int full, pz_err *err)
{
    memset(L, 0, sizeof *L);
    L->def = pz_xmalloc(PZ_COSMOS_NCOLS * sizeof(int));
    for (int c = 0; c < PZ_COSMOS_NCOLS; c++) {
        int keep = full;
        for (const char *const *m = pz_cosmos_minimal; !keep && *m; m++) keep = !strcmp(*m, pz_cosmos_columns[c].ttype);
        if (keep) L->def[L->ncols++] = c;
    }
    for (int c = 0; c < L->ncols; c++)
        if (!tform_width(pz_cosmos_columns[L->def[c]].tform))
            return pz_errf(err, "COSMOS2020 column '%s': unsupported TFORM '%s'", pz_cosmos_columns[L->def[c]].ttype,
                           pz_cosmos_columns[L->def[c]].tform);
    fill_offsets(L);
    return 0;
}

static void layout_free(row_layout *L)
{
    free(L->def);
}

/* ---- measurement ---- */

static double depth_of(const pz_mock_params *p, int b) { return (&p->cosmos_depth_g)[b]; }

/* Aperture fluxes and their noise from the 3-sigma 2" depths (sky noise grows with the aperture
 * radius). The light profile is an exponential whose half-light radius is the galaxy's and the
 * PSF's added in quadrature: unlike a Gaussian it keeps the extended wings that make real
 * aperture-to-total corrections (total_off2) of order -0.1 mag. */
static double enclosed_exp(double radius, double r_eff)
{
    double x = 1.678 * radius / r_eff;
    return 1 - (1 + x) * exp(-x);
}

static void measure_row(const pz_mock_params *p, const pz_mock_obj *o, gsl_rng *rng, out_row *row,
                        const col_offsets *c)
{
    double r_eff = sqrt(o->r_half * o->r_half + 0.25 * p->psf_cosmos * p->psf_cosmos);
    double r_auto = fmax(1.75, 2.5 * r_eff);
    double rad[NAP] = {1.0, 1.5, r_auto}, frac[NAP];
    double s2 = r_eff * r_eff / (1.1774 * 1.1774);
    for (int a = 0; a < NAP; a++) frac[a] = enclosed_exp(rad[a], r_eff);
    for (int b = 0; b < PZ_NBANDS; b++) {
        double ftot = pow(10, -0.4 * (o->mag[b] + p->cosmos_zp_scale * zp_offset[b] - 23.9));
        double sig1 = pow(10, -0.4 * (depth_of(p, b) - 23.9)) / 3.0;
        double calib = exp(p->calib_floor * 0.921 * gsl_ran_gaussian_ziggurat(rng, 1.0));
        for (int a = 0; a < NAP; a++) {
            double sig = sig1 * rad[a];
            double f = frac[a] * ftot * calib + gsl_ran_gaussian_ziggurat(rng, sig);
            put_f32(row, c->flux[b][a], f);
            put_f32(row, c->fluxerr[b][a], sig);
            if (f > 0) {
                put_f32(row, c->mag[b][a], -2.5 * log10(f) + 23.9);
                put_f32(row, c->magerr[b][a], 1.0857 * sig / f);
            }
        }
        int sat = o->mag[b] < 17.5 ? 4 : 0; /* saturated cores in the UltraDeep stacks */
        put_i16(row, c->flags[b], sat);
        put_i16(row, c->imaflags[b], sat);
    }
    double noise_off = 0.01 * gsl_ran_gaussian_ziggurat(rng, 1.0);
    put_f32(row, c->off2, 2.5 * log10(frac[AP2]) + noise_off);
    put_f32(row, c->off3, 2.5 * log10(frac[AP3]) + noise_off);
    put_f32(row, c->flux_radius, sqrt(s2) * 1.1774 / 0.15);
    put_f32(row, c->kron_radius, 3.5 + 0.5 * gsl_rng_uniform(rng));
}

static void write_row(const pz_mock_params *p, const pz_mock_field *f, const pz_mock_obj *o, long id, gsl_rng *rng,
                      const row_layout *L, out_row *row)
{
    const col_offsets *c = &L->off;
    put_i64(row, c->id, id);
    put_f64(row, c->ra, o->ra);
    put_f64(row, c->dec, o->dec);
    double x, y;
    pz_mock_field_xy(f, o->ra, o->dec, &x, &y);
    put_f64(row, c->x, x / 0.15);
    put_f64(row, c->y, y / 0.15);
    double snr = pow(10, -0.4 * (o->mag[2] - p->cosmos_depth_i)) * 3, pos_err = p->psf_cosmos / fmax(snr, 1) / 0.15;
    put_f64(row, c->errx2, pos_err * pos_err);
    put_f64(row, c->erry2, pos_err * pos_err);
    int fh = !!(o->flags & PZ_OF_MASK_HSC), fs = !!(o->flags & PZ_OF_MASK_SUPCAM), fu = !!(o->flags & PZ_OF_OUT_UVISTA);
    int fcomb = fh || fs || fu;
    put_i16(row, c->flag_hsc, fh);
    put_i16(row, c->flag_supcam, fs);
    put_i16(row, c->flag_uvista, fu);
    put_i16(row, c->flag_udeep, (o->flags & PZ_OF_UDEEP) ? 0 : 1);
    put_i16(row, c->flag_combined, fcomb);
    put_f64(row, c->ebv, o->ebv_mw);
    measure_row(p, o, rng, row, c);
    pz_mock_photoz pz;
    pz_mock_lephare(p, o, fcomb, rng, &pz);
    put_f64(row, c->zbest, pz.zbest);
    put_i64(row, c->type, pz.type);
    put_f64(row, c->zpdf, pz.zpdf);
    put_f64(row, c->l68, pz.l68);
    put_f64(row, c->u68, pz.u68);
    put_f64(row, c->zminchi2, pz.zminchi2);
    put_f64(row, c->chi2, pz.chi2_best);
    put_f64(row, c->zp2, pz.zp2);
    put_f64(row, c->chi2_2, pz.chi2_2);
    put_i64(row, c->nbfilt, pz.nbfilt);
    put_f64(row, c->chis, pz.chis);
    put_f64(row, c->mask, pz.lp_mask);
    put_f32(row, c->ez_z, pz.ez_z_phot);
    put_i64(row, c->ez_nuse, pz.ez_nusefilt);
    if (c->id_chandra >= 0 && (o->flags & PZ_OF_XRAY)) {
        char cid[10];
        snprintf(cid, sizeof cid, "lid_%05ld", id % 100000);
        pz_column *col = &row->t->cols[c->id_chandra];
        memcpy((char *)col->data + row->i * col->width, cid, strlen(cid));
    }
}

/* ---- the file ---- */

int pz_mock_write_cosmos(const char *path, const pz_mock_params *p, const pz_mock_field *f, const pz_mock_obj *objs,
                         size_t n, const char *provenance, pz_err *err)
{
    row_layout L;
    if (layout_init(&L, !strcmp(p->layout, "full"), err) < 0) return -1;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)p->seed * 7919 + 11);
    pz_table *proto = layout_table(&L, provenance);
    pz_table_writer *w = pz_table_writer_open(path, PZ_FMT_FITS, proto, err);
    int rc = w ? 0 : -1;
    const size_t chunk = 4096;
    pz_table *t = rc == 0 ? pz_table_take(proto, NULL, 0) : NULL;
    for (size_t j = 0; t && j < t->ncols; j++) { /* room for one chunk */
        free(t->cols[j].data);
        t->cols[j].data = pz_xcalloc(chunk, t->cols[j].width);
    }
    for (size_t start = 0; !rc && start < n; start += chunk) {
        size_t m = n - start < chunk ? n - start : chunk;
        t->nrows = m;
        chunk_defaults(t, &L, m);
        for (size_t i = 0; i < m; i++) {
            out_row row = {t, i};
            write_row(p, f, &objs[start + i], (long)(start + i + 1), rng, &L, &row);
        }
        rc = pz_table_writer_append(w, t, err);
        pz_progress(0.2 + 0.4 * (double)(start + m) / n, "cosmos2020: %zu/%zu rows", start + m, n);
    }
    pz_err close_err;
    if (w && pz_table_writer_close(w, &close_err) < 0 && rc == 0) *err = close_err, rc = -1;
    pz_table_free(t);
    pz_table_free(proto);
    gsl_rng_free(rng);
    layout_free(&L);
    return rc;
}
