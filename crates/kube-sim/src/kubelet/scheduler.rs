//! The pure scheduler: where a pending pod goes among the simulator's nodes.
//!
//! Daemon pods are pinned to their node by a required node affinity term
//! (`matchFields: metadata.name In [node]`, what the DaemonSet and ExtendedDaemonSet
//! controllers write); such a pod is bound when its node fits: node selector, node affinity
//! terms, `spec.unschedulable` and `NoSchedule`/`NoExecute` taints (with tolerations), as the
//! default scheduler filters. Resources are not counted. A pod pinned to nodes none of which is
//! the simulator's is left to the cluster's own scheduler.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration,
};

/// Taint the scheduler treats cordoned (`spec.unschedulable`) nodes as having.
const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

/// Where a pending pod goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Bind the pod to this node.
    Bind(String),
    /// No node fits: set `PodScheduled=False` with reason `Unschedulable` and this message.
    Unschedulable(String),
    /// Not the simulator's pod (already bound, or no candidate among the fake nodes): leave it
    /// alone.
    NotOurs,
}

/// The nodes a pending pod may go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Candidates {
    /// The nodes it is pinned to (`matchFields metadata.name In [...]`).
    Named(Vec<String>),
    /// Any node: the pod is not pinned and unpinned pods are scheduled.
    All,
    /// None of the simulator's business: the pod is not pinned.
    NotOurs,
}

/// Which nodes `pod` may go to; `schedule_unpinned` makes unpinned pods the simulator's too.
pub fn candidates(pod: &Pod, schedule_unpinned: bool) -> Candidates {
    match pinned_names(pod) {
        Some(names) => Candidates::Named(names),
        None if schedule_unpinned => Candidates::All,
        None => Candidates::NotOurs,
    }
}

/// Places `pod` on the first (by name) of `candidates` that fits; `total` is the number of
/// fake nodes, for the scheduler's message (nodes that are not candidates fail the pinning
/// node affinity). No candidate at all means the pod is pinned to other nodes: not ours.
pub fn place(pod: &Pod, candidates: &[Node], total: usize) -> Placement {
    if pod.spec.as_ref().is_some_and(|s| s.node_name.is_some()) || candidates.is_empty() {
        return Placement::NotOurs;
    }
    let name = |n: &Node| n.metadata.name.clone().unwrap_or_default();
    let mut sorted: Vec<&Node> = candidates.iter().collect();
    sorted.sort_by_key(|n| name(n));
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for node in &sorted {
        match fit(pod, node) {
            Ok(()) => return Placement::Bind(name(node)),
            Err(reason) => *reasons.entry(reason).or_default() += 1,
        }
    }
    let total = total.max(candidates.len());
    let others = total - candidates.len();
    if others > 0 {
        *reasons.entry(AFFINITY_MISMATCH.to_string()).or_default() += others;
    }
    let listed: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    Placement::Unschedulable(format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling.",
        listed.join(", ")
    ))
}

const AFFINITY_MISMATCH: &str = "node(s) didn't match Pod's node affinity/selector";

/// Node names a pod is pinned to by `matchFields: metadata.name In [...]`, if any.
pub fn pinned_names(pod: &Pod) -> Option<Vec<String>> {
    let terms = required_terms(pod);
    let names: Vec<String> = terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .filter(|f| f.key == "metadata.name" && f.operator == "In")
        .flat_map(|f| f.values.iter().flatten().cloned())
        .collect();
    (!names.is_empty()).then_some(names)
}

/// Whether `node` passes the scheduler's filters for `pod`; the error is the reason counted in
/// the `Unschedulable` message.
pub fn fit(pod: &Pod, node: &Node) -> Result<(), String> {
    let spec = pod.spec.clone().unwrap_or_default();
    let tolerations = spec.tolerations.clone().unwrap_or_default();
    let node_spec = node.spec.clone().unwrap_or_default();
    if node_spec.unschedulable == Some(true) {
        let cordon = Taint {
            key: UNSCHEDULABLE_TAINT.into(),
            effect: "NoSchedule".into(),
            ..Taint::default()
        };
        if !tolerations.iter().any(|t| tolerates(t, &cordon)) {
            return Err("node(s) were unschedulable".into());
        }
    }
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let selector_ok = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let terms = required_terms(pod);
    let affinity_ok = terms.is_empty() || terms.iter().any(|t| term_matches(t, node));
    if !selector_ok || !affinity_ok {
        return Err(AFFINITY_MISMATCH.into());
    }
    let blocking = node_spec.taints.iter().flatten().find(|taint| {
        matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute")
            && !tolerations.iter().any(|t| tolerates(t, taint))
    });
    match blocking {
        Some(taint) => Err(format!(
            "node(s) had untolerated taint {{{}: {}}}",
            taint.key,
            taint.value.as_deref().unwrap_or_default()
        )),
        None => Ok(()),
    }
}

/// Kubernetes toleration matching: same effect (or any), and key/value by operator.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_ok = toleration
        .effect
        .as_deref()
        .is_none_or(|e| e.is_empty() || e == taint.effect);
    let key = toleration.key.as_deref().unwrap_or_default();
    let key_ok = key.is_empty() || key == taint.key;
    let value_ok = match toleration.operator.as_deref() {
        Some("Exists") => true,
        _ => {
            !key.is_empty()
                && toleration.value.as_deref().unwrap_or_default()
                    == taint.value.as_deref().unwrap_or_default()
        }
    };
    effect_ok && key_ok && value_ok
}

fn required_terms(pod: &Pod) -> Vec<NodeSelectorTerm> {
    pod.spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|r| r.node_selector_terms.clone())
        .unwrap_or_default()
}

/// A term matches when all its label expressions and all its field expressions match.
fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.clone().unwrap_or_default();
    let exprs_ok = term
        .match_expressions
        .iter()
        .flatten()
        .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)));
    let fields_ok = term.match_fields.iter().flatten().all(|r| {
        let value = (r.key == "metadata.name").then_some(name.as_str());
        requirement_matches(r, value)
    });
    exprs_ok && fields_ok
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.clone().unwrap_or_default();
    let number = |s: &str| s.parse::<i64>().ok();
    match (r.operator.as_str(), value) {
        ("In", Some(v)) => values.iter().any(|x| x == v),
        ("NotIn", v) => v.is_none_or(|v| !values.iter().any(|x| x == v)),
        ("Exists", v) => v.is_some(),
        ("DoesNotExist", v) => v.is_none(),
        ("Gt", Some(v)) => {
            matches!((number(v), values.first().and_then(|x| number(x))), (Some(a), Some(b)) if a > b)
        }
        ("Lt", Some(v)) => {
            matches!((number(v), values.first().and_then(|x| number(x))), (Some(a), Some(b)) if a < b)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
