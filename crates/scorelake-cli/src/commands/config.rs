//! `scorelake config`: the effective configuration, its keys, its Spark
//! equivalent.

use std::process::ExitCode;

use anyhow::Result;
use scorelake::config::Config;

use crate::args::ConfigCommand;
use crate::output::outln;

/// Prints what `cmd` asks about `config`.
pub(crate) async fn config(config: &Config, cmd: &ConfigCommand) -> Result<ExitCode> {
    match cmd {
        ConfigCommand::Show { json } => {
            let shown = config.show();
            // Which engine a command without inputs would run on, and why.
            let engine = scorelake::engine::choose(config, async { Ok(0) }).await?;
            let engine = format!("engine: {engine}");
            if *json {
                let rows: Vec<_> = shown
                    .iter()
                    .map(|k| {
                        serde_json::json!({
                            "key": k.key, "value": k.value, "source": k.source.to_string()
                        })
                    })
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                outln!("{engine}")?;
                match config.file() {
                    Some(path) => outln!("config file: {}", path.display())?,
                    None => outln!(
                        "config file: none (--config, $SCORELAKE_CONFIG, ./scorelake.toml, ./scorelake.yaml or ~/.config/scorelake/config.toml)"
                    )?,
                }
                let width = shown.iter().map(|k| k.key.len()).max().unwrap_or(0);
                let vwidth = shown
                    .iter()
                    .map(|k| k.value.len())
                    .max()
                    .unwrap_or(0)
                    .min(40);
                for k in shown {
                    outln!("{:<width$}  {:<vwidth$}  {}", k.key, k.value, k.source)?;
                }
            }
        }
        ConfigCommand::Keys { markdown } => {
            let defaults = Config::default().show();
            let default_of = |key: &str| {
                defaults
                    .iter()
                    .find(|k| k.key == key)
                    .map(|k| k.value.clone())
                    .unwrap_or_default()
            };
            if *markdown {
                outln!("| key | default | expects | what it does |\n|---|---|---|---|")?;
            }
            for k in scorelake::config::keys() {
                let (help, default) = (k.help.trim(), default_of(k.key));
                if *markdown {
                    outln!("| `{}` | {} | {} | {help} |", k.key, default, k.expected)?;
                } else {
                    outln!(
                        "{}\n    default: {default}\n    expects: {}\n    {help}",
                        k.key,
                        k.expected
                    )?;
                }
            }
        }
        ConfigCommand::Spark => {
            for (k, v) in config.to_spark_conf_redacted() {
                outln!("{k}={v}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
