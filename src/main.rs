//! The `sohoa` binary: starts itself with one OpenMP thread per Tesseract engine, takes the signer's
//! secrets out of the environment, configures SANE for the commands that scan, and runs the command
//! line, whose `serve` is the HTTP server.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use clap::Parser;
use sohoa::ApplianceError;
use sohoa::cli::{Cli, run};

fn main() -> ExitCode {
    // Tesseract runs one engine per worker; OpenMP threads inside each would multiply wall time on a
    // small machine (one page went from 2.3 s to 18 s when measured). libgomp reads its environment
    // when it is loaded, before `main`, so setting the variable here would be too late: instead the
    // process starts itself again with the variable set. `exec` returns only if that fails, and then
    // sohoa runs on with OpenMP's defaults rather than not at all.
    if std::env::var_os("OMP_THREAD_LIMIT").is_none()
        && let Ok(exe) = std::env::current_exe()
    {
        let error = Command::new(exe).args(std::env::args_os().skip(1)).env("OMP_THREAD_LIMIT", "1").exec();
        eprintln!("warning: could not restart with OMP_THREAD_LIMIT=1 ({error}); OCR may be slow");
    }
    // SAFETY: the process has one thread here (libgomp starts its threads on first use, and nothing
    // else has run yet).
    unsafe { sohoa::signing::take_secrets_from_env() };
    let cli = Cli::parse();
    // SANE takes its configuration from the environment when first used; it is set here, while the
    // process has one thread, for the commands that use scanners.
    let scans = matches!(
        cli.command,
        sohoa::cli::Command::Serve { .. } | sohoa::cli::Command::Scanners { .. } | sohoa::cli::Command::Scan(_)
    );
    if scans
        && let Err(e) =
            sohoa::scan::scanner_config(cli.config.as_deref()).and_then(|c| sohoa::scan::configure_sane(&cli.data, &c))
    {
        eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
        return ExitCode::from(2);
    }
    if let sohoa::cli::Command::Serve { log_format, .. } = cli.command {
        sohoa::server::init_tracing(log_format);
    }
    if let sohoa::cli::Command::Worker { .. } = cli.command {
        sohoa::server::init_tracing(sohoa::server::LogFormat::Text);
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
