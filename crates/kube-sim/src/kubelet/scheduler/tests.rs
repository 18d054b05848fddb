use serde_json::{Value, json};

use super::*;

fn node(name: &str, labels: Value, taints: Value) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"taints": taints}
    }))
    .unwrap()
}

fn nodes() -> Vec<Node> {
    vec![
        node("n1", json!({"zone": "a"}), json!([])),
        node(
            "n2",
            json!({"zone": "b"}),
            json!([{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]),
        ),
        node(
            "n3",
            json!({"zone": "b"}),
            json!([{"key": "soft", "effect": "PreferNoSchedule"}]),
        ),
    ]
}

/// A pod pinned to `target` as the (Extended)DaemonSet controllers pin them.
fn pinned(target: &str, extra: Value) -> Pod {
    let mut spec = json!({
        "containers": [{"name": "c", "image": "pause"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [target]}]}]}}}
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": spec}))
        .unwrap()
}

/// The scheduler as the runtime drives it: candidates first, then placement.
fn schedule(pod: &Pod, nodes: &[Node], schedule_unpinned: bool) -> Placement {
    let candidates: Vec<Node> = match candidates(pod, schedule_unpinned) {
        Candidates::NotOurs => return Placement::NotOurs,
        Candidates::All => nodes.to_vec(),
        Candidates::Named(names) => nodes
            .iter()
            .filter(|n| names.contains(n.metadata.name.as_ref().unwrap()))
            .cloned()
            .collect(),
    };
    place(pod, &candidates, nodes.len())
}

#[test]
fn pinned_pod_is_bound_to_its_node() {
    assert_eq!(
        schedule(&pinned("n3", json!({})), &nodes(), false),
        Placement::Bind("n3".into())
    );
    assert_eq!(
        pinned_names(&pinned("n1", json!({}))),
        Some(vec!["n1".to_string()])
    );
}

#[test]
fn node_selector_mismatch_is_unschedulable_with_the_scheduler_message() {
    let pod = pinned("n1", json!({"nodeSelector": {"zone": "b"}}));
    assert_eq!(
        schedule(&pod, &nodes(), false),
        Placement::Unschedulable(
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. \
             preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
                .into()
        )
    );
}

#[test]
fn untolerated_taints_block_and_tolerations_allow() {
    let Placement::Unschedulable(message) = schedule(&pinned("n2", json!({})), &nodes(), false)
    else {
        panic!("a NoSchedule taint must block");
    };
    assert!(message.starts_with(
        "0/3 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: x}."
    ), "{message}");
    let tolerant = pinned(
        "n2",
        json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "x"}]}),
    );
    assert_eq!(
        schedule(&tolerant, &nodes(), false),
        Placement::Bind("n2".into())
    );
    let everything = pinned("n2", json!({"tolerations": [{"operator": "Exists"}]}));
    assert_eq!(
        schedule(&everything, &nodes(), false),
        Placement::Bind("n2".into())
    );
}

#[test]
fn toleration_matching_follows_kubernetes() {
    let taint = Taint {
        key: "node.kubernetes.io/not-ready".into(),
        effect: "NoExecute".into(),
        ..Taint::default()
    };
    let t = |v: Value| -> Toleration { serde_json::from_value(v).unwrap() };
    assert!(tolerates(
        &t(json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists"})),
        &taint
    ));
    assert!(tolerates(
        &t(
            json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"})
        ),
        &taint
    ));
    assert!(!tolerates(
        &t(
            json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoSchedule"})
        ),
        &taint
    ));
    assert!(!tolerates(
        &t(json!({"key": "other", "operator": "Exists"})),
        &taint
    ));
    assert!(
        tolerates(&t(json!({"key": "node.kubernetes.io/not-ready"})), &taint),
        "Equal with empty values"
    );
    assert!(!tolerates(
        &t(json!({"key": "node.kubernetes.io/not-ready", "value": "x"})),
        &taint
    ));
}

#[test]
fn pods_pinned_elsewhere_or_unpinned_are_not_ours() {
    assert_eq!(
        schedule(&pinned("real-node", json!({})), &nodes(), false),
        Placement::NotOurs
    );
    let mut unpinned = pinned("n1", json!({}));
    unpinned.spec.as_mut().unwrap().affinity = None;
    assert_eq!(schedule(&unpinned, &nodes(), false), Placement::NotOurs);
    assert_eq!(
        schedule(&unpinned, &nodes(), true),
        Placement::Bind("n1".into())
    );
    let mut bound = pinned("n1", json!({}));
    bound.spec.as_mut().unwrap().node_name = Some("n1".into());
    assert_eq!(schedule(&bound, &nodes(), false), Placement::NotOurs);
}

#[test]
fn affinity_expressions_and_cordons_filter_nodes() {
    let excluded = pinned("n1", json!({}));
    let mut excluded = excluded;
    let term = &mut excluded
        .spec
        .as_mut()
        .unwrap()
        .affinity
        .as_mut()
        .unwrap()
        .node_affinity
        .as_mut()
        .unwrap()
        .required_during_scheduling_ignored_during_execution
        .as_mut()
        .unwrap()
        .node_selector_terms[0];
    term.match_expressions = Some(vec![NodeSelectorRequirement {
        key: "zone".into(),
        operator: "NotIn".into(),
        values: Some(vec!["a".into()]),
    }]);
    assert!(matches!(
        schedule(&excluded, &nodes(), false),
        Placement::Unschedulable(_)
    ));

    let mut cordoned = nodes();
    cordoned[0].spec.as_mut().unwrap().unschedulable = Some(true);
    assert_eq!(
        fit(&pinned("n1", json!({})), &cordoned[0]),
        Err("node(s) were unschedulable".into())
    );
}

#[test]
fn numeric_operators_compare_label_values() {
    let req = |op: &str, v: &str| NodeSelectorRequirement {
        key: "k".into(),
        operator: op.into(),
        values: Some(vec![v.into()]),
    };
    assert!(requirement_matches(&req("Gt", "3"), Some("4")));
    assert!(!requirement_matches(&req("Gt", "3"), Some("3")));
    assert!(requirement_matches(&req("Lt", "3"), Some("2")));
    assert!(!requirement_matches(&req("Lt", "3"), None));
    assert!(requirement_matches(&req("DoesNotExist", ""), None));
}
