//! Reading and writing NIfTI-1 volumes.
//!
//! Reading: the header is parsed by the `nifti` crate; the voxels are inflated (gzip detected
//! by its magic bytes: libdeflate on the whole file, flate2 for a multi-member stream) into the
//! tail of the output buffer and converted there in place, in parallel, into our `i`-fastest
//! [`Volume`] with `scl_slope`/`scl_inter` applied (a slope of 0 or NaN means no scaling, as
//! nibabel reads it); `read_voxels` describes the memory layout. 3-D files, and 4-D or higher
//! files whose extra dimensions are all 1, are accepted; more volumes are an error. The affine
//! comes from the sform when its code is > 0, else the qform when its code is > 0, else the
//! voxel sizes in `pixdim` (NIfTI-1 "method 1").
//!
//! Writing: a single-file NIfTI-1 (`.nii`, or `.nii.gz`: one gzip member deflated at a fast
//! level in parallel blocks) with both
//! sform and qform set from the volume's affine, any storage datatype and optional scaling.
//! The header is the `nifti` crate's [`NiftiHeader`], serialised here because the crate's
//! writer always resets `scl_slope` and we need to write scaled integer files for tests and
//! phantoms.

use crate::error::{Error, Result};
use crate::volume::{Affine, Grid, Label, Volume};
use flate2::read::MultiGzDecoder;
use flate2::Compression;
use nifti::{Endianness, NiftiHeader, NiftiType};
use rayon::prelude::*;
use std::io::Read;
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
    /// The header extensions (NIfTI-1 `esize`/`ecode` blocks between the header and the
    /// voxels) as (code, content).
    pub extensions: Vec<(i32, Vec<u8>)>,
}

/// What a file's header says about its voxel data.
struct Layout {
    header: NiftiHeader,
    datatype: Datatype,
    grid: Grid,
    affine_source: &'static str,
    /// Byte offset of the voxels in the (inflated) file.
    offset: usize,
    /// Header extensions, once the bytes after the header have been read.
    extensions: Vec<(i32, Vec<u8>)>,
}

