/* Dataset schemas: load schemas/<name>.yaml, expand its templates, and read catalogues through it. */
#include "table/schema.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "table/places.h"
#include "table/schema_builtin.h"
#include "util/suggest.h"
#include "util/ytree.h"

static void free_col(pz_schema_col *c);

static int parse_type(const char *s, pz_coltype *out)
{
    static const struct { const char *name; pz_coltype type; } types[] = {
        {"f64", PZ_F64}, {"f32", PZ_F32}, {"i64", PZ_I64}, {"i32", PZ_I32}, {"i16", PZ_I16},
        {"u8", PZ_U8},   {"bool", PZ_BOOL}, {"str", PZ_STR}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(s, types[i].name) == 0) return *out = types[i].type, 0;
    return -1;
}

static int is_path(const char *name_or_path)
{
    size_t n = strlen(name_or_path);
    return strchr(name_or_path, '/') || (n > 5 && strcmp(name_or_path + n - 5, ".yaml") == 0);
}

static const pz_builtin_schema *find_builtin(const char *name)
{
    for (const pz_builtin_schema *b = pz_builtin_schemas; b->name; b++)
        if (!strcmp(b->name, name)) return b;
    return NULL;
}

char *pz_schema_resolve(const char *name_or_path)
{
    if (is_path(name_or_path)) return pz_xstrdup(name_or_path);
    return pz_xasprintf("schemas/%s.yaml", name_or_path);
}

/* The schema's YAML tree: a file for a path, the compiled-in text for a built-in name. */
static pz_ynode *load_schema_tree(const char *name_or_path, const char *shown_path, pz_err *err)
{
    if (is_path(name_or_path)) return pz_yaml_load_file(name_or_path, err);
    const pz_builtin_schema *b = find_builtin(name_or_path);
    if (b) return pz_yaml_load_string(b->text, b->len, shown_path, err);
    char have[512] = "";
    for (b = pz_builtin_schemas; b->name; b++)
        snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", have[0] ? ", " : "", b->name);
    pz_errf(err, "no built-in schema of that name (built in: %s; or give a path to a .yaml file)", have);
    return NULL;
}

void pz_schema_free(pz_schema *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->ncols; i++) free_col(&s->cols[i]);
    free(s->cols);
    free(s->at);
    free(s->id);
    free(s->path);
    free(s->format);
    free(s->variant);
    free(s);
}

const pz_schema_col *pz_schema_find(const pz_schema *s, const char *canonical)
{
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].canonical, canonical) == 0) return &s->cols[i];
    return NULL;
}

/* --- templates ---------------------------------------------------------------------------- */

/* Substitute {band} and the variant's {vars} in `tmpl`. Returns NULL (and *undefined = 1) when
 * it uses a variable the chosen variant does not define: that column does not exist for it. */
static char *expand(const char *tmpl, const char *band, const pz_ynode *vars, int *undefined, const char **bad)
{
    size_t cap = strlen(tmpl) + 64, len = 0;
    char *out = pz_xmalloc(cap);
    for (const char *p = tmpl; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            out[len++] = *p++;
        } else {
            char var[64];
            size_t vn = (size_t)(close - p - 1);
            snprintf(var, sizeof var, "%.*s", (int)(vn < sizeof var ? vn : sizeof var - 1), p + 1);
            const char *val = NULL;
            if (strcmp(var, "b") == 0) val = band;
            else if (vars && pz_ymap_get(vars, var) && pz_ymap_get(vars, var)->kind == PZ_Y_SCALAR)
                val = pz_ymap_get(vars, var)->str;
            if (!val) {
                *undefined = 1;
                *bad = strcmp(var, "b") == 0 ? "{b} (the schema has no bands)" : NULL;
                free(out);
                return NULL;
            }
            size_t need = len + strlen(val) + strlen(close) + 1;
            if (need > cap) out = pz_xrealloc(out, cap = need * 2);
            memcpy(out + len, val, strlen(val));
            len += strlen(val);
            p = close + 1;
        }
        if (len + 2 > cap) out = pz_xrealloc(out, cap *= 2);
    }
    out[len] = 0;
    return out;
}

static void free_col(pz_schema_col *c)
{
    free(c->name);
    free(c->canonical);
    free(c->unit);
}

