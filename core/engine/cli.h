/* The `pzflow` command line. Split from main.c so the whole CLI lives in the core library;
 * this is the one place in the engine that prints and picks exit statuses.
 *
 * Exit statuses: 0 success (for status/why: the report was printed, stale or not),
 * 1 a stage failed, 2 usage or pipeline-file error, 3 the cache is in use (--no-wait),
 * 4 cache or filesystem error, 5 nothing to show yet (show: no complete run in the results
 * folder; log: the stage has not run with this cache), 130 interrupted (Ctrl-C, SIGTERM, SIGHUP).
 * 5 is not 1: nothing failed, and a script may well run the pipeline and ask again. */
#ifndef PZ_CLI_H
#define PZ_CLI_H

enum { PZ_EXIT_OK = 0, PZ_EXIT_STAGE_FAILED = 1, PZ_EXIT_USAGE = 2, PZ_EXIT_BUSY = 3, PZ_EXIT_CACHE = 4,
       PZ_EXIT_NOT_RUN = 5, PZ_EXIT_INTERRUPTED = 130 };

int pz_cli_main(int argc, char **argv);

#endif
