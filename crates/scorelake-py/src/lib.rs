//! The `scorelake` Python package's native module, `scorelake._scorelake`.
//!
//! A thin layer over the library the command line uses: tables are lazy
//! DataFusion plans ([`table::Table`]) that Python reads through the Arrow
//! PyCapsule interface ([`arrow_io`]); every long call releases the GIL and
//! stops on Ctrl-C ([`runtime::wait`]); library errors become
//! `scorelake.ScoreLakeError` with the library's message ([`errors`]). The
//! Pythonic API, its docs and type stubs are in `python/scorelake/`.

// Python arguments arrive as owned values (`PathBuf`, `PyRef`), extracted by pyo3.
#![allow(clippy::needless_pass_by_value)]

mod arrow_io;
mod errors;
mod models;
mod quality;
mod runtime;
mod session;
mod table;

use pyo3::prelude::*;

/// The native module: classes and functions the Python layer wraps.
#[pymodule]
fn _scorelake(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ScoreLakeError", py.get_type::<errors::ScoreLakeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<session::PySession>()?;
    m.add_class::<session::RunTracker>()?;
    m.add_class::<table::Table>()?;
    m.add_class::<arrow_io::Batches>()?;
    m.add_class::<models::Features>()?;
    m.add_class::<models::Encoders>()?;
    m.add_class::<models::Binning>()?;
    m.add_class::<models::Scorecard>()?;
    m.add_function(wrap_pyfunction!(quality::validate, m)?)?;
    m.add_function(wrap_pyfunction!(quality::drift, m)?)?;
    m.add_function(wrap_pyfunction!(quality::drift_by_period, m)?)?;
    m.add_function(wrap_pyfunction!(models::run_pipeline, m)?)?;
    Ok(())
}
