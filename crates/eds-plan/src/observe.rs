//! Facts about one pod that the rules read: readiness, availability, failure, restarts.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use crate::digest::PodDigest;

/// Pod phases after which the kubelet never restarts the pod.
pub const FAILED: &str = "Failed";
pub const SUCCEEDED: &str = "Succeeded";
pub const READY: &str = "Ready";
pub const TRUE: &str = "True";

/// What the planner needs to know about a pod at time `now`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodFacts {
    /// Ready condition is True (and the pod is not terminating).
    pub ready: bool,
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

/// Computes the facts of the pod of `pod` (its digest).
pub fn observe(
    pod: &PodDigest,
    now: Timestamp,
    min_ready_seconds: i32,
    unscheduled_timeout: std::time::Duration,
) -> PodFacts {
    let terminating = pod.deletion().is_some();
    let ready = !terminating && pod.ready_condition();
    let ready_since = pod.ready_transition().filter(|_| ready);
    let min_ready = std::time::Duration::from_secs(min_ready_seconds.max(0) as u64);
    let available_at = match (ready, ready_since) {
        (false, _) => None,
        (true, _) if min_ready.is_zero() => None,
        (true, Some(since)) => Some(after(since, min_ready)),
        // Ready without a transition time: trust it, as the DaemonSet controller does.
        (true, None) => None,
    };
    let available = ready && available_at.is_none_or(|at| at <= now);
    let scheduled = pod.bound();
    let created = pod.created();
    let unresponsive_at = (!scheduled)
        .then(|| created.map(|c| after(c, unscheduled_timeout)))
        .flatten();
    let stuck_terminating = pod.deletion().is_some_and(|d| {
        let grace = pod.deletion_grace().unwrap_or(0).max(0) as u64;
        after(d, std::time::Duration::from_secs(grace)) < now
    });
    PodFacts {
        ready,
        available,
        available_at: available_at.filter(|at| *at > now),
        terminating,
        failed: pod.finished(),
        scheduled,
        unresponsive: unresponsive_at.is_some_and(|at| at < now) || stuck_terminating,
        unresponsive_at: unresponsive_at.filter(|at| *at >= now),
    }
}

/// All container statuses of a pod: regular, init and ephemeral.
pub fn container_statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    let regular = status.and_then(|s| s.container_statuses.as_ref());
    let init = status.and_then(|s| s.init_container_statuses.as_ref());
    let ephemeral = status.and_then(|s| s.ephemeral_container_statuses.as_ref());
    [regular, init, ephemeral].into_iter().flatten().flatten()
}
