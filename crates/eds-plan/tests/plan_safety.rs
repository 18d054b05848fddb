//! Rollout safety findings, each as the sequence of steps that exposed it: steering commands
//! scoped to one canary, one pod per node while a pod terminates, pods pinned to vanished nodes,
//! the active revision's own slow start, the `Canary-Failed` ERS condition, a canary larger
//! than the fleet, and `--full` simulations that stall on a paused canary.

use std::sync::Arc;

use eds_api::{
    Condition,
    constants::{condition_type, keys, reason, state},
};
use eds_plan::{
    Plan,
    simulate::{End, apply, simulate},
    testing::{Scenario, eds, node, t0, wait_with},
};
use jiff::SignedDuration;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Converges on v1, applies `image`, and runs until the canary pods exist.
fn start_canary(sc: &mut Scenario, image: &str) -> String {
    sc.converge();
    sc.set_image(image);
    let first = sc.step();
    sc.step();
    sc.step();
    first.target_revision
}

/// A new template after a converged or held rollout: plans until the canary pods exist.
fn next_canary(sc: &mut Scenario, image: &str) -> String {
    sc.set_image(image);
    let first = sc.step();
    sc.step();
    sc.step();
    first.target_revision
}

fn canary_pods_wait(sc: &mut Scenario, ers: &str, why: &str) {
    for p in sc.snapshot.pods.iter_mut() {
        let labels = p.metadata.labels.clone().unwrap_or_default();
        if labels.get(keys::ERS_NAME_LABEL).map(String::as_str) == Some(ers) {
            wait_with(Arc::make_mut(p), why);
        }
    }
}

/// Plans and applies; pods the plan deletes stay, terminating, instead of going at once.
fn step_terminating(sc: &mut Scenario) -> Plan {
    let plan = sc.plan();
    let kept: Vec<_> = sc
        .snapshot
        .pods
        .iter()
        .filter(|p| {
            plan.pod_deletes
                .iter()
                .any(|d| Some(d.name.as_str()) == p.metadata.name.as_deref())
        })
        .cloned()
        .collect();
    apply(&mut sc.snapshot, &plan, sc.now);
    for mut p in kept {
        let pod = Arc::make_mut(&mut p);
        pod.metadata.deletion_timestamp = Some(Time(sc.now));
        pod.metadata.deletion_grace_period_seconds = Some(30);
        sc.snapshot.pods.push(p);
    }
    sc.advance(1);
    plan
}

#[test]
fn a_manual_fail_does_not_fail_the_next_canary() {
    let mut sc = eds("foo").canary(1).nodes(3);
    start_canary(&mut sc, "app:v2");
    sc.annotate(keys::CANARY_FAILED_ANNOTATION, Some("true"));
    sc.step();
    assert_eq!(sc.state().as_deref(), Some(state::CANARY_FAILED));
    next_canary(&mut sc, "app:v3");
    let plan = sc.plan();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY));
}

#[test]
fn an_unpause_does_not_disable_auto_pause_of_the_next_canary() {
    let mut sc = eds("foo").canary(1).nodes(3);
    let v2 = start_canary(&mut sc, "app:v2");
    canary_pods_wait(&mut sc, &v2, "ErrImagePull");
    sc.step();
    assert_eq!(sc.state().as_deref(), Some(state::CANARY_PAUSED));
    sc.annotate(keys::CANARY_UNPAUSED_ANNOTATION, Some("true"));
    sc.step();
    assert_eq!(sc.state().as_deref(), Some(state::CANARY));
    let v3 = next_canary(&mut sc, "app:v3");
    canary_pods_wait(&mut sc, &v3, "ErrImagePull");
    sc.step();
    assert_eq!(sc.state().as_deref(), Some(state::CANARY_PAUSED));
}

