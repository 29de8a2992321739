//! Scanners through libsane: device listing, options, and batches read on a thread of their own.
//!
//! SANE is initialised once per process and stays initialised: backends keep device state between
//! `sane_init` and `sane_exit`, and scanners come and go far more often than the process does. Which
//! backends load is SANE's configuration: `SANE_CONFIG_DIR` in the environment, read once at
//! initialisation.

mod ffi;

use std::ffi::{CStr, CString, c_void};
use std::os::raw::c_char;
use std::sync::{Mutex, OnceLock};

use crate::quirks::{QuirkRule, Quirks, quirks_for};
use crate::scanned::{Samples, ScannedPage, Side};
use crate::stream::{PageStream, Sink};
use crate::{Dpi, DriverError};

/// Pages a scan may deliver before the consumer takes them; a page of A4 at 300 dpi in gray is
/// about 9 MB, so this bounds a batch in flight to a few hundred megabytes.
const CHANNEL_PAGES: usize = 16;

/// A scanner SANE can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The name to open it by, e.g. `fujitsu:fi-8170:12345`, `airscan:e0:Brother`, `test:0`.
    pub name: String,
    /// The vendor.
    pub vendor: String,
    /// The model.
    pub model: String,
    /// The kind of device, e.g. `sheetfed scanner`, `flatbed scanner`, `virtual device`.
    pub kind: String,
}

/// Where a scan takes paper from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The glass.
    Flatbed,
    /// The automatic document feeder, front sides only.
    Adf,
    /// The automatic document feeder, both sides.
    AdfDuplex,
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "flatbed" => Ok(Source::Flatbed),
            "adf" => Ok(Source::Adf),
            "adf-duplex" | "duplex" => Ok(Source::AdfDuplex),
            other => Err(format!("unknown source {other:?}: expected flatbed, adf or adf-duplex")),
        }
    }
}

/// The colour mode asked for.
pub use crate::scanned::ColorMode;

impl std::str::FromStr for ColorMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "color" | "colour" => Ok(ColorMode::Color),
            "gray" | "grey" => Ok(ColorMode::Gray),
            "lineart" => Ok(ColorMode::Lineart),
            other => Err(format!("unknown mode {other:?}: expected color, gray or lineart")),
        }
    }
}

/// What a scan asks of the scanner; `None` leaves the device's current setting.
#[derive(Debug, Clone, Default)]
pub struct ScanSettings {
    /// Resolution in dpi.
    pub resolution: Option<u32>,
    /// Colour mode.
    pub mode: Option<ColorMode>,
    /// Paper source.
    pub source: Option<Source>,
    /// Scan area in millimetres (width, height) from the top left corner, e.g. (210, 297) for A4.
    pub page_mm: Option<(f64, f64)>,
    /// Further options by SANE name, set in order after the ones above.
    pub options: Vec<(String, String)>,
}

/// The value kinds of SANE options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// On or off.
    Bool,
    /// An integer.
    Int,
    /// A fixed-point number.
    Fixed,
    /// Text.
    Text,
    /// An action without a value.
    Button,
}

/// The values an option accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// Any value of its kind.
    None,
    /// A range, with a step (0 for any).
    Range {
        /// Lowest.
        min: f64,
        /// Highest.
        max: f64,
        /// Step.
        quant: f64,
    },
    /// One of these numbers.
    Numbers(Vec<f64>),
    /// One of these strings.
    Strings(Vec<String>),
}

/// One option of an open scanner.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanOption {
    /// Its SANE name, e.g. `resolution`, `mode`, `source`.
    pub name: String,
    /// Its title as the backend gives it.
    pub title: String,
    /// Its value kind.
    pub kind: OptionKind,
    /// Its current value as text, if it has one and is active.
    pub value: Option<String>,
    /// The values it accepts.
    pub constraint: Constraint,
    /// Whether software may set it now.
    pub settable: bool,
}

