//! SANE's values in Rust terms: statuses as the driver's errors, C strings, fixed-point numbers.

use std::ffi::CStr;
use std::os::raw::c_char;

use super::ffi;
use crate::DriverError;

pub(super) fn status_text(status: ffi::SANE_Status) -> String {
    // SAFETY: sane_strstatus returns a pointer to a static string for every status.
    unsafe { CStr::from_ptr(ffi::sane_strstatus(status)) }.to_string_lossy().into_owned()
}

pub(super) fn text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: SANE strings are NUL-terminated and live as long as the structure holding them.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

pub(super) fn fixed_to_f64(w: ffi::SANE_Word) -> f64 {
    f64::from(w) / f64::from(1 << ffi::SANE_FIXED_SCALE_SHIFT)
}

pub(super) fn f64_to_fixed(v: f64) -> ffi::SANE_Word {
    (v * f64::from(1 << ffi::SANE_FIXED_SCALE_SHIFT)).round() as ffi::SANE_Word
}

/// Maps a SANE status to the error a user understands, naming the device and, mid-batch, the sheet.
pub(super) fn status_error(device: &str, sheet: u32, operation: &'static str, status: ffi::SANE_Status) -> DriverError {
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