impl Layout {
    /// Bytes of the (inflated) file up to the end of the voxel data.
    fn stream_len(&self) -> usize {
        self.offset + self.grid.len() * self.datatype.size()
    }
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Nifti { path: path.to_path_buf(), message: message.into() }
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Reads from `r` until `buf` is full or the stream ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn inflate_error(path: &Path, e: impl std::fmt::Display) -> Error {
    bad(path, format!("cannot inflate gzip stream ({e}): the file is truncated or corrupt"))
}

fn truncated(path: &Path, lay: &Layout, have: usize) -> Error {
    let need = lay.stream_len() - lay.offset;
    bad(path, format!("truncated: voxel data needs {need} bytes from offset {}, the file has {have}", lay.offset))
}

/// Inflates the first `out.len()` bytes of the gzip file `file` into `out`: libdeflate on the
/// whole buffer (a single-member file, the usual case), else flate2's streaming decoder (a
/// multi-member file, or data after the voxels).
fn inflate_into(path: &Path, lay: &Layout, file: &[u8], out: &mut [u8]) -> Result<()> {
    use libdeflater::{DecompressionError, Decompressor};
    match Decompressor::new().gzip_decompress(file, out) {
        Ok(n) if n == out.len() => return Ok(()),
        Ok(_) | Err(DecompressionError::InsufficientSpace) => {}
        Err(DecompressionError::BadData) => return Err(inflate_error(path, "corrupt deflate data")),
    }
    let mut dec = MultiGzDecoder::new(file);
    let n = read_full(&mut dec, out).map_err(|e| inflate_error(path, e))?;
    if n < out.len() {
        return Err(truncated(path, lay, n.saturating_sub(lay.offset)));
    }
    Ok(())
}

/// Checks a NIfTI-1 header (the first bytes of the inflated file) and works out the grid.
fn parse_header(path: &Path, bytes: &[u8]) -> Result<Layout> {
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
    let mut header = NiftiHeader::from_reader(bytes).map_err(|e| bad(path, format!("bad NIfTI-1 header: {e}")))?;
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
    if offset < 348 {
        return Err(bad(path, format!("voxel offset {offset} lies inside the 348-byte header")));
    }
    Ok(Layout { header, datatype, grid: Grid { dims, affine }, affine_source, offset, extensions: Vec::new() })
}

/// A file opened for reading: its layout, and where its bytes are.
enum Source {
    /// A gzip file of `len` bytes.
    Gzip { file: std::fs::File, len: usize },
    /// An uncompressed file.
    Plain(std::fs::File),
}

fn open(path: &Path) -> Result<(Layout, Source)> {
    use std::io::{Seek, SeekFrom};
    let io_err = |e| Error::io(path, e);
    let mut file = std::fs::File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len() as usize;
    // The header is in the first 352 bytes; a gzip stream gives them from far fewer than 64 KiB.
    let mut prefix = vec![0u8; len.clamp(352, 1 << 16)];
    let n = read_full(&mut file, &mut prefix).map_err(io_err)?;
    prefix.truncate(n);
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    if is_gzip(&prefix) {
        let mut header = vec![0u8; 352];
        let got = read_full(&mut MultiGzDecoder::new(&prefix[..]), &mut header).map_err(|e| inflate_error(path, e))?;
        header.truncate(got);
        return Ok((parse_header(path, &header)?, Source::Gzip { file, len }));
    }
    prefix.truncate(352);
    Ok((parse_header(path, &prefix)?, Source::Plain(file)))
}

/// Fills `out` with the first `out.len()` bytes of the (inflated) file and returns the SHA-256
/// of the file as stored. A gzip file is read whole into `spare` when it fits (else into a
/// buffer of its own) and hashed on another thread while it inflates.
fn fill(path: &Path, lay: &Layout, src: Source, spare: &mut [u8], out: &mut [u8]) -> Result<String> {
    match src {
        Source::Gzip { mut file, len } => {
            let mut own = Vec::new();
            let stored: &mut [u8] = if spare.len() >= len {
                &mut spare[..len]
            } else {
                own.resize(len, 0);
                &mut own
            };
            file.read_exact(stored).map_err(|e| Error::io(path, e))?;
            let stored = &*stored;
            let (filled, sha) = rayon::join(|| inflate_into(path, lay, stored, out), || sha256_hex(stored));
            filled.map(|()| sha)
        }
        Source::Plain(mut file) => {
            use sha2::{Digest, Sha256};
            let n = read_full(&mut file, out).map_err(|e| Error::io(path, e))?;
            if n < out.len() {
                return Err(truncated(path, lay, n.saturating_sub(lay.offset)));
            }
            let mut h = Sha256::new();
            h.update(&*out);
            let mut rest = vec![0u8; 1 << 20];
            loop {
                match read_full(&mut file, &mut rest).map_err(|e| Error::io(path, e))? {
                    0 => break,
                    k => h.update(&rest[..k]),
                }
            }
            Ok(hex(&h.finalize()))
        }
    }
}

/// Reads the voxels of `path` into a `Vec<T>` of the grid's length, converted by the function
/// that `make` builds from the header: it turns a run of stored values (their bytes) into as
/// many `T`s. The inflated file lands in the
/// tail of the output buffer itself and is converted in place, front to back, so that an
/// `int16` scan read as `f32` needs no memory beyond the output: even the `.gz` file is read
/// into the output's head, which the inflated stream does not reach.
fn read_voxels<T, F, M>(path: &Path, make: M) -> Result<(Layout, Vec<T>, String)>
where
    T: bytemuck::Pod + Send + Sync,
    F: Fn(&[u8], &mut [T]) + Sync,
    M: FnOnce(&Layout) -> F,
{
    let (lay, src) = open(path)?;
    let conv = make(&lay);
    let (n, s, t) = (lay.grid.len(), lay.datatype.size(), std::mem::size_of::<T>());
    let stream = lay.stream_len();
    if t < s {
        // Narrowing (64-bit storage): a separate buffer for the raw bytes.
        let mut raw = vec![0u8; stream];
        let sha = fill(path, &lay, src, &mut [], &mut raw)?;
        let lay = Layout { extensions: extensions(&raw[..lay.offset]), ..lay };
        let mut out = vec![T::zeroed(); n];
        out.par_chunks_mut(CHUNK).zip(raw[lay.offset..].par_chunks(CHUNK * s)).for_each(|(o, r)| {
            conv(r, o);
        });
        return Ok((lay, out, sha));
    }
    // The stream ends where the buffer ends; element i's stored bytes start at `first + i s`.
    let len = (n * t).max(stream).div_ceil(t);
    let mut out = vec![T::zeroed(); len];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
    let place = bytes.len() - stream;
    // A gzip file is read into the space before the stream when it fits: the inflated bytes
    // then overwrite nothing still needed, and the conversion overwrites the gzip file.
    let (spare, tail) = bytes.split_at_mut(place);
    let sha = fill(path, &lay, src, spare, tail)?;
    let lay = Layout { extensions: extensions(&tail[..lay.offset]), ..lay };
    let first = place + lay.offset;
    if t == s {
        bytes.copy_within(first..first + n * s, 0);
        out.truncate(n);
        out.par_chunks_mut(CHUNK).for_each(|o| {
            let stored = bytemuck::cast_slice::<T, u8>(o).to_vec();
            conv(&stored, o);
        });
    } else {
        widen_in_place(&mut out, n, first, &conv, s);
        out.truncate(n);
    }
    Ok((lay, out, sha))
}

const CHUNK: usize = 1 << 16;

fn little(lay: &Layout) -> bool {
    lay.header.endianness == Endianness::Little
}

/// Converts the stored values in the bytes of `buf` (element i's `s` bytes at byte
/// `first + i s`, with `s` smaller than `T` and `first >= n (size_of T - s)`) into `buf`'s
/// first `n` elements, in place. Element i's output covers bytes that hold only the stored values of
/// elements before it once `first + i s >= (i + 1) size_of T`, so the work goes in phases:
/// each phase converts, in parallel, every element whose output no longer overlaps an
/// unconverted input; the phases grow geometrically, and a short tail is done one element
/// after another.
fn widen_in_place<T, C>(buf: &mut [T], n: usize, first: usize, conv: C, s: usize)
where
    T: bytemuck::Pod + Send + Sync,
    C: Fn(&[u8], &mut [T]) + Sync,
{
    let t = std::mem::size_of::<T>();
    let mut a = 0;
    while a < n {
        let b = ((first + a * s) / t).min(n);
        if b < a + CHUNK {
            break;
        }
        // Outputs [a, b) lie before byte b t; their inputs lie at or after it.
        let (lo, hi) = buf.split_at_mut(b);
        let input: &[u8] = &bytemuck::cast_slice::<T, u8>(hi)[first + a * s - b * t..first + b * s - b * t];
        lo[a..].par_chunks_mut(CHUNK).zip(input.par_chunks(CHUNK * s)).for_each(|(o, i)| conv(i, o));
        a = b;
    }
    let mut one = [T::zeroed()];
    for i in a..n {
        let at = first + i * s;
        let stored: [u8; 8] = {
            let bytes = bytemuck::cast_slice::<T, u8>(buf);
            let mut v = [0u8; 8];
            v[..s].copy_from_slice(&bytes[at..at + s]);
            v
        };
        conv(&stored[..s], &mut one);
        buf[i] = one[0];
    }
}

/// Converts the stored values in `src` (consecutive, in `dt`) into `dst`.
fn convert_run<T, F: Fn(f64) -> T>(dt: Datatype, little: bool, src: &[u8], dst: &mut [T], conv: &F) {
    macro_rules! run {
        ($t:ty, $n:expr) => {
            for (o, b) in dst.iter_mut().zip(src.chunks_exact($n)) {
                let arr: [u8; $n] = b.try_into().unwrap();
                *o = conv((if little { <$t>::from_le_bytes(arr) } else { <$t>::from_be_bytes(arr) }) as f64);
            }
        };
    }
    match dt {
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

/// The extension blocks of an inflated file's first `vox_offset` bytes (none unless the
/// extension flag after the 348-byte header is set); a malformed block ends the list.
fn extensions(head: &[u8]) -> Vec<(i32, Vec<u8>)> {
    let mut out = Vec::new();
    if head.len() < 352 || head[348] == 0 {
        return out;
    }
    let little = i32::from_le_bytes(head[0..4].try_into().unwrap()) == 348;
    let int = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if little {
            i32::from_le_bytes(a)
        } else {
            i32::from_be_bytes(a)
        }
    };
    let mut at = 352;
    while at + 8 <= head.len() {
        let (size, code) = (int(&head[at..at + 4]), int(&head[at + 4..at + 8]));
        if size < 8 || at + size as usize > head.len() {
            break;
        }
        out.push((code, head[at + 8..at + size as usize].to_vec()));
        at += size as usize;
    }
    out
}

fn finish<T>(lay: Layout, data: Vec<T>, sha256: String) -> Loaded<T> {
    let mut header = lay.header;
    if !(header.scl_slope.is_finite() && header.scl_slope != 0.0) {
        header.scl_slope = 0.0;
        header.scl_inter = 0.0;
    }
    Loaded {
        volume: Volume { grid: lay.grid, data },
        header,
        datatype: lay.datatype,
        affine_source: lay.affine_source,
        sha256,
        extensions: lay.extensions,
    }
}

/// Reads a scan as `f32` intensities with scaling applied.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Nifti`] naming the file when it is not
/// a readable NIfTI-1 single-volume file (truncated, another format, NIfTI-2, several
/// volumes, unsupported datatype, singular affine).
pub fn read_scan(path: &Path) -> Result<Loaded<f32>> {
    let (lay, data, sha) = read_voxels(path, |lay| {
        let (dt, little, scale) = (lay.datatype, little(lay), scaling(&lay.header));
        move |src: &[u8], dst: &mut [f32]| match (dt, little, scale) {
            // The usual MRI storage, unscaled: a loop the compiler vectorises.
            (Datatype::I16, true, None) => {
                dst.iter_mut().zip(src.chunks_exact(2)).for_each(|(o, b)| *o = i16::from_le_bytes([b[0], b[1]]) as f32)
            }
            (Datatype::U8, _, None) => dst.iter_mut().zip(src).for_each(|(o, &b)| *o = b as f32),
            (_, _, None) => convert_run(dt, little, src, dst, &|v| v as f32),
            (_, _, Some((slope, inter))) => convert_run(dt, little, src, dst, &|v| (v * slope + inter) as f32),
        }
    })?;
    Ok(finish(lay, data, sha))
}

/// Reads a label volume (an atlas or a lesion map): every voxel must hold a whole number
/// from 0 to 65535 once scaled.
///
/// # Errors
/// As [`read_scan`], plus [`Error::Nifti`] when a voxel is not such a whole number.
pub fn read_labels(path: &Path) -> Result<Loaded<u16>> {
    read_labels_as(path)
}

/// An atlas as read: `u8` labels when the file stores bytes, else `u16`.
pub enum Atlas {
    /// From a `uint8` (or `int8`) file.
    U8(Loaded<u8>),
    /// From any other datatype.
    U16(Loaded<u16>),
}

/// Reads an atlas, keeping one byte per voxel when the file stores bytes.
///
/// # Errors
/// As [`read_labels`] (for a byte file: labels from 0 to 255).
pub fn read_atlas(path: &Path) -> Result<Atlas> {
    let (lay, _) = open(path)?;
    Ok(match lay.datatype {
        Datatype::U8 | Datatype::I8 => Atlas::U8(read_labels_as(path)?),
        _ => Atlas::U16(read_labels_as(path)?),
    })
}

/// Label values and names.
pub type LabelNames = Vec<(u32, String)>;

/// A mask folder's label table, when one is given (`--labels`): the table and where it came
/// from (a file, or a built-in table's name), for error messages.
pub type MaskTable<'a> = (&'a crate::labels::LabelTable, &'a Path);

/// Reads a folder of per-class masks (`femur_left.nii.gz`, ..., as TotalSegmentator writes
/// them without `--ml`) as one atlas on the masks' grid: each mask's non-zero voxels take its
/// class's label; the names are the file names without `.nii.gz`/`.nii`.
///
/// With a `table`, each mask takes the label of the table row whose name is the mask's file
/// name (exactly, case included): matched by name, never by position. A row without a mask is
/// fine. Without one, labels follow TotalSegmentator's numbering (its `total` task, then
/// `appendicular_bones` from 118) when every name is one of its classes, else the names'
/// sorted order from 1; the names are always the files'. Where masks overlap, the lower label
/// wins, whatever the files' order. The atlas's SHA-256 is that of the list of the masks'
/// names and SHA-256s.
///
/// # Errors
/// [`Error::Io`] for an unreadable folder; [`Error::Atlas`] when it holds no mask, two masks
/// of the same name, or masks on different grids; [`Error::Labels`] naming the table when a
/// mask has no row of that name, when two rows share a mask's name or when a row's label is
/// above 65535; any error of reading a mask.
pub fn read_mask_folder(dir: &Path, table: Option<MaskTable>) -> Result<(Loaded<u16>, LabelNames)> {
    let masks = list_masks(dir)?;
    let ids = match table {
        Some((t, from)) => ids_from_table(&masks, dir, t, from)?,
        None => ids_from_names(&masks),
    };
    let atlas = paint_masks(&masks, &ids, dir)?;
    Ok((atlas, masks.into_iter().zip(ids).map(|((n, _), id)| (id as u32, n)).collect()))
}

/// The `.nii.gz` / `.nii` files of a mask folder as (name, path), sorted by name.
fn list_masks(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut masks: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let stem = name.strip_suffix(".nii.gz").or_else(|| name.strip_suffix(".nii"))?;
            Some((stem.to_string(), p.clone()))
        })
        .collect();
    masks.sort();
    let atlas_err = |message: String| Error::Atlas { path: dir.to_path_buf(), message };
    if masks.is_empty() {
        return Err(atlas_err("the folder holds no .nii.gz or .nii mask".into()));
    }
    if masks.len() > u16::MAX as usize {
        return Err(atlas_err(format!("the folder holds {} masks, more than an atlas holds (65535)", masks.len())));
    }
    if let Some(w) = masks.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(atlas_err(format!(
            "masks {} and {} have the same name {:?}: keep one",
            file_name(&w[0].1),
            file_name(&w[1].1),
            w[0].0
        )));
    }
    Ok(masks)
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Labels without a table: TotalSegmentator's when every name is one of its classes, else
/// the sorted order from 1.
fn ids_from_names(masks: &[(String, PathBuf)]) -> Vec<u16> {
    use crate::labels::totalsegmentator::{APPENDICULAR_BONES, TOTAL};
    let ts_id = |n: &str| TOTAL.iter().chain(APPENDICULAR_BONES.iter()).position(|c| *c == n).map(|i| i as u16 + 1);
    match masks.iter().map(|(n, _)| ts_id(n)).collect::<Option<Vec<u16>>>() {
        Some(ids) => ids,
        None => (1..=masks.len() as u16).collect(),
    }
}

