//! Progress of long work on the command line: a bar with rate and ETA when standard
//! error is a terminal, plain lines at most every few seconds otherwise (logs, CI, pipes).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often plain progress lines are printed.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Progress of one piece of work counted in `unit`s.
pub struct Progress {
    what: &'static str,
    unit: &'static str,
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// Starts reporting `what` (e.g. "fixity"), counted in `unit`s (e.g. "blobs").
    pub fn new(what: &'static str, unit: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            let template = format!("{what} {{bar:40}} {{pos}}/{{len}} {unit} ({{per_sec}}, ETA {{eta}})");
            bar.set_style(ProgressStyle::with_template(&template).expect("a valid template"));
            bar
        });
        Progress { what, unit, bar, started: Instant::now(), last_line: Instant::now() }
    }

    /// `done` of `total` units are done.
    pub fn update(&mut self, done: u64, total: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
            }
            None if self.last_line.elapsed() >= LINE_EVERY || done == total => {
                self.last_line = Instant::now();
                let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
                eprintln!("{}: {done}/{total} {} ({rate:.0}/s)", self.what, self.unit);
            }
            None => {}
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
