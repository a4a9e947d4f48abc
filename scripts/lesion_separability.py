#!/usr/bin/env python3
"""Which lesions stand out from their region's normal marrow by their mean signal alone, and
which of those the detector finds: a matched-filter view of the lesions (the
non-prewhitening matched filter of task-based image quality, told each lesion's shape).

A lesion's statistic is the mean scan intensity over its voxels. Its null is the same shape
translated to PLACEMENTS random places in its region of the atlas the detector is given,
where at least INSIDE of the shape lands in the region and none of it within GUARD voxels of
a lesion (every reader's, on real scans): the mean of normal tissue over a lesion-shaped
patch of the same region. A lesion is *separable* when its mean beats every null placement
(*separable at 1%*: 99% of them). Lesions with fewer than MIN_PLACEMENTS placements (a
lesion filling most of a small region) are left out of those shares.

Separable is not the same as findable at a low false-positive rate (a detector is not told
the shape, and a large region holds many more lesion-sized patches than PLACEMENTS), nor is a
lesion that is not separable lost (position, edges and the local level say more than a
region-wide mean). The comparison it allows: a detector limited by contrast finds the
separable lesions first; one that misses separable lesions loses them to its own tests.

Phantom suites (EVAL_DIR: the --out of `crmo-map evaluate --suite ...`, which keeps the
phantoms in EVAL_DIR/phantoms and each run in EVAL_DIR/runs): the true lesions, their ratio to
the marrow they replace (truth.json), found as the evaluation scored them (the lesions it
left unscored, under the run's minimum volume, are left out here too). For each lesion
also which of the local detector's two seed tests its voxels pass, against its region's level
in the run's report.json and region map (roughly: without the local lifts of that level and on the voxel
rather than its denoised mean): a lesion whose voxels passing both tests fill a seed core
(`seed_core_mm3`) is *seeded*, else it fails the *noise demand* when those passing the seed
ratio alone would fill one, else the *seed ratio*.

Real scans (`--readers DATASET`, the sij-stir layout; EVAL_DIR: the --out of `crmo-map
evaluate --readers DATASET ...`): reader 1's lesions (26-connected components of its first
session of at least MIN_READER_MM3, the reader evaluation's rule) in the hand-drawn region;
the ratio is the lesion's median over the median of the readers' normal-marrow region; found
(by the detector, EVAL_DIR/runs/SUBJECT/lesions.nii.gz, or by reader 2's first session) when
FOUND_SHARE of its voxels lie in the tested mask, the evaluation's rule.

usage: scripts/lesion_separability.py [--readers DATASET] [--seed N] [--json FILE] EVAL_DIR
       (prints a row per lesion and a table by ratio; --json writes the table's figures;
       needs nibabel, scipy and cc3d: `bash scripts/python-env.sh` makes .venv with them)
"""
import argparse
import glob
import json
import os
import sys

import cc3d
import nibabel as nib
import numpy as np
from scipy import ndimage as ndi

PLACEMENTS = 500
MIN_PLACEMENTS = 50
INSIDE = 0.95
GUARD = 2
MAX_TRIES = 40 * PLACEMENTS
MIN_READER_MM3 = 100.0
FOUND_SHARE = 0.1
RATIO_BINS = [(0.0, 1.5, "< 1.5"), (1.5, 2.0, "1.5-2"), (2.0, 3.0, "2-3"), (3.0, np.inf, ">= 3"), (0.0, np.inf, "all")]


def load(path, dtype=None):
    return np.asarray(nib.load(path).dataobj, dtype)


def label_names(path):
    """Index -> name of a label table (`index<TAB>name...` under a header line)."""
    with open(path) as f:
        return {int(r[0]): r[1] for r in (line.split("\t") for line in f.read().splitlines()[1:])}


def voxels_by_label(labels):
    """Each non-zero label's voxel coordinates (in storage order, as np.argwhere gives them),
    from one pass over the volume."""
    at = np.argwhere(labels > 0)
    values = labels[tuple(at.T)]
    order = np.argsort(values, kind="stable")
    ids, starts = np.unique(values[order], return_index=True)
    return dict(zip(ids.tolist(), np.split(at[order], starts[1:])))


def null_means(scan, region, forbidden, offsets, rng):
    """Means of `scan` over `offsets` (a lesion's voxels relative to its first) placed at
    random voxels of `region`, keeping placements with at least INSIDE of the shape in the
    region and none of it in `forbidden`."""
    dims = np.array(scan.shape)
    starts = np.argwhere(region)
    out = []
    for _ in range(MAX_TRIES):
        if len(out) == PLACEMENTS or len(starts) == 0:
            break
        at = offsets + starts[rng.integers(len(starts))]
        if (at < 0).any() or (at >= dims).any():
            continue
        idx = tuple(at.T)
        if forbidden[idx].any() or region[idx].mean() < INSIDE:
            continue
        out.append(float(scan[idx][region[idx]].mean()))
    return np.array(out)


