/* `executor:` and a stage's `resources:` (schemas/pipeline.md, docs/cluster.md): checked when
 * the pipeline is loaded, so a typo in a memory size stops the run before anything is
 * submitted, with the file, line and column, rather than as an sbatch refusal later. */
#include "engine/load.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const resource_keys[] = {"cpus", "mem", "time", "partition", "account"};
enum { NRESOURCE_KEYS = sizeof resource_keys / sizeof *resource_keys };

static int all_digits(const char *s, size_t n)
{
    if (!n) return 0;
    for (size_t k = 0; k < n; k++)
        if (!isdigit((unsigned char)s[k])) return 0;
    return 1;
}

/* Slurm's memory size: a whole number, optionally K, M, G or T ("4G", "500M", "4000"). */
static int is_mem(const char *s)
{
    size_t n = strlen(s);
    if (n && strchr("KMGT", s[n - 1])) n--;
    return all_digits(s, n) && n <= 12;
}

/* Slurm's time limit: "M", "M:S", "H:M:S", "D-H", "D-H:M" or "D-H:M:S". */
static int is_time(const char *s)
{
    const char *dash = strchr(s, '-');
    if (dash && !all_digits(s, (size_t)(dash - s))) return 0;
    const char *p = dash ? dash + 1 : s;
    int groups = 0;
    for (;;) {
        size_t n = strcspn(p, ":");
        if (!all_digits(p, n) || n > 8) return 0;
        groups++;
        if (!p[n]) break;
        p += n + 1;
    }
    return groups <= 3;
}

/* Partition and account names (a partition may be a comma list). */
static int is_slurm_name(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.,-", *s)) return 0;
    return 1;
}

static int resource_string(const pz_src *src, const pz_ynode *v, const char *key, char **out, pz_err *err)
{
    int ok = v->kind == PZ_Y_SCALAR;
    if (ok && !strcmp(key, "mem")) ok = is_mem(v->str);
    else if (ok && !strcmp(key, "time")) ok = is_time(v->str);
    else if (ok) ok = is_slurm_name(v->str);
    if (!ok) {
        static const char *const want[] = {"a memory size such as 4G, 500M or 4000 (MB)",
                                           "a Slurm time such as 30 (minutes), 2:00:00 or 1-12:00:00",
                                           "a Slurm name (letters, digits, '_', '.', '-', ',')"};
        int w = !strcmp(key, "mem") ? 0 : !strcmp(key, "time") ? 1 : 2;
        return pz_src_err(src, v, err, "resources: %s must be %s, got %s%s%s", key, want[w],
                          v->kind == PZ_Y_SCALAR ? "'" : "", v->kind == PZ_Y_SCALAR ? v->str : pz_ykind_name(v->kind),
                          v->kind == PZ_Y_SCALAR ? "'" : "");
    }
    *out = pz_xstrdup(v->str);
    return 0;
}

int pz_load_resources(const pz_src *src, const pz_ynode *n, pz_resources *r, pz_err *err)
{
    if (n->kind != PZ_Y_MAP)
        return pz_src_err(src, n, err, "resources must be a mapping of cpus, mem, time, partition, account; got %s",
                          pz_ykind_name(n->kind));
    for (size_t i = 0; i < n->n; i++) {
        const char *k = n->keys[i]->str;
        const pz_ynode *v = n->items[i];
        size_t j = 0;
        while (j < NRESOURCE_KEYS && strcmp(k, resource_keys[j])) j++;
        if (j == NRESOURCE_KEYS) {
            const char *near = pz_closest_name(k, resource_keys, NRESOURCE_KEYS);
            return pz_src_err(src, n->keys[i], err, "unknown key '%s' in resources (%s%s%s)", k,
                              near ? "did you mean '" : "allowed: cpus, mem, time, partition, account",
                              near ? near : "", near ? "'?" : "");
        }
        if (!strcmp(k, "cpus")) {
            if (pz_src_positive_long(src, v, "resources: cpus", 100000, &r->cpus, err) < 0) return -1;
            continue;
        }
        char **slot = !strcmp(k, "mem") ? &r->mem : !strcmp(k, "time") ? &r->time : !strcmp(k, "partition") ? &r->partition
                                                                                                           : &r->account;
        free(*slot);
        *slot = NULL;
        if (resource_string(src, v, k, slot, err) < 0) return -1;
    }
    return 0;
}

void pz_resources_clear(pz_resources *r)
{
    free(r->mem), free(r->time), free(r->partition), free(r->account);
    memset(r, 0, sizeof *r);
}

int pz_load_executor(const pz_src *src, const pz_ynode *n, char **out, pz_err *err)
{
    if (n->kind != PZ_Y_SCALAR || (strcmp(n->str, "local") && strcmp(n->str, "slurm")))
        return pz_src_err(src, n, err, "executor must be local or slurm, got %s%s%s", n->kind == PZ_Y_SCALAR ? "'" : "",
                          n->kind == PZ_Y_SCALAR ? n->str : pz_ykind_name(n->kind), n->kind == PZ_Y_SCALAR ? "'" : "");
    *out = pz_xstrdup(n->str);
    return 0;
}
