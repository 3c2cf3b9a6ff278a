#include "nn/predict.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn/pdf.h"
#include "nn/train.h"
#include "photoz/qp.h"
#include "util/parfor.h"
#include "util/sbuf.h"
#include "util/suggest.h"

#define DEFAULT_CHUNK_ROWS 65536

size_t pz_model_predict(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, float *out)
{
    return pz_model_predict_at(m, ws, x, rows, 0, out, NULL);
}

size_t pz_model_predict_pdf(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, float *out,
                            const pz_pdf_block *pdf)
{
    return pz_model_predict_at(m, ws, x, rows, 0, out, pdf);
}

/* A row the network cannot take has no p(z) either. */
static void pdf_rows_nan(const pz_pdf_block *pdf, int K, size_t row)
{
    for (int k = 0; k < K; k++) pdf->weight[k * pdf->stride + row] = pdf->mean[k * pdf->stride + row] =
        pdf->std[k * pdf->stride + row] = NAN;
}

/* Every forward is a full block of ws->cap rows, and each row sits at its absolute position
 * modulo ws->cap: OpenBLAS's kernels sum in an order that depends on a row's place in the
 * block (its remainder tiles differ), which shows in the last bits, so without this a row's
 * z_pred would depend on how the catalogue was cut into chunks. Rows outside [first, first +
 * rows) are zero padding; with chunks a multiple of ws->cap (the default) there is none. */
size_t pz_model_predict_at(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, size_t first, float *out,
                           const pz_pdf_block *pdf)
{
    int K = pdf ? pz_model_pdf_ncomp(m) : 0;
    size_t nf = m->nfeat, nan_rows = 0, cap = (size_t)ws->cap;
    float *z = pz_xmalloc(sizeof(float) * cap);
    pz_pdf_block blk = {0};
    if (K) blk = (pz_pdf_block){pz_xmalloc(sizeof(float) * cap * K), pz_xmalloc(sizeof(float) * cap * K),
                                pz_xmalloc(sizeof(float) * cap * K), cap};
    for (size_t done = 0; done < rows;) {
        size_t pos = (first + done) % cap, n = cap - pos < rows - done ? cap - pos : rows - done;
        float *in = ws->act[0];
        memset(in, 0, sizeof(float) * cap * nf);
        memcpy(in + pos * nf, x + done * nf, sizeof(float) * n * nf);
        pz_scaler_apply(&m->scaler, in + pos * nf, n);
        /* A NaN would not survive the ReLU (NaN > 0 is false, so it becomes 0) and would give a
         * plausible-looking redshift; such rows are zeroed for the forward and marked NaN after. */
        uint8_t bad[n];
        for (size_t r = 0; r < n; r++) {
            float *row = in + (pos + r) * nf;
            bad[r] = 0;
            for (size_t j = 0; j < nf; j++) bad[r] |= !isfinite(row[j]);
            if (bad[r]) memset(row, 0, sizeof(float) * nf);
        }
        pz_model_forward_pdf(m, ws, ws->cap, z, K ? &blk : NULL);
        for (size_t r = 0; r < n; r++) {
            out[done + r] = bad[r] ? NAN : z[pos + r];
            for (int k = 0; k < K; k++) {
                pdf->weight[k * pdf->stride + done + r] = blk.weight[k * cap + pos + r];
                pdf->mean[k * pdf->stride + done + r] = blk.mean[k * cap + pos + r];
                pdf->std[k * pdf->stride + done + r] = blk.std[k * cap + pos + r];
            }
            if (bad[r] && K) pdf_rows_nan(pdf, K, done + r);
            nan_rows += bad[r];
        }
        done += n;
    }
    free(z);
    free(blk.weight), free(blk.mean), free(blk.std);
    return nan_rows;
}

static int is_sentinel(const pz_model *m, float v)
{
    for (size_t k = 0; k < m->nsentinels; k++)
        if (v == (float)m->sentinels[k]) return 1;
    return 0;
}

void pz_model_flag(const pz_model *m, const float *x, size_t rows, int16_t *flag)
{
    size_t nf = m->nfeat;
    for (size_t r = 0; r < rows; r++) {
        int16_t f = 0;
        for (size_t j = 0; j < nf; j++) {
            float v = x[r * nf + j];
            if (!isfinite(v)) f |= PZ_FLAG_NONFINITE;
            else if (is_sentinel(m, v)) f |= PZ_FLAG_SENTINEL;
            else if (v < m->scaler.min[j] || v > m->scaler.max[j]) f |= PZ_FLAG_OUT_OF_RANGE;
        }
        flag[r] = f;
    }
}

