#!/bin/sh
# Reproducer for issue 17 part 1: a directory that is not a pzflow cache, given as the cache
# (-C DIR or `cache: DIR`), must be refused by every command, and nothing in it may be deleted
# or written. Before the fix, `run` emptied DIR/tmp, `gc` deleted every file in DIR/runs and in
# every 2-character directory under DIR/objects, and `status` wrote DIR/statcache.
#
#   sh tests/repro/cache_not_a_cache.sh BIN_DIR     (BIN_DIR holds pzflow and pzflow-toy-const)
#
# Exit 0: the fix holds (every command refused, DIR byte-identical). Exit 1: data loss or a
# write (listed). Run from anywhere; works in a fresh temporary directory.
set -u
bin=$(cd "${1:?usage: cache_not_a_cache.sh BIN_DIR}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pzflow-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# A user's project directory that happens to have tmp/, runs/ and objects/ab/.
mkdir -p proj/tmp/drafts proj/runs proj/objects/ab
echo "thesis draft" > proj/tmp/drafts/chapter1.tex
echo "run notes" > proj/runs/2026-11-30.txt
echo "an object of mine" > proj/objects/ab/photo.jpg
echo "readme" > proj/README
cat > p.yaml <<'YAML'
stages:
  a:
    run: pzflow-toy-const
    params: {text: T}
    outputs: [table]
YAML
snapshot() { (cd proj && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+%s.%N) ; }
snapshot > before.txt

fail=0
for args in "run p.yaml" "run -n p.yaml" "status p.yaml" "why p.yaml a" "log p.yaml a" "show p.yaml" \
            "gc p.yaml" "gc -n p.yaml"; do
    "$bin/pzflow" $args -C proj > out.txt 2>&1
    rc=$?
    if [ "$rc" -ne 4 ] || ! grep -q "proj is not a pzflow cache" out.txt; then
        echo "FAIL: 'pzflow $args -C proj' exited $rc without refusing the directory:"
        sed 's/^/    /' out.txt
        fail=1
    fi
done
snapshot > after.txt
if ! cmp -s before.txt after.txt; then
    echo "FAIL: the directory changed (files deleted or written):"
    diff before.txt after.txt | sed 's/^/    /'
    fail=1
fi
[ "$fail" -eq 0 ] && echo "ok: every command refused proj/ and nothing in it changed"
exit "$fail"
