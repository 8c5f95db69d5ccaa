//! Which engine a session's plans run on, and why (see [`engine`](crate::engine)).

use std::fmt;

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
