//! From recipes as written to checked outputs in dependency order.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;

use super::design::{Design, date, resolve_design};
use super::operation::Operation;
use super::output::Output;
use super::recipe::{Recipe, RecipeFile};
use crate::error::{Error, Result, invalid, invalid_err};
use crate::functions::temporal::Window;

/// A checked recipe file: outputs grouped by recipe, recipes in levels
/// (a recipe only uses outputs of lower levels).
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub file: RecipeFile,
    pub snapshot: Option<NaiveDate>,
    /// Observation dates, target, carried columns.
    pub design: Design,
    pub outputs: Vec<Output>,
    /// Recipe indexes per level, each level in file order.
    pub levels: Vec<Vec<usize>>,
    /// Recipes each recipe depends on (directly).
    pub deps: Vec<BTreeSet<usize>>,
}

pub(crate) fn resolve(file: RecipeFile) -> Result<Resolved> {
    if file.time.trim().is_empty() {
        return Err(Error::InvalidInput(
            "recipe file: `time` names no column".into(),
        ));
    }
    if file.entity.is_empty() || file.entity.iter().any(|e| e.trim().is_empty()) {
        return Err(Error::InvalidInput(
            "recipe file: `entity` names no column; a history is the rows of one entity (e.g. entity: customer_id)".into(),
        ));
    }
    let snapshot = file
        .snapshot
        .as_deref()
        .map(|text| date(text, "snapshot"))
        .transpose()?;
    let design = resolve_design(
        file.observation.as_ref(),
        file.target.as_ref(),
        file.carry.as_ref(),
        snapshot.is_some(),
    )?;
    let mut names = HashMap::new();
    let mut outputs = Vec::new();
    for (i, r) in file.recipes.iter().enumerate() {
        if let Some(j) = names.insert(r.name.as_str(), i) {
            return invalid_err!(
                "recipes #{} and #{} are both named `{}`",
                j + 1,
                i + 1,
                r.name
            );
        }
        outputs.extend(expand(i, r)?);
    }
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for o in &outputs {
        if let Some(j) = producer.insert(o.name.as_str(), o.recipe) {
            return invalid_err!(
                "output `{}` is produced by recipe `{}` and by recipe `{}`; set `output` on one of them",
                o.name,
                file.recipes[j].name,
                file.recipes[o.recipe].name
            );
        }
    }
    let mut deps = vec![BTreeSet::new(); file.recipes.len()];
    for o in &outputs {
        for s in &o.sources {
            if let Some(&p) = producer.get(s.as_str()) {
                deps[o.recipe].insert(p);
            }
        }
    }
    for (i, r) in file.recipes.iter().enumerate() {
        for d in &r.depends_on {
            let Some(&j) = names.get(d.as_str()) else {
                return invalid_err!("recipe `{}`: depends_on `{d}` is not a recipe", r.name);
            };
            deps[i].insert(j);
        }
    }
    let levels = levels(&file, &deps)?;
    if levels.len() > MAX_RECIPE_DEPTH {
        let deepest = &file.recipes[levels[MAX_RECIPE_DEPTH][0]].name;
        return invalid_err!(
            "recipe `{deepest}` builds on a chain of more than {MAX_RECIPE_DEPTH} recipes (each using the one before); at most {MAX_RECIPE_DEPTH} levels are planned, as planning cost grows faster than the chain: compute fewer steps, or combine them"
        );
    }
    Ok(Resolved {
        file,
        snapshot,
        design,
        outputs,
        levels,
        deps,
    })
}

/// The longest chain of recipes each using the one before: every level is
/// one step of the plan, and planning a chain costs more than its length
/// (500 chained clips took minutes, 100 take well under a second).
pub const MAX_RECIPE_DEPTH: usize = 100;

/// Longest-path levels; a cycle is an error naming its recipes.
fn levels(file: &RecipeFile, deps: &[BTreeSet<usize>]) -> Result<Vec<Vec<usize>>> {
    let n = deps.len();
    let mut level: Vec<Option<usize>> = vec![None; n];
    let mut done = 0;
    while done < n {
        let mut progressed = false;
        for i in 0..n {
            if level[i].is_some() {
                continue;
            }
            let ready: Option<Vec<usize>> = deps[i].iter().map(|&d| level[d]).collect();
            if let Some(ls) = ready {
                level[i] = Some(ls.into_iter().max().map_or(0, |l| l + 1));
                done += 1;
                progressed = true;
            }
        }
        if !progressed {
            let stuck: Vec<String> = (0..n)
                .filter(|&i| level[i].is_none())
                .map(|i| format!("`{}`", file.recipes[i].name))
                .collect();
            return invalid_err!(
                "recipes depend on each other in a cycle: {}",
                stuck.join(", ")
            );
        }
    }
    let depth = level.iter().flatten().max().map_or(0, |l| l + 1);
    let mut out = vec![Vec::new(); depth];
    for (i, l) in level.into_iter().enumerate() {
        if let Some(l) = l {
            out[l].push(i);
        }
    }
    Ok(out)
}

/// The output columns of one recipe.
fn expand(index: usize, r: &Recipe) -> Result<Vec<Output>> {
    let bad = |what: String| invalid!("recipe `{}`: {what}", r.name);
    if r.sources.is_empty() {
        return Err(bad("no source column".into()));
    }
    let window = match &r.window {
        Some(w) => Some((Window::parse(w).map_err(bad)?, w.as_str())),
        None => None,
    };
    let operation = Operation::parse(&r.operation, &r.params).map_err(bad)?;
    let mut outs = operation
        .outputs(&r.operation, &r.sources, window)
        .map_err(bad)?;
    if let Some(name) = &r.output {
        if outs.len() != 1 {
            return Err(bad(format!(
                "`output` names one column but the recipe makes {} ({}); drop `output` or split the recipe",
                outs.len(),
                outs.iter()
                    .map(|o| o.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        outs[0].0 = name.clone();
    }
    Ok(outs
        .into_iter()
        .map(|(name, sources, op)| Output {
            name,
            recipe: index,
            sources,
            op,
        })
        .collect())
}
