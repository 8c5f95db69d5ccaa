//! The codecs that carry ScoreLake's plan pieces between the processes of a
//! cluster, wrapping Ballista's own (which carry its shuffle operators).
//!
//! Every piece travels in an envelope: a marker, the ScoreLake version that
//! encoded it, what kind of piece it is, and its bytes. A process of another
//! version refuses the piece by name instead of misreading it.
//!
//! | piece | logical plan | physical plan |
//! |---|---|---|
//! | temporal features | `TemporalNode` | `TemporalExec` |
//! | tables of files (Parquet, CSV, NCF; one file or a directory) | `PinnedListing` | built-in scans, NCF scans |
//! | in-memory tables | `MemTable` | built in |
//! | NCF writes | the format factory | the NCF sink |
//! | fitted mappings (encoders, group fills) | the `lookup` function | the same |
//! | the synthetic panel | `PanelTable` | `PanelExec` |
//! | CSV write options | the format factory (DataFusion's own encoding loses the quoting) | built in |
//!
//! Registered functions travel by name; a process that does not know one
//! fails naming it.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::common::config::{ConfigField, CsvOptions, Visit};
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::file_format::csv::CsvFormatFactory;
use datafusion::datasource::physical_plan::{FileScanConfig, FileSinkConfig};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::from_proto::{
    parse_physical_expr_with_converter, parse_protobuf_file_scan_config,
    parse_table_schema_from_proto,
};
use datafusion_proto::physical_plan::to_proto::serialize_file_scan_config;
use datafusion_proto::physical_plan::{
    PhysicalExtensionCodec, PhysicalPlanDecodeContext, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf;
use object_store::ObjectMeta;
use object_store::path::Path as ObjectPath;
use prost::Message;
use serde::{Deserialize, Serialize};

use super::VERSION;
use crate::formats::ncf::{NcfFormatFactory, NcfSettings, NcfSink, NcfSource};
use crate::functions::bin_weights::BinWeights;
use crate::functions::lookup;
use crate::functions::temporal::{TemporalExec, TemporalNode, TemporalSpec};
use crate::io::pinned_listing::{FileTable, PinnedListing, ScanFormat};
use crate::sample::scan::{PanelExec, PanelTable};
use crate::sample::{NaiveDate, SampleSpec};

/// Marks a ScoreLake envelope.
const MARKER: &[u8] = b"SLK1";

/// What an envelope holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A piece of Ballista's own, encoded by its codec.
    Ballista = 0,
    Temporal = 1,
    FileTable = 2,
    Memory = 3,
    NcfFormat = 4,
    Lookup = 5,
    NcfScan = 6,
    NcfSink = 7,
    Panel = 8,
    CsvFormat = 9,
    BinEdges = 10,
}

impl Kind {
    fn of(byte: u8) -> Option<Kind> {
        [
            Kind::Ballista,
            Kind::Temporal,
            Kind::FileTable,
            Kind::Memory,
            Kind::NcfFormat,
            Kind::Lookup,
            Kind::NcfScan,
            Kind::NcfSink,
            Kind::Panel,
            Kind::CsvFormat,
            Kind::BinEdges,
        ]
        .into_iter()
        .find(|k| *k as u8 == byte)
    }
}

/// Appends the envelope of `body` to `buf`.
fn seal(kind: Kind, body: &[u8], buf: &mut Vec<u8>) {
    buf.extend_from_slice(MARKER);
    buf.push(VERSION.len() as u8);
    buf.extend_from_slice(VERSION.as_bytes());
    buf.push(kind as u8);
    buf.extend_from_slice(body);
}

