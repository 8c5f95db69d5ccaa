//! Where data lives: a local path, a `file://` URL or an `s3://bucket/key` URL,
//! optionally marked as a Delta table with a `delta://` prefix.

use std::fmt;
use std::path::{Path, PathBuf};

use object_store::path::Path as ObjectPath;
use url::Url;

use crate::config::Format;
use crate::error::{Error, Result};

/// A parsed data location.
///
/// ```
/// use scorelake::io::Location;
/// let s3 = Location::parse("s3://lake/panel/part-0.parquet")?;
/// assert!(s3.is_s3());
/// assert_eq!(s3.object_path().as_ref(), "panel/part-0.parquet");
/// assert_eq!(s3.store_url().as_str(), "s3://lake/");
///
/// let local = Location::parse("/tmp/panel.csv")?;
/// assert_eq!(local.local_path().unwrap().to_str(), Some("/tmp/panel.csv"));
/// assert!(Location::parse("ftp://x/y").is_err());
///
/// // `delta://` marks a Delta table: `delta:///abs/path`, `delta://rel/path`,
/// // `delta://s3://bucket/table` or `delta+s3://bucket/table`.
/// let table = Location::parse("delta+s3://lake/accounts")?;
/// assert!(table.is_delta_url() && table.is_s3());
/// assert_eq!(table.url().as_str(), "s3://lake/accounts");
/// # Ok::<(), scorelake::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    url: Url,
    original: String,
    delta: bool,
}

impl Location {
    /// Parses a plain path (relative to the current directory), `file://` or
    /// `s3://` URL, each optionally prefixed `delta://` (or `delta+s3://`,
    /// `delta+file://`) to mark a Delta table.
    pub fn parse(text: &str) -> Result<Self> {
        if let Some(inner) = strip_delta_prefix(text) {
            let mut loc = Self::parse_plain(&inner).map_err(|e| match e {
                Error::InvalidUrl { reason, .. } => Error::InvalidUrl {
                    url: text.to_string(),
                    reason,
                },
                other => other,
            })?;
            loc.original = text.to_string();
            loc.delta = true;
            return Ok(loc);
        }
        Self::parse_plain(text)
    }

    fn parse_plain(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidUrl {
            url: text.to_string(),
            reason: reason.to_string(),
        };
        if text.trim().is_empty() {
            return Err(bad("empty location"));
        }
        let scheme = text.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        let url = match scheme.as_deref() {
            Some("s3" | "s3a") => {
                let url = Url::parse(text).map_err(|e| bad(&e.to_string()))?;
                let bucket = url.host_str().unwrap_or_default();
                if !valid_bucket(bucket) {
                    return Err(bad(
                        "expected s3://bucket/key with a bucket name of 3-63 lower-case letters, digits, dots or hyphens",
                    ));
                }
                if url.query().is_some() || url.fragment().is_some() {
                    return Err(bad("S3 locations take no query or fragment"));
                }
                url
            }
            Some("file") => {
                let url = Url::parse(text).map_err(|e| bad(&e.to_string()))?;
                if url.to_file_path().is_err() {
                    return Err(bad("expected file:///absolute/path"));
                }
                url
            }
            Some(other) => {
                return Err(bad(&format!(
                    "unsupported scheme `{other}://`; expected a path, file:// or s3://"
                )));
            }
            None => {
                let path = std::path::absolute(text).map_err(|e| bad(&e.to_string()))?;
                let dir = text.ends_with('/');
                let mut url = if dir {
                    Url::from_directory_path(&path)
                } else {
                    Url::from_file_path(&path)
                }
                .map_err(|()| bad("not a usable path"))?;
                if dir && !url.path().ends_with('/') {
                    url.set_path(&format!("{}/", url.path()));
                }
                url
            }
        };
        Ok(Location {
            url,
            original: text.to_string(),
            delta: false,
        })
    }

    /// Whether the location was written with a `delta://` prefix.
    pub fn is_delta_url(&self) -> bool {
        self.delta
    }

    /// The location as the user wrote it (safe to show: it never holds keys).
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The full URL (`file:///…` or `s3://bucket/…`).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Whether this is an S3 location.
    pub fn is_s3(&self) -> bool {
        matches!(self.url.scheme(), "s3" | "s3a")
    }

    /// The local filesystem path, for `file://` locations.
    pub fn local_path(&self) -> Option<PathBuf> {
        (self.url.scheme() == "file")
            .then(|| self.url.to_file_path().ok())
            .flatten()
    }

    /// The URL of the store holding this location: `file:///` or `s3://bucket/`.
    pub fn store_url(&self) -> Url {
        let mut root = self.url.clone();
        root.set_path("/");
        root
    }

    /// The key of this location inside its store.
    pub fn object_path(&self) -> ObjectPath {
        ObjectPath::from_url_path(self.url.path().trim_matches('/'))
            .unwrap_or_else(|_| ObjectPath::from(self.url.path().trim_matches('/')))
    }

    /// The last path segment, e.g. `panel.parquet`.
    pub fn file_name(&self) -> &str {
        self.url
            .path()
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
    }

    /// Whether the location was written as a directory (trailing `/`).
    pub fn is_dir_syntax(&self) -> bool {
        self.url.path().ends_with('/')
    }

    /// The format implied by the file extension, if any.
    pub fn format_from_extension(&self) -> Option<Format> {
        format_of_name(self.file_name())
    }

