/* Sky cross-match on a declination-zone index. See xmatch.h for the method and the guarantees. */
#include "photoz/xmatch.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define DEG (M_PI / 180.0)
/* Within this many degrees of a pole the RA window formula is not used: whole zones are scanned. */
#define POLAR_DEC 89.0
/* At most this many zones, so a tiny radius on an all-sky list cannot blow up the offset table. */
#define MAX_ZONES (1L << 22)

typedef struct sort_item {
    double ra, dec;    /* dec travels with the item: reading it back by row missed the cache */
    uint32_t row;
} sort_item;

typedef struct zone_index {
    double h;          /* zone height, degrees (>= the radius is not required: queries span zones) */
    long zmin, nz;     /* zones present: zmin .. zmin + nz - 1 */
    size_t *start;     /* nz + 1 offsets into the sorted arrays */
    size_t n;
    sort_item *item;   /* (ra, original row), sorted by (zone, ra, row) */
    double *xyz;       /* unit vectors, 3 per entry */
} zone_index;

typedef struct pair {
    uint32_t i, j;     /* left row, right row */
    double d2;         /* squared chord between the unit vectors */
} pair;

/* Working arrays of millions of entries: ask for transparent huge pages. Faulting in 4 kB
 * pages one by one was half the run time of a 1.7 M x 1.7 M match on a virtual machine;
 * 2 MB pages cut the faults ~15x. Plain malloc'd memory otherwise; free() releases either. */
static void *big_alloc(size_t bytes)
{
    if (bytes < ((size_t)4 << 20)) return pz_xmalloc(bytes ? bytes : 1);
    void *p = NULL;
    if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0) return pz_xmalloc(bytes);
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure just means small pages */
    return p;
}

static void *big_calloc(size_t count, size_t size)
{
    void *p = big_alloc(count * size);
    memset(p, 0, count * size);
    return p;
}

static long zone_of(double dec, double h) { return (long)floor((dec + 90.0) / h); }

static double norm_ra(double ra)
{
    if (ra >= 0 && ra < 360.0) return ra; /* the usual case, without fmod */
    double r = fmod(ra, 360.0);
    if (r < 0) r += 360.0;
    return r >= 360.0 ? 0.0 : r; /* fmod of -1e-20 + 360 rounds to 360 */
}

static void unit_vector(double ra, double dec, double *v)
{
    double cd = cos(dec * DEG);
    v[0] = cd * cos(ra * DEG);
    v[1] = cd * sin(ra * DEG);
    v[2] = sin(dec * DEG);
}

/* Check coordinates; count the non-finite ones (never matched). */
static int check_positions(const double *ra, const double *dec, size_t n, const char *side, size_t *bad,
                           pz_err *err)
{
    if (n >= UINT32_MAX) return pz_errf(err, "%s list has %zu sources; the cross-match handles < 2^32", side, n);
    *bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ra[i]) || !isfinite(dec[i])) {
            (*bad)++;
            continue;
        }
        if (dec[i] < -90.0 || dec[i] > 90.0)
            return pz_errf(err, "%s row %zu: Dec %.10g is outside [-90, 90] degrees", side, i, dec[i]);
    }
    return 0;
}

static int item_less(const sort_item *x, const sort_item *y)
{
    return x->ra < y->ra || (x->ra == y->ra && x->row < y->row);
}

/* Quicksort (median of three, insertion sort for short runs) over an array of TYPE ordered by
 * LESS, a strict total order, so the result is fully determined. Hand-written because the index
 * sorts one small run per zone, millions of items in all, where qsort's indirect comparisons
 * and per-call buffer cost several times more. */
