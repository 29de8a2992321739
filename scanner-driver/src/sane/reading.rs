//! Reading from a scanner: a batch on a thread of its own, into a bounded page stream, and each page
//! of it: one frame, or three from a three-pass scanner; short reads,
//! unknown page height and line padding handled; samples at 1, 8 or 16 bits.

use super::device::Scanner;
use super::ffi;
use super::options::{ScanSettings, Source, source_matches};
use super::status::status_error;
use crate::scanned::{Samples, ScannedPage, Side};
use crate::stream::{PageStream, Sink};
use crate::{Dpi, DriverError};

/// Pages a scan may deliver before the consumer takes them; a page of A4 at 300 dpi in gray is
/// about 9 MB, so this bounds a batch in flight to a few hundred megabytes.
const CHANNEL_PAGES: usize = 16;

impl Scanner {
    /// Scans a batch on a thread of its own: one page from the flatbed, or sheets from the feeder
    /// until it is empty. Pages arrive through the returned stream as they are read; a jam, an open
    /// cover or an I/O error ends the stream with an error naming the sheet, after the pages already
    /// scanned. Duplex sides are numbered per sheet.
    pub fn scan(mut self, settings: &ScanSettings) -> Result<PageStream<ScannedPage>, DriverError> {
        self.apply(settings)?;
        let source = self.options().into_iter().find(|o| o.name == "source").and_then(|o| o.value).unwrap_or_default();
        let feeder = settings.source.map_or_else(
            || source_matches(Source::Adf, &source) || source_matches(Source::AdfDuplex, &source),
            |s| s != Source::Flatbed,
        );
        let duplex = settings.source == Some(Source::AdfDuplex) || source_matches(Source::AdfDuplex, &source);
        // Options hold still during a batch: the resolution is read once, not per page.
        let dpi = self.resolution();
        let name = format!("scan {}", self.device);
        Ok(PageStream::spawn(&name, CHANNEL_PAGES, move |sink| self.run_batch(feeder, duplex, dpi, sink)))
    }

    fn run_batch(self, feeder: bool, duplex: bool, dpi: Dpi, sink: &Sink<ScannedPage>) {
        let mut index: u32 = 0;
        loop {
            let (sheet, side) = if duplex {
                (index / 2 + 1, if index.is_multiple_of(2) { Side::Front } else { Side::Back })
            } else {
                (index + 1, Side::Front)
            };
            if sink.cancelled() {
                sink.send(Err(DriverError::Cancelled { device: self.device.clone(), pages: index }));
                return;
            }
            // SAFETY: the handle is open and owned by this thread.
            let status = unsafe { ffi::sane_start(self.handle) };
            if status == ffi::SANE_STATUS_NO_DOCS && index > 0 {
                return;
            }
            if status != ffi::SANE_STATUS_GOOD {
                sink.send(Err(status_error(&self.device, sheet, "start", status)));
                return;
            }
            match self.read_page(sheet, side, dpi, sink) {
                Ok(mut page) => {
                    if side == Side::Back && self.quirks.back_rotated_180 {
                        page.rotate_180();
                    }
                    if !sink.send(Ok(page)) {
                        return;
                    }
                }
                Err(e) => {
                    sink.send(Err(e));
                    return;
                }
            }
            index += 1;
            if !feeder {
                return;
            }
        }
    }

