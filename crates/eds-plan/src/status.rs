//! Statuses of the ExtendedDaemonSet and its ERSs.
//!
//! Kept from upstream: every field, the `state` strings (`Running`, `Canary`, `Canary Paused`,
//! `Canary Failed`, `RollingUpdate Paused`, `Rollout frozen`), the pause/failure `reason`, the
//! `Canary-Paused`/`Canary-Failed` conditions and the ERS conditions. We add
//! `observedGeneration` and the kstatus conditions: `Reconciling` while a rollout progresses or
//! waits on a user's pause, `Stalled` (with the reason) when it failed and a human must fix it,
//! `Ready` when every node runs the current revision available (the contract is in
//! `docs/status.md` and [`contract`]). Counts are per node (a node with two pods during a surge counts once).
//!
//! Condition times come from [`set_condition`] with the plan's time, so a status with nothing
//! new equals the stored one and the controller can skip the write.

mod contract;
mod ers;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{canary::Phase, cluster::Cluster};
use eds_api::{
    CanaryStatus, Condition, ExtendedDaemonSetStatus, RejectedRevision,
    condition::{FALSE, set_condition},
    constants::{condition_type, reason, state},
};

pub use contract::{BlockerInputs, Stall, blocker, paused_by_user};
pub use ers::{ErsStatusInputs, ers_status, rev_counts};

/// Node counts of the ExtendedDaemonSet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Nodes that should run a pod.
    pub desired: i32,
    /// Of those, nodes running a pod.
    pub current: i32,
    /// Nodes running a ready pod.
    pub ready: i32,
    /// Nodes running an available pod.
    pub available: i32,
    /// Nodes running a pod of the target revision.
    pub up_to_date: i32,
}

/// Counts the nodes of `cluster` against revision `target`.
pub fn counts(cluster: &Cluster<'_>, target: usize) -> Counts {
    let mut c = Counts::default();
    for node in cluster.nodes.iter().filter(|n| n.runs()) {
        c.desired += 1;
        let (mut current, mut ready, mut available, mut up_to_date) = (false, false, false, false);
        for p in node.live() {
            current = true;
            ready |= p.facts.ready;
            available |= p.facts.available;
            up_to_date |= p.rev == Some(target) && !p.facts.failed;
        }
        c.current += i32::from(current);
        c.ready += i32::from(ready);
        c.available += i32::from(available);
        c.up_to_date += i32::from(up_to_date);
    }
    c
}

/// Inputs of [`eds_status`].
pub struct EdsStatusInputs<'a> {
    /// Stored status.
    pub prev: Option<&'a eds_api::ExtendedDaemonSetStatus>,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// Node counts.
    pub counts: Counts,
    /// Ignored unresponsive nodes.
    pub ignored: i32,
    /// Active ERS after this plan.
    pub active: String,
    /// Target ERS.
    pub target: String,
    /// Canary phase (`None` without a canary in progress).
    pub phase: Option<&'a Phase>,
    /// Canary nodes.
    pub canary_nodes: Vec<String>,
    /// Whether the ExtendedDaemonSet has a canary strategy.
    pub has_canary: bool,
    /// Rejected revision to record.
    pub rejected: Option<RejectedRevision>,
    /// `rollout-frozen`.
    pub frozen: bool,
    /// `rolling-update-paused`.
    pub paused: bool,
    /// Every node runs the target revision, available, and nothing else is left to do.
    pub done: bool,
    /// What holds the rollout back: a failure (`Stalled`) or a user's pause (`Reconciling`).
    pub stall: Option<Stall>,
    /// Plan time (whole seconds).
    pub stamp: &'a Time,
}

fn cond(
    type_: &str,
    holds: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
) -> Condition {
    Condition {
        observed_generation: generation,
        ..Condition::new(type_, holds, reason, message)
    }
}

/// An upstream-style condition that does not hold: no reason, no message.
fn off(type_: &str, generation: Option<i64>) -> Condition {
    Condition {
        type_: type_.into(),
        status: FALSE.into(),
        last_transition_time: None,
        last_update_time: None,
        reason: None,
        message: None,
        observed_generation: generation,
    }
}

