/* Dataset schemas: load schemas/<name>.yaml, expand its templates, and read catalogues through it. */
#include "table/schema.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "table/schema_builtin.h"
#include "util/ytree.h"

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
    for (size_t i = 0; i < s->ncols; i++) {
        free(s->cols[i].name);
        free(s->cols[i].canonical);
        free(s->cols[i].unit);
    }
    free(s->cols);
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

static void add_col(pz_schema *s, const pz_schema_col *c)
{
    s->cols = pz_xrealloc(s->cols, (s->ncols + 1) * sizeof *s->cols);
    s->cols[s->ncols++] = *c;
}

/* One `columns:` entry, possibly a template over bands. */
static int load_column(pz_schema *s, const pz_ynode *node, const pz_ynode *bands, const pz_ynode *vars, pz_err *err)
{
    static const char *const keys[] = {"canonical", "name", "type", "unit", "null", "required", "doc", NULL};
    const char *src = s->path;
    if (node->kind != PZ_Y_MAP) return pz_errf(err, "%s:%d:%d: a column must be a map", src, node->line, node->col);
    for (size_t i = 0; i < node->n; i++) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], node->keys[i]->str)) k++;
        if (!keys[k])
            return pz_errf(err, "%s:%d:%d: unknown column key '%s' (expected canonical, name, type, unit, null, required, doc)",
                           src, node->keys[i]->line, node->keys[i]->col, node->keys[i]->str);
    }
    const pz_ynode *canon = pz_ymap_get(node, "canonical"), *name = pz_ymap_get(node, "name");
    const pz_ynode *type = pz_ymap_get(node, "type"), *unit = pz_ymap_get(node, "unit");
    const pz_ynode *null = pz_ymap_get(node, "null"), *req = pz_ymap_get(node, "required");
    if (!canon || !name || !type || canon->kind || name->kind || type->kind)
        return pz_errf(err, "%s:%d:%d: a column needs scalar canonical, name and type", src, node->line, node->col);
    pz_schema_col c = {0};
    if (parse_type(type->str, &c.type) < 0)
        return pz_errf(err, "%s:%d:%d: unknown type '%s' (f64, f32, i64, i32, i16, u8, bool, str)", src, type->line,
                       type->col, type->str);
    c.required = 1;
    if (req && pz_yscalar_bool(req, src, &c.required, err) < 0) return -1;
    c.null = c.type == PZ_F64 || c.type == PZ_F32 ? PZ_NULL_NAN : PZ_NULL_NONE;
    if (null && null->kind == PZ_Y_SCALAR) {
        if (!strcmp(null->str, "nan")) c.null = PZ_NULL_NAN;
        else if (!strcmp(null->str, "mask") || !strcmp(null->str, "tnull")) c.null = PZ_NULL_MASK;
        else if (!strcmp(null->str, "none")) c.null = PZ_NULL_NONE;
        else if (pz_yscalar_double(null, src, &c.null_value, err) == 0) c.null = PZ_NULL_VALUE;
        else return pz_errf(err, "%s:%d:%d: null must be nan, mask, none or a number, got '%s'", src, null->line,
                            null->col, null->str);
    }
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
                return pz_errf(err, "%s:%d:%d: '%s' uses %s", src, name->line, name->col, name->str,
                               bad ? bad : "a {variable} but the schema has no variants");
            continue; /* not part of this variant */
        }
        pz_schema_col e = c;
        e.name = n, e.canonical = cn, e.line = node->line;
        e.unit = unit && unit->kind == PZ_Y_SCALAR && unit->str[0] ? pz_xstrdup(unit->str) : NULL;
        add_col(s, &e);
    }
    if (templated && nb == 0)
        return pz_errf(err, "%s:%d:%d: '%s' uses {b} but the schema has no bands", src, name->line, name->col, name->str);
    return 0;
}

static const char *scalar(const pz_ynode *map, const char *key)
{
    const pz_ynode *n = pz_ymap_get(map, key);
    return n && n->kind == PZ_Y_SCALAR ? n->str : NULL;
}

