//! The history of run records: the folder `observability.metrics_dir` (one
//! JSON file per run) or the Delta table `observability.history` (one row
//! per run, appended by optimistic commits, so concurrent runs lose none).
//!
//! ```
//! use scorelake::config::ConfigBuilder;
//! use scorelake::observe::Run;
//! use scorelake::pipeline::history::{self, RunHistory};
//! use scorelake::session::Session;
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = std::env::temp_dir().join(format!("sl-history-doc-{}", std::process::id()));
//! let table = dir.join("runs").display().to_string();
//! let config = ConfigBuilder::new().set("observability.history", &table, "example")?.build()?;
//! let session = Session::new(config)?;
//! let run = Run::start(&session);
//! session.ctx().sql("SELECT 1").await?.collect().await?;
//! history::append(&session, &run.finish(&session, "sql", "scorelake sql", None).await).await?;
//! let history = RunHistory::of(session.config()).unwrap();
//! let runs = history.runs(&session).await?;
//! assert_eq!(runs.len(), 1);
//! assert_eq!(runs[0].1.name, "sql");
//! # let _ = std::fs::remove_dir_all(&dir);
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{Array, BooleanArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use crate::config::{Config, Format};
use crate::error::{Error, Result};
use crate::io::{self, ReadOptions, WriteMode, WriteOptions};
use crate::observe::{self, RunRecord};
use crate::session::Session;

/// Where run records are kept.
#[derive(Clone, Debug, PartialEq)]
pub enum RunHistory {
    /// One JSON file per run in a folder (`observability.metrics_dir`).
    Folder(PathBuf),
    /// One row per run in a Delta table (`observability.history`).
    Table(String),
}

impl RunHistory {
    /// The history `config` names: the Delta table first, else the folder;
    /// none when neither is set.
    pub fn of(config: &Config) -> Option<RunHistory> {
        let o = &config.observability;
        match (&o.history, &o.metrics_dir) {
            (Some(table), _) => Some(RunHistory::Table(table.clone())),
            (None, Some(dir)) => Some(RunHistory::Folder(dir.into())),
            (None, None) => None,
        }
    }

    /// Every run kept, oldest first, with its id.
    pub async fn runs(&self, session: &Session) -> Result<Vec<(String, RunRecord)>> {
        match self {
            RunHistory::Folder(dir) => observe::history(dir),
            RunHistory::Table(url) => table_runs(session, url).await,
        }
    }

    /// The run whose id is or starts with `id` (one only).
    pub async fn find(&self, session: &Session, id: &str) -> Result<(String, RunRecord)> {
        observe::pick(&self.runs(session).await?, id, &self.to_string())
    }
}

impl std::fmt::Display for RunHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunHistory::Folder(dir) => write!(f, "{}", dir.display()),
            RunHistory::Table(url) => write!(f, "the history table {url}"),
        }
    }
}

/// Appends `record` as one row to the Delta table `observability.history`
/// (nothing when it is not set). Its id is its start, command and process.
pub async fn append(session: &Session, record: &RunRecord) -> Result<()> {
    let Some(url) = &session.config().observability.history else {
        return Ok(());
    };
    let here = session.here()?;
    let json = serde_json::to_string(record).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let id = format!("{}-{}", record.id(), std::process::id());
    let batch = RecordBatch::try_new(
        Arc::new(schema()),
        vec![
            Arc::new(StringArray::from(vec![id])),
            Arc::new(StringArray::from(vec![record.name.clone()])),
            Arc::new(StringArray::from(vec![record.started.clone()])),
            Arc::new(BooleanArray::from(vec![record.ok])),
            Arc::new(Float64Array::from(vec![record.wall_seconds])),
            Arc::new(Float64Array::from(vec![record.cpu_seconds])),
            Arc::new(Int64Array::from(vec![record.peak_rss_bytes as i64])),
            Arc::new(StringArray::from(vec![json])),
        ],
    )?;
    let df = here.ctx().read_batch(batch)?;
    let options = WriteOptions {
        format: Some(Format::Delta),
        mode: WriteMode::Append,
        ..WriteOptions::default()
    };
    io::write(&here, df, url.as_str(), &options).await?;
    Ok(())
}

/// The history table's columns: the figures `runs list` shows, and the
/// whole record as JSON.
fn schema() -> Schema {
    Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("started", DataType::Utf8, false),
        Field::new("ok", DataType::Boolean, false),
        Field::new("wall_seconds", DataType::Float64, false),
        Field::new("cpu_seconds", DataType::Float64, false),
        Field::new("peak_rss_bytes", DataType::Int64, false),
        Field::new("record", DataType::Utf8, false),
    ])
}

async fn table_runs(session: &Session, url: &str) -> Result<Vec<(String, RunRecord)>> {
    let here = session.here()?;
    let options = ReadOptions {
        format: Some(Format::Delta),
        ..ReadOptions::default()
    };
    let df = io::read(&here, url, &options).await?;
    let batches = df.select_columns(&["id", "record"])?.collect().await?;
    let mut runs = Vec::new();
    let not_history = || {
        Error::InvalidInput(format!(
            "{url}: not a run history table (id and record must be text)"
        ))
    };
    for b in &batches {
        // Text may come back as string views.
        let text = |i: usize| cast(b.column(i), &DataType::Utf8).map_err(|_| not_history());
        let (ids, records) = (text(0)?, text(1)?);
        let (Some(ids), Some(records)) = (
            ids.as_any().downcast_ref::<StringArray>(),
            records.as_any().downcast_ref::<StringArray>(),
        ) else {
            return Err(not_history());
        };
        for i in 0..b.num_rows() {
            if ids.is_null(i) || records.is_null(i) {
                continue;
            }
            let record = serde_json::from_str(records.value(i)).map_err(|e| {
                Error::InvalidInput(format!(
                    "{url}: run {} is not a run record: {e}",
                    ids.value(i)
                ))
            })?;
            runs.push((ids.value(i).to_string(), record));
        }
    }
    runs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(runs)
}
