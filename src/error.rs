//! The library's error type: one enum, grouped by who is responsible, each variant naming the
//! file or value at fault so that the CLI can print it on one line.

use std::path::PathBuf;

/// Everything that can go wrong in crmo-map's library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A NIfTI file is malformed or of a kind we do not read.
    #[error("{}: {message}", path.display())]
    Nifti {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A label table is malformed or does not match the atlas.
    #[error("{}: {message}", path.display())]
    Labels {
        /// The table (or the atlas it was checked against).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The scan and the atlas do not fit together.
    #[error("{}: {message}", path.display())]
    Atlas {
        /// The atlas.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The scan's content cannot be analysed (no finite intensity, no spread inside the atlas).
    #[error("{}: {message}", path.display())]
    Scan {
        /// The scan.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A dataset of scans with reader masks (a folder or a manifest) is malformed.
    #[error("{}: {message}", path.display())]
    Dataset {
        /// The folder or manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An input is larger than a limit allows (memory, a table's size) or is not text where
    /// text is expected.
    #[error("{}: {message}", path.display())]
    Limit {
        /// The file.
        path: PathBuf,
        /// What is too large, and the limit.
        message: String,
    },
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// Writing an output failed for a reason other than I/O.
    #[error("{}: {message}", path.display())]
    Output {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }
}
