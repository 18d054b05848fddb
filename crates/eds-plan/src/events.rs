//! Kubernetes Events of a plan.
//!
//! Upstream emits only `Create ExtendedDaemonSetReplicaSet`. We also emit Warning events for
//! invalid specs, canary pauses and failures, malformed node annotations and Setting conflicts,
//! and Normal events for canary start, promotion and the end of a rollout. Each is emitted on a
//! transition (the stored status does not show it yet), so a reconcile that changes nothing
//! emits nothing.

use super::{EventObject, EventType, PlannedEvent, canary::Phase};
use eds_api::{
    ExtendedDaemonSetStatus,
    condition::find,
    constants::{condition_type, reason, state},
};

/// Collects the events of one plan.
#[derive(Default)]
pub struct Events {
    /// Events so far.
    pub list: Vec<PlannedEvent>,
}

impl Events {
    /// Adds an event on the ExtendedDaemonSet.
    pub fn push(&mut self, type_: EventType, reason: &str, message: String) {
        self.list.push(PlannedEvent {
            type_,
            reason: reason.to_string(),
            message,
            on: EventObject::ExtendedDaemonSet,
        });
    }

    /// Events of the canary and rollout transitions between `prev` and `next`.
    pub fn transitions(
        &mut self,
        prev: Option<&ExtendedDaemonSetStatus>,
        next: &ExtendedDaemonSetStatus,
        phase: Option<&Phase>,
        target: &str,
    ) {
        let prev_state = prev.and_then(|p| p.state.as_deref());
        let prev_reason = prev.and_then(|p| p.reason.as_deref());
        let prev_canary = prev
            .and_then(|p| p.canary.as_ref())
            .map(|c| c.replica_set.as_str());
        match phase {
            Some(Phase::Running | Phase::Paused { .. }) if prev_canary != Some(target) => {
                let nodes = next
                    .canary
                    .as_ref()
                    .map(|c| c.nodes.join(", "))
                    .unwrap_or_default();
                self.push(
                    EventType::Normal,
                    reason::CANARY_STARTED,
                    format!("canary {target} started on node(s) {nodes}"),
                );
            }
            Some(Phase::Promoted { by }) => self.push(
                EventType::Normal,
                reason::CANARY_PROMOTED,
                format!("canary {target} promoted ({by}); rolling update started"),
            ),
            _ => {}
        }
        if let Some(Phase::Paused { reason: why }) = phase
            && !(prev_state == Some(state::CANARY_PAUSED) && prev_reason == Some(why.as_str()))
        {
            self.push(
                EventType::Warning,
                reason::CANARY_PAUSED,
                format!("canary {target} paused: {why}"),
            );
        }
        let newly_rejected = next.rejected_revision.as_ref().is_some_and(|r| {
            prev.and_then(|p| p.rejected_revision.as_ref())
                .is_none_or(|p| p.template_hash != r.template_hash)
        });
        if let (
            Some(Phase::Failed {
                reason: why,
                message,
            }),
            true,
        ) = (phase, newly_rejected)
        {
            self.push(
                EventType::Warning,
                reason::CANARY_FAILED,
                format!(
                    "canary {target} failed ({why}): {message}; active revision {} restored on the canary nodes until the template changes",
                    next.active_replica_set
                ),
            );
        }
        let was_ready = prev
            .and_then(|p| find(&p.conditions, condition_type::READY))
            .map(|c| c.is_true());
        let ready = find(&next.conditions, condition_type::READY).is_some_and(|c| c.is_true());
        if ready && was_ready == Some(false) {
            self.push(
                EventType::Normal,
                reason::ROLLOUT_DONE,
                format!("rollout complete: {} node(s) run {target}", next.desired),
            );
        }
        let stalled = |s: &ExtendedDaemonSetStatus| {
            find(&s.conditions, condition_type::STALLED)
                .filter(|c| c.is_true())
                .map(|c| (c.reason.clone(), c.message.clone()))
        };
        if let Some((Some(why), message)) = stalled(next)
            && why == reason::INVALID_SPEC
            && prev.and_then(stalled) != Some((Some(why.clone()), message.clone()))
        {
            self.push(
                EventType::Warning,
                reason::INVALID_SPEC,
                message.unwrap_or_default(),
            );
        }
    }
}
