//! Decoding a chunk back into an array: all its rows, or only selected
//! rows (gathered without decoding the others where the encoding allows).
//! Every length and index read from the file is checked before use.

use std::cell::Cell;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, make_array};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer};
use arrow_schema::DataType;

use super::cursor::Cursor;
use super::layout::{MAX_DICTIONARY, Physical, fixed_width, physical};
use crate::bits;
use crate::error::{NcfError, Result, corrupt};
use crate::footer::Encoding;

/// Decodes a chunk of `n` rows of type `t`, or only the rows at `rows`
/// (ascending, each below `n`); `what` names the chunk in errors.
pub(crate) fn decode(
    t: &DataType,
    n: usize,
    encoding: Encoding,
    bytes: &[u8],
    what: &str,
    rows: Option<&[u32]>,
) -> Result<ArrayRef> {
    let Some(rows) = rows else {
        return decode_all(t, n, encoding, bytes, what);
    };
    let mut c = Cursor::new(bytes, what);
    let p = physical(t);
    let gather = matches!(
        (p, encoding),
        (
            Physical::Fixed { .. } | Physical::Float { .. } | Physical::Decimal,
            Encoding::Plain
        ) | (Physical::Bytes, Encoding::Dictionary)
    );
    if !gather {
        let all = decode_all(t, n, encoding, bytes, what)?;
        let indices = arrow_array::UInt32Array::from(rows.to_vec());
        return Ok(arrow_select::take::take(&all, &indices, None)?);
    }
    let nulls = match validity(&mut c, n)? {
        Validity::AllNull => {
            c.finish()?;
            return Ok(arrow_array::new_null_array(t, rows.len()));
        }
        Validity::Nulls(nulls) => nulls.map(|nb| {
            NullBuffer::from(
                rows.iter()
                    .map(|&r| nb.is_valid(r as usize))
                    .collect::<Vec<_>>(),
            )
        }),
    };
    let nulls = nulls.filter(|nb| nb.null_count() > 0);
    let array = if encoding == Encoding::Dictionary {
        decode_dictionary(&mut c, t, n, nulls, Some(rows))?
    } else {
        let width = fixed_width(p);
        let raw = c.take(
            n.checked_mul(width)
                .ok_or_else(|| corrupt(format!("{what}: too many rows")))?,
        )?;
        let mut picked = Vec::with_capacity(rows.len() * width);
        for &r in rows {
            let at = r as usize * width;
            picked.extend_from_slice(&raw[at..at + width]);
        }
        fixed_array(t, rows.len(), Buffer::from_vec(picked), nulls)?
    };
    c.finish()?;
    Ok(array)
}

/// What the validity section says of the rows.
enum Validity {
    AllNull,
    Nulls(Option<NullBuffer>),
}

/// The validity section.
fn validity(c: &mut Cursor<'_>, n: usize) -> Result<Validity> {
    Ok(match c.u8()? {
        0 => Validity::Nulls(None),
        1 => {
            let bitmap = c.take(n.div_ceil(8))?;
            Validity::Nulls(Some(NullBuffer::new(BooleanBuffer::new(
                Buffer::from(bitmap.to_vec()),
                0,
                n,
            ))))
        }
        2 => Validity::AllNull,
        other => {
            return Err(corrupt(format!(
                "{}: unknown validity flag {other}",
                c.what
            )));
        }
    })
}

