/* Generation rate of the mock sky (galaxies per second on one core).
 *
 *   build/bench_mock [N [minimal|full [OUTDIR]]]      (defaults: 1000000 minimal /tmp)
 *
 * Times the population (SED grid, LF sampling, positions, masks) and the COSMOS2020 writer
 * (photometry, photo-z, row packing, cfitsio) for N rows, then HSC and GalaxiesML for the record.
 * There is no peer program for this stage; the figure is compared with the 100k/s goal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_sky.h"

int main(int argc, char **argv)
{
    pz_mock_params p;
    pz_mock_params_default(&p);
    p.n_cosmos = argc > 1 ? atol(argv[1]) : 1000000;
    p.layout = argc > 2 ? argv[2] : "minimal";
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    pz_err err;
    if (pz_mock_params_check(&p, &err) < 0) pz_die("bench_mock", &err, 2);
    char *cosmos = pz_xasprintf("%s/bench_mock_cosmos.fits", dir);
    pz_mock_paths paths = {.cosmos = cosmos};
    pz_mock_stats st;
    if (pz_mock_sky_run(&p, &paths, NULL, &st, &err) < 0) pz_die("bench_mock", &err, 1);
    double t = st.seconds_population + st.seconds_cosmos;
    printf("mock sky, %s layout, %ld rows: population %.2f s, cosmos2020 write %.2f s -> %.0f galaxies/s/core "
           "(goal 100000, ratio %.2f)\n",
           p.layout, p.n_cosmos, st.seconds_population, st.seconds_cosmos, p.n_cosmos / t, p.n_cosmos / t / 1e5);
    remove(cosmos);
    free(cosmos);
    /* The other outputs at the default sizes, for the record. */
    pz_mock_params q;
    pz_mock_params_default(&q);
    char *h = pz_xasprintf("%s/bench_mock_hsc.fits", dir), *g0 = pz_xasprintf("%s/bench_mock_tr.h5", dir),
         *g1 = pz_xasprintf("%s/bench_mock_va.h5", dir), *g2 = pz_xasprintf("%s/bench_mock_te.h5", dir),
         *c2 = pz_xasprintf("%s/bench_mock_c2.fits", dir);
    pz_mock_paths all = {.cosmos = c2, .hsc = h, .gml = {g0, g1, g2}};
    if (pz_mock_sky_run(&q, &all, NULL, &st, &err) < 0) pz_die("bench_mock", &err, 1);
    printf("default stage (%ld cosmos rows, %ld GalaxiesML rows): population %.2f s, cosmos %.2f s, hsc %.2f s "
           "(%zu rows), galaxiesml %.2f s\n",
           q.n_cosmos, q.n_galaxiesml, st.seconds_population, st.seconds_cosmos, st.seconds_hsc, st.n_hsc,
           st.seconds_gml);
    const char *files[] = {h, g0, g1, g2, c2};
    for (int i = 0; i < 5; i++) remove(files[i]);
    free(h); free(g0); free(g1); free(g2); free(c2);
    return 0;
}
