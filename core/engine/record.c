#include "engine/record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- escaping ---- */

static int needs_escape(unsigned char c) { return c <= ' ' || c == '%' || c == 0x7f; }

char *pz_escape(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) n += needs_escape(*p) ? 3 : 1;
    char *out = pz_xmalloc(n + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (needs_escape(*p)) o += sprintf(o, "%%%02X", *p);
        else *o++ = (char)*p;
    }
    *o = 0;
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Unescape s where it is (the text never grows); -1 on a malformed escape. The index parser
 * unescapes its tokens in place: a copy per name was 4,000 mallocs on a no-op run. */
static int unescape_in_place(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (*p != '%') {
            *o++ = *p;
            continue;
        }
        int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
        if (lo < 0 || (hi == 0 && lo == 0)) return -1;
        *o++ = (char)(hi * 16 + lo);
        p += 2;
    }
    *o = 0;
    return 0;
}

char *pz_unescape(const char *s)
{
    char *out = pz_xstrdup(s);
    if (unescape_in_place(out) == 0) return out;
    free(out);
    return NULL;
}

/* ---- a growable text buffer ---- */

typedef struct tbuf {
    char *p;
    size_t len, cap;
} tbuf;

static void tb_printf(tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(tbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->p = pz_xrealloc(b->p, b->cap);
    }
}

static void tb_escaped(tbuf *b, const char *s)
{
    char *e = pz_escape(s);
    tb_printf(b, "%s", e);
    free(e);
}

/* ---- records ---- */

/* Records list outputs sorted by name (stages' outputs are sorted at load), so a binary search
 * finds one; the scan after it keeps any record that is not sorted correct. A scan alone was a
 * quadratic hot spot: a partition stage has 1000 outputs, each read by its own instance. */
const char *pz_record_output(const pz_record *r, const char *name)
{
    size_t lo = 0, hi = r->noutputs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->out_names[mid], name);
        if (c == 0) return r->out_hashes[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = 0; i < r->noutputs; i++)
        if (!strcmp(r->out_names[i], name)) return r->out_hashes[i];
    return NULL;
}

/* Room for one more of n items in arrays of *cap (inputs, input hashes, outputs): doubling, as
 * a partition record has a thousand outputs and a merge a thousand input hashes, and one realloc
 * per item was 5% of a no-op run (issue 14). A record built by hand has cap 0, so its arrays are
 * grown from n. */
static size_t grown(size_t n, size_t *cap)
{
    if (n < *cap) return 0;
    *cap = n < 4 ? 4 : 2 * n;
    return *cap;
}

void pz_record_add_input(pz_record *r, const char *name, int is_list)
{
    if (grown(r->ninputs, &r->in_cap)) r->inputs = pz_xrealloc(r->inputs, r->in_cap * sizeof *r->inputs);
    pz_record_input *in = &r->inputs[r->ninputs++];
    memset(in, 0, sizeof *in);
    in->name = pz_xstrdup(name);
    in->is_list = is_list;
}

void pz_record_input_push(pz_record_input *in, const char *hash)
{
    if (grown(in->nhashes, &in->cap)) in->hashes = pz_xrealloc(in->hashes, in->cap * sizeof *in->hashes);
    memcpy(in->hashes[in->nhashes++], hash, PZ_HASH_HEX);
}

void pz_record_add_output(pz_record *r, const char *name, const char *hash)
{
    size_t n = r->noutputs;
    /* A record built by hand may have no stat array: then every stat stays unknown. */
    int stats = r->out_stat || n == 0;
    if (grown(n, &r->out_cap)) {
        r->out_names = pz_xrealloc(r->out_names, r->out_cap * sizeof *r->out_names);
        r->out_hashes = pz_xrealloc(r->out_hashes, r->out_cap * sizeof *r->out_hashes);
        if (stats) r->out_stat = pz_xrealloc(r->out_stat, r->out_cap * sizeof *r->out_stat);
    }
    if (stats) memset(&r->out_stat[n], 0, sizeof *r->out_stat);
    r->out_names[n] = pz_xstrdup(name);
    size_t len = hash ? strnlen(hash, PZ_HASH_HEX - 1) : 0;
    memcpy(r->out_hashes[n], hash ? hash : "", len);
    r->out_hashes[n][len] = 0;
    r->noutputs++;
}

