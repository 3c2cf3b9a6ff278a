#!/usr/bin/env bash
# Fuzz every harness in fuzz/ with libFuzzer for SECONDS each (default 20; CI uses the default,
# a longer campaign is e.g. `fuzz/run.sh 3600`). Builds with clang into build-fuzz/. The working
# corpus lives in build-fuzz/corpus/<target>, seeded from tests/fuzz/<target>; any crash is
# copied into tests/fuzz/<target>/ (so the ordinary ctest replay keeps it as a regression test)
# and the script fails.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DPZ_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
status=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus" "build-fuzz/artifacts/$t"
  cp -n tests/fuzz/"$t"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $t for ${seconds}s"
  # allocator_may_return_null: an impossible size asked of malloc inside HDF5 or cfitsio gets
  # NULL, as in a normal build (tests/fuzz/known/); pzflow's pz_x* allocators still abort on it.
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp build-fuzz/bin/fuzz_"$t" "$corpus" -max_total_time="$seconds" \
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
