#!/bin/sh
# `pzflow run` in a terminal of 80x24 (issue 16, part 3): a tmux session of that size runs it
# under script(1), which keeps every byte written to the terminal; then
#   1. every line written fits 80 columns, escapes aside (a live line that wrapped could not be
#      erased and the redraws would pile up in the scrollback); a path is never cut, so the one
#      line holding a log's absolute path is left out of this check;
#   2. the total of [n/N] is one number through a run, also when early cutoff spares a stage;
#   3. the final screen has no progress bar left, lists the failed stage with its log path, and
#      ends with the summary; the exit status is 1 (a stage failed);
#   4. colour: on by default on a terminal, off with NO_COLOR or in a pipe, on with --color=always.
# The toy stages make progress lines longer than the terminal. Usage: test_terminal.sh BIN_DIR
set -eu
bin=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/pzt.XXXXXX)  # short on purpose: the log paths on screen are relative to it
sock="pz-term-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
PY=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }

long="with a progress text that is much longer than any terminal line would be, to be cut"
cat >"$work/p.yaml" <<EOF2
stages:
  a-stage-with-a-name-longer-than-its-column:
    run: pzflow-toy-progress
    params: {steps: 30, ms: 50, text: "$long"}
    outputs: [out]
  spared-by-early-cutoff:
    run: pzflow-toy-copy
    inputs: {x: a-stage-with-a-name-longer-than-its-column/out}
    outputs: [out]
  b:
    run: pzflow-toy-progress
    params: {steps: 20, ms: 50, text: "$long"}
    outputs: [out]
  bad:
    run: pzflow-toy-fail
    params: {status: 3, lines: 3}
    inputs: {x: b/out}
    outputs: [out]
EOF2

# run_in_tty NAME ENV ARGS: `pzflow run p.yaml ARGS` in the 80x24 terminal with the environment
# additions ENV; leaves NAME.raw (every byte), NAME.screen (the final screen) and NAME.exit.
run_in_tty() {
    name=$1 envs=$2
    shift 2
    tmux -L "$sock" new-session -d -x 80 -y 24 -s "$name" \
        "cd '$work' && env PATH='$bin':\"\$PATH\" $envs script -q -e -c 'pzflow run p.yaml $*' $name.raw; echo \$? >$name.exit.tmp; mv $name.exit.tmp $name.exit; sleep 600"
    if [ -n "${resize:-}" ]; then
        sleep 0.5
        tmux -L "$sock" resize-window -t "$name" -x "$resize" -y 24
    fi
    i=0
    while [ ! -f "$work/$name.exit" ]; do
        i=$((i + 1))
        [ $i -lt 600 ] || fail "$name: pzflow did not finish in 60 s"
        sleep 0.1
    done
    tmux -L "$sock" capture-pane -p -t "$name" >"$work/$name.screen"
    tmux -L "$sock" kill-session -t "$name"
}

# check NAME EXIT COLOUR: the checks on one run (tests/py/check_terminal.py).
check() {
    [ "$(cat "$work/$1.exit")" = "$2" ] || { cat "$work/$1.screen"; fail "$1: exit status $(cat "$work/$1.exit"), expected $2"; }
    $PY "$(dirname "$0")/py/check_terminal.py" "$work/$1.raw" "$work/$1.screen" 80 "$3" || fail "$1 (see above)"
    echo "ok: $1: lines fit 80 columns, one [n/N] total, final screen clean, colour $3, exit $2"
}

# 1. from scratch: everything runs, bad fails
run_in_tty first "" -j 2 --keep-going
check first 1 on
grep -q 'bad' "$work/first.screen" || fail "first: the failed stage is not on the final screen"

# 2. a param that changes the key but not the bytes: early cutoff spares the stage downstream,
#    the total stays what it was announced as; NO_COLOR turns colour off
sed -i 's/steps: 30, ms: 50/steps: 30, ms: 40/' "$work/p.yaml"
run_in_tty cutoff "NO_COLOR=1" -j 2 --keep-going
check cutoff 1 off
grep -q 'run spared-by-early-cutoff' "$work/cutoff.raw" && fail "cutoff: the stage was not spared"

# 3. the terminal narrowed to 60 columns mid-run (SIGWINCH): the live lines drawn last fit 60
sed -i 's/steps: 30, ms: 40/steps: 40, ms: 50/' "$work/p.yaml"
resize=60 run_in_tty narrowed "NO_COLOR=1" -j 2 --keep-going
$PY - "$work/narrowed.raw" <<'EOF2' || fail "narrowed"
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
live = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", l) for l in re.split(r"[\r\n]", raw)]
live = [l for l in live if re.search(r"\[[#.]{10,20}\]", l)]
last = live[-2:]
if not live or any(len(l) > 59 for l in last):
    print("FAIL: after the resize to 60 columns the live lines are %s" % [len(l) for l in last]); sys.exit(1)
EOF2
echo "ok: narrowed to 60 columns mid-run: the last live lines fit"

# 4. not a terminal: no escapes at all, unless --color=always
(cd "$work" && PATH="$bin:$PATH" pzflow run p.yaml >pipe.out 2>&1) && fail "pipe: a failed stage must exit 1"
grep -q "$(printf '\033')" "$work/pipe.out" && fail "pipe: escape sequences in a pipe"
(cd "$work" && PATH="$bin:$PATH" pzflow run p.yaml --color=always >always.out 2>&1) || true
grep -q "$(printf '\033')\[1;31mFAILED" "$work/always.out" || fail "--color=always: no red FAILED in a pipe"
(cd "$work" && PATH="$bin:$PATH" pzflow run p.yaml --color=sometimes >bad.out 2>&1) && fail "--color=sometimes accepted"
grep -q "color takes auto, always or never" "$work/bad.out" || fail "--color=sometimes: $(cat "$work/bad.out")"
echo "ok: a pipe gets no escapes; --color=always colours it; --color=sometimes is refused"
