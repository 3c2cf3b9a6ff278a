#include "engine/key.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "+7" is the integer 7 to YAML 1.2. */
static int is_plus_integer(const char *s)
{
    if (*s != '+' || !isdigit((unsigned char)s[1])) return 0;
    for (const char *p = s + 1; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    return 1;
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
    if (special || is_plus_integer(n->str)) {
        char *text = pz_xstrdup(special ? special : n->str + 1);
        free(n->str);
        n->str = text;
        return;
    }
    if (pz_ydecimal(n->str) != 2) return; /* a float with a fraction or an exponent: .15, +0.15, 5. */
    double v = strtod(n->str, NULL);
    if (!isfinite(v)) return; /* 1e999: keep the text rather than invent "inf" */
    char text[40];
    shortest_double(v, text, sizeof text);
    /* %g may print "1e+10"; JSON and YAML both read that as a number. */
    free(n->str);
    n->str = pz_xstrdup(text);
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
