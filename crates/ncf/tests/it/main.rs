//! NCF round trips, pruning and robustness against damaged files.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt16Array, UInt64Array, new_null_array,
};
use arrow_schema::{DataType, Field, Schema};
mod corruption;

use ncf::{
    Compression, Encoding, NcfReader, NcfWriter, Op, Predicate, Semantic, Value, WriteOptions,
};

fn batch(n: usize, seed: u64) -> RecordBatch {
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 11
    };
    let r: Vec<u64> = (0..n).map(|_| next()).collect();
    let null = |i: usize| r[i].is_multiple_of(7);
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "b",
            Arc::new(BooleanArray::from_iter(
                (0..n).map(|i| (!null(i)).then_some(r[i].is_multiple_of(2))),
            )),
        ),
        (
            "i8",
            Arc::new(Int8Array::from_iter(
                (0..n).map(|i| (!null(i)).then_some(r[i] as i8)),
            )),
        ),
        (
            "i16",
            Arc::new(Int16Array::from_iter(
                (0..n).map(|i| Some((r[i] % 100) as i16 - 50)),
            )),
        ),
        (
            "i32",
            Arc::new(Int32Array::from_iter(
                (0..n).map(|i| (!null(i)).then_some((i / 10) as i32)),
            )),
        ),
        (
            "i64",
            Arc::new(Int64Array::from_iter(
                (0..n).map(|i| (!null(i)).then_some(r[i] as i64)),
            )),
        ),
        (
            "u16",
            Arc::new(UInt16Array::from_iter((0..n).map(|i| Some(r[i] as u16)))),
        ),
        (
            "u64",
            Arc::new(UInt64Array::from_iter(
                (0..n).map(|i| (!null(i)).then_some(u64::MAX - r[i])),
            )),
        ),
        (
            "f32",
            Arc::new(Float32Array::from_iter(
                (0..n).map(|i| (!null(i)).then_some(r[i] as f32 / 3.0)),
            )),
        ),
        (
            "f64",
            Arc::new(Float64Array::from_iter(
                (0..n).map(|i| Some((r[i] % 1000) as f64 * 0.25)),
            )),
        ),
        (
            "d",
            Arc::new(Date32Array::from_iter(
                (0..n).map(|i| (!null(i)).then_some(19_000 + (i / 30) as i32)),
            )),
        ),
        (
            "ts",
            Arc::new(
                TimestampMicrosecondArray::from_iter(
                    (0..n).map(|i| (!null(i)).then_some(1_700_000_000_000_000 + i as i64)),
                )
                .with_timezone("UTC"),
            ),
        ),
        (
            "dec",
            Arc::new(
                Decimal128Array::from_iter((0..n).map(|i| (!null(i)).then_some(r[i] as i128 * -7)))
                    .with_precision_and_scale(38, 6)
                    .unwrap(),
            ),
        ),
        (
            "cat",
            Arc::new(StringArray::from_iter((0..n).map(|i| {
                (!null(i))
                    .then(|| ["credit_card", "mortgage", "bnpl"][(r[i] % 3) as usize].to_string())
            }))),
        ),
        (
            "txt",
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| Some(format!("row-{i}-{}", r[i]))),
            )),
        ),
        (
            "bin",
            Arc::new(BinaryArray::from_iter(
                (0..n).map(|i| (!null(i)).then(|| vec![r[i] as u8; i % 4])),
            )),
        ),
        ("none", new_null_array(&DataType::Int64, n)),
        (
            "run",
            Arc::new(Int64Array::from_iter_values(
                (0..n).map(|i| (i / 100) as i64),
            )),
        ),
    ];
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

fn write(batches: &[RecordBatch], options: WriteOptions) -> Vec<u8> {
    let mut w = NcfWriter::new(Vec::new(), batches[0].schema(), options).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap()
}

fn read_all(bytes: Vec<u8>) -> Vec<RecordBatch> {
    let r = NcfReader::new(bytes).unwrap();
    r.scan(None, None)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn concat(batches: &[RecordBatch]) -> RecordBatch {
    arrow_select::concat::concat_batches(&batches[0].schema(), batches).unwrap()
}

#[test]
fn every_type_round_trips_with_every_codec() {
    let input = vec![batch(1000, 1), batch(777, 2), batch(1, 3)];
    for compression in [Compression::None, Compression::Lz4, Compression::Zstd] {
        let bytes = write(
            &input,
            WriteOptions {
                row_group_rows: 600,
                compression,
                ..WriteOptions::default()
            },
        );
        let r = NcfReader::new(bytes.clone()).unwrap();
        assert_eq!(r.num_row_groups(), 3);
        assert_eq!(r.footer().num_rows, 1778);
        let back = concat(&read_all(bytes));
        assert_eq!(back, concat(&input), "{compression:?}");
    }
}

#[test]
fn selected_rows_equal_taking_them_from_the_whole_group() {
    let bytes = write(
        &[batch(1000, 4), batch(300, 5)],
        WriteOptions {
            row_group_rows: 650,
            ..WriteOptions::default()
        },
    );
    let r = NcfReader::new(bytes).unwrap();
    let mut s = 9u64;
    for g in 0..r.num_row_groups() {
        let whole = r.read_row_group(g, None).unwrap();
        let n = whole.num_rows() as u32;
        for density in [0u64, 1, 10, 50, 100] {
            let rows: Vec<u32> = (0..n)
                .filter(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (s >> 33) % 100 < density
                })
                .collect();
            let indices = arrow_array::UInt32Array::from(rows.clone());
            let expected = arrow_select::take::take_record_batch(&whole, &indices).unwrap();
            assert_eq!(
                r.read_rows(g, None, &rows).unwrap(),
                expected,
                "group {g}, {density}%"
            );
            let projected = r.read_rows(g, Some(&[2, 0]), &rows).unwrap();
            assert_eq!(projected.num_columns(), 2);
            assert_eq!(projected.column(1), expected.column(0));
        }
        assert!(
            r.read_rows(g, None, &[n]).is_err(),
            "rows beyond the group are refused"
        );
    }
}

