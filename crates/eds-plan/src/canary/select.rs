//! Choice of canary nodes.
//!
//! Kept from upstream: candidates are the nodes that run the ExtendedDaemonSet and match
//! `canary.nodeSelector`; nodes chosen earlier for the same canary ERS stay chosen while they
//! remain candidates; new ones are spread over the values of the `nodeAntiAffinityKeys` labels
//! (no value gets more than its share, `ceil(count / distinct values)`). We add: among equal
//! choices, the node whose current pod restarted least goes first (a flapping node would make
//! the canary fail for reasons unrelated to the new template), then the node name. A chosen
//! node that may no longer get a pod but keeps the one it has (an untolerated NoSchedule
//! taint) stays chosen while that pod runs the canary's revision: dropping it would put a
//! canary pod on another node while this one still runs, more canary pods than `replicas`.

use std::collections::{BTreeSet, HashMap};

use crate::{
    cluster::Cluster,
    placement::{Eligibility, LabelMatcher},
};

/// Inputs of the choice.
pub struct Selection<'s> {
    /// Number of canary nodes wanted.
    pub count: usize,
    /// Compiled `canary.nodeSelector`.
    pub node_selector: Option<&'s LabelMatcher>,
    /// `canary.nodeAntiAffinityKeys`.
    pub anti_affinity_keys: &'s [String],
    /// Canary nodes recorded in the status for the same canary ERS.
    pub previous: &'s [String],
    /// Whether node `i` runs a live pod of the canary's revision.
    pub runs_canary: &'s dyn Fn(usize) -> bool,
}

/// Chooses the canary nodes; returns node indexes, sorted, and the number of candidates.
pub fn select_nodes(cluster: &Cluster<'_>, sel: &Selection<'_>) -> (Vec<usize>, usize) {
    let previous: BTreeSet<&str> = sel.previous.iter().map(String::as_str).collect();
    let still_canary = |i: usize| {
        let node = &cluster.nodes[i];
        matches!(node.eligibility, Eligibility::KeepOnly(_))
            && previous.contains(node.name)
            && (sel.runs_canary)(i)
    };
    let candidates: Vec<usize> = (0..cluster.nodes.len())
        .filter(|&i| cluster.nodes[i].runs() || still_canary(i))
        .filter(|&i| {
            sel.node_selector
                .is_none_or(|s| s.matches(cluster.nodes[i].node))
        })
        .collect();
    let count = sel.count.min(candidates.len());
    let mut chosen: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| previous.contains(cluster.nodes[i].name))
        .take(count)
        .collect();
    if chosen.len() < count {
        let value = |i: usize| -> String {
            let node = cluster.nodes[i].node;
            sel.anti_affinity_keys
                .iter()
                .map(|k| node.label(k).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("$")
        };
        let mut per_value: HashMap<String, usize> = HashMap::new();
        if !sel.anti_affinity_keys.is_empty() {
            for &i in &candidates {
                per_value.entry(value(i)).or_default();
            }
            for &i in &chosen {
                *per_value.entry(value(i)).or_default() += 1;
            }
        }
        let mut rest: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|i| !chosen.contains(i))
            .collect();
        let restarts =
            |i: usize| -> i32 { cluster.nodes[i].live().map(|p| p.digest.restarts()).sum() };
        rest.sort_by_key(|&i| (restarts(i), cluster.nodes[i].name));
        let share = count.div_ceil(per_value.len().max(1));
        // First pass keeps the spread; a second pass fills up when the values are too uneven
        // for a perfect spread (upstream would settle for fewer canary nodes).
        for balanced in [true, false] {
            for &i in &rest {
                if chosen.len() >= count {
                    break;
                }
                if chosen.contains(&i) {
                    continue;
                }
                if balanced && !sel.anti_affinity_keys.is_empty() {
                    let n = per_value.entry(value(i)).or_default();
                    if *n >= share {
                        continue;
                    }
                    *n += 1;
                }
                chosen.push(i);
            }
        }
    }
    chosen.sort_unstable();
    (chosen, candidates.len())
}
