//! Hive partition folders (`key=value/`): the text each partition value is
//! written as, and the columns read back from the folder names.
//!
//! NULL is written as `__HIVE_DEFAULT_PARTITION__`, as Spark, Hive and Delta
//! write it, and that folder reads back as NULL whatever the column's type.
//! The object store percent-encodes characters a path should not hold (`/`,
//! `%`, non-ASCII letters…) in keys and values alike; both are decoded on
//! read, so `région=Île-de-France/` written here or by Spark reads back as
//! column `région` with value `Île-de-France`.

use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::Column;
use datafusion::functions::expr_fn::nullif;
use datafusion::logical_expr::{Expr, cast, lit, when};
use datafusion::prelude::DataFrame;
use percent_encoding::percent_decode_str;

use super::location::Location;
use crate::error::{Result, ensure, invalid_err};

/// The folder value of a NULL partition value.
const NULL_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";

/// `df` with each column of `partition_by` replaced by the text of its
/// folder names: the value as text, [`NULL_VALUE`] for NULL.
///
/// Refuses keys whose folders would not read back as the same column: names
/// starting with `.` or `_` (hidden from readers) or holding `=`, and types
/// whose values do not read back (timestamps, decimals, binary, nested…).
pub(super) fn with_folder_values(
    df: DataFrame,
    loc: &Location,
    partition_by: &[String],
) -> Result<DataFrame> {
    if partition_by.is_empty() {
        return Ok(df);
    }
    let mut columns = Vec::with_capacity(df.schema().fields().len());
    for (qualifier, field) in df.schema().iter() {
        let column = Expr::Column(Column::from((qualifier, field)));
        let name = field.name();
        if !partition_by.contains(name) {
            columns.push(column);
            continue;
        }
        ensure!(
            !name.starts_with(['.', '_']) && !name.contains('='),
            "cannot partition `{loc}` by `{name}`: a folder key must not start with `.` or `_` (readers skip such folders) nor hold `=`"
        );
        let Some(text) = as_text(column.clone(), field.data_type()) else {
            return invalid_err!(
                "cannot partition `{loc}` by `{name}`: its type {} does not read back from folder names (partition by integers, floats, booleans, dates or text)",
                field.data_type()
            );
        };
        let value = when(column.is_null(), lit(NULL_VALUE))
            .otherwise(text)?
            .alias(name);
        columns.push(value);
    }
    Ok(df.select(columns)?)
}

/// `value` as the text of a folder name, for the types whose text reads
/// back as the same value.
fn as_text(value: Expr, data_type: &DataType) -> Option<Expr> {
    match data_type {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Date32
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View => Some(cast(value, DataType::Utf8)),
        // `YYYY-MM-DD`, as for Date32 (Date64's own text has a time).
        DataType::Date64 => Some(cast(cast(value, DataType::Date32), DataType::Utf8)),
        DataType::Dictionary(_, values) => as_text(cast(value, (**values).clone()), values),
        _ => None,
    }
}

/// The partition columns of a listing: what the engine parses from the
/// folder names, and the columns the table shows.
pub(super) struct FolderKeys {
    /// Keys as spelled in the folders, with the type the engine parses
    /// their values as.
    pub declared: Vec<(String, DataType)>,
    /// Per key spelled differently from its column or holding NULL folders:
    /// the spelling and the expression for the column.
    renamed: Vec<(String, Expr)>,
}

impl FolderKeys {
    /// Reads the keys of `partitions` (as spelled in the folders, with
    /// every value seen): each typed by [`partition_type`] and named by its
    /// decoded spelling.
    pub(super) fn new(partitions: &[(String, Vec<String>)]) -> Self {
        let mut declared = Vec::with_capacity(partitions.len());
        let mut renamed = Vec::new();
        for (key, values) in partitions {
            let values: Vec<String> = values.iter().map(|v| decode(v)).collect();
            let data_type = partition_type(&values);
            let name = decode(key);
            let has_null = values.iter().any(|v| v == NULL_VALUE);
            if !has_null && name == *key {
                declared.push((key.clone(), data_type));
                continue;
            }
            // NULL folders do not parse as the type: read the text, then
            // turn NULL_VALUE into NULL and cast.
            declared.push((
                key.clone(),
                if has_null {
                    DataType::Utf8
                } else {
                    data_type.clone()
                },
            ));
            let mut column = Expr::Column(Column::from_name(key));
            if has_null {
                column = nullif(column, lit(NULL_VALUE));
                if data_type != DataType::Utf8 {
                    column = cast(column, data_type);
                }
            }
            renamed.push((key.clone(), column.alias(name)));
        }
        Self { declared, renamed }
    }

