//! A document's life after capture (R7, R9): revocation, holds, retention class overrides, the daily
//! eligibility mark, review and two-person destruction under a council decision. Every step is a
//! person's decision recorded in the audit trail; nothing is ever deleted automatically.

use domain::AuditAction;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

use chrono::NaiveDate;
use domain::{BlobHash, DocumentCode, vietnam_now};

use super::{Archive, Staged};
use crate::encoding::{decode, decode_all, encode};
use crate::log::LeafKind;
use crate::{
    ArchiveError, CouncilDecision, Destruction, Disposition, DocumentRecord, DocumentStatus, Event, Hold, HoldScope,
    Revocation, SealRecord, Store, Table,
};

/// The outcome of reviewing an eligible document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    /// Approve it for destruction (a council decision is still needed).
    Approve,
    /// Keep it until a date, for a reason; it becomes eligible again after that day.
    KeepUntil {
        /// Until when.
        until: NaiveDate,
        /// Why.
        reason: String,
    },
}

/// The signed report of one destruction: what was destroyed, under which decision, by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestructionReport {
    /// The report as JSON, exactly as sealed.
    pub json: String,
    /// The seal over `json`.
    pub seal: SealRecord,
}

fn refuse(code: &DocumentCode, why: impl Into<String>) -> ArchiveError {
    ArchiveError::Refused { code: code.clone(), reason: why.into() }
}

fn require_text(code: &DocumentCode, what: &str, value: &str) -> Result<(), ArchiveError> {
    if value.trim().is_empty() {
        return Err(refuse(code, format!("a {what} is required")));
    }
    Ok(())
}

impl<S: Store> Archive<S> {
    fn record_or_refuse(&self, code: &DocumentCode) -> Result<DocumentRecord, ArchiveError> {
        self.record(code)?.ok_or_else(|| ArchiveError::UnknownDocument(code.clone()))
    }

    /// Refuses to destroy a document whose retention period has not ended by the real date today.
    /// Eligibility was marked on some earlier day, by a job or a person who may have named any day;
    /// destruction is judged again against the clock, whatever the record says.
    fn refuse_unless_due(&self, record: &DocumentRecord) -> Result<(), ArchiveError> {
        let today = vietnam_now().date_naive();
        match self.schedule.eligible_from(&record.lifecycle.retention_class, &record.metadata) {
            Some(from) if from <= today => Ok(()),
            Some(from) => Err(refuse(
                &record.code,
                format!(
                    "its retention period (class {}) has not ended: it may be destroyed from {from}, not today ({today})",
                    record.lifecycle.retention_class
                ),
            )),
            None => Err(refuse(
                &record.code,
                format!("its retention class {} never ends", record.lifecycle.retention_class),
            )),
        }
    }

    /// Reads a document, lets `change` alter its record, and stages the record with an event, an
    /// audit entry and (when `change` says so) a log leaf. Destroyed and held documents are refused
    /// before `change` runs unless `allow_held`.
    fn change_record(
        &self,
        code: &DocumentCode,
        actor: &str,
        action: AuditAction,
        allow_held: bool,
        change: impl FnOnce(&mut DocumentRecord) -> Result<(String, Option<LeafKind>), ArchiveError>,
    ) -> Result<DocumentRecord, ArchiveError> {
        self.exclusive(|a, s| {
            let mut record = a.record_or_refuse(code)?;
            if matches!(record.status, DocumentStatus::Destroyed(_)) {
                return Err(refuse(code, "it is destroyed"));
            }
            if record.is_held() && !allow_held {
                return Err(refuse(code, format!("it is held (hold {})", join_ids(&record.lifecycle.holds))));
            }
            let (detail, leaf) = change(&mut record)?;
            stage_change(s, &record, actor, action, &detail, leaf);
            Ok(record)
        })
    }

    /// Revokes a document (R7): its content is kept, its status says revoked from now on, and a log
    /// leaf records it. A held document cannot be revoked.
    pub fn revoke(&self, code: &DocumentCode, reason: &str, actor: &str) -> Result<DocumentRecord, ArchiveError> {
        require_text(code, "reason", reason)?;
        self.change_record(code, actor, AuditAction::Revoke, false, |r| {
            if r.status != DocumentStatus::Active {
                return Err(refuse(code, format!("it is {}", r.status.name())));
            }
            r.status = DocumentStatus::Revoked(Revocation {
                at: vietnam_now(),
                by: actor.to_owned(),
                reason: reason.to_owned(),
            });
            Ok((reason.to_owned(), Some(LeafKind::Revoked)))
        })
    }