/* ---- the plan: which catalogue column feeds what, checked from the header alone ---- */

typedef struct {
    const char **feature;   /* nfeat: catalogue column of each model feature */
    const char *id, *label; /* catalogue columns, NULL when absent */
    const char *id_out;     /* the id's output name (what was asked for) */
    const char **keep;      /* nkeep catalogue columns, output under their own names */
    size_t nkeep;
    const char **read;      /* the distinct columns to read */
    size_t nread;
    pz_colinfo *info;       /* the catalogue's columns: every name above points into it */
    size_t ninfo;
} pred_plan;

static void plan_free(pred_plan *p)
{
    pz_colinfo_free(p->info, p->ninfo);
    free(p->feature);
    free(p->keep);
    free(p->read);
}

/* A catalogue column by name: exact, else the one case-insensitive match (FITS names are
 * case-insensitive by the standard; astropy upper-cases them). */
static const char *find_name(const pz_colinfo *info, size_t n, const char *name)
{
    const char *ci = NULL;
    size_t nci = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(info[i].name, name)) return info[i].name;
        if (!strcasecmp(info[i].name, name)) ci = info[i].name, nci++;
    }
    return nci == 1 ? ci : NULL;
}

static const pz_colinfo *find_info(const pz_colinfo *info, size_t n, const char *name)
{
    const char *found = find_name(info, n, name);
    for (size_t i = 0; found && i < n; i++)
        if (info[i].name == found) return &info[i];
    return NULL;
}

/* " (did you mean 'x'?)" when a column of the table is a likely typo of `name`, else "". */
static const char *guess_of(const pz_colinfo *info, size_t n, const char *const *skip, size_t nskip,
                            const char *name, char *buf, size_t cap)
{
    const char **names = pz_xmalloc((n ? n : 1) * sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int used = 0; /* a column already feeding a feature is there as itself, not a typo */
        for (size_t j = 0; j < nskip && !used; j++) used = skip[j] && !strcmp(info[i].name, skip[j]);
        if (!used) names[k++] = info[i].name;
    }
    const char *g = pz_closest_name(name, names, k);
    if (g) snprintf(buf, cap, " (did you mean '%s'?)", g);
    else buf[0] = 0;
    free(names);
    return buf;
}

/* Where feature `f` is read from: its --map item, else its own name. */
static int mapped_name(const pz_predict_opts *o, const pz_model *m, const char *f, const char **out, pz_err *err)
{
    *out = f;
    for (size_t i = 0; i < o->nmap; i++) {
        const char *eq = strchr(o->map[i], '=');
        if (!eq || eq == o->map[i] || !eq[1])
            return pz_errf(err, "--map '%s': expected model_feature=catalog_column", o->map[i]);
        size_t len = (size_t)(eq - o->map[i]);
        int known = 0;
        for (size_t j = 0; j < m->nfeat && !known; j++)
            known = strlen(m->features[j]) == len && !strncmp(m->features[j], o->map[i], len);
        if (!known) {
            char feat[256];
            snprintf(feat, sizeof feat, "%.*s", (int)(len < 200 ? len : 200), o->map[i]);
            const char *g = pz_closest_name(feat, (const char *const *)m->features, m->nfeat);
            return pz_errf(err, "--map '%s': the model has no feature '%s'%s%s%s", o->map[i], feat,
                           g ? " (did you mean '" : "", g ? g : "", g ? "'?)" : "");
        }
        if (strlen(f) == len && !strncmp(f, o->map[i], len)) *out = eq + 1;
    }
    return 0;
}

static void add_read(pred_plan *p, const char *name)
{
    for (size_t i = 0; i < p->nread; i++)
        if (!strcmp(p->read[i], name)) return;
    p->read[p->nread++] = name;
}

static int is_output_name(const char *name)
{
    return !strcmp(name, "z_pred") || !strcmp(name, "z_true") || !strcmp(name, "flag");
}

static int plan_features(const pz_model *m, const pz_colinfo *info, size_t ninfo, const pz_predict_opts *o,
                         const char *where, pred_plan *p, pz_err *err)
{
    char missing[PZ_ERR_MAX / 2] = "";
    size_t nmiss = 0, used = 0;
    for (size_t j = 0; j < m->nfeat; j++) {
        const char *want;
        if (mapped_name(o, m, m->features[j], &want, err)) return -1;
        p->feature[j] = find_name(info, ninfo, want);
        if (p->feature[j]) continue;
        char g[160], as[300] = "";
        if (want != m->features[j]) snprintf(as, sizeof as, " (mapped to '%.200s')", want);
        if (used < sizeof missing)
            used += snprintf(missing + used, sizeof missing - used, "%s'%s'%s%s", nmiss ? ", " : "", m->features[j], as,
                             guess_of(info, ninfo, (const char *const *)m->features, m->nfeat, want, g, sizeof g));
        nmiss++;
    }
    if (nmiss)
        return pz_errf(err, "%s: the model's feature%s %s %s not in the table (give the catalogue's name with "
                            "--map feature=column)",
                       where, nmiss > 1 ? "s" : "", missing, nmiss > 1 ? "are" : "is");
    return 0;
}

