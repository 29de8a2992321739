//! Poppler as a child process, for the PDF pages the importer cannot take as one scanned image it
//! decodes itself: born-digital and mixed pages, and scans in encodings it does not decode (JBIG2,
//! JPEG 2000, chained filters, indexed colour) or whose streams lopdf fails to inflate.
//!
//! `pdftoppm` renders a page to a PNG and `pdftotext -bbox-layout` reads the text it carries with
//! its words' boxes. Both are hostile-input parsers run on hostile input, so each runs under
//! `prlimit` (address space, CPU seconds and the size of any file it writes), is killed after a
//! wall-clock deadline, reads a copy of the file that this module wrote itself into a private
//! temporary directory (never a path that came with the input), and writes into that directory.
//! What they write is hostile too: the PNG is decoded under the importer's limits like any page
//! image, and the text is parsed with bounds on its size and number of words.

use std::fs::File;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::{CarriedText, CarriedWord, DriverError};

/// Most bytes of Poppler's messages read back: enough for the first errors, whatever it prints.
const MESSAGES_LIMIT: u64 = 64 << 10;

/// Most bytes a page's text may take as `pdftotext -bbox-layout` writes it (XHTML with a box for
/// every word): a dense page is about 200 kB.
const TEXT_LIMIT: u64 = 8 << 20;

/// Most words taken from one page's text; more is not a page but an attack on the parser.
const MAX_WORDS: usize = 50_000;

/// Address space a renderer may map beyond the page's own bitmap: Poppler, its libraries, fonts and
/// the document's parsed objects.
const BASE_MEMORY: u64 = 768 << 20;

/// How often a running renderer is checked for its end.
const POLL: Duration = Duration::from_millis(5);

/// Poppler's message prefixes that mean the file is damaged, as opposed to its warnings (a PDF
/// reader shows a page despite those) and messages of other libraries.
const DAMAGE: [&str; 4] = ["Syntax Error", "Internal Error", "I/O Error", "Permission Error"];

/// One PDF file handed to Poppler: written once into a private directory on its first page's
/// render, shared by the pages of the file (they are rendered on capture's threads). The directory
/// goes when the last page is done with it.
pub(crate) struct RenderFile {
    path: PathBuf,
    bytes: Arc<Vec<u8>>,
    written: OnceLock<Result<tempfile::TempDir, String>>,
    /// Wall-clock and CPU seconds one run of a tool may take.
    seconds: u64,
    /// Wall-clock seconds all runs on this file may take together, so that many pages each under
    /// their limit cannot add up to hours.
    file_seconds: u64,
    /// Milliseconds of wall-clock time the runs on this file have taken so far.
    spent_ms: AtomicU64,
}

impl std::fmt::Debug for RenderFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The file's bytes are the pending page's to show; here only what names the file.
        f.debug_struct("RenderFile").field("path", &self.path).field("seconds", &self.seconds).finish_non_exhaustive()
    }
}

impl RenderFile {
    /// A file to render from, `path` naming it in messages, each run of a tool limited to `seconds`
    /// and all of them to `file_seconds`; nothing is written before a page needs it.
    pub(crate) fn new(path: &Path, bytes: Arc<Vec<u8>>, seconds: u64, file_seconds: u64) -> Self {
        let spent_ms = AtomicU64::new(0);
        RenderFile { path: path.to_owned(), bytes, written: OnceLock::new(), seconds, file_seconds, spent_ms }
    }

    /// The private directory holding `in.pdf`, written on first use.
    fn dir(&self) -> Result<&Path, DriverError> {
        let written = self.written.get_or_init(|| {
            let dir = tempfile::Builder::new().prefix("sohoa-render-").tempdir().map_err(|e| e.to_string())?;
            std::fs::write(dir.path().join("in.pdf"), self.bytes.as_slice()).map_err(|e| e.to_string())?;
            Ok(dir)
        });
        match written {
            Ok(dir) => Ok(dir.path()),
            Err(e) => Err(DriverError::Renderer {
                path: self.path.clone(),
                what: format!("cannot write the file for the renderer: {e}"),
            }),
        }
    }

