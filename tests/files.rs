//! Test helpers that need nothing but the standard library: where the checkout and its test pages
//! are, and looking through files for bytes that must not be there.
//!
//! The root package's tests and benchmarks have it as a module (`util` re-exports it); the crates'
//! tests, which cannot depend on the root package, include this same file with
//! `#[path = "../../tests/files.rs"]`, so that every test finds the pages the same way.

use std::path::{Path, PathBuf};

/// The checkout's root directory: the directory of the package whose tests run, or its parent for
/// one of the crates (each is a directory directly below the root).
pub fn repo() -> PathBuf {
    // Read at run time: a build cache shared between checkouts keeps test binaries whose compile-time
    // path points at the checkout that built them.
    let package: PathBuf =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()).into();
    if env!("CARGO_PKG_NAME") == "sohoa" {
        package
    } else {
        package.parent().expect("a crate's directory is inside the checkout").to_owned()
    }
}

/// The test pages and their ground truth, `tests/data/pages` (its README says what each page is).
pub fn pages_dir() -> PathBuf {
    let dir = repo().join("tests/data/pages");
    assert!(dir.is_dir(), "the test pages are missing: no directory {}", dir.display());
    dir
}

/// A file of the test pages, by name; a missing one fails the test that asked for it.
pub fn corpus(name: &str) -> PathBuf {
    let path = pages_dir().join(name);
    assert!(path.is_file(), "test page {name} is missing: no file {}", path.display());
    path
}

/// The page images of the test pages, by name.
pub fn corpus_pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(pages_dir())
        .expect("the test pages' directory can be read")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".png") || n.ends_with(".jpg"))
        .collect();
    pages.sort();
    pages
}

/// Every byte of every regular file under `dir`, to look for what must not have leaked there.
pub fn all_bytes_under(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            out.extend(all_bytes_under(&entry.path()));
        } else if kind.is_file() {
            out.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    out
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
