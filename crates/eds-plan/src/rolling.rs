//! The rolling update: which pods are deleted and created on which nodes in this plan.
//!
//! Rules (upstream EDS, the DaemonSet controller, and where we differ):
//! - Strict budget (we differ from both, k/k#123232): a node counts as unavailable when no pod
//!   on it is available (ready for minReadySeconds), whatever the revision; deleting an
//!   available outdated pod costs one unit of `maxUnavailable`, and the budget left is
//!   `maxUnavailable - unavailable nodes`. Unresponsive nodes (pod unscheduled past the timeout
//!   or stuck terminating) are left out of the count up to `maxPodSchedulerFailure` (upstream).
//! - An outdated pod that is not available is replaced at once (DaemonSet): it cannot lose
//!   availability, and a rollout is never blocked by pods already failing.
//! - `maxSurge > 0` switches to the DaemonSet surge mode: the new pod is created first, beside
//!   the old one, on at most `maxSurge` nodes at a time; the old pod is deleted once the new one
//!   is available.
//! - Creations follow upstream slow start, `min((1 + elapsed / slowStartIntervalDuration) *
//!   slowStartAdditiveIncrease, maxParallelPodCreation)`, counted from when the revision became
//!   active. We differ: pods created and not ready yet count against it, so the limit holds
//!   however often the controller reconciles.
//! - Canary nodes (and nodes given back after a failed canary) are replaced at once.
//! - A paused canary holds the pods of its nodes, but a canary node left without a pod (evicted)
//!   gets its canary pod back (we differ: upstream creates nothing while paused).
//! - Migration (`old-daemonset`): the DaemonSet's pods are outdated pods, replaced within the
//!   budget while the DaemonSet is being deleted; while it is live, none is deleted and no pod
//!   is created on their nodes (its controller would re-create them).
//! - `rolling-update-paused`: no deletion outside canary nodes (creations go on, so new nodes
//!   get pods); `rollout-frozen`: no pod action at all; `OnDelete`: outdated pods are kept.
//! - Failed pods are deleted with a per-node backoff (10 s doubling up to 15 min).
//! - Every choice is made in node-name order (upstream picks at random).

mod apply;
mod budget;
mod classify;

use jiff::Timestamp;

use super::{
    Budget, NodeAction, PlannerConfig, PlannerState, cluster::Cluster, history::Revisions,
    observe::after,
};
use eds_api::defaults::{Resolved, scaled_value};

pub use apply::{NodeDecision, RollingOutcome};

/// What a node should run, decided by the canary rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeIntent {
    /// Desired revision (for nodes that run the ExtendedDaemonSet).
    pub desired: usize,
    /// Replace outdated pods at once, outside the budget.
    pub immediate: bool,
    /// Hold every pod action on the node, with this reason.
    pub hold: Option<String>,
    /// Pods created on the node are canary pods.
    pub canary: bool,
}

/// Inputs of [`plan_rolling`].
pub struct RollingInputs<'a, 'b> {
    /// Nodes and pods.
    pub cluster: &'b Cluster<'a>,
    /// Per node (same index as `cluster.nodes`).
    pub intents: &'b [NodeIntent],
    /// Revisions.
    pub revisions: &'b Revisions<'a>,
    /// Resolved strategy.
    pub resolved: &'b Resolved,
    /// `rollout-frozen`.
    pub frozen: bool,
    /// `rolling-update-paused`.
    pub paused: bool,
    /// `strategy.type: OnDelete`.
    pub on_delete: bool,
    /// The old DaemonSet is live: its pods are kept, none is created beside them (the reason).
    pub legacy_hold: Option<std::sync::Arc<str>>,
    /// Planning time.
    pub now: Timestamp,
    /// When the target revision became active (slow start counts from there).
    pub slow_start_since: Timestamp,
    /// Failed-pod backoff.
    pub state: &'b PlannerState,
    /// Controller configuration.
    pub config: &'b PlannerConfig,
}

impl RollingInputs<'_, '_> {
    /// Whether failed pods on `node` may be deleted now.
    pub fn backoff_allows(&self, node: &str) -> bool {
        self.state
            .failed_pod_backoff
            .get(node)
            .is_none_or(|b| b.not_before <= self.now)
    }
}

