//! A mapping from keys to values, applied to each row by one hash lookup:
//! what fitted encoders and group-wise fills compute. A CASE with one branch
//! per category costs rows × categories; this costs rows.
//!
//! Keys are one or more columns compared by their text (`CAST(x AS
//! VARCHAR)`, null a key of its own); the value of a key missing from the
//! mapping is the mapping's `otherwise`. A mapping may hold one set of values
//! per fold: the last argument is then the row's fold number, and a fold
//! outside `0..folds` gives null.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt32Array, new_null_array};
use datafusion::arrow::compute::{cast, concat, take};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The keys and values of a [`lookup`].
#[derive(Debug)]
pub(crate) struct Mapping {
    /// Key (each part's text, or null) → entry index; the first of equal keys wins.
    index: HashMap<Vec<u8>, u32>,
    /// Key columns.
    parts: usize,
    /// Entries per fold: the mapping's values, then `otherwise`.
    width: usize,
    /// `folds` blocks of `width` values, then one null (bad folds).
    values: ArrayRef,
    folds: usize,
}

/// Appends one key part (null or text) to `key`: a null is byte 0, a text
/// byte 1, its UTF-8 and byte 0xFF (which UTF-8 never holds), so parts never
/// run into each other.
fn push_part(key: &mut Vec<u8>, part: Option<&str>) {
    match part {
        None => key.push(0),
        Some(text) => {
            key.push(1);
            key.extend_from_slice(text.as_bytes());
            key.push(0xff);
        }
    }
}

impl Mapping {
    /// A mapping of `keys` (each `parts` long) to `values` (one array per
    /// fold, as long as `keys` plus one: the last is the value of keys not in
    /// the mapping).
    pub(crate) fn new(
        parts: usize,
        keys: &[Vec<Option<&str>>],
        values: &[ArrayRef],
    ) -> Result<Mapping> {
        let width = keys.len() + 1;
        if values.is_empty() || values.iter().any(|v| v.len() != width) {
            return exec_err!("a lookup needs one value per key and one for other keys, per fold");
        }
        if keys.iter().any(|k| k.len() != parts) {
            return exec_err!("a lookup's keys must all have {parts} parts");
        }
        let mut index = HashMap::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let mut bytes = Vec::new();
            for part in key {
                push_part(&mut bytes, *part);
            }
            index.entry(bytes).or_insert(i as u32);
        }
        let null = new_null_array(values[0].data_type(), 1);
        let mut blocks: Vec<&dyn Array> = values.iter().map(AsRef::as_ref).collect();
        blocks.push(null.as_ref());
        Ok(Mapping {
            index,
            parts,
            width,
            values: concat(&blocks)?,
            folds: values.len(),
        })
    }
}

/// The scalar function; build its expression with [`lookup`].
#[derive(Debug)]
pub(crate) struct Lookup {
    signature: Signature,
    mapping: Arc<Mapping>,
    /// Whether the last argument is the fold.
    folded: bool,
}

impl PartialEq for Lookup {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.mapping, &other.mapping) && self.folded == other.folded
    }
}

impl Eq for Lookup {}

impl Hash for Lookup {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.mapping).hash(state);
    }
}

/// `mapping` applied to the `keys` (as many as its key parts), and with
/// `fold` when it holds values per fold.
pub(crate) fn lookup(mapping: Mapping, keys: Vec<Expr>, fold: Option<Expr>) -> Expr {
    let folded = fold.is_some();
    let mut args = keys;
    args.extend(fold);
    ScalarUDF::from(Lookup {
        signature: Signature::variadic_any(Volatility::Immutable),
        mapping: Arc::new(mapping),
        folded,
    })
    .call(args)
}

impl ScalarUDFImpl for Lookup {
    fn name(&self) -> &str {
        "lookup"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.mapping.values.data_type().clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let m = &self.mapping;
        let folded = self.folded;
        if args.args.len() != m.parts + usize::from(folded) {
            return exec_err!(
                "lookup: {} arguments for {} key columns",
                args.args.len(),
                m.parts
            );
        }
        let rows = args.number_rows;
        let keys: Vec<ArrayRef> = args.args[..m.parts]
            .iter()
            .map(|a| cast(&a.to_array(rows)?, &DataType::Utf8).map_err(Into::into))
            .collect::<Result<_>>()?;
        let keys: Vec<_> = keys.iter().map(|a| a.as_string::<i32>()).collect();
        let fold = match folded {
            true => Some(cast(&args.args[m.parts].to_array(rows)?, &DataType::Int64)?),
            false => None,
        };
        let fold = fold.as_ref().map(|f| f.as_primitive::<Int64Type>());
        let bad_fold = (m.folds * m.width) as u32;
        let mut key = Vec::new();
        let picks: UInt32Array = (0..rows)
            .map(|r| {
                let block = match fold {
                    None => 0,
                    Some(f) if f.is_null(r) => return Some(bad_fold),
                    Some(f) => match usize::try_from(f.value(r)) {
                        Ok(b) if b < m.folds => b,
                        _ => return Some(bad_fold),
                    },
                };
                key.clear();
                for k in &keys {
                    push_part(&mut key, (!k.is_null(r)).then(|| k.value(r)));
                }
                let entry = m.index.get(&key).map_or(m.width - 1, |i| *i as usize);
                Some((block * m.width + entry) as u32)
            })
            .collect();
        Ok(ColumnarValue::Array(take(&m.values, &picks, None)?))
    }
}
