//! What the temporal operator computes: features, windows and their exact meaning.

use std::fmt;

use datafusion::arrow::datatypes::{DataType, Field};
use serde::{Deserialize, Serialize};

/// A span of calendar time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// Whole calendar months (`t − 6 months` keeps the day, clamped to the month's end).
    Months(u32),
    /// Days of 24 hours.
    Days(u32),
}

/// Which rows of an entity's history a feature looks at, for the row at time `t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// The current row and the `n − 1` rows before it.
    Rows(u32),
    /// Rows whose time is in `(t − span, t]`.
    Calendar(Span),
    /// Every row whose time is at most `t`.
    AllTime,
}

impl Window {
    /// Parses `6` (rows), `"6mo"`, `"90d"`, `"last_6_months"` or `"all_time"`.
    ///
    /// ```
    /// use scorelake::functions::temporal::{Span, Window};
    /// assert_eq!(Window::parse("6").unwrap(), Window::Rows(6));
    /// assert_eq!(Window::parse("last_6_months").unwrap(), Window::Calendar(Span::Months(6)));
    /// assert_eq!(Window::parse("90d").unwrap(), Window::Calendar(Span::Days(90)));
    /// assert!(Window::parse("0").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Window, String> {
        let t = text.trim();
        let positive = |digits: &str| -> Result<u32, String> {
            match digits.parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!(
                    "window `{text}`: expected a whole number of rows, months or days greater than 0"
                )),
            }
        };
        if t == "all_time" {
            return Ok(Window::AllTime);
        }
        if let Some(n) = t.strip_prefix("last_").and_then(|r| {
            r.strip_suffix("_months")
                .or_else(|| r.strip_suffix("_month"))
        }) {
            return Ok(Window::Calendar(Span::Months(positive(n)?)));
        }
        if let Some(n) = t.strip_suffix("mo") {
            return Ok(Window::Calendar(Span::Months(positive(n)?)));
        }
        if let Some(n) = t.strip_suffix('d') {
            return Ok(Window::Calendar(Span::Days(positive(n)?)));
        }
        if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() {
            return Ok(Window::Rows(positive(t)?));
        }
        Err(format!(
            "window `{text}`: expected rows (`6`), a calendar span (`6mo`, `90d`), \
             `last_N_months` or `all_time`"
        ))
    }

    /// True for windows measured in time, which need a date or timestamp column.
    pub fn is_calendar(self) -> bool {
        matches!(self, Window::Calendar(_))
    }
}

impl fmt::Display for Window {
    /// The suffix used in default output names: `6`, `6mo`, `90d`, `all_time`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Rows(n) => write!(f, "{n}"),
            Window::Calendar(Span::Months(n)) => write!(f, "{n}mo"),
            Window::Calendar(Span::Days(n)) => write!(f, "{n}d"),
            Window::AllTime => f.write_str("all_time"),
        }
    }
}

/// Aggregations over a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    /// Largest value.
    Max,
    /// Smallest value.
    Min,
    /// Arithmetic mean.
    Mean,
    /// Middle value (mean of the two middle values for an even count).
    Median,
    /// Sample standard deviation (ddof 1).
    Std,
    /// Sum.
    Sum,
    /// Number of non-null values (0 for none).
    Count,
    /// Earliest non-null value.
    First,
    /// Latest non-null value.
    Last,
    /// Largest minus smallest.
    Range,
    /// The worst status: the largest value (days past due, inquiries, …).
    Worst,
}

impl Agg {
    /// Every aggregation, in documentation order.
    pub const ALL: [Agg; 11] = [
        Agg::Max,
        Agg::Min,
        Agg::Mean,
        Agg::Median,
        Agg::Std,
        Agg::Sum,
        Agg::Count,
        Agg::First,
        Agg::Last,
        Agg::Range,
        Agg::Worst,
    ];

    /// The aggregation's name as written in recipes.
    pub fn name(self) -> &'static str {
        match self {
            Agg::Max => "max",
            Agg::Min => "min",
            Agg::Mean => "mean",
            Agg::Median => "median",
            Agg::Std => "std",
            Agg::Sum => "sum",
            Agg::Count => "count",
            Agg::First => "first",
            Agg::Last => "last",
            Agg::Range => "range",
            Agg::Worst => "worst",
        }
    }

    /// The aggregation named `name`, if any.
    pub fn from_name(name: &str) -> Option<Agg> {
        Agg::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// The operation behind one output column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// `x − lag(x)`; the window is the lag (rows back, or exactly one calendar span back).
    Delta,
    /// `(x − lag) / lag`, null when the lag is null or 0.
    PctChange,
    /// `x − mean(window)`.
    Momentum,
    /// Sample standard deviation of the window.
    Volatility,
    /// Standard deviation over mean (null when the mean is 0).
    VolatilityCv,
    /// Exact least-squares slope of x against position (rows) or time (months/days).
    TrendSlope,
    /// 1 + the number of window values strictly greater than x.
    RollingRank,
    /// Largest minus smallest value of the window.
    MinMaxRange,
    /// An aggregation of the window.
    Agg(Agg),
}

impl Method {
    /// The default `min_periods` (non-null values needed for a result).
    pub fn default_min_periods(self) -> u32 {
        match self {
            Method::Volatility
            | Method::VolatilityCv
            | Method::TrendSlope
            | Method::Agg(Agg::Std) => 2,
            _ => 1,
        }
    }

    /// True when the result is a whole number (rank, count).
    pub fn is_integer(self) -> bool {
        matches!(self, Method::RollingRank | Method::Agg(Agg::Count))
    }
}

/// One output column of the temporal operator.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TemporalFeature {
    /// Output column name.
    pub output: String,
    /// Numeric source column.
    pub source: String,
    /// What to compute.
    pub method: Method,
    /// Over which rows (for delta and pct_change: how far back the lag is).
    pub window: Window,
    /// Non-null values needed in the window for a result.
    pub min_periods: u32,
}

impl TemporalFeature {
    /// The output column: Int64 for whole-number methods, else Float64; nullable.
    pub fn field(&self) -> Field {
        let ty = if self.method.is_integer() {
            DataType::Int64
        } else {
            DataType::Float64
        };
        Field::new(&self.output, ty, true)
    }
}

/// Everything one temporal operator computes: per entity, ordered by time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TemporalSpec {
    /// Entity columns (empty: the whole table is one history).
    pub entity: Vec<String>,
    /// Time column (date, timestamp, or any orderable column for rows windows).
    pub time: String,
    /// Output columns, appended in this order.
    pub features: Vec<TemporalFeature>,
}
