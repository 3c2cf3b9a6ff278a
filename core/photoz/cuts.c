/* Quality-cut expressions: tokenizer, recursive-descent parser with type checking, and a
 * block-wise evaluator. See cuts.h for the grammar and the missing-value rules. */
#include "photoz/cuts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"
#include "util/suggest.h"

/* Rows evaluated per pass: big enough to amortise the tree walk, small enough that every
 * node's buffer stays in cache. */
#define CUT_BLOCK 1024
/* Nesting limit so a hostile "((((((..." cannot overflow the C stack. */
#define CUT_MAX_DEPTH 200
/* Size limit: evaluation recurses once per tree level and keeps one block buffer per node, so a
 * long flat chain "a+a+a+...", which the depth limit does not see, must be bounded too (the
 * fuzzer overflowed the stack with 8000 terms). Real cuts have a few dozen nodes. */
#define CUT_MAX_NODES 2000

typedef enum {
    OP_NUM, OP_COL, OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_ABS, OP_SQRT, OP_LOG10, OP_MIN, OP_MAX,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, OP_AND, OP_OR, OP_NOT, OP_ISFINITE, OP_ISNAN
} cut_op;

typedef enum { TY_NUM, TY_COND } cut_type;

typedef struct cut_node {
    cut_op op;
    cut_type type;
    int pos;                 /* 1-based column in the expression, for messages */
    int a, b;                /* children (node indices), -1 if none */
    double num;              /* OP_NUM */
    int64_t inum;            /* OP_NUM written as an integer that fits int64 (is_int) */
    int is_int;
    int exact;               /* comparison of int64 leaves, done in int64 (see mark_exact) */
    const pz_column *col;    /* OP_COL */
} cut_node;

struct pz_cut {
    cut_node *nodes;
    size_t n;
    int root;
    size_t nrows;
};

/* ---- tokens ---- */

typedef enum { T_END, T_NUM, T_NAME, T_QNAME, T_OP, T_BAD } tok_kind;

typedef struct tok {
    tok_kind kind;
    size_t start, len;   /* byte span in the expression */
    double num;
    int64_t inum;        /* T_NUM written with digits only, when it fits int64 */
    int is_int;
} tok;

typedef struct parser {
    const char *s;
    size_t at;           /* next unread byte */
    tok cur;
    pz_cut *cut;
    size_t cap;
    const pz_table *t;
    pz_err *err;
    int failed;
    int depth;
} parser;

static void caret_lines(const char *s, int pos, char *out, size_t outsz)
{
    /* "  expr\n  ^" with control characters shown as spaces so the caret lines up. */
    size_t len = strlen(s), k = 0;
    char *line = pz_xmalloc(len + 1);
    for (size_t i = 0; i < len; i++) line[i] = (unsigned char)s[i] < 32 ? ' ' : s[i];
    line[len] = 0;
    k = (size_t)snprintf(out, outsz, "\n    %s\n    ", line);
    for (int i = 1; i < pos && k + 2 < outsz; i++) out[k++] = ' ';
    if (k + 2 < outsz) out[k++] = '^';
    out[k < outsz ? k : outsz - 1] = 0;
    free(line);
}

/* Record the first error only: later ones are consequences of it. `tail` (may be NULL) goes
 * after the caret lines, for long lists that may be truncated. */
