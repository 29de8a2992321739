//! Decompression bombs are refused on their header, before any pixel buffer is allocated. A test binary
//! of its own, because it counts every allocation of the process through a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use sohoa_scanner_driver::{FileImporter, ImportLimits};

/// The system allocator, keeping the largest single allocation made since the last reset.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

#[test]
fn a_40000_by_40000_png_is_refused_before_decoding_allocates_it() {
    // A valid 1x1 PNG whose header is rewritten to declare 40,000 x 40,000 pixels (1.6 GB of gray).
    let mut bytes = Vec::new();
    image::GrayImage::from_pixel(1, 1, image::Luma([200])).write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes[16..20].copy_from_slice(&40_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&40_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());

    let importer = FileImporter::new(ImportLimits::default(), 300.0);
    LARGEST.store(0, Ordering::Relaxed);
    let e = importer.import_bytes(Path::new("huge.png"), bytes).unwrap_err().to_string();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(e.contains("huge.png") && e.contains("refused before decoding") && e.contains("40000"), "{e}");
    assert!(largest < 1 << 20, "the refusal allocated {largest} bytes at once");
}
