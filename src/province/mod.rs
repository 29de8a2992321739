//! The province tier: what the appliance sends beyond itself. Each appliance stays autonomous (it
//! works with the province's link down, and its archive and log remain the source of truth); what
//! it archives is copied to the province's S3-compatible object store under Object Lock, so that
//! the copies can be neither deleted nor shortened, by sohoa or anyone, before their retention ends.
//!
//! Each office also publishes its documents to the province index (PostgreSQL), so that reuse lookup
//! and full-text search can be asked of the whole province; what another office holds is offered
//! only once its evidence, read from that office's bucket, verifies here against the keys pinned for
//! it in `[province] peers`.
//!
//! One file per concern: [`follow`] (following the archive's events from a cursor of one's own, in
//! chunks, and the lag: shared by replication and publication), [`object_store`] (the bucket,
//! through `aws-sdk-s3`), [`layout`] (which key holds what, locked until when), [`replicate`] (the
//! pass that copies to the store), [`remote_fixity`] (the store's copies checked against the
//! archive), [`index`] (the province index's schema and queries), [`publish`] (the pass that writes
//! to it), [`offers`] (another office's evidence fetched and verified), [`witness`] (the other offices' logs
//! checked from their published checkpoints) and [`task`] (replication, publication and the witness
//! in the background of `sohoa serve`). The operations are in
//! [`crate::ops::replication`] and [`crate::ops::province`].

pub mod follow;
pub mod index;
pub mod layout;
pub mod object_store;
pub mod offers;
pub mod publish;
pub mod remote_fixity;
pub mod replicate;
pub mod task;
pub mod witness;

pub use follow::Lag;
pub use index::ProvinceIndex;
pub use offers::{Peers, Verified};
pub use publish::Publisher;
pub use remote_fixity::{RemoteProblem, RemoteReport};
pub use replicate::{PassCounts, Replicator};
pub use witness::{PeerReport, Witness};
