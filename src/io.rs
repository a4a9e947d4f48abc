//! Reading and writing NIfTI-1 volumes.
//!
//! Reading: the file is inflated whole (gzip detected by its magic bytes, every member of a
//! multi-member stream read), the header parsed by the `nifti` crate, and the voxels converted
//! in parallel straight into our `i`-fastest [`Volume`] with `scl_slope`/`scl_inter` applied
//! (a slope of 0 or NaN means no scaling, as nibabel reads it). 3-D files, and 4-D or higher
//! files whose extra dimensions are all 1, are accepted; more volumes are an error. The affine
//! comes from the sform when its code is > 0, else the qform when its code is > 0, else the
//! voxel sizes in `pixdim` (NIfTI-1 "method 1").
//!
//! Writing: a single-file NIfTI-1 (`.nii`, or `.nii.gz` gzipped at a fast level) with both
//! sform and qform set from the volume's affine, any storage datatype and optional scaling.
//! The header is the `nifti` crate's [`NiftiHeader`], serialised here because the crate's
//! writer always resets `scl_slope` and we need to write scaled integer files for tests and
//! phantoms.

use crate::error::{Error, Result};
use crate::volume::{Affine, Grid, Volume};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use nifti::{Endianness, NiftiHeader, NiftiType};
use rayon::prelude::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Storage datatypes we read and write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Datatype {
    U8,
    I8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

impl Datatype {
    /// Every datatype, for tests and help texts.
    pub const ALL: [Datatype; 10] = [
        Datatype::U8,
        Datatype::I8,
        Datatype::I16,
        Datatype::U16,
        Datatype::I32,
        Datatype::U32,
        Datatype::I64,
        Datatype::U64,
        Datatype::F32,
        Datatype::F64,
    ];

    /// Name as used in reports and on the command line (`int16`, `float32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Datatype::U8 => "uint8",
            Datatype::I8 => "int8",
            Datatype::I16 => "int16",
            Datatype::U16 => "uint16",
            Datatype::I32 => "int32",
            Datatype::U32 => "uint32",
            Datatype::I64 => "int64",
            Datatype::U64 => "uint64",
            Datatype::F32 => "float32",
            Datatype::F64 => "float64",
        }
    }

    /// Parses a name given by [`Datatype::name`].
    pub fn from_name(s: &str) -> Option<Datatype> {
        Datatype::ALL.into_iter().find(|d| d.name() == s)
    }

    fn from_nifti(t: NiftiType) -> Option<Datatype> {
        Some(match t {
            NiftiType::Uint8 => Datatype::U8,
            NiftiType::Int8 => Datatype::I8,
            NiftiType::Int16 => Datatype::I16,
            NiftiType::Uint16 => Datatype::U16,
            NiftiType::Int32 => Datatype::I32,
            NiftiType::Uint32 => Datatype::U32,
            NiftiType::Int64 => Datatype::I64,
            NiftiType::Uint64 => Datatype::U64,
            NiftiType::Float32 => Datatype::F32,
            NiftiType::Float64 => Datatype::F64,
            _ => return None,
        })
    }

    fn nifti(self) -> NiftiType {
        match self {
            Datatype::U8 => NiftiType::Uint8,
            Datatype::I8 => NiftiType::Int8,
            Datatype::I16 => NiftiType::Int16,
            Datatype::U16 => NiftiType::Uint16,
            Datatype::I32 => NiftiType::Int32,
            Datatype::U32 => NiftiType::Uint32,
            Datatype::I64 => NiftiType::Int64,
            Datatype::U64 => NiftiType::Uint64,
            Datatype::F32 => NiftiType::Float32,
            Datatype::F64 => NiftiType::Float64,
        }
    }

    /// Bytes per voxel.
    pub fn size(self) -> usize {
        self.nifti().size_of()
    }

    /// Range of values the type stores exactly (integers), or the f32 range for floats.
    fn range(self) -> (f64, f64) {
        match self {
            Datatype::U8 => (0.0, u8::MAX as f64),
            Datatype::I8 => (i8::MIN as f64, i8::MAX as f64),
            Datatype::I16 => (i16::MIN as f64, i16::MAX as f64),
            Datatype::U16 => (0.0, u16::MAX as f64),
            Datatype::I32 => (i32::MIN as f64, i32::MAX as f64),
            Datatype::U32 => (0.0, u32::MAX as f64),
            Datatype::I64 => (-9.0e18, 9.0e18),
            Datatype::U64 => (0.0, 1.8e19),
            Datatype::F32 | Datatype::F64 => (f32::MIN as f64, f32::MAX as f64),
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Datatype::F32 | Datatype::F64)
    }
}