    /// Overrides a document's retention class, with a reason.
    pub fn set_retention_class(
        &self,
        code: &DocumentCode,
        class: &str,
        reason: &str,
        actor: &str,
    ) -> Result<DocumentRecord, ArchiveError> {
        require_text(code, "reason", reason)?;
        if self.schedule.class(class).is_none() {
            return Err(ArchiveError::Retention(format!("unknown retention class {class:?}")));
        }
        self.change_record(code, actor, AuditAction::Retention, false, |r| {
            let detail = format!("{} -> {class}: {reason}", r.lifecycle.retention_class);
            r.lifecycle.retention_class = class.to_owned();
            r.lifecycle.retention_reason = Some(reason.to_owned());
            // A new class restarts the question of eligibility; the next daily run answers it.
            r.lifecycle.disposition = Disposition::Retained;
            Ok((detail, None))
        })
    }

    /// Places a hold on every document `scope` covers now, and on those archived under it later.
    /// Returns the hold and the documents it was placed on.
    pub fn place_hold(
        &self,
        scope: HoldScope,
        reason: &str,
        actor: &str,
    ) -> Result<(Hold, Vec<DocumentCode>), ArchiveError> {
        if reason.trim().is_empty() {
            return Err(ArchiveError::Retention("a hold needs a reason".into()));
        }
        self.exclusive(|a, s| {
            // The documents are listed inside the exclusive section: no commit is staged or being
            // written meanwhile, and every commit staged after it sees the hold among the writer's
            // holds, so no document of the scope escapes it.
            let codes = match &scope {
                HoldScope::Document(code) => vec![code.clone()],
                HoldScope::Owner(o) => a.documents_of(o)?,
                HoldScope::Dossier(d) => a.documents_of_dossier(d)?,
                HoldScope::Type(t) => a.documents_of_type(t)?,
            };
            let mut records = Vec::new();
            for code in &codes {
                let record = a.record_or_refuse(code)?;
                if !matches!(record.status, DocumentStatus::Destroyed(_)) {
                    records.push(record);
                }
            }
            let id = a.next_hold_id(s)?;
            let hold = Hold {
                id,
                scope: scope.clone(),
                reason: reason.to_owned(),
                by: actor.to_owned(),
                at: vietnam_now(),
                released: None,
            };
            s.batch.put(Table::Holds, id.to_be_bytes().to_vec(), encode(&hold));
            s.audit(actor, AuditAction::Hold, &format!("hold {id}"), &format!("{scope}: {reason}"));
            let mut held = Vec::new();
            for mut record in records {
                record.lifecycle.holds.push(id);
                stage_change(s, &record, actor, AuditAction::Hold, &format!("hold {id}: {reason}"), None);
                held.push(record.code);
            }
            s.state.holds.push(hold.clone());
            Ok((hold, held))
        })
    }

    /// Releases a hold from every document it is on.
    pub fn release_hold(&self, id: u64, actor: &str) -> Result<Vec<DocumentCode>, ArchiveError> {
        self.exclusive(|a, s| {
            let mut hold: Hold = match a.store.get(Table::Holds, &id.to_be_bytes())? {
                Some(v) => decode("hold", &id.to_be_bytes(), &v)?,
                None => return Err(ArchiveError::Retention(format!("there is no hold {id}"))),
            };
            if hold.released.is_some() {
                return Err(ArchiveError::Retention(format!("hold {id} is already released")));
            }
            let mut records = Vec::new();
            a.each_record(&mut |r| {
                if r.lifecycle.holds.contains(&id) {
                    records.push(r);
                }
                ControlFlow::Continue(())
            })?;
            hold.released = Some((vietnam_now(), actor.to_owned()));
            s.batch.put(Table::Holds, id.to_be_bytes().to_vec(), encode(&hold));
            s.audit(actor, AuditAction::Release, &format!("hold {id}"), &hold.scope.to_string());
            let mut released = Vec::new();
            for mut record in records {
                record.lifecycle.holds.retain(|h| *h != id);
                stage_change(s, &record, actor, AuditAction::Release, &format!("hold {id}"), None);
                released.push(record.code);
            }
            s.state.holds.retain(|h| h.id != id);
            Ok(released)
        })
    }

    /// The holds, active and released.
    pub fn holds(&self) -> Result<Vec<Hold>, ArchiveError> {
        decode_all(&self.store, Table::Holds, "hold")
    }

