//! Bounded decoding of a PDF's streams. A few bytes of Flate can stand for gigabytes, and a chain of
//! filters (Flate of Flate of …) multiplies that at every stage, so no stream of a PDF is decoded in
//! one unbounded call: [`DecodeBudget::decode`] runs a stream's filter chain one stage at a time, each
//! stage stopped as soon as its output passes the bound of what that stream may hold (a page image's
//! declared size, or the limit for page content and object streams) or what is left of the file's
//! budget, which every stage of every stream is charged to. A decompression bomb is refused while it
//! is being decoded, having cost at most one bound.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lopdf::{Dictionary, Object, Stream};

/// Where the bound of a stream other than a page image comes from, for messages.
pub(crate) const STREAM_LIMIT: &str = "the limit for one PDF stream (max_pdf_stream_bytes)";

/// Why a stream was not decoded.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// A limit was reached: the message names it.
    Limit(String),
    /// The stream's data is damaged or uses a filter that cannot be decoded.
    Damaged(String),
}

/// What is left to decode from one PDF file, shared by its pages (they are decoded on capture's
/// threads).
#[derive(Debug)]
pub(crate) struct DecodeBudget {
    total: u64,
    left: AtomicU64,
}

impl DecodeBudget {
    /// A budget of `total` decoded bytes for one file.
    pub(crate) fn new(total: u64) -> Self {
        DecodeBudget { total, left: AtomicU64::new(total) }
    }

    /// Charges `bytes` decoded from the file, or refuses when they are more than what is left.
    pub(crate) fn charge(&self, bytes: u64, what: &str) -> Result<(), Refusal> {
        self.left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(bytes))
            .map(drop)
            .map_err(|_| Refusal::Limit(format!("decoding {what} would pass the limit of {} bytes decoded from one PDF file (max_pdf_decoded_bytes)", self.total)))
    }

    /// Decodes `stream` through its filter chain, stage by stage: no stage may produce more than
    /// `bound` bytes nor more than what is left of the file's budget, and each stage is charged to
    /// it. `what` names the stream in messages ("page 3's image"), `bound_is` where the bound comes
    /// from. A stream without filters is returned as it is, since nothing is decoded.
    pub(crate) fn decode(&self, stream: &Stream, bound: u64, bound_is: &str, what: &str) -> Result<Vec<u8>, Refusal> {
        let filters = filter_names(&stream.dict);
        if filters.len() > Stream::MAX_FILTERS {
            return Err(Refusal::Damaged(format!(
                "{what} names {} filters, more than the {} a PDF reader decodes",
                filters.len(),
                Stream::MAX_FILTERS
            )));
        }
        let mut data = stream.content.clone();
        if filters.is_empty() {
            if data.len() as u64 > bound {
                return Err(Refusal::Limit(format!(
                    "{what} holds {} bytes, more than {bound}, {bound_is}",
                    data.len()
                )));
            }
            return Ok(data);
        }
        let chain = filters.iter().map(|f| String::from_utf8_lossy(f)).collect::<Vec<_>>().join(" + ");
        for (stage, filter) in filters.iter().enumerate() {
            let limit = bound.min(self.left.load(Ordering::SeqCst));
            // One filter at a time through lopdf's decoders, so that each stage's output is bounded
            // and charged on its own: lopdf bounds a chain's stages but reports only the last.
            let mut dict = Dictionary::new();
            dict.set("Filter", Object::Name(filter.clone()));
            if let Some(params) = stage_params(&stream.dict, stage) {
                dict.set("DecodeParms", params.clone());
            }
            let single = Stream::new(dict, std::mem::take(&mut data));
            let step = format!("stage {} of {} ({chain}) of {what}", stage + 1, filters.len());
            data = single.decompressed_content_with_limit(usize::try_from(limit).unwrap_or(usize::MAX)).map_err(|e| match e {
                lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) if limit < bound => Refusal::Limit(format!(
                    "decoding {step} would pass the limit of {} bytes decoded from one PDF file (max_pdf_decoded_bytes)",
                    self.total
                )),
                lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
                    Refusal::Limit(format!("{step} decodes to more than {bound} bytes, {bound_is}"))
                }
                other => Refusal::Damaged(format!("cannot decode {step}: {other}")),
            })?;
            self.charge(data.len() as u64, &step)?;
        }
        Ok(data)
    }
}

