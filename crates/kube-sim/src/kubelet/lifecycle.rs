//! The pure kubelet state machine: the next status of a pod from the pod, its node, the
//! behaviours of its containers and the time. No I/O and no clock: the kubelet loop supplies
//! `now` and the facts it resolved through the API (missing ConfigMaps and Secrets).
//!
//! Timeline of a pod admitted at `A` with start delay `D` (jittered per pod):
//! - `[A, A + D/2)`: phase `Pending`, containers waiting `ContainerCreating` (init containers
//!   first; main containers wait `PodInitializing` behind them);
//! - `A + D/2`: the sandbox is ready, init containers have completed, containers start
//!   (phase `Running`), or fail as their behaviour says;
//! - `A + D`: normal containers are ready, so is the pod.

mod conditions;
pub(crate) mod container;

use std::{collections::BTreeMap, time::Duration};

use jiff::Timestamp;
use k8s_openapi::{
    api::core::v1::{ContainerState, ContainerStateTerminated, HostIP, Pod, PodIP, PodStatus},
    apimachinery::pkg::apis::meta::v1::Time,
};

use self::container::{ContainerTimeline, after};
use super::behaviour::Behaviour;

/// Timing of the behaviours that repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long a crash-looping container runs before it exits.
    pub crash_run: Duration,
    /// How long a crashed container waits in `CrashLoopBackOff` before its restart.
    pub crash_backoff: Duration,
    /// How long a flapping container stays ready, then unready.
    pub flap_period: Duration,
    /// How often a blocked pod (missing ConfigMap, Secret or image) is retried.
    pub recheck: Duration,
}

/// What keeps containers from starting: references the kubelet could not resolve.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blocks {
    /// A volume source (ConfigMap or Secret) is missing: the pod stays `ContainerCreating`.
    /// The value is the kubelet's `FailedMount` message.
    pub volume: Option<String>,
    /// Container name -> `CreateContainerConfigError` message (a referenced key is missing).
    pub containers: BTreeMap<String, String>,
}

/// What the kubelet knows about a pod besides the pod itself.
#[derive(Clone, Debug)]
pub struct PodFacts<'a> {
    /// When the kubelet first saw the pod bound to its node.
    pub admitted_at: Timestamp,
    /// The pod's start delay (configured delay with its jitter).
    pub start_delay: Duration,
    /// Timing of the repeating behaviours.
    pub timing: Timing,
    /// Whether the node is Ready; on a NotReady node nothing progresses and pods turn unready.
    pub node_ready: bool,
    /// Unresolved references.
    pub blocks: &'a Blocks,
    /// The node's InternalIP.
    pub host_ip: &'a str,
    /// The IP the pod gets once its sandbox is ready.
    pub pod_ip: &'a str,
}

/// What the kubelet does next for a pod.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// The status the pod should have now (possibly its current one), and when it next
    /// changes by itself.
    Status {
        /// The complete status.
        status: Box<PodStatus>,
        /// Next change without any outside event, if any.
        wake_at: Option<Timestamp>,
    },
    /// The grace period of a deleted pod is over: delete it with grace period 0.
    Delete,
}

/// Computes the next step for `pod`, bound to the kubelet's node.
pub fn next_status(pod: &Pod, facts: &PodFacts<'_>, now: Timestamp) -> Step {
    let old = pod.status.clone().unwrap_or_default();
    if !facts.node_ready {
        // The kubelet is down: only the node lifecycle controller acts, marking pods unready;
        // a deleted pod stays terminating until the node is back (or someone force-deletes).
        return Step::Status {
            status: Box::new(conditions::node_not_ready(old, now)),
            wake_at: None,
        };
    }
    if let Some(deadline) = &pod.metadata.deletion_timestamp {
        if now >= deadline.0 {
            return Step::Delete;
        }
        return Step::Status {
            status: Box::new(conditions::terminating(pod, old, now)),
            wake_at: Some(deadline.0),
        };
    }
    running_status(pod, old, facts, now)
}

fn running_status(pod: &Pod, old: PodStatus, facts: &PodFacts<'_>, now: Timestamp) -> Step {
    let spec = pod.spec.clone().unwrap_or_default();
    let sandbox_at = after(facts.admitted_at, facts.start_delay / 2);
    let ready_at = after(facts.admitted_at, facts.start_delay);
    let sandbox_ready = now >= sandbox_at && facts.blocks.volume.is_none();
    let init = spec.init_containers.clone().unwrap_or_default();
    let pod_uid = pod.metadata.uid.clone().unwrap_or_default();
    let pod_ref = format!(
        "{}_{}({pod_uid})",
        pod.metadata.name.as_deref().unwrap_or_default(),
        pod.metadata.namespace.as_deref().unwrap_or_default()
    );
    let mut wake_at = Vec::new();
    let mut containers = Vec::new();
    for c in &spec.containers {
        if !sandbox_ready {
            let reason = if init.is_empty() {
                "ContainerCreating"
            } else {
                "PodInitializing"
            };
            containers.push(container::waiting(c, reason, None));
            continue;
        }
        let timeline = ContainerTimeline {
            pod_uid: &pod_uid,
            pod_ref: &pod_ref,
            behaviour: Behaviour::of(c),
            config_error: facts.blocks.containers.get(&c.name).map(String::as_str),
            sandbox_at,
            ready_at,
            restart_always: spec.restart_policy.as_deref() != Some("Never"),
            timing: &facts.timing,
        };
        let view = container::view(c, &timeline, now);
        wake_at.extend(view.wake_at);
        containers.push(view.status);
    }
    let init_statuses: Vec<_> = init
        .iter()
        .map(|c| {
            if !sandbox_ready {
                return container::waiting(c, "ContainerCreating", None);
            }
            let mut status = container::waiting(c, "", None);
            status.state = Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 0,
                    reason: Some("Completed".into()),
                    started_at: Some(Time(sandbox_at)),
                    finished_at: Some(Time(sandbox_at)),
                    ..ContainerStateTerminated::default()
                }),
                ..ContainerState::default()
            });
            status
        })
        .collect();
    if !sandbox_ready {
        // Wake when the sandbox is ready, or recheck the missing volume source.
        wake_at.push(match facts.blocks.volume {
            Some(_) => after(now, facts.timing.recheck),
            None => sandbox_at,
        });
    }
    let mut status = PodStatus {
        phase: Some(conditions::phase(&containers, sandbox_ready, &spec).to_string()),
        start_time: old.start_time.clone().or(Some(Time(facts.admitted_at))),
        host_ip: Some(facts.host_ip.to_string()),
        host_ips: Some(vec![HostIP {
            ip: facts.host_ip.to_string(),
        }]),
        pod_ip: sandbox_ready.then(|| facts.pod_ip.to_string()),
        pod_ips: sandbox_ready.then(|| {
            vec![PodIP {
                ip: facts.pod_ip.to_string(),
            }]
        }),
        qos_class: old.qos_class.clone(),
        init_container_statuses: (!init_statuses.is_empty()).then_some(init_statuses),
        container_statuses: Some(containers),
        ..PodStatus::default()
    };
    status.conditions = Some(conditions::pod_conditions(
        pod,
        &status,
        &old,
        sandbox_ready,
        now,
    ));
    Step::Status {
        status: Box::new(status),
        wake_at: wake_at.into_iter().min(),
    }
}

#[cfg(test)]
mod tests;
