#!/usr/bin/env python3
"""What each of the local detector's tests costs and buys: the real scans and a phantom suite
evaluated again with one test relaxed at a time (all else at the defaults), beside the
defaults.

For every relaxation: against reader 1 on the real scans, sensitivity, false positives per
scan and Dice mean; on the phantom suite, sensitivity, false positives per scan, and the true
lesions the relaxed detector finds that the default misses (gained) and the other way round
(lost). A test that loses many lesions and holds back few false positives is where
sensitivity goes; one whose relaxation floods false positives earns its cost.

The minimum lesion volume is not relaxed: it is also the phantom scoring's floor (true
lesions under it are not scored), so relaxing it would change what is counted.

usage: scripts/ablation.py [--bin target/release/crmo-map] [--work target/accuracy]
                           [--json FILE]
       prints one tab-separated row per relaxation; --json writes the figures.
       WORK must hold `real-local` and `hard-local` (scripts/accuracy.sh makes them: the
       default runs, the latter with its phantoms); the relaxed runs go to WORK/ablate-*.
       Standard library only.
"""
import argparse
import json
import os
import subprocess
import sys

# (name, flags): each relaxes one test of the local detector.
RELAXED = [
    ("seed noise demand", ["--noise-z", "0"]),
    ("growth noise demand", ["--grow-noise-z", "0"]),
    ("seed ratio (down to the grow ratio)", ["--seed-ratio", "1.2"]),
    ("seed core (one voxel)", ["--seed-core-mm3", "0"]),
    ("edge guard", ["--edge-mm", "0"]),
    ("denoising", ["--denoise-mm", "0"]),
    ("fine level", ["--fine-mm", "0"]),
    ("growth-plate guard", ["--plate-mm", "0"]),
    ("half-maximum cut", ["--peak-fraction", "0"]),
    ("equivocal foci", ["--variant-focus-mm", "0"]),
]


def slug(name):
    return "".join(c if c.isalnum() else "-" for c in name.split(" (")[0]).strip("-")


def read_evaluation(out):
    with open(os.path.join(out, "evaluation.json")) as f:
        return json.load(f)


def evaluate(binary, args, out, cwd):
    """`crmo-map evaluate ARGS --out OUT`, run in `cwd`."""
    subprocess.run([binary, "evaluate", "--quiet", "--out", out] + args, check=True, stdout=subprocess.DEVNULL, cwd=cwd)
    return read_evaluation(out)


def agreement(ev, tested, truth):
    """The row of a readers' evaluation EV that scores TESTED (`detector`, `R2`) against TRUTH."""
    return next(a for a in ev["agreements"] if a["tested"] == tested and a["truth"] == truth)


def real_figures(ev):
    a = agreement(ev, "detector", "R1")
    return {"sensitivity": a["sensitivity"], "fp_per_scan": a["false_positives_per_scan"], "dice_mean": a["dice_mean"]}


def found_set(ev):
    return {(s["name"], l["id"]) for s in ev["scans"] for l in s["lesions"] if l["matched"] is not None}


def phantom_figures(ev, default_found):
    found = found_set(ev)
    s = ev["summary"]
    return {"sensitivity": s["sensitivity"], "fp_per_scan": s["false_positives_per_scan"],
            "gained": len(found - default_found), "lost": len(default_found - found)}


def parse_work_args(doc):
    """The repository's root and the arguments shared with scripts/carry_over.py: --bin,
    --work, --labels and --json (the script's docstring `doc` gives the description)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(root, "target/release/crmo-map"))
    ap.add_argument("--work", default=os.path.join(root, "target/accuracy"))
    ap.add_argument("--labels", default=os.path.join(root, "fixtures/realdata/sij-region.tsv"),
                    help="the label table real-local was evaluated with")
    ap.add_argument("--json", metavar="FILE")
    return root, ap.parse_args()


def main():
    root, a = parse_work_args(__doc__)
    defaults = [os.path.join(a.work, d) for d in ("real-local", "hard-local")]
    if not all(os.path.exists(os.path.join(d, "evaluation.json")) for d in defaults):
        sys.exit(f"ablation.py: {a.work} lacks real-local or hard-local: run scripts/accuracy.sh first")
    real, hard = map(read_evaluation, defaults)
    # The readers' folder as real-local names it (relative to the repository, where
    # scripts/accuracy.sh runs).
    readers, labels = real["dataset"], os.path.abspath(a.labels)
    work, binary = os.path.abspath(a.work), os.path.abspath(a.bin)
    phantoms = os.path.join(work, "hard-local", "phantoms")
    default_found = found_set(hard)
    rows = [{"relaxed": "nothing (the defaults)", "flags": [], "real": real_figures(real),
             "phantoms": phantom_figures(hard, default_found)}]
    for name, flags in RELAXED:
        r = evaluate(binary, ["--readers", readers, "--labels", labels] + flags,
                     os.path.join(work, "ablate-real-" + slug(name)), root)
        h = evaluate(binary, ["--phantoms", phantoms] + flags, os.path.join(work, "ablate-hard-" + slug(name)), root)
        rows.append({"relaxed": name, "flags": flags, "real": real_figures(r),
                     "phantoms": phantom_figures(h, default_found)})
    # Tab-separated here; docs/ACCURACY.md's table is scripts/accuracy_report.py's.
    def line(r):
        re_, ph = r["real"], r["phantoms"]
        return (f"{r['relaxed']}\t{' '.join(r['flags'])}\t{re_['sensitivity']:.3f}\t{re_['fp_per_scan']:.2f}\t"
                f"{re_['dice_mean']:.3f}\t{ph['sensitivity']:.3f}\t{ph['fp_per_scan']:.2f}\t{ph['gained']}\t{ph['lost']}")
    emit("relaxed\tflags\treal_sensitivity\treal_fp_per_scan\treal_dice_mean\tphantom_sensitivity\t"
         "phantom_fp_per_scan\tgained\tlost", line, rows, a.json)


def emit(header, line, rows, json_path):
    """Prints `header` and `line(row)` for each of `rows`; writes `rows` to `json_path` if given."""
    print(header)
    for r in rows:
        print(line(r))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
