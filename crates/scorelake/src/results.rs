//! Reading numbers out of the small results of aggregate queries (fitted
//! values, metrics): the plumbing shared by the domain modules.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::scalar::ScalarValue;

/// Column `name` of row `row` as f64 (None for null, a missing column or a non-number).
pub(crate) fn number_at(batch: &RecordBatch, name: &str, row: usize) -> Option<f64> {
    let a = batch.column_by_name(name)?;
    match ScalarValue::try_from_array(a, row)
        .ok()?
        .cast_to(&DataType::Float64)
        .ok()?
    {
        ScalarValue::Float64(v) => v,
        _ => None,
    }
}

/// Column `name` of the first row of `batches` as f64.
pub(crate) fn first_number(batches: &[RecordBatch], name: &str) -> Option<f64> {
    let b = batches.iter().find(|b| b.num_rows() > 0)?;
    number_at(b, name, 0)
}

/// Column `name` of the first row of `batches` as text (a date as
/// `2024-01-31`; None for null or a missing column).
pub(crate) fn first_text(batches: &[RecordBatch], name: &str) -> Option<String> {
    let b = batches.iter().find(|b| b.num_rows() > 0)?;
    let a = b.column_by_name(name)?;
    match ScalarValue::try_from_array(a, 0)
        .ok()?
        .cast_to(&DataType::Utf8)
        .ok()?
    {
        ScalarValue::Utf8(v) => v,
        _ => None,
    }
}
