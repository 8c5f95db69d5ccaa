//! `bin_weights(x, w, e1, …, ek)`: the weight of the rows in each bin cut by
//! the ascending inner edges `e1 < … < ek`, as a list of k + 2 numbers:
//! position 0 is the null bin (x null or NaN), positions 1..=k+1 the bins
//! `(−∞, e1], (e1, e2], …, (ek, ∞)` (right-closed, the end bins open, as
//! every ScoreLake binning). A row's bin is found by a branch-free count of
//! the edges below it (a binary search beyond 32 edges), so the cost per row
//! stays small however many bins there are, and one pass computes the bins
//! of many columns (and per group, with GROUP BY). Built with [`bin_weights`]
//! the function carries its edges and is called with `(x, w)` alone.
//!
//! Rows with a null weight add nothing; callers check weights first.

use std::borrow::Cow;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::expr::AggregateFunctionParams;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, GroupsAccumulator, Signature,
    Volatility, udaf_default_display_name, udaf_default_human_display, udaf_default_schema_name,
};
use datafusion::physical_expr::expressions::Literal;

use super::{add_float_lists, float_list, float_list_type};

/// The bin (0 for null or NaN, else 1..=k+1) of `x` among the ascending
/// inner edges: right-closed bins, end bins open.
///
/// ```
/// use scorelake::functions::bin_weights::bin_of;
/// let edges = [1.0, 2.0];
/// assert_eq!(bin_of(None, &edges), 0);
/// assert_eq!(bin_of(Some(-5.0), &edges), 1);
/// assert_eq!(bin_of(Some(1.0), &edges), 1);
/// assert_eq!(bin_of(Some(1.5), &edges), 2);
/// assert_eq!(bin_of(Some(9.0), &edges), 3);
/// ```
pub fn bin_of(x: Option<f64>, edges: &[f64]) -> usize {
    match x {
        // A branch-free count beats a binary search's mispredicted
        // branches up to a few dozen edges.
        Some(v) if !v.is_nan() && edges.len() <= 32 => {
            1 + edges.iter().map(|e| usize::from(*e < v)).sum::<usize>()
        }
        Some(v) if !v.is_nan() => 1 + edges.partition_point(|e| *e < v),
        _ => 0,
    }
}

/// The bins of `xs` (none null) as [`bin_of`] gives them, into `out`: edge
/// by edge over all values, which the compiler vectorises.
fn bins_of(xs: &[f64], edges: &[f64], out: &mut Vec<usize>) {
    out.clear();
    if edges.len() > 32 {
        out.extend(xs.iter().map(|x| bin_of(Some(*x), edges)));
        return;
    }
    // NaN is 0 and stays 0: no edge is below it.
    out.extend(xs.iter().map(|x| usize::from(!x.is_nan())));
    for e in edges {
        for (b, x) in out.iter_mut().zip(xs) {
            *b += usize::from(*e < *x);
        }
    }
}

/// The bins of `x` ([`bin_of`]: 0 where null or NaN) into `bins`. The
/// values are binned whole and the validity applied after, so nulls do not
/// take the rows one by one.
pub(crate) fn bins_of_array(x: &Float64Array, edges: &[f64], bins: &mut Vec<usize>) {
    bins_of(x.values(), edges, bins);
    if let Some(valid) = x.nulls() {
        for (b, v) in bins.iter_mut().zip(valid.iter()) {
            *b *= usize::from(v);
        }
    }
}

/// The bins of `x` ([`bins_of_array`]) into `bins`, and the weight each
/// row adds: `w`, or 0 where the weight is null or `filter` leaves the row
/// out.
fn bins_and_weights<'a>(
    x: &Float64Array,
    w: &'a Float64Array,
    edges: &[f64],
    filter: Option<&BooleanArray>,
    bins: &mut Vec<usize>,
) -> Cow<'a, [f64]> {
    bins_of_array(x, edges, bins);
    if w.null_count() == 0 && filter.is_none() {
        return Cow::Borrowed(w.values());
    }
    let kept = |r: usize| w.is_valid(r) && filter.is_none_or(|f| f.is_valid(r) && f.value(r));
    Cow::Owned(
        w.values()
            .iter()
            .enumerate()
            .map(|(r, v)| if kept(r) { *v } else { 0.0 })
            .collect(),
    )
}

/// Inner edges as [`bin_weights`] and `bin_index` need them: ascending,
/// equal ones (and −0.0 / 0.0) merged.
pub(crate) fn ascending_edges(mut edges: Vec<f64>) -> Vec<f64> {
    edges.sort_by(f64::total_cmp);
    edges.dedup_by(|a, b| a == b);
    edges
}

