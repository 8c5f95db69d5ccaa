//! The command line's own errors: a usage mistake found after parsing, and
//! stdout closed by its reader.

use std::fmt;

/// A usage mistake found after parsing (exit code 2).
#[derive(Debug)]
pub(crate) struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Stdout was closed by its reader (`scorelake … | head`): the command ends
/// quietly, as Unix tools do.
#[derive(Debug)]
pub(crate) struct StdoutClosed;

impl fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stdout closed")
    }
}

impl std::error::Error for StdoutClosed {}
