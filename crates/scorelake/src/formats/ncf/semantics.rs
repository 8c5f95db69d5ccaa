//! Semantic column annotations for NCF writes, from a small schema file.

use std::collections::BTreeMap;
use std::path::Path;

use ncf::Semantic;
use serde::Deserialize;

use crate::error::{Result, invalid};

const KINDS: [&str; 7] = [
    "identifier",
    "categorical",
    "numerical",
    "temporal",
    "text",
    "target",
    "weight",
];
const PII: [&str; 3] = ["none", "direct", "indirect"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    columns: BTreeMap<String, ColumnEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnEntry {
    kind: Option<String>,
    contains_pii: Option<bool>,
    pii: Option<String>,
    description: Option<String>,
    group: Option<String>,
}

/// Reads per-column semantic metadata from a TOML, YAML or JSON file:
///
/// ```toml
/// [columns.customer_id]
/// kind = "identifier"          # identifier categorical numerical temporal text target weight
/// pii = "indirect"             # none direct indirect (direct/indirect imply contains_pii)
/// description = "customer key"
/// group = "keys"
/// ```
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("schema.yaml");
/// std::fs::write(&path, "columns:\n  balance: {kind: numerical, group: behaviour}\n").unwrap();
/// let semantics = scorelake::formats::ncf::load_semantics(&path)?;
/// assert_eq!(semantics["balance"].kind.as_deref(), Some("numerical"));
/// # Ok::<(), scorelake::Error>(())
/// ```
pub fn load_semantics(path: &Path) -> Result<BTreeMap<String, Semantic>> {
    let bad = |reason: String| invalid!("{}: {reason}", path.display());
    let file: SchemaFile =
        serde_json::from_value(crate::docfile::load(path)?).map_err(|e| bad(e.to_string()))?;
    file.columns
        .into_iter()
        .map(|(name, c)| {
            let at = |what: String| bad(format!("column `{name}`: {what}"));
            if let Some(kind) = &c.kind
                && !KINDS.contains(&kind.as_str())
            {
                return Err(at(format!(
                    "kind `{kind}` is not one of {}",
                    KINDS.join(", ")
                )));
            }
            if let Some(pii) = &c.pii
                && !PII.contains(&pii.as_str())
            {
                return Err(at(format!("pii `{pii}` is not one of {}", PII.join(", "))));
            }
            let implied = c.pii.as_deref().is_some_and(|p| p != "none");
            if c.contains_pii == Some(false) && implied {
                return Err(at("contains_pii = false contradicts pii".into()));
            }
            let semantic = Semantic {
                kind: c.kind,
                contains_pii: c.contains_pii.unwrap_or(implied),
                pii: c.pii,
                description: c.description,
                group: c.group,
            };
            Ok((name, semantic))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> Result<BTreeMap<String, Semantic>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load_semantics(&path)
    }

    #[test]
    fn toml_yaml_and_json_agree() {
        let toml = load(
            "s.toml",
            "[columns.id]\nkind = \"identifier\"\npii = \"indirect\"\ndescription = \"key\"\n",
        )
        .unwrap();
        let yaml = load(
            "s.yaml",
            "columns:\n  id:\n    kind: identifier\n    pii: indirect\n    description: key\n",
        )
        .unwrap();
        let json = load(
            "s.json",
            r#"{"columns": {"id": {"kind": "identifier", "pii": "indirect", "description": "key"}}}"#,
        )
        .unwrap();
        assert_eq!(toml, yaml);
        assert_eq!(toml, json);
        assert!(
            toml["id"].contains_pii,
            "pii = indirect implies contains_pii"
        );
    }

    #[test]
    fn bad_entries_are_named() {
        let err = load("s.toml", "[columns.x]\nkind = \"number\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column `x`") && err.contains("kind `number`"),
            "{err}"
        );
        let err = load("s.toml", "[columns.x]\nknd = \"numerical\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("knd"), "{err}");
        let err = load(
            "s.yaml",
            "columns:\n  x: {pii: direct, contains_pii: false}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("contradicts"), "{err}");
        let err = load("s.txt", "").unwrap_err().to_string();
        assert!(err.contains(".toml"), "{err}");
    }
}
