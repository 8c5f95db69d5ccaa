//! The crate's error type.

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;

/// Everything that can go wrong in ScoreLake. Messages name the file, column
/// or key involved and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration key or value is wrong; the message names the key and its source.
    #[error("{0}")]
    Config(String),
    /// A URL that cannot be used as a data location.
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file, directory or object that should exist does not.
    #[error("`{0}` does not exist")]
    NotFound(String),
    /// An output that exists already and must not be replaced.
    #[error("`{0}` exists already (choose another output or overwrite it)")]
    AlreadyExists(String),
    /// Data that cannot be read as what it claims to be.
    #[error("cannot read `{location}`: {reason}")]
    Read {
        /// File, directory or object.
        location: String,
        /// What went wrong.
        reason: String,
    },
    /// A write that failed; nothing that looks complete was left behind.
    #[error("cannot write `{location}`: {reason}")]
    Write {
        /// Target of the write.
        location: String,
        /// What went wrong.
        reason: String,
    },
    /// A Delta table that cannot be read, written or maintained as asked.
    #[error("Delta table `{table}`{}: {reason}", version.map(|v| format!(" (version {v})")).unwrap_or_default())]
    Delta {
        /// The table's location as given.
        table: String,
        /// The version concerned, when one is.
        version: Option<u64>,
        /// What went wrong.
        reason: String,
    },
    /// An MLflow tracking server that cannot be reached or refuses a request.
    #[error("MLflow tracking server {server}: {reason}")]
    Tracking {
        /// The server's URL, credentials left out.
        server: String,
        /// What failed.
        reason: String,
    },
    /// A column the input does not have, with the closest name and the ones it has.
    #[error(
        "{role} `{name}` is not in the input{}; it has {}",
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(),
        available.join(", ")
    )]
    UnknownColumn {
        /// What the column was for (`target column`, `weight column`, …).
        role: String,
        /// The name as given.
        name: String,
        /// The closest available name, when one is close.
        suggestion: Option<String>,
        /// Every column of the input.
        available: Vec<String>,
    },
    /// An option outside the values it may take.
    #[error("{context}: `{option}` must be {expected}, got {got}")]
    OutOfRange {
        /// What the option is for (`sample`, …).
        context: String,
        /// The option's name in the library's options struct (`customers`).
        option: String,
        /// The values it may take.
        expected: String,
        /// The value given.
        got: String,
    },
    /// An error one change of options gets past ([`Error::remedy`] names it).
    #[error("{error}")]
    Refused {
        /// What went wrong.
        error: Box<Error>,
        /// The change that gets past it.
        remedy: Remedy,
    },
    /// Invalid arguments or input data.
    #[error("{0}")]
    InvalidInput(String),
    /// An error from the query engine. Its message leaves out the data
    /// values the engine quotes (a CSV value that does not parse and its
    /// whole row, a string that does not cast): errors end up in logs.
    #[error("{}", engine_message(.0))]
    Engine(#[from] DataFusionError),
    /// An error from Arrow (building or formatting record batches).
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// An operating-system I/O error with the path it concerns.
    #[error("{}", io_message(path, source))]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// An I/O error on `path` in plain words: a missing file "does not exist",
/// as the other errors say; others as the system says, without its number.
fn io_message(path: &str, source: &std::io::Error) -> String {
    match source.kind() {
        std::io::ErrorKind::NotFound => format!("`{path}` does not exist"),
        std::io::ErrorKind::PermissionDenied => format!("{path}: permission denied"),
        _ => {
            let text = source.to_string();
            let plain = match text.find(" (os error ") {
                Some(i) => &text[..i],
                None => &text,
            };
            format!("{path}: {plain}")
        }
    }
}

/// The candidate closest to `name` when it is close enough to be a likely
/// misspelling (Jaro–Winkler similarity above 0.8), for "did you mean" hints.
///
/// ```
/// use scorelake::error::closest;
/// assert_eq!(closest("balanse", ["balance", "payment"]), Some("balance"));
/// assert_eq!(closest("zzz", ["balance", "payment"]), None);
/// ```
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The message of an engine error: one of ours that the engine carried is
/// shown as itself (not wrapped and repeated), anything else without the data
/// values it quotes.
pub(crate) fn engine_message(e: &DataFusionError) -> String {
    if let DataFusionError::External(inner) = e.find_root()
        && let Some(ours) = inner.downcast_ref::<Error>()
    {
        return ours.to_string();
    }
    match e.find_root() {
        DataFusionError::ResourcesExhausted(text) => {
            if let Some(message) = out_of_memory(text) {
                return message;
            }
        }
        // The engine's own operators (ours among them) explain themselves;
        // the kind of error is noise.
        DataFusionError::Execution(text) => {
            let text = cluster_task_error(text).unwrap_or_else(|| text.clone());
            return redact_urls(&without_data(&text));
        }
        DataFusionError::SchemaError(schema, _) => {
            if let SchemaError::FieldNotFound {
                field,
                valid_fields,
            } = schema.as_ref()
            {
                return no_such_column(&field.name, valid_fields.iter().map(|c| c.name.as_str()));
            }
        }
        _ => {}
    }
    redact_urls(&without_data(&with_our_keys(&e.strip_backtrace())))
}

/// What a cluster's task reported, from the cluster's account of a failed
/// job, which quotes the task's error in its debug form: the innermost
/// message, unquoted. `None` when `text` is not such an account.
///
/// ```
/// # use scorelake::error::cluster_task_error;
/// let text = r#"Job 038J failed: Job failed due to stage 2 failed: Task failed due to runtime execution error: DataFusionError(Shared(External(DataFusionError(Execution("column `x` has \"bad\" values")))))"#;
/// assert_eq!(cluster_task_error(text).unwrap(), r#"column `x` has "bad" values"#);
/// assert_eq!(cluster_task_error("column `x` has bad values"), None);
/// ```
pub fn cluster_task_error(text: &str) -> Option<String> {
    let detail = &text[text.find("Task failed due to ")?..];
    // In the debug form a quote inside the message is escaped, so the last
    // `("` opens the innermost message.
    let start = detail.rfind("(\"")? + 2;
    let mut message = String::new();
    let mut chars = detail[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => message.push('\n'),
                't' => message.push('\t'),
                other => message.push(other),
            },
            '"' => return Some(message),
            c => message.push(c),
        }
    }
    None
}