#define DEFINE_SORT(NAME, TYPE, LESS)                                                              \
    static void NAME(TYPE *a, size_t n)                                                            \
    {                                                                                              \
        while (n > 16) {                                                                           \
            size_t mid = n / 2;                                                                    \
            TYPE t;                                                                                \
            if (LESS(&a[mid], &a[0])) t = a[mid], a[mid] = a[0], a[0] = t;                         \
            if (LESS(&a[n - 1], &a[0])) t = a[n - 1], a[n - 1] = a[0], a[0] = t;                   \
            if (LESS(&a[n - 1], &a[mid])) t = a[n - 1], a[n - 1] = a[mid], a[mid] = t;             \
            TYPE pivot = a[mid];                                                                   \
            size_t i = 0, j = n - 1;                                                               \
            for (;;) {                                                                             \
                while (LESS(&a[i], &pivot)) i++;                                                   \
                while (LESS(&pivot, &a[j])) j--;                                                   \
                if (i >= j) break;                                                                 \
                t = a[i], a[i] = a[j], a[j] = t;                                                   \
                i++, j--;                                                                          \
            }                                                                                      \
            size_t left = j + 1; /* [0, left) <= pivot <= [left, n) */                             \
            if (left < n - left) {                                                                 \
                NAME(a, left);                                                                     \
                a += left, n -= left;                                                              \
            } else {                                                                               \
                NAME(a + left, n - left);                                                          \
                n = left;                                                                          \
            }                                                                                      \
        }                                                                                          \
        for (size_t i = 1; i < n; i++) {                                                           \
            TYPE x = a[i];                                                                         \
            size_t j = i;                                                                          \
            while (j > 0 && LESS(&x, &a[j - 1])) a[j] = a[j - 1], j--;                             \
            a[j] = x;                                                                              \
        }                                                                                          \
    }

DEFINE_SORT(sort_items, sort_item, item_less)

static void index_build(zone_index *ix, const double *ra, const double *dec, size_t n, double h)
{
    memset(ix, 0, sizeof *ix);
    ix->h = h;
    long zmin = 0, zmax = -1;
    size_t valid = 0;
    int32_t *zone = big_alloc(n * sizeof *zone); /* zone - zmin, -1 for no position */
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ra[i]) || !isfinite(dec[i])) continue;
        long z = zone_of(dec[i], h);
        if (valid == 0 || z < zmin) zmin = z;
        if (valid == 0 || z > zmax) zmax = z;
        valid++;
    }
    ix->zmin = zmin;
    ix->nz = valid ? zmax - zmin + 1 : 0;
    ix->n = valid;
    ix->start = pz_xcalloc((size_t)ix->nz + 1, sizeof *ix->start);
    /* Counting sort by zone, then sort each zone by RA (ties by row, for determinism). */
    for (size_t i = 0; i < n; i++) {
        zone[i] = isfinite(ra[i]) && isfinite(dec[i]) ? (int32_t)(zone_of(dec[i], h) - zmin) : -1;
        if (zone[i] >= 0) ix->start[zone[i] + 1]++;
    }
    for (long z = 0; z < ix->nz; z++) ix->start[z + 1] += ix->start[z];
    size_t *fill = pz_xmalloc(((size_t)ix->nz + 1) * sizeof *fill);
    memcpy(fill, ix->start, ((size_t)ix->nz + 1) * sizeof *fill);
    sort_item *items = big_alloc(valid * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        if (zone[i] < 0) continue;
        size_t at = fill[zone[i]]++;
        items[at].ra = norm_ra(ra[i]);
        items[at].dec = dec[i];
        items[at].row = (uint32_t)i;
    }
    free(zone);
    free(fill);
    for (long z = 0; z < ix->nz; z++)
        sort_items(items + ix->start[z], ix->start[z + 1] - ix->start[z]);
    /* The sorted items are the index itself: no copy, fewer fresh pages to fault in. */
    ix->item = items;
    ix->xyz = big_alloc(valid * 3 * sizeof *ix->xyz);
    for (size_t k = 0; k < valid; k++) unit_vector(items[k].ra, items[k].dec, ix->xyz + 3 * k);
}

typedef struct build_job {
    zone_index *ix;
    const double *ra, *dec;
    size_t n;
    double h;
} build_job;

static void *build_run(void *arg)
{
    build_job *b = arg;
    index_build(b->ix, b->ra, b->dec, b->n, b->h);
    return NULL;
}