#[test]
fn a_steering_value_naming_another_revision_is_ignored() {
    let mut sc = eds("foo").canary(1).nodes(3);
    start_canary(&mut sc, "app:v2");
    sc.annotate(keys::CANARY_FAILED_ANNOTATION, Some("foo-other"));
    sc.annotate(keys::CANARY_PAUSED_ANNOTATION, Some("foo-other"));
    sc.step();
    assert_eq!(sc.state().as_deref(), Some(state::CANARY));
}

#[test]
fn steering_values_naming_the_canary_apply_to_it() {
    let mut sc = eds("foo").canary(1).nodes(3);
    let v2 = start_canary(&mut sc, "app:v2");
    sc.annotate(keys::CANARY_PAUSED_ANNOTATION, Some(&v2));
    sc.step();
    assert_eq!(sc.state().as_deref(), Some(state::CANARY_PAUSED));
    sc.annotate(keys::CANARY_PAUSED_ANNOTATION, None);
    sc.annotate(keys::CANARY_FAILED_ANNOTATION, Some(&v2));
    sc.step();
    assert_eq!(sc.state().as_deref(), Some(state::CANARY_FAILED));
}

#[test]
fn a_true_value_present_before_the_canary_started_is_ignored() {
    let mut sc = eds("foo").canary(1).nodes(3);
    sc.annotate(keys::CANARY_PAUSED_ANNOTATION, Some("true"));
    start_canary(&mut sc, "app:v2");
    assert_eq!(sc.state().as_deref(), Some(state::CANARY));
}

#[test]
fn a_validation_does_not_promote_the_same_template_when_it_comes_back() {
    let mut sc = eds("foo").canary(1).nodes(3);
    let v2 = start_canary(&mut sc, "app:v2");
    sc.annotate(keys::CANARY_VALID_ANNOTATION, Some(&v2));
    sc.converge();
    next_canary(&mut sc, "app:v3");
    sc.converge();
    // `rollout undo` to v2: the same ERS name, a new canary.
    next_canary(&mut sc, "app:v2");
    assert_eq!(sc.state().as_deref(), Some(state::CANARY));
}

#[test]
fn no_new_pod_while_the_nodes_previous_pod_terminates() {
    let mut sc = eds("foo").fast_start(10).max_unavailable(1).nodes(2);
    sc.converge();
    sc.set_image("app:v2");
    sc.step(); // the ERS
    let deleting = step_terminating(&mut sc);
    assert_eq!(deleting.pod_deletes.len(), 1);
    let node = deleting.pod_deletes[0].node.clone().unwrap();
    let next = sc.plan();
    assert!(
        next.pod_creates
            .iter()
            .all(|p| eds_plan::testing::node_of(p).as_deref() != Some(node.as_str())),
        "a pod was created on {node} beside its terminating pod"
    );
}

#[test]
fn a_never_scheduled_pod_pinned_to_a_vanished_node_is_deleted() {
    let mut sc = eds("foo").nodes(2);
    sc.converge();
    let pod = Arc::make_mut(
        sc.snapshot
            .pods
            .iter_mut()
            .find(|p| eds_plan::testing::node_of(p).as_deref() == Some("node-2"))
            .unwrap(),
    );
    pod.spec.as_mut().unwrap().node_name = None;
    pod.status.as_mut().unwrap().phase = Some("Pending".into());
    let name = pod.metadata.name.clone().unwrap();
    sc.snapshot
        .nodes
        .retain(|n| n.metadata.name.as_deref() != Some("node-2"));
    let plan = sc.plan();
    assert!(
        plan.pod_deletes.iter().any(|d| d.name == name),
        "{:?}",
        plan.pod_deletes
    );
}