/* Append a column, or with `replace` put it in place of the same canonical name. */
static void add_col(pz_schema *s, const pz_schema_col *c, int replace)
{
    for (size_t i = 0; replace && i < s->ncols; i++)
        if (!strcmp(s->cols[i].canonical, c->canonical)) {
            free_col(&s->cols[i]);
            s->cols[i] = *c;
            return;
        }
    s->cols = pz_xrealloc(s->cols, (s->ncols + 1) * sizeof *s->cols);
    s->cols[s->ncols++] = *c;
}

/* Where a column entry is, for messages: "schemas/x.yaml:12:5" in a schema file; just
 * "param 'columns'" for a stage's params (the line of the engine's spec.json means nothing to
 * the user, who wrote the pipeline). */
static const char *pos(char *buf, const char *src, const pz_ynode *node)
{
    if (!strncmp(src, "param ", 6)) return src;
    snprintf(buf, 256, "%s:%d:%d", src, node->line, node->col);
    return buf;
}

/* `null:` nan | mask | tnull | none | a number | a list of numbers (sentinels). */
static int parse_null(const pz_ynode *null, const char *src, pz_schema_col *c, pz_err *err)
{
    char posbuf[256];
    if (null->kind == PZ_Y_SCALAR) {
        if (!strcmp(null->str, "nan")) return c->null = PZ_NULL_NAN, 0;
        if (!strcmp(null->str, "mask") || !strcmp(null->str, "tnull")) return c->null = PZ_NULL_MASK, 0;
        if (!strcmp(null->str, "none")) return c->null = PZ_NULL_NONE, 0;
        if (pz_yscalar_double(null, src, &c->null_values[0], err) == 0) return c->null = PZ_NULL_VALUE, c->nnull = 1, 0;
    } else if (null->kind == PZ_Y_SEQ && null->n >= 1 && null->n <= PZ_NULL_MAX) {
        for (size_t i = 0; i < null->n; i++)
            if (null->items[i]->kind != PZ_Y_SCALAR ||
                pz_yscalar_double(null->items[i], src, &c->null_values[i], err) < 0)
                return pz_errf(err, "%s: null: [...] must list numbers (the values that mean missing)", pos(posbuf, src, null->items[i]));
        c->null = PZ_NULL_VALUE, c->nnull = null->n;
        return 0;
    }
    return pz_errf(err, "%s: null must be nan, mask, none, a number or a list of up to %d numbers, got %s",
                   pos(posbuf, src, null), PZ_NULL_MAX, null->kind == PZ_Y_SCALAR ? null->str : "that");
}

/* One column's keys, from a list entry {canonical: .., name: ..} or a map entry canonical: name|{..}. */
typedef struct {
    const pz_ynode *canon, *name, *type, *unit, *null, *req, *at;
} col_keys;

static int read_col_keys(const pz_ynode *key, const pz_ynode *node, const char *src, col_keys *k, pz_err *err)
{
    char posbuf[256];
    static const char *const keys[] = {"canonical", "name", "type", "unit", "null", "required", "doc", NULL};
    memset(k, 0, sizeof *k);
    k->at = node;
    if (key && node->kind == PZ_Y_SCALAR) return k->canon = key, k->name = node, 0;
    if (node->kind != PZ_Y_MAP)
        return pz_errf(err, "%s: a column must be a map%s", pos(posbuf, src, node),
                       key ? " or the file's column name" : "");
    for (size_t i = 0; i < node->n; i++) {
        size_t j = 0;
        while (keys[j] && strcmp(keys[j], node->keys[i]->str)) j++;
        if (!keys[j] || (key && j == 0))
            return pz_errf(err, "%s: unknown column key '%s' (expected %sname, type, unit, null, required, doc)",
                           pos(posbuf, src, node->keys[i]), node->keys[i]->str, key ? "" : "canonical, ");
    }
    k->canon = key ? key : pz_ymap_get(node, "canonical");
    k->name = pz_ymap_get(node, "name"), k->type = pz_ymap_get(node, "type"), k->unit = pz_ymap_get(node, "unit");
    k->null = pz_ymap_get(node, "null"), k->req = pz_ymap_get(node, "required");
    if (!k->name) k->name = k->canon; /* the file's name is the canonical name */
    if (!k->canon || k->canon->kind || k->name->kind || (k->type && k->type->kind))
        return pz_errf(err, "%s: a column needs a scalar canonical name (and name, type when given)", pos(posbuf, src, node));
    return 0;
}

