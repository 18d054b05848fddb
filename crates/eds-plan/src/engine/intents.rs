//! Per-node intents (what each node runs, from the canary phase) and the slow-start origin.

use jiff::Timestamp;

use crate::{
    canary::{CanaryOutcome, Phase},
    cluster::Cluster,
    history::Revisions,
    rolling::NodeIntent,
};
use eds_api::{condition::find, constants::condition_type};

/// What each node should run: canary nodes the target, the others the active revision.
pub fn node_intents(
    cluster: &Cluster<'_>,
    outcome: Option<&CanaryOutcome>,
    target: usize,
    active: usize,
) -> Vec<NodeIntent> {
    let mut is_canary = vec![false; cluster.nodes.len()];
    for &i in outcome.iter().flat_map(|o| o.nodes.iter()) {
        is_canary[i] = true;
    }
    let phase = outcome.map(|o| &o.phase);
    cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            // A refused canary (too few nodes) replaces nothing: a node of it with no pod
            // gets the active revision, not a pod of a canary that cannot run.
            let refused = outcome.is_some_and(|o| o.refused.is_some());
            let canary = is_canary[i] && !(refused && node.live().next().is_none());
            // Only canary pods are taken back at once: a node may run the target revision
            // for another reason (a `rollout undo` to a template it still runs), and that pod
            // is replaced within the budget.
            let restoring = matches!(phase, Some(Phase::Failed { .. }))
                && node
                    .live()
                    .any(|p| p.rev == Some(target) && p.digest.canary());
            NodeIntent {
                desired: if canary { target } else { active },
                immediate: (canary && matches!(phase, Some(Phase::Running))) || restoring,
                hold: match phase {
                    Some(Phase::Paused { reason }) if canary => {
                        Some(format!("canary paused ({reason})"))
                    }
                    _ => None,
                },
                canary,
            }
        })
        .collect()
}

/// Slow start counts from when the revision pods are created for became active (its ERS's
/// `Active` condition): during a canary that is the active revision, whose clock keeps running
/// (nodes joining during a canary are not held to a fresh slow start), and a revision promoted
/// in this plan starts now.
pub fn slow_start_since(
    revisions: &Revisions<'_>,
    active_before: Option<usize>,
    active_after: usize,
    now: Timestamp,
) -> Timestamp {
    if active_before != Some(active_after) {
        return now;
    }
    revisions.revs[active_after]
        .ers
        .and_then(|e| e.status.as_ref())
        .and_then(|s| find(&s.conditions, condition_type::ACTIVE))
        .filter(|c| c.is_true())
        .and_then(|c| c.last_transition_time.as_ref())
        .map_or(now, |t| t.0)
}