/// The kind and body of an envelope; fails for bytes that are not one, or
/// that another ScoreLake version sealed.
fn open(buf: &[u8]) -> Result<(Kind, &[u8])> {
    let foreign = || {
        DataFusionError::Plan(format!(
            "a plan piece was not encoded by ScoreLake {VERSION}; every process of the cluster must run ScoreLake {VERSION}"
        ))
    };
    let rest = buf.strip_prefix(MARKER).ok_or_else(foreign)?;
    let (&len, rest) = rest.split_first().ok_or_else(foreign)?;
    let (version, rest) = rest.split_at_checked(len as usize).ok_or_else(foreign)?;
    if version != VERSION.as_bytes() {
        return Err(DataFusionError::Plan(format!(
            "version mismatch: a plan piece comes from ScoreLake {}, this process runs ScoreLake {VERSION}; run the same version everywhere",
            String::from_utf8_lossy(version)
        )));
    }
    let (&kind, body) = rest.split_first().ok_or_else(foreign)?;
    Ok((Kind::of(kind).ok_or_else(foreign)?, body))
}

/// `a` and `b` as one body (`a`'s length first).
fn pair(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + a.len() + b.len());
    out.extend_from_slice(&(a.len() as u64).to_le_bytes());
    out.extend_from_slice(a);
    out.extend_from_slice(b);
    out
}

/// The two parts [`pair`] joined.
fn unpair(body: &[u8]) -> Result<(&[u8], &[u8])> {
    let short = || DataFusionError::Plan("a plan piece is cut short".into());
    let (len, rest) = body.split_at_checked(8).ok_or_else(short)?;
    let mut raw = [0u8; 8];
    raw.copy_from_slice(len);
    rest.split_at_checked(u64::from_le_bytes(raw) as usize)
        .ok_or_else(short)
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| DataFusionError::External(Box::new(e)))
}

fn from_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| DataFusionError::External(Box::new(e)))
}

fn schema_bytes(schema: &Schema) -> Result<Vec<u8>> {
    let proto: protobuf::Schema = schema.try_into()?;
    Ok(proto.encode_to_vec())
}

fn schema_from(bytes: &[u8]) -> Result<SchemaRef> {
    let proto =
        protobuf::Schema::decode(bytes).map_err(|e| DataFusionError::External(Box::new(e)))?;
    Ok(Arc::new((&proto).try_into()?))
}

/// "`what` cannot run on the cluster" with the reason.
fn cannot_run(what: &str, e: &DataFusionError) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{what} cannot run on a Ballista cluster (no codec carries it): {}",
        e.strip_backtrace()
    ))
}

/// The error for a function a process does not know.
fn unknown_function(kind: &str, name: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{kind} `{name}` is not registered on this process (ScoreLake {VERSION}); every process of the cluster must know it"
    ))
}

/// The `lookup` function's envelope, or nothing for functions that travel by name.
fn encode_udf(node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
    if let Some(bytes) = lookup::to_bytes(node)? {
        seal(Kind::Lookup, &bytes, buf);
    }
    Ok(())
}

fn decode_udf(name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
    if buf.is_empty() {
        return Err(unknown_function("function", name));
    }
    match open(buf)? {
        (Kind::Lookup, body) => Ok(Arc::new(lookup::from_bytes(body)?)),
        (kind, _) => Err(unexpected(kind, "a function")),
    }
}

/// The edges a `bin_weights` aggregate carries, or nothing for aggregates
/// that travel by name.
fn encode_udaf(node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
    if let Some(edges) = node
        .inner()
        .downcast_ref::<BinWeights>()
        .and_then(BinWeights::edges)
    {
        let bytes: Vec<u8> = edges.iter().flat_map(|e| e.to_le_bytes()).collect();
        seal(Kind::BinEdges, &bytes, buf);
    }
    Ok(())
}

fn decode_udaf(name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
    if buf.is_empty() {
        return Err(unknown_function("aggregate function", name));
    }
    match open(buf)? {
        (Kind::BinEdges, body) if body.len() % 8 == 0 => {
            let edges: Vec<f64> = body
                .chunks_exact(8)
                .map(|c| {
                    let mut raw = [0u8; 8];
                    raw.copy_from_slice(c);
                    f64::from_le_bytes(raw)
                })
                .collect();
            Ok(Arc::new(AggregateUDF::from(BinWeights::with_edges(&edges))))
        }
        (kind, _) => Err(unexpected(kind, "an aggregate function")),
    }
}

