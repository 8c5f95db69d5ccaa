//! Several bin columns as one Int64 group key. Grouping by one primitive
//! key hashes and compares one value per row where grouping by the bin
//! columns themselves takes one per column; the bins are read back from
//! the key after grouping, so the grouped rows are the same.

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, cast, lit};

use super::binning::{VariableBins, bin_column};
use crate::expr::column;

/// Bin columns packed into one key: each column's bin less its lowest bin,
/// times the product of the spans of the columns before it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PackedBins {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
struct Part {
    column: String,
    low: i64,
    span: i64,
    stride: i64,
}

impl PackedBins {
    /// The bin columns of `variables`, whose bins (from the lowest special
    /// bin to the highest regular one) are every number their bin column
    /// can hold. `None` for fewer than two variables or when the key
    /// would not fit an Int64.
    pub(crate) fn of(variables: &[VariableBins]) -> Option<Self> {
        if variables.len() < 2 {
            return None;
        }
        let mut parts = Vec::with_capacity(variables.len());
        let mut stride: i64 = 1;
        for v in variables {
            let low = i64::from(v.bins.iter().map(|b| b.bin).min()?);
            let high = i64::from(v.bins.iter().map(|b| b.bin).max()?);
            let span = high - low + 1;
            parts.push(Part {
                column: bin_column(&v.column),
                low,
                span,
                stride,
            });
            stride = stride.checked_mul(span)?;
        }
        Some(Self { parts })
    }

    /// The number of keys the bin columns take: the stride of anything
    /// packed after them.
    pub(crate) fn span(&self) -> i64 {
        self.parts.last().map_or(1, |p| p.stride * p.span)
    }

    /// Whether `name` is one of the packed bin columns.
    pub(crate) fn holds(&self, name: &str) -> bool {
        self.parts.iter().any(|p| p.column == name)
    }

    /// The key of a row, from its bin columns.
    pub(crate) fn key(&self) -> Expr {
        let mut parts = self
            .parts
            .iter()
            .map(|p| (cast(column(&p.column), DataType::Int64) - lit(p.low)) * lit(p.stride));
        let first = parts.next().unwrap_or_else(|| lit(0i64));
        parts.fold(first, |key, part| key + part)
    }

    /// The bin column `name` read back from `key`, as Int32 (`None` when
    /// `name` is not packed).
    pub(crate) fn unpacked(&self, key: Expr, name: &str) -> Option<Expr> {
        let p = self.parts.iter().find(|p| p.column == name)?;
        let bin = (key / lit(p.stride)) % lit(p.span) + lit(p.low);
        Some(cast(bin, DataType::Int32).alias(name))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{AsArray, Int32Array, RecordBatch};
    use datafusion::arrow::datatypes::Int32Type;
    use datafusion::prelude::{SessionContext, col};
    use std::sync::Arc;

    use super::*;

    fn variable(column: &str, bins: std::ops::RangeInclusive<i32>) -> VariableBins {
        let json = format!(
            r#"{{"column": "{column}", "kind": "numeric", "method": "quantile", "iv": 0, "bins": [{}]}}"#,
            bins.map(|b| format!(
                r#"{{"bin": {b}, "label": "", "count": 0, "share": 0, "counts": {{"non_events": 0, "events": 0}}, "woe": 0, "iv": 0}}"#
            ))
            .collect::<Vec<_>>()
            .join(",")
        );
        serde_json::from_str(&json).expect("a variable")
    }

    /// Every combination of bins, packed and read back, is itself, and no
    /// two combinations share a key.
    #[tokio::test]
    async fn keys_read_back_to_their_bins() {
        let vars = [
            variable("a", -2..=11),
            variable("b", 0..=3),
            variable("c", -1..=5),
        ];
        let packed = PackedBins::of(&vars).expect("packable");
        let mut rows: [Vec<i32>; 3] = Default::default();
        for a in -2..=11 {
            for b in 0..=3 {
                for c in -1..=5 {
                    for (r, v) in rows.iter_mut().zip([a, b, c]) {
                        r.push(v);
                    }
                }
            }
        }
        let batch = RecordBatch::try_from_iter(
            ["a_bin", "b_bin", "c_bin"].into_iter().zip(
                rows.iter()
                    .map(|r| Arc::new(Int32Array::from(r.clone())) as _),
            ),
        )
        .unwrap();
        let df = SessionContext::new().read_batch(batch).unwrap();
        let keyed = df.select(vec![packed.key().alias("k")]).unwrap();
        let back = keyed
            .clone()
            .select(
                ["a_bin", "b_bin", "c_bin"]
                    .map(|n| packed.unpacked(col("k"), n).unwrap())
                    .to_vec(),
            )
            .unwrap()
            .collect()
            .await
            .unwrap();
        for (i, r) in rows.iter().enumerate() {
            let got: Vec<i32> = back
                .iter()
                .flat_map(|b| b.column(i).as_primitive::<Int32Type>().values().to_vec())
                .collect();
            assert_eq!(&got, r);
        }
        let keys = keyed.distinct().unwrap().count().await.unwrap();
        assert_eq!(keys, rows[0].len());
        assert!(packed.holds("b_bin") && !packed.holds("b"));
    }

    #[test]
    fn one_variable_or_an_overflowing_key_is_not_packed() {
        assert_eq!(PackedBins::of(&[variable("a", 0..=3)]), None);
        let wide: Vec<VariableBins> = (0..17)
            .map(|i| variable(&format!("v{i}"), 0..=15))
            .collect();
        assert!(PackedBins::of(&wide[..15]).is_some());
        assert_eq!(PackedBins::of(&wide), None);
    }
}
