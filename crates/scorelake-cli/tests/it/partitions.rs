//! Hive-partitioned outputs through the commands: NULL partition values
//! survive `convert`, `sample` and `sql --output`, in every format.

use super::{p, run, sample_panel, scorelake, sql};

#[test]
fn null_partition_values_come_back_as_null() {
    let dir = tempfile::tempdir().unwrap();
    // 45 of the panel's rows have no num_inquiries.
    let panel = sample_panel(dir.path(), 200);
    let nulls = |table: &str| {
        sql(
            &format!("SELECT count(*) AS n FROM '{table}' WHERE num_inquiries IS NULL"),
            &[],
        )
    };
    assert!(nulls(p(&panel)).contains("| 45 "), "{}", nulls(p(&panel)));
    let same = |table: &str| {
        sql(
            &format!(
                "SELECT count(*) AS differ FROM (\
             (SELECT customer_id, month, num_inquiries FROM '{a}' \
              EXCEPT ALL SELECT customer_id, month, num_inquiries FROM '{table}') \
             UNION ALL \
             (SELECT customer_id, month, num_inquiries FROM '{table}' \
              EXCEPT ALL SELECT customer_id, month, num_inquiries FROM '{a}'))",
                a = p(&panel)
            ),
            &[],
        )
    };
    for format in ["parquet", "csv", "ncf"] {
        let out = dir.path().join(format!("part_{format}"));
        let (code, _, err) = run(scorelake().args([
            "convert",
            p(&panel),
            &format!("{}/", p(&out)),
            "--to",
            format,
            "--partition-by",
            "num_inquiries",
        ]));
        assert_eq!(code, 0, "{err}");
        assert!(
            out.join("num_inquiries=__HIVE_DEFAULT_PARTITION__")
                .is_dir()
        );
        let table = format!("{}/", p(&out));
        assert!(
            nulls(&table).contains("| 45 "),
            "{format}: {}",
            nulls(&table)
        );
        assert!(same(&table).contains("| 0 "), "{format}: {}", same(&table));
    }

    // `sql --output` and `sample` write through the same path.
    let by_sql = dir.path().join("by_sql/");
    let (code, _, err) = run(scorelake().args([
        "sql",
        &format!("SELECT * FROM '{}'", p(&panel)),
        "--output",
        p(&by_sql),
        "--partition-by",
        "num_inquiries",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(same(&format!("{}/", p(&by_sql))).contains("| 0 "));
    let sampled = dir.path().join("sampled/");
    let (code, _, err) = run(scorelake().args([
        "sample",
        "--customers",
        "200",
        "--out",
        p(&sampled),
        "--partition-by",
        "num_inquiries",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(same(&format!("{}/", p(&sampled))).contains("| 0 "));
}

#[test]
fn one_partition_folder_keeps_its_partition_column() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 50);
    let out = dir.path().join("by_month");
    let (code, _, err) = run(scorelake().args([
        "convert",
        p(&panel),
        &format!("{}/", p(&out)),
        "--partition-by",
        "month,product",
    ]));
    assert_eq!(code, 0, "{err}");
    // One month's folder, and one product's folder within it.
    let month = format!("{}/month=2023-03-01/", p(&out));
    let text = sql(
        "SELECT count(*) AS n, min(month) AS lo, max(month) AS hi, \
         arrow_typeof(min(month)) AS t FROM m",
        &[("m", month.as_str())],
    );
    assert!(text.contains("2023-03-01 | 2023-03-01 | Date32"), "{text}");
    let want = sql(
        "SELECT count(*) AS n FROM p WHERE month = DATE '2023-03-01'",
        &[("p", p(&panel))],
    );
    let n = |t: &str| {
        t.lines()
            .filter_map(|l| {
                l.trim()
                    .trim_matches('|')
                    .split('|')
                    .next()?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .next()
            .unwrap()
    };
    assert_eq!(n(&text), n(&want));
    let product = format!("{}/month=2023-03-01/product=credit_card/", p(&out));
    let text = sql(
        "SELECT DISTINCT month, product FROM m",
        &[("m", product.as_str())],
    );
    assert!(text.contains("| 2023-03-01 | credit_card |"), "{text}");
}
