//! How the lists of the Kubernetes built-in types merge under server-side apply, as the
//! `+listType` / `+listMapKey` markers of their Go types declare it (`k8s.io/api`), for the
//! lists of pods, pod templates, object metadata and Services.
//!
//! The API server uses these markers for the built-in kinds; a CustomResourceDefinition that
//! embeds a built-in type (a pod template) must repeat them in its schema as
//! `x-kubernetes-list-type` / `x-kubernetes-list-map-keys`, or every list of it is atomic.
//! [`annotate`] writes them into a generated schema.
//!
//! A list is named by the path of field names that leads to it (`spec.containers`; list items
//! add no step). The same field name can mean different lists: `ports` of a container is keyed
//! by `containerPort` and `protocol`, `ports` of a Service by `port` and `protocol`.

use serde_json::{Map, Value};

/// How a list merges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole (the default for a list without a marker).
    Atomic,
    /// A set of scalars, merged by value.
    Set,
    /// A list of objects merged by the values of these fields.
    Map(&'static [&'static str]),
}

/// The list type of the list at `path` (field names from the object root).
pub fn of(path: &[&str]) -> ListType {
    let Some((field, parents)) = path.split_last() else {
        return ListType::Atomic;
    };
    let parent = parents.last().copied().unwrap_or_default();
    let in_container = matches!(
        parent,
        "containers" | "initContainers" | "ephemeralContainers"
    );
    match *field {
        "finalizers" if parent == "metadata" => ListType::Set,
        "ownerReferences" if parent == "metadata" => ListType::Map(&["uid"]),
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => ListType::Map(&["name"]),
        "env" if in_container => ListType::Map(&["name"]),
        "volumeMounts" if in_container => ListType::Map(&["mountPath"]),
        "volumeDevices" if in_container => ListType::Map(&["devicePath"]),
        "ports" if in_container => ListType::Map(&["containerPort", "protocol"]),
        // The resources a container or a pod claims.
        "claims" if parent == "resources" => ListType::Map(&["name"]),
        // A Service's ports.
        "ports" if path == ["spec", "ports"] => ListType::Map(&["port", "protocol"]),
        "hostAliases" => ListType::Map(&["ip"]),
        "topologySpreadConstraints" => ListType::Map(&["topologyKey", "whenUnsatisfiable"]),
        "conditions" if parent == "status" => ListType::Map(&["type"]),
        "podIPs" | "hostIPs" if parent == "status" => ListType::Map(&["ip"]),
        _ => ListType::Atomic,
    }
}

/// Declares in `schema`, the OpenAPI v3 schema of a built-in type, the list types of its
/// lists, as the API server would merge them: `x-kubernetes-list-type: map` with its keys, or
/// `set`. `at` is the path of field names from the object root to `schema`.
///
/// A list keyed by a field that the schema neither requires nor defaults is left atomic: the
/// API server refuses such a CustomResourceDefinition ("this property is in
/// x-kubernetes-list-map-keys, so it must have a default or be a required property"). That is
/// the case of a container port's `protocol`, which the pod's own defaulting sets, not the
/// schema.
pub fn annotate(schema: &mut Value, at: &[&str]) {
    let mut path: Vec<String> = at.iter().map(|s| s.to_string()).collect();
    walk(schema, &mut path);
}

fn walk(schema: &mut Value, path: &mut Vec<String>) {
    let Some(node) = schema.as_object_mut() else {
        return;
    };
    if node.get("type").and_then(Value::as_str) == Some("array") {
        let names: Vec<&str> = path.iter().map(String::as_str).collect();
        match of(&names) {
            ListType::Set => {
                node.insert("x-kubernetes-list-type".into(), "set".into());
            }
            ListType::Map(keys) if keys_required(node, keys) => {
                node.insert("x-kubernetes-list-type".into(), "map".into());
                node.insert("x-kubernetes-list-map-keys".into(), keys.to_vec().into());
            }
            ListType::Map(_) | ListType::Atomic => {}
        }
        if let Some(items) = node.get_mut("items") {
            walk(items, path);
        }
        return;
    }
    if let Some(Value::Object(props)) = node.get_mut("properties") {
        for (name, child) in props.iter_mut() {
            path.push(name.clone());
            walk(child, path);
            path.pop();
        }
    }
    if let Some(values) = node.get_mut("additionalProperties") {
        walk(values, path);
    }
}