    /// A sibling location named `name` (same parent directory or prefix).
    pub fn sibling(&self, name: &str) -> Location {
        let mut url = self.url.clone();
        let path = url.path().trim_end_matches('/').to_string();
        let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
        url.set_path(&format!("{parent}/{name}"));
        let original = url.to_string();
        Location {
            url,
            original,
            delta: false,
        }
    }

    /// The location with a trailing `/`, as a directory.
    pub fn as_dir(&self) -> Location {
        let mut url = self.url.clone();
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        Location {
            url,
            original: self.original.clone(),
            delta: self.delta,
        }
    }
}

/// What the io functions take as a location: a [`Location`] (owned or
/// borrowed), or its text (a path or URL), parsed on use.
///
/// Every public function of [`io`](crate::io) takes `impl IntoLocation`, so
/// a caller holding text passes it as it is, and one holding a parsed
/// [`Location`] does not turn it back into text.
///
/// ```
/// use scorelake::io::{IntoLocation, Location};
/// let parsed = Location::parse("s3://lake/panel")?;
/// assert_eq!("s3://lake/panel".into_location()?, parsed);
/// assert_eq!((&parsed).into_location()?, parsed);
/// assert!("ftp://x/y".into_location().is_err());
/// # Ok::<(), scorelake::Error>(())
/// ```
pub trait IntoLocation {
    /// The location, parsed if it is text.
    fn into_location(self) -> Result<Location>;
}

impl IntoLocation for Location {
    fn into_location(self) -> Result<Location> {
        Ok(self)
    }
}

impl IntoLocation for &Location {
    fn into_location(self) -> Result<Location> {
        Ok(self.clone())
    }
}

/// Text: `&str`, `&String`, `&&str`, … (anything that reads as a `str`).
impl<S: AsRef<str> + ?Sized> IntoLocation for &S {
    fn into_location(self) -> Result<Location> {
        Location::parse(self.as_ref())
    }
}

impl IntoLocation for String {
    fn into_location(self) -> Result<Location> {
        Location::parse(&self)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// The format a file name's extension implies (`.parquet`, `.pq`, `.csv`, `.tsv`).
pub fn format_of_name(name: &str) -> Option<Format> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "parquet" | "pq" | "parq" => Some(Format::Parquet),
        "csv" | "tsv" => Some(Format::Csv),
        "ncf" => Some(Format::Ncf),
        _ => None,
    }
}

/// The location inside a `delta://…`, `delta+s3://…` or `delta+file://…` URL.
fn strip_delta_prefix(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    match scheme.to_ascii_lowercase().as_str() {
        "delta" if rest.contains("://") => Some(rest.to_string()),
        // delta:///abs/path keeps its leading slash; delta://rel/path is relative.
        "delta" => Some(rest.to_string()),
        "delta+s3" | "delta+s3a" | "delta+file" => {
            Some(format!("{}://{rest}", &scheme["delta+".len()..]))
        }
        _ => None,
    }
}

fn valid_bucket(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_supported_kinds() {
        let l = Location::parse("s3://my-bucket/a/b/").unwrap();
        assert!(l.is_s3() && l.is_dir_syntax());
        assert_eq!(l.object_path().as_ref(), "a/b");
        assert_eq!(l.file_name(), "b");
        let l = Location::parse("file:///tmp/x%20y.parquet").unwrap();
        assert_eq!(l.local_path().unwrap(), PathBuf::from("/tmp/x y.parquet"));
        assert_eq!(l.format_from_extension(), Some(Format::Parquet));
        let l = Location::parse("rel/dir/").unwrap();
        assert!(l.local_path().unwrap().is_absolute() && l.is_dir_syntax());
        assert_eq!(
            Location::parse("s3://b-1/t/x.csv")
                .unwrap()
                .sibling(".x.tmp")
                .url()
                .as_str(),
            "s3://b-1/t/.x.tmp"
        );
    }

    #[test]
    fn delta_prefixes_mark_tables() {
        for (text, url) in [
            ("delta:///data/t", "file:///data/t"),
            ("delta://s3://lake/t", "s3://lake/t"),
            ("delta+s3://lake/t/", "s3://lake/t/"),
            ("delta+file:///data/t", "file:///data/t"),
        ] {
            let l = Location::parse(text).unwrap();
            assert!(l.is_delta_url(), "{text}");
            assert_eq!(l.url().as_str(), url);
            assert_eq!(l.as_str(), text);
        }
        let rel = Location::parse("delta://tables/t").unwrap();
        assert!(rel.local_path().unwrap().ends_with("tables/t"));
        assert!(!Location::parse("/data/t").unwrap().is_delta_url());
    }

    #[test]
    fn rejects_bad_urls_with_reasons() {
        for (url, reason) in [
            ("s3://", "bucket"),
            ("s3://UPPER/key", "bucket"),
            ("s3://ab/key", "bucket"),
            ("gs://bucket/key", "unsupported scheme"),
            ("", "empty"),
            ("s3://bucket/key?x=1", "query"),
            ("delta://", "empty"),
            ("delta+gs://b/t", "unsupported scheme"),
        ] {
            let e = Location::parse(url).unwrap_err().to_string();
            assert!(e.contains(reason), "{url}: {e}");
        }
    }
}
