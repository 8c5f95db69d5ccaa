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

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, UInt32Array, new_null_array,
};
use datafusion::arrow::compute::{cast, concat, take};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::common::{DataFusionError, Result, exec_err};
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

/// The lookup `udf` is, as bytes another process turns back into the same
/// function with [`from_bytes`]; `None` when `udf` is not a lookup.
pub(crate) fn to_bytes(udf: &ScalarUDF) -> Result<Option<Vec<u8>>> {
    let Some(lookup) = udf.inner().downcast_ref::<Lookup>() else {
        return Ok(None);
    };
    let m = &lookup.mapping;
    let mut out = Vec::new();
    for n in [
        m.parts,
        m.width,
        m.folds,
        usize::from(lookup.folded),
        m.index.len(),
    ] {
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
    for (key, entry) in &m.index {
        out.extend_from_slice(&(key.len() as u64).to_le_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(&entry.to_le_bytes());
    }
    let schema = Arc::new(Schema::new(vec![Field::new(
        "values",
        m.values.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::clone(&m.values)])?;
    let mut writer = StreamWriter::try_new(&mut out, &schema)?;
    writer.write(&batch)?;
    writer.finish()?;
    Ok(Some(out))
}

/// Reads the parts of [`to_bytes`]'s output in order.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(DataFusionError::Internal(
                "a lookup's bytes are cut short".into(),
            ));
        }
        let (part, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(part)
    }

    fn number(&mut self) -> Result<usize> {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(self.bytes(8)?);
        Ok(u64::from_le_bytes(raw) as usize)
    }
}

/// The lookup [`to_bytes`] wrote.
pub(crate) fn from_bytes(bytes: &[u8]) -> Result<ScalarUDF> {
    let mut cursor = Cursor(bytes);
    let [parts, width, folds, folded, entries] = [(); 5].map(|()| cursor.number());
    let (parts, width, folds, folded, entries) = (parts?, width?, folds?, folded?, entries?);
    let mut index = HashMap::with_capacity(entries.min(bytes.len()));
    for _ in 0..entries {
        let len = cursor.number()?;
        let key = cursor.bytes(len)?.to_vec();
        let mut raw = [0u8; 4];
        raw.copy_from_slice(cursor.bytes(4)?);
        index.insert(key, u32::from_le_bytes(raw));
    }
    let mut reader = StreamReader::try_new(cursor.0, None)?;
    let Some(batch) = reader.next() else {
        return exec_err!("a lookup's values are missing");
    };
    let mapping = Mapping {
        index,
        parts,
        width,
        values: Arc::clone(batch?.column(0)),
        folds,
    };
    Ok(ScalarUDF::from(Lookup {
        signature: Signature::variadic_any(Volatility::Immutable),
        mapping: Arc::new(mapping),
        folded: folded != 0,
    }))
}
