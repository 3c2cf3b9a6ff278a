/* The `plot` stage: draws Figures 1-3 from plot-data's tables with gnuplot (pngcairo and svg
 * terminals) and Figure 4, the pipeline's DAG, from a Graphviz DOT file with `dot`.
 *
 * The gnuplot scripts are generated here as C strings, so the stage executable's hash covers
 * them and the engine reruns the stage when a script changes. Data files and scripts live in a
 * private temporary directory under the working directory, removed afterwards. */
#ifndef PZ_PLOT_H
#define PZ_PLOT_H

#include "util/err.h"
#include "util/spec.h"

/* Run argv (argv[0] looked up in PATH) in directory `cwd`, its stdout and stderr into `log`.
 * Non-zero exit: error naming the program, the status and the log's first line. */
int pz_run_tool(const char *const *argv, const char *cwd, const char *log, pz_err *err);

/* Inputs fig1, fig2, fig3 (HDF5 from plot-data) and dag (DOT); outputs figN_png / figN_svg
 * for each figure wanted (a figure is drawn when either of its outputs is declared). */
int pz_plot_stage(const pz_spec *spec, pz_err *err);

#endif
