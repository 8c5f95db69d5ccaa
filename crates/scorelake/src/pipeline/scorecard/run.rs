//! A scorecard pipeline run, one method per step.

use std::path::PathBuf;
use std::time::Instant;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, cast, lit};
use datafusion::prelude::DataFrame;

use super::report::{Published, Sample, ScorecardPipelineReport};
use super::spec::{ScorecardPipeline, Validation};
use super::stability::bin_stability;
use super::tracking::track;
use crate::docfile::write_whole;
use crate::encoding::{self, EncoderSpec};
use crate::error::{Error, Result, ensure, invalid, invalid_err};
use crate::expr::column;
use crate::features::FeatureEngineer;
use crate::functions::fold::fold_index;
use crate::io::{self, ReadOptions, WriteMode, WriteOptions};
use crate::quality::{self, DriftOptions, Status, Thresholds, ValidateOptions};
use crate::scorecard::{
    self, Binning, BinningSpec, Candidate, CompressionReport, EVENT_RATE, Evaluation,
    LogisticModel, SAMPLE_WEIGHT, Scorecard, Selection, Totals, woe_column,
};
use crate::session::Session;

/// Runs a scorecard pipeline: every step's artifacts go to the output folder.
pub async fn run_scorecard_pipeline(
    session: &Session,
    pipeline: &ScorecardPipeline,
) -> Result<ScorecardPipelineReport> {
    let mut run = Run::start(session, pipeline)?;
    let started = Instant::now();
    let t = Instant::now();
    let input = run.load().await?;
    let holdout = run.holdout(&input)?;
    let table = run.features(input, &holdout).await?;
    let table = run.encoders(table, &holdout).await?;
    let modelling = run.modelling_table(table, holdout).await?;
    run.timed("modelling table", t);

    let t = Instant::now();
    if run.validation(&modelling.train().await?).await? {
        run.timed("validation", t);
    }

    let t = Instant::now();
    let binning = run.binning(&modelling.train().await?).await?;
    run.timed("binning", t);

    let t = Instant::now();
    let selection = run.selection(&binning, &modelling.train().await?).await?;
    let selected = selection.selected.clone();
    run.timed("selection", t);

    let t = Instant::now();
    let (compressed, compression) = run
        .compression(&binning, &selected, &modelling.train().await?)
        .await?;
    run.timed("compression", t);

    let t = Instant::now();
    let model = run.model(&selected, &compressed).await?;
    let card = run.scaling(&binning, &model)?;
    run.timed("model and scorecard", t);

    let t = Instant::now();
    let train = run.evaluation(&card, modelling.train().await?).await?;
    let mut samples = vec![Sample::of("training", modelling.train_rows, &train, None)];
    let mut evaluated = Vec::new();
    for (name, rows) in [
        ("holdout", modelling.held().await?),
        ("out of time", modelling.oot().await?),
    ] {
        let Some(rows) = rows else {
            evaluated.push(None);
            continue;
        };
        let totals = Totals::of(&rows, &pipeline.target, pipeline.weight.as_deref()).await?;
        if totals.events <= 0.0 || totals.events >= totals.weight {
            // Nothing to rank (a small sample): counted, not evaluated.
            samples.push(Sample::one_sided(
                name,
                totals.rows,
                totals.weight,
                totals.events,
            ));
            evaluated.push(None);
            continue;
        }
        let e = run.evaluation(&card, rows.clone()).await?;
        let psi = run
            .score_psi(&card, &modelling.train().await?, &rows)
            .await?;
        samples.push(Sample::of(name, totals.rows, &e, Some(psi)));
        evaluated.push(Some(e));
    }
    let oot = evaluated.pop().flatten();
    let holdout = evaluated.pop().flatten();
    run.timed("evaluation", t);

    let t = Instant::now();
    let stability = match run.period_column()? {
        Some(period) => {
            bin_stability(
                &binning,
                &selected,
                &modelling.all().await?,
                &period,
                &pipeline.target,
                pipeline.weight.as_deref(),
            )
            .await?
        }
        None => Vec::new(),
    };
    run.timed("bin stability", t);

    let bins = binning
        .variables
        .iter()
        .filter(|v| selected.contains(&v.column))
        .cloned()
        .collect();
    let mut report = ScorecardPipelineReport {
        output: pipeline.output.clone(),
        rows: (
            modelling.rows,
            modelling.train_rows,
            samples
                .get(1)
                .filter(|s| s.sample == "holdout")
                .map_or(0, |s| s.rows),
        ),
        iv: binning
            .selected(f64::NEG_INFINITY)
            .into_iter()
            .map(|v| (v.column.clone(), v.iv))
            .collect(),
        selected,
        selection,
        compression,
        model,
        train,
        holdout,
        oot,
        samples,
        stability,
        steps: run.steps,
        published: run.published,
        bins,
        tracking: None,
    };
    write_report(&report)?;
    report.tracking = track(session, pipeline, &report, started.elapsed().as_secs_f64()).await;
    Ok(report)
}

