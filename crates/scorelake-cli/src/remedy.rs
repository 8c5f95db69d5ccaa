//! Library errors that one change of flags would get past, and that change
//! in the command line's terms: the library names its options, the command
//! line names the flag.

use scorelake::error::{Error, Remedy};

/// The flag that gets past `e`, as a hint line, when the library says one
/// change would.
pub(crate) fn hint(e: &anyhow::Error) -> Option<String> {
    let remedy = e
        .chain()
        .find_map(|c| c.downcast_ref::<Error>())
        .and_then(Error::remedy)?;
    Some(match remedy {
        Remedy::Option(option) => format!("set it with --{}", option.replace('_', "-")),
        Remedy::MergeSchema => "pass --merge-schema".into(),
        Remedy::ShortRetention => {
            "pass --force to vacuum with a shorter retention (time travel to older versions then fails)"
                .into()
        }
        Remedy::WriteDelta => "write it with --to delta, or remove it first".into(),
        Remedy::KeepPartitioning => "append without --partition-by".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_named_as_flags() {
        let e = anyhow::Error::new(Error::OutOfRange {
            context: "sample".into(),
            option: "target_file_size".into(),
            expected: "at least 1".into(),
            got: "0".into(),
        })
        .context("while sampling");
        assert_eq!(hint(&e).as_deref(), Some("set it with --target-file-size"));
        assert_eq!(hint(&anyhow::anyhow!("other")), None);
    }
}
