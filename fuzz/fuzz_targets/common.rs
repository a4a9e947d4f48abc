//! Shared by the fuzz targets: the readers take paths, so each input is written to a file of
//! this process's own in /dev/shm (memory) under the name the reader expects.

use std::path::PathBuf;

/// Writes `bytes` to this process's file named `name` and returns its path.
pub fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crmo-map-fuzz-{}", std::process::id()));
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm").join(dir.file_name().expect("named"))
    } else {
        dir
    };
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("the scratch file is written");
    path
}
