/* Replays fuzz inputs without libFuzzer, and mutates them deterministically.
 *
 *   fuzz_<target> FILE_OR_DIR...                      every file, once
 *   fuzz_<target> --mutate N [--seed S] [--last FILE] FILE_OR_DIR...
 *                                                     every file, then N mutants of each
 *
 * The normal build links each harness with this driver; ctest replays tests/fuzz/<target>/
 * (seeds plus every crash ever found), so a fixed crash stays fixed, and the ASan+UBSan build
 * also runs the mutants (CMakeLists.txt).
 *
 * Why a mutator of our own, when libFuzzer has a better one: CI must give the same verdict on
 * every machine. libFuzzer's search depends on coverage feedback, on timing and on the order a
 * directory lists same-size files in, so a fixed seed still explored differently in a fresh
 * clone elsewhere, found a new HDF5 crash there, and failed CI where it had passed here. This
 * mutator is a pure function of (seed, file name, file bytes, mutant number): files are taken
 * in strcmp order, the generator is splitmix64, and nothing depends on what earlier inputs did.
 * The same commit therefore feeds the same inputs to the same code everywhere. The open-ended
 * search stays with libFuzzer campaigns (fuzz/run.sh), whose finds are committed to the corpus.
 *
 * --last FILE: each input is written there before it runs, so the one that crashed survives the
 * crash (fuzz/run.sh and the CMake test copy it into the corpus to keep it as a regression). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MUTANT (1 << 20) /* libFuzzer's -max_len in fuzz/run.sh is far below this */

typedef struct {
    long mutants;      /* per input; 0 = replay only */
    uint64_t seed;
    const char *last;  /* where each input is written before it runs, or NULL */
    int count;
} driver;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t *rng, uint64_t n) { return n ? splitmix64(rng) % n : 0; }

/* FNV-1a of the file's base name: mutants depend on the name, not the checkout's path. */
static uint64_t name_hash(const char *path)
{
    const char *base = strrchr(path, '/');
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = base ? base + 1 : path; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return h;
}

/* Values that sit on the edges parsers check: zero, one, sign bits, all ones, powers of two. */
static uint64_t interesting(uint64_t *rng)
{
    static const uint64_t values[] = {0, 1, 2, 7, 8, 16, 255, 256, 0x7f, 0x80, 0xffff, 0x7fffffff, 0x80000000,
                                      0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL, UINT64_MAX};
    uint64_t v = values[below(rng, sizeof values / sizeof *values)];
    return below(rng, 4) == 0 ? (uint64_t)1 << below(rng, 64) : v;
}

/* One edit of buf[0..*len): flip a bit, set a byte, write an interesting 1/2/4/8-byte integer,
 * copy a block over another, delete a block, or truncate. */
static void mutate_once(uint64_t *rng, uint8_t *buf, size_t *len)
{
    size_t n = *len;
    if (n == 0) {
        buf[0] = (uint8_t)splitmix64(rng), *len = 1;
        return;
    }
    size_t at = below(rng, n), span = 1 + below(rng, n - at < 64 ? n - at : 64);
    switch (below(rng, 6)) {
    case 0: buf[at] ^= (uint8_t)(1u << below(rng, 8)); break;
    case 1: buf[at] = (uint8_t)interesting(rng); break;
    case 2: {
        size_t width = (size_t)1 << below(rng, 4);
        uint64_t v = interesting(rng);
        for (size_t i = 0; i < width && at + i < n; i++) buf[at + i] = (uint8_t)(v >> (8 * i));
        break;
    }
    case 3: {
        size_t from = below(rng, n);
        if (span > n - from) span = n - from;
        memmove(buf + at, buf + from, span < n - at ? span : n - at);
        break;
    }
    case 4: memmove(buf + at, buf + at + span, n - at - span), *len = n - span; break;
    default: *len = at; break;
    }
}

static void write_last(const driver *d, const uint8_t *buf, size_t n)
{
    if (!d->last) return;
    FILE *f = fopen(d->last, "wb");
    if (!f) return;
    fwrite(buf, 1, n, f);
    fclose(f);
}

static void run_one(driver *d, const uint8_t *buf, size_t n)
{
    write_last(d, buf, n);
    LLVMFuzzerTestOneInput(buf, n);
    d->count++;
}

static void run_mutants(driver *d, const char *path, const uint8_t *orig, size_t n)
{
    uint8_t *buf = malloc(MAX_MUTANT);
    if (!buf) return;
    if (n > MAX_MUTANT) n = MAX_MUTANT;
    uint64_t base = d->seed ^ name_hash(path);
    for (long m = 0; m < d->mutants; m++) {
        uint64_t rng = base + (uint64_t)m * 0x632be59bd9b4e019ULL;
        size_t len = n;
        memcpy(buf, orig, n);
        for (uint64_t edits = 1 + below(&rng, 8); edits > 0; edits--) mutate_once(&rng, buf, &len);
        run_one(d, buf, len);
    }
    free(buf);
}

static int replay_file(driver *d, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) return 1;
    run_one(d, buf, n);
    run_mutants(d, path, buf, n);
    free(buf);
    return 0;
}

static int by_bytes(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int replay(driver *d, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) { perror(path); return 1; }
    if (!S_ISDIR(st.st_mode)) return replay_file(d, path);
    struct dirent **names;
    int n = scandir(path, &names, NULL, by_bytes); /* strcmp, not the locale's order */
    if (n < 0) { perror(path); return 1; }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char child[4096];
            snprintf(child, sizeof child, "%s/%s", path, names[i]->d_name);
            rc |= replay(d, child);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    driver d = {0, 1, NULL, 0};
    int rc = 0, first = 1;
    for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
        if (strcmp(argv[first], "--mutate") == 0) d.mutants = atol(argv[first + 1]);
        else if (strcmp(argv[first], "--seed") == 0) d.seed = strtoull(argv[first + 1], NULL, 10);
        else if (strcmp(argv[first], "--last") == 0) d.last = argv[first + 1];
        else {
            fprintf(stderr, "usage: %s [--mutate N] [--seed S] [--last FILE] FILE_OR_DIR...\n", argv[0]);
            return 2;
        }
    }
    for (int i = first; i < argc; i++) rc |= replay(&d, argv[i]);
    printf("ran %d inputs without a crash\n", d.count);
    return rc || d.count == 0;
}