/// A volume read from disk, with what the file said about it.
#[derive(Clone, Debug)]
pub struct Loaded<T> {
    /// The voxels (scaled) on their grid.
    pub volume: Volume<T>,
    /// The header as read, with `pixdim[0]` fixed and a NaN scaling cleared.
    pub header: NiftiHeader,
    /// The storage datatype.
    pub datatype: Datatype,
    /// Which transform gave the affine: `"sform"`, `"qform"` or `"pixdim"`.
    pub affine_source: &'static str,
    /// SHA-256 of the file as stored (lower-case hex), computed while it was inflated.
    pub sha256: String,
}

struct Raw {
    header: NiftiHeader,
    datatype: Datatype,
    grid: Grid,
    affine_source: &'static str,
    bytes: Vec<u8>,
    offset: usize,
    sha256: String,
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Nifti { path: path.to_path_buf(), message: message.into() }
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the whole file, inflating gzip (every member) when the file starts with its magic,
/// and hashes the stored bytes (SHA-256) on another thread meanwhile.
fn read_bytes(path: &Path) -> Result<(Vec<u8>, String)> {
    let file = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if file.len() >= 2 && file[0] == 0x1f && file[1] == 0x8b {
        let (bytes, sha) = rayon::join(|| inflate(path, &file), || sha256_hex(&file));
        Ok((bytes?, sha))
    } else {
        let sha = sha256_hex(&file);
        Ok((file, sha))
    }
}

/// Inflates every gzip member of `file`.
fn inflate(path: &Path, file: &[u8]) -> Result<Vec<u8>> {
    // ISIZE (the last 4 bytes) is the inflated size mod 2^32 of the last member: a good
    // capacity hint for the usual single-member file.
    let hint =
        if file.len() >= 4 { u32::from_le_bytes(file[file.len() - 4..].try_into().unwrap()) as usize } else { 0 };
    let mut out = Vec::with_capacity(hint.max(file.len()));
    MultiGzDecoder::new(file)
        .read_to_end(&mut out)
        .map_err(|e| bad(path, format!("cannot inflate gzip stream ({e}): the file is truncated or corrupt")))?;
    Ok(out)
}

fn parse(path: &Path) -> Result<Raw> {
    let (bytes, sha256) = read_bytes(path)?;
    if bytes.len() < 348 {
        return Err(bad(path, format!("not a NIfTI-1 file ({} bytes, a header alone is 348)", bytes.len())));
    }
    let sizeof = i32::from_le_bytes(bytes[0..4].try_into().unwrap());
    if sizeof == 540 || sizeof.swap_bytes() == 540 {
        return Err(bad(path, "NIfTI-2 files are not supported; convert to NIfTI-1 (e.g. nibabel's Nifti1Image)"));
    }
    if sizeof != 348 && sizeof.swap_bytes() != 348 {
        return Err(bad(path, "not a NIfTI-1 file (header size field is not 348)"));
    }
    let mut header = NiftiHeader::from_reader(&bytes[..]).map_err(|e| bad(path, format!("bad NIfTI-1 header: {e}")))?;
    header.fix();
    if &header.magic == b"ni1\0" {
        return Err(bad(path, "a .hdr/.img pair is not supported; store the volume as a single .nii or .nii.gz"));
    }
    let dtype = NiftiType::from_i16(header.datatype);
    let datatype = dtype
        .and_then(Datatype::from_nifti)
        .ok_or_else(|| bad(path, format!("unsupported NIfTI datatype code {}", header.datatype)))?;
    let ndim = header.dim[0] as usize;
    if !(3..=7).contains(&ndim) {
        return Err(bad(path, format!("expected a 3-D volume, the header says {ndim} dimension(s)")));
    }
    let dims = [header.dim[1] as usize, header.dim[2] as usize, header.dim[3] as usize];
    if dims.contains(&0) || header.dim[1..=3].iter().any(|&d| (d as i16) < 0) {
        return Err(bad(path, format!("invalid dimensions {:?}", &header.dim[1..=3])));
    }
    let extra: usize = header.dim[4..=ndim].iter().map(|&d| d.max(1) as usize).product();
    if extra > 1 {
        return Err(bad(
            path,
            format!("holds {extra} volumes (dim = {:?}); crmo-map reads one 3-D volume", &header.dim[1..=ndim]),
        ));
    }
    let (affine, affine_source) = header_affine(&header);
    if !affine.0.iter().flatten().all(|v| v.is_finite()) || affine.voxel_volume_mm3() < 1e-9 {
        return Err(bad(path, format!("the {affine_source} affine is singular or not finite")));
    }
    let offset = header.vox_offset as usize;
    let need = dims[0] * dims[1] * dims[2] * datatype.size();
    if offset < 348 || bytes.len() < offset + need {
        return Err(bad(
            path,
            format!("truncated: voxel data needs {need} bytes from offset {offset}, the file has {}", bytes.len()),
        ));
    }
    Ok(Raw { header, datatype, grid: Grid { dims, affine }, affine_source, bytes, offset, sha256 })
}

trait NiftiTypeExt {
    fn from_i16(v: i16) -> Option<NiftiType>;
}

impl NiftiTypeExt for NiftiType {
    fn from_i16(v: i16) -> Option<NiftiType> {
        Some(match v {
            2 => NiftiType::Uint8,
            4 => NiftiType::Int16,
            8 => NiftiType::Int32,
            16 => NiftiType::Float32,
            64 => NiftiType::Float64,
            256 => NiftiType::Int8,
            512 => NiftiType::Uint16,
            768 => NiftiType::Uint32,
            1024 => NiftiType::Int64,
            1280 => NiftiType::Uint64,
            _ => return None,
        })
    }
}

/// The affine a NIfTI-1 header specifies, and which transform it came from.
pub fn header_affine(h: &NiftiHeader) -> (Affine, &'static str) {
    if h.sform_code > 0 {
        let mut m = [[0.0; 4]; 4];
        for (r, row) in [h.srow_x, h.srow_y, h.srow_z].iter().enumerate() {
            for c in 0..4 {
                m[r][c] = row[c] as f64;
            }
        }
        m[3][3] = 1.0;
        return (Affine(m), "sform");
    }
    let dx = h.pixdim[1].abs() as f64;
    let dy = h.pixdim[2].abs() as f64;
    let dz = h.pixdim[3].abs() as f64;
    if h.qform_code > 0 {
        let (b, c, d) = (h.quatern_b as f64, h.quatern_c as f64, h.quatern_d as f64);
        let mut a2 = 1.0 - (b * b + c * c + d * d);
        let (b, c, d) = if a2 < 1e-7 {
            // The quaternion is (nearly) a 180 degree rotation: renormalise (b, c, d).
            let n = (b * b + c * c + d * d).sqrt();
            a2 = 0.0;
            (b / n, c / n, d / n)
        } else {
            (b, c, d)
        };
        let a = a2.sqrt();
        let r = [
            [a * a + b * b - c * c - d * d, 2.0 * (b * c - a * d), 2.0 * (b * d + a * c)],
            [2.0 * (b * c + a * d), a * a + c * c - b * b - d * d, 2.0 * (c * d - a * b)],
            [2.0 * (b * d - a * c), 2.0 * (c * d + a * b), a * a + d * d - c * c - b * b],
        ];
        let qfac = if h.pixdim[0] < 0.0 { -1.0 } else { 1.0 };
        let s = [dx, dy, dz * qfac];
        let t = [h.quatern_x as f64, h.quatern_y as f64, h.quatern_z as f64];
        let mut m = [[0.0; 4]; 4];
        for row in 0..3 {
            for col in 0..3 {
                m[row][col] = r[row][col] * s[col];
            }
            m[row][3] = t[row];
        }
        m[3][3] = 1.0;
        return (Affine(m), "qform");
    }
    (Affine::from_spacing_origin([dx, dy, dz], [0.0; 3]), "pixdim")
}

/// Calls `f(first_voxel_index, stored values as f64)` over the voxel data in parallel chunks.
fn decode_chunks<T, F>(raw: &Raw, out: &mut [T], f: F)
where
    T: Send,
    F: Fn(&mut [T], &mut dyn Iterator<Item = f64>) + Sync,
{
    const CHUNK: usize = 1 << 16;
    let size = raw.datatype.size();
    let data = &raw.bytes[raw.offset..raw.offset + out.len() * size];
    let little = raw.header.endianness == Endianness::Little;
    macro_rules! run {
        ($t:ty, $n:expr) => {
            out.par_chunks_mut(CHUNK).zip(data.par_chunks(CHUNK * $n)).for_each(|(o, d)| {
                let mut it = d.chunks_exact($n).map(|b| {
                    let arr: [u8; $n] = b.try_into().unwrap();
                    (if little { <$t>::from_le_bytes(arr) } else { <$t>::from_be_bytes(arr) }) as f64
                });
                f(o, &mut it)
            })
        };
    }
    match raw.datatype {
        Datatype::U8 => run!(u8, 1),
        Datatype::I8 => run!(i8, 1),
        Datatype::I16 => run!(i16, 2),
        Datatype::U16 => run!(u16, 2),
        Datatype::I32 => run!(i32, 4),
        Datatype::U32 => run!(u32, 4),
        Datatype::I64 => run!(i64, 8),
        Datatype::U64 => run!(u64, 8),
        Datatype::F32 => run!(f32, 4),
        Datatype::F64 => run!(f64, 8),
    }
}

/// Effective scaling: `None` when the header asks for none (slope 0 or not finite).
fn scaling(h: &NiftiHeader) -> Option<(f64, f64)> {
    let slope = h.scl_slope as f64;
    if slope == 0.0 || !slope.is_finite() {
        return None;
    }
    let inter = if h.scl_inter.is_finite() { h.scl_inter as f64 } else { 0.0 };
    if slope == 1.0 && inter == 0.0 {
        None
    } else {
        Some((slope, inter))
    }
}

fn finish<T>(raw: Raw, data: Vec<T>) -> Loaded<T> {
    let mut header = raw.header;
    if !(header.scl_slope.is_finite() && header.scl_slope != 0.0) {
        header.scl_slope = 0.0;
        header.scl_inter = 0.0;
    }
    Loaded {
        volume: Volume { grid: raw.grid, data },
        header,
        datatype: raw.datatype,
        affine_source: raw.affine_source,
        sha256: raw.sha256,
    }
}

/// Reads a scan as `f32` intensities with scaling applied.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Nifti`] naming the file when it is not
/// a readable NIfTI-1 single-volume file (truncated, another format, NIfTI-2, several
/// volumes, unsupported datatype, singular affine).
pub fn read_scan(path: &Path) -> Result<Loaded<f32>> {
    let raw = parse(path)?;
    let mut data = vec![0f32; raw.grid.len()];
    let scale = scaling(&raw.header);
    decode_chunks(&raw, &mut data, |o, it| match scale {
        Some((s, i)) => o.iter_mut().zip(it).for_each(|(o, v)| *o = (v * s + i) as f32),
        None => o.iter_mut().zip(it).for_each(|(o, v)| *o = v as f32),
    });
    Ok(finish(raw, data))
}

/// Reads a label volume (an atlas or a lesion map): every voxel must hold a whole number
/// from 0 to 65535 once scaled.
///
/// # Errors
/// As [`read_scan`], plus [`Error::Nifti`] when a voxel is not such a whole number.
pub fn read_labels(path: &Path) -> Result<Loaded<u16>> {
    let raw = parse(path)?;
    let mut data = vec![0u16; raw.grid.len()];
    let scale = scaling(&raw.header).unwrap_or((1.0, 0.0));
    let first_bad = std::sync::Mutex::new(None::<f64>);
    decode_chunks(&raw, &mut data, |o, it| {
        for (o, v) in o.iter_mut().zip(it) {
            let v = v * scale.0 + scale.1;
            if (0.0..=65535.0).contains(&v) && v.fract() == 0.0 {
                *o = v as u16;
            } else {
                first_bad.lock().unwrap().get_or_insert(v);
            }
        }
    });
    if let Some(v) = first_bad.into_inner().unwrap() {
        return Err(bad(path, format!("label volume holds {v}, labels must be whole numbers from 0 to 65535")));
    }
    Ok(finish(raw, data))
}

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
}