    /// Reads one page: one frame, or three (red, green, blue) from a three-pass scanner.
    pub(super) fn read_page(
        &self,
        sheet: u32,
        side: Side,
        dpi: Dpi,
        sink: &Sink<ScannedPage>,
    ) -> Result<ScannedPage, DriverError> {
        let mut planes: [Option<Vec<u8>>; 3] = [None, None, None];
        loop {
            let mut p = ffi::SANE_Parameters {
                format: 0,
                last_frame: 0,
                bytes_per_line: 0,
                pixels_per_line: 0,
                lines: 0,
                depth: 0,
            };
            // SAFETY: valid handle, valid out-parameter.
            let status = unsafe { ffi::sane_get_parameters(self.handle, &mut p) };
            if status != ffi::SANE_STATUS_GOOD {
                return Err(status_error(&self.device, sheet, "read parameters", status));
            }
            let data = self.read_frame(&p, sheet, sink)?;
            let bad = |reason: String| DriverError::Sane { device: self.device.clone(), operation: "read", reason };
            let (width, stride) = (p.pixels_per_line.max(0) as usize, p.bytes_per_line.max(0) as usize);
            if width == 0 || stride == 0 {
                return Err(bad(format!("the scanner reported an empty line ({width} pixels, {stride} bytes)")));
            }
            // Lines may be unknown in advance (hand scanners, sheet-fed scanners that detect the
            // page end): the height is whatever arrived, whole lines only.
            let height = data.len() / stride;
            let page = |samples| ScannedPage {
                device: self.device.clone(),
                sheet,
                side,
                width: width as u32,
                height: height as u32,
                dpi,
                samples,
            };
            match p.format {
                // The common case, 8-bit gray without line padding, keeps the buffer as read.
                ffi::SANE_FRAME_GRAY if p.depth == 8 && stride == width => {
                    let mut data = data;
                    data.truncate(stride * height);
                    return Ok(page(Samples::Gray8(data)));
                }
                ffi::SANE_FRAME_GRAY => return Ok(page(unpad(&data, stride, height, width, 1, p.depth).map_err(bad)?)),
                ffi::SANE_FRAME_RGB => return Ok(page(unpad(&data, stride, height, width, 3, p.depth).map_err(bad)?)),
                ffi::SANE_FRAME_RED | ffi::SANE_FRAME_GREEN | ffi::SANE_FRAME_BLUE => {
                    planes[(p.format - ffi::SANE_FRAME_RED) as usize] = Some(data);
                    if p.last_frame != 0 {
                        let [Some(r), Some(g), Some(b)] = planes else {
                            return Err(bad("a three-pass scan ended without all three colour frames".into()));
                        };
                        let interleaved = interleave(&r, &g, &b, stride, height, width, p.depth).map_err(bad)?;
                        return Ok(page(interleaved));
                    }
                    // SAFETY: the next frame of the same page is started on the same handle.
                    let status = unsafe { ffi::sane_start(self.handle) };
                    if status != ffi::SANE_STATUS_GOOD {
                        return Err(status_error(&self.device, sheet, "start the next colour frame", status));
                    }
                }
                other => return Err(bad(format!("frame format {other} is not one SANE defines"))),
            }
        }
    }

    /// Reads a frame to its end, in whatever sizes the backend delivers (short reads are normal).
    fn read_frame(
        &self,
        p: &ffi::SANE_Parameters,
        sheet: u32,
        sink: &Sink<ScannedPage>,
    ) -> Result<Vec<u8>, DriverError> {
        let expected = if p.lines > 0 { p.lines as usize * p.bytes_per_line.max(0) as usize } else { 0 };
        let mut data = Vec::with_capacity(expected);
        let mut chunk = vec![0u8; 256 * 1024];
        let mut cancelling = false;
        loop {
            if !cancelling && sink.cancelled() {
                // SANE's way to stop mid-page: cancel, then read until the backend says so.
                self.cancel_frame();
                cancelling = true;
            }
            let mut len: ffi::SANE_Int = 0;
            // SAFETY: the chunk holds `chunk.len()` bytes and `len` receives the count read.
            let status =
                unsafe { ffi::sane_read(self.handle, chunk.as_mut_ptr(), chunk.len() as ffi::SANE_Int, &mut len) };
            match status {
                ffi::SANE_STATUS_GOOD => data.extend_from_slice(&chunk[..len.max(0) as usize]),
                ffi::SANE_STATUS_EOF => return Ok(data),
                ffi::SANE_STATUS_CANCELLED => {
                    return Err(DriverError::Cancelled { device: self.device.clone(), pages: sheet.saturating_sub(1) });
                }
                other => {
                    // The backend is reset for the next batch.
                    self.cancel_frame();
                    return Err(status_error(&self.device, sheet, "read", other));
                }
            }
        }
    }

