//! Which engine a session's plans run on, and why (see [`engine`](crate::engine)).

use std::fmt;

use crate::error::{Error, Result};

/// The engine a session runs its plans on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// DataFusion in this process.
    Embedded,
    /// The Ballista cluster whose scheduler answers at `url` (`df://host:port`).
    Ballista {
        /// The scheduler's URL as configured.
        url: String,
    },
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Engine::Embedded => f.write_str("embedded"),
            Engine::Ballista { url } => write!(f, "ballista at {url}"),
        }
    }
}

/// An [`Engine`] and why it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineChoice {
    /// The engine.
    pub engine: Engine,
    /// Why: the setting and where it came from, or the sizes `auto` compared.
    pub reason: String,
}

impl EngineChoice {
    /// The embedded engine, for `reason`.
    pub fn embedded(reason: impl Into<String>) -> Self {
        EngineChoice {
            engine: Engine::Embedded,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.engine, self.reason)
    }
}

/// `df://host:port` (or `http://`) as the `http://host:port` Ballista's
/// client connects to; a malformed URL is refused naming `ballista.url`.
pub(crate) fn scheduler_http(url: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::Config(format!(
            "bad ballista.url `{url}`: {why} (expected df://HOST:PORT, e.g. df://127.0.0.1:50050)"
        ))
    };
    let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "df" | "http") {
        return Err(bad(&format!("unknown scheme `{}`", parsed.scheme())));
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("no host"))?;
    if !parsed.path().trim_matches('/').is_empty() {
        return Err(bad("a scheduler URL has no path"));
    }
    let port = parsed.port().unwrap_or(50050);
    Ok(format!("http://{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_urls_are_checked() {
        assert_eq!(
            scheduler_http("df://127.0.0.1:50077").unwrap(),
            "http://127.0.0.1:50077"
        );
        assert_eq!(
            scheduler_http("df://cluster").unwrap(),
            "http://cluster:50050"
        );
        for bad in ["127.0.0.1:50050", "s3://x:1", "df://", "df://h:1/x"] {
            let e = scheduler_http(bad).unwrap_err().to_string();
            assert!(e.contains("ballista.url") && e.contains(bad), "{e}");
        }
    }
}
