//! The page-source abstraction: a producer on its own thread hands pages to the consumer through a
//! bounded channel, so a slow consumer holds the producer back (backpressure) instead of letting
//! pages pile up in memory, and the consumer can cancel at any time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::DriverError;

/// The producer's end of a [`PageStream`].
pub struct Sink<T> {
    pages: SyncSender<Result<T, DriverError>>,
    cancel: Arc<AtomicBool>,
}

impl<T> Sink<T> {
    /// Hands one page (or the error that ends the stream) to the consumer, waiting while the channel
    /// is full. Returns `false` when the consumer has gone: the producer should stop.
    pub fn send(&self, page: Result<T, DriverError>) -> bool {
        self.pages.send(page).is_ok()
    }

    /// Whether the consumer asked to stop.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Asks a [`PageStream`]'s producer to stop; can be held by another thread than the consumer.
#[derive(Clone)]
pub struct Canceller(Arc<AtomicBool>);

impl Canceller {
    /// Requests cancellation. The producer stops at its next check (for a scanner, between two reads)
    /// and ends the stream with [`DriverError::Cancelled`].
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Pages from a producer thread, in the order produced. Iterating yields each page, then at most one
/// error that ended the stream (a jam, a cancellation, a damaged file); the pages before it are kept.
pub struct PageStream<T> {
    pages: Option<Receiver<Result<T, DriverError>>>,
    cancel: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> PageStream<T> {
    /// Runs `produce` on a new thread named `name`, with a channel of `capacity` pages.
    pub fn spawn(name: &str, capacity: usize, produce: impl FnOnce(&Sink<T>) + Send + 'static) -> Self {
        let (tx, rx) = sync_channel(capacity.max(1));
        let cancel = Arc::new(AtomicBool::new(false));
        let sink = Sink { pages: tx, cancel: cancel.clone() };
        let worker = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || produce(&sink))
            .expect("the operating system starts a thread");
        PageStream { pages: Some(rx), cancel, worker: Some(worker) }
    }
}

impl<T> PageStream<T> {
    /// A handle that cancels this stream from anywhere.
    pub fn canceller(&self) -> Canceller {
        Canceller(self.cancel.clone())
    }

    /// Reads the whole stream: the pages delivered, and the error that ended it early if any.
    pub fn collect_batch(self) -> (Vec<T>, Option<DriverError>) {
        let mut pages = Vec::new();
        for item in self {
            match item {
                Ok(page) => pages.push(page),
                Err(e) => return (pages, Some(e)),
            }
        }
        (pages, None)
    }
}

impl<T> Iterator for PageStream<T> {
    type Item = Result<T, DriverError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.pages.as_ref()?.recv().ok()
    }
}

impl<T> Drop for PageStream<T> {
    fn drop(&mut self) {
        // A consumer that stops early must not leave the producer blocked on a full channel, nor a
        // scanner mid-page: cancel, close the channel (a blocked send fails at once), then wait.
        self.cancel.store(true, Ordering::Relaxed);
        self.pages.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
