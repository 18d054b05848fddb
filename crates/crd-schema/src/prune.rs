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
    prune_at(node, value, resource_root, "", &mut Vec::new());
}

/// [`prune`], recording the path of every field it drops (`spec.foo`,
/// `spec.template.spec.containers[0].nmae`), as the API server's strict field validation
/// names them.
pub(crate) fn prune_reporting(
    node: &Node,
    value: &mut Value,
    resource_root: bool,
    pruned: &mut Vec<String>,
) {
    prune_at(node, value, resource_root, "", pruned);
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn prune_at(
    node: &Node,
    value: &mut Value,
    resource_root: bool,
    path: &str,
    pruned: &mut Vec<String>,
) {
    match value {
        Value::Object(map) => {
            let keep_resource_fields = resource_root || node.embedded_resource;
            map.retain(|key, child| {
                if keep_resource_fields && RESOURCE_FIELDS.contains(&key.as_str()) {
                    return true;
                }
                let here = join(path, key);
                match node.properties.get(key) {
                    Some(child_node) => {
                        prune_at(child_node, child, false, &here, pruned);
                        true
                    }
                    None => match &node.additional {
                        Additional::Schema(child_node) => {
                            prune_at(child_node, child, false, &here, pruned);
                            true
                        }
                        Additional::Any => true,
                        Additional::None => {
                            let keep = node.preserve_unknown || node.int_or_string;
                            if !keep {
                                pruned.push(here);
                            }
                            keep
                        }
                    },
                }
            });
        }
        Value::Array(items) => {
            if let Some(item_node) = &node.items {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_at(item_node, item, false, &format!("{path}[{i}]"), pruned);
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
    fn reports_the_path_of_every_pruned_field() {
        let n = node(json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "list": {"type": "array", "items": {"type": "object",
                         "properties": {"name": {"type": "string"}}}}}}}}));
        let mut v = json!({"apiVersion": "v", "kind": "K", "metadata": {"name": "x"},
            "spec": {"replica": 1, "list": [{"name": "a"}, {"nmae": "b"}]}, "extra": true});
        let mut pruned = Vec::new();
        prune_reporting(&n, &mut v, true, &mut pruned);
        pruned.sort();
        assert_eq!(pruned, ["extra", "spec.list[1].nmae", "spec.replica"]);
        assert_eq!(v["spec"], json!({"list": [{"name": "a"}, {}]}));
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