static int perr_tail(parser *p, int pos, const char *tail, const char *fmt, ...)
{
    if (p->failed) return -1;
    p->failed = 1;
    char what[512], caret[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    caret_lines(p->s, pos, caret, sizeof caret);
    pz_errf(p->err, "column %d: %s%s%s%s", pos, what, caret, tail ? "\n" : "", tail ? tail : "");
    return -1;
}
#define perr(p, pos, ...) perr_tail(p, pos, NULL, __VA_ARGS__)

static int is_name_start(int c) { return isalpha(c) || c == '_'; }
static int is_name_char(int c) { return isalnum(c) || c == '_' || c == '.'; }

static const char *const two_char_ops[] = {"<=", ">=", "==", "!=", "&&", "||", NULL};

static void next_token(parser *p)
{
    const char *s = p->s;
    while (s[p->at] && isspace((unsigned char)s[p->at])) p->at++;
    tok *t = &p->cur;
    t->start = p->at;
    t->len = 0;
    unsigned char c = (unsigned char)s[p->at];
    if (!c) {
        /* Point just past the last character written, not at trailing blanks. */
        while (t->start > 0 && isspace((unsigned char)s[t->start - 1])) t->start--;
        t->kind = T_END;
        return;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[p->at + 1]))) {
        /* Span the literal by hand (digits, one dot, exponent) so "1.2.3" or "3x" is caught
         * here rather than half-read by strtod. */
        size_t i = p->at;
        while (isdigit((unsigned char)s[i])) i++;
        if (s[i] == '.') {
            i++;
            while (isdigit((unsigned char)s[i])) i++;
        }
        if ((s[i] == 'e' || s[i] == 'E') &&
            (isdigit((unsigned char)s[i + 1]) ||
             ((s[i + 1] == '+' || s[i + 1] == '-') && isdigit((unsigned char)s[i + 2])))) {
            i += 2;
            while (isdigit((unsigned char)s[i])) i++;
        }
        t->kind = is_name_char((unsigned char)s[i]) ? T_BAD : T_NUM;
        if (t->kind == T_BAD) {
            while (is_name_char((unsigned char)s[i])) i++;
        } else {
            char *buf = pz_xmalloc(i - p->at + 1);
            memcpy(buf, s + p->at, i - p->at);
            buf[i - p->at] = 0;
            t->num = strtod(buf, NULL);
            errno = 0;
            char *end;
            long long v = strtoll(buf, &end, 10);
            t->is_int = *end == 0 && errno == 0;
            t->inum = t->is_int ? (int64_t)v : 0;
            free(buf);
        }
        t->len = i - p->at;
        p->at = i;
        return;
    }
    if (is_name_start(c)) {
        size_t i = p->at;
        while (is_name_char((unsigned char)s[i])) i++;
        t->kind = T_NAME;
        t->len = i - p->at;
        p->at = i;
        return;
    }
    if (c == '`') {
        const char *end = strchr(s + p->at + 1, '`');
        if (!end || end == s + p->at + 1) {
            t->kind = T_BAD;
            t->len = 1;
            return;
        }
        t->kind = T_QNAME;
        t->len = (size_t)(end - (s + p->at)) + 1;
        p->at += t->len;
        return;
    }
    for (int k = 0; two_char_ops[k]; k++)
        if (strncmp(s + p->at, two_char_ops[k], 2) == 0) {
            t->kind = T_OP;
            t->len = 2;
            p->at += 2;
            return;
        }
    if (strchr("<>!+-*/(),=", c)) {
        t->kind = T_OP;
        t->len = 1;
        p->at++;
        return;
    }
    t->kind = T_BAD;
    t->len = 1;
}

static int tok_is(const parser *p, const char *text)
{
    const tok *t = &p->cur;
    if (t->kind != T_OP && t->kind != T_NAME) return 0;
    return t->len == strlen(text) && strncmp(p->s + t->start, text, t->len) == 0;
}

static int tok_pos(const parser *p) { return (int)p->cur.start + 1; }

/* A short description of the current token for "expected X, got Y" messages. */
static void tok_describe(const parser *p, char *out, size_t outsz)
{
    if (p->cur.kind == T_END) {
        snprintf(out, outsz, "the end of the cut");
        return;
    }
    int len = p->cur.len > 40 ? 40 : (int)p->cur.len;
    snprintf(out, outsz, "'%.*s'", len, p->s + p->cur.start);
}

static int add_node(parser *p, cut_op op, cut_type type, int pos, int a, int b)
{
    pz_cut *c = p->cut;
    if (c->n >= CUT_MAX_NODES)
        return perr(p, pos, "cut too long: more than %d numbers, names and operators", CUT_MAX_NODES);
    if (c->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        c->nodes = pz_xrealloc(c->nodes, p->cap * sizeof *c->nodes);
    }
    cut_node *nd = &c->nodes[c->n];
    memset(nd, 0, sizeof *nd);
    nd->op = op;
    nd->type = type;
    nd->pos = pos;
    nd->a = a;
    nd->b = b;
    return (int)c->n++;
}

