//! `sort_key(x, drop)`: the 64-bit key of a float whose unsigned order is
//! the float order (−0.0 as 0.0; see [`key`]), shifted right by `drop` bits
//! (a literal from 0 to 63) as a UInt64; null for null. Exact quantiles
//! and distinct counts are computed from it by grouping, on any engine:
//! grouping by the key's top bits brackets a rank, the next bits narrow it.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, UInt64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::lit;

/// A float as a key whose unsigned order is the float order (−0.0 as 0.0).
///
/// ```
/// use scorelake::functions::sort_key::{key, value};
/// assert!(key(-1.5) < key(-0.0) && key(0.0) == key(-0.0) && key(0.0) < key(2.0));
/// assert_eq!(value(key(3.25)), 3.25);
/// ```
pub fn key(v: f64) -> u64 {
    let bits = (v + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The float of a [`key`].
pub fn value(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// The scalar function; call it with [`sort_key`] or from SQL as `sort_key(x, drop)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SortKey {
    signature: Signature,
}

impl Default for SortKey {
    fn default() -> Self {
        SortKey {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

/// `sort_key(x, drop)` as an expression: the key of `x` without its lowest `drop` bits.
pub fn sort_key(x: Expr, drop: u32) -> Expr {
    ScalarUDF::from(SortKey::default()).call(vec![x, lit(i64::from(drop))])
}

impl ScalarUDFImpl for SortKey {
    fn name(&self) -> &str {
        "sort_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args.first() {
            Some(t) if t.is_numeric() || t.is_null() => Ok(DataType::UInt64),
            _ => plan_err!("sort_key takes a number and the bits to drop"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let drop = match &args.args[1] {
            ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(d)) if (0..64).contains(&d) => d as u32,
                _ => return exec_err!("sort_key: the bits to drop must be a literal from 0 to 63"),
            },
            ColumnarValue::Array(_) => {
                return exec_err!("sort_key: the bits to drop must be a literal");
            }
        };
        let x = cast(
            &args.args[0].to_array(args.number_rows)?,
            &DataType::Float64,
        )?;
        let keys: UInt64Array = x
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(|v| key(v) >> drop))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(keys)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_like_floats() {
        let mut xs = vec![
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -f64::MIN_POSITIVE,
            0.0,
            5e-324,
            1.0,
            1e300,
            f64::INFINITY,
        ];
        let keys: Vec<u64> = xs.iter().map(|x| key(*x)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        xs.iter_mut().for_each(|x| assert_eq!(value(key(*x)), *x));
        assert_eq!(key(-0.0), key(0.0));
    }
}
