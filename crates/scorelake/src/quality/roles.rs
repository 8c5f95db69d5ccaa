//! Column roles by name: identifiers and targets describe rows rather than
//! measure them, so drift and validation leave them out unless asked for
//! by name (a PSI of `customer_id` says nothing).
//!
//! Rules, on the lower-cased name: `id`, `key` or ending in `_id` / `_key`
//! is an identifier; `target`, `label`, `default_flag`, `bad`, starting
//! with `bad_` or ending in `_target` is a target.

use std::fmt;

use serde::Serialize;

/// What a column is, when it is not a measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Names an entity or a row.
    Identifier,
    /// An outcome to predict.
    Target,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Identifier => "identifier",
            Role::Target => "target",
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

/// A column a command left out for its role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// The column.
    pub column: String,
    /// Why.
    pub role: Role,
}

/// `names` split into measures and the columns left out for their role.
pub(crate) fn measures(names: Vec<String>) -> (Vec<String>, Vec<LeftOut>) {
    let mut kept = Vec::new();
    let mut left_out = Vec::new();
    for column in names {
        match role_of(&column) {
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
