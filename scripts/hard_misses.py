#!/usr/bin/env python3
"""Which phantom lesions an intensity detector could find: for each true lesion of an
evaluated phantom suite, the share of its region's normal marrow (the region's voxels outside
every lesion, eroded by one voxel to leave out cortex and partial volume) brighter than the
lesion's median, and whether the detector found it. A missed lesion that no more than 0.5% of
its region's normal marrow outshines is the detector's fault; one buried in the marrow's own
spread can be found only by pooling voxels.

usage: scripts/hard_misses.py EVAL_DIR   (the --out of `crmo-map evaluate --suite ...`, which
       keeps the phantoms in EVAL_DIR/phantoms; needs nibabel and scipy, as in .venv)
"""
import glob
import json
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage as ndi

SEPARABLE = 0.005


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    ev_dir = sys.argv[1]
    with open(os.path.join(ev_dir, "evaluation.json")) as f:
        ev = json.load(f)
    found = {(s["name"], l["id"]): l["matched"] is not None for s in ev["scans"] for l in s["lesions"]}
    if not glob.glob(os.path.join(ev_dir, "phantoms", "*", "truth.json")):
        sys.exit(f"hard_misses.py: no phantoms in {os.path.join(ev_dir, 'phantoms')}: give the --out of "
                 "`crmo-map evaluate --suite ...`, which keeps its phantoms there")
    rows = []
    for d in sorted(glob.glob(os.path.join(ev_dir, "phantoms", "*"))):
        name = os.path.basename(d)
        with open(os.path.join(d, "truth.json")) as f:
            truth = json.load(f)
        if not truth:
            continue
        scan = np.asarray(nib.load(os.path.join(d, "scan.nii.gz")).dataobj, np.float32)
        atlas = np.asarray(nib.load(os.path.join(d, "atlas.nii.gz")).dataobj)
        lesions = np.asarray(nib.load(os.path.join(d, "truth.nii.gz")).dataobj)
        with open(os.path.join(d, "labels.tsv")) as f:
            index = {r[1]: int(r[0]) for r in (line.split("\t") for line in f.read().splitlines()[1:])}
        for t in truth:
            if (name, t["id"]) not in found:
                continue  # under the run's minimum volume: the evaluation left it unscored
            region = (atlas == index[t["region"]]) & (lesions == 0)
            core = ndi.binary_erosion(region)
            normal = scan[core] if core.sum() > 100 else scan[region]
            median = float(np.median(scan[lesions == t["id"]]))
            brighter = float((normal >= median).mean())
            rows.append((brighter, name, t["id"], t["region"], t.get("shape", ""), t["volume_mm3"],
                         t.get("ratio_to_marrow") or float("nan"), median / float(np.median(normal)),
                         found[(name, t["id"])]))
    print("scan\tid\tregion\tshape\tvolume_mm3\tratio_to_marrow\tmedian_to_region\tnormal_brighter\tfound")
    for b, name, i, region, shape, vol, ratio, rel, hit in sorted(rows):
        print(f"{name}\t{i}\t{region}\t{shape}\t{vol:.0f}\t{ratio:.2f}\t{rel:.2f}\t{b:.3f}\t{hit}")
    missed = [r for r in rows if not r[-1]]
    separable = [r for r in missed if r[0] <= SEPARABLE]
    print(f"# {len(rows)} lesions, {len(missed)} missed; of the missed, {len(separable)} are outshone by at most "
          f"{SEPARABLE:.1%} of their region's normal marrow", file=sys.stderr)


if __name__ == "__main__":
    main()
