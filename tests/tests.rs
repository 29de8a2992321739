//! End-to-end tests of the whole appliance, by theme. They run the real components: Tesseract, RocksDB,
//! tantivy, and poppler's `pdftotext` as an independent reader of the PDFs.

mod util;

mod bad_input;
mod http;
mod ingest;
