//! Logging a run to an MLflow tracking server through its REST API
//! (`/api/2.0/mlflow/…`): the experiment is found or created, a run is
//! created, its parameters, metrics and tags are sent in batches, its
//! artifacts are uploaded through the server's artifact proxy
//! (`mlflow server` serves them by default), and the run is marked finished.
//!
//! ```no_run
//! use scorelake::observe::mlflow::{self, TrackedRun};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let run = TrackedRun {
//!     name: "scorecard".into(),
//!     params: vec![("target".into(), "bad_12m".into())],
//!     metrics: vec![("holdout.gini".into(), 0.58)],
//!     ..TrackedRun::default()
//! };
//! let logged = mlflow::log("http://127.0.0.1:5000", "scorelake", &run).await?;
//! println!("{}", logged.run_id);
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{Error, Result};

/// What to log as one MLflow run.
#[derive(Clone, Debug, Default)]
pub struct TrackedRun {
    /// The run's name.
    pub name: String,
    /// Parameters (values longer than MLflow takes are cut, with `…`).
    pub params: Vec<(String, String)>,
    /// Metrics (values that are not finite are left out).
    pub metrics: Vec<(String, f64)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Files uploaded to the run's artifacts, by file name.
    pub artifacts: Vec<PathBuf>,
}

/// Where a run was logged.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Logged {
    /// The experiment's id.
    pub experiment_id: String,
    /// The run's id.
    pub run_id: String,
    /// The run's page on the server.
    pub page: String,
    /// Artifacts uploaded.
    pub artifacts: usize,
}

/// MLflow's limits: items per `log-batch` call, characters per parameter value.
const PARAMS_PER_BATCH: usize = 100;
const METRICS_PER_BATCH: usize = 1000;
const PARAM_CHARS: usize = 6000;

/// Logs `run` to the experiment `experiment` (created when missing) on the
/// server at `url`. The run is marked finished, or failed when something
/// after its creation failed.
pub async fn log(url: &str, experiment: &str, run: &TrackedRun) -> Result<Logged> {
    let server = Server::new(url)?;
    let experiment_id = server.experiment(experiment).await?;
    let now = now_ms();
    let created = server
        .post(
            "runs/create",
            json!({
                "experiment_id": experiment_id,
                "run_name": run.name,
                "start_time": now,
                "tags": pairs(&[("mlflow.runName".to_string(), run.name.clone())]),
            }),
        )
        .await?;
    let info = &created["run"]["info"];
    let run_id = text(&info["run_id"], "runs/create: run_id")?;
    let logged = server.fill(&run_id, info, run).await;
    let status = if logged.is_ok() { "FINISHED" } else { "FAILED" };
    let ended = server
        .post(
            "runs/update",
            json!({"run_id": run_id, "status": status, "end_time": now_ms()}),
        )
        .await;
    let artifacts = logged?;
    ended?;
    Ok(Logged {
        page: format!(
            "{}/#/experiments/{experiment_id}/runs/{run_id}",
            server.base
        ),
        experiment_id,
        run_id,
        artifacts,
    })
}

/// A tracking server: its base URL (credentials left out of every message)
/// and an HTTP client with time limits and the user's credentials.
struct Server {
    base: String,
    shown: String,
    client: reqwest::Client,
}

impl Server {
    fn new(url: &str) -> Result<Server> {
        let parsed = url::Url::parse(url).map_err(|e| Error::Tracking {
            server: "observability.mlflow_url".into(),
            reason: format!("`{}` is not a URL: {e}", shown(url)),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Tracking {
                server: shown(url),
                reason: "expected an http:// or https:// URL".into(),
            });
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Tracking {
                server: shown(url),
                reason: e.to_string(),
            })?;
        Ok(Server {
            base: url.trim_end_matches('/').to_string(),
            shown: shown(url),
            client,
        })
    }

