//! Text segment columns as small integer codes, so that compression can
//! group by one Int64 key for the bins and the segments together.
//!
//! Codes are given as the rows meet the values (null is code 0), by one
//! dictionary per column that the query's partitions share; they are read
//! back to the values after grouping, when every row has been coded. The
//! codes of a value may differ between runs, its rows never do. The
//! dictionary lives in this process: plans that run on a cluster group by
//! the text itself.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, LargeStringArray, StringArray, StringViewArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Codes a column may take (`1..SPAN`; 0 is null).
pub(crate) const SPAN: i64 = 1 << 24;

/// A segment column met more distinct values than it has codes; the
/// grouping is then done again with the column as text (see [`too_many`]).
#[derive(Debug, thiserror::Error)]
#[error("segment column `{column}` has more than {codes} distinct values to code")]
pub(crate) struct TooManyValues {
    column: String,
    codes: i64,
}

/// Whether `e` was caused by [`TooManyValues`], however the engine wrapped it.
pub(crate) fn too_many(e: &DataFusionError) -> bool {
    matches!(e.find_root(), DataFusionError::External(inner) if inner.is::<TooManyValues>())
}

/// One column's dictionary: value → code, and the values by code.
#[derive(Debug)]
pub(crate) struct Codes {
    column: String,
    /// Codes it may give: `1..limit` ([`SPAN`]).
    limit: i64,
    inner: Mutex<(HashMap<String, i64>, Vec<String>)>,
}

impl Codes {
    /// An empty dictionary for `column`.
    pub(crate) fn new(column: &str) -> Arc<Self> {
        Arc::new(Codes {
            column: column.to_string(),
            limit: SPAN,
            inner: Mutex::default(),
        })
    }

    /// The codes of a text column's rows, new values given the next codes.
    fn code(&self, array: &ArrayRef) -> Result<Int64Array> {
        match array.data_type() {
            DataType::Utf8View => self.code_texts(array.as_string_view().iter(), array.len()),
            DataType::LargeUtf8 => self.code_texts(array.as_string::<i64>().iter(), array.len()),
            _ => {
                let text = cast(array, &DataType::Utf8)?;
                self.code_texts(text.as_string::<i32>().iter(), text.len())
            }
        }
    }

    fn code_texts<'a>(
        &self,
        texts: impl Iterator<Item = Option<&'a str>>,
        len: usize,
    ) -> Result<Int64Array> {
        // The batch's values so far, by linear search: segments have few.
        let mut seen: Vec<(&str, i64)> = Vec::new();
        let mut codes = Vec::with_capacity(len);
        for value in texts {
            let Some(value) = value else {
                codes.push(0);
                continue;
            };
            let code = match seen.iter().find(|(v, _)| *v == value) {
                Some(&(_, code)) => code,
                None => {
                    let code = self.code_of(value)?;
                    seen.push((value, code));
                    code
                }
            };
            codes.push(code);
        }
        Ok(Int64Array::from(codes))
    }

    fn code_of(&self, value: &str) -> Result<i64> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| DataFusionError::Internal("segment codes poisoned".into()))?;
        let (index, values) = &mut *inner;
        if let Some(&code) = index.get(value) {
            return Ok(code);
        }
        let code = values.len() as i64 + 1;
        if code >= self.limit {
            return Err(DataFusionError::External(Box::new(TooManyValues {
                column: self.column.clone(),
                codes: self.limit - 1,
            })));
        }
        index.insert(value.to_string(), code);
        values.push(value.to_string());
        Ok(code)
    }

    /// The values of `codes` (null for 0) as an array of type `ty`.
    fn values(&self, codes: impl Iterator<Item = i64>, ty: &DataType) -> Result<ArrayRef> {
        let inner = self
            .inner
            .lock()
            .map_err(|_| DataFusionError::Internal("segment codes poisoned".into()))?;
        let values = &inner.1;
        let texts: Vec<Option<&str>> = codes
            .map(|c| match c {
                0 => Ok(None),
                c => values
                    .get(c as usize - 1)
                    .map(|v| Some(v.as_str()))
                    .ok_or_else(|| {
                        DataFusionError::Internal(format!("segment code {c} was never given"))
                    }),
            })
            .collect::<Result<_>>()?;
        Ok(match ty {
            DataType::Utf8View => Arc::new(StringViewArray::from(texts)),
            DataType::LargeUtf8 => Arc::new(LargeStringArray::from(texts)),
            _ => Arc::new(StringArray::from(texts)),
        })
    }
}

/// Whether [`code`] takes columns of type `ty`.
pub(crate) fn codable(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
    )
}

