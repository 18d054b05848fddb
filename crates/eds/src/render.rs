//! Rendering of plans: the ExtendedDaemonSet object diff, grouped unified diffs of the pods,
//! the per-node table, the budget line, the waves, and the JSON document of `-o json`.
//!
//! Everything here is pure: [`report`] turns a [`PlanInput`] (a plan and what the caller read
//! around it) into a [`PlanReport`], the versioned JSON contract; [`text`] prints that report for
//! people. Text and JSON therefore always say the same thing.

mod diff;
mod object;
mod pods;
mod report;
mod table;
mod text;
mod waves;

use std::{collections::BTreeMap, time::Duration};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use eds_api::ExtendedDaemonSet;
use eds_plan::{Plan, simulate::Simulation};

pub use diff::{ansi, colorize, unified};
pub use object::object_yaml;
pub use pods::{NODE_PLACEHOLDER, normalized_yaml, pod_changes};
pub use report::{
    API_VERSION, Action, ActionKind, BudgetReport, ChangeKind, EdsRef, KIND, NodePod, ObjectChange,
    PhaseSpan, PlanReport, PodChange, SimulationEnd, SimulationReport, WaveReport,
};
pub use text::{TextOptions, text};

/// Where the current state came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Read from a cluster.
    Cluster,
    /// Read from a state file (`--state`).
    State,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Cluster => "cluster",
            Self::State => "state",
        }
    }
}

/// The ExtendedDaemonSet before and after.
#[derive(Clone, Copy, Debug)]
pub struct ObjectInput<'a> {
    /// The stored object; `None` when it does not exist yet.
    pub before: Option<&'a ExtendedDaemonSet>,
    /// The proposed object (for a live cluster: the result of a dry-run apply).
    pub after: &'a ExtendedDaemonSet,
    /// `before` and `after` as JSON with their values as written (`5m`, where the typed
    /// object prints `300s`), when known; the diff is then made from them.
    pub as_written: Option<(Option<&'a serde_json::Value>, &'a serde_json::Value)>,
}

/// A simulated rollout (`--full`).
#[derive(Clone, Copy, Debug)]
pub struct SimulationInput<'a> {
    /// The simulation.
    pub simulation: &'a Simulation,
    /// Time after which simulated pods became ready.
    pub ready_after: Duration,
}

/// Everything a plan is rendered from.
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    /// Namespace of the ExtendedDaemonSet.
    pub namespace: &'a str,
    /// Name of the ExtendedDaemonSet.
    pub name: &'a str,
    /// Where the current state came from.
    pub source: Source,
    /// Time the plan was made for.
    pub planned_at: Timestamp,
    /// The object change.
    pub object: ObjectInput<'a>,
    /// The plan of the proposed object on the current state.
    pub plan: &'a Plan,
    /// The pod each node runs now (by node name).
    pub current_pods: &'a BTreeMap<String, Pod>,
    /// The pod each node runs once the rollout is done (by node name).
    pub target_pods: &'a BTreeMap<String, Pod>,
    /// The simulated rollout, with `--full`.
    pub simulation: Option<SimulationInput<'a>>,
    /// ERSs the plan applies that exist with the same template: the controller only updates
    /// their metadata (an adopted upstream ERS gets our labels and annotations), which changes
    /// no pod, so it is not a change of the plan.
    pub ers_metadata_only: &'a [String],
}