#[test]
fn new_nodes_during_a_canary_follow_the_active_revisions_slow_start() {
    let mut sc = eds("foo")
        .canary(1)
        .manual()
        .rolling(|r| {
            r.slow_start_additive_increase =
                Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1));
            r.max_parallel_pod_creation = Some(10);
        })
        .nodes(2);
    start_canary(&mut sc, "app:v2");
    // The active revision became active long ago: its slow start is over.
    sc.advance(3600);
    sc.settle_pods();
    for i in 3..=6 {
        sc.add_node(node(&format!("node-{i}")));
    }
    let plan = sc.plan();
    assert_eq!(plan.pod_creates.len(), 4, "{:?}", plan.nodes);
}

fn canary_failed_condition() -> Condition {
    Condition {
        last_transition_time: Some(Time(t0())),
        ..Condition::new(
            condition_type::CANARY_FAILED,
            true,
            "Manual",
            "failed by hand",
        )
    }
}

#[test]
fn a_canary_failed_condition_on_the_canary_ers_fails_it() {
    let mut sc = eds("foo").canary(1).nodes(3);
    let v2 = start_canary(&mut sc, "app:v2");
    let ers = sc
        .snapshot
        .replica_sets
        .iter_mut()
        .find(|e| e.metadata.name.as_deref() == Some(v2.as_str()))
        .unwrap();
    ers.status
        .get_or_insert_with(Default::default)
        .conditions
        .retain(|c| c.type_ != condition_type::CANARY_FAILED);
    ers.status
        .as_mut()
        .unwrap()
        .conditions
        .push(canary_failed_condition());
    sc.step();
    assert_eq!(sc.state().as_deref(), Some(state::CANARY_FAILED));
    let sim = sc.run();
    assert_ne!(sc.active(), v2, "{:?}", sim.end);
}

#[test]
fn a_canary_larger_than_the_fleet_is_refused() {
    let mut sc = eds("foo").canary(5).max_unavailable(1).nodes(3);
    sc.converge();
    sc.set_image("app:v2");
    let first = sc.step();
    let plan = sc.step();
    assert!(plan.pod_deletes.is_empty(), "{:?}", plan.pod_deletes);
    assert_eq!(
        plan.eds_status.reason.as_deref(),
        Some(reason::NOT_ENOUGH_CANARY_NODES)
    );
    let stalled = plan
        .eds_status
        .conditions
        .iter()
        .find(|c| c.type_ == condition_type::STALLED)
        .unwrap();
    assert!(
        stalled
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("spec.strategy.canary.replicas"),
        "{stalled:?}"
    );
    assert!(
        first
            .events
            .iter()
            .chain(&plan.events)
            .any(|e| e.type_ == eds_plan::EventType::Warning
                && e.message.contains(reason::NOT_ENOUGH_CANARY_NODES)),
        "{:?}",
        first.events
    );
    assert_eq!(sc.snapshot.pods.len(), 3);
}

#[test]
fn a_full_simulation_of_a_pausing_canary_ends_stalled() {
    let mut sc = eds("foo").canary(1).nodes(3);
    let v2 = start_canary(&mut sc, "app:v2");
    canary_pods_wait(&mut sc, &v2, "ErrImagePull");
    let sim = simulate(sc.snapshot.clone(), sc.now, &sc.options);
    assert_eq!(sim.end, End::Stalled(reason::CANARY_PAUSED.into()));
    assert!(sim.steps < 100, "{} steps", sim.steps);
    let _ = SignedDuration::ZERO;
}

/// Finding 8, our choice: a pod in phase `Unknown` (its node lost contact) still counts as the
/// node's pod, so no second pod is created beside one that may still run.
#[test]
fn a_pod_in_phase_unknown_is_counted_not_ignored() {
    let mut sc = eds("foo").nodes(2);
    sc.converge();
    let pod = sc.pod_mut("node-2");
    eds_plan::testing::set_unready(pod);
    pod.status.as_mut().unwrap().phase = Some("Unknown".into());
    let plan = sc.plan();
    assert!(plan.pod_creates.is_empty(), "{:?}", plan.nodes);
    assert!(plan.pod_deletes.is_empty(), "{:?}", plan.nodes);
}