/// Labels from a table, by name: each mask takes the label of the row named as its file.
fn ids_from_table(
    masks: &[(String, PathBuf)],
    dir: &Path,
    table: &crate::labels::LabelTable,
    from: &Path,
) -> Result<Vec<u16>> {
    let labels_err = |message: String| Error::Labels { path: from.to_path_buf(), message };
    let mut rows: std::collections::HashMap<&str, Vec<u32>> = std::collections::HashMap::new();
    for (l, n) in table.iter() {
        rows.entry(n).or_default().push(l);
    }
    let unmatched: Vec<String> =
        masks.iter().filter(|(n, _)| !rows.contains_key(n.as_str())).map(|(_, p)| file_name(p)).collect();
    if !unmatched.is_empty() {
        return Err(labels_err(unmatched_message(&unmatched, dir)));
    }
    masks
        .iter()
        .map(|(n, p)| match rows[n.as_str()].as_slice() {
            [l] if *l <= u16::MAX as u32 => Ok(*l as u16),
            [l] => Err(labels_err(format!(
                "row {n:?} (for mask {}) has label {l}, above 65535, the largest a mask folder's atlas holds",
                p.display()
            ))),
            many => Err(labels_err(format!(
                "rows {many:?} are all named {n:?}, so mask {} matches more than one row",
                p.display()
            ))),
        })
        .collect()
}

