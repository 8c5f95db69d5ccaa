//! Encoding an array into a chunk: the validity section, then the values in
//! the smallest valid encoding (plain, run-length, bit-packed from a
//! reference, or dictionary), with the chunk's statistics.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use arrow_array::{Array, ArrayRef, BinaryArray, BooleanArray, StringArray};
use arrow_buffer::NullBuffer;

use super::hash::FxHasher;
use super::layout::{MAX_DICTIONARY, Physical, fixed_width, physical};
use super::stats;
use crate::bits;
use crate::footer::{Encoding, Stats};

/// An encoded chunk before compression.
pub(crate) struct Encoded {
    /// The validity section and the values.
    pub(crate) bytes: Vec<u8>,
    /// How the values are encoded.
    pub(crate) encoding: Encoding,
    /// The chunk's statistics.
    pub(crate) stats: Stats,
}

/// Encodes `array`, choosing the smallest valid encoding.
pub(crate) fn encode(array: &ArrayRef) -> Encoded {
    let n = array.len();
    let nulls = array.null_count();
    let mut out = Vec::new();
    let mut stats = Stats {
        null_count: Some(nulls as u64),
        ..Stats::default()
    };
    if n > 0 && nulls == n {
        out.push(2);
        return Encoded {
            bytes: out,
            encoding: Encoding::Plain,
            stats,
        };
    }
    if nulls == 0 {
        out.push(0);
    } else {
        out.push(1);
        validity_bitmap(array, &mut out);
    }
    let valid = |i: usize| array.is_valid(i);
    let encoding = match physical(array.data_type()) {
        Physical::Bool => {
            let values = array.as_any().downcast_ref::<BooleanArray>().map(|a| {
                (0..n)
                    .map(|i| valid(i) && a.value(i))
                    .collect::<Vec<bool>>()
            });
            let values = values.unwrap_or_default();
            stats::bools(&values, valid, &mut stats);
            let runs = runs(&values);
            if 4 + runs.len() * 5 < n.div_ceil(8) {
                out.extend_from_slice(&(runs.len() as u32).to_le_bytes());
                for (len, v) in runs {
                    out.extend_from_slice(&len.to_le_bytes());
                    out.push(u8::from(v));
                }
                Encoding::Rle
            } else {
                bits::pack(values.iter().map(|&b| u64::from(b)), 1, &mut out);
                Encoding::Plain
            }
        }
        p @ (Physical::Fixed { .. } | Physical::Float { .. } | Physical::Decimal) => {
            let width = fixed_width(p);
            let raw = fixed_bytes(array, width);
            let ints = match p {
                Physical::Fixed {
                    int: Some(signed), ..
                } => Some(int_values(&raw, width, signed)),
                _ => None,
            };
            stats::fixed_bounds(p, &raw, ints.as_deref(), array.nulls(), &mut stats);
            match ints {
                Some(values) => {
                    encode_int(&raw, width, &values, array.nulls(), &mut stats, &mut out)
                }
                None => {
                    stats::fixed_distinct(&raw, width, valid, &mut stats);
                    out.extend_from_slice(&raw);
                    Encoding::Plain
                }
            }
        }
        Physical::Bytes => encode_bytes(array, &valid, &mut stats, &mut out),
    };
    Encoded {
        bytes: out,
        encoding,
        stats,
    }
}

/// Appends the validity bitmap of `array` (which has nulls): `ceil(n / 8)`
/// bytes, LSB-first, unused bits of the last byte zero.
fn validity_bitmap(array: &ArrayRef, out: &mut Vec<u8>) {
    let n = array.len();
    match array.nulls() {
        Some(nulls) => {
            let bytes = nulls.inner().sliced();
            let start = out.len();
            out.extend_from_slice(&bytes.as_slice()[..n.div_ceil(8)]);
            if !n.is_multiple_of(8)
                && let Some(last) = out.get_mut(start + n / 8)
            {
                *last &= (1u8 << (n % 8)) - 1;
            }
        }
        None => out.extend(std::iter::repeat_n(0xFF, n.div_ceil(8))),
    }
}

/// The values buffer of a fixed-width array, with null slots zeroed.
fn fixed_bytes(array: &ArrayRef, width: usize) -> Vec<u8> {
    let data = array.to_data();
    let start = data.offset() * width;
    let mut raw = data.buffers()[0].as_slice()[start..start + array.len() * width].to_vec();
    if array.null_count() > 0 {
        for i in 0..array.len() {
            if array.is_null(i) {
                raw[i * width..(i + 1) * width].fill(0);
            }
        }
    }
    raw
}

/// The values of a bitpacked/rle-capable integer column (1, 2, 4 or 8 bytes
/// wide, an unsigned 8-byte column excluded) as i64.
fn int_values(raw: &[u8], width: usize, signed: bool) -> Vec<i64> {
    fn each<const W: usize>(raw: &[u8], f: impl Fn([u8; W]) -> i64) -> Vec<i64> {
        raw.chunks_exact(W)
            .map(|c| f(c.try_into().unwrap_or([0; W])))
            .collect()
    }
    match (width, signed) {
        (1, true) => each::<1>(raw, |b| i64::from(i8::from_le_bytes(b))),
        (1, false) => each::<1>(raw, |b| i64::from(b[0])),
        (2, true) => each::<2>(raw, |b| i64::from(i16::from_le_bytes(b))),
        (2, false) => each::<2>(raw, |b| i64::from(u16::from_le_bytes(b))),
        (4, true) => each::<4>(raw, |b| i64::from(i32::from_le_bytes(b))),
        (4, false) => each::<4>(raw, |b| i64::from(u32::from_le_bytes(b))),
        _ => each::<8>(raw, i64::from_le_bytes),
    }
}

