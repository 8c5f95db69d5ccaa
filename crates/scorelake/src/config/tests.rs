use std::path::PathBuf;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn err(r: crate::Result<Config>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn defaults_are_sane_and_cover_every_key() {
    let c = Config::default();
    assert!(c.engine.target_partitions >= 1);
    assert_eq!(c.engine.memory_limit, None);
    assert_eq!(c.io.compression, Codec::Zstd);
    assert!(keys().len() >= 40, "only {} keys", keys().len());
    let shown = c.show();
    assert_eq!(shown.len(), keys().len());
    assert!(shown.iter().all(|k| k.source == Source::Default));
}

#[test]
fn layers_apply_in_precedence_order() {
    let toml =
        "[engine]\nmemory_limit = \"1g\"\nbatch_size = 1024\n[io]\ncompression = \"snappy\"\n";
    let c = ConfigBuilder::new()
        .aws_env(env(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "x"),
        ]))
        .toml_str("c.toml", toml)
        .unwrap()
        .env(env(&[
            ("SCORELAKE__ENGINE__MEMORY_LIMIT", "2g"),
            ("UNRELATED", "1"),
        ]))
        .unwrap()
        .set("engine.memory_limit", "3g", "--memory-limit")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(c.engine.memory_limit, Some(ByteSize(3 << 30)));
    assert_eq!(c.engine.batch_size, 1024);
    assert_eq!(c.io.compression, Codec::Snappy);
    assert_eq!(c.s3.region, "eu-west-1");
    assert_eq!(
        c.source_of("engine.memory_limit"),
        Some(Source::Flag("--memory-limit".into()))
    );
    assert_eq!(
        c.source_of("engine.batch_size"),
        Some(Source::File {
            path: PathBuf::from("c.toml"),
            line: Some(3)
        })
    );
    assert_eq!(
        c.source_of("storage.s3.region"),
        Some(Source::Env("AWS_REGION".into()))
    );
    assert_eq!(c.source_of("io.row_group_size"), Some(Source::Default));
    assert_eq!(c.source_of("no.such"), None);
}

