//! The session's cache of intermediate results: the same rows cached or
//! not, hits and misses counted, memory reserved in the engine's pool and
//! given back, what does not fit on disk, and entries told apart by plan
//! and table.

use scorelake::config::{CacheLevel, ConfigBuilder};
use scorelake::datafusion::arrow::util::pretty::pretty_format_batches;
use scorelake::datafusion::logical_expr::Partitioning;
use scorelake::datafusion::prelude::{DataFrame, col, lit};
use scorelake::error::Result;
use scorelake::session::Session;

fn session(pairs: &[(&str, &str)]) -> Result<Session> {
    let mut b = ConfigBuilder::new().set("engine.target_partitions", "3", "test")?;
    for (k, v) in pairs {
        b = b.set(k, v, "test")?;
    }
    Session::new(b.build()?)
}

/// 60,000 rows in 3 partitions: a key, a group, a number and a text.
async fn table(s: &Session) -> Result<DataFrame> {
    Ok(s.ctx()
        .sql(
            "SELECT value AS k, value % 7 AS g, (value * 7919) % 1000 AS x, \
             concat('c', CAST(value % 13 AS VARCHAR)) AS t \
             FROM generate_series(1, 60000) \
             UNION ALL SELECT NULL, NULL, NULL, NULL",
        )
        .await?
        .repartition(Partitioning::RoundRobinBatch(3))?)
}

/// Every row of `df` in key order, and a grouped aggregate, as text.
async fn contents(df: DataFrame) -> Result<(String, String)> {
    use scorelake::datafusion::functions_aggregate::expr_fn::{count, sum};
    let rows = df
        .clone()
        .sort(vec![col("k").sort(true, true)])?
        .collect()
        .await?;
    let grouped = df
        .filter(col("x").gt(lit(200)))?
        .aggregate(vec![col("g")], vec![sum(col("x")), count(col("t"))])?
        .sort(vec![col("g").sort(true, true)])?
        .collect()
        .await?;
    Ok((
        pretty_format_batches(&rows)?.to_string(),
        pretty_format_batches(&grouped)?.to_string(),
    ))
}

/// Compares without printing 60,000 rows.
fn same(got: &(String, String), expected: &(String, String)) {
    assert!(
        got.1 == expected.1,
        "aggregates differ:\n{}\n{}",
        got.1,
        expected.1
    );
    let first = got.0.lines().zip(expected.0.lines()).find(|(a, b)| a != b);
    assert!(got.0 == expected.0, "rows differ, first at {first:?}");
}

fn reserved(s: &Session) -> usize {
    s.ctx().runtime_env().memory_pool.reserved()
}

#[tokio::test]
async fn a_reused_plan_is_computed_once_and_gives_the_same_rows() -> Result<()> {
    let s = session(&[("engine.memory_limit", "512m")])?;
    let df = table(&s).await?;
    let expected = contents(df.clone()).await?;
    let before = reserved(&s);
    let first = s.cache_if_reused(df.clone(), "panel", 2).await?;
    assert_eq!(
        s.cache_stats().entries[0].rows,
        0,
        "not stored at the first use"
    );
    same(&contents(first).await?, &expected);
    let second = s.cache_if_reused(df.clone(), "panel", 2).await?;
    let stats = s.cache_stats();
    let entry = &stats.entries[0];
    assert_eq!((entry.rows, entry.level.as_str()), (60_001, "memory"));
    assert!(entry.memory_bytes > 60_000 * 8, "{entry:?}");
    assert_eq!(entry.disk_bytes, 0);
    assert_eq!(reserved(&s) - before, entry.memory_bytes as usize);
    same(&contents(second).await?, &expected);
    let third = s.cache_if_reused(df.clone(), "panel", 2).await?;
    same(&contents(third).await?, &expected);
    let stats = s.cache_stats();
    assert_eq!((stats.hits, stats.misses), (1, 2));
    assert_eq!((stats.entries[0].uses, stats.entries[0].hits), (3, 1));
    assert!(s.unpersist("panel"));
    assert!(!s.unpersist("panel"));
    assert_eq!(reserved(&s), before);
    // What it did stays in the statistics.
    let stats = s.cache_stats();
    assert_eq!(stats.entries.len(), 1);
    assert_eq!(stats.entries[0].note.as_deref(), Some("unpersisted"));
    assert_eq!(stats.entries[0].hits, 1);
    Ok(())
}