const pz_objstat *pz_record_output_stat(const pz_record *r, size_t k)
{
    if (!r->out_stat || k >= r->noutputs || r->out_stat[k].mtime_ns == 0) return NULL;
    return &r->out_stat[k];
}

char *pz_record_format(const pz_record *r)
{
    tbuf b = {0};
    tb_printf(&b, "pzflow-record 1\nkey %s\nstage ", r->key);
    tb_escaped(&b, r->stage ? r->stage : "");
    tb_printf(&b, "\nformat %ld\nexe %s ", r->format, r->exe_hash);
    tb_escaped(&b, r->exe_path ? r->exe_path : "");
    tb_printf(&b, "\npzflow ");
    tb_escaped(&b, r->pzflow_version ? r->pzflow_version : PZ_VERSION);
    tb_printf(&b, "\nthreads %ld\nparams %s\nparams_text %s\n", r->threads, r->params ? r->params : "{}",
              r->params_text ? r->params_text : "{}");
    for (size_t i = 0; i < r->ninputs; i++) {
        const pz_record_input *in = &r->inputs[i];
        tb_printf(&b, "input ");
        tb_escaped(&b, in->name);
        tb_printf(&b, " %s", in->is_list ? "list" : "one");
        for (size_t k = 0; k < in->nhashes; k++) tb_printf(&b, " %s", in->hashes[k]);
        tb_printf(&b, "\n");
    }
    for (size_t i = 0; i < r->noutputs; i++) {
        tb_printf(&b, "output ");
        tb_escaped(&b, r->out_names[i]);
        tb_printf(&b, " %s", r->out_hashes[i]);
        const pz_objstat *st = pz_record_output_stat(r, i);
        if (st) tb_printf(&b, " %" PRIu64 " %" PRId64, st->size, st->mtime_ns);
        tb_printf(&b, "\n");
    }
    tb_printf(&b, "start %" PRId64 "\nend %" PRId64 "\nstatus %d\nlog %s\n", r->start_ns, r->end_ns, r->status,
              r->log_hash[0] ? r->log_hash : "-");
    return b.p;
}

void pz_record_free(pz_record *r)
{
    if (!r) return;
    free(r->stage);
    free(r->exe_path);
    free(r->pzflow_version);
    free(r->params);
    free(r->params_text);
    for (size_t i = 0; i < r->ninputs; i++) {
        free(r->inputs[i].name);
        free(r->inputs[i].hashes);
    }
    free(r->inputs);
    for (size_t i = 0; i < r->noutputs; i++) free(r->out_names[i]);
    free(r->out_names);
    free(r->out_hashes);
    free(r->out_stat);
    free(r);
}

/* Split off the next space-separated token of *s (modifies the string). */
static char *token(char **s)
{
    char *p = *s;
    while (*p == ' ') p++;
    if (!*p) return NULL;
    char *start = p;
    while (*p && *p != ' ') p++;
    if (*p) *p++ = 0;
    *s = p;
    return start;
}

static int copy_hash(char dst[PZ_HASH_HEX], const char *src, int allow_none)
{
    if (allow_none && src && !strcmp(src, "-")) {
        dst[0] = 0;
        return 0;
    }
    if (!pz_hash_valid(src)) return -1;
    memcpy(dst, src, PZ_HASH_HEX);
    return 0;
}

