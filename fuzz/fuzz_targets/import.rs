//! Any bytes, as any file a user or a scanner might hand in: splitting and decoding must return
//! (an error or pages), never panic, and never allocate beyond the import limits.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use scanner_driver::{FileImporter, ImportLimits};

fuzz_target!(|data: &[u8]| {
    let importer = FileImporter::new(ImportLimits { max_pixels: 20_000_000, ..ImportLimits::default() }, 300.0);
    if let Ok(pages) = importer.pages(Path::new("fuzz"), data.to_vec()) {
        for page in pages {
            let _ = page.decode();
        }
    }
});
