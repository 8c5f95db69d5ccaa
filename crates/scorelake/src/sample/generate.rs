//! Generating the panel: its schema, the spec, and the batches of each
//! customer range (see the [module](super) for what the data looks like).

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use chrono::Datelike;
pub use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, Date32Builder, Float64Builder, Int8Builder, Int32Builder, Int64Builder, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use futures::StreamExt;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Poisson, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::error::{Error, Result};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleSpec {
    /// Number of customers.
    pub customers: u64,
    /// Months in the panel.
    pub months: u32,
    /// Random seed; the same seed gives the same data.
    pub seed: u64,
    /// First month of the panel (its day is ignored).
    pub start: NaiveDate,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            customers: 10_000,
            months: 24,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default(),
        }
    }
}

impl SampleSpec {
    pub(crate) fn validate(&self) -> Result<()> {
        let out_of_range = |option: &str, expected: &str, got: String| Error::OutOfRange {
            context: "sample".into(),
            option: option.into(),
            expected: expected.into(),
            got,
        };
        if self.customers == 0 {
            return Err(out_of_range("customers", "at least 1", "0".into()));
        }
        if !(1..=1200).contains(&self.months) {
            return Err(out_of_range(
                "months",
                "between 1 and 1200",
                self.months.to_string(),
            ));
        }
        Ok(())
    }
}

/// The panel's schema.
pub fn schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("month", DataType::Date32, false),
            Field::new("balance", DataType::Float64, true),
            Field::new("credit_limit", DataType::Float64, true),
            Field::new("utilization", DataType::Float64, true),
            Field::new("payment", DataType::Float64, true),
            Field::new("days_past_due", DataType::Int32, true),
            Field::new("num_inquiries", DataType::Int32, true),
            Field::new("product", DataType::Utf8, false),
            Field::new("region", DataType::Utf8, true),
            Field::new("channel", DataType::Utf8, true),
            Field::new("default_flag", DataType::Int8, false),
        ]))
    });
    Arc::clone(&SCHEMA)
}

/// Customers generated per record batch (about 11k rows at 24 months).
const CUSTOMERS_PER_BATCH: u64 = 480;

/// The panel's batches, generated as they are read.
#[derive(Debug)]
pub(crate) struct PanelStream {
    spec: SampleSpec,
    progress: Option<Arc<AtomicU64>>,
    schema: SchemaRef,
}

impl PanelStream {
    /// The batches of `spec`'s panel; `progress` counts the customers done.
    pub(crate) fn new(spec: SampleSpec, progress: Option<Arc<AtomicU64>>) -> Self {
        PanelStream {
            spec,
            progress,
            schema: schema(),
        }
    }
}

impl PartitionStream for PanelStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Batches are generated in parallel (one blocking task per batch, as
    /// many in flight as the engine has partitions) and yielded in order.
    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let spec = Arc::new(self.spec.clone());
        let progress = self.progress.clone();
        let total = spec.customers;
        let in_flight = ctx.session_config().target_partitions().max(1);
        let batches = futures::stream::iter(0..total.div_ceil(CUSTOMERS_PER_BATCH))
            .map(move |b| {
                let spec = Arc::clone(&spec);
                let progress = progress.clone();
                tokio::task::spawn_blocking(move || {
                    let lo = b * CUSTOMERS_PER_BATCH;
                    let hi = (lo + CUSTOMERS_PER_BATCH).min(total);
                    let batch = generate(&spec, lo..hi);
                    if let Some(p) = &progress {
                        p.fetch_add(hi - lo, Ordering::Relaxed);
                    }
                    batch
                })
            })
            .buffered(in_flight)
            .map(|joined| match joined {
                Ok(Ok(batch)) => Ok(batch),
                Ok(Err(e)) => Err(DataFusionError::Execution(format!("sample: {e}"))),
                Err(e) => Err(DataFusionError::External(Box::new(e))),
            });
        Box::pin(RecordBatchStreamAdapter::new(schema(), batches))
    }
}

