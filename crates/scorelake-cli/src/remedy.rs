//! Library errors that one change of flags would get past, and that change
//! in the command line's terms: the library names its options, the command
//! line names the flag.

use scorelake::error::{Error, Remedy};

use crate::dispatch::KEY_FLAGS;

/// The flag that gets past `e`, as a hint line, when the library says one
/// change would; else the flags of the settings `message` (`e`'s) names.
pub(crate) fn hint(e: &anyhow::Error, message: &str) -> Option<String> {
    let ours = e.chain().find_map(|c| c.downcast_ref::<Error>());
    let Some(remedy) = ours.and_then(Error::remedy) else {
        // A configuration mistake already says where the value came from.
        return match ours {
            Some(Error::Config(_)) => None,
            _ => flags_of_keys(message),
        };
    };
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

/// "engine.memory_limit is --memory-limit" for each setting with a flag
/// that `message` names without naming the flag.
fn flags_of_keys(message: &str) -> Option<String> {
    let named: Vec<String> = KEY_FLAGS
        .iter()
        .filter(|(key, flag)| message.contains(key) && !message.contains(flag))
        .map(|(key, flag)| format!("{key} is {flag}"))
        .collect();
    (!named.is_empty()).then(|| format!("{} (or --set KEY=VALUE)", named.join(", ")))
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
        assert_eq!(
            hint(&e, "").as_deref(),
            Some("set it with --target-file-size")
        );
        assert_eq!(hint(&anyhow::anyhow!("other"), "other"), None);
        let text = "out of memory: …; raise engine.memory_limit, or lower engine.target_partitions";
        assert_eq!(
            hint(&anyhow::anyhow!("x"), text).as_deref(),
            Some(
                "engine.memory_limit is --memory-limit, engine.target_partitions is \
                 --target-partitions (or --set KEY=VALUE)"
            )
        );
        let text = "bad value for `engine.memory_limit` (from flag --memory-limit)";
        assert_eq!(hint(&anyhow::anyhow!("x"), text), None);
    }
}