#[test]
fn file_overrides_aws_env_and_env_overrides_file() {
    let c = ConfigBuilder::new()
        .aws_env(env(&[("AWS_ACCESS_KEY_ID", "from-aws")]))
        .toml_str(
            "c.toml",
            "[storage.s3]\naccess_key_id = \"from-file\"\nregion = \"r1\"\n",
        )
        .unwrap()
        .env(env(&[("SCORELAKE__STORAGE__S3__REGION", "r2")]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(c.s3.access_key_id.as_ref().unwrap().expose(), "from-file");
    assert_eq!(c.s3.region, "r2");
}

#[test]
fn yaml_files_report_lines() {
    let yaml = "engine:\n  target_partitions: 3\nstorage:\n  s3:\n    path_style: true\n    endpoint: http://localhost:9000\n";
    let c = ConfigBuilder::new()
        .yaml_str("c.yaml", yaml)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(c.engine.target_partitions, 3);
    assert!(c.s3.path_style);
    assert_eq!(c.s3.endpoint.as_deref(), Some("http://localhost:9000"));
    assert_eq!(
        c.source_of("storage.s3.path_style").unwrap().to_string(),
        "c.yaml:5"
    );
    let e = err(ConfigBuilder::new()
        .yaml_str("c.yaml", "engine:\n  batch_size: lots\n")
        .unwrap()
        .build());
    assert!(
        e.contains("`engine.batch_size`") && e.contains("c.yaml:2"),
        "{e}"
    );
    assert!(e.contains("expected a whole number"), "{e}");
}

#[test]
fn unknown_keys_suggest_the_nearest() {
    let e = err(ConfigBuilder::new()
        .toml_str("c.toml", "[engine]\nmemroy_limit = \"1g\"\n")
        .unwrap()
        .build());
    assert!(
        e.contains("unknown config key `engine.memroy_limit`"),
        "{e}"
    );
    assert!(e.contains("c.toml:2"), "{e}");
    assert!(e.contains("did you mean `engine.memory_limit`"), "{e}");

    let e = err(ConfigBuilder::new()
        .env(env(&[("SCORELAKE__IO__COMPRESION", "zstd")]))
        .unwrap()
        .build());
    assert!(e.contains("env SCORELAKE__IO__COMPRESION"), "{e}");
    assert!(e.contains("did you mean `io.compression`"), "{e}");
}

#[test]
fn bad_values_name_key_source_and_expectation() {
    let e = err(ConfigBuilder::new()
        .env(env(&[("SCORELAKE__ENGINE__MEMORY_LIMIT", "4 gigs")]))
        .unwrap()
        .build());
    assert!(e.contains("`engine.memory_limit`"), "{e}");
    assert!(e.contains("env SCORELAKE__ENGINE__MEMORY_LIMIT"), "{e}");
    assert!(e.contains("a size like 512m"), "{e}");

    let e = err(ConfigBuilder::new()
        .set("io.compression", "brotli", "--set")
        .unwrap()
        .build());
    assert!(e.contains("one of none, snappy, gzip, lz4, zstd"), "{e}");

    let e = err(ConfigBuilder::new()
        .set("io.compression_level", "30", "--set")
        .unwrap()
        .build());
    assert!(
        e.contains("io.compression_level") && e.contains("1..=22"),
        "{e}"
    );

    let e = err(ConfigBuilder::new()
        .set("engine.target_partitions", "0", "--target-partitions")
        .unwrap()
        .build());
    assert!(e.contains("flag --target-partitions"), "{e}");

    let e = err(ConfigBuilder::new()
        .set("storage.s3.endpoint", "localhost:9000", "--set")
        .unwrap()
        .build());
    assert!(e.contains("http://"), "{e}");
}

#[test]
fn invalid_toml_names_the_line() {
    let e = ConfigBuilder::new()
        .toml_str("bad.toml", "[engine]\nmemory_limit = \n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.toml") && e.contains("line 2"), "{e}");
    let e = ConfigBuilder::new()
        .toml_str("bad.toml", "[engine]\nbatch_size = [1, 2]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("found a list"), "{e}");
}

#[test]
fn secrets_never_show() {
    let c = ConfigBuilder::new()
        .aws_env(env(&[
            ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ("AWS_ACCESS_KEY_ID", "key-id-secret"),
        ]))
        .build()
        .unwrap();
    let shown = format!("{:?} {:?}", c.show(), c);
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(!shown.contains("key-id-secret"), "{shown}");
    let secret = c
        .show()
        .into_iter()
        .find(|k| k.key == "storage.s3.secret_access_key")
        .unwrap();
    assert_eq!(secret.value, "****");
    assert!(
        keys()
            .iter()
            .any(|k| k.key == "storage.s3.secret_access_key" && k.secret)
    );
}

#[test]
fn datafusion_passthrough_is_checked() {
    let c = ConfigBuilder::new()
        .toml_str(
            "c.toml",
            "[datafusion.execution]\nparquet.pushdown_filters = true\n",
        )
        .unwrap()
        .env(env(&[(
            "SCORELAKE__DATAFUSION__OPTIMIZER__MAX_PASSES",
            "4",
        )]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        c.datafusion["datafusion.execution.parquet.pushdown_filters"],
        "true"
    );
    assert_eq!(c.datafusion["datafusion.optimizer.max_passes"], "4");
    assert!(
        c.show()
            .iter()
            .any(|k| k.key == "datafusion.optimizer.max_passes")
    );

    let e = err(ConfigBuilder::new()
        .set("datafusion.execution.no_such_option", "1", "--set")
        .unwrap()
        .build());
    assert!(e.contains("datafusion.execution.no_such_option"), "{e}");
}

#[test]
fn parquet_compression_strings() {
    let with = |codec: &str, level: Option<&str>| {
        let mut b = ConfigBuilder::new()
            .set("io.compression", codec, "t")
            .unwrap();
        if let Some(l) = level {
            b = b.set("io.compression_level", l, "t").unwrap();
        }
        b.build().unwrap().parquet_compression()
    };
    assert_eq!(with("zstd", Some("1")), "zstd(1)");
    assert_eq!(with("gzip", None), "gzip(6)");
    assert_eq!(with("lz4", None), "lz4_raw");
    assert_eq!(with("none", None), "uncompressed");
    assert!(
        ConfigBuilder::new()
            .set("io.compression", "snappy", "t")
            .unwrap()
            .set("io.compression_level", "3", "t")
            .unwrap()
            .build()
            .is_err()
    );
}