static cut_node *node_at(parser *p, int i) { return &p->cut->nodes[i]; }

/* ---- columns ---- */

static int unknown_column(parser *p, const char *name, int pos)
{
    const pz_table *t = p->t;
    const char **names = pz_xmalloc((t->ncols ? t->ncols : 1) * sizeof *names);
    for (size_t i = 0; i < t->ncols; i++) names[i] = t->cols[i].name;
    const char *guess = pz_closest_name(name, names, t->ncols);
    free(names);
    char have[PZ_ERR_MAX];
    size_t k = (size_t)snprintf(have, sizeof have, "available columns:");
    for (size_t i = 0; i < t->ncols && k < sizeof have; i++)
        k += (size_t)snprintf(have + k, sizeof have - k, "%s %s", i ? "," : "", t->cols[i].name);
    if (guess) return perr_tail(p, pos, have, "unknown column '%s' (did you mean '%s'?)", name, guess);
    return perr_tail(p, pos, have, "unknown column '%s'", name);
}

static int column_node(parser *p, const char *name, int pos)
{
    pz_column *col = pz_table_col(p->t, name);
    if (!col) return unknown_column(p, name, pos);
    if (col->type == PZ_STR)
        return perr(p, pos, "column '%s' holds strings; cuts compare numbers", name);
    int n = add_node(p, OP_COL, col->type == PZ_BOOL ? TY_COND : TY_NUM, pos, -1, -1);
    if (n >= 0) node_at(p, n)->col = col;
    return n;
}

/* ---- parser ---- */

static int parse_or(parser *p);

typedef struct func_def {
    const char *name;
    cut_op op;
    int nargs;
    cut_type result;
} func_def;

static const func_def funcs[] = {
    {"abs", OP_ABS, 1, TY_NUM},         {"sqrt", OP_SQRT, 1, TY_NUM},   {"log10", OP_LOG10, 1, TY_NUM},
    {"min", OP_MIN, 2, TY_NUM},         {"max", OP_MAX, 2, TY_NUM},     {"isfinite", OP_ISFINITE, 1, TY_COND},
    {"isnan", OP_ISNAN, 1, TY_COND},    {NULL, 0, 0, 0},
};

static const func_def *find_func(const char *name)
{
    for (int i = 0; funcs[i].name; i++)
        if (strcmp(funcs[i].name, name) == 0) return &funcs[i];
    return NULL;
}

static int parse_call(parser *p, const char *name, int pos)
{
    const func_def *f = find_func(name);
    if (!f) {
        char have[256];
        size_t k = (size_t)snprintf(have, sizeof have, "functions:");
        for (int i = 0; funcs[i].name; i++) k += (size_t)snprintf(have + k, sizeof have - k, " %s", funcs[i].name);
        return perr_tail(p, pos, have, "unknown function '%s'", name);
    }
    next_token(p); /* '(' */
    int args[2] = {-1, -1}, nargs = 0;
    if (!tok_is(p, ")")) {
        for (;;) {
            /* Conditions count as 0/1 numbers wherever a number is expected. */
            int a = parse_or(p);
            if (a < 0) return -1;
            if (nargs < 2) args[nargs] = a;
            nargs++;
            if (!tok_is(p, ",")) break;
            next_token(p);
        }
    }
    if (!tok_is(p, ")")) {
        char got[64];
        tok_describe(p, got, sizeof got);
        return perr(p, tok_pos(p), "expected ',' or ')' in the call of %s(), got %s", name, got);
    }
    if (nargs != f->nargs)
        return perr(p, pos, "%s() takes %d argument%s, got %d", name, f->nargs, f->nargs == 1 ? "" : "s", nargs);
    next_token(p);
    return add_node(p, f->op, f->result, pos, args[0], args[1]);
}

