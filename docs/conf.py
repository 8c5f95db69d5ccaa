"""Sphinx configuration of the ScoreLake documentation (built by scripts/docs.sh)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

with open(ROOT / "Cargo.toml", "rb") as f:
    release = tomllib.load(f)["workspace"]["package"]["version"]

project = "ScoreLake"
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
]

# Markdown only: the user guide pages and the home and Python pages.
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", ".*", "**/.*"]

# `[text](page.md#section-title)` links between the pages.
myst_heading_anchors = 3

# The Python API: the installed `scorelake` package (python/scorelake).
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True

# Classes users receive from functions and methods rather than construct
# (their constructors are internal): shown without a signature.
RETURNED_CLASSES = {
    "scorelake.Table",
    "scorelake.FeatureEngineer",
    "scorelake.Encoders",
    "scorelake.Binning",
    "scorelake.Scorecard",
    "scorelake.ValidationReport",
    "scorelake.DriftReport",
}


def _class_signature(app, what, name, obj, options, signature, return_annotation):
    if what == "class" and name in RETURNED_CLASSES:
        return "", None
    return None


def setup(app):
    app.connect("autodoc-process-signature", _class_signature)


html_theme = "alabaster"
html_title = f"ScoreLake {release}"
html_theme_options = {
    "description": "Credit-risk feature engineering on a data lake",
    # scripts/docs.sh copies `cargo doc` output under rust/ in the built site.
    "extra_nav_links": {"Rust API": "rust/scorelake/index.html"},
    "show_relbars": True,
}
