//! Scanners through libsane: device listing, options, and batches read on a thread of their own.
//!
//! SANE is initialised once per process and stays initialised: backends keep device state between
//! `sane_init` and `sane_exit`, and scanners come and go far more often than the process does. Which
//! backends load is SANE's configuration: `SANE_CONFIG_DIR` in the environment, read once at
//! initialisation.
//!
//! [`Sane`] lists and opens devices (here); an open [`Scanner`] is in `device`, its settings and
//! options in `options`, batches and pages read in `reading`, SANE's statuses and values in `status`.

mod ffi;

mod device;
mod options;
mod reading;
mod status;

use std::ffi::CString;
use std::sync::{Mutex, OnceLock};

pub use device::Scanner;
pub use options::{ColorMode, Constraint, OptionKind, ScanOption, ScanSettings, Source};
use status::{status_error, status_text, text};

use crate::DriverError;
use crate::quirks::{QuirkRule, Quirks, quirks_for};

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

/// The process's SANE library, initialised on first use.
pub struct Sane {
    // Backends are not all safe to enter from several threads at once for listing and opening;
    // those calls are serialised. Reading runs on each device's own handle without it.
    lock: Mutex<()>,
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
