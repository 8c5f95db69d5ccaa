//! Post-binning compression: rows that agree on every bin (and segment)
//! column become one row carrying `sample_weight` (their weight),
//! `event_weight` (their events) and `event_rate`. Every weighted fit on
//! the compressed rows equals the fit on the original rows, with far fewer
//! rows. The grouping is a plan (any engine, spilling); only the compressed
//! rows are gathered, and their totals are checked against the input's.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::logical_expr::{Expr, cast, col, lit};
use datafusion::prelude::{DataFrame, SessionContext};
use serde::Serialize;

use super::binning::{Binning, FORMAT, bin_column, woe_column};
use super::fit::Fitting;
use super::packed_bins::PackedBins;
use super::segment_codes;
use super::spec::BinningSpec;
use super::totals::{Totals, weight_sum};
use crate::checks::weight_or_one;
use crate::error::{Error, Result, invalid_err};
use crate::expr::{column, find};

/// Names of the columns compression adds.
pub const SAMPLE_WEIGHT: &str = "sample_weight";
/// See [`SAMPLE_WEIGHT`].
pub const EVENT_WEIGHT: &str = "event_weight";
/// See [`SAMPLE_WEIGHT`].
pub const EVENT_RATE: &str = "event_rate";

/// What compression did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CompressionReport {
    /// Rows read.
    pub input_rows: u64,
    /// Their total weight (= rows without a weight column).
    pub input_weight: f64,
    /// Their event weight.
    pub input_events: f64,
    /// Rows written.
    pub output_rows: u64,
    /// input rows / output rows.
    pub ratio: f64,
    /// input rows − output rows.
    pub rows_eliminated: u64,
    /// Bytes of the compressed rows in memory.
    pub output_bytes: u64,
    /// The same columns for every input row, estimated as input rows ×
    /// bytes per compressed row.
    pub input_bytes_estimate: u64,
    /// The difference.
    pub bytes_saved: u64,
}

/// Compresses `df` by the columns `by` (bin and segment columns) with the
/// 0/1 `target` and an optional row `weight`. The result has `by`,
/// `sample_weight`, `event_weight` and `event_rate`; an error if its totals
/// differ from the input's (exactly, for whole-number weights).
///
/// ```
/// use scorelake::scorecard::compress;
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// let df = session.ctx().sql("SELECT * FROM (VALUES (1, 0), (1, 1), (2, 0), (1, 1)) AS t(b, y)").await?;
/// let (compressed, report) = compress(&df, &["b".to_string()], "y", None).await?;
/// assert_eq!((report.input_rows, report.output_rows), (4, 2));
/// let rows = compressed.sort(vec![scorelake::datafusion::prelude::col("b").sort(true, false)])?.collect().await?;
/// assert_eq!(rows[0].num_rows(), 2);
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn compress(
    df: &DataFrame,
    by: &[String],
    target: &str,
    weight: Option<&str>,
) -> Result<(DataFrame, CompressionReport)> {
    check_keys(df, by, target, weight)?;
    let totals = Totals::of(df, target, weight).await?;
    compress_with(df, by, target, weight, totals).await
}

fn check_keys(df: &DataFrame, by: &[String], target: &str, weight: Option<&str>) -> Result<()> {
    if by.is_empty() {
        return Err(Error::InvalidInput(
            "compression needs at least one column to group by".into(),
        ));
    }
    for c in by {
        find(df.schema(), c, "grouping column")?;
        if c == target || Some(c.as_str()) == weight {
            return invalid_err!(
                "`{c}` is the target or the weight; it cannot be a grouping column"
            );
        }
        if [SAMPLE_WEIGHT, EVENT_WEIGHT, EVENT_RATE].contains(&c.as_str()) {
            return invalid_err!("`{c}` is a column compression writes; rename it to group by it");
        }
    }
    Ok(())
}

/// [`compress`] with the input's totals known already (from a pass that
/// checked the target and weights on the same data, such as
/// [`fit_binning`](super::fit_binning)'s): one pass fewer.
pub async fn compress_with(
    df: &DataFrame,
    by: &[String],
    target: &str,
    weight: Option<&str>,
    totals: Totals,
) -> Result<(DataFrame, CompressionReport)> {
    let (schema, batches) = gathered(df, by, target, weight, totals, None).await?;
    let report = report(&batches, totals);
    Ok((in_memory(df, schema, batches)?, report))
}

