#!/usr/bin/env bash
# A kill -9 campaign: test_faults with its random-time SIGKILL case switched on, ROUNDS times
# with a new seed each (default 10). The suite CI runs places every fault at a counted call, so
# it gives the same verdict on any machine; kills at moments in seconds land on different steps
# on different machines, which is what a campaign is for. A failing round prints its seed:
# rerun it with PZ_FAULT_CAMPAIGN=1 PZ_FAULT_SEED=<seed> build/bin/test_faults.
#
#   scripts/fault_campaign.sh [ROUNDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-10}"; build="${2:-build}"
[ -x "$build/bin/test_faults" ] || { echo "fault_campaign: build first (./setup.sh)" >&2; exit 2; }
export PZ_BIN_DIR="$PWD/$build/bin" PZ_SOURCE_DIR="$PWD" PZ_TEST_TMP="$PWD/$build/testtmp" PZ_FAULT_CAMPAIGN=1
for ((r = 1; r <= rounds; r++)); do
  seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
  echo "fault_campaign: round $r/$rounds, PZ_FAULT_SEED=$seed"
  if ! PZ_FAULT_SEED=$seed "$build/bin/test_faults" > "$build/fault_campaign.log" 2>&1; then
    tail -40 "$build/fault_campaign.log"
    echo "fault_campaign: round $r FAILED (PZ_FAULT_SEED=$seed; log $build/fault_campaign.log)"
    exit 1
  fi
done
echo "fault_campaign: $rounds rounds passed"