/* A mapping that renames a schema's column keeps what it does not say: type, unit, nulls. */
static void inherit(pz_schema_col *e, const col_keys *k, const pz_schema_col *old)
{
    if (!old) return;
    if (!k->type) e->type = old->type, e->file_type = old->file_type;
    if (!k->unit && old->unit) e->unit = pz_xstrdup(old->unit);
    if (!k->null) {
        e->null = old->null, e->nnull = old->nnull;
        memcpy(e->null_values, old->null_values, sizeof e->null_values);
    }
    if (!k->req) e->required = old->required;
}

/* One column entry, possibly a template over bands. */
static int load_column(pz_schema *s, const pz_ynode *key, const pz_ynode *node, const pz_ynode *bands,
                       const pz_ynode *vars, const char *src, int replace, pz_err *err)
{
    char posbuf[256];
    col_keys k;
    if (read_col_keys(key, node, src, &k, err) < 0) return -1;
    pz_schema_col c = {0};
    c.file_type = !k.type;
    if (k.type && parse_type(k.type->str, &c.type) < 0)
        return pz_errf(err, "%s: unknown type '%s' (f64, f32, i64, i32, i16, u8, bool, str)", pos(posbuf, src, k.type), k.type->str);
    c.required = 1;
    if (k.req && pz_yscalar_bool(k.req, src, &c.required, err) < 0) return -1;
    c.null = c.type == PZ_F64 || c.type == PZ_F32 || c.file_type ? PZ_NULL_NAN : PZ_NULL_NONE;
    if (k.null && parse_null(k.null, src, &c, err) < 0) return -1;
    const pz_ynode *name = k.name, *canon = k.canon, *unit = k.unit;
    size_t nb = bands ? bands->n : 0;
    int templated = strstr(name->str, "{b}") || strstr(canon->str, "{b}");
    for (size_t b = 0; b < (templated ? nb : 1); b++) {
        const char *band = templated ? bands->items[b]->str : NULL;
        int undef_n = 0, undef_c = 0;
        const char *bad = NULL;
        char *n = expand(name->str, band, vars, &undef_n, &bad);
        char *cn = expand(canon->str, band, vars, &undef_c, &bad);
        if (undef_n || undef_c) {
            free(n);
            free(cn);
            if (bad || !vars)
                return pz_errf(err, "%s: '%s' uses %s", pos(posbuf, src, name), name->str,
                               bad ? bad : "a {variable} but the schema has no variants");
            continue; /* not part of this variant */
        }
        pz_schema_col e = c;
        e.name = n, e.canonical = cn, e.line = k.at->line;
        e.unit = unit && unit->kind == PZ_Y_SCALAR && unit->str[0] ? pz_xstrdup(unit->str) : NULL;
        if (replace) inherit(&e, &k, pz_schema_find(s, cn));
        add_col(s, &e, replace);
    }
    if (templated && nb == 0)
        return pz_errf(err, "%s: '%s' uses {b} but %s", pos(posbuf, src, name), name->str,
                       strncmp(src, "param ", 6) ? "the schema has no bands" : "no bands are given (param 'bands')");
    return 0;
}

pz_schema *pz_schema_new(const char *id)
{
    pz_schema *s = pz_xcalloc(1, sizeof *s);
    s->id = pz_xstrdup(id);
    s->path = NULL; /* no file: messages say "inline mapping" */
    s->format = pz_xstrdup("any");
    s->hdu = 1;
    return s;
}

static int check_bands(const pz_ynode *bands, const char *src, pz_err *err)
{
    if (!bands) return 0;
    if (bands->kind != PZ_Y_SEQ) return pz_errf(err, "%s:%d:%d: bands must be a list", src, bands->line, bands->col);
    for (size_t i = 0; i < bands->n; i++)
        if (bands->items[i]->kind != PZ_Y_SCALAR)
            return pz_errf(err, "%s:%d:%d: a band must be a name", src, bands->items[i]->line, bands->items[i]->col);
    return 0;
}

