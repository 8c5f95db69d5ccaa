//! `Table`: a lazy plan on a session, read by Python through the Arrow
//! PyCapsule interface.

use std::sync::Arc;

use arrow_schema::SchemaRef;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use scorelake::config::{CacheLevel, ConfigValue, Format};
use scorelake::datafusion::logical_expr::JoinType;
use scorelake::datafusion::prelude::DataFrame;
use scorelake::io::{self, WriteMode, WriteOptions};
use scorelake::salting::{SaltOptions, salted_join};
use scorelake::session::Session;

use crate::arrow_io::{self, Batches, PlanReader};
use crate::errors::{OrPy, word};
use crate::runtime::{runtime, wait};

/// A lazy table: nothing runs until it is read, counted or written.
#[pyclass(name = "Table", module = "scorelake._scorelake", frozen)]
pub(crate) struct Table {
    pub(crate) session: Session,
    pub(crate) df: DataFrame,
}

impl Table {
    /// `df` on `session`.
    pub(crate) fn new(session: Session, df: DataFrame) -> Self {
        Table { session, df }
    }

    /// Another plan on the same session.
    pub(crate) fn with(&self, df: DataFrame) -> Table {
        Table::new(self.session.clone(), df)
    }

    fn schema(&self) -> SchemaRef {
        Arc::new(self.df.schema().as_arrow().clone())
    }
}

#[pymethods]
impl Table {
    /// Column names, in order.
    fn columns(&self) -> Vec<String> {
        self.df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// The plan's result as an Arrow C stream, computed as it is read.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let df = self.df.clone();
        let stream = wait(
            py,
            self.session.config(),
            "starting the query",
            move || async move { Ok(df.execute_stream().await?) },
        )?;
        let reader = PlanReader::new(stream, runtime()?.handle().clone());
        arrow_io::export(py, Box::new(reader))
    }

    /// The schema as an Arrow C schema.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        arrow_io::export_schema(py, &self.schema())
    }

    /// Runs the plan and holds its batches (interruptible).
    fn collect(&self, py: Python<'_>) -> PyResult<Batches> {
        let df = self.df.clone();
        let schema = self.schema();
        let batches = wait(
            py,
            self.session.config(),
            "running the query",
            move || async move { Ok(df.collect().await?) },
        )?;
        Ok(Batches::new(schema, batches))
    }

    /// Number of rows (runs the plan).
    fn count(&self, py: Python<'_>) -> PyResult<usize> {
        let df = self.df.clone();
        wait(
            py,
            self.session.config(),
            "counting rows",
            move || async move { Ok(df.count().await?) },
        )
    }

    /// The first `n` rows.
    fn limit(&self, n: usize) -> PyResult<Table> {
        Ok(self.with(self.df.clone().limit(0, Some(n)).or_py()?))
    }

    /// These columns, in this order.
    fn select(&self, columns: Vec<String>) -> PyResult<Table> {
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        Ok(self.with(self.df.clone().select_columns(&names).or_py()?))
    }

    /// The rows where the SQL predicate holds.
    fn filter(&self, predicate: &str) -> PyResult<Table> {
        let expr = self.df.parse_sql_expr(predicate).or_py()?;
        Ok(self.with(self.df.clone().filter(expr).or_py()?))
    }

    /// The result computed now and kept by the session at `level` under
    /// `name` (until `Session.unpersist(name)`); later reads of the
    /// returned table come from the cache.
    #[pyo3(signature = (name, level="memory-and-disk"))]
    fn persist(&self, py: Python<'_>, name: String, level: &str) -> PyResult<Table> {
        let level = word::<CacheLevel>("level", level)?;
        let (session, df) = (&self.session, self.df.clone());
        let cached = wait(py, session.config(), "caching", move || async move {
            session.persist(df, &name, level).await
        })?;
        Ok(self.with(cached))
    }

    /// This table joined to `other` on the columns `on` (inner or left);
    /// with `salts` > 1, the key values holding at least `hot_share` of this
    /// table's rows are salted over that many partitions (for a cluster).
    #[pyo3(signature = (other, on, how="inner", salts=0, hot_share=0.05))]
    fn join(
        &self,
        py: Python<'_>,
        other: &Table,
        on: Vec<String>,
        how: &str,
        salts: usize,
        hot_share: f64,
    ) -> PyResult<Table> {
        let join_type = match how {
            "inner" => JoinType::Inner,
            "left" => JoinType::Left,
            other => {
                return Err(crate::errors::ScoreLakeError::new_err(format!(
                    "how: expected inner or left, got `{other}`"
                )));
            }
        };
        let options = SaltOptions {
            salts,
            hot_share,
            ..SaltOptions::default()
        };
        let (left, right) = (self.df.clone(), other.df.clone());
        let (joined, _) = wait(
            py,
            self.session.config(),
            "planning the join",
            move || async move {
                let keys: Vec<&str> = on.iter().map(String::as_str).collect();
                salted_join(left, right, &keys, join_type, &options).await
            },
        )?;
        Ok(self.with(joined))
    }

    /// The logical plan, as text.
    fn plan(&self) -> String {
        self.df.logical_plan().display_indent().to_string()
    }

    /// Writes the table to `url`; returns what was written.
    #[pyo3(signature = (url, format=None, mode="error", partition_by=Vec::new(), merge_schema=false))]
    fn write<'py>(
        &self,
        py: Python<'py>,
        url: String,
        format: Option<&str>,
        mode: &str,
        partition_by: Vec<String>,
        merge_schema: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mode = match mode {
            "error" => WriteMode::ErrorIfExists,
            "overwrite" => WriteMode::Overwrite,
            "append" => WriteMode::Append,
            other => {
                return Err(crate::errors::ScoreLakeError::new_err(format!(
                    "mode: expected one of error, overwrite, append, got `{other}`"
                )));
            }
        };
        let options = WriteOptions {
            format: format.map(|f| word::<Format>("format", f)).transpose()?,
            mode,
            partition_by,
            merge_schema,
            ..WriteOptions::default()
        };
        let (session, df) = (&self.session, self.df.clone());
        let written = wait(py, session.config(), "writing", move || async move {
            io::write(session, df, url.as_str(), &options).await
        })?;
        let out = PyDict::new(py);
        out.set_item("location", written.location)?;
        out.set_item("rows", written.rows)?;
        out.set_item("format", written.format.render())?;
        out.set_item("bytes", written.bytes)?;
        out.set_item("version", written.version)?;
        Ok(out)
    }
}
