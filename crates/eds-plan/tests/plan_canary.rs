//! Canary rules of the planner: node choice, promotion, auto-pause, auto-fail, the failure hold.

use eds_api::{
    Duration,
    constants::{condition_type, keys, reason, state},
};
use eds_plan::{
    EventType, NodeAction, Plan,
    testing::{Scenario, crash, eds, node, t0, wait_with},
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn d(s: &str) -> Option<Duration> {
    Some(s.parse().expect("duration"))
}

/// Converges on v1, switches to v2, and runs until the canary pods exist (not ready yet).
fn start_canary(sc: &mut Scenario) -> Plan {
    sc.converge();
    sc.set_image("app:v2");
    let first = sc.step(); // the ERS
    sc.step(); // old pods on the canary nodes go
    sc.step(); // canary pods are created
    first
}

fn canary_nodes(plan: &Plan) -> Vec<String> {
    plan.eds_status
        .canary
        .as_ref()
        .map(|c| c.nodes.clone())
        .unwrap_or_default()
}

fn has_event(plan: &Plan, type_: EventType, reason: &str) -> bool {
    plan.events
        .iter()
        .any(|e| e.type_ == type_ && e.reason == reason)
}

fn condition<'a>(plan: &'a Plan, type_: &str) -> &'a eds_api::Condition {
    plan.eds_status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .expect("condition")
}

#[test]
fn canary_replaces_its_nodes_at_once_and_keeps_the_others() {
    let mut sc = eds("foo").canary(1).max_unavailable(3).nodes(3);
    let first = start_canary(&mut sc);
    assert!(has_event(&first, EventType::Normal, reason::CANARY_STARTED));
    assert_eq!(canary_nodes(&first), ["node-1"]);
    let canary_pod = sc.pod_on("node-1");
    let labels = canary_pod.metadata.labels.as_ref().unwrap();
    assert_eq!(labels[keys::CANARY_LABEL], "true");
    assert_eq!(labels[keys::ERS_NAME_LABEL], first.target_revision);
    for n in ["node-2", "node-3"] {
        assert_ne!(
            sc.revision_on(n).as_deref(),
            Some(first.target_revision.as_str())
        );
    }
    sc.advance(60);
    sc.settle_pods();
    let plan = sc.plan();
    assert!(plan.pod_deletes.is_empty() && plan.pod_creates.is_empty());
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY));
    assert_eq!(
        plan.eds_status.canary.as_ref().unwrap().replica_set,
        first.target_revision
    );
    assert_eq!(
        condition(&plan, condition_type::RECONCILING)
            .reason
            .as_deref(),
        Some(reason::CANARY_IN_PROGRESS)
    );
    let node2 = &plan.nodes[1];
    assert_eq!(&*node2.node, "node-2");
    assert_eq!(node2.action, NodeAction::Keep, "{}", node2.reason);
    assert_ne!(
        node2.target_revision.as_deref(),
        Some(first.target_revision.as_str())
    );
}

#[test]
fn canary_prefers_nodes_with_fewer_restarts_then_names() {
    let mut sc = eds("foo").canary(1).nodes(3);
    sc.converge();
    crash(sc.pod_mut("node-1"), 3, "Error", t0());
    sc.set_image("app:v2");
    assert_eq!(canary_nodes(&sc.plan()), ["node-2"]);
}

#[test]
fn canary_spreads_over_node_anti_affinity_keys() {
    let nodes = vec![
        node("a1").label("zone", "a"),
        node("a2").label("zone", "a"),
        node("a3").label("zone", "a"),
        node("b1").label("zone", "b"),
    ];
    let mut sc = eds("foo")
        .canary(2)
        .canary_with(|c| c.node_anti_affinity_keys = Some(vec!["zone".into()]))
        .on(nodes);
    sc.converge();
    sc.set_image("app:v2");
    assert_eq!(canary_nodes(&sc.plan()), ["a1", "b1"]);
}