/// The message for masks that no row of the table names.
fn unmatched_message(unmatched: &[String], dir: &Path) -> String {
    let shown = unmatched.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
    let more = match unmatched.len().saturating_sub(10) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    format!(
        "no row of this label table is named after mask(s) {shown}{more} in {}: a mask folder's masks are \
         matched to the table's rows by name (file name without .nii.gz/.nii = the row's name); rename the \
         mask, add a row for it, or leave out --labels to take the names from the files",
        dir.display()
    )
}

/// Paints the masks into one atlas, highest label first so that a lower label painted later
/// wins where masks overlap.
fn paint_masks(masks: &[(String, PathBuf)], ids: &[u16], dir: &Path) -> Result<Loaded<u16>> {
    let mut order: Vec<usize> = (0..masks.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(ids[i]));
    let mut atlas: Option<Loaded<u16>> = None;
    let mut hashes = vec![String::new(); masks.len()];
    for i in order {
        let (name, path) = &masks[i];
        let mask = read_labels_as::<u16>(path)?;
        hashes[i] = format!("{name}.nii {}\n", mask.sha256);
        let id = ids[i];
        match &mut atlas {
            None => {
                let mut first = mask;
                first.volume.data.par_iter_mut().for_each(|v| *v = if *v != 0 { id } else { 0 });
                atlas = Some(first);
            }
            Some(a) => {
                if a.volume.grid.dims != mask.volume.grid.dims
                    || a.volume.grid.affine.max_abs_diff(&mask.volume.grid.affine) > 1e-3
                {
                    return Err(Error::Atlas {
                        path: dir.to_path_buf(),
                        message: format!("mask {} lies on another grid than the others", file_name(path)),
                    });
                }
                a.volume.data.par_iter_mut().zip(&mask.volume.data).for_each(|(o, &m)| {
                    if m != 0 {
                        *o = id;
                    }
                });
            }
        }
    }
    let mut atlas = atlas.expect("at least one mask");
    atlas.sha256 = sha256_hex(hashes.concat().as_bytes());
    atlas.extensions.clear();
    Ok(atlas)
}