/// The runs of equal consecutive values, as (length, value).
fn runs<T: PartialEq + Copy>(values: &[T]) -> Vec<(u32, T)> {
    let mut runs: Vec<(u32, T)> = Vec::new();
    for &v in values {
        match runs.last_mut() {
            Some((len, last)) if *last == v && *len < u32::MAX => *len += 1,
            _ => runs.push((1, v)),
        }
    }
    runs
}

/// Appends the values of an integer column as run-length, bit-packed or
/// plain, whichever is smallest.
fn encode_int(
    raw: &[u8],
    width: usize,
    values: &[i64],
    nulls: Option<&NullBuffer>,
    stats: &mut Stats,
    out: &mut Vec<u8>,
) -> Encoding {
    let n = values.len();
    let valid = |i: usize| nulls.is_none_or(|nb| nb.is_valid(i));
    // Null slots hold 0 (see `fixed_bytes`); without nulls every value counts.
    let (reference, top) = match nulls {
        None => (
            values.iter().copied().min().unwrap_or(0),
            values.iter().copied().max().unwrap_or(0),
        ),
        Some(_) => {
            let live = || (0..n).filter(|&i| valid(i)).map(|i| values[i]);
            (live().min().unwrap_or(0), live().max().unwrap_or(0))
        }
    };
    let spread = (i128::from(top) - i128::from(reference)) as u64;
    stats::ints(values, valid, reference, spread, stats);
    let bit_width = bits::width_of(spread);
    let packed_size = 9 + bits::packed_len(n, bit_width);
    let run_list = runs(values);
    let rle_size = 4 + run_list.len() * (4 + width);
    let plain_size = raw.len();
    if rle_size < packed_size && rle_size < plain_size {
        out.extend_from_slice(&(run_list.len() as u32).to_le_bytes());
        for (len, v) in run_list {
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes()[..width]);
        }
        Encoding::Rle
    } else if packed_size < plain_size {
        out.extend_from_slice(&reference.to_le_bytes());
        out.push(bit_width);
        let offsets = (0..n).map(|i| {
            if valid(i) {
                values[i].wrapping_sub(reference) as u64
            } else {
                0
            }
        });
        bits::pack(offsets, bit_width, out);
        Encoding::Bitpacked
    } else {
        out.extend_from_slice(raw);
        Encoding::Plain
    }
}

/// The values of a text or binary column (empty for null slots).
fn bytes_values(array: &ArrayRef) -> Vec<&[u8]> {
    if let Some(a) = array.as_any().downcast_ref::<StringArray>() {
        (0..a.len())
            .map(|i| {
                if a.is_valid(i) {
                    a.value(i).as_bytes()
                } else {
                    &[][..]
                }
            })
            .collect()
    } else if let Some(a) = array.as_any().downcast_ref::<BinaryArray>() {
        (0..a.len())
            .map(|i| if a.is_valid(i) { a.value(i) } else { &[][..] })
            .collect()
    } else {
        Vec::new()
    }
}

/// Appends the values of a text or binary column as a dictionary when it
/// has few distinct values and that is smaller, else plain.
fn encode_bytes(
    array: &ArrayRef,
    valid: &dyn Fn(usize) -> bool,
    stats: &mut Stats,
    out: &mut Vec<u8>,
) -> Encoding {
    let values = bytes_values(array);
    let n = values.len();
    let plain_size = 4 * n + values.iter().map(|v| v.len()).sum::<usize>();

    let mut ids: HashMap<&[u8], u32, BuildHasherDefault<FxHasher>> = HashMap::default();
    let mut dict: Vec<&[u8]> = Vec::new();
    let mut indices = Vec::with_capacity(n);
    // Panels repeat a value over consecutive rows (one customer's months):
    // the previous row's id is reused without hashing.
    let mut previous: Option<(&[u8], u32)> = None;
    for (i, &v) in values.iter().enumerate() {
        if !valid(i) {
            indices.push(0);
            continue;
        }
        if let Some((last, id)) = previous
            && last == v
        {
            indices.push(id);
            continue;
        }
        let next = dict.len() as u32;
        let id = *ids.entry(v).or_insert_with(|| {
            dict.push(v);
            next
        });
        indices.push(id);
        previous = Some((v, id));
        if dict.len() > MAX_DICTIONARY {
            break;
        }
    }
    let dictionary = dict.len() <= MAX_DICTIONARY;
    // The bounds are found among the distinct values when there are few.
    let (min, max) = if dictionary {
        (dict.iter().min().copied(), dict.iter().max().copied())
    } else {
        let live = || (0..n).filter(|&i| valid(i)).map(|i| values[i]);
        (live().min(), live().max())
    };
    stats::bytes_bounds(min, max, stats);
    if !dictionary {
        stats::bytes_distinct(&values, valid, stats);
    }
    if dictionary {
        stats.distinct_count = Some(dict.len() as u64);
        let width = bits::width_of(dict.len().saturating_sub(1) as u64);
        let dict_size = 5
            + 4 * dict.len()
            + dict.iter().map(|v| v.len()).sum::<usize>()
            + bits::packed_len(n, width);
        if dict_size < plain_size {
            out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
            for v in &dict {
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            }
            for v in &dict {
                out.extend_from_slice(v);
            }
            out.push(width);
            bits::pack(indices.iter().map(|&i| u64::from(i)), width, out);
            return Encoding::Dictionary;
        }
    }
    for v in &values {
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for v in &values {
        out.extend_from_slice(v);
    }
    Encoding::Plain
}
