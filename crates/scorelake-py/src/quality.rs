//! Validation and drift of tables: reports as JSON (the Python layer turns
//! them into objects) with their Markdown rendering.

use pyo3::prelude::*;
use scorelake::config::Config;
use scorelake::quality::{self, DriftBinning, DriftOptions, Thresholds, ValidateOptions};

use crate::errors::ScoreLakeError;
use crate::models::document;
use crate::runtime::wait;
use crate::table::Table;

/// Validates `table`: (report JSON, report Markdown).
#[pyfunction]
#[pyo3(signature = (table, columns=None, thresholds=None, approximate=false, weight=None))]
pub(crate) fn validate(
    py: Python<'_>,
    table: PyRef<'_, Table>,
    columns: Option<Vec<String>>,
    thresholds: Option<(String, String)>,
    approximate: bool,
    weight: Option<String>,
) -> PyResult<(String, String)> {
    let mut options = ValidateOptions {
        columns,
        approximate,
        weight,
        roles: table.session.config().roles.clone(),
        ..ValidateOptions::default()
    };
    if let Some(source) = thresholds {
        options.thresholds = document(source, Thresholds::load, Thresholds::parse)?;
    }
    let df = table.df.clone();
    let report = wait(
        py,
        table.session.config(),
        "validating",
        move || async move { quality::validate(&df, &options).await },
    )?;
    Ok((report.to_json(), report.to_markdown()))
}

/// Drift settings from the Python call's keywords.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct DriftSettings {
    binning: Vec<String>,
    bins: usize,
    floor: f64,
    watch: f64,
    shifted: f64,
    weight: Option<String>,
    categorical: Vec<String>,
}

impl DriftSettings {
    /// The options, with the column roles `config` names.
    fn options(self, config: &Config) -> PyResult<DriftOptions> {
        let binnings = self
            .binning
            .iter()
            .map(|b| match b.as_str() {
                "quantile" => Ok(DriftBinning::Quantile),
                "equal-width" | "equal_width" => Ok(DriftBinning::EqualWidth),
                other => Err(ScoreLakeError::new_err(format!(
                    "binning: expected quantile or equal-width, got `{other}`"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(DriftOptions {
            binnings,
            bins: self.bins,
            floor: self.floor,
            watch: self.watch,
            shifted: self.shifted,
            weight: self.weight,
            categorical: self.categorical,
            roles: config.roles.clone(),
        })
    }
}

/// PSI/CSI of `columns` between two tables: (report JSON, Markdown summary,
/// Markdown with every bin).
#[pyfunction]
#[pyo3(signature = (baseline, current, columns, settings))]
pub(crate) fn drift(
    py: Python<'_>,
    baseline: PyRef<'_, Table>,
    current: PyRef<'_, Table>,
    columns: Option<Vec<String>>,
    settings: DriftSettings,
) -> PyResult<(String, String, String)> {
    let options = settings.options(baseline.session.config())?;
    let (base, now) = (baseline.df.clone(), current.df.clone());
    let report = wait(
        py,
        baseline.session.config(),
        "measuring drift",
        move || async move { quality::drift(&base, &now, columns.as_deref(), &options).await },
    )?;
    Ok((
        report.to_json(),
        report.to_markdown(false),
        report.to_markdown(true),
    ))
}

/// PSI/CSI of `columns` between periods of one table: each other period
/// against `baseline`, or `current` as one set when given.
#[pyfunction]
#[pyo3(signature = (table, period_column, baseline, current, columns, settings))]
pub(crate) fn drift_by_period(
    py: Python<'_>,
    table: PyRef<'_, Table>,
    period_column: String,
    baseline: Vec<String>,
    current: Vec<String>,
    columns: Option<Vec<String>>,
    settings: DriftSettings,
) -> PyResult<(String, String, String)> {
    let options = settings.options(table.session.config())?;
    let df = table.df.clone();
    let report = wait(
        py,
        table.session.config(),
        "measuring drift by period",
        move || async move {
            let columns = columns.as_deref();
            if current.is_empty() {
                quality::drift_by_period(&df, &period_column, &baseline, columns, &options).await
            } else {
                quality::drift_between_periods(
                    &df,
                    &period_column,
                    &baseline,
                    &current,
                    columns,
                    &options,
                )
                .await
            }
        },
    )?;
    Ok((
        report.to_json(),
        report.to_markdown(false),
        report.to_markdown(true),
    ))
}
