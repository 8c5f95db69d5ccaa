//! Small documents users write by hand (recipes, column semantics): TOML,
//! YAML or JSON, chosen by the file's extension, read into one JSON value;
//! and the small documents commands write (fitted artifacts, reports),
//! written whole or not at all ([`write_whole`]).

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use crate::error::{Error, Result, invalid, invalid_err};

/// Reads `path` (`.toml`, `.yaml`/`.yml` or `.json`) as a JSON value.
/// Errors name the file.
pub fn load(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    parse(&text, ext).map_err(|reason| invalid!("{}: {reason}", path.display()))
}

/// Parses `text` written in the format named by `ext` (`toml`, `yaml`, `yml`, `json`).
///
/// ```
/// let v = scorelake::docfile::parse("a: [1, 2]\nb: x\n", "yaml").unwrap();
/// assert_eq!(v, serde_json::json!({"a": [1, 2], "b": "x"}));
/// ```
pub fn parse(text: &str, ext: &str) -> std::result::Result<serde_json::Value, String> {
    match ext {
        "toml" => {
            // Numbers out of range (`1e400`) and `inf`/`nan` would read as
            // null, that is as if the key were not there.
            let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
            for (key, value) in &table {
                toml_finite(key, value)?;
            }
            toml::from_str(text).map_err(|e| e.to_string())
        }
        "json" => serde_json::from_str(text).map_err(|e| e.to_string()),
        "yaml" | "yml" => {
            check_alias_expansion(text)?;
            let docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
            docs.into_iter()
                .next()
                .map_or(Ok(serde_json::Value::Null), |y| yaml_to_json(y, ""))
        }
        _ => Err("expected a .toml, .yaml, .yml or .json file".into()),
    }
}

/// The most values YAML aliases (`*name`) may add to a document by
/// repeating what their anchor (`&name`) holds. Aliases of aliases grow
/// geometrically: a few hundred bytes would otherwise expand to gigabytes.
pub const MAX_ALIAS_VALUES: u64 = 100_000;

/// Refuses a YAML text whose aliases would expand to more than
/// [`MAX_ALIAS_VALUES`] values, counted on the parser's events before
/// anything is built (a text without aliases always passes).
fn check_alias_expansion(text: &str) -> std::result::Result<(), String> {
    use std::collections::HashMap;
    use yaml_rust2::parser::{Event, EventReceiver, Parser};

    /// Values per open collection; values (expanded) per anchor.
    #[derive(Default)]
    struct Sizes {
        open: Vec<(usize, u64)>,
        anchors: HashMap<usize, u64>,
        added: u64,
    }
    impl Sizes {
        fn value(&mut self, n: u64) {
            if let Some((_, size)) = self.open.last_mut() {
                *size = size.saturating_add(n);
            }
        }
    }
    impl EventReceiver for Sizes {
        fn on_event(&mut self, event: Event) {
            match event {
                Event::Scalar(_, _, anchor, _) => {
                    if anchor > 0 {
                        self.anchors.insert(anchor, 1);
                    }
                    self.value(1);
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    self.open.push((anchor, 1));
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some((anchor, size)) = self.open.pop() {
                        if anchor > 0 {
                            self.anchors.insert(anchor, size);
                        }
                        self.value(size);
                    }
                }
                Event::Alias(anchor) => {
                    let size = self.anchors.get(&anchor).copied().unwrap_or(1);
                    self.added = self.added.saturating_add(size);
                    self.value(size);
                }
                _ => {}
            }
        }
    }
    let mut sizes = Sizes::default();
    let mut parser = Parser::new_from_str(text);
    // Syntax errors are left to the loader, which reports them with their place.
    let _ = parser.load(&mut sizes, true);
    if sizes.added > MAX_ALIAS_VALUES {
        return Err(format!(
            "its aliases (`*name`) expand to more than {MAX_ALIAS_VALUES} values; write the repeated parts out or use fewer nested aliases"
        ));
    }
    Ok(())
}

/// Refuses a float that is not finite, naming its key.
fn toml_finite(key: &str, value: &toml::Value) -> std::result::Result<(), String> {
    match value {
        toml::Value::Float(f) if !f.is_finite() => Err(not_finite(key, &f.to_string())),
        toml::Value::Array(items) => items.iter().try_for_each(|v| toml_finite(key, v)),
        toml::Value::Table(t) => t
            .iter()
            .try_for_each(|(k, v)| toml_finite(&format!("{key}.{k}"), v)),
        _ => Ok(()),
    }
}

fn not_finite(key: &str, written: &str) -> String {
    format!("`{key}`: {written} is not a finite number (out of range?)")
}

