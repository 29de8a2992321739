//! One page's OCR split across idle workers, so that a lone page uses every core.
//!
//! When a worker reaches a page's OCR image while other workers wait for work, it asks Tesseract for
//! the page's layout (blocks in reading order), cuts the image into horizontal bands at blank rows
//! where the cut keeps that reading order, offers every band but the first to the idle workers
//! through the pool's queue, reads the first itself, and then reads any band nobody took. The bands'
//! lines are joined in band order, their boxes shifted back to the page.
//!
//! A cut is allowed only where every block before it in Tesseract's reading order lies wholly above
//! it and every block after it wholly below, except one text block it may cross between two of its
//! lines: full-width blank rows alone are not enough, since the lines of two columns side by side
//! line up and leave blank rows that run across both, and cutting there would interleave the
//! columns. Tables, pictures and vertical text are never cut.
//!
//! When no worker is idle (a batch), a page is read whole on its worker, exactly as one pass: the
//! layout analysis is not even run, so splitting costs a batch nothing. When a layout allows no cut,
//! the layout already found is read on, so the analysis is not wasted either.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use image::GrayImage;

use crate::ocr::{Block, BlockKind, Engine};
use crate::{PageText, Task};

/// A pixel of the OCR image (contrast stretched: paper 255, ink 0) darker than this is ink.
const INK: u8 = 128;

/// Fewest consecutive blank rows that make a gap between lines worth cutting in.
const MIN_GAP_ROWS: usize = 2;

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

    /// Puts a band in the queue for an idle worker; `false` when the queue is full or closing, and
    /// the caller then reads the band itself.
    fn offer(&self, band: Arc<Band>) -> bool {
        match self.queue.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(queue) => match queue.try_send(Task::Band(band)) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        }
    }

    /// Reads an OCR image at `dpi` on `engine`, split across the workers that are idle now, or whole
    /// when none is; boxes in the OCR image's pixels either way.
    pub(crate) fn read(&self, engine: &mut Engine, gray: &GrayImage, dpi: f32) -> Result<PageText, String> {
        let spare = self.spare();
        if spare == 0 {
            return engine.recognize(gray, dpi).map_err(|e| e.to_string());
        }
        // A layout that cannot be analysed is no reason to fail the page: it is read whole instead.
        let Ok(blocks) = engine.analyse(gray, dpi) else {
            return engine.recognize(gray, dpi).map_err(|e| e.to_string());
        };
        let cuts = cuts(&ink_rows(gray, &blocks), &blocks, spare + 1);
        if cuts.is_empty() {
            return engine.read_analysed().map_err(|e| e.to_string());
        }
        let mut bands = bands(gray, &cuts);
        let (reply, replies) = mpsc::channel();
        let offered: Vec<Arc<Band>> = bands
            .drain(1..)
            .enumerate()
            .map(|(i, (top, image))| {
                let band =
                    Arc::new(Band { index: i + 1, top, image: Mutex::new(Some(image)), dpi, reply: reply.clone() });
                // A band that could not be offered stays unclaimed, and is read below like any other.
                self.offer(Arc::clone(&band));
                band
            })
            .collect();
        let (top, image) = bands.pop().expect("the first band stays here");
        let mut texts: Vec<Option<(u32, PageText)>> = vec![None; offered.len() + 1];
        // On an error here the bands still waiting are claimed, so that no idle worker reads them for
        // nothing.
        let own = engine.recognize(&image, dpi).map_err(|e| e.to_string());
        texts[0] = Some((top, own.inspect_err(|_| offered.iter().for_each(|b| drop(b.claim())))?));
        for band in &offered {
            if let Some(image) = band.claim() {
                texts[band.index] = Some((band.top, engine.recognize(&image, dpi).map_err(|e| e.to_string())?));
            }
        }
        while texts.iter().any(Option::is_none) {
            // Every band not read here was claimed by a worker that is reading it and always replies;
            // the sender in each band keeps the channel open until then.
            let (index, text) = replies.recv().map_err(|_| "a worker reading a band stopped".to_owned())?;
            texts[index] = Some((offered[index - 1].top, text?));
        }
        self.split.fetch_add(1, Ordering::Relaxed);
        Ok(join(texts.into_iter().flatten()))
    }
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

/// Ink pixels per row of the OCR image, counted across the columns that the layout's text and
/// picture blocks span: rules and noise blocks (a scanner's dark edge) are left out, so that they do
/// not hide the gaps between lines.
fn ink_rows(gray: &GrayImage, blocks: &[Block]) -> Vec<u32> {
    let counted = blocks.iter().filter(|b| b.kind != BlockKind::Rule);
    let left = counted.clone().map(|b| b.left).min().unwrap_or(0).min(gray.width());
    let right = counted.map(|b| b.right).max().unwrap_or(0).min(gray.width());
    gray.rows()
        .map(|row| {
            row.skip(left as usize).take(right.saturating_sub(left) as usize).filter(|p| p[0] < INK).count() as u32
        })
        .collect()
}

