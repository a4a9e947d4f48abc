//! Bundles NiiVue (`@niivue/niivue` from npm, BSD-2-Clause) into the binary for the review
//! page. The package is pinned by `scripts/web/package-lock.json`; when
//! `scripts/web/node_modules` lacks it, `npm ci` installs it (once). Without npm the build
//! still succeeds: the review page then shows its static pictures and says why.

use std::path::{Path, PathBuf};
use std::process::Command;

const UMD: &str = "node_modules/@niivue/niivue/dist/niivue.umd.js";

fn main() {
    let web = Path::new("scripts/web");
    println!("cargo:rerun-if-changed=scripts/web/package-lock.json");
    println!("cargo:rerun-if-changed=scripts/web/{UMD}");
    println!("cargo:rustc-check-cfg=cfg(crmo_no_niivue)");
    let umd = web.join(UMD);
    if !umd.exists() {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(web)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            println!("cargo:warning=npm ci in scripts/web failed: the review page is built without NiiVue (static pictures only)");
        }
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("niivue.umd.js");
    match std::fs::read(&umd) {
        Ok(bytes) => std::fs::write(&out, bytes).expect("OUT_DIR is writable"),
        Err(_) => {
            std::fs::write(&out, b"").expect("OUT_DIR is writable");
            println!("cargo:rustc-cfg=crmo_no_niivue");
        }
    }
}
