/* COSMOS2020 CLASSIC writer: HSC aperture photometry from the UltraDeep depths, LePhare-like
 * photo-z, flags; rows packed big-endian and written in chunks. */
#include "mock/mock_cosmos_fits.h"

#include <endian.h>
#include <fitsio.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_lephare.h"
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
    size_t rowlen;
    unsigned char *template_row;
    col_offsets off;
} row_layout;

static void put_f32(unsigned char *row, int off, double v)
{
    if (off < 0) return;
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    u = htobe32(u);
    memcpy(row + off, &u, 4);
}

static void put_f64(unsigned char *row, int off, double v)
{
    if (off < 0) return;
    uint64_t u;
    memcpy(&u, &v, 8);
    u = htobe64(u);
    memcpy(row + off, &u, 8);
}

static void put_i16(unsigned char *row, int off, int v)
{
    if (off < 0) return;
    uint16_t u = htobe16((uint16_t)(int16_t)v);
    memcpy(row + off, &u, 2);
}

static void put_i64(unsigned char *row, int off, long v)
{
    if (off < 0) return;
    uint64_t u = htobe64((uint64_t)(int64_t)v);
    memcpy(row + off, &u, 8);
}

static int find_offset(const row_layout *L, const size_t *offs, const char *name)
{
    for (int c = 0; c < L->ncols; c++)
        if (!strcmp(pz_cosmos_columns[L->def[c]].ttype, name)) return (int)offs[c];
    return -1;
}

