//! `scorelake profile -- COMMAND`: the command run several times, each as
//! its own process with a run record, folded into a profile with the
//! bottlenecks and what to change.

use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use scorelake::observe::{Profile, RunRecord};

use crate::args::{GlobalArgs, ProfileArgs};
use crate::error::Usage;
use crate::output::{outln, report_format};
use scorelake::docfile::write_whole;

/// Runs `args.command` `args.runs` times and prints the profile.
///
/// Global flags given before `profile` go to every run, but `--metrics`
/// (each run has its own record) and `--progress` (runs show none).
pub(crate) fn profile(args: &ProfileArgs, global: &GlobalArgs) -> Result<ExitCode> {
    if args.runs == 0 {
        bail!(Usage("--runs: expected at least 1".into()));
    }
    if global.metrics.is_some() {
        bail!(Usage(
            "--metrics: profile keeps a record of each run itself; give --report FILE for the profile"
                .into()
        ));
    }
    let format = report_format(args.report.as_deref(), &["html", "json", "md"])?;
    let program = std::env::current_exe().context("cannot find the scorelake program to run")?;
    let dir = tempfile::tempdir().context("cannot make a folder for the run records")?;
    let mut records = Vec::new();
    for run in 1..=args.runs {
        let record = dir.path().join(format!("run-{run}.json"));
        eprintln!("profile: run {run} of {}", args.runs);
        let child = Command::new(&program)
            .args(global.forwarded())
            .args(["--progress", "never", "--metrics"])
            .arg(&record)
            .args(&args.command)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("cannot run {}", program.display()))?;
        // A gate's exit code (validate's FAIL, drift's shift) ends a run
        // that completed: its record says so.
        let Some(completed) = RunRecord::load(&record).ok().filter(|r| r.ok) else {
            let err = String::from_utf8_lossy(&child.stderr);
            let last = err
                .lines()
                .find(|l| l.starts_with("error: "))
                .or_else(|| err.lines().rev().find(|l| !l.trim().is_empty()))
                .unwrap_or("");
            let hint = if err.contains("exists already") {
                " (give the command --overwrite so that every run can write its output)"
            } else {
                ""
            };
            bail!(
                "run {run} failed: {}{hint}",
                last.trim_start_matches("error: ")
            );
        };
        records.push(completed);
    }
    let mut profile = Profile::of(&records)?;
    profile.command = format!("scorelake {}", args.command.join(" "));
    let json = serde_json::to_string_pretty(&profile)? + "\n";
    if let (Some(path), Some(format)) = (&args.report, format) {
        let text = match format.as_str() {
            "html" => profile.to_html(),
            "json" => json.clone(),
            _ => profile.to_markdown(),
        };
        write_whole(path, &text)?;
    }
    if args.json {
        outln!("{}", json.trim_end())?;
    } else {
        outln!("{}", profile.to_markdown().trim_end())?;
    }
    Ok(ExitCode::SUCCESS)
}
