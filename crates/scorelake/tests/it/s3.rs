//! Lake I/O against a real S3-compatible server (SeaweedFS on 127.0.0.1).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use scorelake::io::{self, ReadOptions, WriteMode, WriteOptions};
use scorelake::sample::{self, SampleSpec};
use scorelake::session::Session;

use crate::support::{
    BUCKET, Seaweed, collect, sample_columns, shared_s3, sorted_rows, tagged_rows,
};

async fn keys_under(session: &Session, prefix: &str) -> Vec<String> {
    let store = session
        .object_store(&url::Url::parse(&format!("s3://{BUCKET}/")).unwrap())
        .unwrap();
    let prefix = object_store::path::Path::from(prefix);
    store
        .list(Some(&prefix))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_round_trip_and_directory_datasets() {
    let s3 = shared_s3();
    let session = s3.session();
    let spec = SampleSpec {
        customers: 500,
        ..SampleSpec::default()
    };
    let expected = sorted_rows(&[sample::generate(&spec, 0..spec.customers).unwrap()]);

    let url = format!("s3://{BUCKET}/roundtrip/panel.parquet");
    let df = sample::dataframe(&session, &spec, None).unwrap();
    let written = io::write(&session, df, &url, &WriteOptions::default())
        .await
        .unwrap();
    assert_eq!(written.rows as usize, expected.len());
    let back = io::read(&session, &url, &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(sorted_rows(&collect(back).await), expected);

    // A partitioned directory dataset, listed and read back as one table.
    let dir = format!("s3://{BUCKET}/roundtrip/by_month/");
    let df = sample::dataframe(&session, &spec, None).unwrap();
    let options = WriteOptions {
        partition_by: vec!["month".into()],
        ..WriteOptions::default()
    };
    io::write(&session, df, &dir, &options).await.unwrap();
    let keys = keys_under(&session, "roundtrip/by_month").await;
    assert!(keys.iter().any(|k| k.ends_with("_SUCCESS")), "{keys:?}");
    assert_eq!(
        keys.iter()
            .filter(|k| k.contains("month="))
            .map(|k| k.split('/').nth(2).unwrap())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        24
    );
    assert!(
        keys_under(&session, "roundtrip/.by_month").await.is_empty(),
        "staging left behind"
    );
    let back = io::read(&session, &dir, &ReadOptions::default())
        .await
        .unwrap();
    let back = sample_columns(back);
    assert_eq!(sorted_rows(&collect(back).await), expected);

    // Overwrite replaces the directory's content whole.
    let small = SampleSpec {
        customers: 10,
        ..spec.clone()
    };
    let df = sample::dataframe(&session, &small, None).unwrap();
    let options = WriteOptions {
        partition_by: vec!["month".into()],
        mode: WriteMode::Overwrite,
        ..WriteOptions::default()
    };
    let written = io::write(&session, df, &dir, &options).await.unwrap();
    let n = io::read(&session, &dir, &ReadOptions::default())
        .await
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(n as u64, written.rows);

    let e = io::write(
        &session,
        sample::dataframe(&session, &small, None).unwrap(),
        &url,
        &WriteOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("exists already"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_objects_go_up_in_multiple_parts() {
    let s3 = shared_s3();
    let session = s3.session();
    // ~1.2M rows of CSV: well over 100 MB, so the upload is multipart.
    let spec = SampleSpec {
        customers: 52_000,
        ..SampleSpec::default()
    };
    let url = format!("s3://{BUCKET}/big/panel.csv");
    let df = sample::dataframe(&session, &spec, None).unwrap();
    let written = io::write(&session, df, &url, &WriteOptions::default())
        .await
        .unwrap();
    let store = session
        .object_store(&url::Url::parse(&format!("s3://{BUCKET}/")).unwrap())
        .unwrap();
    let meta = store.head(&"big/panel.csv".into()).await.unwrap();
    assert!(meta.size > 100 << 20, "only {} bytes", meta.size);
    // SeaweedFS, like S3, marks multipart objects with an ETag ending in "-<parts>".
    let etag = meta.e_tag.unwrap_or_default();
    assert!(
        etag.trim_matches('"').contains('-'),
        "etag {etag} is not a multipart etag"
    );
    let back = io::read(&session, &url, &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(back.count().await.unwrap() as u64, written.rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_clear_error_without_the_secret() {
    let s3 = shared_s3();
    let bad_secret = "definitely-wrong-secret-123";
    let session = Session::new(s3.config_with_keys("nobody", bad_secret).build().unwrap()).unwrap();
    let url = format!("s3://{BUCKET}/roundtrip/panel.parquet");
    let e = io::read(&session, &url, &ReadOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("access denied"), "{e}");
    assert!(
        e.contains(&url) || e.contains("roundtrip/panel.parquet"),
        "{e}"
    );
    assert!(!e.contains(bad_secret), "secret leaked: {e}");

    let df = session.ctx().sql("SELECT 1 AS x").await.unwrap();
    let e = io::write(
        &session,
        df,
        &format!("s3://{BUCKET}/denied.parquet"),
        &WriteOptions::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("denied.parquet"), "{e}");
    assert!(!e.contains(bad_secret), "secret leaked: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_objects_and_buckets_are_named() {
    let s3 = shared_s3();
    let session = s3.session();
    let url = format!("s3://{BUCKET}/no/such/table.parquet");
    let e = io::read(&session, &url, &ReadOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&url) && e.contains("does not exist"), "{e}");
    let e = io::read(
        &session,
        "s3://no-such-bucket/x.parquet",
        &ReadOptions::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("s3://no-such-bucket/x.parquet"), "{e}");
}

#[test]
fn a_server_stopped_mid_write_leaves_no_visible_object() {
    let mut s3 = Seaweed::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = s3.session();
    let spec = SampleSpec {
        customers: 60_000,
        ..SampleSpec::default()
    };
    let url = format!("s3://{BUCKET}/interrupted/panel.csv");
    let generated = Arc::new(AtomicU64::new(0));
    let df = sample::dataframe(&session, &spec, Some(Arc::clone(&generated))).unwrap();
    let write = rt.spawn({
        let session = session.clone();
        let url = url.clone();
        async move { io::write(&session, df, &url, &WriteOptions::default()).await }
    });
    // Stop the server once a third of the data has been produced (parts are in flight).
    while generated.load(Ordering::Relaxed) < spec.customers / 3 && !write.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !write.is_finished(),
        "the write finished before the server could be stopped"
    );
    s3.stop();
    let e = rt.block_on(write).unwrap().unwrap_err().to_string();
    assert!(
        e.contains("cannot write") && e.contains("interrupted/panel.csv"),
        "{e}"
    );

    s3.restart();
    let session = s3.session();
    // Only the hidden claim of the interrupted create may remain.
    let keys = rt.block_on(keys_under(&session, "interrupted"));
    assert!(
        keys.iter().all(|k| k.starts_with("interrupted/.")),
        "partial objects visible: {keys:?}"
    );
    let e = rt
        .block_on(io::read(&session, &url, &ReadOptions::default()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_reads_follow_the_commit_record_and_stay_pinned() {
    let s3 = shared_s3();
    let session = s3.session();
    let store = session
        .object_store(&url::Url::parse(&format!("s3://{BUCKET}/")).unwrap())
        .unwrap();
    let dir = format!("s3://{BUCKET}/pinned/t/");
    let options = WriteOptions {
        partition_by: vec!["g".into()],
        ..WriteOptions::default()
    };
    let df = tagged_rows(&session, 0, 30).await;
    io::write(&session, df, &dir, &options).await.unwrap();
    let record = store.get(&"pinned/t/_SUCCESS".into()).await.unwrap();
    let record: serde_json::Value = serde_json::from_slice(&record.bytes().await.unwrap()).unwrap();
    let listed: Vec<String> = record["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), 3, "{record}");

    // A file the record does not list (a write in progress) is not read,
    // by a table opened before it landed or after.
    let opened = io::read(&session, &dir, &ReadOptions::default())
        .await
        .unwrap();
    let first = object_store::path::Path::from(format!("pinned/t/{}", listed[0]));
    store
        .copy(&first, &"pinned/t/g=0/stray_0.parquet".into())
        .await
        .unwrap();
    assert_eq!(opened.count().await.unwrap(), 30);
    let fresh = io::read(&session, &dir, &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(fresh.count().await.unwrap(), 30);

    // A listed file removed after the table was opened: the read fails (or
    // is answered whole from statistics gathered before), never smaller.
    let opened = io::read(&session, &dir, &ReadOptions::default())
        .await
        .unwrap();
    store.delete(&first).await.unwrap();
    let counted = opened.count().await;
    assert!(counted.as_ref().map_or(true, |n| *n == 30), "{counted:?}");
    let e = io::read(&session, &dir, &ReadOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing") && e.contains(&listed[0]), "{e}");

    // Files beside an in-progress marker and no record: an unfinished write.
    store
        .copy(
            &"pinned/t/g=0/stray_0.parquet".into(),
            &"pinned/u/g=0/part_0.parquet".into(),
        )
        .await
        .unwrap();
    store
        .put(
            &"pinned/u/_scorelake_writing".into(),
            object_store::PutPayload::new(),
        )
        .await
        .unwrap();
    let e = io::read(
        &session,
        &format!("s3://{BUCKET}/pinned/u/"),
        &ReadOptions::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("unfinished write"), "{e}");
}
