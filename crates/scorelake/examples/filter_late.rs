//! The README's library example: reads a panel from S3, keeps the rows 90 or
//! more days past due and writes them as Parquet. The README shows this file
//! from its first `use` on; `tests/it/readme.rs` checks the two agree.

use scorelake::datafusion::prelude::{col, lit};
use scorelake::{config::ConfigBuilder, io, session::Session};

#[tokio::main]
async fn main() -> scorelake::Result<()> {
    let config = ConfigBuilder::standard(None)?.build()?;
    let session = Session::new(config)?;
    let panel = io::read(&session, "s3://lake/panel/", &io::ReadOptions::default()).await?;
    let late = panel.filter(col("days_past_due").gt_eq(lit(90)))?;
    io::write(&session, late, "late.parquet", &io::WriteOptions::default()).await?;
    Ok(())
}
