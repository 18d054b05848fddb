//! Facts about one pod that the rules read: readiness, availability, failure, restarts.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// Pod phases after which the kubelet never restarts the pod.
const FAILED: &str = "Failed";
const SUCCEEDED: &str = "Succeeded";
const READY: &str = "Ready";
const TRUE: &str = "True";

/// What the planner needs to know about a pod at time `now`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodFacts {
    /// Ready condition is True (and the pod is not terminating).
    pub ready: bool,
    /// Since when it is ready.
    pub ready_since: Option<Timestamp>,
    /// Ready for at least minReadySeconds and not terminating.
    pub available: bool,
    /// When a ready pod becomes available (for the requeue deadline).
    pub available_at: Option<Timestamp>,
    /// Has a deletion timestamp.
    pub terminating: bool,
    /// Phase Failed or Succeeded: the pod will never run again.
    pub failed: bool,
    /// Bound to a node.
    pub scheduled: bool,
    /// Creation time.
    pub created: Option<Timestamp>,
    /// Unscheduled for longer than the timeout, or terminating past its grace period.
    pub unresponsive: bool,
    /// When an unscheduled pod will count as unresponsive.
    pub unresponsive_at: Option<Timestamp>,
}

/// Converts a std duration to a signed one, saturating.
pub fn signed(d: std::time::Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

/// `t + d`, saturating at the end of time.
pub fn after(t: Timestamp, d: std::time::Duration) -> Timestamp {
    t.checked_add(signed(d)).unwrap_or(Timestamp::MAX)
}

/// Computes the facts of `pod`.
pub fn observe(
    pod: &Pod,
    now: Timestamp,
    min_ready_seconds: i32,
    unscheduled_timeout: std::time::Duration,
) -> PodFacts {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or_default();
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let ready_cond = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == READY));
    let ready = !terminating && ready_cond.is_some_and(|c| c.status == TRUE);
    let ready_since = ready_cond
        .filter(|_| ready)
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0);
    let min_ready = std::time::Duration::from_secs(min_ready_seconds.max(0) as u64);
    let available_at = match (ready, ready_since) {
        (false, _) => None,
        (true, _) if min_ready.is_zero() => None,
        (true, Some(since)) => Some(after(since, min_ready)),
        // Ready without a transition time: trust it, as the DaemonSet controller does.
        (true, None) => None,
    };
    let available = ready && available_at.is_none_or(|at| at <= now);
    let scheduled = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    let created = pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let unresponsive_at = (!scheduled)
        .then(|| created.map(|c| after(c, unscheduled_timeout)))
        .flatten();
    let stuck_terminating = pod.metadata.deletion_timestamp.as_ref().is_some_and(|d| {
        let grace = pod
            .metadata
            .deletion_grace_period_seconds
            .unwrap_or(0)
            .max(0) as u64;
        after(d.0, std::time::Duration::from_secs(grace)) < now
    });
    PodFacts {
        ready,
        ready_since,
        available,
        available_at: available_at.filter(|at| *at > now),
        terminating,
        failed: phase == FAILED || phase == SUCCEEDED,
        scheduled,
        created,
        unresponsive: unresponsive_at.is_some_and(|at| at < now) || stuck_terminating,
        unresponsive_at: unresponsive_at.filter(|at| *at >= now),
    }
}

/// Sum of the container restarts of a pod.
pub fn restarts(pod: &Pod) -> i32 {
    container_statuses(pod).map(|c| c.restart_count).sum()
}

/// All container statuses of a pod: regular, init and ephemeral.
pub fn container_statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    let regular = status.and_then(|s| s.container_statuses.as_ref());
    let init = status.and_then(|s| s.init_container_statuses.as_ref());
    let ephemeral = status.and_then(|s| s.ephemeral_container_statuses.as_ref());
    [regular, init, ephemeral].into_iter().flatten().flatten()
}
