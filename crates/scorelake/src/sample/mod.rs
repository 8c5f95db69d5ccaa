//! The synthetic credit panel: customers × months of account snapshots.
//!
//! Columns: `customer_id` int64, `month` date (first of month), `balance`,
//! `credit_limit`, `utilization`, `payment` float64, `days_past_due`,
//! `num_inquiries` int32, `product`, `region`, `channel` utf8 and
//! `default_flag` int8 (one value per customer).
//!
//! It looks like real data where it matters for credit-risk work: skewed
//! categories with rare levels (< 1 %), about 1 % nulls in most columns,
//! customers who join late, occasional missing months, delinquency that
//! persists and cures, and a default rate of about 5 % that rises with
//! delinquency and utilisation. Every customer is generated from its own
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

/// The panel as a lazy, streaming [`DataFrame`] (generated as it is consumed).
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
