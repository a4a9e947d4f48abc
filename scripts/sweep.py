#!/usr/bin/env python3
"""Run crmo-map over many phantoms nobody tunes on and score them against their truth.

usage: scripts/sweep.py [--n N] [--out DIR]   (run with the .venv python: needs nibabel)
Each phantom draws its case (seed or random), seed, voxel size, orientation, datatype and
intensity scale from a fixed list, generates it with `crmo-map phantom`, runs `crmo-map run`
and compares lesions.nii.gz with truth.nii.gz voxel by voxel: a true lesion is found when at
least 10% of its voxels are inside one reported lesion, and its region is right when that
lesion's `region` equals the truth's; a reported lesion touching no true lesion is a false
positive. Prints one line per phantom and a summary; exits 1 if any run failed.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys

import nibabel as nib
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

SPACINGS = [("1.5", "4", "1.5"), ("2", "5", "2"), ("1.2", "6", "1.2"), ("2.5", "2.5", "2.5"), ("1", "4.5", "1.4")]
ORIENTS = ["RAS", "LPS", "PIL", "ASR", "LAI", "SRP"]
DTYPES = ["int16", "uint16", "float32", "int32", "float64", "uint8"]
SCALES = ["1", "0.1", "10", "3.7", "0.5"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "sweep"))
    ap.add_argument("--run-args", default="", help="extra arguments for crmo-map run, e.g. '--z-threshold 6'")
    ap.add_argument("--reuse", action="store_true", help="keep phantoms already generated in --out")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "crmo-map")
    totals = dict(true=0, found=0, region_ok=0, fp=0, failed=0, inter=0, sizes=0)
    for n in range(a.n):
        case = "seed" if n % 4 == 0 else "random"
        seed = str(1000 + 37 * n)
        sp = SPACINGS[n % len(SPACINGS)]
        orient, dtype, scale = ORIENTS[n % len(ORIENTS)], DTYPES[(n // 2) % len(DTYPES)], SCALES[(n // 3) % len(SCALES)]
        d = os.path.join(a.out, f"p{n:02d}")
        gen = [exe, "phantom", "--quiet", "--case", case, "--seed", seed, "--lesions", str(4 + n % 9),
               "--spacing", *sp, "--orientation", orient, "--datatype", dtype, "--scale", scale,
               "--out", os.path.join(d, "input")]
        run = [exe, "run", "--quiet", "--scan", os.path.join(d, "input", "scan.nii.gz"),
               "--atlas", os.path.join(d, "input", "atlas.nii.gz"),
               "--labels", os.path.join(d, "input", "labels.tsv"), "--out", os.path.join(d, "out"), *a.run_args.split()]
        desc = f"{case:6} seed {seed} spacing {'x'.join(sp):11} {orient} {dtype:7} x{scale:4}"
        have = a.reuse and os.path.exists(os.path.join(d, "input", "truth.json"))
        ok = subprocess.run(["true"] if have else gen, capture_output=True, text=True)
        res = ok if ok.returncode else subprocess.run(run, capture_output=True, text=True)
        if res.returncode:
            totals["failed"] += 1
            print(f"{desc}  FAILED: {res.stderr.strip()}")
            continue
        truth = np.asarray(nib.load(os.path.join(d, "input", "truth.nii.gz")).dataobj)
        found_map = np.asarray(nib.load(os.path.join(d, "out", "lesions.nii.gz")).dataobj)
        tj = json.load(open(os.path.join(d, "input", "truth.json")))
        rep = json.load(open(os.path.join(d, "out", "report.json")))
        region_of = {l["id"]: l["region"] for l in rep["lesions"]}
        found = region_ok = 0
        misses = []
        for t in tj:
            m = truth == t["id"]
            ids, counts = np.unique(found_map[m], return_counts=True)
            best = [(c, i) for i, c in zip(ids, counts) if i != 0]
            if best and max(best)[0] >= 0.1 * m.sum():
                found += 1
                got = region_of[int(max(best)[1])]
                if got == t["region"]:
                    region_ok += 1
                else:
                    misses.append(f"{t['region']}->{got}")
            else:
                misses.append(f"missed {t['region']} ({t['volume_mm3']:.0f} mm3)")
        inter = int(np.sum((truth > 0) & (found_map > 0)))
        sizes = int(np.sum(truth > 0) + np.sum(found_map > 0))
        totals["inter"] += inter
        totals["sizes"] += sizes
        fp = sum(1 for l in rep["lesions"] if not np.any(truth[found_map == l["id"]]))
        totals["true"] += len(tj)
        totals["found"] += found
        totals["region_ok"] += region_ok
        totals["fp"] += fp
        print(f"{desc}  found {found}/{len(tj)}  region ok {region_ok}/{found}  FP {fp}  Dice {2 * inter / max(sizes, 1):.3f}  {' '.join(misses)}")
    t = totals
    print(f"\n{a.n} phantoms, {t['failed']} failed runs; lesions found {t['found']}/{t['true']}, "
          f"region right {t['region_ok']}/{t['found']}, false positives {t['fp']}, "
          f"pooled voxel Dice {2 * t['inter'] / max(t['sizes'], 1):.3f}")
    return 1 if t["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
