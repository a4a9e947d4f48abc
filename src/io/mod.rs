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

mod header;
mod masks;
pub mod modality;
mod read;
#[cfg(test)]
mod tests;
mod write;

pub use header::header_affine;
pub use masks::{read_mask_folder, LabelNames, MaskTable};
pub use read::{read_atlas, read_grid, read_labels, read_labels_as, read_scan, Atlas};
pub use write::{encode, encode_stored, make_header, write_atomic, write_volume, Storable, WriteOptions};

use crate::volume::Volume;
use nifti::{NiftiHeader, NiftiType};
use std::path::Path;

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

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// Bytes (a digest) as lower-case hex.
pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// True when a path names a gzipped NIfTI (`.nii.gz` or `.gz`).
pub fn is_gz_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}
