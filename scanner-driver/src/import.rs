//! Files as page sources: `FileImporter::pages` splits a PNG, JPEG, TIFF or PDF file into
//! `PendingPage`s, one per page, dispatching by format (TIFF in `tiff`, PDF in `pdf`), and
//! `PendingPage::decode` decodes each.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::importer::{describe_magic, sniff};
use crate::{DriverError, FileImporter, RawPage};

/// Where one page of a file is, found by [`FileImporter::pages`] and decoded by
/// [`PendingPage::decode`]: splitting a file is quick and checks its structure, decoding is the
/// expensive part and can run on another thread.
#[derive(Debug, Clone)]
pub struct PendingPage {
    importer: FileImporter,
    path: PathBuf,
    bytes: Arc<Vec<u8>>,
    at: PageAt,
}

#[derive(Debug, Clone)]
enum PageAt {
    /// The whole file is one image (PNG, JPEG).
    Image,
    /// The image file directory of this index.
    Tiff(usize),
    /// A page of a PDF.
    Pdf(crate::pdf::PdfPage),
}

impl PendingPage {
    /// The file and, for a multi-page file, the page: for messages.
    pub fn origin(&self) -> String {
        match &self.at {
            PageAt::Image => self.path.display().to_string(),
            PageAt::Tiff(i) => format!("{} page {}", self.path.display(), i + 1),
            PageAt::Pdf(p) => format!("{} page {}", self.path.display(), p.number),
        }
    }

    /// The whole file the page came from, when it is a PDF: its pages are taken apart (and some
    /// rendered), so the file itself is what shows the document as it came.
    pub fn pdf_file(&self) -> Option<&Arc<Vec<u8>>> {
        matches!(self.at, PageAt::Pdf(_)).then_some(&self.bytes)
    }

    /// Decodes the page fully, so that a damaged page fails now, before anything downstream has
    /// started on the document.
    pub fn decode(&self) -> Result<RawPage, DriverError> {
        self.clone().into_decoded()
    }

    /// [`decode`](Self::decode), giving the page up: a one-image file's bytes become the page's
    /// original without a copy when nothing else holds them, so that decoding a batch does not
    /// hold it twice.
    pub fn into_decoded(self) -> Result<RawPage, DriverError> {
        let origin = self.origin();
        let PendingPage { importer, path, bytes, at } = self;
        let importer = &importer;
        let mut page = match &at {
            PageAt::Image => {
                importer.decode_image(&path, Arc::try_unwrap(bytes).unwrap_or_else(|shared| (*shared).clone()))?
            }
            PageAt::Tiff(index) => crate::tiff::decode(importer, &path, &bytes, *index)?,
            PageAt::Pdf(p) => crate::pdf::decode(importer, &path, p)?,
        };
        page.origin = origin;
        if let Some(min) = importer.refuse_below_dpi() {
            let dpi = page.dpi.x.min(page.dpi.y);
            if page.dpi.stated && dpi < min {
                return Err(DriverError::LowResolution { origin: page.origin, dpi, min });
            }
        }
        Ok(page)
    }
}

impl FileImporter {
    /// Reads a file and decodes all its pages.
    pub fn import(&self, path: &Path) -> Result<Vec<RawPage>, DriverError> {
        let meta = std::fs::metadata(path).map_err(|source| DriverError::Read { path: path.into(), source })?;
        self.check_file_size(path, meta.len())?;
        let bytes = std::fs::read(path).map_err(|source| DriverError::Read { path: path.into(), source })?;
        self.pages(path, bytes)?.iter().map(PendingPage::decode).collect()
    }

    /// Splits the bytes of a file (`path` names it in messages) into its pages: one for PNG and
    /// JPEG, one per image file directory of a TIFF, one per page of a PDF. The structure is checked
    /// here: a file with no pages or too many is refused before any page is decoded.
    pub fn pages(&self, path: &Path, bytes: Vec<u8>) -> Result<Vec<PendingPage>, DriverError> {
        if bytes.is_empty() {
            return Err(DriverError::Empty { path: path.into() });
        }
        self.check_file_size(path, bytes.len() as u64)?;
        let bytes = Arc::new(bytes);
        let at: Vec<PageAt> = if sniff(&bytes).is_some() {
            vec![PageAt::Image]
        } else if bytes.starts_with(b"II*\0")
            || bytes.starts_with(b"MM\0*")
            || bytes.starts_with(b"II+\0")
            || bytes.starts_with(b"MM\0+")
        {
            (0..crate::tiff::count(self, path, &bytes)?).map(PageAt::Tiff).collect()
        } else if bytes.starts_with(b"%PDF-") {
            crate::pdf::pages(self, path, &bytes)?.into_iter().map(PageAt::Pdf).collect()
        } else {
            return Err(DriverError::UnsupportedFormat { path: path.into(), found: describe_magic(&bytes) });
        };
        if at.is_empty() {
            return Err(DriverError::Corrupt { path: path.into(), format: "file", reason: "it holds no pages".into() });
        }
        Ok(at
            .into_iter()
            .map(|at| PendingPage { importer: self.clone(), path: path.to_owned(), bytes: bytes.clone(), at })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::ImageFormat;

    use super::*;
    use crate::test_files::corpus;
    use crate::{ImportLimits, SourceFormat};

    fn importer() -> FileImporter {
        FileImporter::new(ImportLimits::default(), 300.0)
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::GrayImage::from_pixel(w, h, image::Luma([200]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn decodes_png_with_default_dpi() {
        let page = importer().decode_image(Path::new("a.png"), png(40, 30)).unwrap();
        assert_eq!(page.pixels.dimensions(), (40, 30));
        assert_eq!(page.format, SourceFormat::Png);
        assert!(!page.dpi.stated);
        assert_eq!(page.dpi.x, 300.0);
    }

    #[test]
    fn refuses_empty_unknown_and_truncated() {
        let e = importer().pages(Path::new("e.png"), vec![]).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = importer().pages(Path::new("t.txt"), b"hello world".to_vec()).unwrap_err();
        assert!(e.to_string().contains("not a PNG, JPEG, TIFF or PDF"), "{e}");
        let mut truncated = png(200, 200);
        truncated.truncate(truncated.len() / 2);
        let e = importer().pages(Path::new("t.png"), truncated).unwrap()[0].decode().unwrap_err();
        assert!(e.to_string().contains("damaged"), "{e}");
    }

    #[test]
    fn reads_corpus_dpi() {
        let page = importer().import(&corpus("jpeg200-001.jpg")).unwrap().remove(0);
        assert_eq!(page.format, SourceFormat::Jpeg);
        assert!(page.dpi.stated);
        assert_eq!(page.dpi.x.round(), 200.0);
        let page = importer().import(&corpus("clean300-001.png")).unwrap().remove(0);
        assert_eq!(page.dpi.x.round(), 300.0);
    }
}