#[test]
fn encodings_are_chosen_by_size() {
    let bytes = write(
        &[batch(5000, 9)],
        WriteOptions {
            compression: Compression::None,
            ..WriteOptions::default()
        },
    );
    let r = NcfReader::new(bytes).unwrap();
    let enc = |name: &str| {
        let i = r.schema().index_of(name).unwrap();
        r.footer().row_groups[0].columns[i].encoding
    };
    assert_eq!(enc("cat"), Encoding::Dictionary);
    assert_eq!(enc("run"), Encoding::Rle);
    assert_eq!(enc("i32"), Encoding::Bitpacked);
    assert_eq!(enc("i16"), Encoding::Bitpacked);
    assert_eq!(enc("txt"), Encoding::Plain);
    assert_eq!(enc("f64"), Encoding::Plain);
    let cat = r.schema().index_of("cat").unwrap();
    assert_eq!(
        r.footer().row_groups[0].columns[cat].stats.distinct_count,
        Some(3)
    );
}

#[test]
fn edge_cases_round_trip() {
    // Zero rows: one empty row group, schema intact.
    let empty = batch(0, 1);
    let bytes = write(std::slice::from_ref(&empty), WriteOptions::default());
    let r = NcfReader::new(bytes).unwrap();
    assert_eq!(r.schema().fields().len(), empty.num_columns());
    assert_eq!(r.read_row_group(0, None).unwrap().num_rows(), 0);

    // One huge string and empty strings.
    let huge = "x".repeat(20 << 20);
    let s = StringArray::from(vec![Some(huge.as_str()), Some(""), None]);
    let b = RecordBatch::try_from_iter([("s", Arc::new(s) as ArrayRef)]).unwrap();
    assert_eq!(
        concat(&read_all(write(
            std::slice::from_ref(&b),
            WriteOptions::default()
        ))),
        b
    );

    // Non-nullable columns stay non-nullable.
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let b = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![5, 6, 7]))]).unwrap();
    let back = concat(&read_all(write(
        std::slice::from_ref(&b),
        WriteOptions::default(),
    )));
    assert_eq!(back, b);
    assert!(!back.schema().field(0).is_nullable());
}

#[test]
fn projection_and_semantic_metadata() {
    let input = batch(100, 4);
    let mut semantics = std::collections::BTreeMap::new();
    semantics.insert(
        "txt".to_string(),
        Semantic {
            kind: Some("text".into()),
            contains_pii: true,
            pii: Some("direct".into()),
            ..Semantic::default()
        },
    );
    let bytes = write(
        std::slice::from_ref(&input),
        WriteOptions {
            semantics,
            ..WriteOptions::default()
        },
    );
    let r = NcfReader::new(bytes).unwrap();
    let b = r.read_row_group(0, Some(&[4, 12])).unwrap();
    assert_eq!(b.num_columns(), 2);
    assert_eq!(b.column(0), input.column(4));
    assert_eq!(b.column(1), input.column(12));
    let meta = r
        .schema()
        .field_with_name("txt")
        .unwrap()
        .metadata()
        .get(ncf::SEMANTIC_KEY)
        .cloned();
    assert!(meta.unwrap().contains("\"contains_pii\":true"));

    let bad = NcfWriter::new(
        Vec::new(),
        input.schema(),
        WriteOptions {
            semantics: [("nope".to_string(), Semantic::default())].into(),
            ..WriteOptions::default()
        },
    );
    assert!(bad.err().unwrap().to_string().contains("`nope`"));
}

