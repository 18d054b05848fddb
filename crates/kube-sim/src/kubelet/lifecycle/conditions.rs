//! Pod phase and conditions, as the kubelet (and the node lifecycle controller) write them.

use jiff::Timestamp;
use k8s_openapi::{
    api::core::v1::{ContainerStatus, Pod, PodCondition, PodSpec, PodStatus},
    apimachinery::pkg::apis::meta::v1::Time,
};

/// Condition types the kubelet owns, in the order it writes them.
const READY_TO_START: &str = "PodReadyToStartContainers";
const INITIALIZED: &str = "Initialized";
const READY: &str = "Ready";
const CONTAINERS_READY: &str = "ContainersReady";
const SCHEDULED: &str = "PodScheduled";

/// The pod phase (the kubelet's `getPhase` for the cases simulated): `Pending` while a
/// container has never started, `Running` while any runs or restarts, `Failed`/`Succeeded`
/// once all have exited for good.
pub(super) fn phase(
    containers: &[ContainerStatus],
    sandbox_ready: bool,
    spec: &PodSpec,
) -> &'static str {
    let state = |c: &ContainerStatus| c.state.clone().unwrap_or_default();
    let never_started = containers.iter().any(|c| {
        state(c).waiting.is_some() && c.last_state.as_ref().is_none_or(|l| l.terminated.is_none())
    });
    if !sandbox_ready || never_started || containers.is_empty() {
        return "Pending";
    }
    if containers.iter().any(|c| state(c).terminated.is_none()) {
        return "Running";
    }
    let failed = containers
        .iter()
        .any(|c| state(c).terminated.is_some_and(|t| t.exit_code != 0));
    match (failed, spec.restart_policy.as_deref()) {
        (_, Some("Always") | None) => "Running",
        (true, _) => "Failed",
        (false, _) => "Succeeded",
    }
}

/// The kubelet's conditions for `status`, keeping the transition time of every condition
/// whose status did not change, and the conditions others own (readiness gates, ...).
pub(super) fn pod_conditions(
    pod: &Pod,
    status: &PodStatus,
    old: &PodStatus,
    sandbox_ready: bool,
    now: Timestamp,
) -> Vec<PodCondition> {
    let containers = status.container_statuses.as_deref().unwrap_or_default();
    let unready: Vec<&str> = containers
        .iter()
        .filter(|c| !c.ready)
        .map(|c| c.name.as_str())
        .collect();
    let init_pending: Vec<&str> = status
        .init_container_statuses
        .iter()
        .flatten()
        .filter(|c| c.state.as_ref().is_none_or(|s| s.terminated.is_none()))
        .map(|c| c.name.as_str())
        .collect();
    let containers_ready = if unready.is_empty() {
        condition(CONTAINERS_READY, true, None, None)
    } else {
        let message = format!("containers with unready status: [{}]", unready.join(" "));
        condition(
            CONTAINERS_READY,
            false,
            Some("ContainersNotReady"),
            Some(message),
        )
    };
    let gates_ready = readiness_gates_ready(pod, old);
    let ready = match (&gates_ready, unready.is_empty()) {
        (Err(message), true) => condition(
            READY,
            false,
            Some("ReadinessGatesNotReady"),
            Some(message.clone()),
        ),
        _ => PodCondition {
            type_: READY.into(),
            ..containers_ready.clone()
        },
    };
    let initialized = if init_pending.is_empty() {
        condition(INITIALIZED, true, None, None)
    } else {
        let message = format!(
            "containers with incomplete status: [{}]",
            init_pending.join(" ")
        );
        condition(
            INITIALIZED,
            false,
            Some("ContainersNotInitialized"),
            Some(message),
        )
    };
    let scheduled = old
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == SCHEDULED)
        .cloned()
        .unwrap_or_else(|| condition(SCHEDULED, true, None, None));
    let mut conditions = vec![
        condition(READY_TO_START, sandbox_ready, None, None),
        initialized,
        ready,
        containers_ready,
        scheduled,
    ];
    let owned = [
        READY_TO_START,
        INITIALIZED,
        READY,
        CONTAINERS_READY,
        SCHEDULED,
    ];
    conditions.extend(
        old.conditions
            .iter()
            .flatten()
            .filter(|c| !owned.contains(&c.type_.as_str()))
            .cloned(),
    );
    carry_transition_times(&mut conditions, old, now);
    conditions
}

/// A pod being deleted: its containers are stopping, so nothing is ready any more.
pub(super) fn terminating(pod: &Pod, mut status: PodStatus, now: Timestamp) -> PodStatus {
    let old = status.clone();
    for c in status.container_statuses.iter_mut().flatten() {
        c.ready = false;
    }
    let names: Vec<String> = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
        .collect();
    let message = format!("containers with unready status: [{}]", names.join(" "));
    for c in status.conditions.iter_mut().flatten() {
        if c.type_ == READY || c.type_ == CONTAINERS_READY {
            c.status = "False".into();
            c.reason = Some("ContainersNotReady".into());
            c.message = Some(message.clone());
        }
    }
    if let Some(conditions) = status.conditions.as_mut() {
        carry_transition_times(conditions, &old, now);
    }
    status
}

/// What the node lifecycle controller does to the pods of a NotReady node: `Ready` turns
/// `False`, nothing else changes (the kubelet is not there to report).
pub(super) fn node_not_ready(mut status: PodStatus, now: Timestamp) -> PodStatus {
    let old = status.clone();
    for c in status.conditions.iter_mut().flatten() {
        if c.type_ == READY {
            c.status = "False".into();
        }
    }
    if let Some(conditions) = status.conditions.as_mut() {
        carry_transition_times(conditions, &old, now);
    }
    status
}

fn readiness_gates_ready(pod: &Pod, old: &PodStatus) -> Result<(), String> {
    let gates = pod
        .spec
        .iter()
        .flat_map(|s| s.readiness_gates.iter().flatten());
    for gate in gates {
        let found = old
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == gate.condition_type);
        match found {
            None => {
                return Err(format!(
                    "corresponding condition of pod readiness gate \"{}\" does not exist.",
                    gate.condition_type
                ));
            }
            Some(c) if c.status != "True" => {
                return Err(format!(
                    "the status of pod readiness gate \"{}\" is not \"True\", but {}",
                    gate.condition_type, c.status
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn condition(
    type_: &str,
    status: bool,
    reason: Option<&str>,
    message: Option<String>,
) -> PodCondition {
    PodCondition {
        type_: type_.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        reason: reason.map(str::to_string),
        message,
        ..PodCondition::default()
    }
}

/// A condition keeps its `lastTransitionTime` while its status stays the same; a changed (or
/// new) one transitions now.
fn carry_transition_times(conditions: &mut [PodCondition], old: &PodStatus, now: Timestamp) {
    for c in conditions {
        let previous = old.conditions.iter().flatten().find(|o| o.type_ == c.type_);
        c.last_transition_time = match previous {
            Some(p) if p.status == c.status => p.last_transition_time.clone().or(Some(Time(now))),
            _ => Some(Time(now)),
        };
    }
}
