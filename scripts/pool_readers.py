#!/usr/bin/env python3
"""Pool a reader dataset in the sij-stir layout to a coarser in-plane grid.

The real sacroiliac STIR of ../shared/realdata/sij-stir are reconstructed at 0.6 mm in plane
(interpolated: neighbouring voxels share their noise), while whole-body MRI, the tool's main
use, comes at about 1-1.6 mm. Pooling FACTOR x FACTOR voxels of the two finest axes gives
the same anatomy, oedema and readers on such a grid, so that `crmo-map evaluate --readers`
can tell whether the detector's operating point carries over from one grid to the other.

For every subject folder (sub-*/) of SRC, every NIfTI file is pooled into DST/sub-*/ under
its own name:
  - stir.nii.gz: the mean of each block (float32);
  - region.nii.gz: each block's commonest label (ties: the lowest label);
  - every other file (oedema_R<reader><session>.nii.gz, normal_marrow.nii.gz): a mask, set
    where at least half of the block's voxels are set.
Voxels past the last whole block along a pooled axis are dropped. The affine keeps world
space: a pooled voxel's centre is the centre of its block.

usage: pool_readers.py SRC DST [--factor F]   (needs nibabel and numpy: scripts/python-env.sh)
"""
import argparse
import glob
import os
import sys

import nibabel as nib
import numpy as np


def pooled_axes(zooms):
    """The two finest voxel axes (the in-plane axes of a slice stack)."""
    return sorted(sorted(range(3), key=lambda a: (zooms[a], a))[:2])


def blocks(a, axes, f):
    """`a` cut to whole blocks and reshaped so that each pooled axis is (block, f)."""
    cut = tuple(slice(0, (n // f) * f) if ax in axes else slice(None) for ax, n in enumerate(a.shape))
    a = a[cut]
    shape = []
    for ax, n in enumerate(a.shape):
        shape += [n // f, f] if ax in axes else [n]
    inner = tuple(ax + 1 + sum(1 for p in axes if p < ax) for ax in axes)
    return a.reshape(shape), inner


def pool_mean(a, axes, f):
    b, inner = blocks(a.astype(np.float64), axes, f)
    return b.mean(axis=inner).astype(np.float32)


def pool_mask(a, axes, f):
    b, inner = blocks((a != 0).astype(np.float64), axes, f)
    return (b.mean(axis=inner) >= 0.5).astype(np.uint8)


def pool_labels(a, axes, f):
    b, inner = blocks(a, axes, f)
    # Move each block's voxels to one trailing axis, then take the commonest value.
    outer = [ax for ax in range(b.ndim) if ax not in inner]
    v = np.transpose(b, outer + list(inner)).reshape([b.shape[ax] for ax in outer] + [-1])
    labels = np.unique(v)
    counts = np.stack([(v == l).sum(axis=-1) for l in labels], axis=-1)
    return labels[np.argmax(counts, axis=-1)].astype(a.dtype)


def pooled_affine(affine, axes, f):
    out = affine.copy()
    shift = np.zeros(3)
    for ax in axes:
        out[:3, ax] = affine[:3, ax] * f
        shift[ax] = (f - 1) / 2.0
    out[:3, 3] = affine[:3, 3] + affine[:3, :3] @ shift
    return out


def pool_file(src, dst, f):
    img = nib.load(src)
    if len(img.shape) != 3:
        raise SystemExit(f"pool_readers.py: {src}: expected a 3-D image, got shape {img.shape}")
    axes = pooled_axes(img.header.get_zooms()[:3])
    if any(img.shape[ax] < f for ax in axes):
        raise SystemExit(f"pool_readers.py: {src}: fewer than {f} voxels along a pooled axis")
    name = os.path.basename(src)
    if name == "stir.nii.gz":
        data = pool_mean(np.asarray(img.dataobj, dtype=np.float64), axes, f)
    elif name == "region.nii.gz":
        data = pool_labels(np.asarray(img.dataobj), axes, f)
    else:
        data = pool_mask(np.asarray(img.dataobj), axes, f)
    affine = pooled_affine(img.affine, axes, f)
    out = nib.Nifti1Image(data, affine)
    out.header.set_xyzt_units(*img.header.get_xyzt_units())
    out.set_qform(affine, code=int(img.header["qform_code"]) or 1)
    out.set_sform(affine, code=int(img.header["sform_code"]) or 1)
    nib.save(out, dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--factor", type=int, default=2)
    a = ap.parse_args()
    if a.factor < 1:
        sys.exit("pool_readers.py: --factor must be at least 1")
    subjects = sorted(d for d in glob.glob(os.path.join(a.src, "sub-*")) if os.path.isdir(d))
    if not subjects:
        sys.exit(f"pool_readers.py: {a.src}: no sub-* folders")
    for d in subjects:
        out = os.path.join(a.dst, os.path.basename(d))
        os.makedirs(out, exist_ok=True)
        for src in sorted(glob.glob(os.path.join(d, "*.nii.gz"))):
            pool_file(src, os.path.join(out, os.path.basename(src)), a.factor)


if __name__ == "__main__":
    main()