/// The compressed rows of `df` gathered, their totals checked against the
/// input's `totals`.
async fn gathered(
    df: &DataFrame,
    by: &[String],
    target: &str,
    weight: Option<&str>,
    totals: Totals,
    packed: Option<(&PackedBins, bool)>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    check_keys(df, by, target, weight)?;
    let (input_weight, input_events) = (totals.weight, totals.events);
    let plan = match packed {
        Some((p, code_segments)) => packed_grouping(df, p, code_segments, by, target, weight)?,
        None => grouping(df, by, target, weight)?,
    };
    let schema = std::sync::Arc::new(plan.schema().as_arrow().clone());
    let batches = plan.collect().await?;
    let sum_of = |name: &str| -> f64 {
        batches
            .iter()
            .filter_map(|b| b.column_by_name(name))
            .filter_map(|a| {
                datafusion::arrow::compute::sum(datafusion::arrow::array::AsArray::as_primitive::<
                    datafusion::arrow::datatypes::Float64Type,
                >(a))
            })
            .sum()
    };
    let (got_weight, got_events) = (sum_of(SAMPLE_WEIGHT), sum_of(EVENT_WEIGHT));
    let whole = |v: f64| v == v.trunc();
    let exact = whole(input_weight) && whole(input_events);
    let tolerance = if exact {
        0.0
    } else {
        1e-12 * input_weight.abs().max(1.0)
    };
    if (got_weight - input_weight).abs() > tolerance
        || (got_events - input_events).abs() > tolerance
    {
        return invalid_err!(
            "compression lost data: the compressed rows hold weight {got_weight} and events {got_events}, the input {input_weight} and {input_events}"
        );
    }
    Ok((schema, batches))
}

