#!/usr/bin/env python3
"""Independent check of a run's region map with nibabel.

usage: python3 regions_check.py SCAN OUT_DIR
Checks that regions.nii.gz has the scan's shape and affine, is uint8 (uint16 only when a
label needs it) with intent "label", that its labels are regions.tsv's index column with the
TSV's voxel counts and valid #rrggbb colours, and that each lesion's centroid voxel, where it
is one of the lesion's voxels, carries the lesion's region. Prints each problem and exits 1 if
there is any.
"""
import csv
import json
import os
import re
import sys

import nibabel as nib
import numpy as np


def main():
    scan, out = sys.argv[1], sys.argv[2]
    problems = []
    need = lambda ok, msg: ok or problems.append(msg)
    s_img = nib.load(scan)
    r_img = nib.load(os.path.join(out, "regions.nii.gz"))
    need(r_img.shape[:3] == s_img.shape[:3], f"regions shape {r_img.shape} != scan {s_img.shape}")
    need(np.allclose(r_img.affine, s_img.affine, atol=1e-3), "regions affine differs from the scan's")
    need(int(r_img.header["intent_code"]) == 1002, "regions.nii.gz intent is not label (1002)")
    lab = np.asarray(r_img.dataobj)
    present, counts = np.unique(lab[lab != 0], return_counts=True)
    want_dtype = np.uint8 if (present.max(initial=0) <= 255) else np.uint16
    need(lab.dtype == want_dtype, f"regions dtype {lab.dtype}, expected {np.dtype(want_dtype)}")
    with open(os.path.join(out, "regions.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    cols = ["index", "name", "color", "bone_class", "side", "vertebral_level", "bone_label", "voxels"]
    need(rows and list(rows[0].keys()) == cols, f"regions.tsv columns {list(rows[0].keys()) if rows else []}")
    index = [int(r["index"]) for r in rows]
    need(index == present.tolist(), f"tsv index {index} != labels in the map {present.tolist()}")
    by_index = {int(r["index"]): r for r in rows}
    for l, n in zip(present.tolist(), counts.tolist()):
        r = by_index.get(l)
        if r is None:
            continue
        need(int(r["voxels"]) == n, f"label {l}: tsv voxels {r['voxels']} != {n}")
        need(re.fullmatch(r"#[0-9a-f]{6}", r["color"]) is not None, f"label {l}: color {r['color']!r}")
        need(r["side"] in ("left", "right", "midline"), f"label {l}: side {r['side']!r}")
    rep = json.load(open(os.path.join(out, "report.json")))
    ids = np.asarray(nib.load(os.path.join(out, "lesions.nii.gz")).dataobj)
    for les in rep["lesions"]:
        c = tuple(int(round(v)) for v in les["centroid_voxel"])
        if ids[c] != les["id"]:
            continue  # a curved lesion's centroid can lie outside it: nothing to compare
        got = by_index.get(int(lab[c]), {}).get("name")
        need(got == les["region"], f"lesion {les['id']}: centroid voxel {c} is {got}, report says {les['region']}")
    for p in problems:
        print(p)
    print("regions ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
