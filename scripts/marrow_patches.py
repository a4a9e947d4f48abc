#!/usr/bin/env python3
"""How patchy normal marrow is, on real scans and on phantoms: for every region of at least
500 normal-marrow voxels (the region eroded by one voxel, away from every lesion), the robust
spread (1.4826 MAD / median) of its marrow voxel by voxel and smoothed over 4 mm (a Gaussian
within the region), and the share of its smoothed marrow at or above SEED_RATIO times the
region's median: normal marrow that a detector judging ratios to the region's level would
have to tell from oedema by something other than its brightness.

usage: scripts/marrow_patches.py REAL_DIR [PHANTOMS_DIR ...]
  REAL_DIR      a folder in the sij-stir layout (sub-*/stir.nii.gz, region.nii.gz and the
                readers' oedema_R*.nii.gz, all left out with 3 voxels around them)
  PHANTOMS_DIR  folders of phantom folders (scan.nii.gz, atlas.nii.gz, truth.nii.gz; the
                truth left out with 2 voxels around it), such as the phantoms/ of an
                `evaluate --suite` output
Needs nibabel and scipy (as in .venv).
"""
import glob
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage as ndi

SEED_RATIO = 1.55
SMOOTH_MM = 4.0
MIN_VOXELS = 500


def robust_spread(v):
    med = np.median(v)
    return 1.4826 * np.median(np.abs(v - med)) / med


def region_rows(scan, labels, normal, zooms):
    """(voxel spread, smoothed spread, share at SEED_RATIO x the median) per region."""
    sigma = [SMOOTH_MM / z for z in zooms]
    margin = [int(np.ceil(4 * s)) + 1 for s in sigma]
    rows = []
    for label, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        # The region's box with room for the Gaussian's reach.
        box = tuple(slice(max(b.start - m, 0), b.stop + m) for b, m in zip(box, margin))
        region = labels[box] == label
        core = ndi.binary_erosion(region) & normal[box]
        if core.sum() < MIN_VOXELS:
            continue
        values = scan[box]
        weight = ndi.gaussian_filter(region.astype(np.float64), sigma)
        total = ndi.gaussian_filter(np.where(region, values, 0.0), sigma)
        smoothed = (total / np.maximum(weight, 1e-9))[core]
        median = np.median(values[core])
        rows.append((robust_spread(values[core]), robust_spread(smoothed), float(np.mean(smoothed >= SEED_RATIO * median))))
    return rows


def load(path):
    img = nib.load(path)
    return np.asarray(img.dataobj, np.float64), img.header.get_zooms()[:3]


def real_rows(real_dir):
    for subject in sorted(glob.glob(os.path.join(real_dir, "sub-*"))):
        scan, zooms = load(os.path.join(subject, "stir.nii.gz"))
        region = (np.asarray(nib.load(os.path.join(subject, "region.nii.gz")).dataobj) > 0).astype(np.int32)
        marked = np.zeros(scan.shape, bool)
        for mask in glob.glob(os.path.join(subject, "oedema_R*.nii.gz")):
            marked |= np.asarray(nib.load(mask).dataobj) > 0
        yield os.path.basename(subject), region_rows(scan, region, ~ndi.binary_dilation(marked, iterations=3), zooms)


def phantom_rows(phantoms_dir):
    for d in sorted(glob.glob(os.path.join(phantoms_dir, "*"))):
        if not os.path.isfile(os.path.join(d, "truth.nii.gz")):
            continue
        scan, zooms = load(os.path.join(d, "scan.nii.gz"))
        atlas = np.asarray(nib.load(os.path.join(d, "atlas.nii.gz")).dataobj).astype(np.int32)
        truth = np.asarray(nib.load(os.path.join(d, "truth.nii.gz")).dataobj) > 0
        yield os.path.basename(d), region_rows(scan, atlas, ~ndi.binary_dilation(truth, iterations=2), zooms)


def summary(rows):
    a = np.array(rows)
    patchy = np.mean(a[:, 2] >= 0.05)
    return (f"{len(a)} regions; spread voxel by voxel {np.median(a[:, 0]):.3f}, smoothed {np.median(a[:, 1]):.3f} "
            f"(medians); share at >= {SEED_RATIO} x median: median {np.median(a[:, 2]):.4f}, "
            f"largest {a[:, 2].max():.3f}; regions with at least 5% there: {patchy:.0%}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sets = [(sys.argv[1], real_rows(sys.argv[1]))] + [(d, phantom_rows(d)) for d in sys.argv[2:]]
    for name, scans in sets:
        everything = []
        for scan, rows in scans:
            everything += rows
            print(f"{name}\t{scan}\t{summary(rows) if rows else 'no region large enough'}")
        if everything:
            print(f"{name}\tall\t{summary(everything)}")


if __name__ == "__main__":
    main()
