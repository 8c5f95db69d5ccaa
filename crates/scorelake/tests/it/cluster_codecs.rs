//! ScoreLake's plan pieces through the codecs a cluster sends them with: each
//! plan, logical and physical, encoded and decoded must describe the same
//! plan and compute the same rows.

use std::path::Path;
use std::sync::Arc;

use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use scorelake::config::Format;
use scorelake::datafusion::arrow::array::RecordBatch;
use scorelake::datafusion::arrow::datatypes::DataType;
use scorelake::datafusion::arrow::util::pretty::pretty_format_batches;
use scorelake::datafusion::physical_plan::{collect, displayable};
use scorelake::datafusion::prelude::{DataFrame, cast, col, lit};
use scorelake::encoding::{EncoderSpec, fit};
use scorelake::engine::ballista::{LogicalCodec, PhysicalCodec};
use scorelake::features::FeatureEngineer;
use scorelake::functions::bin_weights::bin_weights;
use scorelake::io::{self, ReadOptions, WriteOptions};
use scorelake::sample::{SampleSpec, dataframe};
use scorelake::session::Session;

use crate::support::session;

/// Rows of `batches` as sorted text lines (order-free comparison).
fn sorted_rows(batches: &[RecordBatch]) -> Vec<String> {
    let text = pretty_format_batches(batches).unwrap().to_string();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.sort();
    lines
}

/// `df`'s logical and physical plans survive the codecs: the same plan text
/// and, run as decoded, the same rows. The decoded physical plan is what
/// one piece prints (to check which pieces it held).
async fn assert_round_trip(session: &Session, df: DataFrame, pieces: &[&str]) {
    let ctx = session.ctx();
    let task = ctx.task_ctx();
    let logical = df.logical_plan().clone();
    let bytes = logical_plan_to_bytes_with_extension_codec(&logical, &LogicalCodec::default())
        .unwrap_or_else(|e| panic!("encode {}: {e}", logical.display_indent()));
    let back =
        logical_plan_from_bytes_with_extension_codec(&bytes, &task, &LogicalCodec::default())
            .unwrap();
    assert_eq!(
        back.display_indent_schema().to_string(),
        logical.display_indent_schema().to_string()
    );

    let physical = df.clone().create_physical_plan().await.unwrap();
    let text = displayable(physical.as_ref()).indent(true).to_string();
    for piece in pieces {
        assert!(text.contains(piece), "no {piece} in\n{text}");
    }
    let bytes = physical_plan_to_bytes_with_extension_codec(
        Arc::clone(&physical),
        &PhysicalCodec::default(),
    )
    .unwrap_or_else(|e| panic!("encode {text}: {e}"));
    let decoded =
        physical_plan_from_bytes_with_extension_codec(&bytes, &task, &PhysicalCodec::default())
            .unwrap();
    assert_eq!(displayable(decoded.as_ref()).indent(true).to_string(), text);
    let want = collect(physical, ctx.task_ctx()).await.unwrap();
    let got = collect(decoded, ctx.task_ctx()).await.unwrap();
    assert_eq!(sorted_rows(&got), sorted_rows(&want));
}