/// Scaled limits of one plan.
pub struct Limits {
    /// maxUnavailable.
    pub max_unavailable: i32,
    /// maxSurge.
    pub max_surge: i32,
    /// maxPodSchedulerFailure.
    pub max_scheduler_failure: i32,
    /// Slow-start limit of pods starting at once.
    pub slow_start: i32,
    /// When the slow-start limit grows next (if it is below maxParallelPodCreation).
    pub next_step: Option<Timestamp>,
}

impl Limits {
    /// Scales the strategy against `desired` nodes.
    pub fn new(r: &Resolved, desired: i32, since: Timestamp, now: Timestamp) -> Self {
        let scale = |v, up| scaled_value(v, desired, up).unwrap_or(0);
        let increase = scale(&r.slow_start_additive_increase, true).max(1);
        let interval = r.slow_start_interval.as_std();
        let elapsed = u128::try_from(now.duration_since(since).as_nanos()).unwrap_or(0);
        // Completed intervals since the revision became active (all of them for a zero interval).
        let steps = elapsed
            .checked_div(interval.as_nanos())
            .unwrap_or(u128::MAX);
        let steps = u32::try_from(steps).unwrap_or(u32::MAX);
        let limit = i64::from(increase).saturating_mul(1 + i64::from(steps));
        let max_parallel = r.max_parallel_pod_creation.max(1);
        let slow_start = limit.min(i64::from(max_parallel)) as i32;
        let next_step = (slow_start < max_parallel)
            .then(|| interval.checked_mul(steps.saturating_add(1)))
            .flatten()
            .map(|d| after(since, d));
        Self {
            max_unavailable: scale(&r.max_unavailable, true),
            max_surge: scale(&r.max_surge, true),
            max_scheduler_failure: scale(&r.max_pod_scheduler_failure, true),
            slow_start,
            next_step,
        }
    }
}

/// Decides the rolling update of every node.
pub fn plan_rolling<'a>(inp: &RollingInputs<'a, '_>) -> RollingOutcome<'a> {
    let desired = inp.cluster.nodes.iter().filter(|n| n.runs()).count() as i32;
    let limits = Limits::new(inp.resolved, desired, inp.slow_start_since, inp.now);
    let surge = limits.max_surge > 0;
    let classified: Vec<_> = (0..inp.cluster.nodes.len())
        .map(|i| classify::classify(inp, i, surge))
        .collect();
    let mut out = apply::Applier::new(inp, &limits, desired);
    out.run(&classified);
    let mut outcome = out.finish();
    outcome.budget = Budget {
        desired,
        max_surge: limits.max_surge,
        max_unavailable: limits.max_unavailable,
        max_creation: outcome.budget.max_creation,
        unavailable: outcome.budget.unavailable,
        ignored_unresponsive_nodes: outcome.budget.ignored_unresponsive_nodes,
    };
    outcome
}

/// Action shown for a node that waits.
pub(crate) const WAIT: NodeAction = NodeAction::Wait;

#[cfg(test)]
mod tests {
    use super::*;
    use eds_api::{ExtendedDaemonSetSpec, RollingUpdate, ValidationMode};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn resolved(increase: IntOrString, max_parallel: i32) -> Resolved {
        let spec: ExtendedDaemonSetSpec = serde_json::from_value(serde_json::json!({
            "template": {},
            "strategy": {}
        }))
        .unwrap();
        let mut spec = spec;
        spec.strategy.rolling_update = Some(RollingUpdate {
            slow_start_additive_increase: Some(increase),
            max_parallel_pod_creation: Some(max_parallel),
            ..RollingUpdate::default()
        });
        spec.resolve(ValidationMode::Auto)
    }

    #[test]
    fn slow_start_is_upstreams_formula() {
        let now = crate::testing::t0();
        let since = now - jiff::SignedDuration::from_secs(150);
        // (1 + floor(150 s / 60 s)) * 2 = 6, next step at 180 s.
        let l = Limits::new(&resolved(IntOrString::Int(2), 250), 10, since, now);
        assert_eq!(l.slow_start, 6);
        assert_eq!(
            l.next_step,
            Some(since + jiff::SignedDuration::from_secs(180))
        );
        // Capped by maxParallelPodCreation, and then it no longer grows.
        let l = Limits::new(&resolved(IntOrString::Int(2), 4), 10, since, now);
        assert_eq!((l.slow_start, l.next_step), (4, None));
        // A percentage of the nodes, rounded up: 15% of 10 = 2.
        let l = Limits::new(
            &resolved(IntOrString::String("15%".into()), 250),
            10,
            now,
            now,
        );
        assert_eq!(l.slow_start, 2);
    }
}