/// The process's SANE library, initialised on first use.
pub struct Sane {
    // Backends are not all safe to enter from several threads at once for listing and opening;
    // those calls are serialised. Reading runs on each device's own handle without it.
    lock: Mutex<()>,
}

fn status_text(status: ffi::SANE_Status) -> String {
    // SAFETY: sane_strstatus returns a pointer to a static string for every status.
    unsafe { CStr::from_ptr(ffi::sane_strstatus(status)) }.to_string_lossy().into_owned()
}

fn text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: SANE strings are NUL-terminated and live as long as the structure holding them.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

fn fixed_to_f64(w: ffi::SANE_Word) -> f64 {
    f64::from(w) / f64::from(1 << ffi::SANE_FIXED_SCALE_SHIFT)
}

fn f64_to_fixed(v: f64) -> ffi::SANE_Word {
    (v * f64::from(1 << ffi::SANE_FIXED_SCALE_SHIFT)).round() as ffi::SANE_Word
}

impl Sane {
    /// SANE, initialised once for the process.
    pub fn get() -> Result<&'static Sane, DriverError> {
        static SANE: OnceLock<Result<Sane, String>> = OnceLock::new();
        SANE.get_or_init(|| {
            let mut version: ffi::SANE_Int = 0;
            // SAFETY: no authorisation callback; the version is written to a valid integer.
            let status = unsafe { ffi::sane_init(&mut version, None) };
            if status == ffi::SANE_STATUS_GOOD { Ok(Sane { lock: Mutex::new(()) }) } else { Err(status_text(status)) }
        })
        .as_ref()
        .map_err(|reason| DriverError::Sane {
            device: "(SANE)".into(),
            operation: "initialise",
            reason: reason.clone(),
        })
    }

    /// The scanners SANE can reach now (local and network ones).
    pub fn devices(&self) -> Result<Vec<DeviceInfo>, DriverError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut list: *mut *const ffi::SANE_Device = std::ptr::null_mut();
        // SAFETY: SANE fills `list` with a NULL-terminated array valid until the next call, which the
        // lock keeps from happening while it is copied.
        let status = unsafe { ffi::sane_get_devices(&mut list as *mut _, 0) };
        if status != ffi::SANE_STATUS_GOOD {
            return Err(DriverError::Sane {
                device: "(all)".into(),
                operation: "list devices",
                reason: status_text(status),
            });
        }
        let mut devices = Vec::new();
        let mut i = 0;
        while !list.is_null() {
            // SAFETY: the array is NULL-terminated.
            let device = unsafe { *list.add(i) };
            if device.is_null() {
                break;
            }
            // SAFETY: a non-null entry points at a valid SANE_Device.
            let d = unsafe { &*device };
            devices.push(DeviceInfo {
                name: text(d.name),
                vendor: text(d.vendor),
                model: text(d.model),
                kind: text(d.type_),
            });
            i += 1;
        }
        Ok(devices)
    }

    /// Opens the scanner `name`, applying the first of `quirks` that matches its vendor and model.
    pub fn open(&self, name: &str, quirks: &[QuirkRule]) -> Result<Scanner, DriverError> {
        let c_name = CString::new(name).map_err(|_| DriverError::NoDevice { name: name.into(), known: vec![] })?;
        let mut handle: ffi::SANE_Handle = std::ptr::null_mut();
        let status = {
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            // SAFETY: a NUL-terminated name and a valid place for the handle.
            unsafe { ffi::sane_open(c_name.as_ptr(), &mut handle) }
        };
        // Listing devices can take seconds (network backends discover scanners on the LAN), so it
        // is done only when its answer is needed: to name the scanners there are, or to find this
        // one's vendor and model in a quirks table that has rules.
        if status != ffi::SANE_STATUS_GOOD {
            if status == ffi::SANE_STATUS_INVAL {
                let known: Vec<String> =
                    self.devices().map(|d| d.into_iter().map(|d| d.name).collect()).unwrap_or_default();
                if !known.iter().any(|k| k == name) {
                    return Err(DriverError::NoDevice { name: name.into(), known });
                }
            }
            return Err(status_error(name, 0, "open", status));
        }
        // The handle is owned from here, so that an error below still closes it.
        let mut scanner = Scanner { handle, device: name.to_owned(), quirks: Quirks::default() };
        if !quirks.is_empty()
            && let Some(d) = self.devices()?.into_iter().find(|d| d.name == name)
        {
            scanner.quirks = quirks_for(quirks, &d.vendor, &d.model);
        }
        Ok(scanner)
    }
}

