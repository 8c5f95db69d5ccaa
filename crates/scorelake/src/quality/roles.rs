//! Column roles: identifiers, targets and weights describe rows rather than
//! measure them, so drift and validation leave them out unless asked for
//! by name (a PSI of `customer_id` says nothing); times (dates, periods)
//! are validated (their earliest and latest value) but not compared by
//! drift, where every period differs by construction.
//!
//! Where a role comes from, first match wins:
//! 1. the configuration's `roles.<column> = identifier | target | weight |
//!    time | measure` (`[roles]` in a config file);
//! 2. a column's declared semantics: NCF files carry a `kind` per column
//!    (`identifier`, `target`, `weight`; `--semantics` when written), which
//!    reaches the engine as the field's `ncf.semantic` metadata; any other
//!    declared kind is a measure;
//! 3. its type: a date or timestamp is a time;
//! 4. rules on the lower-cased name: `id`, `key` or ending in `_id` /
//!    `_key` is an identifier; `target`, `label`, `default_flag`, `bad`,
//!    starting with `bad_` or ending in `_target` is a target; `month`,
//!    `date`, `period` or ending in `_date` is a time.

use std::collections::BTreeMap;
use std::fmt;

use datafusion::arrow::datatypes::{DataType, Field};
use serde::Serialize;

use crate::config::ColumnRole;

/// What a column is, when it is not a measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Names an entity or a row.
    Identifier,
    /// An outcome to predict.
    Target,
    /// A row weight (declared in the column's semantics or the configuration).
    Weight,
    /// A date or period.
    Time,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Identifier => "identifier",
            Role::Target => "target",
            Role::Weight => "weight",
            Role::Time => "time",
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
/// assert_eq!(role_of("snapshot_date"), Some(Role::Time));
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
    } else if ["month", "date", "period"].contains(&n.as_str()) || n.ends_with("_date") {
        Some(Role::Time)
    } else {
        None
    }
}

/// The role of `field`: as `configured` names it, else its declared NCF
/// semantics' `kind` (a declared measure such as `numerical` is a measure
/// whatever its name), else its type (dates and timestamps are times), else
/// [`role_of`] its name.
///
/// ```
/// use std::collections::BTreeMap;
/// use scorelake::config::ColumnRole;
/// use scorelake::datafusion::arrow::datatypes::{DataType, Field};
/// use scorelake::quality::{Role, role_of_field};
/// let declared = |kind: &str| {
///     let semantic = format!(r#"{{"kind":"{kind}","contains_pii":false}}"#);
///     [("ncf.semantic".to_string(), semantic)].into_iter().collect()
/// };
/// let none = BTreeMap::new();
/// let account = Field::new("account", DataType::Int64, false).with_metadata(declared("identifier"));
/// assert_eq!(role_of_field(&account, &none), Some(Role::Identifier));
/// let score_id = Field::new("score_id", DataType::Float64, true).with_metadata(declared("numerical"));
/// assert_eq!(role_of_field(&score_id, &none), None);
/// let customer = Field::new("customer_id", DataType::Int64, false);
/// assert_eq!(role_of_field(&customer, &none), Some(Role::Identifier));
/// assert_eq!(role_of_field(&Field::new("opened", DataType::Date32, true), &none), Some(Role::Time));
/// // The configuration comes first.
/// let configured = BTreeMap::from([("customer_id".to_string(), ColumnRole::Measure)]);
/// assert_eq!(role_of_field(&customer, &configured), None);
/// ```
pub fn role_of_field(field: &Field, configured: &BTreeMap<String, ColumnRole>) -> Option<Role> {
    if let Some(role) = configured.get(field.name()) {
        return match role {
            ColumnRole::Identifier => Some(Role::Identifier),
            ColumnRole::Target => Some(Role::Target),
            ColumnRole::Weight => Some(Role::Weight),
            ColumnRole::Time => Some(Role::Time),
            ColumnRole::Measure => None,
        };
    }
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
        None if matches!(
            field.data_type(),
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
        ) =>
        {
            Some(Role::Time)
        }
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

/// The names of `fields` split into the columns a command looks at and
/// those it leaves out, for a role in `leave_out`, by their role (as
/// [`role_of_field`] with `configured` finds it).
pub(crate) fn measures<'a>(
    fields: impl IntoIterator<Item = &'a Field>,
    configured: &BTreeMap<String, ColumnRole>,
    leave_out: &[Role],
) -> (Vec<String>, Vec<LeftOut>) {
    let mut kept = Vec::new();
    let mut left_out = Vec::new();
    for field in fields {
        let column = field.name().clone();
        match role_of_field(field, configured) {
            Some(role) if leave_out.contains(&role) => left_out.push(LeftOut { column, role }),
            _ => kept.push(column),
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
