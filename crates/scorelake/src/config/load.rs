//! The layers of a configuration and how they are read.

use std::fmt;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::{ColumnRole, Config, ConfigValue, DATAFUSION_PREFIX, ROLES_PREFIX, keys};
use crate::error::{Error, Result};

/// Environment variable naming the config file when `--config` is not given.
pub(super) const CONFIG_FILE_ENV: &str = "SCORELAKE_CONFIG";
/// Prefix of environment variables that set keys: `SCORELAKE__ENGINE__MEMORY_LIMIT`.
pub(super) const ENV_PREFIX: &str = "SCORELAKE__";

/// Standard AWS variables and the keys they set (first listed wins on ties).
const AWS_VARS: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "storage.s3.access_key_id"),
    ("AWS_SECRET_ACCESS_KEY", "storage.s3.secret_access_key"),
    ("AWS_SESSION_TOKEN", "storage.s3.session_token"),
    ("AWS_REGION", "storage.s3.region"),
    ("AWS_DEFAULT_REGION", "storage.s3.region"),
    ("AWS_ENDPOINT_URL_S3", "storage.s3.endpoint"),
    ("AWS_ENDPOINT_URL", "storage.s3.endpoint"),
    ("AWS_ALLOW_HTTP", "storage.s3.allow_http"),
];

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// A config file, with the line where the value stands when known.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: Option<usize>,
    },
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
    /// A library or Python call, named as the caller wrote it
    /// (`Session(settings)`).
    Call(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Source::File { path, line: None } => write!(f, "{}", path.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Call(call) => f.write_str(call),
        }
    }
}

/// One key set by one layer.
#[derive(Clone, Debug)]
struct Entry {
    key: String,
    value: String,
    source: Source,
}

/// Collects configuration layers in precedence order, then builds a [`Config`].
///
/// Later layers win. [`ConfigBuilder::standard`] stacks the usual layers in
/// the documented order; the other methods add one layer each.
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    entries: Vec<Entry>,
    /// The last config file added.
    file: Option<PathBuf>,
}

impl ConfigBuilder {
    /// An empty builder: building it gives the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The usual stack from the process environment: `AWS_*` variables,
    /// the config file (`file`, else `$SCORELAKE_CONFIG`, else the first of
    /// [`discovered_file`] that exists), then `SCORELAKE__*` variables. Add
    /// flags with [`ConfigBuilder::set`] after.
    pub fn standard(file: Option<&Path>) -> Result<Self> {
        let vars: Vec<(String, String)> = std::env::vars().collect();
        let mut builder = Self::new().aws_env(vars.iter().cloned());
        let var = |name: &str| {
            vars.iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let chosen = file
            .map(Path::to_path_buf)
            .or_else(|| var(CONFIG_FILE_ENV).map(PathBuf::from))
            .or_else(|| {
                discovered_file(var("XDG_CONFIG_HOME"), var("HOME"))
                    .into_iter()
                    .find(|p| p.is_file())
            });
        if let Some(path) = chosen {
            builder = builder.file(&path)?;
        }
        builder.env(vars)
    }

    /// Adds the standard `AWS_*` variables found in `vars`.
    pub fn aws_env(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        // Walk in reverse priority so the preferred variable is pushed last and wins.
        for (var, key) in AWS_VARS.iter().rev() {
            if let Some((_, value)) = vars.iter().find(|(k, v)| k == var && !v.is_empty()) {
                self.push(key, value, Source::Env(var.to_string()));
            }
        }
        self
    }

    /// Adds every `SCORELAKE__SECTION__KEY` variable found in `vars`.
    pub fn env(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        for (var, value) in vars {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = rest
                .split("__")
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
                .join(".");
            self.push(&key, &value, Source::Env(var.clone()));
        }
        Ok(self)
    }

    /// Adds a config file; `.yaml`/`.yml` is read as YAML, anything else as TOML.
    pub fn file(mut self, path: &Path) -> Result<Self> {
        self.file = Some(path.to_path_buf());
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        let yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if yaml {
            self.yaml_str(path, &text)
        } else {
            self.toml_str(path, &text)
        }
    }

    /// Adds TOML text read from `path` (used for messages).
    pub fn toml_str(mut self, path: impl AsRef<Path>, text: &str) -> Result<Self> {
        let path = path.as_ref();
        let table = DeTable::parse(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            Error::Config(format!(
                "config file {} is not valid TOML{}: {}",
                path.display(),
                line.map(|l| format!(" (line {l})")).unwrap_or_default(),
                e.message()
            ))
        })?;
        flatten_toml(table.get_ref(), "", text, path, &mut self.entries)?;
        Ok(self)
    }

