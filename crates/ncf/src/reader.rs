//! NCF reader: footer checks, projection, row-group pruning, parallel decoding.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::chunk::decode;
use crate::compress::decompress;
use crate::error::{NcfError, Result, corrupt};
use crate::footer::{FORMAT_VERSION, Footer, MAGIC, TRAILER_LEN};
use crate::parallel;
use crate::predicate::{Predicate, bound};
use crate::types::from_meta;

/// Where file bytes come from.
pub trait Source: Send + Sync {
    /// Total size in bytes.
    fn size(&self) -> Result<u64>;
    /// Exactly `len` bytes at `offset`.
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>>;
}

impl Source for Vec<u8> {
    fn size(&self) -> Result<u64> {
        Ok(self.len() as u64)
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let start = usize::try_from(offset).map_err(|_| corrupt("offset beyond memory"))?;
        self.get(start..start.saturating_add(len))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| corrupt(format!("read of {len} bytes at {offset} beyond the end")))
    }
}

#[cfg(unix)]
impl Source for std::fs::File {
    fn size(&self) -> Result<u64> {
        Ok(self.metadata()?.len())
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0; len];
        self.read_exact_at(&mut buf, offset)?;
        Ok(buf)
    }
}

/// Reader limits against absurd sizes in damaged or hostile files.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Largest decompressed chunk accepted.
    pub max_chunk_bytes: u64,
    /// Largest footer accepted.
    pub max_footer_bytes: u64,
    /// Most rows accepted in one row group.
    pub max_rows_per_group: u64,
    /// Threads decoding columns in parallel.
    pub threads: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_chunk_bytes: 1 << 30,
            max_footer_bytes: 256 << 20,
            max_rows_per_group: 1 << 26,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// A file's checked footer and Arrow schema: everything needed to plan reads.
#[derive(Debug)]
pub struct FileMetadata {
    footer: Footer,
    schema: SchemaRef,
}

/// Key of the Arrow field metadata that carries a column's semantic metadata (JSON).
pub const SEMANTIC_KEY: &str = "ncf.semantic";

/// How many bytes at the end of a file of `size` bytes hold the footer and
/// trailer, from the last [`TRAILER_LEN`] bytes (`trailer`). Lets a reader of
/// remote files fetch the footer in one request.
pub fn footer_span(size: u64, trailer: &[u8]) -> Result<u64> {
    let min = (MAGIC.len() + TRAILER_LEN) as u64;
    if size < min {
        return Err(corrupt(format!(
            "{size} bytes is too short for NCF (at least {min})"
        )));
    }
    if trailer.len() != TRAILER_LEN || &trailer[8..12] != MAGIC {
        return Err(corrupt(
            "wrong magic at the end: the file is truncated or not NCF",
        ));
    }
    let footer_len = u64::from(u32::from_le_bytes([
        trailer[0], trailer[1], trailer[2], trailer[3],
    ]));
    if footer_len > size - min {
        return Err(corrupt(format!(
            "footer length {footer_len} points outside the file of {size} bytes"
        )));
    }
    Ok(footer_len + TRAILER_LEN as u64)
}

impl FileMetadata {
    /// Reads and checks the trailer, the footer and every chunk's bounds.
    pub fn load<S: Source + ?Sized>(source: &S, options: &ReadOptions) -> Result<Self> {
        let size = source.size()?;
        let min = (MAGIC.len() + TRAILER_LEN) as u64;
        if size < min {
            return Err(corrupt(format!(
                "{size} bytes is too short for NCF (at least {min})"
            )));
        }
        if source.read_at(0, 4)? != MAGIC {
            return Err(corrupt("wrong magic at the start: not an NCF file"));
        }
        let trailer = source.read_at(size - TRAILER_LEN as u64, TRAILER_LEN)?;
        let span = footer_span(size, &trailer)?;
        let footer_len = span - TRAILER_LEN as u64;
        let footer_crc = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        if footer_len > options.max_footer_bytes {
            return Err(corrupt(format!(
                "footer length {footer_len} over the limit"
            )));
        }
        let footer_start = size - span;
        let bytes = source.read_at(footer_start, footer_len as usize)?;
        if crc32c::crc32c(&bytes) != footer_crc {
            return Err(corrupt("checksum mismatch in the footer"));
        }
        let footer: Footer = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(format!("footer is not valid: {e}")))?;
        if footer.format_version != FORMAT_VERSION {
            return Err(NcfError::Unsupported(format!(
                "file format version {} (this reader reads version {FORMAT_VERSION})",
                footer.format_version
            )));
        }
        let schema = arrow_schema(&footer)?;
        check_layout(&footer, footer_start, options)?;
        Ok(FileMetadata { footer, schema })
    }

    /// The footer as stored.
    pub fn footer(&self) -> &Footer {
        &self.footer
    }

    /// The Arrow schema (semantic metadata under [`SEMANTIC_KEY`] per field).
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// Number of row groups.
    pub fn num_row_groups(&self) -> usize {
        self.footer.row_groups.len()
    }

    /// Byte range of the chunk of `column` in row group `group` (checked at load).
    pub fn chunk_range(&self, group: usize, column: usize) -> Option<Range<u64>> {
        let c = self.footer.row_groups.get(group)?.columns.get(column)?;
        Some(c.offset..c.offset + c.stored_length)
    }

    /// Checks that every chunk's statistics bounds decode as values of its
    /// column's type (pruning relies on them; opening a file does not check
    /// them). The error names the row group and the column.
    pub fn check_statistics(&self) -> Result<()> {
        for (g, group) in self.footer.row_groups.iter().enumerate() {
            for (field, chunk) in self.schema.fields().iter().zip(&group.columns) {
                let what = format_args!("row group {g}, column `{}`", field.name());
                for b in [&chunk.stats.min, &chunk.stats.max].into_iter().flatten() {
                    bound(field.data_type(), b, &what)?;
                }
            }
        }
        Ok(())
    }

    /// Row groups that may hold rows matching `predicate` (all when `None`).
    pub fn prune(&self, predicate: Option<&Predicate>) -> Result<Vec<usize>> {
        let index: HashMap<&str, usize> = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().as_str(), i))
            .collect();
        let mut keep = Vec::new();
        for (g, group) in self.footer.row_groups.iter().enumerate() {
            let may = match predicate {
                None => true,
                Some(p) => p.may_match(&|name: &str| {
                    index.get(name).map(|&c| {
                        (
                            self.schema.field(c).data_type().clone(),
                            &group.columns[c].stats,
                            group.num_rows,
                        )
                    })
                })?,
            };
            if may {
                keep.push(g);
            }
        }
        Ok(keep)
    }
}

