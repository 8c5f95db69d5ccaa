//! Predicates for row-group pruning by statistics.

use std::cmp::Ordering;

use arrow_schema::DataType;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::chunk::le_int;
use crate::error::{NcfError, Result, corrupt};
use crate::footer::Stats;

/// A literal to compare a column with, or a statistics bound.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Integers, dates, timestamps and decimals (unscaled).
    Int(i128),
    /// Floating point.
    Float(f64),
    /// Text or bytes, compared bytewise.
    Bytes(Vec<u8>),
    /// Boolean.
    Bool(bool),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
}

/// A condition on rows; row groups whose statistics rule it out are skipped.
///
/// ```
/// use ncf::{Op, Predicate, Value};
/// let late = Predicate::cmp("days_past_due", Op::GtEq, Value::Int(90));
/// let p = Predicate::And(vec![late, Predicate::IsNotNull("balance".into())]);
/// # let _ = p;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Predicate {
    /// `column op value`
    Cmp {
        /// Column name.
        column: String,
        /// Operator.
        op: Op,
        /// Literal.
        value: Value,
    },
    /// `column IN (values)`
    In {
        /// Column name.
        column: String,
        /// Literals.
        values: Vec<Value>,
    },
    /// `column IS NULL`
    IsNull(String),
    /// `column IS NOT NULL`
    IsNotNull(String),
    /// All must hold.
    And(Vec<Predicate>),
    /// One must hold.
    Or(Vec<Predicate>),
}

/// Type, statistics and row count of a column in one row group.
pub(crate) type Lookup<'a> = dyn Fn(&str) -> Option<(DataType, &'a Stats, u64)> + 'a;

impl Predicate {
    /// `column op value`.
    pub fn cmp(column: &str, op: Op, value: Value) -> Self {
        Predicate::Cmp {
            column: column.to_string(),
            op,
            value,
        }
    }

    /// Whether a row group with these statistics may hold a matching row.
    pub fn may_match(&self, lookup: &Lookup<'_>) -> Result<bool> {
        let find = |column: &str| {
            lookup(column).ok_or_else(|| {
                NcfError::Invalid(format!("predicate names unknown column `{column}`"))
            })
        };
        Ok(match self {
            Predicate::And(ps) => {
                for p in ps {
                    if !p.may_match(lookup)? {
                        return Ok(false);
                    }
                }
                true
            }
            Predicate::Or(ps) => {
                for p in ps {
                    if p.may_match(lookup)? {
                        return Ok(true);
                    }
                }
                ps.is_empty()
            }
            Predicate::IsNull(c) => {
                let (_, stats, _) = find(c)?;
                stats.null_count.is_none_or(|n| n > 0)
            }
            Predicate::IsNotNull(c) => {
                let (_, stats, rows) = find(c)?;
                stats.null_count.is_none_or(|n| n < rows)
            }
            Predicate::Cmp { column, op, value } => {
                let (t, stats, rows) = find(column)?;
                match bounds(&t, stats, rows, column)? {
                    Bounds::Empty => false,
                    Bounds::Unknown => true,
                    Bounds::Range(min, max) => {
                        let lo = compare(&min, value, column)?;
                        let hi = compare(&max, value, column)?;
                        use Ordering::*;
                        match op {
                            Op::Eq => lo != Greater && hi != Less,
                            Op::NotEq => !(lo == Equal && hi == Equal),
                            Op::Lt => lo == Less,
                            Op::LtEq => lo != Greater,
                            Op::Gt => hi == Greater,
                            Op::GtEq => hi != Less,
                        }
                    }
                }
            }
            Predicate::In { column, values } => {
                let (t, stats, rows) = find(column)?;
                match bounds(&t, stats, rows, column)? {
                    Bounds::Empty => false,
                    Bounds::Unknown => true,
                    Bounds::Range(min, max) => {
                        let mut any = false;
                        for v in values {
                            any |= compare(&min, v, column)? != Ordering::Greater
                                && compare(&max, v, column)? != Ordering::Less;
                        }
                        any
                    }
                }
            }
        })
    }
}

enum Bounds {
    /// Every row is null: no comparison can hold.
    Empty,
    /// No usable statistics.
    Unknown,
    Range(Value, Value),
}