/// Where to cut a page into at most `parts` bands: rows in the middle of blank gaps between lines at
/// which the layout's reading order is kept (see the module's doc), chosen so that the bands hold
/// about the same amount of ink, which is what OCR time follows. Empty when no cut is allowed.
fn cuts(ink: &[u32], blocks: &[Block], parts: usize) -> Vec<u32> {
    let candidates: Vec<u32> = gaps(ink).into_iter().filter(|&y| keeps_order(blocks, y)).collect();
    let total: u64 = ink.iter().map(|&n| n as u64).sum();
    if parts < 2 || candidates.is_empty() || total == 0 {
        return Vec::new();
    }
    // Ink above each row, so that a cut's share of the page is one look-up.
    let mut above = Vec::with_capacity(ink.len() + 1);
    above.push(0u64);
    for &n in ink {
        above.push(above.last().copied().unwrap_or(0) + n as u64);
    }
    let even = total as f64 / parts as f64;
    let mut chosen: Vec<u32> = Vec::new();
    for part in 1..parts {
        let target = even * part as f64;
        let distance = |y: &&u32| (above[**y as usize] as f64 - target).abs();
        let Some(&best) = candidates.iter().min_by(|a, b| distance(a).total_cmp(&distance(b))) else { break };
        chosen.push(best);
    }
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

/// The middle row of every run of at least [`MIN_GAP_ROWS`] blank rows that has ink above and below.
fn gaps(ink: &[u32]) -> Vec<u32> {
    let first = ink.iter().position(|&n| n > 0);
    let last = ink.iter().rposition(|&n| n > 0);
    let (Some(first), Some(last)) = (first, last) else { return Vec::new() };
    let mut middles = Vec::new();
    let mut run_start = None;
    for (y, &n) in ink.iter().enumerate().take(last + 1).skip(first) {
        match (n == 0, run_start) {
            (true, None) => run_start = Some(y),
            (false, Some(start)) => {
                if y - start >= MIN_GAP_ROWS {
                    middles.push(((start + y) / 2) as u32);
                }
                run_start = None;
            }
            _ => {}
        }
    }
    middles
}

/// Whether cutting at row `y` keeps the reading order: the blocks in reading order are wholly above
/// `y`, then at most one text block crossing it, then wholly below.
fn keeps_order(blocks: &[Block], y: u32) -> bool {
    // 0: still above the cut; 1: the crossing block was seen; 2: below.
    let mut state = 0;
    for block in blocks.iter().filter(|b| b.kind != BlockKind::Rule) {
        let now = if block.bottom <= y {
            0
        } else if block.top >= y {
            2
        } else if block.kind == BlockKind::Text && state == 0 {
            1
        } else {
            return false;
        };
        if now < state {
            return false;
        }
        state = now;
    }
    true
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
            // The top band keeps the page's own top margin instead of padding.
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

    fn block(kind: BlockKind, left: u32, top: u32, right: u32, bottom: u32) -> Block {
        Block { kind, left, top, right, bottom }
    }

    /// Ink rows of a page whose text lines are 30 rows of ink every 45 rows from row 100.
    fn lined(lines: usize) -> Vec<u32> {
        let mut ink = vec![0; 100 + lines * 45 + 100];
        for line in 0..lines {
            ink[100 + line * 45..130 + line * 45].iter_mut().for_each(|n| *n = 500);
        }
        ink
    }

    #[test]
    fn one_column_is_cut_between_lines_into_even_bands() {
        let ink = lined(20);
        let blocks = [block(BlockKind::Text, 100, 100, 1900, 100 + 20 * 45)];
        let cuts = cuts(&ink, &blocks, 2);
        // Ten lines above the cut, ten below, and the cut in the middle of the blank gap.
        assert_eq!(cuts, vec![100 + 9 * 45 + 30 + 7]);
        let three = super::cuts(&ink, &blocks, 3);
        assert_eq!(three.len(), 2, "{three:?}");
        assert!(three.iter().all(|&y| ink[y as usize] == 0));
    }

    #[test]
    fn columns_side_by_side_are_never_cut_though_their_lines_leave_blank_rows() {
        let ink = lined(20);
        let columns = [block(BlockKind::Text, 100, 100, 900, 1000), block(BlockKind::Text, 1000, 100, 1900, 1000)];
        assert_eq!(cuts(&ink, &columns, 2), Vec::<u32>::new());
        // A title across both columns can be cut off below it, where the columns start.
        let titled = [
            block(BlockKind::Text, 100, 100, 1900, 400),
            block(BlockKind::Text, 100, 415, 900, 1000),
            block(BlockKind::Text, 1000, 415, 1900, 1000),
        ];
        for y in cuts(&ink, &titled, 2) {
            assert!(y <= 415, "cut at {y}");
        }
    }

    #[test]
    fn tables_and_pictures_are_not_cut_but_blocks_after_them_are() {
        let ink = lined(20);
        let table = [block(BlockKind::Other, 100, 100, 1900, 1000)];
        assert!(cuts(&ink, &table, 2).is_empty());
        let table_then_text =
            [block(BlockKind::Other, 100, 100, 1900, 500), block(BlockKind::Text, 100, 505, 1900, 1000)];
        let cut = cuts(&ink, &table_then_text, 2);
        assert_eq!(cut.len(), 1);
        assert!(cut[0] >= 500, "{cut:?}");
    }

    #[test]
    fn reading_order_that_goes_back_up_forbids_the_cut() {
        // A side note read after the text although it stands beside the text's top half.
        let blocks = [block(BlockKind::Text, 100, 100, 1500, 1000), block(BlockKind::Text, 1600, 100, 1900, 300)];
        assert!(!keeps_order(&blocks, 500));
        assert!(keeps_order(&blocks[..1], 500));
    }

    #[test]
    fn little_text_is_not_split() {
        assert!(cuts(&lined(1), &[block(BlockKind::Text, 100, 100, 1900, 130)], 2).is_empty(), "one line");
        assert!(gaps(&[0, 0, 5, 0, 5, 0, 0]).is_empty(), "a one-row gap is inside a line");
        // Eight lines of a table, then a one-line footer: the only cut allowed would give the footer a
        // band of its own, too little to be worth a worker.
        let blocks = [block(BlockKind::Other, 100, 100, 1900, 460), block(BlockKind::Text, 100, 505, 1900, 535)];
        assert!(cuts(&lined(9), &blocks, 2).is_empty());
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