/* The two indexes are independent: with two threads or more, build them at once. */
static void build_indexes(zone_index *a, const double *ra_a, const double *dec_a, size_t na, zone_index *b,
                          const double *ra_b, const double *dec_b, size_t nb, double h, int threads)
{
    build_job job = {b, ra_b, dec_b, nb, h};
    pthread_t tid;
    int started = threads > 1 && na + nb > 100000 && pthread_create(&tid, NULL, build_run, &job) == 0;
    index_build(a, ra_a, dec_a, na, h);
    if (started)
        pthread_join(tid, NULL);
    else
        build_run(&job);
}

static void index_free(zone_index *ix)
{
    free(ix->start);
    free(ix->item);
    free(ix->xyz);
}

/* ---- queries ---- */

typedef struct worker {
    const zone_index *ix;  /* right sources */
    const zone_index *q;   /* left sources, queried in index order for cache locality */
    size_t from, to;       /* range of q */
    double r_deg, d2max;
    pair *pairs;
    size_t n, cap;
} worker;

static void push_pair(worker *w, uint32_t i, uint32_t j, double d2)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 1024;
        w->pairs = pz_xrealloc(w->pairs, w->cap * sizeof *w->pairs);
    }
    w->pairs[w->n++] = (pair){i, j, d2};
}

static size_t lower_bound(const sort_item *a, size_t lo, size_t hi, double x)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid].ra < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Test entries [s, e) of the index, stopping past RA `ra_hi`. */
static void scan(worker *w, uint32_t i, const double *v, size_t s, size_t e, double ra_hi)
{
    const zone_index *ix = w->ix;
    for (size_t k = s; k < e && ix->item[k].ra <= ra_hi; k++) {
        const double *u = ix->xyz + 3 * k;
        double dx = v[0] - u[0], dy = v[1] - u[1], dz = v[2] - u[2];
        double d2 = dx * dx + dy * dy + dz * dz;
        if (d2 <= w->d2max) push_pair(w, i, ix->item[k].row, d2);
    }
}

/* Match the left sources [ks, ke) of one left zone (sorted by RA) against one right zone
 * [s, e), with the RA half-window alpha valid for every Dec of the left zone. Because left RA
 * only grows and alpha is the same for the whole zone, the window's lower edge only moves
 * forward: a cursor replaces a binary search per query (a merge join). The pieces of a window
 * that cross RA 0/360 are found by binary search; polar zones (alpha < 0) scan the whole zone. */
static void sweep_zone(worker *w, size_t ks, size_t ke, size_t s, size_t e, double alpha)
{
    const zone_index *q = w->q, *ix = w->ix;
    size_t cursor = s;
    for (size_t k = ks; k < ke; k++) {
        uint32_t i = q->item[k].row;
        const double *v = q->xyz + 3 * k;
        if (alpha < 0) {
            scan(w, i, v, s, e, INFINITY);
            continue;
        }
        double ra = q->item[k].ra, lo = ra - alpha, hi = ra + alpha;
        double edge = lo < 0 ? 0 : lo;
        while (cursor < e && ix->item[cursor].ra < edge) cursor++;
        scan(w, i, v, cursor, e, hi);
        if (lo < 0) /* [lo + 360, 360) */
            scan(w, i, v, lower_bound(ix->item, s, e, lo + 360.0), e, INFINITY);
        if (hi >= 360.0) /* [0, hi - 360] */
            scan(w, i, v, s, e, hi - 360.0);
    }
}

