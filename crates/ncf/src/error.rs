//! The NCF error type.

/// What can go wrong reading or writing NCF. Messages say what is wrong and
/// where (row group, column).
#[derive(Debug, thiserror::Error)]
pub enum NcfError {
    /// The file is not NCF or is damaged; the message says where.
    #[error("corrupt NCF file: {0}")]
    Corrupt(String),
    /// A type, encoding, compression or version this implementation does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Data that does not fit the file's schema, or a bad argument.
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing the underlying file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// An Arrow error while building arrays.
    #[error("Arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// Result with [`NcfError`].
pub type Result<T, E = NcfError> = std::result::Result<T, E>;

pub(crate) fn corrupt(msg: impl Into<String>) -> NcfError {
    NcfError::Corrupt(msg.into())
}
