#!/usr/bin/env bash
# Rewrites fixtures/golden/ from the current code. Only when a change to the report, CSV or
# region table is intended: review `git diff fixtures/golden` before committing (see
# fixtures/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
CRMO_MAP_BLESS=1 cargo test --test main golden:: -- --quiet
git --no-pager diff --stat fixtures/golden || true