/// `report.json`, `report.md` and `report.html` in the output folder.
fn write_report(report: &ScorecardPipelineReport) -> Result<()> {
    let json =
        serde_json::to_string_pretty(report).map_err(|e| Error::InvalidInput(e.to_string()))?;
    write_whole(&report.output.join("report.json"), &(json + "\n"))?;
    write_whole(&report.output.join("report.md"), &report.to_string())?;
    write_whole(&report.output.join("report.html"), &report.to_html())
}

/// The modelling table, split into training, holdout and out-of-time rows.
/// Every step reads it again: the session caches it from its
/// `engine.cache_min_reuses`-th use (`engine.cache`).
struct Modelling<'s> {
    session: &'s Session,
    /// Rows of the whole table.
    rows: u64,
    /// The whole table as written and read back.
    table: DataFrame,
    split: Split,
    train_rows: u64,
}

impl Drop for Modelling<'_> {
    /// The cached table goes when the run ends, whatever its end: a
    /// session that runs several pipelines (a notebook) holds none of them.
    fn drop(&mut self) {
        self.session.unpersist(MODELLING_TABLE);
    }
}

/// The cache entry of the modelling table.
const MODELLING_TABLE: &str = "modelling table";

impl Modelling<'_> {
    /// The whole table (from the cache once it is there).
    async fn all(&self) -> Result<DataFrame> {
        self.session
            .reuse(self.table.clone(), MODELLING_TABLE)
            .await
    }

    async fn train(&self) -> Result<DataFrame> {
        self.split.train(&self.all().await?)
    }

    async fn held(&self) -> Result<Option<DataFrame>> {
        self.split.held(&self.all().await?)
    }

    async fn oot(&self) -> Result<Option<DataFrame>> {
        self.split.oot(&self.all().await?)
    }
}

/// Which rows are held out for evaluation.
struct Split {
    /// True for rows of the random holdout (none: no random holdout).
    held: Option<Expr>,
    /// True for out-of-time rows (none: no out-of-time sample).
    oot: Option<Expr>,
}

impl Split {
    /// Rows of neither sample (NULL keys or dates count as not held out).
    fn train(&self, df: &DataFrame) -> Result<DataFrame> {
        let out = [&self.held, &self.oot]
            .into_iter()
            .flatten()
            .map(|e| e.clone().is_true())
            .reduce(|a, b| a.or(b));
        Ok(match out {
            Some(e) => df.clone().filter(!e)?,
            None => df.clone(),
        })
    }

    /// The random holdout's rows that are not out of time.
    fn held(&self, df: &DataFrame) -> Result<Option<DataFrame>> {
        let Some(h) = &self.held else { return Ok(None) };
        let rows = match &self.oot {
            Some(o) => h.clone().is_true().and(!o.clone().is_true()),
            None => h.clone().is_true(),
        };
        Ok(Some(df.clone().filter(rows)?))
    }

    fn oot(&self, df: &DataFrame) -> Result<Option<DataFrame>> {
        Ok(match &self.oot {
            Some(o) => Some(df.clone().filter(o.clone().is_true())?),
            None => None,
        })
    }
}

/// One run of a pipeline: its steps, in the order they run, and what they
/// leave for the report.
struct Run<'a> {
    session: &'a Session,
    pipeline: &'a ScorecardPipeline,
    /// Tables to publish to: (which table, URL, how).
    targets: Vec<(&'static str, &'a str, WriteOptions)>,
    published: Vec<Published>,
    /// Seconds per step.
    steps: Vec<(String, f64)>,
}