/* The column named `name` (label, id or --keep): its catalogue name, or an error. */
static int plan_column(const pz_colinfo *info, size_t ninfo, const pred_plan *p, size_t nfeat, const char *what,
                       const char *name, const char *where, const char **out, pz_err *err)
{
    if ((*out = find_name(info, ninfo, name))) return 0;
    char g[160];
    return pz_errf(err, "%s: %s column '%s' not in the table%s", where, what, name,
                   guess_of(info, ninfo, (const char *const *)p->feature, nfeat, name, g, sizeof g));
}

static int plan(const pz_model *m, const pz_source *src, const pz_predict_opts *o, pred_plan *p, long *nrows,
                pz_err *err)
{
    memset(p, 0, sizeof *p);
    pz_colinfo *info = NULL;
    size_t ninfo = 0;
    if (pz_table_info_src(src, &info, &ninfo, nrows, err)) return -1;
    p->info = NULL; /* set at the end: on failure the plan is freed with it */
    char *where = pz_source_str(src);
    p->feature = pz_xcalloc(m->nfeat, sizeof *p->feature);
    p->keep = pz_xcalloc(o->nkeep + 1, sizeof *p->keep);
    p->read = pz_xcalloc(m->nfeat + o->nkeep + 2, sizeof *p->read);
    int rc = plan_features(m, info, ninfo, o, where, p, err);
    if (!rc && o->label) rc = plan_column(info, ninfo, p, m->nfeat, "label", o->label, where, &p->label, err);
    const char *id = o->id_column ? o->id_column : "object_id";
    if (!rc && o->id_required) rc = plan_column(info, ninfo, p, m->nfeat, "id", id, where, &p->id, err);
    else if (!rc) p->id = find_name(info, ninfo, id);
    p->id_out = id;
    const pz_colinfo *idc = p->id ? find_info(info, ninfo, p->id) : NULL;
    if (!rc && idc && (idc->type == PZ_F32 || idc->type == PZ_F64 || idc->type == PZ_STR))
        rc = pz_errf(err, "%s: id column '%s' is %s; an integer column is needed", where, p->id,
                     pz_coltype_name(idc->type));
    for (size_t k = 0; !rc && k < o->nkeep; k++) {
        if (is_output_name(o->keep[k]) || (p->id && !strcmp(o->keep[k], p->id_out)))
            rc = pz_errf(err, "--keep %s: the predictions already have a column of that name", o->keep[k]);
        else rc = plan_column(info, ninfo, p, m->nfeat, "--keep", o->keep[k], where, &p->keep[p->nkeep++], err);
    }
    if (!rc && *nrows == 0) rc = pz_errf(err, "%s: the table has no rows", where);
    for (size_t j = 0; !rc && j < m->nfeat; j++) {
        const pz_colinfo *c = find_info(info, ninfo, p->feature[j]);
        if (c->type == PZ_STR) rc = pz_errf(err, "%s: feature column '%s' holds strings, not numbers", where, c->name);
    }
    if (!rc) {
        for (size_t j = 0; j < m->nfeat; j++) add_read(p, p->feature[j]);
        if (p->id) add_read(p, p->id);
        if (p->label) add_read(p, p->label);
        for (size_t k = 0; k < p->nkeep; k++) add_read(p, p->keep[k]);
    }
    free(where);
    p->info = info;
    p->ninfo = ninfo;
    if (rc) plan_free(p);
    return rc;
}

/* ---- checks on the first chunk: units and corrections ---- */

static const pz_column *chunk_col(const pz_table *t, const char *name)
{
    const pz_column *c = pz_table_col(t, name);
    for (size_t j = 0; !c && j < t->ncols; j++)
        if (!strcasecmp(t->cols[j].name, name)) c = &t->cols[j];
    return c;
}