/* One "field value..." line into r. 0 ok, -1 malformed. */
static int parse_record_line(pz_record *r, char *line)
{
    char *rest = line, *field = token(&rest);
    if (!field) return 0;
    if (!strcmp(field, "key")) return copy_hash(r->key, token(&rest), 0);
    if (!strcmp(field, "stage")) {
        char *t = token(&rest);
        free(r->stage);
        return (r->stage = pz_unescape(t ? t : "")) ? 0 : -1;
    }
    if (!strcmp(field, "pzflow")) {
        char *t = token(&rest);
        free(r->pzflow_version);
        return (r->pzflow_version = pz_unescape(t ? t : "")) ? 0 : -1;
    }
    if (!strcmp(field, "format")) return sscanf(rest, "%ld", &r->format) == 1 ? 0 : -1;
    if (!strcmp(field, "threads")) return sscanf(rest, "%ld", &r->threads) == 1 ? 0 : -1;
    if (!strcmp(field, "status")) return sscanf(rest, "%d", &r->status) == 1 ? 0 : -1;
    if (!strcmp(field, "start")) return sscanf(rest, "%" SCNd64, &r->start_ns) == 1 ? 0 : -1;
    if (!strcmp(field, "end")) return sscanf(rest, "%" SCNd64, &r->end_ns) == 1 ? 0 : -1;
    if (!strcmp(field, "log")) return copy_hash(r->log_hash, token(&rest), 1);
    if (!strcmp(field, "params")) return free(r->params), r->params = pz_xstrdup(rest), 0;
    if (!strcmp(field, "params_text")) return free(r->params_text), r->params_text = pz_xstrdup(rest), 0;
    if (!strcmp(field, "exe")) {
        char *h = token(&rest), *path = token(&rest);
        if (copy_hash(r->exe_hash, h, 0) < 0) return -1;
        free(r->exe_path);
        return (r->exe_path = pz_unescape(path ? path : "")) ? 0 : -1;
    }
    if (!strcmp(field, "input")) {
        char *name = token(&rest), *kind = token(&rest);
        char *uname = name ? pz_unescape(name) : NULL;
        if (!uname || !kind) return free(uname), -1;
        pz_record_add_input(r, uname, !strcmp(kind, "list"));
        free(uname);
        pz_record_input *in = &r->inputs[r->ninputs - 1];
        for (char *h; (h = token(&rest));) {
            if (!pz_hash_valid(h)) return -1;
            pz_record_input_push(in, h);
        }
        return 0;
    }
    if (!strcmp(field, "output")) {
        char *name = token(&rest), *h = token(&rest);
        char *uname = name ? pz_unescape(name) : NULL;
        if (!uname || !pz_hash_valid(h)) return free(uname), -1;
        pz_record_add_output(r, uname, h);
        free(uname);
        /* Optional: "<size> <mtime_ns>" of the object when committed. */
        char *size = token(&rest), *mtime = token(&rest);
        pz_objstat st = {0};
        if (size && (!mtime || sscanf(size, "%" SCNu64, &st.size) != 1 || sscanf(mtime, "%" SCNd64, &st.mtime_ns) != 1))
            return -1;
        if (r->out_stat) r->out_stat[r->noutputs - 1] = st;
        return 0;
    }
    return 0; /* unknown fields are ignored: newer versions may add some */
}

pz_record *pz_record_parse(const char *text, const char *src, pz_err *err)
{
    if (strncmp(text, "pzflow-record 1\n", 16)) {
        pz_errf(err, "%s: not a pzflow run record", src);
        return NULL;
    }
    pz_record *r = pz_xcalloc(1, sizeof *r);
    char *copy = pz_xstrdup(text + 16);
    int line_no = 1;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        if (parse_record_line(r, line) < 0) {
            pz_errf(err, "%s:%d: malformed run record line", src, line_no);
            free(copy);
            pz_record_free(r);
            return NULL;
        }
    }
    free(copy);
    if (!r->key[0] || !r->exe_hash[0]) {
        pz_errf(err, "%s: run record is incomplete", src);
        pz_record_free(r);
        return NULL;
    }
    return r;
}

/* ---- index ---- */

pz_index *pz_index_new(const char *pipeline)
{
    pz_index *ix = pz_xcalloc(1, sizeof *ix);
    ix->pipeline = pz_xstrdup(pipeline ? pipeline : "");
    return ix;
}

void pz_index_free(pz_index *ix)
{
    if (!ix) return;
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->e[i].stage);
        pz_record_free(ix->e[i].outputs);
    }
    free(ix->e);
    free(ix->slots);
    free(ix->pipeline);
    free(ix->results);
    free(ix);
}

void pz_index_set_results(pz_index *ix, const char (*keys)[PZ_HASH_HEX], size_t n)
{
    if (n == ix->nresults && (!n || !memcmp(keys, ix->results, n * sizeof *keys))) return;
    free(ix->results);
    ix->results = n ? pz_xmalloc(n * sizeof *ix->results) : NULL;
    if (n) memcpy(ix->results, keys, n * sizeof *keys);
    ix->nresults = n;
    ix->dirty = 1;
}

