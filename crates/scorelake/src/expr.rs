//! The expression toolbox every domain module builds plans with: columns by
//! their exact names, numbers with NaN read as missing, the text test for
//! categories, and the type of a column looked up with a named error.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::functions::math::expr_fn::isnan;
use datafusion::logical_expr::{Expr, cast, col, lit, when};
use datafusion::scalar::ScalarValue;

use crate::error::{Error, Result, closest};

/// A column by its name as written (no case folding, dots allowed).
/// The unqualified names of `schema`'s columns, in order.
pub(crate) fn column_names(schema: &DFSchema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

pub(crate) fn column(name: &str) -> Expr {
    col(datafusion::common::Column::new_unqualified(name))
}

/// `x` as a float with NaN read as missing.
pub(crate) fn number(name: &str) -> Expr {
    let x = cast(column(name), DataType::Float64);
    when(isnan(x.clone()), lit(ScalarValue::Float64(None)))
        .otherwise(x)
        .unwrap_or_else(|_| lit(ScalarValue::Float64(None)))
}

/// Text columns (plain, large, view or dictionary-encoded): categories.
pub(crate) fn is_text(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _)
    )
}

/// The type of `name` in `schema`, or an [`Error::UnknownColumn`] naming the
/// closest names; `role` says what the column is for.
pub(crate) fn find(schema: &DFSchema, name: &str, role: &str) -> Result<DataType> {
    if let Ok(f) = schema.field_with_unqualified_name(name) {
        return Ok(f.data_type().clone());
    }
    let available: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    Err(Error::UnknownColumn {
        role: role.to_string(),
        name: name.to_string(),
        suggestion: closest(name, available.iter().map(String::as_str)).map(str::to_string),
        available,
    })
}
