//! Streaming NCF writer: bounded memory, one row group at a time.

use std::collections::BTreeMap;
use std::io::Write;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::chunk::encode;
use crate::compress::compress;
use crate::error::{NcfError, Result};
use crate::footer::{
    ChunkMeta, Compression, FORMAT_VERSION, FieldMeta, Footer, MAGIC, RowGroupMeta, SchemaMeta,
    Semantic,
};
use crate::parallel;
use crate::reader::SEMANTIC_KEY;
use crate::types::to_meta;

/// Writer settings.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Rows per row group (the unit of pruning and of buffering).
    pub row_group_rows: usize,
    /// Chunk compression.
    pub compression: Compression,
    /// Zstandard level (1–22).
    pub zstd_level: i32,
    /// Semantic metadata per column name.
    pub semantics: BTreeMap<String, Semantic>,
    /// Threads encoding columns in parallel (at least 1).
    pub threads: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            row_group_rows: 128 * 1024,
            compression: Compression::Zstd,
            zstd_level: 3,
            semantics: BTreeMap::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Writes record batches as an NCF file.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch};
/// use ncf::{NcfReader, NcfWriter, WriteOptions};
///
/// let batch = RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from(vec![1, 2, 3])) as _)])?;
/// let mut w = NcfWriter::new(Vec::new(), batch.schema(), WriteOptions::default())?;
/// w.write(&batch)?;
/// let bytes = w.finish()?;
/// let r = NcfReader::new(bytes)?;
/// assert_eq!(r.read_row_group(0, None)?, batch);
/// # Ok::<(), ncf::NcfError>(())
/// ```
pub struct NcfWriter<W: Write> {
    out: W,
    position: u64,
    schema: SchemaRef,
    options: WriteOptions,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    row_groups: Vec<RowGroupMeta>,
    fields: Vec<FieldMeta>,
}

impl<W: Write> NcfWriter<W> {
    /// Starts a file with `schema`; fails for types NCF does not store.
    pub fn new(mut out: W, schema: SchemaRef, options: WriteOptions) -> Result<Self> {
        if options.row_group_rows == 0 || options.row_group_rows > u32::MAX as usize {
            return Err(NcfError::Invalid(
                "row_group_rows must be between 1 and 2^32-1".into(),
            ));
        }
        for name in options.semantics.keys() {
            if schema.field_with_name(name).is_err() {
                return Err(NcfError::Invalid(format!(
                    "semantic metadata names column `{name}`, which is not in the schema"
                )));
            }
        }
        let fields = schema
            .fields()
            .iter()
            .map(|f| {
                Ok(FieldMeta {
                    name: f.name().clone(),
                    data_type: to_meta(f.name(), f.data_type())?,
                    nullable: f.is_nullable(),
                    semantic: options.semantics.get(f.name()).cloned().or_else(|| {
                        let json = f.metadata().get(SEMANTIC_KEY)?;
                        serde_json::from_str(json).ok()
                    }),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.write_all(MAGIC)?;
        Ok(NcfWriter {
            out,
            position: MAGIC.len() as u64,
            schema,
            options,
            pending: Vec::new(),
            pending_rows: 0,
            row_groups: Vec::new(),
            fields,
        })
    }

    /// Adds rows; full row groups are encoded and written as they fill.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let same = batch.schema().fields().len() == self.schema.fields().len()
            && batch
                .schema()
                .fields()
                .iter()
                .zip(self.schema.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if !same {
            return Err(NcfError::Invalid(format!(
                "batch schema {:?} does not match the file's {:?}",
                batch.schema().fields(),
                self.schema.fields()
            )));
        }
        self.pending.push(batch.clone());
        self.pending_rows += batch.num_rows();
        while self.pending_rows >= self.options.row_group_rows {
            self.flush(self.options.row_group_rows)?;
        }
        Ok(())
    }

    /// Writes what is buffered, the footer and the trailer; returns the sink.
    pub fn finish(mut self) -> Result<W> {
        if self.pending_rows > 0 || self.row_groups.is_empty() {
            self.flush(self.pending_rows)?;
        }
        let footer = Footer {
            format_version: FORMAT_VERSION,
            created_by: format!("scorelake-ncf {}", env!("CARGO_PKG_VERSION")),
            num_rows: self.row_groups.iter().map(|g| g.num_rows).sum(),
            schema: SchemaMeta {
                fields: self.fields.clone(),
                metadata: self.schema.metadata().clone().into_iter().collect(),
            },
            row_groups: std::mem::take(&mut self.row_groups),
        };
        let json =
            serde_json::to_vec(&footer).map_err(|e| NcfError::Invalid(format!("footer: {e}")))?;
        let len = u32::try_from(json.len())
            .map_err(|_| NcfError::Unsupported("footer over 4 GiB".into()))?;
        self.out.write_all(&json)?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&crc32c::crc32c(&json).to_le_bytes())?;
        self.out.write_all(MAGIC)?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Encodes the first `rows` buffered rows as one row group.
    fn flush(&mut self, rows: usize) -> Result<()> {
        let all = match self.pending.as_slice() {
            [one] => one.clone(),
            many => arrow_select::concat::concat_batches(&self.schema, many)?,
        };
        let group = all.slice(0, rows);
        let rest = all.slice(rows, all.num_rows() - rows);
        self.pending = if rest.num_rows() > 0 {
            vec![rest]
        } else {
            vec![]
        };
        self.pending_rows -= rows;

        let columns = group.columns();
        let (codec, level) = (self.options.compression, self.options.zstd_level);
        let encoded = parallel::map(columns, self.options.threads, |col| {
            let e = encode(col);
            let encoded_length = e.bytes.len() as u64;
            compress(codec, level, e.bytes).map(|stored| {
                let meta = ChunkMeta {
                    offset: 0,
                    stored_length: stored.len() as u64,
                    encoded_length,
                    encoding: e.encoding,
                    compression: codec,
                    compression_level: (codec == Compression::Zstd).then_some(level),
                    crc32c: crc32c::crc32c(&stored),
                    stats: e.stats,
                };
                (stored, meta)
            })
        });
        let mut metas = Vec::with_capacity(columns.len());
        for chunk in encoded {
            let (stored, mut meta) = chunk?;
            meta.offset = self.position;
            self.out.write_all(&stored)?;
            self.position += stored.len() as u64;
            metas.push(meta);
        }
        self.row_groups.push(RowGroupMeta {
            num_rows: rows as u64,
            columns: metas,
        });
        Ok(())
    }
}
