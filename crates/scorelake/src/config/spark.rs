//! Mapping to Spark configuration keys, for the Spark backend and for users
//! coming from Spark.

use std::collections::BTreeMap;

use super::{Codec, Config, Secret};
use crate::error::redact_urls;

impl Config {
    /// The options that have Spark equivalents, as Spark keys and values.
    ///
    /// S3 settings map to the Hadoop S3A connector (`spark.hadoop.fs.s3a.*`).
    /// The result holds credentials when they are configured: hand it to
    /// Spark, never print it.
    ///
    /// ```
    /// use scorelake::config::ConfigBuilder;
    /// let c = ConfigBuilder::new().set("engine.memory_limit", "4g", "--set")?.build()?;
    /// let spark = c.to_spark_conf();
    /// assert_eq!(spark["spark.executor.memory"], "4g");
    /// assert_eq!(spark["spark.sql.parquet.compression.codec"], "zstd");
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn to_spark_conf(&self) -> BTreeMap<String, String> {
        self.spark_conf(Secret::expose)
    }

    /// [`Config::to_spark_conf`] with credentials (and the user information of
    /// the endpoint) shown as `****`, for display.
    ///
    /// ```
    /// use scorelake::config::ConfigBuilder;
    /// let c = ConfigBuilder::new().set("storage.s3.secret_access_key", "s3cr3t", "--set")?.build()?;
    /// assert_eq!(c.to_spark_conf_redacted()["spark.hadoop.fs.s3a.secret.key"], "****");
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn to_spark_conf_redacted(&self) -> BTreeMap<String, String> {
        let mut conf = self.spark_conf(|_| "****");
        for value in conf.values_mut() {
            *value = redact_urls(value);
        }
        conf
    }

    fn spark_conf(&self, secret: impl Fn(&Secret) -> &str) -> BTreeMap<String, String> {
        let mut conf = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            conf.insert(k.to_string(), v);
        };
        let e = &self.engine;
        if let Some(limit) = e.memory_limit {
            put("spark.executor.memory", spark_size(limit.0));
            put("spark.driver.memory", spark_size(limit.0));
        }
        put(
            "spark.memory.fraction",
            format!("{}", e.memory_fraction.min(0.99)),
        );
        if let Some(dir) = &e.spill_dir {
            put("spark.local.dir", dir.clone());
        }
        put(
            "spark.sql.shuffle.partitions",
            e.target_partitions.to_string(),
        );
        put("spark.default.parallelism", e.target_partitions.to_string());
        put(
            "spark.sql.execution.arrow.maxRecordsPerBatch",
            e.batch_size.to_string(),
        );
        put(
            "spark.sql.parquet.filterPushdown",
            e.parquet_pruning.to_string(),
        );
        put(
            "spark.sql.autoBroadcastJoinThreshold",
            e.broadcast_join_threshold.0.to_string(),
        );
        put("spark.sql.cbo.enabled", e.collect_statistics.to_string());

        let io = &self.io;
        let codec = match io.compression {
            Codec::None => "uncompressed",
            Codec::Snappy => "snappy",
            Codec::Gzip => "gzip",
            Codec::Lz4 => "lz4_raw",
            Codec::Zstd => "zstd",
        };
        put("spark.sql.parquet.compression.codec", codec.into());
        if let (Codec::Zstd, Some(level)) = (io.compression, io.compression_level) {
            put(
                "spark.hadoop.parquet.compression.codec.zstd.level",
                level.to_string(),
            );
        }
        put(
            "spark.sql.files.maxPartitionBytes",
            io.scan_partition_bytes.0.to_string(),
        );
        put(
            "spark.sql.sources.default",
            self.io.default_format.as_str().into(),
        );

        let s3 = &self.s3;
        let a = "spark.hadoop.fs.s3a.";
        let mut s3put = |k: &str, v: String| put(&format!("{a}{k}"), v);
        if let Some(endpoint) = &s3.endpoint {
            s3put("endpoint", endpoint.clone());
        }
        s3put("endpoint.region", s3.region.clone());
        if let Some(key) = &s3.access_key_id {
            s3put("access.key", secret(key).into());
        }
        if let Some(key) = &s3.secret_access_key {
            s3put("secret.key", secret(key).into());
        }
        if let Some(token) = &s3.session_token {
            s3put("session.token", secret(token).into());
            s3put(
                "aws.credentials.provider",
                "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider".into(),
            );
        }
        s3put("path.style.access", s3.path_style.to_string());
        s3put("connection.ssl.enabled", (!s3.allow_http).to_string());
        s3put("connection.maximum", s3.max_connections.to_string());
        s3put("multipart.size", s3.multipart_part_size.0.to_string());
        s3put(
            "connection.establish.timeout",
            s3.connect_timeout.as_millis().to_string(),
        );
        s3put(
            "connection.timeout",
            s3.request_timeout.as_millis().to_string(),
        );
        s3put("attempts.maximum", s3.max_retries.to_string());
        conf
    }
}

/// Spark memory strings take whole units: `4g`, `512m`, else kibibytes.
fn spark_size(bytes: u64) -> String {
    const G: u64 = 1 << 30;
    const M: u64 = 1 << 20;
    if bytes.is_multiple_of(G) {
        format!("{}g", bytes / G)
    } else if bytes.is_multiple_of(M) {
        format!("{}m", bytes / M)
    } else {
        format!("{}k", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ConfigBuilder;

    #[test]
    fn maps_engine_io_and_s3_keys() {
        let c = ConfigBuilder::new()
            .set("engine.memory_limit", "1536m", "t")
            .and_then(|b| b.set("engine.target_partitions", "7", "t"))
            .and_then(|b| b.set("io.compression", "zstd", "t"))
            .and_then(|b| b.set("io.compression_level", "5", "t"))
            .and_then(|b| b.set("storage.s3.endpoint", "http://127.0.0.1:8333", "t"))
            .and_then(|b| b.set("storage.s3.path_style", "true", "t"))
            .and_then(|b| b.set("storage.s3.allow_http", "true", "t"))
            .and_then(|b| b.set("storage.s3.access_key_id", "AK", "t"))
            .and_then(|b| b.set("storage.s3.secret_access_key", "SK", "t"))
            .and_then(|b| b.set("storage.s3.connect_timeout", "2s", "t"))
            .and_then(|b| b.build())
            .unwrap();
        let s = c.to_spark_conf();
        assert_eq!(s["spark.executor.memory"], "1536m");
        assert_eq!(s["spark.sql.shuffle.partitions"], "7");
        assert_eq!(s["spark.hadoop.parquet.compression.codec.zstd.level"], "5");
        assert_eq!(s["spark.hadoop.fs.s3a.endpoint"], "http://127.0.0.1:8333");
        assert_eq!(s["spark.hadoop.fs.s3a.path.style.access"], "true");
        assert_eq!(s["spark.hadoop.fs.s3a.connection.ssl.enabled"], "false");
        assert_eq!(s["spark.hadoop.fs.s3a.access.key"], "AK");
        assert_eq!(s["spark.hadoop.fs.s3a.secret.key"], "SK");
        assert_eq!(
            s["spark.hadoop.fs.s3a.connection.establish.timeout"],
            "2000"
        );
        assert_eq!(
            s["spark.sql.files.maxPartitionBytes"],
            (128u64 << 20).to_string()
        );
        assert!(!s.contains_key("spark.local.dir"));
    }

    #[test]
    fn sizes_use_spark_units() {
        assert_eq!(super::spark_size(4 << 30), "4g");
        assert_eq!(super::spark_size(3 << 20), "3m");
        assert_eq!(super::spark_size(1500), "2k");
    }
}
