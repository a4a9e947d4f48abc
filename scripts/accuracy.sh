#!/usr/bin/env bash
# Regenerates docs/ACCURACY.md (and docs/froc-sij-stir.png) from the real scans in
# ../shared/realdata and the phantom suites:
#   1. the real sacroiliac STIR with two radiologists' oedema masks (crmo-map evaluate --readers),
#      the local and the global detector beside the readers, with the FROC of each;
#   2. the broadened hard phantom suite (COUNT phantoms, seeds from 15000; kept in
#      target/accuracy/phantoms so a rerun only re-scores), local and global;
#   3. the same hard suite at other noise levels (--noise-scale 0, 0.25, 0.5 and 2; kept in
#      target/accuracy/hard-noise-x<F>/phantoms), local;
#   4. the basic suite (20 phantoms, seed 1000) and the founding case;
#   5. the hard suite with every focus reported (--variant-focus-mm 0), beside the default that
#      sets sub-centimetre foci at normal-variant sites aside as equivocal;
#   6. which lesions stand out from their marrow, real and held-out hard
#      (scripts/lesion_separability.py, in the .venv of scripts/python-env.sh);
#   7. what each test of the local detector costs and buys (scripts/ablation.py: real and
#      held-out hard again with one test relaxed at a time, in target/accuracy/ablate-*);
#   8. whether the operating point carries over to a coarser grid (scripts/pool_readers.py
#      pools the real scans 2 x 2 in plane; scripts/carry_over.py evaluates both grids and the
#      held-out suite at several seed noise demands, in target/accuracy/carry-*).
# usage: scripts/accuracy.sh [COUNT]   (about 25 minutes for 30 hard phantoms on 2 cores the
#        first time, 6 minutes for 12; a rerun only re-scores)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-30}"
seed=15000
real=../shared/realdata/sij-stir
if [ ! -d "$real" ]; then
  echo "accuracy.sh: $real is absent: the real-data half of docs/ACCURACY.md needs it" >&2
  exit 2
fi
cargo build --release --quiet
bin=target/release/crmo-map
work=target/accuracy
table=fixtures/realdata/sij-region.tsv
"$bin" evaluate --quiet --readers "$real" --labels "$table" --out "$work/real-local" > /dev/null
"$bin" evaluate --quiet --readers "$real" --labels "$table" --out "$work/real-global" --method global > /dev/null
"$bin" evaluate --quiet --suite hard --count "$count" --seed "$seed" --out "$work/hard-local" > /dev/null
"$bin" evaluate --quiet --phantoms "$work/hard-local/phantoms" --out "$work/hard-global" --method global > /dev/null
"$bin" evaluate --quiet --phantoms "$work/hard-local/phantoms" --out "$work/hard-all-foci" --variant-focus-mm 0 > /dev/null
for f in 0 0.25 0.5 2; do
  "$bin" evaluate --quiet --suite hard --count "$count" --seed "$seed" --noise-scale "$f" --out "$work/hard-noise-x$f" > /dev/null
done
"$bin" evaluate --quiet --suite basic --count 20 --seed 1000 --out "$work/basic-local" > /dev/null
"$bin" --quiet demo --out "$work/demo" > /dev/null
py=$(bash scripts/python-env.sh)
"$py" scripts/lesion_separability.py --readers "$real" --json "$work/separability-real.json" "$work/real-local" > /dev/null
"$py" scripts/lesion_separability.py --json "$work/separability-hard.json" "$work/hard-local" > /dev/null
python3 scripts/ablation.py --bin "$bin" --work "$work" --json "$work/ablation.json" > /dev/null
"$py" scripts/pool_readers.py "$real" "$work/sij-stir-pooled2"
python3 scripts/carry_over.py --bin "$bin" --work "$work" --json "$work/carry_over.json" > /dev/null
cp "$work/real-local/froc.png" docs/froc-sij-stir.png
python3 scripts/accuracy_report.py "$work" "$count" "$seed" > docs/ACCURACY.md
echo "docs/ACCURACY.md written"