/* A unit as compared: lower case, no blanks, and the spellings of an AB magnitude as one. */
static void unit_key(const char *u, char *out, size_t cap)
{
    size_t n = 0;
    for (; *u && n + 1 < cap; u++)
        if (*u != ' ' && *u != '\t') out[n++] = (char)(*u >= 'A' && *u <= 'Z' ? *u - 'A' + 'a' : *u);
    out[n] = 0;
    if (!strcmp(out, "abmag") || !strcmp(out, "mag(ab)") || !strcmp(out, "mag_ab")) strcpy(out, "mag");
}

/* A feature column whose unit differs from the training column's would give confident garbage
 * (a flux in nJy read as a magnitude); an unknown unit on either side is not evidence. */
static int check_units(const pz_model *m, const pred_plan *p, const pz_table *t, const char *where, pz_err *err)
{
    for (size_t j = 0; j < m->nfeat; j++) {
        const pz_column *c = chunk_col(t, p->feature[j]);
        if (!c || !c->unit || !*c->unit || !*m->units[j]) continue;
        char a[64], b[64];
        unit_key(c->unit, a, sizeof a);
        unit_key(m->units[j], b, sizeof b);
        if (strcmp(a, b))
            return pz_errf(err, "%s: column '%s' is in '%s', but the model's feature '%s' was trained in '%s' "
                                "(convert the column, or map the feature to a column in '%s' with --map)",
                           where, c->name, c->unit, m->features[j], m->units[j], m->units[j]);
    }
    return 0;
}

/* Corrections (extinction, aperture-to-total) cannot be seen in the numbers: say what the model
 * expects, and warn when the catalogue says it had something else. */
static char *corrections_note(const pz_model *m, const pz_table *t)
{
    if (!*m->corrections) return NULL;
    const char *have = pz_table_attr(t, "pzflow_corrections");
    if (!have)
        return pz_xasprintf("note: the model's training features had these corrections, which this catalogue "
                            "should have too: %s", m->corrections);
    if (strcmp(have, m->corrections))
        return pz_xasprintf("warning: the model's training features had corrections '%s', this catalogue's had "
                            "'%s'", m->corrections, have);
    return NULL;
}

/* ---- output ---- */

static const char FLAG_DESC[] = "0 ok; bits: 1 a feature non-finite, 2 a feature a sentinel (missing), "
                                "4 a feature outside the training range; z_pred NaN when flag & 3";

static pz_column *add_col(pz_table *t, const char *name, pz_coltype type, const char *desc)
{
    pz_column *c = pz_table_add(t, name, type, 0);
    if (desc) c->desc = pz_xstrdup(desc);
    return c;
}

static void copy_col_meta(pz_column *dst, const pz_column *src)
{
    if (src->unit) dst->unit = pz_xstrdup(src->unit);
    if (src->desc) dst->desc = pz_xstrdup(src->desc);
}

/* The output table for rows [lo, lo + n) of chunk `in`: id, --keep columns, z_pred, z_true,
 * flag. Rows of kept columns are copied here; the others are filled by the caller. */
static pz_table *out_chunk(const pz_model *m, const pred_plan *p, const pz_table *in, size_t lo, size_t n)
{
    pz_table *t = pz_table_new(n);
    if (p->id) add_col(t, p->id_out, PZ_I64, NULL);
    for (size_t k = 0; k < p->nkeep; k++) {
        const pz_column *src = chunk_col(in, p->keep[k]);
        pz_column *dst = pz_table_add(t, p->keep[k], src->type, src->width);
        copy_col_meta(dst, src);
        memcpy(dst->data, (const char *)src->data + lo * dst->width, n * dst->width);
        if (src->null) {
            dst->null = pz_xmalloc(n ? n : 1);
            memcpy(dst->null, src->null + lo, n);
        }
    }
    add_col(t, "z_pred", PZ_F32, "photometric redshift predicted by the network");
    if (p->label) add_col(t, "z_true", PZ_F64, "the label column, copied");
    add_col(t, "flag", PZ_I16, FLAG_DESC);
    int K = pz_model_pdf_ncomp(m);
    static const char *const PDF_COLUMNS[3] = {"pdf_weight", "pdf_mean", "pdf_std"};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < K; k++) {
            char name[32];
            snprintf(name, sizeof name, "%s_%d", PDF_COLUMNS[c], k);
            add_col(t, name, PZ_F32, NULL);
        }
    if (K) {
        char text[16];
        snprintf(text, sizeof text, "%d", K);
        pz_table_set_attr(t, "pdf", "gaussian_mixture");
        pz_table_set_attr(t, "pdf_ncomp", text);
    }
    if (m->seed >= 0) {
        char text[32];
        snprintf(text, sizeof text, "%ld", m->seed);
        /* The model's seed travels with its predictions, so evaluate labels per-seed rows with
         * the pipeline's seeds (1..N) rather than list positions (0..N-1). */
        pz_table_set_attr(t, "seed", text);
    }
    return t;
}

