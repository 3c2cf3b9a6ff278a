#!/usr/bin/env bash
# The test suite under valgrind memcheck: every error and every definite or indirect leak fails
# the test. Builds build-valgrind/ (Debug, no sanitizers) with valgrind as the test "emulator",
# so ctest starts each test binary under valgrind; extra arguments go to ctest:
#   scripts/valgrind.sh                         whole suite (slow: valgrind costs ~20-50x)
#   scripts/valgrind.sh -R 'fuzz_replay|bad_input|table'
#
# Children: stage executables and `pzflow` started by the tests are traced too (through the
# /bin/sh that pzt_run uses), since they hold most of the code. Not traced (their own memory is
# not ours to check, and Python under memcheck is very slow and noisy): python3, gnuplot, dot
# and the coreutils tests call. "Still reachable" memory is not an error: HDF5, OpenBLAS and
# libyaml keep process-lifetime allocations on purpose. Third-party noise that remains is in
# scripts/valgrind.supp, each entry with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
supp="$PWD/scripts/valgrind.supp"
skip='*python3*,*gnuplot*,*/dot,*/rm,*/cp,*/mv,*/mkdir,*/cat,*/ln,*/sleep,*/kill,*/timeout,*/env,*/true,*/sync'
# (sort and cksum print their own small leaks into output test_faults compares)
skip+=',*/sort,*/cksum,*/head,*/tail,*/wc,*/grep,*/sed,*/find,*/ls,*/stat,*/cmp,*/touch,*/chmod,*/truncate,*/dd'
vg="valgrind;--tool=memcheck;--error-exitcode=99;--leak-check=full;--errors-for-leak-kinds=definite,indirect"
vg+=";--show-leak-kinds=definite,indirect;--suppressions=$supp;--trace-children=yes"
vg+=";--trace-children-skip=$skip;--num-callers=30;--quiet"
cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=Debug -DPZ_TEST_TIMEOUT=14400 "-DCMAKE_CROSSCOMPILING_EMULATOR=$vg" >/dev/null
cmake --build build-valgrind -j "$(nproc)" >/dev/null
# OpenBLAS picks AVX-512 kernels on machines that have them; valgrind 3.19 cannot run AVX-512.
export OPENBLAS_CORETYPE=Haswell
# One BLAS thread: valgrind runs threads one at a time, and OpenBLAS workers spin while they wait,
# which made test_nn_train take over 35 min instead of a few.
export OPENBLAS_NUM_THREADS=1
# Tests that race two pzflow runs stretch their sleeps to stay ordered at valgrind speed.
export PZT_TIME_SCALE=10
cd build-valgrind && exec ctest --output-on-failure "$@"
