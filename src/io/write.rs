//! Writing NIfTI-1 files (plain or gzip, any datatype, optional scaling).

use super::{is_gz_path, Datatype};
use crate::error::{Error, Result};
use crate::volume::{Affine, Grid, Volume};
use flate2::Compression;
use nifti::{Endianness, NiftiHeader};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// How to store a volume.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Storage datatype.
    pub datatype: Datatype,
    /// `scl_slope` (stored = round((value - inter) / slope) for integer types); 1 for none.
    pub slope: f32,
    /// `scl_inter`.
    pub inter: f32,
    /// Mark the file as a label map (NIfTI intent 1002) for viewers.
    pub label_map: bool,
    /// Up to 79 bytes of description.
    pub description: String,
    /// Header extensions to store, as (code, content); each is padded to a multiple of 16
    /// bytes.
    pub extensions: Vec<(i32, Vec<u8>)>,
}

impl WriteOptions {
    /// Plain storage in `datatype`, no scaling.
    pub fn new(datatype: Datatype) -> WriteOptions {
        WriteOptions {
            datatype,
            slope: 1.0,
            inter: 0.0,
            label_map: false,
            description: String::new(),
            extensions: Vec::new(),
        }
    }

    /// A label map in the narrowest unsigned type that holds `max_label`.
    pub fn labels(max_label: u32) -> WriteOptions {
        let datatype = if max_label <= u8::MAX as u32 { Datatype::U8 } else { Datatype::U16 };
        WriteOptions { label_map: true, ..WriteOptions::new(datatype) }
    }
}

/// Quaternion parameters (b, c, d, qfac) of the rotation part of an affine.
fn quaternion(a: &Affine) -> (f64, f64, f64, f64) {
    let s = a.spacing();
    let m = &a.0;
    let mut r = [[0.0; 3]; 3];
    for row in 0..3 {
        for col in 0..3 {
            r[row][col] = m[row][col] / s[col];
        }
    }
    let qfac = if a.determinant() < 0.0 { -1.0 } else { 1.0 };
    for row in &mut r {
        row[2] *= qfac;
    }
    // Standard rotation-matrix-to-quaternion, choosing a well-conditioned branch, with a >= 0.
    let tr = r[0][0] + r[1][1] + r[2][2];
    let (qa, qb, qc, qd) = if tr > 0.0 {
        let s = (tr + 1.0).sqrt() * 2.0;
        (0.25 * s, (r[2][1] - r[1][2]) / s, (r[0][2] - r[2][0]) / s, (r[1][0] - r[0][1]) / s)
    } else if r[0][0] > r[1][1] && r[0][0] > r[2][2] {
        let s = (1.0 + r[0][0] - r[1][1] - r[2][2]).sqrt() * 2.0;
        ((r[2][1] - r[1][2]) / s, 0.25 * s, (r[0][1] + r[1][0]) / s, (r[0][2] + r[2][0]) / s)
    } else if r[1][1] > r[2][2] {
        let s = (1.0 + r[1][1] - r[0][0] - r[2][2]).sqrt() * 2.0;
        ((r[0][2] - r[2][0]) / s, (r[0][1] + r[1][0]) / s, 0.25 * s, (r[1][2] + r[2][1]) / s)
    } else {
        let s = (1.0 + r[2][2] - r[0][0] - r[1][1]).sqrt() * 2.0;
        ((r[1][0] - r[0][1]) / s, (r[0][2] + r[2][0]) / s, (r[1][2] + r[2][1]) / s, 0.25 * s)
    };
    if qa < 0.0 {
        (-qb, -qc, -qd, qfac)
    } else {
        (qb, qc, qd, qfac)
    }
}

