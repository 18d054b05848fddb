//! OpenAPI value validation of a pruned, defaulted object, with the causes the API server gives
//! (kube-openapi's validator as mapped by `apiextensions-apiserver`'s
//! `ValidateCustomResource`): wrong type, required, enum, object and list limits, list-type
//! uniqueness, junctors; scalar checks are in [`scalar`].

mod scalar;

use serde_json::Value;

use super::{
    cause::{FieldCause, child, index, reason},
    node::{Additional, ListType, Node, Type},
};

/// Validates `value` against `node`, appending one cause per violation.
pub(crate) fn validate(node: &Node, value: &Value, path: &str, out: &mut Vec<FieldCause>) {
    if value.is_null() {
        let typed = node.type_.is_some() || node.int_or_string;
        if typed && !node.nullable {
            out.push(type_error(node, path, "null"));
        }
        return;
    }
    if !type_matches(node, value) {
        out.push(type_error(node, path, data_type(value)));
        return;
    }
    if let Some(allowed) = &node.enum_values
        && !allowed.iter().any(|a| same_value(a, value))
    {
        let supported: Vec<String> = allowed
            .iter()
            .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
            .collect();
        out.push(FieldCause::not_supported(path, value, &supported));
    }
    match value {
        Value::Object(map) => {
            for key in &node.required {
                if !map.contains_key(key) {
                    out.push(FieldCause::required(&child(path, key), ""));
                }
            }
            if let Some(max) = node.max_properties
                && map.len() as u64 > max
            {
                out.push(FieldCause::too_many(path, map.len(), max));
            }
            if let Some(min) = node.min_properties
                && (map.len() as u64) < min
            {
                let detail = format!("{} in body should have at least {min} properties", at(path));
                out.push(FieldCause::invalid(path, &map.len().into(), &detail));
            }
            for (key, child_value) in map {
                let child_node = match (node.properties.get(key), &node.additional) {
                    (Some(n), _) => n,
                    (None, Additional::Schema(n)) => n,
                    _ => continue,
                };
                validate(child_node, child_value, &child(path, key), out);
            }
        }
        Value::Array(items) => {
            validate_list(node, items, path, out);
            if let Some(item_node) = &node.items {
                for (i, item) in items.iter().enumerate() {
                    validate(item_node, item, &index(path, i), out);
                }
            }
        }
        scalar => scalar::validate(node, scalar, path, out),
    }
    validate_junctors(node, value, path, out);
}

/// Whether a cause stops the evaluation of CEL rules, as in the API server (rules would see
/// values of the wrong shape).
pub(crate) fn is_blocking(cause: &FieldCause) -> bool {
    [
        reason::NOT_SUPPORTED,
        reason::REQUIRED,
        reason::TOO_LONG,
        reason::TOO_MANY,
        reason::TYPE_INVALID,
    ]
    .contains(&cause.reason.as_str())
}

/// The field name kube-openapi puts in its messages (`body` itself at the root).
pub(crate) fn at(path: &str) -> String {
    if path.is_empty() {
        " in body".to_string()
    } else {
        format!("{path} in body")
    }
}

fn validate_list(node: &Node, items: &[Value], path: &str, out: &mut Vec<FieldCause>) {
    if let Some(max) = node.max_items
        && items.len() as u64 > max
    {
        out.push(FieldCause::too_many(path, items.len(), max));
    }
    if let Some(min) = node.min_items
        && (items.len() as u64) < min
    {
        let detail = format!("{} should have at least {min} items", at(path));
        out.push(FieldCause::invalid(path, &items.len().into(), &detail));
    }
    let keys: Vec<Value> = match &node.list_type {
        None => return,
        Some(ListType::Set) => items.to_vec(),
        Some(ListType::Map(key_names)) => items
            .iter()
            .map(|item| {
                let entry = key_names
                    .iter()
                    .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
                    .collect();
                Value::Object(entry)
            })
            .collect(),
    };
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].iter().any(|earlier| same_value(earlier, key)) {
            out.push(FieldCause::duplicate(&index(path, i), key));
        }
    }
}

fn validate_junctors(node: &Node, value: &Value, path: &str, out: &mut Vec<FieldCause>) {
    for branch in &node.all_of {
        validate(branch, value, path, out);
    }
    let results = |branches: &[Node]| -> Vec<Vec<FieldCause>> {
        branches
            .iter()
            .map(|b| {
                let mut causes = Vec::new();
                validate(b, value, path, &mut causes);
                causes
            })
            .collect()
    };
    if !node.any_of.is_empty() {
        let runs = results(&node.any_of);
        if runs.iter().all(|r| !r.is_empty()) {
            let detail = format!("{} must validate at least one schema (anyOf)", at(path));
            out.push(FieldCause::invalid(path, value, &detail));
            out.extend(runs.into_iter().next().unwrap_or_default());
        }
    }
    if !node.one_of.is_empty() {
        let runs = results(&node.one_of);
        let passed = runs.iter().filter(|r| r.is_empty()).count();
        if passed != 1 {
            let detail = format!("{} must validate one and only one schema (oneOf)", at(path));
            out.push(FieldCause::invalid(path, value, &detail));
            if passed == 0 {
                out.extend(runs.into_iter().next().unwrap_or_default());
            }
        }
    }
    if let Some(not) = &node.not {
        let mut causes = Vec::new();
        validate(not, value, path, &mut causes);
        if causes.is_empty() {
            let detail = format!("{} must not validate the schema (not)", at(path));
            out.push(FieldCause::invalid(path, value, &detail));
        }
    }
}

fn type_matches(node: &Node, value: &Value) -> bool {
    if node.int_or_string {
        return is_integer(value) || value.is_string();
    }
    match node.type_ {
        None => true,
        Some(Type::Object) => value.is_object(),
        Some(Type::Array) => value.is_array(),
        Some(Type::String) => value.is_string(),
        // A float with an integral value is an integer in JSON, as kube-openapi accepts it.
        Some(Type::Integer) => is_integer(value),
        Some(Type::Number) => value.is_number(),
        Some(Type::Boolean) => value.is_boolean(),
    }
}

fn type_error(node: &Node, path: &str, found: &str) -> FieldCause {
    let expected = if node.int_or_string {
        "integer,string"
    } else {
        node.type_.map_or("object", Type::name)
    };
    let detail = format!("{} must be of type {expected}: \"{found}\"", at(path));
    FieldCause::type_invalid(path, &Value::String(found.to_string()), &detail)
}

pub(crate) fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

/// The JSON type name kube-openapi reports for a value.
fn data_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests;
