//! One page's OCR split across idle workers, so that a lone page uses every core.
//!
//! When a worker reaches a page's OCR image while other workers wait for work, it finds the image's
//! text lines from its row profile, cuts it into horizontal bands in the blank gaps between lines
//! where the cut keeps Tesseract's reading order, offers every band but the first to the idle
//! workers through the pool's queue, reads the first itself, and then reads any band nobody took.
//! The bands' lines are joined in band order, their boxes shifted back to the page.
//!
//! A cut goes only through blank rows between lines (never between a letter and its accent) that lie
//! in one column of text as wide as the page's text ([`keeps_order`] says why that keeps the order
//! and full-width blank rows alone do not); columns side by side, tables and side notes are never
//! cut. The analysis reads the image Tesseract is given, a few milliseconds of work, so a page that
//! allows no cut costs nothing more than one pass. Asking Tesseract's own layout analysis where to
//! cut, tried first, cost a fifth of the page's reading before any band was read.
//!
//! When no worker is idle (a batch), a page is read whole on its worker, exactly as one pass, so
//! splitting costs a batch nothing.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Mutex};

use image::GrayImage;

use crate::ocr::Engine;
use crate::{PageText, Task, preprocess};

/// A pixel of the OCR image (contrast stretched: paper 255, ink 0) darker than this is ink.
const INK: u8 = 128;

/// A blank gap shorter than a line's height divided by this lies between a letter and its accent (or
/// the dot under it), not between two lines. On the test pages at 200 dpi, lines are about 40 rows
/// high and 10 to 18 rows apart, while accents and dots stand 1 to 8 rows clear of their letters;
/// the few of those beyond a fifth of a line are caught by `text_lines` as runs too short for a line.
const ACCENT_GAP_DIVISOR: usize = 5;

/// Fewest text lines on a page worth splitting: with fewer, each band's own layout analysis and the
/// hand-over cost about what reading it elsewhere saves.
const MIN_LINES: usize = 6;

/// Lines looked at on either side of a cut for columns and tables.
const WINDOW_LINES: usize = 4;

/// White rows added above and below each band, so that its first and last lines sit in a margin as
/// they did on the page instead of touching the edge of the image Tesseract reads.
const BAND_PADDING: u32 = 16;

/// A band shorter in ink than this share of an even split is not worth a worker: it would cost its
/// engine's layout analysis for little text.
const MIN_BAND_SHARE: f64 = 0.25;

/// What the workers share to split pages between them: the way to offer a band to the pool, and
/// how many workers wait for work.
pub(crate) struct Crew {
    /// The pool's queue, for offering bands; `None` once the pool is closing.
    queue: Mutex<Option<SyncSender<Task>>>,
    /// Workers waiting for a task.
    idle: AtomicUsize,
    /// Pages handed to the queue and not yet taken by a worker: an idle worker will take one of
    /// these before any band, so it is not spare.
    pending: AtomicUsize,
    /// Pages whose OCR was split, since the pool started.
    split: AtomicU64,
}

impl Crew {
    /// A crew that offers bands through `queue`.
    pub(crate) fn new(queue: SyncSender<Task>) -> Self {
        Crew { queue: Mutex::new(Some(queue)), idle: 0.into(), pending: 0.into(), split: 0.into() }
    }

