//! The kubelet state machine, step by step on a simulated clock.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ContainerStatus, PodCondition};
use serde_json::{Value, json};

use super::*;

mod behaviours;

const T0: i64 = 1_700_000_000;

pub(super) fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(T0 * 1000 + ms).unwrap()
}

pub(super) fn timing() -> Timing {
    Timing {
        crash_run: Duration::from_millis(500),
        crash_backoff: Duration::from_secs(1),
        flap_period: Duration::from_secs(2),
        recheck: Duration::from_secs(1),
    }
}

/// A pod whose containers are `(name, image, SIM_BEHAVIOUR)`.
pub(super) fn pod(containers: &[(&str, &str, &str)], extra_spec: Value) -> Pod {
    let containers: Vec<Value> = containers
        .iter()
        .map(|(name, image, behaviour)| {
            let env = if behaviour.is_empty() {
                json!([])
            } else {
                json!([{"name": "SIM_BEHAVIOUR", "value": behaviour}])
            };
            json!({"name": name, "image": image, "env": env})
        })
        .collect();
    let mut spec = json!({"nodeName": "n1", "containers": containers});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
        spec.extend(extra.clone());
    }
    serde_json::from_value(json!({
        "metadata": {"name": "p", "namespace": "ns", "uid": "uid-1"},
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": "BestEffort", "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2023-11-14T22:13:00Z"}]}
    }))
    .unwrap()
}

pub(super) fn facts(blocks: &Blocks) -> PodFacts<'_> {
    PodFacts {
        admitted_at: at(0),
        start_delay: Duration::from_secs(1),
        timing: timing(),
        node_ready: true,
        blocks,
        host_ip: "10.64.0.1",
        pod_ip: "10.128.0.7",
    }
}

/// Runs the state machine at `ms`, writes the status back into the pod (as the API server
/// would) and returns it with the wake time.
pub(super) fn step(pod: &mut Pod, facts: &PodFacts<'_>, ms: i64) -> (PodStatus, Option<Timestamp>) {
    match next_status(pod, facts, at(ms)) {
        Step::Status { status, wake_at } => {
            pod.status = Some((*status).clone());
            (*status, wake_at)
        }
        Step::Delete => panic!("unexpected delete at {ms}ms"),
    }
}

pub(super) fn container(status: &PodStatus, i: usize) -> &ContainerStatus {
    &status.container_statuses.as_ref().unwrap()[i]
}

pub(super) fn waiting_reason(c: &ContainerStatus) -> Option<&str> {
    c.state.as_ref()?.waiting.as_ref()?.reason.as_deref()
}

pub(super) fn cond<'a>(status: &'a PodStatus, type_: &str) -> &'a PodCondition {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_)
        .unwrap()
}

#[test]
fn normal_pod_goes_pending_running_ready() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut p = pod(&[("app", "registry.k8s.io/pause:3.0", "")], json!({}));

    let (s, wake) = step(&mut p, &f, 0);
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    assert_eq!(waiting_reason(container(&s, 0)), Some("ContainerCreating"));
    assert_eq!(cond(&s, "Ready").status, "False");
    assert_eq!(cond(&s, "PodReadyToStartContainers").status, "False");
    assert_eq!(s.start_time, Some(Time(at(0))));
    assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
    assert_eq!(s.pod_ip, None);
    assert_eq!(wake, Some(at(500)));

    let (s, wake) = step(&mut p, &f, 600);
    assert_eq!(s.phase.as_deref(), Some("Running"));
    let c = container(&s, 0);
    assert!(c.state.as_ref().unwrap().running.is_some());
    assert_eq!((c.ready, c.started), (false, Some(true)));
    assert!(c.image_id.starts_with("registry.k8s.io/pause@sha256:"));
    assert_eq!(s.pod_ip.as_deref(), Some("10.128.0.7"));
    assert_eq!(wake, Some(at(1000)));

    let (s, wake) = step(&mut p, &f, 1000);
    assert!(container(&s, 0).ready);
    let types: Vec<(&str, &str)> = s
        .conditions
        .iter()
        .flatten()
        .map(|c| (c.type_.as_str(), c.status.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("PodReadyToStartContainers", "True"),
            ("Initialized", "True"),
            ("Ready", "True"),
            ("ContainersReady", "True"),
            ("PodScheduled", "True")
        ]
    );
    assert_eq!(cond(&s, "Ready").last_transition_time, Some(Time(at(1000))));
    assert_eq!(wake, None);
}

