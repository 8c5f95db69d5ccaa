//! Library errors as Python exceptions, with configured secrets masked.

use pyo3::PyErr;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use scorelake::config::{Config, ConfigValue};

create_exception!(
    scorelake,
    ScoreLakeError,
    PyException,
    "An error from ScoreLake: bad input (naming the file, column or key and what was expected), a refused operation or a failure of the engine or the store."
);

/// `error` as a `ScoreLakeError` carrying the library's message, with the
/// credentials of `config` (when known) masked.
pub(crate) fn to_py(error: impl std::fmt::Display, config: Option<&Config>) -> PyErr {
    let text = scorelake::error::without_xml_bodies(&error.to_string());
    let text = match config {
        Some(c) => c.redact(&text),
        None => text,
    };
    ScoreLakeError::new_err(text)
}

/// Maps a library result to a Python one.
pub(crate) trait OrPy<T> {
    /// The value, or the error as a `ScoreLakeError`.
    fn or_py(self) -> pyo3::PyResult<T>;
}

impl<T, E: std::fmt::Display> OrPy<T> for Result<T, E> {
    fn or_py(self) -> pyo3::PyResult<T> {
        self.map_err(|e| to_py(e, None))
    }
}

/// `text` parsed as a configuration word (`parquet`, …), or an error naming
/// `what` and the accepted words.
pub(crate) fn word<T: ConfigValue>(what: &str, text: &str) -> pyo3::PyResult<T> {
    T::parse_value(text).ok_or_else(|| {
        ScoreLakeError::new_err(format!("{what}: expected {}, got `{text}`", T::expected()))
    })
}
