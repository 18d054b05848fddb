//! The planner's input: everything one reconcile of one ExtendedDaemonSet looks at.
//!
//! A [`Snapshot`] holds the objects read from watch caches (or a file for `eds plan --state`);
//! the planner never reads anything else. Pods and nodes are shared with the watch caches
//! (`Arc`): a reconcile at 10,000 nodes would otherwise deep-copy 20,000 objects, which costs
//! far more than planning them. State that must survive between reconciles but is not
//! stored in the API (the failed-pod backoff) travels in [`PlannerState`]: the controller keeps
//! the value returned in `Plan::state` and passes it back in the next snapshot.

mod objects;

use std::{collections::BTreeMap, sync::Arc};

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::digest::{NodeDigest, PodDigest};
use serde::{Deserialize, Serialize};

use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting, ValidationMode,
};

pub use objects::{SnapshotError, StateObject};

/// Everything `plan()` needs for one ExtendedDaemonSet. The order of every list is irrelevant:
/// the planner sorts what it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The ExtendedDaemonSet, as stored (defaults are applied in memory by the planner).
    pub eds: ExtendedDaemonSet,
    /// Its ExtendedDaemonSetReplicaSets, including ones left by the upstream controller.
    pub replica_sets: Vec<ExtendedDaemonSetReplicaSet>,
    /// Pods labelled `extendeddaemonset.datadoghq.com/name=<eds>`. The planner digests each
    /// when it plans; see `digested_pods` for pods digested beforehand.
    pub pods: Vec<Arc<Pod>>,
    /// More pods of the ExtendedDaemonSet, digested beforehand: the controller's pod cache
    /// keeps a digest of each pod, made when its watch event arrives, so that a plan reads
    /// dense records instead of decoded pods. The planner reads `pods` and these alike; a pod
    /// belongs in one list or the other, not both.
    pub digested_pods: Vec<Arc<PodDigest>>,
    /// Pods of the DaemonSet named by the `old-daemonset` annotation (migration).
    pub old_daemonset_pods: Vec<Arc<Pod>>,
    /// State of the DaemonSet named by the `old-daemonset` annotation, as the reader saw it;
    /// `None` when there is no such annotation or the reader did not look (the migration then
    /// proceeds as if the DaemonSet were being deleted, with no warning).
    pub old_daemonset: Option<OldDaemonSet>,
    /// All candidate nodes (the planner applies selectors, affinity and taints itself). The
    /// planner digests each when it plans; see `digested_nodes` for nodes digested beforehand.
    pub nodes: Vec<Arc<Node>>,
    /// More candidate nodes, digested beforehand: the controller's node cache keeps a digest
    /// of each node, made when its watch event arrives, and no other copy of it. The planner
    /// reads `nodes` and these alike; a node belongs in one list or the other, not both.
    pub digested_nodes: Vec<Arc<NodeDigest>>,
    /// The ExtendedDaemonsetSettings of the ExtendedDaemonSet's namespace.
    pub settings: Vec<ExtendedDaemonsetSetting>,
    /// Controller configuration that changes what the planner decides.
    pub config: PlannerConfig,
    /// State carried between reconciles (returned updated in `Plan::state`).
    pub state: PlannerState,
}

/// State of the DaemonSet a migration replaces (the `old-daemonset` annotation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OldDaemonSet {
    /// It exists and is not being deleted: its controller re-creates every pod deleted, so the
    /// planner deletes none of its pods (and creates none beside them) and says why.
    Live,
    /// It is being deleted (`deletionTimestamp` set, held by a finalizer as README's
    /// "Migrating from a DaemonSet" asks): its pods are replaced within maxUnavailable.
    Deleting,
    /// It does not exist: there is nothing to replace (pods it orphaned are not found); the
    /// planner warns.
    Missing,
}

impl OldDaemonSet {
    /// The state of a DaemonSet read from the API or a file (`None`: not found).
    pub fn of(daemonset: Option<&k8s_openapi::api::apps::v1::DaemonSet>) -> Self {
        match daemonset {
            None => Self::Missing,
            Some(ds) if ds.metadata.deletion_timestamp.is_some() => Self::Deleting,
            Some(_) => Self::Live,
        }
    }
}

/// Controller configuration read by the planner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannerConfig {
    /// `EDS_VALIDATION_MODE`: validation mode of canaries that do not set one.
    pub default_validation_mode: ValidationMode,
    /// How long a pod may stay unscheduled before its node counts as unresponsive
    /// (upstream: 10 minutes).
    #[serde(with = "secs")]
    pub unscheduled_timeout: std::time::Duration,
    /// First delay before a failed pod on a node is deleted again (upstream: 10 s).
    #[serde(with = "secs")]
    pub failed_pod_backoff_initial: std::time::Duration,
    /// Longest delay between deletions of failed pods on one node (upstream: 15 min).
    #[serde(with = "secs")]
    pub failed_pod_backoff_max: std::time::Duration,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        Self {
            default_validation_mode: ValidationMode::Auto,
            unscheduled_timeout: std::time::Duration::from_secs(600),
            failed_pod_backoff_initial: std::time::Duration::from_secs(10),
            failed_pod_backoff_max: std::time::Duration::from_secs(900),
        }
    }
}

/// State the planner keeps between reconciles that has no place in the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannerState {
    /// Failed-pod deletion backoff, by node name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed_pod_backoff: BTreeMap<String, Backoff>,
}

/// Backoff of failed-pod deletions on one node: 10 s doubling up to 15 min, as the
/// DaemonSet controller does, so a pod that keeps failing does not hot-loop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    /// Delay applied after the last deletion.
    #[serde(with = "secs")]
    pub delay: std::time::Duration,
    /// No failed pod on the node is deleted before this time.
    pub not_before: jiff::Timestamp,
}

/// Serializes a duration as whole seconds (state files stay readable).
mod secs {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
        u64::deserialize(d).map(std::time::Duration::from_secs)
    }
}

impl Snapshot {
    /// A snapshot of `eds` with no other object and the default configuration.
    pub fn new(eds: ExtendedDaemonSet) -> Self {
        Self {
            eds,
            replica_sets: Vec::new(),
            pods: Vec::new(),
            digested_pods: Vec::new(),
            old_daemonset_pods: Vec::new(),
            old_daemonset: None,
            nodes: Vec::new(),
            digested_nodes: Vec::new(),
            settings: Vec::new(),
            config: PlannerConfig::default(),
            state: PlannerState::default(),
        }
    }

    /// Moves `pods` into `digested_pods`, digesting each, as the controller's cache holds them.
    /// A plan then skips that work (benchmarks measure what the controller runs this way).
    pub fn digest_pods(&mut self) {
        let pods = std::mem::take(&mut self.pods);
        self.digested_pods
            .extend(pods.into_iter().map(|p| Arc::new(PodDigest::new(p))));
    }

    /// Moves `nodes` into `digested_nodes`, digesting each, as the controller's cache holds
    /// them (a digest keeps only what the planner reads: there is no way back).
    pub fn digest_nodes(&mut self) {
        let nodes = std::mem::take(&mut self.nodes);
        self.digested_nodes
            .extend(nodes.iter().map(|n| Arc::new(NodeDigest::new(n))));
    }

    /// Moves `digested_pods` back into `pods`, for code that edits the pod list.
    pub fn undigest_pods(&mut self) {
        let digested = std::mem::take(&mut self.digested_pods);
        self.pods
            .extend(digested.into_iter().map(|d| Arc::clone(d.pod())));
    }
}
