//! The planner's output: every change one reconcile makes, and why.

use std::{collections::BTreeMap, sync::Arc};

use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};

use super::{snapshot::PlannerState, steering::Steering};
use eds_api::{
    ExtendedDaemonSetReplicaSet, ExtendedDaemonSetReplicaSetStatus, ExtendedDaemonSetStatus,
    ExtendedDaemonsetSettingStatus,
};

/// Every change one reconcile of one ExtendedDaemonSet makes. The executor applies it; `eds
/// plan` renders it. All lists are sorted (by name, or by node name), so two plans of the same
/// snapshot are equal.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// ERS objects to create or update with server-side apply (full desired objects: owner
    /// reference, labels, templatehash and revision annotations). Only ERSs whose managed
    /// fields differ from the cluster's are listed.
    pub ers_applies: Vec<ExtendedDaemonSetReplicaSet>,
    /// ERSs to delete (old revisions without pods, beyond `revisionHistoryLimit`).
    pub ers_deletes: Vec<ObjectRef>,
    /// Pods to create (full desired objects, owned by their ERS), in node order.
    pub pod_creates: Vec<Pod>,
    /// Pods to delete, with uid and resourceVersion preconditions, in node order.
    pub pod_deletes: Vec<PodDelete>,
    /// Label changes on existing pods (the canary label, added on canary pods and removed
    /// once the canary is promoted, as upstream does).
    pub pod_label_updates: Vec<PodLabelUpdate>,
    /// Desired status of the ExtendedDaemonSet (always the full status).
    pub eds_status: ExtendedDaemonSetStatus,
    /// Whether `eds_status` differs from the stored status (the executor skips the write
    /// otherwise).
    pub eds_status_changed: bool,
    /// Desired status of each ERS whose status changes (by ERS name, sorted). An ERS created by
    /// this plan is listed too.
    pub ers_statuses: Vec<(String, ExtendedDaemonSetReplicaSetStatus)>,
    /// Desired status of each ExtendedDaemonsetSetting referencing this ExtendedDaemonSet whose
    /// status changes (by Setting name, sorted).
    pub setting_statuses: Vec<(String, ExtendedDaemonsetSettingStatus)>,
    /// Kubernetes Events to emit.
    pub events: Vec<PlannedEvent>,
    /// When to plan again if nothing changes before: the nearest deadline (canary end, restart
    /// window, slow-start step, backoff expiry, minReadySeconds), at most `reconcileFrequency`
    /// (the periodic full resync, also once the rollout is done), at least one second. The
    /// controller requeues at exactly this delay.
    pub requeue_after: std::time::Duration,
    /// What happens on every node, and why (sorted by node name).
    pub nodes: Vec<NodeExplanation>,
    /// Name of the ERS active before this plan (the revision most nodes run).
    pub current_revision: Option<String>,
    /// Name of the ERS of the ExtendedDaemonSet's current template.
    pub target_revision: String,
    /// The unavailability budget this plan worked with.
    pub budget: Budget,
    /// State to pass in the next snapshot (failed-pod backoff).
    pub state: PlannerState,
    /// The steering annotations this plan obeyed (the controller's gauges report them).
    pub steering: Steering,
}

impl Plan {
    /// Whether the executor has anything to write: objects to apply, create or delete, a
    /// status that differs from the stored one, or events to emit.
    pub fn has_changes(&self) -> bool {
        !self.ers_applies.is_empty()
            || !self.ers_deletes.is_empty()
            || !self.pod_creates.is_empty()
            || !self.pod_deletes.is_empty()
            || !self.pod_label_updates.is_empty()
            || self.eds_status_changed
            || !self.ers_statuses.is_empty()
            || !self.setting_statuses.is_empty()
            || !self.events.is_empty()
    }
}

/// An object to delete, with the preconditions that make the delete safe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// Object name (the namespace is the ExtendedDaemonSet's).
    pub name: String,
    /// `metadata.uid` precondition.
    pub uid: Option<String>,
    /// `metadata.resourceVersion` precondition.
    pub resource_version: Option<String>,
}

/// A pod to delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDelete {
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// `metadata.uid` precondition.
    pub uid: Option<String>,
    /// `metadata.resourceVersion` precondition.
    pub resource_version: Option<String>,
    /// Node the pod runs on (or is pinned to).
    pub node: Option<String>,
    /// Why it is deleted (human-readable, e.g. `outdated: replaced by foo-5d8f9c7b6a`).
    pub reason: String,
}

/// Labels to change on an existing pod (a merge patch with the uid precondition).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodLabelUpdate {
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// `metadata.uid` precondition.
    pub uid: Option<String>,
    /// Labels to set (`Some`) or remove (`None`).
    pub labels: BTreeMap<String, Option<String>>,
}

/// Type of a Kubernetes Event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something needs attention.
    Warning,
}

/// Object an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EventObject {
    /// The ExtendedDaemonSet itself.
    ExtendedDaemonSet,
    /// One of its ERSs, by name.
    ReplicaSet(String),
}

/// A Kubernetes Event to emit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedEvent {
    /// Normal or Warning.
    #[serde(rename = "type")]
    pub type_: EventType,
    /// CamelCase reason (upstream's `Create ExtendedDaemonSetReplicaSet` keeps its spaces).
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// Object the event is recorded on.
    pub on: EventObject,
    /// The revision (ERS name) the event is about, recorded as the event's related object so
    /// that events of different revisions never merge into one series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The node the event is about, recorded as the event's related object (events about a
    /// node name no revision) so that the events of different nodes never merge into one series
    /// that keeps the first node's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// What happens on one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NodeAction {
    /// A pod is created on a node that has none.
    Create,
    /// An outdated pod is deleted (or a surge pod created) to run the target revision.
    Replace,
    /// A pod is deleted and not replaced now (failed, duplicate, node no longer eligible).
    Delete,
    /// The node runs what it should; nothing to do.
    Keep,
    /// The node does not run this ExtendedDaemonSet.
    Skip,
    /// The node needs a change that is held back (budget, pause, freeze, backoff, canary).
    Wait,
}

/// Explanation of the plan for one node, as `eds plan` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeExplanation {
    /// Node name, shared with the node's digest.
    pub node: Arc<str>,
    /// Revision (ERS name, or `daemonset/<name>` for a migrated pod) of the pod on the node.
    /// Revision names and reasons are shared between nodes (`Arc`): at 10,000 nodes, three
    /// strings allocated per node were a quarter of the planning time.
    pub current_revision: Option<Arc<str>>,
    /// Revision the node should run; `None` when the node does not run this ExtendedDaemonSet.
    pub target_revision: Option<Arc<str>>,
    /// What happens.
    pub action: NodeAction,
    /// 0 for a change made by this plan; for a node that waits, the estimated step of the
    /// rollout at which its turn comes (1 = next); `None` when nothing is pending.
    pub wave: Option<u32>,
    /// Why, e.g. `wait (maxUnavailable 1/1 used by node-2)`.
    pub reason: Arc<str>,
}

/// The budget of the rolling update.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// Nodes that should run a pod.
    pub desired: i32,
    /// Nodes without an available pod before this plan (unresponsive ones left out up to
    /// maxPodSchedulerFailure).
    pub unavailable: i32,
    /// maxUnavailable scaled to `desired` (rounded up).
    pub max_unavailable: i32,
    /// maxSurge scaled to `desired` (rounded up).
    pub max_surge: i32,
    /// Unresponsive nodes left out of the budget.
    pub ignored_unresponsive_nodes: i32,
    /// Most pods this plan may start (slow start and maxParallelPodCreation).
    pub max_creation: i32,
}
