//! Value equality as server-side apply sees it: numbers are compared by value, so `0` and
//! `0.0` are the same number. A Go client (kubectl) sends a float64 field holding zero as `0`,
//! a Rust client as `0.0`; kube-apiserver decodes both into the same typed field, and an apply
//! that changes nothing but the spelling of a number must not conflict.

use serde_json::Value;

/// Whether `a` and `b` hold the same value, numbers compared numerically.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::same;

    #[test]
    fn numbers_are_compared_by_value_everywhere_in_a_value() {
        assert!(same(&json!(0), &json!(0.0)));
        assert!(same(
            &json!([{ "minimum": 0, "type": "integer" }]),
            &json!([{ "type": "integer", "minimum": 0.0 }])
        ));
        assert!(!same(&json!(1), &json!(1.5)));
        assert!(!same(&json!([0]), &json!([0, 0])));
        assert!(!same(&json!({ "a": 0 }), &json!({ "b": 0 })));
        assert!(!same(&json!("0"), &json!(0)));
        assert!(same(&json!(u64::MAX), &json!(u64::MAX)));
    }
}
