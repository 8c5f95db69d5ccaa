//! The `scorelake` command: parses flags and calls the library.

mod args;
mod commands;
mod dispatch;
mod error;
mod options;
mod output;
mod progress;
mod remedy;

use std::process::ExitCode;

use clap::Parser;

use args::Cli;

fn main() -> ExitCode {
    ignore_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors exit 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch::run(cli)) {
        Ok(code) => code,
        // The reader of stdout has gone (`scorelake … | head`): nothing to say.
        Err(e) if e.downcast_ref::<error::StdoutClosed>().is_some() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if let Some(hint) = remedy::hint(&e) {
                eprintln!("  hint: {hint}");
            }
            if e.downcast_ref::<error::Usage>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// A write to a closed pipe or socket fails with an error instead of killing
/// the process: a dropped S3 connection is reported, and a closed stdout
/// (`scorelake … | head`) ends the command quietly (see [`error::StdoutClosed`]).
fn ignore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists;
    // SIG_IGN is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}
