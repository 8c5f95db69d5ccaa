//! What a write is asked to do ([`WriteOptions`], [`WriteMode`]) and what it
//! reports ([`WriteSummary`]): shared by file outputs and Delta tables.

use std::collections::BTreeMap;

use crate::config::Format;
use ncf::Semantic;

/// What to do when the output exists already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WriteMode {
    /// Refuse to write (the default).
    #[default]
    ErrorIfExists,
    /// Replace it once the new data is completely written.
    Overwrite,
    /// Add the data as a new version (Delta tables; others refuse).
    Append,
}

/// How to write a table.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// The format; by default from the extension, else `io.default_format`.
    pub format: Option<Format>,
    /// What to do when the output exists.
    pub mode: WriteMode,
    /// Columns to partition the output folders by (`key=value/`; NULL as
    /// `__HIVE_DEFAULT_PARTITION__`, keys and values percent-encoded).
    pub partition_by: Vec<String>,
    /// NCF outputs: semantic metadata per column (see
    /// [`load_semantics`](crate::formats::ncf::load_semantics)); columns read
    /// from NCF keep theirs unless named here.
    pub semantics: BTreeMap<String, Semantic>,
    /// Delta appends: add the data's new columns to the table (as nullable
    /// columns) instead of refusing them.
    pub merge_schema: bool,
    /// Parquet and CSV outputs: write the rows in this order of these
    /// columns (ascending, nulls last); Parquet files record it
    /// (`sorting_columns`), so readers need not sort them again. Rows that
    /// already come in this order are not sorted again.
    pub sorted_by: Vec<String>,
}

/// What a write produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteSummary {
    /// Where the table now is.
    pub location: String,
    /// Rows written.
    pub rows: u64,
    /// Format written.
    pub format: Format,
    /// Bytes of the written files.
    pub bytes: u64,
    /// Delta tables: the version committed.
    pub version: Option<u64>,
}