/// An open NCF file.
pub struct NcfReader<S: Source> {
    source: S,
    meta: Arc<FileMetadata>,
    options: ReadOptions,
}

impl<S: Source> NcfReader<S> {
    /// Opens `source` with the default limits.
    pub fn new(source: S) -> Result<Self> {
        Self::with_options(source, ReadOptions::default())
    }

    /// Opens `source`: checks the trailer, the footer and every chunk's bounds.
    pub fn with_options(source: S, options: ReadOptions) -> Result<Self> {
        let meta = Arc::new(FileMetadata::load(&source, &options)?);
        Ok(Self::with_metadata(source, meta, options))
    }

    /// Reads `source` with metadata loaded before (e.g. once per remote file).
    pub fn with_metadata(source: S, meta: Arc<FileMetadata>, options: ReadOptions) -> Self {
        NcfReader {
            source,
            meta,
            options,
        }
    }

    /// The checked footer and schema.
    pub fn metadata(&self) -> &Arc<FileMetadata> {
        &self.meta
    }

    /// The footer as stored.
    pub fn footer(&self) -> &Footer {
        &self.meta.footer
    }

    /// The Arrow schema (semantic metadata under [`SEMANTIC_KEY`] per field).
    pub fn schema(&self) -> SchemaRef {
        self.meta.schema()
    }

    /// Number of row groups.
    pub fn num_row_groups(&self) -> usize {
        self.meta.num_row_groups()
    }

    /// Reads row group `index`, only the `projection` columns if given.
    pub fn read_row_group(
        &self,
        index: usize,
        projection: Option<&[usize]>,
    ) -> Result<RecordBatch> {
        self.read(index, projection, None)
    }

    /// Reads only the rows at `rows` (ascending positions within the group)
    /// of row group `index`, only the `projection` columns if given. Cheaper
    /// than reading the group and filtering it: plain values are gathered and
    /// dictionary text is built for the selected rows only.
    pub fn read_rows(
        &self,
        index: usize,
        projection: Option<&[usize]>,
        rows: &[u32],
    ) -> Result<RecordBatch> {
        self.read(index, projection, Some(rows))
    }

    fn read(
        &self,
        index: usize,
        projection: Option<&[usize]>,
        rows: Option<&[u32]>,
    ) -> Result<RecordBatch> {
        let group = self
            .meta
            .footer
            .row_groups
            .get(index)
            .ok_or_else(|| NcfError::Invalid(format!("no row group {index}")))?;
        let columns: Vec<usize> = match projection {
            Some(p) => p.to_vec(),
            None => (0..self.meta.schema.fields().len()).collect(),
        };
        if let Some(bad) = columns
            .iter()
            .find(|&&c| c >= self.meta.schema.fields().len())
        {
            return Err(NcfError::Invalid(format!("no column {bad}")));
        }
        let n = group.num_rows as usize;
        if let Some(rows) = rows
            && rows.iter().any(|&r| r as usize >= n)
        {
            return Err(NcfError::Invalid(format!(
                "row selection beyond the {n} rows of row group {index}"
            )));
        }
        let arrays = parallel::map(&columns, self.options.threads, |&c| {
            self.read_chunk(index, c, n, rows)
        })
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
        let schema = Arc::new(self.meta.schema.project(&columns)?);
        let rows_out = rows.map_or(n, <[u32]>::len);
        let options = RecordBatchOptions::new().with_row_count(Some(rows_out));
        Ok(RecordBatch::try_new_with_options(schema, arrays, &options)?)
    }

