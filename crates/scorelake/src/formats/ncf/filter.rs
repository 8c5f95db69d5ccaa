//! Turning the engine's pushed-down filters into NCF pruning predicates.
//!
//! Only what statistics can decide is translated: comparisons and `IN` lists
//! between a column and literals of the column's own type, `IS [NOT] NULL`,
//! and `AND`/`OR` of those. Anything else becomes "may match": pruning is
//! always conservative and the engine still applies every filter to the rows.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{
    BinaryExpr, Column, InListExpr, IsNotNullExpr, IsNullExpr, Literal,
};
use ncf::{Op, Predicate, Value};

/// The pruning predicate for `expr` over `schema` (the table's file columns),
/// or `None` when statistics cannot rule anything out.
pub(super) fn to_predicate(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<Predicate> {
    let expr = expr.as_ref();
    if let Some(b) = expr.downcast_ref::<BinaryExpr>() {
        return binary(b, schema);
    }
    if let Some(e) = expr.downcast_ref::<IsNullExpr>() {
        return column(e.arg(), schema).map(|c| Predicate::IsNull(c.to_string()));
    }
    if let Some(e) = expr.downcast_ref::<IsNotNullExpr>() {
        return column(e.arg(), schema).map(|c| Predicate::IsNotNull(c.to_string()));
    }
    if let Some(e) = expr.downcast_ref::<InListExpr>() {
        if e.negated() {
            return None;
        }
        let name = column(e.expr(), schema)?;
        let values = e
            .list()
            .iter()
            .map(|v| literal_for(v, name, schema))
            .collect::<Option<Vec<_>>>()?;
        return Some(Predicate::In {
            column: name.to_string(),
            values,
        });
    }
    None
}

/// Whether `expr` is built only from file columns, literals, comparisons,
/// `AND`/`OR`, `IN` lists and null tests: deterministic, cheap, and safe to
/// evaluate in the scan ahead of the engine's own filter.
pub(super) fn is_simple(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> bool {
    let mut simple = true;
    let _ = expr.apply(|e| {
        let e = e.as_ref();
        let ok = if let Some(b) = e.downcast_ref::<BinaryExpr>() {
            matches!(b.op(), Operator::And | Operator::Or) || comparison(*b.op()).is_some()
        } else if let Some(c) = e.downcast_ref::<Column>() {
            schema.field_with_name(c.name()).is_ok()
        } else {
            e.downcast_ref::<Literal>().is_some()
                || e.downcast_ref::<InListExpr>().is_some()
                || e.downcast_ref::<IsNullExpr>().is_some()
                || e.downcast_ref::<IsNotNullExpr>().is_some()
        };
        simple &= ok;
        Ok(if ok {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    simple
}

fn binary(b: &BinaryExpr, schema: &Schema) -> Option<Predicate> {
    match b.op() {
        Operator::And => {
            let parts: Vec<_> = [b.left(), b.right()]
                .into_iter()
                .filter_map(|e| to_predicate(e, schema))
                .collect();
            match parts.len() {
                0 => None,
                _ => Some(Predicate::And(parts)),
            }
        }
        Operator::Or => Some(Predicate::Or(vec![
            to_predicate(b.left(), schema)?,
            to_predicate(b.right(), schema)?,
        ])),
        op => {
            let op = comparison(*op)?;
            if let Some(name) = column(b.left(), schema) {
                let value = literal_for(b.right(), name, schema)?;
                Some(Predicate::cmp(name, op, value))
            } else {
                let name = column(b.right(), schema)?;
                let value = literal_for(b.left(), name, schema)?;
                Some(Predicate::cmp(name, flip(op), value))
            }
        }
    }
}

fn comparison(op: Operator) -> Option<Op> {
    Some(match op {
        Operator::Eq => Op::Eq,
        Operator::NotEq => Op::NotEq,
        Operator::Lt => Op::Lt,
        Operator::LtEq => Op::LtEq,
        Operator::Gt => Op::Gt,
        Operator::GtEq => Op::GtEq,
        _ => return None,
    })
}

/// `v op c` as `c flip(op) v`.
fn flip(op: Op) -> Op {
    match op {
        Op::Lt => Op::Gt,
        Op::LtEq => Op::GtEq,
        Op::Gt => Op::Lt,
        Op::GtEq => Op::LtEq,
        same => same,
    }
}

/// The name of a plain column reference to a file column.
fn column<'a>(expr: &'a Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<&'a str> {
    let c = expr.as_ref().downcast_ref::<Column>()?;
    schema.field_with_name(c.name()).ok().map(|_| c.name())
}

/// A literal of exactly the column's type, as a statistics value.
fn literal_for(expr: &Arc<dyn PhysicalExpr>, name: &str, schema: &Schema) -> Option<Value> {
    let lit = expr.as_ref().downcast_ref::<Literal>()?;
    let field = schema.field_with_name(name).ok()?;
    if &lit.value().data_type() != field.data_type() {
        return None;
    }
    scalar_value(lit.value())
}

fn scalar_value(v: &ScalarValue) -> Option<Value> {
    use ScalarValue as S;
    let int = |x: Option<i128>| x.map(Value::Int);
    match v {
        S::Boolean(b) => b.map(Value::Bool),
        S::Int8(x) => int(x.map(i128::from)),
        S::Int16(x) => int(x.map(i128::from)),
        S::Int32(x) | S::Date32(x) => int(x.map(i128::from)),
        S::Int64(x)
        | S::TimestampSecond(x, _)
        | S::TimestampMillisecond(x, _)
        | S::TimestampMicrosecond(x, _)
        | S::TimestampNanosecond(x, _) => int(x.map(i128::from)),
        S::UInt8(x) => int(x.map(i128::from)),
        S::UInt16(x) => int(x.map(i128::from)),
        S::UInt32(x) => int(x.map(i128::from)),
        S::UInt64(x) => int(x.map(i128::from)),
        S::Decimal128(x, _, _) => int(*x),
        S::Float32(x) => x
            .filter(|f| !f.is_nan())
            .map(|f| Value::Float(f64::from(f))),
        S::Float64(x) => x.filter(|f| !f.is_nan()).map(Value::Float),
        S::Utf8(s) => s.as_ref().map(|s| Value::Bytes(s.as_bytes().to_vec())),
        S::Binary(b) => b.clone().map(Value::Bytes),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion::physical_expr::expressions::{col, in_list, is_null, lit};

    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("dpd", DataType::Int32, true),
            Field::new("region", DataType::Utf8, true),
            Field::new("balance", DataType::Float64, true),
        ])
    }

    fn bin(
        l: Arc<dyn PhysicalExpr>,
        op: Operator,
        r: Arc<dyn PhysicalExpr>,
    ) -> Arc<dyn PhysicalExpr> {
        Arc::new(BinaryExpr::new(l, op, r))
    }

    #[test]
    fn comparisons_translate_and_flip() {
        let s = schema();
        let dpd = col("dpd", &s).unwrap();
        assert_eq!(
            to_predicate(&bin(Arc::clone(&dpd), Operator::GtEq, lit(90i32)), &s),
            Some(Predicate::cmp("dpd", Op::GtEq, Value::Int(90)))
        );
        assert_eq!(
            to_predicate(&bin(lit(90i32), Operator::Lt, dpd), &s),
            Some(Predicate::cmp("dpd", Op::Gt, Value::Int(90)))
        );
    }

    #[test]
    fn mismatched_types_and_unknown_shapes_do_not_prune() {
        let s = schema();
        let dpd = col("dpd", &s).unwrap();
        // An Int64 literal against an Int32 column: not translated.
        assert_eq!(
            to_predicate(&bin(Arc::clone(&dpd), Operator::Eq, lit(1i64)), &s),
            None
        );
        // Column against column.
        assert_eq!(
            to_predicate(&bin(Arc::clone(&dpd), Operator::Eq, Arc::clone(&dpd)), &s),
            None
        );
        // OR with an untranslatable side cannot prune at all.
        let or = bin(
            bin(Arc::clone(&dpd), Operator::Eq, lit(1i32)),
            Operator::Or,
            bin(Arc::clone(&dpd), Operator::Eq, lit(1i64)),
        );
        assert_eq!(to_predicate(&or, &s), None);
        // AND keeps the part it understands.
        let and = bin(
            bin(Arc::clone(&dpd), Operator::Eq, lit(1i32)),
            Operator::And,
            bin(dpd, Operator::Eq, lit(1i64)),
        );
        assert_eq!(
            to_predicate(&and, &s),
            Some(Predicate::And(vec![Predicate::cmp(
                "dpd",
                Op::Eq,
                Value::Int(1)
            )]))
        );
    }

    #[test]
    fn only_plain_column_literal_logic_is_simple() {
        let s = schema();
        let dpd = col("dpd", &s).unwrap();
        let simple = bin(
            bin(Arc::clone(&dpd), Operator::GtEq, lit(90i32)),
            Operator::Or,
            is_null(col("region", &s).unwrap()).unwrap(),
        );
        assert!(is_simple(&simple, &s));
        let arithmetic = bin(
            bin(Arc::clone(&dpd), Operator::Plus, lit(1i32)),
            Operator::Gt,
            lit(90i32),
        );
        assert!(!is_simple(&arithmetic, &s));
        let nested = bin(simple, Operator::And, arithmetic);
        assert!(!is_simple(&nested, &s));
    }

    #[test]
    fn in_lists_and_null_tests() {
        let s = schema();
        let region = col("region", &s).unwrap();
        let list = in_list(Arc::clone(&region), vec![lit("N"), lit("S")], &false, &s).unwrap();
        assert_eq!(
            to_predicate(&list, &s),
            Some(Predicate::In {
                column: "region".into(),
                values: vec![Value::Bytes(b"N".to_vec()), Value::Bytes(b"S".to_vec())]
            })
        );
        let negated = in_list(Arc::clone(&region), vec![lit("N")], &true, &s).unwrap();
        assert_eq!(to_predicate(&negated, &s), None);
        assert_eq!(
            to_predicate(&is_null(region).unwrap(), &s),
            Some(Predicate::IsNull("region".into()))
        );
    }
}