    /// Cancels the frame being read. Backends that read in a thread of their own (`sanei_thread`:
    /// the test backend and many USB ones) cancel it asynchronously in `sane_cancel`; a reader
    /// cancelled inside malloc leaves its arena locked and the process hangs in the join. A cancel
    /// soon after `sane_start` (a jam reported by the first read, a person pressing stop) catches
    /// the reader exactly there, allocating its buffers: a pause lets it reach its blocking write
    /// first. Both wait for a person anyway.
    fn cancel_frame(&self) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        // SAFETY: valid handle, used by this thread alone.
        unsafe { ffi::sane_cancel(self.handle) };
    }

    pub(super) fn resolution(&self) -> Dpi {
        let opts = self.options();
        let get = |name: &str| {
            opts.iter()
                .find(|o| o.name == name)
                .and_then(|o| o.value.as_deref()?.split(',').next()?.parse::<f32>().ok())
        };
        let both = get("resolution").unwrap_or(0.0);
        Dpi { x: get("x-resolution").unwrap_or(both), y: get("y-resolution").unwrap_or(both), stated: both > 0.0 }
    }
}

/// Strips the padding at the end of each line and takes the samples at their depth (16-bit samples
/// arrive in the machine's byte order, as SANE specifies).
fn unpad(
    data: &[u8],
    stride: usize,
    height: usize,
    width: usize,
    channels: usize,
    depth: i32,
) -> Result<Samples, String> {
    let row_bytes = match depth {
        1 => (width * channels).div_ceil(8),
        8 => width * channels,
        16 => width * channels * 2,
        other => return Err(format!("bit depth {other} is not one SANE scanners deliver")),
    };
    if row_bytes > stride {
        return Err(format!("a line of {width} pixels needs {row_bytes} bytes but the scanner sends {stride}"));
    }
    let rows = || data.chunks_exact(stride).take(height).map(|r| &r[..row_bytes]);
    Ok(match (depth, channels) {
        (1, 1) => Samples::Bits(rows().flatten().copied().collect()),
        // 1-bit colour (one bit per channel) is rare enough to be widened to 8 bits.
        (1, _) => Samples::Rgb8(
            rows()
                .flat_map(|r| {
                    (0..width * channels).map(move |i| if r[i / 8] & (0x80 >> (i % 8)) != 0 { 0 } else { 255 })
                })
                .collect(),
        ),
        (8, 1) => Samples::Gray8(rows().flatten().copied().collect()),
        (8, _) => Samples::Rgb8(rows().flatten().copied().collect()),
        (_, 1) => {
            Samples::Gray16(rows().flat_map(|r| r.chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]]))).collect())
        }
        _ => Samples::Rgb16(rows().flat_map(|r| r.chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]]))).collect()),
    })
}

/// Interleaves the three planes of a three-pass scan into RGB.
fn interleave(
    r: &[u8],
    g: &[u8],
    b: &[u8],
    stride: usize,
    height: usize,
    width: usize,
    depth: i32,
) -> Result<Samples, String> {
    let [r, g, b] = [r, g, b].map(|plane| unpad(plane, stride, height, width, 1, depth));
    Ok(match (r?, g?, b?) {
        (Samples::Gray8(r), Samples::Gray8(g), Samples::Gray8(b)) => {
            Samples::Rgb8((0..r.len()).flat_map(|i| [r[i], g[i], b[i]]).collect())
        }
        (Samples::Gray16(r), Samples::Gray16(g), Samples::Gray16(b)) => {
            Samples::Rgb16((0..r.len()).flat_map(|i| [r[i], g[i], b[i]]).collect())
        }
        (Samples::Bits(r), Samples::Bits(g), Samples::Bits(b)) => {
            let bit = |plane: &[u8], i: usize| {
                if plane[(i / width) * width.div_ceil(8) + (i % width) / 8] & (0x80 >> (i % width % 8)) != 0 {
                    0
                } else {
                    255
                }
            };
            Samples::Rgb8((0..width * height).flat_map(|i| [bit(&r, i), bit(&g, i), bit(&b, i)]).collect())
        }
        _ => return Err("the three colour frames differ in depth".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_stripped_and_depths_read() {
        let data = [1, 2, 9, 3, 4, 9];
        assert_eq!(unpad(&data, 3, 2, 2, 1, 8).unwrap(), Samples::Gray8(vec![1, 2, 3, 4]));
        let sixteen: Vec<u8> = [0x1234u16, 0xabcd].iter().flat_map(|v| v.to_ne_bytes()).collect();
        assert_eq!(unpad(&sixteen, 4, 1, 2, 1, 16).unwrap(), Samples::Gray16(vec![0x1234, 0xabcd]));
        assert!(unpad(&data, 3, 2, 4, 1, 8).unwrap_err().contains("needs 4 bytes"));
    }
}
