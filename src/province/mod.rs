//! The province tier: what the appliance sends beyond itself. Each appliance stays autonomous (it
//! works with the province's link down, and its archive and log remain the source of truth); what
//! it archives is copied to the province's S3-compatible object store under Object Lock, so that
//! the copies can be neither deleted nor shortened, by sohoa or anyone, before their retention ends.
//!
//! One file per concern: [`object_store`] (the bucket, through `aws-sdk-s3`), [`layout`] (which
//! key holds what, locked until when), [`replicate`] (the pass that follows the archive's events
//! from its own cursor, and the lag), [`remote_fixity`] (the store's copies checked against the
//! archive) and [`task`] (replication in the background of `sohoa serve`). The operations are in
//! [`crate::ops::replication`].

pub mod follow;
pub mod index;
pub mod layout;
pub mod object_store;
pub mod offers;
pub mod publish;
pub mod remote_fixity;
pub mod replicate;
pub mod task;

pub use follow::Lag;
pub use index::ProvinceIndex;
pub use offers::{Peers, Verified};
pub use publish::Publisher;
pub use remote_fixity::{RemoteProblem, RemoteReport};
pub use replicate::{PassCounts, Replicator};
