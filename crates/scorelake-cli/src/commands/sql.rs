//! `scorelake sql`: a query over tables given by URL, printed or written.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use scorelake::io;
use scorelake::session::Session;

use crate::args::SqlArgs;
use crate::error::Usage;
use crate::options::{read_options, write_options};
use crate::output::{outln, print_query};
use scorelake::console::Progress;

/// Runs the query; prints its result, or writes it to `--output`.
pub(crate) async fn sql(session: &Session, progress: Progress, args: SqlArgs) -> Result<ExitCode> {
    let read = read_options(&args.read)?;
    let ctx = io::with_url_tables(session, &session.new_context(), read.clone());
    for spec in &args.tables {
        let Some((name, url)) = spec.split_once('=') else {
            bail!(Usage(format!("--table expects NAME=URL, got `{spec}`")));
        };
        let df = io::read(session, url, &read)
            .await
            .with_context(|| format!("table `{name}`"))?;
        ctx.register_table(name, df.into_view())?;
    }
    let result = progress
        .during("running query", async {
            let df = scorelake::sql::query(&ctx, &args.query).await?;
            match &args.output {
                Some(out) => {
                    let options = write_options(&args.write, Some(&args.read))?;
                    let s = io::write(session, df, out, &options).await?;
                    Ok(format!("wrote {} rows to {}", s.rows, s.location))
                }
                None => {
                    let metrics = session.config().observability.metrics;
                    print_query(&ctx, df, args.limit, metrics, args.format).await
                }
            }
        })
        .await;
    outln!("{}", result?)?;
    Ok(ExitCode::SUCCESS)
}