/// Maps a SANE status to the error a user understands, naming the device and, mid-batch, the sheet.
fn status_error(device: &str, sheet: u32, operation: &'static str, status: ffi::SANE_Status) -> DriverError {
    let device = device.to_owned();
    match status {
        ffi::SANE_STATUS_JAMMED => DriverError::Jammed { device, sheet },
        ffi::SANE_STATUS_COVER_OPEN => DriverError::CoverOpen { device },
        ffi::SANE_STATUS_DEVICE_BUSY => DriverError::Busy { device },
        ffi::SANE_STATUS_NO_DOCS => DriverError::FeederEmpty { device },
        ffi::SANE_STATUS_CANCELLED => DriverError::Cancelled { device, pages: sheet.saturating_sub(1) },
        ffi::SANE_STATUS_IO_ERROR => DriverError::DeviceIo { device, operation },
        ffi::SANE_STATUS_NO_MEM => DriverError::NoMemory { device, operation },
        // Invalid or unsupported requests, denied access, and codes a newer SANE may add: the
        // request or the setup, with SANE's own words.
        _ => DriverError::Sane { device, operation, reason: status_text(status) },
    }
}

/// An open scanner. Dropping it closes the device.
pub struct Scanner {
    handle: ffi::SANE_Handle,
    device: String,
    quirks: Quirks,
}

// SAFETY: a SANE handle may be used from any thread as long as one thread at a time uses it; a
// `Scanner` is owned, and moved whole into the thread that scans.
unsafe impl Send for Scanner {}

impl Drop for Scanner {
    fn drop(&mut self) {
        // SAFETY: the handle is open and used by no one else.
        unsafe {
            ffi::sane_cancel(self.handle);
            ffi::sane_close(self.handle);
        }
    }
}

impl Scanner {
    /// The device name.
    pub fn device(&self) -> &str {
        &self.device
    }

    fn descriptor(&self, n: ffi::SANE_Int) -> Option<&ffi::SANE_Option_Descriptor> {
        // SAFETY: the backend returns NULL or a descriptor valid until options are reloaded, which
        // happens only through `&mut self`.
        unsafe { ffi::sane_get_option_descriptor(self.handle, n).as_ref() }
    }

    fn option_count(&self) -> ffi::SANE_Int {
        let mut count: ffi::SANE_Int = 0;
        // SAFETY: option 0 is the number of options, one SANE_Int.
        let status = unsafe {
            ffi::sane_control_option(
                self.handle,
                0,
                ffi::SANE_ACTION_GET_VALUE,
                &mut count as *mut _ as *mut c_void,
                std::ptr::null_mut(),
            )
        };
        if status == ffi::SANE_STATUS_GOOD { count } else { 0 }
    }

    /// Every named option with its value and constraint.
    pub fn options(&self) -> Vec<ScanOption> {
        (1..self.option_count())
            .filter_map(|n| {
                let d = self.descriptor(n)?;
                let name = text(d.name);
                let kind = match d.type_ {
                    ffi::SANE_TYPE_BOOL => OptionKind::Bool,
                    ffi::SANE_TYPE_INT => OptionKind::Int,
                    ffi::SANE_TYPE_FIXED => OptionKind::Fixed,
                    ffi::SANE_TYPE_STRING => OptionKind::Text,
                    ffi::SANE_TYPE_BUTTON => OptionKind::Button,
                    _ => return None,
                };
                if name.is_empty() {
                    return None;
                }
                let active = d.cap & ffi::SANE_CAP_INACTIVE as ffi::SANE_Int == 0;
                let value = if active && d.cap & ffi::SANE_CAP_SOFT_DETECT as ffi::SANE_Int != 0 {
                    self.value_text(n, d)
                } else {
                    None
                };
                Some(ScanOption {
                    name,
                    title: text(d.title),
                    kind,
                    value,
                    constraint: constraint(d),
                    settable: active && d.cap & ffi::SANE_CAP_SOFT_SELECT as ffi::SANE_Int != 0,
                })
            })
            .collect()
    }

