//! What of a pod is compared: its desired fields, without what differs from node to node
//! (name, `nodeName`, the node it is pinned to) or what the API server adds on its own
//! (status, identity, server defaults, the service account token volume).

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Map, Value, json};

/// Replaces the node name a pod is pinned to, so pods of different nodes compare equal.
pub const NODE_PLACEHOLDER: &str = "<node>";

/// Metadata the API server sets; never part of a change the user makes.
const SERVER_METADATA: &[&str] = &[
    "name",
    "generateName",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
    "selfLink",
];

/// Pod spec fields with the value the API server defaults them to. A field that holds its
/// default is left out on both sides, so a pod read from a cluster (defaults filled in) and a
/// pod about to be created (defaults not yet applied) compare by what was asked for.
fn spec_defaults() -> [(&'static str, Value); 10] {
    [
        ("dnsPolicy", json!("ClusterFirst")),
        ("restartPolicy", json!("Always")),
        ("schedulerName", json!("default-scheduler")),
        ("securityContext", json!({})),
        ("serviceAccount", json!("default")),
        ("serviceAccountName", json!("default")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("enableServiceLinks", json!(true)),
        ("preemptionPolicy", json!("PreemptLowerPriority")),
        ("priority", json!(0)),
    ]
}

/// Container fields with their default value (see [`spec_defaults`]).
fn container_defaults() -> [(&'static str, Value); 4] {
    [
        ("terminationMessagePath", json!("/dev/termination-log")),
        ("terminationMessagePolicy", json!("File")),
        ("imagePullPolicy", json!("IfNotPresent")),
        ("resources", json!({})),
    ]
}

/// Prefix of the projected service account token volume the API server adds to every pod.
const TOKEN_VOLUME_PREFIX: &str = "kube-api-access-";

/// The pod as YAML, normalized for comparison (see the module doc).
pub fn normalized_yaml(pod: &Pod) -> String {
    let mut value = serde_json::to_value(pod).unwrap_or(Value::Null);
    normalize(&mut value);
    // A JSON value always serializes to YAML; an empty text would only hide the pod.
    serde_saphyr::to_string(&value).unwrap_or_default()
}

fn normalize(pod: &mut Value) {
    let Some(root) = pod.as_object_mut() else {
        return;
    };
    root.remove("status");
    if let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in SERVER_METADATA {
            meta.remove(*key);
        }
        if let Some(owners) = meta
            .get_mut("ownerReferences")
            .and_then(Value::as_array_mut)
        {
            for owner in owners.iter_mut().filter_map(Value::as_object_mut) {
                owner.remove("uid");
            }
        }
    }
    if let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut) {
        normalize_spec(spec);
    }
}

fn normalize_spec(spec: &mut Map<String, Value>) {
    spec.remove("nodeName");
    remove_defaults(spec, &spec_defaults());
    for key in ["containers", "initContainers"] {
        for container in objects_mut(spec.get_mut(key)) {
            remove_defaults(container, &container_defaults());
            if let Some(mounts) = container
                .get_mut("volumeMounts")
                .and_then(Value::as_array_mut)
            {
                mounts.retain(|m| !is_token(m));
                if mounts.is_empty() {
                    container.remove("volumeMounts");
                }
            }
        }
    }
    if let Some(volumes) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        volumes.retain(|v| !is_token(v));
        if volumes.is_empty() {
            spec.remove("volumes");
        }
    }
    let terms = spec.get_mut("affinity").and_then(|a| {
        a.pointer_mut(
            "/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms",
        )
    });
    for term in objects_mut(terms) {
        for field in objects_mut(term.get_mut("matchFields")) {
            if field.get("key").and_then(Value::as_str) == Some("metadata.name") {
                field.insert("values".into(), json!([NODE_PLACEHOLDER]));
            }
        }
    }
}

fn remove_defaults(object: &mut Map<String, Value>, defaults: &[(&str, Value)]) {
    for (key, default) in defaults {
        if object.get(*key) == Some(default) {
            object.remove(*key);
        }
    }
}

fn objects_mut(list: Option<&mut Value>) -> impl Iterator<Item = &mut Map<String, Value>> {
    list.and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn is_token(volume_or_mount: &Value) -> bool {
    volume_or_mount
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| n.starts_with(TOKEN_VOLUME_PREFIX))
}
