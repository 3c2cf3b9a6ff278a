#!/bin/sh
# `pzflow COMMAND --help` prints that command's help (it used to print the global help): its
# usage line first, its own options, exit 0, and every line within 80 columns; `--help` before
# any command, or after an unknown word, is the global help, also within 80 columns. The man page
# (BIN_DIR/../man/pzflow.1, made by cmake/man_page.cmake) holds every command's help as a
# subsection. Usage: test_cli_help.sh BIN_DIR
set -eu
pzflow="$1/pzflow"
fail() { echo "FAIL: $*" >&2; exit 1; }
for cmd in run status why dag log show gc provenance diff predict; do
    out=$("$pzflow" "$cmd" --help) || fail "$cmd --help exits $?"
    case $out in "usage: pzflow $cmd "*) ;; *) fail "$cmd --help starts: $(echo "$out" | head -1)" ;; esac
    echo "$out" | grep -q '^exit status: 0 ok' || fail "$cmd --help has no exit statuses"
    long=$(echo "$out" | awk 'length > 80') 
    [ -z "$long" ] || fail "$cmd --help: lines over 80 columns: $long"
    [ "$("$pzflow" "$cmd" -h)" = "$out" ] || fail "$cmd -h differs from $cmd --help"
done
"$pzflow" run --help | grep -q -- '--keep-going' || fail "run --help lacks --keep-going"
"$pzflow" status --help | grep -q -- '--keep-going' && fail "status --help lists --keep-going"
"$pzflow" dag --help | grep -q -- '--dot' || fail "dag --help lacks --dot"
"$pzflow" --help | head -1 | grep -q '^usage: pzflow <command>' || fail "--help is not the global help"
"$pzflow" --help run | head -1 | grep -q '^usage: pzflow <command>' || fail "--help run is not the global help"
long=$("$pzflow" --help | awk 'length > 80')
[ -z "$long" ] || fail "--help: lines over 80 columns: $long"
man="$1/../man/pzflow.1"
[ -f "$man" ] || fail "no man page at $man"
for cmd in run status why dag log show gc provenance diff predict; do
    grep -q "^\.SS \"pzflow $cmd\"" "$man" || fail "man page has no subsection for $cmd"
    # the command's own description, as its --help words it (its third line)
    words=$("$pzflow" "$cmd" --help | sed -n 3p | sed 's/-/\\-/g')
    grep -q -F -- "$words" "$man" || fail "man page lacks $cmd --help's '$words'"
done
echo "ok: per-command help for run status why dag log show gc provenance diff predict, global help otherwise, all within 80 columns; the man page holds each"
