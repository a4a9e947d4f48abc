#!/usr/bin/env bash
# Fuzzes crmo-map's readers with cargo fuzz (libFuzzer):
#
#   scripts/fuzz.sh MINUTES [TARGET ...]      (default: every target, all at once, MINUTES each)
#   scripts/fuzz.sh --build                   (only build the targets, instrumented; CI type-checks them)
#
# Targets (fuzz/fuzz_targets/): nifti (the header and volume reader on .nii, as a scan and as
# an atlas), nifti_gz (the same behind a valid gzip stream), gzip (raw bytes as .nii.gz), tables
# (label tables in every format, the staging configuration, both manifests). Seeds come from
# fixtures/ (tiny, edge, bad, odd). Installs cargo-fuzz once. The machine's toolchain is
# stable: RUSTC_BOOTSTRAP=1 lets cargo fuzz pass its -Z flags; no sanitizer (safe Rust; the
# point is panics, aborts, hangs and memory blow-ups: -rss_limit_mb=512, -timeout=10).
# Every crash is left in fuzz/artifacts/TARGET/; copy it into fixtures/bad/ with a test.
# Prints each target's executions and whether it found anything; exits 1 if one did.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
targets=(nifti nifti_gz gzip tables)
if [ "${1:-}" = "--build" ]; then
  cargo fuzz build -s none -O >&2
  exit 0
fi
minutes=${1:?usage: scripts/fuzz.sh MINUTES [TARGET ...] | --build}
shift
[ $# -gt 0 ] && targets=("$@")

# Seeds: small valid and broken files of each kind.
seed() { mkdir -p "fuzz/corpus/$1"; shift; for f in "$@"; do [ -f "$f" ] && cp -n "$f" "fuzz/corpus/$1/" || true; done; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for f in fixtures/tiny/*.nii.gz fixtures/edge/*.nii.gz; do gunzip -c "$f" > "$tmp/$(basename "$f" .gz)" 2>/dev/null || true; done
seed nifti "$tmp"/*.nii fixtures/edge/*.nii fixtures/bad/*.nii fixtures/odd/*.nii
seed nifti_gz "$tmp"/*.nii fixtures/edge/*.nii fixtures/bad/*.nii
seed gzip fixtures/tiny/*.nii.gz fixtures/edge/*.nii.gz fixtures/bad/*.nii.gz
seed tables fixtures/tiny/*.tsv fixtures/tiny/*.json fixtures/realdata/*.tsv fixtures/bad/*.tsv fixtures/bad/*.json src/staging/default.json

cargo fuzz build -s none -O >&2
# Every target at once (libFuzzer runs one process each; they share the cores).
for t in "${targets[@]}"; do
  mkdir -p "fuzz/artifacts/$t"
  cargo fuzz run -s none -O "$t" -- -max_total_time=$((minutes * 60)) -rss_limit_mb=512 -timeout=10 \
    -print_final_stats=1 > "fuzz/artifacts/$t.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
  t=${targets[$i]}
  if wait "${pids[$i]}"; then result="no crash"; else result="FOUND A CRASH (fuzz/artifacts/$t/)"; status=1; fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz/artifacts/$t.log" | grep -o '[0-9]*$' | tail -1)
  echo "$t: ${runs:-?} executions in $minutes min, $result"
done
exit $status
