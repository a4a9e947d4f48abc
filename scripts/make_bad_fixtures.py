#!/usr/bin/env python3
"""Regenerate fixtures/bad/ (inputs every reader must reject) and fixtures/odd/ (odd but valid
files that must give the plain file's result). Standard library only, deterministic.

usage: python3 scripts/make_bad_fixtures.py

fixtures/bad/MANIFEST.tsv lists every file with the roles it is tried in by
tests/bad_inputs.rs and a fragment its error message must hold:
  scan     crmo-map run --scan FILE (with fixtures/tiny's atlas and table)
  atlas    crmo-map run --atlas FILE (with fixtures/tiny's scan and table)
  labels   crmo-map run --labels FILE (with fixtures/tiny's scan and atlas)
  staging  crmo-map run --staging-config FILE (with fixtures/tiny's inputs)
  readers  crmo-map evaluate --readers FILE --labels fixtures/tiny/labels.tsv
Files must stay small (the whole folder well under 1 MB): allocation and gzip bombs declare,
or inflate to, far more than they store.
"""
import gzip
import os
import random
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import ROOT, header, voxels, write  # noqa: E402

BAD = os.path.join(ROOT, "bad")
ODD = os.path.join(ROOT, "odd")
TINY = (24, 16, 20)
TINY_N = 24 * 16 * 20
# fixtures/tiny's affine (LPS storage), so that scan-only files reach the content checks.
TINY_AFF = [[-2.0, 0, 0, 23.0], [0, -3.0, 0, 22.5], [0, 0, 2.5, -20.0]]
GOOD = header((4, 4, 4), "int16") + voxels([1] * 64, "int16")

MANIFEST = []  # (file, roles, fragment)


def bad(name, data, roles="scan,atlas", expect="-", gz=None):
    write(os.path.join(BAD, name), data, gz=gz)
    MANIFEST.append((name, roles, expect))


def patch(h, offset, fmt, *values):
    """The 352 header bytes `h` with a field (struct format `fmt`) at `offset` replaced."""
    b = bytearray(h)
    struct.pack_into("<" + fmt, b, offset, *values)
    return bytes(b)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def zeros_gz(n, level=9):
    """n zero bytes as raw deflate data, compressed in 1 MiB pieces (no n-byte buffer)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    out = b"".join(c.compress(bytes(1 << 20)) for _ in range(n >> 20))
    return out + c.compress(bytes(n & ((1 << 20) - 1))) + c.flush()


def gz_member(parts_raw, total_crc, total_len):
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + parts_raw + struct.pack("<II", total_crc, total_len & 0xFFFFFFFF)


def bomb(prefix, trailing_zeros):
    """One gzip member: `prefix` then `trailing_zeros` zero bytes, built without holding them."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(prefix)
    raw = c.compress(prefix)
    chunk = bytes(1 << 20)
    for _ in range(trailing_zeros >> 20):
        raw += c.compress(chunk)
        crc = zlib.crc32(chunk, crc)
    return gz_member(raw + c.flush(), crc, len(prefix) + trailing_zeros)


