//! Every `scorelake …` line of the README, the docs and the `--help`
//! examples parses with today's flags, so none of them can drift.

use clap::{CommandFactory, Parser};

use crate::args::Cli;

/// The shell blocks (```sh / ```bash) of a Markdown text, continuation
/// lines joined, comments and prompts dropped.
fn shell_lines(markdown: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_shell = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        if let Some(lang) = line.strip_prefix("```") {
            in_shell = !in_shell && matches!(lang.trim(), "sh" | "bash" | "shell");
            continue;
        }
        if !in_shell {
            continue;
        }
        let code = strip_comment(line);
        match code.trim_end().strip_suffix('\\') {
            Some(start) => pending.push_str(start),
            None => {
                pending.push_str(code.trim_end());
                lines.push(std::mem::take(&mut pending).trim().to_string());
            }
        }
    }
    lines
}

/// `line` without a trailing `# comment` (outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if i == 0 || line[..i].ends_with(' ') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Splits a command line into words: quotes group and are removed.
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quote, mut started) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => (quote, started) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            _ => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

/// The `scorelake` invocations in `lines` (one per line; a trailing `&`
/// and `VAR=value` prefixes dropped).
fn invocations(lines: &[String]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| words(l.trim_end_matches('&').trim()))
        .filter_map(|w| {
            let at = w.iter().position(|x| !x.contains('='))?;
            (w[at] == "scorelake").then(|| w[at..].to_vec())
        })
        .collect()
}

fn check(source: &str, commands: &[Vec<String>]) -> Vec<String> {
    commands
        .iter()
        .filter_map(|args| match Cli::try_parse_from(args) {
            Ok(_) => None,
            Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => None,
            Err(e) if e.kind() == clap::error::ErrorKind::DisplayVersion => None,
            Err(e) => Some(format!("{source}: `{}`: {}", args.join(" "), e.render())),
        })
        .collect()
}

#[test]
fn documented_commands_parse() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut pages = vec![format!("{root}/README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(format!("{root}/docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.display().to_string())
        .collect();
    docs.sort();
    pages.extend(docs);
    let (mut failures, mut seen) = (Vec::new(), 0);
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let commands = invocations(&shell_lines(&text));
        seen += commands.len();
        failures.extend(check(page, &commands));
    }
    assert!(seen > 60, "only {seen} documented commands found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn help_examples_parse() {
    let cli = Cli::command();
    let mut failures = Vec::new();
    let mut seen = 0;
    let mut commands: Vec<&clap::Command> = vec![&cli];
    while let Some(command) = commands.pop() {
        commands.extend(command.get_subcommands());
        let Some(help) = command.get_after_help() else {
            continue;
        };
        let lines: Vec<String> = help
            .to_string()
            .lines()
            .map(|l| strip_comment(l).trim().to_string())
            .collect();
        let examples = invocations(&lines);
        seen += examples.len();
        failures.extend(check(
            &format!("`{}` --help", command.get_name()),
            &examples,
        ));
    }
    assert!(seen > 20, "only {seen} help examples found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shell_lines_join_continuations_and_drop_comments() {
    let md = "text\n```sh\nscorelake sql 'a # b' \\\n  --format csv   # note\n# only a comment\n```\n```toml\nscorelake = 1\n```\n";
    let lines = shell_lines(md);
    assert_eq!(lines, ["scorelake sql 'a # b'   --format csv", ""]);
    assert_eq!(
        invocations(&lines),
        [vec!["scorelake", "sql", "a # b", "--format", "csv"]]
    );
    assert_eq!(
        words("A=1 scorelake \"x y\" z"),
        ["A=1", "scorelake", "x y", "z"]
    );
}
