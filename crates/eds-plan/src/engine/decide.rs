//! Stage 2: the decisions. The canary rules say which revision each node should run; the
//! rolling update then says which pods change now, within the budgets.

use jiff::Timestamp;

use super::{
    World,
    intents::{node_intents, slow_start_since},
};
use crate::{
    canary::{self, CanaryInputs, CanaryOutcome, CanarySteering, Phase},
    rolling::{NodeIntent, RollingInputs, RollingOutcome, plan_rolling},
};
use eds_api::UpdateStrategyType;

/// What this plan decides.
pub struct Decision<'a> {
    /// The canary phase and nodes, while the target revision is not the active one.
    pub outcome: Option<CanaryOutcome>,
    /// The revision active after this plan.
    pub active_after: usize,
    /// What each node should run (same index as `cluster.nodes`).
    pub intents: Vec<NodeIntent>,
    /// The pod actions of this plan, per node, and the budget they used.
    pub rolling: RollingOutcome<'a>,
    /// The canary steering annotations, each scoped to the canary it was first seen for.
    pub canary_steering: CanarySteering,
}

impl Decision<'_> {
    /// The canary phase after this plan, if a canary runs or is held.
    pub fn phase(&self) -> Option<&Phase> {
        self.outcome.as_ref().map(|o| &o.phase)
    }

    /// Times at which the plan may change with no event: canary and rolling-update deadlines.
    pub fn deadlines(&self) -> Vec<Timestamp> {
        let canary = self.outcome.iter().flat_map(|o| o.deadlines.iter());
        self.rolling
            .deadlines
            .iter()
            .chain(canary)
            .copied()
            .collect()
    }
}

/// Decides the canary, then the rolling update.
pub fn decide<'a>(w: &World<'a>) -> Decision<'a> {
    let canary_steering = canary_steering(w);
    let outcome = canary_outcome(w, &canary_steering);
    let target = w.revisions.target;
    let phase = outcome.as_ref().map(|o| &o.phase);
    // A running, paused or failed canary keeps the previous revision active; a promoted one
    // (or none) makes the target active.
    let holds_active = matches!(
        phase,
        Some(Phase::Running | Phase::Paused { .. } | Phase::Failed { .. })
    );
    let active_after = match (holds_active, w.active_before) {
        (true, Some(a)) => a,
        _ => target,
    };
    let intents = node_intents(&w.cluster, outcome.as_ref(), target, active_after);
    let ctx = &w.ctx;
    let rolling = plan_rolling(&RollingInputs {
        cluster: &w.cluster,
        intents: &intents,
        revisions: &w.revisions,
        resolved: &ctx.resolved,
        frozen: ctx.steering.rollout_frozen,
        paused: ctx.steering.rolling_update_paused,
        on_delete: ctx.resolved.type_ == UpdateStrategyType::OnDelete,
        legacy_hold: ctx.migration.as_ref().and_then(|m| m.hold()),
        now: ctx.now,
        slow_start_since: slow_start_since(&w.revisions, w.active_before, active_after, ctx.now),
        state: &ctx.s.state,
        config: &ctx.s.config,
    });
    Decision {
        outcome,
        active_after,
        intents,
        rolling,
        canary_steering,
    }
}

/// The canary steering annotations, scoped (see [`CanarySteering`]) to the canary in
/// progress: the target revision while it differs from the active one and the strategy has a
/// canary.
fn canary_steering(w: &World<'_>) -> CanarySteering {
    let target = w.revisions.target;
    let canary = (w.ctx.resolved.canary.is_some() && w.active_before.is_some_and(|a| a != target))
        .then(|| w.revisions.revs[target].name.as_str());
    let stored = w
        .ctx
        .s
        .eds
        .status
        .as_ref()
        .map_or(&[][..], |s| &s.steering[..]);
    CanarySteering::new(w.ctx.annotations, stored, canary)
}

/// The canary phase: held while the target is a rejected revision (see [`canary::held`]),
/// judged by [`canary::decide`] while the target differs from the active revision and the
/// strategy has a canary, absent otherwise.
fn canary_outcome(w: &World<'_>, steering: &CanarySteering) -> Option<CanaryOutcome> {
    let target = w.revisions.target;
    if w.active_before.is_none_or(|a| a == target) {
        return None;
    }
    let prev = w.ctx.s.eds.status.as_ref();
    if let Some(held) = canary::held(prev, &w.revisions, w.ctx.now) {
        return Some(held);
    }
    let c = w.ctx.resolved.canary.as_ref()?;
    let desired = w.cluster.nodes.iter().filter(|n| n.runs()).count() as i32;
    Some(canary::decide(&CanaryInputs {
        canary: c,
        node_selector: w.canary_selector.as_ref(),
        annotations: w.ctx.annotations,
        prev,
        cluster: &w.cluster,
        revisions: &w.revisions,
        now: w.ctx.now,
        stamp: &w.ctx.stamp,
        desired,
        steering,
    }))
}
