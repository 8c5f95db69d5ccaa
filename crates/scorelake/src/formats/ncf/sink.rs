//! Writing NCF files from the engine (`COPY … TO`, `DataFrame` writes).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::runtime::{JoinSet, SpawnedTask};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::write::demux::DemuxedStreamReceiver;
use datafusion::datasource::file_format::write::{
    ObjectWriterBuilder, SharedBuffer, get_writer_schema,
};
use datafusion::datasource::physical_plan::{FileSink, FileSinkConfig};
use datafusion::datasource::sink::DataSink;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use ncf::{NcfWriter, WriteOptions};
use object_store::ObjectStore;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::{self, Receiver};

/// Bytes gathered from the encoder before they go to the object store.
const FLUSH_BYTES: usize = 4 << 20;

/// Writes each output file of a plan as NCF.
pub struct NcfSink {
    pub(super) config: FileSinkConfig,
    pub(super) options: WriteOptions,
}

impl NcfSink {
    pub(super) fn new(config: FileSinkConfig, options: WriteOptions) -> Self {
        NcfSink { config, options }
    }
}

impl fmt::Debug for NcfSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NcfSink").finish_non_exhaustive()
    }
}

impl DisplayAs for NcfSink {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match t {
            DisplayFormatType::TreeRender => {
                writeln!(f, "format: ncf")?;
                write!(f, "file={}", self.config.original_url)
            }
            _ => write!(
                f,
                "NcfSink(url={}, compression={:?}, row_group_rows={})",
                self.config.original_url, self.options.compression, self.options.row_group_rows
            ),
        }
    }
}

#[async_trait]
impl FileSink for NcfSink {
    fn config(&self) -> &FileSinkConfig {
        &self.config
    }

    async fn spawn_writer_tasks_and_join(
        &self,
        context: &Arc<TaskContext>,
        demux_task: SpawnedTask<Result<()>>,
        mut files: DemuxedStreamReceiver,
        object_store: Arc<dyn ObjectStore>,
    ) -> Result<u64> {
        // A row group's batches (at most 32) may wait while the one before
        // is encoded, so the plan goes on producing: `convert` of W1's panel
        // to NCF 1.21 s with 4 queued, 1.08 s with 18 (5 runs; 45 MiB more).
        let queued = (self
            .options
            .row_group_rows
            .div_ceil(context.session_config().batch_size().max(1))
            + 2)
        .min(32);
        let buffer_size = context
            .session_config()
            .options()
            .execution
            .objectstore_writer_buffer_size;
        let schema = get_writer_schema(&self.config);
        let mut tasks: JoinSet<Result<u64>> = JoinSet::new();
        while let Some((path, rx)) = files.recv().await {
            let buffer = SharedBuffer::new(FLUSH_BYTES + (1 << 20));
            let writer = NcfWriter::new(buffer.clone(), Arc::clone(&schema), self.options.clone())
                .map_err(|e| DataFusionError::External(format!("{path}: {e}").into()))?;
            let out = ObjectWriterBuilder::new(
                FileCompressionType::UNCOMPRESSED,
                &path,
                Arc::clone(&object_store),
            )
            .with_buffer_size(Some(buffer_size))
            .build()?;
            tasks.spawn(write_file(
                path.to_string(),
                rx,
                queued,
                (writer, buffer),
                out,
            ));
        }
        let mut rows = 0;
        while let Some(result) = tasks.join_next().await {
            match result {
                Ok(r) => rows += r?,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => return Err(DataFusionError::External(Box::new(e))),
            }
        }
        demux_task
            .join_unwind()
            .await
            .map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))??;
        Ok(rows)
    }
}

/// Writes one file: batches go to a blocking thread that encodes row groups
/// (columns in parallel) while the next batches are being produced, up to
/// `queued` of them waiting; the encoded bytes come back here and stream to
/// the object store.
async fn write_file(
    path: String,
    mut rx: Receiver<RecordBatch>,
    queued: usize,
    (mut writer, buffer): (NcfWriter<SharedBuffer>, SharedBuffer),
    mut out: Box<dyn AsyncWrite + Send + Unpin>,
) -> Result<u64> {
    let (batch_tx, mut batch_rx) = mpsc::channel::<RecordBatch>(queued);
    let (bytes_tx, mut bytes_rx) = mpsc::channel::<Vec<u8>>(2);
    let failed = move |e: ncf::NcfError| DataFusionError::External(format!("{path}: {e}").into());
    let encoder = SpawnedTask::spawn_blocking(move || -> Result<u64> {
        let mut rows = 0u64;
        while let Some(batch) = batch_rx.blocking_recv() {
            rows += batch.num_rows() as u64;
            writer.write(&batch).map_err(&failed)?;
            let ready = take_if_over(&buffer, FLUSH_BYTES)?;
            if !ready.is_empty() && bytes_tx.blocking_send(ready).is_err() {
                return Ok(rows); // the writing side failed; its error is reported
            }
        }
        writer.finish().map_err(&failed)?;
        let _ = bytes_tx.blocking_send(take_if_over(&buffer, 0)?);
        Ok(rows)
    });
    let forward = SpawnedTask::spawn(async move {
        while let Some(batch) = rx.recv().await {
            if batch_tx.send(batch).await.is_err() {
                break; // the encoder stopped; its error is reported
            }
        }
    });
    while let Some(bytes) = bytes_rx.recv().await {
        out.write_all(&bytes).await?;
    }
    let rows = encoder
        .join_unwind()
        .await
        .map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))??;
    forward
        .join_unwind()
        .await
        .map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))?;
    out.shutdown().await?;
    Ok(rows)
}

/// The encoded bytes gathered so far, once there are more than `threshold`.
fn take_if_over(buffer: &SharedBuffer, threshold: usize) -> Result<Vec<u8>> {
    let mut bytes = buffer
        .buffer
        .try_lock()
        .ok_or_else(|| DataFusionError::Internal("NCF write buffer is busy".into()))?;
    if bytes.len() > threshold || threshold == 0 {
        Ok(std::mem::take(&mut *bytes))
    } else {
        Ok(Vec::new())
    }
}

#[async_trait]
impl DataSink for NcfSink {
    fn schema(&self) -> &SchemaRef {
        self.config.output_schema()
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        context: &Arc<TaskContext>,
    ) -> Result<u64> {
        FileSink::write_all(self, data, context).await
    }
}
