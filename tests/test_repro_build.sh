#!/bin/sh
# Reproducible builds (docs/engine.md, "Which edits change which keys"): a stage executable's
# bytes are part of every key it has, so they must depend on the code alone.
#
#   1. The same sources built in two different directories (one build tree outside the
#      checkout, one inside it, at different depths) give byte-identical stage executables, and
#      none of them holds the path of its checkout or build directory.
#   2. A run made with the first build is a no-op for the second: 0 stages ran.
#      The first checkout's schemas/ is deleted before that: a copied build must not read it.
#   3. A comment-only edit (which shifts the line numbers of a core file) leaves the stage
#      executables byte-identical.
#   4. A pzflow version bump with the same code leaves them identical too (only `pzflow` changes).
#   5. A comment in a built-in schema changes only the stages that contain the schema code
#      (pzflow-ingest-hsc here; the core library is static, so the others do not link it).
#
# Only pzflow and three stages are built in each tree (the core library is compiled in full),
# so this takes about two build times of the library. Usage: test_repro_build.sh SOURCE_DIR
set -eu
src=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pz-repro.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
targets="pzflow pzflow-mock-sky pzflow-ingest-hsc pzflow-quality-cuts"
stages="pzflow-mock-sky pzflow-ingest-hsc pzflow-quality-cuts"

fail() { echo "FAIL: $*" >&2; exit 1; }

# The checkout's files (tracked and new, not ignored ones such as build/ and cache/).
copy_source() {
    mkdir -p "$2"
    if git -C "$1" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$1" && git ls-files -z -c -o --exclude-standard | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$2"
    else
        (cd "$1" && tar --exclude='./build*' --exclude='./cache' --exclude='./results' -cf - .) | tar -xf - -C "$2"
    fi
}

build() { # build SRC BUILD
    cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release >"$2.log" 2>&1 || { cat "$2.log"; fail "cmake $1"; }
    cmake --build "$2" -j2 --target $targets >>"$2.log" 2>&1 || { tail -30 "$2.log"; fail "build in $2"; }
}

sha() { sha256sum <"$1" | cut -d' ' -f1; }

same_stages() { # same_stages BIN1 BIN2 WHAT EXECUTABLES...
    b1=$1 b2=$2 what=$3
    shift 3
    for s in "$@"; do
        [ "$(sha "$b1/$s")" = "$(sha "$b2/$s")" ] || fail "$what: $s differs"
    done
    echo "ok: $what: $* identical"
}

rebuild_b() {
    cmake --build "$work/b/deeper/checkout/build" -j2 --target $targets >>"$work/b.rebuild.log" 2>&1 ||
        { tail -30 "$work/b.rebuild.log"; fail "rebuild"; }
}

copy_source "$src" "$work/a/src"
copy_source "$src" "$work/b/deeper/checkout"
build "$work/a/src" "$work/a/out-of-tree-build"
build "$work/b/deeper/checkout" "$work/b/deeper/checkout/build"
bin1="$work/a/out-of-tree-build/bin" bin2="$work/b/deeper/checkout/build/bin"

# 1. identical bytes, no compiled-in paths
same_stages "$bin1" "$bin2" "two build directories" $stages pzflow
for s in $stages; do
    for d in "$work/a" "$work/b"; do
        if grep -q -a -F "$d" "$bin1/$s" "$bin2/$s"; then fail "$s holds the path $d"; fi
    done
done
echo "ok: no build or checkout path inside the stages"

# 2. a no-op run after rebuilding elsewhere runs nothing (and the copied build reads no schemas/)
rm -rf "$work/a/src/schemas"
mkdir -p "$work/p"
cat >"$work/p/p.yaml" <<'EOF'
stages:
  mock-sky:
    run: pzflow-mock-sky
    params: {seed: 7, n_cosmos: 3000, n_galaxiesml: 600, layout: minimal}
    outputs: [cosmos2020, hsc, galaxiesml_training, galaxiesml_validation, galaxiesml_testing]
  ingest-hsc:
    run: pzflow-ingest-hsc
    params: {schema: pdr2}
    inputs: {catalog: mock-sky/hsc}
    outputs: [catalog]
  hsc-cuts:
    run: pzflow-quality-cuts
    params: {cuts: ["0 < i_cmodel_mag < 50"]}
    inputs: {table: ingest-hsc/catalog}
    outputs: [table, cutflow]
EOF
(cd "$work/p" && "$bin1/pzflow" run p.yaml) >"$work/run1.log" 2>&1 || { cat "$work/run1.log"; fail "first run"; }
grep -q "pzflow: 3 ran, 0 up to date" "$work/run1.log" || { cat "$work/run1.log"; fail "first run did not run 3 stages"; }
(cd "$work/p" && "$bin2/pzflow" run p.yaml) >"$work/run2.log" 2>&1 || { cat "$work/run2.log"; fail "second run"; }
grep -q "pzflow: 0 ran, 3 up to date" "$work/run2.log" || { cat "$work/run2.log"; fail "the other build's run was not a no-op"; }
echo "ok: a run with the other build is a no-op: $(grep 'pzflow: 0 ran' "$work/run2.log")"

# 3. a comment-only edit that moves every line of a core file leaves the stages identical
f="$work/b/deeper/checkout/core/photoz/catalogue.c"
{ printf '/* A comment added by test_repro_build.sh:\n * it moves every line below it down by three. */\n'; cat "$f"; } >"$f.new"
mv "$f.new" "$f"
rebuild_b
same_stages "$bin1" "$bin2" "after a comment-only edit of core/photoz/catalogue.c" $stages pzflow

# 4. a version bump alone changes pzflow, not the stages (a pzflow upgrade reruns changed code only)
f="$work/b/deeper/checkout/CMakeLists.txt"
sed 's/^project(pzflow VERSION [0-9.]*/project(pzflow VERSION 99.0.0/' "$f" >"$f.new" && mv "$f.new" "$f"
rebuild_b
[ "$(sha "$bin1/pzflow")" != "$(sha "$bin2/pzflow")" ] || fail "the version bump did not reach pzflow"
"$bin2/pzflow" --version | grep -q "pzflow 99.0.0" || fail "pzflow --version after the bump"
same_stages "$bin1" "$bin2" "after a version bump" $stages

# 5. a comment in a built-in schema reaches only the executables that contain schema code
echo "# a comment added by test_repro_build.sh" >>"$work/b/deeper/checkout/schemas/hsc_pdr2.yaml"
rebuild_b
[ "$(sha "$bin1/pzflow-ingest-hsc")" != "$(sha "$bin2/pzflow-ingest-hsc")" ] || fail "the schema edit did not reach pzflow-ingest-hsc"
same_stages "$bin1" "$bin2" "after a comment in schemas/hsc_pdr2.yaml" pzflow-mock-sky pzflow-quality-cuts
