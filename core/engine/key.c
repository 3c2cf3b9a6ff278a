#include "engine/key.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An integer in any core-schema spelling (+16, 016, 0o20, 0x10) as its decimal digits; "-0"
 * keeps its sign, as the float -0.0 does. NULL for a 0o/0x beyond 64 bits: keep the text. */
static char *decimal_integer(const char *s, int base)
{
    if (base == 10) { /* digits as text: any length stays exact */
        const char *sign = *s == '-' ? "-" : "";
        s += *s == '-' || *s == '+';
        while (s[0] == '0' && s[1]) s++;
        return pz_xasprintf("%s%s", sign, s);
    }
    errno = 0;
    unsigned long long v = strtoull(s + 2, NULL, base);
    return errno == ERANGE ? NULL : pz_xasprintf("%llu", v);
}

/* Shortest %g spelling that reads back to exactly v. */
static void shortest_double(double v, char *out, size_t size)
{
    if (v == floor(v) && fabs(v) < 1e15) { /* integral: 100, not 1e+02 */
        snprintf(out, size, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v) return;
    }
}

static void canonicalise(pz_ynode *n)
{
    if (n->kind != PZ_Y_SCALAR) {
        for (size_t i = 0; i < n->n; i++) canonicalise(n->items[i]);
        return;
    }
    if (n->quoted) return;
    const char *special = pz_yspecial_float(n->str);
    int base = pz_yinteger_base(n->str);
    char *text = special ? pz_xstrdup(special) : base ? decimal_integer(n->str, base) : NULL;
    if (text) {
        free(n->str);
        n->str = text;
        return;
    }
    if (pz_ydecimal(n->str) != 2) return; /* a float with a fraction or an exponent: .15, +0.15, 5. */
    double v = strtod(n->str, NULL);
    if (!isfinite(v)) return; /* 1e999: keep the text rather than invent "inf" */
    char shortest[40];
    shortest_double(v, shortest, sizeof shortest);
    /* %g may print "1e+10"; JSON and YAML both read that as a number. */
    free(n->str);
    n->str = pz_xstrdup(shortest);
}

pz_ynode *pz_params_canonical_tree(const pz_ynode *params)
{
    pz_ynode *copy = params ? pz_ynode_clone(params) : pz_ynode_map();
    canonicalise(copy);
    return copy;
}

char *pz_params_canonical(const pz_ynode *params)
{
    pz_ynode *copy = pz_params_canonical_tree(params);
    char *json = pz_yaml_to_json(copy, 1, -1);
    pz_ynode_free(copy);
    return json;
}

void pz_record_compute_key(pz_record *r)
{
    pz_hasher *h = pz_hasher_new();
    pz_hasher_str(h, "pzflow-key");
    pz_hasher_long(h, r->format);
    pz_hasher_str(h, r->exe_hash);
    pz_hasher_long(h, r->threads);
    pz_hasher_str(h, r->params ? r->params : "{}");
    pz_hasher_long(h, (long)r->ninputs);
    for (size_t i = 0; i < r->ninputs; i++) {
        const pz_record_input *in = &r->inputs[i];
        pz_hasher_str(h, in->name);
        pz_hasher_str(h, in->is_list ? "list" : "one");
        pz_hasher_long(h, (long)in->nhashes);
        for (size_t k = 0; k < in->nhashes; k++) pz_hasher_str(h, in->hashes[k]);
    }
    pz_hasher_long(h, (long)r->noutputs);
    for (size_t i = 0; i < r->noutputs; i++) pz_hasher_str(h, r->out_names[i]);
    pz_hasher_final(h, r->key);
}