impl<'a> Run<'a> {
    /// Checks the output folder and the publish settings before anything
    /// runs, and creates the folder.
    fn start(session: &'a Session, pipeline: &'a ScorecardPipeline) -> Result<Self> {
        if pipeline.output.to_str().is_some_and(|s| s.contains("://")) {
            return invalid_err!(
                "output `{}`: the pipeline's output folder must be a local path",
                pipeline.output.display()
            );
        }
        let targets = match &pipeline.publish {
            Some(p) => [("modelling", &p.modelling), ("compressed", &p.compressed)]
                .into_iter()
                .filter_map(|(name, url)| url.as_deref().map(|u| (name, u)))
                .map(|(name, url)| Ok((name, url, p.options(url)?)))
                .collect::<Result<_>>()?,
            None => Vec::new(),
        };
        std::fs::create_dir_all(&pipeline.output)
            .map_err(|e| Error::io(pipeline.output.display(), e))?;
        Ok(Run {
            session,
            pipeline,
            targets,
            published: Vec::new(),
            steps: Vec::new(),
        })
    }

    /// An artifact's path in the output folder.
    fn out(&self, name: &str) -> PathBuf {
        self.pipeline.output.join(name)
    }

    fn timed(&mut self, step: &str, started: Instant) {
        self.steps
            .push((step.into(), started.elapsed().as_secs_f64()));
    }

    async fn load(&self) -> Result<DataFrame> {
        io::read(self.session, &self.pipeline.input, &ReadOptions::default()).await
    }

