/* The `plot-data` stage: the numbers behind the paper's Figures 1-3, as long ("tidy") tables
 * written both as FITS (the pipeline's table format) and CSV (docs/evaluate.md has the columns).
 *
 *   fig1  dataset quantity lo hi count density   histograms of z, i magnitude and colours
 *   fig2  model test z_true_lo z_true_hi z_pred_lo z_pred_hi count  predicted vs true (2-D), one seed
 *   fig3  model test metric z_lo z_hi z_mid n n_nan mean std p16 p84 goal  LSST-window metrics over seeds
 *   fig3_bins  the same columns, one row per redshift bin
 *   fig5  model test panel x x_lo x_hi mean std   uncertainty (docs/uncertainty.md): panel "pit" (PIT
 *         density histogram, x = bin centre), "coverage" (x = nominal level, mean = empirical
 *         coverage, whole range), "width_68"/"width_95" (x = redshift bin centre, mean width)
 *
 * Every histogram bin is right-closed, (lo, hi], like the redshift bins of the metrics. */
#ifndef PZ_PLOTDATA_H
#define PZ_PLOTDATA_H

#include <stddef.h>
#include <stdio.h>

#include "table/table.h"
#include "util/err.h"
#include "util/spec.h"

typedef struct pz_bins {
    double lo, hi;
    size_t n;
} pz_bins;

/* Bin index of x in n equal right-closed bins over (lo, hi]; -1 outside or for NaN. */
long pz_bin_index(const pz_bins *b, double x);

/* Count x into counts[b->n] (added to what is there). Returns how many values fell in. */
size_t pz_histogram(const pz_bins *b, const double *x, size_t n, long *counts);

/* A table as CSV: a header of column names, then one line per row. Strings are written as is
 * (quoted when they hold a comma or quote), integers exactly, floats with %.10g, NaN as "nan". */
int pz_table_write_csv(FILE *out, const pz_table *t, pz_err *err);

/* The LSST goal drawn for a metric in Figure 3 (bias: |bias| < goal; nmad, scatter_bw: < goal;
 * outlier: < goal), read from the metrics table's attributes; NaN when the metric has none. */
double pz_fig3_goal(const pz_table *metrics, const char *metric);

/* Figure 3's table from evaluate's metrics table: the seed statistics of `metric_names` for every
 * (model, test set) in one selection ("lsst" for the window, "bin" for the redshift bins). */
pz_table *pz_fig3_table(const pz_table *metrics, const char *selection, const char *const *metric_names, size_t nmetrics,
                        pz_err *err);

/* Figure 5's table from evaluate's metrics table (rows only where the metric is not NaN). */
pz_table *pz_fig5_table(const pz_table *metrics, pz_err *err);

/* The whole stage: figures whose output (fig1, fig2, fig3, fig3_bins) is declared are made; each
 * may come with a <name>_csv output. */
extern const pz_stage_def pz_plot_data_stage;

#endif