static int parse_primary(parser *p)
{
    int pos = tok_pos(p);
    tok t = p->cur;
    if (t.kind == T_NUM) {
        next_token(p);
        int n = add_node(p, OP_NUM, TY_NUM, pos, -1, -1);
        if (n >= 0) {
            node_at(p, n)->num = t.num;
            node_at(p, n)->inum = t.inum;
            node_at(p, n)->is_int = t.is_int;
        }
        return n;
    }
    if (t.kind == T_NAME || t.kind == T_QNAME) {
        int quoted = t.kind == T_QNAME;
        char *name = quoted ? pz_xasprintf("%.*s", (int)t.len - 2, p->s + t.start + 1)
                            : pz_xasprintf("%.*s", (int)t.len, p->s + t.start);
        next_token(p);
        int n;
        if (!quoted && (strcmp(name, "true") == 0 || strcmp(name, "false") == 0)) {
            n = add_node(p, OP_NUM, TY_COND, pos, -1, -1);
            if (n >= 0) node_at(p, n)->num = name[0] == 't';
        } else if (!quoted && tok_is(p, "(")) {
            n = parse_call(p, name, pos);
        } else if (!quoted && (strcmp(name, "and") == 0 || strcmp(name, "or") == 0 || strcmp(name, "not") == 0)) {
            n = perr(p, pos, "expected a number or column name, got the keyword '%s' (quote odd column names "
                             "in backticks: `%s`)", name, name);
        } else {
            n = column_node(p, name, pos);
        }
        free(name);
        return n;
    }
    if (tok_is(p, "(")) {
        next_token(p);
        int inner = parse_or(p);
        if (inner < 0) return -1;
        if (!tok_is(p, ")")) {
            char got[64];
            tok_describe(p, got, sizeof got);
            return perr(p, tok_pos(p), "expected ')' to close the '(' at column %d, got %s", pos, got);
        }
        next_token(p);
        return inner;
    }
    if (t.kind == T_BAD) {
        if (p->s[t.start] == '`') return perr(p, pos, "unterminated or empty `quoted` column name");
        if (isdigit((unsigned char)p->s[t.start]) || p->s[t.start] == '.')
            return perr(p, pos, "malformed number '%.*s'", (int)(t.len > 40 ? 40 : t.len), p->s + t.start);
        return perr(p, pos, "unexpected character '%c'", p->s[t.start]);
    }
    char got[64];
    tok_describe(p, got, sizeof got);
    return perr(p, pos, "expected a number or column name, got %s", got);
}

static int enter(parser *p)
{
    if (++p->depth > CUT_MAX_DEPTH) return perr(p, tok_pos(p), "expression nested too deeply");
    return 0;
}

static int parse_unary(parser *p)
{
    if (tok_is(p, "-") || tok_is(p, "+")) {
        int pos = tok_pos(p), neg = tok_is(p, "-");
        next_token(p);
        if (enter(p) < 0) return -1;
        int a = parse_unary(p);
        p->depth--;
        if (a < 0) return -1;
        cut_node *lit = node_at(p, a);
        if (neg && lit->op == OP_NUM && lit->type == TY_NUM) { /* fold, so -5 stays an exact integer */
            lit->num = -lit->num;
            lit->is_int = lit->is_int && lit->inum != INT64_MIN;
            lit->inum = lit->is_int ? -lit->inum : 0;
            return a;
        }
        return neg ? add_node(p, OP_NEG, TY_NUM, pos, a, -1) : a;
    }
    return parse_primary(p);
}

static int parse_binary_level(parser *p, int (*sub)(parser *), const char *o1, cut_op op1, const char *o2,
                              cut_op op2)
{
    int a = sub(p);
    while (a >= 0 && (tok_is(p, o1) || tok_is(p, o2))) {
        cut_op op = tok_is(p, o1) ? op1 : op2;
        int pos = tok_pos(p);
        next_token(p);
        int b = sub(p);
        if (b < 0) return -1;
        a = add_node(p, op, TY_NUM, pos, a, b);
    }
    return a;
}

static int parse_term(parser *p) { return parse_binary_level(p, parse_unary, "*", OP_MUL, "/", OP_DIV); }
static int parse_sum(parser *p) { return parse_binary_level(p, parse_term, "+", OP_ADD, "-", OP_SUB); }

