//! Which nodes run a pod, and how a pod is pinned to its node.
//!
//! Kept from upstream and the DaemonSet controller: the ExtendedDaemonSet `spec.selector` filters
//! nodes by label; the pod's `nodeSelector` and required node affinity (labels and the
//! `metadata.name` field) must match; every NoSchedule/NoExecute taint must be tolerated, with
//! the DaemonSet default tolerations added (including pid-pressure, which upstream forgot). As in
//! the DaemonSet controller, a node whose NoSchedule taint is not tolerated keeps its existing
//! pod (no new one), while an untolerated NoExecute taint removes it.

mod labels;

use k8s_openapi::{
    api::core::v1::{
        Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
        PodSpec, Toleration,
    },
    apimachinery::pkg::apis::meta::v1::LabelSelector,
};
use kube::core::Selector;

use crate::digest::{NodeDigest, TaintRef};
use eds_api::constants::taints;

pub use labels::{LabelMatcher, Labels};

/// Field of the pinning node-affinity term.
const NODE_NAME_FIELD: &str = "metadata.name";

/// Whether a node runs a pod of the ExtendedDaemonSet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Eligibility {
    /// The node should run a pod.
    Run,
    /// A pod already there may stay, but none is created (untolerated NoSchedule taint, node
    /// being deleted).
    KeepOnly(String),
    /// The node must not run a pod; any pod there is deleted.
    Excluded(String),
}

/// The compiled placement rules of one pod template.
pub struct Placement {
    selector: Option<LabelMatcher>,
    spec: PodSpec,
    tolerations: Vec<Toleration>,
}

/// A label selector the planner cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{field}: invalid label selector: {message}")]
pub struct SelectorError {
    /// Field holding the selector.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Compiles an optional LabelSelector; `None` matches everything.
pub fn compile_selector(
    field: &'static str,
    selector: Option<&LabelSelector>,
) -> Result<Option<LabelMatcher>, SelectorError> {
    selector
        .map(|s| Selector::try_from(s.clone()).map(LabelMatcher::from))
        .transpose()
        .map_err(|e| SelectorError {
            field,
            message: e.to_string(),
        })
}

impl Placement {
    /// Compiles the rules of `spec` (the pod template spec) and `selector` (the EDS's).
    pub fn new(selector: Option<&LabelSelector>, spec: &PodSpec) -> Result<Self, SelectorError> {
        let selector = compile_selector("spec.selector", selector)?;
        Ok(Self {
            selector,
            ..Self::without_selector(spec)
        })
    }

    /// The rules of `spec` alone (used when the ExtendedDaemonSet's selector is invalid, to
    /// still count pods per node).
    pub fn without_selector(spec: &PodSpec) -> Self {
        let mut tolerations = spec.tolerations.clone().unwrap_or_default();
        add_default_tolerations(&mut tolerations);
        Self {
            selector: None,
            spec: spec.clone(),
            tolerations,
        }
    }

    /// The tolerations every pod gets (template ones, then the DaemonSet defaults).
    pub fn tolerations(&self) -> &[Toleration] {
        &self.tolerations
    }

    /// Whether `node` runs a pod.
    pub fn check(&self, node: &NodeDigest) -> Eligibility {
        let labels = node;
        let name = node.name();
        if let Some(selector) = &self.selector
            && !selector.matches(labels)
        {
            return Eligibility::Excluded("labels do not match spec.selector".into());
        }
        for (key, value) in self.spec.node_selector.iter().flatten() {
            if labels.label(key) != Some(value.as_str()) {
                return Eligibility::Excluded(format!("nodeSelector {key}={value} does not match"));
            }
        }
        if let Some(required) = required_terms(self.spec.affinity.as_ref())
            && !required
                .node_selector_terms
                .iter()
                .any(|t| term_matches(t, labels, name))
        {
            return Eligibility::Excluded("required node affinity does not match".into());
        }
        let mut keep_only = None;
        for taint in node.taints() {
            if taint.effect == taints::PREFER_NO_SCHEDULE || self.tolerates(taint) {
                continue;
            }
            let what = format!("taint {}:{} not tolerated", taint_text(taint), taint.effect);
            if taint.effect == taints::NO_EXECUTE {
                return Eligibility::Excluded(what);
            }
            keep_only.get_or_insert(what);
        }
        if node.deleting() {
            keep_only.get_or_insert_with(|| "node is being deleted".into());
        }
        keep_only.map_or(Eligibility::Run, Eligibility::KeepOnly)
    }

