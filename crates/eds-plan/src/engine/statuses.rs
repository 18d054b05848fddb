//! Stage 4: the statuses: the ExtendedDaemonSet's (always whole), and the ERS and Setting
//! statuses that differ from the stored ones.

use super::{World, decide::Decision, objects::Objects};
use crate::{
    EventType, NodeAction,
    canary::Phase,
    events::Events,
    status::{self, EdsStatusInputs, ErsStatusInputs, ers_status, rev_counts},
};
use eds_api::{
    Condition, ExtendedDaemonSetReplicaSetStatus, ExtendedDaemonSetStatus,
    ExtendedDaemonsetSettingStatus,
    condition::{find, set_condition},
    constants::{condition_type, reason},
};

/// The statuses of one plan.
pub struct Statuses {
    /// The ExtendedDaemonSet's status.
    pub eds: ExtendedDaemonSetStatus,
    /// ERS statuses that change, by ERS name.
    pub ers: Vec<(String, ExtendedDaemonSetReplicaSetStatus)>,
    /// Setting statuses that change, by Setting name.
    pub settings: Vec<(String, ExtendedDaemonsetSettingStatus)>,
}

/// Builds the statuses.
pub fn build(w: &World<'_>, decision: &Decision<'_>, objects: &Objects) -> Statuses {
    Statuses {
        eds: eds_status(w, decision),
        ers: ers_statuses(w, decision, &objects.ers_deletes),
        settings: setting_statuses(w),
    }
}

/// A Setting whose status changes to an error is also a Warning event.
pub fn setting_events(settings: &[(String, ExtendedDaemonsetSettingStatus)], events: &mut Events) {
    for (name, status) in settings {
        if let Some(error) = &status.error {
            events.push(
                EventType::Warning,
                reason::SETTING_CONFLICT,
                format!("ExtendedDaemonsetSetting {name}: {error}"),
            );
        }
    }
}

/// The rollout is done when the target revision is active and exists, every node runs an
/// available pod of it, and no node has a pod action left.
fn done(w: &World<'_>, decision: &Decision<'_>, counts: &status::Counts) -> bool {
    let target = w.revisions.target;
    decision.active_after == target
        && w.revisions.revs[target].ers.is_some()
        && counts.up_to_date == counts.desired
        && counts.available == counts.desired
        && decision
            .rolling
            .decisions
            .iter()
            .all(|d| matches!(d.action, NodeAction::Keep | NodeAction::Skip))
}

fn eds_status(w: &World<'_>, decision: &Decision<'_>) -> ExtendedDaemonSetStatus {
    let (ctx, revisions, cluster) = (&w.ctx, &w.revisions, &w.cluster);
    let target = revisions.target;
    let phase = decision.phase();
    let outcome = decision.outcome.as_ref();
    let counts = status::counts(cluster, target);
    let ignored = decision.rolling.budget.ignored_unresponsive_nodes;
    let (frozen, paused) = (
        ctx.steering.rollout_frozen,
        ctx.steering.rolling_update_paused,
    );
    let stall = status::blocker(&status::BlockerInputs {
        phase,
        target: &revisions.revs[target].name,
        annotations: ctx.annotations,
        frozen,
        paused,
        blocked: decision.rolling.blocked.clone(),
        legacy: ctx.migration.as_ref().and_then(|m| m.stall(legacy_pods(w))),
    })
    .map(|mut st| {
        // A refused canary names the field to fix.
        if let Some(why) = outcome.and_then(|o| o.refused.clone()) {
            st.message = why;
        }
        st
    });
    let mut eds = status::eds_status(&EdsStatusInputs {
        prev: ctx.s.eds.status.as_ref(),
        generation: ctx.s.eds.metadata.generation,
        counts,
        ignored,
        active: revisions.revs[decision.active_after].name.clone(),
        target: revisions.revs[target].name.clone(),
        phase,
        canary_nodes: outcome
            .map(|o| {
                o.nodes
                    .iter()
                    .map(|&i| cluster.nodes[i].name.to_string())
                    .collect()
            })
            .unwrap_or_default(),
        has_canary: ctx.resolved.canary.is_some(),
        rejected: outcome.and_then(|o| o.rejected.clone()),
        frozen,
        paused,
        done: done(w, decision, &counts),
        stall,
        stamp: &ctx.stamp,
    });
    eds.steering = decision.canary_steering.records.clone();
    match &ctx.migration {
        Some(m) => set_condition(
            &mut eds.conditions,
            Condition {
                observed_generation: ctx.s.eds.metadata.generation,
                ..m.condition(
                    legacy_pods(w),
                    ctx.s
                        .eds
                        .status
                        .as_ref()
                        .and_then(|s| find(&s.conditions, condition_type::MIGRATION)),
                )
            },
            &ctx.stamp,
        ),
        None => eds
            .conditions
            .retain(|c| c.type_ != condition_type::MIGRATION),
    }
    eds
}

/// Pods of the old DaemonSet that run (not being deleted) on known nodes.
fn legacy_pods(w: &World<'_>) -> usize {
    w.cluster
        .nodes
        .iter()
        .flat_map(|n| n.live())
        .filter(|p| p.old_daemonset)
        .count()
}

/// ERS statuses that differ from the stored ones (ERSs being deleted have none).
fn ers_statuses(
    w: &World<'_>,
    decision: &Decision<'_>,
    deletes: &[crate::ObjectRef],
) -> Vec<(String, ExtendedDaemonSetReplicaSetStatus)> {
    let (ctx, revisions) = (&w.ctx, &w.revisions);
    let outcome = decision.outcome.as_ref();
    let active = decision.active_after;
    let ignored = decision.rolling.budget.ignored_unresponsive_nodes;
    let counts = rev_counts(&w.cluster, &decision.intents, revisions.revs.len());
    let mut out = Vec::new();
    for (i, rev) in revisions.revs.iter().enumerate() {
        if deletes.iter().any(|d| d.name == rev.name)
            || rev
                .ers
                .is_some_and(|e| e.metadata.deletion_timestamp.is_some())
        {
            continue;
        }
        let canary = outcome
            .filter(|_| i == revisions.target)
            .map(|o| &o.phase)
            .filter(|p| !matches!(p, Phase::Promoted { .. }));
        let prev = rev.ers.and_then(|e| e.status.as_ref());
        let status = ers_status(&ErsStatusInputs {
            prev,
            counts: counts[i],
            active: i == active,
            canary,
            restarting: canary.and(outcome).and_then(|o| o.restarting.as_ref()),
            cannot_start: canary.and(outcome).and_then(|o| o.cannot_start.as_ref()),
            paused: ctx.steering.rolling_update_paused,
            frozen: ctx.steering.rollout_frozen,
            ignored: if i == active { ignored } else { 0 },
            generation: ctx.s.eds.metadata.generation,
            stamp: &ctx.stamp,
        });
        if prev != Some(&status) {
            out.push((rev.name.clone(), status));
        }
    }
    out
}

/// Setting statuses that differ from the stored ones.
fn setting_statuses(w: &World<'_>) -> Vec<(String, ExtendedDaemonsetSettingStatus)> {
    let stored = |name: &str| {
        w.ctx
            .s
            .settings
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
            .and_then(|s| s.status.as_ref())
    };
    w.settings
        .statuses
        .iter()
        .filter(|(name, status)| stored(name) != Some(status))
        .map(|(name, status)| (name.clone(), status.clone()))
        .collect()
}