/* All left sources of left zone zq (absolute zone number) from [ks, ke). */
static void query_zone(worker *w, long zq, size_t ks, size_t ke)
{
    const zone_index *ix = w->ix;
    double h = ix->h;
    /* Pad the search box by a hair: the exact chord test decides, the box only prunes. */
    double rpad = w->r_deg * (1 + 1e-9) + 1e-12;
    double dlo = (double)zq * h - 90.0, dhi = dlo + h;
    double maxdec = fmax(fabs(dlo), fabs(dhi));
    if (maxdec > 90.0) maxdec = 90.0;
    /* RA half-width of a circle of radius r at Dec d: asin(sin r / cos d), largest at the
     * zone's largest |Dec|. Near a pole the circle may contain it: scan all RA (alpha < 0). */
    double alpha = -1;
    if (maxdec + rpad <= POLAR_DEC) {
        alpha = asin(fmin(1.0, sin(rpad * DEG) / cos(maxdec * DEG))) / DEG * (1 + 1e-9) + 1e-12;
        if (alpha >= 180.0) alpha = -1;
    }
    long zlo = zone_of(dlo - rpad, h), zhi = zone_of(dhi + rpad, h);
    if (zlo < ix->zmin) zlo = ix->zmin;
    if (zhi > ix->zmin + ix->nz - 1) zhi = ix->zmin + ix->nz - 1;
    for (long z = zlo; z <= zhi; z++) {
        size_t s = ix->start[z - ix->zmin], e = ix->start[z - ix->zmin + 1];
        if (s < e) sweep_zone(w, ks, ke, s, e, alpha);
    }
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    const zone_index *q = w->q;
    /* The left zones overlapping this worker's range [from, to) of the left index. */
    for (long z = 0; z < q->nz; z++) {
        size_t ks = q->start[z] > w->from ? q->start[z] : w->from;
        size_t ke = q->start[z + 1] < w->to ? q->start[z + 1] : w->to;
        if (ks < ke) query_zone(w, q->zmin + z, ks, ke);
    }
    return NULL;
}

/* All pairs within the radius. Each thread takes a contiguous block of the left index, and
 * the resolution below does not depend on the order of pairs, so the result is the same for
 * any number of threads. */