    /// The daily job: marks *eligible* every document whose retention period ended by `today` (and
    /// whose keep-until date passed), unless it is held or destroyed. Deletes nothing. Returns the
    /// documents it marked.
    pub fn mark_eligible(&self, today: NaiveDate, actor: &str) -> Result<Vec<DocumentCode>, ArchiveError> {
        self.exclusive(|a, s| {
            let due = a.due_on(today)?;
            let mut codes = Vec::new();
            for record in due {
                let detail = format!("retention class {} ended", record.lifecycle.retention_class);
                stage_change(s, &record, actor, AuditAction::Eligible, &detail, None);
                codes.push(record.code);
            }
            Ok(codes)
        })
    }

    /// The documents [`mark_eligible`](Self::mark_eligible) would mark on `day`, without marking
    /// anything: a look ahead for planning, which writes nothing and so may name any day.
    pub fn eligible_by(&self, day: NaiveDate) -> Result<Vec<DocumentCode>, ArchiveError> {
        Ok(self.due_on(day)?.into_iter().map(|r| r.code).collect())
    }

    /// The records that become eligible on `today`, their disposition already set to eligible.
    fn due_on(&self, today: NaiveDate) -> Result<Vec<DocumentRecord>, ArchiveError> {
        let mut due = Vec::new();
        self.each_record(&mut |mut r| {
            if matches!(r.status, DocumentStatus::Destroyed(_)) || r.is_held() {
                return ControlFlow::Continue(());
            }
            let from = self.schedule.eligible_from(&r.lifecycle.retention_class, &r.metadata);
            let mark = match &r.lifecycle.disposition {
                Disposition::Retained => from.filter(|d| *d <= today),
                Disposition::KeptUntil { until, .. } if *until < today => Some(today),
                _ => None,
            };
            if let Some(since) = mark {
                r.lifecycle.disposition = Disposition::Eligible(since);
                due.push(r);
            }
            ControlFlow::Continue(())
        })?;
        Ok(due)
    }

    /// The documents awaiting a disposition step (eligible, approved or requested), in code order.
    pub fn disposition_queue(&self) -> Result<Vec<DocumentRecord>, ArchiveError> {
        let mut queue = Vec::new();
        self.each_record(&mut |r| {
            let waiting = matches!(
                r.lifecycle.disposition,
                Disposition::Eligible(_) | Disposition::Approved { .. } | Disposition::Requested { .. }
            );
            if waiting && !matches!(r.status, DocumentStatus::Destroyed(_)) {
                queue.push(r);
            }
            ControlFlow::Continue(())
        })?;
        Ok(queue)
    }

    /// Records the review of an eligible document.
    pub fn review(&self, code: &DocumentCode, review: Review, actor: &str) -> Result<DocumentRecord, ArchiveError> {
        self.change_record(code, actor, AuditAction::Review, false, |r| {
            if !matches!(r.lifecycle.disposition, Disposition::Eligible(_)) {
                return Err(refuse(code, "it is not eligible for destruction"));
            }
            let (disposition, detail) = match review {
                Review::Approve => {
                    (Disposition::Approved { by: actor.to_owned() }, "approved for destruction".to_owned())
                }
                Review::KeepUntil { until, reason } => {
                    require_text(code, "reason to keep it", &reason)?;
                    let detail = format!("kept until {until}: {reason}");
                    (Disposition::KeptUntil { until, reason, by: actor.to_owned() }, detail)
                }
            };
            r.lifecycle.disposition = disposition;
            Ok((detail, None))
        })
    }

    /// Requests the destruction of an approved document under the valuation council's decision. A
    /// second person must confirm it ([`confirm_destruction`](Self::confirm_destruction)).
    pub fn request_destruction(
        &self,
        code: &DocumentCode,
        decision: CouncilDecision,
        actor: &str,
    ) -> Result<DocumentRecord, ArchiveError> {
        require_text(code, "council decision number", &decision.number)?;
        if decision.date > vietnam_now().date_naive() {
            return Err(refuse(code, format!("the council decision is dated {}, in the future", decision.date)));
        }
        self.change_record(code, actor, AuditAction::DestroyRequest, false, |r| {
            if !matches!(r.lifecycle.disposition, Disposition::Approved { .. }) {
                return Err(refuse(code, "it is not approved for destruction"));
            }
            self.refuse_unless_due(r)?;
            let detail = format!("council decision {} of {}", decision.number, decision.date);
            r.lifecycle.disposition = Disposition::Requested { decision, by: actor.to_owned() };
            Ok((detail, None))
        })
    }

