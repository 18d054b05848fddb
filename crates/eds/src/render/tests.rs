use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, PodSpec};

use super::*;
use eds_api::ExtendedDaemonSet;
use eds_plan::{NodeAction, NodeExplanation, testing::eds};

fn explanation(node: &str, action: NodeAction, wave: Option<u32>) -> NodeExplanation {
    NodeExplanation {
        node: node.into(),
        current_revision: Some("foo-1".into()),
        target_revision: Some("foo-2".into()),
        action,
        wave,
        reason: format!("{action:?}").into(),
    }
}

fn input<'a>(
    plan: &'a Plan,
    eds: &'a ExtendedDaemonSet,
    before: Option<&'a ExtendedDaemonSet>,
    pods: &'a BTreeMap<String, Pod>,
) -> PlanInput<'a> {
    PlanInput {
        namespace: "default",
        name: "foo",
        source: Source::State,
        planned_at: eds_plan::testing::t0(),
        object: ObjectInput {
            before,
            after: eds,
            as_written: None,
        },
        ers_metadata_only: &[],
        plan,
        current_pods: pods,
        target_pods: pods,
        simulation: None,
    }
}

fn plan_with(nodes: Vec<NodeExplanation>) -> Plan {
    let mut plan = eds_plan::plan(
        &eds_plan::Snapshot::new(eds("foo").build()),
        eds_plan::testing::t0(),
    );
    plan.nodes = nodes;
    plan.ers_applies.clear();
    plan.pod_creates.clear();
    plan.pod_deletes.clear();
    plan
}

#[test]
fn nothing_pending_and_same_object_is_no_change() {
    let e = eds("foo").build();
    let plan = plan_with(vec![explanation("n1", NodeAction::Keep, None)]);
    let pods = BTreeMap::new();
    let report = report(&input(&plan, &e, Some(&e), &pods));
    assert!(!report.changes);
    assert_eq!(report.object.change, ChangeKind::None);
    assert!(report.waves.is_empty());
}

#[test]
fn a_waiting_node_or_an_object_change_is_a_change() {
    let e = eds("foo").build();
    let v2 = eds("foo").image("app:v2").build();
    let pods = BTreeMap::new();
    let waiting = plan_with(vec![explanation("n1", NodeAction::Wait, Some(2))]);
    let r = report(&input(&waiting, &e, Some(&e), &pods));
    assert!(r.changes);
    assert_eq!(r.waves.len(), 1);
    assert_eq!(
        (r.waves[0].wave, r.waves[0].nodes.clone()),
        (2, vec!["n1".to_string()])
    );
    let keep = plan_with(vec![explanation("n1", NodeAction::Keep, None)]);
    let r = report(&input(&keep, &v2, Some(&e), &pods));
    assert!(r.changes);
    assert_eq!(r.object.change, ChangeKind::Update);
    assert!(
        r.object.diff.contains("+      - image: app:v2"),
        "{}",
        r.object.diff
    );
}

#[test]
fn the_json_document_is_versioned_and_round_trips() {
    let e = eds("foo").build();
    let plan = plan_with(vec![explanation("n1", NodeAction::Replace, Some(0))]);
    let pods = BTreeMap::new();
    let r = report(&input(&plan, &e, None, &pods));
    let text = serde_json::to_string(&r).expect("json");
    assert!(text.starts_with(r#"{"apiVersion":"eds.plan/v2","kind":"ExtendedDaemonSetPlan","changes":true,"eds":{"namespace":"default","name":"foo"}"#), "{text}");
    assert!(text.contains(r#""action":"replace""#));
    let back: PlanReport = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, r);
}

#[test]
fn pod_node_reads_node_name_then_pinned_affinity() {
    let mut pod = Pod::default();
    assert_eq!(pod_node(&pod), None);
    pod.spec = Some(PodSpec {
        node_name: Some("n1".into()),
        ..PodSpec::default()
    });
    assert_eq!(pod_node(&pod), Some("n1"));
    let pinned: Pod = serde_json::from_value(serde_json::json!({
        "spec": {"containers": [], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]}}}}
    }))
    .expect("pod");
    assert_eq!(pod_node(&pinned), Some("n2"));
}
