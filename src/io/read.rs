//! Reading voxels: gzip or plain, converted in place into the output buffer.

use super::header::{bad, extensions, parse_header, scaling, Layout};
use super::{hex, sha256_hex, Datatype, Loaded};
use crate::error::{Error, Result};
use crate::limits;
use crate::volume::{Label, Volume};
use flate2::read::MultiGzDecoder;
use nifti::Endianness;
use rayon::prelude::*;
use std::io::Read;
use std::path::Path;

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
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a folder" } else { "a device, pipe or socket" };
        return Err(bad(path, format!("not a regular file ({what}); give a .nii or .nii.gz file")));
    }
    let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    // The header is in the first 352 bytes; a gzip stream gives them from far fewer than 64 KiB.
    let mut prefix = vec![0u8; len.clamp(352, 1 << 16)];
    let n = read_full(&mut file, &mut prefix).map_err(io_err)?;
    prefix.truncate(n);
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    let (lay, src) = if is_gzip(&prefix) {
        let mut header = vec![0u8; 352];
        let got = read_full(&mut MultiGzDecoder::new(&prefix[..]), &mut header).map_err(|e| inflate_error(path, e))?;
        header.truncate(got);
        (parse_header(path, &header)?, Source::Gzip { file, len })
    } else {
        prefix.truncate(352);
        (parse_header(path, &prefix)?, Source::Plain(file))
    };
    check_length(path, &lay, &src, len)?;
    Ok((lay, src))
}

/// Checks the bytes the header announces against the file's real length (`len`) before
/// anything is allocated: a plain file must hold them; a gzip file cannot inflate to more
/// than [`limits::MAX_GZIP_RATIO`] times its length.
fn check_length(path: &Path, lay: &Layout, src: &Source, len: usize) -> Result<()> {
    let need = lay.stream_len();
    match src {
        Source::Plain(_) if need > len => Err(truncated(path, lay, len.saturating_sub(lay.offset))),
        Source::Gzip { .. } if need as u64 > (len as u64).saturating_mul(limits::MAX_GZIP_RATIO) => Err(bad(
            path,
            format!(
                "the header announces {} of voxel data (dimensions {:?}, {}), more than a gzip file of {} \
                 can hold (deflate inflates at most {} times): the file is truncated or its header is wrong",
                limits::human(need as u64),
                lay.grid.dims,
                lay.datatype.name(),
                limits::human(len as u64),
                limits::MAX_GZIP_RATIO
            ),
        )),
        _ => Ok(()),
    }
}

/// Bytes [`read_voxels`] allocates for output elements of `t` bytes.
fn memory_needed(lay: &Layout, src: &Source, t: usize) -> u64 {
    let (n, s, stream) = (lay.grid.len() as u64, lay.datatype.size() as u64, lay.stream_len() as u64);
    let gz = match src {
        Source::Gzip { len, .. } => *len as u64,
        Source::Plain(_) => 0,
    };
    let t = t as u64;
    if t < s {
        return stream + n * t + gz;
    }
    let buffer = (n * t).max(stream).div_ceil(t) * t;
    // The gzip file goes into the buffer's head when it fits there.
    buffer + if buffer - stream >= gz { 0 } else { gz }
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
    let need = memory_needed(&lay, &src, std::mem::size_of::<T>());
    limits::check_memory(path, need, &format!("reading {:?} voxels of {}", lay.grid.dims, lay.datatype.name()))?;
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

pub(super) const CHUNK: usize = 1 << 16;

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
pub(super) fn widen_in_place<T, C>(buf: &mut [T], n: usize, first: usize, conv: C, s: usize)
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
pub(super) fn convert_run<T, F: Fn(f64) -> T>(dt: Datatype, little: bool, src: &[u8], dst: &mut [T], conv: &F) {
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

/// The grid of a NIfTI file, from its header alone (the file's length is checked too).
///
/// # Errors
/// As [`read_scan`], for what the header and the file's length show.
pub fn read_grid(path: &Path) -> Result<crate::volume::Grid> {
    Ok(open(path)?.0.grid)
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