int pz_schema_add_columns(pz_schema *s, const pz_ynode *columns, const pz_ynode *bands, const char *src, pz_err *err)
{
    if (check_bands(bands, src, err) < 0) return -1;
    if (columns->kind == PZ_Y_SCALAR)
        return pz_errf(err, "%s:%d:%d: columns must be a map (canonical: file column) or a list of column maps", src,
                       columns->line, columns->col);
    for (size_t i = 0; i < columns->n; i++)
        if (load_column(s, columns->kind == PZ_Y_MAP ? columns->keys[i] : NULL, columns->items[i], bands, NULL, src, 1,
                        err) < 0)
            return -1;
    return 0;
}

static const char *scalar(const pz_ynode *map, const char *key)
{
    const pz_ynode *n = pz_ymap_get(map, key);
    return n && n->kind == PZ_Y_SCALAR ? n->str : NULL;
}

static int check_top_keys(const pz_ynode *root, const char *src, pz_err *err)
{
    static const char *const keys[] = {"schema", "title", "doc", "format", "hdu", "at", "bands", "variants",
                                       "default_variant", "columns", NULL};
    for (size_t i = 0; i < root->n; i++) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], root->keys[i]->str)) k++;
        if (!keys[k])
            return pz_errf(err, "%s:%d:%d: unknown schema key '%s'", src, root->keys[i]->line, root->keys[i]->col,
                           root->keys[i]->str);
    }
    return 0;
}

/* The variant's variable map, or NULL when the schema has no variants. */
static int pick_variant(pz_schema *s, const pz_ynode *root, const char *variant, const pz_ynode **vars, pz_err *err)
{
    const pz_ynode *variants = pz_ymap_get(root, "variants");
    *vars = NULL;
    if (!variants) {
        if (variant) return pz_errf(err, "%s: schema '%s' has no variants, cannot select '%s'", s->path, s->id, variant);
        return 0;
    }
    if (variants->kind != PZ_Y_MAP)
        return pz_errf(err, "%s:%d:%d: variants must be a map", s->path, variants->line, variants->col);
    const char *pick = variant ? variant : scalar(root, "default_variant");
    if (!pick) return pz_errf(err, "%s: no variant chosen and no default_variant", s->path);
    *vars = pz_ymap_get(variants, pick);
    if (!*vars) {
        char have[256] = "";
        for (size_t i = 0, len = 0; i < variants->n && len < sizeof have; i++)
            len += snprintf(have + len, sizeof have - len, "%s%s", i ? ", " : "", variants->keys[i]->str);
        return pz_errf(err, "%s: schema '%s' has no variant '%s' (have: %s)", s->path, s->id, pick, have);
    }
    if ((*vars)->kind != PZ_Y_MAP)
        return pz_errf(err, "%s:%d:%d: variant '%s' must be a map of variables", s->path, (*vars)->line, (*vars)->col, pick);
    s->variant = pz_xstrdup(pick);
    return 0;
}

static int load_tree(pz_schema *s, const pz_ynode *root, const char *variant, pz_err *err)
{
    if (root->kind != PZ_Y_MAP) return pz_errf(err, "%s: a schema must be a map", s->path);
    if (check_top_keys(root, s->path, err) < 0) return -1;
    const char *id = scalar(root, "schema"), *format = scalar(root, "format");
    if (!id) return pz_errf(err, "%s: missing 'schema:' (the schema's name)", s->path);
    s->id = pz_xstrdup(id);
    s->format = pz_xstrdup(format ? format : "any");
    s->hdu = 1;
    const pz_ynode *hdu = pz_ymap_get(root, "hdu");
    long h;
    if (hdu) {
        if (pz_yscalar_long(hdu, s->path, &h, err) < 0) return -1;
        s->hdu = (int)h;
    }
    const char *at = scalar(root, "at");
    if (at) s->at = pz_xstrdup(at);
    const pz_ynode *bands = pz_ymap_get(root, "bands"), *vars;
    if (check_bands(bands, s->path, err) < 0) return -1;
    if (pick_variant(s, root, variant, &vars, err) < 0) return -1;
    const pz_ynode *cols = pz_ymap_get(root, "columns");
    if (!cols || cols->kind != PZ_Y_SEQ) return pz_errf(err, "%s: missing 'columns:' list", s->path);
    for (size_t i = 0; i < cols->n; i++)
        if (load_column(s, NULL, cols->items[i], bands, vars, s->path, 0, err) < 0) return -1;
    for (size_t i = 0; i < s->ncols; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->cols[i].canonical, s->cols[j].canonical))
                return pz_errf(err, "%s:%d: canonical name '%s' used twice (also line %d)", s->path, s->cols[i].line,
                               s->cols[i].canonical, s->cols[j].line);
    return 0;
}