fn unexpected(kind: Kind, wanted: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "a plan piece of kind {kind:?} where {wanted} was expected"
    ))
}

/// The logical codec: ScoreLake's nodes, tables, formats and functions,
/// then Ballista's.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        match open(buf)? {
            (Kind::Temporal, body) => {
                let spec: TemporalSpec = from_json(body)?;
                let [input] = inputs else {
                    return Err(DataFusionError::Plan(
                        "temporal features need one input".into(),
                    ));
                };
                match TemporalNode::plan(input.clone(), spec)? {
                    LogicalPlan::Extension(extension) => Ok(extension),
                    _ => Err(DataFusionError::Internal(
                        "temporal features planned as something else".into(),
                    )),
                }
            }
            (Kind::Ballista, body) => self.ballista.try_decode(body, inputs, ctx),
            (kind, _) => Err(unexpected(kind, "a plan node")),
        }
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        if let Some(temporal) = node.node.as_any().downcast_ref::<TemporalNode>() {
            seal(Kind::Temporal, &json(temporal.spec())?, buf);
            return Ok(());
        }
        let mut body = Vec::new();
        self.ballista
            .try_encode(node, &mut body)
            .map_err(|e| cannot_run(&format!("the plan node `{}`", node.node.name()), &e))?;
        seal(Kind::Ballista, &body, buf);
        Ok(())
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match open(buf)? {
            (Kind::FileTable, body) => Ok(Arc::new(decode_file_table(body)?)),
            (Kind::Memory, body) => Ok(Arc::new(decode_memory(body, schema)?)),
            (Kind::Panel, body) => Ok(Arc::new(PanelTable::new(decode_panel(body)?, None))),
            (Kind::Ballista, body) => self
                .ballista
                .try_decode_table_provider(body, table_ref, schema, ctx),
            (kind, _) => Err(unexpected(kind, "a table")),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(pinned) = node.downcast_ref::<PinnedListing>() {
            seal(Kind::FileTable, &encode_file_table(pinned)?, buf);
            return Ok(());
        }
        if let Some(panel) = node.downcast_ref::<PanelTable>() {
            seal(Kind::Panel, &encode_panel(panel.spec())?, buf);
            return Ok(());
        }
        if let Some(memory) = node.downcast_ref::<MemTable>() {
            seal(Kind::Memory, &encode_memory(memory)?, buf);
            return Ok(());
        }
        let mut body = Vec::new();
        self.ballista
            .try_encode_table_provider(table_ref, node, &mut body)
            .map_err(|e| cannot_run(&format!("the table `{table_ref}`"), &e))?;
        seal(Kind::Ballista, &body, buf);
        Ok(())
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        match open(buf)? {
            (Kind::NcfFormat, body) => {
                Ok(Arc::new(NcfFormatFactory::from_settings(&from_json::<
                    NcfSettings,
                >(
                    body
                )?)?))
            }
            (Kind::CsvFormat, body) => Ok(Arc::new(CsvFormatFactory::new_with_options(
                csv_options_from(body)?,
            ))),
            (Kind::Ballista, body) => self.ballista.try_decode_file_format(body, ctx),
            (kind, _) => Err(unexpected(kind, "a file format")),
        }
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        if let Some(ncf) = node.downcast_ref::<NcfFormatFactory>() {
            seal(Kind::NcfFormat, &json(&ncf.settings())?, buf);
            return Ok(());
        }
        if let Some(csv) = node.downcast_ref::<CsvFormatFactory>() {
            let options = csv.options.clone().unwrap_or_default();
            seal(Kind::CsvFormat, &csv_options_bytes(&options)?, buf);
            return Ok(());
        }
        let mut body = Vec::new();
        self.ballista
            .try_encode_file_format(&mut body, node)
            .map_err(|e| cannot_run("the output format", &e))?;
        seal(Kind::Ballista, &body, buf);
        Ok(())
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udaf(node, buf)
    }
}

