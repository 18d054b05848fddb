//! How each list of a resource merges under server-side apply, as the real server declares it:
//! for custom resources the schema's `x-kubernetes-list-type` and
//! `x-kubernetes-list-map-keys` (a list without them is atomic), for the built-in kinds the
//! `+listType` / `+listMapKey` markers of their Go types (the `list-types` crate).
//!
//! A list is looked up by the path of field names that leads to it (`spec.containers`; list
//! items add no step): the same field name can mean different lists (`ports` of a container
//! is keyed by `containerPort` and `protocol`, `ports` of a Service by `port` and `protocol`).

use std::{collections::BTreeMap, sync::Arc};

use serde_json::Value;

use super::fieldset::ListType;

/// The list types of one resource version.
#[derive(Clone, Debug, Default)]
pub enum Lists {
    /// A built-in kind: the markers of the Kubernetes types.
    #[default]
    Builtin,
    /// A custom resource: what its schema declares.
    Schema(Arc<Node>),
}

/// One schema node: its list type if it is a list, and its children.
#[derive(Debug, Default)]
pub struct Node {
    list: Option<ListType>,
    properties: BTreeMap<String, Node>,
    /// `additionalProperties`: the values of a map.
    values: Option<Box<Node>>,
    /// `items`: the items of a list.
    items: Option<Box<Node>>,
}

impl Node {
    /// The tree of an `openAPIV3Schema`.
    pub fn from_schema(schema: &Value) -> Self {
        let list = (schema.get("type").and_then(Value::as_str) == Some("array")).then(|| {
            match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("map") => ListType::Map(
                    schema
                        .get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|keys| {
                            keys.iter()
                                .filter_map(|k| k.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                Some("set") => ListType::Set,
                _ => ListType::Atomic,
            }
        });
        let child = |key: &str| {
            schema
                .get(key)
                .filter(|s| s.is_object())
                .map(|s| Box::new(Node::from_schema(s)))
        };
        Node {
            list,
            properties: schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| {
                    p.iter()
                        .map(|(k, s)| (k.clone(), Node::from_schema(s)))
                        .collect()
                })
                .unwrap_or_default(),
            values: child("additionalProperties"),
            items: child("items"),
        }
    }

    fn at(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for field in path {
            // List items add no step of the path: go through them.
            while let Some(items) = &node.items {
                node = items;
            }
            node = match node.properties.get(*field) {
                Some(n) => n,
                None => node.values.as_deref()?,
            };
        }
        Some(node)
    }
}

impl Lists {
    /// The list type of the list at `path` (field names from the object root).
    pub fn of(&self, path: &[&str]) -> ListType {
        match (self, path.first()) {
            // Object metadata is the same for every kind, custom resources included.
            (_, Some(&"metadata")) | (Lists::Builtin, _) => builtin(path),
            (Lists::Schema(root), _) => root
                .at(path)
                .and_then(|n| n.list.clone())
                .unwrap_or(ListType::Atomic),
        }
    }
}

/// The `+listType` markers of the Kubernetes types; lists without one are atomic.
fn builtin(path: &[&str]) -> ListType {
    match list_types::of(path) {
        list_types::ListType::Atomic => ListType::Atomic,
        list_types::ListType::Set => ListType::Set,
        list_types::ListType::Map(keys) => {
            ListType::Map(keys.iter().map(|k| k.to_string()).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn built_in_lists_follow_the_markers_of_the_types() {
        let b = Lists::Builtin;
        let keys = |l: ListType| match l {
            ListType::Map(k) => k.join(","),
            ListType::Set => "set".into(),
            ListType::Atomic => "atomic".into(),
        };
        // The table itself is tested in `list-types`.
        for (path, want) in [
            (&["spec", "containers"][..], "name"),
            (&["spec", "containers", "ports"], "containerPort,protocol"),
            (&["spec", "tolerations"], "atomic"),
            (&["metadata", "finalizers"], "set"),
        ] {
            assert_eq!(keys(b.of(path)), want, "{path:?}");
        }
    }

    #[test]
    fn custom_resources_use_their_schema() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": { "type": "object", "properties": {
                    "containers": { "type": "array", "items": { "type": "object", "properties": {
                        "ports": { "type": "array", "x-kubernetes-list-type": "map",
                                   "x-kubernetes-list-map-keys": ["port"],
                                   "items": { "type": "object" } } } } },
                    "tags": { "type": "array", "x-kubernetes-list-type": "set",
                              "items": { "type": "string" } },
                    "byZone": { "type": "object", "additionalProperties": {
                        "type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["node"] } },
                } },
            },
        });
        let l = Lists::Schema(Arc::new(Node::from_schema(&schema)));
        // Undeclared: atomic, whatever the field is called.
        assert_eq!(l.of(&["spec", "containers"]), ListType::Atomic);
        assert_eq!(
            l.of(&["spec", "containers", "ports"]),
            ListType::Map(vec!["port".into()])
        );
        assert_eq!(l.of(&["spec", "tags"]), ListType::Set);
        assert_eq!(
            l.of(&["spec", "byZone", "eu"]),
            ListType::Map(vec!["node".into()])
        );
        assert_eq!(l.of(&["spec", "unknown"]), ListType::Atomic);
        assert_eq!(l.of(&["metadata", "finalizers"]), ListType::Set);
    }
}
