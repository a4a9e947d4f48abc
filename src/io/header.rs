//! The NIfTI-1 header: checks, the grid and affine it gives, scaling and extensions.

use super::Datatype;
use crate::error::{Error, Result};
use crate::volume::{Affine, Grid};
use nifti::{NiftiHeader, NiftiType};
use std::path::Path;

/// What a file's header says about its voxel data.
pub(super) struct Layout {
    pub(super) header: NiftiHeader,
    pub(super) datatype: Datatype,
    pub(super) grid: Grid,
    pub(super) affine_source: &'static str,
    /// Byte offset of the voxels in the (inflated) file.
    pub(super) offset: usize,
    /// Bytes of the (inflated) file up to the end of the voxel data.
    pub(super) stream: usize,
    /// Header extensions, once the bytes after the header have been read.
    pub(super) extensions: Vec<(i32, Vec<u8>)>,
}

impl Layout {
    /// Bytes of the (inflated) file up to the end of the voxel data.
    pub(super) fn stream_len(&self) -> usize {
        self.stream
    }
}

pub(super) fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Nifti { path: path.to_path_buf(), message: message.into() }
}

/// Checks a NIfTI-1 header (the first bytes of the inflated file) and works out the grid.
pub(super) fn parse_header(path: &Path, bytes: &[u8]) -> Result<Layout> {
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
    let (offset, stream) = voxel_bytes(path, &header, dims, datatype)?;
    Ok(Layout { header, datatype, grid: Grid { dims, affine }, affine_source, offset, stream, extensions: Vec::new() })
}

/// The voxels' offset and the end of the voxel data, in bytes of the (inflated) file, with
/// overflow checked (the file's real length is checked against them before anything is read).
fn voxel_bytes(path: &Path, header: &NiftiHeader, dims: [usize; 3], datatype: Datatype) -> Result<(usize, usize)> {
    let vox_offset = header.vox_offset;
    if !vox_offset.is_finite() || vox_offset < 348.0 {
        return Err(bad(path, format!("voxel offset {vox_offset} is not a byte offset after the 348-byte header")));
    }
    let offset = vox_offset as usize;
    let stream = dims
        .iter()
        .try_fold(datatype.size(), |n, &d| n.checked_mul(d))
        .and_then(|n| n.checked_add(offset))
        .ok_or_else(|| bad(path, format!("voxel offset {vox_offset} and dimensions {dims:?} overflow")))?;
    Ok((offset, stream))
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
pub(super) fn scaling(h: &NiftiHeader) -> Option<(f64, f64)> {
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
pub(super) fn extensions(head: &[u8]) -> Vec<(i32, Vec<u8>)> {
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
