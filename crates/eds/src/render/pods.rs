//! Pod changes grouped by their diff: nodes whose current -> target pod change is the same,
//! once node-specific fields and server defaults are left out, share one diff.

mod normalize;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::{
    diff::unified,
    report::{ChangeKind, PodChange},
};

pub use normalize::{NODE_PLACEHOLDER, normalized_yaml};

/// Labels of the two sides of a pod diff.
const CURRENT: &str = "current pod";
const TARGET: &str = "target pod";

/// The distinct pod changes on `nodes`: for each node, the diff between its current pod and the
/// pod it runs at the end of the rollout (either may be missing). Nodes whose pods are the same
/// are left out. The largest group comes first, then by first node name.
pub fn pod_changes<'a>(
    nodes: impl IntoIterator<Item = &'a str>,
    current: &BTreeMap<String, Pod>,
    target: &BTreeMap<String, Pod>,
) -> Vec<PodChange> {
    let mut groups: BTreeMap<(ChangeKind, String), Vec<String>> = BTreeMap::new();
    for node in nodes {
        let old = current.get(node).map(normalized_yaml);
        let new = target.get(node).map(normalized_yaml);
        let change = match (&old, &new) {
            (None, None) => continue,
            (None, Some(_)) => ChangeKind::Create,
            (Some(_), None) => ChangeKind::Delete,
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), Some(_)) => ChangeKind::Update,
        };
        let diff = unified(
            old.as_deref().unwrap_or_default(),
            new.as_deref().unwrap_or_default(),
            CURRENT,
            TARGET,
        );
        groups
            .entry((change, diff))
            .or_default()
            .push(node.to_string());
    }
    let mut out: Vec<PodChange> = groups
        .into_iter()
        .map(|((change, diff), mut nodes)| {
            nodes.sort();
            PodChange {
                change,
                nodes,
                diff,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.nodes
            .len()
            .cmp(&a.nodes.len())
            .then_with(|| a.nodes.cmp(&b.nodes))
    });
    out
}

#[cfg(test)]
mod tests;
