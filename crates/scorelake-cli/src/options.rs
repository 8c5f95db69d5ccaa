//! Flags → library options: how tables are read and written, column types,
//! formats.

use anyhow::{Result, bail};
use scorelake::config::{ByteSize, ConfigValue, Format};
use scorelake::datafusion::arrow::datatypes::{DataType, TimeUnit};
use scorelake::io::{CsvReadOptions, ReadOptions, TableVersion, WriteMode, WriteOptions};

use crate::args::{FormatArg, ReadArgs, WriteArgs};
use crate::error::Usage;

/// Read options from the flags.
pub(crate) fn read_options(args: &ReadArgs) -> Result<ReadOptions> {
    let delimiter = match args.csv_delimiter {
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => bail!(Usage(format!(
            "--csv-delimiter must be one ASCII character, got `{c}`"
        ))),
        None => None,
    };
    let column_types = args
        .csv_types
        .iter()
        .map(|spec| {
            let (col, ty) = spec
                .split_once('=')
                .ok_or_else(|| Usage(format!("--csv-type expects COL=TYPE, got `{spec}`")))?;
            Ok((col.to_string(), data_type(ty)?))
        })
        .collect::<Result<_>>()?;
    let version = match (args.version, &args.as_of) {
        (Some(n), _) => Some(TableVersion::Number(n)),
        (None, Some(t)) => {
            Some(TableVersion::parse_as_of(t).map_err(|e| Usage(format!("--as-of: {e}")))?)
        }
        (None, None) => None,
    };
    Ok(ReadOptions {
        format: args.from.map(format),
        merge_schema: args.merge_schema,
        preserve_order: args.preserve_order,
        version,
        csv: CsvReadOptions {
            delimiter,
            has_header: args.no_header.then_some(false),
            infer_rows: None,
            column_types,
        },
    })
}

/// The column type named by `--csv-type COL=TYPE`.
fn data_type(name: &str) -> Result<DataType> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" | "int" => DataType::Int32,
        "int64" | "bigint" => DataType::Int64,
        "float32" | "float" => DataType::Float32,
        "float64" | "double" => DataType::Float64,
        "utf8" | "string" | "str" => DataType::Utf8,
        "bool" | "boolean" => DataType::Boolean,
        "date" | "date32" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, None),
        other => bail!(Usage(format!(
            "unknown column type `{other}`; expected int8, int16, int32, int64, float32, float64, utf8, bool, date or timestamp"
        ))),
    })
}

/// Write options from the flags; `read` brings `--merge-schema`, where the command has it.
pub(crate) fn write_options(args: &WriteArgs, read: Option<&ReadArgs>) -> Result<WriteOptions> {
    let semantics = match &args.semantics {
        Some(path) => scorelake::formats::ncf::load_semantics(path)?,
        None => Default::default(),
    };
    Ok(WriteOptions {
        format: args.to.map(format),
        mode: if args.overwrite {
            WriteMode::Overwrite
        } else if args.append {
            WriteMode::Append
        } else {
            WriteMode::ErrorIfExists
        },
        partition_by: args.partition_by.clone(),
        semantics,
        merge_schema: read.is_some_and(|r| r.merge_schema),
        sorted_by: Vec::new(),
    })
}

/// The table format named by `--from` or `--to`.
fn format(f: FormatArg) -> Format {
    match f {
        FormatArg::Parquet => Format::Parquet,
        FormatArg::Csv => Format::Csv,
        FormatArg::Ncf => Format::Ncf,
        FormatArg::Delta => Format::Delta,
    }
}

/// The size a flag such as `--target-size` gives (`256m`, `1g`, bytes).
pub(crate) fn size_flag(flag: &str, text: Option<&str>) -> Result<Option<u64>> {
    let Some(text) = text else {
        return Ok(None);
    };
    match ByteSize::parse_value(text) {
        Some(size) => Ok(Some(size.0)),
        None => bail!(Usage(format!(
            "{flag}: `{text}` is not {}",
            ByteSize::expected()
        ))),
    }
}