    /// Renders page `number` at `dpi` to a PNG of at most `pixels` pixels (already checked against
    /// the importer's limits from the page's box). The page comes out as a reader shows it, its
    /// `/Rotate` applied.
    pub(crate) fn render(&self, number: usize, dpi: f32, pixels: u64) -> Result<Vec<u8>, DriverError> {
        let dir = self.dir()?;
        let stem = format!("page-{number}");
        let page = number.to_string();
        let resolution = format!("{dpi:.2}");
        // Colour (3 bytes a pixel) at most, twice over for Splash's working copies.
        let memory = BASE_MEMORY + pixels.saturating_mul(6);
        let out = dir.join(format!("{stem}.png"));
        let file_limit = pixels.saturating_mul(4) + (1 << 20);
        let args = ["-png", "-r", &resolution, "-f", &page, "-l", &page, "-singlefile", "in.pdf", &stem];
        let result = self.run("pdftoppm", &args, number, memory, file_limit);
        let png = result.and_then(|()| read_bounded(&out, file_limit).map_err(|e| self.failed(number, e)));
        let _ = std::fs::remove_file(&out);
        png
    }

    /// The text page `number` carries, its boxes in the pixels of the page rendered at `dpi`, or
    /// `None` when it carries none that can be trusted (see [`trustworthy`]).
    pub(crate) fn text(&self, number: usize, dpi: f32) -> Result<Option<CarriedText>, DriverError> {
        let dir = self.dir()?;
        let page = number.to_string();
        let name = format!("page-{number}.html");
        let out = dir.join(&name);
        let args = ["-bbox-layout", "-enc", "UTF-8", "-f", &page, "-l", &page, "in.pdf", &name];
        let result = self.run("pdftotext", &args, number, BASE_MEMORY, TEXT_LIMIT);
        let xhtml = result.and_then(|()| read_bounded(&out, TEXT_LIMIT).map_err(|e| self.failed(number, e)));
        let _ = std::fs::remove_file(&out);
        let xhtml = String::from_utf8_lossy(&xhtml?).into_owned();
        let text = parse_bbox_layout(&xhtml, dpi / 72.0).map_err(|reason| self.damaged(number, reason))?;
        Ok(trustworthy(&text).then_some(text))
    }

    /// Runs a Poppler tool in the file's directory under the limits, and judges its outcome.
    fn run(&self, tool: &str, args: &[&str], number: usize, memory: u64, file_limit: u64) -> Result<(), DriverError> {
        let left_ms = (self.file_seconds * 1000).saturating_sub(self.spent_ms.load(Ordering::SeqCst));
        if left_ms == 0 {
            return Err(self.too_large(
                number,
                format!(
                    "rendering this file has taken more than {} seconds in all (max_render_file_seconds)",
                    self.file_seconds
                ),
            ));
        }
        let dir = self.dir()?;
        let messages_path = dir.join(format!("page-{number}-{tool}.log"));
        let messages = File::create(&messages_path).map_err(|e| self.failed(number, e))?;
        let mut child = Command::new("prlimit")
            .arg(format!("--as={memory}"))
            .arg(format!("--cpu={}", self.seconds))
            .arg(format!("--fsize={file_limit}"))
            .arg("--core=0")
            .arg("--")
            .arg(tool)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(messages)
            .spawn()
            .map_err(|e| DriverError::Renderer {
                path: self.path.clone(),
                what: format!("cannot start {tool}: {e}"),
            })?;
        let started = Instant::now();
        let deadline = started + Duration::from_secs(self.seconds).min(Duration::from_millis(left_ms));
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = std::fs::remove_file(&messages_path);
                    self.spent_ms.fetch_add(started.elapsed().as_millis() as u64, Ordering::SeqCst);
                    return Err(self.too_large(
                        number,
                        format!(
                            "{tool} took more than {:.1} seconds on it (the renderer's time limit, max_render_seconds and max_render_file_seconds)",
                            (deadline - started).as_secs_f32()
                        ),
                    ));
                }
                Err(e) => return Err(self.failed(number, e)),
            }
        };
        self.spent_ms.fetch_add(started.elapsed().as_millis() as u64, Ordering::SeqCst);
        let said = read_bounded(&messages_path, MESSAGES_LIMIT).unwrap_or_default();
        let _ = std::fs::remove_file(&messages_path);
        let said = String::from_utf8_lossy(&said);
        if let Some(line) = said.lines().find(|l| DAMAGE.iter().any(|d| l.starts_with(d))) {
            return Err(self.damaged(number, format!("{tool} reports: {}", cut(line))));
        }
        if status.success() {
            return Ok(());
        }
        match status.signal() {
            // SIGXCPU at the CPU limit, SIGXFSZ at the file size limit, SIGKILL past the CPU hard
            // limit, SIGSEGV or SIGABRT when an allocation failed under the address space limit.
            Some(signal) => Err(self.too_large(
                number,
                format!(
                    "{tool} was stopped by signal {signal}: the page needs more than the renderer may use ({memory} bytes of memory, {} CPU seconds, {file_limit} bytes of output)",
                    self.seconds
                ),
            )),
            None => {
                let first = said.lines().find(|l| !l.trim().is_empty()).map(cut).unwrap_or_default();
                Err(self.damaged(number, format!("{tool} failed ({status}) {first}")))
            }
        }
    }

    fn damaged(&self, number: usize, reason: impl std::fmt::Display) -> DriverError {
        DriverError::Corrupt { path: self.path.clone(), format: "PDF", reason: format!("page {number}: {reason}") }
    }

    fn too_large(&self, number: usize, reason: String) -> DriverError {
        DriverError::TooLarge { path: self.path.clone(), reason: format!("page {number}: {reason}") }
    }

    fn failed(&self, number: usize, e: impl std::fmt::Display) -> DriverError {
        DriverError::Renderer { path: self.path.clone(), what: format!("page {number}: {e}") }
    }
}