static pair *find_pairs(const zone_index *ix, const zone_index *q, double r_deg, int threads, size_t *npairs)
{
    size_t n = q->n;
    if (threads < 1) threads = 1;
    if ((size_t)threads > n / 1024 + 1) threads = (int)(n / 1024 + 1); /* tiny inputs: no threads */
    worker *ws = pz_xcalloc((size_t)threads, sizeof *ws);
    double chord = 2 * sin(r_deg * DEG / 2);
    for (int t = 0; t < threads; t++) {
        ws[t] = (worker){.ix = ix, .q = q, .r_deg = r_deg, .d2max = chord * chord};
        ws[t].from = n * (size_t)t / (size_t)threads;
        ws[t].to = n * (size_t)(t + 1) / (size_t)threads;
        /* Room for ~1.25 candidates per source up front: growing costs copies and page faults. */
        ws[t].cap = (ws[t].to - ws[t].from) * 5 / 4 + 1024;
        ws[t].pairs = big_alloc(ws[t].cap * sizeof *ws[t].pairs);
    }
    pthread_t *tid = pz_xcalloc((size_t)threads, sizeof *tid);
    int *started = pz_xcalloc((size_t)threads, sizeof *started);
    for (int t = 1; t < threads; t++) started[t] = pthread_create(&tid[t], NULL, worker_run, &ws[t]) == 0;
    worker_run(&ws[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            worker_run(&ws[t]); /* could not start a thread: do its share here */
    }
    size_t total = 0;
    for (int t = 0; t < threads; t++) total += ws[t].n;
    /* The first worker's buffer becomes the whole list: one thread copies nothing. */
    pair *all = ws[0].pairs;
    if (threads > 1) {
        all = pz_xrealloc(all, (total ? total : 1) * sizeof *all);
        size_t at = ws[0].n;
        for (int t = 1; t < threads; t++) {
            if (ws[t].n) memcpy(all + at, ws[t].pairs, ws[t].n * sizeof *all);
            at += ws[t].n;
            free(ws[t].pairs);
        }
    }
    free(ws);
    free(tid);
    free(started);
    *npairs = total;
    return all;
}

/* Separation, then left row, then right row: the greedy order. */
static int pair_less(const pair *x, const pair *y)
{
    if (x->d2 != y->d2) return x->d2 < y->d2;
    if (x->i != y->i) return x->i < y->i;
    return x->j < y->j;
}

DEFINE_SORT(sort_pairs, pair, pair_less)

static double chord_to_arcsec(double d2) { return 2 * asin(fmin(1.0, sqrt(d2) / 2)) / DEG * 3600.0; }

/* best_d2[i]: squared chord of left i's match so far (the caller's separation array). */
static void resolve_nearest(const pair *p, size_t np, pz_xmatch_result *res, double *best_d2)
{
    for (size_t k = 0; k < np; k++) {
        uint32_t i = p[k].i;
        if (res->match[i] < 0 || p[k].d2 < best_d2[i] || (p[k].d2 == best_d2[i] && p[k].j < res->match[i])) {
            res->match[i] = p[k].j;
            best_d2[i] = p[k].d2;
        }
    }
}

/* Greedy by separation. A pair whose two sources have no other candidate is accepted whatever
 * the order, so only the contested pairs (usually few) need sorting. */
static void resolve_best(pair *p, size_t np, const uint8_t *nl, const uint8_t *nr, size_t n2,
                         pz_xmatch_result *res, double *best_d2)
{
    uint8_t *taken = big_calloc(n2, 1);
    size_t ncontested = 0;
    for (size_t k = 0; k < np; k++) {
        if (nl[p[k].i] == 1 && nr[p[k].j] == 1) {
            res->match[p[k].i] = p[k].j;
            best_d2[p[k].i] = p[k].d2;
            taken[p[k].j] = 1;
        } else {
            p[ncontested++] = p[k];
        }
    }
    sort_pairs(p, ncontested);
    for (size_t k = 0; k < ncontested; k++) {
        if (res->match[p[k].i] >= 0 || taken[p[k].j]) continue;
        res->match[p[k].i] = p[k].j;
        best_d2[p[k].i] = p[k].d2;
        taken[p[k].j] = 1;
    }
    free(taken);
}

/* The k-th smallest of a[0..n) (quickselect; a is reordered so a[0..k) <= a[k]). Sorting a
 * million separations just for their median would cost more than the match. */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (pivot < a[j]) j--;
            if (i <= j) {
                double t = a[i]; a[i] = a[j]; a[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return a[k];
}

static void fill_stats(pz_xmatch_result *res, const uint8_t *nl, const uint8_t *nr, size_t n1, size_t n2)
{
    pz_xmatch_stats *s = &res->stats;
    double *seps = big_alloc(n1 * sizeof *seps);
    size_t m = 0;
    uint8_t *right_used = big_calloc(n2, 1);
    for (size_t i = 0; i < n1; i++) {
        if (nl[i] > 1) s->left_multiple++;
        if (res->match[i] < 0) continue;
        seps[m++] = res->sep_arcsec[i];
        right_used[res->match[i]] = 1;
    }
    size_t used = 0;
    for (size_t j = 0; j < n2; j++) {
        used += right_used[j];
        if (nr[j] > 1) s->right_multiple++;
    }
    s->matched = m;
    s->unmatched_left = n1 - m;
    s->unmatched_right = n2 - used;
    s->median_sep_arcsec = s->max_sep_arcsec = NAN;
    if (m) {
        double hi = select_kth(seps, m, m / 2), mx = hi;
        for (size_t k = m / 2; k < m; k++) mx = seps[k] > mx ? seps[k] : mx;
        if (m % 2 == 0) { /* the lower middle is the largest of the lower half */
            double lo = seps[0];
            for (size_t k = 1; k < m / 2; k++) lo = seps[k] > lo ? seps[k] : lo;
            hi = 0.5 * (lo + hi);
        }
        s->median_sep_arcsec = hi;
        s->max_sep_arcsec = mx;
    }
    free(seps);
    free(right_used);
}

int pz_xmatch(const double *ra1, const double *dec1, size_t n1, const double *ra2, const double *dec2, size_t n2,
              double radius_arcsec, pz_xmatch_mode mode, int threads, pz_xmatch_result *res, pz_err *err)
{
    memset(res, 0, sizeof *res);
    if (!(radius_arcsec > 0) || !isfinite(radius_arcsec) || radius_arcsec > 180.0 * 3600.0)
        return pz_errf(err, "cross-match radius %g arcsec must be > 0 and at most 180 degrees", radius_arcsec);
    pz_xmatch_stats st = {.nleft = n1, .nright = n2, .radius_arcsec = radius_arcsec};
    if (check_positions(ra1, dec1, n1, "left", &st.left_no_position, err) < 0) return -1;
    if (check_positions(ra2, dec2, n2, "right", &st.right_no_position, err) < 0) return -1;

    double r_deg = radius_arcsec / 3600.0;
    double h = fmax(r_deg, 180.0 / (double)MAX_ZONES);
    zone_index ix, q;
    build_indexes(&ix, ra2, dec2, n2, &q, ra1, dec1, n1, h, threads);
    size_t np = 0;
    pair *p = find_pairs(&ix, &q, r_deg, threads, &np);
    index_free(&ix);
    index_free(&q);

    res->nleft = n1;
    res->match = big_alloc(n1 * sizeof *res->match);
    res->sep_arcsec = big_alloc(n1 * sizeof *res->sep_arcsec);
    /* The separation array holds squared chords until the end, then arcsec. */
    double *best_d2 = res->sep_arcsec;
    /* Candidate counts, saturated at 2: only "one" versus "several" matters. */
    uint8_t *nl = big_calloc(n1, 1), *nr = big_calloc(n2, 1);
    for (size_t i = 0; i < n1; i++) res->match[i] = -1;
    for (size_t k = 0; k < np; k++) {
        nl[p[k].i] += nl[p[k].i] < 2;
        nr[p[k].j] += nr[p[k].j] < 2;
    }
    if (mode == PZ_XMATCH_NEAREST)
        resolve_nearest(p, np, res, best_d2);
    else
        resolve_best(p, np, nl, nr, n2, res, best_d2);
    for (size_t i = 0; i < n1; i++) res->sep_arcsec[i] = res->match[i] >= 0 ? chord_to_arcsec(best_d2[i]) : NAN;
    st.pairs = np;
    res->stats = st;
    fill_stats(res, nl, nr, n1, n2);
    free(p);
    free(nl);
    free(nr);
    return 0;
}

void pz_xmatch_result_free(pz_xmatch_result *res)
{
    if (!res) return;
    free(res->match);
    free(res->sep_arcsec);
    memset(res, 0, sizeof *res);
}

/* ---- tables ---- */

static double *column_doubles(const pz_table *t, const char *tname, const char *col, pz_err *err)
{
    const pz_column *c = pz_table_need(t, col, tname, err);
    if (!c) return NULL;
    if (c->type == PZ_STR) {
        pz_errf(err, "table '%s': column '%s' holds strings, not coordinates in degrees", tname, col);
        return NULL;
    }
    double *v = pz_xmalloc((t->nrows ? t->nrows : 1) * sizeof *v);
    for (size_t r = 0; r < t->nrows; r++) v[r] = pz_col_f64(c, r);
    return v;
}

int pz_xmatch_tables(const pz_table *left, const char *lname, const char *lra, const char *ldec,
                     const pz_table *right, const char *rname, const char *rra, const char *rdec,
                     double radius_arcsec, pz_xmatch_mode mode, int threads, pz_xmatch_result *res, pz_err *err)
{
    memset(res, 0, sizeof *res);
    double *a1 = NULL, *d1 = NULL, *a2 = NULL, *d2 = NULL;
    int rc = -1;
    if ((a1 = column_doubles(left, lname, lra, err)) && (d1 = column_doubles(left, lname, ldec, err)) &&
        (a2 = column_doubles(right, rname, rra, err)) && (d2 = column_doubles(right, rname, rdec, err))) {
        rc = pz_xmatch(a1, d1, left->nrows, a2, d2, right->nrows, radius_arcsec, mode, threads, res, err);
        if (rc < 0 && strncmp(err->msg, "left", 4) == 0)
            pz_err_prefix(err, "table '%s' (columns %s, %s): ", lname, lra, ldec);
        else if (rc < 0 && strncmp(err->msg, "right", 5) == 0)
            pz_err_prefix(err, "table '%s' (columns %s, %s): ", rname, rra, rdec);
    }
    free(a1);
    free(d1);
    free(a2);
    free(d2);
    return rc;
}

pz_table *pz_xmatch_join(const pz_table *left, const pz_table *right, const pz_xmatch_result *res,
                         const char *prefix, const char *const *rcols, size_t nrcols, pz_err *err)
{
    size_t nsel = rcols ? nrcols : right->ncols;
    const pz_column **sel = pz_xcalloc(nsel ? nsel : 1, sizeof *sel);
    char clash[512] = "";
    size_t clen = 0;
    for (size_t k = 0; k < nsel; k++) {
        sel[k] = rcols ? pz_table_need(right, rcols[k], "right", err) : &right->cols[k];
        if (!sel[k]) {
            free(sel);
            return NULL;
        }
        char *name = pz_xasprintf("%s%s", prefix, sel[k]->name);
        if ((pz_table_col(left, name) || strcmp(name, "sep_arcsec") == 0) && clen < sizeof clash)
            clen += (size_t)snprintf(clash + clen, sizeof clash - clen, "%s%s", clen ? ", " : "", name);
        free(name);
    }
    if (!clen && pz_table_col(left, "sep_arcsec")) clen = (size_t)snprintf(clash, sizeof clash, "sep_arcsec");
    if (clen) {
        free(sel);
        pz_errf(err, "joined table would have duplicate columns: %s (set another right-column prefix)", clash);
        return NULL;
    }
    size_t m = 0;
    size_t *lrows = pz_xmalloc((res->nleft ? res->nleft : 1) * sizeof *lrows);
    size_t *rrows = pz_xmalloc((res->nleft ? res->nleft : 1) * sizeof *rrows);
    for (size_t i = 0; i < res->nleft; i++)
        if (res->match[i] >= 0) {
            lrows[m] = i;
            rrows[m++] = (size_t)res->match[i];
        }
    pz_table *out = pz_table_take(left, lrows, m);
    for (size_t k = 0; k < nsel; k++) {
        char *name = pz_xasprintf("%s%s", prefix, sel[k]->name);
        pz_column_copy_rows(out, name, sel[k], rrows, m);
        free(name);
    }
    pz_column *sep = pz_table_add(out, "sep_arcsec", PZ_F64, 0);
    sep->unit = pz_xstrdup("arcsec");
    for (size_t k = 0; k < m; k++) ((double *)sep->data)[k] = res->sep_arcsec[lrows[k]];
    free(lrows);
    free(rrows);
    free(sel);
    return out;
}

char *pz_xmatch_stats_json(const pz_xmatch_stats *s)
{
    /* NaN is not JSON: no matches give null. */
    char med[64] = "null", mx[64] = "null";
    if (isfinite(s->median_sep_arcsec)) snprintf(med, sizeof med, "%.6f", s->median_sep_arcsec);
    if (isfinite(s->max_sep_arcsec)) snprintf(mx, sizeof mx, "%.6f", s->max_sep_arcsec);
    return pz_xasprintf("{\"radius_arcsec\": %.6g, \"left_rows\": %zu, \"right_rows\": %zu, "
                        "\"left_no_position\": %zu, \"right_no_position\": %zu, \"candidate_pairs\": %zu, "
                        "\"matched\": %zu, \"unmatched_left\": %zu, \"unmatched_right\": %zu, "
                        "\"left_multiple_candidates\": %zu, \"right_multiple_candidates\": %zu, "
                        "\"median_sep_arcsec\": %s, \"max_sep_arcsec\": %s}",
                        s->radius_arcsec, s->nleft, s->nright, s->left_no_position, s->right_no_position, s->pairs,
                        s->matched, s->unmatched_left, s->unmatched_right, s->left_multiple, s->right_multiple, med,
                        mx);
}

char *pz_xmatch_stats_text(const pz_xmatch_stats *s)
{
    return pz_xasprintf("cross-match within %.3g\": %zu left x %zu right sources\n"
                        "  matched            %zu (median separation %.3f\", max %.3f\")\n"
                        "  unmatched          left %zu, right %zu\n"
                        "  several candidates left %zu, right %zu (%zu candidate pairs)\n"
                        "  without position   left %zu, right %zu\n",
                        s->radius_arcsec, s->nleft, s->nright, s->matched, s->median_sep_arcsec, s->max_sep_arcsec,
                        s->unmatched_left, s->unmatched_right, s->left_multiple, s->right_multiple, s->pairs,
                        s->left_no_position, s->right_no_position);
}
