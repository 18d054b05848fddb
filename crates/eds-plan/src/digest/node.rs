//! [`NodeDigest`]: what the planner reads of a node, taken out of the decoded object once.
//!
//! A plan reads every node: its name (sort, pod lookup), its labels (spec.selector, the
//! template's nodeSelector and required node affinity, Settings, canary.nodeSelector), its
//! taints, whether it is being deleted, and its resource-override annotations. In a decoded
//! node these are scattered over the heap (a label map's nodes and each key in its own
//! allocation), about 5 memory round trips a node at 10,000 nodes. A digest keeps them in one
//! record, its name and one string block; the controller's node cache makes it when a watch
//! event arrives. Unlike a pod digest it keeps nothing else of the node: the planner reads nothing
//! else, and the controller needs no other copy of its nodes.

use std::{collections::BTreeMap, sync::Arc};

use k8s_openapi::api::core::v1::{Node, Taint};

use eds_api::constants::keys::NODE_RESOURCES_ANNOTATION_PREFIX;

/// What the planner reads of one node.
///
/// Built by [`NodeDigest::new`] from the node alone (nothing of any ExtendedDaemonSet), so a
/// cache computes it once per watch event. Heartbeats change nothing it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeDigest {
    /// `metadata.name`, shared with the plan's per-node explanations (a plan at 10,000 nodes
    /// would otherwise copy every name into an allocation of its own).
    name: Arc<str>,
    /// Its other strings, one after the other: the key and value of each label, in key order;
    /// the key, value (empty when unset) and effect of each taint, in node order; the key and
    /// value of each resource-override annotation (`NODE_RESOURCES_ANNOTATION_PREFIX`), in key
    /// order.
    text: Box<str>,
    /// End of each string in `text` (none for a node with no label, taint or override
    /// annotation: no allocation).
    ends: Box<[u32]>,
    /// Number of labels.
    labels: u32,
    /// Number of taints.
    taints: u32,
    /// `metadata.deletionTimestamp` is set.
    deleting: bool,
}

/// One taint of a [`NodeDigest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaintRef<'a> {
    /// Taint key.
    pub key: &'a str,
    /// Taint value; empty when unset (the planner reads both alike, as Kubernetes does).
    pub value: &'a str,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: &'a str,
}

impl<'a> From<&'a Taint> for TaintRef<'a> {
    fn from(t: &'a Taint) -> Self {
        Self {
            key: &t.key,
            value: t.value.as_deref().unwrap_or_default(),
            effect: &t.effect,
        }
    }
}

/// The labels of a node that has none.
static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

