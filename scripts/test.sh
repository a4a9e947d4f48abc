#!/usr/bin/env bash
# The test command (README): every unit, property, golden, CLI and bad-input test, plus a
# build of the benchmarks (never timed here). Sets up .venv with nibabel for the independent
# contract checks on first use, and runs the review page's browser test (scripts/browser-test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
CRMO_MAP_PYTHON="$(scripts/python-env.sh)"
export CRMO_MAP_PYTHON
cargo test --all-features "$@"
cargo bench --no-run --quiet
# The review page in a real browser (installs Debian's chromium and the npm packages once).
bash scripts/browser-test.sh