/// A line of a tool's messages, cut to a length fit for an error message.
fn cut(line: &str) -> String {
    line.chars().take(200).collect()
}

/// Reads a file the renderer wrote, refusing one larger than `limit` (its size limit should have
/// stopped it; this does not rely on that).
fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("the renderer wrote more than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// The value of attribute `name` in a tag's text, as a number.
fn attribute(tag: &str, name: &str) -> Option<f32> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    tag[start..start + len].parse().ok().filter(|v: &f32| v.is_finite())
}

/// The text of an XHTML element, its five predefined entities decoded (the only ones pdftotext
/// writes).
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// The words of `pdftotext -bbox-layout` output by line, boxes from points to pixels by `scale`.
fn parse_bbox_layout(xhtml: &str, scale: f32) -> Result<CarriedText, String> {
    let mut lines: Vec<Vec<CarriedWord>> = Vec::new();
    let mut words = 0;
    let mut rest = xhtml;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let end = rest.find('>').ok_or("its text layer ends inside a tag")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with("<line") {
            lines.push(Vec::new());
        } else if tag.starts_with("<word") {
            let close = rest.find("</word>").ok_or("its text layer has a word without its end")?;
            let text = unescape(&rest[..close]);
            rest = &rest[close..];
            words += 1;
            if words > MAX_WORDS {
                return Err(format!("its text layer has more than {MAX_WORDS} words"));
            }
            let [x0, y0, x1, y1] = ["xMin", "yMin", "xMax", "yMax"].map(|n| attribute(tag, n).unwrap_or(0.0).max(0.0));
            let px = |v: f32| (v * scale).round() as u32;
            let word = CarriedWord {
                text,
                left: px(x0),
                top: px(y0),
                width: px(x1).saturating_sub(px(x0)).max(1),
                height: px(y1).saturating_sub(px(y0)).max(1),
            };
            match lines.last_mut() {
                Some(line) => line.push(word),
                None => lines.push(vec![word]),
            }
        }
    }
    lines.retain(|l| !l.is_empty());
    Ok(CarriedText { lines })
}

/// Fewest letters a page's text must have to be taken instead of OCR.
const MIN_LETTERS: usize = 3;

/// Share of a page's characters that must be letters or digits of the scripts sohoa reads (Latin
/// with Vietnamese, and their combining marks).
const MIN_READABLE_SHARE: f32 = 0.6;

/// Characters from which a word is wider than high when it runs left to right, whatever its font
/// ("it;" may be narrower).
const LEVEL_WORD_CHARS: usize = 4;

/// Share of a page's words of [`LEVEL_WORD_CHARS`] or more that must run left to right (wider than
/// high).
const MIN_LEVEL_SHARE: f32 = 0.9;

