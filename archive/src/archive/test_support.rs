//! What the archive's unit tests share: an archive on a temporary directory sealed by the signer's
//! real key ring, reservations and new documents.

use std::path::Path;
use std::sync::Arc;

use domain::{
    BlobHash, DocumentCode, DocumentMetadata, DocumentTypeCode, MetadataDraft, OwnerId, UnitCode, Validity,
    VerificationToken, vietnam_now,
};

use super::{Archive, ArchiveOptions, CodeReservation};
use crate::{
    CapturedDocument, CapturedPage, DocumentRecord, DocumentStatus, Lifecycle, NewCapture, NewDocument, PageRecord,
    RetentionSchedule, SealRecord, Sealer,
};

/// The signer's real key ring as the archive's sealer.
pub(crate) struct RingSealer(pub signer::KeyRing);

impl Sealer for RingSealer {
    fn seal(&self, text: String) -> SealRecord {
        let s = self.0.sign_text(text);
        SealRecord { text: s.text, signature: s.signature.to_vec(), key: s.key.to_string() }
    }

    fn check(&self, seal: &SealRecord) -> Result<(), String> {
        let signature = seal.signature.as_slice().try_into().map_err(|_| "the signature is not 64 bytes".to_owned())?;
        let key = signer::KeyId::parse(&seal.key).map_err(|e| e.to_string())?;
        let sealed = signer::Sealed { text: seal.text.clone(), signature, key };
        self.0.verified_text(&sealed).map(|_| ()).map_err(|e| e.to_string())
    }
}

pub(crate) fn open(dir: &Path) -> Archive {
    let ring = signer::KeyRing::open_or_create(&dir.join("keys")).unwrap();
    let schedule = RetentionSchedule {
        default_class: "permanent".into(),
        classes: vec![crate::RetentionClass {
            id: "permanent".into(),
            name: "Vĩnh viễn".into(),
            legal_basis: "test".into(),
            period: crate::RetentionPeriod::Permanent,
            clock: crate::ClockStart::IssueDate,
        }],
        types: Default::default(),
    };
    Archive::open(
        &dir.join("db"),
        ArchiveOptions { sealer: Arc::new(RingSealer(ring)), schedule, origin: "sohoa/test".into() },
    )
    .unwrap()
}

pub(crate) fn unit() -> UnitCode {
    UnitCode::parse("H56.14").unwrap()
}

pub(crate) fn reserve(archive: &Archive) -> CodeReservation<'_> {
    archive
        .reserve_document_code(
            Some(&OwnerId::parse("001099012345").unwrap()),
            &DocumentTypeCode::parse("GPXD").unwrap(),
        )
        .unwrap()
}

pub(crate) fn new_document(reservation: &CodeReservation<'_>, pages: &[&[u8]]) -> NewDocument {
    new_document_coded(reservation.code().clone(), pages)
}

/// A captured document of `pages` under the reserved code, made from `source`.
pub(crate) fn capture_of(reservation: &CodeReservation<'_>, pages: &[&[u8]], source: Option<&str>) -> NewCapture {
    let doc = new_document(reservation, pages);
    NewCapture {
        document: CapturedDocument {
            code: doc.record.code,
            metadata: doc.record.metadata,
            pages: pages
                .iter()
                .map(|p| CapturedPage {
                    image: BlobHash::of(p),
                    origin: "scan".into(),
                    dpi: (300.0, 300.0),
                    dpi_stated: true,
                    seal: doc.record.seal.clone(),
                })
                .collect(),
            token: VerificationToken::from_random([7; 16]).to_string(),
            originals: Vec::new(),
            actor: "op".into(),
            source: source.map(str::to_owned),
            captured_at: vietnam_now(),
        },
        page_images: pages.iter().map(|p| p.to_vec()).collect(),
        originals: Vec::new(),
    }
}

/// A new document of `pages` under `code`.
pub(crate) fn new_document_coded(code: DocumentCode, pages: &[&[u8]]) -> NewDocument {
    let (owner, doc_type) = (code.owner().cloned(), code.doc_type().clone());
    let metadata = DocumentMetadata::new(MetadataDraft {
        doc_type,
        owner,
        name: "Giấy phép xây dựng".into(),
        number_symbol: None,
        issue_date: None,
        issuing_body: None,
        summary: None,
        validity: Validity::Permanent,
        validity_scope: None,
        dossier: None,
        procedure: None,
        operator: "op".into(),
        captured_at: vietnam_now(),
    })
    .unwrap();
    let pdf = format!("%PDF {code}").into_bytes();
    NewDocument {
        record: DocumentRecord {
            code,
            metadata,
            pages: pages
                .iter()
                .map(|p| PageRecord {
                    image: BlobHash::of(p),
                    stream: BlobHash::of(p),
                    mime: "image/png".into(),
                    size: (1, 1),
                    dpi: (300.0, 300.0),
                    text: String::new(),
                    flags: vec![],
                    seal: SealRecord { text: String::new(), signature: vec![0; 64], key: "0".repeat(16) },
                })
                .collect(),
            pdf: BlobHash::of(&pdf),
            pdf_size: 0,
            seal: SealRecord { text: String::new(), signature: vec![0; 64], key: "0".repeat(16) },
            status: DocumentStatus::Active,
            archived_at: vietnam_now(),
            lifecycle: Lifecycle::default(),
            originals: Vec::new(),
        },
        page_images: pages.iter().map(|p| p.to_vec().into()).collect(),
        pdf: pdf.into(),
        originals: Vec::new(),
        actor: "test".into(),
        source: None,
        verification: None,
    }
}
