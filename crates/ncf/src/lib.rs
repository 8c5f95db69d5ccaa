//! NCF: a columnar file format for Arrow data with per-chunk compression,
//! statistics, checksums and semantic column metadata.
//!
//! The format is specified in `docs/ncf-format.md`. [`NcfWriter`] streams
//! record batches into row groups with bounded memory; [`NcfReader`] checks
//! a file's structure before trusting it, reads projected columns, skips row
//! groups whose statistics rule out a [`Predicate`], and decodes columns in
//! parallel.

mod bits;
mod chunk;
mod compress;
mod distinct;
mod error;
pub mod footer;
mod parallel;
mod predicate;
mod reader;
mod types;
mod writer;

pub use error::{NcfError, Result};
pub use footer::{Compression, Encoding, Semantic};
pub use predicate::{Op, Predicate, Value, stat_value};
pub use reader::{FileMetadata, NcfReader, ReadOptions, SEMANTIC_KEY, Source, footer_span};
pub use writer::{NcfWriter, WriteOptions};