def nifti_files():
    h = header((4, 4, 4), "int16")
    # Truncated headers and streams.
    bad("header-347-bytes.nii", h[:347], expect="not a NIfTI-1 file")
    bad("header-truncated.nii.gz", h[:200], expect="not a NIfTI-1 file")
    bad("gzip-magic-only.nii.gz", b"\x1f\x8b", expect="inflate", gz=False)
    bad("gzip-header-only.nii.gz", gz(GOOD)[:10], expect="inflate", gz=False)
    big = header(TINY, "int16", TINY_AFF) + voxels([7] * TINY_N, "int16")
    bad("stream-cut-mid-voxels.nii.gz", gz(big)[: len(gz(big)) * 2 // 3], expect="-", gz=False)
    corrupt = bytearray(gz(GOOD))
    corrupt[14:20] = b"\xff" * 6
    bad("gzip-corrupt-deflate.nii.gz", bytes(corrupt), expect="inflate", gz=False)
    crc = bytearray(gz(GOOD))
    crc[-8] ^= 0xFF
    bad("gzip-bad-crc-and-short.nii.gz", bytes(crc[:-3]), expect="-", gz=False)
    bad("zero-bytes.nii.gz", b"", expect="not a NIfTI-1 file", gz=False)
    bad("gzip-of-gzip.nii.gz", gz(GOOD), expect="not a NIfTI-1 file")
    # Dimensions that lie, allocation bombs.
    bad("dims-lie.nii", header((100, 100, 100), "int16") + voxels([1] * 64, "int16"), expect="truncated")
    bad("dims-lie.nii.gz", header((100, 100, 100), "int16") + voxels([1] * 64, "int16"), expect="truncated")
    bad("alloc-bomb-2000-cubed.nii", header((2000, 2000, 2000), "float32") + bytes(600), expect="truncated")
    bad("alloc-bomb-2000-cubed.nii.gz", header((2000, 2000, 2000), "float32") + bytes(600),
        expect="more than a gzip file")
    bad("alloc-bomb-int64.nii", patch(header((32767, 32767, 32767), "int16"), 70, "hh", 1024, 64), expect="truncated")
    bad("alloc-bomb-float64.nii.gz", header((32767, 32767, 2), "float64") + bytes(1000),
        expect="more than a gzip file")
    bad("vox-offset-1e30.nii", patch(h, 108, "f", 1e30) + voxels([1] * 64, "int16"), expect="overflow")
    bad("vox-offset-1e12.nii", patch(h, 108, "f", 1e12) + voxels([1] * 64, "int16"), expect="truncated")
    bad("vox-offset-nan.nii", patch(h, 108, "f", float("nan")) + voxels([1] * 64, "int16"), expect="voxel offset")
    bad("vox-offset-negative.nii", patch(h, 108, "f", -352.0) + voxels([1] * 64, "int16"), expect="voxel offset")
    bad("vox-offset-in-header.nii", patch(h, 108, "f", 100.0) + voxels([1] * 64, "int16"), expect="voxel offset")
    # gzip bombs: small files that inflate to far more than the header announces (reading
    # stops at the announced bytes), or that announce more than any gzip of their size holds.
    nan_tiny = header(TINY, "float32", TINY_AFF) + voxels([float("nan")] * TINY_N, "float32")
    bad("gzip-bomb-trailing-64M.nii.gz", bomb(nan_tiny, 64 << 20), expect="-", gz=False)
    first = gz(nan_tiny[:352])
    bad("gzip-bomb-multi-member.nii.gz", first + bomb(nan_tiny[352:], 32 << 20), expect="-", gz=False)
    bad("gzip-bomb-announced-1G.nii.gz", bomb(header((1000, 1000, 1000), "uint8"), 1 << 20),
        expect="more than a gzip file", gz=False)
    # Shapes and kinds we do not read.
    bad("five-d.nii", header((4, 4, 4, 2, 3), "int16") + voxels([1] * 384, "int16"), expect="6 volumes")
    bad("four-d-three-volumes.nii.gz", header((4, 4, 4, 3), "int16") + voxels([1] * 192, "int16"),
        expect="3 volumes")
    bad("dim0-zero.nii", patch(h, 40, "h", 0) + voxels([1] * 64, "int16"), expect="3-D")
    bad("dim0-eight.nii", patch(h, 40, "h", 8) + voxels([1] * 64, "int16"), expect="3-D")
    bad("dim-negative.nii", patch(h, 42, "h", -4) + voxels([1] * 64, "int16"), expect="dimensions")
    bad("dim-zero.nii", patch(h, 44, "h", 0) + voxels([1] * 64, "int16"), expect="dimensions")
    for name, code, bitpix in [("rgb24", 128, 24), ("rgba32", 2304, 32), ("complex128", 1792, 128),
                               ("float128", 1536, 128), ("binary", 1, 1), ("datatype-999", 999, 16)]:
        bad(f"{name}.nii", patch(h, 70, "hh", code, bitpix) + bytes(64 * 16), expect=f"datatype code {code}")
    bad("sizeof-349.nii", patch(h, 0, "i", 349) + voxels([1] * 64, "int16"), expect="not a NIfTI-1 file")
    bad("nifti2-big-endian.nii", struct.pack(">i", 540) + bytes(700), expect="NIfTI-2")
    bad("nifti2.nii.gz", struct.pack("<i", 540) + b"n+2\0" + bytes(600), expect="NIfTI-2")
    bad("header-pair.nii.gz", header((4, 4, 4), "int16", magic=b"ni1\0"), expect=".hdr/.img")
    rnd = random.Random(14)
    noise = bytes(rnd.randrange(256) for _ in range(2048))
    bad("random-bytes.nii", noise, expect="not a NIfTI-1 file")
    bad("random-bytes.nii.gz", noise, expect="not a NIfTI-1 file")
    # Affines that map nothing.
    nan_aff = [[float("nan"), 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    bad("sform-nan.nii", header((4, 4, 4), "int16", nan_aff) + voxels([1] * 64, "int16"), expect="affine")
    inf_aff = [[float("inf"), 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    bad("sform-inf.nii", header((4, 4, 4), "int16", inf_aff) + voxels([1] * 64, "int16"), expect="affine")
    flat = [[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]]
    bad("sform-rank-two.nii", header((4, 4, 4), "int16", flat) + voxels([1] * 64, "int16"), expect="singular")
    q0 = patch(header((4, 4, 4), "int16", sform=False, qform=(0, 0, 0, 0.0, 0.0, 0.0)), 80, "fff", 0.0, 0.0, 0.0)
    bad("qform-zero-pixdim.nii", q0 + voxels([1] * 64, "int16"), expect="singular")
    p0 = patch(header((4, 4, 4), "int16", sform=False), 80, "fff", 1.0, 0.0, 1.0)
    bad("pixdim-zero.nii", p0 + voxels([1] * 64, "int16"), expect="singular")
    # NaN and infinite voxels and scalings: rejected by content (as a scan: no finite
    # intensity in the atlas; as an atlas: not whole-number labels).
    tiny_f32 = header(TINY, "float32", TINY_AFF)
    bad("voxels-all-nan.nii.gz", nan_tiny, expect="-")
    bad("voxels-all-inf.nii.gz", tiny_f32 + voxels([float("inf")] * TINY_N, "float32"), expect="-")
    bad("voxels-all-nan-float64.nii.gz",
        header(TINY, "float64", TINY_AFF) + voxels([float("nan")] * TINY_N, "float64"), expect="-")
    bad("scaling-overflows-to-inf.nii.gz",
        header(TINY, "int16", TINY_AFF, slope=1e38) + voxels([1000] * TINY_N, "int16"), expect="-")
    bad("scan-constant.nii.gz", header(TINY, "int16", TINY_AFF) + voxels([100] * TINY_N, "int16"),
        roles="scan", expect="no spread")
    # Atlases whose voxels are not labels.
    bad("atlas-fractional.nii.gz", tiny_f32 + voxels([1.5] * TINY_N, "float32"), roles="atlas",
        expect="whole numbers")
    bad("atlas-negative.nii.gz", header(TINY, "int16", TINY_AFF) + voxels([-1] * TINY_N, "int16"),
        roles="atlas", expect="whole numbers")
    bad("atlas-above-65535.nii.gz", header(TINY, "int32", TINY_AFF) + voxels([70000] * TINY_N, "int32"),
        roles="atlas", expect="whole numbers")


def tables():
    def t(name, data, expect="-"):
        bad(name, data.encode() if isinstance(data, str) else data, roles="labels", expect=expect)

    t("table-empty.tsv", "", "empty label table")
    t("table-blank-lines.tsv", "\n  \n\t\n", "empty label table")
    t("table-bom-only.tsv", "\ufeff", "empty label table")
    t("table-header-only.tsv", "index\tname\n", "no label")
    t("table-background-only.tsv", "index\tname\n0\tbackground\n", "no label")
    t("table-binary.tsv", b"index\tname\n1\x00\x01\x02acetabulum\n", "binary")
    t("table-not-utf8.tsv", b"index\tname\n1\tf\xe9mur\n", "UTF-8")
    t("table-duplicate.tsv", "index\tname\n1\tacetabulum_roof_right\n1\tfemur_neck_left\n", "listed twice")
    t("table-index-overflow.tsv", "index\tname\n99999999999\tfemur_neck_left\n", "non-negative integer")
    t("table-index-negative.csv", "index,name\n-1,femur_neck_left\n", "non-negative integer")
    t("table-index-text.tsv", "index\tname\none\tfemur_neck_left\n", "non-negative integer")
    t("table-no-name-column.tsv", "index\tlabel\n1\tfemur_neck_left\n", "'name'")
    t("table-short-row.tsv", "index\tname\tside\n1\n", "fewer columns")
    t("table-empty-name.tsv", "index\tname\tabbreviation\n1\t\tX\n", "empty name")
    t("table-bad-side.tsv", "index\tname\tside\n1\tfemur_neck_left\tup\n", "side")
    t("table-bad-bone-class.tsv", "index\tname\tbone_class\n1\tfemur_neck_left\tcartilage-ish\n", "bone class")
    t("table-json-deep.json", '{"1": ' + "[" * 5000 + "]" * 5000 + "}", "not a JSON label table")
    t("table-json-truncated.json", '{"1": "acetabulum_roof_right", "2": ', "not a JSON label table")
    t("table-json-bad-key.json", '{"one": "acetabulum_roof_right"}', "non-negative integer")
    t("table-json-number-name.json", '{"1": 42}', "neither a name")
    t("table-itksnap-unquoted.txt", '1 255 0 0 1 1 1 "acetabulum_roof_right\n', "-")


def staging():
    def s(name, data, expect="-"):
        bad(name, data.encode() if isinstance(data, str) else data, roles="staging", expect=expect)

    s("staging-empty.json", "", "not a staging configuration")
    s("staging-deep.json", "[" * 5000 + "]" * 5000, "not a staging configuration")
    s("staging-binary.json", b"{\x00}", "binary")
    s("staging-bad-cutoffs.json",
      '{"bone_units": [], "extent_grade": {"name": "x", "cutoffs": [0.5, 0.25], "grades": ["a", "b", "c"],'
      ' "verified": false, "source": "x"}}',
      "cutoffs")
    s("staging-region-twice.json",
      '{"bone_units": [{"unit": "a", "regions": ["femur_neck_left"]}, {"unit": "b", "regions": ["femur_neck_left"]}],'
      ' "extent_grade": {"name": "x", "cutoffs": [0.5], "grades": ["a", "b"], "verified": false, "source": "x"}}', "femur_neck_left")


def manifests():
    def m(name, data, expect="-"):
        bad(name, data.encode() if isinstance(data, str) else data, roles="readers", expect=expect)

    head = "subject\tscan\tatlas\treader\tsession\tmask\n"
    m("manifest-empty.tsv", "", "empty manifest")
    m("manifest-binary.tsv", b"subject\x00scan\n", "binary")
    m("manifest-missing-column.tsv", "subject\tscan\tatlas\treader\tmask\n", "session")
    m("manifest-row-twice.tsv", head + "a\t../tiny/scan.nii.gz\t../tiny/atlas.nii.gz\t1\t1\tm.nii.gz\n" * 2, "twice")
    m("manifest-every-scan-missing.tsv", head + "a\tnone-a.nii.gz\t../tiny/atlas.nii.gz\t-\t-\t-\n"
      "b\tnone-b.nii.gz\t../tiny/atlas.nii.gz\t-\t-\t-\n", "every subject failed")
    m("manifest-mask-on-another-grid.tsv",
      head + "a\t../tiny/scan.nii.gz\t../tiny/atlas.nii.gz\t1\t1\t../tiny/atlas-other-shape.nii.gz\n",
      "atlas-other-shape")


def odd():
    """Odd but valid: each must give the lesions of fixtures/tiny/scan.nii.gz."""
    # The tiny scan's values (as make_fixtures.tiny stores them: int16 = value / 0.5).
    nx, ny, nz = TINY
    vals = []
    for k in range(nz):
        for j in range(ny):
            for i in range(nx):
                lab = 1 if (3 <= j < 13 and 2 <= k < 18 and 2 <= i < 10) else (
                    2 if (3 <= j < 13 and 2 <= k < 18 and 14 <= i < 22) else 0)
                v = 100.0 + ((i * 7 + j * 13 + k * 29) % 11) - 5
                if lab == 0:
                    v = 40.0
                if lab == 1 and 4 <= i < 8 and 5 <= j < 9 and 12 <= k < 16:
                    v = 400.0 + i
                if lab == 2 and 16 <= i < 20 and 6 <= j < 10 and 3 <= k < 7:
                    v = 380.0
                if lab == 2 and (i, j, k) == (15, 4, 15):
                    v = 500.0
                vals.append(v)
    stored = [round(v / 0.5) for v in vals]
    h = header(TINY, "int16", TINY_AFF, slope=0.5)
    body = voxels(stored, "int16")
    o = lambda name: os.path.join(ODD, name)  # noqa: E731
    write(o("plain.nii"), h + body)
    write(o("float32-unscaled.nii.gz"), header(TINY, "float32", TINY_AFF) + voxels(vals, "float32"))
    write(o("big-endian.nii.gz"), header(TINY, "int16", TINY_AFF, slope=0.5, endian=">") + voxels(stored, "int16", ">"))
    write(o("four-d-one-volume.nii.gz"), header(TINY + (1,), "int16", TINY_AFF, slope=0.5) + body)
    write(o("five-d-one-volume.nii.gz"), header(TINY + (1, 1), "int16", TINY_AFF, slope=0.5) + body)
    # An extension block (a comment, code 6) between the header and the voxels.
    ext = b"crmo-map odd fixture: a comment extension".ljust(40, b"\0")
    he = bytearray(h)
    he[348] = 1
    struct.pack_into("<f", he, 108, 352.0 + 8 + len(ext))
    write(o("extension.nii.gz"), bytes(he) + struct.pack("<ii", 8 + len(ext), 6) + ext + body)
    # The voxels 1 KiB further on (vox_offset 1376, padding of zeros, no extension flag).
    hp = patch(h, 108, "f", 1376.0)
    write(o("vox-offset-padding.nii.gz"), hp + bytes(1376 - 352) + body)
    # Bytes after the voxels (ignored), and a gzip stream whose tail inflates to 16 MiB of them.
    write(o("trailing-bytes.nii"), h + body + b"trailing bytes, not voxels\n" * 10)
    write(o("gzip-trailing-16M.nii.gz"), bomb(h + body, 16 << 20), gz=False)
    # Two gzip members.
    blob = h + body
    with open(o("multi-member.nii.gz"), "wb") as f:
        f.write(gz(blob[:1000]) + gz(blob[1000:]))
    # scl_slope 4 and scl_inter 10 on float32 storage (the stored quarters are exact).
    scaled = [(v - 10.0) / 4.0 for v in vals]
    write(o("float32-slope-4-inter-10.nii.gz"),
          header(TINY, "float32", TINY_AFF, slope=4.0, inter=10.0) + voxels(scaled, "float32"))
    # The same world grid stored RAS (i flipped) and with the qform alone.
    ras = [[2.0, 0, 0, 23.0 - 2.0 * 23], [0, -3.0, 0, 22.5], [0, 0, 2.5, -20.0]]
    flipped = [stored[(k * ny + j) * nx + (nx - 1 - i)] for k in range(nz) for j in range(ny) for i in range(nx)]
    write(o("stored-ras.nii.gz"), header(TINY, "int16", ras, slope=0.5) + voxels(flipped, "int16"))


def main():
    for d in (BAD, ODD):
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
    # The original eleven (scripts/make_fixtures.py's bad()) are kept and listed too.
    import make_fixtures
    make_fixtures.bad()
    for name, expect in [("empty.nii", "not a NIfTI-1"), ("text.nii", "not a NIfTI-1"),
                         ("text.nii.gz", "not a NIfTI-1"), ("truncated.nii.gz", "truncated"),
                         ("truncated-data.nii", "truncated"), ("nifti2.nii", "NIfTI-2"),
                         ("two-volumes.nii.gz", "2 volumes"), ("complex.nii", "datatype code 32"),
                         ("singular-affine.nii", "singular"), ("two-d.nii", "3-D"),
                         ("header-pair.nii", ".hdr/.img")]:
        MANIFEST.append((name, "scan,atlas", expect))
    nifti_files()
    tables()
    staging()
    manifests()
    odd()
    with open(os.path.join(BAD, "MANIFEST.tsv"), "w") as f:
        f.write("file\troles\texpect\n")
        for row in sorted(MANIFEST):
            f.write("\t".join(row) + "\n")
    size = sum(os.path.getsize(os.path.join(BAD, n)) for n in os.listdir(BAD))
    print(f"{len(MANIFEST)} bad files ({size} bytes) in {os.path.normpath(BAD)}; odd files in {os.path.normpath(ODD)}")


if __name__ == "__main__":
    main()
