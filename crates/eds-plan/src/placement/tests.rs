//! Unit tests of the placement predicates.

use super::*;
use k8s_openapi::api::core::v1::Taint;

fn req(op: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: "k".into(),
        operator: op.into(),
        values: Some(values.iter().map(|v| v.to_string()).collect()),
    }
}

#[test]
fn node_selector_operators() {
    assert!(requirement_matches(&req("In", &["a", "b"]), Some("b")));
    assert!(!requirement_matches(&req("In", &["a"]), None));
    assert!(requirement_matches(&req("NotIn", &["a"]), None));
    assert!(!requirement_matches(&req("NotIn", &["a"]), Some("a")));
    assert!(requirement_matches(&req("Exists", &[]), Some("")));
    assert!(requirement_matches(&req("DoesNotExist", &[]), None));
    assert!(requirement_matches(&req("Gt", &["5"]), Some("6")));
    assert!(!requirement_matches(&req("Gt", &["5"]), Some("5")));
    assert!(requirement_matches(&req("Lt", &["5"]), Some("4")));
    assert!(!requirement_matches(&req("Lt", &["x"]), Some("4")));
    assert!(!requirement_matches(&req("Unknown", &[]), Some("4")));
}

#[test]
fn an_empty_term_matches_nothing() {
    let labels: std::collections::BTreeMap<String, String> = Default::default();
    assert!(!term_matches(&NodeSelectorTerm::default(), &labels, "n"));
}

#[test]
fn tolerations_match_like_the_scheduler() {
    let taint = Taint {
        key: "k".into(),
        value: Some("v".into()),
        effect: "NoSchedule".into(),
        time_added: None,
    };
    let taint = TaintRef::from(&taint);
    let t = |key: Option<&str>, op: Option<&str>, value: Option<&str>, effect: Option<&str>| {
        Toleration {
            key: key.map(Into::into),
            operator: op.map(Into::into),
            value: value.map(Into::into),
            effect: effect.map(Into::into),
            toleration_seconds: None,
        }
    };
    assert!(toleration_matches(
        &t(None, Some("Exists"), None, None),
        &taint
    ));
    assert!(toleration_matches(
        &t(Some("k"), None, Some("v"), None),
        &taint
    ));
    assert!(!toleration_matches(
        &t(Some("k"), None, Some("w"), None),
        &taint
    ));
    assert!(!toleration_matches(
        &t(Some("k"), Some("Exists"), None, Some("NoExecute")),
        &taint
    ));
    assert!(toleration_matches(
        &t(Some("k"), Some("Exists"), None, Some("NoSchedule")),
        &taint
    ));
}

#[test]
fn pinning_replaces_an_earlier_node_name_requirement() {
    let first = pin_to_node(None, "a");
    let second = pin_to_node(Some(first), "b");
    let terms = &second
        .node_affinity
        .unwrap()
        .required_during_scheduling_ignored_during_execution
        .unwrap()
        .node_selector_terms;
    assert_eq!(terms.len(), 1);
    let fields = terms[0].match_fields.as_ref().unwrap();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].values.as_deref(), Some(&["b".to_string()][..]));
}

#[test]
fn an_unscheduled_pod_belongs_to_its_pinned_node() {
    let pod = Pod {
        spec: Some(PodSpec {
            affinity: Some(pin_to_node(None, "node-7")),
            ..PodSpec::default()
        }),
        ..Pod::default()
    };
    assert_eq!(pod_node(&pod), Some("node-7"));
}