/// A table of files as plain values.
#[derive(Serialize, Deserialize)]
struct FileTableWire {
    url: String,
    format: ScanFormat,
    extension: String,
    /// The file schema, then the partition columns as a schema.
    file_schema: Vec<u8>,
    partition_cols: Vec<u8>,
    dir: String,
    files: Vec<FileWire>,
}

#[derive(Serialize, Deserialize)]
struct FileWire {
    location: String,
    /// Nanoseconds since the epoch.
    last_modified: i64,
    size: u64,
    e_tag: Option<String>,
    version: Option<String>,
}

fn encode_file_table(pinned: &PinnedListing) -> Result<Vec<u8>> {
    let (table, dir, files) = pinned.parts();
    let partitions = Schema::new(
        table
            .partition_cols
            .iter()
            .map(|(name, ty)| Field::new(name, ty.clone(), true))
            .collect::<Vec<_>>(),
    );
    json(&FileTableWire {
        url: table.url.clone(),
        format: table.format.clone(),
        extension: table.extension.clone(),
        file_schema: schema_bytes(&table.file_schema)?,
        partition_cols: schema_bytes(&partitions)?,
        dir: dir.to_string(),
        files: files
            .iter()
            .map(|f| FileWire {
                location: f.location.to_string(),
                last_modified: f.last_modified.timestamp_nanos_opt().unwrap_or_default(),
                size: f.size,
                e_tag: f.e_tag.clone(),
                version: f.version.clone(),
            })
            .collect(),
    })
}

fn decode_file_table(body: &[u8]) -> Result<PinnedListing> {
    let wire: FileTableWire = from_json(body)?;
    let partition_cols: Vec<(String, DataType)> = schema_from(&wire.partition_cols)?
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let table = FileTable {
        url: wire.url,
        format: wire.format,
        extension: wire.extension,
        partition_cols,
        file_schema: schema_from(&wire.file_schema)?,
    };
    let files = wire
        .files
        .into_iter()
        .map(|f| ObjectMeta {
            location: ObjectPath::from(f.location),
            last_modified: chrono::DateTime::from_timestamp_nanos(f.last_modified),
            size: f.size,
            e_tag: f.e_tag,
            version: f.version,
        })
        .collect();
    PinnedListing::new(table, ObjectPath::from(wire.dir), files)
}

/// What the synthetic panel is generated from.
#[derive(Serialize, Deserialize)]
struct PanelWire {
    customers: u64,
    months: u32,
    seed: u64,
    /// `YYYY-MM-DD`.
    start: String,
}

fn encode_panel(spec: &SampleSpec) -> Result<Vec<u8>> {
    json(&PanelWire {
        customers: spec.customers,
        months: spec.months,
        seed: spec.seed,
        start: spec.start.to_string(),
    })
}

fn decode_panel(body: &[u8]) -> Result<SampleSpec> {
    let wire: PanelWire = from_json(body)?;
    let start = wire
        .start
        .parse::<NaiveDate>()
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    Ok(SampleSpec {
        customers: wire.customers,
        months: wire.months,
        seed: wire.seed,
        start,
    })
}

/// CSV options as their keys and values (every option, as DataFusion
/// spells them).
fn csv_options_bytes(options: &CsvOptions) -> Result<Vec<u8>> {
    struct Entries(Vec<(String, Option<String>)>);
    impl Visit for Entries {
        fn some<V: std::fmt::Display>(&mut self, key: &str, value: V, _: &'static str) {
            self.0.push((key.to_string(), Some(value.to_string())));
        }
        fn none(&mut self, key: &str, _: &'static str) {
            self.0.push((key.to_string(), None));
        }
    }
    let mut entries = Entries(Vec::new());
    options.visit(&mut entries, "csv", "");
    json(&entries.0)
}