/// A header for `grid` with both sform and qform set from its affine (code 1, scanner),
/// millimetre units, the given datatype and scaling. When `reference` is given, its
/// descriptive fields (units, dim_info, codes) are kept and the geometry copied exactly.
pub fn make_header(grid: &Grid, opts: &WriteOptions, reference: Option<&NiftiHeader>) -> NiftiHeader {
    let mut h = reference.cloned().unwrap_or_default();
    h.sizeof_hdr = 348;
    h.dim = [3, grid.dims[0] as u16, grid.dims[1] as u16, grid.dims[2] as u16, 1, 1, 1, 1];
    h.datatype = opts.datatype.nifti() as i16;
    h.bitpix = (opts.datatype.size() * 8) as i16;
    h.vox_offset = 352.0;
    h.scl_slope = opts.slope;
    h.scl_inter = opts.inter;
    h.cal_min = 0.0;
    h.cal_max = 0.0;
    h.glmin = 0;
    h.glmax = 0;
    h.magic = *b"n+1\0";
    h.endianness = Endianness::Little;
    h.intent_code = if opts.label_map { 1002 } else { 0 };
    h.intent_name = [0; 16];
    let mut descrip = opts.description.as_bytes()[..opts.description.len().min(79)].to_vec();
    descrip.resize(80, 0);
    h.descrip = descrip;
    if reference.is_none() {
        let (b, c, d, qfac) = quaternion(&grid.affine);
        let s = grid.affine.spacing();
        h.pixdim = [qfac as f32, s[0] as f32, s[1] as f32, s[2] as f32, 1.0, 1.0, 1.0, 1.0];
        h.xyzt_units = 2; // millimetres
        h.qform_code = 1;
        h.sform_code = 1;
        h.quatern_b = b as f32;
        h.quatern_c = c as f32;
        h.quatern_d = d as f32;
        let a = &grid.affine.0;
        h.quatern_x = a[0][3] as f32;
        h.quatern_y = a[1][3] as f32;
        h.quatern_z = a[2][3] as f32;
        h.srow_x = a[0].map(|v| v as f32);
        h.srow_y = a[1].map(|v| v as f32);
        h.srow_z = a[2].map(|v| v as f32);
    } else {
        h.pixdim[4..].fill(1.0);
    }
    h
}