static int check_top_keys(const pz_ynode *root, const char *src, pz_err *err)
{
    static const char *const keys[] = {"schema", "title", "doc", "format", "hdu", "bands", "variants",
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
    const pz_ynode *bands = pz_ymap_get(root, "bands"), *vars;
    if (bands && bands->kind != PZ_Y_SEQ)
        return pz_errf(err, "%s:%d:%d: bands must be a list", s->path, bands->line, bands->col);
    if (pick_variant(s, root, variant, &vars, err) < 0) return -1;
    const pz_ynode *cols = pz_ymap_get(root, "columns");
    if (!cols || cols->kind != PZ_Y_SEQ) return pz_errf(err, "%s: missing 'columns:' list", s->path);
    for (size_t i = 0; i < cols->n; i++)
        if (load_column(s, cols->items[i], bands, vars, err) < 0) return -1;
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
    add_col(s, &c);
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

/* Resolve every schema column against the file; one error lists all problems. `use[i]` gets
 * the file's column for schema column i (NULL = optional and absent). */
static int check_columns(const pz_schema *s, const char *path, const pz_colinfo *info, size_t ninfo,
                         const pz_colinfo **use, pz_err *err)
{
    char missing[PZ_ERR_MAX / 2] = "", mistyped[PZ_ERR_MAX / 2] = "";
    size_t lm = 0, lt = 0, nm = 0, nt = 0;
    for (size_t i = 0; i < s->ncols; i++) {
        const pz_schema_col *c = &s->cols[i];
        use[i] = find_info(info, ninfo, c->name);
        if (!use[i]) {
            if (c->required) nm++, append(missing, sizeof missing, &lm, "%s%s%s", lm ? ", " : "", c->name, "");
            continue;
        }
        if (!compatible(c->type, use[i]->type)) {
            char detail[64];
            snprintf(detail, sizeof detail, " (%s, expected %s)", pz_coltype_name(use[i]->type), pz_coltype_name(c->type));
            nt++, append(mistyped, sizeof mistyped, &lt, "%s%s%s", lt ? ", " : "", c->name, detail);
        }
    }
    if (!nm && !nt) return 0;
    if (nm && nt)
        return pz_errf(err, "%s (schema %s): missing %zu column%s: %s; mistyped %zu: %s", path, s->id, nm,
                       nm > 1 ? "s" : "", missing, nt, mistyped);
    if (nm) return pz_errf(err, "%s (schema %s): missing %zu column%s: %s", path, s->id, nm, nm > 1 ? "s" : "", missing);
    return pz_errf(err, "%s (schema %s): mistyped %zu column%s: %s", path, s->id, nt, nt > 1 ? "s" : "", mistyped);
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
        if (sc->null == PZ_NULL_VALUE && v == sc->null_value) v = NAN;
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

int pz_schema_read(const pz_schema *s, const char *path, int passthrough, pz_table **out, pz_err *err)
{
    pz_colinfo *info = NULL;
    size_t ninfo = 0;
    long nrows = 0;
    int rc = pz_table_info_any(path, s->hdu, &info, &ninfo, &nrows, err);
    if (rc < 0) return -1;
    const pz_colinfo **use = pz_xcalloc(s->ncols + 1, sizeof *use);
    const char **names = pz_xcalloc(s->ncols + ninfo + 1, sizeof *names);
    rc = check_columns(s, path, info, ninfo, use, err);
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
    if (rc == 0)
        rc = pz_table_read_any(path, s->hdu, names, nnames, 0, (size_t)-1, &raw, err);
    if (rc == 0) {
        pz_table *t = pz_table_new(raw->nrows);
        for (size_t i = 0; i < s->ncols; i++) {
            if (!use[i]) continue;
            pz_column *src = pz_table_col(raw, use[i]->name);
            pz_column *dst = pz_table_add(t, s->cols[i].canonical, s->cols[i].type, src->width);
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
        *out = t;
    }
    pz_table_free(raw);
    free(names);
    free(use);
    pz_colinfo_free(info, ninfo);
    return rc;
}