#[tokio::test]
async fn every_custom_piece_survives_the_codecs() {
    let session = session();
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec {
        customers: 60,
        ..SampleSpec::default()
    };
    // The generated panel.
    let panel = dataframe(&session, &spec, None).unwrap();
    assert_round_trip(&session, panel.clone(), &["PanelExec"]).await;

    // NCF: a directory scan with a pushed filter, and a write.
    let ncf = dir.path().join("panel_ncf/");
    let options = WriteOptions {
        partition_by: vec!["product".into()],
        format: Some(Format::Ncf),
        ..WriteOptions::default()
    };
    let to = format!("{}/", ncf.display());
    io::write(&session, panel.clone(), to.as_str(), &options)
        .await
        .unwrap();
    let read = io::read(&session, to.as_str(), &ReadOptions::default())
        .await
        .unwrap();
    let filtered = read.filter(col("days_past_due").gt(lit(0))).unwrap();
    assert_round_trip(
        &session,
        filtered,
        &["DataSourceExec", "file_type=ncf", "predicate"],
    )
    .await;

    let copy_to = format!("{}/", dir.path().join("copied").display());
    session
        .ctx()
        .register_table("panel_view", panel.clone().into_view())
        .unwrap();
    let copy = session
        .ctx()
        .sql(&format!(
            "COPY (SELECT * FROM panel_view) TO '{copy_to}' STORED AS NCF"
        ))
        .await
        .unwrap();
    assert_round_trip(&session, copy, &["DataSinkExec", "NcfSink"]).await;

    // Temporal features and fitted fills (a lookup carrying its mapping).
    let recipes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/panel-features.yaml");
    let engineer = FeatureEngineer::from_path(&recipes).unwrap();
    let fitted = engineer.fit(&panel).await.unwrap();
    let features = fitted.transform(panel.clone()).unwrap();
    assert_round_trip(&session, features, &["TemporalExec", "lookup"]).await;

    // Encoders fitted per fold.
    let spec = EncoderSpec::parse(
        "target: default_flag\ncross_fit: {folds: 3, seed: 1, by: customer_id}\nencoders:\n- {column: region, method: target_mean, smoothing: 5}\n- {column: product, method: frequency}\n",
        "yaml",
    )
    .unwrap();
    let mappings = fit(&panel, &spec).await.unwrap();
    let encoded = mappings.transform_out_of_fold(panel.clone()).await.unwrap();
    assert_round_trip(&session, encoded, &["lookup"]).await;

    // Bin weights with the edges carried by the function, per group.
    let binned = panel
        .clone()
        .aggregate(
            vec![col("product")],
            vec![
                bin_weights(
                    cast(col("balance"), DataType::Float64),
                    lit(1.0),
                    &[500.0, 2500.0],
                )
                .alias("weights"),
            ],
        )
        .unwrap();
    assert_round_trip(
        &session,
        binned,
        &["AggregateExec", "edges [500.0, 2500.0]"],
    )
    .await;

    // An in-memory table.
    let batches = panel
        .clone()
        .limit(0, Some(100))
        .unwrap()
        .collect()
        .await
        .unwrap();
    let memory = session.ctx().read_batches(batches).unwrap();
    assert_round_trip(&session, memory, &["DataSourceExec"]).await;
}

/// A salted join (random salts, the small side repeated per salt) is made
/// of standard pieces a cluster runs, with the plain join's rows.
#[tokio::test]
async fn a_salted_join_survives_the_codecs() {
    use scorelake::datafusion::logical_expr::JoinType;
    use scorelake::salting::{SaltOptions, salted_join};
    let s = session();
    let left_rows: Vec<String> = (0..60)
        .map(|i| format!("({}, {i})", if i % 3 == 0 { i } else { 1 }))
        .collect();
    let left = s
        .ctx()
        .sql(&format!(
            "SELECT * FROM (VALUES {}) AS t(k, v)",
            left_rows.join(", ")
        ))
        .await
        .unwrap();
    let right = s
        .ctx()
        .sql("SELECT * FROM (VALUES (1, 'a'), (1, 'b'), (3, 'c'), (6, 'd')) AS t(k, w)")
        .await
        .unwrap();
    let options = SaltOptions {
        salts: 4,
        hot_share: 0.2,
        ..SaltOptions::default()
    };
    let (joined, salting) = salted_join(left, right, &["k"], JoinType::Inner, &options)
        .await
        .unwrap();
    assert_eq!(salting.hot_keys, 1);
    assert_eq!(joined.clone().count().await.unwrap(), 40 * 2 + 2);
    assert_round_trip(&s, joined, &["HashJoinExec"]).await;
}
