//! Defaulting as the API server does it (`structuraldefaulting.Default`): a missing field (or
//! a `null` one that is not nullable) whose schema has a `default` gets a copy of it, then
//! defaulting recurses into every field present, including the ones just defaulted. So a
//! defaulted `{}` gets its own fields' defaults, but nothing is invented under a parent that
//! is absent and has no default.

use serde_json::Value;

use super::{
    cause::FieldCause,
    node::{Additional, Node},
    prune, validate,
};

/// Applies the schema defaults to `value` in place.
pub(crate) fn apply(node: &Node, value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child_node) in &node.properties {
                let Some(default) = &child_node.default else {
                    continue;
                };
                match map.get(key) {
                    None => {
                        map.insert(key.clone(), default.clone());
                    }
                    Some(Value::Null) if !child_node.nullable => {
                        map.insert(key.clone(), default.clone());
                    }
                    Some(_) => {}
                }
            }
            for (key, child) in map.iter_mut() {
                if let Some(child_node) = node.properties.get(key) {
                    apply(child_node, child);
                } else if let Additional::Schema(child_node) = &node.additional {
                    replace_null(child_node, child);
                    apply(child_node, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_node) = &node.items {
                for item in items {
                    replace_null(item_node, item);
                    apply(item_node, item);
                }
            }
        }
        _ => {}
    }
}

/// Checks that every `default` of the schema is valid for its own node, as the API server
/// does when a CRD is created: pruning must not change it, and once defaulted itself it must
/// validate. `path` is the schema path of `node` (`openAPIV3Schema.properties[spec]`).
pub(crate) fn check_defaults(node: &Node, path: &str, out: &mut Vec<FieldCause>) {
    if let Some(default) = &node.default {
        let field = format!("{path}.default");
        let mut value = default.clone();
        prune::prune(node, &mut value, false);
        if &value != default {
            out.push(FieldCause::invalid(
                &field,
                default,
                "must not have unknown fields",
            ));
        } else {
            prune::prune_nulls(node, &mut value);
            apply(node, &mut value);
            let mut causes = Vec::new();
            validate::validate(node, &value, "", &mut causes);
            for mut cause in causes {
                cause.field = match cause.field.as_str() {
                    "<nil>" => field.clone(),
                    inner => format!("{field}.{inner}"),
                };
                out.push(cause);
            }
        }
    }
    for (key, child) in &node.properties {
        check_defaults(child, &format!("{path}.properties[{key}]"), out);
    }
    if let Some(items) = &node.items {
        check_defaults(items, &format!("{path}.items"), out);
    }
    if let Additional::Schema(child) = &node.additional {
        check_defaults(child, &format!("{path}.additionalProperties"), out);
    }
}

/// A `null` map value or list item that is not nullable takes the schema default.
fn replace_null(node: &Node, value: &mut Value) {
    if value.is_null()
        && !node.nullable
        && let Some(default) = &node.default
    {
        *value = default.clone();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn defaulted(schema: Value, mut value: Value) -> Value {
        apply(&Node::parse(&schema), &mut value);
        value
    }

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "strategy": {"type": "object", "properties": {
                "rollingUpdate": {"type": "object", "default": {}, "properties": {
                    "maxUnavailable": {"x-kubernetes-int-or-string": true, "default": 1}}},
                "canary": {"type": "object", "properties": {
                    "replicas": {"x-kubernetes-int-or-string": true, "default": 1}}},
                "frequency": {"type": "string", "default": "10s"}}}}})
    }

    #[test]
    fn defaults_recurse_into_defaulted_objects() {
        let v = defaulted(schema(), json!({"strategy": {}}));
        assert_eq!(
            v,
            json!({"strategy": {"rollingUpdate": {"maxUnavailable": 1}, "frequency": "10s"}})
        );
    }

    #[test]
    fn defaults_only_where_the_parent_exists() {
        assert_eq!(defaulted(schema(), json!({})), json!({}));
        let v = defaulted(schema(), json!({"strategy": {"canary": {}}}));
        assert_eq!(v["strategy"]["canary"], json!({"replicas": 1}));
    }

    #[test]
    fn set_values_are_kept_and_non_nullable_nulls_are_defaulted() {
        let v = defaulted(
            schema(),
            json!({"strategy": {"frequency": null, "rollingUpdate": {"maxUnavailable": "10%"}}}),
        );
        assert_eq!(v["strategy"]["frequency"], json!("10s"));
        assert_eq!(
            v["strategy"]["rollingUpdate"]["maxUnavailable"],
            json!("10%")
        );
    }

    #[test]
    fn invalid_defaults_are_reported_with_their_schema_path() {
        let n = Node::parse(&json!({"type": "object", "properties": {
            "a": {"type": "integer", "default": "x"},
            "b": {"type": "object", "default": {"c": 1}, "properties": {}},
            "ok": {"type": "object", "default": {}, "properties": {
                "d": {"type": "string", "default": "y", "pattern": "^y$"}}}}}));
        let mut out = Vec::new();
        check_defaults(&n, "openAPIV3Schema", &mut out);
        let fields: Vec<&str> = out.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "openAPIV3Schema.properties[a].default",
                "openAPIV3Schema.properties[b].default"
            ]
        );
        assert!(out[1].message.contains("must not have unknown fields"));
    }

    #[test]
    fn list_items_and_map_values_are_defaulted() {
        let s = json!({"type": "object", "properties": {
            "list": {"type": "array", "items": {"type": "object", "properties": {
                "p": {"type": "string", "default": "TCP"}}}},
            "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                "n": {"type": "integer", "default": 3}}}}}});
        let v = defaulted(s, json!({"list": [{}, {"p": "UDP"}], "map": {"a": {}}}));
        assert_eq!(
            v,
            json!({"list": [{"p": "TCP"}, {"p": "UDP"}], "map": {"a": {"n": 3}}})
        );
    }
}
