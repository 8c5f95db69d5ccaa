//! `scorelake runs`: the run records kept in `observability.history` (a
//! Delta table) or `observability.metrics_dir` (a folder).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Result, bail};
use scorelake::config::{Config, EngineKind};
use scorelake::observe::{self, OperatorRecord, Profile, RunRecord};
use scorelake::pipeline::history::RunHistory;
use scorelake::session::Session;

use crate::args::RunsCommand;
use crate::error::Usage;
use crate::output::{human_bytes, outln};

/// Lists, shows or compares kept runs.
pub(crate) async fn runs(mut config: Config, cmd: &RunsCommand) -> Result<ExitCode> {
    let Some(history) = RunHistory::of(&config) else {
        bail!(Usage(
            "no run history: set observability.metrics_dir (e.g. --set observability.metrics_dir=runs) \
             or observability.history (a Delta table) for the commands to keep their records there"
                .into()
        ));
    };
    // Reading the history runs here, whatever engine the commands use.
    config.engine.kind = EngineKind::Embedded;
    let session = Session::new(config)?;
    match cmd {
        RunsCommand::List => outln!("{}", list(&history.runs(&session).await?))?,
        RunsCommand::Show { id } => outln!("{}", show(&history.find(&session, id).await?))?,
        RunsCommand::Compare { first, second } => {
            let runs = history.runs(&session).await?;
            let place = history.to_string();
            let (a, b) = (side(&runs, &place, first)?, side(&runs, &place, second)?);
            outln!("{}", compare(&a, &b))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(runs: &[(String, RunRecord)]) -> String {
    let mut out = String::from(
        "| id | command | ok | wall s | CPU s | peak memory |\n|---|---|---|---|---|---|\n",
    );
    for (id, r) in runs {
        let _ = writeln!(
            out,
            "| {id} | {} | {} | {:.2} | {:.2} | {} |",
            r.name,
            if r.ok { "yes" } else { "no" },
            r.wall_seconds,
            r.cpu_seconds,
            human_bytes(r.peak_rss_bytes)
        );
    }
    out
}

fn show((id, r): &(String, RunRecord)) -> String {
    let mut out = format!(
        "{id}: {} ({}), {}\nwall {:.2} s, CPU {:.2} s, peak memory {}, engine {}\n",
        r.name,
        r.command,
        if r.ok { "succeeded" } else { "failed" },
        r.wall_seconds,
        r.cpu_seconds,
        human_bytes(r.peak_rss_bytes),
        r.engine
    );
    if let Some(e) = &r.error {
        let _ = writeln!(out, "error: {e}");
    }
    for (verb, tables) in [("read", &r.inputs), ("wrote", &r.outputs)] {
        for t in tables {
            let mut figures = vec![t.format.clone()];
            figures.extend(t.rows.map(|n| format!("{n} rows")));
            figures.extend(t.bytes.map(human_bytes));
            figures.extend(t.version.map(|v| format!("version {v}")));
            let _ = writeln!(out, "{verb} {} ({})", t.location, figures.join(", "));
        }
    }
    let c = &r.cache;
    if !c.entries.is_empty() {
        let _ = writeln!(out, "cache: {} hits, {} misses", c.hits, c.misses);
        for e in &c.entries {
            let _ = writeln!(
                out,
                "  {}: {}, {} rows, {} in memory, {} on disk, used {} times ({} from the cache){}",
                e.name,
                e.level,
                e.rows,
                human_bytes(e.memory_bytes),
                human_bytes(e.disk_bytes),
                e.uses,
                e.hits,
                e.note
                    .as_ref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default()
            );
        }
    }
    for (i, plan) in r.plans.iter().enumerate() {
        operator_table(&mut out, &format!("plan {}", i + 1), plan);
    }
    for s in &r.stages {
        let title = format!(
            "job {} stage {} ({} tasks, on the cluster)",
            s.job, s.stage, s.partitions
        );
        operator_table(&mut out, &title, &s.operators);
    }
    out
}

/// `operators` under `title` as a Markdown table: rows, compute time,
/// partitions, skew, spills.
fn operator_table(out: &mut String, title: &str, operators: &[OperatorRecord]) {
    let _ = write!(
        out,
        "\n{title}\n\n| operator | rows | compute s | partitions | skew | spilled |\n|---|---|---|---|---|---|\n"
    );
    for o in operators {
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} | {} |",
            "· ".repeat(o.depth),
            o.name,
            o.output_rows.map(|n| n.to_string()).unwrap_or_default(),
            o.elapsed_compute_seconds
                .map(|s| format!("{s:.3}"))
                .unwrap_or_default(),
            o.partitions,
            o.skew().map(|s| format!("{s:.1}×")).unwrap_or_default(),
            o.counters
                .get("spilled_bytes")
                .map(|b| human_bytes(*b))
                .unwrap_or_default()
        );
    }
}

/// The runs `ids` (separated by commas) folded into their medians, with a
/// label: the run's id, or the first id and how many runs.
fn side(runs: &[(String, RunRecord)], place: &str, ids: &str) -> Result<(String, Profile)> {
    let mut records = Vec::new();
    let mut first = None;
    for id in ids.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (found, record) = observe::pick(runs, id, place)?;
        first.get_or_insert(found);
        records.push(record);
    }
    let Some(first) = first else {
        bail!(Usage(format!("runs compare: no run id in `{ids}`")));
    };
    let label = match records.len() {
        1 => first,
        n => format!("{first} +{} (median of {n})", n - 1),
    };
    Ok((label, Profile::of(&records)?))
}