pz_schema *pz_schema_load(const char *name_or_path, const char *variant, pz_err *err)
{
    pz_schema *s = pz_xcalloc(1, sizeof *s);
    s->path = pz_schema_resolve(name_or_path);
    pz_ynode *root = load_schema_tree(name_or_path, s->path, err);
    if (!root || load_tree(s, root, variant, err) < 0) {
        if (!root && !strchr(name_or_path, '/'))
            pz_err_prefix(err, "schema '%s': ", name_or_path);
        pz_ynode_free(root);
        pz_schema_free(s);
        return NULL;
    }
    pz_ynode_free(root);
    return s;
}

int pz_schema_map(pz_schema *s, const char *canonical, const char *file_name, pz_err *err)
{
    if (!file_name[0]) return pz_errf(err, "mapping for '%s': empty column name", canonical);
    for (size_t i = 0; i < s->ncols; i++) {
        if (strcmp(s->cols[i].canonical, canonical) == 0) {
            free(s->cols[i].name);
            s->cols[i].name = pz_xstrdup(file_name);
            s->cols[i].required = 1;
            return 0;
        }
    }
    pz_schema_col c = {.name = pz_xstrdup(file_name), .canonical = pz_xstrdup(canonical), .type = PZ_F64,
                       .null = PZ_NULL_NAN, .required = 1};
    add_col(s, &c, 0);
    return 0;
}

/* --- reading ------------------------------------------------------------------------------ */

static int is_float(pz_coltype t) { return t == PZ_F64 || t == PZ_F32; }

/* Can a file column of type `have` become a schema column of type `want` without losing its
 * meaning? Numbers widen to floats; floats never silently become integers. */
static int compatible(pz_coltype want, pz_coltype have)
{
    if (want == PZ_STR || have == PZ_STR) return want == have;
    if (is_float(want)) return 1;
    return !is_float(have);
}

static const pz_colinfo *find_info(const pz_colinfo *info, size_t n, const char *name)
{
    const pz_colinfo *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(info[i].name, name) == 0) return &info[i];
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(info[i].name, name) == 0) {
            if (found) return NULL; /* ambiguous: the reader would refuse it too */
            found = &info[i];
        }
    return found;
}

static void append(char *buf, size_t cap, size_t *len, const char *fmt, const char *a, const char *b, const char *c)
{
    if (*len >= cap - 1) return;
    int w = snprintf(buf + *len, cap - *len, fmt, a, b, c);
    if (w > 0) *len += (size_t)w;
    if (*len >= cap - 1) strcpy(buf + cap - 4, "...");
}

/* The file's columns no schema column uses: the candidates a missing name may be a typo of
 * (a column another entry claims, like r_mag for a missing g_mag, is not a suggestion). */
static size_t unclaimed(const pz_colinfo *info, size_t ninfo, const pz_colinfo **use, size_t nuse, const char **out)
{
    size_t n = 0;
    for (size_t k = 0; k < ninfo; k++) {
        int taken = 0;
        for (size_t i = 0; i < nuse && !taken; i++) taken = use[i] == &info[k];
        if (!taken) out[n++] = info[k].name;
    }
    return n;
}

/* A missing column, with the unclaimed file column it is most likely a typo of; a candidate is
 * offered once (removed from the pool), and only while few are missing: many missing columns
 * mean the wrong file, schema or place, where the lists below say more than guesses. */