fn bounds(t: &DataType, stats: &Stats, rows: u64, column: &str) -> Result<Bounds> {
    if stats.null_count == Some(rows) {
        return Ok(Bounds::Empty);
    }
    let (Some(min), Some(max)) = (&stats.min, &stats.max) else {
        return Ok(Bounds::Unknown);
    };
    let decode = |s: &str| bound(t, s, &format_args!("column `{column}`"));
    Ok(Bounds::Range(decode(min)?, decode(max)?))
}

/// A statistics bound (base64 of the plain encoding) as a value of type `t`;
/// a bound that does not decode is corrupt, `what` says where it is.
pub(crate) fn bound(t: &DataType, base64: &str, what: &dyn std::fmt::Display) -> Result<Value> {
    let bytes = B64
        .decode(base64)
        .map_err(|e| corrupt(format!("{what}: statistics are not base64: {e}")))?;
    value_of(t, &bytes).ok_or_else(|| corrupt(format!("{what}: statistics do not fit type {t}")))
}

/// A statistics bound (`min` or `max`, base64 of the plain encoding) as a value of type `t`.
///
/// ```
/// use arrow_schema::DataType;
/// assert_eq!(ncf::stat_value(&DataType::Int32, "KgAAAA=="), Some(ncf::Value::Int(42)));
/// ```
pub fn stat_value(t: &DataType, base64: &str) -> Option<Value> {
    value_of(t, &B64.decode(base64).ok()?)
}

/// A statistics value from its plain encoding.
fn value_of(t: &DataType, b: &[u8]) -> Option<Value> {
    use DataType::*;
    let int = |signed: bool| le_int(b, signed).map(Value::Int);
    match t {
        Boolean => b.first().map(|&v| Value::Bool(v != 0)),
        Int8 | Int16 | Int32 | Int64 | Date32 | Timestamp(..) | Decimal128(..) => int(true),
        UInt8 | UInt16 | UInt32 | UInt64 => int(false),
        Float32 => Some(Value::Float(f64::from(f32::from_le_bytes(
            b.try_into().ok()?,
        )))),
        Float64 => Some(Value::Float(f64::from_le_bytes(b.try_into().ok()?))),
        Utf8 | Binary => Some(Value::Bytes(b.to_vec())),
        _ => None,
    }
}

fn compare(a: &Value, b: &Value, column: &str) -> Result<Ordering> {
    let mismatch = || {
        NcfError::Invalid(format!(
            "cannot compare column `{column}` ({a:?}) with {b:?}"
        ))
    };
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).ok_or_else(mismatch)?,
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y).ok_or_else(mismatch)?,
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)).ok_or_else(mismatch)?,
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => return Err(mismatch()),
    })
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::NotEq => "<>",
            Op::Lt => "<",
            Op::LtEq => "<=",
            Op::Gt => ">",
            Op::GtEq => ">=",
        })
    }
}

/// SQL-like text, e.g. `days_past_due >= 90 AND region IN ("N", "S")`.
impl std::fmt::Display for Predicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let join = |f: &mut std::fmt::Formatter<'_>, ps: &[Predicate], sep: &str| {
            for (i, p) in ps.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                match p {
                    Predicate::And(_) | Predicate::Or(_) => write!(f, "({p})")?,
                    _ => write!(f, "{p}")?,
                }
            }
            Ok(())
        };
        match self {
            Predicate::Cmp { column, op, value } => write!(f, "{column} {op} {value}"),
            Predicate::In { column, values } => {
                write!(f, "{column} IN (")?;
                for (i, v) in values.iter().enumerate() {
                    write!(f, "{}{v}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str(")")
            }
            Predicate::IsNull(c) => write!(f, "{c} IS NULL"),
            Predicate::IsNotNull(c) => write!(f, "{c} IS NOT NULL"),
            Predicate::And(ps) => join(f, ps, " AND "),
            Predicate::Or(ps) => join(f, ps, " OR "),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => write!(f, "{s:?}"),
                Err(_) => b.iter().try_for_each(|x| write!(f, "{x:02x}")),
            },
        }
    }
}