/// The names of a stream's filters, in decoding order.
pub(crate) fn filter_names(dict: &Dictionary) -> Vec<Vec<u8>> {
    match dict.get(b"Filter") {
        Ok(Object::Name(n)) => vec![n.clone()],
        Ok(Object::Array(a)) => a.iter().filter_map(|o| o.as_name().ok().map(<[u8]>::to_vec)).collect(),
        _ => Vec::new(),
    }
}

/// The decoding parameters of one stage: an array has one entry per filter, a lone dictionary
/// belongs to a lone filter.
fn stage_params(dict: &Dictionary, stage: usize) -> Option<&Object> {
    match dict.get(b"DecodeParms") {
        Ok(Object::Array(params)) => params.get(stage).filter(|p| matches!(p, Object::Dictionary(_))),
        Ok(params @ Object::Dictionary(_)) => Some(params),
        _ => None,
    }
}

/// The document being loaded on this thread: its budget, the bound of one object stream, and the
/// first refusal met.
struct Loading {
    budget: Arc<DecodeBudget>,
    bound: u64,
    refused: Option<Refusal>,
}

thread_local! {
    /// lopdf's object filter is a plain function pointer, with no state of its own: the budget of
    /// the document being loaded on this thread is reached through here. lopdf loads objects on the
    /// calling thread (its `rayon` feature is off).
    static LOADING: RefCell<Option<Loading>> = const { RefCell::new(None) };
}

/// Runs `load` (lopdf's loading of one document with [`decode_object_streams`] as its object
/// filter), charging every object stream it meets to `budget`, each bounded by `bound`; returns the
/// load's result, or the refusal of the first object stream that could not be decoded.
pub(crate) fn loading<T>(budget: Arc<DecodeBudget>, bound: u64, load: impl FnOnce() -> T) -> Result<T, Refusal> {
    /// Clears the thread's document also when `load` panics, so that a later load on this thread
    /// never sees it.
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            LOADING.with(|l| l.borrow_mut().take());
        }
    }
    LOADING.with(|l| *l.borrow_mut() = Some(Loading { budget, bound, refused: None }));
    let _clear = Clear;
    let result = load();
    match LOADING.with(|l| l.borrow_mut().as_mut().and_then(|l| l.refused.take())) {
        Some(refusal) => Err(refusal),
        None => Ok(result),
    }
}

/// lopdf's object filter: decodes each object stream under the budget of the document being loaded
/// (see [`loading`]) and hands it on decoded, so that the parser, which would otherwise decode it
/// bounded per stream only, has nothing left to inflate. An object stream that cannot be decoded is
/// dropped, and its refusal kept for [`loading`] to report.
pub(crate) fn decode_object_streams(id: lopdf::ObjectId, object: &mut Object) -> Option<(lopdf::ObjectId, Object)> {
    if let Object::Stream(stream) = object
        && stream.dict.has_type(b"ObjStm")
    {
        let decoded = LOADING.with(|l| {
            let mut slot = l.borrow_mut();
            let load = slot.as_mut()?;
            if load.refused.is_some() {
                return None;
            }
            match load.budget.decode(stream, load.bound, STREAM_LIMIT, &format!("object stream {} {}", id.0, id.1)) {
                Ok(data) => Some(data),
                Err(refusal) => {
                    load.refused = Some(refusal);
                    None
                }
            }
        });
        stream.set_plain_content(decoded?);
    }
    // lopdf keeps a top-level object as the filter leaves it in place, and an object taken out of
    // an object stream as the filter returns it: both must be the object.
    Some((id, object.clone()))
}
