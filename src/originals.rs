//! The files a document is captured from that are kept whole beside its pages: a PDF, whose pages
//! are taken apart and, when born digital, rendered, so that only the file itself shows the
//! document exactly as it came (its vector text, its form fields, its annotations).

use std::path::Path;
use std::sync::Arc;

use archive::OriginalFile;
use domain::BlobHash;
use scanner_driver::PendingPage;

/// Longest file name kept, in characters: a name is for people, and comes from outside.
const MAX_NAME_CHARS: usize = 255;

/// The original files noted while a request's files are split into pages.
#[derive(Default)]
pub(crate) struct Originals {
    files: Vec<Noted>,
}

struct Noted {
    name: String,
    bytes: Arc<Vec<u8>>,
    /// The document's page numbers (from 1) that came from the file.
    pages: Vec<u32>,
}

impl Originals {
    /// Notes the file at `path` split into `pages`, the document's pages after the `before` already
    /// noted, when it is a file to keep whole.
    pub(crate) fn note(&mut self, path: &Path, before: usize, pages: &[PendingPage]) {
        let Some(bytes) = pages.first().and_then(PendingPage::pdf_file) else { return };
        let name = path.file_name().map(|n| n.to_string_lossy().chars().take(MAX_NAME_CHARS).collect());
        self.files.push(Noted {
            name: name.unwrap_or_default(),
            bytes: bytes.clone(),
            pages: (before + 1..=before + pages.len()).map(|n| n as u32).collect(),
        });
    }

    /// The records of the files and their bytes, in the same order, with the pages (numbers from 1)
    /// for which `carries_text` says the file's own text is kept.
    pub(crate) fn into_records(self, carries_text: impl Fn(u32) -> bool) -> (Vec<OriginalFile>, Vec<Vec<u8>>) {
        self.files
            .into_iter()
            .map(|noted| {
                let text_pages = noted.pages.iter().copied().filter(|n| carries_text(*n)).collect();
                let bytes = Arc::unwrap_or_clone(noted.bytes);
                let record = OriginalFile {
                    blob: BlobHash::of(&bytes),
                    size: bytes.len() as u64,
                    name: noted.name,
                    pages: noted.pages,
                    text_pages,
                };
                (record, bytes)
            })
            .unzip()
    }
}
