//! The appliance's error: what went wrong, sorted by whose fault it is, so that the CLI can choose its
//! exit code and HTTP its status without guessing.

use thiserror::Error;

/// Why an appliance operation failed.
#[derive(Debug, Error)]
pub enum ApplianceError {
    /// The caller's input is wrong (a file, a field, a code). Nothing was changed.
    #[error("{0}")]
    Input(String),
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The data directory is in use by another process.
    #[error("{0}")]
    Busy(String),
    /// Something failed inside the appliance.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<domain::DomainError> for ApplianceError {
    fn from(e: domain::DomainError) -> Self {
        ApplianceError::Input(e.to_string())
    }
}

impl From<scanner_driver::DriverError> for ApplianceError {
    fn from(e: scanner_driver::DriverError) -> Self {
        use scanner_driver::{DriverError as D, Fault};
        match (&e, e.fault()) {
            (D::NoDevice { .. }, _) => ApplianceError::NotFound(e.to_string()),
            (D::Busy { .. }, _) => ApplianceError::Busy(e.to_string()),
            // A passing fault of the disk or the scanner is not the caller's input.
            (_, Fault::Transient) => ApplianceError::Internal(anyhow::Error::new(e)),
            (_, Fault::Input | Fault::Request | Fault::Device) => ApplianceError::Input(e.to_string()),
        }
    }
}

impl From<archive::ArchiveError> for ApplianceError {
    fn from(e: archive::ArchiveError) -> Self {
        match e {
            archive::ArchiveError::InUse { .. } => ApplianceError::Busy(e.to_string()),
            archive::ArchiveError::Domain(d) => d.into(),
            archive::ArchiveError::UnknownDocument(_) => ApplianceError::NotFound(e.to_string()),
            archive::ArchiveError::Refused { .. }
            | archive::ArchiveError::Retention(_)
            | archive::ArchiveError::DuplicateDocument(_)
            | archive::ArchiveError::Log(_)
            | archive::ArchiveError::RestoreFailed { .. } => ApplianceError::Input(e.to_string()),
            other => ApplianceError::Internal(other.into()),
        }
    }
}

impl From<search::SearchError> for ApplianceError {
    fn from(e: search::SearchError) -> Self {
        ApplianceError::Internal(e.into())
    }
}

impl From<capture::CaptureError> for ApplianceError {
    fn from(e: capture::CaptureError) -> Self {
        match e {
            capture::CaptureError::Input { ref source, .. } if source.fault() != scanner_driver::Fault::Transient => {
                ApplianceError::Input(e.to_string())
            }
            other => ApplianceError::Internal(other.into()),
        }
    }
}

impl From<signer::SignerError> for ApplianceError {
    fn from(e: signer::SignerError) -> Self {
        ApplianceError::Internal(e.into())
    }
}