/* Copy rows [lo, lo + n) of an id column as int64 (exact for int64 inputs, no detour through
 * double). */
static void id_values(const pz_column *c, size_t lo, size_t n, int64_t *out)
{
    if (c->type == PZ_I64) memcpy(out, (const int64_t *)c->data + lo, sizeof *out * n);
    else
        for (size_t i = 0; i < n; i++) out[i] = (int64_t)pz_col_f64(c, lo + i);
}

/* A worker thread's own buffers (--threads; util/parfor.h): one block's features and a network
 * workspace, which every forward overwrites. */
typedef struct {
    float *x;      /* PZ_EVAL_CHUNK x nfeat */
    pz_net_ws *ws; /* PZ_EVAL_CHUNK rows */
} pred_worker;

typedef struct {
    const pz_model *m;
    const pred_plan *p;
    const pz_predict_opts *o;
    pred_worker *wk; /* one per worker thread */
    int nwk;
    pz_table_writer *w;
    pz_qp_stream *qp;
    pz_predict_stats *st;
    /* calibrating (no writer): the conformal scores of the rows so far */
    int kind;
    double *scores;
    size_t nscores, cap;
} pred_run;

static int is_uq_column(const char *name)
{
    return !strncmp(name, "pdf_", 4) || !strncmp(name, "z_lo_", 5) || !strncmp(name, "z_hi_", 5);
}

static void blank_flagged(pz_table *t)
{
    const int16_t *flag = pz_table_col(t, "flag")->data;
    for (size_t c = 0; c < t->ncols; c++) {
        if (!is_uq_column(t->cols[c].name)) continue;
        float *v = t->cols[c].data;
        for (size_t i = 0; i < t->nrows; i++)
            if (flag[i]) v[i] = NAN;
    }
}

/* Intervals and the flagged rows' NaNs on a chunk of predictions (or the 0-row prototype). */
static int uq_chunk(const pred_run *r, pz_table *t, pz_err *err)
{
    const pz_predict_opts *o = r->o;
    if (o->nlevels) {
        pz_conformal_opts co = {.levels = o->levels, .nlevels = o->nlevels, .z_pred_col = "z_pred"};
        if ((o->conformal ? pz_conformal_intervals(t, &co, o->conformal, err)
                          : pz_pdf_intervals(t, o->levels, o->nlevels, err)) < 0)
            return -1;
    }
    if (o->blank_flagged) blank_flagged(t);
    return 0;
}

/* --no-pdf: the table without the mixture columns and the attributes that announce them. */
static void drop_pdf(const pz_model *m, pz_table *t)
{
    static const char *const PARTS[3] = {"pdf_weight", "pdf_mean", "pdf_std"};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < pz_model_pdf_ncomp(m); k++) {
            char name[32];
            snprintf(name, sizeof name, "%s_%d", PARTS[c], k);
            pz_table_drop(t, name);
        }
    pz_table_unset_attr(t, "pdf");
    pz_table_unset_attr(t, "pdf_ncomp");
}

/* The qp file gets the chunk whole; the table, without the mixture when asked. */
static int write_chunk(pred_run *r, pz_table *t, pz_err *err)
{
    if (r->qp && pz_qp_append(r->qp, t, err) < 0) return -1;
    if (r->o->no_pdf) drop_pdf(r->m, t);
    return pz_table_writer_append(r->w, t, err);
}

/* Calibrating: the scores of the chunk's unflagged rows (flagged ones get no interval, so they
 * stay out of the calibration too). */
static int score_chunk(pred_run *r, const pz_table *t, pz_err *err)
{
    if (r->nscores + t->nrows > r->cap) {
        r->cap = 2 * (r->nscores + t->nrows);
        r->scores = pz_xrealloc(r->scores, r->cap * sizeof *r->scores);
    }
    double *s = r->scores + r->nscores;
    if (pz_conformal_scores(t, (pz_score_kind)r->kind, "z_pred", "z_true", s, err) < 0) return -1;
    const int16_t *flag = pz_table_col(t, "flag")->data;
    for (size_t i = 0; i < t->nrows; i++)
        if (flag[i]) s[i] = NAN;
    r->nscores += t->nrows;
    return 0;
}