static int cmp_op(const parser *p, cut_op *op)
{
    static const struct { const char *text; cut_op op; } ops[] = {
        {"<", OP_LT}, {"<=", OP_LE}, {">", OP_GT}, {">=", OP_GE}, {"==", OP_EQ}, {"!=", OP_NE}, {NULL, 0}};
    for (int i = 0; ops[i].text; i++)
        if (tok_is(p, ops[i].text)) {
            *op = ops[i].op;
            return 1;
        }
    return 0;
}

static int is_int_leaf(const cut_node *nd)
{
    return (nd->op == OP_COL && nd->col->type == PZ_I64) || (nd->op == OP_NUM && nd->type == TY_NUM && nd->is_int);
}

/* Doubles hold integers exactly only up to 2^53, and survey object IDs go beyond (HSC's are
 * ~4e17): `object_id != 43158176442374224` must not also drop ...225. A comparison whose sides
 * are both int64 columns or integer literals, one at least a column, is done in int64. */
static void mark_exact(parser *p, int c)
{
    cut_node *nd = node_at(p, c), *a = node_at(p, nd->a), *b = node_at(p, nd->b);
    nd->exact = is_int_leaf(a) && is_int_leaf(b) && (a->op == OP_COL || b->op == OP_COL);
}

/* Chained comparisons read as in Python and in mathematics: 0 < z <= 4 is (0 < z) && (z <= 4). */
static int parse_cmp(parser *p)
{
    int left = parse_sum(p);
    int result = -1;
    cut_op op;
    while (left >= 0 && cmp_op(p, &op)) {
        int pos = tok_pos(p);
        next_token(p);
        int right = parse_sum(p);
        if (right < 0) return -1;
        int c = add_node(p, op, TY_COND, pos, left, right);
        if (c >= 0) mark_exact(p, c);
        result = result < 0 ? c : add_node(p, OP_AND, TY_COND, pos, result, c);
        left = right;
    }
    if (left >= 0 && tok_is(p, "="))
        return perr(p, tok_pos(p), "'=' is not a comparison; write '==' for equality");
    return result >= 0 ? result : left;
}

static int need_cond(parser *p, int n, const char *op)
{
    if (n < 0) return -1;
    if (node_at(p, n)->type != TY_COND)
        return perr(p, node_at(p, n)->pos, "'%s' needs a condition here (a comparison, isfinite(), ...), "
                                           "not a number", op);
    return n;
}

static int parse_not(parser *p)
{
    if (tok_is(p, "!") || tok_is(p, "not")) {
        int pos = tok_pos(p);
        char opname[4];
        snprintf(opname, sizeof opname, "%.*s", (int)p->cur.len, p->s + p->cur.start);
        next_token(p);
        if (enter(p) < 0) return -1;
        int a = need_cond(p, parse_not(p), opname);
        p->depth--;
        if (a < 0) return -1;
        return add_node(p, OP_NOT, TY_COND, pos, a, -1);
    }
    return parse_cmp(p);
}

static int parse_logic(parser *p, int (*sub)(parser *), const char *sym, const char *word, cut_op op)
{
    int a = sub(p);
    while (a >= 0 && (tok_is(p, sym) || tok_is(p, word))) {
        int pos = tok_pos(p);
        const char *shown = tok_is(p, sym) ? sym : word;
        if (need_cond(p, a, shown) < 0) return -1;
        next_token(p);
        int b = need_cond(p, sub(p), shown);
        if (b < 0) return -1;
        a = add_node(p, op, TY_COND, pos, a, b);
    }
    return a;
}

static int parse_and(parser *p) { return parse_logic(p, parse_not, "&&", "and", OP_AND); }

static int parse_or(parser *p)
{
    if (enter(p) < 0) return -1;
    int r = parse_logic(p, parse_and, "||", "or", OP_OR);
    p->depth--;
    return r;
}

