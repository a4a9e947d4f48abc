#!/usr/bin/env bash
# Builds a small BIDS dataset of crmo-map phantoms, for the cohort tests and to try
# `crmo-map bids` (README, *Cohorts*).
#
#   scripts/make_bids_cohort.sh OUT_DIR [N] [BROKEN]
#
# N subjects sub-01..sub-N (default 12), each a random-case phantom (seed 100 + n, 4x4x5 mm
# voxels, every fourth a healthy control), its STIR at sub-XX/anat/sub-XX_acq-STIR_T2w.nii.gz
# and its atlas with the BIDS look-up table at
# derivatives/totalsegmentator/sub-XX/anat/sub-XX_acq-STIR_desc-total_dseg.{nii.gz,tsv}.
# Subject BROKEN (default 07; "none" for none) gets a truncated scan. The binary is $CRMO_MAP
# (default: target/release/crmo-map, built if missing).
set -euo pipefail
out=${1:?usage: make_bids_cohort.sh OUT_DIR [N] [BROKEN]}
n=${2:-12}
broken=${3:-07}
root="$(cd "$(dirname "$0")/.." && pwd)"
bin=${CRMO_MAP:-$root/target/release/crmo-map}
[ -x "$bin" ] || cargo build --release --quiet --manifest-path "$root/Cargo.toml"
mkdir -p "$out"
cat > "$out/dataset_description.json" <<JSON
{"Name": "crmo-map phantom cohort", "BIDSVersion": "1.10.0", "DatasetType": "raw"}
JSON
printf 'participant_id\n' > "$out/participants.tsv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 1 "$n"); do
  s=$(printf '%02d' "$i")
  case=random
  [ $((i % 4)) -eq 0 ] && case=healthy
  "$bin" --quiet phantom --case "$case" --seed $((100 + i)) --spacing 4 4 5 --out "$tmp/$s"
  anat="$out/sub-$s/anat"
  der="$out/derivatives/totalsegmentator/sub-$s/anat"
  mkdir -p "$anat" "$der"
  mv "$tmp/$s/scan.nii.gz" "$anat/sub-${s}_acq-STIR_T2w.nii.gz"
  mv "$tmp/$s/atlas.nii.gz" "$der/sub-${s}_acq-STIR_desc-total_dseg.nii.gz"
  mv "$tmp/$s/labels.tsv" "$der/sub-${s}_acq-STIR_desc-total_dseg.tsv"
  printf 'sub-%s\n' "$s" >> "$out/participants.tsv"
  if [ "$s" = "$broken" ]; then
    # Keep the header and a little of the data: a scan cut short in transfer.
    head -c 3000 "$anat/sub-${s}_acq-STIR_T2w.nii.gz" > "$tmp/cut" && mv "$tmp/cut" "$anat/sub-${s}_acq-STIR_T2w.nii.gz"
  fi
done
