//! The JSON document of `eds plan -o json`: a versioned contract.
//!
//! Fields are only ever added within one `apiVersion`; a renamed or removed field, or a changed
//! meaning, gets a new `apiVersion`. docs/plan.md describes every field.

use serde::{Deserialize, Serialize};

use eds_plan::NodeAction;

/// `apiVersion` of [`PlanReport`].
pub const API_VERSION: &str = "eds.plan/v2";
/// `kind` of [`PlanReport`].
pub const KIND: &str = "ExtendedDaemonSetPlan";

/// What `eds plan` found: the object change, the pod changes, what happens on every node, the
/// budget and the waves of the rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanReport {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always [`KIND`].
    pub kind: String,
    /// Whether anything changes: the object, an ERS, a pod, or a node that waits for its turn.
    /// `eds plan` exits 1 when true, 0 when false.
    pub changes: bool,
    /// The ExtendedDaemonSet planned.
    pub eds: EdsRef,
    /// Where the current state came from: `cluster` or `state` (a file).
    pub source: String,
    /// Time the plan was made for (RFC 3339).
    pub planned_at: String,
    /// How the ExtendedDaemonSet object itself changes.
    pub object: ObjectChange,
    /// Revision (ERS name) most nodes run now; `null` before the first rollout.
    pub current_revision: Option<String>,
    /// Revision (ERS name) of the proposed template.
    pub target_revision: String,
    /// One entry per distinct pod change, with the nodes it applies to.
    pub pod_changes: Vec<PodChange>,
    /// What happens on every node, sorted by node name.
    pub actions: Vec<Action>,
    /// The unavailability budget of this step.
    pub budget: BudgetReport,
    /// The waves of the rollout: estimated from this plan, or simulated with `--full`.
    pub waves: Vec<WaveReport>,
    /// Summary of the simulated rollout; `null` without `--full`.
    pub simulation: Option<SimulationReport>,
}

/// Namespace and name of an ExtendedDaemonSet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdsRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// Kind of change of an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// The object does not exist yet.
    Create,
    /// The object exists and changes.
    Update,
    /// The object goes away.
    Delete,
    /// Nothing changes.
    None,
}

/// The change of the ExtendedDaemonSet object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectChange {
    /// `create`, `update` or `none`.
    pub change: ChangeKind,
    /// Unified diff of the object as YAML (without status and server-managed metadata); empty
    /// when nothing changes.
    pub diff: String,
}

/// One distinct pod change and the nodes it applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodChange {
    /// `create` (no pod on the node now), `update` (the pod is replaced) or `delete`.
    pub change: ChangeKind,
    /// Nodes whose pod changes this way, sorted.
    pub nodes: Vec<String>,
    /// Unified diff of the pod as YAML, node-specific fields (name, nodeName, the pinned node
    /// name) replaced by placeholders and server defaults left out.
    pub diff: String,
}

/// What happens on one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// Node name.
    pub node: String,
    /// `create`, `replace`, `delete`, `keep`, `skip` or `wait`.
    pub action: ActionKind,
    /// The pod the action is about: the new pod (create, replace), the deleted pod (delete),
    /// the current pod (keep, skip, wait) or, when the node has none, the pod it will get.
    pub pod: Option<String>,
    /// Pod on the node now.
    pub current_pod: Option<String>,
    /// Pod the node runs once the rollout is done.
    pub target_pod: Option<String>,
    /// Revision of the pod on the node now.
    pub current_revision: Option<String>,
    /// Revision the node should run; `null` when the node does not run this ExtendedDaemonSet.
    pub target_revision: Option<String>,
    /// Without `--full`: 0 for a change made now; for a node that waits, the estimated step
    /// at which its turn comes; `null` when nothing is pending. With `--full`: the simulated
    /// wave (see `waves`) in which the node's pod is deleted, created or replaced; `null` when
    /// the rollout does not touch it.
    pub wave: Option<u32>,
    /// With `--full`: the simulated time of the node's wave (RFC 3339); else `null`.
    pub planned_at: Option<String>,
    /// Why.
    pub reason: String,
}