#define SUGGEST_MAX_MISSING 5
static void append_missing(char *buf, size_t cap, size_t *len, const char *name, const char **pool, size_t *npool,
                           int suggest)
{
    const char *near = suggest ? pz_closest_name(name, pool, *npool) : NULL;
    append(buf, cap, len, "%s%s%s", *len ? ", " : "", name, "");
    if (!near) return;
    append(buf, cap, len, "%s%s%s", " (did you mean '", near, "'?)");
    for (size_t i = 0; i < *npool; i++)
        if (pool[i] == near) pool[i] = pool[--*npool];
}

/* "schema hsc_pdr2", or "inline mapping" for a schema made from a stage's params alone. */
#define LABEL(s) (s)->path ? "schema " : "inline mapping", (s)->path ? (s)->id : ""

/* Resolve every schema column against the file; one error lists all problems. `use[i]` gets
 * the file's column for schema column i (NULL = optional and absent). Returns the number of
 * missing required columns (their names in *missing_names), or -1 with err set otherwise. */
static int check_columns(const pz_schema *s, const char *where, const pz_colinfo *info, size_t ninfo,
                         const pz_colinfo **use, const char **missing_names, size_t *nmissing, pz_err *err)
{
    char missing[PZ_ERR_MAX / 2] = "", mistyped[PZ_ERR_MAX / 3] = "";
    size_t lm = 0, lt = 0, nm = 0, nt = 0;
    size_t nmiss = 0;
    for (size_t i = 0; i < s->ncols; i++) {
        use[i] = find_info(info, ninfo, s->cols[i].name);
        nmiss += !use[i] && s->cols[i].required;
    }
    const char **free_names = pz_xcalloc(ninfo + 1, sizeof *free_names);
    size_t nfree = unclaimed(info, ninfo, use, s->ncols, free_names);
    for (size_t i = 0; i < s->ncols; i++) {
        const pz_schema_col *c = &s->cols[i];
        if (!use[i]) {
            if (c->required) missing_names[nm++] = c->name, append_missing(missing, sizeof missing, &lm, c->name, free_names, &nfree, nmiss <= SUGGEST_MAX_MISSING);
            continue;
        }
        if (!c->file_type && !compatible(c->type, use[i]->type)) {
            char detail[64];
            snprintf(detail, sizeof detail, " (%s, expected %s)", pz_coltype_name(use[i]->type), pz_coltype_name(c->type));
            nt++, append(mistyped, sizeof mistyped, &lt, "%s%s%s", lt ? ", " : "", c->name, detail);
        }
    }
    free(free_names);
    *nmissing = nm;
    if (!nm && !nt) return 0;
    if (nm && nt)
        return pz_errf(err, "%s (%s%s): missing %zu column%s: %s; mistyped %zu: %s", where, LABEL(s), nm,
                       nm > 1 ? "s" : "", missing, nt, mistyped);
    if (nm) return pz_errf(err, "%s (%s%s): missing %zu column%s: %s", where, LABEL(s), nm, nm > 1 ? "s" : "", missing);
    return pz_errf(err, "%s (%s%s): mistyped %zu column%s: %s", where, LABEL(s), nt, nt > 1 ? "s" : "", mistyped);
}

/* "; the table has: a, b, c, ..." when most of what was asked for is not there (the wrong file
 * or place, where did-you-mean has nothing to offer). */
static void add_have_list(pz_err *err, const pz_colinfo *info, size_t ninfo, size_t nmissing, size_t nrequired)
{
    if (nmissing * 2 < nrequired && nmissing < 4) return;
    char have[PZ_ERR_MAX / 3] = "";
    size_t len = 0;
    for (size_t k = 0; k < ninfo && k < 12; k++) append(have, sizeof have, &len, "%s%s%s", k ? ", " : "", info[k].name, "");
    if (ninfo > 12) append(have, sizeof have, &len, "%s%s%s", ", ... (", "", "");
    char count[32] = "";
    if (ninfo > 12) snprintf(count, sizeof count, "%zu in all)", ninfo);
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, "; %s: %s%s", ninfo ? "it has" : "it has no columns", have, count);
}

