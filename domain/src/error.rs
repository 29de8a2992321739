//! The domain's error: why a value is not a valid code, identifier or metadata.

use thiserror::Error;

/// Why a value was refused. Each variant names the kind of value, the input as given and the reason, so
/// that the message can be shown to an operator as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// An identifier or code did not have the form the law gives it.
    #[error("invalid {kind} {input:?}: {reason}")]
    InvalidCode {
        /// The kind of identifier, e.g. "owner ID" or "dossier code".
        kind: &'static str,
        /// The input as it was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A metadata field was missing, malformed or inconsistent with another field.
    #[error("invalid metadata field {field}: {reason}")]
    InvalidMetadata {
        /// The R3 field name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl DomainError {
    pub(crate) fn code(kind: &'static str, input: &str, reason: impl Into<String>) -> Self {
        DomainError::InvalidCode { kind, input: input.to_owned(), reason: reason.into() }
    }

    pub(crate) fn field(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::InvalidMetadata { field, reason: reason.into() }
    }
}