#[test]
fn pruning_skips_groups_and_never_changes_results() {
    // i32 is i/10 per batch: row groups of 100 rows cover disjoint ranges.
    let input = batch(1000, 5);
    let bytes = write(
        std::slice::from_ref(&input),
        WriteOptions {
            row_group_rows: 100,
            ..WriteOptions::default()
        },
    );
    let r = NcfReader::new(bytes).unwrap();
    let i32_col = r.schema().index_of("i32").unwrap();
    let cases = [
        (Predicate::cmp("i32", Op::GtEq, Value::Int(90)), 1),
        (Predicate::cmp("i32", Op::Eq, Value::Int(45)), 1),
        (Predicate::cmp("i32", Op::Lt, Value::Int(20)), 2),
        (
            Predicate::In {
                column: "i32".into(),
                values: vec![Value::Int(5), Value::Int(95)],
            },
            2,
        ),
        (Predicate::cmp("i32", Op::Gt, Value::Int(1000)), 0),
        (Predicate::IsNull("none".into()), 10),
        (Predicate::IsNotNull("none".into()), 0),
        (Predicate::cmp("f64", Op::Gt, Value::Float(-1.0)), 10),
        (
            Predicate::Or(vec![
                Predicate::cmp("i32", Op::LtEq, Value::Int(9)),
                Predicate::cmp("i32", Op::GtEq, Value::Int(99)),
            ]),
            2,
        ),
    ];
    let i32s = input
        .column(i32_col)
        .as_any()
        .downcast_ref::<Int32Array>()
        .unwrap();
    for (p, groups) in cases {
        let kept = r.prune(Some(&p)).unwrap();
        assert_eq!(kept.len(), groups, "{p:?}");
        // Every row matching a comparison on i32 lies in a kept group.
        if let Predicate::Cmp {
            column,
            op,
            value: Value::Int(v),
        } = &p
            && column == "i32"
        {
            for row in 0..input.num_rows() {
                if i32s.is_null(row) {
                    continue;
                }
                let x = i128::from(i32s.value(row));
                let hit = match op {
                    Op::Eq => x == *v,
                    Op::NotEq => x != *v,
                    Op::Lt => x < *v,
                    Op::LtEq => x <= *v,
                    Op::Gt => x > *v,
                    Op::GtEq => x >= *v,
                };
                if hit {
                    assert!(kept.contains(&(row / 100)), "{p:?} row {row}");
                }
            }
        }
    }
    let e = r
        .prune(Some(&Predicate::IsNull("missing".into())))
        .unwrap_err();
    assert!(e.to_string().contains("`missing`"));
}

fn must_fail(bytes: Vec<u8>) -> String {
    match NcfReader::new(bytes) {
        Err(e) => e.to_string(),
        Ok(r) => match r
            .scan(None, None)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        {
            Err(e) => e.to_string(),
            Ok(_) => String::new(),
        },
    }
}

#[test]
fn damaged_files_give_clear_errors() {
    let good = write(
        &[batch(300, 6)],
        WriteOptions {
            row_group_rows: 100,
            ..WriteOptions::default()
        },
    );

    let e = must_fail(b"PAR1 not ncf at all, but long enough".to_vec());
    assert!(e.contains("magic"), "{e}");
    let e = must_fail(good[..good.len() - 5].to_vec());
    assert!(e.contains("truncated") || e.contains("magic"), "{e}");
    let e = must_fail(b"NCF1".to_vec());
    assert!(e.contains("too short"), "{e}");

    // Footer length pointing outside the file.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 12..n - 8].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = must_fail(bad);
    assert!(e.contains("outside the file"), "{e}");

    // A flipped byte in the footer.
    let mut bad = good.clone();
    bad[n - 20] ^= 0x55;
    let e = must_fail(bad);
    assert!(e.contains("checksum mismatch in the footer"), "{e}");

    // A flipped byte inside the first chunk of row group 1, column `i8`.
    let r = NcfReader::new(good.clone()).unwrap();
    let chunk = &r.footer().row_groups[1].columns[1];
    let mut bad = good.clone();
    bad[chunk.offset as usize] ^= 0xFF;
    let e = must_fail(bad);
    assert!(
        e.contains("checksum mismatch in row group 1, column `i8`"),
        "{e}"
    );
}

#[test]
fn random_corruption_never_panics() {
    let good = write(
        &[batch(200, 7)],
        WriteOptions {
            row_group_rows: 64,
            ..WriteOptions::default()
        },
    );
    let mut s = 42u64;
    for _ in 0..3000 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut bad = good.clone();
        let flips = 1 + (s >> 60) as usize;
        for k in 0..flips {
            let pos = ((s >> (k * 3)) as usize) % bad.len();
            bad[pos] ^= (s >> 17) as u8 | 1;
        }
        if s.is_multiple_of(5) {
            bad.truncate((s as usize >> 8) % bad.len());
        }
        let _ = must_fail(bad); // any outcome but a panic
    }
}

#[test]
fn files_on_disk_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.ncf");
    let input = batch(500, 8);
    let file = std::fs::File::create(&path).unwrap();
    let mut w = NcfWriter::new(
        std::io::BufWriter::new(file),
        input.schema(),
        WriteOptions::default(),
    )
    .unwrap();
    w.write(&input).unwrap();
    w.finish().unwrap();
    let r = NcfReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(r.read_row_group(0, None).unwrap(), input);
}
