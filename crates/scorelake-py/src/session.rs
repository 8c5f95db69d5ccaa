//! `Session`: the configuration and engine every table and job runs on.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use scorelake::config::{ConfigBuilder, Format};
use scorelake::datafusion::catalog::streaming::StreamingTable;
use scorelake::datafusion::datasource::MemTable;
use scorelake::datafusion::physical_plan::streaming::PartitionStream;
use scorelake::io::{self, ReadOptions, TableVersion};
use scorelake::sample::{NaiveDate, SampleSpec};
use scorelake::session::Session;

use crate::arrow_io;
use crate::errors::{OrPy, ScoreLakeError, word};
use crate::runtime::wait;
use crate::table::Table;

/// A configured engine: the layered configuration (defaults < `AWS_*` <
/// config file < `SCORELAKE__*` < the settings given here) and the engine it
/// chose.
#[pyclass(name = "Session", module = "scorelake._scorelake", frozen)]
pub(crate) struct PySession {
    pub(crate) session: Session,
}

#[pymethods]
impl PySession {
    #[new]
    #[pyo3(signature = (config_file=None, settings=Vec::new()))]
    fn new(
        py: Python<'_>,
        config_file: Option<PathBuf>,
        settings: Vec<(String, String)>,
    ) -> PyResult<Self> {
        let mut builder = ConfigBuilder::standard(config_file.as_deref()).or_py()?;
        for (key, value) in &settings {
            builder = builder.set_by_call(key, value, "Session(settings)");
        }
        let config = builder.build().or_py()?;
        scorelake::console::logging::init(&config);
        let start = scorelake::engine::start(config.clone(), async { Ok(0) });
        let session = wait(py, &config, "starting the engine", move || start)?;
        Ok(PySession { session })
    }

    /// The engine and why it was chosen.
    fn engine(&self) -> String {
        self.session.engine().to_string()
    }

    /// Drops what is cached under `name`; false when nothing was.
    fn unpersist(&self, name: &str) -> bool {
        self.session.unpersist(name)
    }

    /// The cache's hits, misses and entries, as JSON.
    fn cache_stats(&self) -> PyResult<String> {
        serde_json::to_string(&self.session.cache_stats()).or_py()
    }

    /// Every configuration key as (key, value, source), secrets redacted.
    fn config_show(&self) -> Vec<(String, String, String)> {
        self.session
            .config()
            .show()
            .into_iter()
            .map(|k| (k.key, k.value, k.source.to_string()))
            .collect()
    }

    /// A lazy table read from `url`.
    #[pyo3(signature = (url, format=None, version=None, as_of=None, merge_schema=false))]
    fn read(
        &self,
        py: Python<'_>,
        url: String,
        format: Option<&str>,
        version: Option<u64>,
        as_of: Option<&str>,
        merge_schema: bool,
    ) -> PyResult<Table> {
        let version = match (version, as_of) {
            (Some(n), _) => Some(TableVersion::Number(n)),
            (None, Some(t)) => Some(TableVersion::parse_as_of(t).or_py()?),
            (None, None) => None,
        };
        let options = ReadOptions {
            format: format.map(|f| word::<Format>("format", f)).transpose()?,
            merge_schema,
            version,
            ..ReadOptions::default()
        };
        let session = &self.session;
        let df = wait(py, session.config(), "reading", || {
            io::read(session, &url, &options)
        })?;
        Ok(Table::new(session.clone(), df))
    }

    /// A table over the batches of an Arrow stream producer, held without
    /// copying and split across the engine's partitions.
    fn arrow_table(&self, data: &Bound<'_, PyAny>) -> PyResult<Table> {
        let (schema, batches) = arrow_io::import(data)?;
        let parts = self.session.config().engine.target_partitions.max(1);
        let mut partitions = vec![Vec::new(); parts.min(batches.len()).max(1)];
        let n = partitions.len();
        for (i, batch) in batches.into_iter().enumerate() {
            partitions[i % n].push(batch);
        }
        let table = MemTable::try_new(schema, partitions).or_py()?;
        let df = self.session.ctx().read_table(Arc::new(table)).or_py()?;
        Ok(Table::new(self.session.clone(), df))
    }

