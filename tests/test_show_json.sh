#!/bin/sh
# `pzflow show --json` (docs/engine.md names the fields) and the exit status of show and log on
# a pipeline that has not run: 5 "not run yet" (it was 1, "a stage failed", though nothing had
# failed), with nothing on stdout. After a run the JSON parses, names each output's stage,
# output, hash and file, gives each text file's contents as `show` prints them, and null for a
# file that is not text. Usage: test_show_json.sh BIN_DIR
set -eu
bin=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pz-show.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cat >"$work/p.yaml" <<'EOF2'
stages:
  a:
    run: pzflow-toy-const
    params: {text: "a \"quoted\" line"}
    outputs: [out]
  b:
    run: pzflow-toy-copy
    inputs: {x: a/out}
    outputs: [out]
  bin:
    run: pzflow-toy-copy
    inputs: {x: blob.bin}
    outputs: [out]
show: [a/out, b/out, bin/out]
EOF2
cd "$work"
printf 'PK\000\001binary' >blob.bin
export PATH="$bin:$PATH"
status=0; pzflow show p.yaml >out.txt 2>err.txt || status=$?
[ "$status" = 5 ] || fail "show before any run exits $status, not 5"
grep -q "holds no complete run yet" err.txt || fail "show before any run says: $(cat err.txt)"
[ ! -s out.txt ] || fail "show before any run printed: $(cat out.txt)"
status=0; pzflow show p.yaml --json >out.txt 2>err.txt || status=$?
[ "$status" = 5 ] && [ ! -s out.txt ] || fail "show --json before any run: exit $status, stdout $(cat out.txt)"
status=0; pzflow log p.yaml a >out.txt 2>err.txt || status=$?
[ "$status" = 5 ] || fail "log before any run exits $status, not 5"
grep -q "no log for a: it has not run with this cache" err.txt || fail "log before any run says: $(cat err.txt)"
pzflow run p.yaml >run.log 2>&1 || fail "run exits $? ($(cat run.log))"
pzflow log p.yaml a >/dev/null || fail "log after the run exits $?"
pzflow show p.yaml >show.txt || fail "show exits $?"
pzflow show p.yaml --json >show.json || fail "show --json exits $?"
/usr/bin/python3 - <<'EOF2' || fail "show --json (see above)"
import json
s = json.load(open("show.json"))
assert s["pipeline"] == "p.yaml" and s["results"] == "results/p", s
o = s["outputs"]
assert [(x["stage"], x["output"]) for x in o] == [("a", "out"), ("b", "out"), ("bin", "out")], o
for x in o[:2]:
    assert len(x["hash"]) == 32 and open(x["path"]).read() == x["text"], x
assert o[0]["text"] == 'a "quoted" line\n', o[0]
assert b"\0" in open(o[2]["path"], "rb").read() and o[2]["text"] is None, o[2]
shown = open("show.txt", encoding="latin-1").read()
assert "==> a/out <==\n" + o[0]["text"] in shown and "==> b/out <==\n" in shown, shown
print("ok: show --json, and exit 5 for show and log before any run")
EOF2
