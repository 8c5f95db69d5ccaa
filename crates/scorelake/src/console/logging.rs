//! Logs on stderr, and credentials kept out of everything a front end
//! writes there: error messages and logs (a dependency may log its S3 client
//! with the access key id, or a URL with the endpoint's user information).

use std::io::Write;
use std::sync::OnceLock;

use crate::config::{Config, LogFormat};
use crate::error::redact_urls;

/// The configuration whose credentials are masked, once it is known.
static CONFIG: OnceLock<Config> = OnceLock::new();

/// Masks `config`'s credentials in everything printed from now on.
pub fn install(config: &Config) {
    let _ = CONFIG.set(config.clone());
}

/// `text` with the credentials masked (before the configuration is known:
/// the user information of URLs).
pub fn redact(text: &str) -> String {
    match CONFIG.get() {
        Some(config) => config.redact(text),
        None => redact_urls(text),
    }
}

/// Logs to stderr at `config`'s level and format, credentials masked (the
/// first call in a process sets the logger; later ones change nothing).
pub fn init(config: &Config) {
    install(config);
    let level = config.observability.log_level.as_str();
    // Below info, dependencies' logs that repeat what the error says are
    // off: delta-rs logs a commit that lost a race as an error before
    // returning it (ScoreLake reports it: a create refused as existing),
    // Ballista's client warns of each shuffle fetch it retries (a fetch that
    // fails for good is the command's error), and its query logs a failed
    // job as an error before returning that error.
    let quiet = if matches!(level, "error" | "warn") {
        ",deltalake_core::kernel::transaction=off,ballista_core::client=error,\
         ballista_core::execution_plans::distributed_query=off"
    } else {
        ""
    };
    let filter = tracing_subscriber::EnvFilter::new(format!("scorelake={level},{level}{quiet}"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Stderr);
    let _ = match config.observability.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Stderr for the logger: each event arrives in one write and goes out
/// with the credentials masked.
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = redact(&String::from_utf8_lossy(buf));
        std::io::stderr().write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ConfigBuilder;

    #[test]
    fn logged_clients_lose_their_credentials() {
        let config = ConfigBuilder::new()
            .set("storage.s3.access_key_id", "AKIA-LOGGED-KEY", "test")
            .and_then(|b| {
                b.set(
                    "storage.s3.endpoint",
                    "http://me:pw-in-url@minio:9000",
                    "test",
                )
            })
            .and_then(ConfigBuilder::build)
            .unwrap();
        super::install(&config);
        // As delta-rs logs its store at debug level, and hyper its pool at trace.
        let line = r#"custom store: AmazonS3 { credential: AwsCredential { key_id: "AKIA-LOGGED-KEY", secret_key: "******" }, endpoint: "http://me:pw-in-url@minio:9000" } pool ("http", me:pw-in-url@minio:9000)"#;
        let shown = super::redact(line);
        assert!(
            !shown.contains("AKIA-LOGGED-KEY") && !shown.contains("pw-in-url"),
            "{shown}"
        );
        assert!(shown.contains(r#"key_id: "****""#), "{shown}");
    }
}
