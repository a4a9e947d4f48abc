#!/usr/bin/env python3
"""Regenerate the small files in fixtures/ (standard library only, deterministic).

usage: python3 scripts/make_fixtures.py

Writes:
  fixtures/tiny/   a 24x16x20 toy scan (LPS-stored, int16 with scl_slope), its atlas and
                   label tables in TSV and JSON: the input of the golden-report test;
  fixtures/edge/   odd but valid files the loader must read (NaN slope, qfac 0, 4-D with
                   t = 1, multi-member gzip, big-endian, qform only);
  fixtures/bad/    files every reader must reject with a one-line error, never a panic.
The NIfTI-1 header is packed here from the specification's field layout, so these files
do not depend on crmo-map's own writer.
"""
import gzip
import json
import math
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")

DT = {"uint8": (2, "B"), "int16": (4, "h"), "int32": (8, "i"), "float32": (16, "f"),
      "float64": (64, "d"), "uint16": (512, "H"), "complex64": (32, "ff")}


def header(dims, dtype, affine=None, slope=1.0, inter=0.0, pixdim0=1.0, qform=None,
           sform=True, endian="<", intent=0, sizeof=348, magic=b"n+1\0", ndim=None):
    code, fmt = DT[dtype]
    bitpix = struct.calcsize("<" + fmt) * 8
    dim = [ndim or len(dims)] + list(dims) + [1] * (7 - len(dims))
    if affine is None:
        affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    zooms = [math.sqrt(sum(affine[r][c] ** 2 for r in range(3))) for c in range(3)]
    pixdim = [pixdim0] + zooms + [1.0] * 4
    q = qform or (0, 0, 0, 0.0, 0.0, 0.0)
    h = struct.pack(endian + "i10s18sihbb8h3fhhhh8ffffhbbffffii80s24shh6f4f4f4f16s4s",
                    sizeof, b"", b"", 0, 0, 0, 0, *dim, 0.0, 0.0, 0.0, intent, code, bitpix, 0,
                    *pixdim, 352.0, slope, inter, 0, 0, 2, 0.0, 0.0, 0.0, 0.0, 0, 0,
                    b"crmo-map fixture", b"", 1 if qform else 0, 1 if sform else 0, *q,
                    *affine[0], *affine[1], *affine[2], b"", magic)
    assert len(h) == 348, len(h)
    return h + b"\0\0\0\0"


def voxels(values, dtype, endian="<"):
    fmt = DT[dtype][1]
    return b"".join(struct.pack(endian + fmt, v) for v in values)