static size_t name_hash(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Slot of `stage` in the table: its entry, or the empty slot where it would go. */
static size_t *index_slot(const pz_index *ix, const char *stage)
{
    size_t i = name_hash(stage) & (ix->nslots - 1);
    while (ix->slots[i] && strcmp(ix->e[ix->slots[i] - 1].stage, stage)) i = (i + 1) & (ix->nslots - 1);
    return &ix->slots[i];
}

static void index_rehash(pz_index *ix)
{
    free(ix->slots);
    ix->nslots = 64;
    while (ix->nslots < ix->cap * 2) ix->nslots *= 2;
    ix->slots = pz_xcalloc(ix->nslots, sizeof *ix->slots);
    for (size_t i = 0; i < ix->n; i++) *index_slot(ix, ix->e[i].stage) = i + 1;
}

pz_index_entry *pz_index_get(const pz_index *ix, const char *stage)
{
    if (!ix->nslots) return NULL;
    size_t k = *index_slot(ix, stage);
    return k ? &ix->e[k - 1] : NULL;
}

pz_index_entry *pz_index_put(pz_index *ix, const char *stage)
{
    pz_index_entry *e = pz_index_get(ix, stage);
    if (e) return e;
    if (ix->n == ix->cap) {
        ix->e = pz_xrealloc(ix->e, (ix->cap = ix->cap ? ix->cap * 2 : 16) * sizeof *ix->e);
        index_rehash(ix);
    }
    e = &ix->e[ix->n++];
    memset(e, 0, sizeof *e);
    e->stage = pz_xstrdup(stage);
    *index_slot(ix, stage) = ix->n;
    return e;
}

static int same_outputs(const pz_record *a, const pz_record *b)
{
    if (a->noutputs != b->noutputs || strcmp(a->key, b->key)) return 0;
    for (size_t k = 0; k < a->noutputs; k++) {
        const pz_objstat *sa = pz_record_output_stat(a, k), *sb = pz_record_output_stat(b, k);
        if (strcmp(a->out_names[k], b->out_names[k]) || strcmp(a->out_hashes[k], b->out_hashes[k])) return 0;
        if (!sa != !sb || (sa && (sa->size != sb->size || sa->mtime_ns != sb->mtime_ns))) return 0;
    }
    return 1;
}

int pz_index_set_outputs(pz_index_entry *e, const pz_record *r, const pz_objstat *rec_stat)
{
    if (e->outputs && e->rec_stat.size == rec_stat->size && e->rec_stat.mtime_ns == rec_stat->mtime_ns &&
        same_outputs(e->outputs, r))
        return 0;
    pz_record_free(e->outputs);
    pz_record *o = pz_xcalloc(1, sizeof *o);
    memcpy(o->key, r->key, PZ_HASH_HEX);
    for (size_t k = 0; k < r->noutputs; k++) {
        pz_record_add_output(o, r->out_names[k], r->out_hashes[k]);
        const pz_objstat *st = pz_record_output_stat(r, k);
        if (st) o->out_stat[k] = *st;
    }
    e->outputs = o;
    e->rec_stat = *rec_stat;
    return 1;
}

pz_record *pz_index_outputs_record(const pz_index_entry *e)
{
    if (!e->outputs || !e->rec_stat.mtime_ns) return NULL;
    const pz_record *src = e->outputs;
    pz_record *o = pz_xcalloc(1, sizeof *o);
    memcpy(o->key, src->key, PZ_HASH_HEX);
    for (size_t k = 0; k < src->noutputs; k++) {
        pz_record_add_output(o, src->out_names[k], src->out_hashes[k]);
        o->out_stat[k] = src->out_stat[k];
    }
    o->file_stat = e->rec_stat;
    return o;
}

char *pz_index_format(const pz_index *ix)
{
    tbuf b = {0};
    tb_printf(&b, "pzflow-index 1\npipeline ");
    tb_escaped(&b, ix->pipeline);
    tb_printf(&b, "\n");
    for (size_t i = 0; i < ix->n; i++) {
        const pz_index_entry *e = &ix->e[i];
        tb_printf(&b, "stage ");
        tb_escaped(&b, e->stage);
        tb_printf(&b, " %s %s %d", e->key[0] ? e->key : "-", e->log_hash[0] ? e->log_hash : "-", e->failed_status);
        const pz_record *o = e->outputs;
        if (o && e->rec_stat.mtime_ns && !strcmp(o->key, e->key)) {
            tb_printf(&b, " %" PRIu64 " %" PRId64, e->rec_stat.size, e->rec_stat.mtime_ns);
            for (size_t k = 0; k < o->noutputs; k++) {
                tb_printf(&b, " ");
                tb_escaped(&b, o->out_names[k]);
                tb_printf(&b, " %s %" PRIu64 " %" PRId64, o->out_hashes[k], o->out_stat[k].size, o->out_stat[k].mtime_ns);
            }
        }
        tb_printf(&b, "\n");
    }
    for (size_t i = 0; i < ix->nresults; i++) tb_printf(&b, "result %s\n", ix->results[i]);
    return b.p;
}

/* The optional record copy after "stage name key log status": "<size> <mtime> (<output>
 * <hash> <size> <mtime>)...". A malformed copy is dropped (it is only a cache); 0 always. */
/* Decimal numbers by hand: strtoull and strtoll cost 500 instructions each (locale, bases),
 * 7,000 of them on a no-op run of 1,000 survey parts. The same texts are accepted: digits only
 * for u64, an optional sign for i64, nothing after, no overflow. */
static int parse_u64(const char *t, uint64_t *v)
{
    uint64_t x = 0;
    const char *p = t;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
    }
    *v = x;
    return p != t && !*p;
}