/* Whether a place of the file has every one of `names` (case-insensitively, as read). */
static int place_has(const char *path, const char *loc, const char *const *names, size_t n)
{
    pz_source src = {(char *)path, (char *)loc};
    pz_colinfo *info = NULL;
    size_t ninfo = 0;
    long nrows;
    pz_err ignore;
    if (pz_table_info_src(&src, &info, &ninfo, &nrows, &ignore) < 0) return 0;
    size_t found = 0;
    for (size_t i = 0; i < n; i++) found += find_info(info, ninfo, names[i]) != NULL;
    pz_colinfo_free(info, ninfo);
    return found == n;
}

/* Whether place i is the one `loc` names: NULL is HDF5's root or FITS's first table HDU. */
static int is_current(char *const *places, size_t i, const char *loc)
{
    if (loc) return !strcasecmp(places[i], loc);
    return !strcmp(places[i], "/") || (i == 0 && places[0][0] != '/');
}

/* "; the columns are in /photometry: read cat.h5:/photometry" when exactly one other place of
 * the file has every missing column; else the file's other places, if any. */
static void add_place_hint(pz_err *err, const pz_source *src, const char *const *names, size_t n)
{
    char **places = NULL, *hit = NULL;
    size_t nplaces = 0, nhits = 0;
    pz_err ignore;
    if (pz_table_places(src->path, &places, &nplaces, &ignore) < 0) return;
    char others[PZ_ERR_MAX / 4] = "";
    size_t len = 0, nothers = 0;
    for (size_t i = 0; i < nplaces; i++) {
        if (is_current(places, i, src->loc)) continue;
        nothers++;
        append(others, sizeof others, &len, "%s%s%s", len ? ", " : "", places[i], "");
        if (place_has(src->path, places[i], names, n)) nhits++, hit = places[i];
    }
    size_t m = strlen(err->msg);
    if (nhits == 1) {
        pz_source there = {src->path, hit};
        char *shown = pz_source_str(&there);
        snprintf(err->msg + m, sizeof err->msg - m, "; %s in %s of the file: read %s (param at: %s)",
                 n == 1 ? "that column is" : "those columns are", hit, shown, hit);
        free(shown);
    } else if (nothers) {
        snprintf(err->msg + m, sizeof err->msg - m, "; other tables in the file: %s", others);
    }
    pz_places_free(places, nplaces);
}

/* Copy a file column into its canonical column, converting type and null convention. When
 * nothing changes and no other canonical column needs the source, its buffers are moved
 * instead of copied, so ingest holds each column once (memory ~ columns read). */
static void convert(const pz_schema_col *sc, pz_column *src, pz_column *dst, size_t nrows, int last_use)
{
    if (last_use && dst->type == src->type && dst->width == src->width && sc->null != PZ_NULL_VALUE) {
        void *d = dst->data;
        dst->data = src->data, src->data = d;
        free(dst->null);
        dst->null = src->null, src->null = NULL;
        return;
    }
    if (dst->type == PZ_STR) {
        size_t w = src->width < dst->width ? src->width : dst->width;
        for (size_t i = 0; i < nrows; i++) memcpy((char *)dst->data + i * dst->width, (char *)src->data + i * src->width, w);
        return;
    }
    int to_int = !is_float(dst->type);
    if (to_int && (src->null || sc->null == PZ_NULL_VALUE)) dst->null = pz_xcalloc(nrows ? nrows : 1, 1);
    if (dst->type == src->type && sc->null != PZ_NULL_VALUE) {
        memcpy(dst->data, src->data, nrows * dst->width);
        if (src->null) memcpy(dst->null, src->null, nrows);
        return;
    }
    for (size_t i = 0; i < nrows; i++) {
        double v = pz_col_f64(src, i);
        for (size_t k = 0; sc->null == PZ_NULL_VALUE && k < sc->nnull; k++)
            if (v == sc->null_values[k]) v = NAN;
        pz_col_set_f64(dst, i, v);
    }
}

/* File columns not in the schema, numeric, kept under their own names. */
static size_t passthrough_names(const pz_schema *s, const pz_colinfo *info, size_t ninfo, const pz_colinfo **use,
                                const char **names, size_t n)
{
    for (size_t k = 0; k < ninfo; k++) {
        int taken = info[k].type == PZ_STR;
        for (size_t i = 0; i < s->ncols && !taken; i++)
            taken = use[i] == &info[k] || !strcmp(s->cols[i].canonical, info[k].name);
        if (!taken) names[n++] = info[k].name;
    }
    return n;
}

