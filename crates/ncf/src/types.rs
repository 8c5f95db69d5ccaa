//! Mapping between Arrow types and the footer's type names.

use arrow_schema::{DataType, TimeUnit};

use crate::error::{NcfError, Result};
use crate::footer::TypeMeta;

/// The footer type of an Arrow type, or an error naming the column.
pub(crate) fn to_meta(column: &str, t: &DataType) -> Result<TypeMeta> {
    let simple = |s: &str| Ok(TypeMeta::Simple(s.to_string()));
    match t {
        DataType::Boolean => simple("bool"),
        DataType::Int8 => simple("int8"),
        DataType::Int16 => simple("int16"),
        DataType::Int32 => simple("int32"),
        DataType::Int64 => simple("int64"),
        DataType::UInt8 => simple("uint8"),
        DataType::UInt16 => simple("uint16"),
        DataType::UInt32 => simple("uint32"),
        DataType::UInt64 => simple("uint64"),
        DataType::Float32 => simple("float32"),
        DataType::Float64 => simple("float64"),
        DataType::Date32 => simple("date32"),
        DataType::Utf8 => simple("utf8"),
        DataType::Binary => simple("binary"),
        DataType::Timestamp(unit, tz) => Ok(TypeMeta::Timestamp {
            unit: unit_name(*unit).to_string(),
            timezone: tz.as_ref().map(|z| z.to_string()),
        }),
        DataType::Decimal128(precision, scale) => Ok(TypeMeta::Decimal128 {
            precision: *precision,
            scale: *scale,
        }),
        other => Err(NcfError::Unsupported(format!(
            "column `{column}` has type {other}, which NCF version 1 does not store"
        ))),
    }
}

/// The Arrow type of a footer type, or an error naming the column.
pub(crate) fn from_meta(column: &str, t: &TypeMeta) -> Result<DataType> {
    let unknown = || NcfError::Unsupported(format!("column `{column}` has unknown type {t:?}"));
    Ok(match t {
        TypeMeta::Simple(name) => match name.as_str() {
            "bool" => DataType::Boolean,
            "int8" => DataType::Int8,
            "int16" => DataType::Int16,
            "int32" => DataType::Int32,
            "int64" => DataType::Int64,
            "uint8" => DataType::UInt8,
            "uint16" => DataType::UInt16,
            "uint32" => DataType::UInt32,
            "uint64" => DataType::UInt64,
            "float32" => DataType::Float32,
            "float64" => DataType::Float64,
            "date32" => DataType::Date32,
            "utf8" => DataType::Utf8,
            "binary" => DataType::Binary,
            _ => return Err(unknown()),
        },
        TypeMeta::Timestamp { unit, timezone } => {
            let unit = match unit.as_str() {
                "s" => TimeUnit::Second,
                "ms" => TimeUnit::Millisecond,
                "us" => TimeUnit::Microsecond,
                "ns" => TimeUnit::Nanosecond,
                _ => return Err(unknown()),
            };
            DataType::Timestamp(unit, timezone.as_deref().map(Into::into))
        }
        TypeMeta::Decimal128 { precision, scale } => {
            if *precision == 0 || *precision > 38 || i16::from(*scale) > i16::from(*precision) {
                return Err(unknown());
            }
            DataType::Decimal128(*precision, *scale)
        }
    })
}

fn unit_name(unit: TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}
