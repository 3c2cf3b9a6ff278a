/* The `plot` stage: draws Figures 1-3 from plot-data's tables with gnuplot (pngcairo and svg
 * terminals) and Figure 4, the pipeline's DAG, from a Graphviz DOT file with `dot`.
 *
 * The gnuplot scripts are generated here as C strings, so the stage executable's hash covers
 * them and the engine reruns the stage when a script changes. Data files and scripts live in a
 * private temporary directory under the working directory, removed afterwards. */
#ifndef PZ_PLOT_H
#define PZ_PLOT_H

#include "table/table.h"
#include "util/err.h"
#include "util/spec.h"

/* Run argv (argv[0] looked up in PATH) in directory `cwd`, its stdout and stderr into `log`.
 * Non-zero exit: error naming the program, the status and the log's first line. */
int pz_run_tool(const char *const *argv, const char *cwd, const char *log, pz_err *err);

/* Figure `name` (fig1, fig2 or fig3) from its plot-data table t into png and/or svg (either may
 * be NULL), with gnuplot run in the existing directory `dir`, where its scripts and data files
 * are left. Every string of t (column names, string cells) and both paths are checked with
 * pz_plot_check_text first: a control byte or backquote is refused, naming the column and row. */
int pz_plot_figure(const char *name, const pz_table *t, const char *png, const char *svg, const char *dir,
                   pz_err *err);

/* 0 if s may appear in a gnuplot script; else an error "where: 's' holds a newline at byte N; ..."
 * (control bytes shown as \n, \xNN). See core/photoz/plot.c for why these bytes are refused. */
int pz_plot_check_text(const char *s, const char *where, pz_err *err);
/* pz_plot_check_text on every column name and string cell; `what` prefixes "column 'c' row r" ("input column ..."). */
int pz_plot_check_table(const pz_table *t, const char *what, pz_err *err);

/* Inputs fig1, fig2, fig3 (tables from plot-data) and dag (DOT); outputs figN.png / figN.svg
 * for each figure wanted (a figure is drawn when either of its outputs is declared). */
extern const pz_stage_def pz_plot_stage;

#endif