    /// Adds YAML text read from `path` (used for messages).
    pub fn yaml_str(mut self, path: impl AsRef<Path>, text: &str) -> Result<Self> {
        let path = path.as_ref();
        let mut flat = YamlFlattener {
            path: path.to_path_buf(),
            ..Default::default()
        };
        Parser::new_from_str(text)
            .load(&mut flat, false)
            .map_err(|e| {
                Error::Config(format!(
                    "config file {} is not valid YAML (line {}): {}",
                    path.display(),
                    e.marker().line(),
                    e.info()
                ))
            })?;
        if let Some(err) = flat.error {
            return Err(Error::Config(err));
        }
        self.entries.extend(flat.entries);
        Ok(self)
    }

    /// Sets one key, e.g. from a flag; `origin` names the flag for messages.
    pub fn set(mut self, key: &str, value: &str, origin: &str) -> Result<Self> {
        self.push(key, value, Source::Flag(origin.to_string()));
        Ok(self)
    }

    /// Sets one key from a program's call; `call` names it for messages
    /// and `config show` (`Session(settings)`).
    ///
    /// ```
    /// use scorelake::config::{ConfigBuilder, Source};
    /// let c = ConfigBuilder::new().set_by_call("engine.target_partitions", "3", "Session(settings)").build()?;
    /// assert_eq!(c.engine.target_partitions, 3);
    /// assert_eq!(c.source_of("engine.target_partitions"), Some(Source::Call("Session(settings)".into())));
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn set_by_call(mut self, key: &str, value: &str, call: &str) -> Self {
        self.push(key, value, Source::Call(call.to_string()));
        self
    }

    fn push(&mut self, key: &str, value: &str, source: Source) {
        self.entries.push(Entry {
            key: key.to_string(),
            value: value.to_string(),
            source,
        });
    }

    /// Applies the layers over the defaults and validates the result.
    pub fn build(self) -> Result<Config> {
        let mut config = Config {
            file: self.file.clone(),
            ..Config::default()
        };
        let mut df_options = datafusion::config::ConfigOptions::new();
        for Entry { key, value, source } in self.entries {
            if key.starts_with(DATAFUSION_PREFIX) {
                df_options.set(&key, &value).map_err(|e| {
                    Error::Config(format!(
                        "bad DataFusion option `{key}` (from {source}): {}",
                        e.strip_backtrace()
                    ))
                })?;
                config.datafusion.insert(key.clone(), value);
            } else if let Some(column) = key.strip_prefix(ROLES_PREFIX) {
                let role = ColumnRole::parse_value(&value).ok_or_else(|| {
                    Error::Config(format!(
                        "bad value `{value}` for `{key}` (from {source}): expected {}{}",
                        ColumnRole::expected(),
                        word_hint(&value, &ColumnRole::expected())
                    ))
                })?;
                config.roles.insert(column.to_string(), role);
            } else {
                match config.set_typed(&key, &value) {
                    Some(Ok(())) => {}
                    Some(Err(expected)) => {
                        let secret = keys().iter().any(|k| k.key == key && k.secret);
                        return Err(Error::Config(format!(
                            "bad value `{shown}` for `{key}` (from {source}): expected {expected}{hint}",
                            shown = if secret { "****" } else { &value },
                            hint = if secret {
                                String::new()
                            } else {
                                word_hint(&value, &expected)
                            },
                        )));
                    }
                    None => return Err(Error::Config(unknown_key(&key, &source))),
                }
            }
            config.sources.insert(key, source);
        }
        config.validate().map_err(Error::Config)?;
        Ok(config)
    }
}

/// The config files looked for when none is named, in order:
/// `./scorelake.toml`, `./scorelake.yaml`, then `scorelake/config.toml`
/// in the user's config folder (`$XDG_CONFIG_HOME`, else `$HOME/.config`).
///
/// ```
/// use scorelake::config::discovered_file;
/// let files = discovered_file(None, Some("/home/ana".into()));
/// assert_eq!(files[0].to_str(), Some("scorelake.toml"));
/// assert_eq!(files[2].to_str(), Some("/home/ana/.config/scorelake/config.toml"));
/// ```
pub fn discovered_file(xdg_config_home: Option<String>, home: Option<String>) -> Vec<PathBuf> {
    let mut files = vec![
        PathBuf::from("scorelake.toml"),
        PathBuf::from("scorelake.yaml"),
    ];
    let user = xdg_config_home
        .map(PathBuf::from)
        .or_else(|| home.map(|h| PathBuf::from(h).join(".config")));
    if let Some(dir) = user {
        files.push(dir.join("scorelake").join("config.toml"));
    }
    files
}