/// Whether the text a page carries can stand for its visible content, so that OCR is not needed.
/// The rule: it has at least [`MIN_LETTERS`] letters; no character is a private-use code point, the
/// replacement character or a control character (what a font without a real Unicode mapping
/// gives); at least [`MIN_READABLE_SHARE`] of its characters are letters or digits of Latin script
/// (Vietnamese included) or combining marks; and at least [`MIN_LEVEL_SHARE`] of its words of
/// [`LEVEL_WORD_CHARS`] or more characters are level (a page whose text runs sideways is read, and
/// turned, by OCR).
pub(crate) fn trustworthy(text: &CarriedText) -> bool {
    let words: Vec<&CarriedWord> = text.lines.iter().flatten().collect();
    let chars = || words.iter().flat_map(|w| w.text.chars()).filter(|c| !c.is_whitespace());
    if chars()
        .any(|c| c.is_control() || c == '\u{FFFD}' || matches!(c, '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{10FFFF}'))
    {
        return false;
    }
    let latin = |c: char| {
        c.is_alphanumeric()
            && matches!(c, '0'..='9' | 'A'..='Z' | 'a'..='z' | '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}')
    };
    let total = chars().count();
    let letters = chars().filter(|c| c.is_alphabetic() && latin(*c)).count();
    let readable = chars().filter(|c| latin(*c) || matches!(c, '\u{300}'..='\u{36F}')).count();
    let long: Vec<&&CarriedWord> = words.iter().filter(|w| w.text.chars().count() >= LEVEL_WORD_CHARS).collect();
    let level = long.iter().filter(|w| w.width >= w.height).count();
    letters >= MIN_LETTERS
        && readable as f32 >= MIN_READABLE_SHARE * total as f32
        && level as f32 >= MIN_LEVEL_SHARE * long.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, width: u32, height: u32) -> CarriedWord {
        CarriedWord { text: text.into(), left: 0, top: 0, width, height }
    }

    fn page(words: &[(&str, u32, u32)]) -> CarriedText {
        CarriedText { lines: vec![words.iter().map(|(t, w, h)| word(t, *w, *h)).collect()] }
    }

    #[test]
    fn the_text_layer_is_read_by_line_with_boxes_in_pixels() {
        let xhtml = r#"<doc><page width="595.0" height="842.0"><flow><block><line xMin="1" yMin="2" xMax="3" yMax="4">
            <word xMin="72.0" yMin="72.0" xMax="144.0" yMax="90.0">Giấy</word><word xMin="150" yMin="72" xMax="200" yMax="90">A&amp;B</word>
            </line><line><word xMin="72" yMin="100" xMax="80" yMax="118">x</word></line></block></flow></page></doc>"#;
        let text = parse_bbox_layout(xhtml, 300.0 / 72.0).unwrap();
        assert_eq!(text.lines.len(), 2);
        let first = &text.lines[0][0];
        assert_eq!(
            (first.text.as_str(), first.left, first.top, first.width, first.height),
            ("Giấy", 300, 300, 300, 75)
        );
        assert_eq!(text.lines[0][1].text, "A&B");
        assert!(parse_bbox_layout("<word xMin=\"1\">never ends", 1.0).is_err());
    }

    #[test]
    fn text_is_trusted_only_when_it_is_real_level_latin_text() {
        assert!(trustworthy(&page(&[("Cộng", 40, 10), ("hòa", 30, 10), ("2024", 40, 10)])));
        // Nothing, or too little, to stand for a page.
        assert!(!trustworthy(&page(&[])));
        assert!(!trustworthy(&page(&[("1", 8, 10), ("ab", 16, 10)])));
        // A font without a Unicode mapping: private-use code points or replacement characters.
        assert!(!trustworthy(&page(&[("Cộng", 40, 10), ("\u{E012}\u{E013}", 30, 10)])));
        assert!(!trustworthy(&page(&[("Cộng", 40, 10), ("h\u{FFFD}a", 30, 10)])));
        // Mostly symbols: glyph names mapped to nonsense.
        assert!(!trustworthy(&page(&[("abc", 30, 10), ("#$%&*@!?", 60, 10)])));
        // Running top to bottom: the page is sideways as shown. Short words prove nothing either way.
        assert!(!trustworthy(&page(&[("Cộng", 10, 40), ("hòa", 10, 30), ("đồng", 10, 40)])));
        assert!(trustworthy(&page(&[("Cộng", 40, 10), ("it;", 8, 10), ("hòa", 30, 10)])));
    }
}