#[test]
fn transition_times_are_kept_while_conditions_hold() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut p = pod(&[("app", "pause", "")], json!({}));
    step(&mut p, &f, 0);
    let (ready, _) = step(&mut p, &f, 3000);
    let (later, _) = step(&mut p, &f, 60_000);
    assert_eq!(ready, later, "a settled pod's status does not churn");
    assert_eq!(
        cond(&later, "PodScheduled").last_transition_time,
        Some(Time("2023-11-14T22:13:00Z".parse().unwrap()))
    );
}

#[test]
fn not_ready_node_turns_only_the_ready_condition_false() {
    let blocks = Blocks::default();
    let mut f = facts(&blocks);
    let mut p = pod(&[("app", "pause", "")], json!({}));
    let (ready, _) = step(&mut p, &f, 2000);
    f.node_ready = false;
    let (s, wake) = step(&mut p, &f, 5000);
    assert_eq!(cond(&s, "Ready").status, "False");
    assert_eq!(cond(&s, "Ready").last_transition_time, Some(Time(at(5000))));
    assert_eq!(cond(&s, "ContainersReady"), cond(&ready, "ContainersReady"));
    assert_eq!(s.container_statuses, ready.container_statuses);
    assert_eq!(wake, None);
    f.node_ready = true;
    let (s, _) = step(&mut p, &f, 6000);
    assert_eq!(cond(&s, "Ready").status, "True");
}

#[test]
fn deleted_pod_turns_unready_then_is_deleted_after_its_grace_period() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut p = pod(&[("app", "pause", "")], json!({}));
    step(&mut p, &f, 2000);
    p.metadata.deletion_timestamp = Some(Time(at(32_000)));
    let (s, wake) = step(&mut p, &f, 3000);
    assert!(!container(&s, 0).ready);
    assert_eq!(cond(&s, "Ready").status, "False");
    assert_eq!(wake, Some(at(32_000)));
    assert_eq!(next_status(&p, &f, at(32_000)), Step::Delete);
}

#[test]
fn deleted_pod_on_a_not_ready_node_stays_terminating() {
    let blocks = Blocks::default();
    let mut f = facts(&blocks);
    let mut p = pod(&[("app", "pause", "")], json!({}));
    step(&mut p, &f, 2000);
    p.metadata.deletion_timestamp = Some(Time(at(3000)));
    f.node_ready = false;
    let (s, wake) = step(&mut p, &f, 60_000);
    assert_eq!(cond(&s, "Ready").status, "False");
    assert_eq!(wake, None, "nothing happens until the node is back");
    f.node_ready = true;
    assert_eq!(next_status(&p, &f, at(61_000)), Step::Delete);
}

#[test]
fn init_containers_complete_before_the_main_ones_start() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut p = pod(
        &[("app", "pause", "")],
        json!({"initContainers": [{"name": "init", "image": "busybox"}]}),
    );
    let (s, _) = step(&mut p, &f, 100);
    assert_eq!(cond(&s, "Initialized").status, "False");
    assert_eq!(waiting_reason(container(&s, 0)), Some("PodInitializing"));
    let (s, _) = step(&mut p, &f, 600);
    assert_eq!(cond(&s, "Initialized").status, "True");
    let init = &s.init_container_statuses.as_ref().unwrap()[0];
    let done = init.state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(
        (done.reason.as_deref(), done.exit_code),
        (Some("Completed"), 0)
    );
}

#[test]
fn readiness_gates_hold_the_pod_unready() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut p = pod(
        &[("app", "pause", "")],
        json!({"readinessGates": [{"conditionType": "example.com/lb"}]}),
    );
    let (s, _) = step(&mut p, &f, 2000);
    assert_eq!(cond(&s, "ContainersReady").status, "True");
    assert_eq!(
        cond(&s, "Ready").reason.as_deref(),
        Some("ReadinessGatesNotReady")
    );
    let mut conditions = s.conditions.clone().unwrap();
    conditions.push(PodCondition {
        type_: "example.com/lb".into(),
        status: "True".into(),
        ..PodCondition::default()
    });
    p.status.as_mut().unwrap().conditions = Some(conditions);
    let (s, _) = step(&mut p, &f, 2500);
    assert_eq!(cond(&s, "Ready").status, "True");
    assert_eq!(
        cond(&s, "example.com/lb").status,
        "True",
        "others' conditions are kept"
    );
}
