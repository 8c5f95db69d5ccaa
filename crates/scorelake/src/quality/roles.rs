//! Column roles: identifiers, targets and weights describe rows rather than
//! measure them, so drift and validation leave them out unless asked for
//! by name (a PSI of `customer_id` says nothing).
//!
//! A column's declared semantics come first: NCF files carry a `kind` per
//! column (`identifier`, `target`, `weight`; `--semantics` when written),
//! which reaches the engine as the field's `ncf.semantic` metadata. Other
//! columns go by rules on the lower-cased name: `id`, `key` or ending in
//! `_id` / `_key` is an identifier; `target`, `label`, `default_flag`,
//! `bad`, starting with `bad_` or ending in `_target` is a target.

use std::fmt;

use datafusion::arrow::datatypes::Field;
use serde::Serialize;

/// What a column is, when it is not a measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Names an entity or a row.
    Identifier,
    /// An outcome to predict.
    Target,
    /// A row weight (declared in the column's semantics).
    Weight,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Identifier => "identifier",
            Role::Target => "target",
            Role::Weight => "weight",
        })
    }
}

/// The role of column `name` by the rules above; `None` for a measure.
///
/// ```
/// use scorelake::quality::{Role, role_of};
/// assert_eq!(role_of("customer_id"), Some(Role::Identifier));
/// assert_eq!(role_of("default_flag"), Some(Role::Target));
/// assert_eq!(role_of("bad_12m"), Some(Role::Target));
/// assert_eq!(role_of("balance"), None);
/// ```
pub fn role_of(name: &str) -> Option<Role> {
    let n = name.to_ascii_lowercase();
    if n == "id" || n == "key" || n.ends_with("_id") || n.ends_with("_key") {
        Some(Role::Identifier)
    } else if ["target", "label", "default_flag", "bad"].contains(&n.as_str())
        || n.starts_with("bad_")
        || n.ends_with("_target")
    {
        Some(Role::Target)
    } else {
        None
    }
}

/// The role of `field`: its declared NCF semantics' `kind` when it has one
/// (a declared measure such as `numerical` is a measure whatever its
/// name), else [`role_of`] its name.
///
/// ```
/// use scorelake::datafusion::arrow::datatypes::{DataType, Field};
/// use scorelake::quality::{Role, role_of_field};
/// let declared = |kind: &str| {
///     let semantic = format!(r#"{{"kind":"{kind}","contains_pii":false}}"#);
///     [("ncf.semantic".to_string(), semantic)].into_iter().collect()
/// };
/// let account = Field::new("account", DataType::Int64, false).with_metadata(declared("identifier"));
/// assert_eq!(role_of_field(&account), Some(Role::Identifier));
/// let score_id = Field::new("score_id", DataType::Float64, true).with_metadata(declared("numerical"));
/// assert_eq!(role_of_field(&score_id), None);
/// assert_eq!(role_of_field(&Field::new("customer_id", DataType::Int64, false)), Some(Role::Identifier));
/// ```
pub fn role_of_field(field: &Field) -> Option<Role> {
    let declared = field
        .metadata()
        .get(ncf::SEMANTIC_KEY)
        .and_then(|json| serde_json::from_str::<ncf::Semantic>(json).ok())
        .and_then(|s| s.kind);
    match declared.as_deref() {
        Some("identifier") => Some(Role::Identifier),
        Some("target") => Some(Role::Target),
        Some("weight") => Some(Role::Weight),
        Some(_) => None,
        None => role_of(field.name()),
    }
}

/// A column a command left out for its role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// The column.
    pub column: String,
    /// Why.
    pub role: Role,
}

/// The names of `fields` split into measures and the columns left out for
/// their role.
pub(crate) fn measures<'a>(
    fields: impl IntoIterator<Item = &'a Field>,
) -> (Vec<String>, Vec<LeftOut>) {
    let mut kept = Vec::new();
    let mut left_out = Vec::new();
    for field in fields {
        let column = field.name().clone();
        match role_of_field(field) {
            Some(role) => left_out.push(LeftOut { column, role }),
            None => kept.push(column),
        }
    }
    (kept, left_out)
}

/// The Markdown line naming what was left out (empty when nothing was).
pub(crate) fn left_out_line(left_out: &[LeftOut]) -> String {
    if left_out.is_empty() {
        return String::new();
    }
    let names: Vec<String> = left_out
        .iter()
        .map(|l| format!("`{}` ({})", l.column, l.role))
        .collect();
    format!(
        "\nLeft out by role (name them to include them): {}\n",
        names.join(", ")
    )
}
