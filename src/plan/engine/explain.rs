//! The per-node explanation and the requeue deadline.

use std::time::Duration;

use jiff::Timestamp;

use super::Ctx;
use crate::plan::{
    NodeExplanation,
    cluster::{Cluster, PodView},
    history::Revisions,
    rolling::{NodeDecision, NodeIntent},
};

/// Prefix of the revision shown for a pod of the old DaemonSet.
const DAEMONSET_PREFIX: &str = "daemonset/";

/// The revision a pod runs, as shown to users.
pub fn pod_revision(
    p: &PodView<'_>,
    revisions: &Revisions<'_>,
    old_daemonset: Option<&str>,
) -> String {
    match (p.rev, p.old_daemonset) {
        (Some(r), _) => revisions.revs[r].name.clone(),
        (None, true) => format!("{DAEMONSET_PREFIX}{}", old_daemonset.unwrap_or_default()),
        (None, false) => "unknown".into(),
    }
}

/// One explanation per node, sorted by node name.
pub fn nodes(
    cluster: &Cluster<'_>,
    revisions: &Revisions<'_>,
    intents: &[NodeIntent],
    decisions: Vec<NodeDecision<'_>>,
    old_daemonset: Option<&str>,
) -> Vec<NodeExplanation> {
    cluster
        .nodes
        .iter()
        .zip(intents)
        .zip(decisions)
        .map(|((node, intent), d): ((_, _), NodeDecision<'_>)| {
            // The revision that serves the node: the available pod first, then the oldest.
            let serving = node
                .live()
                .find(|p| p.facts.available)
                .or_else(|| node.live().next());
            NodeExplanation {
                node: node.name.to_string(),
                current_revision: serving.map(|p| pod_revision(p, revisions, old_daemonset)),
                target_revision: node
                    .runs()
                    .then(|| revisions.revs[intent.desired].name.clone()),
                action: d.action,
                wave: d.wave,
                reason: d.reason,
            }
        })
        .collect()
}

/// Time until the nearest future deadline; while a rollout is in progress, at most
/// `reconcileFrequency` (upstream's resync period).
pub fn requeue(ctx: &Ctx<'_>, deadlines: &[Timestamp], done: bool) -> Option<Duration> {
    let next = deadlines.iter().filter(|t| **t > ctx.now).min().map(|t| {
        let d = t.duration_since(ctx.now);
        // Round up to whole seconds so the requeue lands after the deadline, not before.
        Duration::from_secs(d.as_secs().max(0) as u64 + u64::from(d.subsec_nanos() > 0))
    });
    let resync = (!done).then(|| ctx.resolved.reconcile_frequency.as_std());
    match (next, resync) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