    fn value_text(&self, n: ffi::SANE_Int, d: &ffi::SANE_Option_Descriptor) -> Option<String> {
        let mut buffer = vec![0u8; (d.size.max(4) as usize) + 1];
        // SAFETY: the buffer is at least the option's declared size.
        let status = unsafe {
            ffi::sane_control_option(
                self.handle,
                n,
                ffi::SANE_ACTION_GET_VALUE,
                buffer.as_mut_ptr() as *mut c_void,
                std::ptr::null_mut(),
            )
        };
        if status != ffi::SANE_STATUS_GOOD {
            return None;
        }
        let words = || {
            buffer
                .chunks_exact(4)
                .take((d.size as usize / 4).max(1))
                .map(|c| ffi::SANE_Word::from_ne_bytes(c.try_into().unwrap()))
        };
        Some(match d.type_ {
            ffi::SANE_TYPE_BOOL => (words().next()? != 0).to_string(),
            ffi::SANE_TYPE_INT => words().map(|w| w.to_string()).collect::<Vec<_>>().join(","),
            ffi::SANE_TYPE_FIXED => words().map(|w| format!("{}", fixed_to_f64(w))).collect::<Vec<_>>().join(","),
            ffi::SANE_TYPE_STRING => CStr::from_bytes_until_nul(&buffer).ok()?.to_string_lossy().into_owned(),
            _ => return None,
        })
    }

    /// Sets option `name` to `value` (text as `sohoa scanners --options` shows it), checked against
    /// the option's kind and constraint first, so that a wrong value is refused with what is allowed.
    pub fn set_option(&mut self, name: &str, value: &str) -> Result<(), DriverError> {
        let refuse = |reason: String| DriverError::Option { device: self.device.clone(), option: name.into(), reason };
        let found =
            (1..self.option_count()).find_map(|n| self.descriptor(n).filter(|d| text(d.name) == name).map(|d| (n, *d)));
        let Some((n, d)) = found else {
            return Err(refuse("the scanner has no such option".into()));
        };
        if d.cap & ffi::SANE_CAP_INACTIVE as ffi::SANE_Int != 0 {
            return Err(refuse("the option is inactive in the current mode".into()));
        }
        if d.cap & ffi::SANE_CAP_SOFT_SELECT as ffi::SANE_Int == 0 {
            return Err(refuse("the option cannot be set by software".into()));
        }
        let allowed = constraint(&d);
        let mut buffer: Vec<u8> = match d.type_ {
            ffi::SANE_TYPE_BOOL => {
                let on = match value {
                    "true" | "yes" | "1" | "on" => 1,
                    "false" | "no" | "0" | "off" => 0,
                    _ => return Err(refuse(format!("{value:?} is not true or false"))),
                };
                ffi::SANE_Word::to_ne_bytes(on).to_vec()
            }
            ffi::SANE_TYPE_INT | ffi::SANE_TYPE_FIXED => {
                let v: f64 = value.parse().map_err(|_| refuse(format!("{value:?} is not a number")))?;
                check_number(v, &allowed).map_err(refuse)?;
                let word = if d.type_ == ffi::SANE_TYPE_INT { v.round() as ffi::SANE_Word } else { f64_to_fixed(v) };
                // Array options (gamma tables and the like) take the value in every element.
                (0..(d.size as usize / 4).max(1)).flat_map(|_| word.to_ne_bytes()).collect()
            }
            ffi::SANE_TYPE_STRING => {
                if let Constraint::Strings(list) = &allowed
                    && !list.iter().any(|s| s == value)
                {
                    return Err(refuse(format!("{value:?} is not one of {}", list.join(", "))));
                }
                if value.len() + 1 > d.size as usize {
                    return Err(refuse(format!("{value:?} is longer than the {} bytes the option holds", d.size - 1)));
                }
                let mut b = vec![0u8; d.size as usize];
                b[..value.len()].copy_from_slice(value.as_bytes());
                b
            }
            ffi::SANE_TYPE_BUTTON => Vec::new(),
            _ => return Err(refuse("the option has no value".into())),
        };
        let mut info: ffi::SANE_Int = 0;
        let ptr = if buffer.is_empty() { std::ptr::null_mut() } else { buffer.as_mut_ptr() as *mut c_void };
        // SAFETY: the buffer has the option's declared size (or is NULL for a button).
        let status = unsafe { ffi::sane_control_option(self.handle, n, ffi::SANE_ACTION_SET_VALUE, ptr, &mut info) };
        if status != ffi::SANE_STATUS_GOOD {
            return Err(refuse(status_text(status)));
        }
        Ok(())
    }

