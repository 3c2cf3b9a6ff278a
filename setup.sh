#!/usr/bin/env bash
# One-step set-up for a fresh Debian 12 machine (run as root, or with sudo available):
# installs the Debian packages pzflow needs (only those missing), builds, then
#   ./setup.sh            build only
#   ./setup.sh run [ARGS] build, then `pzflow run pipelines/paper.yaml ARGS`
#   ./setup.sh test       build, then run the whole test suite (ctest)
#   ./setup.sh asan       build with ASan+UBSan into build-asan/, then ctest there
set -euo pipefail
cd "$(dirname "$0")"

# Why each package: see README.md "Dependencies".
PACKAGES=(build-essential cmake pkg-config
  libyaml-dev libhdf5-dev libgsl-dev libopenblas-dev libcunit1-dev libcfitsio-dev libxxhash-dev
  libchealpix-dev
  gnuplot-nox graphviz
  python3-astropy python3-h5py python3-numpy python3-torch stilts zsh groff-base tmux
  clang libclang-rt-14-dev valgrind
  slurm-wlm munge)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

mode="${1:-build}"; [ $# -gt 0 ] && shift
jobs=$(nproc)
build_dir=build; cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [ "$mode" = asan ]; then build_dir=build-asan; cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DPZ_SANITIZE=ON); fi
cmake -S . -B "$build_dir" "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs"

case "$mode" in
  build) ;;
  run) exec "$build_dir/bin/pzflow" run pipelines/paper.yaml -j "$jobs" "$@" ;;
  test|asan) cd "$build_dir" && exec ctest --output-on-failure -j "$jobs" "$@" ;;
  *) echo "setup: unknown mode '$mode' (build, run, test, asan)" >&2; exit 2 ;;
esac
