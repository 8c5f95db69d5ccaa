//! Keeping credentials out of text shown to people: the values of the secret
//! keys and the user information (`user:password@`) of URLs, such as an
//! endpoint written `http://user:password@host`.

use super::Config;
use crate::error::{MASK, redact_urls};

impl Config {
    /// `text` with this configuration's credentials replaced by `****`: the
    /// values of `storage.s3.access_key_id`, `secret_access_key` and
    /// `session_token` and the user information of the endpoint, wherever
    /// they appear, and the user information of any URL. Values shorter than
    /// four characters are no real credentials and are left alone, so that
    /// the text stays readable.
    ///
    /// ```
    /// use scorelake::config::ConfigBuilder;
    /// let c = ConfigBuilder::new()
    ///     .set("storage.s3.access_key_id", "AKIA-EXAMPLE", "test")?
    ///     .set("storage.s3.endpoint", "http://me:pw1234@minio:9000", "test")?
    ///     .build()?;
    /// assert_eq!(
    ///     c.redact("key_id: \"AKIA-EXAMPLE\", pool (\"http\", me:pw1234@minio:9000)"),
    ///     "key_id: \"****\", pool (\"http\", ****@minio:9000)"
    /// );
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn redact(&self, text: &str) -> String {
        let s3 = &self.s3;
        let userinfo = s3.endpoint.as_deref().and_then(|e| {
            let authority = e.split_once("://")?.1;
            let authority = &authority[..authority.find('/').unwrap_or(authority.len())];
            Some(authority.rsplit_once('@')?.0)
        });
        let secrets = [
            s3.access_key_id.as_ref().map(|s| s.expose()),
            s3.secret_access_key.as_ref().map(|s| s.expose()),
            s3.session_token.as_ref().map(|s| s.expose()),
            userinfo,
        ];
        let mut text = redact_urls(text);
        for secret in secrets.into_iter().flatten().filter(|s| s.len() >= 4) {
            text = text.replace(secret, MASK);
        }
        text
    }
}
