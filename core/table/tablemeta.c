/* astropy's table header YAML, written and read (tablemeta.h). The layout follows astropy 5.2's
 * astropy/table/meta.py (get_yaml_from_table) and astropy/table/serialize.py (MaskedColumn as
 * data + mask columns); astropy reads ours back through the same code. */
#include "table/tablemeta.h"

#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"
#include "util/ytree.h"

static const char *datatype_name(pz_coltype t)
{
    switch (t) {
    case PZ_F64: return "float64";
    case PZ_F32: return "float32";
    case PZ_I64: return "int64";
    case PZ_I32: return "int32";
    case PZ_I16: return "int16";
    case PZ_U8: return "uint8";
    case PZ_BOOL: return "bool";
    case PZ_STR: return "string";
    }
    return "string";
}

/* Length of the valid UTF-8 sequence at s (0 if not valid). */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    if (s[0] >= 0xF5) n = 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return n;
}

/* A YAML double-quoted scalar: the escapes JSON also has, \xNN for other control bytes and for
 * bytes that are not UTF-8 (YAML text must be), everything else as is. */
static void put_quoted(pz_sbuf *b, const char *s)
{
    pz_sb_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = *p >= 0x80 ? utf8_len(p) : 1;
        if (*p == '"' || *p == '\\') pz_sb_printf(b, "\\%c", *p);
        else if (*p == '\n') pz_sb_puts(b, "\\n");
        else if (*p == '\t') pz_sb_puts(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f || n == 0) pz_sb_printf(b, "\\x%02x", *p);
        else pz_sb_put(b, (const char *)p, n);
        p += n ? n : 1;
    }
    pz_sb_puts(b, "\"");
}

static void put_column(pz_sbuf *b, const char *name, const char *unit, const char *datatype, const char *desc)
{
    pz_sb_puts(b, "- {name: ");
    put_quoted(b, name);
    if (unit && unit[0]) {
        pz_sb_puts(b, ", unit: ");
        put_quoted(b, unit);
    }
    pz_sb_printf(b, ", datatype: %s", datatype);
    if (desc && desc[0]) {
        pz_sb_puts(b, ", description: ");
        put_quoted(b, desc);
    }
    pz_sb_puts(b, "}\n");
}

char *pz_table_meta_yaml(const pz_table *t, const unsigned char *masked)
{
    pz_sbuf b = {0};
    int any_masked = 0;
    pz_sb_puts(&b, "datatype:\n");
    for (size_t j = 0; j < t->ncols; j++) {
        const pz_column *c = &t->cols[j];
        put_column(&b, c->name, c->unit, datatype_name(c->type), c->desc);
        if (masked && masked[j]) {
            char *m = pz_xasprintf("%s" PZ_MASK_SUFFIX, c->name);
            put_column(&b, m, NULL, "bool", NULL);
            free(m);
            any_masked = 1;
        }
    }
    if (t->nattrs || any_masked) pz_sb_puts(&b, "meta: !!omap\n");
    for (size_t i = 0; i < t->nattrs; i++) {
        pz_sb_puts(&b, "- {");
        put_quoted(&b, t->attr_keys[i]);
        pz_sb_puts(&b, ": ");
        put_quoted(&b, t->attr_vals[i]);
        pz_sb_puts(&b, "}\n");
    }
    if (any_masked) pz_sb_puts(&b, "- __serialized_columns__:\n");
    for (size_t j = 0; any_masked && j < t->ncols; j++) {
        if (!masked[j]) continue;
        char *m = pz_xasprintf("%s" PZ_MASK_SUFFIX, t->cols[j].name);
        pz_sb_puts(&b, "    ");
        put_quoted(&b, t->cols[j].name);
        pz_sb_puts(&b, ":\n      __class__: astropy.table.column.MaskedColumn\n"
                       "      data: !astropy.table.SerializedColumn {name: ");
        put_quoted(&b, t->cols[j].name);
        pz_sb_puts(&b, "}\n      mask: !astropy.table.SerializedColumn {name: ");
        put_quoted(&b, m);
        pz_sb_puts(&b, "}\n");
        free(m);
    }
    return b.p;
}

/* ---- reading ------------------------------------------------------------------------------ */

static const char *scalar(const pz_ynode *n)
{
    return n && n->kind == PZ_Y_SCALAR ? n->str : NULL;
}

static char *dup_scalar(const pz_ynode *map, const char *key)
{
    const char *s = scalar(pz_ymap_get(map, key));
    return s && s[0] ? pz_xstrdup(s) : NULL;
}

