//! Status of one ERS: its role (`active`, `canary`, `canary-failed`, `unknown`), its pod
//! counts and upstream's conditions.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{cond, off};
use crate::{canary::Phase, cluster::Cluster, rolling::NodeIntent};
use eds_api::{
    Condition, ExtendedDaemonSetReplicaSetStatus,
    condition::{FALSE, TRUE, set_condition},
    constants::{condition_type, ers_state},
};

/// Pod counts of one revision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RevCounts {
    /// Nodes that should run this revision.
    pub desired: i32,
    /// Pods of this revision (not terminating).
    pub current: i32,
    /// Ready pods.
    pub ready: i32,
    /// Available pods.
    pub available: i32,
}

/// Counts per revision.
pub fn rev_counts(cluster: &Cluster<'_>, intents: &[NodeIntent], revs: usize) -> Vec<RevCounts> {
    let mut counts = vec![RevCounts::default(); revs];
    for (node, intent) in cluster.nodes.iter().zip(intents) {
        if node.runs() {
            counts[intent.desired].desired += 1;
        }
        for pod in node.live() {
            let Some(r) = pod.rev else { continue };
            counts[r].current += 1;
            counts[r].ready += i32::from(pod.facts.ready);
            counts[r].available += i32::from(pod.facts.available);
        }
    }
    counts
}

/// Inputs of [`ers_status`].
pub struct ErsStatusInputs<'a> {
    /// Stored status.
    pub prev: Option<&'a ExtendedDaemonSetReplicaSetStatus>,
    /// Counts.
    pub counts: RevCounts,
    /// Whether it is the active revision after this plan.
    pub active: bool,
    /// Its canary phase, when it is the canary revision.
    pub canary: Option<&'a Phase>,
    /// `PodRestarting` condition computed by the canary rules.
    pub restarting: Option<&'a Condition>,
    /// `(reason, message)` of a canary pod that cannot start.
    pub cannot_start: Option<&'a (String, String)>,
    /// `rolling-update-paused`.
    pub paused: bool,
    /// `rollout-frozen`.
    pub frozen: bool,
    /// Ignored unresponsive nodes (active revision only).
    pub ignored: i32,
    /// `metadata.generation` of the ExtendedDaemonSet.
    pub generation: Option<i64>,
    /// Plan time.
    pub stamp: &'a Time,
}

/// The desired status of one ERS.
pub fn ers_status(inp: &ErsStatusInputs<'_>) -> ExtendedDaemonSetReplicaSetStatus {
    let prev = inp.prev.cloned().unwrap_or_default();
    let mut conditions = prev.conditions;
    let g = inp.generation;
    let mut set = |c: Condition| set_condition(&mut conditions, c, inp.stamp);
    // Upstream's role conditions carry no reason or message.
    let flag = |t: &str, on: bool| Condition {
        status: if on { TRUE } else { FALSE }.into(),
        ..off(t, g)
    };
    let status = match inp.canary {
        _ if inp.active => ers_state::ACTIVE,
        Some(Phase::Failed { .. }) => ers_state::CANARY_FAILED,
        Some(_) => ers_state::CANARY,
        None => ers_state::UNKNOWN,
    };
    set(flag(condition_type::ACTIVE, inp.active));
    set(flag(condition_type::CANARY, inp.canary.is_some()));
    if inp.active {
        set(flag(condition_type::ROLLING_UPDATE_PAUSED, inp.paused));
        set(flag(condition_type::ROLLOUT_FROZEN, inp.frozen));
    }
    if let Some(phase) = inp.canary {
        set(match phase {
            Phase::Paused { reason } => cond(
                condition_type::CANARY_PAUSED,
                true,
                reason,
                String::new(),
                g,
            ),
            _ => off(condition_type::CANARY_PAUSED, g),
        });
        set(match phase {
            Phase::Failed { reason, message } => cond(
                condition_type::CANARY_FAILED,
                true,
                reason,
                message.clone(),
                g,
            ),
            _ => off(condition_type::CANARY_FAILED, g),
        });
        set(match inp.cannot_start {
            Some((why, message)) => cond(
                condition_type::POD_CANNOT_START,
                true,
                why,
                message.clone(),
                g,
            ),
            None => off(condition_type::POD_CANNOT_START, g),
        });
    }
    if let Some(restarting) = inp.restarting {
        // Times come from the pods, not from the plan (see `canary::restarting_condition`).
        match conditions.iter_mut().find(|c| c.type_ == restarting.type_) {
            Some(existing) => *existing = restarting.clone(),
            None => conditions.push(restarting.clone()),
        }
    }
    ExtendedDaemonSetReplicaSetStatus {
        status: status.to_string(),
        desired: inp.counts.desired,
        current: inp.counts.current,
        ready: inp.counts.ready,
        available: inp.counts.available,
        ignored_unresponsive_nodes: inp.ignored,
        conditions,
    }
}
