//! The per-node explanation and the requeue deadline.

use std::{sync::Arc, time::Duration};

use jiff::Timestamp;

use super::Ctx;
use crate::{
    NodeExplanation,
    cluster::{Cluster, PodView},
    history::Revisions,
    rolling::{NodeDecision, NodeIntent},
};

/// Prefix of the revision shown for a pod of the old DaemonSet.
const DAEMONSET_PREFIX: &str = "daemonset/";

/// The revision names shown to users, made once per plan and shared by every node.
pub struct RevisionNames {
    /// ERS names, by revision index.
    revs: Vec<Arc<str>>,
    /// `daemonset/<name>`, for a pod of the old DaemonSet.
    old_daemonset: Arc<str>,
    /// A pod of no known revision.
    unknown: Arc<str>,
}

impl RevisionNames {
    /// The names of `revisions`; `old_daemonset` is the DaemonSet being migrated from.
    pub fn new(revisions: &Revisions<'_>, old_daemonset: Option<&str>) -> Self {
        Self {
            revs: revisions
                .revs
                .iter()
                .map(|r| Arc::from(r.name.as_str()))
                .collect(),
            old_daemonset: format!("{DAEMONSET_PREFIX}{}", old_daemonset.unwrap_or_default())
                .into(),
            unknown: "unknown".into(),
        }
    }

    /// The name of revision `index`.
    pub fn rev(&self, index: usize) -> Arc<str> {
        self.revs[index].clone()
    }

    /// The revision a pod runs.
    pub fn of(&self, p: &PodView<'_>) -> Arc<str> {
        match (p.rev, p.old_daemonset) {
            (Some(r), _) => self.rev(r),
            (None, true) => self.old_daemonset.clone(),
            (None, false) => self.unknown.clone(),
        }
    }
}

/// One explanation per node, sorted by node name.
pub fn nodes(
    cluster: &Cluster<'_>,
    names: &RevisionNames,
    intents: &[NodeIntent],
    decisions: Vec<NodeDecision<'_>>,
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
                current_revision: serving.map(|p| names.of(p)),
                target_revision: node.runs().then(|| names.rev(intent.desired)),
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