#[test]
fn canary_node_selector_and_percentage_replicas() {
    let nodes = (1..=6)
        .map(|i| node(&format!("n{i}")).label("canary", if i % 2 == 0 { "yes" } else { "no" }))
        .collect();
    let mut sc = eds("foo")
        .canary_with(|c| {
            c.replicas = Some(IntOrString::String("30%".into()));
            c.node_selector = Some(
                k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector {
                    match_labels: Some([("canary".to_string(), "yes".to_string())].into()),
                    match_expressions: None,
                },
            );
        })
        .on(nodes);
    sc.converge();
    sc.set_image("app:v2");
    // 30% of 6 nodes, rounded up: 2, among the nodes labelled canary=yes.
    assert_eq!(canary_nodes(&sc.plan()), ["n2", "n4"]);
}

#[test]
fn canary_is_promoted_after_its_duration() {
    let mut sc = eds("foo").canary(1).canary_durations("10m", "5m").nodes(3);
    let first = start_canary(&mut sc);
    sc.advance(30);
    sc.settle_pods();
    let plan = sc.step();
    let requeue = plan.requeue_after.as_secs();
    assert!(
        requeue <= 10,
        "requeued within reconcileFrequency, got {requeue}"
    );
    sc.advance(600);
    let plan = sc.plan();
    assert!(has_event(&plan, EventType::Normal, reason::CANARY_PROMOTED));
    assert_eq!(plan.eds_status.active_replica_set, first.target_revision);
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::RUNNING));
    assert_eq!(
        plan.pod_deletes.len(),
        1,
        "the rolling update starts at once"
    );
    // The canary label is removed from the canary pod once promoted.
    assert_eq!(plan.pod_label_updates.len(), 1);
    assert_eq!(plan.pod_label_updates[0].labels[keys::CANARY_LABEL], None);
    sc.converge();
}

#[test]
fn a_recent_restart_delays_promotion_by_no_restarts_duration() {
    let mut sc = eds("foo").canary(1).canary_durations("10m", "5m").nodes(2);
    let first = start_canary(&mut sc);
    sc.advance(30);
    sc.settle_pods();
    sc.advance(500);
    let at = sc.now;
    crash(sc.pod_mut("node-1"), 1, "Error", at);
    sc.step();
    sc.advance(120); // 10 min after the start, 2 min after the restart
    assert_ne!(
        sc.plan().eds_status.active_replica_set,
        first.target_revision
    );
    sc.advance(200); // 5 min after the restart
    assert_eq!(
        sc.plan().eds_status.active_replica_set,
        first.target_revision
    );
}

#[test]
fn manual_validation_waits_for_the_canary_valid_annotation() {
    // Upstream e2e scenario 5.
    let mut sc = eds("foo").canary(1).manual().nodes(2);
    let first = start_canary(&mut sc);
    sc.advance(7200);
    sc.settle_pods();
    assert_eq!(sc.plan().eds_status.state.as_deref(), Some(state::CANARY));
    sc.annotate(keys::CANARY_VALID_ANNOTATION, Some(&first.target_revision));
    let plan = sc.plan();
    assert_eq!(plan.eds_status.active_replica_set, first.target_revision);
    assert!(has_event(&plan, EventType::Normal, reason::CANARY_PROMOTED));
}