/// The YAML value at `key` (dotted, for errors) as JSON; a number out of
/// range (`1e400`) is refused, not read as null.
fn yaml_to_json(y: Yaml, key: &str) -> std::result::Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match y {
        Yaml::Real(s) => match s.parse::<f64>() {
            Ok(x) if x.is_finite() => J::from(x),
            Ok(_) => return Err(not_finite(key, &s)),
            Err(_) => J::String(s),
        },
        Yaml::Integer(i) => J::from(i),
        Yaml::String(s) => J::String(s),
        Yaml::Boolean(b) => J::Bool(b),
        Yaml::Array(a) => J::Array(
            a.into_iter()
                .map(|v| yaml_to_json(v, key))
                .collect::<std::result::Result<_, _>>()?,
        ),
        Yaml::Hash(h) => J::Object(
            h.into_iter()
                .map(|(k, v)| {
                    let name = match k {
                        Yaml::String(s) => s,
                        Yaml::Integer(i) => i.to_string(),
                        other => format!("{other:?}"),
                    };
                    let path = if key.is_empty() {
                        name.clone()
                    } else {
                        format!("{key}.{name}")
                    };
                    Ok((name, yaml_to_json(v, &path)?))
                })
                .collect::<std::result::Result<_, String>>()?,
        ),
        _ => J::Null,
    })
}

/// Writes a fitted artifact as pretty JSON.
pub(crate) fn save_artifact<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Error::InvalidInput(e.to_string()))?;
    write_whole(path, &(text + "\n"))
}

/// Writes `text` to the local file `path` whole or not at all: into a
/// temporary file beside it, renamed over `path` once complete, so a reader
/// never sees a partial file and a failed write leaves none. A missing
/// folder is named.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("report.json");
/// scorelake::docfile::write_whole(&path, "{}\n").unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
/// let e = scorelake::docfile::write_whole(&dir.path().join("no/r.json"), "{}").unwrap_err();
/// assert!(e.to_string().ends_with("/no: folder does not exist"), "{e}");
/// ```
pub fn write_whole(path: &Path, text: &str) -> Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Error::InvalidInput(format!(
            "cannot write {}: {}: folder does not exist",
            path.display(),
            folder.display()
        )));
    }
    let io = |e: std::io::Error| Error::io(path.display(), e);
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    // As a plain create would make it: read-write for all, less the umask.
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder.tempfile_in(folder).map_err(io)?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Reads a fitted artifact whose `format` field must be `format` (`what`
/// names the kind of file in errors) and checks it with `validate` right
/// after deserializing, so a hand-edited file is refused with the file
/// named and what is inconsistent.
pub(crate) fn load_artifact<T: serde::de::DeserializeOwned>(
    path: &Path,
    format: &str,
    what: &str,
    validate: impl FnOnce(&T) -> Result<()>,
) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid!("{}: not {what}: {e}", path.display()))?;
    let found = value
        .get("format")
        .and_then(|f| f.as_str())
        .unwrap_or("none");
    if found != format {
        return invalid_err!(
            "{}: format `{found}`, expected `{format}` ({what})",
            path.display()
        );
    }
    let artifact: T = serde_json::from_value(value)
        .map_err(|e| invalid!("{}: not {what}: {e}", path.display()))?;
    validate(&artifact).map_err(|e| invalid!("{}: {e}", path.display()))?;
    Ok(artifact)
}

/// Deserializes a list of names written as one name or a list.
pub(crate) fn one_or_many<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    use serde_json::Value;
    let value = <Value as serde::Deserialize>::deserialize(d)?;
    let names = match &value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => None,
    };
    names.ok_or_else(|| {
        serde::de::Error::custom(format!("expected a name or a list of names, got {value}"))
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn numbers_out_of_range_are_refused_naming_the_key() {
        let e = parse("encoders:\n  - {smoothing: 1e400}\n", "yaml").unwrap_err();
        assert!(e.contains("`encoders.smoothing`: 1e400"), "{e}");
        // The TOML parser itself refuses an overflowing number, quoting its line.
        let e = parse("[params]\nsmoothing = 1e400\n", "toml").unwrap_err();
        assert!(e.contains("smoothing = 1e400"), "{e}");
        let e = parse("lower = nan\n", "toml").unwrap_err();
        assert!(e.contains("`lower`"), "{e}");
        assert!(parse("a: 1e300\n", "yaml").is_ok());
    }

    #[test]
    fn alias_bombs_are_refused_before_expanding() {
        // Nine levels of nine aliases: 9^10 (3.5 billion) values from 522 bytes.
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let prev = format!("*a{}", level - 1);
            let items = [prev.as_str(); 9].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        assert!(text.len() < 600, "{}", text.len());
        let e = parse(&text, "yaml").unwrap_err();
        assert!(e.contains("aliases") && e.contains("100000"), "{e}");
        // Ordinary anchors and aliases still read.
        let v = parse("base: &b {x: 1}\nother: *b\nlist: [*b, *b]\n", "yaml").unwrap();
        assert_eq!(v["list"][1]["x"], 1);
    }
}
