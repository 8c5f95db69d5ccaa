//! Structure-aware corruption: damage placed *behind* valid checksums, so the
//! footer parser, the layout checks and every decoder see hostile input.
//! Any outcome is fine except a panic or an unbounded allocation.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use ncf::footer::{Compression, Encoding, Footer, MAGIC};
use ncf::{NcfReader, Op, Predicate, Value, WriteOptions};
use proptest::prelude::*;

use super::{batch, must_fail, write};

fn good() -> Vec<u8> {
    write(
        &[batch(200, 7)],
        WriteOptions {
            row_group_rows: 64,
            compression: Compression::None,
            ..WriteOptions::default()
        },
    )
}

/// The bytes before the footer, and the parsed footer.
fn split(bytes: &[u8]) -> (Vec<u8>, Footer) {
    let n = bytes.len();
    let len = u32::from_le_bytes(bytes[n - 12..n - 8].try_into().unwrap()) as usize;
    let start = n - 12 - len;
    let footer = serde_json::from_slice(&bytes[start..n - 12]).unwrap();
    (bytes[..start].to_vec(), footer)
}

/// A file from data bytes and a footer, with a correct footer checksum.
fn join(mut data: Vec<u8>, footer: &Footer) -> Vec<u8> {
    let json = serde_json::to_vec(footer).unwrap();
    let crc = crc32c::crc32c(&json);
    data.extend_from_slice(&json);
    data.extend_from_slice(&(json.len() as u32).to_le_bytes());
    data.extend_from_slice(&crc.to_le_bytes());
    data.extend_from_slice(MAGIC);
    data
}

/// Reads everything and prunes with a few predicates; never panics.
fn exercise(bytes: Vec<u8>) {
    if let Ok(r) = NcfReader::new(bytes.clone()) {
        for p in [
            Predicate::cmp("i32", Op::GtEq, Value::Int(3)),
            Predicate::cmp("f64", Op::Lt, Value::Float(0.5)),
            Predicate::cmp("s", Op::Eq, Value::Bytes(b"x".to_vec())),
            Predicate::IsNull("b".into()),
        ] {
            let _ = r.prune(Some(&p));
        }
    }
    let _ = must_fail(bytes);
}

const ENCODINGS: [Encoding; 4] = [
    Encoding::Plain,
    Encoding::Dictionary,
    Encoding::Bitpacked,
    Encoding::Rle,
];

fn size() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..64u64,
        0..100_000u64,
        Just(u64::from(u32::MAX)),
        Just(u64::MAX / 2),
        Just(u64::MAX)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn garbage_chunks_behind_valid_checksums(
        group in 0usize..4,
        column in 0usize..64,
        encoding in 0usize..4,
        compression in 0usize..3,
        garbage in proptest::collection::vec(any::<u8>(), 0..700),
    ) {
        let (mut data, mut footer) = split(&good());
        let column = column % footer.schema.fields.len();
        let chunk = &mut footer.row_groups[group].columns[column];
        chunk.offset = data.len() as u64;
        chunk.stored_length = garbage.len() as u64;
        chunk.encoded_length = garbage.len() as u64 * 3;
        chunk.encoding = ENCODINGS[encoding];
        chunk.compression = [Compression::None, Compression::Lz4, Compression::Zstd][compression];
        chunk.crc32c = crc32c::crc32c(&garbage);
        if chunk.compression == Compression::None {
            chunk.encoded_length = garbage.len() as u64;
        }
        data.extend_from_slice(&garbage);
        exercise(join(data, &footer));
    }

    #[test]
    fn footer_numbers_out_of_range(
        field in 0usize..6,
        value in size(),
        group in 0usize..4,
        column in 0usize..64,
    ) {
        let (data, mut footer) = split(&good());
        let column = column % footer.schema.fields.len();
        let rows = footer.num_rows;
        let g = &mut footer.row_groups[group];
        match field {
            0 => footer.num_rows = value,
            1 => {
                // Keep the total consistent so the group's own count is what is tested.
                g.num_rows = value;
                footer.num_rows = footer
                    .row_groups
                    .iter()
                    .fold(0u64, |t, g| t.saturating_add(g.num_rows))
                    .max(rows);
            }
            2 => g.columns[column].offset = value,
            3 => g.columns[column].stored_length = value,
            4 => g.columns[column].encoded_length = value,
            _ => g.columns[column].stats.null_count = Some(value),
        }
        exercise(join(data, &footer));
    }

    #[test]
    fn statistics_text_is_untrusted(
        group in 0usize..4,
        column in 0usize..64,
        min in "[A-Za-z0-9+/=]{0,24}",
        max in ".{0,12}",
    ) {
        let (data, mut footer) = split(&good());
        let column = column % footer.schema.fields.len();
        let stats = &mut footer.row_groups[group].columns[column].stats;
        stats.min = Some(min);
        stats.max = Some(max);
        exercise(join(data, &footer));
    }

    #[test]
    fn trailers_and_lengths_are_checked(cut in 0usize..2000, len in any::<u32>()) {
        let mut bytes = good();
        let n = bytes.len();
        bytes[n - 12..n - 8].copy_from_slice(&len.to_le_bytes());
        exercise(bytes.clone());
        bytes.truncate(cut.min(bytes.len()));
        exercise(bytes);
    }
}

