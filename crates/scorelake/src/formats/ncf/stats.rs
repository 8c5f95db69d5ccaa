//! Planner statistics of an NCF file from its footer: exact row and null
//! counts, and exact min/max where every row group records them.

use std::cmp::Ordering;

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, ScalarValue};
use ncf::footer::Footer;
use ncf::{Value, stat_value};

/// Statistics of the file column `c` (of type `t` in the file) as the table
/// column `wanted`; values of another type than the table's are not used.
pub(super) fn column(footer: &Footer, c: usize, t: &DataType, wanted: &Field) -> ColumnStatistics {
    // Counts are checked against the row counts: a count no row group can
    // hold leaves the column's nulls unknown.
    let nulls = footer.row_groups.iter().try_fold(0u64, |total, g| {
        let n = g.columns[c].stats.null_count?;
        (n <= g.num_rows).then(|| total + n)
    });
    let (min, max) = if t == wanted.data_type() {
        (
            bound(footer, c, t, Ordering::Less),
            bound(footer, c, t, Ordering::Greater),
        )
    } else {
        (None, None)
    };
    let exact = |v: Option<ScalarValue>| v.map_or(Precision::Absent, Precision::Exact);
    ColumnStatistics {
        null_count: nulls.map_or(Precision::Absent, |n| Precision::Exact(n as usize)),
        min_value: exact(min),
        max_value: exact(max),
        ..ColumnStatistics::new_unknown()
    }
}

/// The smallest (`Less`) or largest (`Greater`) bound over all row groups
/// holding values; `None` when any such group lacks it.
fn bound(footer: &Footer, c: usize, t: &DataType, side: Ordering) -> Option<ScalarValue> {
    let mut best: Option<ScalarValue> = None;
    for g in &footer.row_groups {
        let stats = &g.columns[c].stats;
        if stats.null_count == Some(g.num_rows) {
            continue; // only nulls: no bound to contribute
        }
        let text = if side == Ordering::Less {
            &stats.min
        } else {
            &stats.max
        };
        let value = scalar(t, stat_value(t, text.as_ref()?)?)?;
        best = Some(match best {
            Some(b) if order(&value, &b)? != side => b,
            _ => value,
        });
    }
    best
}

/// Scalars in the engine's order; floats totally ordered (-0.0 below 0.0).
fn order(a: &ScalarValue, b: &ScalarValue) -> Option<Ordering> {
    match (a, b) {
        (ScalarValue::Float64(Some(x)), ScalarValue::Float64(Some(y))) => Some(x.total_cmp(y)),
        (ScalarValue::Float32(Some(x)), ScalarValue::Float32(Some(y))) => Some(x.total_cmp(y)),
        _ => a.partial_cmp(b),
    }
}

/// A statistics value as a scalar of type `t`.
fn scalar(t: &DataType, v: Value) -> Option<ScalarValue> {
    use DataType as D;
    use ScalarValue as S;
    Some(match (t, v) {
        (D::Boolean, Value::Bool(b)) => S::Boolean(Some(b)),
        (D::Int8, Value::Int(i)) => S::Int8(Some(i8::try_from(i).ok()?)),
        (D::Int16, Value::Int(i)) => S::Int16(Some(i16::try_from(i).ok()?)),
        (D::Int32, Value::Int(i)) => S::Int32(Some(i32::try_from(i).ok()?)),
        (D::Int64, Value::Int(i)) => S::Int64(Some(i64::try_from(i).ok()?)),
        (D::UInt8, Value::Int(i)) => S::UInt8(Some(u8::try_from(i).ok()?)),
        (D::UInt16, Value::Int(i)) => S::UInt16(Some(u16::try_from(i).ok()?)),
        (D::UInt32, Value::Int(i)) => S::UInt32(Some(u32::try_from(i).ok()?)),
        (D::UInt64, Value::Int(i)) => S::UInt64(Some(u64::try_from(i).ok()?)),
        (D::Date32, Value::Int(i)) => S::Date32(Some(i32::try_from(i).ok()?)),
        (D::Timestamp(unit, tz), Value::Int(i)) => {
            let v = Some(i64::try_from(i).ok()?);
            match unit {
                TimeUnit::Second => S::TimestampSecond(v, tz.clone()),
                TimeUnit::Millisecond => S::TimestampMillisecond(v, tz.clone()),
                TimeUnit::Microsecond => S::TimestampMicrosecond(v, tz.clone()),
                TimeUnit::Nanosecond => S::TimestampNanosecond(v, tz.clone()),
            }
        }
        (D::Decimal128(p, s), Value::Int(i)) => S::Decimal128(Some(i), *p, *s),
        (D::Float32, Value::Float(f)) => S::Float32(Some(f as f32)),
        (D::Float64, Value::Float(f)) => S::Float64(Some(f)),
        (D::Utf8, Value::Bytes(b)) => S::Utf8(Some(String::from_utf8(b).ok()?)),
        (D::Binary, Value::Bytes(b)) => S::Binary(Some(b)),
        _ => return None,
    })
}