static void count_flags(pz_predict_stats *st, const int16_t *flag, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        int16_t f = flag[r];
        st->flagged += f != 0;
        st->nonfinite += (f & PZ_FLAG_NONFINITE) != 0;
        st->sentinel += (f & PZ_FLAG_SENTINEL) != 0;
        st->out_of_range += (f & PZ_FLAG_OUT_OF_RANGE) != 0;
        st->no_prediction += (f & PZ_FLAG_NO_PREDICTION) != 0;
    }
}

/* Rows [lo, lo + n) of `in` as the model's raw features, row-major in x. */
static void features(const pred_run *r, const pz_table *in, size_t lo, size_t n, float *x)
{
    size_t nf = r->m->nfeat;
    for (size_t j = 0; j < nf; j++) {
        const pz_column *c = chunk_col(in, r->p->feature[j]);
        if (c->type == PZ_F32)
            for (size_t i = 0; i < n; i++) x[i * nf + j] = ((const float *)c->data)[lo + i];
        else
            for (size_t i = 0; i < n; i++) x[i * nf + j] = (float)pz_col_f64(c, lo + i);
    }
}

/* z_pred and the p(z) columns of `out` from the features in wk->x; out's rows are rows [first,
 * first + nrows) of the table, which places them in their block (pz_model_predict_at). */
static void forward_rows(const pred_run *r, pred_worker *wk, size_t first, pz_table *out)
{
    size_t n = out->nrows;
    int K = pz_model_pdf_ncomp(r->m);
    pz_pdf_block pdf = {0};
    if (K) { /* the p(z) columns of one component are stride n apart in one block: copied after */
        pdf = (pz_pdf_block){pz_xmalloc(sizeof(float) * n * K + 1), pz_xmalloc(sizeof(float) * n * K + 1),
                             pz_xmalloc(sizeof(float) * n * K + 1), n};
    }
    pz_model_predict_at(r->m, wk->ws, wk->x, n, first, pz_table_col(out, "z_pred")->data, K ? &pdf : NULL);
    float *const parts[3] = {pdf.weight, pdf.mean, pdf.std};
    static const char *const PDF_COLUMNS[3] = {"pdf_weight", "pdf_mean", "pdf_std"};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < K; k++) {
            char name[32];
            snprintf(name, sizeof name, "%s_%d", PDF_COLUMNS[c], k);
            memcpy(pz_table_col(out, name)->data, parts[c] + (size_t)k * n, sizeof(float) * n);
        }
    free(pdf.weight), free(pdf.mean), free(pdf.std);
}

/* *out: the output of rows [lo, lo + n) of chunk `in` (n <= PZ_EVAL_CHUNK), rows [first, first +
 * n) of the table: flags, the network, p(z), id, label and intervals. It writes only wk and the
 * new table, so workers run it at once. */
static int predict_rows(const pred_run *r, pred_worker *wk, const pz_table *in, size_t lo, size_t n, size_t first,
                        pz_table **out, pz_err *err)
{
    const pz_model *m = r->m;
    const pred_plan *p = r->p;
    size_t nf = m->nfeat;
    features(r, in, lo, n, wk->x);
    pz_table *t = *out = out_chunk(m, p, in, lo, n);
    int16_t *flag = pz_table_col(t, "flag")->data;
    pz_model_flag(m, wk->x, n, flag);
    /* A sentinel is "no measurement": it goes to the network as NaN, which gives z_pred NaN. */
    for (size_t i = 0; i < n; i++)
        if (flag[i] & PZ_FLAG_SENTINEL)
            for (size_t j = 0; j < nf; j++) wk->x[i * nf + j] = NAN;
    forward_rows(r, wk, first, t);
    if (p->id) id_values(chunk_col(in, p->id), lo, n, pz_table_col(t, p->id_out)->data);
    if (p->label) {
        const pz_column *lc = chunk_col(in, p->label);
        double *zt = pz_table_col(t, "z_true")->data;
        for (size_t i = 0; i < n; i++) zt[i] = pz_col_f64(lc, lo + i);
    }
    return uq_chunk(r, t, err);
}

/* A chunk's rows in one block of the table, predicted by whichever worker takes them. */
typedef struct {
    size_t lo, n; /* rows [lo, lo + n) of the chunk */
    pz_table *out;
    int rc;
    pz_err err;
} pred_unit;

typedef struct {
    const pred_run *r;
    const pz_table *in;
    size_t first; /* the chunk's first row in the table */
    pred_unit *u;
} pred_chunk;

static void unit_run(void *ctx, int worker, size_t i)
{
    pred_chunk *c = ctx;
    pred_unit *u = &c->u[i];
    u->rc = predict_rows(c->r, &c->r->wk[worker], c->in, u->lo, u->n, c->first + u->lo, &u->out, &u->err);
}

