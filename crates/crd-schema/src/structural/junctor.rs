//! Structural rules inside `allOf`/`anyOf`/`oneOf`/`not`: value validations only, on fields
//! the skeleton also specifies.

use serde_json::{Map, Value, json};

use super::{super::cause::FieldCause, check_keywords};

/// Keywords a junctor branch must not set (`type` has its own message).
const FORBIDDEN: [&str; 12] = [
    "default",
    "description",
    "title",
    "nullable",
    "additionalProperties",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
];

/// Checks every junctor of a skeleton node.
pub(super) fn check_all(
    node: &Map<String, Value>,
    path: &str,
    int_or_string: bool,
    out: &mut Vec<FieldCause>,
) {
    for (name, branches) in junctors(node) {
        for (i, branch) in branches.iter().enumerate() {
            // The two spellings of int-or-string older generators emit are allowed.
            if int_or_string && is_int_or_string_pattern(name, i, branch, &branches) {
                continue;
            }
            let branch_path = branch_path(path, name, i, branches.len());
            check_branch(branch, &branch_path, node, path, out);
        }
    }
}

fn junctors(node: &Map<String, Value>) -> Vec<(&'static str, Vec<&Value>)> {
    let mut found = Vec::new();
    for name in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = node.get(name).and_then(Value::as_array) {
            found.push((name, branches.iter().collect()));
        }
    }
    if let Some(not) = node.get("not") {
        found.push(("not", vec![not]));
    }
    found
}

fn branch_path(path: &str, name: &str, i: usize, count: usize) -> String {
    match (name, count) {
        ("not", 1) => format!("{path}.not"),
        _ => format!("{path}.{name}[{i}]"),
    }
}

/// With `x-kubernetes-int-or-string`, `anyOf: [{type: integer}, {type: string}]` (directly, or
/// alone in `allOf[0]`) is allowed: older generators spell int-or-string that way.
fn is_int_or_string_pattern(name: &str, i: usize, branch: &Value, branches: &[&Value]) -> bool {
    let any_of = json!([{"type": "integer"}, {"type": "string"}]);
    match (name, i) {
        ("anyOf", _) => Value::Array(branches.iter().map(|b| (*b).clone()).collect()) == any_of,
        ("allOf", 0) => branch == &json!({ "anyOf": any_of }),
        _ => false,
    }
}

/// Checks one branch against the skeleton node at the same place.
fn check_branch(
    branch: &Value,
    path: &str,
    skeleton: &Map<String, Value>,
    skeleton_path: &str,
    out: &mut Vec<FieldCause>,
) {
    let Some(node) = branch.as_object() else {
        out.push(FieldCause::invalid(path, branch, "must be a schema object"));
        return;
    };
    check_keywords(node, path, out);
    if node.contains_key("type") {
        out.push(FieldCause::forbidden(
            &format!("{path}.type"),
            "must be empty to be structural",
        ));
    }
    for key in FORBIDDEN.iter().filter(|k| node.contains_key(**k)) {
        let detail = "must be undefined to be structural";
        out.push(FieldCause::forbidden(&format!("{path}.{key}"), detail));
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        let skeleton_props = skeleton.get("properties").and_then(Value::as_object);
        for (key, child) in props {
            let child_path = format!("{path}.properties[{key}]");
            let skeleton_child_path = format!("{skeleton_path}.properties[{key}]");
            match skeleton_props
                .and_then(|p| p.get(key))
                .and_then(Value::as_object)
            {
                Some(skeleton_child) => check_branch(
                    child,
                    &child_path,
                    skeleton_child,
                    &skeleton_child_path,
                    out,
                ),
                None => out.push(FieldCause::required(
                    &skeleton_child_path,
                    &format!("because it is defined in {child_path}"),
                )),
            }
        }
    }
    if let Some(items) = node.get("items") {
        let items_path = format!("{path}.items");
        let skeleton_items_path = format!("{skeleton_path}.items");
        match skeleton.get("items").and_then(Value::as_object) {
            Some(skeleton_items) => check_branch(
                items,
                &items_path,
                skeleton_items,
                &skeleton_items_path,
                out,
            ),
            None => out.push(FieldCause::required(
                &skeleton_items_path,
                &format!("because it is defined in {items_path}"),
            )),
        }
    }
    for (name, branches) in junctors(node) {
        for (i, nested) in branches.iter().enumerate() {
            let nested_path = branch_path(path, name, i, branches.len());
            check_branch(nested, &nested_path, skeleton, skeleton_path, out);
        }
    }
}