impl WriteOptions {
    /// Plain storage in `datatype`, no scaling.
    pub fn new(datatype: Datatype) -> WriteOptions {
        WriteOptions { datatype, slope: 1.0, inter: 0.0, label_map: false, description: String::new() }
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
    /// The value as f64.
    fn to_f64(self) -> f64;
}

macro_rules! storable {
    ($($t:ty),*) => {$(impl Storable for $t { fn to_f64(self) -> f64 { self as f64 } })*};
}
storable!(u8, u16, u32, f32, f64, i16);

/// Encodes a volume as NIfTI-1 bytes; gzipped when `gzip` is true.
pub fn encode<T: Storable>(
    vol: &Volume<T>,
    opts: &WriteOptions,
    reference: Option<&NiftiHeader>,
    gzip: bool,
) -> Vec<u8> {
    let header = make_header(&vol.grid, opts, reference);
    let size = opts.datatype.size();
    let mut out = header_bytes(&header);
    let start = out.len();
    out.resize(start + vol.data.len() * size, 0);
    let (lo, hi) = opts.datatype.range();
    let (slope, inter) = (opts.slope as f64, opts.inter as f64);
    let float = opts.datatype.is_float();
    const CHUNK: usize = 1 << 16;
    macro_rules! put {
        ($t:ty) => {
            out[start..].par_chunks_mut(CHUNK * size).zip(vol.data.par_chunks(CHUNK)).for_each(|(o, d)| {
                for (o, v) in o.chunks_exact_mut(size).zip(d) {
                    let x = (v.to_f64() - inter) / slope;
                    let x = if float { x } else { x.round().clamp(lo, hi) };
                    o.copy_from_slice(&(x as $t).to_le_bytes());
                }
            })
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
    if gzip {
        let mut enc = GzEncoder::new(Vec::with_capacity(out.len() / 4), Compression::fast());
        enc.write_all(&out).expect("writing to memory cannot fail");
        enc.finish().expect("writing to memory cannot fail")
    } else {
        out
    }
}

/// True when a path names a gzipped NIfTI (`.nii.gz` or `.gz`).
pub fn is_gz_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
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

    fn grid() -> Grid {
        let mut a = Affine::from_spacing_origin([1.5, 4.0, 2.0], [-20.0, 10.0, -30.0]);
        // An oblique-free but permuted and flipped affine: i -> -y, j -> z, k -> x.
        a.0 = [[0.0, 0.0, 2.0, -20.0], [-1.5, 0.0, 0.0, 10.0], [0.0, 4.0, 0.0, -30.0], [0.0, 0.0, 0.0, 1.0]];
        Grid { dims: [5, 4, 3], affine: a }
    }

    #[test]
    fn every_datatype_round_trips_with_and_without_scaling() {
        let dir = tempfile::tempdir().unwrap();
        let g = grid();
        let vol = Volume::from_vec(g, (0..g.len()).map(|v| v as f32 * 2.0).collect());
        for dt in Datatype::ALL {
            for (slope, inter) in [(1.0f32, 0.0f32), (0.5, 10.0)] {
                for gz in [false, true] {
                    let name = format!("v-{}-{slope}.{}", dt.name(), if gz { "nii.gz" } else { "nii" });
                    let path = dir.path().join(name);
                    let opts = WriteOptions { slope, inter, ..WriteOptions::new(dt) };
                    // Keep values inside the range of the narrow types (int8: stored <= 127 with slope 0.5).
                    let v = Volume::from_vec(g, vol.data.iter().map(|x| x.min(50.0) + inter).collect());
                    write_volume(&path, &v, &opts, None).unwrap();
                    let back = read_scan(&path).unwrap();
                    assert_eq!(back.datatype, dt);
                    assert!(back.volume.grid.affine.max_abs_diff(&g.affine) < 1e-5);
                    assert_eq!(back.volume.grid.dims, g.dims);
                    for (a, b) in back.volume.data.iter().zip(&v.data) {
                        assert!((a - b).abs() <= slope / 2.0 + 1e-4, "{} {a} vs {b}", dt.name());
                    }
                }
            }
        }
    }

    #[test]
    fn qform_alone_gives_the_same_affine() {
        let g = grid();
        let mut h = make_header(&g, &WriteOptions::new(Datatype::U8), None);
        h.sform_code = 0;
        let (a, src) = header_affine(&h);
        assert_eq!(src, "qform");
        assert!(a.max_abs_diff(&g.affine) < 1e-5, "{a:?}");
    }
}