/// Extension blocks (`esize`, `ecode`, content padded with zeros to a multiple of 16).
fn extension_bytes(exts: &[(i32, Vec<u8>)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (code, content) in exts {
        let size = (content.len() + 8).div_ceil(16) * 16;
        b.extend_from_slice(&(size as i32).to_le_bytes());
        b.extend_from_slice(&code.to_le_bytes());
        b.extend_from_slice(content);
        b.resize(b.len() + size - 8 - content.len(), 0);
    }
    b
}

fn header_bytes(h: &NiftiHeader) -> Vec<u8> {
    let mut b = Vec::with_capacity(352);
    let i16s = |b: &mut Vec<u8>, v: i16| b.extend_from_slice(&v.to_le_bytes());
    let f32s = |b: &mut Vec<u8>, v: f32| b.extend_from_slice(&v.to_le_bytes());
    b.extend_from_slice(&h.sizeof_hdr.to_le_bytes());
    b.extend_from_slice(&h.data_type);
    b.extend_from_slice(&h.db_name);
    b.extend_from_slice(&h.extents.to_le_bytes());
    i16s(&mut b, h.session_error);
    b.push(h.regular);
    b.push(h.dim_info);
    for d in h.dim {
        b.extend_from_slice(&d.to_le_bytes());
    }
    f32s(&mut b, h.intent_p1);
    f32s(&mut b, h.intent_p2);
    f32s(&mut b, h.intent_p3);
    i16s(&mut b, h.intent_code);
    i16s(&mut b, h.datatype);
    i16s(&mut b, h.bitpix);
    i16s(&mut b, h.slice_start);
    for p in h.pixdim {
        f32s(&mut b, p);
    }
    f32s(&mut b, h.vox_offset);
    f32s(&mut b, h.scl_slope);
    f32s(&mut b, h.scl_inter);
    i16s(&mut b, h.slice_end);
    b.push(h.slice_code);
    b.push(h.xyzt_units);
    f32s(&mut b, h.cal_max);
    f32s(&mut b, h.cal_min);
    f32s(&mut b, h.slice_duration);
    f32s(&mut b, h.toffset);
    b.extend_from_slice(&h.glmax.to_le_bytes());
    b.extend_from_slice(&h.glmin.to_le_bytes());
    let mut descrip = h.descrip.clone();
    descrip.resize(80, 0);
    b.extend_from_slice(&descrip);
    b.extend_from_slice(&h.aux_file);
    i16s(&mut b, h.qform_code);
    i16s(&mut b, h.sform_code);
    for v in [h.quatern_b, h.quatern_c, h.quatern_d, h.quatern_x, h.quatern_y, h.quatern_z] {
        f32s(&mut b, v);
    }
    for row in [h.srow_x, h.srow_y, h.srow_z] {
        for v in row {
            f32s(&mut b, v);
        }
    }
    b.extend_from_slice(&h.intent_name);
    b.extend_from_slice(&h.magic);
    debug_assert_eq!(b.len(), 348);
    b.extend_from_slice(&[0, 0, 0, 0]); // no extensions
    b
}

/// Values that can be stored in a NIfTI file.
pub trait Storable: Copy + Send + Sync {
    /// Whole numbers only (so that storing them unscaled needs no rounding).
    const WHOLE: bool;
    /// The value as f64.
    fn to_f64(self) -> f64;
}

macro_rules! storable {
    ($whole:expr; $($t:ty),*) => {$(impl Storable for $t {
        const WHOLE: bool = $whole;
        fn to_f64(self) -> f64 { self as f64 }
    })*};
}
storable!(true; u8, u16, u32, i16);
storable!(false; f32, f64);

/// Encodes a volume as NIfTI-1 bytes; gzipped when `gzip` is true.
pub fn encode<T: Storable>(
    vol: &Volume<T>,
    opts: &WriteOptions,
    reference: Option<&NiftiHeader>,
    gzip: bool,
) -> Vec<u8> {
    encode_as(vol, opts, reference, gzip, true)
}

/// [`encode`] for voxels already in the stored units: the header carries `opts`' scaling, and
/// the values are stored as they are (clamped to the datatype), not divided by it again.
pub fn encode_stored<T: Storable>(
    vol: &Volume<T>,
    opts: &WriteOptions,
    reference: Option<&NiftiHeader>,
    gzip: bool,
) -> Vec<u8> {
    encode_as(vol, opts, reference, gzip, false)
}

/// [`encode`], scaling the voxels by `opts` when `scale`.
fn encode_as<T: Storable>(
    vol: &Volume<T>,
    opts: &WriteOptions,
    reference: Option<&NiftiHeader>,
    gzip: bool,
    scale: bool,
) -> Vec<u8> {
    let mut h = make_header(&vol.grid, opts, reference);
    let ext = extension_bytes(&opts.extensions);
    h.vox_offset = (352 + ext.len()) as f32;
    let mut header = header_bytes(&h);
    if !ext.is_empty() {
        header[348] = 1;
        header.extend_from_slice(&ext);
    }
    let size = opts.datatype.size();
    let (lo, hi) = opts.datatype.range();
    let (slope, inter) = if scale { (opts.slope as f64, opts.inter as f64) } else { (1.0, 0.0) };
    let float = opts.datatype.is_float();
    // Whole numbers stored unscaled need no rounding (`round` is a libm call per voxel).
    let whole = T::WHOLE && slope == 1.0 && inter == 0.0;
    let store = |d: &[T], o: &mut [u8]| {
        // One loop per case, so that none tests the case per voxel.
        macro_rules! put {
            ($t:ty) => {
                if float && whole {
                    put_each(d, o, |x| (x as $t).to_le_bytes())
                } else if float {
                    put_each(d, o, |x| (((x - inter) / slope) as $t).to_le_bytes())
                } else if whole {
                    put_each(d, o, |x| (x.clamp(lo, hi) as $t).to_le_bytes())
                } else if lo >= i32::MIN as f64 && hi <= i32::MAX as f64 {
                    // Clamped before rounding: the same value, as the bounds are whole numbers.
                    put_each(d, o, |x| (round_in_i32(((x - inter) / slope).clamp(lo, hi)) as $t).to_le_bytes())
                } else {
                    put_each(d, o, |x| (round_half_away(((x - inter) / slope).clamp(lo, hi)) as $t).to_le_bytes())
                }
            };
        }
        match opts.datatype {
            Datatype::U8 => put!(u8),
            Datatype::I8 => put!(i8),
            Datatype::I16 => put!(i16),
            Datatype::U16 => put!(u16),
            Datatype::I32 => put!(i32),
            Datatype::U32 => put!(u32),
            Datatype::I64 => put!(i64),
            Datatype::U64 => put!(u64),
            Datatype::F32 => put!(f32),
            Datatype::F64 => put!(f64),
        }
    };
    const CHUNK: usize = 1 << 16;
    if !gzip {
        let mut out = header;
        let start = out.len();
        out.resize(start + vol.data.len() * size, 0);
        out[start..].par_chunks_mut(CHUNK * size).zip(vol.data.par_chunks(CHUNK)).for_each(|(o, d)| store(d, o));
        return out;
    }
    // One gzip member, its deflate stream made of blocks compressed in parallel (as pigz does):
    // every block but the last ends on a full flush, so they concatenate into one stream that
    // every gzip reader takes. No full-size uncompressed copy is made.
    const BLOCK: usize = 1 << 20;
    let blocks = vol.data.len().div_ceil(BLOCK);
    // Label maps are mostly background: a whole block of zeros deflates once, and every
    // other such block reuses those bytes (the same bytes deflating it again would give).
    let zeros = std::sync::OnceLock::new();
    let zero_block = || zeros.get_or_init(|| vec![0u8; BLOCK * size]);
    let deflated_zeros = std::sync::OnceLock::new();
    let mut parts: Vec<(Vec<u8>, flate2::Crc)> = vec![(deflate_block(&header, false), crc32(&header))];
    parts.par_extend(vol.data.par_chunks(BLOCK).enumerate().map(|(i, d)| {
        let last = i + 1 == blocks;
        if whole && !last && d.iter().all(|v| v.to_f64() == 0.0) {
            let bytes = deflated_zeros.get_or_init(|| deflate_block(zero_block(), false)).clone();
            return (bytes, crc32(zero_block()));
        }
        let mut raw = vec![0u8; d.len() * size];
        store(d, &mut raw);
        (deflate_block(&raw, last), crc32(&raw))
    }));
    let total = header.len() + vol.data.len() * size;
    let mut crc = flate2::Crc::new();
    let mut out = Vec::with_capacity(18 + parts.iter().map(|p| p.0.len()).sum::<usize>());
    // Magic, deflate, no flags, no time, no extra flags, unknown OS.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    for (bytes, part_crc) in &parts {
        out.extend_from_slice(bytes);
        crc.combine(part_crc);
    }
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out
}

