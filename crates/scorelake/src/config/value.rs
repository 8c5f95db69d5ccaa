//! Typed configuration values and how they are parsed from text.
//!
//! Every layer (file, environment, flags) hands values over as text; each
//! typed value knows how to parse itself and what it expects, so errors can
//! say "expected a size like 512m or 4g".

use std::fmt;
use std::time::Duration;

/// A value that can be read from configuration text and shown again.
pub trait ConfigValue: Sized {
    /// What a valid value looks like, for error messages.
    fn expected() -> String;
    /// Parses the text of a value.
    fn parse_value(text: &str) -> Option<Self>;
    /// Renders the value the way it would be written in a config file.
    fn render(&self) -> String;
    /// Whether the value is a secret that must never be shown.
    const SECRET: bool = false;
}

/// A number of bytes, written as `512m`, `4g`, `1.5GiB` or a plain count.
///
/// Units are binary (k = 1024).
///
/// ```
/// use scorelake::config::ByteSize;
/// assert_eq!(ByteSize::parse("512m"), Some(ByteSize(512 * 1024 * 1024)));
/// assert_eq!(ByteSize::parse("1.5k"), Some(ByteSize(1536)));
/// assert_eq!(ByteSize::parse("4 gib"), Some(ByteSize(4 << 30)));
/// assert_eq!(ByteSize::parse("lots"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses a size string; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let (num, unit) = number_and_unit(text)?;
        let shift = match unit.as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            "t" | "tb" | "tib" => 40,
            _ => return None,
        };
        let bytes = num * (1u64 << shift) as f64;
        (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64)
            .then(|| ByteSize(bytes.round() as u64))
    }
}

/// Splits `"1.5 GiB"` into `(1.5, "gib")`.
fn number_and_unit(text: &str) -> Option<(f64, String)> {
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    Some((num.parse().ok()?, unit.trim().to_string()))
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u32); 4] = [("t", 40), ("g", 30), ("m", 20), ("k", 10)];
        for (unit, shift) in UNITS {
            let size = 1u64 << shift;
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}", self.0)
    }
}

impl ConfigValue for ByteSize {
    fn expected() -> String {
        "a size like 512m, 4g or 1048576 (bytes)".into()
    }
    fn parse_value(text: &str) -> Option<Self> {
        ByteSize::parse(text)
    }
    fn render(&self) -> String {
        self.to_string()
    }
}

impl ConfigValue for Duration {
    fn expected() -> String {
        "a duration like 500ms, 30s, 5m, 2h or 7d".into()
    }
    fn parse_value(text: &str) -> Option<Self> {
        let (num, unit) = number_and_unit(text)?;
        let secs = match unit.as_str() {
            "ms" => num / 1000.0,
            "" | "s" => num,
            "m" | "min" => num * 60.0,
            "h" => num * 3600.0,
            "d" => num * 86400.0,
            _ => return None,
        };
        Duration::try_from_secs_f64(secs).ok()
    }
    fn render(&self) -> String {
        let ms = self.as_millis();
        if !ms.is_multiple_of(1000) {
            format!("{ms}ms")
        } else if ms.is_multiple_of(3_600_000) && ms > 0 {
            format!("{}h", ms / 3_600_000)
        } else if ms.is_multiple_of(60_000) && ms > 0 {
            format!("{}m", ms / 60_000)
        } else {
            format!("{}s", ms / 1000)
        }
    }
}

impl ConfigValue for bool {
    fn expected() -> String {
        "true or false".into()
    }
    fn parse_value(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(true),
            "false" | "no" | "off" | "0" => Some(false),
            _ => None,
        }
    }
    fn render(&self) -> String {
        self.to_string()
    }
}

