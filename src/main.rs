use std::process::ExitCode;

use clap::Parser;
use sohoa::ApplianceError;
use sohoa::cli::{Cli, run};

fn main() -> ExitCode {
    // Tesseract runs one engine per worker; OpenMP threads inside each would multiply wall time on a
    // small machine (DESIGN.md §4). This must be set before any engine starts, while the process is
    // still single-threaded.
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        // SAFETY: no other thread exists yet, so nothing can read the environment concurrently.
        unsafe { std::env::set_var("OMP_THREAD_LIMIT", "1") };
    }
    let cli = Cli::parse();
    if matches!(cli.command, sohoa::cli::Command::Serve { .. }) {
        sohoa::server::init_tracing();
    }
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            let code = match e {
                ApplianceError::Input(_) | ApplianceError::NotFound(_) => 2,
                ApplianceError::Busy(_) | ApplianceError::Internal(_) => 1,
            };
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(code)
        }
    }
}