/// Decodes all `n` rows of a chunk.
fn decode_all(
    t: &DataType,
    n: usize,
    encoding: Encoding,
    bytes: &[u8],
    what: &str,
) -> Result<ArrayRef> {
    let mut c = Cursor::new(bytes, what);
    let nulls = match validity(&mut c, n)? {
        Validity::AllNull => {
            c.finish()?;
            return Ok(arrow_array::new_null_array(t, n));
        }
        Validity::Nulls(nulls) => nulls,
    };
    let p = physical(t);
    let array: ArrayRef = match (p, encoding) {
        (Physical::Bool, Encoding::Plain) => {
            let bits = c.take(n.div_ceil(8))?;
            let values = BooleanBuffer::new(Buffer::from(bits.to_vec()), 0, n);
            Arc::new(BooleanArray::new(values, nulls))
        }
        (Physical::Bool, Encoding::Rle) => {
            let bytes = decode_runs(&mut c, n, 1, what)?;
            let values: BooleanBuffer = bytes.iter().map(|&b| b != 0).collect();
            Arc::new(BooleanArray::new(values, nulls))
        }
        (Physical::Fixed { .. } | Physical::Float { .. } | Physical::Decimal, Encoding::Plain) => {
            let width = fixed_width(p);
            let raw = c.take(
                n.checked_mul(width)
                    .ok_or_else(|| corrupt(format!("{what}: too many rows")))?,
            )?;
            fixed_array(t, n, Buffer::from(raw), nulls)?
        }
        (
            Physical::Fixed {
                width,
                int: Some(_),
            },
            Encoding::Rle,
        ) => {
            let raw = decode_runs(&mut c, n, width, what)?;
            fixed_array(t, n, Buffer::from_vec(raw), nulls)?
        }
        (
            Physical::Fixed {
                width,
                int: Some(_),
            },
            Encoding::Bitpacked,
        ) => {
            let reference = c.i64()?;
            let bit_width = c.u8()?;
            if bit_width > 64 {
                return Err(corrupt(format!("{what}: bit width {bit_width} over 64")));
            }
            let packed = c.take(bits::packed_len(n, bit_width))?;
            // The first offset that carries its value past i64::MAX.
            let overflow = Cell::new(None);
            let value = |o: u64| {
                reference.checked_add_unsigned(o).unwrap_or_else(|| {
                    overflow.set(overflow.get().or(Some(o)));
                    0
                })
            };
            // Truncation keeps the low bytes: the value's little-endian prefix.
            let values = match width {
                1 => Buffer::from_vec(bits::unpack_map(packed, n, bit_width, |o| value(o) as i8)),
                2 => Buffer::from_vec(bits::unpack_map(packed, n, bit_width, |o| value(o) as i16)),
                4 => Buffer::from_vec(bits::unpack_map(packed, n, bit_width, |o| value(o) as i32)),
                _ => Buffer::from_vec(bits::unpack_map(packed, n, bit_width, value)),
            };
            if let Some(o) = overflow.get() {
                return Err(corrupt(format!(
                    "{what}: bit-packed offset {o} from reference {reference} overflows a 64-bit integer"
                )));
            }
            fixed_array(t, n, values, nulls)?
        }
        (Physical::Bytes, Encoding::Plain) => {
            let mut lengths = Vec::with_capacity(n.min(bytes.len() / 4));
            for _ in 0..n {
                lengths.push(c.u32()? as usize);
            }
            let total: usize = lengths.iter().sum();
            let data = c.take(total)?;
            let mut offsets = Vec::with_capacity(n + 1);
            offsets.push(0);
            let mut at = 0usize;
            for len in lengths {
                at += len;
                offsets.push(at as i32);
            }
            bytes_array(t, offsets, data.to_vec(), nulls, what)?
        }
        (Physical::Bytes, Encoding::Dictionary) => decode_dictionary(&mut c, t, n, nulls, None)?,
        (_, e) => {
            return Err(corrupt(format!(
                "{what}: encoding {e:?} is not valid for type {t}"
            )));
        }
    };
    c.finish()?;
    Ok(array)
}

