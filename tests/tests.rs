//! End-to-end tests of the whole appliance, by theme. They run the real components: Tesseract, RocksDB,
//! tantivy, and independent checkers of the PDFs: poppler's `pdftotext`, `qpdf --check` and pikepdf's
//! PDF/A validator; SeaweedFS as the province's object store, PostgreSQL as the province index;
//! a three-server NATS JetStream cluster for the OCR offload.

mod api;
mod cer;
mod files;
mod nats;
mod object_store;
mod postgres;
mod util;

mod archive_commands;
mod bad_input;
mod capture;
mod capture_queue;
mod dashboard;
mod http;
mod ingest;
mod keys;
mod lan_auth;
mod lan_bag;
mod lan_hotfolder;
mod lan_medium;
mod lan_routes;
mod lan_service;
mod lan_signer;
mod lan_verify;
mod offload;
mod ops_parity;
mod pdf_import;
mod province;
mod province_index;
mod replication;
mod reuse;
mod scanning;
mod signing;
mod tidy;
mod web_ui;
mod witness;