#[test]
fn restarts_pause_then_fail_the_canary_and_a_fixed_template_goes_through() {
    // Upstream e2e scenario 1: autoPause.maxRestarts 1, autoFail.maxRestarts 3.
    let mut sc = eds("foo")
        .canary(1)
        .canary_with(|c| {
            c.auto_pause = Some(eds_api::AutoPause {
                max_restarts: Some(1),
                ..Default::default()
            });
            c.auto_fail = Some(eds_api::AutoFail {
                max_restarts: Some(3),
                ..Default::default()
            });
        })
        .nodes(3);
    let first = start_canary(&mut sc);
    let active = sc.active();
    let at = sc.now;
    crash(sc.pod_mut("node-1"), 2, "StartError", at);
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_PAUSED));
    assert_eq!(plan.eds_status.reason.as_deref(), Some("StartError"));
    assert!(has_event(&plan, EventType::Warning, reason::CANARY_PAUSED));
    let stalled = condition(&plan, condition_type::STALLED);
    assert!(stalled.is_true());
    assert_eq!(stalled.reason.as_deref(), Some(reason::CANARY_PAUSED));
    assert!(condition(&plan, condition_type::CANARY_PAUSED).is_true());
    // Paused sticks: no event the second time, and the duration does not promote.
    sc.advance(3600);
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_PAUSED));
    assert!(plan.events.is_empty());

    let at = sc.now;
    crash(sc.pod_mut("node-1"), 4, "StartError", at);
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_FAILED));
    assert!(has_event(&plan, EventType::Warning, reason::CANARY_FAILED));
    let rejected = plan
        .eds_status
        .rejected_revision
        .clone()
        .expect("rejected revision");
    assert_eq!(rejected.replica_set, first.target_revision);
    assert_eq!(rejected.reason.as_deref(), Some("StartError"));
    assert_eq!(plan.eds_status.active_replica_set, active);
    assert_eq!(plan.pod_deletes.len(), 1, "the canary pod is removed");
    // The spec is never written back: the template is still v2, and the active revision is
    // restored on the canary node and held.
    let sim = sc.run();
    assert_eq!(
        sim.end,
        eds_plan::simulate::End::Stalled(reason::CANARY_FAILED.into())
    );
    assert_eq!(sc.revision_on("node-1"), Some(active.clone()));
    sc.advance(3600);
    let plan = sc.plan();
    assert!(plan.pod_creates.is_empty() && plan.pod_deletes.is_empty());
    assert!(plan.events.is_empty());

    // A fixed template clears the hold and starts a new canary.
    sc.set_image("app:v3");
    let plan = sc.step();
    assert_eq!(plan.eds_status.rejected_revision, None);
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY));
    sc.run();
    let target = sc.plan().target_revision;
    sc.annotate(keys::CANARY_VALID_ANNOTATION, Some(&target));
    sc.converge();
    assert_eq!(sc.state().as_deref(), Some(state::RUNNING));
    assert_eq!(sc.revision_on("node-3"), Some(target));
}

#[test]
fn a_paused_canary_recreates_a_deleted_canary_pod_and_can_still_fail() {
    // A paused canary holds its nodes as they are, but a canary node whose pod is evicted or
    // deleted is not left without a pod (upstream creates nothing while paused): the canary
    // pod comes back, and its restarts still count towards autoFail.
    let mut sc = eds("foo")
        .canary(1)
        .canary_with(|c| {
            c.auto_pause = Some(eds_api::AutoPause {
                max_restarts: Some(1),
                ..Default::default()
            });
            c.auto_fail = Some(eds_api::AutoFail {
                max_restarts: Some(3),
                ..Default::default()
            });
        })
        .nodes(3);
    let first = start_canary(&mut sc);
    let at = sc.now;
    crash(sc.pod_mut("node-1"), 2, "StartError", at);
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_PAUSED));
    // The canary pod is evicted.
    sc.snapshot
        .pods
        .retain(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) != Some("node-1"));
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_PAUSED));
    assert_eq!(canary_nodes(&plan), ["node-1"]);
    assert_eq!(plan.pod_creates.len(), 1, "the canary pod is recreated");
    assert_eq!(
        sc.revision_on("node-1"),
        Some(first.target_revision.clone())
    );
    let labels = sc.pod_on("node-1").metadata.labels.clone().unwrap();
    assert_eq!(labels[keys::CANARY_LABEL], "true");
    // The pause still holds everything else: no pod is deleted.
    assert!(plan.pod_deletes.is_empty());
    let at = sc.now;
    crash(sc.pod_mut("node-1"), 4, "StartError", at);
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_FAILED));
    sc.run();
    assert_eq!(sc.revision_on("node-1"), Some(sc.active()));
}

#[test]
fn canary_unpaused_overrides_a_pause() {
    let mut sc = eds("foo").canary(1).nodes(2);
    start_canary(&mut sc);
    let at = sc.now;
    crash(sc.pod_mut("node-1"), 3, "OOMKilled", at);
    let plan = sc.step();
    assert_eq!(plan.eds_status.reason.as_deref(), Some("OOMKilled"));
    sc.annotate(keys::CANARY_UNPAUSED_ANNOTATION, Some("true"));
    assert_eq!(sc.plan().eds_status.state.as_deref(), Some(state::CANARY));
}

