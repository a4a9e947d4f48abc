#!/usr/bin/env bash
# Creates .venv with the Python packages the tests use as an independent reader (nibabel,
# numpy, cc3d for connected components) and the analysis scripts add (scipy), once; prints the
# interpreter's path. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import nibabel, numpy, cc3d, scipy" 2>/dev/null; then
  python3 -m venv .venv >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "nibabel>=5,<6" "numpy>=1.24" "connected-components-3d>=3" \
    "scipy>=1.10" >&2
fi
echo "$PWD/.venv/bin/python"
