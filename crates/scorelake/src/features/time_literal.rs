//! Dates as literals of a time column's type (dates, timestamps of any unit).

use chrono::NaiveTime;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::scalar::ScalarValue;

use crate::error::{Result, invalid_err};

/// `day` (midnight) as a literal of the time column's type.
pub(super) fn time_literal_of_day(ty: &DataType, day: chrono::NaiveDate) -> Result<ScalarValue> {
    time_literal(ty, micros_of(day))
}

pub(super) fn micros_of(day: chrono::NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp_micros()
}

/// `micros` as a literal of the time column's type.
pub(super) fn time_literal(ty: &DataType, micros: i64) -> Result<ScalarValue> {
    Ok(match ty {
        DataType::Date32 => ScalarValue::Date32(Some(micros.div_euclid(86_400_000_000) as i32)),
        DataType::Date64 => ScalarValue::Date64(Some(micros.div_euclid(1000))),
        DataType::Timestamp(unit, tz) => {
            let v = match unit {
                TimeUnit::Second => micros.div_euclid(1_000_000),
                TimeUnit::Millisecond => micros.div_euclid(1000),
                TimeUnit::Microsecond => micros,
                TimeUnit::Nanosecond => micros.saturating_mul(1000),
            };
            match unit {
                TimeUnit::Second => ScalarValue::TimestampSecond(Some(v), tz.clone()),
                TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(v), tz.clone()),
                TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(v), tz.clone()),
                TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(Some(v), tz.clone()),
            }
        }
        other => {
            return invalid_err!("a snapshot needs a date or timestamp time column, not {other}");
        }
    })
}