    fn tolerates(&self, taint: TaintRef<'_>) -> bool {
        self.tolerations
            .iter()
            .any(|t| toleration_matches(t, &taint))
    }
}

fn taint_text(taint: TaintRef<'_>) -> String {
    match taint.value {
        "" => taint.key.to_string(),
        v => format!("{}={v}", taint.key),
    }
}

fn required_terms(affinity: Option<&Affinity>) -> Option<&NodeSelector> {
    affinity?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()
}

/// Whether a node selector term matches; an empty term matches nothing (Kubernetes semantics).
fn term_matches(term: &NodeSelectorTerm, labels: &(impl Labels + ?Sized), name: &str) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs
        .iter()
        .all(|r| requirement_matches(r, labels.label(&r.key)))
        && fields.iter().all(|r| {
            let value = (r.key == NODE_NAME_FIELD).then_some(name);
            requirement_matches(r, value)
        })
}

fn requirement_matches(req: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = req.values.as_deref().unwrap_or_default();
    let number = |s: &str| s.parse::<i64>().ok();
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => !value.is_some_and(|v| values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(number),
                values.first().and_then(|b| number(b)),
            ) else {
                return false;
            };
            if req.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

fn toleration_matches(t: &Toleration, taint: &TaintRef<'_>) -> bool {
    if let Some(effect) = t.effect.as_deref()
        && !effect.is_empty()
        && effect != taint.effect
    {
        return false;
    }
    let key = t.key.as_deref().unwrap_or_default();
    match t.operator.as_deref() {
        Some("Exists") => key.is_empty() || key == taint.key,
        _ => key == taint.key && t.value.as_deref().unwrap_or_default() == taint.value,
    }
}

/// The DaemonSet default tolerations, added unless the template already has them.
fn add_default_tolerations(tolerations: &mut Vec<Toleration>) {
    let defaults = [
        (taints::NOT_READY, taints::NO_EXECUTE),
        (taints::UNREACHABLE, taints::NO_EXECUTE),
        (taints::DISK_PRESSURE, taints::NO_SCHEDULE),
        (taints::MEMORY_PRESSURE, taints::NO_SCHEDULE),
        (taints::PID_PRESSURE, taints::NO_SCHEDULE),
        (taints::UNSCHEDULABLE, taints::NO_SCHEDULE),
        (taints::NETWORK_UNAVAILABLE, taints::NO_SCHEDULE),
    ];
    for (key, effect) in defaults {
        let toleration = Toleration {
            key: Some(key.to_string()),
            operator: Some("Exists".into()),
            effect: Some(effect.to_string()),
            ..Default::default()
        };
        if !tolerations.contains(&toleration) {
            tolerations.push(toleration);
        }
    }
}

/// `affinity` with the pod pinned to `node`: a `metadata.name In [node]` field requirement
/// merged into every required term (replacing any earlier `metadata.name` requirement), or a
/// single such term when there is none. Node-label terms are kept so the scheduler still
/// checks them.
pub fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let mut affinity = affinity.unwrap_or_default();
    let node_affinity = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    let required = node_affinity
        .required_during_scheduling_ignored_during_execution
        .get_or_insert_with(NodeSelector::default);
    let pin = NodeSelectorRequirement {
        key: NODE_NAME_FIELD.into(),
        operator: "In".into(),
        values: Some(vec![node.to_string()]),
    };
    if required.node_selector_terms.is_empty() {
        required
            .node_selector_terms
            .push(NodeSelectorTerm::default());
    }
    for term in &mut required.node_selector_terms {
        let fields = term.match_fields.get_or_insert_with(Vec::new);
        fields.retain(|f| f.key != NODE_NAME_FIELD);
        fields.push(pin.clone());
    }
    affinity
}

/// The node a pod runs on, or is pinned to when not scheduled yet.
pub fn pod_node(pod: &Pod) -> Option<&str> {
    let spec = pod.spec.as_ref()?;
    if let Some(node) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(node);
    }
    required_terms(spec.affinity.as_ref())?
        .node_selector_terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|f| f.key == NODE_NAME_FIELD && f.operator == "In")
        .and_then(|f| f.values.as_ref()?.first().map(String::as_str))
}

#[cfg(test)]
mod tests;
