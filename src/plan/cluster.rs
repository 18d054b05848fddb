//! The per-node view of a snapshot: every node (sorted by name) with its eligibility, Setting,
//! resource overrides and pods, each pod tagged with its revision and facts.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};

use super::{
    Snapshot,
    history::Revisions,
    observe::{PodFacts, observe},
    placement::{Eligibility, Placement, pod_node},
    pod::PodMarks,
    settings::{NodeOverrides, Settings, node_overrides, overrides_prefix},
};
use crate::api::{ExtendedDaemonSetReplicaSet, constants::keys};

/// One pod of the ExtendedDaemonSet (or of its old DaemonSet).
pub struct PodView<'a> {
    /// The pod.
    pub pod: &'a Pod,
    /// Pod name.
    pub name: &'a str,
    /// Its revision; `None` for an old-DaemonSet pod or a pod of an unknown ERS.
    pub rev: Option<usize>,
    /// Whether it belongs to the old DaemonSet (migration).
    pub old_daemonset: bool,
    /// Readiness, availability and so on.
    pub facts: PodFacts,
    /// Setting and node-override marks.
    pub marks: PodMarks<'a>,
}

/// One node.
pub struct NodeView<'a> {
    /// Node name.
    pub name: &'a str,
    /// The node.
    pub node: &'a Node,
    /// Whether it runs a pod.
    pub eligibility: Eligibility,
    /// Index of its Setting in `Settings::candidates`.
    pub setting: Option<usize>,
    /// Its resource-override annotations.
    pub overrides: NodeOverrides,
    /// Its pods, best first: scheduled, then oldest, then by name (upstream's order for
    /// choosing which duplicate to keep).
    pub pods: Vec<PodView<'a>>,
}

impl<'a> NodeView<'a> {
    /// Whether the node should run a pod.
    pub fn runs(&self) -> bool {
        self.eligibility == Eligibility::Run
    }

    /// Pods that are not being deleted.
    pub fn live(&self) -> impl Iterator<Item = &PodView<'a>> {
        self.pods.iter().filter(|p| !p.facts.terminating)
    }

    /// Whether some pod on the node is available.
    pub fn available(&self) -> bool {
        self.pods.iter().any(|p| p.facts.available)
    }
}

/// The per-node view.
pub struct Cluster<'a> {
    /// Nodes sorted by name.
    pub nodes: Vec<NodeView<'a>>,
    /// Pods per revision (all pods, whatever their node or state).
    pub pods_per_rev: Vec<usize>,
    /// Names of all existing pods (to avoid name collisions).
    pub pod_names: HashSet<&'a str>,
}

/// Inputs of [`Cluster::build`] beyond the snapshot.
pub struct BuildContext<'a, 'b> {
    /// Compiled placement rules.
    pub placement: &'b Placement,
    /// Revisions.
    pub revisions: &'b Revisions<'a>,
    /// Settings (conflicts are recorded while nodes are visited).
    pub settings: &'b mut Settings<'a>,
    /// Namespace of the ExtendedDaemonSet.
    pub namespace: &'b str,
    /// ExtendedDaemonSet name.
    pub eds: &'b str,
    /// Planning time.
    pub now: Timestamp,
    /// Resolved minReadySeconds.
    pub min_ready_seconds: i32,
}

impl<'a> Cluster<'a> {
    /// Builds the view of `snapshot`.
    pub fn build(snapshot: &'a Snapshot, ctx: BuildContext<'a, '_>) -> Self {
        let mut nodes: Vec<&'a Node> = snapshot.nodes.iter().collect();
        nodes.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        nodes.dedup_by(|a, b| a.metadata.name == b.metadata.name);
        let prefix = overrides_prefix(ctx.namespace, ctx.eds);
        let mut views: Vec<NodeView<'a>> = nodes
            .into_iter()
            .map(|node| {
                let eligibility = ctx.placement.check(node);
                let setting = (!matches!(eligibility, Eligibility::Excluded(_)))
                    .then(|| ctx.settings.for_node(node))
                    .flatten();
                NodeView {
                    name: node.metadata.name.as_deref().unwrap_or_default(),
                    node,
                    eligibility,
                    setting,
                    overrides: node_overrides(node, &prefix),
                    pods: Vec::new(),
                }
            })
            .collect();
        let by_name: HashMap<&str, usize> =
            views.iter().enumerate().map(|(i, v)| (v.name, i)).collect();
        let mut pods_per_rev = vec![0; ctx.revisions.revs.len()];
        let mut pod_names = HashSet::new();
        let timeout = snapshot.config.unscheduled_timeout;
        let all = snapshot
            .pods
            .iter()
            .map(|p| (p, false))
            .chain(snapshot.old_daemonset_pods.iter().map(|p| (p, true)));
        for (pod, old_daemonset) in all {
            let name = pod.metadata.name.as_deref().unwrap_or_default();
            if !pod_names.insert(name) {
                continue;
            }
            let rev = if old_daemonset {
                None
            } else {
                revision_of(pod, ctx.revisions)
            };
            if let Some(r) = rev {
                pods_per_rev[r] += 1;
            }
            let Some(&node) = pod_node(pod).and_then(|n| by_name.get(n)) else {
                // Pods on unknown nodes are left to the pod garbage collector.
                continue;
            };
            views[node].pods.push(PodView {
                pod,
                name,
                rev,
                old_daemonset,
                facts: observe(pod, ctx.now, ctx.min_ready_seconds, timeout),
                marks: PodMarks::of(pod),
            });
        }
        for view in &mut views {
            view.pods.sort_by(|a, b| {
                b.facts
                    .scheduled
                    .cmp(&a.facts.scheduled)
                    .then_with(|| a.facts.created.cmp(&b.facts.created))
                    .then_with(|| a.name.cmp(b.name))
            });
        }
        Self {
            nodes: views,
            pods_per_rev,
            pod_names,
        }
    }
}

/// The revision of a pod: the ERS its label names, else the ERS owning it.
fn revision_of(pod: &Pod, revisions: &Revisions<'_>) -> Option<usize> {
    let by_label = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(keys::ERS_NAME_LABEL))
        .and_then(|n| revisions.index(n));
    by_label.or_else(|| {
        let kind = <ExtendedDaemonSetReplicaSet as kube::Resource>::kind(&());
        pod.metadata
            .owner_references
            .iter()
            .flatten()
            .filter(|o| o.kind == kind)
            .find_map(|o| revisions.index(&o.name))
    })
}
