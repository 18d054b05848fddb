//! Kubernetes Events of a plan.
//!
//! Upstream emits only `Create ExtendedDaemonSetReplicaSet`. We also emit Warning events for
//! invalid specs, canary auto-pauses and failures, malformed node annotations and Setting
//! conflicts, and Normal events for canary start, promotion, the end of a rollout, and the
//! pauses, unpauses, freezes and unfreezes users ask for. Each is emitted on a transition (the
//! stored status does not show it yet), so a reconcile that changes nothing emits nothing.
//!
//! Every event about a revision names it, in its message and as its related object: the event
//! recorder merges events by object, related object and reason (not message), so without the
//! revision a `RolloutDone` of one rollout would count up the event of the previous one and keep
//! its stale message.

use super::{EventObject, EventType, PlannedEvent, canary::Phase, status::paused_by_user};
use eds_api::{
    ExtendedDaemonSetReplicaSet, ExtendedDaemonSetStatus,
    condition::find,
    constants::{condition_type, keys, reason, state},
};
use std::collections::BTreeMap;

/// Collects the events of one plan.
#[derive(Default)]
pub struct Events {
    /// Events so far.
    pub list: Vec<PlannedEvent>,
}

impl Events {
    /// Adds an event on the ExtendedDaemonSet, about no revision in particular.
    pub fn push(&mut self, type_: EventType, reason: &str, message: String) {
        self.list.push(PlannedEvent {
            type_,
            reason: reason.to_string(),
            message,
            on: EventObject::ExtendedDaemonSet,
            revision: None,
            node: None,
        });
    }

    /// Adds an event on the ExtendedDaemonSet about node `node`.
    pub fn about_node(&mut self, node: &str, type_: EventType, reason: &str, message: String) {
        self.list.push(PlannedEvent {
            type_,
            reason: reason.to_string(),
            message,
            on: EventObject::ExtendedDaemonSet,
            revision: None,
            node: Some(node.to_string()),
        });
    }

    /// Adds an event on the ExtendedDaemonSet about revision (ERS) `revision`.
    pub fn about(&mut self, revision: &str, type_: EventType, reason: &str, message: String) {
        self.list.push(PlannedEvent {
            type_,
            reason: reason.to_string(),
            message,
            on: EventObject::ExtendedDaemonSet,
            revision: Some(revision.to_string()),
            node: None,
        });
    }

    /// Normal events for the rolling-update pause and the freeze a user sets or removes. The
    /// stored flags are the `RollingUpdatePaused`/`RolloutFrozen` conditions the active ERS
    /// carried before this plan (so a promotion does not repeat them).
    pub fn steering<'a>(
        &mut self,
        replica_sets: impl Iterator<Item = &'a ExtendedDaemonSetReplicaSet> + Clone,
        active: &str,
        paused: bool,
        frozen: bool,
    ) {
        let was = |type_: &str| {
            replica_sets.clone().any(|e| {
                e.status
                    .as_ref()
                    .and_then(|s| find(&s.conditions, type_))
                    .is_some_and(|c| c.is_true())
            })
        };
        let flags = [
            (
                condition_type::ROLLING_UPDATE_PAUSED,
                paused,
                (
                    reason::ROLLING_UPDATE_PAUSED,
                    "rolling update paused by a user: no pod is deleted",
                ),
                (reason::ROLLING_UPDATE_RESUMED, "rolling update resumed"),
            ),
            (
                condition_type::ROLLOUT_FROZEN,
                frozen,
                (
                    reason::ROLLOUT_FROZEN,
                    "rollout frozen by a user: no pod is created or deleted",
                ),
                (reason::ROLLOUT_UNFROZEN, "rollout unfrozen"),
            ),
        ];
        for (type_, now, on, off) in flags {
            let (why, what) = match (was(type_), now) {
                (false, true) => on,
                (true, false) => off,
                _ => continue,
            };
            self.about(
                active,
                EventType::Normal,
                why,
                format!("{what} (active revision {active})"),
            );
        }
    }

    /// Events of the canary and rollout transitions between `prev` and `next`.
    pub fn transitions(
        &mut self,
        prev: Option<&ExtendedDaemonSetStatus>,
        next: &ExtendedDaemonSetStatus,
        phase: Option<&Phase>,
        target: &str,
        annotations: &BTreeMap<String, String>,
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
                self.about(
                    target,
                    EventType::Normal,
                    reason::CANARY_STARTED,
                    format!("canary {target} started on node(s) {nodes}"),
                );
            }
            Some(Phase::Promoted { by }) => self.about(
                target,
                EventType::Normal,
                reason::CANARY_PROMOTED,
                format!("canary {target} promoted ({by}); rolling update started"),
            ),
            _ => {}
        }
        let was_paused = prev_state == Some(state::CANARY_PAUSED) && prev_canary == Some(target);
        match phase {
            Some(Phase::Paused { reason: why })
                if !(was_paused && prev_reason == Some(why.as_str())) =>
            {
                if paused_by_user(annotations, target, why) {
                    self.about(
                        target,
                        EventType::Normal,
                        reason::CANARY_PAUSED_BY_USER,
                        format!("canary {target} paused by a user: {why}"),
                    );
                } else {
                    self.about(
                        target,
                        EventType::Warning,
                        reason::CANARY_PAUSED,
                        format!("canary {target} paused: {why}"),
                    );
                }
            }
            Some(Phase::Running) if was_paused => {
                let how = if annotations.get(keys::CANARY_UNPAUSED_ANNOTATION).is_some() {
                    "canary-unpaused annotation"
                } else {
                    "pause removed"
                };
                self.about(
                    target,
                    EventType::Normal,
                    reason::CANARY_UNPAUSED,
                    format!("canary {target} runs again ({how})"),
                );
            }
            _ => {}
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
            self.about(
                target,
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
            self.about(
                target,
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
            self.about(
                target,
                EventType::Warning,
                reason::INVALID_SPEC,
                format!("revision {target}: {}", message.unwrap_or_default()),
            );
        }
    }
}
