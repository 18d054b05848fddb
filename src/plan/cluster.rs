//! The per-node view of a snapshot: every node (sorted by name) with its eligibility, Setting,
//! resource overrides and pods, each pod tagged with its revision and facts.

use std::collections::{HashMap, HashSet};

use foldhash::fast::FixedState;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};

use super::{
    Snapshot,
    history::Revisions,
    observe::{PodFacts, observe},
    placement::{Eligibility, Placement, pod_node},
    settings::{NodeOverrides, Settings, node_overrides, overrides_prefix},
};
use crate::api::constants::keys;

/// A hash set with a fast, deterministic hasher (names are looked up once per pod; SipHash
/// showed in profiles at 10,000 nodes, and there is no untrusted key to defend against here).
pub type FastSet<T> = HashSet<T, FixedState>;

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
    /// Its resource-override annotations (boxed: most nodes have none, and a small NodeView
    /// keeps 10,000 of them in cache).
    overrides: Option<Box<NodeOverrides>>,
    /// Its pods, best first: scheduled, then oldest, then by name (upstream's order for
    /// choosing which duplicate to keep).
    pub pods: Vec<PodView<'a>>,
}

impl<'a> NodeView<'a> {
    /// Its resource-override annotations.
    pub fn overrides(&self) -> &NodeOverrides {
        static NONE: NodeOverrides = NodeOverrides {
            resources: Vec::new(),
            errors: Vec::new(),
            hash: None,
        };
        self.overrides.as_deref().unwrap_or(&NONE)
    }

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
                    overrides: Some(node_overrides(node, &prefix))
                        .filter(|o| o.hash.is_some())
                        .map(Box::new),
                    pods: Vec::new(),
                }
            })
            .collect();
        let by_name: HashMap<&str, usize> =
            views.iter().enumerate().map(|(i, v)| (v.name, i)).collect();
        let mut pods_per_rev = vec![0; ctx.revisions.revs.len()];
        let timeout = snapshot.config.unscheduled_timeout;
        let mut last_rev: Option<(&str, Option<usize>)> = None;
        let all = snapshot
            .pods
            .iter()
            .map(|p| (p, false))
            .chain(snapshot.old_daemonset_pods.iter().map(|p| (p, true)));
        // Two passes so every node's pod list is allocated at its exact size: at 10,000 nodes
        // the default growth (room for four pods) wasted megabytes and the cache with them.
        let mut placed: Vec<(usize, &'a Pod, Option<usize>, bool)> =
            Vec::with_capacity(snapshot.pods.len() + snapshot.old_daemonset_pods.len());
        let mut per_node = vec![0usize; views.len()];
        for (pod, old_daemonset) in all {
            let rev = if old_daemonset {
                None
            } else {
                revision_of(pod, ctx.revisions, &mut last_rev)
            };
            if let Some(r) = rev {
                pods_per_rev[r] += 1;
            }
            // Pods on unknown nodes are left to the pod garbage collector.
            if let Some(&node) = pod_node(pod).and_then(|n| by_name.get(n)) {
                per_node[node] += 1;
                placed.push((node, pod, rev, old_daemonset));
            }
        }
        for (view, count) in views.iter_mut().zip(per_node) {
            view.pods = Vec::with_capacity(count);
        }
        for (node, pod, rev, old_daemonset) in placed {
            views[node].pods.push(PodView {
                pod,
                name: pod.metadata.name.as_deref().unwrap_or_default(),
                rev,
                old_daemonset,
                facts: observe(pod, ctx.now, ctx.min_ready_seconds, timeout),
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
        }
    }
}

/// The revision of a pod: the ERS owning it (controller reference), else the ERS its label
/// names (upstream's lookup). Reading the owner first touches less memory per pod, which shows
/// at 10,000 nodes.
fn revision_of<'p>(
    pod: &'p Pod,
    revisions: &Revisions<'_>,
    last: &mut Option<(&'p str, Option<usize>)>,
) -> Option<usize> {
    // The controller reference (a name that is no ERS of ours finds nothing, and the label
    // decides); its kind is not compared, to save reading one more string per pod.
    let owner = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| o.name.as_str());
    let label = || {
        pod.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(keys::ERS_NAME_LABEL))
            .map(String::as_str)
    };
    let name = owner.or_else(label)?;
    // Pods come mostly grouped by revision: remember the last name looked up.
    let index = match *last {
        Some((seen, index)) if seen == name => index,
        _ => {
            let index = revisions.index(name);
            *last = Some((name, index));
            index
        }
    };
    index.or_else(|| {
        label()
            .filter(|l| *l != name)
            .and_then(|l| revisions.index(l))
    })
}
