/* Mock-sky parameters: defaults and spec parsing, all from the one list in mock_params.h. */
#include "mock/mock_params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEF_L(name, def, doc) {#name, 'L', offsetof(pz_mock_params, name), (double)(def), NULL, doc},
#define DEF_D(name, def, doc) {#name, 'D', offsetof(pz_mock_params, name), (double)(def), NULL, doc},
#define DEF_B(name, def, doc) {#name, 'B', offsetof(pz_mock_params, name), (double)(def), NULL, doc},
#define DEF_S(name, def, doc) {#name, 'S', offsetof(pz_mock_params, name), 0.0, def, doc},
#define DEF(name, kind, def, doc) DEF_##kind(name, def, doc)

const pz_mock_paramdef pz_mock_paramdefs[] = {PZ_MOCK_PARAMS(DEF)};
const size_t pz_mock_nparams = sizeof pz_mock_paramdefs / sizeof pz_mock_paramdefs[0];

/* The same list as a stage param table (util/params.h), for --describe and the engine's check. */
#define MF(name) .field = PZ_FIELD(pz_mock_params, name)
#define PDEF_L(name, def, doc) {PZ_PARAM(#name, PZ_PT_INT, #def, doc), MF(name)},
#define PDEF_D(name, def, doc) {PZ_PARAM(#name, PZ_PT_FLOAT, #def, doc), MF(name)},
#define PDEF_B(name, def, doc) {PZ_PARAM(#name, PZ_PT_BOOL, (def) ? "true" : "false", doc), MF(name)},
#define PDEF_S(name, def, doc) {PZ_PARAM(#name, PZ_PT_STRING, def, doc), MF(name)},
#define PDEF(name, kind, def, doc) PDEF_##kind(name, def, doc)

const pz_param_def pz_mock_param_table[] = {PZ_MOCK_PARAMS(PDEF){0}};

void pz_mock_params_default(pz_mock_params *p)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < pz_mock_nparams; i++) {
        const pz_mock_paramdef *d = &pz_mock_paramdefs[i];
        char *field = (char *)p + d->offset;
        switch (d->kind) {
        case 'L': *(long *)field = (long)d->def_num; break;
        case 'D': *(double *)field = d->def_num; break;
        case 'B': *(int *)field = (int)d->def_num; break;
        case 'S': *(const char **)field = d->def_str; break;
        }
    }
}

int pz_mock_params_from_spec(pz_mock_params *p, const pz_spec *spec, pz_err *err)
{
    memset(p, 0, sizeof *p);
    if (pz_params_read(spec, pz_mock_param_table, p, err) < 0) return -1;
    return pz_mock_params_check(p, err);
}

static int in_unit(double v) { return v >= 0 && v <= 1; }

int pz_mock_params_check(const pz_mock_params *p, pz_err *err)
{
    if (p->n_cosmos < 1) return pz_errf(err, "param 'n_cosmos': must be >= 1, got %ld", p->n_cosmos);
    if (p->n_galaxiesml < 3) return pz_errf(err, "param 'n_galaxiesml': must be >= 3, got %ld", p->n_galaxiesml);
    if (strcmp(p->layout, "full") && strcmp(p->layout, "minimal"))
        return pz_errf(err, "param 'layout': expected full or minimal, got '%s'", p->layout);
    if (strcmp(p->hsc_depth, "wide") && strcmp(p->hsc_depth, "udeep"))
        return pz_errf(err, "param 'hsc_depth': expected wide or udeep, got '%s'", p->hsc_depth);
    if (!in_unit(p->cosmos_overlap_fraction))
        return pz_errf(err, "param 'cosmos_overlap_fraction': must be in [0,1], got %g", p->cosmos_overlap_fraction);
    if (!(p->field_area_deg2 > 0 && p->field_area_deg2 < 100))
        return pz_errf(err, "param 'field_area_deg2': must be in (0,100), got %g", p->field_area_deg2);
    if (!(p->zmin > 0 && p->zmax > p->zmin && p->zmax <= 7))
        return pz_errf(err, "params 'zmin'/'zmax': need 0 < zmin < zmax <= 7, got %g, %g", p->zmin, p->zmax);
    if (!(p->lf_mbright < p->lf_mfaint))
        return pz_errf(err, "params 'lf_mbright'/'lf_mfaint': need lf_mbright < lf_mfaint");
    if (!(p->ebv_max > 0 && p->ebv_max <= 2)) return pz_errf(err, "param 'ebv_max': must be in (0,2]");
    if (!(p->h0 > 0 && p->omega_m > 0 && p->omega_m <= 1)) return pz_errf(err, "params 'h0'/'omega_m' out of range");
    const double *fr[] = {&p->uvista_area_fraction, &p->udeep_fraction, &p->hsc_missing_fraction,
                          &p->failed_fit_fraction, &p->spec_fail_fraction, &p->spec_inhomog_fraction,
                          &p->lp_eta_bright, &p->lp_eta_faint, &p->ez_corr, &p->red_t_max};
    const char *frn[] = {"uvista_area_fraction", "udeep_fraction", "hsc_missing_fraction", "failed_fit_fraction",
                         "spec_fail_fraction", "spec_inhomog_fraction", "lp_eta_bright", "lp_eta_faint", "ez_corr",
                         "red_t_max"};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++)
        if (!in_unit(*fr[i])) return pz_errf(err, "param '%s': must be in [0,1], got %g", frn[i], *fr[i]);
    const double *w = &p->spec_w_sdss;
    double wsum = 0;
    for (int i = 0; i < 7; i++) {
        if (!(w[i] >= 0)) return pz_errf(err, "spec_w_* weights must be >= 0");
        wsum += w[i];
    }
    if (!(wsum > 0)) return pz_errf(err, "spec_w_* weights: at least one must be > 0");
    for (size_t i = 0; i < pz_mock_nparams; i++) {
        const pz_mock_paramdef *d = &pz_mock_paramdefs[i];
        if (d->kind == 'D' && !isfinite(*(const double *)((const char *)p + d->offset)))
            return pz_errf(err, "param '%s': must be finite", d->name);
    }
    return 0;
}