/// Stores each value of `d` as the `N` bytes `conv` makes of it, into `o`.
fn put_each<T: Storable, const N: usize>(d: &[T], o: &mut [u8], conv: impl Fn(f64) -> [u8; N]) {
    // Whole runs of values first, converted into an array (which the compiler vectorises).
    let mut outs = o.chunks_exact_mut(N * STORE_RUN);
    let mut ins = d.chunks_exact(STORE_RUN);
    for (o, d) in (&mut outs).zip(&mut ins) {
        let run: [[u8; N]; STORE_RUN] = std::array::from_fn(|i| conv(d[i].to_f64()));
        o.copy_from_slice(run.as_flattened());
    }
    for (o, v) in outs.into_remainder().chunks_exact_mut(N).zip(ins.remainder()) {
        o.copy_from_slice(&conv(v.to_f64()));
    }
}

/// Values [`put_each`] converts at a time.
const STORE_RUN: usize = 16;

/// From this magnitude on every `f64` is a whole number.
const WHOLE_FROM: f64 = (1u64 << 52) as f64;

/// `x.round()` (halves away from zero) without a call into libm, so that a loop of it can be
/// vectorised; the same value for every `x` (NaN and infinities pass through), up to the sign
/// of a zero result, which a conversion to an integer does not see.
fn round_half_away(x: f64) -> f64 {
    if x.is_nan() || x.abs() >= WHOLE_FROM {
        return x;
    }
    // Truncation by conversion is exact below 2^52, and so is the remainder.
    let t = (x as i64) as f64;
    let rest = x - t;
    if rest >= 0.5 {
        t + 1.0
    } else if rest <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// [`round_half_away`] of an `x` within the range of `i32` (or NaN, which gives 0), without
/// branches.
fn round_in_i32(x: f64) -> f64 {
    let t = (x as i32) as f64;
    let rest = x - t;
    t + f64::from(u8::from(rest >= 0.5)) - f64::from(u8::from(rest <= -0.5))
}

fn crc32(bytes: &[u8]) -> flate2::Crc {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc
}

/// Raw-deflates one block at the fast level: ending the stream when `last`, else on a full
/// flush (byte-aligned, no history needed), so blocks concatenate.
fn deflate_block(raw: &[u8], last: bool) -> Vec<u8> {
    use flate2::{Compress, FlushCompress, Status};
    let mut c = Compress::new(Compression::fast(), false);
    let mut out = Vec::with_capacity(raw.len() / 8 + 64);
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Full };
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        let status = c.compress_vec(&raw[c.total_in() as usize..], &mut out, flush).expect("deflate into memory");
        let spare = out.capacity() - out.len();
        let done = c.total_in() as usize == raw.len()
            && if last { status == Status::StreamEnd } else { spare > 0 && status == Status::Ok };
        if done {
            break;
        }
    }
    out
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so that
/// `path` is never seen half-written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Writes a volume as NIfTI-1 (gzipped when the name ends in `.gz`), atomically.
pub fn write_volume<T: Storable>(
    path: &Path,
    vol: &Volume<T>,
    opts: &WriteOptions,
    reference: Option<&NiftiHeader>,
) -> Result<()> {
    write_atomic(path, &encode(vol, opts, reference, is_gz_path(path)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rounding_halves_away_from_zero_as_round_does() {
        let edges = [0.5, 1.5, 2.5, -0.5, -1.5, 0.49999999999999994, -0.49999999999999994, 4503599627370495.5];
        let more = [WHOLE_FROM, -WHOLE_FROM, 1e300, f64::MAX, f64::MIN_POSITIVE, 0.0, -0.0, 32767.5, -32768.5];
        for x in edges.into_iter().chain(more) {
            assert_eq!(round_half_away(x), x.round(), "{x}");
        }
        for x in [f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(round_half_away(x), x);
        }
        assert!(round_half_away(f64::NAN).is_nan());
        for x in edges.into_iter().take(7).chain([32767.5, -32768.5, 2147483646.5, -2147483647.5, 1e-300]) {
            assert_eq!(round_in_i32(x), x.round(), "{x}");
        }
        assert_eq!(round_in_i32(f64::NAN), 0.0);
    }

    /// The stored bytes as the plain formula gives them: scaled, rounded half away from zero,
    /// then clamped to the type (whole numbers unscaled are stored as they are).
    fn plainly_stored<T: Storable>(d: &[T], dt: Datatype, slope: f32, inter: f32) -> Vec<u8> {
        let (lo, hi) = dt.range();
        let whole = T::WHOLE && slope == 1.0 && inter == 0.0;
        let mut out = Vec::new();
        for v in d {
            let x = if whole { v.to_f64() } else { (v.to_f64() - inter as f64) / slope as f64 };
            let x = if dt.is_float() {
                x
            } else if whole {
                x.clamp(lo, hi)
            } else {
                x.round().clamp(lo, hi)
            };
            match dt {
                Datatype::U8 => out.extend((x as u8).to_le_bytes()),
                Datatype::I8 => out.extend((x as i8).to_le_bytes()),
                Datatype::I16 => out.extend((x as i16).to_le_bytes()),
                Datatype::U16 => out.extend((x as u16).to_le_bytes()),
                Datatype::I32 => out.extend((x as i32).to_le_bytes()),
                Datatype::U32 => out.extend((x as u32).to_le_bytes()),
                Datatype::I64 => out.extend((x as i64).to_le_bytes()),
                Datatype::U64 => out.extend((x as u64).to_le_bytes()),
                Datatype::F32 => out.extend((x as f32).to_le_bytes()),
                Datatype::F64 => out.extend(x.to_le_bytes()),
            }
        }
        out
    }

    fn voxel_bytes<T: Storable>(d: Vec<T>, dt: Datatype, slope: f32, inter: f32) -> (Vec<u8>, Vec<u8>) {
        let grid = Grid { dims: [d.len(), 1, 1], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let want = plainly_stored(&d, dt, slope, inter);
        let opts = WriteOptions { slope, inter, ..WriteOptions::new(dt) };
        let got = encode(&Volume { grid, data: d }, &opts, None, false)[352..].to_vec();
        (got, want)
    }

    #[test]
    fn every_datatype_stores_what_the_plain_formula_gives() {
        let special = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.5, -0.5, 2.5, -2.5, 1e30, -1e30, 255.5];
        let floats: Vec<f32> = special.into_iter().chain((0..3000).map(|i| (i as f32 - 1500.0) * 0.731)).collect();
        let whole: Vec<u16> = (0..3000).map(|i| (i * 23) as u16).collect();
        for dt in Datatype::ALL {
            for (slope, inter) in [(1.0, 0.0), (0.37, -12.5), (2.0, 3.0)] {
                let (got, want) = voxel_bytes(floats.clone(), dt, slope, inter);
                assert!(got == want, "{dt:?} slope {slope} inter {inter} from f32");
                let (got, want) = voxel_bytes(whole.clone(), dt, slope, inter);
                assert!(got == want, "{dt:?} slope {slope} inter {inter} from u16");
            }
        }
    }

    proptest! {
        #[test]
        fn rounding_matches_round(x in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL, k in -70000i32..70000) {
            prop_assert_eq!(round_half_away(x), x.round());
            let half = k as f64 / 2.0;
            prop_assert_eq!(round_half_away(half), half.round());
            prop_assert_eq!(round_in_i32(half), half.round());
            let inside = x.clamp(i32::MIN as f64, i32::MAX as f64);
            prop_assert_eq!(round_in_i32(inside), inside.round());
        }
    }
}