    /// Drops the crew's way into the queue, so that the queue closes once the pool's own sender goes.
    pub(crate) fn close(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// A worker starts waiting for a task.
    pub(crate) fn waiting(&self) {
        self.idle.fetch_add(1, Ordering::SeqCst);
    }

    /// A worker got a task (or the queue closed).
    pub(crate) fn working(&self) {
        self.idle.fetch_sub(1, Ordering::SeqCst);
    }

    /// A page is about to be queued.
    pub(crate) fn page_queued(&self) {
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    /// A queued page was taken by a worker, or never made it into the queue.
    pub(crate) fn page_taken(&self) {
        self.pending.fetch_sub(1, Ordering::SeqCst);
    }

    /// Pages whose OCR was split, since the pool started.
    pub(crate) fn pages_split(&self) -> u64 {
        self.split.load(Ordering::Relaxed)
    }

    /// Idle workers that no queued page will claim.
    fn spare(&self) -> usize {
        self.idle.load(Ordering::SeqCst).saturating_sub(self.pending.load(Ordering::SeqCst))
    }

    /// Puts a band in the queue for an idle worker. A band that does not fit (the queue is full, so
    /// work has come meanwhile) or comes while the pool closes stays unclaimed, and the worker that
    /// split the page reads it.
    fn offer(&self, band: Arc<Band>) {
        if let Some(queue) = self.queue.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = queue.try_send(Task::Band(band));
        }
    }

    /// Reads an OCR image at `dpi` on `engine`, split across the workers that are idle now, or whole
    /// when none is; boxes in the OCR image's pixels either way.
    pub(crate) fn read(&self, engine: &mut Engine, gray: &GrayImage, dpi: f32) -> Result<PageText, String> {
        let spare = self.spare();
        let cuts = if spare == 0 { Vec::new() } else { cuts(gray, spare + 1) };
        if cuts.is_empty() {
            return engine.recognize(gray, dpi).map_err(|e| e.to_string());
        }
        let mut bands = bands(gray, &cuts).into_iter();
        let (top, image) = bands.next().expect("a band above the first cut");
        let (reply, replies) = mpsc::channel();
        let offered: Vec<Arc<Band>> = bands
            .enumerate()
            .map(|(i, (top, image))| {
                let band =
                    Arc::new(Band { index: i + 1, top, image: Mutex::new(Some(image)), dpi, reply: reply.clone() });
                self.offer(Arc::clone(&band));
                band
            })
            .collect();
        let read = gather(engine, (top, image), dpi, &offered, &replies);
        // After a failure the bands still waiting are claimed, so that no worker reads them for nothing.
        if read.is_err() {
            offered.iter().for_each(|band| drop(band.claim()));
        } else {
            self.split.fetch_add(1, Ordering::Relaxed);
        }
        read
    }
}

/// Reads the top band (at `dpi`) on `engine`, then every offered band that no worker has claimed, then
/// waits for the others' readings, and joins them all.
fn gather(
    engine: &mut Engine,
    (top, image): (u32, GrayImage),
    dpi: f32,
    offered: &[Arc<Band>],
    replies: &mpsc::Receiver<(usize, Result<PageText, String>)>,
) -> Result<PageText, String> {
    let mut texts: Vec<Option<(u32, PageText)>> = vec![None; offered.len() + 1];
    texts[0] = Some((top, engine.recognize(&image, dpi).map_err(|e| e.to_string())?));
    for band in offered {
        if let Some(image) = band.claim() {
            texts[band.index] = Some((band.top, band.read(engine, &image)?));
        }
    }
    while texts.iter().any(Option::is_none) {
        // Every band not read here was claimed by a worker that is reading it and always replies; the
        // sender in each band keeps the channel open until then.
        let (index, text) = replies.recv().map_err(|_| "a worker reading a band stopped".to_owned())?;
        texts[index] = Some((offered[index - 1].top, text?));
    }
    Ok(join(texts.into_iter().flatten()))
}

/// One band of a split page, offered to the pool: whoever claims its image first reads it.
pub(crate) struct Band {
    /// Its place among the page's bands, 0 at the top.
    index: usize,
    /// The OCR image row that the band's first row (its padding included) stands for.
    top: u32,
    /// The band's pixels, until claimed.
    image: Mutex<Option<GrayImage>>,
    /// The OCR image's resolution.
    dpi: f32,
    /// Where the reading goes: the worker that split the page.
    reply: mpsc::Sender<(usize, Result<PageText, String>)>,
}

impl Band {
    /// Takes the band's pixels to read them; `None` when another worker already has.
    pub(crate) fn claim(&self) -> Option<GrayImage> {
        self.image.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Reads the band's claimed pixels on `engine`.
    pub(crate) fn read(&self, engine: &mut Engine, image: &GrayImage) -> Result<PageText, String> {
        engine.recognize(image, self.dpi).map_err(|e| e.to_string())
    }

    /// Hands the reading to the worker that split the page, which waits for it.
    pub(crate) fn reply(&self, reading: Result<PageText, String>) {
        // The splitting worker may have given up on the page already; then no one needs the reading.
        let _ = self.reply.send((self.index, reading));
    }

    /// The band's number on its page, 1 at the top, for error messages.
    pub(crate) fn number(&self) -> usize {
        self.index + 1
    }
}

/// Where to cut the OCR image into at most `parts` bands: rows in the middle of the blank gaps between
/// text lines where the reading order is sure to be kept ([`keeps_order`]), chosen so that the
/// bands hold about the same amount of ink, which is what OCR time follows. Empty when no cut is
/// allowed: too few lines, lines too close to part, or columns and tables throughout.
fn cuts(gray: &GrayImage, parts: usize) -> Vec<u32> {
    let w = gray.width() as usize;
    // Scanner borders and punched holes make long dark marks at the edges that are not text: the same
    // strip as `preprocess::lines` is left out.
    let columns = w / 20..w - w / 20;
    let rows: Vec<u32> = gray.as_raw().chunks_exact(w.max(1)).map(|row| ink_count(&row[columns.clone()])).collect();
    let total: u64 = rows.iter().map(|&n| n as u64).sum();
    let Some((lines, height)) = text_lines(&rows) else { return Vec::new() };
    if parts < 2 || total == 0 {
        return Vec::new();
    }
    let column_ink = |rows: Range<usize>| {
        let mut counts = vec![0u32; columns.len()];
        for row in gray.as_raw()[rows.start * w..rows.end * w].chunks_exact(w) {
            counts.iter_mut().zip(&row[columns.clone()]).for_each(|(count, &p)| *count += u32::from(p < INK));
        }
        counts
    };
    // A column is the page's text when it holds about a stroke of a line, so that dust does not widen it.
    let text = |counts: &[u32], least: u32| {
        Some((counts.iter().position(|&c| c >= least)?, counts.iter().rposition(|&c| c >= least)?))
    };
    let Some(page) = text(&column_ink(0..rows.len()), (height / 2) as u32) else { return Vec::new() };
    let shapes: Vec<Option<Shape>> = lines.iter().map(|line| Shape::of(&column_ink(line.clone()), height)).collect();
    let candidates: Vec<u32> = (1..lines.len())
        .filter(|&next| keeps_order(&shapes, page, height, next))
        .map(|next| ((lines[next - 1].end + lines[next].start) / 2) as u32)
        .collect();
    // Ink above each row, so that a cut's share of the page is one look-up.
    let mut above = Vec::with_capacity(rows.len() + 1);
    above.push(0u64);
    for &n in &rows {
        above.push(above.last().copied().unwrap_or(0) + n as u64);
    }
    let even = total as f64 / parts as f64;
    let mut chosen: Vec<u32> = (1..parts)
        .filter_map(|part| {
            let distance = |y: &&u32| (above[**y as usize] as f64 - even * part as f64).abs();
            candidates.iter().min_by(|a, b| distance(a).total_cmp(&distance(b))).copied()
        })
        .collect();
    chosen.sort_unstable();
    chosen.dedup();
    // Bands with too little ink are merged into the one above, by dropping the cut that opened them.
    let min_ink = even * MIN_BAND_SHARE;
    let mut kept: Vec<u32> = Vec::new();
    let mut start = 0u64;
    for &y in &chosen {
        if (above[y as usize] - start) as f64 >= min_ink {
            kept.push(y);
            start = above[y as usize];
        }
    }
    if let Some(&last) = kept.last()
        && ((total - above[last as usize]) as f64) < min_ink
    {
        kept.pop();
    }
    kept
}

/// The text lines of a row profile and their height, or `None` when there are too few lines to
/// split. A line's height is that of the taller runs of inked rows (their upper quartile), since
/// accents and dots may stand apart as short runs; gaps under a fifth of it are bridged, and a run
/// still shorter than half a line (accents far above their letters, a dot below, a rule) joins the
/// nearer of its neighbours, so that no cut ever parts a letter from its marks.
fn text_lines(rows: &[u32]) -> Option<(Vec<Range<usize>>, usize)> {
    let mut heights: Vec<usize> = preprocess::ink_runs(rows, 0).iter().map(Range::len).collect();
    heights.sort_unstable();
    let height = *heights.get(heights.len() * 3 / 4)?;
    let runs = preprocess::ink_runs(rows, height / ACCENT_GAP_DIVISOR);
    let mut lines: Vec<Range<usize>> = Vec::new();
    // The start of a fragment that joins the run after it.
    let mut carried: Option<usize> = None;
    for (i, run) in runs.iter().enumerate() {
        let run = carried.take().unwrap_or(run.start)..run.end;
        if run.len() * 2 < height {
            let before = lines.last().map(|line| run.start - line.end);
            let after = runs.get(i + 1).map(|next| next.start - run.end);
            match (before, after) {
                (Some(before), Some(after)) if after < before => carried = Some(run.start),
                (None, Some(_)) => carried = Some(run.start),
                (Some(_), _) => lines.last_mut().expect("a line before").end = run.end,
                (None, None) => lines.push(run),
            }
            continue;
        }
        lines.push(run);
    }
    (lines.len() >= MIN_LINES).then_some((lines, height))
}

/// How a text line spreads across the page: its first and last inked columns, and whether a gutter
/// runs through it.
#[derive(Debug, Clone, Copy)]
struct Shape {
    left: usize,
    right: usize,
    /// A blank strip half a line's height wide or more inside the line: wider than any space
    /// between words, so the line is in columns or a table.
    gutter: bool,
}

impl Shape {
    /// The shape of a line `height` rows high from its ink per column, `None` when it has none. A
    /// column with a single inked pixel is a speck, which must not bridge a gutter.
    fn of(counts: &[u32], height: usize) -> Option<Shape> {
        let left = counts.iter().position(|&c| c > 1)?;
        let right = counts.iter().rposition(|&c| c > 1)?;
        let widest_gap = counts[left..=right].split(|&c| c > 1).map(<[u32]>::len).max().unwrap_or(0);
        Some(Shape { left, right, gutter: widest_gap * 2 >= height })
    }
}

/// Whether cutting before line `next` keeps Tesseract's reading order, given the lines' shapes, the
/// page's text (first and last columns) and the lines' height.
///
/// Full-width blank rows alone do not: the lines of two columns side by side line up and leave blank
/// rows across both, and a cut there would interleave the columns. So the lines on one side of the
/// cut must be one column as wide as the page's text: no gutter in any of them, which rules out
/// columns and tables, and together they reach the page's text at both sides, which rules out a
/// column beside a block that ends above the cut (a side note, read after the whole column). No
/// block of Tesseract's can reach across such lines, so it reads everything above them before
/// everything below them, and the cut beside them keeps that order.
fn keeps_order(shapes: &[Option<Shape>], page: (usize, usize), height: usize, next: usize) -> bool {
    let one_wide_column = |side: &[Option<Shape>]| {
        let Some(side) = side.iter().copied().collect::<Option<Vec<Shape>>>() else { return false };
        let left = side.iter().map(|s| s.left).min().unwrap_or(usize::MAX);
        let right = side.iter().map(|s| s.right).max().unwrap_or(0);
        !side.is_empty() && !side.iter().any(|s| s.gutter) && left <= page.0 + height && right + height >= page.1
    };
    one_wide_column(&shapes[next.saturating_sub(WINDOW_LINES)..next])
        || one_wide_column(&shapes[next..(next + WINDOW_LINES).min(shapes.len())])
}

/// Ink pixels in a row of the OCR image.
fn ink_count(row: &[u8]) -> u32 {
    row.iter().filter(|&&p| p < INK).count() as u32
}

/// The OCR image cut at `cuts` (increasing rows), each band with white padding above and below, and
/// the page row that the band's first row stands for.
fn bands(gray: &GrayImage, cuts: &[u32]) -> Vec<(u32, GrayImage)> {
    let (w, h) = gray.dimensions();
    let edges: Vec<u32> = std::iter::once(0).chain(cuts.iter().copied()).chain(std::iter::once(h)).collect();
    edges
        .windows(2)
        .map(|edge| {
            let (top, bottom) = (edge[0], edge[1]);
            // The top band has the page's own margin above it; no band is padded above the page's top.
            let pad_top = BAND_PADDING.min(top);
            let mut band = GrayImage::from_pixel(w, bottom - top + pad_top + BAND_PADDING, image::Luma([255]));
            let rows = &gray.as_raw()[(top * w) as usize..(bottom * w) as usize];
            band.as_mut()[(pad_top * w) as usize..((pad_top + bottom - top) * w) as usize].copy_from_slice(rows);
            (top - pad_top, band)
        })
        .collect()
}

/// The lines of the bands in band order, boxes moved from each band to the page.
fn join(texts: impl Iterator<Item = (u32, PageText)>) -> PageText {
    let mut lines = Vec::new();
    for (top, text) in texts {
        lines.extend(text.lines.into_iter().map(|mut line| {
            line.top += top;
            line.words.iter_mut().for_each(|w| w.top += top);
            line
        }));
    }
    PageText { lines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_files::{corpus, corpus_pages};
    use crate::{Capture, Line, OcrConfig, Word};
    use image::ImageEncoder;
    use scanner_driver::{FileImporter, ImportLimits, RawPage};

    /// Reads `page` as a one-page document.
    fn read_alone(capture: &Capture, page: RawPage) -> PageText {
        let mut pages = capture.capture(vec![Box::new(move || Ok(page))], &mut |_| {}).expect("the page is read");
        pages.remove(0).text
    }

    /// One pass (one worker) and a split reading (two workers, the second idle) of each page.
    struct Readers {
        one_pass: Capture,
        split: Capture,
    }

    impl Readers {
        fn new() -> Self {
            let config = OcrConfig::system_default();
            let start = |workers| Capture::new(OcrConfig { workers, ..config.clone() }).expect("capture starts");
            Readers { one_pass: start(1), split: start(2) }
        }

        /// Reads `page` both ways and checks that the split reading is the one pass's: the same text,
        /// line by line and word by word. Tesseract's confidences may move by a few points and a box by
        /// a few pixels (its thresholds are local, and the bands' edges are new), so a word's box only
        /// has to keep its centre inside the one pass's box. Returns the one pass's text, whether the
        /// page was split, and how many words have a box or confidence that differ.
        fn compare(&self, name: &str, page: RawPage) -> (PageText, bool, usize) {
            let before = self.split.pages_split();
            let whole = read_alone(&self.one_pass, page.clone());
            let halves = read_alone(&self.split, page);
            assert!(!whole.lines.is_empty(), "{name}: no text read");
            assert_eq!(whole.plain(), halves.plain(), "{name}: the split reading differs from one pass");
            let words = |t: &PageText| t.lines.iter().flat_map(|l| l.words.clone()).collect::<Vec<_>>();
            let mut moved = 0;
            for (one, split) in words(&whole).iter().zip(&words(&halves)) {
                let centre = (split.left + split.width / 2, split.top + split.height / 2);
                assert!(
                    (one.left..one.left + one.width).contains(&centre.0)
                        && (one.top..one.top + one.height).contains(&centre.1),
                    "{name}: {split:?} is not where one pass found {one:?}"
                );
                moved += usize::from(one != split);
            }
            (whole, self.split.pages_split() > before, moved)
        }
    }

    #[test]
    fn a_split_page_reads_the_same_words_in_the_same_order_as_one_pass() {
        let importer = FileImporter::new(ImportLimits::default(), 300.0);
        let readers = Readers::new();
        let (mut words, mut moved) = (0, 0);
        for name in corpus_pages() {
            let page = importer.import(&corpus(&name)).expect("test page").remove(0);
            let (text, split, differing) = readers.compare(&name, page);
            assert!(split, "{name}: a one-column page with an idle worker was not split");
            words += text.lines.iter().map(|l| l.words.len()).sum::<usize>();
            moved += differing;
        }
        eprintln!("{moved} of {words} words with a box or confidence not exactly as one pass");
    }

    #[test]
    fn two_columns_side_by_side_read_as_one_pass_reads_them() {
        // Two test pages side by side, each cut at a blank row about 40% down: two columns whose lines
        // line up, so blank rows run across both, and a cut there would interleave the columns.
        let importer = FileImporter::new(ImportLimits::default(), 300.0);
        let gray = |name: &str| match importer.import(&corpus(name)).expect("test page").remove(0).pixels {
            scanner_driver::Pixels::Gray(g) => g,
            other => panic!("{name} is not gray: {other:?}"),
        };
        let (left, right) = (gray("clean300-001.png"), gray("clean300-002.png"));
        let blank = |g: &GrayImage, y: u32| g.rows().nth(y as usize).is_some_and(|mut r| r.all(|p| p[0] > 200));
        let height = (1400..left.height()).find(|&y| blank(&left, y) && blank(&right, y)).expect("a blank row");
        let mut both = GrayImage::from_pixel(left.width() + right.width(), height, image::Luma([255]));
        image::imageops::replace(
            &mut both,
            &image::imageops::crop_imm(&left, 0, 0, left.width(), height).to_image(),
            0,
            0,
        );
        let right_half = image::imageops::crop_imm(&right, 0, 0, right.width(), height).to_image();
        image::imageops::replace(&mut both, &right_half, left.width() as i64, 0);
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(both.as_raw(), both.width(), both.height(), image::ExtendedColorType::L8)
            .expect("PNG");
        let page = RawPage {
            origin: "two columns".into(),
            original: png,
            format: scanner_driver::SourceFormat::Png,
            components: 1,
            pixels: scanner_driver::Pixels::Gray(both),
            dpi: scanner_driver::Dpi { x: 300.0, y: 300.0, stated: true },
            text: None,
        };
        let (text, split, _) = Readers::new().compare("two columns", page);
        assert!(!split, "columns side by side were cut");
        // One pass reads the left column, then the right one, whose text starts with this.
        let right_starts = text.lines.iter().position(|l| l.words.first().is_some_and(|w| w.text == "61/2018/NĐ-CP."));
        assert!(
            right_starts.is_some_and(|i| i >= 10),
            "the columns were not read one after the other: {}",
            text.plain()
        );
    }

    /// A white OCR image `width` wide and `height` high.
    fn blank(width: u32, height: u32) -> GrayImage {
        GrayImage::from_pixel(width, height, image::Luma([255]))
    }

    /// Draws a line of text 30 rows high at row `top` from column `left` to `right`: words of varying
    /// width with 12-column spaces between them, which move from line to line as in real text.
    fn line(page: &mut GrayImage, top: u32, left: u32, right: u32) {
        let mut x = left;
        let mut word = top as usize;
        while x < right {
            let width = (40 + (word * 37) % 90) as u32;
            for y in top..top + 30 {
                for x in x..(x + width).min(right) {
                    page.put_pixel(x, y, image::Luma([0]));
                }
            }
            x += width + 12;
            word += 1;
        }
    }

    /// A page of `count` lines, 45 rows apart from row 100, across columns 150 to 1850.
    fn one_column(count: u32) -> GrayImage {
        let mut page = blank(2000, 200 + count * 45);
        (0..count).for_each(|i| line(&mut page, 100 + i * 45, 150, 1850));
        page
    }

    #[test]
    fn one_column_is_cut_between_lines_into_even_bands() {
        let page = one_column(20);
        // Ten lines above the cut, ten below, and the cut in the middle of the blank gap.
        assert_eq!(cuts(&page, 2), vec![100 + 9 * 45 + 30 + 7]);
        let three = cuts(&page, 3);
        assert_eq!(three.len(), 2, "{three:?}");
        assert!(three.iter().all(|&y| (y - 100) % 45 > 30), "{three:?}");
    }

    #[test]
    fn accents_standing_apart_from_their_letters_are_not_cut_off() {
        // Letters 28 rows high every 52 rows; above them accents 5 rows high, 3 rows clear of the
        // letters on even lines and 8 rows clear (farther than the gaps bridged) on odd lines.
        let mut page = blank(2000, 1300);
        for i in 0..20u32 {
            let top = 100 + i * 52;
            line(&mut page, top, 150, 1850);
            let clear = if i % 2 == 0 { 3 } else { 8 };
            for x in (200..1800).step_by(60) {
                for y in top - clear - 5..top - clear {
                    (x..x + 8).for_each(|x| page.put_pixel(x, y, image::Luma([0])));
                }
            }
        }
        // `line` draws 30 rows: the letters end 30 rows down, the next accents start 39 rows down.
        for parts in [2, 3, 4] {
            let cuts = cuts(&page, parts);
            assert_eq!(cuts.len(), parts - 1, "{cuts:?}");
            for y in cuts {
                assert!((30..39).contains(&((y - 100) % 52)), "cut at {y} parts a line from its accents");
            }
        }
    }

    #[test]
    fn columns_side_by_side_are_never_cut_though_their_lines_leave_blank_rows() {
        let mut page = blank(2000, 1100);
        for i in 0..20 {
            line(&mut page, 100 + i * 45, 150, 950);
            line(&mut page, 100 + i * 45, 1050, 1850);
        }
        assert!(cuts(&page, 2).is_empty());
        // Under the columns, a page-wide paragraph: it may be cut off from them, but not inside them.
        let mut page = blank(2000, 2100);
        for i in 0..20 {
            line(&mut page, 100 + i * 45, 150, 950);
            line(&mut page, 100 + i * 45, 1050, 1850);
            line(&mut page, 1100 + i * 45, 150, 1850);
        }
        let cuts = cuts(&page, 2);
        assert_eq!(cuts.len(), 1);
        assert!(cuts[0] > 100 + 19 * 45 + 30, "cut at {} is among the columns", cuts[0]);
    }

    #[test]
    fn a_column_beside_a_side_note_is_not_cut_below_the_note() {
        // The note is read after the whole column, so no cut through the column keeps that order.
        let mut page = blank(2000, 1100);
        for i in 0..20 {
            line(&mut page, 100 + i * 45, 150, 1450);
        }
        for i in 0..4 {
            line(&mut page, 100 + i * 45, 1600, 1850);
        }
        assert!(cuts(&page, 2).is_empty());
    }

    #[test]
    fn a_table_is_not_cut_between_its_rows() {
        let mut page = blank(2000, 1100);
        for i in 0..20 {
            for (left, right) in [(150, 400), (600, 1200), (1400, 1850)] {
                line(&mut page, 100 + i * 45, left, right);
            }
        }
        assert!(cuts(&page, 2).is_empty());
    }

    #[test]
    fn little_text_is_not_split() {
        assert!(cuts(&one_column(MIN_LINES as u32 - 1), 2).is_empty());
        assert!(cuts(&blank(2000, 3000), 2).is_empty());
        // Twelve lines of a table, then a line across the page: the only cut allowed would give that
        // line a band of its own, too little to be worth a worker.
        let mut page = blank(2000, 1000);
        for i in 0..12 {
            for (left, right) in [(150, 700), (1000, 1850)] {
                line(&mut page, 100 + i * 45, left, right);
            }
        }
        line(&mut page, 100 + 14 * 45, 150, 1850);
        assert!(cuts(&page, 2).is_empty());
    }

    #[test]
    fn bands_cover_the_page_and_boxes_go_back_to_it() {
        let mut gray = GrayImage::from_pixel(50, 100, image::Luma([255]));
        gray.put_pixel(10, 70, image::Luma([0]));
        let bands = bands(&gray, &[40]);
        assert_eq!(bands.len(), 2);
        assert_eq!((bands[0].0, bands[0].1.height()), (0, 40 + BAND_PADDING));
        let (top, band) = &bands[1];
        assert_eq!(*top, 40 - BAND_PADDING);
        assert_eq!(band.get_pixel(10, 70 - top)[0], 0, "the ink lands where the offset says");
        let word = |top| Word { text: "x".into(), left: 10, top, width: 5, height: 5, confidence: 90.0 };
        let line = |top| PageText { lines: vec![Line { top, height: 5, words: vec![word(top)] }] };
        let joined = join([(0, line(3)), (*top, line(70 - top))].into_iter());
        assert_eq!(joined.lines.iter().map(|l| l.words[0].top).collect::<Vec<_>>(), vec![3, 70]);
    }
}