/// The values section of a dictionary chunk: all `n` rows, or the rows at
/// `rows` (then `nulls` are the selected rows' validity).
fn decode_dictionary(
    c: &mut Cursor<'_>,
    t: &DataType,
    n: usize,
    nulls: Option<NullBuffer>,
    rows: Option<&[u32]>,
) -> Result<ArrayRef> {
    let what = c.what;
    let d = c.u32()? as usize;
    if d > MAX_DICTIONARY.max(n) {
        return Err(corrupt(format!(
            "{what}: dictionary of {d} entries for {n} rows"
        )));
    }
    let mut lens = Vec::with_capacity(d);
    for _ in 0..d {
        lens.push(c.u32()? as usize);
    }
    let entries = c.take(lens.iter().sum())?;
    let width = c.u8()?;
    if width > 32 {
        return Err(corrupt(format!(
            "{what}: dictionary index width {width} over 32"
        )));
    }
    let indices = bits::unpack_map(c.take(bits::packed_len(n, width))?, n, width, |v| {
        v as usize
    });
    let mut words = Vec::with_capacity(d);
    let mut at = 0;
    for len in &lens {
        words.push(&entries[at..at + len]);
        at += len;
    }
    let k = rows.map_or(n, <[u32]>::len);
    let mean = entries.len() / d.max(1);
    let mut data = Vec::with_capacity(k.saturating_mul(mean).min(1 << 30));
    let mut offsets = Vec::with_capacity(k + 1);
    offsets.push(0i32);
    let mut push = |out: usize, row: usize| -> Result<()> {
        if nulls.as_ref().is_none_or(|nb| nb.is_valid(out)) {
            let id = indices[row];
            let word = words.get(id).ok_or_else(|| {
                corrupt(format!("{what}: dictionary index {id} out of {d} entries"))
            })?;
            data.extend_from_slice(word);
        }
        // Over 2 GiB is refused by `bytes_array` before the offsets are used.
        offsets.push(data.len() as i32);
        Ok(())
    };
    match rows {
        None => (0..n).try_for_each(|row| push(row, row))?,
        Some(rows) => rows
            .iter()
            .enumerate()
            .try_for_each(|(out, &row)| push(out, row as usize))?,
    }
    bytes_array(t, offsets, data, nulls, what)
}

/// The values section of a run-length chunk of `n` values `width` bytes
/// wide, expanded.
fn decode_runs(c: &mut Cursor<'_>, n: usize, width: usize, what: &str) -> Result<Vec<u8>> {
    let k = c.u32()? as usize;
    if k > n {
        return Err(corrupt(format!("{what}: {k} runs for {n} rows")));
    }
    let mut raw = Vec::with_capacity(n * width);
    let mut rows = 0usize;
    for _ in 0..k {
        let len = c.u32()? as usize;
        let value = c.take(width)?;
        rows = rows.saturating_add(len);
        if rows > n {
            return Err(corrupt(format!("{what}: runs cover more than {n} rows")));
        }
        let start = raw.len();
        raw.resize(start + len * width, 0);
        if value.iter().any(|&b| b != 0) {
            fill(&mut raw[start..], value);
        }
    }
    if rows != n {
        return Err(corrupt(format!("{what}: runs cover {rows} of {n} rows")));
    }
    Ok(raw)
}

/// Repeats `value` over `dst` (whose length is a multiple of its width).
fn fill(dst: &mut [u8], value: &[u8]) {
    fn each<const W: usize>(dst: &mut [u8], value: &[u8]) {
        let v: [u8; W] = value.try_into().unwrap_or([0; W]);
        for slot in dst.chunks_exact_mut(W) {
            slot.copy_from_slice(&v);
        }
    }
    match value.len() {
        1 => dst.fill(value[0]),
        2 => each::<2>(dst, value),
        4 => each::<4>(dst, value),
        8 => each::<8>(dst, value),
        16 => each::<16>(dst, value),
        _ => {
            for slot in dst.chunks_exact_mut(value.len().max(1)) {
                slot.copy_from_slice(value);
            }
        }
    }
}

/// An array of `n` fixed-width values of type `t`.
fn fixed_array(
    t: &DataType,
    n: usize,
    values: Buffer,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    let data = arrow_data::ArrayDataBuilder::new(t.clone())
        .len(n)
        .add_buffer(values)
        .nulls(nulls)
        .align_buffers(true)
        .build()?;
    Ok(make_array(data))
}

/// A text or binary array from its offsets and data; over 2 GiB is refused.
fn bytes_array(
    t: &DataType,
    offsets: Vec<i32>,
    data: Vec<u8>,
    nulls: Option<NullBuffer>,
    what: &str,
) -> Result<ArrayRef> {
    if i32::try_from(data.len()).is_err() {
        return Err(NcfError::Unsupported(format!(
            "{what}: over 2 GiB of text in one chunk"
        )));
    }
    let built = arrow_data::ArrayDataBuilder::new(t.clone())
        .len(offsets.len() - 1)
        .add_buffer(Buffer::from_vec(offsets))
        .add_buffer(Buffer::from(data))
        .nulls(nulls)
        .align_buffers(true)
        .build()
        .map_err(|e| corrupt(format!("{what}: {e}")))?;
    Ok(make_array(built))
}
