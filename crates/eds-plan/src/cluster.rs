//! The per-node view of a snapshot: every node (sorted by name) with its eligibility, Setting,
//! resource overrides and pods, each pod tagged with its revision and facts.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use foldhash::fast::FixedState;
use smallvec::SmallVec;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use super::{
    Snapshot,
    digest::{NodeDigest, PodDigest},
    history::Revisions,
    observe::{PodFacts, observe},
    placement::{Eligibility, Placement},
    pod::PodMarks,
    settings::{NodeOverrides, Settings, has_overrides, node_overrides, overrides_prefix},
};

/// A hash set with a fast, deterministic hasher (names are looked up once per pod; SipHash
/// showed in profiles at 10,000 nodes, and there is no untrusted key to defend against here).
pub type FastSet<T> = HashSet<T, FixedState>;

/// One pod of the ExtendedDaemonSet (or of its old DaemonSet).
pub struct PodView<'a> {
    /// What the planner read of it (and the pod).
    pub digest: &'a PodDigest,
    /// Pod name.
    pub name: &'a str,
    /// Its revision; `None` for an old-DaemonSet pod or a pod of an unknown ERS.
    pub rev: Option<usize>,
    /// Whether it belongs to the old DaemonSet (migration).
    pub old_daemonset: bool,
    /// Whether it was made for its node's current Setting and resource overrides (a pod of the
    /// desired revision is up to date only then).
    pub fits_node: bool,
    /// Readiness, availability and so on.
    pub facts: PodFacts,
}

