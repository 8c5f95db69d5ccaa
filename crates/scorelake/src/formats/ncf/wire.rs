//! NCF's engine pieces as plain values, for plans sent to another process
//! (a cluster's scheduler or executors): the write settings of a factory or
//! a sink, a sink, and a scan's filter.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::{Result, plan_err};
use datafusion::datasource::physical_plan::FileSinkConfig;
use datafusion::physical_expr::PhysicalExpr;
use ncf::{Compression, Semantic, WriteOptions};
use serde::{Deserialize, Serialize};

use super::{NcfFormatFactory, NcfSink, NcfSource};

/// Write settings (the encoding threads are the receiving process's own).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct NcfSettings {
    row_group_rows: usize,
    compression: String,
    zstd_level: i32,
    semantics: BTreeMap<String, Semantic>,
    /// Why the configured codec cannot write NCF, if it cannot.
    codec_error: Option<String>,
}

impl NcfSettings {
    fn of(options: &WriteOptions, codec_error: Option<String>) -> Self {
        NcfSettings {
            row_group_rows: options.row_group_rows,
            compression: match options.compression {
                Compression::None => "none",
                Compression::Lz4 => "lz4",
                Compression::Zstd => "zstd",
            }
            .into(),
            zstd_level: options.zstd_level,
            semantics: options.semantics.clone(),
            codec_error,
        }
    }

    fn options(&self) -> Result<WriteOptions> {
        let compression = match self.compression.as_str() {
            "none" => Compression::None,
            "lz4" => Compression::Lz4,
            "zstd" => Compression::Zstd,
            other => return plan_err!("unknown NCF compression `{other}`"),
        };
        Ok(WriteOptions {
            row_group_rows: self.row_group_rows,
            compression,
            zstd_level: self.zstd_level,
            semantics: self.semantics.clone(),
            ..WriteOptions::default()
        })
    }
}

impl NcfFormatFactory {
    /// The factory's settings.
    pub(crate) fn settings(&self) -> NcfSettings {
        NcfSettings::of(&self.options, self.codec_error.clone())
    }

    /// The factory with `settings`.
    pub(crate) fn from_settings(settings: &NcfSettings) -> Result<Self> {
        Ok(NcfFormatFactory {
            options: settings.options()?,
            codec_error: settings.codec_error.clone(),
        })
    }
}

impl NcfSink {
    /// The sink's files and settings.
    pub(crate) fn parts(&self) -> (&FileSinkConfig, NcfSettings) {
        (&self.config, NcfSettings::of(&self.options, None))
    }

    /// A sink writing `config`'s files with `settings`.
    pub(crate) fn from_parts(config: FileSinkConfig, settings: &NcfSettings) -> Result<Self> {
        Ok(NcfSink::new(config, settings.options()?))
    }
}

impl NcfSource {
    /// The filter the scan prunes and filters early with, if any.
    pub(crate) fn pushed_filter(&self) -> Option<&Arc<dyn PhysicalExpr>> {
        self.filter.as_ref()
    }

    /// The same scan pruning and filtering early with `filter`.
    pub(crate) fn with_pushed_filter(mut self, filter: Arc<dyn PhysicalExpr>) -> Self {
        self.filter = Some(filter);
        self
    }
}
