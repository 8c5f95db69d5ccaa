//! The footer: schema, row groups, chunk locations and statistics (JSON).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The file magic, at the start and at the end.
pub const MAGIC: &[u8; 4] = b"NCF1";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Bytes after the footer: length, CRC-32C, magic.
pub const TRAILER_LEN: usize = 12;

/// The footer of an NCF file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Footer {
    /// Specification version.
    pub format_version: u32,
    /// Who wrote the file.
    #[serde(default)]
    pub created_by: String,
    /// Total rows.
    pub num_rows: u64,
    /// Columns.
    pub schema: SchemaMeta,
    /// Row groups in file order.
    pub row_groups: Vec<RowGroupMeta>,
}

/// The schema as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaMeta {
    /// One per column.
    pub fields: Vec<FieldMeta>,
    /// Free key/value metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// One column of the schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldMeta {
    /// Column name.
    pub name: String,
    /// Column type.
    #[serde(rename = "type")]
    pub data_type: TypeMeta,
    /// Whether nulls may occur.
    pub nullable: bool,
    /// What the column means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic: Option<Semantic>,
}

/// A column type as written in the footer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeMeta {
    /// `{"timestamp": {"unit": "us", "timezone": "UTC"}}`
    Timestamp {
        /// `s`, `ms`, `us` or `ns`.
        unit: String,
        /// IANA zone or offset; `None` for naive timestamps.
        timezone: Option<String>,
    },
    /// `{"decimal128": {"precision": 18, "scale": 4}}`
    Decimal128 {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: i8,
    },
    /// `"bool"`, `"int64"`, `"utf8"`, …
    #[serde(untagged)]
    Simple(String),
}

/// Semantic metadata of a column.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Semantic {
    /// `identifier`, `categorical`, `numerical`, `temporal`, `text`, `target` or `weight`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether the column holds personal data.
    #[serde(default)]
    pub contains_pii: bool,
    /// `none`, `direct` or `indirect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pii: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Column group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// One row group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowGroupMeta {
    /// Rows in the group.
    pub num_rows: u64,
    /// One chunk per column, in schema order.
    pub columns: Vec<ChunkMeta>,
}

/// Where a column chunk is and how it is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkMeta {
    /// Byte offset in the file.
    pub offset: u64,
    /// Bytes stored (after compression).
    pub stored_length: u64,
    /// Bytes after decompression.
    pub encoded_length: u64,
    /// Value layout.
    pub encoding: Encoding,
    /// Compression of the stored bytes.
    pub compression: Compression,
    /// Level used, for codecs that have levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_level: Option<i32>,
    /// CRC-32C of the stored bytes.
    pub crc32c: u32,
    /// Statistics for pruning.
    #[serde(default)]
    pub stats: Stats,
}

/// Chunk statistics; every member is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Null rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null_count: Option<u64>,
    /// Smallest non-null value, base64 of its plain encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// Largest non-null value, base64 of its plain encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// Exact number of distinct non-null values, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_count: Option<u64>,
    /// Estimated number of distinct non-null values (HyperLogLog), when the
    /// exact number is not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_estimate: Option<u64>,
}

/// How values are laid out in a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Values one after another.
    Plain,
    /// A dictionary of distinct values and bit-packed indices.
    Dictionary,
    /// Frame of reference: a minimum and bit-packed offsets from it.
    Bitpacked,
    /// Runs of equal values.
    Rle,
}

/// Compression of a chunk's stored bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Stored as encoded.
    None,
    /// One LZ4 block.
    Lz4,
    /// One Zstandard frame.
    Zstd,
}