def separation(scan, vox, values, region, forbidden, rng):
    """The null placements' count, the share of them at least as bright as the lesion (voxels
    `vox`, intensities `values`), and the lesion's mean over the brightest placement."""
    stat = float(values.mean())
    null = null_means(scan, region, forbidden, vox - vox[0], rng)
    if len(null) == 0:
        return {"placements": 0, "beaten": float("nan"), "over_max": float("nan")}
    return {"placements": len(null), "beaten": float((null >= stat).mean()), "over_max": stat / float(null.max())}


class SeedTests:
    """The local detector's two seed tests on a lesion's voxels (see the module doc)."""

    def __init__(self, run_dir, spacing):
        with open(os.path.join(run_dir, "report.json")) as f:
            rep = json.load(f)
        p = rep["parameters"]["local"]
        level = {r["name"]: r["marrow"] for r in rep["marrow"]["regions"]}
        names = label_names(os.path.join(run_dir, "regions.tsv"))
        # Each voxel's level from the run's region map (the parcellated regions the detector used).
        by_index = np.full(max(names) + 1, np.nan)
        for i, n in names.items():
            by_index[i] = level.get(n, np.nan)
        self.level_map = by_index[load(os.path.join(run_dir, "regions.nii.gz")).astype(np.int64)]
        window = np.prod([2 * int(p["denoise_mm"] / s + 1e-9) + 1 for s in spacing])
        self.ratio = p["seed_ratio"]
        self.excess = p["noise_z"] * rep["marrow"]["noise_sigma"] / np.sqrt(window)
        self.core_mm3 = p["seed_core_mm3"]
        self.voxel_mm3 = float(np.prod(spacing))

    def verdict(self, values, idx):
        level = self.level_map[idx]
        if np.isnan(level).all():
            return "unmeasured region"
        by_ratio = values >= self.ratio * level
        both = by_ratio & (values >= level + self.excess)
        if both.sum() * self.voxel_mm3 >= self.core_mm3:
            return "seeded"
        return "noise demand" if by_ratio.sum() * self.voxel_mm3 >= self.core_mm3 else "seed ratio"


def phantom_rows(ev_dir, rng):
    with open(os.path.join(ev_dir, "evaluation.json")) as f:
        ev = json.load(f)
    # The lesions the evaluation scored (those under the run's minimum volume it lists apart).
    found = {(s["name"], l["id"]): l["matched"] is not None for s in ev["scans"] for l in s["lesions"]}
    dirs = [d for d in sorted(glob.glob(os.path.join(ev_dir, "phantoms", "*")))
            if os.path.exists(os.path.join(d, "truth.json"))]
    if not dirs:
        sys.exit(f"lesion_separability.py: no phantoms in {os.path.join(ev_dir, 'phantoms')}")
    return [r for d in dirs for r in phantom_lesions(d, ev_dir, found, rng)]


def phantom_lesions(d, ev_dir, found, rng):
    name = os.path.basename(d)
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)
    if not truth:
        return []
    img = nib.load(os.path.join(d, "scan.nii.gz"))
    scan = np.asarray(img.dataobj, np.float32)
    atlas = load(os.path.join(d, "atlas.nii.gz"))
    lesions = load(os.path.join(d, "truth.nii.gz"))
    index = {n: i for i, n in label_names(os.path.join(d, "labels.tsv")).items()}
    forbidden = ndi.binary_dilation(lesions > 0, iterations=GUARD)
    seeds = SeedTests(os.path.join(ev_dir, "runs", name), img.header.get_zooms()[:3])
    by_id = voxels_by_label(lesions)
    rows = []
    for t in truth:
        vox = by_id.get(t["id"])
        if vox is None or (name, t["id"]) not in found:
            continue
        idx = tuple(vox.T)
        rows.append({
            "scan": name, "id": t["id"], "region": t["region"], "volume_mm3": t["volume_mm3"],
            "ratio": t.get("ratio_to_marrow") or float("nan"),
            **separation(scan, vox, scan[idx], atlas == index[t["region"]], forbidden, rng),
            "found": found[(name, t["id"])],
            "seed_tests": seeds.verdict(scan[idx], idx),
        })
    return rows