/// The rows `batches` as a table of `df`'s session.
fn in_memory(df: &DataFrame, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<DataFrame> {
    let table = MemTable::try_new(schema, vec![batches])?;
    let (state, _) = df.clone().into_parts();
    Ok(SessionContext::new_with_state(state).read_table(std::sync::Arc::new(table))?)
}

/// What compressing rows with `totals` into `batches` did.
fn report(batches: &[RecordBatch], totals: Totals) -> CompressionReport {
    let output_rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let output_bytes: u64 = batches.iter().map(memory).sum();
    let per_row = if output_rows > 0 {
        output_bytes as f64 / output_rows as f64
    } else {
        0.0
    };
    let input_bytes_estimate = (per_row * totals.rows as f64) as u64;
    CompressionReport {
        input_rows: totals.rows,
        input_weight: totals.weight,
        input_events: totals.events,
        output_rows,
        ratio: if output_rows > 0 {
            totals.rows as f64 / output_rows as f64
        } else {
            0.0
        },
        rows_eliminated: totals.rows.saturating_sub(output_rows),
        output_bytes,
        input_bytes_estimate,
        bytes_saved: input_bytes_estimate.saturating_sub(output_bytes),
    }
}

/// The compressed rows of `df` as a plan (nothing checked or gathered):
/// `by`, `sample_weight`, `event_weight`, `event_rate`.
pub(crate) fn grouping(
    df: &DataFrame,
    by: &[String],
    target: &str,
    weight: Option<&str>,
) -> Result<DataFrame> {
    let w = weight_or_one(weight);
    // Rows of weight 0 stand for no rows (as in statsmodels' freq_weights):
    // dropped, so no group has weight 0 and an undefined event rate.
    let kept = match weight {
        Some(_) => df.clone().filter(w.clone().gt(lit(0.0)))?,
        None => df.clone(),
    };
    let y = cast(column(target), DataType::Float64);
    let keys: Vec<Expr> = by.iter().map(|c| column(c)).collect();
    let grouped = kept.aggregate(
        keys,
        vec![
            weight_sum(weight).alias(SAMPLE_WEIGHT),
            sum(w * y).alias(EVENT_WEIGHT),
        ],
    )?;
    let mut out: Vec<Expr> = by.iter().map(|c| col(c.as_str())).collect();
    out.push(col(SAMPLE_WEIGHT));
    out.push(col(EVENT_WEIGHT));
    out.push((col(EVENT_WEIGHT) / col(SAMPLE_WEIGHT)).alias(EVENT_RATE));
    Ok(grouped.select(out)?)
}

/// [`grouping`] by the key of the `packed` bin columns and the other
/// columns of `by`; the bin columns are read back from the key after. With
/// `code_segments`, text columns of `by` join the key as codes
/// ([`segment_codes`]) while it fits an Int64, and are read back too.
fn packed_grouping(
    df: &DataFrame,
    packed: &PackedBins,
    code_segments: bool,
    by: &[String],
    target: &str,
    weight: Option<&str>,
) -> Result<DataFrame> {
    const KEY: &str = "__scorelake_packed_bins";
    let mut key = packed.key();
    let mut stride = packed.span();
    let mut coded = Vec::new();
    let mut rest = Vec::new();
    for c in by.iter().filter(|c| !packed.holds(c)) {
        let ty = find(df.schema(), c, "grouping column")?;
        match stride.checked_mul(segment_codes::SPAN) {
            Some(next) if code_segments && segment_codes::codable(&ty) => {
                let codes = segment_codes::Codes::new(c);
                key = key + segment_codes::code(&codes, column(c)) * lit(stride);
                coded.push((c.clone(), codes, stride, ty));
                stride = next;
            }
            _ => rest.push(c.clone()),
        }
    }
    let mut input = vec![key.alias(KEY)];
    input.extend(rest.iter().map(|c| column(c)));
    input.push(column(target));
    input.extend(weight.map(column));
    let keys: Vec<String> = [KEY.to_string()].into_iter().chain(rest).collect();
    let grouped = grouping(&df.clone().select(input)?, &keys, target, weight)?;
    let mut out: Vec<Expr> = by
        .iter()
        .map(|c| {
            let segment = coded.iter().find(|(name, ..)| name == c);
            match (packed.unpacked(col(KEY), c), segment) {
                (Some(bin), _) => bin,
                (None, Some((_, codes, stride, ty))) => {
                    segment_codes::value(codes, col(KEY), *stride, ty.clone()).alias(c)
                }
                (None, None) => col(c.as_str()),
            }
        })
        .collect();
    out.extend([SAMPLE_WEIGHT, EVENT_WEIGHT, EVENT_RATE].map(col));
    Ok(grouped.select(out)?)
}

/// Fits `spec` on `df` and compresses `df` by every variable's bin column
/// (and WoE column, `with_woe`) and `segments`, as
/// [`fit_binning`](super::fit_binning) then
/// [`Binning::compress_fitted`] do. Where every bin is known before it is
/// counted (numeric variables cut at quantiles, equal widths or given
/// splits), the bins' counts are read from the compressed rows: one pass
/// over `df` fewer.
///
/// ```
/// use scorelake::scorecard::{BinningSpec, fit_and_compress};
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// let df = session.ctx().sql(
///     "SELECT CAST(v AS DOUBLE) AS x, CAST(v > 60 AS INT) AS y FROM generate_series(1, 100) AS t(v)").await?;
/// let spec = BinningSpec::parse("target: y\ndefaults: {method: equal_width, bins: 2}\nvariables: [x]\n", "yaml")?;
/// let (binning, _, report) = fit_and_compress(&df, &spec, &[], false).await?;
/// assert_eq!(binning.variables[0].bin(2).unwrap().counts.events, 40.0);
/// assert_eq!((report.input_rows, report.output_rows), (100, 2));
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn fit_and_compress(
    df: &DataFrame,
    spec: &BinningSpec,
    segments: &[String],
    with_woe: bool,
) -> Result<(Binning, DataFrame, CompressionReport)> {
    let fitting = Fitting::prepare(df, spec).await?;
    if !fitting.bins_are_final() {
        let counts = fitting.pre_bin_counts(df).await?;
        let binning = fitting.finish(df, counts).await?;
        let (compressed, report) = binning
            .compress_fitted(df.clone(), None, segments, with_woe)
            .await?;
        return Ok((binning, compressed, report));
    }
    let uncounted = Binning {
        format: FORMAT.into(),
        target: spec.target.clone(),
        weight: spec.weight.clone(),
        total_rows: 0,
        total_weight: 0.0,
        total_events: 0.0,
        variables: fitting.uncounted()?,
    };
    let mut by: Vec<String> = uncounted
        .variables
        .iter()
        .map(|v| bin_column(&v.column))
        .collect();
    by.extend(segments.iter().cloned());
    let binned = uncounted.transform(df.clone(), None)?;
    let weight = spec.weight.as_deref();
    let totals = fitting.totals();
    // Grouped by one key for the bins: one hash and comparison per row
    // instead of one per variable.
    let packed = PackedBins::of(&uncounted.variables);
    // Text segments join the key as codes given in this process (not on a
    // cluster); a segment with more values than codes is grouped as text.
    let code_segments = !crate::session::runs_elsewhere(df);
    let packing = packed.as_ref().map(|p| (p, code_segments));
    let (schema, rows) = match gathered(&binned, &by, &spec.target, weight, totals, packing).await {
        Err(Error::Engine(e)) if code_segments && segment_codes::too_many(&e) => {
            let packing = packed.as_ref().map(|p| (p, false));
            gathered(&binned, &by, &spec.target, weight, totals, packing).await?
        }
        result => result?,
    };
    let counts = fitting.counts_of_groups(&rows, bin_column, SAMPLE_WEIGHT, EVENT_WEIGHT)?;
    let binning = fitting.finish(df, counts).await?;
    if !with_woe {
        let report = report(&rows, totals);
        return Ok((binning, in_memory(df, schema, rows)?, report));
    }
    // Each bin column followed by its WoE, as compress_fitted groups them.
    let mut columns = Vec::new();
    for v in &binning.variables {
        let bin = col(bin_column(&v.column).as_str());
        columns.push(bin.clone());
        columns.push(
            v.by_bin_number(bin, |b| b.woe)?
                .alias(woe_column(&v.column)),
        );
    }
    columns.extend(
        segments
            .iter()
            .chain(
                [SAMPLE_WEIGHT, EVENT_WEIGHT, EVENT_RATE]
                    .map(String::from)
                    .iter(),
            )
            .map(|c| col(c.as_str())),
    );
    let with_woe = in_memory(df, schema, rows)?.select(columns)?;
    let schema = std::sync::Arc::new(with_woe.schema().as_arrow().clone());
    let batches = with_woe.collect().await?;
    let report = report(&batches, totals);
    Ok((binning, in_memory(df, schema, batches)?, report))
}

/// Bytes of a batch's values (not of the buffers' spare capacity).
fn memory(b: &RecordBatch) -> u64 {
    b.columns()
        .iter()
        .map(|a| {
            a.to_data()
                .get_slice_memory_size()
                .unwrap_or_else(|_| a.get_array_memory_size()) as u64
        })
        .sum()
}

impl Binning {
    /// Bins `df` and compresses it by the bin columns of `variables` (all
    /// when `None`), their WoE columns when `with_woe`, and `segments`;
    /// verified against the totals of the fitting data, so `df` must be
    /// the data the binning was fitted on.
    pub async fn compress_fitted(
        &self,
        df: DataFrame,
        variables: Option<&[String]>,
        segments: &[String],
        with_woe: bool,
    ) -> Result<(DataFrame, CompressionReport)> {
        let names: Vec<String> = match variables {
            Some(v) => v.to_vec(),
            None => self.variables.iter().map(|v| v.column.clone()).collect(),
        };
        let mut by = Vec::new();
        for v in &names {
            by.push(bin_column(v));
            if with_woe {
                by.push(woe_column(v));
            }
        }
        by.extend(segments.iter().cloned());
        let binned = self.transform(df, Some(&names))?;
        compress_with(
            &binned,
            &by,
            &self.target,
            self.weight.as_deref(),
            self.totals(),
        )
        .await
    }
}
