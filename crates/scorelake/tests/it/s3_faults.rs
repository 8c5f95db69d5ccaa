//! Interrupted S3 directory writes: the k-th PUT/COPY/DELETE of a write fails
//! (for every k), the server is killed mid-write, or the writing process is
//! killed (`kill -9`). After each, a reader sees the old table or the new one
//! whole, never a mix; a first write never reads as complete before it
//! committed. Each case prints `tried / clean / wrong`.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use scorelake::config::{Config, ConfigBuilder};
use scorelake::io::{self, HookedStore, WriteMode, WriteOptions};
use scorelake::session::Session;

use crate::support::{BUCKET, Seaweed, Tally, rows_by_tag, shared_s3, tagged_rows};

/// Rows of the old and the new version.
const OLD: (i64, u64) = (0, 30);
const NEW: (i64, u64) = (1, 45);

fn partitioned(mode: WriteMode) -> WriteOptions {
    WriteOptions {
        partition_by: vec!["g".into()],
        mode,
        ..WriteOptions::default()
    }
}

/// Writes `rows` rows tagged `tag` to `location`; with `fail_at`, through a
/// store whose `fail_at`-th changing request fails. Returns the requests made.
async fn write_version(
    config: &Config,
    location: &str,
    (tag, rows): (i64, u64),
    mode: WriteMode,
    fail_at: Option<usize>,
) -> (scorelake::Result<()>, usize) {
    let session = Session::new(config.clone()).unwrap();
    let url = url::Url::parse(&format!("s3://{BUCKET}/")).unwrap();
    // Counts the changing requests (put, multipart start, copy, delete) and
    // fails the `fail_at`-th.
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let failing = HookedStore::new(session.object_store(&url).unwrap(), move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(n) == fail_at {
            return Err(object_store::Error::Generic {
                store: "test",
                source: format!("injected fault at request {n}").into(),
            });
        }
        Ok(())
    });
    session
        .ctx()
        .runtime_env()
        .register_object_store(&url, Arc::new(failing));
    let df = tagged_rows(&session, tag, rows).await;
    let written = io::write(&session, df, location, &partitioned(mode))
        .await
        .map(|_| ());
    (written, seen.load(Ordering::SeqCst))
}