fn csv_options_from(body: &[u8]) -> Result<CsvOptions> {
    let entries: Vec<(String, Option<String>)> = from_json(body)?;
    let mut options = CsvOptions::default();
    for (key, value) in entries {
        if let (Some(key), Some(value)) = (key.strip_prefix("csv."), value) {
            options.set(key, &value)?;
        }
    }
    Ok(options)
}

/// An in-memory table as one Arrow IPC stream per partition.
fn encode_memory(table: &MemTable) -> Result<Vec<u8>> {
    let schema = table.schema();
    let mut parts = Vec::with_capacity(table.batches.len());
    for partition in &table.batches {
        let batches = partition
            .try_read()
            .map_err(|_| DataFusionError::Plan("an in-memory table is being written to".into()))?;
        let mut stream = Vec::new();
        let mut writer = StreamWriter::try_new(&mut stream, &schema)?;
        for batch in batches.iter() {
            writer.write(batch)?;
        }
        writer.finish()?;
        drop(writer);
        parts.push(stream);
    }
    json(&parts)
}

fn decode_memory(body: &[u8], schema: SchemaRef) -> Result<MemTable> {
    let parts: Vec<Vec<u8>> = from_json(body)?;
    let mut partitions = Vec::with_capacity(parts.len());
    for stream in &parts {
        let reader = StreamReader::try_new(stream.as_slice(), None)?;
        partitions.push(reader.collect::<std::result::Result<Vec<_>, _>>()?);
    }
    MemTable::try_new(schema, partitions)
}

/// The physical codec: ScoreLake's operators, NCF scans and sinks, and
/// fitted functions, then Ballista's operators.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match open(buf)? {
            (Kind::Temporal, body) => {
                let [input] = inputs else {
                    return Err(DataFusionError::Plan(
                        "temporal features need one input".into(),
                    ));
                };
                let (spec, one_stream): (TemporalSpec, bool) = from_json(body)?;
                let exec = TemporalExec::try_new(Arc::clone(input), spec)?;
                Ok(Arc::new(if one_stream {
                    exec.in_one_stream()
                } else {
                    exec
                }))
            }
            (Kind::NcfScan, body) => self.decode_ncf_scan(body, ctx, converter),
            (Kind::Panel, body) => Ok(Arc::new(PanelExec::new(decode_panel(body)?, None))),
            (Kind::NcfSink, body) => {
                let (settings, config) = unpair(body)?;
                let config = protobuf::FileSinkConfig::decode(config)
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                // DataFusion's encoding leaves the URL as written out.
                let (settings, original_url): (NcfSettings, String) = from_json(settings)?;
                let config = FileSinkConfig {
                    original_url,
                    ..FileSinkConfig::try_from(&config)?
                };
                let sink = NcfSink::from_parts(config, &settings)?;
                let [input] = inputs else {
                    return Err(DataFusionError::Plan("an NCF write needs one input".into()));
                };
                Ok(Arc::new(DataSinkExec::new(
                    Arc::clone(input),
                    Arc::new(sink),
                    None,
                )))
            }
            (Kind::Ballista, body) => self.ballista.try_decode(body, inputs, ctx, converter),
            (kind, _) => Err(unexpected(kind, "an operator")),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(temporal) = node.downcast_ref::<TemporalExec>() {
            let body = (temporal.spec(), temporal.reads_one_stream());
            seal(Kind::Temporal, &json(&body)?, buf);
            return Ok(());
        }
        if let Some(panel) = node.downcast_ref::<PanelExec>() {
            seal(Kind::Panel, &encode_panel(panel.spec())?, buf);
            return Ok(());
        }
        if let Some(scan) = node.downcast_ref::<DataSourceExec>()
            && let Some(conf) = scan.data_source().downcast_ref::<FileScanConfig>()
            && let Some(source) = conf.file_source().downcast_ref::<NcfSource>()
        {
            let conf_proto = serialize_file_scan_config(conf, self, converter)?;
            let filter = match source.pushed_filter() {
                Some(f) => converter.physical_expr_to_proto(f, self)?.encode_to_vec(),
                None => Vec::new(),
            };
            seal(
                Kind::NcfScan,
                &pair(&conf_proto.encode_to_vec(), &filter),
                buf,
            );
            return Ok(());
        }
        if let Some(write) = node.downcast_ref::<DataSinkExec>()
            && let Some(sink) = write.sink().downcast_ref::<NcfSink>()
        {
            let (config, settings) = sink.parts();
            let url = config.original_url.clone();
            let config: protobuf::FileSinkConfig = config.try_into()?;
            seal(
                Kind::NcfSink,
                &pair(&json(&(settings, url))?, &config.encode_to_vec()),
                buf,
            );
            return Ok(());
        }
        let mut body = Vec::new();
        let name = node.name().to_string();
        self.ballista
            .try_encode(node, &mut body, converter)
            .map_err(|e| cannot_run(&format!("the operator `{name}`"), &e))?;
        seal(Kind::Ballista, &body, buf);
        Ok(())
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udaf(node, buf)
    }
}

