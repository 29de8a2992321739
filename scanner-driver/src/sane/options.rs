//! Scan settings and device options: what a scan asks for (source, mode, resolution, area), the
//! options a backend offers with their constraints, and setting them checked against those
//! constraints, mapped onto each backend's names.

use std::ffi::{CStr, c_void};

use super::device::Scanner;
use super::ffi;
use super::status::{f64_to_fixed, fixed_to_f64, status_text, text};
use crate::DriverError;

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

impl Scanner {
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
}

fn ffi_name(bytes: &'static [u8]) -> &'static str {
    // The SANE_NAME_* constants are NUL-terminated ASCII.
    std::str::from_utf8(bytes).unwrap_or_default().trim_end_matches('\0')
}

pub(super) fn source_matches(source: Source, value: &str) -> bool {
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
}