/// What a reader finds is one of `allowed` whole (tag, rows), or (when
/// `absent_ok`) an error saying the table is absent or unfinished.
fn reads_whole(
    config: &Config,
    location: &str,
    allowed: &[(i64, u64)],
    absent_ok: bool,
) -> Result<(), String> {
    // A restarted server answers 500 until its volume server is back.
    let mut read = rows_by_tag(config, location);
    for _ in 0..20 {
        match &read {
            Err(e) if e.to_string().contains("500 Internal Server Error") => {
                std::thread::sleep(std::time::Duration::from_millis(500));
                read = rows_by_tag(config, location);
            }
            _ => break,
        }
    }
    match read {
        Ok(rows) => {
            let whole = allowed.iter().any(|(tag, n)| rows == [(*tag, *n as i64)]);
            if whole {
                Ok(())
            } else {
                Err(format!("`{location}` reads as {rows:?}"))
            }
        }
        Err(e) => {
            let text = e.to_string();
            let refused = text.contains("does not exist") || text.contains("unfinished write");
            if absent_ok && refused {
                Ok(())
            } else {
                Err(format!("`{location}`: {text}"))
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failing_request_of_a_directory_write_leaves_a_whole_version() {
    let config = shared_s3().config_builder().build().unwrap();
    // A clean run counts the changing requests of each kind of write.
    let probe = format!("s3://{BUCKET}/faults/probe/");
    let (ok, first_requests) =
        write_version(&config, &probe, OLD, WriteMode::ErrorIfExists, None).await;
    ok.unwrap();
    let (ok, overwrite_requests) =
        write_version(&config, &probe, NEW, WriteMode::Overwrite, None).await;
    ok.unwrap();
    assert!(first_requests >= 4 && overwrite_requests >= 4);

    let mut tally = Tally::new("S3 directory overwrite, k-th request fails");
    for k in 1..=overwrite_requests + 1 {
        let loc = format!("s3://{BUCKET}/faults/overwrite{k}/");
        write_version(&config, &loc, OLD, WriteMode::ErrorIfExists, None)
            .await
            .0
            .unwrap();
        let (written, _) = write_version(&config, &loc, NEW, WriteMode::Overwrite, Some(k)).await;
        let allowed: &[(i64, u64)] = if written.is_ok() { &[NEW] } else { &[OLD, NEW] };
        tally.record(reads_whole(&config, &loc, allowed, false));
        // The next write sees whatever this one left and must still work.
        let (again, _) = write_version(&config, &loc, OLD, WriteMode::Overwrite, None).await;
        tally.record(
            again
                .map_err(|e| e.to_string())
                .and_then(|()| reads_whole(&config, &loc, &[OLD], false)),
        );
    }
    tally.finish();

    let mut tally = Tally::new("S3 directory first write, k-th request fails");
    for k in 1..=first_requests + 1 {
        let loc = format!("s3://{BUCKET}/faults/first{k}/");
        let (written, _) =
            write_version(&config, &loc, NEW, WriteMode::ErrorIfExists, Some(k)).await;
        tally.record(reads_whole(&config, &loc, &[NEW], written.is_err()));
    }
    tally.finish();
}

/// Starts `io::write` of a large new version in a child process (this test
/// binary running [`child_overwrites`]), to be killed.
fn spawn_writer(server: &Seaweed, location: &str) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "s3_faults::child_overwrites",
        "--exact",
        "--ignored",
        "--test-threads=1",
    ])
    .env("SCORELAKE_FAULT_CHILD_LOCATION", location)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    for (k, v) in server.env() {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Rows of the large version the killed writers write.
const LARGE: (i64, u64) = (2, 400_000);

/// Not a test of its own: the writer process `spawn_writer` starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by kills_mid_write as a child process"]
async fn child_overwrites() {
    let Ok(location) = std::env::var("SCORELAKE_FAULT_CHILD_LOCATION") else {
        return;
    };
    let config = ConfigBuilder::standard(None).unwrap().build().unwrap();
    write_version(&config, &location, LARGE, WriteMode::Overwrite, None)
        .await
        .0
        .unwrap();
}

#[test]
fn kills_mid_write_leave_a_whole_version() {
    let mut server = Seaweed::start();
    let config = server.config_builder().build().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let write_old = |loc: &str| {
        rt.block_on(write_version(
            &config,
            loc,
            OLD,
            WriteMode::ErrorIfExists,
            None,
        ))
        .0
        .unwrap();
    };
    // How long an uninterrupted large write takes, in a child process.
    let timed = format!("s3://{BUCKET}/kills/timed/");
    write_old(&timed);
    let started = Instant::now();
    assert!(spawn_writer(&server, &timed).wait().unwrap().success());
    let full = started.elapsed();

    let mut tally = Tally::new("S3 directory overwrite, writer killed (kill -9)");
    for (i, fraction) in [0.2, 0.4, 0.6, 0.8, 0.95].iter().enumerate() {
        let loc = format!("s3://{BUCKET}/kills/process{i}/");
        write_old(&loc);
        let mut child = spawn_writer(&server, &loc);
        std::thread::sleep(full.mul_f64(*fraction));
        let _ = child.kill();
        let _ = child.wait();
        tally.record(reads_whole(&config, &loc, &[OLD, LARGE], false));
    }
    tally.finish();

    let mut tally = Tally::new("S3 directory overwrite, server killed");
    for (i, fraction) in [0.3, 0.6, 0.9].iter().enumerate() {
        let loc = format!("s3://{BUCKET}/kills/server{i}/");
        write_old(&loc);
        let mut child = spawn_writer(&server, &loc);
        std::thread::sleep(full.mul_f64(*fraction));
        server.stop();
        let _ = child.wait();
        server.restart();
        tally.record(reads_whole(&config, &loc, &[OLD, LARGE], false));
    }
    tally.finish();

    // A first write killed mid-way never reads as complete.
    let mut tally = Tally::new("S3 directory first write, writer killed (kill -9)");
    for (i, fraction) in [0.3, 0.7].iter().enumerate() {
        let loc = format!("s3://{BUCKET}/kills/first{i}/");
        let mut child = spawn_writer(&server, &loc);
        std::thread::sleep(full.mul_f64(*fraction));
        let _ = child.kill();
        let _ = child.wait();
        tally.record(reads_whole(&config, &loc, &[LARGE], true));
    }
    tally.finish();
}
