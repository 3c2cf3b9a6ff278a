/* Run records and the per-pipeline last-run index: the small text files that make up the
 * engine's memory (formats in schemas/cache.md).
 *
 * A run record (cache/runs/<key>) is written once, last, after a stage's outputs are in the
 * object store: its existence is what makes a stage key "done". It keeps every ingredient of
 * the key (executable hash, params, input hashes, output names, threads), so `status` and `why`
 * can say exactly what changed between two runs, plus output name -> object hash, the log
 * object, the times and the exit status.
 *
 * The index (cache/pipelines/<hash of the pipeline path>) maps each stage instance of one
 * pipeline to the key of its last successful run and the log of its last attempt. It answers
 * "changed relative to what?" and is the root set of `pzflow gc`. */
#ifndef PZ_RECORD_H
#define PZ_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "engine/hash.h"
#include "util/err.h"

/* Bumped when the meaning of a key's ingredients changes: every stage reruns once. */
#define PZ_STAGE_FORMAT 1

typedef struct pz_objstat {
    uint64_t size;
    int64_t mtime_ns; /* 0: unknown */
} pz_objstat;

typedef struct pz_record_input {
    char *name;
    int is_list;
    size_t nhashes;
    char (*hashes)[PZ_HASH_HEX];
    size_t cap;                /* room in hashes (pz_record_input_push); 0 when built by hand */
} pz_record_input;

typedef struct pz_record {
    char key[PZ_HASH_HEX];
    char *stage;               /* instance name at the time of the run (informational) */
    long format;               /* PZ_STAGE_FORMAT */
    char exe_hash[PZ_HASH_HEX];
    char *exe_path;            /* informational */
    char *pzflow_version;      /* of the pzflow that ran it (informational, for `pzflow
                                  provenance`); NULL in records of older versions. A record is
                                  formatted only to be written by this pzflow, so formatting
                                  writes PZ_VERSION when it is NULL. */
    long threads;
    char *params;              /* canonical JSON (part of the key) */
    char *params_text;         /* params as written, JSON (for messages: "5e-4 -> 1e-4") */
    size_t ninputs;
    pz_record_input *inputs;   /* sorted by name */
    size_t in_cap;             /* room in inputs (pz_record_add_input); 0 when built by hand */
    size_t noutputs;
    char **out_names;          /* sorted */
    char (*out_hashes)[PZ_HASH_HEX];
    /* Size and mtime of each output object when it was committed, or NULL / zeros when not
     * known (records of older versions). A cheap corruption check: an object whose stat no
     * longer matches is re-hashed before it is trusted (status.c). */
    pz_objstat *out_stat;
    size_t out_cap;            /* room in the three output arrays (pz_record_add_output); 0 when
                                  they were built by hand */
    int64_t start_ns, end_ns;
    int status;
    pz_objstat file_stat;      /* of the record file when read or written (not stored in it) */
    char log_hash[PZ_HASH_HEX]; /* "" if none */
} pz_record;

char *pz_record_format(const pz_record *r);
pz_record *pz_record_parse(const char *text, const char *src, pz_err *err);
void pz_record_free(pz_record *r);
/* Output hash by name, or NULL. */
const char *pz_record_output(const pz_record *r, const char *name);
void pz_record_add_input(pz_record *r, const char *name, int is_list);
/* Append an output (hash NULL: not known yet); its stat starts unknown. */
void pz_record_add_output(pz_record *r, const char *name, const char *hash);
/* The committed stat of output k, or NULL when unknown. */
const pz_objstat *pz_record_output_stat(const pz_record *r, size_t k);
void pz_record_input_push(pz_record_input *in, const char *hash);

/* Per-pipeline last-run index. */
typedef struct pz_index_entry {
    char *stage;
    char key[PZ_HASH_HEX];      /* last successful (or found up to date) key, "" if none */
    char log_hash[PZ_HASH_HEX]; /* log of the last attempt, "" if none */
    int failed_status;          /* 0, or the exit status (128+signal) of a failed last attempt */
    /* A copy of the outputs of the record of `key`, so a no-op check reads this one file and
     * not one record per stage. The record stays authoritative: the copy is used only while
     * the record file still has the size and mtime in rec_stat (mtime 0: no copy). */
    pz_objstat rec_stat;
    pz_record *outputs;         /* key and outputs only; NULL: no copy */
} pz_index_entry;

typedef struct pz_index {
    char *pipeline;             /* absolute pipeline path */
    size_t n, cap;
    pz_index_entry *e;
    size_t *slots, nslots;      /* open-addressing table of entry numbers + 1, by stage name */
    /* The keys the results folder shows (its last complete run, results.h): gc roots, so gc
     * never removes what the folder links to even after an incomplete run moved `key` on. */
    size_t nresults;
    char (*results)[PZ_HASH_HEX];
    int dirty;
} pz_index;

pz_index *pz_index_new(const char *pipeline);
pz_index *pz_index_parse(const char *text, const char *src, pz_err *err);
char *pz_index_format(const pz_index *ix);
void pz_index_free(pz_index *ix);
pz_index_entry *pz_index_get(const pz_index *ix, const char *stage);
pz_index_entry *pz_index_put(pz_index *ix, const char *stage);
/* Keep a copy of r's outputs in e (rec_stat: the record file's size and mtime). 1 if e
 * changed. */
int pz_index_set_outputs(pz_index_entry *e, const pz_record *r, const pz_objstat *rec_stat);
/* A record with e's key and outputs (malloc'd), or NULL when e holds no copy. */
pz_record *pz_index_outputs_record(const pz_index_entry *e);
/* Replace the index's results keys (marks it dirty when they change). */
void pz_index_set_results(pz_index *ix, const char (*keys)[PZ_HASH_HEX], size_t n);

/* Names and paths in these line formats are percent-escaped: bytes <= ' ', '%' and 0x7f. */
char *pz_escape(const char *s);
char *pz_unescape(const char *s); /* NULL on a malformed escape */

#endif
