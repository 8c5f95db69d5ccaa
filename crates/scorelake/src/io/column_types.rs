//! Column types a format cannot store as they are, cast to ones it can,
//! with the same values.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Column;
use datafusion::logical_expr::{Expr, cast};
use datafusion::prelude::DataFrame;

/// The Parquet type of an Arrow type Parquet has no logical type for, with
/// the same values: seconds timestamps as milliseconds (same time zone),
/// `Date64` (whole days in milliseconds, by Arrow's definition) as `Date32`.
/// Written as they are, both would be plain INT64 columns that other readers
/// take for integers.
pub(super) fn parquet_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Timestamp(TimeUnit::Second, tz) => {
            Some(DataType::Timestamp(TimeUnit::Millisecond, tz.clone()))
        }
        DataType::Date64 => Some(DataType::Date32),
        _ => None,
    }
}

/// The Delta type of an unsigned integer type (Delta's integers are
/// signed): the next wider signed type. `uint64` becomes `long` too; a value
/// of 2^63 or more then fails the write (the cast refuses it) instead of
/// being written as a negative number.
pub(super) fn delta_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::UInt8 => Some(DataType::Int16),
        DataType::UInt16 => Some(DataType::Int32),
        DataType::UInt32 | DataType::UInt64 => Some(DataType::Int64),
        _ => None,
    }
}

/// `df` with each column whose type `to` maps cast to that type (same name).
pub(super) fn cast_columns(
    df: DataFrame,
    to: fn(&DataType) -> Option<DataType>,
) -> datafusion::error::Result<DataFrame> {
    let schema = df.schema();
    if !schema.fields().iter().any(|f| to(f.data_type()).is_some()) {
        return Ok(df);
    }
    let columns: Vec<Expr> = schema
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::from((qualifier, field)));
            match to(field.data_type()) {
                Some(t) => cast(column, t).alias(field.name()),
                None => column,
            }
        })
        .collect();
    df.select(columns)
}