/// One node.
pub struct NodeView<'a> {
    /// Node name.
    pub name: &'a str,
    /// What the planner reads of the node.
    pub node: &'a NodeDigest,
    /// Whether it runs a pod.
    pub eligibility: Eligibility,
    /// Index of its Setting in `Settings::candidates`.
    pub setting: Option<usize>,
    /// Its resource-override annotations (boxed: most nodes have none, and a small NodeView
    /// keeps 10,000 of them in cache).
    overrides: Option<Box<NodeOverrides>>,
    /// Its pods, best first: scheduled, then oldest, then by name (upstream's order for
    /// choosing which duplicate to keep). Stored inline when there is one, the usual case:
    /// 10,000 nodes then take no allocation per node and sit together in memory.
    pub pods: SmallVec<[PodView<'a>; 1]>,
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
    /// Pods never scheduled and pinned to a node that no longer exists: no scheduler will
    /// ever bind them and the pod garbage collector only removes bound or terminating pods,
    /// so the planner deletes them (as upstream and the DaemonSet controller do).
    pub vanished: Vec<&'a Pod>,
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

/// Digests of the pods and nodes a snapshot carries undigested, made when a plan starts.
pub struct Digested {
    /// Of `Snapshot::nodes`.
    nodes: Vec<NodeDigest>,
    /// Of `Snapshot::pods`.
    pods: Vec<PodDigest>,
    /// Of `Snapshot::old_daemonset_pods`.
    old_daemonset_pods: Vec<PodDigest>,
}

impl Digested {
    /// Digests the undigested pods of `snapshot`.
    pub fn of(snapshot: &Snapshot) -> Self {
        let digest = |pods: &[Arc<Pod>]| -> Vec<PodDigest> {
            pods.iter().map(|p| PodDigest::new(Arc::clone(p))).collect()
        };
        Self {
            nodes: snapshot.nodes.iter().map(|n| NodeDigest::new(n)).collect(),
            pods: digest(&snapshot.pods),
            old_daemonset_pods: digest(&snapshot.old_daemonset_pods),
        }
    }
}

impl<'a> Cluster<'a> {
    /// Builds the view of `snapshot`, whose undigested pods are digested in `digested`. Every
    /// pod is read in one pass, in snapshot order: at 10,000 nodes the pods do not fit in the
    /// CPU caches, so each extra pass over them costs a memory round trip per pod.
    pub fn build(
        snapshot: &'a Snapshot,
        digested: &'a Digested,
        ctx: BuildContext<'a, '_>,
    ) -> Self {
        let prefix = overrides_prefix(ctx.namespace, ctx.eds);
        let containers: Vec<&str> = snapshot
            .eds
            .spec
            .template
            .spec
            .iter()
            .flat_map(|s| s.containers.iter().map(|c| c.name.as_str()))
            .collect();
        let nodes = snapshot
            .digested_nodes
            .iter()
            .map(|n| &**n)
            .chain(&digested.nodes);
        let mut views: Vec<NodeView<'a>> = sorted_nodes(nodes)
            .into_iter()
            .map(|node| {
                let eligibility = ctx.placement.check(node);
                let setting = (!matches!(eligibility, Eligibility::Excluded(_)))
                    .then(|| ctx.settings.for_node(node))
                    .flatten();
                NodeView {
                    name: node.name(),
                    node,
                    eligibility,
                    setting,
                    overrides: has_overrides(node, &prefix)
                        .then(|| node_overrides(node, &prefix, &containers))
                        .filter(|o| o.hash.is_some())
                        .map(Box::new),
                    pods: SmallVec::new(),
                }
            })
            .collect();
        let by_name: HashMap<&str, usize, FixedState> =
            views.iter().enumerate().map(|(i, v)| (v.name, i)).collect();
        let settings = &*ctx.settings;
        let mut pods_per_rev = vec![0; ctx.revisions.revs.len()];
        let timeout = snapshot.config.unscheduled_timeout;
        let mut last_rev: Option<(&str, Option<usize>)> = None;
        let mut vanished = Vec::new();
        let all = snapshot
            .digested_pods
            .iter()
            .map(|p| (&**p, false))
            .chain(digested.pods.iter().map(|p| (p, false)))
            .chain(digested.old_daemonset_pods.iter().map(|p| (p, true)));
        for (digest, old_daemonset) in all {
            let marks = PodMarks::of(digest);
            let rev = if old_daemonset {
                None
            } else {
                revision_of(digest, marks.ers, ctx.revisions, &mut last_rev)
            };
            if let Some(r) = rev {
                pods_per_rev[r] += 1;
            }
            // Bound pods on unknown nodes are left to the pod garbage collector.
            let Some(&node) = digest.node().and_then(|n| by_name.get(n)) else {
                let pinned = digest.node().is_some();
                if pinned && !digest.bound() && !old_daemonset && digest.deletion().is_none() {
                    vanished.push(&**digest.pod());
                }
                continue;
            };
            let view = &mut views[node];
            let setting = view.setting.map(|s| {
                let candidate = &settings.candidates[s];
                (candidate.name, candidate.hash.as_str())
            });
            let fits_node = marks.fit(setting, view.overrides().hash.as_deref());
            view.pods.push(PodView {
                digest,
                name: digest.name(),
                rev,
                old_daemonset,
                fits_node,
                facts: observe(digest, ctx.now, ctx.min_ready_seconds, timeout),
            });
        }
        for view in views.iter_mut().filter(|v| v.pods.len() > 1) {
            view.pods.sort_by(|a, b| {
                b.facts
                    .scheduled
                    .cmp(&a.facts.scheduled)
                    .then_with(|| a.digest.created().cmp(&b.digest.created()))
                    .then_with(|| a.name.cmp(b.name))
            });
        }
        Self {
            nodes: views,
            pods_per_rev,
            vanished,
        }
    }
}

/// The nodes sorted by name, each name once (the first in snapshot order wins).
///
/// Names are compared through a 16-byte key taken after the prefix all names share
/// (`ip-10-`, `gke-prod-pool-`, ...): sorting 10,000 names otherwise reads two names from
/// memory for each of the 130,000 comparisons.
fn sorted_nodes<'n>(nodes: impl Iterator<Item = &'n NodeDigest> + Clone) -> Vec<&'n NodeDigest> {
    let first = nodes
        .clone()
        .next()
        .map(NodeDigest::name)
        .unwrap_or_default()
        .as_bytes();
    let shared = nodes.clone().fold(first.len(), |len, n| {
        first[..len]
            .iter()
            .zip(n.name().as_bytes())
            .take_while(|(a, b)| a == b)
            .count()
    });
    let mut keyed: Vec<(u128, &str, &NodeDigest)> = nodes
        .map(|n| (sort_key(n.name(), shared), n.name(), n))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    keyed.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    keyed.into_iter().map(|(_, _, n)| n).collect()
}

