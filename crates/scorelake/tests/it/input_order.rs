//! Declared input order: the sample records its row order in Parquet
//! (`sorting_columns`), the temporal features then skip
//! the engine's sort, and a file declaring an order it does not have is
//! caught, never read as histories split in two.

use std::path::Path;

use scorelake::config::ConfigBuilder;
use scorelake::datafusion::arrow::array::RecordBatch;
use scorelake::datafusion::parquet::arrow::ArrowWriter;
use scorelake::datafusion::parquet::file::metadata::SortingColumn;
use scorelake::datafusion::parquet::file::properties::WriterProperties;
use scorelake::datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use scorelake::datafusion::prelude::{col, lit};
use scorelake::io::WriteOptions;
use scorelake::pipeline::{FeaturesJob, run_features};
use scorelake::sample::{self, SampleSpec};
use scorelake::session::Session;

use crate::support::{collect, read_from, session, sorted_rows};

/// The `sorting_columns` of every row group of the Parquet file at `path`.
fn sorting_columns(path: &Path) -> Vec<Option<Vec<SortingColumn>>> {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| rg.sorting_columns().cloned())
        .collect()
}

fn ascending(column_idx: i32) -> SortingColumn {
    SortingColumn {
        column_idx,
        descending: false,
        nulls_first: false,
    }
}

/// Writes `batches` to `path`, declaring (customer_id, month) order whether
/// or not the rows have it.
fn write_declared_sorted(batches: &[RecordBatch], path: &Path) {
    let props = WriterProperties::builder()
        .set_sorting_columns(Some(vec![ascending(0), ascending(1)]))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batches[0].schema(), Some(props)).unwrap();
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.close().unwrap();
}

/// The features of the example recipes on `input`, written to `output`: the
/// error, or the rows (as sorted text).
async fn features(session: &Session, input: &Path, output: &Path) -> Result<Vec<String>, String> {
    let recipes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/panel-features.yaml");
    let mut job = FeaturesJob::default();
    job.recipes = Some(recipes);
    job.input = input.to_str().unwrap().into();
    job.output = output.to_str().unwrap().into();
    job.write = WriteOptions {
        mode: scorelake::io::WriteMode::Overwrite,
        ..WriteOptions::default()
    };
    run_features(session, &job)
        .await
        .map_err(|e| e.to_string())?;
    Ok(sorted_rows(
        &collect(read_from(session, output).await).await,
    ))
}

#[tokio::test]
async fn declared_order_is_recorded_used_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let spec = SampleSpec {
        customers: 400,
        months: 12,
        seed: 5,
        ..SampleSpec::default()
    };
    // The sample, written as `scorelake sample` does: its order recorded.
    let sorted = dir.path().join("sorted.parquet");
    let options = WriteOptions {
        sorted_by: sample::ORDER.map(String::from).to_vec(),
        ..WriteOptions::default()
    };
    let df = sample::dataframe(&session, &spec, None).unwrap();
    scorelake::io::write(&session, df, sorted.to_str().unwrap(), &options)
        .await
        .unwrap();
    let declared = vec![ascending(0), ascending(1)];
    assert!(
        sorting_columns(&sorted)
            .iter()
            .all(|s| s.as_ref() == Some(&declared))
    );

    // The same rows shuffled, with no order declared; and shuffled but
    // declared sorted.
    let shuffled_rows = collect(
        read_from(&session, &sorted)
            .await
            .sort(vec![
                ((col("customer_id") * lit(7919)) % lit(1009)).sort(true, false),
                col("month").sort(false, false),
            ])
            .unwrap(),
    )
    .await;
    let shuffled = dir.path().join("shuffled.parquet");
    let liar = dir.path().join("liar.parquet");
    crate::support::write_to(
        &session,
        session.ctx().read_batches(shuffled_rows.clone()).unwrap(),
        &shuffled,
    )
    .await;
    write_declared_sorted(&shuffled_rows, &liar);

    // Features of the sorted input: no sort in the plan, and no
    // repartition or merge either: the file is read as one stream, even
    // where the engine cuts it into byte ranges to scan them in parallel.
    let log_dir = dir.path().join("runs");
    std::fs::create_dir(&log_dir).unwrap();
    let recording = Session::new(
        ConfigBuilder::new()
            .set(
                "observability.metrics_dir",
                log_dir.to_str().unwrap(),
                "test",
            )
            .and_then(|b| {
                b.set(
                    "datafusion.optimizer.repartition_file_min_size",
                    "0",
                    "test",
                )
            })
            .and_then(|b| b.set("engine.target_partitions", "3", "test"))
            .unwrap()
            .build()
            .unwrap(),
    )
    .unwrap();
    let run = scorelake::observe::Run::start(&recording);
    let out = dir.path().join("from_sorted.parquet");
    let from_sorted = features(&recording, &sorted, &out).await.unwrap();
    let record = run.finish(&recording, "features", "test", None).await;
    // The plan of the features (the others fit the recipes' imputations).
    let operators: Vec<String> = record
        .plans
        .iter()
        .find(|plan| plan.iter().any(|o| o.name == "TemporalExec"))
        .into_iter()
        .flatten()
        .map(|o| o.name.clone())
        .collect();
    assert_eq!(
        operators.iter().filter(|o| *o == "TemporalExec").count(),
        2,
        "{operators:?}"
    );
    for absent in ["SortExec", "RepartitionExec", "SortPreservingMergeExec"] {
        assert!(!operators.iter().any(|o| o == absent), "{operators:?}");
    }

    // The shuffled input is sorted by the engine: the same features.
    let from_shuffled = features(&session, &shuffled, &dir.path().join("f2.parquet"))
        .await
        .unwrap();
    assert_eq!(from_sorted, from_shuffled);

    // A false declaration is refused by name, and nothing is written...
    let refused = dir.path().join("refused.parquet");
    let e = features(&session, &liar, &refused).await.unwrap_err();
    assert!(
        e.contains("not in (customer_id, month) order")
            && e.contains("engine.use_input_order = false")
            && !e.contains("Execution error"),
        "{e}"
    );
    assert!(!refused.exists());
    // ...and read without trusting it, it gives the same features.
    let distrusting = Session::new(
        ConfigBuilder::new()
            .set("engine.use_input_order", "false", "test")
            .unwrap()
            .build()
            .unwrap(),
    )
    .unwrap();
    let from_liar = features(&distrusting, &liar, &dir.path().join("f3.parquet"))
        .await
        .unwrap();
    assert_eq!(from_sorted, from_liar);
}
