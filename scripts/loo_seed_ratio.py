#!/usr/bin/env python3
"""Leave one subject out: how well the local detector's seed ratio carries to real scans it
was not chosen on (docs/ACCURACY.md).

For each annotated subject of a readers' folder (the `sij-stir` layout), the operating-point
rule of docs/ACCURACY.md is applied to the other subjects over a set of seed ratios (the
lowest false-positive rate against reader 1 at which sensitivity reaches 0.69; ties to the
higher sensitivity), and the chosen ratio is scored on the held-out subject. Prints each
choice and the held-out subjects' totals.

usage: scripts/loo_seed_ratio.py [--bin target/release/crmo-map]
                                 [--readers ../shared/realdata/sij-stir] [extra crmo-map flags]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

SEEDS = [1.4, 1.45, 1.5, 1.55, 1.6, 1.65, 1.7, 1.8]
TARGET = 0.69


def froc(binary, folder, labels, out, extra):
    subprocess.run([binary, "evaluate", "--quiet", "--readers", folder, "--labels", labels, "--out", out,
                    "--froc-values", ",".join(map(str, SEEDS))] + extra, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "froc.tsv")) as f:
        return {float(r["seed_ratio"]): r for r in csv.DictReader(f, delimiter="\t")}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(root, "target/release/crmo-map"))
    ap.add_argument("--readers", default=os.path.join(root, "../shared/realdata/sij-stir"))
    ap.add_argument("--labels", default=os.path.join(root, "fixtures/realdata/sij-region.tsv"))
    args, extra = ap.parse_known_args()
    readers = os.path.abspath(args.readers)
    subjects = sorted(s for s in os.listdir(readers)
                      if os.path.exists(os.path.join(readers, s, "oedema_R11.nii.gz")))
    if len(subjects) < 2:
        sys.exit(f"loo_seed_ratio.py: fewer than two annotated subjects in {readers}")
    found, lesions, fp = 0, 0, 0.0
    dice = []
    with tempfile.TemporaryDirectory() as tmp:
        for held in subjects:
            train, test = os.path.join(tmp, "train-" + held), os.path.join(tmp, "test-" + held)
            os.makedirs(train)
            os.makedirs(test)
            for s in subjects:
                os.symlink(os.path.join(readers, s), os.path.join(test if s == held else train, s))
            tr = froc(args.bin, train, args.labels, train + "-out", extra)
            ok = [k for k in SEEDS if float(tr[k]["sensitivity_R1"]) >= TARGET]
            pick = min(ok, key=lambda k: (float(tr[k]["fp_per_scan_R1"]), -float(tr[k]["sensitivity_R1"]))) \
                if ok else min(SEEDS)
            te = froc(args.bin, test, args.labels, test + "-out", extra)[pick]
            n, sens = int(te["found_R1"]), float(te["sensitivity_R1"])
            with open(os.path.join(test + "-out", "evaluation.json")) as f:
                agreements = json.load(f)["agreements"]
            lesions += next(a["lesions"] for a in agreements if (a["tested"], a["truth"]) == ("detector", "R1"))
            found += n
            fp += float(te["fp_per_scan_R1"])
            dice.append(float(te["dice_mean_R1"]))
            print(f"{held}: seed ratio {pick:g} chosen on the others; held out: sensitivity {sens:.3f} "
                  f"({n} found), FP/scan {float(te['fp_per_scan_R1']):.2f}, Dice {float(te['dice_mean_R1']):.3f}")
    print(f"held-out subjects together: {found} of {lesions} found ({found / lesions:.3f})"
          + f", FP/scan {fp / len(subjects):.2f}, Dice mean {sum(dice) / len(dice):.3f}")


if __name__ == "__main__":
    main()