impl NodeDigest {
    /// The digest of `node`.
    pub fn new(node: &Node) -> Self {
        let meta = &node.metadata;
        let labels = meta.labels.as_ref().unwrap_or(&NO_LABELS);
        let taints = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or_default();
        // The override annotations are contiguous in key order: a range scan reads no other.
        let overrides = meta.annotations.iter().flat_map(|a| {
            a.range::<str, _>((
                std::ops::Bound::Included(NODE_RESOURCES_ANNOTATION_PREFIX),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(k, _)| k.starts_with(NODE_RESOURCES_ANNOTATION_PREFIX))
        });
        let name = meta.name.as_deref().unwrap_or_default();
        let strings = labels
            .iter()
            .flat_map(|(k, v)| [k.as_str(), v.as_str()])
            .chain(
                taints
                    .iter()
                    .map(TaintRef::from)
                    .flat_map(|t| [t.key, t.value, t.effect]),
            )
            .chain(overrides.flat_map(|(k, v)| [k.as_str(), v.as_str()]));
        let mut text = String::new();
        let mut ends = Vec::with_capacity(2 * labels.len() + 3 * taints.len());
        for s in strings {
            text.push_str(s);
            // A node's strings are bounded by the API server's object size limit (a few MiB).
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Self {
            name: Arc::from(name),
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
            labels: u32::try_from(labels.len()).unwrap_or(u32::MAX),
            taints: u32::try_from(taints.len()).unwrap_or(u32::MAX),
            deleting: meta.deletion_timestamp.is_some(),
        }
    }

    /// String `i` of `text`.
    fn string(&self, i: usize) -> &str {
        let end = |i: usize| self.ends.get(i).copied().unwrap_or_default() as usize;
        let start = i.checked_sub(1).map_or(0, end);
        self.text.get(start..end(i)).unwrap_or_default()
    }

    /// `metadata.name` (empty when unset).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `metadata.name`, shared.
    pub fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The value of label `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        let (mut low, mut high) = (0, self.labels as usize);
        // Binary search: the labels are stored in key order.
        while low < high {
            let mid = low + (high - low) / 2;
            match self.string(2 * mid).cmp(key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(self.string(2 * mid + 1)),
            }
        }
        None
    }

    /// Its labels, in key order.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.labels as usize).map(|i| (self.string(2 * i), self.string(2 * i + 1)))
    }

    /// Its taints, in node order.
    pub fn taints(&self) -> impl Iterator<Item = TaintRef<'_>> {
        let first = 2 * self.labels as usize;
        (0..self.taints as usize).map(move |i| TaintRef {
            key: self.string(first + 3 * i),
            value: self.string(first + 3 * i + 1),
            effect: self.string(first + 3 * i + 2),
        })
    }

    /// Its resource-override annotations (keys starting with
    /// `NODE_RESOURCES_ANNOTATION_PREFIX`), in key order.
    pub fn override_annotations(&self) -> impl Iterator<Item = (&str, &str)> {
        let first = 2 * self.labels as usize + 3 * self.taints as usize;
        let count = self.ends.len().saturating_sub(first) / 2;
        (0..count).map(move |i| (self.string(first + 2 * i), self.string(first + 2 * i + 1)))
    }

    /// `metadata.deletionTimestamp` is set.
    pub fn deleting(&self) -> bool {
        self.deleting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::node;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    #[test]
    fn reads_what_the_planner_reads() {
        let override_key = format!("{NODE_RESOURCES_ANNOTATION_PREFIX}ns.foo.app");
        let mut n: Node = node("node-1")
            .label("zone", "a")
            .label("empty", "")
            .label("arch", "arm64")
            .taint("dedicated", "infra", "NoSchedule")
            .taint("gpu", "", "NoExecute")
            .annotate("other", "x")
            .annotate(&override_key, r#"{"requests":{"cpu":"1"}}"#)
            .annotate("zzz", "y")
            .build();
        let d = NodeDigest::new(&n);
        assert_eq!(d.name(), "node-1");
        assert_eq!(d.label("zone"), Some("a"));
        // Present but empty is not absent.
        assert_eq!(d.label("empty"), Some(""));
        assert_eq!(d.label("arch"), Some("arm64"));
        assert_eq!(d.label("missing"), None);
        assert_eq!(d.label(""), None);
        assert_eq!(
            d.labels().collect::<Vec<_>>(),
            vec![("arch", "arm64"), ("empty", ""), ("zone", "a")]
        );
        let taints: Vec<_> = d.taints().map(|t| (t.key, t.value, t.effect)).collect();
        assert_eq!(
            taints,
            vec![
                ("dedicated", "infra", "NoSchedule"),
                ("gpu", "", "NoExecute")
            ]
        );
        assert_eq!(
            d.override_annotations().collect::<Vec<_>>(),
            vec![(override_key.as_str(), r#"{"requests":{"cpu":"1"}}"#)]
        );
        assert!(!d.deleting());
        n.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
        assert!(NodeDigest::new(&n).deleting());

        let bare = NodeDigest::new(&Node::default());
        assert_eq!(bare.name(), "");
        assert_eq!(bare.label("zone"), None);
        assert_eq!(
            (
                bare.labels().count(),
                bare.taints().count(),
                bare.override_annotations().count()
            ),
            (0, 0, 0)
        );
    }
}