/// The desired status of the ExtendedDaemonSet.
pub fn eds_status(inp: &EdsStatusInputs<'_>) -> ExtendedDaemonSetStatus {
    let prev = inp.prev.cloned().unwrap_or_default();
    let g = inp.generation;
    let (st, why) = match (inp.frozen, inp.phase) {
        (true, _) => (state::ROLLOUT_FROZEN, None),
        (_, Some(Phase::Failed { reason, .. })) => (state::CANARY_FAILED, Some(reason.clone())),
        (_, Some(Phase::Paused { reason })) => (state::CANARY_PAUSED, Some(reason.clone())),
        (_, Some(Phase::Running)) => (state::CANARY, None),
        _ if inp.paused => (state::ROLLING_UPDATE_PAUSED, None),
        _ => (state::RUNNING, None),
    };
    let mut conditions = prev.conditions.clone();
    let mut set = |c: Condition| set_condition(&mut conditions, c, inp.stamp);
    if inp.has_canary {
        set(match inp.phase {
            Some(Phase::Paused { reason }) => cond(
                condition_type::CANARY_PAUSED,
                true,
                reason,
                format!("canary paused with ers: {}", inp.target),
                g,
            ),
            _ => off(condition_type::CANARY_PAUSED, g),
        });
        set(match inp.phase {
            Some(Phase::Failed { .. }) => cond(
                condition_type::CANARY_FAILED,
                true,
                reason::CANARY_FAILED,
                format!("canary failed with ers: {}", inp.target),
                g,
            ),
            _ => off(condition_type::CANARY_FAILED, g),
        });
    }
    let c = inp.counts;
    let canary_running = matches!(inp.phase, Some(Phase::Running));
    let progress = format!(
        "{}/{} nodes run {}, {} available",
        c.up_to_date, c.desired, inp.target, c.available
    );
    let (ready_reason, ready_message) = match (&inp.stall, inp.done) {
        (_, true) => (reason::ROLLOUT_COMPLETE, progress.clone()),
        (Some(s), false) => (s.reason, s.message.clone()),
        (None, false) if canary_running => (reason::CANARY_IN_PROGRESS, progress.clone()),
        (None, false) => (reason::ROLLOUT_IN_PROGRESS, progress.clone()),
    };
    set(cond(
        condition_type::READY,
        inp.done,
        ready_reason,
        ready_message.clone(),
        g,
    ));
    let failed = inp.stall.as_ref().filter(|s| !s.suspended && !inp.done);
    set(cond(
        condition_type::RECONCILING,
        !inp.done && failed.is_none(),
        ready_reason,
        ready_message,
        g,
    ));
    set(match failed {
        Some(s) => cond(
            condition_type::STALLED,
            true,
            s.reason,
            s.message.clone(),
            g,
        ),
        None => {
            let why = match (inp.done, canary_running) {
                (true, _) => reason::ROLLOUT_COMPLETE,
                (false, true) => reason::CANARY_IN_PROGRESS,
                (false, false) => reason::ROLLOUT_IN_PROGRESS,
            };
            cond(condition_type::STALLED, false, why, String::new(), g)
        }
    });
    ExtendedDaemonSetStatus {
        desired: c.desired,
        current: c.current,
        ready: c.ready,
        available: c.available,
        up_to_date: c.up_to_date,
        ignored_unresponsive_nodes: inp.ignored,
        state: Some(st.to_string()),
        reason: why,
        active_replica_set: inp.active.clone(),
        canary: (canary_running || matches!(inp.phase, Some(Phase::Paused { .. }))).then(|| {
            CanaryStatus {
                replica_set: inp.target.clone(),
                nodes: inp.canary_nodes.clone(),
            }
        }),
        conditions,
        observed_generation: g,
        rejected_revision: inp.rejected.clone(),
        // Filled by the engine from the steering annotations.
        steering: Vec::new(),
    }
}