static int read_datatype(const pz_ynode *seq, const char *what, pz_table_meta *m, pz_err *err)
{
    if (!seq) return 0;
    if (seq->kind != PZ_Y_SEQ) return pz_errf(err, "%s:%d:%d: 'datatype' is not a list of columns", what, seq->line, seq->col);
    m->cols = pz_xcalloc(seq->n + 1, sizeof *m->cols);
    for (size_t i = 0; i < seq->n; i++) {
        const pz_ynode *c = seq->items[i];
        const char *name = scalar(pz_ymap_get(c, "name"));
        if (!name) return pz_errf(err, "%s:%d:%d: a column without a name", what, c->line, c->col);
        pz_meta_col *mc = &m->cols[m->ncols++];
        mc->name = pz_xstrdup(name);
        mc->unit = dup_scalar(c, "unit");
        mc->desc = dup_scalar(c, "description");
    }
    return 0;
}

/* __serialized_columns__: {col: {__class__: ...MaskedColumn, data: {name: col}, mask: {name: col.mask}}} */
static void read_serialized(const pz_ynode *map, pz_table_meta *m)
{
    for (size_t i = 0; map && map->kind == PZ_Y_MAP && i < map->n; i++) {
        const pz_ynode *v = map->items[i];
        const char *cls = scalar(pz_ymap_get(v, "__class__"));
        const char *data = scalar(pz_ymap_get(pz_ymap_get(v, "data"), "name"));
        const char *mask = scalar(pz_ymap_get(pz_ymap_get(v, "mask"), "name"));
        if (!cls || !strstr(cls, "MaskedColumn") || !data || !mask) continue;
        for (size_t j = 0; j < m->ncols; j++)
            if (!strcmp(m->cols[j].name, data) && !m->cols[j].mask) m->cols[j].mask = pz_xstrdup(mask);
    }
}

static void read_meta_pair(const pz_ynode *key, const pz_ynode *val, pz_table_meta *m)
{
    if (!scalar(key)) return;
    if (!strcmp(key->str, "__serialized_columns__")) {
        read_serialized(val, m);
        return;
    }
    if (scalar(val)) {
        pz_table_set_attr(m->attrs, key->str, val->str);
        return;
    }
    char *json = pz_yaml_to_json(val, 0, -1);
    pz_table_set_attr(m->attrs, key->str, json);
    free(json);
}

/* `meta` is a mapping, or astropy's !!omap: a list of one-pair mappings. */
static void read_meta(const pz_ynode *meta, pz_table_meta *m)
{
    if (!meta) return;
    if (meta->kind == PZ_Y_MAP)
        for (size_t i = 0; i < meta->n; i++) read_meta_pair(meta->keys[i], meta->items[i], m);
    if (meta->kind == PZ_Y_SEQ)
        for (size_t i = 0; i < meta->n; i++) {
            const pz_ynode *p = meta->items[i];
            for (size_t k = 0; p->kind == PZ_Y_MAP && k < p->n; k++) read_meta_pair(p->keys[k], p->items[k], m);
        }
}

int pz_table_meta_parse(const char *text, size_t len, const char *what, pz_table_meta *m, pz_err *err)
{
    memset(m, 0, sizeof *m);
    m->attrs = pz_table_new(0);
    pz_ynode *root = pz_yaml_load_string(text, len, what, err);
    if (!root) return -1;
    int rc = 0;
    if (root->kind != PZ_Y_MAP) rc = pz_errf(err, "%s: not a table header (a YAML mapping with 'datatype')", what);
    if (rc == 0) rc = read_datatype(pz_ymap_get(root, "datatype"), what, m, err);
    if (rc == 0) read_meta(pz_ymap_get(root, "meta"), m);
    pz_ynode_free(root);
    if (rc < 0) pz_table_meta_free(m);
    return rc;
}

void pz_table_meta_free(pz_table_meta *m)
{
    for (size_t i = 0; i < m->ncols; i++) {
        free(m->cols[i].name);
        free(m->cols[i].unit);
        free(m->cols[i].desc);
        free(m->cols[i].mask);
    }
    free(m->cols);
    pz_table_free(m->attrs);
    memset(m, 0, sizeof *m);
}

const pz_meta_col *pz_table_meta_col(const pz_table_meta *m, const char *name)
{
    for (size_t i = 0; i < m->ncols; i++)
        if (!strcmp(m->cols[i].name, name)) return &m->cols[i];
    return NULL;
}

int pz_table_meta_is_mask(const pz_table_meta *m, const char *name)
{
    for (size_t i = 0; i < m->ncols; i++)
        if (m->cols[i].mask && !strcmp(m->cols[i].mask, name)) return 1;
    return 0;
}