/// Builds the report of a plan.
pub fn report(input: &PlanInput<'_>) -> PlanReport {
    let plan = input.plan;
    let object = object::change(input.object, input.namespace, input.name, input.source);
    let created = by_node(
        plan.pod_creates
            .iter()
            .filter_map(|p| Some((pod_node(p)?.to_string(), p.metadata.name.clone()?))),
    );
    let deleted = by_node(
        plan.pod_deletes
            .iter()
            .filter_map(|d| Some((d.node.clone()?, d.name.clone()))),
    );
    let name_of = |pods: &BTreeMap<String, Pod>, node: &str| {
        pods.get(node).and_then(|p| p.metadata.name.clone())
    };
    let mut actions: Vec<Action> = plan
        .nodes
        .iter()
        .map(|n| {
            let action = ActionKind::from(n.action);
            let current_pod = name_of(input.current_pods, &n.node);
            let target_pod = n
                .target_revision
                .as_ref()
                .and_then(|_| name_of(input.target_pods, &n.node));
            let pod = match action {
                ActionKind::Create | ActionKind::Replace => {
                    created.get(&*n.node).cloned().or(target_pod.clone())
                }
                ActionKind::Delete => deleted.get(&*n.node).cloned().or(current_pod.clone()),
                ActionKind::Keep | ActionKind::Skip | ActionKind::Wait => {
                    current_pod.clone().or(target_pod.clone())
                }
            };
            Action {
                node: n.node.to_string(),
                action,
                pod,
                current_pod,
                target_pod,
                current_revision: n.current_revision.as_deref().map(str::to_string),
                target_revision: n.target_revision.as_deref().map(str::to_string),
                wave: n.wave,
                planned_at: None,
                reason: n.reason.to_string(),
            }
        })
        .collect();
    // Every node whose pod differs at the end of the rollout, not only the nodes this step
    // touches: a canary step changes one node, the review is about all of them. A node whose
    // target pod is unknown (no pod could be built) is left out rather than shown as deleted.
    let compared = actions
        .iter()
        .filter(|a| a.target_revision.is_none() || input.target_pods.contains_key(&a.node));
    let pod_changes = pod_changes(
        compared.map(|a| a.node.as_str()),
        input.current_pods,
        input.target_pods,
    );
    let changes = object.change != ChangeKind::None
        || plan.ers_applies.iter().any(|e| {
            e.metadata
                .name
                .as_ref()
                .is_none_or(|n| !input.ers_metadata_only.contains(n))
        })
        || !plan.ers_deletes.is_empty()
        || !plan.pod_creates.is_empty()
        || !plan.pod_deletes.is_empty()
        || !plan.pod_label_updates.is_empty()
        || !pod_changes.is_empty()
        || actions.iter().any(|a| a.action.pending());
    let (waves, simulation) = match input.simulation {
        Some(sim) => waves::simulated(sim, input.planned_at),
        None => (waves::estimated(plan), None),
    };
    // With a simulation, every node's wave and time come from it: the step at which its pod
    // is really replaced, not this step's estimate.
    if simulation.is_some() {
        let by_node = waves::node_waves(&waves);
        for a in &mut actions {
            match by_node.get(&a.node) {
                Some((wave, secs)) => {
                    a.wave = Some(*wave);
                    let at = input
                        .planned_at
                        .checked_add(jiff::SignedDuration::from_secs(
                            i64::try_from(*secs).unwrap_or(i64::MAX),
                        ))
                        .unwrap_or(input.planned_at);
                    a.planned_at = Some(at.to_string());
                }
                None => a.wave = None,
            }
        }
    }
    PlanReport {
        api_version: API_VERSION.into(),
        kind: KIND.into(),
        changes,
        eds: EdsRef {
            namespace: input.namespace.into(),
            name: input.name.into(),
        },
        source: input.source.as_str().into(),
        planned_at: input.planned_at.to_string(),
        object,
        current_revision: plan.current_revision.clone(),
        target_revision: plan.target_revision.clone(),
        pod_changes,
        actions,
        budget: BudgetReport {
            desired: plan.budget.desired,
            unavailable: plan.budget.unavailable,
            max_unavailable: plan.budget.max_unavailable,
            max_surge: plan.budget.max_surge,
            ignored_unresponsive_nodes: plan.budget.ignored_unresponsive_nodes,
            max_creation: plan.budget.max_creation,
        },
        waves,
        simulation,
    }
}

fn by_node(pairs: impl Iterator<Item = (String, String)>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (node, pod) in pairs {
        // Several pods on one node (a duplicate deleted beside an outdated one): show the first.
        out.entry(node).or_insert(pod);
    }
    out
}

/// The node a pod runs on: `spec.nodeName`, else the node its required node affinity pins it
/// to with a `metadata.name` field selector (how pods are created before scheduling).
pub fn pod_node(pod: &Pod) -> Option<&str> {
    let spec = pod.spec.as_ref()?;
    if let Some(node) = spec.node_name.as_deref() {
        return Some(node);
    }
    let required = spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?;
    required
        .node_selector_terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|f| f.key == "metadata.name" && f.operator == "In")
        .and_then(|f| f.values.as_ref()?.first())
        .map(String::as_str)
}

#[cfg(test)]
mod tests;
