//! `scorelake demo`: the main job on the embedded engine, no server needed.

use chrono::{Datelike, Months};
use std::fmt;
use std::time::Instant;

use datafusion::arrow::util::pretty::pretty_format_batches;

use std::path::Path;

use super::scorecard::{ScorecardPipeline, ScorecardPipelineReport, run_scorecard_pipeline};
use crate::docfile::write_whole;
use crate::error::{Error, Result, invalid};
use crate::features::{FeatureEngineer, RecipeFile};
use crate::io::{self, ReadOptions, WriteMode, WriteOptions};
use crate::quality::{self, DriftOptions, ValidateOptions};
use crate::sample::{self, SampleSpec};
use crate::scorecard::{Settings, VariableSpec, bin_column, woe_column};
use crate::session::Session;

/// What the demo runs on.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The synthetic panel to generate.
    pub sample: SampleSpec,
    /// Output folder (local path or `s3://` URL); outputs in it are replaced.
    pub out_dir: String,
}

/// One finished step of the demo.
#[derive(Clone, Debug)]
pub struct DemoStep {
    /// What was done.
    pub name: String,
    /// Its result in a few words.
    pub detail: String,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// What the demo did and found.
#[derive(Clone, Debug)]
pub struct DemoReport {
    /// Steps in order.
    pub steps: Vec<DemoStep>,
    /// Panel profile (rows, customers, default rate, nulls).
    pub profile: String,
    /// Default rate by product.
    pub by_product: String,
    /// Default rate by the worst delinquency of the last 6 months (a feature).
    pub delinquency: String,
    /// The scorecard built from the features (local output folders only).
    pub scorecard: Option<ScorecardPipelineReport>,
    /// The self-contained HTML reports written (local output folders only):
    /// validation of the features, drift of the panel by month, the scorecard.
    pub reports: Vec<String>,
}

/// The scorecard pipeline the demo runs (also shipped as
/// `examples/scorecard-pipeline.yaml`), with every numeric feature and the
/// panel's categories as candidate variables, on the development sample
/// of `examples/development-sample.yaml` with its dates moved to the
/// panel's months (written to `{out}/development-sample.yaml`): monthly
/// observations from the seventh month to the last with 12 months of
/// performance after it, the last two out of time (from 21 months). `None` for panels of
/// fewer than 19 months (too short for a 12-month target).
fn demo_pipeline(
    features_url: &str,
    out: &str,
    engineer: &FeatureEngineer,
    sample: &SampleSpec,
) -> Result<Option<ScorecardPipeline>> {
    if sample.months < 19 {
        return Ok(None);
    }
    let first = sample.start.with_day(1).unwrap_or(sample.start);
    let month = |n: u32| {
        first
            .checked_add_months(Months::new(n))
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let (from, to) = (month(6), month(sample.months - 13));
    let design = EXAMPLE_DEVELOPMENT_SAMPLE
        .replace("from: 2023-07-01", &format!("from: {from}"))
        .replace("to: 2023-12-01", &format!("to: {to}"));
    let design_path = Path::new(out).join("development-sample.yaml");
    std::fs::write(&design_path, design).map_err(|e| Error::io(design_path.display(), e))?;
    let mut spec: ScorecardPipeline = serde_json::from_value(
        crate::docfile::parse(EXAMPLE_PIPELINE, "yaml").map_err(Error::InvalidInput)?,
    )
    .map_err(|e| invalid!("examples/scorecard-pipeline.yaml: {e}"))?;
    spec.input = features_url.to_string();
    spec.output = Path::new(out).join("scorecard");
    spec.features = Some(design_path);
    if let Some(h) = &mut spec.holdout {
        // Out of time: the last two observation months, when there are
        // three or more.
        if sample.months >= 21 {
            h.oot_from = Some(month(sample.months - 14));
        } else {
            h.oot_from = None;
            h.time = None;
        }
    }
    let listed: Vec<String> = spec
        .binning
        .variables
        .iter()
        .map(|v| v.column.clone())
        .collect();
    let outputs = engineer.outputs();
    for f in &outputs {
        // A feature named like another's bin or WoE column stays out.
        let clash = outputs
            .iter()
            .any(|o| *o == bin_column(f) || *o == woe_column(f));
        if !clash && !listed.iter().any(|l| l == f) {
            spec.binning.variables.push(VariableSpec {
                column: f.to_string(),
                settings: Settings::default(),
            });
        }
    }
    Ok(Some(spec))
}

/// The development sample recipe file (dates and target).
pub(super) const EXAMPLE_DEVELOPMENT_SAMPLE: &str =
    include_str!("../../assets/development-sample.yaml");

/// The example scorecard pipeline.
pub(super) const EXAMPLE_PIPELINE: &str = include_str!("../../assets/scorecard-pipeline.yaml");

/// The recipe set the demo runs (also shipped as `examples/panel-features.yaml`).
pub(super) const EXAMPLE_RECIPES: &str = include_str!("../../assets/panel-features.yaml");

/// Generates the sample panel, writes it as Parquet, reads it back, writes a
/// month-partitioned copy and a CSV extract, appends the latest month to a
/// Delta table (a new version per run), computes the example features,
/// and profiles the panel and the features with SQL.
/// `on_step` is called as each step starts.
pub async fn demo(
    session: &Session,
    options: &DemoOptions,
    on_step: &(dyn Fn(&str) + Sync),
) -> Result<DemoReport> {
    let out = options.out_dir.trim_end_matches('/');
    let overwrite = WriteOptions {
        mode: WriteMode::Overwrite,
        ..WriteOptions::default()
    };
    let mut steps = Vec::new();
    let mut step = |name: &str, detail: String, started: Instant| {
        steps.push(DemoStep {
            name: name.to_string(),
            detail,
            seconds: started.elapsed().as_secs_f64(),
        });
    };

    on_step("generating the sample panel");
    let t = Instant::now();
    let panel_url = format!("{out}/panel.parquet");
    let panel = sample::dataframe(session, &options.sample, None)?;
    let in_order = WriteOptions {
        sorted_by: sample::ORDER.map(String::from).to_vec(),
        ..overwrite.clone()
    };
    let written = io::write(session, panel, &panel_url, &in_order).await?;
    step(
        "sample panel → Parquet",
        format!(
            "{} rows, {} customers → {panel_url}",
            written.rows, options.sample.customers
        ),
        t,
    );

    on_step("writing a month-partitioned copy");
    let t = Instant::now();
    let by_month_url = format!("{out}/panel_by_month/");
    let partitioned = WriteOptions {
        partition_by: vec!["month".into()],
        ..overwrite.clone()
    };
    let df = io::read(session, &panel_url, &ReadOptions::default()).await?;
    let copy = io::write(session, df, &by_month_url, &partitioned).await?;
    let back = io::read(session, &by_month_url, &ReadOptions::default())
        .await?
        .count()
        .await?;
    step(
        "partitioned copy (hive month=…/)",
        format!("{} rows written, {back} read back", copy.rows),
        t,
    );

    on_step("writing a CSV extract");
    let t = Instant::now();
    let csv_url = format!("{out}/delinquent_accounts.csv");
    let ctx = session.new_context();
    ctx.register_table(
        "panel",
        io::read(session, &panel_url, &ReadOptions::default())
            .await?
            .into_view(),
    )?;
    let delinquent = ctx
        .sql("SELECT * FROM panel WHERE days_past_due >= 60 ORDER BY customer_id, month")
        .await?;
    let extract = io::write(session, delinquent, &csv_url, &overwrite).await?;
    step(
        "CSV extract (60+ days past due)",
        format!("{} rows → {csv_url}", extract.rows),
        t,
    );

    on_step("appending the latest month to a Delta table");
    let t = Instant::now();
    let delta_url = format!("delta://{out}/accounts_delta");
    let latest = ctx
        .sql("SELECT * FROM panel WHERE month = (SELECT max(month) FROM panel)")
        .await?;
    let append = WriteOptions {
        mode: WriteMode::Append,
        ..WriteOptions::default()
    };
    let appended = io::write(session, latest, &delta_url, &append).await?;
    let version = appended.version.unwrap_or_default();
    let first = ReadOptions {
        version: Some(io::TableVersion::Number(0)),
        ..ReadOptions::default()
    };
    let first_rows = io::read(session, &delta_url, &first).await?.count().await?;
    let now_rows = io::read(session, &delta_url, &ReadOptions::default())
        .await?
        .count()
        .await?;
    step(
        "Delta table (one version per run)",
        format!(
            "version {version}: {} rows appended, {now_rows} in the table; version 0 still reads {first_rows} rows ({delta_url})",
            appended.rows
        ),
        t,
    );

    on_step("computing features from the example recipes");
    let t = Instant::now();
    let features_url = format!("{out}/features.parquet");
    let recipes = RecipeFile::parse(EXAMPLE_RECIPES, "yaml")?;
    let engineer = FeatureEngineer::new(recipes)?;
    let input = io::read(session, &panel_url, &ReadOptions::default()).await?;
    let fitted = engineer.fit(&input).await?;
    let features = io::write(session, fitted.transform(input)?, &features_url, &overwrite).await?;
    step(
        "features (examples/panel-features.yaml)",
        format!(
            "{} features on {} rows → {features_url}",
            engineer.outputs().len(),
            features.rows
        ),
        t,
    );
    ctx.register_table(
        "features",
        io::read(session, &features_url, &ReadOptions::default())
            .await?
            .into_view(),
    )?;

    let mut reports = Vec::new();
    if !out.contains("://") {
        on_step("validating the features and measuring drift by month");
        let t = Instant::now();
        let features_df = io::read(session, &features_url, &ReadOptions::default()).await?;
        let validation = quality::validate(&features_df, &ValidateOptions::default()).await?;
        let validation_page = format!("{out}/validation.html");
        write_whole(Path::new(&validation_page), &validation.to_html())?;
        let panel_df = io::read(session, &panel_url, &ReadOptions::default()).await?;
        let baseline: Vec<String> = (0..2)
            .filter_map(|n| {
                options
                    .sample
                    .start
                    .with_day(1)
                    .and_then(|d| d.checked_add_months(Months::new(n)))
            })
            .map(|d| d.to_string())
            .collect();
        let columns = ["balance", "utilization", "product"].map(String::from);
        let drift = quality::drift_by_period(
            &panel_df,
            "month",
            &baseline,
            Some(&columns),
            &DriftOptions::default(),
        )
        .await?;
        let drift_page = format!("{out}/drift.html");
        write_whole(Path::new(&drift_page), &drift.to_html())?;
        step(
            "validation and drift reports",
            format!(
                "features {} ({} columns); drift by month of {} against {} → {validation_page}, {drift_page}",
                validation.status,
                validation.columns.len(),
                columns.join(", "),
                baseline.join(" and ")
            ),
            t,
        );
        reports.push(validation_page);
        reports.push(drift_page);
    }

    let scorecard = if out.contains("://") {
        None
    } else {
        on_step("building a scorecard from the features");
        let t = Instant::now();
        match demo_pipeline(&features_url, out, &engineer, &options.sample)? {
            Some(spec) => {
                let report = run_scorecard_pipeline(session, &spec).await?;
                reports.push(format!("{out}/scorecard/report.html"));
                step(
                    "scorecard pipeline",
                    format!(
                        "{} of {} variables, {:.0}× compression, holdout Gini {:.3} → {out}/scorecard/",
                        report.selected.len(),
                        report.iv.len(),
                        report.compression.ratio,
                        report
                            .holdout
                            .as_ref()
                            .map_or(report.train.gini, |h| h.gini)
                    ),
                    t,
                );
                Some(report)
            }
            None => {
                step(
                    "scorecard pipeline",
                    format!(
                        "skipped: a 12-month target needs a panel of 19 months or more (this one has {})",
                        options.sample.months
                    ),
                    t,
                );
                None
            }
        }
    };

    on_step("profiling the panel with SQL");
    let t = Instant::now();
    let profile = ctx
        .sql(
            "SELECT count(*) AS rows, count(DISTINCT customer_id) AS customers, \
             min(month) AS first_month, max(month) AS last_month, \
             round(avg(CASE WHEN balance IS NULL THEN 1.0 ELSE 0.0 END) * 100, 2) AS balance_null_pct, \
             round(avg(utilization), 3) AS mean_utilization \
             FROM panel",
        )
        .await?
        .collect()
        .await?;
    let by_product = ctx
        .sql(
            "SELECT product, count(*) AS customers, round(avg(defaulted) * 100, 2) AS defaulted_pct \
             FROM (SELECT customer_id, product, max(default_flag) AS defaulted FROM panel GROUP BY 1, 2) \
             GROUP BY product ORDER BY customers DESC",
        )
        .await?
        .collect()
        .await?;
    step(
        "profile",
        "rows, customers, nulls, default rate by product".into(),
        t,
    );

    // A year before the panel's last month, customers not in default: the
    // share that defaults within the next 12 months, by their worst
    // delinquency of the 6 months before.
    let delinquency = ctx
        .sql(
            "WITH events AS (SELECT customer_id, min(CASE WHEN default_flag = 1 THEN month END) AS e \
             FROM panel GROUP BY customer_id), \
             observed AS (SELECT customer_id, month, days_past_due_worst_last_6_months AS w, \
             balance_trend_slope_last_6_months AS s FROM features \
             WHERE month = (SELECT max(month) - INTERVAL '12 months' FROM features)) \
             SELECT CASE WHEN w = 0 THEN '0' WHEN w < 30 THEN '1-29' WHEN w < 60 THEN '30-59' \
             WHEN w < 90 THEN '60-89' WHEN w >= 90 THEN '90+' END AS worst_dpd_6m, \
             count(*) AS customers, \
             round(avg(CASE WHEN e <= month + INTERVAL '12 months' THEN 1.0 ELSE 0.0 END) * 100, 2) \
             AS default_12m_pct, round(avg(s), 1) AS mean_balance_slope \
             FROM observed JOIN events USING (customer_id) WHERE e IS NULL OR e > month \
             GROUP BY 1 ORDER BY min(w) NULLS LAST",
        )
        .await?
        .collect()
        .await?;

    Ok(DemoReport {
        steps,
        scorecard,
        reports,
        delinquency: pretty_format_batches(&delinquency)?.to_string(),
        profile: pretty_format_batches(&profile)?.to_string(),
        by_product: pretty_format_batches(&by_product)?.to_string(),
    })
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "ScoreLake demo")?;
        for s in &self.steps {
            writeln!(f, "  {:<36} {:>7.2}s  {}", s.name, s.seconds, s.detail)?;
        }
        writeln!(f, "\nPanel profile\n{}", self.profile)?;
        writeln!(
            f,
            "\nCustomers who default within the panel, by product\n{}",
            self.by_product
        )?;
        write!(
            f,
            "\nA year before the last month: default within 12 months by worst days past due in the 6 months before\n{}",
            self.delinquency
        )?;
        if let Some(card) = &self.scorecard {
            let c = &card.compression;
            write!(
                f,
                "\n\nScorecard ({} training rows compressed to {} weighted rows: {:.1}×)\n\n",
                c.input_rows, c.output_rows, c.ratio
            )?;
            writeln!(f, "| variable | IV | in model |\n|---|---|---|")?;
            for (v, iv) in &card.iv {
                let used = if card.selected.contains(v) {
                    "yes"
                } else {
                    "no"
                };
                writeln!(f, "| {v} | {iv:.4} | {used} |")?;
            }
            write!(
                f,
                "\nTraining: Gini {:.3}, KS {:.3}",
                card.train.gini, card.train.ks
            )?;
            if let Some(h) = &card.holdout {
                write!(f, "; holdout: Gini {:.3}, KS {:.3}", h.gini, h.ks)?;
            }
            if let Some(o) = &card.oot {
                write!(f, "; out of time: Gini {:.3}, KS {:.3}", o.gini, o.ks)?;
            }
            write!(f, "\nArtifacts: {}", card.output.display())?;
        }
        if !self.reports.is_empty() {
            write!(f, "\n\nReports (self-contained HTML):")?;
            for r in &self.reports {
                write!(f, "\n  {r}")?;
            }
        }
        Ok(())
    }
}
