#!/usr/bin/env python3
"""The job `crmo-map run --method global` does, done the way a user would script it with a
peer tool; run by scripts/bench_peers.py, one job per process so that its peak memory is its
own.

usage: peer_jobs.py sitk|cc3d|cc3d-kernel|inflate SCAN ATLAS OUT_DIR [Z]

- sitk: SimpleITK (ITK's C++ filters): read both volumes, median and MAD of the scan inside
  the atlas, threshold at median + Z * 1.4826 MAD inside the atlas, 26-connected components,
  per-component voxel count, centroid, mean intensity and majority atlas label, write the
  label map (.nii.gz).
- cc3d: the same with nibabel + numpy + connected-components-3d.
- cc3d-kernel: only cc3d's labelling of that candidate mask, best of 5 (for the kernel
  comparison with examples/ccl_time.rs).
- inflate: only inflate the scan's gzip stream with libdeflate (the `deflate` binding): the
  floor of any pipeline that reads the file.
Prints one JSON line: {"components": N} (or {"bytes": N} for inflate).
"""
import json
import os
import sys

import numpy as np


def reference(scan, inside):
    vals = scan[inside]
    med = float(np.median(vals))
    mad = float(np.median(np.abs(vals - med)))
    return med, 1.4826 * mad


def majority_labels(labels, atlas, n):
    """Majority atlas label of each component 1..n from the foreground voxels only."""
    fg = labels > 0
    comp = labels[fg].astype(np.int64)
    lab = atlas[fg].astype(np.int64)
    width = int(lab.max()) + 1 if lab.size else 1
    counts = np.bincount(comp * width + lab, minlength=(n + 1) * width).reshape(n + 1, width)
    return counts.argmax(axis=1)[1:]


def job_sitk(scan_path, atlas_path, out, z):
    import SimpleITK as sitk

    scan_img = sitk.ReadImage(scan_path, sitk.sitkFloat32)
    atlas_img = sitk.ReadImage(atlas_path, sitk.sitkUInt16)
    scan = sitk.GetArrayViewFromImage(scan_img)
    atlas = sitk.GetArrayViewFromImage(atlas_img)
    med, sd = reference(scan, atlas > 0)
    cand = sitk.BinaryThreshold(scan_img, lowerThreshold=med + z * sd, upperThreshold=3.4e38)
    cand = sitk.Mask(cand, sitk.Cast(atlas_img > 0, sitk.sitkUInt8))
    cc = sitk.ConnectedComponent(cand, True)
    stats = sitk.LabelIntensityStatisticsImageFilter()
    stats.Execute(cc, scan_img)
    n = stats.GetNumberOfLabels()
    for lab in stats.GetLabels():
        stats.GetNumberOfPixels(lab), stats.GetCentroid(lab), stats.GetMean(lab)
    if n:
        majority_labels(sitk.GetArrayViewFromImage(cc), atlas, int(max(stats.GetLabels())))
    sitk.WriteImage(sitk.Cast(cc, sitk.sitkUInt16), os.path.join(out, "lesions.nii.gz"), True)
    return {"components": n}


def job_cc3d(scan_path, atlas_path, out, z):
    import cc3d
    import nibabel as nib

    simg = nib.load(scan_path)
    scan = simg.get_fdata(dtype=np.float32)
    atlas = np.asarray(nib.load(atlas_path).dataobj, dtype=np.uint16)
    inside = atlas > 0
    med, sd = reference(scan, inside)
    cand = (scan > med + z * sd) & inside
    labels, n = cc3d.connected_components(cand, connectivity=26, return_N=True)
    stats = cc3d.statistics(labels)
    fg = labels > 0
    sums = np.bincount(labels[fg].ravel(), weights=scan[fg].ravel(), minlength=n + 1)
    _ = sums[1:] / np.maximum(stats["voxel_counts"][1:], 1), stats["centroids"][1:]
    if n:
        majority_labels(labels, atlas, n)
    out_img = nib.Nifti1Image(labels.astype(np.uint16), simg.affine, simg.header)
    out_img.set_data_dtype(np.uint16)
    out_img.header.set_slope_inter(1, 0)
    nib.save(out_img, os.path.join(out, "lesions.nii.gz"))
    return {"components": int(n)}


def job_cc3d_kernel(scan_path, atlas_path, _out, z, repeat=5):
    """cc3d alone on the global detector's candidate mask: best of `repeat` (one thread)."""
    import time

    import cc3d
    import nibabel as nib

    scan = nib.load(scan_path).get_fdata(dtype=np.float32)
    atlas = np.asarray(nib.load(atlas_path).dataobj, dtype=np.uint16)
    inside = atlas > 0
    med, sd = reference(scan, inside)
    cand = (scan > med + z * sd) & inside
    del scan, atlas, inside
    best, n = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        _, n = cc3d.connected_components(cand, connectivity=26, return_N=True)
        best = min(best, time.perf_counter() - t)
    return {"voxels": int(cand.size), "components": int(n), "seconds": best}


def job_inflate(scan_path, _atlas, _out, _z):
    import deflate

    with open(scan_path, "rb") as f:
        data = f.read()
    return {"bytes": len(deflate.gzip_decompress(data))}


def main():
    kind, scan, atlas, out = sys.argv[1:5]
    z = float(sys.argv[5]) if len(sys.argv) > 5 else 6.0
    os.makedirs(out, exist_ok=True)
    result = {"sitk": job_sitk, "cc3d": job_cc3d, "cc3d-kernel": job_cc3d_kernel, "inflate": job_inflate}[kind](scan, atlas, out, z)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
