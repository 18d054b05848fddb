//! The diff of the ExtendedDaemonSet object: what the user changes, without what the API server
//! keeps for itself (status, identity, managed fields).

use serde_json::Value;

use super::{
    ObjectInput, Source,
    diff::unified,
    report::{ChangeKind, ObjectChange},
};
use eds_api::ExtendedDaemonSet;

/// Metadata the API server sets.
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
    "selfLink",
];

/// Annotation `kubectl apply` keeps a copy of the object in; it changes with every edit.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The object as YAML, as compared: no status, no server-managed metadata.
pub fn object_yaml(eds: &ExtendedDaemonSet) -> String {
    object_yaml_value(&serde_json::to_value(eds).unwrap_or(Value::Null))
}

/// [`object_yaml`] of the object as JSON.
pub fn object_yaml_value(value: &Value) -> String {
    let mut value = value.clone();
    if let Some(root) = value.as_object_mut() {
        root.remove("status");
        if let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in SERVER_METADATA {
                meta.remove(*key);
            }
            let annotations = meta.get_mut("annotations").and_then(Value::as_object_mut);
            if let Some(annotations) = annotations {
                annotations.remove(LAST_APPLIED);
                if annotations.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
    }
    serde_saphyr::to_string(&value).unwrap_or_default()
}

/// The change from the stored object to the proposed one.
pub fn change(input: ObjectInput<'_>, namespace: &str, name: &str, source: Source) -> ObjectChange {
    let written = input
        .as_written
        .filter(|(b, _)| b.is_some() == input.before.is_some());
    let after = match written {
        Some((_, after)) => object_yaml_value(after),
        None => object_yaml(input.after),
    };
    let before_yaml = |before: &ExtendedDaemonSet| match written {
        Some((Some(b), _)) => object_yaml_value(b),
        _ => object_yaml(before),
    };
    let proposed = format!("{namespace}/{name} (proposed)");
    match input.before {
        None => ObjectChange {
            change: ChangeKind::Create,
            diff: unified("", &after, "(new object)", &proposed),
        },
        Some(before) => {
            let current = format!("{namespace}/{name} ({})", source.as_str());
            let diff = unified(&before_yaml(before), &after, &current, &proposed);
            let change = if diff.is_empty() {
                ChangeKind::None
            } else {
                ChangeKind::Update
            };
            ObjectChange { change, diff }
        }
    }
}