#[tokio::test]
async fn what_does_not_fit_in_memory_goes_to_disk() -> Result<()> {
    let s = session(&[("engine.cache_memory", "300k")])?;
    let df = table(&s).await?;
    let expected = contents(df.clone()).await?;
    let cached = s.persist(df, "panel", CacheLevel::MemoryAndDisk).await?;
    let entry = s.cache_stats().entries[0].clone();
    assert_eq!(entry.level, "memory-and-disk", "{entry:?}");
    assert!(entry.memory_bytes > 0 && entry.memory_bytes <= 300 << 10);
    assert!(entry.disk_bytes > 0);
    same(&contents(cached).await?, &expected);
    s.unpersist("panel");
    Ok(())
}

#[tokio::test]
async fn the_disk_level_writes_arrow_files_that_go_with_the_entry() -> Result<()> {
    let spill = std::env::temp_dir().join(format!("sl-cache-{}", std::process::id()));
    std::fs::create_dir_all(&spill).map_err(|e| scorelake::Error::io(spill.display(), e))?;
    let s = session(&[("engine.spill_dir", spill.to_str().unwrap_or_default())])?;
    let df = table(&s).await?;
    let expected = contents(df.clone()).await?;
    let cached = s.persist(df, "panel", CacheLevel::Disk).await?;
    let entry = s.cache_stats().entries[0].clone();
    assert_eq!((entry.level.as_str(), entry.memory_bytes), ("disk", 0));
    let files = || walk(&spill).into_iter().filter(|p| p.is_file()).count();
    assert!(files() > 0);
    same(&contents(cached.clone()).await?, &expected);
    drop(cached);
    s.unpersist("panel");
    assert_eq!(files(), 0, "the files go with the entry");
    let _ = std::fs::remove_dir_all(&spill);
    Ok(())
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[tokio::test]
async fn memory_only_refuses_what_does_not_fit_and_holds_nothing() -> Result<()> {
    let s = session(&[("engine.cache_memory", "300k"), ("engine.cache", "memory")])?;
    let df = table(&s).await?;
    let expected = contents(df.clone()).await?;
    let before = reserved(&s);
    let out = s.cache_if_reused(df.clone(), "panel", 1).await?;
    let entry = s.cache_stats().entries[0].clone();
    assert_eq!(entry.level, "off");
    assert!(
        entry
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("does not fit in memory"),
        "{entry:?}"
    );
    assert_eq!(reserved(&s), before);
    same(&contents(out).await?, &expected);
    // Not tried again.
    s.cache_if_reused(df, "panel", 1).await?;
    let stats = s.cache_stats();
    assert_eq!((stats.hits, stats.misses), (0, 2));
    Ok(())
}

#[tokio::test]
async fn entries_are_told_apart_by_plan_and_by_table() -> Result<()> {
    let s = session(&[("engine.cache", "off")])?;
    let a = table(&s).await?;
    let b = table(&s).await?;
    let filtered = a.clone().filter(col("g").eq(lit(1)))?;
    for df in [a.clone(), a, b, filtered] {
        s.cache_if_reused(df, "t", 1).await?;
    }
    let stats = s.cache_stats();
    // The same plan text over another scan of the same rows is another entry.
    let uses: Vec<u64> = stats.entries.iter().map(|e| e.uses).collect();
    assert_eq!(uses.iter().sum::<u64>(), 4);
    assert_eq!(stats.entries.len(), 3, "{stats:?}");
    assert!(
        stats
            .entries
            .iter()
            .all(|e| e.note.as_deref() == Some("engine.cache = off"))
    );
    Ok(())
}
