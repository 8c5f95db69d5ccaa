//! The lineage export: every output feature with where it comes from.

use serde::Serialize;
use serde_json::{Map, Value};

use super::resolve::Resolved;

/// Lineage of a recipe file's outputs (serialise it as JSON).
#[derive(Clone, Debug, Serialize)]
pub struct Lineage {
    /// Entity columns.
    pub entity: Vec<String>,
    /// Time column.
    pub time: String,
    /// `trailing` (a row per input row) or `snapshot` (a row per entity).
    pub mode: String,
    /// The snapshot date, in snapshot mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// Output features in recipe order.
    pub features: Vec<FeatureLineage>,
}

/// Where one output column comes from.
#[derive(Clone, Debug, Serialize)]
pub struct FeatureLineage {
    /// Output column.
    pub name: String,
    /// The recipe that makes it.
    pub recipe: String,
    /// Operation.
    pub operation: String,
    /// Source columns.
    pub sources: Vec<String>,
    /// Window as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// Parameters as written.
    pub params: Map<String, Value>,
    /// Recipes that run before this one (by source or `depends_on`).
    pub depends_on: Vec<String>,
    /// Input columns this feature derives from, through every dependency.
    pub input_columns: Vec<String>,
    /// Description from the recipe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Lineage {
    pub(crate) fn of(r: &Resolved, outputs: &[usize]) -> Lineage {
        let produced: std::collections::HashMap<&str, usize> = r
            .outputs
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.as_str(), i))
            .collect();
        let roots = |start: usize| -> Vec<String> {
            let mut seen = std::collections::BTreeSet::new();
            let mut stack = vec![start];
            let mut out = std::collections::BTreeSet::new();
            while let Some(i) = stack.pop() {
                if !seen.insert(i) {
                    continue;
                }
                for s in &r.outputs[i].sources {
                    match produced.get(s.as_str()) {
                        Some(&j) => stack.push(j),
                        None => {
                            out.insert(s.clone());
                        }
                    }
                }
            }
            out.into_iter().collect()
        };
        let features = outputs
            .iter()
            .map(|&i| {
                let o = &r.outputs[i];
                let recipe = &r.file.recipes[o.recipe];
                FeatureLineage {
                    name: o.name.clone(),
                    recipe: recipe.name.clone(),
                    operation: recipe.operation.clone(),
                    sources: o.sources.clone(),
                    window: recipe.window.clone(),
                    params: recipe.params.clone(),
                    depends_on: r.deps[o.recipe]
                        .iter()
                        .map(|&d| r.file.recipes[d].name.clone())
                        .collect(),
                    input_columns: roots(i),
                    description: recipe.description.clone(),
                }
            })
            .collect();
        Lineage {
            entity: r.file.entity.clone(),
            time: r.file.time.clone(),
            mode: if r.snapshot.is_some() {
                "snapshot"
            } else {
                "trailing"
            }
            .into(),
            snapshot: r.file.snapshot.clone(),
            features,
        }
    }
}
