//! Stage 6: when to plan again, and the per-node explanation.

use std::{sync::Arc, time::Duration};

use jiff::Timestamp;

use super::{Ctx, World};
use crate::{
    NodeExplanation,
    cluster::PodView,
    history::Revisions,
    rolling::{NodeDecision, NodeIntent},
};

/// The shortest requeue: a `reconcileFrequency` of `0s` must not make the controller plan in
/// a loop.
pub const MIN_REQUEUE: Duration = Duration::from_secs(1);

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
    w: &World<'_>,
    intents: &[NodeIntent],
    decisions: Vec<NodeDecision<'_>>,
) -> Vec<NodeExplanation> {
    let names = RevisionNames::new(&w.revisions, w.ctx.steering.old_daemonset.as_deref());
    w.cluster
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
                node: node.node.shared_name().clone(),
                current_revision: serving.map(|p| names.of(p)),
                target_revision: node.runs().then(|| names.rev(intent.desired)),
                action: d.action,
                wave: d.wave,
                reason: d.reason,
            }
        })
        .collect()
}

/// When to plan again if no event comes first: at the nearest future deadline (rounded up to
/// whole seconds, so the next plan sees it passed), and at most `reconcileFrequency` later,
/// whether the rollout is done or not: upstream fully reconciles every ExtendedDaemonSet at
/// that period (see `spec.strategy.reconcileFrequency` in the reference), and a resync
/// repairs whatever a lost watch event left behind. Never less than [`MIN_REQUEUE`].
///
/// The controller requeues exactly at this delay; it has no rule of its own.
pub fn requeue(ctx: &Ctx<'_>, deadlines: &[Timestamp]) -> Duration {
    let next = deadlines.iter().filter(|t| **t > ctx.now).min().map(|t| {
        let d = t.duration_since(ctx.now);
        Duration::from_secs(d.as_secs().max(0) as u64 + u64::from(d.subsec_nanos() > 0))
    });
    let resync = ctx.resolved.reconcile_frequency.as_std();
    next.map_or(resync, |n| n.min(resync)).max(MIN_REQUEUE)
}