    fn fail(&self, what: &str, reason: impl std::fmt::Display) -> Error {
        Error::Tracking {
            server: self.shown.clone(),
            reason: format!("{what}: {reason}"),
        }
    }

    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Ok(token) = std::env::var("MLFLOW_TRACKING_TOKEN") {
            return req.bearer_auth(token);
        }
        match (
            std::env::var("MLFLOW_TRACKING_USERNAME"),
            std::env::var("MLFLOW_TRACKING_PASSWORD"),
        ) {
            (Ok(user), Ok(password)) => req.basic_auth(user, Some(password)),
            _ => req,
        }
    }

    /// Sends a request and reads its JSON answer; MLflow's error code and
    /// message when it refuses.
    async fn send(&self, what: &str, req: reqwest::RequestBuilder) -> Result<Value> {
        let answer = self
            .auth(req)
            .send()
            .await
            .map_err(|e| self.fail(what, reason_of(&e)))?;
        let status = answer.status();
        let body = answer
            .text()
            .await
            .map_err(|e| self.fail(what, reason_of(&e)))?;
        let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if !status.is_success() {
            let code = value["error_code"].as_str().unwrap_or_default();
            let message = value["message"].as_str().map_or_else(
                || body.chars().take(200).collect::<String>(),
                str::to_string,
            );
            return Err(self.fail(what, format!("HTTP {status} {code} {message}").trim()));
        }
        Ok(value)
    }

    async fn post(&self, endpoint: &str, body: Value) -> Result<Value> {
        let req = self
            .client
            .post(format!("{}/api/2.0/mlflow/{endpoint}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(endpoint, req).await
    }

    /// The id of the experiment `name`, created when it does not exist.
    async fn experiment(&self, name: &str) -> Result<String> {
        let req = self
            .client
            .get(format!(
                "{}/api/2.0/mlflow/experiments/get-by-name",
                self.base
            ))
            .query(&[("experiment_name", name)]);
        match self.send("experiments/get-by-name", req).await {
            Ok(v) => text(&v["experiment"]["experiment_id"], "experiment_id"),
            Err(Error::Tracking { reason, .. }) if reason.contains("RESOURCE_DOES_NOT_EXIST") => {
                let v = self
                    .post("experiments/create", json!({ "name": name }))
                    .await?;
                text(&v["experiment_id"], "experiments/create: experiment_id")
            }
            Err(e) => Err(e),
        }
    }

    /// Parameters, metrics and tags in batches, then the artifacts; how
    /// many artifacts were uploaded.
    async fn fill(&self, run_id: &str, info: &Value, run: &TrackedRun) -> Result<usize> {
        let params: Vec<(String, String)> =
            run.params.iter().map(|(k, v)| (key(k), cut(v))).collect();
        for chunk in params.chunks(PARAMS_PER_BATCH) {
            self.post(
                "runs/log-batch",
                json!({"run_id": run_id, "params": pairs(chunk)}),
            )
            .await?;
        }
        let at = now_ms();
        let metrics: Vec<Value> = run
            .metrics
            .iter()
            .filter(|(_, v)| v.is_finite())
            .map(|(k, v)| json!({"key": key(k), "value": v, "timestamp": at, "step": 0}))
            .collect();
        for chunk in metrics.chunks(METRICS_PER_BATCH) {
            self.post(
                "runs/log-batch",
                json!({"run_id": run_id, "metrics": chunk}),
            )
            .await?;
        }
        if !run.tags.is_empty() {
            let tags: Vec<(String, String)> =
                run.tags.iter().map(|(k, v)| (key(k), cut(v))).collect();
            self.post(
                "runs/log-batch",
                json!({"run_id": run_id, "tags": pairs(&tags)}),
            )
            .await?;
        }
        if run.artifacts.is_empty() {
            return Ok(0);
        }
        let root = artifact_path(info["artifact_uri"].as_str().unwrap_or_default())
            .ok_or_else(|| {
                self.fail(
                    "artifacts",
                    format!(
                        "the run's artifacts go to `{}`, which the server does not proxy (start it with --serve-artifacts)",
                        info["artifact_uri"].as_str().unwrap_or_default()
                    ),
                )
            })?;
        for file in &run.artifacts {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let bytes = std::fs::read(file).map_err(|e| Error::io(file.display(), e))?;
            let req = self
                .client
                .put(format!(
                    "{}/api/2.0/mlflow-artifacts/artifacts/{root}/{name}",
                    self.base
                ))
                .body(bytes);
            self.send(&format!("uploading {name}"), req).await?;
        }
        Ok(run.artifacts.len())
    }
}

/// The path under the artifact proxy of an `mlflow-artifacts:` URI
/// (`mlflow-artifacts:/1/<run>/artifacts`, or with `//host:port` before it).
fn artifact_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("mlflow-artifacts:")?;
    let rest = match rest.strip_prefix("//") {
        Some(with_host) => with_host.split_once('/').map_or("", |(_, p)| p),
        None => rest,
    };
    Some(rest.trim_matches('/').to_string())
}

/// `url` without its user and password.
fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "(the configured URL)".into(),
    }
}

/// A request error's cause, without the URL (which may hold credentials).
fn reason_of(e: &reqwest::Error) -> String {
    let mut reason = if e.is_connect() {
        "cannot connect".to_string()
    } else if e.is_timeout() {
        "no answer in time".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = format!("{reason}: {s}");
        source = s.source();
    }
    reason
}

/// A key MLflow accepts: letters, digits and `_ - . / :` and spaces; other
/// characters become `_`.
fn key(k: &str) -> String {
    k.chars()
        .map(|c| {
            if c.is_alphanumeric() || "_-./: ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn cut(v: &str) -> String {
    if v.chars().count() <= PARAM_CHARS {
        return v.to_string();
    }
    let mut out: String = v.chars().take(PARAM_CHARS - 1).collect();
    out.push('…');
    out
}

fn pairs(items: &[(String, String)]) -> Vec<Value> {
    items
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect()
}

fn text(v: &Value, what: &str) -> Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::Tracking {
            server: "MLflow".into(),
            reason: format!("its answer has no {what}"),
        })
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris_map_to_proxy_paths() {
        assert_eq!(
            artifact_path("mlflow-artifacts:/1/abc/artifacts").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(
            artifact_path("mlflow-artifacts://127.0.0.1:5000/1/abc/artifacts").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(artifact_path("s3://bucket/mlruns/1/abc/artifacts"), None);
    }

    #[test]
    fn keys_values_and_urls_are_made_safe() {
        assert_eq!(key("iv.days past due (6m)"), "iv.days past due _6m_");
        let long = "x".repeat(PARAM_CHARS + 10);
        assert_eq!(cut(&long).chars().count(), PARAM_CHARS);
        assert!(cut(&long).ends_with('…'));
        assert_eq!(cut("short"), "short");
        assert_eq!(shown("http://me:secret@host:5000/"), "http://host:5000/");
        assert_eq!(shown("http://host:5000"), "http://host:5000");
    }
}
