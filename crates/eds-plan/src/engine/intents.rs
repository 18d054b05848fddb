//! Per-node intents (what each node runs, from the canary phase), the slow-start origin and
//! the reason a rollout is stalled.

use jiff::Timestamp;

use crate::{
    canary::{CanaryOutcome, Phase},
    cluster::Cluster,
    history::Revisions,
    rolling::NodeIntent,
    status::Stall,
};
use eds_api::{
    condition::find,
    constants::{condition_type, reason},
};

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
            let canary = is_canary[i];
            let restoring = matches!(phase, Some(Phase::Failed { .. }))
                && node.live().any(|p| p.rev == Some(target));
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

/// Slow start counts from when the target revision became active (its `Active` condition).
pub fn slow_start_since(
    revisions: &Revisions<'_>,
    active_before: Option<usize>,
    now: Timestamp,
) -> Timestamp {
    let target = &revisions.revs[revisions.target];
    if active_before != Some(revisions.target) {
        return now;
    }
    target
        .ers
        .and_then(|e| e.status.as_ref())
        .and_then(|s| find(&s.conditions, condition_type::ACTIVE))
        .filter(|c| c.is_true())
        .and_then(|c| c.last_transition_time.as_ref())
        .map_or(now, |t| t.0)
}

/// Why the rollout cannot progress.
pub fn stall(
    phase: Option<&Phase>,
    target: &str,
    frozen: bool,
    paused: bool,
    blocked: Option<String>,
) -> Option<Stall> {
    let stall = |reason, message| Some(Stall { reason, message });
    match phase {
        _ if frozen => stall(
            reason::ROLLOUT_FROZEN,
            "rollout-frozen annotation: no pod is created or deleted".into(),
        ),
        Some(Phase::Failed {
            reason: why,
            message,
        }) => stall(
            reason::CANARY_FAILED,
            format!(
                "canary {target} failed ({why}): {message}; change the template to roll out again"
            ),
        ),
        Some(Phase::Paused { reason: why }) => stall(
            reason::CANARY_PAUSED,
            format!("canary {target} paused ({why}); fix the pods or unpause the canary"),
        ),
        _ if paused => stall(
            reason::ROLLING_UPDATE_PAUSED,
            "rolling-update-paused annotation: no pod is deleted".into(),
        ),
        _ => blocked.and_then(|b| stall(reason::ROLLOUT_BLOCKED, b)),
    }
}