pz_cut *pz_cut_compile(const char *expr, const pz_table *t, pz_err *err)
{
    pz_cut *cut = pz_xcalloc(1, sizeof *cut);
    cut->nrows = t->nrows;
    parser p = {.s = expr, .cut = cut, .t = t, .err = err};
    next_token(&p);
    if (p.cur.kind == T_END) {
        perr(&p, 1, "empty cut");
    } else {
        int root = parse_or(&p);
        if (root >= 0 && p.cur.kind != T_END) {
            char got[64];
            tok_describe(&p, got, sizeof got);
            perr(&p, tok_pos(&p), "unexpected %s after a complete expression (missing '&&'?)", got);
        } else if (root >= 0 && cut->nodes[root].type != TY_COND) {
            perr(&p, 1, "a cut must be a condition (a comparison, isfinite(), ...), this is a number");
        }
        cut->root = root;
    }
    if (p.failed) {
        pz_cut_free(cut);
        return NULL;
    }
    return cut;
}

void pz_cut_free(pz_cut *cut)
{
    if (!cut) return;
    free(cut->nodes);
    free(cut);
}

/* ---- evaluation ---- */

static void load_column(const pz_column *c, size_t start, size_t n, double *out)
{
    switch (c->type) {
    case PZ_F64: memcpy(out, (const double *)c->data + start, n * sizeof *out); break;
    case PZ_F32: for (size_t i = 0; i < n; i++) out[i] = ((const float *)c->data)[start + i]; break;
    case PZ_I64: for (size_t i = 0; i < n; i++) out[i] = (double)((const int64_t *)c->data)[start + i]; break;
    case PZ_I32: for (size_t i = 0; i < n; i++) out[i] = ((const int32_t *)c->data)[start + i]; break;
    case PZ_I16: for (size_t i = 0; i < n; i++) out[i] = ((const int16_t *)c->data)[start + i]; break;
    case PZ_U8:
    case PZ_BOOL: for (size_t i = 0; i < n; i++) out[i] = ((const uint8_t *)c->data)[start + i]; break;
    case PZ_STR: for (size_t i = 0; i < n; i++) out[i] = NAN; break; /* rejected at compile time */
    }
    if (c->null)
        for (size_t i = 0; i < n; i++)
            if (c->null[start + i]) out[i] = NAN;
    if (c->type == PZ_BOOL) /* a missing flag is not a passing flag */
        for (size_t i = 0; i < n; i++) out[i] = out[i] == out[i] && out[i] != 0;
}

/* Comparisons are written so that NaN gives 0 for every operator, != included. */
#define CMP_LOOP(expr) for (size_t i = 0; i < n; i++) { double x = A[i], y = B[i]; out[i] = (expr); }

/* An int64 leaf's value at a row; *missing when it is null. */
static int64_t leaf_i64(const cut_node *nd, size_t row, int *missing)
{
    if (nd->op == OP_NUM) return nd->inum;
    *missing = nd->col->null && nd->col->null[row];
    return ((const int64_t *)nd->col->data)[row];
}

static void eval_exact(const pz_cut *cut, const cut_node *nd, size_t start, size_t n, double *out)
{
    const cut_node *a = &cut->nodes[nd->a], *b = &cut->nodes[nd->b];
    for (size_t i = 0; i < n; i++) {
        int missing_a = 0, missing_b = 0;
        int64_t x = leaf_i64(a, start + i, &missing_a), y = leaf_i64(b, start + i, &missing_b);
        int r = 0;
        switch (nd->op) {
        case OP_LT: r = x < y; break;
        case OP_LE: r = x <= y; break;
        case OP_GT: r = x > y; break;
        case OP_GE: r = x >= y; break;
        case OP_EQ: r = x == y; break;
        default: r = x != y; break;
        }
        out[i] = !missing_a && !missing_b && r; /* missing compares false, as NaN does below */
    }
}

