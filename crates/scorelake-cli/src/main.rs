//! The `scorelake` command: parses flags and calls the library.

mod args;
mod commands;
mod dispatch;
#[cfg(test)]
mod docs_commands;
mod error;
mod options;
mod output;
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
    // Planning recurses over the query's syntax tree: the command runs on a
    // thread with a stack deep enough for the nesting `scorelake::sql`
    // accepts, and so do the engine's workers.
    let command = std::thread::Builder::new()
        .name("scorelake".into())
        .stack_size(MAIN_STACK)
        .spawn(move || run(cli));
    match command.map(std::thread::JoinHandle::join) {
        Ok(Ok(code)) => code,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => {
            eprintln!("error: cannot start the command's thread: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Stack of the thread that parses, plans and drives the command.
const MAIN_STACK: usize = 64 << 20;
/// Stack of each engine worker thread.
const WORKER_STACK: usize = 16 << 20;

/// Runs the command on an async runtime; its exit code.
fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(WORKER_STACK)
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
            let message = scorelake::console::logging::redact(&message(&e));
            eprintln!("error: {message}");
            if let Some(hint) = remedy::hint(&e, &message) {
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

/// The error and its causes, down to the library's error, whose message
/// already says everything (its causes would repeat it).
fn message(e: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in e.chain() {
        parts.push(cause.to_string());
        if cause.is::<scorelake::Error>() {
            break;
        }
    }
    scorelake::error::without_xml_bodies(&parts.join(": "))
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
