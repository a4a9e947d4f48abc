#!/usr/bin/env bash
# The test command (README): every unit, property, golden, CLI and bad-input test, plus a
# build of the benchmarks (never timed here). Sets up .venv with nibabel for the independent
# contract checks on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
CRMO_MAP_PYTHON="$(scripts/python-env.sh)"
export CRMO_MAP_PYTHON
cargo test --all-features "$@"
cargo bench --no-run --quiet