static void eval_node(const pz_cut *cut, int k, size_t start, size_t n, double *bufs)
{
    const cut_node *nd = &cut->nodes[k];
    double *out = bufs + (size_t)k * CUT_BLOCK;
    if (nd->exact) {
        eval_exact(cut, nd, start, n, out);
        return;
    }
    if (nd->a >= 0) eval_node(cut, nd->a, start, n, bufs);
    if (nd->b >= 0) eval_node(cut, nd->b, start, n, bufs);
    const double *A = nd->a >= 0 ? bufs + (size_t)nd->a * CUT_BLOCK : NULL;
    const double *B = nd->b >= 0 ? bufs + (size_t)nd->b * CUT_BLOCK : NULL;
    switch (nd->op) {
    case OP_NUM: for (size_t i = 0; i < n; i++) out[i] = nd->num; break;
    case OP_COL: load_column(nd->col, start, n, out); break;
    case OP_NEG: for (size_t i = 0; i < n; i++) out[i] = -A[i]; break;
    case OP_ADD: for (size_t i = 0; i < n; i++) out[i] = A[i] + B[i]; break;
    case OP_SUB: for (size_t i = 0; i < n; i++) out[i] = A[i] - B[i]; break;
    case OP_MUL: for (size_t i = 0; i < n; i++) out[i] = A[i] * B[i]; break;
    case OP_DIV: for (size_t i = 0; i < n; i++) out[i] = A[i] / B[i]; break;
    case OP_ABS: for (size_t i = 0; i < n; i++) out[i] = fabs(A[i]); break;
    case OP_SQRT: for (size_t i = 0; i < n; i++) out[i] = sqrt(A[i]); break;
    case OP_LOG10: for (size_t i = 0; i < n; i++) out[i] = log10(A[i]); break;
    /* min/max propagate NaN (fmin would hide a missing value). */
    case OP_MIN: for (size_t i = 0; i < n; i++) out[i] = A[i] != A[i] || B[i] != B[i] ? NAN : fmin(A[i], B[i]); break;
    case OP_MAX: for (size_t i = 0; i < n; i++) out[i] = A[i] != A[i] || B[i] != B[i] ? NAN : fmax(A[i], B[i]); break;
    case OP_LT: CMP_LOOP(x < y) break;
    case OP_LE: CMP_LOOP(x <= y) break;
    case OP_GT: CMP_LOOP(x > y) break;
    case OP_GE: CMP_LOOP(x >= y) break;
    case OP_EQ: CMP_LOOP(x == y) break;
    case OP_NE: CMP_LOOP(x < y || x > y) break;
    case OP_AND: for (size_t i = 0; i < n; i++) out[i] = A[i] != 0 && B[i] != 0; break;
    case OP_OR: for (size_t i = 0; i < n; i++) out[i] = A[i] != 0 || B[i] != 0; break;
    case OP_NOT: for (size_t i = 0; i < n; i++) out[i] = A[i] == 0; break;
    case OP_ISFINITE: for (size_t i = 0; i < n; i++) out[i] = isfinite(A[i]) != 0; break;
    case OP_ISNAN: for (size_t i = 0; i < n; i++) out[i] = isnan(A[i]) != 0; break;
    }
}

void pz_cut_eval(const pz_cut *cut, const pz_table *t, uint8_t *pass)
{
    double *bufs = pz_xmalloc(cut->n * CUT_BLOCK * sizeof *bufs);
    const double *root = bufs + (size_t)cut->root * CUT_BLOCK;
    for (size_t start = 0; start < t->nrows; start += CUT_BLOCK) {
        size_t n = t->nrows - start < CUT_BLOCK ? t->nrows - start : CUT_BLOCK;
        eval_node(cut, cut->root, start, n, bufs);
        /* Condition nodes hold exactly 0 or 1, never NaN (see the comparison loops). */
        for (size_t i = 0; i < n; i++) pass[start + i] = root[i] != 0;
    }
    free(bufs);
}

/* ---- cut-flow ---- */

static void flow_init(pz_cutflow *flow, const char *const *cuts, size_t ncuts, size_t nrows)
{
    flow->ncuts = ncuts;
    flow->nrows = nrows;
    flow->cuts = pz_xcalloc(ncuts ? ncuts : 1, sizeof *flow->cuts);
    flow->left = pz_xcalloc(ncuts ? ncuts : 1, sizeof *flow->left);
    for (size_t k = 0; k < ncuts; k++) flow->cuts[k] = pz_xstrdup(cuts[k]);
}