/// The aggregate function, to call with [`bin_weights`] (the edges carried
/// by the function) or from SQL as `bin_weights(x, w, e1, …, ek)` (the
/// edges as literal arguments).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BinWeights {
    signature: Signature,
    /// The inner edges' bit patterns when the function carries them: the
    /// engine evaluates every argument of an aggregate into a column per
    /// batch, so edges given as arguments would cost a column each.
    edges: Option<Vec<u64>>,
}

impl Default for BinWeights {
    fn default() -> Self {
        BinWeights {
            signature: Signature::variadic_any(Volatility::Immutable),
            edges: None,
        }
    }
}

impl BinWeights {
    /// The function with its ascending inner `edges`, called with `(x, w)`.
    pub(crate) fn with_edges(edges: &[f64]) -> Self {
        BinWeights {
            edges: Some(edges.iter().map(|e| e.to_bits()).collect()),
            ..BinWeights::default()
        }
    }

    /// The edges the function carries, if it does.
    pub(crate) fn edges(&self) -> Option<Vec<f64>> {
        self.edges
            .as_ref()
            .map(|bits| bits.iter().map(|b| f64::from_bits(*b)).collect())
    }

    /// The edges of one call: carried, or the literal arguments after `x`
    /// and `w`; strictly ascending numbers either way.
    fn edges_of(&self, args: &AccumulatorArgs) -> Result<Vec<f64>> {
        let edges = match self.edges() {
            Some(edges) => edges,
            None => literal_edges(args)?,
        };
        if edges.iter().any(|e| e.is_nan()) || edges.windows(2).any(|p| p[0] >= p[1]) {
            return plan_err!("bin_weights needs strictly ascending edges, got {edges:?}");
        }
        Ok(edges)
    }

    /// A name or display with the carried edges after it, so two calls
    /// with different edges never read the same.
    fn with_carried_edges(&self, text: String) -> String {
        match self.edges() {
            Some(edges) => format!("{text} edges {edges:?}"),
            None => text,
        }
    }
}

/// `bin_weights(x, w)` with the ascending inner `edges` carried by the
/// function: `x` and `w` Float64. Its value is a list of k + 2 weights.
pub fn bin_weights(x: Expr, w: Expr, edges: &[f64]) -> Expr {
    AggregateUDF::from(BinWeights::with_edges(edges)).call(vec![x, w])
}

impl AggregateUDFImpl for BinWeights {
    fn name(&self) -> &str {
        "bin_weights"
    }

    fn schema_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        Ok(self.with_carried_edges(udaf_default_schema_name(self, params)?))
    }

    fn display_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        Ok(self.with_carried_edges(udaf_default_display_name(self, params)?))
    }

    fn human_display(&self, params: &AggregateFunctionParams) -> Result<String> {
        Ok(self.with_carried_edges(udaf_default_human_display(self, params)?))
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let arity_ok = match self.edges {
            Some(_) => args.len() == 2,
            None => args.len() >= 2,
        };
        if !arity_ok || args[..2].iter().any(|t| t != &DataType::Float64) {
            return plan_err!("bin_weights takes (x DOUBLE, w DOUBLE, edges…)");
        }
        Ok(float_list_type())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Field::new(
                format_state_name(args.name, "weights"),
                float_list_type(),
                true,
            )
            .into(),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let edges = self.edges_of(&args)?;
        let weights = vec![0.0; edges.len() + 2];
        Ok(Box::new(Tally { edges, weights }))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let edges = self.edges_of(&args)?;
        Ok(Box::new(GroupTally {
            width: edges.len() + 2,
            edges,
            weights: Vec::new(),
        }))
    }
}

/// The edges `bin_weights` was called with in SQL: number literals.
fn literal_edges(args: &AccumulatorArgs) -> Result<Vec<f64>> {
    let mut edges = Vec::with_capacity(args.exprs.len().saturating_sub(2));
    for e in args.exprs.iter().skip(2) {
        match e.downcast_ref::<Literal>().map(|l| l.value()) {
            Some(ScalarValue::Float64(Some(v))) if !v.is_nan() => edges.push(*v),
            _ => return plan_err!("bin_weights needs its edges as number literals"),
        }
    }
    Ok(edges)
}

#[derive(Debug)]
struct Tally {
    edges: Vec<f64>,
    weights: Vec<f64>,
}

impl Accumulator for Tally {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let x = values[0].as_primitive::<Float64Type>();
        let w = values[1].as_primitive::<Float64Type>();
        let mut bins = Vec::with_capacity(x.len());
        let adds = bins_and_weights(x, w, &self.edges, None, &mut bins);
        for (b, w) in bins.iter().zip(adds.iter()) {
            self.weights[*b] += w;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        add_float_lists(&mut self.weights, &states[0], "bin_weights")
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(float_list(&self.weights))
    }