def write(path, data, gz=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if gz is None:
        gz = path.endswith(".gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(data, compresslevel=6, mtime=0) if gz else data)


def tiny():
    """A toy body: two 'bones' (label 1 on the subject's right, 2 on the left) with a bright lesion in each and one tiny
    bright speck under the minimum volume. Stored LPS (i toward the subject's left)."""
    nx, ny, nz = 24, 16, 20
    sp = (2.0, 3.0, 2.5)
    # LPS storage: world x = -2*i + 23, y = -3*j + 22.5, z = 2.5*k - 20.
    aff = [[-sp[0], 0, 0, 23.0], [0, -sp[1], 0, 22.5], [0, 0, sp[2], -20.0]]
    scan, atlas = [], []
    for k in range(nz):
        for j in range(ny):
            for i in range(nx):
                lab = 0
                if 3 <= j < 13 and 2 <= k < 18:
                    if 2 <= i < 10:
                        lab = 1
                    elif 14 <= i < 22:
                        lab = 2
                v = 100.0 + ((i * 7 + j * 13 + k * 29) % 11) - 5  # marrow with a little texture
                if lab == 0:
                    v = 40.0
                if lab == 1 and 4 <= i < 8 and 5 <= j < 9 and 12 <= k < 16:
                    v = 400.0 + i  # lesion A (superior), peak at its highest i
                if lab == 2 and 16 <= i < 20 and 6 <= j < 10 and 3 <= k < 7:
                    v = 380.0
                if lab == 2 and (i, j, k) == (15, 4, 15):
                    v = 500.0  # a single bright voxel: 15 mm^3, under the 100 mm^3 minimum
                scan.append(v)
                atlas.append(lab)
    # int16 with a slope: stored = value / 0.5
    write(os.path.join(ROOT, "tiny", "scan.nii.gz"),
          header((nx, ny, nz), "int16", aff, slope=0.5) + voxels([round(v / 0.5) for v in scan], "int16"))
    write(os.path.join(ROOT, "tiny", "atlas.nii.gz"),
          header((nx, ny, nz), "uint8", aff, intent=1002) + voxels(atlas, "uint8"))
    with open(os.path.join(ROOT, "tiny", "labels.tsv"), "w") as f:
        f.write("index\tname\tabbreviation\n1\tacetabulum_roof_right\tARR\n2\tfemur_neck_left\tFNL\n")
    with open(os.path.join(ROOT, "tiny", "labels.json"), "w") as f:
        json.dump({"1": "acetabulum_roof_right", "2": "femur_neck_left"}, f, indent=1)
        f.write("\n")
    # An atlas with a label value (3) that the tables lack, and one on another grid.
    atlas3 = [3 if (a == 2 and i == 0) else a for i, a in enumerate(atlas)]
    atlas3[nx * ny * 5 + nx * 5 + 15] = 3
    write(os.path.join(ROOT, "tiny", "atlas-unlisted-label.nii.gz"),
          header((nx, ny, nz), "uint8", aff) + voxels(atlas3, "uint8"))
    write(os.path.join(ROOT, "tiny", "atlas-other-shape.nii.gz"),
          header((nx, ny, nz - 1), "uint8", aff) + voxels(atlas[: nx * ny * (nz - 1)], "uint8"))
    # The atlas moved 1 m to the subject's right: no overlap with the scan at all.
    far = [row[:3] + [row[3] + (1000 if r == 0 else 0)] for r, row in enumerate(aff)]
    write(os.path.join(ROOT, "tiny", "atlas-elsewhere.nii.gz"),
          header((nx, ny, nz), "uint8", far) + voxels(atlas, "uint8"))
    with open(os.path.join(ROOT, "tiny", "labels-empty.tsv"), "w") as f:
        f.write("index\tname\n")


def edge():
    """Valid files in unusual shapes; each stores 0..23 on a 2x3x4 grid."""
    dims = (2, 3, 4)
    vals = list(range(24))
    aff = [[2, 0, 0, -10], [0, 3, 0, 5], [0, 0, 4, 7]]
    e = os.path.join(ROOT, "edge")
    write(os.path.join(e, "nan-slope.nii"), header(dims, "int16", aff, slope=float("nan")) + voxels(vals, "int16"))
    write(os.path.join(e, "qfac-zero.nii"),
          header(dims, "float32", aff, pixdim0=0.0, qform=(0, 0, 0, -10.0, 5.0, 7.0), sform=False)
          + voxels(vals, "float32"))
    write(os.path.join(e, "4d-t1.nii.gz"), header(dims + (1,), "uint8", aff) + voxels(vals, "uint8"))
    blob = header(dims, "uint16", aff) + voxels(vals, "uint16")
    with open(os.path.join(e, "multi-member.nii.gz"), "wb") as f:
        f.write(gzip.compress(blob[:200], mtime=0) + gzip.compress(blob[200:], mtime=0))
    write(os.path.join(e, "big-endian.nii"), header(dims, "float64", aff, endian=">") + voxels(vals, "float64", ">"))
    # stored 0..23 with slope 2 and intercept -4: values -4, -2, ..., 42
    write(os.path.join(e, "scaled-int32.nii.gz"), header(dims, "int32", aff, slope=2.0, inter=-4.0) + voxels(vals, "int32"))


def bad():
    b = os.path.join(ROOT, "bad")
    dims = (4, 4, 4)
    good = header(dims, "int16") + voxels([1] * 64, "int16")
    write(os.path.join(b, "empty.nii"), b"")
    write(os.path.join(b, "text.nii"), b"this is not a NIfTI file\n" * 20)
    write(os.path.join(b, "text.nii.gz"), b"this is not a NIfTI file either\n" * 20)
    z = gzip.compress(good, mtime=0)
    write(os.path.join(b, "truncated.nii.gz"), z[: len(z) // 2], gz=False)
    write(os.path.join(b, "truncated-data.nii"), good[:-40])
    write(os.path.join(b, "nifti2.nii"), struct.pack("<i", 540) + b"n+2\0" + b"\0" * 600)
    write(os.path.join(b, "two-volumes.nii.gz"), header((4, 4, 4, 2), "int16") + voxels([1] * 128, "int16"))
    write(os.path.join(b, "complex.nii"), header(dims, "complex64") + b"\0" * (64 * 8))
    write(os.path.join(b, "singular-affine.nii"),
          header(dims, "int16", [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]) + voxels([1] * 64, "int16"))
    write(os.path.join(b, "two-d.nii"), header((8, 8), "int16") + voxels([1] * 64, "int16"))
    write(os.path.join(b, "header-pair.nii"), header(dims, "int16", magic=b"ni1\0"))


if __name__ == "__main__":
    tiny()
    edge()
    bad()
    print("fixtures written to", os.path.normpath(ROOT))
