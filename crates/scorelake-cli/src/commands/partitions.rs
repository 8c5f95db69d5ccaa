//! `scorelake partitions advise`: a table's layout and a key's skew, with
//! what to change.

use std::process::ExitCode;

use anyhow::Result;
use scorelake::console::Progress;
use scorelake::io::advise::{AdviseOptions, advise};
use scorelake::session::Session;

use crate::args::PartitionsCommand;
use crate::options::size_flag;
use crate::output::outln;

/// Runs `cmd` and prints its answer.
pub(crate) async fn partitions(
    session: &Session,
    progress: Progress,
    cmd: PartitionsCommand,
) -> Result<ExitCode> {
    let PartitionsCommand::Advise {
        table,
        key,
        target_size,
        partitions,
        json,
    } = cmd;
    let options = AdviseOptions {
        key,
        target_file_size: size_flag("--target-size", target_size.as_deref())?,
        partitions,
    };
    let advice = progress
        .during(
            &format!("looking at {table}"),
            advise(session, table.as_str(), &options),
        )
        .await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&advice)?)?;
    } else {
        outln!("{}", advice.to_markdown().trim_end())?;
    }
    Ok(ExitCode::SUCCESS)
}