const PRODUCTS: &[(&str, f64)] = &[
    ("credit_card", 0.46),
    ("personal_loan", 0.24),
    ("auto_loan", 0.15),
    ("mortgage", 0.10),
    ("student_loan", 0.042),
    ("overdraft", 0.006),
    ("bnpl", 0.002),
];
/// Median credit limit per product, in the order of `PRODUCTS`.
const MEDIAN_LIMIT: [f64; 7] = [
    5_000.0, 12_000.0, 20_000.0, 200_000.0, 25_000.0, 1_000.0, 500.0,
];
const REGIONS: &[(&str, f64)] = &[
    ("north", 0.29),
    ("south", 0.25),
    ("east", 0.20),
    ("west", 0.15),
    ("central", 0.10),
    ("islands", 0.008),
    ("overseas", 0.002),
];
const CHANNELS: &[(&str, f64)] = &[
    ("online", 0.40),
    ("branch", 0.34),
    ("mobile", 0.20),
    ("broker", 0.055),
    ("partner", 0.005),
];

fn pick(rng: &mut impl Rng, choices: &[(&'static str, f64)]) -> (usize, &'static str) {
    let mut u: f64 = rng.random();
    for (i, (name, p)) in choices.iter().enumerate() {
        if u < *p {
            return (i, name);
        }
        u -= p;
    }
    let last = choices.len() - 1;
    (last, choices[last].0)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A customer's own random stream: a stable function of `(seed, id)`.
fn customer_rng(seed: u64, id: u64) -> Xoshiro256PlusPlus {
    let mixed = seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    Xoshiro256PlusPlus::seed_from_u64(mixed)
}

/// Days since 1970-01-01 of the first day of each panel month.
fn month_days(spec: &SampleSpec) -> Vec<i32> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let first = spec.start.with_day(1).unwrap_or(spec.start);
    (0..spec.months)
        .map(|m| {
            let d = first
                .checked_add_months(chrono::Months::new(m))
                .unwrap_or(first);
            (d - epoch).num_days() as i32
        })
        .collect()
}

/// Generates the rows of customers `range` (0-based; ids are `range + 1`).
pub fn generate(spec: &SampleSpec, range: Range<u64>) -> Result<RecordBatch> {
    spec.validate()?;
    let months = month_days(spec);
    let cap = (range.end - range.start) as usize * months.len();
    let mut b = Builders::with_capacity(cap);
    for idx in range {
        customer(spec.seed, idx + 1, &months, &mut b);
    }
    Ok(RecordBatch::try_new(schema(), b.finish())?)
}

struct Builders {
    customer_id: Int64Builder,
    month: Date32Builder,
    balance: Float64Builder,
    credit_limit: Float64Builder,
    utilization: Float64Builder,
    payment: Float64Builder,
    days_past_due: Int32Builder,
    num_inquiries: Int32Builder,
    product: StringBuilder,
    region: StringBuilder,
    channel: StringBuilder,
    default_flag: Int8Builder,
}

impl Builders {
    fn with_capacity(n: usize) -> Self {
        Builders {
            customer_id: Int64Builder::with_capacity(n),
            month: Date32Builder::with_capacity(n),
            balance: Float64Builder::with_capacity(n),
            credit_limit: Float64Builder::with_capacity(n),
            utilization: Float64Builder::with_capacity(n),
            payment: Float64Builder::with_capacity(n),
            days_past_due: Int32Builder::with_capacity(n),
            num_inquiries: Int32Builder::with_capacity(n),
            product: StringBuilder::with_capacity(n, n * 12),
            region: StringBuilder::with_capacity(n, n * 6),
            channel: StringBuilder::with_capacity(n, n * 6),
            default_flag: Int8Builder::with_capacity(n),
        }
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.customer_id.finish()),
            Arc::new(self.month.finish()),
            Arc::new(self.balance.finish()),
            Arc::new(self.credit_limit.finish()),
            Arc::new(self.utilization.finish()),
            Arc::new(self.payment.finish()),
            Arc::new(self.days_past_due.finish()),
            Arc::new(self.num_inquiries.finish()),
            Arc::new(self.product.finish()),
            Arc::new(self.region.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.default_flag.finish()),
        ]
    }
}

