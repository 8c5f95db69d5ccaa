//! Files with two columns of one name (other writers make them: pyarrow,
//! a CSV header, the NCF crate) are refused, naming the file and the column,
//! instead of one of the columns being dropped.

use std::sync::Arc;

use scorelake::Error;
use scorelake::datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use scorelake::datafusion::arrow::datatypes::{DataType, Field, Schema};
use scorelake::datafusion::arrow::record_batch::RecordBatch;
use scorelake::datafusion::parquet::arrow::ArrowWriter;
use scorelake::io::{self, ReadOptions};

use crate::support::session;

/// A batch with columns `id`, `amount`, `amount` (the second of `second`'s type).
fn batch(second: &DataType) -> RecordBatch {
    let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
    let first: ArrayRef = Arc::new(Int64Array::from(vec![10, 20, 30]));
    let other: ArrayRef = match second {
        DataType::Utf8 => Arc::new(StringArray::from(vec!["x", "y", "z"])),
        _ => Arc::new(Int64Array::from(vec![7, 8, 9])),
    };
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("amount", DataType::Int64, false),
        Field::new("amount", second.clone(), false),
    ]);
    RecordBatch::try_new(Arc::new(schema), vec![ids, first, other]).unwrap()
}

/// Reads `path` and checks the error names the file and the column.
async fn assert_refused(path: &std::path::Path, options: &ReadOptions) {
    let e = io::read(&session(), path.to_str().unwrap(), options)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Read { .. }), "{e}");
    let e = e.to_string();
    let file = path.file_name().unwrap().to_string_lossy();
    assert!(
        e.contains(file.as_ref()) && e.contains("column `amount` appears twice"),
        "{e}"
    );
}

#[tokio::test]
async fn parquet_files_with_a_repeated_column_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, second) in [
        ("same.parquet", DataType::Int64),
        ("other.parquet", DataType::Utf8),
    ] {
        let b = batch(&second);
        let path = dir.path().join(name);
        let mut w =
            ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), b.schema(), None).unwrap();
        w.write(&b).unwrap();
        w.close().unwrap();
        assert_refused(&path, &ReadOptions::default()).await;
        // In a directory too, and with merge_schema.
        let folder = dir.path().join(format!("dir_{name}"));
        std::fs::create_dir(&folder).unwrap();
        std::fs::copy(&path, folder.join(name)).unwrap();
        let merged = ReadOptions {
            merge_schema: true,
            ..ReadOptions::default()
        };
        assert_refused(&folder, &merged).await;
    }
}

#[tokio::test]
async fn csv_headers_with_a_repeated_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("same.csv", "id,amount,amount\n1,10,7\n2,20,8\n"),
        ("other.csv", "id,amount,amount\n1,10,x\n2,20,y\n"),
        ("quoted.csv", "id,\"amount\",amount\n1,10,7\n"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        assert_refused(&path, &ReadOptions::default()).await;
    }
}

#[tokio::test]
async fn ncf_files_with_a_repeated_column_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ncf");
    let b = batch(&DataType::Int64);
    let file = std::fs::File::create(&path).unwrap();
    let mut w = ncf::NcfWriter::new(file, b.schema(), ncf::WriteOptions::default()).unwrap();
    w.write(&b).unwrap();
    w.finish().unwrap();
    assert_refused(&path, &ReadOptions::default()).await;
}
