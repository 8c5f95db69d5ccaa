//! Fitted artifacts: feature recipes, categorical encoders, binnings and
//! scorecards, fitted on one table and applied to others; the scorecard
//! pipeline.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use scorelake::encoding::{self, EncoderSpec, Mappings};
use scorelake::features::{FeatureEngineer, FittedFeatures, RecipeFile};
use scorelake::pipeline::{ScorecardPipeline, run_scorecard_pipeline};
use scorelake::scorecard::{self, BinningSpec, ScoreColumns};

use crate::errors::{OrPy, ScoreLakeError};
use crate::runtime::wait;
use crate::session::PySession;
use crate::table::Table;

/// A document given as `("path", path)` or as `(format, text)` with format
/// `json`, `yaml` or `toml`: loaded or parsed by the library, so errors name
/// the file, the recipe or the key.
pub(crate) fn document<T>(
    (kind, value): (String, String),
    load: impl FnOnce(&Path) -> scorelake::Result<T>,
    parse: impl FnOnce(&str, &str) -> scorelake::Result<T>,
) -> PyResult<T> {
    match kind.as_str() {
        "path" => load(Path::new(&value)).or_py(),
        ext => parse(&value, ext).or_py(),
    }
}

fn to_json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).or_py()
}

/// Feature recipes, and the values learned on a table when fitted.
#[pyclass(name = "Features", module = "scorelake._scorelake", frozen)]
pub(crate) struct Features {
    engineer: FeatureEngineer,
    fitted: Option<FittedFeatures>,
}

#[pymethods]
impl Features {
    /// Checked recipes from a document.
    #[staticmethod]
    fn from_recipes(source: (String, String)) -> PyResult<Features> {
        let recipes = document(source, RecipeFile::load, RecipeFile::parse)?;
        let engineer = FeatureEngineer::new(recipes).or_py()?;
        Ok(Features {
            engineer,
            fitted: None,
        })
    }

    /// A fitted-features file written by `save`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Features> {
        let fitted = FittedFeatures::load(&path).or_py()?;
        let engineer = fitted.engineer().or_py()?;
        Ok(Features {
            engineer,
            fitted: Some(fitted),
        })
    }

    /// Output feature names.
    fn outputs(&self) -> Vec<String> {
        self.engineer
            .outputs()
            .into_iter()
            .map(String::from)
            .collect()
    }

    /// True when some recipe learns values (fills) before it can transform.
    fn needs_fit(&self) -> bool {
        self.engineer.needs_fit()
    }

    /// True once fitted.
    fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }

    /// The lineage of every output, as JSON.
    fn lineage(&self) -> PyResult<String> {
        to_json(&self.engineer.lineage())
    }

    /// The learned values, as JSON (`None` before fitting).
    fn fitted_json(&self) -> PyResult<Option<String>> {
        self.fitted.as_ref().map(to_json).transpose()
    }

    /// These recipes with the values learned on `table`.
    fn fit(&self, py: Python<'_>, table: PyRef<'_, Table>) -> PyResult<Features> {
        let (engineer, df) = (self.engineer.clone(), table.df.clone());
        let fitted = wait(
            py,
            table.session.config(),
            "fitting features",
            move || async move { engineer.fit(&df).await },
        )?;
        Ok(Features {
            engineer: self.engineer.clone(),
            fitted: Some(fitted),
        })
    }

    /// The features of `table`, lazily.
    fn transform(&self, table: PyRef<'_, Table>) -> PyResult<Table> {
        let df = table.df.clone();
        let out = match &self.fitted {
            Some(fitted) => fitted.transform(df),
            None if self.engineer.needs_fit() => {
                return Err(ScoreLakeError::new_err(
                    "these recipes learn values (fills): fit them on a table first",
                ));
            }
            None => self.engineer.transform(df),
        };
        Ok(table.with(out.or_py()?))
    }

    /// Writes the fitted values (with their recipes) as JSON.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        match &self.fitted {
            Some(fitted) => fitted.save(&path).or_py(),
            None => Err(ScoreLakeError::new_err(
                "nothing fitted yet: call fit first",
            )),
        }
    }
}

/// Categorical encoders, and their mappings once fitted.
#[pyclass(name = "Encoders", module = "scorelake._scorelake", frozen)]
pub(crate) struct Encoders {
    spec: Option<EncoderSpec>,
    mappings: Option<Mappings>,
}

#[pymethods]
impl Encoders {
    /// Encoders from a spec document.
    #[staticmethod]
    fn from_spec(source: (String, String)) -> PyResult<Encoders> {
        let spec = document(source, EncoderSpec::load, EncoderSpec::parse)?;
        Ok(Encoders {
            spec: Some(spec),
            mappings: None,
        })
    }

    /// Mappings saved by `save`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Encoders> {
        let mappings = Mappings::load(&path).or_py()?;
        Ok(Encoders {
            spec: None,
            mappings: Some(mappings),
        })
    }

    /// The mappings, as JSON (`None` before fitting).
    fn mappings_json(&self) -> PyResult<Option<String>> {
        self.mappings.as_ref().map(to_json).transpose()
    }

    /// The encoders fitted on `table`.
    fn fit(&self, py: Python<'_>, table: PyRef<'_, Table>) -> PyResult<Encoders> {
        let Some(spec) = self.spec.clone() else {
            return Err(ScoreLakeError::new_err(
                "loaded mappings are already fitted",
            ));
        };
        let df = table.df.clone();
        let mappings = wait(
            py,
            table.session.config(),
            "fitting encoders",
            move || async move { encoding::fit(&df, &spec).await },
        )?;
        Ok(Encoders {
            spec: self.spec.clone(),
            mappings: Some(mappings),
        })
    }

    /// `table` encoded; `out_of_fold` when it is the fitting data (cross-fitted
    /// target encoders then give each row the value learned without its fold).
    #[pyo3(signature = (table, out_of_fold=false))]
    fn transform(
        &self,
        py: Python<'_>,
        table: PyRef<'_, Table>,
        out_of_fold: bool,
    ) -> PyResult<Table> {
        let Some(mappings) = self.mappings.clone() else {
            return Err(ScoreLakeError::new_err(
                "nothing fitted yet: call fit first",
            ));
        };
        let df = table.df.clone();
        let out = wait(py, table.session.config(), "encoding", move || async move {
            if out_of_fold {
                mappings.transform_out_of_fold(df).await
            } else {
                mappings.transform(df).await
            }
        })?;
        Ok(table.with(out))
    }

    /// Writes the mappings as JSON.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        match &self.mappings {
            Some(m) => m.save(&path).or_py(),
            None => Err(ScoreLakeError::new_err(
                "nothing fitted yet: call fit first",
            )),
        }
    }
}