macro_rules! number_value {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl ConfigValue for $t {
            fn expected() -> String {
                $what.into()
            }
            fn parse_value(text: &str) -> Option<Self> {
                text.trim().replace('_', "").parse().ok()
            }
            fn render(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
number_value!(usize => "a whole number >= 0", u32 => "a whole number >= 0", i32 => "a whole number", f64 => "a number");

impl ConfigValue for String {
    fn expected() -> String {
        "text".into()
    }
    fn parse_value(text: &str) -> Option<Self> {
        Some(text.to_string())
    }
    fn render(&self) -> String {
        self.clone()
    }
}

/// An optional value: empty text (or `none`) means "not set".
impl<T: ConfigValue> ConfigValue for Option<T> {
    const SECRET: bool = T::SECRET;
    fn expected() -> String {
        format!("{}, or empty for none", T::expected())
    }
    fn parse_value(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("none") {
            Some(None)
        } else {
            T::parse_value(text).map(Some)
        }
    }
    fn render(&self) -> String {
        self.as_ref().map(T::render).unwrap_or_default()
    }
}

/// A secret (S3 keys, tokens): never shown by `Debug` or `Display`.
///
/// ```
/// use scorelake::config::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s} {s:?}"), "**** ****");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself, for handing to a client. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl ConfigValue for Secret {
    const SECRET: bool = true;
    fn expected() -> String {
        "text".into()
    }
    fn parse_value(text: &str) -> Option<Self> {
        Some(Secret(text.to_string()))
    }
    fn render(&self) -> String {
        "****".into()
    }
}

/// Declares a configuration enum whose values are written as lower-case words.
macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// The word this value is written as.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl ConfigValue for $name {
            fn expected() -> String {
                format!("one of {}", [$($word),+].join(", "))
            }
            fn parse_value(text: &str) -> Option<Self> {
                match text.trim().to_ascii_lowercase().as_str() {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
            fn render(&self) -> String {
                self.as_str().to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    /// What a column is (`roles.<column>`): commands leave identifiers,
    /// targets and weights out of validation and drift, and times out of
    /// drift, unless a column is named.
    ColumnRole {
        /// Names an entity or a row (`customer_id`).
        Identifier = "identifier",
        /// An outcome to predict (`default_flag`).
        Target = "target",
        /// A row weight.
        Weight = "weight",
        /// A date or period (`month`).
        Time = "time",
        /// A measure, whatever its name says.
        Measure = "measure",
    }
);

word_enum!(
    /// How the engine shares its memory limit between operators.
    PoolKind {
        /// Each spilling operator gets a fair share of the limit.
        Fair = "fair",
        /// First come, first served.
        Greedy = "greedy",
        /// No limit is enforced.
        Unbounded = "unbounded",
    }
);

word_enum!(
    /// Where cached intermediate results are kept (`engine.cache`).
    CacheLevel {
        /// Nothing is cached.
        Off = "off",
        /// In memory only; a result that does not fit is not cached.
        Memory = "memory",
        /// In memory while it fits, the rest in Arrow IPC files in the spill folder.
        MemoryAndDisk = "memory-and-disk",
        /// In Arrow IPC files in the spill folder.
        Disk = "disk",
    }
);

word_enum!(
    /// A table format.
    Format {
        /// Apache Parquet.
        Parquet = "parquet",
        /// Comma (or otherwise) separated text.
        Csv = "csv",
        /// NCF, ScoreLake's columnar format (`docs/ncf-format.md`).
        Ncf = "ncf",
        /// A Delta Lake table: Parquet files and a transaction log (`docs/delta.md`).
        Delta = "delta",
    }
);

word_enum!(
    /// How Delta commits are made safe on S3.
    S3Commit {
        /// Put-if-absent (`If-None-Match: *`), which AWS S3, MinIO, SeaweedFS and
        /// R2 honour; checked once per bucket before the first commit.
        ConditionalPut = "conditional_put",
        /// Plain puts, unchecked: only safe with one writer at a time.
        SingleWriter = "single_writer",
    }
);

word_enum!(
    /// A Parquet compression codec.
    Codec {
        /// No compression.
        None = "none",
        /// Snappy.
        Snappy = "snappy",
        /// Gzip (levels 0–9).
        Gzip = "gzip",
        /// LZ4 (raw).
        Lz4 = "lz4",
        /// Zstandard (levels 1–22).
        Zstd = "zstd",
    }
);

word_enum!(
    /// Where plans run.
    EngineKind {
        /// In-process DataFusion.
        Embedded = "embedded",
        /// The Ballista cluster at `ballista.url`.
        Ballista = "ballista",
        /// Ballista for inputs above `engine.auto_threshold`, else embedded.
        Auto = "auto",
    }
);

word_enum!(
    /// Log verbosity.
    LogLevel {
        /// Errors only.
        Error = "error",
        /// Warnings and errors.
        Warn = "warn",
        /// Progress information.
        Info = "info",
        /// Debugging detail.
        Debug = "debug",
        /// Everything.
        Trace = "trace",
    }
);

word_enum!(
    /// Log line format.
    LogFormat {
        /// Human-readable lines.
        Text = "text",
        /// One JSON object per line.
        Json = "json",
    }
);

word_enum!(
    /// When to show progress bars.
    ProgressMode {
        /// When stderr is a terminal.
        Auto = "auto",
        /// Always.
        Always = "always",
        /// Never.
        Never = "never",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(ByteSize::parse("0"), Some(ByteSize(0)));
        assert_eq!(ByteSize::parse("4g"), Some(ByteSize(4 << 30)));
        assert_eq!(ByteSize::parse("4GB"), Some(ByteSize(4 << 30)));
        assert_eq!(ByteSize::parse("10 MiB"), Some(ByteSize(10 << 20)));
        assert_eq!(ByteSize::parse("-1m"), None);
        assert_eq!(ByteSize::parse("12q"), None);
        assert_eq!(ByteSize::parse(""), None);
        for s in ["512m", "4g", "1k", "1000", "3t"] {
            assert_eq!(ByteSize::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn durations() {
        let d = |s| Duration::parse_value(s);
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(d("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(d("5m").unwrap().render(), "5m");
        assert_eq!(d("1.5s").unwrap().render(), "1500ms");
        assert_eq!(d("soon"), None);
    }

    #[test]
    fn words_and_options() {
        assert_eq!(Codec::parse_value("ZSTD"), Some(Codec::Zstd));
        assert_eq!(Codec::parse_value("brotli"), None);
        assert!(Codec::expected().contains("snappy"));
        assert_eq!(Option::<ByteSize>::parse_value(""), Some(None));
        assert_eq!(Option::<ByteSize>::parse_value("none"), Some(None));
        assert_eq!(
            Option::<ByteSize>::parse_value("1m"),
            Some(Some(ByteSize(1 << 20)))
        );
        assert_eq!(bool::parse_value("maybe"), None);
        assert_eq!(usize::parse_value("1_000"), Some(1000));
    }
}