/// Whether every key is a property of the items that is required or has a default.
fn keys_required(list: &Map<String, Value>, keys: &[&str]) -> bool {
    let Some(items) = list.get("items").and_then(Value::as_object) else {
        return false;
    };
    let required = |k: &str| {
        items
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(k)))
    };
    let defaulted = |k: &str| {
        items
            .get("properties")
            .and_then(|p| p.get(k))
            .is_some_and(|p| p.get("default").is_some())
    };
    keys.iter().all(|k| required(k) || defaulted(k))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_follow_the_markers_of_the_types() {
        for (path, want) in [
            (&["spec", "containers"][..], ListType::Map(&["name"])),
            (
                &["spec", "containers", "ports"],
                ListType::Map(&["containerPort", "protocol"]),
            ),
            (&["spec", "ports"], ListType::Map(&["port", "protocol"])),
            (
                &["spec", "template", "spec", "containers", "env"],
                ListType::Map(&["name"]),
            ),
            (
                &["spec", "containers", "resources", "claims"],
                ListType::Map(&["name"]),
            ),
            (&["spec", "volumes"], ListType::Map(&["name"])),
            (&["spec", "tolerations"], ListType::Atomic),
            (&["spec", "containers", "args"], ListType::Atomic),
            (&["status", "conditions"], ListType::Map(&["type"])),
            (&["metadata", "finalizers"], ListType::Set),
            (&["metadata", "ownerReferences"], ListType::Map(&["uid"])),
            // `env` outside a container, `finalizers` outside metadata: not these lists.
            (&["spec", "env"], ListType::Atomic),
            (&["spec", "finalizers"], ListType::Atomic),
        ] {
            assert_eq!(of(path), want, "{path:?}");
        }
    }

    #[test]
    fn annotate_declares_keyed_lists_whose_keys_are_required() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "metadata": { "type": "object", "properties": {
                    "finalizers": { "type": "array", "items": { "type": "string" } } } },
                "spec": { "type": "object", "properties": {
                    "containers": { "type": "array", "items": {
                        "type": "object", "required": ["name"],
                        "properties": {
                            "name": { "type": "string" },
                            "args": { "type": "array", "items": { "type": "string" } },
                            "ports": { "type": "array", "items": {
                                "type": "object", "required": ["containerPort"],
                                "properties": {
                                    "containerPort": { "type": "integer" },
                                    "protocol": { "type": "string" } } } },
                            "env": { "type": "array", "items": {
                                "type": "object", "required": ["name"],
                                "properties": { "name": { "type": "string" } } } } } } },
                    // Its key is neither required nor defaulted: left atomic.
                    "hostAliases": { "type": "array", "items": {
                        "type": "object", "properties": { "ip": { "type": "string" } } } },
                    "tolerations": { "type": "array", "items": { "type": "object" } } } },
            },
        });
        annotate(&mut schema, &["spec", "template"]);
        let containers = &schema["properties"]["spec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-list-type"], "map");
        assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
        let c = &containers["items"]["properties"];
        assert_eq!(c["env"]["x-kubernetes-list-map-keys"], json!(["name"]));
        assert_eq!(c["args"].get("x-kubernetes-list-type"), None);
        assert_eq!(c["ports"].get("x-kubernetes-list-type"), None);
        let meta = &schema["properties"]["metadata"]["properties"];
        assert_eq!(meta["finalizers"]["x-kubernetes-list-type"], "set");
        let spec = &schema["properties"]["spec"]["properties"];
        assert_eq!(spec["hostAliases"].get("x-kubernetes-list-type"), None);
        assert_eq!(spec["tolerations"].get("x-kubernetes-list-type"), None);
    }
}
