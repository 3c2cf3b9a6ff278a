/* Hash files with pzflow's content hash (XXH3-128, engine/hash.c) and print "hash  path", like
 * md5sum. Used by bench/bench_engine.sh to measure hashing throughput. */
#include <stdio.h>

#include "engine/hash.h"

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        char h[PZ_HASH_HEX];
        pz_err err;
        if (pz_hash_file(argv[i], h, NULL, &err) < 0) {
            fprintf(stderr, "bench_hash: %s\n", err.msg);
            rc = 1;
            continue;
        }
        printf("%s  %s\n", h, argv[i]);
    }
    return rc;
}