/// "column `x` is not in the query's tables" in one line, with the closest
/// name and the names there are (each once, without table qualifiers).
fn no_such_column<'a>(name: &str, available: impl Iterator<Item = &'a str>) -> String {
    let mut names: Vec<&str> = Vec::new();
    for n in available {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let hint = closest(name, names.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    format!(
        "column `{name}` is not in the query's tables{hint}; they have {}",
        names.join(", ")
    )
}

/// `text` with the engine's memory hint in ScoreLake's own settings.
fn with_our_keys(text: &str) -> String {
    text.replace(
        "Consider increasing the memory limit config: 'datafusion.runtime.memory_limit', \
         or decreasing the config: 'datafusion.execution.sort_spill_reservation_bytes'.",
        "Raise engine.memory_limit or lower engine.sort_spill_reservation or \
         engine.spill_merge_fan_in.",
    )
}

/// The engine's report of a failed allocation in one line: which operator
/// wanted how much more, what was left of the limit, the largest users, and
/// which settings to change. `None` when `text` is not such a report.
///
/// ```
/// # use scorelake::error::out_of_memory;
/// let text = "Additional allocation failed for ParquetSink(ArrowColumnWriter) with top memory consumers (across reservations) as:
///   ExternalSorterMerge[1]#10(can spill: false) consumed 7.1 MB, peak 7.1 MB,
///   ParquetSink(SerializedFileWriter)#15(can spill: false) consumed 645.3 KB, peak 1075.6 KB.
/// Error: Failed to allocate additional 128.0 KB for ParquetSink(ArrowColumnWriter) with 128.4 KB already allocated for this reservation - 59.7 KB remain available for the total memory pool: fair(pool_size: 20.0 MB)";
/// assert_eq!(
///     out_of_memory(text).unwrap(),
///     "out of memory: ParquetSink(ArrowColumnWriter) wanted 128.0 KB more with 59.7 KB \
///      of engine.memory_limit (20.0 MB) left (largest users: ExternalSorterMerge[1] 7.1 MB, \
///      ParquetSink(SerializedFileWriter) 645.3 KB); raise engine.memory_limit, or lower \
///      engine.target_partitions to run fewer operators at once"
/// );
/// assert_eq!(out_of_memory("something else"), None);
/// ```
pub fn out_of_memory(text: &str) -> Option<String> {
    let between = |text: &str, open: &str, close: &str| -> Option<String> {
        let start = text.find(open)? + open.len();
        let len = text[start..].find(close)?;
        Some(text[start..start + len].trim().to_string())
    };
    let failed = &text[text.find("Failed to allocate additional ")?..];
    let wanted = between(failed, "additional ", " for ")?;
    let operator = between(failed, " for ", " with ")?;
    let left = between(failed, "reservation - ", " remain available")?;
    let limit = between(failed, "pool_size: ", ")")
        .map(|size| format!(" ({size})"))
        .unwrap_or_default();
    let users: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.trim().split_once('#')?;
            let used = between(rest, "consumed ", ",")?;
            Some(format!("{name} {used}"))
        })
        .take(3)
        .collect();
    let users = if users.is_empty() {
        String::new()
    } else {
        format!(" (largest users: {})", users.join(", "))
    };
    Some(format!(
        "out of memory: {operator} wanted {wanted} more with {left} of \
         engine.memory_limit{limit} left{users}; raise engine.memory_limit, or lower \
         engine.target_partitions to run fewer operators at once"
    ))
}

