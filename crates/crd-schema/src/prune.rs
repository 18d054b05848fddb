//! Pruning: the API server drops every field its schema does not specify, then the `null`s
//! of non-nullable fields that have no default (`structuralpruning.Prune` and
//! `PruneNonNullableNullsWithoutDefaults`).

use serde_json::Value;

use super::node::{Additional, Node};

/// Fields of a resource (or embedded resource) root that are never pruned: they are type and
/// object metadata, handled by the API server itself.
const RESOURCE_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Removes unknown fields from `value` in place. `resource_root` keeps `apiVersion`, `kind`
/// and `metadata` at the top level.
pub(crate) fn prune(node: &Node, value: &mut Value, resource_root: bool) {
    match value {
        Value::Object(map) => {
            let keep_resource_fields = resource_root || node.embedded_resource;
            map.retain(|key, child| {
                if keep_resource_fields && RESOURCE_FIELDS.contains(&key.as_str()) {
                    return true;
                }
                match node.properties.get(key) {
                    Some(child_node) => {
                        prune(child_node, child, false);
                        true
                    }
                    None => match &node.additional {
                        Additional::Schema(child_node) => {
                            prune(child_node, child, false);
                            true
                        }
                        Additional::Any => true,
                        Additional::None => node.preserve_unknown || node.int_or_string,
                    },
                }
            });
        }
        Value::Array(items) => {
            if let Some(item_node) = &node.items {
                for item in items {
                    prune(item_node, item, false);
                }
            }
        }
        _ => {}
    }
}

/// Removes `null` values of fields that are neither nullable nor defaulted: the API server
/// treats them as absent.
pub(crate) fn prune_nulls(node: &Node, value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, child| {
                let Some(child_node) = node.field(key) else {
                    return true;
                };
                if child.is_null() {
                    return child_node.nullable || child_node.default.is_some();
                }
                prune_nulls(child_node, child);
                true
            });
        }
        Value::Array(items) => {
            if let Some(item_node) = &node.items {
                for item in items {
                    prune_nulls(item_node, item);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(schema: Value) -> Node {
        Node::parse(&schema)
    }

    #[test]
    fn drops_unknown_fields_and_keeps_resource_fields_at_the_root() {
        let n = node(json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {"a": {"type": "string"}}}}}));
        let mut v = json!({"apiVersion": "v", "kind": "K", "metadata": {"name": "x", "odd": 1},
            "spec": {"a": "1", "b": 2}, "extra": true});
        prune(&n, &mut v, true);
        assert_eq!(
            v,
            json!({"apiVersion": "v", "kind": "K", "metadata": {"name": "x", "odd": 1},
            "spec": {"a": "1"}})
        );
    }

    #[test]
    fn keeps_what_preserve_unknown_fields_and_maps_allow() {
        let n = node(json!({"type": "object", "properties": {
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                     "properties": {"known": {"type": "object", "properties": {}}}},
            "labels": {"type": "object", "additionalProperties": {"type": "object",
                       "properties": {"x": {"type": "string"}}}},
            "any": {"type": "object", "additionalProperties": true},
            "list": {"type": "array", "items": {"type": "object",
                     "properties": {"x": {"type": "string"}}}}}}));
        let mut v = json!({
            "free": {"anything": {"deep": 1}, "known": {"dropped": 1}},
            "labels": {"k": {"x": "1", "y": "2"}},
            "any": {"k": {"y": 1}},
            "list": [{"x": "1", "y": 2}]});
        prune(&n, &mut v, false);
        assert_eq!(
            v,
            json!({
            "free": {"anything": {"deep": 1}, "known": {}},
            "labels": {"k": {"x": "1"}},
            "any": {"k": {"y": 1}},
            "list": [{"x": "1"}]})
        );
    }

    #[test]
    fn drops_nulls_of_non_nullable_fields_without_default() {
        let n = node(json!({"type": "object", "properties": {
            "plain": {"type": "string"},
            "nullable": {"type": "string", "nullable": true},
            "defaulted": {"type": "string", "default": "d"},
            "inner": {"type": "object", "properties": {"plain": {"type": "string"}}}}}));
        let mut v = json!({"plain": null, "nullable": null, "defaulted": null,
            "inner": {"plain": null}, "unknown": null});
        prune_nulls(&n, &mut v);
        assert_eq!(
            v,
            json!({"nullable": null, "defaulted": null, "inner": {}, "unknown": null})
        );
    }
}
