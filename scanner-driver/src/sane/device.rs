//! An open scanner: the device handle, used by one thread at a time and closed when dropped.

use super::ffi;
use crate::quirks::Quirks;

/// An open scanner. Dropping it closes the device.
pub struct Scanner {
    pub(super) handle: ffi::SANE_Handle,
    pub(super) device: String,
    pub(super) quirks: Quirks,
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
}