    /// Refuses keys whose column name is also a column of the files.
    pub(super) fn check(&self, loc: &Location, files: &Schema) -> Result<()> {
        for (key, _) in &self.declared {
            let name = decode(key);
            ensure!(
                files.field_with_name(&name).is_err(),
                "`{loc}` has partition folders `{key}=…` and a column `{name}` in its files: one table cannot hold both"
            );
        }
        Ok(())
    }

    /// `df` (the table as the engine reads it) with the keys renamed and
    /// NULL folders read as NULL.
    pub(super) fn columns(&self, df: DataFrame) -> Result<DataFrame> {
        if self.renamed.is_empty() {
            return Ok(df);
        }
        let columns: Vec<Expr> = df
            .schema()
            .iter()
            .map(|(qualifier, field)| {
                match self.renamed.iter().find(|(key, _)| key == field.name()) {
                    Some((_, column)) => column.clone(),
                    None => Expr::Column(Column::from((qualifier, field))),
                }
            })
            .collect();
        Ok(df.select(columns)?)
    }
}

/// The value of a partition folder's text: `None` for NULL.
pub(super) fn folder_value(text: &str) -> Option<String> {
    (text != NULL_VALUE).then(|| decode(text))
}

/// A folder name's text, percent-decoded (kept as it is when the decoded
/// bytes are not UTF-8, as the engine does for values).
pub(super) fn decode(text: &str) -> String {
    percent_decode_str(text)
        .decode_utf8()
        .map_or_else(|_| text.to_string(), |t| t.into_owned())
}

/// `df` read from the folder `loc` with the partition keys that `loc`'s own
/// path ends in (`…/month=2024-11-01/`, one partition of a table) added as
/// columns, typed as when the whole table is read, unless the files hold
/// them already.
pub(super) fn with_url_keys(df: DataFrame, loc: &Location) -> Result<DataFrame> {
    let path = loc.url().path().trim_end_matches('/');
    let mut keys: Vec<(String, String)> = path
        .rsplit('/')
        .map_while(|segment| {
            segment
                .split_once('=')
                .filter(|(k, _)| !k.is_empty() && !k.starts_with(['.', '_']))
                .map(|(k, v)| (decode(k), v.to_string()))
        })
        .collect();
    keys.reverse();
    let mut df = df;
    for (name, value) in keys {
        if df.schema().has_column_with_unqualified_name(&name) {
            continue;
        }
        let value = decode(&value);
        let ty = partition_type(std::slice::from_ref(&value));
        let expr = if value == NULL_VALUE {
            cast(lit(datafusion::scalar::ScalarValue::Utf8(None)), ty)
        } else {
            cast(lit(value), ty)
        };
        df = df.with_column(&name, expr)?;
    }
    Ok(df)
}

/// The narrowest type all partition values (decoded) parse as: Int64,
/// Date32 or Utf8. NULL folders count for none; an empty value is text.
fn partition_type(values: &[String]) -> DataType {
    let real: Vec<&String> = values.iter().filter(|v| *v != NULL_VALUE).collect();
    if real.is_empty() {
        DataType::Utf8
    } else if real.iter().all(|v| v.parse::<i64>().is_ok()) {
        DataType::Int64
    } else if real
        .iter()
        .all(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok())
    {
        DataType::Date32
    } else {
        DataType::Utf8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_types_are_inferred() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(partition_type(&s(&["1", "20", "-3"])), DataType::Int64);
        assert_eq!(
            partition_type(&s(&["2024-01-01", "2024-02-01"])),
            DataType::Date32
        );
        assert_eq!(partition_type(&s(&["a", "1"])), DataType::Utf8);
        assert_eq!(partition_type(&s(&["", "1"])), DataType::Utf8);
        assert_eq!(
            partition_type(&s(&["__HIVE_DEFAULT_PARTITION__", "7"])),
            DataType::Int64
        );
        assert_eq!(
            partition_type(&s(&["__HIVE_DEFAULT_PARTITION__"])),
            DataType::Utf8
        );
    }

    #[test]
    fn folder_names_are_decoded() {
        assert_eq!(decode("r%C3%A9gion"), "région");
        assert_eq!(decode("a%2Fb"), "a/b");
        assert_eq!(decode("plain"), "plain");
        // Not UTF-8 once decoded: kept as written.
        assert_eq!(decode("%FF"), "%FF");
    }
}