/// "; did you mean `w`?" when `expected` lists words ("one of a, b, c") and
/// one of them is close to `value`.
fn word_hint(value: &str, expected: &str) -> String {
    let Some(words) = expected.strip_prefix("one of ") else {
        return String::new();
    };
    crate::error::closest(&value.to_ascii_lowercase(), words.split(", "))
        .map(|w| format!("; did you mean `{w}`?"))
        .unwrap_or_default()
}

/// Keys that were renamed: the old spelling and what to write instead.
const RENAMED: &[(&str, &str)] = &[
    ("remote.engine", "`engine.kind`"),
    ("remote.ballista_url", "`ballista.url`"),
    (
        "remote.spark_connect_url",
        "nothing yet: the Spark engine is not available",
    ),
];

/// "unknown config key ...; did you mean ...?"
fn unknown_key(key: &str, source: &Source) -> String {
    if let Some((_, now)) = RENAMED.iter().find(|(old, _)| *old == key) {
        return format!("config key `{key}` (from {source}) was renamed; write {now} instead");
    }
    let hint = crate::error::closest(key, keys().iter().map(|k| k.key))
        .map(|k| format!("; did you mean `{k}`?"))
        .unwrap_or_default();
    let section_hint = match source {
        Source::Env(_) => " (variables are SCORELAKE__SECTION__KEY)",
        _ => "",
    };
    format!("unknown config key `{key}` (from {source}){section_hint}{hint}")
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

fn flatten_toml(
    table: &DeTable<'_>,
    prefix: &str,
    text: &str,
    path: &Path,
    out: &mut Vec<Entry>,
) -> Result<()> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        let source = Source::File {
            path: path.to_path_buf(),
            line: Some(line_of(text, k.span().start)),
        };
        let value = match v.get_ref() {
            DeValue::Table(t) => {
                flatten_toml(t, &key, text, path, out)?;
                continue;
            }
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(i) => i.to_string(),
            DeValue::Float(f) => f.to_string(),
            DeValue::Boolean(b) => b.to_string(),
            DeValue::Datetime(d) => d.to_string(),
            DeValue::Array(_) => {
                return Err(Error::Config(format!(
                    "`{key}` (from {source}): expected a single value, found a list"
                )));
            }
        };
        out.push(Entry { key, value, source });
    }
    Ok(())
}

/// Turns YAML parser events into dotted keys with their lines.
#[derive(Default)]
struct YamlFlattener {
    path: PathBuf,
    /// Keys of the mappings we are inside; `None` while a mapping awaits its next key.
    stack: Vec<Option<String>>,
    entries: Vec<Entry>,
    error: Option<String>,
}

impl YamlFlattener {
    fn dotted(&self) -> String {
        self.stack
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(".")
    }
}

impl MarkedEventReceiver for YamlFlattener {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let source = Source::File {
            path: self.path.clone(),
            line: Some(mark.line()),
        };
        match ev {
            Event::MappingStart(..) => self.stack.push(None),
            Event::MappingEnd => {
                self.stack.pop();
                if let Some(top) = self.stack.last_mut() {
                    *top = None;
                }
            }
            Event::Scalar(text, ..) => match self.stack.last_mut() {
                Some(slot @ None) => *slot = Some(text),
                Some(Some(_)) => {
                    let key = self.dotted();
                    if let Some(top) = self.stack.last_mut() {
                        *top = None;
                    }
                    let value = if text == "~" || text == "null" {
                        String::new()
                    } else {
                        text
                    };
                    self.entries.push(Entry { key, value, source });
                }
                None => {
                    self.error = Some(format!(
                        "config file {} (line {}): expected a mapping of sections",
                        self.path.display(),
                        mark.line()
                    ));
                }
            },
            Event::SequenceStart(..) => {
                self.error = Some(format!(
                    "`{}` (from {source}): expected a single value, found a list",
                    self.dotted()
                ));
            }
            _ => {}
        }
    }
}
