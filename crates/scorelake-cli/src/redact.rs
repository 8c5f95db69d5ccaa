//! Credentials kept out of everything the command writes to stderr: error
//! messages and logs (a dependency may log its S3 client with the access key
//! id, or a URL with the endpoint's user information).

use std::io::Write;
use std::sync::OnceLock;

use scorelake::config::Config;
use scorelake::error::redact_urls;

/// The configuration whose credentials are masked, once it is known.
static CONFIG: OnceLock<Config> = OnceLock::new();

/// Masks `config`'s credentials in everything printed from now on.
pub(crate) fn install(config: &Config) {
    let _ = CONFIG.set(config.clone());
}

/// `text` with the credentials masked (before the configuration is known:
/// the user information of URLs).
pub(crate) fn redact(text: &str) -> String {
    match CONFIG.get() {
        Some(config) => config.redact(text),
        None => redact_urls(text),
    }
}

/// Stderr for the logger: each event arrives in one write and goes out
/// with the credentials masked.
pub(crate) struct Stderr;

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
    use scorelake::config::ConfigBuilder;

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
