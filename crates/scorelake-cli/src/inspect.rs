//! `scorelake ncf inspect`: what an NCF file holds, with every checksum verified.

use anyhow::{Context, Result};
use ncf::{NcfReader, Source};

/// Prints the schema, semantic metadata, row groups, encodings and
/// statistics of the NCF file `name` held in `source`, after reading every
/// chunk (which verifies its checksum) and decoding every statistics bound.
pub fn inspect(name: &str, source: impl Source, json: bool) -> Result<()> {
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
        println!("{}", serde_json::to_string_pretty(footer)?);
        return Ok(());
    }
    println!(
        "{}: NCF version {}, {} rows, {} row groups, written by {}",
        name,
        footer.format_version,
        footer.num_rows,
        footer.row_groups.len(),
        footer.created_by
    );
    println!("\ncolumns:");
    for (field, meta) in reader.schema().fields().iter().zip(&footer.schema.fields) {
        let semantic = meta
            .semantic
            .as_ref()
            .map(|s| serde_json::to_string(s).unwrap_or_default())
            .unwrap_or_default();
        println!(
            "  {:<24} {:<28} {:<9} {semantic}",
            field.name(),
            field.data_type().to_string(),
            if field.is_nullable() {
                "nullable"
            } else {
                "required"
            }
        );
    }
    for (g, group) in footer.row_groups.iter().enumerate() {
        println!("\nrow group {g}: {} rows", group.num_rows);
        for (field, chunk) in reader.schema().fields().iter().zip(&group.columns) {
            let s = &chunk.stats;
            let bound = |b: &Option<String>| {
                b.as_deref()
                    .and_then(|v| ncf::stat_value(field.data_type(), v))
                    .map_or("-".to_string(), |v| v.to_string())
            };
            println!(
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
            );
        }
    }
    println!("\nall checksums verified");
    Ok(())
}