    /// The held-out rows: the random holdout (keys whose fold falls in the
    /// first `share` of 1000 folds) and the out-of-time rows.
    fn holdout(&self, input: &DataFrame) -> Result<Split> {
        let Some(h) = &self.pipeline.holdout else {
            return Ok(Split {
                held: None,
                oot: None,
            });
        };
        let held = match h.share {
            None => {
                ensure!(
                    h.by.is_empty(),
                    "holdout.by is set without holdout.share: give the share of keys to hold out"
                );
                None
            }
            Some(share) => {
                ensure!(
                    share > 0.0 && share < 1.0,
                    "holdout.share must be between 0 and 1, got {share}"
                );
                if h.by.is_empty() {
                    return Err(Error::InvalidInput(
                        "holdout.by needs at least one key column".into(),
                    ));
                }
                for c in &h.by {
                    crate::expr::find(input.schema(), c, "holdout key column")?;
                }
                let keys = h.by.iter().map(|c| column(c)).collect();
                Some(fold_index(1000, h.seed, keys).lt(lit((share * 1000.0).round() as i64)))
            }
        };
        let oot = match (&h.oot_from, &h.time) {
            (None, None) => None,
            (Some(_), None) => {
                return invalid_err!(
                    "holdout.oot_from needs holdout.time: the date column it applies to"
                );
            }
            (None, Some(_)) => {
                return invalid_err!("holdout.time is set without holdout.oot_from");
            }
            (Some(from), Some(time)) => {
                let ty = crate::expr::find(input.schema(), time, "holdout.time column")?;
                ensure!(
                    matches!(
                        ty,
                        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
                    ),
                    "holdout.time column `{time}` is {ty}; expected dates"
                );
                let day = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d").map_err(|_| {
                    invalid!("holdout.oot_from `{from}` is not a date (YYYY-MM-DD)")
                })?;
                Some(column(time).gt_eq(cast(lit(day.to_string()), ty)))
            }
        };
        ensure!(
            held.is_some() || oot.is_some(),
            "holdout needs share and by (a random holdout), oot_from and time (an out-of-time sample), or both"
        );
        Ok(Split { held, oot })
    }

    /// Features fitted on the training rows (`features_fitted.json`).
    async fn features(&self, table: DataFrame, holdout: &Split) -> Result<DataFrame> {
        let Some(path) = &self.pipeline.features else {
            return Ok(table);
        };
        let engineer = FeatureEngineer::from_path(path)?;
        let fitted = engineer.fit(&holdout.train(&table)?).await?;
        fitted.save(&self.out("features_fitted.json"))?;
        fitted.transform(table)
    }

    /// Encoders fitted on the training rows (`mappings.json`).
    async fn encoders(&self, table: DataFrame, holdout: &Split) -> Result<DataFrame> {
        let Some(path) = &self.pipeline.encoders else {
            return Ok(table);
        };
        let encoders = EncoderSpec::load(path)?;
        let mappings = encoding::fit(&holdout.train(&table)?, &encoders).await?;
        mappings.save(&self.out("mappings.json"))?;
        mappings.transform(table).await
    }

    /// Writes the modelling table once (`modelling.parquet`) and reads it
    /// back, so later steps do not recompute features; publishes it.
    async fn modelling_table(&mut self, table: DataFrame, split: Split) -> Result<Modelling<'a>> {
        let url = self.out("modelling.parquet").display().to_string();
        let written = io::write(self.session, table, &url, &overwrite()).await?;
        let table = io::read(self.session, &url, &ReadOptions::default()).await?;
        self.publish("modelling", &table).await?;
        let mut modelling = Modelling {
            session: self.session,
            rows: written.rows,
            table,
            split,
            train_rows: 0,
        };
        modelling.train_rows = modelling.train().await?.count().await? as u64;
        let train_rows = modelling.train_rows;
        if let (Some(o), Some(h)) = (modelling.oot().await?, &self.pipeline.holdout) {
            let from = h.oot_from.as_deref().unwrap_or_default();
            ensure!(
                o.clone().limit(0, Some(1))?.count().await? > 0,
                "the out-of-time sample is empty: no row has {} on or after holdout.oot_from {from}",
                h.time.as_deref().unwrap_or_default()
            );
            ensure!(
                train_rows > 0,
                "no training rows: every row is on or after holdout.oot_from {from} or held out"
            );
        }
        Ok(modelling)
    }

    /// Validates the candidate variables on the training rows
    /// (`validation.md`); a FAIL stops the run. False when not asked for.
    async fn validation(&self, train: &DataFrame) -> Result<bool> {
        let thresholds = match &self.pipeline.validation {
            Validation::Off => return Ok(false),
            Validation::Default => Thresholds::default(),
            Validation::Thresholds(path) => Thresholds::load(path)?,
        };
        let options = ValidateOptions {
            columns: Some(self.pipeline.candidates()),
            thresholds,
            weight: self.pipeline.weight.clone(),
            ..ValidateOptions::default()
        };
        let report = quality::validate(train, &options).await?;
        let path = self.out("validation.md");
        write_whole(&path, &report.to_markdown())?;
        if report.status == Status::Fail {
            return invalid_err!(
                "validation failed (see {}); the pipeline stops",
                path.display()
            );
        }
        Ok(true)
    }

    /// Bins the candidates on the training rows (`binning.json`,
    /// `binning_tables.md`).
    async fn binning(&self, train: &DataFrame) -> Result<Binning> {
        let section = &self.pipeline.binning;
        let spec = BinningSpec {
            target: self.pipeline.target.clone(),
            weight: self.pipeline.weight.clone(),
            defaults: section.defaults.clone(),
            variables: section.variables.clone(),
        };
        let binning = scorecard::fit_binning(train, &spec).await?;
        binning.save(&self.out("binning.json"))?;
        write_whole(&self.out("binning_tables.md"), &binning.tables())?;
        Ok(binning)
    }

    /// Chooses the model's variables on the training rows grouped by the
    /// WoE of every candidate that passes `min_iv` (or is fixed): the same
    /// figures as the training rows, in fewer rows (`selection_rows.parquet`,
    /// written and read by the engine; nothing is gathered here).
    async fn selection(&self, binning: &Binning, train: &DataFrame) -> Result<Selection> {
        let options = &self.pipeline.selection;
        let candidates: Vec<Candidate> = binning
            .variables
            .iter()
            .map(|v| Candidate {
                variable: v.column.clone(),
                column: woe_column(&v.column),
                iv: v.iv,
            })
            .collect();
        let strong: Vec<String> = candidates
            .iter()
            .filter(|c| c.iv >= options.min_iv || options.fixed.contains(&c.variable))
            .map(|c| c.variable.clone())
            .collect();
        if strong.is_empty() {
            return invalid_err!(
                "selection left no variable: every IV is below selection.min_iv {} (see {})",
                options.min_iv,
                self.out("binning_tables.md").display()
            );
        }
        let woe: Vec<String> = strong.iter().map(|v| woe_column(v)).collect();
        let binned = binning.transform(train.clone(), Some(&strong))?;
        let grouped = scorecard::grouping(
            &binned,
            &woe,
            &self.pipeline.target,
            self.pipeline.weight.as_deref(),
        )?;
        let url = self.out("selection_rows.parquet").display().to_string();
        io::write(self.session, grouped, &url, &overwrite()).await?;
        let rows = io::read(self.session, &url, &ReadOptions::default()).await?;
        scorecard::select_variables(
            &rows,
            EVENT_RATE,
            Some(SAMPLE_WEIGHT),
            &candidates,
            options,
            &self.pipeline.model,
        )
        .await
    }

    /// Compresses the training rows by the selected bins and the segments
    /// (`compressed.parquet`); publishes them.
    async fn compression(
        &mut self,
        binning: &Binning,
        selected: &[String],
        train: &DataFrame,
    ) -> Result<(DataFrame, CompressionReport)> {
        let (compressed, report) = binning
            .compress_fitted(train.clone(), Some(selected), &self.pipeline.segments, true)
            .await?;
        let url = self.out("compressed.parquet").display().to_string();
        io::write(self.session, compressed.clone(), &url, &overwrite()).await?;
        self.publish("compressed", &compressed).await?;
        Ok((compressed, report))
    }

    /// The logistic regression on the compressed rows.
    async fn model(&self, selected: &[String], compressed: &DataFrame) -> Result<LogisticModel> {
        let features: Vec<String> = selected.iter().map(|v| woe_column(v)).collect();
        scorecard::fit_logistic(
            compressed,
            &features,
            EVENT_RATE,
            Some(SAMPLE_WEIGHT),
            &self.pipeline.model,
        )
        .await
    }

    /// The points scorecard (`scorecard.json`, `.sql`, `.md`) and the query
    /// giving score, PD, points and reason codes (`scorecard_query.sql`).
    fn scaling(&self, binning: &Binning, model: &LogisticModel) -> Result<Scorecard> {
        let card = Scorecard::new(binning, model, &self.pipeline.scaling)?;
        card.save(&self.out("scorecard.json"))?;
        write_whole(&self.out("scorecard.sql"), &(card.to_sql() + "\n"))?;
        let query = card.to_sql_query("input", self.pipeline.reasons)?;
        write_whole(&self.out("scorecard_query.sql"), &(query + "\n"))?;
        write_whole(&self.out("scorecard.md"), &card.to_markdown())?;
        Ok(card)
    }

    /// Gini, KS and score bands of `rows`.
    async fn evaluation(&self, card: &Scorecard, rows: DataFrame) -> Result<Evaluation> {
        let scored = card.score(rows, "__score")?;
        scorecard::evaluate(
            &scored,
            "__score",
            &self.pipeline.target,
            self.pipeline.weight.as_deref(),
            self.pipeline.bands,
        )
        .await
    }

    /// The column that tells periods apart: the out-of-time sample's
    /// `holdout.time`, else the feature recipes' time column; none without
    /// either.
    fn period_column(&self) -> Result<Option<String>> {
        if let Some(time) = self.pipeline.holdout.as_ref().and_then(|h| h.time.clone()) {
            return Ok(Some(time));
        }
        Ok(match &self.pipeline.features {
            Some(path) => Some(FeatureEngineer::from_path(path)?.recipes().time.clone()),
            None => None,
        })
    }

    /// PSI of the score of `rows` against the training rows' score, in
    /// the training score's deciles.
    async fn score_psi(
        &self,
        card: &Scorecard,
        train: &DataFrame,
        rows: &DataFrame,
    ) -> Result<f64> {
        let score = "__score".to_string();
        let options = DriftOptions {
            weight: self.pipeline.weight.clone(),
            ..DriftOptions::default()
        };
        let scored = |df: &DataFrame| -> Result<DataFrame> {
            let mut keep = vec![column(&score)];
            keep.extend(self.pipeline.weight.iter().map(|w| column(w)));
            Ok(card.score(df.clone(), &score)?.select(keep)?)
        };
        let report = quality::drift(
            &scored(train)?,
            &scored(rows)?,
            Some(std::slice::from_ref(&score)),
            &options,
        )
        .await?;
        Ok(report.columns.first().map_or(0.0, |c| c.value))
    }

    /// Writes `df` to the publish URLs of table `name`.
    async fn publish(&mut self, name: &str, df: &DataFrame) -> Result<()> {
        for (_, url, options) in self.targets.iter().filter(|(n, _, _)| *n == name) {
            let w = io::write(self.session, df.clone(), *url, options).await?;
            self.published.push(Published {
                table: name.into(),
                location: w.location,
                rows: w.rows,
                version: w.version,
            });
        }
        Ok(())
    }
}

fn overwrite() -> WriteOptions {
    WriteOptions {
        mode: WriteMode::Overwrite,
        ..WriteOptions::default()
    }
}