    fn read_chunk(
        &self,
        group: usize,
        column: usize,
        n: usize,
        rows: Option<&[u32]>,
    ) -> Result<ArrayRef> {
        let meta = &self.meta.footer.row_groups[group].columns[column];
        let field = self.meta.schema.field(column);
        let what = format!("row group {group}, column `{}`", field.name());
        let stored = self
            .source
            .read_at(meta.offset, meta.stored_length as usize)?;
        if crc32c::crc32c(&stored) != meta.crc32c {
            return Err(corrupt(format!("checksum mismatch in {what}")));
        }
        let encoded = decompress(
            meta.compression,
            stored,
            meta.encoded_length as usize,
            &what,
        )?;
        let array = decode(field.data_type(), n, meta.encoding, &encoded, &what, rows)?;
        if !field.is_nullable() && array.null_count() > 0 {
            return Err(corrupt(format!("{what}: nulls in a non-nullable column")));
        }
        Ok(array)
    }

    /// Row groups that may hold rows matching `predicate` (all when `None`).
    pub fn prune(&self, predicate: Option<&Predicate>) -> Result<Vec<usize>> {
        self.meta.prune(predicate)
    }

    /// Reads the row groups that may match `predicate`, projected. Rows of a
    /// kept group that do not match are still returned: pruning skips whole
    /// groups only.
    pub fn scan(
        &self,
        projection: Option<&[usize]>,
        predicate: Option<&Predicate>,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>> + '_> {
        let groups = self.prune(predicate)?;
        let projection = projection.map(<[usize]>::to_vec);
        Ok(groups
            .into_iter()
            .map(move |g| self.read_row_group(g, projection.as_deref())))
    }
}

fn arrow_schema(footer: &Footer) -> Result<SchemaRef> {
    let fields = footer
        .schema
        .fields
        .iter()
        .map(|f| {
            let t: DataType = from_meta(&f.name, &f.data_type)?;
            let mut field = Field::new(&f.name, t, f.nullable);
            if let Some(s) = &f.semantic {
                let json = serde_json::to_string(s).map_err(|e| corrupt(e.to_string()))?;
                field = field.with_metadata([(SEMANTIC_KEY.to_string(), json)].into());
            }
            Ok(field)
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = footer.schema.metadata.clone().into_iter().collect();
    Ok(Arc::new(Schema::new_with_metadata(fields, metadata)))
}

fn check_layout(footer: &Footer, footer_start: u64, options: &ReadOptions) -> Result<()> {
    let columns = footer.schema.fields.len();
    let mut total = 0u64;
    // (start, end, row group, column) of every chunk holding bytes.
    let mut spans = Vec::new();
    for (g, group) in footer.row_groups.iter().enumerate() {
        if group.columns.len() != columns {
            return Err(corrupt(format!(
                "row group {g} has {} column chunks for {columns} columns",
                group.columns.len()
            )));
        }
        if group.num_rows > options.max_rows_per_group {
            return Err(corrupt(format!(
                "row group {g} claims {} rows",
                group.num_rows
            )));
        }
        total += group.num_rows;
        for (c, chunk) in group.columns.iter().enumerate() {
            let name = &footer.schema.fields[c].name;
            let end = chunk.offset.checked_add(chunk.stored_length);
            if chunk.offset < MAGIC.len() as u64 || end.is_none_or(|e| e > footer_start) {
                return Err(corrupt(format!(
                    "row group {g}, column `{name}`: chunk at {} of {} bytes lies outside the data area",
                    chunk.offset, chunk.stored_length
                )));
            }
            if chunk.encoded_length > options.max_chunk_bytes {
                return Err(corrupt(format!(
                    "row group {g}, column `{name}`: {} bytes decoded is over the limit",
                    chunk.encoded_length
                )));
            }
            if chunk.stored_length > 0 {
                spans.push((chunk.offset, chunk.offset + chunk.stored_length, g, c));
            }
        }
    }
    if total != footer.num_rows {
        return Err(corrupt(format!(
            "row groups hold {total} rows, the footer says {}",
            footer.num_rows
        )));
    }
    check_disjoint(footer, spans)
}

/// Fails unless the chunks (start, end, row group, column) share no byte,
/// naming the first two that do.
fn check_disjoint(footer: &Footer, mut spans: Vec<(u64, u64, usize, usize)>) -> Result<()> {
    spans.sort_unstable();
    // The chunk reaching furthest among those starting before the current one.
    let mut furthest: Option<(u64, u64, usize, usize)> = None;
    for span in spans {
        if let Some(prev) = furthest
            && span.0 < prev.1
        {
            let name = |(start, end, g, c): (u64, u64, usize, usize)| {
                format!(
                    "row group {g}, column `{}` (bytes {start}..{end})",
                    footer.schema.fields[c].name
                )
            };
            return Err(corrupt(format!(
                "{} and {} overlap",
                name(prev),
                name(span)
            )));
        }
        if furthest.is_none_or(|prev| span.1 > prev.1) {
            furthest = Some(span);
        }
    }
    Ok(())
}
