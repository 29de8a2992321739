//! Following the archive's events from a durable cursor of one's own: what replication and
//! publication to the province index share. Events are written in the batch of each change, so the
//! events after a follower's cursor are its outbox: a crash, an unreachable peer or a week offline
//! leaves them there, and the next pass takes them.
//!
//! A pass takes the events in chunks and hands each chunk to the follower, already reduced to what
//! it names (each document once, at its last event in the chunk, since the record as it is now says
//! everything its earlier events did; each checkpoint). Only when the follower has done the chunk
//! does the cursor move past it, so a pass cut short is done again: a follower makes doing a chunk
//! twice write nothing new.

use std::collections::{BTreeMap, VecDeque};
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::time::Instant;

use archive::{Archive, Event};
use domain::DocumentCode;
use serde::Serialize;

use crate::ApplianceError;

/// Events taken at a time: the cursor moves after each chunk.
const CHUNK: usize = 64;
/// Observations of the event sequence kept to date the oldest pending event (see [`Lag`]).
const MAX_OBSERVATIONS: usize = 4096;

/// What one chunk of events names.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Each document named, with its last event in the chunk.
    pub documents: BTreeMap<DocumentCode, u64>,
    /// Each signed checkpoint named: (log size, audit entry).
    pub checkpoints: Vec<(u64, u64)>,
}

/// How far a follower is behind the archive.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lag {
    /// The last event the follower has done.
    pub followed_to: u64,
    /// The archive's last event.
    pub last_event: u64,
    /// Events not yet done.
    pub events_behind: u64,
    /// How long the oldest of them has waited, as this process saw it: from when it first saw the
    /// event sequence reach it, so at most since the process started.
    pub oldest_pending_seconds: u64,
}

/// A follower's cursor name, and what the running process knows of its lag.
pub struct Follower {
    name: &'static str,
    /// One pass at a time: the background task and an operation never interleave.
    passes: Mutex<()>,
    /// (last event seen, when first seen), oldest first: the oldest pending event is dated by the
    /// first observation that had reached it.
    observations: Mutex<VecDeque<(u64, Instant)>>,
}

impl Follower {
    /// The follower whose cursor the archive keeps under `name`.
    pub fn new(name: &'static str) -> Self {
        Follower { name, passes: Mutex::new(()), observations: Mutex::new(VecDeque::new()) }
    }

    /// How far the follower is behind, noting what the event sequence has reached now.
    pub fn lag(&self, archive: &Archive) -> Result<Lag, ApplianceError> {
        let done_to = archive.cursor(self.name)?;
        let last_event = archive.last_event();
        let mut seen = self.observations.lock().unwrap_or_else(|p| p.into_inner());
        if seen.back().is_none_or(|&(last, _)| last < last_event) && seen.len() < MAX_OBSERVATIONS {
            seen.push_back((last_event, Instant::now()));
        }
        // An observation that the cursor has passed dates nothing pending any more; the first one
        // left is the first that had reached the oldest pending event.
        while seen.front().is_some_and(|&(last, _)| last <= done_to) {
            seen.pop_front();
        }
        let oldest_pending_seconds = match seen.front() {
            Some(&(_, since)) if last_event > done_to => since.elapsed().as_secs(),
            _ => 0,
        };
        Ok(Lag {
            followed_to: done_to,
            last_event,
            events_behind: last_event.saturating_sub(done_to),
            oldest_pending_seconds,
        })
    }

    /// Hands every chunk of events after the cursor to `each` (with the chunk's last event), moving
    /// the cursor past a chunk only once `each` has done it.
    pub fn pass(
        &self,
        archive: &Archive,
        each: &mut dyn FnMut(Chunk, u64) -> Result<(), ApplianceError>,
    ) -> Result<(), ApplianceError> {
        let _one = self.passes.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let cursor = archive.cursor(self.name)?;
            let mut events = Vec::new();
            archive.events_after(cursor, &mut |seq, event| {
                events.push((seq, event));
                if events.len() == CHUNK { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            })?;
            let Some(&(last, _)) = events.last() else { return Ok(()) };
            let mut chunk = Chunk::default();
            for (seq, event) in events {
                match event {
                    Event::Archived(code) | Event::Changed(code) | Event::Destroyed(code) => {
                        chunk.documents.insert(code, seq);
                    }
                    Event::Checkpointed { size, audit_seq } => chunk.checkpoints.push((size, audit_seq)),
                }
            }
            each(chunk, last)?;
            archive.advance_cursor(self.name, last)?;
        }
    }
}
