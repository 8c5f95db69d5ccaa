//! Reading a recipe's `params` into typed values: each key is asked for by
//! name and type, and keys no operation asked for are refused by name.

use std::num::NonZeroU32;

use serde_json::{Map, Value};

use super::output::Fallback;

/// The `params` of one recipe, read key by key.
pub(crate) struct Reader<'a> {
    map: &'a Map<String, Value>,
    asked: Vec<&'static str>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Reader {
            map,
            asked: Vec::new(),
        }
    }

    /// The value of `key` as a `T` (a missing key and `null` read alike).
    pub(crate) fn get<T: Param>(&mut self, key: &'static str) -> Result<T, String> {
        self.asked.push(key);
        T::read(key, self.map.get(key).filter(|v| !v.is_null()))
    }

    /// Refuses a key that `operation` did not ask for, with the closest one
    /// it takes.
    pub(crate) fn finish(self, operation: &str) -> Result<(), String> {
        let Some(key) = self.map.keys().find(|k| !self.asked.contains(&k.as_str())) else {
            return Ok(());
        };
        if self.asked.is_empty() {
            return Err(format!(
                "unknown param `{key}`: `{operation}` takes no params"
            ));
        }
        Err(format!(
            "unknown param `{key}` for `{operation}`{}; expected one of: {}",
            did_you_mean(key, &self.asked),
            self.asked.join(", ")
        ))
    }
}

/// ` (did you mean `x`?)` for the candidate closest to `name`, when it is
/// close; else nothing.
pub(crate) fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    crate::error::closest(name, candidates.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// A type a param is read as; `value` is `None` when the key is missing.
pub(crate) trait Param: Sized {
    /// Reads the value of `key`; errors name the key and what it expects.
    fn read(key: &str, value: Option<&Value>) -> Result<Self, String>;
}

/// An optional param of one JSON shape.
trait Scalar: Sized {
    /// What the value must be, for errors.
    const EXPECTED: &'static str;
    fn from_value(value: &Value) -> Option<Self>;
}

impl<T: Scalar> Param for Option<T> {
    fn read(key: &str, value: Option<&Value>) -> Result<Self, String> {
        value
            .map(|v| {
                T::from_value(v)
                    .ok_or_else(|| format!("param {key}: expected {}, got {v}", T::EXPECTED))
            })
            .transpose()
    }
}

impl Scalar for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_value(value: &Value) -> Option<Self> {
        value.as_f64().filter(|x| x.is_finite())
    }
}

impl Scalar for NonZeroU32 {
    const EXPECTED: &'static str = "a whole number greater than 0";
    fn from_value(value: &Value) -> Option<Self> {
        value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .and_then(NonZeroU32::new)
    }
}

impl Scalar for bool {
    const EXPECTED: &'static str = "true or false";
    fn from_value(value: &Value) -> Option<Self> {
        value.as_bool()
    }
}

impl Scalar for String {
    const EXPECTED: &'static str = "text";
    fn from_value(value: &Value) -> Option<Self> {
        value.as_str().map(String::from)
    }
}

impl Scalar for Vec<f64> {
    const EXPECTED: &'static str = "a list of numbers";
    fn from_value(value: &Value) -> Option<Self> {
        value.as_array()?.iter().map(f64::from_value).collect()
    }
}

/// `null` (default), `zero`, or a number.
impl Param for Fallback {
    fn read(key: &str, value: Option<&Value>) -> Result<Self, String> {
        match value {
            None => Ok(Fallback::Null),
            Some(Value::String(s)) if s == "null" => Ok(Fallback::Null),
            Some(Value::String(s)) if s == "zero" => Ok(Fallback::Value(0.0)),
            Some(v) => match f64::from_value(v) {
                Some(x) => Ok(Fallback::Value(x)),
                None => Err(format!(
                    "param {key}: expected null, zero or a number, got {v}"
                )),
            },
        }
    }
}

/// Group columns: `global` (the default, no columns), one column or a list.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Scope(pub Vec<String>);

impl Param for Scope {
    fn read(key: &str, value: Option<&Value>) -> Result<Self, String> {
        match value {
            None => Ok(Scope::default()),
            Some(Value::String(s)) if s == "global" => Ok(Scope::default()),
            Some(Value::String(s)) => Ok(Scope(vec![s.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| format!("param {key}: expected column names, got {v}"))
                })
                .collect::<Result<_, _>>()
                .map(Scope),
            Some(v) => Err(format!(
                "param {key}: expected global or a list of columns, got {v}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reader_of(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn wrong_types_name_the_key_and_what_it_takes() {
        let map = reader_of(json!({"periods": "two", "lower": true, "on_zero": "nan"}));
        let mut p = Reader::new(&map);
        assert_eq!(
            p.get::<Option<NonZeroU32>>("periods").unwrap_err(),
            "param periods: expected a whole number greater than 0, got \"two\""
        );
        assert_eq!(
            p.get::<Option<f64>>("lower").unwrap_err(),
            "param lower: expected a number, got true"
        );
        assert_eq!(
            p.get::<Fallback>("on_zero").unwrap_err(),
            "param on_zero: expected null, zero or a number, got \"nan\""
        );
    }

    #[test]
    fn unknown_keys_are_named_with_the_closest_known_one() {
        let map = reader_of(json!({"min_period": 2}));
        let mut p = Reader::new(&map);
        assert_eq!(p.get::<Option<NonZeroU32>>("min_periods"), Ok(None));
        assert_eq!(
            p.finish("momentum").unwrap_err(),
            "unknown param `min_period` for `momentum` (did you mean `min_periods`?); expected one of: min_periods"
        );
        let map = reader_of(json!({"base": 2}));
        assert_eq!(
            Reader::new(&map).finish("sqrt").unwrap_err(),
            "unknown param `base`: `sqrt` takes no params"
        );
    }
}
