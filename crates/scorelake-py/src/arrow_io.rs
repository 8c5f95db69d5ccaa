//! Arrow across the language boundary through the Arrow PyCapsule interface
//! (`__arrow_c_stream__`, `__arrow_c_schema__`): buffers are shared, never
//! copied, in both directions.

use std::ffi::CStr;
use std::sync::{Arc, Mutex};

use arrow_array::ffi::FFI_ArrowSchema;
use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use futures::StreamExt;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use scorelake::datafusion::error::DataFusionError;
use scorelake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use scorelake::datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use scorelake::datafusion::physical_plan::streaming::PartitionStream;

use crate::errors::{OrPy, ScoreLakeError};

const STREAM: &CStr = c"arrow_array_stream";
const SCHEMA: &CStr = c"arrow_schema";

/// Reads every batch of an object exporting `__arrow_c_stream__` (pyarrow,
/// pandas ≥ 2.2, Polars, DuckDB, nanoarrow, …). The batches hold the
/// producer's buffers: nothing is copied.
pub(crate) fn import(obj: &Bound<'_, PyAny>) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    let reader = stream_of(obj)?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, ArrowError>>()
        .map_err(|e| ScoreLakeError::new_err(format!("reading the Arrow input failed: {e}")))?;
    Ok((schema, batches))
}

/// The stream of an object exporting `__arrow_c_stream__`, not read yet.
pub(crate) fn stream_of(obj: &Bound<'_, PyAny>) -> PyResult<ArrowArrayStreamReader> {
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| ScoreLakeError::new_err("__arrow_c_stream__ did not return a PyCapsule"))?;
    let pointer = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: the capsule is named `arrow_array_stream`, so by the PyCapsule
    // interface it holds an `ArrowArrayStream`; `from_raw` moves it out and
    // marks the capsule's copy released, as consumers must.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(pointer.as_ptr().cast()) };
    ArrowArrayStreamReader::try_new(stream).or_py()
}

/// A single-use Arrow stream as a table partition: read as the plan runs,
/// batch by batch on a blocking thread (the producer may need the GIL,
/// which waiting calls release), and refused by name if read again.
#[derive(Debug)]
pub(crate) struct OnceStream {
    schema: SchemaRef,
    reader: Mutex<Option<ArrowArrayStreamReader>>,
}

impl OnceStream {
    /// A partition reading `reader`.
    pub(crate) fn new(reader: ArrowArrayStreamReader) -> Self {
        OnceStream {
            schema: reader.schema(),
            reader: Mutex::new(Some(reader)),
        }
    }
}

impl PartitionStream for OnceStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let taken = self.reader.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut builder = RecordBatchReceiverStreamBuilder::new(Arc::clone(&self.schema), 2);
        let tx = builder.tx();
        builder.spawn_blocking(move || {
            let Some(reader) = taken else {
                return Err(DataFusionError::Execution(
                    "this Arrow stream (a RecordBatchReader) was read already: streams can be \
                     read once; pass a pyarrow Table or a URL for work that reads its input \
                     twice, such as fitting then transforming"
                        .into(),
                ));
            };
            for batch in reader {
                let batch = batch.map_err(|e| DataFusionError::ArrowError(Box::new(e), None));
                if tx.blocking_send(batch).is_err() {
                    break;
                }
            }
            Ok(())
        });
        builder.build()
    }
}

/// `reader` as an `arrow_array_stream` capsule.
pub(crate) fn export<'py>(
    py: Python<'py>,
    reader: Box<dyn RecordBatchReader + Send>,
) -> PyResult<Bound<'py, PyCapsule>> {
    PyCapsule::new_with_value(py, FFI_ArrowArrayStream::new(reader), STREAM)
}

/// `schema` as an `arrow_schema` capsule.
pub(crate) fn export_schema<'py>(
    py: Python<'py>,
    schema: &SchemaRef,
) -> PyResult<Bound<'py, PyCapsule>> {
    let ffi = FFI_ArrowSchema::try_from(schema.as_ref()).or_py()?;
    PyCapsule::new_with_value(py, ffi, SCHEMA)
}

/// A running plan's batches, read as the consumer asks for them.
pub(crate) struct PlanReader {
    schema: SchemaRef,
    stream: SendableRecordBatchStream,
    runtime: tokio::runtime::Handle,
}

impl PlanReader {
    /// Reads `stream` on `runtime`.
    pub(crate) fn new(stream: SendableRecordBatchStream, runtime: tokio::runtime::Handle) -> Self {
        PlanReader {
            schema: stream.schema(),
            stream,
            runtime,
        }
    }
}

impl Iterator for PlanReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.runtime.block_on(self.stream.next())?;
        Some(next.map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl RecordBatchReader for PlanReader {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// Batches held in memory (a collected result), exportable any number of
/// times without copying.
#[pyclass(name = "Batches", module = "scorelake._scorelake", frozen)]
pub(crate) struct Batches {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl Batches {
    /// Holds `batches` of `schema`.
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Batches { schema, batches }
    }
}

#[pymethods]
impl Batches {
    /// The batches as an Arrow C stream.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batches = self.batches.clone().into_iter().map(Ok);
        let reader = RecordBatchIterator::new(batches, Arc::clone(&self.schema));
        export(py, Box::new(reader))
    }

    /// The schema as an Arrow C schema.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        export_schema(py, &self.schema)
    }

    /// Rows held.
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}
