//! The partition and skew advisor: a skewed key is flagged and an even one
//! is not; small files and too many partitions are found, with the change.

use scorelake::io::advise::{AdviseOptions, advise};
use scorelake::io::{self, WriteMode, WriteOptions};
use scorelake::sample::{self, SampleSpec};

use crate::support::session;

#[tokio::test]
async fn skew_small_files_and_partitions_are_found_with_their_change() {
    let session = session();
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec {
        customers: 3_000,
        months: 12,
        seed: 3,
        ..SampleSpec::default()
    };
    let panel = dir.path().join("panel.parquet");
    let df = sample::dataframe(&session, &spec, None).unwrap();
    let written = io::write(
        &session,
        df,
        panel.to_str().unwrap(),
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    let panel = panel.to_str().unwrap();
    let with_key = |key: &str, partitions: usize| AdviseOptions {
        key: Some(key.into()),
        partitions: Some(partitions),
        ..AdviseOptions::default()
    };

    // Customers spread evenly over 4 hash partitions: nothing to change.
    let even = advise(&session, panel, &with_key("customer_id", 4))
        .await
        .unwrap();
    assert_eq!(even.rows, written.rows);
    assert_eq!(
        (even.files.count, even.row_groups.as_ref().unwrap().count),
        (1, 1)
    );
    let key = even.key.as_ref().unwrap();
    assert_eq!(key.distinct, 3_000);
    assert_eq!(key.hash_partitions.len(), 4);
    assert_eq!(key.hash_partitions.iter().sum::<u64>(), written.rows);
    assert!(key.max_over_median < 1.2, "{key:?}");
    assert!(even.advice.is_empty(), "{:?}", even.advice);
    assert!(even.to_markdown().contains("Nothing to change."));

    // Half the rows on one key: flagged, naming the key, its share and salting.
    let skewed = dir.path().join("skewed.parquet");
    let df = session
        .ctx()
        .read_parquet(panel, Default::default())
        .await
        .unwrap()
        .select_exprs(&[
            "CASE WHEN customer_id % 2 = 0 THEN 7 ELSE customer_id END AS k",
            "balance",
        ])
        .unwrap();
    io::write(
        &session,
        df,
        skewed.to_str().unwrap(),
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    let advice = advise(&session, skewed.to_str().unwrap(), &with_key("k", 4))
        .await
        .unwrap();
    let key = advice.key.as_ref().unwrap();
    assert_eq!(key.top[0].value, "7");
    assert!((key.top[0].share - 0.5).abs() < 0.02, "{key:?}");
    assert!(key.max_over_median > 2.0, "{key:?}");
    assert_eq!(advice.advice.len(), 1, "{:?}", advice.advice);
    let a = &advice.advice[0];
    assert!(
        a.finding.contains("`k` is skewed") && a.change.contains("salt"),
        "{a:?}"
    );
    // One value only: every row in one hash partition.
    let one = advise(&session, skewed.to_str().unwrap(), &with_key("balance", 1))
        .await
        .unwrap();
    assert_eq!(one.key.unwrap().hash_partitions, vec![written.rows]);

    // A folder partitioned by month into many small files: both found.
    let by_month = dir.path().join("by_month");
    let options = WriteOptions {
        partition_by: vec!["month".into()],
        mode: WriteMode::Overwrite,
        ..WriteOptions::default()
    };
    let df = sample::dataframe(&session, &spec, None).unwrap();
    io::write(&session, df, by_month.to_str().unwrap(), &options)
        .await
        .unwrap();
    let advice = advise(
        &session,
        by_month.to_str().unwrap(),
        &AdviseOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(advice.partition_columns.len(), 1);
    let month = &advice.partition_columns[0];
    assert_eq!((month.column.as_str(), month.values), ("month", 12));
    let findings: Vec<&str> = advice.advice.iter().map(|a| a.finding.as_str()).collect();
    assert!(
        findings.iter().any(|f| f.starts_with("small files"))
            && findings
                .iter()
                .any(|f| f.starts_with("too many partitions by `month`"))
            && findings.iter().any(|f| f.starts_with("small row groups")),
        "{findings:?}"
    );
    let markdown = advice.to_markdown();
    assert!(markdown.contains("| month | 12 |"), "{markdown}");

    // A key that is not there is named.
    let e = advise(&session, panel, &with_key("nope", 2))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("`nope`"), "{e}");
}