int pz_cuts_apply(const pz_table *t, const char *const *cuts, size_t ncuts, uint8_t *keep, pz_cutflow *flow,
                  pz_err *err)
{
    pz_cut **compiled = pz_xcalloc(ncuts ? ncuts : 1, sizeof *compiled);
    int rc = 0;
    /* Compile everything first: a typo in the last cut should fail before any work is done. */
    for (size_t k = 0; k < ncuts && rc == 0; k++) {
        compiled[k] = pz_cut_compile(cuts[k], t, err);
        /* a long cut is shortened here: the whole line must fit the message with its reason */
        if (!compiled[k])
            rc = pz_err_prefix(err, "cut %zu '%.80s%s': ", k + 1, cuts[k], strlen(cuts[k]) > 80 ? "..." : "");
    }
    if (flow) memset(flow, 0, sizeof *flow);
    if (rc == 0) {
        if (flow) flow_init(flow, cuts, ncuts, t->nrows);
        uint8_t *pass = pz_xmalloc(t->nrows ? t->nrows : 1);
        memset(keep, 1, t->nrows);
        size_t left = t->nrows;
        for (size_t k = 0; k < ncuts; k++) {
            pz_cut_eval(compiled[k], t, pass);
            left = 0;
            for (size_t r = 0; r < t->nrows; r++) left += (keep[r] &= pass[r]);
            if (flow) flow->left[k] = left;
        }
        free(pass);
    }
    for (size_t k = 0; k < ncuts; k++) pz_cut_free(compiled[k]);
    free(compiled);
    return rc;
}

void pz_cutflow_free(pz_cutflow *flow)
{
    if (!flow || !flow->cuts) return;
    for (size_t k = 0; k < flow->ncuts; k++) free(flow->cuts[k]);
    free(flow->cuts);
    free(flow->left);
    memset(flow, 0, sizeof *flow);
}

char *pz_cutflow_markdown(const pz_cutflow *flow)
{
    pz_sbuf b = {0};
    pz_sb_printf(&b, "| # | cut | rows left | removed | kept %% |\n|---|---|---:|---:|---:|\n");
    pz_sb_printf(&b, "| 0 | (input) | %zu | | 100.00 |\n", flow->nrows);
    size_t before = flow->nrows;
    for (size_t k = 0; k < flow->ncuts; k++) {
        double pct = flow->nrows ? 100.0 * (double)flow->left[k] / (double)flow->nrows : 0.0;
        pz_sb_printf(&b, "| %zu | `", k + 1);
        for (const char *c = flow->cuts[k]; *c; c++) /* keep the table one line per cut */
            pz_sb_printf(&b, "%s", *c == '|' ? "\\|" : (unsigned char)*c < 32 ? " " : (char[]){*c, 0});
        pz_sb_printf(&b, "` | %zu | %zu | %.2f |\n", flow->left[k], before - flow->left[k], pct);
        before = flow->left[k];
    }
    return b.p;
}

pz_table *pz_quality_cuts(const pz_table *t, const char *const *cuts, size_t ncuts, pz_cutflow *flow,
                          pz_err *err)
{
    uint8_t *keep = pz_xmalloc(t->nrows ? t->nrows : 1);
    pz_cutflow local = {0};
    pz_cutflow *f = flow ? flow : &local;
    pz_table *out = NULL;
    if (pz_cuts_apply(t, cuts, ncuts, keep, f, err) == 0) {
        size_t n = 0;
        size_t *rows = pz_xmalloc((t->nrows ? t->nrows : 1) * sizeof *rows);
        for (size_t r = 0; r < t->nrows; r++)
            if (keep[r]) rows[n++] = r;
        if (n == 0) {
            size_t k = 0;
            while (k < ncuts && f->left[k] > 0) k++;
            if (t->nrows == 0 || ncuts == 0 || k == ncuts) /* an empty input, not an over-tight cut */
                pz_errf(err, "the input table has no rows (nothing to cut)");
            else
                pz_errf(err, "no rows left after cut %zu '%s' (%zu rows before it)", k + 1, cuts[k],
                        k ? f->left[k - 1] : f->nrows);
        } else {
            out = pz_table_take(t, rows, n);
        }
        free(rows);
    }
    free(keep);
    pz_cutflow_free(&local);
    return out;
}