/// Reads a label volume into `L`: every voxel must hold a whole number from 0 to `L::MAX`.
///
/// # Errors
/// As [`read_labels`].
pub fn read_labels_as<L: Label>(path: &Path) -> Result<Loaded<L>> {
    let first_bad = std::sync::Mutex::new(None::<f64>);
    let (lay, data, sha) = read_voxels(path, |lay| {
        let (dt, little, scale) = (lay.datatype, little(lay), scaling(&lay.header));
        let (slope, inter) = scale.unwrap_or((1.0, 0.0));
        let first_bad = &first_bad;
        let checked = move |v: f64| {
            let v = v * slope + inter;
            // A whole number from 0 to MAX survives the saturating cast (NaN does not).
            let x = v as u32;
            if x <= L::MAX && x as f64 == v {
                L::from_u32(x)
            } else {
                first_bad.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(v);
                L::default()
            }
        };
        move |src: &[u8], dst: &mut [L]| match (dt, scale) {
            // Bytes, unscaled (most atlases): every value is a valid label.
            (Datatype::U8, None) => dst.iter_mut().zip(src).for_each(|(o, &b)| *o = L::from_u32(b as u32)),
            _ => convert_run(dt, little, src, dst, &checked),
        }
    })?;
    if let Some(v) = first_bad.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(bad(path, format!("label volume holds {v}, labels must be whole numbers from 0 to {}", L::MAX)));
    }
    Ok(finish(lay, data, sha))
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
    let (slope, inter) = (opts.slope as f64, opts.inter as f64);
    let float = opts.datatype.is_float();
    // Whole numbers stored unscaled need no rounding (`round` is a libm call per voxel).
    let whole = T::WHOLE && slope == 1.0 && inter == 0.0;
    let store = |d: &[T], o: &mut [u8]| {
        macro_rules! put {
            ($t:ty) => {
                for (o, v) in o.chunks_exact_mut(size).zip(d) {
                    let x = if whole { v.to_f64() } else { (v.to_f64() - inter) / slope };
                    let x = if float {
                        x
                    } else if whole {
                        x.clamp(lo, hi)
                    } else {
                        x.round().clamp(lo, hi)
                    };
                    o.copy_from_slice(&(x as $t).to_le_bytes());
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

    /// Volumes big enough for the in-place conversion's parallel phases and for several gzip
    /// blocks, in every datatype, read back as scans and as labels, stored and gzipped.
    #[test]
    fn large_volumes_convert_in_place_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let g = Grid { dims: [97, 83, 151], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        // Whole numbers 0..=127 (int8 holds them) in a pattern that no shift or misplaced phase would preserve.
        let values: Vec<f32> = (0..g.len()).map(|i| ((i * 7919) % 113 + (i / 100_003) % 5) as f32).collect();
        let vol = Volume::from_vec(g, values.clone());
        let mut gz_blocks = 0;
        for dt in Datatype::ALL {
            for gz in [false, true] {
                let path = dir.path().join(format!("big-{}.{}", dt.name(), if gz { "nii.gz" } else { "nii" }));
                write_volume(&path, &vol, &WriteOptions::new(dt), None).unwrap();
                let scan = read_scan(&path).unwrap();
                assert!(scan.volume.data == values, "{} as scan (gz {gz})", dt.name());
                let labels = read_labels(&path).unwrap();
                assert!(
                    labels.volume.data.iter().zip(&values).all(|(&a, &b)| a as f32 == b),
                    "{} as labels",
                    dt.name()
                );
                let stored = std::fs::read(&path).unwrap();
                assert_eq!(scan.sha256, sha256_hex(&stored));
                if gz {
                    // One gzip member whose stream inflates (by another decoder) to the whole file.
                    let mut plain = Vec::new();
                    flate2::read::GzDecoder::new(&stored[..]).read_to_end(&mut plain).unwrap();
                    assert_eq!(plain.len(), 352 + g.len() * dt.size());
                    // The nifti crate's own reader (single-member gzip only) takes it too.
                    let obj = nifti::ReaderOptions::new().fix_header(true).read_file(&path).unwrap();
                    assert_eq!(&nifti::NiftiObject::header(&obj).dim[1..4], &[97, 83, 151]);
                    gz_blocks += 1;
                }
            }
        }
        assert_eq!(gz_blocks, Datatype::ALL.len());
    }

    #[test]
    fn in_place_widening_matches_a_plain_conversion_for_any_length() {
        for n in [0usize, 1, 2, 3, 1000, CHUNK - 1, 2 * CHUNK + 17, 5 * CHUNK + 3] {
            for first_extra in [0usize, 352] {
                // u8 -> u16: the stored bytes fill the buffer's tail.
                let stored: Vec<u8> = (0..n).map(|i| (i * 31 % 256) as u8).collect();
                let first = n + first_extra;
                let mut buf = vec![0u16; (first + n).div_ceil(2)];
                let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
                bytes[first..first + n].copy_from_slice(&stored);
                widen_in_place(
                    &mut buf,
                    n,
                    first,
                    |i: &[u8], o: &mut [u16]| convert_run(Datatype::U8, true, i, o, &|v| v as u16),
                    1,
                );
                assert!(buf[..n].iter().zip(&stored).all(|(&a, &b)| a == b as u16), "n {n}, extra {first_extra}");
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
