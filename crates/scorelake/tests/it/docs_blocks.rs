//! Every YAML and TOML block of the README and docs/ is a document the
//! library reads: recipe files, encoder, binning and pipeline specs,
//! thresholds, column semantics and config files are parsed as what they
//! are; a block marked `<!-- fragment -->` (the line above its fence) is a
//! part of one and must at least be valid YAML or TOML.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use scorelake::config::ConfigBuilder;
use scorelake::encoding::EncoderSpec;
use scorelake::features::RecipeFile;
use scorelake::formats::ncf::load_semantics;
use scorelake::pipeline::ScorecardPipeline;
use scorelake::quality::Thresholds;
use scorelake::scorecard::BinningSpec;

struct Block {
    place: String,
    ext: &'static str,
    text: String,
    fragment: bool,
}

fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages.insert(0, root.join("README.md"));
    pages
}

fn blocks(page: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(page).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let ext = match lines[i].strip_prefix("```").map(str::trim) {
            Some("yaml" | "yml") => "yaml",
            Some("toml") => "toml",
            Some(_) => {
                // Skip any other block whole.
                i += 1;
                while i < lines.len() && !lines[i].starts_with("```") {
                    i += 1;
                }
                i += 1;
                continue;
            }
            None => {
                i += 1;
                continue;
            }
        };
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && !lines[end].starts_with("```") {
            end += 1;
        }
        out.push(Block {
            place: format!("{}:{}", page.display(), i + 1),
            ext,
            text: lines[start..end].join("\n") + "\n",
            fragment: i > 0 && lines[i - 1].trim() == "<!-- fragment -->",
        });
        i = end + 1;
    }
    out
}

const CONFIG_SECTIONS: [&str; 8] = [
    "engine",
    "io",
    "storage",
    "ballista",
    "remote",
    "observability",
    "datafusion",
    "roles",
];

/// Parses `block` as the document it is; the kind it was read as.
fn read(block: &Block, dir: &Path) -> Result<&'static str, String> {
    let (text, ext) = (block.text.as_str(), block.ext);
    let value = scorelake::docfile::parse(text, ext)?;
    if block.fragment {
        return Ok("fragment");
    }
    let keys: BTreeSet<&str> = value
        .as_object()
        .ok_or("not a mapping")?
        .keys()
        .map(String::as_str)
        .collect();
    let has = |k: &str| keys.contains(k);
    let file = |name: &str| {
        let path = dir.join(format!("{name}.{ext}"));
        std::fs::write(&path, text).unwrap();
        path
    };
    let result = if has("input") && has("output") {
        ScorecardPipeline::from_path(&file("pipeline")).map(|_| "scorecard pipeline")
    } else if has("recipes") {
        RecipeFile::parse(text, ext).map(|_| "recipe file")
    } else if has("encoders") {
        EncoderSpec::parse(text, ext).map(|_| "encoder spec")
    } else if has("target") && has("variables") {
        BinningSpec::parse(text, ext).map(|_| "binning spec")
    } else if ext == "toml" && keys == BTreeSet::from(["columns"]) {
        load_semantics(&file("semantics")).map(|_| "column semantics")
    } else if keys.iter().all(|k| ["defaults", "columns"].contains(k)) {
        Thresholds::parse(text, ext).map(|_| "thresholds")
    } else if keys.iter().all(|k| CONFIG_SECTIONS.contains(k)) {
        let builder = match ext {
            "toml" => ConfigBuilder::new().toml_str("block.toml", text),
            _ => ConfigBuilder::new().yaml_str("block.yaml", text),
        };
        builder
            .and_then(ConfigBuilder::build)
            .map(|_| "config file")
    } else {
        return Err(format!(
            "keys {keys:?} are no document the library reads: complete it, or mark it \
             `<!-- fragment -->` on the line above its fence"
        ));
    };
    result.map_err(|e| e.to_string())
}

#[test]
fn documented_yaml_and_toml_blocks_read() {
    let dir = tempfile::tempdir().unwrap();
    // The files pipeline blocks name, as the examples have them.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for name in ["development-sample.yaml", "encoders.yaml"] {
        std::fs::copy(examples.join(name), dir.path().join(name)).unwrap();
    }
    let (mut failures, mut kinds) = (Vec::new(), BTreeSet::new());
    let mut count = 0;
    for page in pages() {
        for block in blocks(&page) {
            count += 1;
            match read(&block, dir.path()) {
                Ok(kind) => {
                    kinds.insert(kind);
                }
                Err(e) => failures.push(format!("{}: {e}", block.place)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(count >= 14, "only {count} blocks found");
    // Each kind of document appears, so a parser change is caught somewhere.
    for kind in [
        "recipe file",
        "encoder spec",
        "scorecard pipeline",
        "binning spec",
        "thresholds",
        "config file",
        "column semantics",
    ] {
        assert!(kinds.contains(kind), "no {kind} block in the docs");
    }
}

#[test]
fn example_files_read() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    RecipeFile::load(&examples.join("panel-features.yaml")).unwrap();
    RecipeFile::load(&examples.join("development-sample.yaml")).unwrap();
    EncoderSpec::load(&examples.join("encoders.yaml")).unwrap();
    Thresholds::load(&examples.join("thresholds.yaml")).unwrap();
    load_semantics(&examples.join("panel-semantics.toml")).unwrap();
    ScorecardPipeline::from_path(&examples.join("scorecard-pipeline.yaml")).unwrap();
    ConfigBuilder::new()
        .file(&examples.join("lake.toml"))
        .and_then(ConfigBuilder::build)
        .unwrap();
}
