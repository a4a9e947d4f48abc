//! Tab-separated tables with a header row, as the manifests use: blank lines and `#` comments
//! are skipped, cells are trimmed, and an empty cell, `-` or `n/a` is absent.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A table's header and rows.
#[derive(Debug)]
pub struct Tsv {
    path: PathBuf,
    header: Vec<String>,
    /// Rows as (1-based line number, cells).
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Tsv {
    /// Reads `path` (at most [`crate::limits::MAX_TEXT_BYTES`]).
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be read, [`Error::Limit`] when it is too large or not
    /// text, [`Error::Dataset`] when it has no header.
    pub fn read(path: &Path) -> Result<Tsv> {
        let text = crate::limits::read_text(path, crate::limits::MAX_TEXT_BYTES, "manifest")?;
        let bad = |message: String| Error::Dataset { path: path.to_path_buf(), message };
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|(n, l)| (n + 1, l.split('\t').map(|c| c.trim().to_string()).collect::<Vec<_>>()));
        let (_, header) = lines.next().ok_or_else(|| bad("empty manifest".into()))?;
        Ok(Tsv { path: path.to_path_buf(), header, rows: lines.collect() })
    }

    /// The index of column `name` (case-insensitive).
    ///
    /// # Errors
    /// [`Error::Dataset`] naming the columns the table needs (`needs`).
    pub fn column(&self, name: &str, needs: &str) -> Result<usize> {
        self.find(name).ok_or_else(|| self.error(format!("the header lacks column {name:?} (needs {needs})")))
    }

    /// The index of column `name`, if the table has it.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|c| c.eq_ignore_ascii_case(name))
    }

    /// An error about this table.
    pub fn error(&self, message: String) -> Error {
        Error::Dataset { path: self.path.clone(), message }
    }
}

/// A row's cell `i`, absent when missing, empty, `-` or `n/a`.
pub fn cell(fields: &[String], i: Option<usize>) -> Option<&str> {
    i.and_then(|i| fields.get(i)).map(String::as_str).filter(|f| !f.is_empty() && *f != "-" && *f != "n/a")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rows_and_absent_cells() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("m.tsv");
        std::fs::write(&p, "# comment\nSubject\tscan\n\n01\ta.nii\n02\tn/a\n").unwrap();
        let tsv = Tsv::read(&p).unwrap();
        let (s, c) = (tsv.column("subject", "subject, scan").unwrap(), tsv.find("scan"));
        assert_eq!(tsv.rows[0].0, 4);
        assert_eq!(cell(&tsv.rows[0].1, Some(s)), Some("01"));
        assert_eq!(cell(&tsv.rows[1].1, c), None);
        assert!(tsv.column("atlas", "subject, scan, atlas").unwrap_err().to_string().contains("needs subject"));
        std::fs::write(&p, [0xff, 0xfe, 0]).unwrap();
        assert!(Tsv::read(&p).unwrap_err().to_string().contains("binary data"));
    }
}