/// Action on a node, as in [`NodeAction`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActionKind {
    /// A pod is created on a node that has none.
    Create,
    /// The pod is replaced by one of the target revision.
    Replace,
    /// A pod is deleted and not replaced.
    Delete,
    /// Nothing to do.
    Keep,
    /// The node does not run this ExtendedDaemonSet.
    Skip,
    /// A change is held back (budget, pause, freeze, backoff, canary).
    Wait,
}

impl From<NodeAction> for ActionKind {
    fn from(a: NodeAction) -> Self {
        match a {
            NodeAction::Create => Self::Create,
            NodeAction::Replace => Self::Replace,
            NodeAction::Delete => Self::Delete,
            NodeAction::Keep => Self::Keep,
            NodeAction::Skip => Self::Skip,
            NodeAction::Wait => Self::Wait,
        }
    }
}

impl ActionKind {
    /// The lowercase word used in text and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Replace => "replace",
            Self::Delete => "delete",
            Self::Keep => "keep",
            Self::Skip => "skip",
            Self::Wait => "wait",
        }
    }

    /// Whether the node still has something to do.
    pub fn pending(self) -> bool {
        !matches!(self, Self::Keep | Self::Skip)
    }
}

/// The unavailability budget.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetReport {
    /// Nodes that should run a pod.
    pub desired: i32,
    /// Nodes without an available pod now.
    pub unavailable: i32,
    /// Pods that may be unavailable at once (maxUnavailable scaled to `desired`).
    pub max_unavailable: i32,
    /// Extra pods allowed beside old ones (maxSurge scaled to `desired`).
    pub max_surge: i32,
    /// Unresponsive nodes left out of the budget.
    pub ignored_unresponsive_nodes: i32,
    /// Most pods this step may start (slow start, maxParallelPodCreation).
    pub max_creation: i32,
}

/// One wave of the rollout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveReport {
    /// Wave number; 0 is what this plan does now.
    pub wave: u32,
    /// Simulated seconds from now; `null` for estimated waves (without `--full`).
    pub elapsed_seconds: Option<u64>,
    /// `status.state` of the ExtendedDaemonSet after the wave (`--full` only).
    pub state: Option<String>,
    /// Whether the wave belongs to the canary phase (`--full` only; `false` otherwise).
    pub canary: bool,
    /// Nodes changed in the wave, sorted.
    pub nodes: Vec<String>,
    /// Pods created in the wave.
    pub created: Vec<NodePod>,
    /// Pods deleted in the wave.
    pub deleted: Vec<NodePod>,
    /// ERSs created or updated in the wave.
    pub ers_applied: Vec<String>,
    /// ERSs deleted in the wave.
    pub ers_deleted: Vec<String>,
}

/// A pod on a node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodePod {
    /// Node name.
    pub node: String,
    /// Pod name.
    pub pod: String,
}

/// Summary of a simulated rollout (`--full`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulationReport {
    /// Seconds after which simulated pods became ready (`--assume-ready-after`).
    pub assume_ready_after_seconds: u64,
    /// Whether every node ended on the target revision, available.
    pub converged: bool,
    /// How the simulation ended: `converged`, `stalled` (paused, failed, frozen, blocked) or
    /// `stepLimit` (it did not settle within the step bound).
    pub end: SimulationEnd,
    /// The `Stalled` condition's reason when `end` is `stalled`.
    pub stalled_reason: Option<String>,
    /// Plans run by the simulation.
    pub steps: usize,
    /// Simulated seconds from now until the simulation settled: the estimated duration of the
    /// rollout.
    pub estimated_duration_seconds: u64,
    /// The canary phase; `null` when the rollout has none.
    pub canary: Option<PhaseSpan>,
}

/// How a simulated rollout ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SimulationEnd {
    /// Every node runs the target revision, available.
    Converged,
    /// The rollout cannot progress (paused, failed, frozen, blocked).
    Stalled,
    /// The step bound was reached first.
    StepLimit,
}

/// A span of waves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseSpan {
    /// First wave of the phase.
    pub first_wave: u32,
    /// Last wave of the phase.
    pub last_wave: u32,
    /// Simulated seconds at the first wave.
    pub start_seconds: u64,
    /// Simulated seconds when the phase ended (the first wave after it, or its last wave).
    pub end_seconds: u64,
}
