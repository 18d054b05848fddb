use super::*;
use eds_api::{CanaryStatus, Condition, ExtendedDaemonSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

fn text(registry: &Registry) -> String {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).unwrap();
    text
}

fn eds(name: &str) -> ExtendedDaemonSet {
    let spec: ExtendedDaemonSetSpec =
        serde_json::from_value(serde_json::json!({"template": {}, "strategy": {}})).unwrap();
    let mut eds = ExtendedDaemonSet::new(name, spec);
    eds.metadata.namespace = Some("ns".into());
    eds.metadata.labels =
        Some([("app.kubernetes.io/name".to_string(), "agent".to_string())].into());
    eds.metadata.creation_timestamp =
        Some(Time(jiff::Timestamp::from_second(1_700_000_000).unwrap()));
    eds
}

fn paused_canary(rs: &str, reason: &str) -> ExtendedDaemonSetStatus {
    ExtendedDaemonSetStatus {
        desired: 3,
        current: 2,
        state: Some(eds_api::constants::state::CANARY_PAUSED.into()),
        canary: Some(CanaryStatus {
            replica_set: rs.into(),
            nodes: vec!["node-1".into()],
        }),
        conditions: vec![Condition::new(
            condition_type::CANARY_PAUSED,
            true,
            reason,
            "",
        )],
        active_replica_set: format!("{}-old", rs.split('-').next().unwrap_or_default()),
        ..Default::default()
    }
}

/// Every metric name and label of upstream's `metrics.go` (EDS and ERS controllers and
/// `custom_metrics.go`), as a sample line prefix.
#[test]
fn serves_every_upstream_name_and_label() {
    let (metrics, registry) = Metrics::with_registry();
    let e = eds("foo");
    metrics.observe_eds(&e, &paused_canary("foo-abc", "StartError"), false, true);
    let ers_status = ExtendedDaemonSetReplicaSetStatus {
        status: ers_state::CANARY_FAILED.into(),
        desired: 1,
        ..Default::default()
    };
    metrics.observe_ers("ns", "foo-abc", Some(&e.metadata), &ers_status);
    metrics.leader.set(1);
    let text = text(&registry);
    let base = r#"namespace="ns",name="foo""#;
    let ers = r#"namespace="ns",name="foo-abc""#;
    for line in [
        format!(r#"eds_labels{{{base},app_kubernetes_io_name="agent"}} 1"#),
        format!("eds_created{{{base}}} 1700000000"),
        format!("eds_status_desired{{{base}}} 3"),
        format!("eds_status_current{{{base}}} 2"),
        format!("eds_status_ready{{{base}}} 0"),
        format!("eds_status_available{{{base}}} 0"),
        format!("eds_status_uptodate{{{base}}} 0"),
        format!("eds_status_ignored_unresponsive_nodes{{{base}}} 0"),
        format!(r#"eds_status_canary_activated{{{base},replicaset="foo-abc"}} 1"#),
        format!(
            r#"eds_status_canary_paused{{{base},replicaset="foo-abc",paused_reason="StartError"}} 1"#
        ),
        format!("eds_status_canary_node_number{{{base}}} 1"),
        format!("eds_status_rolling_update_paused{{{base}}} 0"),
        format!("eds_status_rollout_frozen{{{base}}} 1"),
        format!(r#"ers_labels{{{ers},app_kubernetes_io_name="agent"}} 1"#),
        format!("ers_created{{{ers}}} 1700000000"),
        format!("ers_status_desired{{{ers}}} 1"),
        format!(r#"ers_status_current{{{ers},status="canary-failed"}} 0"#),
        format!("ers_status_ready{{{ers}}} 0"),
        format!("ers_status_available{{{ers}}} 0"),
        format!("ers_status_ignored_unresponsive_nodes{{{ers}}} 0"),
        format!("ers_status_canary_failed{{{ers}}} 1"),
        "eds_controller_leader 1".to_string(),
    ] {
        assert!(text.contains(&line), "missing {line}\n{text}");
    }
    assert!(
        text.contains(r#"ers_rolling_update_stuck{namespace="ns",name="foo-old"} 0"#),
        "{text}"
    );
}

#[test]
fn a_changed_label_replaces_the_series_and_a_deleted_object_leaves_nothing() {
    let (metrics, registry) = Metrics::with_registry();
    let e = eds("bar");
    metrics.observe_eds(&e, &paused_canary("bar-1", "StartError"), false, false);
    metrics.observe_eds(&e, &paused_canary("bar-2", "OOMKilled"), false, false);
    let t = text(&registry);
    assert!(!t.contains("bar-1"), "old canary series left behind:\n{t}");
    assert!(
        t.contains(r#"replicaset="bar-2",paused_reason="OOMKilled"} 1"#),
        "{t}"
    );
    metrics.observe_eds(&e, &ExtendedDaemonSetStatus::default(), false, false);
    let t = text(&registry);
    assert!(!t.contains("paused_reason="), "{t}");
    metrics.observe_ers("ns", "bar-2", None, &Default::default());
    metrics.forget_eds("ns", "bar");
    // The garbage collector deletes the ERSs with their ExtendedDaemonSet.
    metrics.forget_ers("ns", "bar-2");
    metrics.forget_ers("ns", "bar-old");
    let t = text(&registry);
    assert!(!t.contains(r#"name="bar"#), "{t}");
    assert_eq!((metrics.eds.objects(), metrics.ers.objects()), (0, 0));
}

#[test]
fn retain_drops_objects_gone_during_a_relist() {
    let (metrics, registry) = Metrics::with_registry();
    for name in ["a", "b"] {
        metrics.observe_eds(
            &eds(name),
            &ExtendedDaemonSetStatus::default(),
            false,
            false,
        );
    }
    metrics.eds.retain(|_, name| name == "b");
    let t = text(&registry);
    assert!(
        !t.contains(r#"name="a""#) && t.contains(r#"name="b""#),
        "{t}"
    );
}

#[test]
fn kubernetes_labels_are_sanitized_like_upstream() {
    let labels = [
        ("app.kubernetes.io/name".to_string(), "x".to_string()),
        ("team".to_string(), "y".to_string()),
    ]
    .into();
    assert_eq!(
        k8s_labels(Some(&labels)),
        [
            ("app_kubernetes_io_name".to_string(), "x".to_string()),
            ("team".to_string(), "y".to_string())
        ]
    );
}
