#!/bin/sh
# `pzflow status --json` and `pzflow why --json` (docs/engine.md names the fields): after a run in
# which one stage failed, the JSON parses, names every stage with its state and reason, counts
# them, gives the failed stage's exit status, and gives no key for a stage whose upstream stage
# has still to run. Usage: test_json_reports.sh BIN_DIR
set -eu
bin=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pz-json.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cat >"$work/p.yaml" <<'EOF2'
stages:
  a:
    run: pzflow-toy-const
    params: {text: "a"}
    outputs: [out]
  bad:
    run: pzflow-toy-fail
    params: {status: 3, lines: 1}
    inputs: {x: a/out}
    outputs: [out]
  after:
    run: pzflow-toy-copy
    inputs: {x: bad/out}
    outputs: [out]
EOF2
cd "$work"
export PATH="$bin:$PATH"
pzflow run p.yaml --keep-going >run.log 2>&1 && fail "the run should fail"
pzflow status p.yaml --json >status.json || fail "status --json exits $?"
pzflow why p.yaml bad --json >why_bad.json || fail "why --json exits $?"
pzflow why p.yaml after --json >why_after.json || fail "why --json exits $?"
/usr/bin/python3 - <<'EOF2' || fail "JSON reports (see above)"
import json
s = json.load(open("status.json"))
states = {x["name"]: (x["state"], x["reason"]) for x in s["stages"]}
assert s["pipeline"] == "p.yaml", s
assert states["a"] == ("ok", None), states
assert states["bad"] == ("stale", "last run failed (exit status 3)"), states
assert states["after"][0] in ("stale", "maybe"), states
assert (s["stale"], s["waiting"], s["up_to_date"]) == (
    sum(v[0] == "stale" for v in states.values()), sum(v[0] == "maybe" for v in states.values()), 1), s
b = json.load(open("why_bad.json"))["stages"]
assert [x["name"] for x in b] == ["bad"] and b[0]["last_failed_status"] == 3, b
assert len(b[0]["key"]) == 32 and b[0]["last_key"] is None, b
a = json.load(open("why_after.json"))["stages"][0]
assert a["key"] is None, a
print("ok: status --json and why --json")
EOF2