#[test]
fn two_columns_sharing_chunk_bytes_are_refused() {
    let (data, footer) = split(&good());
    let first = footer.row_groups[0].columns[0].clone();
    let names = [&footer.schema.fields[0].name, &footer.schema.fields[1].name];
    for (offset, len) in [
        (first.offset, first.stored_length),
        (first.offset + first.stored_length - 1, 1),
    ] {
        let mut footer = footer.clone();
        let second = &mut footer.row_groups[0].columns[1];
        second.offset = offset;
        second.stored_length = len;
        let err = NcfReader::new(join(data.clone(), &footer))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("overlap"), "{err}");
        for name in names {
            assert!(
                err.contains(&format!("row group 0, column `{name}`")),
                "{err}"
            );
        }
    }
}

#[test]
fn bit_packed_values_overflowing_i64_are_corrupt() {
    let values: ArrayRef = Arc::new(Int64Array::from_iter_values(0..200));
    let batch = RecordBatch::try_from_iter([("n", values)]).unwrap();
    let options = WriteOptions {
        compression: Compression::None,
        ..WriteOptions::default()
    };
    let (mut data, mut footer) = split(&write(&[batch], options));
    let chunk = &mut footer.row_groups[0].columns[0];
    assert_eq!(chunk.encoding, Encoding::Bitpacked);
    // After the validity flag: the reference every offset is added to.
    let at = chunk.offset as usize + 1;
    data[at..at + 8].copy_from_slice(&(i64::MAX - 10).to_le_bytes());
    let end = (chunk.offset + chunk.stored_length) as usize;
    chunk.crc32c = crc32c::crc32c(&data[chunk.offset as usize..end]);
    let err = must_fail(join(data, &footer));
    assert!(err.contains("corrupt NCF file"), "{err}");
    assert!(err.contains("overflows a 64-bit integer"), "{err}");
}

#[test]
fn statistics_that_do_not_decode_fail_the_check() {
    let (data, mut footer) = split(&good());
    NcfReader::new(join(data.clone(), &footer))
        .unwrap()
        .metadata()
        .check_statistics()
        .unwrap();
    let f64 = footer
        .schema
        .fields
        .iter()
        .position(|f| f.name == "f64")
        .unwrap();
    // Three bytes are no float64.
    footer.row_groups[1].columns[f64].stats.max = Some("AAAA".into());
    let reader = NcfReader::new(join(data, &footer)).unwrap();
    let err = reader
        .metadata()
        .check_statistics()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("row group 1, column `f64`: statistics do not fit type Float64"),
        "{err}"
    );
}
