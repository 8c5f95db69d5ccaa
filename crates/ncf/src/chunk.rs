//! Encoding one column of a row group into a chunk, and decoding it back.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BinaryArray, BooleanArray, StringArray, make_array};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer};
use arrow_schema::DataType;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::bits;
use crate::distinct;
use crate::error::{NcfError, Result, corrupt};
use crate::footer::{Encoding, Stats};

const _: () = assert!(
    cfg!(target_endian = "little"),
    "NCF copies Arrow's native buffers as little-endian data"
);

/// Longest string value whose min/max is kept in statistics.
const MAX_STAT_BYTES: usize = 1024;
/// Most distinct values a dictionary may hold.
const MAX_DICTIONARY: usize = 1 << 16;

/// How a type's values are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Physical {
    Bool,
    /// Fixed width; `int` when the values are integers usable by
    /// bitpacked/rle (signed or unsigned, fitting an i64).
    Fixed {
        width: usize,
        int: Option<bool>,
    },
    Float {
        width: usize,
    },
    Decimal,
    Bytes,
}

fn physical(t: &DataType) -> Physical {
    use DataType::*;
    match t {
        Boolean => Physical::Bool,
        Int8 => Physical::Fixed {
            width: 1,
            int: Some(true),
        },
        Int16 => Physical::Fixed {
            width: 2,
            int: Some(true),
        },
        Int32 | Date32 => Physical::Fixed {
            width: 4,
            int: Some(true),
        },
        Int64 | Timestamp(..) => Physical::Fixed {
            width: 8,
            int: Some(true),
        },
        UInt8 => Physical::Fixed {
            width: 1,
            int: Some(false),
        },
        UInt16 => Physical::Fixed {
            width: 2,
            int: Some(false),
        },
        UInt32 => Physical::Fixed {
            width: 4,
            int: Some(false),
        },
        UInt64 => Physical::Fixed {
            width: 8,
            int: None,
        },
        Float32 => Physical::Float { width: 4 },
        Float64 => Physical::Float { width: 8 },
        Decimal128(..) => Physical::Decimal,
        _ => Physical::Bytes,
    }
}

fn fixed_width(p: Physical) -> usize {
    match p {
        Physical::Fixed { width, .. } | Physical::Float { width } => width,
        Physical::Decimal => 16,
        Physical::Bool | Physical::Bytes => 0,
    }
}

/// An encoded chunk before compression.
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub encoding: Encoding,
    pub stats: Stats,
}

