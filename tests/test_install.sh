#!/bin/sh
# The installed package works on its own (issue 16, part 2):
#   1. A copy of the checkout is configured as a distribution would: its own CFLAGS, no build
#      type, no tests, benchmarks or fuzz harnesses (so no CUnit); our flags must not override
#      the distribution's (one -O in every compile command, the distribution's).
#   2. `cmake --install` into a temporary prefix puts pzflow in bin/, the stages in
#      libexec/pzflow/, pipelines and schemas in share/pzflow/, the man page pzflow(1) and the
#      bash and zsh completions where those tools look; the README and the manuals keep their
#      relative paths under share/doc/pzflow, so every relative link of the installed README
#      (and every link between installed manuals) reaches a file.
#   3. The build tree and the source copy are deleted; the quick pipeline, copied from
#      share/pzflow/pipelines, runs from the installed pzflow with a PATH that holds no pzflow
#      stage (they are found in libexec/pzflow, relative to pzflow).
#   4. The prefix moved elsewhere still finds its stages: `status` reports every stage up to
#      date (the same executables, hashed by content), and a rerun runs nothing.
# Usage: test_install.sh SOURCE_DIR
set -eu
src=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pz-install.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# The checkout's files (tracked and new, not ignored ones such as build/ and cache/).
mkdir -p "$work/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z -c -o --exclude-standard | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$work/src"
else
    (cd "$src" && tar --exclude='./build*' --exclude='./cache' --exclude='./results' -cf - .) | tar -xf - -C "$work/src"
fi

# 1. configure and build as a distribution would
distro_flags="-O2 -fstack-protector-strong -DPZ_DISTRO_FLAGS_PROBE"
CFLAGS="$distro_flags" cmake -S "$work/src" -B "$work/build" -DCMAKE_INSTALL_PREFIX="$work/prefix" \
    -DPZFLOW_BUILD_TESTS=OFF -DPZFLOW_BUILD_BENCH=OFF -DPZFLOW_BUILD_FUZZ=OFF \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake"; }
grep -q '^CUNIT_LIB' "$work/build/CMakeCache.txt" && fail "CUnit looked for without tests"
cmake --build "$work/build" -j2 >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "build"; }
ncmd=$(grep -c '"command"' "$work/build/compile_commands.json")
[ "$ncmd" -gt 20 ] || fail "only $ncmd compile commands"
[ "$(grep -c 'PZ_DISTRO_FLAGS_PROBE' "$work/build/compile_commands.json")" = "$ncmd" ] ||
    fail "the distribution's CFLAGS are not on every compile command"
grep '"command"' "$work/build/compile_commands.json" | grep -E -e '-O[0-3s].* -O[0-3s]' >/dev/null &&
    fail "a second -O overrides the distribution's: $(grep -m1 '"command"' "$work/build/compile_commands.json")"
echo "ok: distribution flags kept ($ncmd compile commands), no CUnit needed"

# 2. install
cmake --install "$work/build" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "install"; }
p="$work/prefix"
for f in bin/pzflow libexec/pzflow/pzflow-mock-sky libexec/pzflow/pzflow-train libexec/pzflow/pzflow-dag \
         share/pzflow/pipelines/quick.yaml share/pzflow/pipelines/paper.yaml share/pzflow/schemas/hsc_pdr2.yaml \
         share/man/man1/pzflow.1 share/bash-completion/completions/pzflow share/zsh/site-functions/_pzflow \
         share/doc/pzflow/README.md; do
    [ -e "$p/$f" ] || fail "not installed: $f"
done
[ -z "$(ls "$p/bin" | grep -v '^pzflow$')" ] || fail "bin/ holds more than pzflow: $(ls "$p/bin")"
ls "$p/libexec/pzflow" | grep -q toy && fail "toy stages installed"
# The man page is the --help text: every option of --help is in it, and groff finds no fault.
for o in $("$p/bin/pzflow" --help | sed -n 's/^  \(-[^ ]*\).*/\1/p' | tr -d ,); do
    grep -q -F -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$p/share/man/man1/pzflow.1" || fail "man page lacks $o"
done
warnings=$(groff -man -Tutf8 -ww -z "$p/share/man/man1/pzflow.1" 2>&1)
[ -z "$warnings" ] || fail "groff: $warnings"
echo "ok: installed layout, man page from --help"
# The links of the installed manuals: all of the README's; in docs/ and schemas/ those to another
# manual or a figure (a few link source files, e.g. tests/fixtures, which a package does not carry).
/usr/bin/python3 - "$p/share/doc/pzflow" <<'PY' || fail "installed manuals have dead links (above)"
import glob, os, re, sys
doc = sys.argv[1]
link = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?(?:\s+\"[^\"]*\")?\)")
dead, n = [], 0
for path in [os.path.join(doc, "README.md")] + glob.glob(doc + "/docs/*.md") + glob.glob(doc + "/schemas/*.md"):
    readme = path.endswith("/README.md")
    for target in link.findall(open(path, encoding="utf-8").read()):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not readme and not target.endswith((".md", ".png", ".svg")):
            continue
        n += 1
        if not os.path.exists(os.path.join(os.path.dirname(path), target)):
            dead.append(f"{os.path.relpath(path, doc)}: {target}")
print("\n".join(dead) if dead else f"ok: {n} relative links of the installed manuals resolve")
sys.exit(1 if dead or n < 20 else 0)
PY

# 3. nothing of the build or the source is left; the quick pipeline runs from the prefix
rm -rf "$work/build" "$work/src"
mkdir -p "$work/study"
cp -R "$p/share/pzflow/pipelines" "$work/study/"
cd "$work/study"
PATH=/usr/bin:/bin "$p/bin/pzflow" run pipelines/quick.yaml -j 2 >"$work/run1.log" 2>&1 ||
    { tail -30 "$work/run1.log"; fail "quick.yaml from the installed pzflow"; }
grep -q ' 0 up to date' "$work/run1.log" || { tail -5 "$work/run1.log"; fail "run 1 did not run everything"; }
[ -s results/quick/evaluate/metrics.fits ] || fail "no results/quick/evaluate/metrics.fits"
echo "ok: quick.yaml ran from the installed copy: $(tail -1 "$work/run1.log")"

# 4. the prefix moved: stages still found, nothing to run
mv "$p" "$work/moved"
PATH=/usr/bin:/bin "$work/moved/bin/pzflow" status pipelines/quick.yaml >"$work/status.log" 2>&1 ||
    { cat "$work/status.log"; fail "status after moving the prefix"; }
grep -q '^0 stale, 0 waiting on upstream, [1-9][0-9]* up to date$' "$work/status.log" ||
    { cat "$work/status.log"; fail "not all up to date after moving the prefix"; }
PATH=/usr/bin:/bin "$work/moved/bin/pzflow" run pipelines/quick.yaml -j 2 >"$work/run2.log" 2>&1 ||
    { tail -20 "$work/run2.log"; fail "rerun from the moved prefix"; }
grep -q '^pzflow: 0 ran' "$work/run2.log" || { tail -5 "$work/run2.log"; fail "rerun ran stages"; }
echo "ok: moved prefix: $(tail -1 "$work/run2.log")"
