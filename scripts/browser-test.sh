#!/usr/bin/env bash
# The review page's browser test (README): installs chromium and the npm packages
# (scripts/browser-setup.sh), makes review pages with crmo-map (a small
# founding-case phantom, the tiny fixture with a hostile region name, and each real sij-stir
# scan and a real CT when ../shared/realdata is there), then drives them with node's test runner
# (tests/browser/review.test.mjs). Screenshots stay in target/browser-test/*/review-screenshot.png.
#
#   scripts/browser-test.sh [CRMO_MAP_BINARY]   (default: target/release/crmo-map, built if
#                                                missing; scripts/test.sh passes the test build's)
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM="$(scripts/browser-setup.sh)"
export CHROMIUM
if [ $# -gt 0 ]; then
  bin="$(realpath "$1")"
else
  cargo build --release --quiet
  bin=target/release/crmo-map
fi
[ -x "$bin" ] || { echo "browser test: $bin is not an executable" >&2; exit 1; }
work=target/browser-test
rm -rf "$work"
mkdir -p "$work"
"$bin" phantom --quiet --case seed --spacing 3 4 3 --out "$work/seed-input"
"$bin" run --quiet --scan "$work/seed-input/scan.nii.gz" --atlas "$work/seed-input/atlas.nii.gz" \
  --labels "$work/seed-input/labels.tsv" --out "$work/seed"
dirs="$PWD/$work/seed"$'\n'
# The demo as the README runs it (the founding case at full demo size: a downsampled review copy).
"$bin" demo --quiet --out "$work/demo" > /dev/null
dirs+="$PWD/$work/demo"$'\n'
hostile='<img src=x onerror=alert(1)><script>alert(2)</script>'
printf 'index\tname\tbone_class\tside\n1\t%s\tpelvis\tright\n2\tfemur_neck_left\tfemur\tleft\n' "$hostile" > "$work/hostile.tsv"
"$bin" run --quiet --scan fixtures/tiny/scan.nii.gz --atlas fixtures/tiny/atlas.nii.gz --labels "$work/hostile.tsv" \
  --out "$work/hostile"
dirs+="$PWD/$work/hostile"$'\t'"$hostile"$'\n'
# The same with the hostile region a bone of the foot, and a size limit that sets its focus
# (12 mm across) aside: the page lists it as an equivocal focus, as text.
printf 'index\tname\tbone_class\tside\n1\t%s\tfoot\tright\n2\tfemur_neck_left\tfemur\tleft\n' "$hostile" > "$work/hostile-foot.tsv"
"$bin" run --quiet --scan fixtures/tiny/scan.nii.gz --atlas fixtures/tiny/atlas.nii.gz --labels "$work/hostile-foot.tsv" \
  --variant-focus-mm 13 --out "$work/equivocal"
dirs+="$PWD/$work/equivocal"$'\t'"$hostile"$'\n'
sij=../shared/realdata/sij-stir
if [ -d "$sij" ]; then
  for s in "$sij"/sub-*; do
    name=$(basename "$s")
    "$bin" run --quiet --scan "$s/stir.nii.gz" --atlas "$s/region.nii.gz" --labels fixtures/realdata/sij-region.tsv \
      --out "$work/$name"
    dirs+="$PWD/$work/$name"$'\n'
  done
  # A real CT (TotalSegmentator's abdomen example): the page heads with the warning.
  ts=../shared/realdata/totalsegmentator
  "$bin" run --quiet --scan "$ts/ct_abdomen.nii.gz" --atlas "$ts/ct_abdomen_total.nii.gz" --out "$work/ct" 2> /dev/null
  dirs+="$PWD/$work/ct"$'\n'
else
  echo "browser test: ../shared/realdata is absent, so the real sij-stir and CT pages are not checked" >&2
fi
CRMO_REVIEW_DIRS="$dirs" node --test --test-concurrency=1 tests/browser/
