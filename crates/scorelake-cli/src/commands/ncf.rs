//! `scorelake ncf inspect`: what an NCF file holds, with every checksum verified.

use std::process::ExitCode;

use std::sync::Arc;

use anyhow::{Context, Result};
use ncf::{NcfReader, Source};
use scorelake::datafusion::arrow::array::{ArrayRef, Decimal128Array, Int64Array};
use scorelake::datafusion::arrow::compute::cast;
use scorelake::datafusion::arrow::datatypes::DataType;
use scorelake::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use scorelake::io;
use scorelake::session::Session;

use crate::args::NcfCommand;
use crate::output::outln;

/// Runs `cmd` on a local file without starting the engine; `None` when the
/// file is remote and needs [`ncf`].
pub(crate) fn ncf_local(cmd: &NcfCommand) -> Result<Option<ExitCode>> {
    let NcfCommand::Inspect {
        file,
        json,
        row_groups,
    } = cmd;
    let Some(path) = io::Location::parse(file)?.local_path() else {
        return Ok(None);
    };
    let opened =
        std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    inspect(file, opened, *json, *row_groups)?;
    Ok(Some(ExitCode::SUCCESS))
}

/// Runs `cmd`, fetching the file through the session's object stores.
pub(crate) async fn ncf(session: &Session, cmd: NcfCommand) -> Result<ExitCode> {
    let NcfCommand::Inspect {
        file,
        json,
        row_groups,
    } = cmd;
    let bytes = io::fetch(session, &file).await?;
    inspect(&file, bytes, json, row_groups)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the schema, semantic metadata, encodings and statistics of the
/// NCF file `name` held in `source` (per column over the whole file, or per
/// row group with `row_groups`), after reading every chunk (which verifies
/// its checksum) and decoding every statistics bound.
fn inspect(name: &str, source: impl Source, json: bool, row_groups: bool) -> Result<()> {
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
    if !row_groups {
        summary(&reader)?;
        outln!("\nall checksums verified (per row group: --row-groups)")?;
        return Ok(());
    }
    for (g, group) in footer.row_groups.iter().enumerate() {
        outln!("\nrow group {g}: {} rows", group.num_rows)?;
        for (field, chunk) in reader.schema().fields().iter().zip(&group.columns) {
            let s = &chunk.stats;
            let bound = |b: &Option<String>| {
                b.as_deref()
                    .and_then(|v| ncf::stat_value(field.data_type(), v))
                    .map_or("-".to_string(), |v| shown(field.data_type(), &v))
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

/// Per column over every row group: encodings and codecs used, bytes
/// stored and encoded, nulls, and the smallest and largest value.
fn summary<S: Source>(reader: &NcfReader<S>) -> Result<()> {
    let footer = reader.footer();
    outln!("\nper column ({} row groups):", footer.row_groups.len())?;
    for (c, field) in reader.schema().fields().iter().enumerate() {
        let t = field.data_type();
        let (mut stored, mut encoded, mut nulls) = (0u64, 0u64, Some(0u64));
        let (mut lo, mut hi): (Option<ncf::Value>, Option<ncf::Value>) = (None, None);
        let mut encodings = std::collections::BTreeSet::new();
        for group in &footer.row_groups {
            let chunk = &group.columns[c];
            stored += chunk.stored_length;
            encoded += chunk.encoded_length;
            encodings.insert(format!(
                "{}/{}",
                format!("{:?}", chunk.encoding).to_lowercase(),
                format!("{:?}", chunk.compression).to_lowercase()
            ));
            nulls = nulls.zip(chunk.stats.null_count).map(|(a, b)| a + b);
            let bound = |b: &Option<String>| b.as_deref().and_then(|v| ncf::stat_value(t, v));
            if let Some(v) = bound(&chunk.stats.min)
                && lo.as_ref().is_none_or(|l| order(&v, l).is_lt())
            {
                lo = Some(v);
            }
            if let Some(v) = bound(&chunk.stats.max)
                && hi.as_ref().is_none_or(|h| order(&v, h).is_gt())
            {
                hi = Some(v);
            }
        }
        let show = |v: &Option<ncf::Value>| v.as_ref().map_or("-".into(), |v| shown(t, v));
        outln!(
            "  {:<24} {:<24} {:>10} B stored {:>10} B encoded  nulls {:<8} min {} max {}",
            field.name(),
            encodings.into_iter().collect::<Vec<_>>().join(","),
            stored,
            encoded,
            nulls.map_or("?".into(), |n| n.to_string()),
            show(&lo),
            show(&hi)
        )?;
    }
    Ok(())
}

/// A statistics value as the column's type shows it: dates as dates,
/// timestamps as times, decimals with their scale.
fn shown(t: &DataType, v: &ncf::Value) -> String {
    let ncf::Value::Int(n) = v else {
        return v.to_string();
    };
    let array: Option<ArrayRef> = match t {
        DataType::Date32 | DataType::Timestamp(..) => i64::try_from(*n)
            .ok()
            .and_then(|n| cast(&Int64Array::from(vec![n]), t).ok()),
        DataType::Decimal128(p, s) => Decimal128Array::from(vec![*n])
            .with_precision_and_scale(*p, *s)
            .ok()
            .map(|a| Arc::new(a) as ArrayRef),
        _ => None,
    };
    array
        .and_then(|a| {
            ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default())
                .ok()
                .map(|f| f.value(0).to_string())
        })
        .unwrap_or_else(|| v.to_string())
}

/// The order of two statistics values of one column.
fn order(a: &ncf::Value, b: &ncf::Value) -> std::cmp::Ordering {
    use ncf::Value::{Bool, Bytes, Float, Int};
    match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (Float(x), Float(y)) => x.total_cmp(y),
        (Bytes(x), Bytes(y)) => x.cmp(y),
        (Bool(x), Bool(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}