/// `text` without the data values Arrow's CSV reader and casts quote:
/// `parsing value 'x' … Row data: '[…]'` and `Cannot cast string 'x'`. The
/// file, line, column and expected type stay.
///
/// ```
/// # use scorelake::error::without_data;
/// let e = "Error while parsing value 'n/a' as type 'Float64' for column 2 at line 7. Row data: '[7,Ann,n/a]'";
/// assert_eq!(without_data(e), "Error while parsing a value as type 'Float64' for column 2 at line 7");
/// assert_eq!(without_data("Cannot cast string 'Ann' to value of Int32 type"), "Cannot cast a string to value of Int32 type");
/// ```
pub fn without_data(text: &str) -> String {
    let text = cut_between(text, ". Row data: '[", "]'", "");
    let text = cut_between(
        &text,
        "parsing value '",
        "' as type",
        "parsing a value as type",
    );
    cut_between(
        &text,
        "Cannot cast string '",
        "' to value",
        "Cannot cast a string to value",
    )
}

/// `text` with every span from `open` to the next `close` (both included)
/// replaced by `with`.
fn cut_between(text: &str, open: &str, close: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let Some(len) = rest[start + open.len()..].find(close) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(with);
        rest = &rest[start + open.len() + len + close.len()..];
    }
    out.push_str(rest);
    out
}

/// What credentials are replaced by.
pub(crate) const MASK: &str = "****";

/// Characters that end the authority part of a URL inside running text.
const AUTHORITY_END: &[char] = &[
    '/', '?', '#', '`', '\'', '"', ')', ']', '>', ',', ';', ' ', '\t', '\n',
];

