#!/usr/bin/env bash
# Fuzz campaigns: every harness in fuzz/ with libFuzzer (clang build in build-fuzz/).
#
#   fuzz/run.sh [SECONDS] [TARGET...]   SECONDS per target (default 20), a random seed, and a
#                                       working corpus in build-fuzz/corpus/<target> that grows
#                                       from run to run (e.g. `fuzz/run.sh 3600`)
#
# Campaigns look for new bugs; they are not part of CI, because libFuzzer's search depends on
# coverage feedback, timing and directory order, so it finds different inputs on different
# machines (a fixed-seed CI pass once failed in a fresh clone elsewhere on an input it never
# generated here). CI instead replays the corpus and runs deterministic mutants of it under
# ASan+UBSan (ctest's fuzz_replay_* and fuzz_mutate_*; fuzz/driver.c).
#
# Any crash a campaign finds is copied into tests/fuzz/<target>/, so the ordinary ctest replay
# keeps it as a regression test, and the script fails. Commit the find with its fix.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"; shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DPZ_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
status=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  mode=(-max_total_time="$seconds")
  mkdir -p "$corpus" "build-fuzz/artifacts/$t"
  cp -n tests/fuzz/"$t"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $t ${mode[*]}"
  # allocator_may_return_null + max_allocation_size_mb: a corrupt file can make HDF5 (or the
  # table reader, for a compressed column) ask for gigabytes it never touches; a normal build
  # gets them lazily or gets NULL and reports the file (tests/fuzz/hdf5/*-alloc.h5), but ASan
  # touches shadow memory for each and turns them into timeouts. Here any single allocation over
  # 1 GB fails, as it would on a small machine; pzflow's pz_x* allocators still abort on NULL,
  # so its own unchecked sizes stay visible. fuzz/asan.supp: reads past buffers inside HDF5
  # 1.10.8 itself, each with its reason.
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=1024:suppressions=$PWD/fuzz/asan.supp LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp \
       build-fuzz/bin/fuzz_"$t" "$corpus" "${mode[@]}" \
       -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
       -artifact_prefix="build-fuzz/artifacts/$t/" >"build-fuzz/fuzz_$t.log" 2>&1; then
    echo "fuzz: $t FOUND A CRASH (log build-fuzz/fuzz_$t.log):"
    tail -30 "build-fuzz/fuzz_$t.log"
    for a in build-fuzz/artifacts/"$t"/*; do
      [ -f "$a" ] && cp "$a" "tests/fuzz/$t/$(basename "$a")" && echo "fuzz: saved tests/fuzz/$t/$(basename "$a")"
    done
    status=1
  else
    grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "build-fuzz/fuzz_$t.log" | tail -1 || true
  fi
done
exit $status
