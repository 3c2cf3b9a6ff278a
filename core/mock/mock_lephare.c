/* LePhare-like photo-z error model (see mock_lephare.h for the sources). */
#include "mock/mock_lephare.h"

#include <gsl/gsl_randist.h>
#include <math.h>

double pz_mock_lp_sigma(const pz_mock_params *p, double m)
{
    /* Log-linear in magnitude through the two published anchors, with a floor. */
    double s = p->lp_sigma_m22 * pow(p->lp_sigma_m25 / p->lp_sigma_m22, (m - 22.5) / 2.5);
    return fmax(s, p->lp_sigma_floor);
}

double pz_mock_lp_eta(const pz_mock_params *p, double m)
{
    return p->lp_eta_bright + (p->lp_eta_faint - p->lp_eta_bright) / (1 + exp(-(m - p->lp_eta_mag) / 0.5));
}

/* A catastrophic solution: the 4000 A break taken for the Lyman break (or the reverse) half of
 * the time, otherwise a broad failure. */
static double outlier_z(double z, gsl_rng *rng)
{
    if (gsl_rng_uniform(rng) < 0.5) {
        double ratio = 1215.67 / 4000.0;
        return z > 1.5 ? (1 + z) * ratio - 1 + 0.05 * gsl_ran_gaussian_ziggurat(rng, 1.0)
                       : (1 + z) / ratio - 1 + 0.1 * gsl_ran_gaussian_ziggurat(rng, 1.0);
    }
    return z + (1 + z) * 0.35 * gsl_ran_gaussian_ziggurat(rng, 1.0);
}

static long nb_filters(double m, gsl_rng *rng)
{
    /* ~39 bands fit for bright objects; faint ones drop out of the shallow bands. */
    long nb = lround(39 - 2.5 * fmax(0, m - 22) + gsl_ran_gaussian_ziggurat(rng, 1.5));
    return nb < 3 ? 3 : nb > 39 ? 39 : nb;
}

static double reduced_chi2(long nb, double scale, gsl_rng *rng)
{
    double dof = nb > 6 ? nb - 5 : 1;
    return scale * gsl_ran_chisq(rng, dof) / dof;
}

void pz_mock_lephare(const pz_mock_params *p, const pz_mock_obj *o, int flag_combined, gsl_rng *rng, pz_mock_photoz *out)
{
    double m = o->mag[2], ztrue = o->cls == PZ_OBJ_STAR ? 0 : o->z;
    double sig = pz_mock_lp_sigma(p, m), eta = pz_mock_lp_eta(p, m);
    double n1 = gsl_ran_gaussian_ziggurat(rng, 1.0), n2 = gsl_ran_gaussian_ziggurat(rng, 1.0);
    int outlier = gsl_rng_uniform(rng) < eta;
    double zp;
    if (o->cls == PZ_OBJ_STAR) {
        /* Galaxy templates on a star: a poor low-redshift solution. */
        zp = fabs(0.3 * n1) + 0.05 * gsl_rng_uniform(rng);
    } else {
        zp = outlier ? outlier_z(ztrue, rng) : ztrue + (1 + ztrue) * sig * n1;
    }
    if (zp < 0) zp = 0.01 * gsl_rng_uniform(rng);
    out->nbfilt = nb_filters(m, rng);
    double width = (1 + zp) * sig * exp(0.3 * gsl_ran_gaussian_ziggurat(rng, 1.0));
    if (outlier && gsl_rng_uniform(rng) < 0.5) width *= 3; /* multi-modal PDFs are wide */
    out->zpdf = zp;
    out->l68 = fmax(0, zp - width * exp(0.15 * gsl_ran_gaussian_ziggurat(rng, 1.0)));
    out->u68 = zp + width * exp(0.15 * gsl_ran_gaussian_ziggurat(rng, 1.0));
    out->zminchi2 = fmax(0, zp + 0.3 * width * gsl_ran_gaussian_ziggurat(rng, 1.0));
    out->zp2 = NAN;
    out->chi2_2 = NAN;
    double chi_gal = reduced_chi2(out->nbfilt, outlier ? 3.0 : 1.2, rng);
    double chi_star = reduced_chi2(out->nbfilt, 1.0, rng);
    if (o->cls == PZ_OBJ_STAR) {
        out->chi2_best = chi_gal * (3 + 10 * gsl_rng_uniform(rng) * fmax(0.1, 26 - m) / 8);
        out->chis = chi_star;
    } else {
        out->chi2_best = chi_gal;
        /* Extended, bright galaxies are fit far worse by stars; faint ones only a little. */
        out->chis = chi_gal * (1 + exp(gsl_rng_uniform(rng) * 4 - 0.25 * (m - 22)));
    }
    if (outlier && gsl_rng_uniform(rng) < 0.5) { /* second PDF peak near the truth */
        out->zp2 = fmax(0, ztrue + (1 + ztrue) * sig * n2);
        out->chi2_2 = out->chi2_best * (1 + gsl_rng_uniform(rng));
    }
    /* lp_type: stars are recognised with a completeness falling at the faint end. */
    double pstar = 1 / (1 + exp((m - p->star_class_mag50) / 0.4));
    double pfail = p->failed_fit_fraction / (1 + exp(-(m - 26) / 0.3));
    if (o->cls == PZ_OBJ_STAR) out->type = gsl_rng_uniform(rng) < pstar ? 1 : 0;
    else out->type = (o->flags & PZ_OF_XRAY) ? 2 : 0;
    if (out->type == 0 && gsl_rng_uniform(rng) < pfail) out->type = -9;
    if (out->type == 1 && out->chis > out->chi2_best) { /* classification follows the chi2 */
        double tmp = out->chis; out->chis = out->chi2_best; out->chi2_best = tmp;
    }
    if (out->type == -9) {
        out->zpdf = out->l68 = out->u68 = out->zminchi2 = out->chi2_best = out->chis = NAN;
        out->zp2 = out->chi2_2 = NAN;
    }
    out->lp_mask = flag_combined;
    /* lp_zBEST: lp_zPDF for galaxies, 0 for stars, NaN for X-ray sources and masked objects
     * (the column's own description in the real header). */
    if (out->type == 1) out->zbest = 0;
    else if (out->type == 0 && !flag_combined) out->zbest = out->zpdf;
    else out->zbest = NAN;
    /* EAZY: same photometry, so its error correlates with LePhare's. */
    double rho = p->ez_corr, ez;
    if (o->cls == PZ_OBJ_STAR) ez = zp + 0.1 * n2;
    else if (outlier && gsl_rng_uniform(rng) < rho) ez = zp + 0.02 * (1 + zp) * n2;
    else ez = ztrue + (1 + ztrue) * sig * p->ez_sigma_scale * (rho * n1 + sqrt(1 - rho * rho) * n2);
    out->ez_z_phot = (float)fmax(0, ez);
    out->ez_nusefilt = out->nbfilt > 2 ? out->nbfilt - 2 : 1;
}
