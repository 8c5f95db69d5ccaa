//! `scorelake ncf inspect`: what an NCF file holds, with every checksum verified.

use std::process::ExitCode;

use anyhow::{Context, Result};
use ncf::{NcfReader, Source};
use scorelake::io;
use scorelake::session::Session;

use crate::args::NcfCommand;
use crate::output::outln;

/// Runs `cmd` on a local file without starting the engine; `None` when the
/// file is remote and needs [`ncf`].
pub(crate) fn ncf_local(cmd: &NcfCommand) -> Result<Option<ExitCode>> {
    let NcfCommand::Inspect { file, json } = cmd;
    let Some(path) = io::Location::parse(file)?.local_path() else {
        return Ok(None);
    };
    let opened =
        std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    inspect(file, opened, *json)?;
    Ok(Some(ExitCode::SUCCESS))
}

/// Runs `cmd`, fetching the file through the session's object stores.
pub(crate) async fn ncf(session: &Session, cmd: NcfCommand) -> Result<ExitCode> {
    let NcfCommand::Inspect { file, json } = cmd;
    let bytes = io::fetch(session, &file).await?;
    inspect(&file, bytes, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the schema, semantic metadata, row groups, encodings and
/// statistics of the NCF file `name` held in `source`, after reading every
/// chunk (which verifies its checksum) and decoding every statistics bound.
fn inspect(name: &str, source: impl Source, json: bool) -> Result<()> {
    let reader = NcfReader::new(source).with_context(|| name.to_string())?;
    for g in 0..reader.num_row_groups() {
        reader
            .read_row_group(g, None)
            .with_context(|| name.to_string())?;
    }
    reader
        .metadata()
        .check_statistics()
        .with_context(|| name.to_string())?;
    let footer = reader.footer();
    if json {
        outln!("{}", serde_json::to_string_pretty(footer)?)?;
        return Ok(());
    }
    outln!(
        "{}: NCF version {}, {} rows, {} row groups, written by {}",
        name,
        footer.format_version,
        footer.num_rows,
        footer.row_groups.len(),
        footer.created_by
    )?;
    outln!("\ncolumns:")?;
    for (field, meta) in reader.schema().fields().iter().zip(&footer.schema.fields) {
        let semantic = meta
            .semantic
            .as_ref()
            .map(|s| serde_json::to_string(s).unwrap_or_default())
            .unwrap_or_default();
        outln!(
            "  {:<24} {:<28} {:<9} {semantic}",
            field.name(),
            field.data_type().to_string(),
            if field.is_nullable() {
                "nullable"
            } else {
                "required"
            }
        )?;
    }
    for (g, group) in footer.row_groups.iter().enumerate() {
        outln!("\nrow group {g}: {} rows", group.num_rows)?;
        for (field, chunk) in reader.schema().fields().iter().zip(&group.columns) {
            let s = &chunk.stats;
            let bound = |b: &Option<String>| {
                b.as_deref()
                    .and_then(|v| ncf::stat_value(field.data_type(), v))
                    .map_or("-".to_string(), |v| v.to_string())
            };
            outln!(
                "  {:<24} {:<10} {:<5} {:>10} B stored {:>10} B encoded  nulls {:<6} distinct {:<6} min {} max {}",
                field.name(),
                format!("{:?}", chunk.encoding).to_lowercase(),
                format!("{:?}", chunk.compression).to_lowercase(),
                chunk.stored_length,
                chunk.encoded_length,
                s.null_count.map_or("?".into(), |n| n.to_string()),
                match (s.distinct_count, s.distinct_estimate) {
                    (Some(n), _) => n.to_string(),
                    (None, Some(n)) => format!("~{n}"),
                    (None, None) => "?".into(),
                },
                bound(&s.min),
                bound(&s.max),
            )?;
        }
    }
    outln!("\nall checksums verified")?;
    Ok(())
}
