//! What a front end (the command line, the Python package) shows on
//! stderr: progress ([`Progress`]: bars on a terminal, plain lines in logs)
//! and logs with the configured credentials masked ([`logging`]).

pub mod logging;
mod meter;
mod progress;

pub use progress::{Progress, Stage};

/// `n` bytes in decimal units, as reports print sizes.
///
/// ```
/// use scorelake::console::human_bytes;
/// assert_eq!(human_bytes(999), "999 B");
/// assert_eq!(human_bytes(1_500_000_000), "1.5 GB");
/// ```
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
