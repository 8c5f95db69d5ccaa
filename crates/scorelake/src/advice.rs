//! Advice as the advisors give it (the partition advisor, the profiler):
//! what is wrong, the figure that shows it, and the change that fixes it.

use std::fmt::Write as _;

use serde::Serialize;

/// A problem found, the figure that shows it, and the change that fixes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// What is wrong.
    pub finding: String,
    /// The measured figure behind it.
    pub figure: String,
    /// What to do.
    pub change: String,
}

/// `advice` as a Markdown list, or `none` when there is nothing to say.
pub(crate) fn markdown_list(advice: &[Advice], none: &str) -> String {
    let mut out = String::new();
    if advice.is_empty() {
        let _ = writeln!(out, "{none}");
    }
    for a in advice {
        let _ = writeln!(
            out,
            "- {}: {}.\n  Change: {}.",
            a.finding, a.figure, a.change
        );
    }
    out
}
