//! Trailing per-entity features: temporal trends and time-window
//! aggregations, computed by one registered operator.
//!
//! A [`TemporalSpec`] lists output columns ([`TemporalFeature`]: source,
//! [`Method`], [`Window`], `min_periods`); [`TemporalNode::plan`] appends them
//! to a logical plan. The engine partitions the input by entity and sorts it
//! by entity and time (spilling under the memory limit), and the operator
//! streams over the sorted rows, one entity history at a time. An input that
//! comes in that order already (a file that declares it) is read as one
//! stream instead, without repartition or merge ([`TemporalExec::in_one_stream`]).
//!
//! Semantics (see `docs/features.md`): missing values (null or NaN) are
//! ignored inside a window; a rows window `n` is the current row and the
//! `n − 1` before it; a calendar window is the rows whose time is in
//! `(t − span, t]`, so gaps in a history never stretch it.
//!
//! ```
//! use scorelake::functions::temporal::{Method, TemporalFeature, TemporalNode, TemporalSpec, Window};
//! use scorelake::session::Session;
//! use scorelake::config::Config;
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let session = Session::new(Config::default())?;
//! let df = session.ctx().sql(
//!     "SELECT * FROM (VALUES (1, 1, 10.0), (1, 2, 13.0), (1, 3, 19.0), (2, 1, 5.0)) AS t(id, period, x)"
//! ).await?;
//! let spec = TemporalSpec {
//!     entity: vec!["id".into()],
//!     time: "period".into(),
//!     features: vec![TemporalFeature {
//!         output: "x_delta".into(),
//!         source: "x".into(),
//!         method: Method::Delta,
//!         window: Window::Rows(1),
//!         min_periods: 1,
//!     }],
//! };
//! let (state, plan) = df.into_parts();
//! let df = datafusion::dataframe::DataFrame::new(state, TemporalNode::plan(plan, spec)?);
//! let rows = df.sort_by(vec![datafusion::prelude::col("id"), datafusion::prelude::col("period")])?.collect().await?;
//! let text = datafusion::arrow::util::pretty::pretty_format_batches(&rows)?.to_string();
//! assert!(text.contains("| 1  | 3      | 19.0 | 6.0     |"), "{text}");
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

mod exec;
mod histories;
mod kernel;
mod one_stream;
mod rows_kernel;
mod spec;

pub use exec::{TemporalExec, TemporalNode, TemporalPlanner, planners};
pub use kernel::{minus, month_position};
pub(crate) use one_stream::OneStream;
pub use spec::{Agg, Method, Span, TemporalFeature, TemporalSpec, Window};