/// `text` with each XML error body an S3-compatible store returned (which
/// object stores quote whole) shortened to its code and message.
///
/// ```
/// use scorelake::error::without_xml_bodies;
/// let raw = "GET http://127.0.0.1:8333/lake?list-type=2 - 404 Not Found: <?xml version=\"1.0\" \
///     encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does \
///     not exist</Message><Resource>/lake</Resource><RequestId>18ED6</RequestId></Error>";
/// assert_eq!(
///     without_xml_bodies(raw),
///     "GET http://127.0.0.1:8333/lake?list-type=2 - 404 Not Found: NoSuchBucket (The specified bucket does not exist)"
/// );
/// assert_eq!(without_xml_bodies("no body here"), "no body here");
/// ```
pub fn without_xml_bodies(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<?xml").or_else(|| rest.find("<Error>")) {
        let Some(len) = rest[start..].find("</Error>") else {
            break;
        };
        let body = &rest[start..start + len];
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let from = body.find(&open)? + open.len();
            let to = from + body[from..].find(&format!("</{name}>"))?;
            Some(
                body[from..to]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        };
        out.push_str(&rest[..start]);
        match (tag("Code"), tag("Message")) {
            (Some(code), Some(message)) => out.push_str(&format!("{code} ({message})")),
            (Some(code), None) => out.push_str(&code),
            _ => out.push_str("(an XML error body)"),
        }
        rest = &rest[start + len + "</Error>".len()..];
    }
    out.push_str(rest);
    out
}

/// `text` with the user information of every URL in it replaced by `****`
/// (`http://u:secret@host/x` → `http://****@host/x`).
///
/// ```
/// use scorelake::error::redact_urls;
/// assert_eq!(
///     redact_urls("GET http://u:s3cr3t@127.0.0.1:9/lake?list-type=2 failed"),
///     "GET http://****@127.0.0.1:9/lake?list-type=2 failed"
/// );
/// assert_eq!(redact_urls("s3://lake/t"), "s3://lake/t");
/// ```
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(AUTHORITY_END).unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            out.push_str(MASK);
            rest = &rest[at..];
        }
    }
    out.push_str(rest);
    out
}

/// An [`Error::InvalidInput`] from a format string, in the spirit of
/// DataFusion's `plan_datafusion_err!`.
macro_rules! invalid {
    ($($arg:tt)*) => {
        $crate::error::Error::InvalidInput(format!($($arg)*))
    };
}

/// `Err(`[`invalid!`]`(…))`: `return invalid_err!("column `{c}` …")`.
macro_rules! invalid_err {
    ($($arg:tt)*) => {
        Err($crate::error::invalid!($($arg)*))
    };
}

/// Returns an [`Error::InvalidInput`] unless the condition holds, as
/// Polars' `polars_ensure!`: `ensure!(k >= 1, "folds must be at least 1")`.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return $crate::error::invalid_err!($($arg)*);
        }
    };
}

pub(crate) use {ensure, invalid, invalid_err};

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a caller can change to get past an error. Front ends name it in
/// their own terms (the command line as a flag): library messages speak of
/// options, never of flags.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remedy {
    /// Set the named option of the options struct to another value.
    Option(String),
    /// Merge the schemas of the data and the table (`merge_schema`).
    MergeSchema,
    /// Accept a retention shorter than the table's (`enforce_retention: false`).
    ShortRetention,
    /// Write the output as a Delta table (`Format::Delta`).
    WriteDelta,
    /// Append without a partitioning of its own: the table's is kept.
    KeepPartitioning,
}

impl Error {
    /// What the caller can change to get past this error, when one change would.
    ///
    /// ```
    /// use scorelake::error::{Error, Remedy};
    /// let e = Error::OutOfRange {
    ///     context: "sample".into(),
    ///     option: "customers".into(),
    ///     expected: "at least 1".into(),
    ///     got: "0".into(),
    /// };
    /// assert_eq!(e.remedy(), Some(Remedy::Option("customers".into())));
    /// ```
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Error::OutOfRange { option, .. } => Some(Remedy::Option(option.clone())),
            Error::Refused { remedy, .. } => Some(remedy.clone()),
            _ => None,
        }
    }

    /// This error, marked as one that `remedy` gets past.
    pub fn refused(self, remedy: Remedy) -> Self {
        Error::Refused {
            error: Box::new(self),
            remedy,
        }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }
}
