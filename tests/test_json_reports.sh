#!/bin/sh
# `pzflow status --json` and `pzflow why --json` (docs/engine.md names the fields): after a run in
# which one stage failed, the JSON parses, names every stage with its state and reason, counts
# them, gives the failed stage's exit status, and gives no key for a stage whose upstream stage
# has still to run; status --json also says what plain status says of the results folder: none
# yet, matching the pipeline, or differing from it (which stages), with the time of the run it
# shows. Usage: test_json_reports.sh BIN_DIR
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
r = s["results"]
assert r == {"folder": "results/p", "state": "none", "finished": None, "differs": [], "error": None}, r
print("ok: status --json and why --json")
EOF2

# The results folder of a complete run, then of the pipeline edited after it.
printf 'stages:\n  a:\n    run: pzflow-toy-const\n    params: {text: "a"}\n    outputs: [out]\n' >q.yaml
printf '  b:\n    run: pzflow-toy-copy\n    inputs: {x: a/out}\n    outputs: [out]\n' >>q.yaml
pzflow run q.yaml >run_q.log 2>&1 || fail "the run of q.yaml exits $?"
pzflow status q.yaml --json >matches.json || fail "status --json exits $?"
sed 's/text: "a"/text: "z"/' q.yaml >q2.yaml && mv q2.yaml q.yaml
pzflow status q.yaml --json >differs.json || fail "status --json exits $?"
pzflow status q.yaml >differs.txt || fail "status exits $?"
grep -q '^warning: results/q does not match q.yaml: 1 stage differs (a)' differs.txt || fail "text status: $(cat differs.txt)"
/usr/bin/python3 - <<'EOF2' || fail "results in status --json (see above)"
import json, re
m = json.load(open("matches.json"))["results"]
assert (m["folder"], m["state"], m["differs"], m["error"]) == ("results/q", "matches", [], None), m
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["finished"]), m
d = json.load(open("differs.json"))["results"]
assert (d["state"], d["differs"], d["finished"]) == ("differs", ["a"], m["finished"]), d
print("ok: status --json reports the results folder")
EOF2