/// One customer's history, appended to the builders.
fn customer(seed: u64, id: u64, months: &[i32], b: &mut Builders) {
    let mut rng = customer_rng(seed, id);
    let rng = &mut rng;
    let normal = |rng: &mut Xoshiro256PlusPlus| -> f64 { StandardNormal.sample(rng) };
    let risk = normal(rng);
    let (product_idx, product) = pick(rng, PRODUCTS);
    let (_, region) = pick(rng, REGIONS);
    let (_, channel) = pick(rng, CHANNELS);
    let mut limit = (MEDIAN_LIMIT[product_idx] * (0.6 * normal(rng)).exp() / 100.0).round() * 100.0;
    limit = limit.max(100.0);
    let n = months.len();
    let start = if n > 1 && rng.random_bool(0.15) {
        rng.random_range(1..=12.min(n - 1))
    } else {
        0
    };
    let base_util = sigmoid(-0.6 + 0.6 * risk + 0.5 * normal(rng));
    let mut util = base_util;
    let pay_rate = (0.03 + 0.25 * sigmoid(-0.7 * risk + 0.6 * normal(rng))).clamp(0.01, 1.0);
    let inquiry_rate = 0.15 * (0.5 * risk).exp();
    // The default event: whether the customer defaults within the panel or
    // the year after it, and in which month (from the fifth month of its
    // history on). An event after the panel's end is censored: not in the
    // data. Delinquency builds up over the three months before it.
    let event = (n > start + 4 && rng.random_bool(sigmoid(-2.8 + 0.9 * risk)))
        .then(|| rng.random_range(start + 4..n + 12));
    let mut dpd: i32 = 0;

    for (t, &day) in months.iter().enumerate().skip(start) {
        // Months until the event (0: the event month; negative: after it).
        let to_event = event.map(|e| e as i64 - t as i64);
        let stressed = to_event.is_some_and(|k| (1..=6).contains(&k));
        if t > start && to_event.is_none_or(|k| k > 3) && rng.random_bool(0.003) {
            continue; // a missing month: the account was not reported
        }
        if risk < 0.5 && rng.random_bool(0.02) {
            limit = (limit * rng.random_range(1.1..1.3) / 100.0).round() * 100.0;
        }
        let drift = if stressed { 0.06 } else { 0.0 };
        util = (0.85 * util + 0.15 * base_util + drift + 0.05 * normal(rng)).clamp(0.0, 1.3);
        dpd = match to_event {
            // In default: 90 days in the event month, 30 more each month.
            Some(k) if k <= 0 => (90 + 30 * (-k) as i32).min(180),
            // Building up: 1–29, 31–59, 61–89 days.
            Some(k @ 1..=3) => 30 * (3 - k) as i32 + rng.random_range(1..30),
            // Otherwise late payments come and cure, below 90 days.
            _ if dpd > 0 => {
                if rng.random_bool(sigmoid(0.8 - 0.8 * risk)) {
                    0
                } else {
                    (dpd + 30).min(89)
                }
            }
            _ if rng.random_bool(sigmoid(-4.2 + 1.1 * risk + 1.5 * util)) => {
                rng.random_range(1..30)
            }
            _ => 0,
        };
        let balance = round2(util * limit);
        let payment = if dpd > 0 && rng.random_bool(0.7) {
            0.0
        } else {
            round2(balance * pay_rate)
        };

        let balance_null = rng.random_bool(0.01);
        let limit_null = rng.random_bool(0.005);
        b.customer_id.append_value(id as i64);
        b.month.append_value(day);
        b.balance.append_option((!balance_null).then_some(balance));
        b.credit_limit.append_option((!limit_null).then_some(limit));
        b.utilization
            .append_option((!balance_null && !limit_null).then(|| balance / limit));
        b.payment
            .append_option((!rng.random_bool(0.015)).then_some(payment));
        b.days_past_due
            .append_option((!rng.random_bool(0.005)).then_some(dpd));
        let rate = if stressed {
            3.0 * inquiry_rate
        } else {
            inquiry_rate
        };
        let inq = Poisson::new(rate).map_or(0.0, |p| p.sample(rng)) as i32;
        b.num_inquiries
            .append_option((!rng.random_bool(0.01)).then_some(inq));
        b.product.append_value(product);
        b.region
            .append_option((!rng.random_bool(0.01)).then_some(region));
        b.channel
            .append_option((!rng.random_bool(0.005)).then_some(channel));
        b.default_flag
            .append_value(i8::from(to_event.is_some_and(|k| k <= 0)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Float64Type, Int8Type, Int64Type};

    fn big() -> RecordBatch {
        let spec = SampleSpec {
            customers: 20_000,
            ..SampleSpec::default()
        };
        generate(&spec, 0..spec.customers).unwrap()
    }

    #[test]
    fn deterministic_and_independent_of_batching() {
        let spec = SampleSpec {
            customers: 300,
            ..SampleSpec::default()
        };
        let whole = generate(&spec, 0..300).unwrap();
        let parts = [
            generate(&spec, 0..120).unwrap(),
            generate(&spec, 120..300).unwrap(),
        ];
        let joined = datafusion::arrow::compute::concat_batches(&schema(), &parts).unwrap();
        assert_eq!(whole, joined);
        let other_seed = generate(
            &SampleSpec {
                seed: 7,
                ..spec.clone()
            },
            0..300,
        )
        .unwrap();
        assert_ne!(whole, other_seed);
    }

    #[test]
    fn looks_like_a_credit_panel() {
        let b = big();
        let rows = b.num_rows() as f64;
        let per_customer = rows / 20_000.0;
        assert!(
            (22.5..23.5).contains(&per_customer),
            "{per_customer} rows per customer"
        );

        // About 5 % of the customers default within the panel.
        let ids = b.column(0).as_primitive::<Int64Type>();
        let flags = b.column(11).as_primitive::<Int8Type>();
        let mut defaulted = std::collections::BTreeSet::new();
        let mut customers = std::collections::BTreeSet::new();
        for i in 0..b.num_rows() {
            customers.insert(ids.value(i));
            if flags.value(i) == 1 {
                defaulted.insert(ids.value(i));
            }
        }
        assert_eq!(customers.len(), 20_000);
        let rate = defaulted.len() as f64 / customers.len() as f64;
        assert!((0.035..0.07).contains(&rate), "default rate {rate}");

        // About 1-2 % nulls in the nullable measure columns.
        for col in [2, 3, 5, 6, 7, 9] {
            let share = b.column(col).null_count() as f64 / rows;
            assert!(
                (0.003..0.025).contains(&share),
                "column {col}: {share} nulls"
            );
        }

        // Rare categories exist and are rare.
        let product = b.column(8).as_string::<i32>();
        let bnpl = (0..b.num_rows())
            .filter(|&i| product.value(i) == "bnpl")
            .count() as f64;
        assert!(
            bnpl > 0.0 && bnpl / rows < 0.01,
            "bnpl share {}",
            bnpl / rows
        );

        // Utilisation is balance over limit, where both are known.
        let bal = b.column(2).as_primitive::<Float64Type>();
        let lim = b.column(3).as_primitive::<Float64Type>();
        let util = b.column(4).as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            if util.is_valid(i) {
                assert!((util.value(i) - bal.value(i) / lim.value(i)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn a_default_is_an_event_with_delinquency_building_up_before_it() {
        let b = big();
        let ids = b.column(0).as_primitive::<Int64Type>();
        let dpd = b
            .column(6)
            .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        let flags = b.column(11).as_primitive::<Int8Type>();
        let (mut events, mut built_up) = (0, 0);
        let mut i = 0;
        while i < b.num_rows() {
            let mut j = i;
            while j < b.num_rows() && ids.value(j) == ids.value(i) {
                j += 1;
            }
            // 0 before the event month, 1 from it on.
            let first = (i..j).find(|&r| flags.value(r) == 1);
            for r in i..j {
                assert_eq!(flags.value(r) == 1, first.is_some_and(|f| r >= f));
                // 90+ days past due exactly when in default.
                if dpd.is_valid(r) {
                    assert_eq!(dpd.value(r) >= 90, flags.value(r) == 1, "row {r}");
                }
            }
            if let Some(f) = first
                && f >= i + 3
            {
                events += 1;
                let before: Vec<i32> = (f - 3..f)
                    .map(|r| if dpd.is_valid(r) { dpd.value(r) } else { -1 })
                    .collect();
                if before[0] >= 1 && before[1] >= 30 && before[2] >= 60 {
                    built_up += 1;
                }
            }
            i = j;
        }
        assert!(events > 500, "{events} default events");
        // Nulls and missing months aside, every event is preceded by
        // 30-, 60- and 90-day delinquency.
        assert!(
            built_up as f64 > 0.95 * events as f64,
            "{built_up} of {events}"
        );
    }

    #[test]
    fn bad_specs_are_refused() {
        let e = generate(
            &SampleSpec {
                customers: 0,
                ..SampleSpec::default()
            },
            0..0,
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("`customers` must be at least 1")
        );
        let e = generate(
            &SampleSpec {
                months: 0,
                ..SampleSpec::default()
            },
            0..1,
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("`months` must be between 1 and 1200")
        );
    }
}
