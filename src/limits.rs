//! Limits that keep untrusted inputs from exhausting the machine.
//!
//! - **Memory.** Every buffer whose size comes from a file (a NIfTI header's dimensions,
//!   datatype and voxel offset) is checked against [`max_memory`] before it is allocated. The
//!   limit is `--max-memory` when given ([`set_max_memory`]), else [`default_max_memory`]: the
//!   machine's available memory (`MemAvailable` in `/proc/meminfo`), lowered to a cgroup's
//!   memory limit and three quarters of an address-space or data limit (`ulimit -v`, `-d`)
//!   when those are set, or [`FALLBACK_MAX_MEMORY`] when none of them can be read.
//! - **Text inputs** (label tables, manifests, truth lists) are read with a size cap
//!   ([`read_text`]), and a NUL byte ends the read at once: `--labels /dev/zero` fails after a
//!   few kilobytes.
//! - **gzip.** A gzip stream inflates to at most [`MAX_GZIP_RATIO`] times its size (deflate's
//!   own limit), so a header that announces more than that is refused before anything is
//!   inflated, and inflating stops once the announced bytes have arrived.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The memory limit used when the machine's cannot be read: 8 GiB.
pub const FALLBACK_MAX_MEMORY: u64 = 8 << 30;

/// Largest label table, manifest or truth list read: 16 MiB (TotalSegmentator's largest
/// table is a few kilobytes; 65535 labels with long names fit easily).
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// Deflate's largest compression ratio (258-byte matches coded in about 2 bits): a gzip file
/// of `n` bytes never inflates to more than `MAX_GZIP_RATIO * n` bytes.
pub const MAX_GZIP_RATIO: u64 = 1032;

/// 0: not set, use the default.
static MAX_MEMORY: AtomicU64 = AtomicU64::new(0);

/// Sets the memory limit for the rest of the process (`--max-memory`).
pub fn set_max_memory(bytes: u64) {
    MAX_MEMORY.store(bytes.max(1), Ordering::Relaxed);
}

/// The memory limit in bytes: [`set_max_memory`]'s, else [`default_max_memory`] (read once).
pub fn max_memory() -> u64 {
    match MAX_MEMORY.load(Ordering::Relaxed) {
        0 => {
            static DEFAULT: OnceLock<u64> = OnceLock::new();
            *DEFAULT.get_or_init(default_max_memory)
        }
        n => n,
    }
}

/// The machine's memory available to this process: `MemAvailable`, a cgroup limit (v2
/// `memory.max`, v1 `memory.limit_in_bytes`) and 3/4 of `RLIMIT_AS` and `RLIMIT_DATA`,
/// whichever is least;
/// [`FALLBACK_MAX_MEMORY`] when none is readable.
pub fn default_max_memory() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| mem_available(&t));
    let cgroup = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| t.trim().parse::<u64>().ok())
        .filter(|&n| n < 1 << 60)
        .min();
    let rlimits = [rlimit(Resource::AddressSpace), rlimit(Resource::Data)].map(|l| l.map(|n| n / 4 * 3));
    [meminfo, cgroup].into_iter().chain(rlimits).flatten().min().unwrap_or(FALLBACK_MAX_MEMORY)
}

/// `MemAvailable` of `/proc/meminfo`'s text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The resource limits that bound our memory: `ulimit -v` and `ulimit -d`.
#[derive(Clone, Copy)]
enum Resource {
    AddressSpace,
    Data,
}

#[cfg(unix)]
fn rlimit(which: Resource) -> Option<u64> {
    let resource = match which {
        Resource::AddressSpace => libc::RLIMIT_AS,
        Resource::Data => libc::RLIMIT_DATA,
    };
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass and reads nothing else.
    let ok = unsafe { libc::getrlimit(resource, &mut r) } == 0;
    (ok && r.rlim_cur != libc::RLIM_INFINITY).then_some(r.rlim_cur)
}

#[cfg(not(unix))]
fn rlimit(_: Resource) -> Option<u64> {
    None
}