def reader_rows(dataset, ev_dir, rng):
    subjects = [d for d in sorted(glob.glob(os.path.join(dataset, "*")))
                if os.path.exists(os.path.join(d, "oedema_R11.nii.gz"))]
    if not subjects:
        sys.exit(f"lesion_separability.py: no subject with oedema_R11.nii.gz in {dataset}")
    return [r for d in subjects for r in reader_lesions(d, ev_dir, rng)]


def reader_lesions(d, ev_dir, rng):
    name = os.path.basename(d)
    path = lambda f: os.path.join(d, f)
    img = nib.load(path("stir.nii.gz"))
    scan = np.asarray(img.dataobj, np.float32)
    voxel_mm3 = float(np.prod(img.header.get_zooms()[:3]))
    region = load(path("region.nii.gz")) > 0
    masks = {f: load(path(f)) > 0 for f in sorted(os.listdir(d)) if f.startswith("oedema_R")}
    forbidden = ndi.binary_dilation(np.any(list(masks.values()), axis=0), iterations=GUARD)
    marrow = float(np.median(scan[load(path("normal_marrow.nii.gz")) > 0]))
    tested = load(os.path.join(ev_dir, "runs", name, "lesions.nii.gz")) > 0
    reader2 = masks.get("oedema_R21.nii.gz", np.zeros_like(region))
    comps = cc3d.connected_components(masks["oedema_R11.nii.gz"].astype(np.uint8), connectivity=26)
    rows = []
    for c, vox in voxels_by_label(comps).items():
        if len(vox) * voxel_mm3 < MIN_READER_MM3:
            continue
        idx = tuple(vox.T)
        rows.append({
            "scan": name, "id": c, "region": "sacroiliac", "volume_mm3": len(vox) * voxel_mm3,
            "ratio": float(np.median(scan[idx])) / marrow,
            **separation(scan, vox, scan[idx], region, forbidden, rng),
            "found": bool(tested[idx].mean() >= FOUND_SHARE),
            "found_by_reader_2": bool(reader2[idx].mean() >= FOUND_SHARE),
        })
    return rows


def share(rows, test):
    return sum(1 for r in rows if test(r)) / len(rows) if rows else None


def table(rows):
    """Figures by ratio bin, and counts over the separable lesions."""
    placed = [r for r in rows if r["placements"] >= MIN_PLACEMENTS]
    separable = lambda r: r["beaten"] == 0.0
    bins = []
    for lo, hi, label in RATIO_BINS:
        sel = [r for r in rows if lo <= r["ratio"] < hi]
        sel_placed = [r for r in placed if lo <= r["ratio"] < hi]
        row = {"ratio": label, "lesions": len(sel), "placed": len(sel_placed),
               "separable": share(sel_placed, separable), "separable_1pc": share(sel_placed, lambda r: r["beaten"] <= 0.01),
               "found": share(sel, lambda r: r["found"]),
               "found_separable": share([r for r in sel_placed if separable(r)], lambda r: r["found"]),
               "found_other": share([r for r in sel_placed if not separable(r)], lambda r: r["found"])}
        if "found_by_reader_2" in rows[0]:
            row["found_by_reader_2"] = share(sel, lambda r: r["found_by_reader_2"])
        bins.append(row)
    missed = [r for r in placed if separable(r) and not r["found"]]
    out = {"lesions": len(rows), "placed": len(placed), "separable": sum(map(separable, placed)),
           "separable_missed": len(missed), "bins": bins}
    if "seed_tests" in rows[0]:
        out["separable_missed_by_seed_test"] = {v: sum(1 for r in missed if r["seed_tests"] == v)
                                                for v in sorted({r["seed_tests"] for r in missed})}
    return out


def print_report(rows, t):
    keys = [k for k in rows[0] if k not in ("scan", "id")]
    print("scan\tid\t" + "\t".join(keys))
    for r in sorted(rows, key=lambda r: (np.nan_to_num(r["beaten"], nan=2.0), -np.nan_to_num(r["over_max"]))):
        cells = [f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in keys]
        print(f"{r['scan']}\t{r['id']}\t" + "\t".join(cells))
    cols = [k for k in t["bins"][0] if k != "ratio"]
    print("\n| ratio | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    f = lambda v: "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
    for b in t["bins"]:
        print(f"| {b['ratio']} | " + " | ".join(f(b[c]) for c in cols) + " |")
    rest = {k: v for k, v in t.items() if k != "bins"}
    print("\n# " + ", ".join(f"{k} {v}" for k, v in rest.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("eval_dir")
    ap.add_argument("--readers", metavar="DATASET")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    rows = reader_rows(a.readers, a.eval_dir, rng) if a.readers else phantom_rows(a.eval_dir, rng)
    t = table(rows)
    print_report(rows, t)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(t, f, indent=1)


if __name__ == "__main__":
    main()
