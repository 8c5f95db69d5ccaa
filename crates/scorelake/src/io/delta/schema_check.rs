//! Whether new data fits a table's schema: new columns only with schema
//! merging, and never a column whose type changed.

use datafusion::arrow::datatypes::Schema as ArrowSchema;
use deltalake_core::kernel::StructType;
use deltalake_core::kernel::engine::arrow_conversion::TryIntoKernel;

/// How new data differs from a table's schema.
#[derive(Debug, Default, PartialEq)]
pub(super) struct SchemaChange {
    /// Columns the data has and the table does not.
    pub added: Vec<String>,
    /// Columns the table has and the data does not.
    pub missing: Vec<String>,
    /// Columns whose Delta type differs: (name, table type, data type).
    pub retyped: Vec<(String, String, String)>,
}

/// Compares `data` with the table's schema, by Delta type (so Utf8 and
/// Utf8View, or nanosecond and microsecond timestamps, are the same).
pub(super) fn compare(table: &StructType, data: &ArrowSchema) -> Result<SchemaChange, String> {
    let data: StructType = data
        .try_into_kernel()
        .map_err(|e| format!("the data's schema has no Delta equivalent: {e}"))?;
    let mut change = SchemaChange::default();
    for field in data.fields() {
        match table.field(field.name()) {
            None => change.added.push(field.name().to_string()),
            Some(existing) if !same_type(existing.data_type(), field.data_type()) => {
                change.retyped.push((
                    field.name().to_string(),
                    existing.data_type().to_string(),
                    field.data_type().to_string(),
                ));
            }
            Some(_) => {}
        }
    }
    change.missing = table
        .fields()
        .filter(|f| data.field(f.name()).is_none())
        .map(|f| f.name().to_string())
        .collect();
    Ok(change)
}

/// Types equal up to nullability of nested fields.
fn same_type(a: &deltalake_core::kernel::DataType, b: &deltalake_core::kernel::DataType) -> bool {
    a.to_string() == b.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};

    fn table(fields: Vec<Field>) -> StructType {
        (&ArrowSchema::new(fields)).try_into_kernel().unwrap()
    }

    #[test]
    fn new_and_retyped_columns_are_found() {
        let t = table(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]);
        let same = ArrowSchema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8View, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                true,
            ),
        ]);
        assert_eq!(compare(&t, &same).unwrap(), SchemaChange::default());
        let changed = ArrowSchema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
        ]);
        let c = compare(&t, &changed).unwrap();
        assert_eq!(c.added, vec!["score".to_string()]);
        assert_eq!(c.missing, vec!["name".to_string(), "at".to_string()]);
        assert_eq!(
            c.retyped,
            vec![("id".to_string(), "long".to_string(), "string".to_string())]
        );
    }
}