/* The canonical table from the raw columns read. */
static pz_table *assemble(const pz_schema *s, const pz_colinfo **use, pz_table *raw, const char *const *names,
                          size_t nschema, size_t nnames)
{
    pz_table *t = pz_table_new(raw->nrows);
    for (size_t i = 0; i < s->ncols; i++) {
        if (!use[i]) continue;
        pz_column *src = pz_table_col(raw, use[i]->name);
        pz_coltype type = s->cols[i].file_type ? src->type : s->cols[i].type;
        pz_column *dst = pz_table_add(t, s->cols[i].canonical, type, src->width);
        int last_use = 1;
        for (size_t k = i + 1; k < s->ncols; k++) last_use &= use[k] != use[i];
        convert(&s->cols[i], src, dst, raw->nrows, last_use);
        const char *unit = s->cols[i].unit ? s->cols[i].unit : src->unit;
        if (unit) dst->unit = pz_xstrdup(unit);
    }
    for (size_t k = nschema; k < nnames; k++) {
        const pz_column *src = pz_table_col(raw, names[k]);
        pz_column *dst = pz_table_add(t, src->name, src->type, src->width);
        memcpy(dst->data, src->data, raw->nrows * src->width);
        if (src->null) {
            dst->null = pz_xmalloc(raw->nrows ? raw->nrows : 1);
            memcpy(dst->null, src->null, raw->nrows);
        }
        if (src->unit) dst->unit = pz_xstrdup(src->unit);
    }
    for (size_t a = 0; a < raw->nattrs; a++) pz_table_set_attr(t, raw->attr_keys[a], raw->attr_vals[a]);
    return t;
}

int pz_schema_read_src(const pz_schema *s, const pz_source *src, int passthrough, pz_table **out, pz_err *err)
{
    pz_colinfo *info = NULL;
    size_t ninfo = 0, nmissing = 0, nrequired = 0;
    long nrows = 0;
    if (pz_table_info_src(src, &info, &ninfo, &nrows, err) < 0) return -1;
    const pz_colinfo **use = pz_xcalloc(s->ncols + 1, sizeof *use);
    const char **names = pz_xcalloc(s->ncols + ninfo + 1, sizeof *names);
    char *where = pz_source_str(src);
    int rc = check_columns(s, where, info, ninfo, use, names, &nmissing, err);
    if (nmissing) {
        for (size_t i = 0; i < s->ncols; i++) nrequired += s->cols[i].required;
        add_have_list(err, info, ninfo, nmissing, nrequired);
        add_place_hint(err, src, names, nmissing);
    }
    size_t nnames = 0;
    for (size_t i = 0; i < s->ncols; i++) {
        if (!use[i]) continue;
        size_t k = 0;
        while (k < nnames && strcmp(names[k], use[i]->name)) k++;
        if (k == nnames) names[nnames++] = use[i]->name; /* two canonical names may share a column */
    }
    size_t nschema = nnames;
    if (passthrough) nnames = passthrough_names(s, info, ninfo, use, names, nnames);
    pz_table *raw = NULL;
    if (rc == 0) rc = pz_table_read_src(src, names, nnames, 0, (size_t)-1, &raw, err);
    if (rc == 0) *out = assemble(s, use, raw, names, nschema, nnames);
    pz_table_free(raw);
    free(where);
    free(names);
    free(use);
    pz_colinfo_free(info, ninfo);
    return rc;
}

char *pz_schema_place(const pz_schema *s, const char *path)
{
    pz_format fmt;
    pz_err ignore; /* an unreadable file is reported by the read that follows */
    if (s->at) return pz_xstrdup(s->at);
    if (s->hdu != 1 && pz_table_format(path, &fmt, &ignore) == 0 && fmt == PZ_FMT_FITS)
        return pz_xasprintf("%d", s->hdu);
    return NULL;
}

int pz_schema_read(const pz_schema *s, const char *path, int passthrough, pz_table **out, pz_err *err)
{
    pz_source src = {(char *)path, pz_schema_place(s, path)};
    int rc = pz_schema_read_src(s, &src, passthrough, out, err);
    free(src.loc);
    return rc;
}
