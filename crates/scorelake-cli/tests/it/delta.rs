//! `scorelake` with Delta tables: writes, time travel, history, maintenance, errors.

use super::{p, run, scorelake, sql};

/// The single number in `sql`'s result table.
fn count_of(stdout: &str) -> u64 {
    stdout
        .lines()
        .filter_map(|l| l.trim().trim_matches('|').trim().parse().ok())
        .next()
        .unwrap_or_else(|| panic!("no count in {stdout}"))
}

#[test]
fn delta_tables_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("accounts");
    let t = p(&table);
    let (panel, out) = super::sample_panel_with(dir.path(), 60, &["--months", "4"]);
    let rows = super::out_rows(&out);

    let (code, out, err) = run(scorelake().args([
        "convert",
        p(&panel),
        t,
        "--to",
        "delta",
        "--partition-by",
        "month",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("delta"), "{out}");
    // The table is found by its log; without --append it is not touched.
    let (code, _, err) = run(scorelake().args(["convert", p(&panel), t]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("exists already"), "{err}");
    let (code, _, err) = run(scorelake().args(["convert", p(&panel), t, "--append"]));
    assert_eq!(code, 0, "{err}");

    let count = |extra: &[&str]| {
        let mut c = scorelake();
        c.args([
            "sql",
            "SELECT count(*) AS n FROM t",
            "--table",
            &format!("t={t}"),
        ])
        .args(extra);
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "{extra:?}: {err}");
        count_of(&out)
    };
    assert_eq!(count(&[]), 2 * rows);
    assert_eq!(count(&["--version-as-of", "0"]), rows);

    let (code, out, err) = run(scorelake().args(["delta", "history", t, "--json"]));
    assert_eq!(code, 0, "{err}");
    let history: serde_json::Value = serde_json::from_str(&out).unwrap();
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["version"], 1);
    assert_eq!(history[0]["rows"], 2 * rows);
    let first_time = history[1]["timestamp"].as_str().unwrap().to_string();
    assert_eq!(count(&["--as-of", &first_time]), rows);
    let (code, out, _) = run(scorelake().args(["delta", "history", t]));
    assert_eq!(code, 0);
    assert!(out.contains("| 1 |") && out.contains("WRITE"), "{out}");

    let (code, out, err) =
        run(scorelake().args(["delta", "optimize", t, "--z-order", "customer_id"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("version 2") && out.contains("z-ordered by customer_id"),
        "{out}"
    );
    assert_eq!(count(&[]), 2 * rows);
    let (code, out, err) = run(scorelake().args(["delta", "stats", t, "--json"]));
    assert_eq!(code, 0, "{err}");
    let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["rows"], 2 * rows);
    assert_eq!(stats["partitions"], 4);
    let (code, out, err) =
        run(scorelake().args(["delta", "vacuum", t, "--retain", "0h", "--force"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("would be deleted"), "{out}");
    let (code, _, err) = run(scorelake().args(["delta", "vacuum", t, "--retain", "0h"]));
    assert_eq!(code, 1);
    assert!(err.contains("--force"), "{err}");

    // Features appended to a Delta table: each run is a version.
    let features = dir.path().join("features");
    let recipes = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/panel-features.yaml"
    );
    for _ in 0..2 {
        let (code, _, err) = run(scorelake().args([
            "features",
            "--recipes",
            recipes,
            "--input",
            p(&panel),
            "--output",
            p(&features),
            "--to",
            "delta",
            "--append",
        ]));
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, _) = run(scorelake().args(["delta", "history", p(&features), "--json"]));
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Bad input: names the table and the version.
    let (code, _, err) = run(scorelake().args([
        "sql",
        "SELECT 1 FROM t",
        "--table",
        &format!("t={t}"),
        "--version-as-of",
        "9",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("version 9") && err.contains(t), "{err}");
    let (code, _, err) = run(scorelake().args([
        "sql",
        "SELECT 1 FROM t",
        "--table",
        &format!("t={t}"),
        "--as-of",
        "last week",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--as-of"), "{err}");
    let (code, _, err) = run(scorelake().args(["delta", "history", p(&panel)]));
    assert_eq!(code, 1);
    assert!(err.contains("not a Delta table"), "{err}");
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    /// A `size` tmpfs at a new folder, or `None` (with the reason printed)
    /// when this process may not mount one.
    fn mount(size: &str) -> Option<(tempfile::TempDir, SmallDisk)> {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("disk");
        std::fs::create_dir(&at).unwrap();
        let mounted = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                p(&at),
            ])
            .output();
        match mounted {
            Ok(o) if o.status.success() => Some((dir, SmallDisk(at))),
            Ok(o) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs (needs root): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// A Delta write on a full disk fails with a clear error naming the table,
/// prints no panic, leaves no folder behind a failed create and keeps an
/// existing table as it was.
#[test]
fn delta_writes_on_a_full_disk_fail_cleanly() {
    let Some((dir, disk)) = SmallDisk::mount("1m") else {
        return;
    };
    let (panel, _) = super::sample_panel_with(dir.path(), 5000, &[]);
    let full = |err: &str, table: &str| {
        assert!(
            err.contains("disk is full") && err.contains(table) && !err.contains("panicked"),
            "{err}"
        );
    };
    let created = disk.0.join("created");
    let (code, _, err) =
        run(scorelake().args(["convert", p(&panel), p(&created), "--to", "delta"]));
    assert_eq!(code, 1, "{err}");
    full(&err, p(&created));
    assert!(!created.exists());
    let partitioned = disk.0.join("partitioned");
    let (code, _, err) = run(scorelake().args([
        "convert",
        p(&panel),
        p(&partitioned),
        "--to",
        "delta",
        "--partition-by",
        "month",
    ]));
    assert_eq!(code, 1, "{err}");
    full(&err, p(&partitioned));
    assert!(!partitioned.exists());

    let small_dir = tempfile::tempdir().unwrap();
    let (small, out) = super::sample_panel_with(small_dir.path(), 3, &[]);
    let rows = super::out_rows(&out);
    let table = disk.0.join("t");
    let t = p(&table);
    let (code, _, err) = run(scorelake().args(["convert", p(&small), t, "--to", "delta"]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(scorelake().args(["convert", p(&panel), t, "--append"]));
    assert_eq!(code, 1, "{err}");
    full(&err, t);
    assert_eq!(count_of(&sql("SELECT count(*) FROM t", &[("t", t)])), rows);
}

#[test]
fn history_names_the_mode_a_table_was_created_with() {
    let dir = tempfile::tempdir().unwrap();
    let (panel, _) = super::sample_panel_with(dir.path(), 20, &["--months", "2"]);
    for (flag, mode) in [("--append", "Append"), ("--overwrite", "Overwrite")] {
        let table = dir.path().join(flag.trim_start_matches('-'));
        let (code, _, err) =
            run(scorelake().args(["convert", p(&panel), p(&table), "--to", "delta", flag]));
        assert_eq!(code, 0, "{err}");
        let (code, history, err) = run(scorelake().args(["delta", "history", p(&table)]));
        assert_eq!(code, 0, "{err}");
        assert!(
            history.contains(&format!("mode={mode}")),
            "{flag}: {history}"
        );
    }
}
