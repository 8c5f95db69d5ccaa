//! Randomly corrupted Parquet files are refused or read exactly: never read
//! as different data. The fixture's pages carry CRC-32 checksums
//! (`tests/data/checksummed.py`), which the reader verifies.

use std::path::{Path, PathBuf};

use scorelake::datafusion::arrow::record_batch::RecordBatch;
use scorelake::io::{self, ReadOptions};
use scorelake::session::Session;

use crate::support::{session, sorted_rows};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/checksummed.parquet")
}

/// The file's rows (sorted) and schema, or the error that refused it.
async fn contents(session: &Session, path: &Path) -> Result<(String, Vec<String>), String> {
    let df = io::read(session, path.to_str().unwrap(), &ReadOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let schema = format!("{:?}", df.schema().as_arrow());
    let batches: Vec<RecordBatch> = df.collect().await.map_err(|e| e.to_string())?;
    Ok((schema, sorted_rows(&batches)))
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test]
async fn a_page_with_a_wrong_checksum_is_refused() {
    let session = session();
    let clean = std::fs::read(fixture()).unwrap();
    // The first data page of `id` starts after its dictionary page; one
    // flipped bit inside its compressed bytes changes no header.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flipped.parquet");
    let mut bytes = clean.clone();
    bytes[2100] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let e = contents(&session, &path).await.unwrap_err();
    assert!(
        e.to_lowercase().contains("checksum") || e.contains("crc"),
        "{e}"
    );
}

#[tokio::test]
async fn random_corruption_never_reads_as_different_data() {
    let session = session();
    let (schema, rows) = contents(&session, &fixture()).await.unwrap();
    // The fixture itself reads as written: 3000 rows, ids 0..2999.
    assert_eq!(rows.len(), 3000);
    assert!(schema.contains("\"segment\""), "{schema}");

    let clean = std::fs::read(fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Mix(16);
    let (mut refused, mut identical, mut wrong) = (0, 0, Vec::new());
    let cases = 360;
    for case in 0..cases {
        let mut bytes = clean.clone();
        let at = rng.below(bytes.len());
        let how = case % 3;
        match how {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next() as u8,
            _ => {
                for b in bytes.iter_mut().skip(at).take(4) {
                    *b = 0;
                }
            }
        }
        if bytes == clean {
            identical += 1;
            continue;
        }
        let path = dir.path().join(format!("case-{case}.parquet"));
        std::fs::write(&path, &bytes).unwrap();
        match contents(&session, &path).await {
            Err(_) => refused += 1,
            Ok((s, r)) if s == schema && r == rows => identical += 1,
            Ok(_) => wrong.push(format!("case {case}: byte {at}, change {how}")),
        }
        std::fs::remove_file(&path).unwrap();
    }
    println!(
        "{cases} corrupted files: {refused} refused, {identical} read exactly, {} read as different data",
        wrong.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}