static int parse_i64(const char *t, int64_t *v)
{
    int neg = *t == '-';
    uint64_t u;
    if (!parse_u64(t + (neg || *t == '+'), &u) || u > (uint64_t)INT64_MAX + neg) return 0;
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 1;
}

static void parse_index_outputs(pz_index_entry *e, char *rest)
{
    char *size = token(&rest), *mtime = token(&rest);
    if (!size || !mtime || !e->key[0]) return;
    pz_record *o = pz_xcalloc(1, sizeof *o);
    memcpy(o->key, e->key, PZ_HASH_HEX);
    pz_objstat rs = {0};
    int ok = parse_u64(size, &rs.size) && parse_i64(mtime, &rs.mtime_ns);
    for (char *name; ok && (name = token(&rest));) {
        char *h = token(&rest), *osz = token(&rest), *omt = token(&rest);
        pz_objstat st = {0};
        ok = unescape_in_place(name) == 0 && pz_hash_valid(h) && osz && omt && parse_u64(osz, &st.size) &&
             parse_i64(omt, &st.mtime_ns);
        if (ok) {
            pz_record_add_output(o, name, h);
            o->out_stat[o->noutputs - 1] = st;
        }
    }
    if (!ok) {
        pz_record_free(o);
        return;
    }
    e->outputs = o;
    e->rec_stat = rs;
}

pz_index *pz_index_parse(const char *text, const char *src, pz_err *err)
{
    if (strncmp(text, "pzflow-index 1\n", 15)) {
        pz_errf(err, "%s: not a pzflow index", src);
        return NULL;
    }
    pz_index *ix = pz_index_new(NULL);
    char *copy = pz_xstrdup(text + 15), *save = NULL;
    int line_no = 1, bad = 0;
    for (char *line = strtok_r(copy, "\n", &save); line && !bad; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        char *rest = line, *field = token(&rest);
        if (field && !strcmp(field, "pipeline")) {
            char *t = token(&rest), *u = pz_unescape(t ? t : "");
            if (!u) bad = 1;
            else free(ix->pipeline), ix->pipeline = u;
        } else if (field && !strcmp(field, "stage")) {
            char *name = token(&rest), *key = token(&rest), *log = token(&rest), *st = token(&rest);
            char *u = name && unescape_in_place(name) == 0 ? name : NULL;
            pz_index_entry tmp = {0};
            if (!u || copy_hash(tmp.key, key, 1) < 0 || copy_hash(tmp.log_hash, log, 1) < 0 || !st) bad = 1;
            else {
                pz_index_entry *e = pz_index_put(ix, u);
                memcpy(e->key, tmp.key, PZ_HASH_HEX);
                memcpy(e->log_hash, tmp.log_hash, PZ_HASH_HEX);
                e->failed_status = atoi(st);
                pz_record_free(e->outputs);
                e->outputs = NULL;
                parse_index_outputs(e, rest);
            }
        } else if (field && !strcmp(field, "result")) {
            char key[PZ_HASH_HEX], *t = token(&rest);
            if (!t || copy_hash(key, t, 0) < 0) bad = 1;
            else {
                ix->results = pz_xrealloc(ix->results, (ix->nresults + 1) * sizeof *ix->results);
                memcpy(ix->results[ix->nresults++], key, PZ_HASH_HEX);
            }
        }
    }
    free(copy);
    if (bad) {
        pz_errf(err, "%s:%d: malformed index line", src, line_no);
        pz_index_free(ix);
        return NULL;
    }
    return ix;
}
