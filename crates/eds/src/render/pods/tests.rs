use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::{NODE_PLACEHOLDER, normalized_yaml, pod_changes};
use crate::render::report::ChangeKind;

/// A pod pinned to `node` running `image`, as the API server returns it (defaults filled in).
fn stored(node: &str, image: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": format!("foo-abc-{node}"), "namespace": "default", "uid": format!("uid-{node}"),
            "resourceVersion": "42", "creationTimestamp": "2024-01-01T00:00:00Z",
            "ownerReferences": [{"apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSetReplicaSet",
                                 "name": "foo-abc", "uid": "uid-ers"}],
        },
        "spec": {
            "nodeName": node,
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}},
            "containers": [{"name": "app", "image": image, "imagePullPolicy": "IfNotPresent",
                            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                            "resources": {},
                            "volumeMounts": [{"name": "kube-api-access-x1", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
            "volumes": [{"name": "kube-api-access-x1", "projected": {"sources": []}}],
        },
        "status": {"phase": "Running"},
    }))
    .expect("pod")
}

/// The pod the planner would create: no defaults, no status, pinned by affinity only.
fn planned(node: &str, image: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": format!("foo-abc-{node}"), "namespace": "default",
            "ownerReferences": [{"apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSetReplicaSet",
                                 "name": "foo-abc", "uid": "planned-foo-abc"}],
        },
        "spec": {
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}},
            "containers": [{"name": "app", "image": image}],
        },
    }))
    .expect("pod")
}

fn map(pods: Vec<(&str, Pod)>) -> BTreeMap<String, Pod> {
    pods.into_iter().map(|(n, p)| (n.to_string(), p)).collect()
}

#[test]
fn a_stored_pod_equals_the_planned_one_once_normalized() {
    assert_eq!(
        normalized_yaml(&stored("n1", "app:v1")),
        normalized_yaml(&planned("n1", "app:v1"))
    );
}

#[test]
fn node_specific_fields_are_replaced() {
    let yaml = normalized_yaml(&stored("n1", "app:v1"));
    assert!(!yaml.contains("n1"), "{yaml}");
    assert!(yaml.contains(NODE_PLACEHOLDER), "{yaml}");
    assert!(!yaml.contains("kube-api-access"), "{yaml}");
    assert!(!yaml.contains("status"), "{yaml}");
}

#[test]
fn a_non_default_value_is_kept() {
    let mut pod = stored("n1", "app:v1");
    pod.spec.as_mut().expect("spec").dns_policy = Some("ClusterFirstWithHostNet".into());
    assert!(normalized_yaml(&pod).contains("dnsPolicy: ClusterFirstWithHostNet"));
}

#[test]
fn same_change_on_several_nodes_is_one_group() {
    let current = map(vec![
        ("n1", stored("n1", "app:v1")),
        ("n2", stored("n2", "app:v1")),
        ("n3", stored("n3", "app:v2")),
    ]);
    let target = map(vec![
        ("n1", planned("n1", "app:v2")),
        ("n2", planned("n2", "app:v2")),
        ("n3", planned("n3", "app:v2")),
    ]);
    let changes = pod_changes(["n1", "n2", "n3"], &current, &target);
    assert_eq!(changes.len(), 1, "n3 already runs the target");
    assert_eq!(changes[0].change, ChangeKind::Update);
    assert_eq!(changes[0].nodes, ["n1", "n2"]);
    assert!(
        changes[0]
            .diff
            .contains("-  - image: app:v1\n+  - image: app:v2\n"),
        "{}",
        changes[0].diff
    );
}

#[test]
fn creates_deletes_and_different_changes_are_separate_groups_largest_first() {
    let current = map(vec![
        ("n1", stored("n1", "app:v0")),
        ("n2", stored("n2", "app:v1")),
        ("n3", stored("n3", "app:v1")),
        ("n5", stored("n5", "app:v1")),
    ]);
    let target = map(vec![
        ("n1", planned("n1", "app:v2")),
        ("n2", planned("n2", "app:v2")),
        ("n3", planned("n3", "app:v2")),
        ("n4", planned("n4", "app:v2")),
    ]);
    let changes = pod_changes(["n1", "n2", "n3", "n4", "n5"], &current, &target);
    let summary: Vec<(ChangeKind, Vec<String>)> = changes
        .iter()
        .map(|c| (c.change, c.nodes.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (ChangeKind::Update, vec!["n2".to_string(), "n3".to_string()]),
            (ChangeKind::Update, vec!["n1".to_string()]),
            (ChangeKind::Create, vec!["n4".to_string()]),
            (ChangeKind::Delete, vec!["n5".to_string()]),
        ]
    );
}