/* The units of the n rows of a chunk that starts at row `first` of the table: its rows cut at
 * multiples of PZ_EVAL_CHUNK in the table, so each unit is one forward at its rows' place. */
static size_t chunk_units(size_t first, size_t n, pred_unit **units)
{
    size_t cap = PZ_EVAL_CHUNK, head = first % cap, nu = (head + n + cap - 1) / cap;
    pred_unit *u = *units = pz_xcalloc(nu ? nu : 1, sizeof *u);
    for (size_t b = 0; b < nu; b++) {
        size_t lo = b * cap > head ? b * cap - head : 0, end = (b + 1) * cap - head;
        u[b] = (pred_unit){.lo = lo, .n = (end < n ? end : n) - lo};
    }
    return nu;
}

/* A unit's rows into the summary and the output (the writer, or the calibration's scores): on
 * the calling thread, in the table's order. Cutting the output so changes no byte (--chunk). */
static int emit_unit(pred_run *r, pz_table *out, pz_err *err)
{
    count_flags(r->st, pz_table_col(out, "flag")->data, out->nrows);
    r->st->rows += out->nrows;
    return r->w ? write_chunk(r, out, err) : score_chunk(r, out, err);
}

/* The chunk's units on the workers (--threads), then emitted in order. */
static int predict_chunk(pred_run *r, const pz_table *in, pz_err *err)
{
    pred_chunk c = {.r = r, .in = in, .first = r->st->rows};
    size_t nu = chunk_units(c.first, in->nrows, &c.u);
    if (pz_parfor(r->nwk, nu, unit_run, &c, err)) return -1; /* a worker may still hold the units */
    int rc = 0;
    for (size_t i = 0; i < nu; i++) {
        if (!rc && c.u[i].rc) rc = -1, *err = c.u[i].err;
        if (!rc) rc = emit_unit(r, c.u[i].out, err);
        pz_table_free(c.u[i].out);
    }
    free(c.u);
    return rc;
}

/* What the options ask of the model, checked before any row is read. */
static int check_uq(const pz_model *m, const pz_predict_opts *o, pz_err *err)
{
    int K = pz_model_pdf_ncomp(m);
    if (o->nlevels && !o->conformal && !K)
        return pz_errf(err, "the model gives a point estimate, no p(z), so it has no intervals of its own: calibrate "
                            "them on a labelled catalogue held out from training (--calibrate CATALOG --label COLUMN)");
    if (o->qp_path && !K)
        return pz_errf(err, "the model gives a point estimate, no p(z): there is nothing to write as a qp ensemble");
    return 0;
}

/* The writers of a run (none when calibrating), opened on a 0-row table of its output columns. */
static int open_outputs(pred_run *r, const pz_table *in, const char *out_path, pz_format fmt, pz_err *err)
{
    if (!out_path) return 0;
    pz_table *proto = out_chunk(r->m, r->p, in, 0, 0);
    int rc = uq_chunk(r, proto, err);
    if (!rc && r->o->qp_path) {
        pz_qp_opts qo = {.format = PZ_QP_MIXMOD, .z_pred_col = "z_pred"};
        if (!(r->qp = pz_qp_open(r->o->qp_path, proto, &qo, err))) rc = -1;
    }
    if (r->o->no_pdf) drop_pdf(r->m, proto);
    if (!rc && !(r->w = pz_table_writer_open(out_path, fmt, proto, err))) rc = -1;
    pz_table_free(proto);
    return rc;
}

/* --threads workers, no more than the blocks a chunk of `chunk` rows can touch (one more than
 * its rows fill when it starts late in a block): a unit is a block. */
static void workers_new(pred_run *r, size_t chunk)
{
    size_t cap = PZ_EVAL_CHUNK, blocks = (cap - 1 + chunk + cap - 1) / cap;
    long want = r->o->threads < 1 ? 1 : r->o->threads;
    r->nwk = (size_t)want < blocks ? (int)want : (int)blocks;
    r->wk = pz_xcalloc((size_t)r->nwk, sizeof *r->wk);
    for (int t = 0; t < r->nwk; t++)
        r->wk[t] = (pred_worker){pz_xmalloc(sizeof(float) * cap * r->m->nfeat), pz_net_ws_new(r->m->net, (int)cap)};
}

static void workers_free(pred_run *r)
{
    for (int t = 0; t < r->nwk; t++) {
        free(r->wk[t].x);
        pz_net_ws_free(r->wk[t].ws);
    }
    free(r->wk);
}