#[test]
fn a_pod_that_cannot_start_pauses_only_after_max_slow_start_duration() {
    // Upstream e2e scenarios 2 and 7.
    for waiting in [
        "ImagePullBackOff",
        "CreateContainerConfigError",
        "ContainerCreating",
    ] {
        let mut sc = eds("foo")
            .canary(1)
            .canary_with(|c| {
                c.auto_pause = Some(eds_api::AutoPause {
                    max_slow_start_duration: d("10s"),
                    ..Default::default()
                })
            })
            .nodes(2);
        start_canary(&mut sc);
        wait_with(sc.pod_mut("node-1"), waiting);
        let plan = sc.plan();
        assert_eq!(
            plan.eds_status.state.as_deref(),
            Some(state::CANARY),
            "{waiting}"
        );
        sc.advance(15);
        let plan = sc.plan();
        let expected = if waiting == "ContainerCreating" {
            reason::SLOW_START_TIMEOUT_EXCEEDED
        } else {
            waiting
        };
        assert_eq!(
            plan.eds_status.state.as_deref(),
            Some(state::CANARY_PAUSED),
            "{waiting}"
        );
        assert_eq!(plan.eds_status.reason.as_deref(), Some(expected));
        let (_, ers) = plan
            .ers_statuses
            .iter()
            .find(|(n, _)| *n == plan.target_revision)
            .expect("canary ERS status");
        let cannot = ers
            .conditions
            .iter()
            .find(|c| c.type_ == condition_type::POD_CANNOT_START)
            .unwrap();
        assert!(cannot.is_true());
    }
}

#[test]
fn restarts_for_longer_than_max_restarts_duration_fail_the_canary() {
    let mut sc = eds("foo")
        .canary(1)
        .canary_with(|c| {
            c.auto_fail = Some(eds_api::AutoFail {
                max_restarts_duration: d("3m"),
                ..Default::default()
            })
        })
        .nodes(2);
    start_canary(&mut sc);
    let at = sc.now;
    crash(sc.pod_mut("node-1"), 1, "Error", at);
    sc.step();
    sc.advance(240);
    let at = sc.now;
    crash(sc.pod_mut("node-1"), 2, "Error", at);
    let plan = sc.plan();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_FAILED));
    assert_eq!(
        plan.eds_status.reason.as_deref(),
        Some(reason::RESTARTS_TIMEOUT_EXCEEDED)
    );
}

#[test]
fn a_canary_older_than_canary_timeout_fails() {
    let mut sc = eds("foo")
        .canary(1)
        .manual()
        .canary_with(|c| {
            c.auto_fail = Some(eds_api::AutoFail {
                canary_timeout: d("30m"),
                ..Default::default()
            })
        })
        .nodes(2);
    start_canary(&mut sc);
    sc.advance(1700);
    sc.settle_pods();
    assert_eq!(sc.step().eds_status.state.as_deref(), Some(state::CANARY));
    sc.advance(200);
    let plan = sc.plan();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_FAILED));
    assert_eq!(
        plan.eds_status.reason.as_deref(),
        Some(reason::TIMEOUT_EXCEEDED)
    );
}

#[test]
fn annotations_pause_and_fail_the_canary_by_hand() {
    let mut sc = eds("foo").canary(1).nodes(2);
    let first = start_canary(&mut sc);
    sc.annotate(keys::CANARY_PAUSED_ANNOTATION, Some("true"));
    sc.annotate(keys::CANARY_PAUSED_REASON_ANNOTATION, Some("Investigating"));
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_PAUSED));
    assert_eq!(plan.eds_status.reason.as_deref(), Some("Investigating"));
    sc.annotate(keys::CANARY_FAILED_ANNOTATION, Some(&first.target_revision));
    let plan = sc.plan();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_FAILED));
    assert_eq!(plan.eds_status.reason.as_deref(), Some(reason::MANUAL));
}