/// Bytes `offset..offset + 16` of `name`, zero-padded, as a big-endian number. Keys that
/// differ order as their names do (a shorter name sorts first, as its padding is zero); equal
/// keys need the full comparison.
fn sort_key(name: &str, offset: usize) -> u128 {
    let tail = name.as_bytes().get(offset..).unwrap_or_default();
    let mut key = [0u8; 16];
    let len = tail.len().min(key.len());
    key[..len].copy_from_slice(&tail[..len]);
    u128::from_be_bytes(key)
}

/// The revision of a pod: the ERS its label names (upstream's lookup), else the ERS owning it
/// (controller reference), for a pod whose label was removed or edited.
fn revision_of<'p>(
    pod: &'p PodDigest,
    label: Option<&'p str>,
    revisions: &Revisions<'_>,
    last: &mut Option<(&'p str, Option<usize>)>,
) -> Option<usize> {
    // Pods come mostly grouped by revision: remember the last name looked up.
    let mut lookup = |name: &'p str| match *last {
        Some((seen, index)) if seen == name => index,
        _ => {
            let index = revisions.index(name);
            *last = Some((name, index));
            index
        }
    };
    label.and_then(&mut lookup).or_else(|| {
        // Its kind is not compared: a name that is no ERS of ours finds nothing.
        pod.owner().and_then(|o| revisions.index(o))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Node;
    use proptest::prelude::*;

    fn nodes(names: &[String]) -> Vec<Arc<Node>> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut node = Node::default();
                node.metadata.name = Some(n.clone());
                node.metadata.uid = Some(i.to_string());
                Arc::new(node)
            })
            .collect()
    }

    proptest! {
        /// The keyed sort orders names as a plain string sort does, and keeps the first node of
        /// each name: names with a long shared prefix, prefixes of each other, and duplicates.
        #[test]
        fn sorted_nodes_is_a_plain_sort(
            prefix in "(gke-prod-pool-[a-z0-9]{20}-)?",
            tails in prop::collection::vec("[a-c0-9.-]{0,20}", 0..40),
        ) {
            let names: Vec<String> = tails.iter().map(|t| format!("{prefix}{t}")).collect();
            let input: Vec<NodeDigest> = nodes(&names).iter().map(|n| NodeDigest::new(n)).collect();
            // A node is told by its place in the input (the uid `nodes` gives it).
            let uid = |n: &NodeDigest| {
                input.iter().position(|i| std::ptr::eq(i, n)).unwrap_or_default().to_string()
            };
            let sorted: Vec<(String, String)> = sorted_nodes(input.iter())
                .into_iter()
                .map(|n| (n.name().to_string(), uid(n)))
                .collect();
            let mut expected: Vec<(String, String)> = Vec::new();
            let mut unique = names.clone();
            unique.sort();
            unique.dedup();
            for name in unique {
                let first = names.iter().position(|n| *n == name).unwrap_or_default();
                expected.push((name, first.to_string()));
            }
            prop_assert_eq!(sorted, expected);
        }
    }

    #[test]
    fn sort_key_orders_a_prefix_first() {
        assert!(sort_key("node-1", 0) < sort_key("node-10", 0));
        assert!(sort_key("node-9", 5) > sort_key("node-10", 5));
        // Past the end of a name the key is zero, and 16 bytes are not enough to tell these
        // apart: equal keys, which the full comparison settles.
        assert_eq!(sort_key("abc", 5), 0);
        assert_eq!(
            sort_key("aaaaaaaaaaaaaaaaX", 0),
            sort_key("aaaaaaaaaaaaaaaaY", 0)
        );
    }
}
