#!/usr/bin/env python3
"""Independent check of `crmo-map evaluate --readers` on one subject (nibabel + cc3d).

Usage: reader_agreement.py SUBJECT_DIR [MIN_VOLUME_MM3]

For every ordered pair of readers (tested, truth) among SUBJECT_DIR/oedema_R<r><s>.nii.gz, prints
one JSON object per line: truth lesions = 26-connected components of the truth reader's first
session of at least MIN_VOLUME_MM3 (100); found when >= 10% of a lesion's voxels lie in the
tested reader's first session; false positives = components of the tested first session (any
size) touching none of the truth reader's sessions; Dice of the two first sessions.
"""
import json
import re
import sys
from pathlib import Path

import cc3d
import nibabel as nib
import numpy as np

d = Path(sys.argv[1])
min_mm3 = float(sys.argv[2]) if len(sys.argv) > 2 else 100.0
masks = {}
voxel = None
for f in sorted(d.glob("oedema_R*.nii*")):
    m = re.fullmatch(r"oedema_R(\d)(\d)\.nii(\.gz)?", f.name)
    if not m:
        continue
    img = nib.load(str(f))
    voxel = abs(float(np.linalg.det(img.affine[:3, :3])))
    masks.setdefault(f"R{m.group(1)}", {})[int(m.group(2))] = np.asanyarray(img.dataobj) != 0

for truth, t_sessions in sorted(masks.items()):
    t_first = t_sessions[min(t_sessions)]
    t_any = np.logical_or.reduce(list(t_sessions.values()))
    labels = cc3d.connected_components(t_first.astype(np.uint8), connectivity=26)
    sizes = np.bincount(labels.ravel())
    for tested, s_sessions in sorted(masks.items()):
        if tested == truth:
            continue
        test = s_sessions[min(s_sessions)]
        inside = np.bincount(labels[test].ravel(), minlength=len(sizes))
        lesions = [l for l in range(1, len(sizes)) if sizes[l] * voxel >= min_mm3]
        found = sum(1 for l in lesions if inside[l] / sizes[l] >= 0.1)
        comps = cc3d.connected_components(test.astype(np.uint8), connectivity=26)
        touching = set(np.unique(comps[t_any]).tolist())
        fps = sum(1 for l in range(1, int(comps.max()) + 1) if l not in touching)
        both = int(np.logical_and(t_first, test).sum())
        n_t, n_s = int(t_first.sum()), int(test.sum())
        print(json.dumps({
            "tested": tested, "truth": truth, "lesions": len(lesions), "found": found,
            "false_positives": fps, "dice": 2.0 * both / (n_t + n_s) if n_t + n_s else 1.0,
            "truth_voxels": n_t, "tested_voxels": n_s, "overlap_voxels": both,
        }))