impl PhysicalCodec {
    fn decode_ncf_scan(
        &self,
        body: &[u8],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let (conf, filter) = unpair(body)?;
        let conf = protobuf::FileScanExecConf::decode(conf)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let table_schema = parse_table_schema_from_proto(&conf)?;
        let file_schema = Arc::clone(table_schema.file_schema());
        let decode = PhysicalPlanDecodeContext::new(ctx, self);
        let mut source = NcfSource::new(table_schema)
            .with_metadata_cache(ctx.runtime_env().cache_manager.get_file_metadata_cache());
        if !filter.is_empty() {
            let filter = protobuf::PhysicalExprNode::decode(filter)
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            source = source.with_pushed_filter(parse_physical_expr_with_converter(
                &filter,
                &file_schema,
                &decode,
                converter,
            )?);
        }
        let conf = parse_protobuf_file_scan_config(&conf, &decode, converter, Arc::new(source))?;
        Ok(DataSourceExec::from_data_source(conf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_name_other_versions_and_foreign_bytes() {
        let mut buf = Vec::new();
        seal(Kind::Temporal, b"{}", &mut buf);
        assert_eq!(open(&buf).unwrap(), (Kind::Temporal, &b"{}"[..]));

        let mut old = Vec::new();
        old.extend_from_slice(MARKER);
        old.push(5);
        old.extend_from_slice(b"0.0.1");
        old.push(Kind::Temporal as u8);
        let e = open(&old).unwrap_err().to_string();
        assert!(e.contains("ScoreLake 0.0.1") && e.contains(VERSION), "{e}");

        let e = open(b"\x08\x01junk").unwrap_err().to_string();
        assert!(e.contains("not encoded by ScoreLake"), "{e}");
    }

    #[test]
    fn csv_options_survive_the_trip() {
        let mut options = CsvOptions::default()
            .with_delimiter(b';')
            .with_has_header(true);
        options.null_value = Some("NA".into());
        options.date_format = Some("%d/%m/%Y".into());
        let back = csv_options_from(&csv_options_bytes(&options).unwrap()).unwrap();
        assert_eq!(back, options);
        let plain = CsvOptions::default();
        let back = csv_options_from(&csv_options_bytes(&plain).unwrap()).unwrap();
        assert_eq!(back.date_format, None);
        assert_eq!(back, plain);
    }

    #[test]
    fn unknown_functions_are_named() {
        let e = decode_udf("my_udf", &[]).unwrap_err().to_string();
        assert!(e.contains("`my_udf` is not registered"), "{e}");
    }
}
