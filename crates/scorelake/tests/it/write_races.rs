//! Concurrent writers: of N creators of one output (Delta table, plain file,
//! directory; local and S3) exactly one wins and the others get
//! `AlreadyExists`; creates racing appends of a Delta table lose no append
//! and duplicate none. Each case prints `tried / clean / wrong`.

use std::sync::{Arc, Barrier};

use scorelake::Error;
use scorelake::config::Config;
use scorelake::io::{self, WriteMode, WriteOptions, WriteSummary};
use scorelake::session::Session;

use crate::support::{BUCKET, Tally, rows_by_tag, shared_s3, tagged_rows};

const WRITERS: usize = 4;
const ROUNDS: usize = 5;
const ROWS: u64 = 50;

/// Runs `writers` writes at once (threads released together); writer `i`
/// writes `ROWS` rows whose column `w` is `i`, with `options(i)`.
fn race(
    config: &Config,
    location: &str,
    writers: usize,
    options: impl Fn(usize) -> WriteOptions + Sync,
) -> Vec<scorelake::Result<WriteSummary>> {
    let barrier = Arc::new(Barrier::new(writers));
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|i| {
                let barrier = Arc::clone(&barrier);
                let options = options(i);
                s.spawn(move || {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        let session = Session::new(config.clone()).unwrap();
                        let df = tagged_rows(&session, i as i64, ROWS).await;
                        barrier.wait();
                        io::write(&session, df, location, &options).await
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Exactly one creator won, the others got `AlreadyExists`, and the output
/// holds the winner's rows only.
fn one_creator_won(
    config: &Config,
    location: &str,
    results: &[scorelake::Result<WriteSummary>],
) -> Result<(), String> {
    let winners: Vec<usize> = (0..results.len()).filter(|i| results[*i].is_ok()).collect();
    let [winner] = winners[..] else {
        return Err(format!("{} creators succeeded: {results:?}", winners.len()));
    };
    for r in results {
        if let Err(e) = r
            && !matches!(e, Error::AlreadyExists(_))
        {
            return Err(format!("a losing creator failed otherwise: {e}"));
        }
    }
    let rows = rows_by_tag(config, location).map_err(|e| e.to_string())?;
    if rows != [(winner as i64, ROWS as i64)] {
        return Err(format!("winner {winner}, table holds {rows:?}"));
    }
    Ok(())
}

fn creators(config: &Config, tally: &mut Tally, location: impl Fn(usize) -> String, delta: bool) {
    for round in 0..ROUNDS {
        let loc = location(round);
        let results = race(config, &loc, WRITERS, |_| WriteOptions {
            format: delta.then_some(scorelake::config::Format::Delta),
            ..WriteOptions::default()
        });
        tally.record(one_creator_won(config, &loc, &results));
    }
}

#[test]
fn concurrent_creators_of_local_outputs_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default();
    let at = |name: String| dir.path().join(name).display().to_string();

    let mut t = Tally::new("local Delta creators");
    creators(&config, &mut t, |r| at(format!("delta{r}")), true);
    t.finish();
    let mut t = Tally::new("local file creators");
    creators(&config, &mut t, |r| at(format!("file{r}.parquet")), false);
    t.finish();
    let mut t = Tally::new("local directory creators");
    creators(&config, &mut t, |r| at(format!("dir{r}/")), false);
    t.finish();
}

#[test]
fn concurrent_creators_of_s3_outputs_one_wins() {
    let config = shared_s3().config_builder().build().unwrap();
    let at = |name: String| format!("s3://{BUCKET}/races/{name}");

    let mut t = Tally::new("S3 Delta creators");
    creators(&config, &mut t, |r| at(format!("delta{r}")), true);
    t.finish();
    let mut t = Tally::new("S3 file creators");
    creators(&config, &mut t, |r| at(format!("file{r}.parquet")), false);
    t.finish();
    let mut t = Tally::new("S3 directory creators");
    creators(&config, &mut t, |r| at(format!("dir{r}/")), false);
    t.finish();
}

/// Creates racing appends: every append lands exactly once, and the table
/// holds one create's rows at most (a losing create fails with
/// `AlreadyExists`).
fn creators_and_appenders(config: &Config, name: &'static str, location: impl Fn(usize) -> String) {
    let mut tally = Tally::new(name);
    for round in 0..ROUNDS {
        let loc = location(round);
        // Even writers create, odd ones append.
        let results = race(config, &loc, WRITERS, |i| WriteOptions {
            format: Some(scorelake::config::Format::Delta),
            mode: if i % 2 == 0 {
                WriteMode::ErrorIfExists
            } else {
                WriteMode::Append
            },
            ..WriteOptions::default()
        });
        let outcome = (|| {
            let rows = rows_by_tag(config, &loc).map_err(|e| e.to_string())?;
            let mut created = 0;
            for (i, r) in results.iter().enumerate() {
                let landed = rows
                    .iter()
                    .find(|(w, _)| *w == i as i64)
                    .map_or(0, |(_, c)| *c);
                match (i % 2 == 0, r) {
                    (_, Ok(_)) if landed == ROWS as i64 => created += usize::from(i % 2 == 0),
                    (true, Err(Error::AlreadyExists(_))) if landed == 0 => {}
                    _ => {
                        return Err(format!(
                            "writer {i}: {r:?}, {landed} rows landed ({rows:?})"
                        ));
                    }
                }
            }
            if created > 1 {
                return Err(format!("{created} creates committed: {rows:?}"));
            }
            Ok(())
        })();
        tally.record(outcome);
    }
    tally.finish();
}

#[test]
fn delta_creates_racing_appends_lose_no_append() {
    let dir = tempfile::tempdir().unwrap();
    let at = |r: usize| dir.path().join(format!("t{r}")).display().to_string();
    creators_and_appenders(&Config::default(), "local Delta creators vs appenders", at);
    let config = shared_s3().config_builder().build().unwrap();
    creators_and_appenders(&config, "S3 Delta creators vs appenders", |r| {
        format!("s3://{BUCKET}/races/mixed{r}")
    });
}