    fn size(&self) -> usize {
        size_of_val(self) + 8 * (self.edges.capacity() + self.weights.capacity())
    }
}

/// The bins' weights of every group at once (GROUP BY): one row of `width`
/// weights per group, each input row added to its group's row where it
/// lies, without splitting the batch by group first.
#[derive(Debug)]
struct GroupTally {
    edges: Vec<f64>,
    width: usize,
    /// `width` weights per group, group after group.
    weights: Vec<f64>,
}

impl GroupTally {
    /// The first groups' rows (as `emit_to` says) as a list per group;
    /// the rest move up.
    fn emit(&mut self, emit_to: EmitTo) -> ArrayRef {
        let groups = match emit_to {
            EmitTo::All => self.weights.len() / self.width,
            EmitTo::First(n) => n,
        };
        let taken: Vec<f64> = self.weights.drain(..groups * self.width).collect();
        Arc::new(ListArray::new(
            Arc::new(Field::new_list_field(DataType::Float64, true)),
            OffsetBuffer::from_lengths(std::iter::repeat_n(self.width, groups)),
            Arc::new(Float64Array::from(taken)),
            None,
        ))
    }
}

impl GroupsAccumulator for GroupTally {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.weights.resize(total_num_groups * self.width, 0.0);
        let x = values[0].as_primitive::<Float64Type>();
        let w = values[1].as_primitive::<Float64Type>();
        let mut bins = Vec::with_capacity(x.len());
        let adds = bins_and_weights(x, w, &self.edges, opt_filter, &mut bins);
        let (width, weights) = (self.width, &mut self.weights);
        for ((b, w), g) in bins.iter().zip(adds.iter()).zip(group_indices) {
            weights[g * width + b] += w;
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(self.emit(emit_to))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.emit(emit_to)])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.weights.resize(total_num_groups * self.width, 0.0);
        let lists = values[0].as_list::<i32>();
        for (r, g) in group_indices.iter().enumerate() {
            if lists.is_null(r) {
                continue;
            }
            let start = g * self.width;
            add_float_lists(
                &mut self.weights[start..start + self.width],
                &(Arc::new(lists.slice(r, 1)) as ArrayRef),
                "bin_weights",
            )?;
        }
        Ok(())
    }

    /// Each row as a group of its own (when partial aggregation is skipped).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let mut one = GroupTally {
            edges: self.edges.clone(),
            width: self.width,
            weights: Vec::new(),
        };
        let rows: Vec<usize> = (0..values[0].len()).collect();
        one.update_batch(values, &rows, opt_filter, rows.len())?;
        Ok(vec![one.emit(EmitTo::All)])
    }

    fn size(&self) -> usize {
        size_of_val(self) + 8 * (self.edges.capacity() + self.weights.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_one_plus_the_edges_below() {
        for k in [0, 5, 32, 33, 60] {
            let edges: Vec<f64> = (0..k).map(|i| f64::from(i) * 0.5 - 3.0).collect();
            for i in -200..600 {
                let x = f64::from(i) * 0.073;
                let below = edges.iter().position(|e| *e >= x).unwrap_or(edges.len());
                assert_eq!(bin_of(Some(x), &edges), 1 + below, "{x} with {k} edges");
            }
        }
        let edges = [1.0, 2.0];
        assert_eq!(bin_of(Some(f64::NAN), &edges), 0);
        assert_eq!(bin_of(Some(7.0), &[]), 1);
    }

    #[test]
    fn bins_of_many_values_equal_bin_of_each() {
        let xs: Vec<f64> = (-300..900)
            .map(|i| match i % 97 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                _ => f64::from(i) * 0.037,
            })
            .collect();
        let mut out = Vec::new();
        for k in [0, 1, 7, 32, 33, 50] {
            let edges: Vec<f64> = (0..k).map(|i| f64::from(i) * 0.6 - 5.0).collect();
            bins_of(&xs, &edges, &mut out);
            let want: Vec<usize> = xs.iter().map(|x| bin_of(Some(*x), &edges)).collect();
            assert_eq!(out, want, "{k} edges");
        }
    }

    /// Grouped weights, through every path of the engine's grouped
    /// aggregation (rows split over partitions and merged, FILTER, nulls,
    /// NaN, null weights), equal a plain loop over the rows.
    #[tokio::test]
    async fn grouped_weights_equal_a_loop_over_the_rows() {
        use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
        use datafusion::arrow::datatypes::Schema;
        use datafusion::catalog::MemTable;
        use datafusion::prelude::SessionContext;

        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d_u64);
        let n = 20_000;
        let g: Vec<i64> = (0..n).map(|_| (next() % 37) as i64).collect();
        let x: Vec<Option<f64>> = (0..n)
            .map(|_| match next() % 50 {
                0 => None,
                1 => Some(f64::NAN),
                v => Some(v as f64 * 0.1),
            })
            .collect();
        let w: Vec<Option<f64>> = (0..n)
            .map(|_| (!next().is_multiple_of(20)).then(|| (next() % 4) as f64 + 0.5))
            .collect();
        let edges = [0.5, 1.0, 2.5, 4.0];
        let schema = Arc::new(Schema::new(vec![
            Field::new("g", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
            Field::new("w", DataType::Float64, true),
        ]));
        let parts: Vec<Vec<RecordBatch>> = (0..3)
            .map(|p| {
                let rows: Vec<usize> = (0..n).filter(|r| r % 3 == p).collect();
                let batch = RecordBatch::try_new(
                    Arc::clone(&schema),
                    vec![
                        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| g[*r]))),
                        Arc::new(Float64Array::from_iter(rows.iter().map(|r| x[*r]))),
                        Arc::new(Float64Array::from_iter(rows.iter().map(|r| w[*r]))),
                    ],
                )
                .unwrap();
                vec![batch]
            })
            .collect();
        let ctx = SessionContext::new();
        ctx.register_udaf(AggregateUDF::from(BinWeights::default()));
        ctx.register_table("t", Arc::new(MemTable::try_new(schema, parts).unwrap()))
            .unwrap();
        let sql = "SELECT g, bin_weights(x, w, 0.5, 1.0, 2.5, 4.0) AS all_rows, \
                   bin_weights(x, w, 0.5, 1.0, 2.5, 4.0) FILTER (WHERE g % 2 = 0 OR w > 2.0) AS some_rows \
                   FROM t GROUP BY g";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut seen = 0;
        for b in &batches {
            let groups = b
                .column(0)
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            for r in 0..b.num_rows() {
                let group = groups.value(r);
                let mut all = vec![0.0; edges.len() + 2];
                let mut some = vec![0.0; edges.len() + 2];
                for i in (0..n).filter(|i| g[*i] == group) {
                    if let Some(wi) = w[i] {
                        all[bin_of(x[i], &edges)] += wi;
                        if group % 2 == 0 || wi > 2.0 {
                            some[bin_of(x[i], &edges)] += wi;
                        }
                    }
                }
                let got = |c: usize| super::super::float_list_at(b.column(c), r).unwrap();
                let close = |a: &[f64], b: &[f64]| {
                    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-9)
                };
                assert!(
                    close(&got(1), &all),
                    "group {group}: {:?} vs {all:?}",
                    got(1)
                );
                assert!(
                    close(&got(2), &some),
                    "group {group}: {:?} vs {some:?}",
                    got(2)
                );
                seen += 1;
            }
        }
        assert_eq!(seen, 37);
        // Without GROUP BY (one accumulator over every row).
        let sql = "SELECT bin_weights(x, w, 0.5, 1.0, 2.5, 4.0) FROM t";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut all = vec![0.0; edges.len() + 2];
        for i in 0..n {
            if let Some(wi) = w[i] {
                all[bin_of(x[i], &edges)] += wi;
            }
        }
        let got = super::super::float_list_at(batches[0].column(0), 0).unwrap();
        assert!(
            got.iter().zip(&all).all(|(a, b)| (a - b).abs() < 1e-9),
            "{got:?} vs {all:?}"
        );
    }

    /// Rows as groups of their own, and emitting the first groups, keep
    /// each group's weights.
    #[test]
    fn rows_as_states_and_partial_emits_keep_the_weights() {
        let values: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(vec![
                Some(0.5),
                None,
                Some(3.0),
                Some(1.5),
            ])),
            Arc::new(Float64Array::from(vec![
                Some(2.0),
                Some(1.0),
                None,
                Some(4.0),
            ])),
        ];
        let mut t = GroupTally {
            edges: vec![1.0, 2.0],
            width: 4,
            weights: Vec::new(),
        };
        let states = t.convert_to_state(&values, None).unwrap();
        let want = [
            [0.0, 2.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [0.0; 4],
            [0.0, 0.0, 4.0, 0.0],
        ];
        for (r, row) in want.iter().enumerate() {
            assert_eq!(super::super::float_list_at(&states[0], r).unwrap(), row);
        }
        t.update_batch(&values, &[0, 1, 0, 1], None, 2).unwrap();
        let first = t.evaluate(EmitTo::First(1)).unwrap();
        assert_eq!(
            super::super::float_list_at(&first, 0).unwrap(),
            [0.0, 2.0, 0.0, 0.0]
        );
        let rest = t.evaluate(EmitTo::All).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(
            super::super::float_list_at(&rest, 0).unwrap(),
            [1.0, 0.0, 4.0, 0.0]
        );
    }
}
