//! Object-store plumbing shared by reads, writes and Delta tables: the
//! store behind a location, whether anything is there, removing it, and
//! store errors turned into ours.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use super::location::Location;
use crate::error::{Error, Result, redact_urls};
use crate::session::Session;

/// The session's object store for `loc` (local disk or the location's bucket).
pub(crate) fn open(session: &Session, loc: &Location) -> Result<Arc<dyn ObjectStore>> {
    session.object_store(&loc.store_url())
}

/// Whether anything is at `loc`: a file, a directory or objects under the prefix.
pub(crate) async fn exists(store: &Arc<dyn ObjectStore>, loc: &Location) -> Result<bool> {
    if let Some(path) = loc.local_path() {
        return Ok(path.exists());
    }
    let key = loc.object_path();
    match store.head(&key).await {
        Ok(_) => return Ok(true),
        Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(store_error(loc.as_str(), &e, true)),
    }
    let mut listing = store.list(Some(&key));
    match listing.next().await {
        Some(Err(e)) => Err(store_error(loc.as_str(), &e, true)),
        Some(Ok(_)) => Ok(true),
        None => Ok(false),
    }
}

/// Removes a file, a directory or every object under a prefix.
pub(crate) async fn remove(store: &Arc<dyn ObjectStore>, loc: &Location) -> Result<()> {
    if let Some(path) = loc.local_path() {
        let r = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else if path.exists() {
            std::fs::remove_file(&path)
        } else {
            Ok(())
        };
        return r.map_err(|e| Error::io(path.display(), e));
    }
    let key = loc.object_path();
    let mut paths: Vec<ObjectPath> = store
        .list(Some(&key))
        .map_ok(|m| m.location)
        .try_collect()
        .await
        .map_err(|e| store_error(loc.as_str(), &e, true))?;
    if store.head(&key).await.is_ok() {
        paths.push(key);
    }
    let stream = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
    store
        .delete_stream(stream)
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| store_error(loc.as_str(), &e, true))?;
    Ok(())
}

fn is_denied(text: &str) -> bool {
    [
        "403 Forbidden",
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// The endpoint an S3 request went to, when `text` (an object-store error)
/// says it got no answer: refused, reset or timed-out connections and names
/// that do not resolve.
fn unreachable_endpoint(text: &str) -> Option<&str> {
    const NO_ANSWER: [&str; 6] = [
        "error sending request",
        "Connection refused",
        "connection reset",
        "timed out",
        "dns error",
        "connection closed",
    ];
    if !NO_ANSWER.iter().any(|m| text.contains(m)) {
        return None;
    }
    let start = text.find("http://").or_else(|| text.find("https://"))?;
    let url = &text[start..];
    let host = url.find("://").map_or(0, |i| i + 3);
    let end = url[host..]
        .find(|c: char| c == '/' || c == '?' || c.is_whitespace())
        .map_or(url.len(), |i| host + i);
    Some(&url[..end])
}

/// `reason` (a storage failure) led by what it means when no S3 server
/// answered: the endpoint is unreachable.
pub(crate) fn with_unreachable(reason: String) -> String {
    match unreachable_endpoint(&reason) {
        Some(endpoint) => format!(
            "the S3 endpoint {endpoint} is unreachable (no server answered; check \
             storage.s3.endpoint and that the server is running): {reason}"
        ),
        None => reason,
    }
}

/// The address of a cloud machine's instance metadata service (credentials).
const INSTANCE_METADATA: &str = "169.254.169.254";

/// Turns an object-store error into ours, naming `location`. Messages never
/// carry the user information of the endpoint URL.
pub(crate) fn store_error(location: &str, err: &object_store::Error, writing: bool) -> Error {
    use object_store::Error as E;
    // S3 answers a LIST with bad keys by 403, which arrives as a generic error.
    let denied = match &err {
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => true,
        E::Generic { .. } => is_denied(&err.to_string()),
        _ => false,
    };
    let reason = match &err {
        E::NotFound { .. } if !writing => return Error::NotFound(location.to_string()),
        // With no keys configured, the client asks the instance metadata
        // service of a cloud machine, which is not there.
        _ if err.to_string().contains(INSTANCE_METADATA) => "no S3 credentials: none are \
            configured (storage.s3.access_key_id and storage.s3.secret_access_key, or \
            AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and no instance metadata service \
            answered"
            .to_string(),
        _ if denied => format!(
            "access denied; check storage.s3.access_key_id and storage.s3.secret_access_key ({err})"
        ),
        _ => with_unreachable(err.to_string()),
    };
    let reason = redact_urls(&reason);
    let location = location.to_string();
    if writing {
        Error::Write { location, reason }
    } else {
        Error::Read { location, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_credentials_are_said_so() {
        let err = object_store::Error::Generic {
            store: "S3",
            source: "Error performing PUT http://169.254.169.254/latest/api/token in 1ms - \
                     Server returned non-2xx status code: 403 Forbidden"
                .into(),
        };
        let e = store_error("s3://lake/x.parquet", &err, false).to_string();
        assert!(
            e.starts_with(
                "cannot read `s3://lake/x.parquet`: no S3 credentials: none are configured"
            ) && !e.contains("169.254"),
            "{e}"
        );
    }
}