    /// The string values option `name` accepts, if it is a string list.
    fn string_values(&self, name: &str) -> Vec<String> {
        self.options()
            .into_iter()
            .find(|o| o.name == name)
            .map(|o| match o.constraint {
                Constraint::Strings(list) => list,
                _ => Vec::new(),
            })
            .unwrap_or_default()
    }

    /// Applies `settings`: each is mapped onto the option names and values this backend offers
    /// (sources are called `ADF`, `ADF Front`, `Automatic Document Feeder`, … by different backends).
    pub fn apply(&mut self, settings: &ScanSettings) -> Result<(), DriverError> {
        if let Some(source) = settings.source {
            let values = self.string_values(ffi_name(ffi::SANE_NAME_SCAN_SOURCE));
            let wanted =
                values.iter().find(|v| source_matches(source, v)).cloned().ok_or_else(|| DriverError::Option {
                    device: self.device.clone(),
                    option: "source".into(),
                    reason: format!("the scanner offers no {source:?} source (it offers: {})", values.join(", ")),
                })?;
            self.set_option(ffi_name(ffi::SANE_NAME_SCAN_SOURCE), &wanted)?;
        }
        if let Some(mode) = settings.mode {
            let values = self.string_values(ffi_name(ffi::SANE_NAME_SCAN_MODE));
            let pick =
                |names: &[&str]| values.iter().find(|v| names.iter().any(|n| v.eq_ignore_ascii_case(n))).cloned();
            match mode {
                ColorMode::Color => self
                    .set_option("mode", &pick(&["Color", "Colour", "24bit Color"]).unwrap_or_else(|| "Color".into()))?,
                ColorMode::Gray => {
                    self.set_option("mode", &pick(&["Gray", "Grayscale", "Grey"]).unwrap_or_else(|| "Gray".into()))?
                }
                // Backends without a line-art mode (the test backend among them) scan it as 1-bit gray.
                ColorMode::Lineart => match pick(&["Lineart", "Binary", "Black & White"]) {
                    Some(v) => self.set_option("mode", &v)?,
                    None => {
                        self.set_option("mode", &pick(&["Gray"]).unwrap_or_else(|| "Gray".into()))?;
                        self.set_option(ffi_name(ffi::SANE_NAME_BIT_DEPTH), "1")?;
                    }
                },
            }
        }
        if let Some(dpi) = settings.resolution {
            self.set_option(ffi_name(ffi::SANE_NAME_SCAN_RESOLUTION), &dpi.to_string())?;
        }
        if let Some((w, h)) = settings.page_mm {
            // Sheet-fed backends size the paper with page-width/page-height, flatbeds only with the
            // scan area; each is set where the backend has it.
            let names: Vec<String> = self.options().into_iter().filter(|o| o.settable).map(|o| o.name).collect();
            for (name, value) in
                [("page-width", w), ("page-height", h), ("tl-x", 0.0), ("tl-y", 0.0), ("br-x", w), ("br-y", h)]
            {
                if names.iter().any(|n| n == name) {
                    self.set_option(name, &value.to_string())?;
                }
            }
        }
        for (name, value) in &settings.options {
            self.set_option(name, value)?;
        }
        Ok(())
    }

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
    fn read_page(
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

    fn resolution(&self) -> Dpi {
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

fn ffi_name(bytes: &'static [u8]) -> &'static str {
    // The SANE_NAME_* constants are NUL-terminated ASCII.
    std::str::from_utf8(bytes).unwrap_or_default().trim_end_matches('\0')
}

fn source_matches(source: Source, value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    let feeder = v.contains("adf") || v.contains("feeder");
    match source {
        Source::Flatbed => v.contains("flatbed") || v == "normal",
        Source::AdfDuplex => feeder && v.contains("duplex"),
        Source::Adf => feeder && !v.contains("duplex") && !v.contains("back"),
    }
}

fn constraint(d: &ffi::SANE_Option_Descriptor) -> Constraint {
    let number = |w: ffi::SANE_Word| if d.type_ == ffi::SANE_TYPE_FIXED { fixed_to_f64(w) } else { f64::from(w) };
    // SAFETY: the union member read is the one `constraint_type` names; lists are terminated as SANE
    // specifies (strings by NULL, words by their count in the first element).
    unsafe {
        match d.constraint_type {
            ffi::SANE_CONSTRAINT_RANGE if !d.constraint.range.is_null() => {
                let r = &*d.constraint.range;
                Constraint::Range { min: number(r.min), max: number(r.max), quant: number(r.quant) }
            }
            ffi::SANE_CONSTRAINT_WORD_LIST if !d.constraint.word_list.is_null() => {
                let list = d.constraint.word_list;
                let n = (*list).max(0) as usize;
                Constraint::Numbers((1..=n).map(|i| number(*list.add(i))).collect())
            }
            ffi::SANE_CONSTRAINT_STRING_LIST if !d.constraint.string_list.is_null() => {
                let list = d.constraint.string_list;
                let mut out = Vec::new();
                let mut i = 0;
                while !(*list.add(i)).is_null() {
                    out.push(text(*list.add(i)));
                    i += 1;
                }
                Constraint::Strings(out)
            }
            _ => Constraint::None,
        }
    }
}

fn check_number(v: f64, allowed: &Constraint) -> Result<(), String> {
    match allowed {
        Constraint::Range { min, max, .. } if v < *min || v > *max => Err(format!("{v} is outside {min}–{max}")),
        Constraint::Numbers(list) if !list.iter().any(|x| (x - v).abs() < 1e-6) => {
            Err(format!("{v} is not one of {}", list.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")))
        }
        _ => Ok(()),
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
    fn sources_are_recognised_across_backends() {
        assert!(source_matches(Source::Adf, "Automatic Document Feeder"));
        assert!(source_matches(Source::Adf, "ADF Front"));
        assert!(!source_matches(Source::Adf, "ADF Duplex"));
        assert!(source_matches(Source::AdfDuplex, "ADF Duplex"));
        assert!(source_matches(Source::Flatbed, "Flatbed"));
    }

    #[test]
    fn padding_is_stripped_and_depths_read() {
        let data = [1, 2, 9, 3, 4, 9];
        assert_eq!(unpad(&data, 3, 2, 2, 1, 8).unwrap(), Samples::Gray8(vec![1, 2, 3, 4]));
        let sixteen: Vec<u8> = [0x1234u16, 0xabcd].iter().flat_map(|v| v.to_ne_bytes()).collect();
        assert_eq!(unpad(&sixteen, 4, 1, 2, 1, 16).unwrap(), Samples::Gray16(vec![0x1234, 0xabcd]));
        assert!(unpad(&data, 3, 2, 4, 1, 8).unwrap_err().contains("needs 4 bytes"));
    }
}