#[test]
fn a_successful_canary_labels_exactly_one_pod() {
    // Upstream e2e scenario 3.
    let mut sc = eds("foo").canary(1).nodes(3);
    let first = start_canary(&mut sc);
    let labelled = sc
        .snapshot
        .pods
        .iter()
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .unwrap()
                .contains_key(keys::CANARY_LABEL)
        })
        .count();
    assert_eq!(labelled, 1);
    sc.annotate(keys::CANARY_VALID_ANNOTATION, Some(&first.target_revision));
    sc.converge();
    assert!(sc.snapshot.pods.iter().all(|p| {
        !p.metadata
            .labels
            .as_ref()
            .unwrap()
            .contains_key(keys::CANARY_LABEL)
    }));
    assert_eq!(sc.active(), first.target_revision);
}

#[test]
fn the_failure_hold_lasts_until_the_template_changes() {
    let mut sc = eds("foo").canary(1).nodes(3);
    let first = start_canary(&mut sc);
    let active = sc.active();
    sc.annotate(keys::CANARY_FAILED_ANNOTATION, Some(&first.target_revision));
    sc.step();
    // Removing the annotation or the whole canary section does not roll the failed template.
    sc.annotate(keys::CANARY_FAILED_ANNOTATION, None);
    sc.edit(|e| e.spec.strategy.canary = None);
    let sim = sc.run();
    assert_eq!(
        sim.end,
        eds_plan::simulate::End::Stalled(reason::CANARY_FAILED.into())
    );
    assert_eq!(sc.state().as_deref(), Some(state::CANARY_FAILED));
    for n in ["node-1", "node-2", "node-3"] {
        assert_eq!(sc.revision_on(n), Some(active.clone()), "{n}");
    }
}

#[test]
fn status_canary_is_cleared_once_promoted_and_once_failed() {
    let mut sc = eds("foo").canary(1).canary_durations("10m", "5m").nodes(3);
    let first = start_canary(&mut sc);
    sc.advance(30);
    sc.settle_pods();
    assert!(sc.step().eds_status.canary.is_some());
    sc.advance(600);
    let promoted = sc.step();
    assert_eq!(
        promoted.eds_status.active_replica_set,
        first.target_revision
    );
    assert_eq!(promoted.eds_status.canary, None);
    sc.converge();
    assert_eq!(sc.snapshot.eds.status.as_ref().unwrap().canary, None);

    let mut sc = eds("foo").canary(1).nodes(3);
    let first = start_canary(&mut sc);
    sc.annotate(keys::CANARY_FAILED_ANNOTATION, Some(&first.target_revision));
    let failed = sc.step();
    assert_eq!(
        failed.eds_status.state.as_deref(),
        Some(state::CANARY_FAILED)
    );
    assert_eq!(failed.eds_status.canary, None);
    let held = sc.step();
    assert_eq!(held.eds_status.canary, None);
    assert_eq!(
        held.eds_status.rejected_revision.map(|r| r.replica_set),
        Some(first.target_revision)
    );
}

/// A server-side apply that omits an optional struct may leave it behind as `{}`; the planner
/// must read such leftovers as "no canary" and still start a new canary for a new template.
#[test]
fn a_new_template_after_a_failure_starts_a_canary_despite_leftover_status() {
    let mut sc = eds("foo").canary(1).nodes(3);
    let first = start_canary(&mut sc);
    let active = sc.active();
    sc.annotate(keys::CANARY_FAILED_ANNOTATION, Some(&first.target_revision));
    sc.step();
    sc.annotate(keys::CANARY_FAILED_ANNOTATION, None);
    sc.run();
    let status = sc.snapshot.eds.status.as_mut().expect("status");
    status.canary = Some(Default::default());
    sc.set_image("app:v3");
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY));
    assert_eq!(plan.eds_status.rejected_revision, None);
    assert_eq!(plan.eds_status.active_replica_set, active);
    let canary = plan.eds_status.canary.expect("status.canary");
    assert_eq!(canary.replica_set, plan.target_revision);
    assert_ne!(canary.replica_set, first.target_revision);
    assert_eq!(canary.nodes, ["node-1"]);
}