    /// A table over a single-use Arrow stream (a RecordBatchReader), read as
    /// the plan runs: larger than memory is fine, a second read is refused.
    fn arrow_stream(&self, data: &Bound<'_, PyAny>) -> PyResult<Table> {
        let stream = arrow_io::OnceStream::new(arrow_io::stream_of(data)?);
        let schema = Arc::clone(stream.schema());
        let table = StreamingTable::try_new(schema, vec![Arc::new(stream)]).or_py()?;
        let df = self.session.ctx().read_table(Arc::new(table)).or_py()?;
        Ok(Table::new(self.session.clone(), df))
    }

    /// The synthetic customer × month panel, generated as it is read.
    #[pyo3(signature = (customers, months=None, seed=None, start=None))]
    fn sample(
        &self,
        customers: u64,
        months: Option<u32>,
        seed: Option<u64>,
        start: Option<&str>,
    ) -> PyResult<Table> {
        let mut spec = SampleSpec {
            customers,
            ..SampleSpec::default()
        };
        if let Some(m) = months {
            spec.months = m;
        }
        if let Some(s) = seed {
            spec.seed = s;
        }
        if let Some(text) = start {
            spec.start = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| {
                ScoreLakeError::new_err(format!(
                    "start: expected a date like 2023-01-01, got `{text}` ({e})"
                ))
            })?;
        }
        let df = scorelake::sample::dataframe(&self.session, &spec, None).or_py()?;
        Ok(Table::new(self.session.clone(), df))
    }

    /// A lazy query over `tables` (name → table) and any table named by
    /// its URL in the query.
    #[pyo3(signature = (query, tables=Vec::new()))]
    fn sql(
        &self,
        py: Python<'_>,
        query: String,
        tables: Vec<(String, PyRef<'_, Table>)>,
    ) -> PyResult<Table> {
        let session = &self.session;
        let ctx = io::with_url_tables(session, &session.new_context(), ReadOptions::default());
        for (name, table) in &tables {
            ctx.register_table(name.as_str(), table.df.clone().into_view())
                .or_py()?;
        }
        let df = wait(
            py,
            session.config(),
            "planning the query",
            move || async move { scorelake::sql::query(&ctx, &query).await },
        )?;
        Ok(Table::new(session.clone(), df))
    }

    /// Starts measuring a run named `name` (see `RunTracker`).
    fn track(&self, name: String) -> RunTracker {
        RunTracker {
            run: scorelake::observe::Run::start(&self.session),
            session: self.session.clone(),
            name,
        }
    }

    /// A Delta table's commits, newest first, as JSON.
    #[pyo3(signature = (url, limit=None))]
    fn delta_history(&self, py: Python<'_>, url: String, limit: Option<usize>) -> PyResult<String> {
        let options = io::delta::HistoryOptions::default().with_limit(limit);
        let session = &self.session;
        let commits = wait(
            py,
            session.config(),
            "reading the Delta log",
            move || async move { io::delta::history(session, url, &options).await },
        )?;
        serde_json::to_string(&commits).or_py()
    }
}

/// A run being measured: `finish` makes its record (times, memory, the
/// metrics of every plan the session ran when it keeps them), saves it where
/// `observability.metrics_file`/`metrics_dir` say, and returns it as JSON.
#[pyclass(name = "RunTracker", module = "scorelake._scorelake", frozen)]
pub(crate) struct RunTracker {
    run: scorelake::observe::Run,
    session: Session,
    name: String,
}

#[pymethods]
impl RunTracker {
    #[pyo3(signature = (error=None))]
    fn finish(&self, py: Python<'_>, error: Option<String>) -> PyResult<String> {
        let (run, session, name) = (&self.run, &self.session, &self.name);
        let record = wait(
            py,
            session.config(),
            "keeping the run record",
            move || async move {
                let record = run.finish(session, name, name, error).await;
                record.save(session)?;
                scorelake::pipeline::history::append(session, &record).await?;
                Ok(record)
            },
        )?;
        serde_json::to_string(&record).or_py()
    }
}