/* Stream `src` through the model: into out_path, or, with out_path NULL, into r->scores. */
static int run_stream(pred_run *r, const pz_source *src, const char *out_path, pz_format fmt, pz_err *err)
{
    const pz_model *m = r->m;
    const pz_predict_opts *o = r->o;
    pz_predict_stats *st = r->st;
    memset(st, 0, sizeof *st);
    if (check_uq(m, o, err)) return -1;
    pred_plan p;
    long nrows = -1;
    if (plan(m, src, o, &p, &nrows, err)) return -1;
    r->p = &p;
    size_t chunk = o->chunk_rows ? o->chunk_rows : DEFAULT_CHUNK_ROWS;
    char *where = pz_source_str(src);
    pz_table *in = NULL;
    pz_table_reader *rd = pz_table_reader_open(src, p.read, p.nread, err);
    int rc = rd ? pz_table_reader_next(rd, chunk, &in, err) : -1;
    if (!rc && !in) rc = pz_errf(err, "%s: the table has no rows", where);
    if (!rc) rc = check_units(m, &p, in, where, err);
    if (!rc) {
        st->notes = corrections_note(m, in);
        rc = open_outputs(r, in, out_path, fmt, err);
    }
    if (!rc) {
        workers_new(r, chunk);
    }
    size_t total = nrows > 0 ? (size_t)nrows : 0;
    while (!rc && in) {
        rc = predict_chunk(r, in, err);
        pz_table_free(in);
        in = NULL;
        if (o->progress) o->progress(o->ctx, st->rows, total);
        if (!rc) rc = pz_table_reader_next(rd, chunk, &in, err);
    }
    pz_table_free(in);
    if (r->w && pz_table_writer_close(r->w, rc ? NULL : err) && !rc) rc = -1;
    if (r->qp && pz_qp_close(r->qp, rc ? NULL : err) && !rc) rc = -1;
    pz_table_reader_close(rd);
    workers_free(r);
    free(where);
    plan_free(&p);
    return rc;
}

int pz_predict_source(const pz_model *m, const pz_source *src, const char *out_path, pz_format fmt,
                      const pz_predict_opts *o, pz_predict_stats *st, pz_err *err)
{
    pred_run r = {.m = m, .o = o, .st = st};
    return run_stream(&r, src, out_path, fmt, err);
}

int pz_predict_calibrate(const pz_model *m, const pz_source *cal, const char *label, int score,
                         const pz_predict_opts *o, pz_conformal_result *res, pz_predict_stats *st, pz_err *err)
{
    memset(st, 0, sizeof *st);
    int K = pz_model_pdf_ncomp(m);
    pz_score_kind kind = score >= 0 ? (pz_score_kind)score : K ? PZ_SCORE_NORMALIZED : PZ_SCORE_RELATIVE;
    if ((kind == PZ_SCORE_NORMALIZED || kind == PZ_SCORE_PIT) && !K)
        return pz_errf(err, "score '%s' needs a p(z), and the model gives a point estimate (use relative or absolute)",
                       pz_score_names[kind]);
    if (!label) return pz_errf(err, "calibration needs the catalogue's true-redshift column (--label COLUMN)");
    /* Only what a prediction needs: the label, no id, no kept columns, no intervals. */
    pz_predict_opts co = {.label = label, .map = o->map, .nmap = o->nmap, .chunk_rows = o->chunk_rows,
                          .threads = o->threads, .progress = o->progress, .ctx = o->ctx, .blank_flagged = 1};
    pred_run r = {.m = m, .o = &co, .st = st, .kind = (int)kind};
    pz_conformal_opts lv = {.levels = o->levels, .nlevels = o->nlevels};
    int rc = run_stream(&r, cal, NULL, PZ_FMT_HDF5, err);
    if (!rc) rc = pz_conformal_calibrate(r.scores, r.nscores, &lv, kind, res, err);
    if (rc) pz_err_prefix(err, "calibration: ");
    free(r.scores);
    return rc;
}

void pz_predict_stats_free(pz_predict_stats *st)
{
    free(st->notes);
    st->notes = NULL;
}

char *pz_predict_summary(const pz_predict_stats *st)
{
    pz_sbuf b = {0};
    pz_sb_printf(&b, "%zu rows predicted; flags: %zu ok, %zu non-finite (1), %zu sentinel (2), %zu outside the "
                     "training range (4); %zu rows without a prediction (z_pred NaN)",
                 st->rows, st->rows - st->flagged, st->nonfinite, st->sentinel, st->out_of_range, st->no_prediction);
    if (st->notes) pz_sb_printf(&b, "\n%s", st->notes);
    return b.p;
}
