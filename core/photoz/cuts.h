/* Quality cuts: small boolean expressions over table columns, such as
 *
 *     lp_type == 0            0 < lp_zPDF <= 4            isfinite(i_cmodel_mag)
 *     lp_zPDF_u68 - lp_zPDF_l68 < 0.5                     lp_chi2_best < lp_chis
 *     flag_combined == 0 && !(abs(lp_zPDF - lp_zBEST) > 0.5)
 *
 * The parser is a hand-written recursive descent over a fixed grammar (no eval, no code
 * generation) that compiles one expression into a small tree bound to the table's columns.
 * Evaluation runs column-at-a-time over blocks of rows, so a cut costs a few passes over the
 * columns it names, however many rows there are.
 *
 * Grammar, loosest binding first:
 *     or      := and  { ("||" | "or")  and }
 *     and     := not  { ("&&" | "and") not }
 *     not     := ("!" | "not") not | cmp
 *     cmp     := sum  { ("<" | "<=" | ">" | ">=" | "==" | "!=") sum }   chained: a < b < c
 *     sum     := term { ("+" | "-") term }
 *     term    := unary { ("*" | "/") unary }
 *     unary   := ("-" | "+") unary | primary
 *     primary := NUMBER | true | false | NAME | `any name` | FUNC "(" args ")" | "(" or ")"
 * Functions: abs, sqrt, log10, min(a,b), max(a,b) (numbers); isfinite, isnan (conditions).
 *
 * Missing values: NaN (and a null integer, read as NaN) makes every comparison false, `!=`
 * included, so a cut never keeps a row because a value is missing. `!`, `&&`, `||` then work
 * on plain true/false. A cut must be a condition: `lp_zPDF` alone is an error, a boolean column
 * alone (`specz_flag_homogeneous`) is fine.
 *
 * Numbers are doubles, except that a comparison between int64 columns and integer literals
 * (`object_id != 43158176442374224`) is done in int64, exactly: IDs beyond 2^53 would share a
 * double with their neighbours. Arithmetic on an int64 column (`id + 0`) goes through double. */
#ifndef PZ_CUTS_H
#define PZ_CUTS_H

#include <stddef.h>
#include <stdint.h>
#include "table/table.h"
#include "util/err.h"

typedef struct pz_cut pz_cut;

/* Compile `expr` against the columns of `t`. On error returns NULL and err holds one line
 * "column N: what" (1-based character position), followed by the expression and a caret under
 * that position on two more lines. */
pz_cut *pz_cut_compile(const char *expr, const pz_table *t, pz_err *err);
void pz_cut_free(pz_cut *cut);

/* Evaluate over every row of the table the cut was compiled for: pass[r] = 1 if row r passes. */
void pz_cut_eval(const pz_cut *cut, const pz_table *t, uint8_t *pass);

/* The cut-flow of applying cuts in order: left[k] = rows passing cuts 0..k. */
typedef struct pz_cutflow {
    size_t ncuts;
    char **cuts;   /* copies of the expressions */
    size_t nrows;  /* rows before any cut */
    size_t *left;
} pz_cutflow;

/* Apply every cut, in order; keep[r] = 1 if row r passes them all. flow may be NULL. A parse
 * error names the cut: "cut 3 'lp_zPDF <= ': column 11: expected a number or column name". */
int pz_cuts_apply(const pz_table *t, const char *const *cuts, size_t ncuts, uint8_t *keep, pz_cutflow *flow,
                  pz_err *err);
void pz_cutflow_free(pz_cutflow *flow);
/* The cut-flow as a Markdown table (rows left, removed, kept fraction), malloc'd. */
char *pz_cutflow_markdown(const pz_cutflow *flow);

/* The whole quality-cuts step: the rows of t passing all cuts, in input order. The cut-flow is
 * in *flow only, not in the table: the table's bytes then depend on which rows pass, not on how
 * the cuts are written, so a cut that keeps the same rows leaves downstream stages cached
 * (early cutoff; the stage writes the cut-flow as its own output). Zero rows left is an error
 * ("no rows left after cut 2 '...'"); flow is still filled so the caller can show it. */
pz_table *pz_quality_cuts(const pz_table *t, const char *const *cuts, size_t ncuts, pz_cutflow *flow,
                          pz_err *err);

#endif
