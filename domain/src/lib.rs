//! The vocabulary every other sohoa crate speaks: validated identifiers (R4) and the metadata of a
//! digitized document (R3).
//!
//! Main types: [`OwnerId`] (12-digit personal identifier or enterprise/tax code), [`DossierCode`]
//! (`<unit>-YYMMDD-NNNN`), [`ResultCode`] (`<dossier>-KQ<n>`), [`DocumentCode`]
//! (`<owner>.<type>[.<NN>]`), [`ProcedureCode`], [`BlobHash`] (BLAKE3 of stored content),
//! [`VerificationToken`] (the secret a printed copy carries for public verification),
//! [`DocumentMetadata`] and [`AuditAction`] (what an audit entry says was done). Every value is
//! checked in its constructor, so a value of one of these types is valid wherever it travels; their
//! fields are private for that reason.
//!
//! This crate never does I/O, never reads the clock except where a function says so (`*_now`), and
//! never depends on another sohoa crate: it is the shared kernel the others build on.
#![deny(missing_docs)]

mod audit_action;
mod codes;
mod error;
mod hash;
mod hex;
mod metadata;
mod owner;
mod reason;
mod text;
mod token;

pub use audit_action::AuditAction;
pub use codes::{DocumentCode, DocumentTypeCode, DossierCode, ProcedureCode, ResultCode, UnitCode};
pub use error::DomainError;
pub use hash::BlobHash;
pub use hex::hex;
pub use metadata::{DocumentMetadata, MetadataDraft, Validity, vietnam_now, vietnam_offset};
pub use owner::{OwnerId, OwnerKind};
pub use reason::Reason;
pub use text::clean_text;
pub use token::VerificationToken;
