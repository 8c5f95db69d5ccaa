//! `fold_index(k, seed, key, …)`: a deterministic fold number in `0..k` for
//! each row, from the text of its key columns. Cross-fitting uses it: the
//! same key and seed always land in the same fold, on any machine, in any
//! partitioning and in any engine version.
//!
//! The hash is FNV-1a (64 bits) over the seed's 8 little-endian bytes, then
//! for each key a byte 0 (null) or 1 followed by the key's UTF-8 text and
//! the byte 0xFF (which UTF-8 never contains), finished with the SplitMix64
//! mixer; the fold is that number modulo `k`. Keys are compared as the
//! engine's text form (the same form `CAST(x AS VARCHAR)` gives).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::lit;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn feed(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The fold of one key (the text of each key column, `None` for null).
///
/// ```
/// use scorelake::functions::fold::fold_of;
/// let f = fold_of(5, 42, &[Some("C000017")]);
/// assert!(f < 5);
/// assert_eq!(f, fold_of(5, 42, &[Some("C000017")]));
/// ```
pub fn fold_of(k: u64, seed: u64, keys: &[Option<&str>]) -> u64 {
    let mut h = feed(FNV_OFFSET, &seed.to_le_bytes());
    for key in keys {
        h = match key {
            None => feed(h, &[0]),
            Some(text) => feed(feed(feed(h, &[1]), text.as_bytes()), &[0xff]),
        };
    }
    mix(h) % k.max(1)
}

/// The scalar function; call it with [`fold_index`] or from SQL as
/// `fold_index(k, seed, key, …)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FoldIndex {
    signature: Signature,
}

impl Default for FoldIndex {
    fn default() -> Self {
        FoldIndex {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// `fold_index(k, seed, keys…)` as an expression: Int64 in `0..k`.
pub fn fold_index(k: u64, seed: u64, keys: Vec<Expr>) -> Expr {
    let mut args = vec![lit(k as i64), lit(seed as i64)];
    args.extend(keys);
    ScalarUDF::from(FoldIndex::default()).call(args)
}

fn literal(value: &ColumnarValue, what: &str) -> Result<u64> {
    match value {
        ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(v)) if v >= 0 => Ok(v as u64),
            other => exec_err!("fold_index: {what} must be a non-negative integer, got {other}"),
        },
        ColumnarValue::Array(_) => exec_err!("fold_index: {what} must be a constant"),
    }
}

impl ScalarUDFImpl for FoldIndex {
    fn name(&self) -> &str {
        "fold_index"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if args.len() < 3 {
            return plan_err!("fold_index(k, seed, key, …) needs at least one key");
        }
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let k = literal(&args.args[0], "k")?;
        if k == 0 {
            return exec_err!("fold_index: k must be at least 1");
        }
        let seed = literal(&args.args[1], "seed")?;
        let rows = args.number_rows;
        let keys: Vec<ArrayRef> = args.args[2..]
            .iter()
            .map(|a| cast(&a.to_array(rows)?, &DataType::Utf8).map_err(Into::into))
            .collect::<Result<_>>()?;
        let keys: Vec<_> = keys.iter().map(|a| a.as_string::<i32>()).collect();
        let mut texts: Vec<Option<&str>> = vec![None; keys.len()];
        let folds: Int64Array = (0..rows)
            .map(|r| {
                for (t, a) in texts.iter_mut().zip(&keys) {
                    *t = (!a.is_null(r)).then(|| a.value(r));
                }
                Some(fold_of(k, seed, &texts) as i64)
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(folds)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_spread_and_seeded() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("C{i:06}")).collect();
        let mut counts = [0usize; 5];
        for key in &keys {
            counts[fold_of(5, 7, &[Some(key)]) as usize] += 1;
        }
        // 2000 expected per fold; a fair hash stays well within ±10 %.
        assert!(
            counts.iter().all(|c| (1800..2200).contains(c)),
            "{counts:?}"
        );
        let moved = keys
            .iter()
            .filter(|key| fold_of(5, 7, &[Some(key)]) != fold_of(5, 8, &[Some(key)]))
            .count();
        assert!(moved > 7000, "another seed reshuffles the folds ({moved})");
    }

    #[test]
    fn key_boundaries_and_nulls_matter() {
        let a = (0..64)
            .filter(|s| {
                fold_of(1 << 40, *s, &[Some("ab"), Some("c")])
                    != fold_of(1 << 40, *s, &[Some("a"), Some("bc")])
            })
            .count();
        assert_eq!(a, 64);
        assert_ne!(
            fold_of(1 << 40, 1, &[None]),
            fold_of(1 << 40, 1, &[Some("")])
        );
    }
}
