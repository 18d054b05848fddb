//! Defaults and status resets the real API server applies to built-in kinds on create, and on
//! every write the conversion of a Secret's `stringData` into `data` and a DaemonSet's defaults.
//!
//! Only the defaults that clients observe in practice are kept (pod restart policy, grace
//! period, pull policy, port protocol, also in a DaemonSet's template; a DaemonSet's update
//! strategy and history limit; namespace phase and name label).

use serde_json::{Map, Value, json};

use super::resources::ResourceInfo;

/// Prepares a new object of `info` for storage: resets status where the real server does
/// and fills defaults.
pub fn on_create(info: &ResourceInfo, obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    match (info.group.as_str(), info.plural.as_str()) {
        ("", "pods") => {
            map.insert(
                "status".into(),
                json!({ "phase": "Pending", "qosClass": "BestEffort" }),
            );
            if let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) {
                pod_spec(spec);
            }
        }
        ("", "namespaces") => {
            map.insert("status".into(), json!({ "phase": "Active" }));
            let name = map
                .get("metadata")
                .and_then(|m| m.get("name"))
                .cloned()
                .unwrap_or(Value::Null);
            let meta = super::meta::meta_mut(obj);
            let labels = meta
                .entry("labels")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), name);
            }
        }
        ("apps", "daemonsets") => {
            map.insert("status".into(), json!({}));
        }
        _ if info.custom && info.status_subresource => {
            map.remove("status");
        }
        _ => {}
    }
}

/// The defaults the real server fills on every write of a DaemonSet, before validating it:
/// its update strategy and history limit, and its template's pod spec as a pod's.
pub fn on_write(info: &ResourceInfo, obj: &mut Value) {
    if !(info.group == "apps" && info.plural == "daemonsets") {
        return;
    }
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let strategy = spec.entry("updateStrategy").or_insert_with(|| json!({}));
    if let Some(strategy) = strategy.as_object_mut() {
        let kind = strategy.entry("type").or_insert(json!("RollingUpdate"));
        if kind == "RollingUpdate" {
            let rolling = strategy.entry("rollingUpdate").or_insert_with(|| json!({}));
            if let Some(rolling) = rolling.as_object_mut() {
                rolling.entry("maxUnavailable").or_insert(json!(1));
                rolling.entry("maxSurge").or_insert(json!(0));
            }
        }
    }
    spec.entry("revisionHistoryLimit").or_insert(json!(10));
    if let Some(pod) = spec
        .get_mut("template")
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        pod_spec(pod);
    }
}

fn pod_spec(spec: &mut Map<String, Value>) {
    let defaults = [
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("securityContext", json!({})),
        ("enableServiceLinks", json!(true)),
        ("priority", json!(0)),
    ];
    for (k, v) in defaults {
        spec.entry(k).or_insert(v);
    }
    for list in ["containers", "initContainers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in containers.iter_mut().filter_map(Value::as_object_mut) {
            container(c);
        }
    }
}

fn container(c: &mut Map<String, Value>) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or("");
    // Untagged and `:latest` images are always pulled, as upstream defaults.
    let tag = image.rsplit('/').next().unwrap_or("");
    let policy = if !image.contains('@') && (!tag.contains(':') || tag.ends_with(":latest")) {
        "Always"
    } else {
        "IfNotPresent"
    };
    c.entry("imagePullPolicy").or_insert(json!(policy));
    c.entry("terminationMessagePath")
        .or_insert(json!("/dev/termination-log"));
    c.entry("terminationMessagePolicy").or_insert(json!("File"));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            p.entry("protocol").or_insert(json!("TCP"));
        }
    }
}

/// Moves a Secret's `stringData` into base64 `data`, as the real server does on every write
/// (`stringData` is write-only and wins over `data` for the same key).
pub fn secret_string_data(info: &ResourceInfo, obj: &mut Value) {
    use base64::Engine;
    if !(info.group.is_empty() && info.plural == "secrets") {
        return;
    }
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let Some(Value::Object(strings)) = map.remove("stringData") else {
        return;
    };
    let data = map
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    if let Some(d) = data.as_object_mut() {
        for (k, v) in strings {
            let text = v.as_str().unwrap_or_default();
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            d.insert(k, Value::String(encoded));
        }
    }
}
