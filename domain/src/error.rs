//! The domain's error: why a value is not a valid code, identifier or metadata.

use thiserror::Error;

use crate::Reason;

/// Why a value was refused. Each variant names the kind of value, the input as given and the reason, so
/// that the message can be shown to an operator as it is. `Display` is English (the API's and the
/// command line's message); [`vi`](DomainError::vi) is the same refusal in Vietnamese, for forms.
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
        reason: Reason,
    },
    /// A metadata field was missing, malformed or inconsistent with another field.
    #[error("invalid metadata field {field}: {reason}")]
    InvalidMetadata {
        /// The R3 field name.
        field: &'static str,
        /// What is wrong with it.
        reason: Reason,
    },
}

impl DomainError {
    pub(crate) fn code(kind: &'static str, input: &str, reason: Reason) -> Self {
        DomainError::InvalidCode { kind, input: input.to_owned(), reason }
    }

    pub(crate) fn field(field: &'static str, reason: Reason) -> Self {
        DomainError::InvalidMetadata { field, reason }
    }

    /// Why the value was refused.
    pub fn reason(&self) -> &Reason {
        match self {
            DomainError::InvalidCode { reason, .. } | DomainError::InvalidMetadata { reason, .. } => reason,
        }
    }

    /// The refusal as a Vietnamese sentence, for a form to show next to the field: each reason's
    /// Vietnamese names the kind of value itself, so the input (which the field shows) is not
    /// repeated.
    pub fn vi(&self) -> &str {
        self.reason().vi()
    }
}
