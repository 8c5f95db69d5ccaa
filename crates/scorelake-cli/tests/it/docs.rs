//! The README runs as written: its tour top to bottom in a fresh folder,
//! with a local S3 server and a cluster (fewer customers, free ports), and
//! its configuration block is the example config file.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// The body of the first ```` ```lang ```` block after `heading`.
fn block_after(text: &str, heading: &str, lang: &str) -> String {
    let section = &text[text.find(heading).unwrap_or_else(|| panic!("no {heading}"))..];
    let fence = format!("```{lang}\n");
    let start = section.find(&fence).expect("a code block") + fence.len();
    let end = start + section[start..].find("```\n").expect("the block's end");
    section[start..end].to_string()
}

/// Copies `from` into `to`, following symbolic links (the examples link to
/// the assets the demo embeds).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Stops everything the tour started (its cluster, its S3 server), even
/// when it failed half-way: they share the shell's process group.
struct Group(i32);

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: signals a process group this test created.
        unsafe {
            libc::killpg(self.0, libc::SIGTERM);
        }
    }
}

#[test]
fn readme_tour_runs_top_to_bottom() {
    let repo = repo();
    let root = tempfile::tempdir().unwrap();
    // The layout the tour expects: examples/ and scripts/ beside its folder.
    copy_dir(&repo.join("examples"), &root.path().join("examples"));
    std::fs::create_dir_all(root.path().join("scripts")).unwrap();
    std::os::unix::fs::symlink(
        repo.join("scripts/local-s3.sh"),
        root.path().join("scripts/local-s3.sh"),
    )
    .unwrap();
    let tour_dir = root.path().join("tour");
    std::fs::create_dir_all(&tour_dir).unwrap();

    // As written, with fewer customers and ports that are free here.
    let scheduler = crate::ports::free_ports(3);
    let tour = block_after(&readme(), "## Tour", "sh")
        .replace("--customers 500000", "--customers 3000")
        .replace("127.0.0.1:50050", &format!("127.0.0.1:{scheduler}"))
        .replace("127.0.0.1:50051", &format!("127.0.0.1:{}", scheduler + 1));
    let script = root.path().join("tour.sh");
    std::fs::write(&script, format!("set -euo pipefail\n{tour}")).unwrap();

    let bin = Path::new(env!("CARGO_BIN_EXE_scorelake")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-x")
        .arg(&script)
        .current_dir(&tour_dir)
        .env("PATH", path)
        .env("LOCAL_S3_PORT", crate::ports::free_ports(11).to_string())
        .env("LOCAL_S3_DIR", root.path().join("s3"))
        .process_group(0);
    for (k, _) in std::env::vars() {
        if (k.starts_with("SCORELAKE") && k != "SCORELAKE_WEED") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    // Output to files: the servers it starts in the background would hold
    // pipes open after the script ends.
    let log = root.path().join("tour.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut child = cmd
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    let _group = Group(child.id() as i32);
    let status = child.wait().unwrap();
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: Vec<&str> = output.lines().rev().take(40).collect();
    assert!(
        status.success(),
        "the tour stopped ({status:?}); the last lines:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    for made in [
        "panel.ncf",
        "features.parquet",
        "test_enc.parquet",
        "report.json",
        "drift.html",
        "report.html",
        "scorecard/scorecard.json",
        "scored.parquet",
        "compressed.parquet",
        "features_cluster.parquet",
        "profile.html",
    ] {
        assert!(tour_dir.join(made).exists(), "the tour made no {made}");
    }
}

#[test]
fn readme_configuration_block_is_the_example_config() {
    let block = block_after(&readme(), "## Configuration", "toml");
    let file = std::fs::read_to_string(repo().join("examples/lake.toml")).unwrap();
    assert_eq!(block, file);
}