/// Parses a size: plain bytes (`1000000`) or a number with a binary unit `K`, `M`, `G` or `T`
/// (optionally followed by `B` or `iB`, any case): `8G`, `512M`, `1.5GiB`.
///
/// # Errors
/// A message naming the value when it is not such a size or is 0.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    let shift = match unit {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("{s:?} is not a size (use e.g. 8G, 512M or a number of bytes)")),
    };
    let n: f64 = digits.trim().parse().map_err(|_| format!("{s:?} is not a size (use e.g. 8G, 512M or bytes)"))?;
    let bytes = n * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < 2f64.powi(63)) {
        return Err(format!("{s:?} is not a size from 1 byte to 8 EiB"));
    }
    Ok(bytes as u64)
}

/// A size for messages: `1.5 GiB`, `12.0 MiB`, `512 bytes`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    if unit == "bytes" {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {unit}")
    }
}

/// Checks that reading `path` may allocate `bytes` (`what` says for what).
///
/// # Errors
/// [`Error::Limit`] naming the file, the need and the limit.
pub fn check_memory(path: &Path, bytes: u64, what: &str) -> Result<()> {
    let limit = max_memory();
    if bytes > limit {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            message: format!(
                "{what} needs {} of memory, more than the limit of {} (--max-memory)",
                human(bytes),
                human(limit)
            ),
        });
    }
    Ok(())
}

/// Reads a text file of at most `max` bytes (`what` names it in messages: "label table").
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::Limit`] when it is larger than `max`;
/// [`Error::Labels`]-like [`Error::Limit`] when it holds a NUL byte (binary) or is not UTF-8.
pub fn read_text(path: &Path, max: u64, what: &str) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Error::Limit { path: path.to_path_buf(), message: format!("is a folder, not a {what}") });
    }
    let limit_err = |message: String| Error::Limit { path: path.to_path_buf(), message };
    let mut reader = file.take(max + 1);
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        if chunk[..n].contains(&0) {
            return Err(limit_err(format!("binary data (a NUL byte), not a text {what}")));
        }
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() as u64 > max {
            return Err(limit_err(format!("larger than {}, too large for a {what}", human(max))));
        }
    }
    String::from_utf8(bytes).map_err(|e| limit_err(format!("not UTF-8 text ({e}), not a {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("64 KB"), Ok(64 << 10));
        for bad in ["", "0", "-1G", "8X", "nan", "inf", "1e30T", "G"] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn mem_available_is_read_in_kib() {
        let t = "MemTotal:  100 kB\nMemFree:  50 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(mem_available(t), Some(2 << 20));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
        assert!(default_max_memory() > 0);
    }

    #[test]
    fn text_is_capped_and_binary_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.tsv");
        std::fs::write(&p, "index\tname\n1\ta\n").unwrap();
        assert_eq!(read_text(&p, 100, "label table").unwrap(), "index\tname\n1\ta\n");
        let e = read_text(&p, 5, "label table").unwrap_err().to_string();
        assert!(e.contains("larger than 5 bytes"), "{e}");
        std::fs::write(&p, b"index\0name").unwrap();
        assert!(read_text(&p, 100, "label table").unwrap_err().to_string().contains("binary"));
        std::fs::write(&p, b"\xff\xfe").unwrap();
        assert!(read_text(&p, 100, "label table").unwrap_err().to_string().contains("UTF-8"));
        let e = read_text(dir.path(), 100, "label table").unwrap_err().to_string();
        assert!(e.contains("folder"), "{e}");
    }

    #[test]
    fn memory_checks_name_the_file_and_the_limit() {
        let e = check_memory(Path::new("big.nii"), u64::MAX, "the voxels").unwrap_err().to_string();
        assert!(e.starts_with("big.nii: the voxels needs") && e.contains("--max-memory"), "{e}");
        assert!(check_memory(Path::new("small.nii"), 1, "the voxels").is_ok());
    }
}
