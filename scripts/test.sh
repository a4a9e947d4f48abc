#!/usr/bin/env bash
# The test command (README): every unit, property, golden, CLI and bad-input test, plus a
# build of the benchmarks (never timed here). Sets up .venv with nibabel for the independent
# contract checks on first use, runs the Slurm end-to-end test (scripts/slurm-test.sh) and the
# review page's browser test (scripts/browser-test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
CRMO_MAP_PYTHON="$(scripts/python-env.sh)"
export CRMO_MAP_PYTHON
# The real-data tests note a skip on stderr, which cargo test shows only for a failing test:
# say it here once, as the browser test does for its real pages.
if [ ! -d ../shared/realdata ]; then
  echo "test.sh: ../shared/realdata is absent: the real-data tests (real STIR with readers, real TotalSegmentator outputs) are skipped" >&2
fi
# Each phase's wall time, so that a slow CI run shows where its minutes went.
phase() { echo "test.sh: $1 done at $((SECONDS / 60)) min $((SECONDS % 60)) s" >&2; }
cargo test --all-features --no-run --quiet
phase "test build"
cargo test --all-features "$@"
phase "cargo test"
# The benchmarks build with the test build's profile (they are run, optimised, by
# `cargo bench`): a second, release build of every dependency would double CI's compile time.
cargo build --all-features --benches --quiet
phase "benchmark build"
# The fuzz targets type-check against the library's API (scripts/fuzz.sh builds and runs them,
# instrumented, with cargo fuzz). A check, not a build: the fuzz crate is its own workspace,
# so its dependencies take other features than the test build's and a build would compile
# every one of them, crmo-map included, a second time (about 1.5 minutes on 2 cores).
cargo check --manifest-path fuzz/Cargo.toml --target-dir target --bins --quiet
phase "fuzz target check"
# Cohorts on a one-node Slurm cluster (installs Debian's slurm-wlm and munge once).
bash scripts/slurm-test.sh target/debug/crmo-map
phase "Slurm test"
# The review page in a real browser (installs Debian's chromium and the npm packages once).
bash scripts/browser-test.sh target/debug/crmo-map
phase "browser test"