/// Encodes `array`, choosing the smallest valid encoding.
pub fn encode(array: &ArrayRef) -> Encoded {
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
            let set: Vec<bool> = (0..n).filter(|&i| valid(i)).map(|i| values[i]).collect();
            if let (Some(min), Some(max)) = (set.iter().min(), set.iter().max()) {
                stats.min = Some(B64.encode([u8::from(*min)]));
                stats.max = Some(B64.encode([u8::from(*max)]));
                stats.distinct_count = Some(1 + u64::from(min != max));
            }
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
            fixed_stats(p, &raw, ints.as_deref(), array.nulls(), &mut stats);
            match ints {
                Some(values) => {
                    encode_int(&raw, width, &values, array.nulls(), &mut stats, &mut out)
                }
                None => {
                    let mut sketch = distinct::Sketch::new();
                    let mut live = 0;
                    for (i, v) in raw.chunks_exact(width).enumerate() {
                        if valid(i) {
                            let mut key = [0u8; 8];
                            let low = width.min(8);
                            key[..low].copy_from_slice(&v[..low]);
                            let mut key = u64::from_le_bytes(key);
                            if width == 16 {
                                let high: [u8; 8] = v[8..16].try_into().unwrap_or([0; 8]);
                                key ^= distinct::mix(u64::from_le_bytes(high));
                            }
                            sketch.add(key);
                            live += 1;
                        }
                    }
                    stats.distinct_estimate = Some(sketch.estimate(live));
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

/// A fast, non-cryptographic hasher for dictionary building.
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.add(u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
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

/// A little-endian integer of 1–16 bytes, sign-extended when `signed`.
pub(crate) fn le_int(bytes: &[u8], signed: bool) -> Option<i128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    if signed && bytes[bytes.len() - 1] & 0x80 != 0 {
        buf[bytes.len()..].fill(0xFF);
    }
    Some(i128::from_le_bytes(buf))
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

/// Index of the smallest and largest valid value by `less`.
fn min_max_index(
    n: usize,
    nulls: Option<&NullBuffer>,
    less: impl Fn(usize, usize) -> bool,
) -> Option<(usize, usize)> {
    let mut live = (0..n).filter(|&i| nulls.is_none_or(|nb| nb.is_valid(i)));
    let first = live.next()?;
    Some(live.fold((first, first), |(lo, hi), i| {
        (
            if less(i, lo) { i } else { lo },
            if less(hi, i) { i } else { hi },
        )
    }))
}

fn fixed_stats(
    p: Physical,
    raw: &[u8],
    ints: Option<&[i64]>,
    nulls: Option<&NullBuffer>,
    stats: &mut Stats,
) {
    let width = fixed_width(p);
    let n = raw.len() / width;
    let slot = |i: usize| &raw[i * width..(i + 1) * width];
    let best = match (p, ints) {
        (_, Some(v)) => min_max_index(n, nulls, |a, b| v[a] < v[b]),
        (Physical::Fixed { .. }, None) => {
            let u: Vec<u64> = raw
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
            min_max_index(n, nulls, |a, b| u[a] < u[b])
        }
        (Physical::Float { width }, None) => {
            let f: Vec<f64> = if width == 4 {
                raw.chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
                    .collect()
            } else {
                raw.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect()
            };
            if (0..n).any(|i| f[i].is_nan() && nulls.is_none_or(|nb| nb.is_valid(i))) {
                return;
            }
            // Total order: -0.0 is below 0.0, as the engine's min and max see it.
            min_max_index(n, nulls, |a, b| f[a].total_cmp(&f[b]).is_lt())
        }
        (Physical::Decimal, None) => {
            let d: Vec<i128> = raw
                .chunks_exact(16)
                .map(|c| i128::from_le_bytes(c.try_into().unwrap_or([0; 16])))
                .collect();
            min_max_index(n, nulls, |a, b| d[a] < d[b])
        }
        (Physical::Bool | Physical::Bytes, None) => None,
    };
    if let Some((lo, hi)) = best {
        stats.min = Some(B64.encode(slot(lo)));
        stats.max = Some(B64.encode(slot(hi)));
    }
}

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
    match distinct::of_ints(values, valid, reference, spread) {
        (count, true) => stats.distinct_count = Some(count),
        (estimate, false) => stats.distinct_estimate = Some(estimate),
    }
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
    if let (Some(min), Some(max)) = (min, max)
        && min.len() <= MAX_STAT_BYTES
        && max.len() <= MAX_STAT_BYTES
    {
        stats.min = Some(B64.encode(min));
        stats.max = Some(B64.encode(max));
    }
    if !dictionary {
        let mut sketch = distinct::Sketch::new();
        let mut live = 0;
        for v in (0..n).filter(|&i| valid(i)).map(|i| values[i]) {
            let mut h = FxHasher::default();
            h.write(v);
            h.write_usize(v.len());
            sketch.add(h.finish());
            live += 1;
        }
        stats.distinct_estimate = Some(sketch.estimate(live));
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

/// Reads an encoded buffer with bounds checks; errors name the chunk.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'a str,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(corrupt(format!(
                "{}: needs {len} more bytes at byte {} of {}",
                self.what,
                self.pos,
                self.bytes.len()
            )));
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or([0; 4]),
        ))
    }
    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or([0; 8]),
        ))
    }
    fn finish(&self) -> Result<()> {
        if self.pos != self.bytes.len() {
            return Err(corrupt(format!(
                "{}: {} unexpected bytes after the values",
                self.what,
                self.bytes.len() - self.pos
            )));
        }
        Ok(())
    }
}

/// Decodes a chunk of `n` rows of type `t`, or only the rows at `rows`
/// (ascending, each below `n`); `what` names the chunk in errors.
pub fn decode(
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
    let mut c = Cursor {
        bytes,
        pos: 0,
        what,
    };
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

fn decode_all(
    t: &DataType,
    n: usize,
    encoding: Encoding,
    bytes: &[u8],
    what: &str,
) -> Result<ArrayRef> {
    let mut c = Cursor {
        bytes,
        pos: 0,
        what,
    };
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
            let value = |o: u64| reference.wrapping_add(o as i64);
            // Truncation keeps the low bytes: the value's little-endian prefix.
            let values = match width {
                1 => Buffer::from_vec(bits::unpack_map(packed, n, bit_width, |o| value(o) as i8)),
                2 => Buffer::from_vec(bits::unpack_map(packed, n, bit_width, |o| value(o) as i16)),
                4 => Buffer::from_vec(bits::unpack_map(packed, n, bit_width, |o| value(o) as i32)),
                _ => Buffer::from_vec(bits::unpack_map(packed, n, bit_width, value)),
            };
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