static void fill_offsets(row_layout *L, const size_t *offs)
{
    col_offsets *o = &L->off;
    static const char *ap[NAP] = {"APER2", "APER3", "AUTO"};
    char name[64];
    for (int b = 0; b < PZ_NBANDS; b++) {
        for (int a = 0; a < NAP; a++) {
            snprintf(name, sizeof name, "HSC_%s_FLUX_%s", pz_band_names[b], ap[a]);
            o->flux[b][a] = find_offset(L, offs, name);
            snprintf(name, sizeof name, "HSC_%s_FLUXERR_%s", pz_band_names[b], ap[a]);
            o->fluxerr[b][a] = find_offset(L, offs, name);
            snprintf(name, sizeof name, "HSC_%s_MAG_%s", pz_band_names[b], ap[a]);
            o->mag[b][a] = find_offset(L, offs, name);
            snprintf(name, sizeof name, "HSC_%s_MAGERR_%s", pz_band_names[b], ap[a]);
            o->magerr[b][a] = find_offset(L, offs, name);
        }
        snprintf(name, sizeof name, "HSC_%s_FLAGS", pz_band_names[b]);
        o->flags[b] = find_offset(L, offs, name);
        snprintf(name, sizeof name, "HSC_%s_IMAFLAGS_ISO", pz_band_names[b]);
        o->imaflags[b] = find_offset(L, offs, name);
    }
#define OFF(field, nm) o->field = find_offset(L, offs, nm)
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

/* Template row: NaN floats, TNULL integers, zero flags, blank strings. */
static void fill_template(row_layout *L, const size_t *offs)
{
    L->template_row = pz_xcalloc(1, L->rowlen);
    for (int c = 0; c < L->ncols; c++) {
        const pz_cosmos_coldef *d = &pz_cosmos_columns[L->def[c]];
        int off = (int)offs[c];
        switch (d->tform[strlen(d->tform) - 1]) {
        case 'E': put_f32(L->template_row, off, NAN); break;
        case 'D': put_f64(L->template_row, off, NAN); break;
        case 'I': put_i16(L->template_row, off, d->tnull ? (int)d->tnull : 0); break;
        case 'K': put_i64(L->template_row, off, d->tnull ? d->tnull : 0); break;
        case 'A': memset(L->template_row + off, ' ', tform_width(d->tform)); break;
        }
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
    size_t *offs = pz_xmalloc(L->ncols * sizeof *offs);
    for (int c = 0; c < L->ncols; c++) {
        size_t w = tform_width(pz_cosmos_columns[L->def[c]].tform);
        if (!w) {
            free(offs);
            return pz_errf(err, "COSMOS2020 column '%s': unsupported TFORM '%s'", pz_cosmos_columns[L->def[c]].ttype,
                           pz_cosmos_columns[L->def[c]].tform);
        }
        offs[c] = L->rowlen;
        L->rowlen += w;
    }
    fill_offsets(L, offs);
    fill_template(L, offs);
    free(offs);
    return 0;
}

static void layout_free(row_layout *L)
{
    free(L->def);
    free(L->template_row);
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

static void measure_row(const pz_mock_params *p, const pz_mock_obj *o, gsl_rng *rng, unsigned char *row,
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
                      const row_layout *L, unsigned char *row)
{
    const col_offsets *c = &L->off;
    memcpy(row, L->template_row, L->rowlen);
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
        memcpy(row + c->id_chandra, cid, strlen(cid));
    }
}

/* ---- the file ---- */

static int fits_fail(int status, const char *path, const char *what, pz_err *err)
{
    char msg[FLEN_ERRMSG] = "";
    fits_get_errstatus(status, msg);
    return pz_errf(err, "%s: %s: %s (cfitsio status %d)", path, what, msg, status);
}

static int write_header(fitsfile *fp, const row_layout *L, size_t n, const char *prov, int *status)
{
    char **ttype = pz_xmalloc(L->ncols * sizeof(char *)), **tform = pz_xmalloc(L->ncols * sizeof(char *)),
         **tunit = pz_xmalloc(L->ncols * sizeof(char *));
    for (int c = 0; c < L->ncols; c++) {
        const pz_cosmos_coldef *d = &pz_cosmos_columns[L->def[c]];
        ttype[c] = (char *)d->ttype;
        tform[c] = (char *)d->tform;
        tunit[c] = (char *)d->tunit;
    }
    fits_create_img(fp, BYTE_IMG, 0, NULL, status);
    fits_create_tbl(fp, BINARY_TBL, (LONGLONG)n, L->ncols, ttype, tform, tunit, "PHASE3CATALOG", status);
    free(ttype);
    free(tform);
    free(tunit);
    for (int c = 0; c < L->ncols && !*status; c++) {
        const pz_cosmos_coldef *d = &pz_cosmos_columns[L->def[c]];
        char key[16];
        if (d->tnull) {
            snprintf(key, sizeof key, "TNULL%d", c + 1);
            long v = d->tnull;
            fits_write_key(fp, TLONG, key, &v, "", status);
        }
        if (d->tcomm[0]) {
            snprintf(key, sizeof key, "TCOMM%d", c + 1);
            fits_write_key_str(fp, key, d->tcomm, "", status);
        }
    }
    if (prov) fits_write_key_longstr(fp, "PZPROV", prov, "pzflow provenance (JSON)", status);
    fits_write_key_str(fp, "ORIGIN", "pzflow mock sky", "not real data", status);
    return *status;
}

int pz_mock_write_cosmos(const char *path, const pz_mock_params *p, const pz_mock_field *f, const pz_mock_obj *objs,
                         size_t n, const char *provenance, pz_err *err)
{
    row_layout L;
    if (layout_init(&L, !strcmp(p->layout, "full"), err) < 0) return -1;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)p->seed * 7919 + 11);
    int status = 0;
    fitsfile *fp = NULL;
    char *bang = pz_xasprintf("!%s", path);
    fits_create_file(&fp, bang, &status);
    free(bang);
    int rc = 0;
    if (status) rc = fits_fail(status, path, "cannot create", err);
    else if (write_header(fp, &L, n, provenance, &status)) rc = fits_fail(status, path, "writing header", err);
    size_t chunk = 4096;
    unsigned char *buf = pz_xmalloc(chunk * L.rowlen);
    for (size_t start = 0; !rc && start < n; start += chunk) {
        size_t m = n - start < chunk ? n - start : chunk;
        for (size_t i = 0; i < m; i++)
            write_row(p, f, &objs[start + i], (long)(start + i + 1), rng, &L, buf + i * L.rowlen);
        if (fits_write_tblbytes(fp, (LONGLONG)start + 1, 1, (LONGLONG)(m * L.rowlen), buf, &status))
            rc = fits_fail(status, path, "writing rows", err);
        pz_progress(0.2 + 0.4 * (double)(start + m) / n, "cosmos2020: %zu/%zu rows", start + m, n);
    }
    free(buf);
    if (fp) {
        int cstatus = 0;
        fits_close_file(fp, &cstatus);
        if (!rc && cstatus) rc = fits_fail(cstatus, path, "closing", err);
    }
    gsl_rng_free(rng);
    layout_free(&L);
    return rc;
}