/// The code of `column`'s value in each row, as Int64.
pub(crate) fn code(codes: &Arc<Codes>, column: Expr) -> Expr {
    ScalarUDF::from(Encode {
        codes: Arc::clone(codes),
        signature: Signature::any(1, Volatility::Volatile),
    })
    .call(vec![column])
}

/// The value (of type `ty`) whose code is `(key / stride) % SPAN`.
pub(crate) fn value(codes: &Arc<Codes>, key: Expr, stride: i64, ty: DataType) -> Expr {
    ScalarUDF::from(Decode {
        codes: Arc::clone(codes),
        stride,
        ty,
        signature: Signature::exact(vec![DataType::Int64], Volatility::Volatile),
    })
    .call(vec![key])
}

#[derive(Debug)]
struct Encode {
    codes: Arc<Codes>,
    signature: Signature,
}

impl PartialEq for Encode {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.codes, &other.codes)
    }
}

impl Eq for Encode {}

impl Hash for Encode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.codes).hash(state);
    }
}

impl ScalarUDFImpl for Encode {
    fn name(&self) -> &str {
        "segment_code"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [column] = &args.args[..] else {
            return Err(DataFusionError::Internal(
                "segment_code takes one column".into(),
            ));
        };
        let array = column.to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(Arc::new(self.codes.code(&array)?)))
    }
}

#[derive(Debug)]
struct Decode {
    codes: Arc<Codes>,
    stride: i64,
    ty: DataType,
    signature: Signature,
}

impl PartialEq for Decode {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.codes, &other.codes) && self.stride == other.stride && self.ty == other.ty
    }
}

impl Eq for Decode {}

impl Hash for Decode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.codes).hash(state);
        self.stride.hash(state);
    }
}

impl ScalarUDFImpl for Decode {
    fn name(&self) -> &str {
        "segment_value"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.ty.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [key] = &args.args[..] else {
            return Err(DataFusionError::Internal(
                "segment_value takes one key".into(),
            ));
        };
        let keys = key.to_array(args.number_rows)?;
        let keys = keys.as_primitive::<Int64Type>();
        let codes = keys.values().iter().map(|k| (k / self.stride) % SPAN);
        Ok(ColumnarValue::Array(self.codes.values(codes, &self.ty)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values coded in batches of different text types read back to
    /// themselves, nulls included; equal values share a code across
    /// batches.
    #[test]
    fn codes_read_back_to_their_values() {
        let codes = Codes::new("seg");
        let first: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            None,
            Some("a"),
            Some("b"),
        ]));
        let second: ArrayRef = Arc::new(StringViewArray::from(vec![Some("a"), Some("c"), None]));
        let one = codes.code(&first).unwrap();
        let two = codes.code(&second).unwrap();
        assert_eq!(one.values().to_vec(), vec![1, 0, 2, 1]);
        assert_eq!(two.values().to_vec(), vec![2, 3, 0]);
        // Packed with a stride of 10 (and something below it), read back.
        let back = codes
            .values(
                one.values().iter().map(|c| (c * 10 + 7) / 10 % SPAN),
                &DataType::Utf8,
            )
            .unwrap();
        assert_eq!(
            back.as_string::<i32>(),
            &StringArray::from(vec![Some("b"), None, Some("a"), Some("b")])
        );
        let back = codes
            .values(two.values().iter().copied(), &DataType::Utf8View)
            .unwrap();
        assert_eq!(
            back.as_string_view(),
            &StringViewArray::from(vec![Some("a"), Some("c"), None])
        );
        assert!(codes.values([9].into_iter(), &DataType::Utf8).is_err());
    }

    /// A column with more values than codes fails with [`TooManyValues`],
    /// recognised by [`too_many`] however the engine wraps it; other
    /// errors are not.
    #[test]
    fn too_many_values_are_told_apart_from_other_errors() {
        let codes = Codes {
            column: "seg".into(),
            limit: 3,
            inner: Mutex::default(),
        };
        let two: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "a"]));
        assert_eq!(codes.code(&two).unwrap().values().to_vec(), vec![1, 2, 1]);
        let three: ArrayRef = Arc::new(StringArray::from(vec!["b", "c"]));
        let e = codes.code(&three).unwrap_err();
        assert!(too_many(&e), "{e}");
        assert!(
            e.to_string()
                .contains("segment column `seg` has more than 2"),
            "{e}"
        );
        let wrapped = DataFusionError::Context("grouping".into(), Box::new(e));
        assert!(too_many(&wrapped));
        let other = DataFusionError::Execution("distinct values to code".into());
        assert!(!too_many(&other));
    }
}