fn compare((ida, a): &(String, Profile), (idb, b): &(String, Profile)) -> String {
    let ratio = |x: f64, y: f64| {
        if x > 0.0 {
            format!("{:.2}×", y / x)
        } else {
            "–".into()
        }
    };
    let mut out = format!(
        "| figure | {ida} | {idb} | second ÷ first |\n|---|---|---|---|\n\
         | command | {} | {} | |\n\
         | wall s | {:.2} | {:.2} | {} |\n\
         | CPU s | {:.2} | {:.2} | {} |\n\
         | peak memory | {} | {} | {} |\n",
        a.name,
        b.name,
        a.median_wall_seconds,
        b.median_wall_seconds,
        ratio(a.median_wall_seconds, b.median_wall_seconds),
        a.median_cpu_seconds,
        b.median_cpu_seconds,
        ratio(a.median_cpu_seconds, b.median_cpu_seconds),
        human_bytes(a.peak_rss_bytes),
        human_bytes(b.peak_rss_bytes),
        ratio(a.peak_rss_bytes as f64, b.peak_rss_bytes as f64)
    );
    // Operators matched by query and place in its plan (the same plan
    // shapes); those whose median compute time moved by a fifth or more.
    let mut changed = String::new();
    for oa in &a.operators {
        let Some(ob) = b
            .operators
            .iter()
            .find(|o| (o.query, o.place, &o.name) == (oa.query, oa.place, &oa.name))
        else {
            continue;
        };
        let (ta, tb) = (oa.compute_seconds, ob.compute_seconds);
        if (tb - ta).abs() >= 0.2 * ta.max(tb) && ta.max(tb) >= 0.01 {
            let _ = writeln!(
                changed,
                "| {} (query {}) | {ta:.3} | {tb:.3} | {} |",
                oa.name,
                oa.query,
                ratio(ta, tb)
            );
        }
    }
    if a.queries.len() != b.queries.len() {
        let _ = writeln!(
            out,
            "\nthe runs made {} and {} plans",
            a.queries.len(),
            b.queries.len()
        );
    }
    if !changed.is_empty() {
        out.push_str(
            "\n| operator | compute s (first) | compute s (second) | ratio |\n|---|---|---|---|\n",
        );
        out.push_str(&changed);
    }
    out
}
