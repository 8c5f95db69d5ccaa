//! The synthetic credit panel: customers × months of account snapshots.
//!
//! Columns: `customer_id` int64, `month` date (first of month), `balance`,
//! `credit_limit`, `utilization`, `payment` float64, `days_past_due`,
//! `num_inquiries` int32, `product`, `region`, `channel` utf8 and
//! `default_flag` int8 (0 before the customer's default event, 1 from the
//! event month on).
//!
//! It looks like real data where it matters for credit-risk work: skewed
//! categories with rare levels (< 1 %), about 1 % nulls in most columns,
//! customers who join late, occasional missing months, delinquency that
//! persists and cures, and default events: about 8 % of customers default
//! within the panel or the year after it (about 5 % within a 24-month
//! panel; later events are censored), more often the riskier they are,
//! with utilisation and inquiries rising over the six months before and
//! delinquency building up over the three before (1–29, 30–59 and 60–89
//! days); in the event month an account is 90 days past due, and 30 more
//! each month after. Other late payments cure before 90 days, so 90+ days
//! past due means in default. Targets are built from the event forward in
//! time (`target:` in a recipe file), not from `default_flag` on the same
//! row. Every customer is generated from its own
//! random stream seeded by `(seed, customer_id)`, so the data is identical
//! for a seed whatever the batch size or machine.
//!
//! ```
//! use scorelake::sample::{SampleSpec, generate};
//! let spec = SampleSpec { customers: 100, ..SampleSpec::default() };
//! let batch = generate(&spec, 0..100)?;
//! assert_eq!(batch.num_columns(), 12);
//! assert!(batch.num_rows() > 2000);
//! # Ok::<(), scorelake::Error>(())
//! ```

mod generate;
pub(crate) mod scan;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use datafusion::prelude::DataFrame;

pub use generate::{NaiveDate, SampleSpec, generate, schema};

use crate::error::Result;
use crate::session::Session;
use scan::PanelTable;

/// The order of the panel's rows: by customer, then month. [`dataframe`]
/// declares it to the engine; writers record it with
/// [`WriteOptions::sorted_by`](crate::io::WriteOptions::sorted_by).
pub const ORDER: [&str; 2] = ["customer_id", "month"];

/// The panel as a lazy, streaming [`DataFrame`] (generated as it is consumed),
/// in [`ORDER`].
///
/// `progress`, when given, is advanced by the number of customers generated.
pub fn dataframe(
    session: &Session,
    spec: &SampleSpec,
    progress: Option<Arc<AtomicU64>>,
) -> Result<DataFrame> {
    spec.validate()?;
    let table = PanelTable::new(spec.clone(), progress);
    Ok(session.ctx().read_table(Arc::new(table))?)
}
