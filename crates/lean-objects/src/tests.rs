use k8s_openapi::api::{
    apps::v1::DaemonSet,
    core::v1::{Node, Pod},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;

fn managed_fields() -> Value {
    json!([
        {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "subresource": "status",
         "time": "2026-01-01T00:00:01Z",
         "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}}}}}},
        {"manager": "eds", "operation": "Apply", "apiVersion": "v1",
         "fieldsV1": {"f:spec": {"f:nodeName": {}}}},
    ])
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p", "namespace": "ns", "uid": "u", "resourceVersion": "7",
            "generateName": "p-", "generation": 1,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "deletionTimestamp": "2026-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30,
            "labels": {"app": "a"}, "annotations": {"k": "v"}, "finalizers": ["f"],
            "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "ou",
                                 "controller": true}],
            "managedFields": managed_fields(),
        },
        "spec": {"nodeName": "n", "containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    })
}

/// Decodes `body` as `Lean<K>` from bytes (keys borrowed) and from a value (keys owned), and
/// checks both against `K` decoded from `body` without its top-level managedFields.
fn decodes_as_without_managed_fields<K>(mut body: Value) -> K
where
    K: DeserializeOwned + Resource + PartialEq + fmt::Debug,
{
    let bytes = serde_json::to_vec(&body).unwrap();
    let from_bytes: Lean<K> = serde_json::from_slice(&bytes).unwrap();
    let from_value: Lean<K> = serde_json::from_value(body.clone()).unwrap();
    let full: K = serde_json::from_value(body.clone()).unwrap();
    assert!(full.meta().managed_fields.is_some());
    body["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    let expected: K = serde_json::from_value(body).unwrap();
    assert_ne!(expected, full);
    assert_eq!(from_bytes.0, expected);
    assert_eq!(from_value.into_inner(), expected);
    expected
}

#[test]
fn a_pod_is_decoded_whole_but_its_managed_fields() {
    let pod: Pod = decodes_as_without_managed_fields(pod());
    assert_eq!(pod.metadata.name.as_deref(), Some("p"));
    assert_eq!(pod.metadata.owner_references.unwrap()[0].name, "o");
    assert_eq!(pod.spec.unwrap().node_name.as_deref(), Some("n"));
    assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Running"));
}

#[test]
fn a_node_is_decoded_whole_but_its_managed_fields() {
    decodes_as_without_managed_fields::<Node>(json!({
        "kind": "Node", "apiVersion": "v1",
        "metadata": {"managedFields": managed_fields(), "name": "n", "labels": {"zone": "a"}},
        "spec": {"unschedulable": true, "taints": [{"key": "k", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"cpu": "2"}},
    }));
}

#[test]
fn only_the_objects_own_managed_fields_are_skipped() {
    // A managedFields entry nested deeper (here in a pod template's metadata) is data of the
    // object, not its metadata: it is kept.
    let mut body = json!({
        "kind": "DaemonSet", "apiVersion": "apps/v1",
        "metadata": {"name": "d", "managedFields": managed_fields()},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {
                "metadata": {"labels": {"app": "a"}, "managedFields": managed_fields()},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    });
    let ds: DaemonSet = decodes_as_without_managed_fields(body.clone());
    let template = ds.spec.unwrap().template.metadata.unwrap();
    assert_eq!(template.managed_fields.unwrap().len(), 2);
    // A top-level field named like the object's metadata is not read as metadata elsewhere.
    body["spec"]["template"]["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    let lean: Lean<DaemonSet> = serde_json::from_value(body).unwrap();
    assert!(lean.0.metadata.managed_fields.is_none());
}

#[test]
fn escaped_keys_and_any_key_order_decode_the_same() {
    let text = r#"{"spec":{"containers":[{"name":"c","image":"i"}]},
        "metadata":{"managedFields":[{"manager":"m","fieldsV1":{"f:a":{}}}],
                    "n\u0061me":"p","labels":{"a\"b":"c"}},
        "kind":"Pod","apiVersion":"v1"}"#;
    let lean: Lean<Pod> = serde_json::from_str(text).unwrap();
    assert_eq!(lean.0.metadata.name.as_deref(), Some("p"));
    assert_eq!(lean.0.metadata.labels.unwrap()["a\"b"], "c");
    assert!(lean.0.metadata.managed_fields.is_none());
    // An escaped managedFields key is skipped too.
    let text = r#"{"metadata":{"name":"p","m\u0061nagedFields":[{"manager":"m"}]}}"#;
    let lean: Lean<Pod> = serde_json::from_str(text).unwrap();
    assert!(lean.0.metadata.managed_fields.is_none());
}

#[test]
fn bad_input_fails_as_it_fails_for_the_object() {
    for text in [
        r#"{"metadata": 5}"#,
        r#"{"metadata": {"name": 5}}"#,
        r#"{"spec": {"containers": "x"}}"#,
        r#"[1, 2]"#,
        r#"{"metadata": {"name": "p"#,
    ] {
        let full = serde_json::from_str::<Pod>(text).unwrap_err().to_string();
        let lean = serde_json::from_str::<Lean<Pod>>(text)
            .unwrap_err()
            .to_string();
        assert_eq!(lean, full, "{text}");
    }
    // managedFields of the wrong shape are not decoded at all: only skipped.
    let text = r#"{"metadata": {"name": "p", "managedFields": 5}}"#;
    assert!(serde_json::from_str::<Pod>(text).is_err());
    let lean: Lean<Pod> = serde_json::from_str(text).unwrap();
    assert_eq!(lean.0.metadata.name.as_deref(), Some("p"));
    // Invalid managedFields fail the object, skipped or not: they are still JSON to read.
    assert!(serde_json::from_str::<Lean<Pod>>(r#"{"metadata": {"managedFields": [}}"#).is_err());
}

#[test]
fn watch_events_keep_their_kind() {
    let lean: Lean<Pod> = serde_json::from_value(pod()).unwrap();
    let expected = lean.0.clone();
    for (event, name) in [
        (watcher::Event::Apply(lean.clone()), "apply"),
        (watcher::Event::Delete(lean.clone()), "delete"),
        (watcher::Event::InitApply(lean.clone()), "init-apply"),
        (watcher::Event::Init, "init"),
        (watcher::Event::InitDone, "init-done"),
    ] {
        let (kind, pod) = match inner_event(event) {
            watcher::Event::Apply(p) => ("apply", Some(p)),
            watcher::Event::Delete(p) => ("delete", Some(p)),
            watcher::Event::InitApply(p) => ("init-apply", Some(p)),
            watcher::Event::Init => ("init", None),
            watcher::Event::InitDone => ("init-done", None),
        };
        assert_eq!(kind, name);
        if let Some(pod) = pod {
            assert_eq!(pod, expected);
        }
    }
}

#[test]
fn the_resource_is_the_objects() {
    assert_eq!(Lean::<Pod>::kind(&()), "Pod");
    assert_eq!(
        Lean::<Pod>::url_path(&(), Some("ns")),
        "/api/v1/namespaces/ns/pods"
    );
    assert_eq!(Lean::<DaemonSet>::api_version(&()), "apps/v1");
    assert_eq!(Lean::<DaemonSet>::plural(&()), "daemonsets");
    assert_eq!(Lean::<Node>::url_path(&(), None), "/api/v1/nodes");
}

#[test]
fn a_custom_resource_is_decoded_whole_but_its_managed_fields() {
    use eds_api::ExtendedDaemonSet;
    let eds: ExtendedDaemonSet = decodes_as_without_managed_fields(json!({
        "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSet",
        "metadata": {"name": "foo", "namespace": "ns", "generation": 3,
                     "managedFields": managed_fields()},
        "spec": {"strategy": {}, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}},
        "status": {"desired": 2, "current": 1},
    }));
    assert_eq!(eds.metadata.generation, Some(3));
    assert_eq!(Lean::<ExtendedDaemonSet>::plural(&()), "extendeddaemonsets");
}

#[test]
fn it_is_written_as_the_object() {
    let pod: Pod = serde_json::from_value(pod()).unwrap();
    assert_eq!(
        serde_json::to_value(Lean(pod.clone())).unwrap(),
        serde_json::to_value(&pod).unwrap()
    );
}