    /// Confirms a requested destruction as the second person: the content blobs lose this
    /// document's references (a blob goes only when nothing else uses it), the record becomes a
    /// tombstone keeping metadata, hashes and the decision (the OCR text is removed), a log leaf is
    /// appended and a sealed report is returned. The files of the blobs that went are removed once
    /// that batch is durable.
    pub fn confirm_destruction(&self, code: &DocumentCode, actor: &str) -> Result<DestructionReport, ArchiveError> {
        let (report, released) = self.exclusive(|a, s| {
            let mut record = a.record_or_refuse(code)?;
            if matches!(record.status, DocumentStatus::Destroyed(_)) {
                return Err(refuse(code, "it is already destroyed"));
            }
            if record.is_held() {
                return Err(refuse(code, format!("it is held (hold {})", join_ids(&record.lifecycle.holds))));
            }
            let Disposition::Requested { decision, by: requested_by } = record.lifecycle.disposition.clone() else {
                return Err(refuse(code, "no destruction was requested under a council decision"));
            };
            if requested_by == actor {
                return Err(refuse(
                    code,
                    format!("{actor} requested the destruction; a second person must confirm it"),
                ));
            }
            a.refuse_unless_due(&record)?;
            let mut uses: BTreeMap<BlobHash, i64> = BTreeMap::new();
            for hash in record.blobs() {
                *uses.entry(hash).or_default() += 1;
            }
            let mut releases = Vec::new();
            for (hash, n) in uses {
                let stored = a.blob_refs(&hash)?;
                releases.push((hash, n, stored));
            }
            let at = vietnam_now();
            let json = serde_json::json!({
                "report": "sohoa-destruction/1",
                "document": code.to_string(),
                "name": record.metadata.name(),
                "type": record.metadata.doc_type().as_str(),
                "owner": record.metadata.owner().map(|o| o.as_str()),
                "pdf": record.pdf.to_hex(),
                "pages": record.pages.iter().map(|p| p.image.to_hex()).collect::<Vec<_>>(),
                "retention_class": record.lifecycle.retention_class,
                "decision": { "number": decision.number, "date": decision.date.to_string() },
                "requested_by": requested_by,
                "approved_by": actor,
                "destroyed_at": at.to_rfc3339(),
                "log_index": s.state.log.size(),
            })
            .to_string();
            let seal = s.seal(json.clone());
            let mut released = Vec::new();
            for (hash, n, stored) in releases {
                if stored <= n {
                    s.batch.delete(Table::Blobs, hash.as_bytes().to_vec());
                    s.batch.delete(Table::BlobRefs, hash.as_bytes().to_vec());
                    released.push(hash);
                } else {
                    s.batch.add(Table::BlobRefs, hash.as_bytes().to_vec(), -n);
                }
            }
            for page in &mut record.pages {
                page.text.clear();
            }
            record.status = DocumentStatus::Destroyed(Destruction {
                decision: decision.clone(),
                requested_by,
                approved_by: actor.to_owned(),
                at,
                report: seal.clone(),
            });
            s.record(&record);
            s.event(&Event::Destroyed(record.code.clone()));
            s.leaf(LeafKind::Destroyed, &record);
            s.audit(
                actor,
                AuditAction::Destroy,
                &code.to_string(),
                &format!("council decision {} of {}", decision.number, decision.date),
            );
            Ok((DestructionReport { json, seal }, released))
        })?;
        self.remove_released_files(&released);
        Ok(report)
    }

    /// Removes the files of blobs whose last reference a durable destruction removed, unless a
    /// commit staged since has given one a reference again; then counts the removal, under the
    /// writer lock, so that a commit that found one of these files before it went writes it again
    /// (see `commit`). A file that cannot be removed now is not an error of the destruction, which
    /// stands: with no reference, it is removed when the archive is next opened.
    pub(crate) fn remove_released_files(&self, released: &[BlobHash]) {
        let _ = self.exclusive(|a, _| {
            for hash in released {
                if a.blob_refs(hash).is_ok_and(|n| n <= 0) {
                    let _ = a.store.remove_blob_file(hash);
                }
            }
            a.blob_removals.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
    }

    /// The stored reference count of a blob (0 when it has none).
    pub fn blob_refs(&self, hash: &BlobHash) -> Result<i64, ArchiveError> {
        Ok(self
            .store
            .get(Table::BlobRefs, hash.as_bytes())?
            .and_then(|v| v.try_into().ok())
            .map(i64::from_le_bytes)
            .unwrap_or(0))
    }
}

/// Stages a changed record with its event, audit entry and, if any, log leaf.
fn stage_change(
    s: &mut Staged<'_>,
    record: &DocumentRecord,
    actor: &str,
    action: AuditAction,
    detail: &str,
    leaf: Option<LeafKind>,
) {
    s.record(record);
    s.event(&Event::Changed(record.code.clone()));
    if let Some(kind) = leaf {
        s.leaf(kind, record);
    }
    s.audit(actor, action, &record.code.to_string(), detail);
}

fn join_ids(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}