/// Fitted bins with WoE and IV per variable.
#[pyclass(name = "Binning", module = "scorelake._scorelake", frozen)]
pub(crate) struct Binning {
    binning: scorecard::Binning,
}

#[pymethods]
impl Binning {
    /// Bins fitted on `table` as a binning spec document says.
    #[staticmethod]
    fn fit(py: Python<'_>, table: PyRef<'_, Table>, spec: (String, String)) -> PyResult<Binning> {
        let spec = document(spec, BinningSpec::from_path, BinningSpec::parse)?;
        let df = table.df.clone();
        let binning = wait(
            py,
            table.session.config(),
            "fitting bins",
            move || async move { scorecard::fit_binning(&df, &spec).await },
        )?;
        Ok(Binning { binning })
    }

    /// A binning file written by `save`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Binning> {
        Ok(Binning {
            binning: scorecard::Binning::load(&path).or_py()?,
        })
    }

    /// The binning, as JSON.
    fn to_json(&self) -> PyResult<String> {
        to_json(&self.binning)
    }

    /// IV per variable, as a Markdown table.
    fn iv_table(&self) -> String {
        self.binning.iv_table()
    }

    /// Every variable's bins with counts, WoE and IV, as Markdown.
    fn tables(&self) -> String {
        self.binning.tables()
    }

    /// `table` with bin and WoE columns of `variables` (all when `None`).
    #[pyo3(signature = (table, variables=None))]
    fn transform(
        &self,
        table: PyRef<'_, Table>,
        variables: Option<Vec<String>>,
    ) -> PyResult<Table> {
        let df = self
            .binning
            .transform(table.df.clone(), variables.as_deref())
            .or_py()?;
        Ok(table.with(df))
    }

    /// `table` compressed into weighted unique rows of bins and segments:
    /// (table, report JSON).
    #[pyo3(signature = (table, segments=Vec::new(), woe=false))]
    fn compress(
        &self,
        py: Python<'_>,
        table: PyRef<'_, Table>,
        segments: Vec<String>,
        woe: bool,
    ) -> PyResult<(Table, String)> {
        let (binning, df) = (self.binning.clone(), table.df.clone());
        let (out, report) = wait(
            py,
            table.session.config(),
            "compressing",
            move || async move { binning.compress_fitted(df, None, &segments, woe).await },
        )?;
        Ok((table.with(out), to_json(&report)?))
    }

    /// Writes the binning as JSON.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.binning.save(&path).or_py()
    }
}

/// A points scorecard (`scorecard.json` of a pipeline run).
#[pyclass(name = "Scorecard", module = "scorelake._scorelake", frozen)]
pub(crate) struct Scorecard {
    card: scorecard::Scorecard,
}

#[pymethods]
impl Scorecard {
    /// A scorecard file.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Scorecard> {
        Ok(Scorecard {
            card: scorecard::Scorecard::load(&path).or_py()?,
        })
    }

    /// The scorecard, as JSON.
    fn to_json(&self) -> PyResult<String> {
        to_json(&self.card)
    }

    /// Points per bin, as Markdown.
    fn to_markdown(&self) -> String {
        self.card.to_markdown()
    }

    /// A SQL query scoring the table named `input` (score, PD, `reasons`
    /// reason codes).
    #[pyo3(signature = (input, reasons=0))]
    fn to_sql(&self, input: &str, reasons: usize) -> PyResult<String> {
        self.card.to_sql_query(input, reasons).or_py()
    }

    /// `table` with its score, PD, points per variable and reason codes.
    #[pyo3(signature = (table, score="score", pd=Some("pd"), points=false, reasons=0))]
    fn score(
        &self,
        table: PyRef<'_, Table>,
        score: &str,
        pd: Option<&str>,
        points: bool,
        reasons: usize,
    ) -> PyResult<Table> {
        let columns = ScoreColumns {
            score: score.into(),
            pd: pd.map(String::from),
            points,
            reasons,
        };
        let df = self.card.score_with(table.df.clone(), &columns).or_py()?;
        Ok(table.with(df))
    }
}

/// Runs a scorecard pipeline (a file, or a document whose relative paths
/// are taken from the working folder); returns its report as JSON.
#[pyfunction]
pub(crate) fn run_pipeline(
    py: Python<'_>,
    session: PyRef<'_, PySession>,
    spec: (String, String),
) -> PyResult<String> {
    let pipeline = document(spec, ScorecardPipeline::from_path, |text, ext| {
        ScorecardPipeline::parse(text, ext, Path::new("."))
    })?;
    let session = &session.session;
    let report = wait(
        py,
        session.config(),
        "running the pipeline",
        move || async move { run_scorecard_pipeline(session, &pipeline).await },
    )?;
    to_json(&report)
}