#[test]
fn a_canary_whose_pods_are_not_available_is_not_promoted_by_time() {
    let mut sc = eds("foo").canary(1).canary_durations("10m", "5m").nodes(3);
    let first = start_canary(&mut sc);
    sc.advance(900); // past duration, canary pod still not ready
    let plan = sc.plan();
    assert_ne!(plan.eds_status.active_replica_set, first.target_revision);
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY));
    sc.settle_pods();
    sc.advance(30);
    let plan = sc.plan();
    assert_eq!(plan.eds_status.active_replica_set, first.target_revision);
}

#[test]
fn a_user_pause_is_suspended_not_stalled_and_unpause_is_an_event() {
    let mut sc = eds("foo").canary(1).nodes(3);
    let first = start_canary(&mut sc);
    let target = first.target_revision.clone();
    sc.annotate(keys::CANARY_PAUSED_ANNOTATION, Some("true"));
    sc.annotate(keys::CANARY_PAUSED_REASON_ANNOTATION, Some("Investigating"));
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_PAUSED));
    assert_eq!(plan.eds_status.reason.as_deref(), Some("Investigating"));
    assert!(!condition(&plan, condition_type::STALLED).is_true());
    let reconciling = condition(&plan, condition_type::RECONCILING);
    assert!(reconciling.is_true());
    assert_eq!(
        reconciling.reason.as_deref(),
        Some(reason::CANARY_PAUSED_BY_USER)
    );
    assert!(has_event(
        &plan,
        EventType::Normal,
        reason::CANARY_PAUSED_BY_USER
    ));
    assert!(!has_event(&plan, EventType::Warning, reason::CANARY_PAUSED));
    assert!(
        plan.events
            .iter()
            .all(|e| e.revision.as_deref() == Some(&target))
    );
    // The pause holds across plans without repeating its event.
    sc.advance(3600);
    let plan = sc.step();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY_PAUSED));
    assert!(plan.events.is_empty(), "{:?}", plan.events);
    // `canary unpause` writes canary-unpaused and drops the pause.
    sc.annotate(keys::CANARY_PAUSED_ANNOTATION, None);
    sc.annotate(keys::CANARY_PAUSED_REASON_ANNOTATION, None);
    sc.annotate(keys::CANARY_UNPAUSED_ANNOTATION, Some("true"));
    let plan = sc.step();
    assert_ne!(plan.eds_status.state.as_deref(), Some(state::CANARY_PAUSED));
    assert!(has_event(&plan, EventType::Normal, reason::CANARY_UNPAUSED));
}

#[test]
fn a_canary_node_tainted_out_keeps_its_canary_pod_and_gets_no_second_canary() {
    // An untolerated NoSchedule taint lets a running pod stay but takes no new one: the canary
    // pod there still runs the canary, so no other node gets a canary pod beside it.
    let mut sc = eds("foo").canary(2).max_unavailable(3).nodes(5);
    let first = start_canary(&mut sc);
    let chosen = canary_nodes(&first);
    assert_eq!(chosen.len(), 2);
    sc.advance(2);
    sc.settle_pods();
    let taint = k8s_openapi::api::core::v1::Taint {
        key: "dedicated".into(),
        value: Some("other".into()),
        effect: "NoSchedule".into(),
        ..Default::default()
    };
    sc.node_mut(&chosen[0]).spec.get_or_insert_default().taints = Some(vec![taint]);
    let plan = sc.step();
    assert!(plan.pod_deletes.is_empty(), "{:?}", plan.pod_deletes);
    assert!(plan.pod_creates.is_empty(), "{:?}", plan.pod_creates);
    assert_eq!(canary_nodes(&plan), chosen);
    // Once its pod is gone (the node drained), another node takes its place.
    sc.snapshot
        .pods
        .retain(|p| eds_plan::pod_node(p) != Some(chosen[0].as_str()));
    let plan = sc.step();
    let now = canary_nodes(&plan);
    assert_eq!(now.len(), 2);
    assert!(
        !now.contains(&chosen[0]) && now.contains(&chosen[1]),
        "{now:?}"
    );
}
