//! Kubelet and scheduler simulator: fake nodes, pod binding and pod lifecycles.
//!
//! [`SimKubelet`] is an ordinary kube-rs client, so it drives the embedded API server as well
//! as a real cluster. It registers fake nodes (labelled [`FAKE_NODE_LABEL`]`=true`, and it
//! never touches a node without that label), binds the pending pods pinned to them, and plays
//! the kubelet for the pods bound to them:
//!
//! - **Scheduler** ([`scheduler`]): a pod pinned by required node affinity
//!   (`matchFields metadata.name In [node]`) to fake nodes is bound through `pods/binding` to
//!   the first that fits its node selector, affinity terms and taints; when none fits, it gets
//!   `PodScheduled=False`, reason `Unschedulable` and the default scheduler's message.
//! - **Kubelet** ([`lifecycle`]): a bound pod goes `Pending` (`ContainerCreating`) ->
//!   `Running` at half its start delay -> `Ready` at its start delay (configurable, with jitter
//!   from a seeded RNG), with container statuses, restart counts, start time, IPs and the
//!   kubelet's conditions. A deleted pod turns unready, and when its grace period is over
//!   (`deletionTimestamp`) the kubelet deletes it with grace period 0.
//! - **Nodes** (handle methods): add and remove nodes, change labels, annotations and taints,
//!   and make a node NotReady (`Ready=False`, taints `node.kubernetes.io/not-ready` NoSchedule
//!   and NoExecute, its pods' `Ready` condition turns `False` as the node lifecycle controller
//!   does; a pod deleted there stays terminating until the node is Ready again, as its
//!   kubelet is not there to finish the deletion). Removing a node also deletes its pods, as pod garbage collection would. Each node's
//!   Lease is created when it registers and renewed every heartbeat interval (10 s, as a
//!   kubelet does; renewals spread over the interval, 16 at most in flight) so a real
//!   control plane keeps the nodes Ready. Pods are not evicted from
//!   NotReady nodes.
//!
//! # Behaviour rules
//!
//! Each container behaves as its `SIM_BEHAVIOUR` env value says (a literal `value`), else as a
//! word in its image name says, else normally:
//!
//! | `SIM_BEHAVIOUR` | image | behaviour |
//! |---|---|---|
//! | `normal` | anything else | starts, becomes ready after the start delay |
//! | `crashloop` | contains `crashloop` | runs, exits with code 1 (`SIM_EXIT_CODE` overrides), `CrashLoopBackOff`, `lastState.terminated.reason=Error`, restart count grows |
//! | `oomkilled` | contains `oomkill` | same, reason `OOMKilled`, exit code 137 |
//! | `starterror` | contains `starterror` | never runs: reason `StartError`, exit code 128, restart count grows |
//! | `imagepullerror` | tag `does-not-exist`, or contains `bad-image` | `ErrImagePull` / `ImagePullBackOff`, alternating; pod `Pending` |
//! | `never-ready` | contains `never-ready` | runs, never ready |
//! | `flapping` | contains `flapping` | runs, ready and unready in turn every flap period |
//!
//! And by reference: a container whose `env` `configMapKeyRef`/`secretKeyRef` or `envFrom`
//! names a missing ConfigMap, Secret or key waits in `CreateContainerConfigError`; a pod whose
//! `configMap`/`secret` (or projected) volume source is missing stays `ContainerCreating`.
//! Both resume once the object appears. Optional references never block.

pub mod behaviour;
mod config;
pub mod lifecycle;
pub mod node;
mod refs;
mod runtime;
pub mod scheduler;

use std::{collections::BTreeMap, sync::Arc};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Taint;
use kube::Client;
use tokio::task::JoinHandle;

pub use behaviour::Behaviour;
pub use config::{FakeNode, KubeletConfig};

/// Label every fake node carries (value `true`); nodes without it are never touched.
pub const FAKE_NODE_LABEL: &str = "sim.extendeddaemonset.datadoghq.com/fake-node";
/// Nodes registered at once by [`SimKubelet::start`].
const REGISTRATION_CONCURRENCY: usize = 16;
/// Field manager of the simulator's writes.
pub const FIELD_MANAGER: &str = "sim-kubelet";

/// Why an operation of the simulator failed.
#[derive(Debug, thiserror::Error)]
pub enum KubeletError {
    /// The API server refused to create a fake node.
    #[error("creating fake node {node}: {source}")]
    CreateNode {
        node: String,
        #[source]
        source: kube::Error,
    },
    /// The API server refused to create the lease of a fake node.
    #[error("creating the lease of fake node {node}: {source}")]
    CreateLease {
        node: String,
        #[source]
        source: kube::Error,
    },
    /// The API server refused an update of a fake node (metadata, taints or status).
    #[error("updating fake node {node}: {source}")]
    UpdateNode {
        node: String,
        #[source]
        source: kube::Error,
    },
    /// The API server refused to delete a fake node or its pods.
    #[error("deleting fake node {node}: {source}")]
    DeleteNode {
        node: String,
        #[source]
        source: kube::Error,
    },
    /// The node is not one of the simulator's: it only manages the nodes it created.
    #[error("no fake node named {0}: the simulator only manages the nodes it created")]
    UnknownNode(String),
    /// A fake node with this name is already managed.
    #[error("fake node {0} already exists: node names must be unique")]
    DuplicateNode(String),
}

/// A running kubelet/scheduler simulator. Dropping it stops its tasks and leaves its nodes
/// (a later run takes them over); [`SimKubelet::stop`] also deletes them when configured.
pub struct SimKubelet {
    shared: Arc<runtime::Shared>,
    tasks: Vec<JoinHandle<()>>,
    /// The lease renewals, stopped last: nodes waiting for their removal stay Ready.
    heartbeats: Option<JoinHandle<()>>,
}

impl SimKubelet {
    /// Registers the configured nodes and starts the scheduler, the kubelet and the node
    /// heartbeats.
    pub async fn start(client: Client, config: KubeletConfig) -> Result<SimKubelet, KubeletError> {
        let nodes = config.nodes.clone();
        let shared = runtime::Shared::new(client, config);
        let (tasks, heartbeats) = runtime::spawn(shared.clone());
        let kubelet = SimKubelet {
            shared,
            tasks,
            heartbeats,
        };
        kubelet.shared.prepare_leases().await;
        futures::stream::iter(nodes)
            .map(|node| kubelet.add_node(node))
            .buffer_unordered(REGISTRATION_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(kubelet)
    }

    /// Registers a new fake node (an existing node object of that name is taken over).
    pub async fn add_node(&self, node: FakeNode) -> Result<(), KubeletError> {
        self.shared.add_node(node).await
    }

    /// Deletes a fake node, its lease and its pods.
    pub async fn remove_node(&self, name: &str) -> Result<(), KubeletError> {
        self.shared.remove_node(name).await
    }

    /// Replaces a node's labels (the marker label stays).
    pub async fn set_labels(
        &self,
        name: &str,
        labels: BTreeMap<String, String>,
    ) -> Result<(), KubeletError> {
        self.shared.update_node(name, |n| n.labels = labels).await
    }

    /// Replaces a node's annotations.
    pub async fn set_annotations(
        &self,
        name: &str,
        annotations: BTreeMap<String, String>,
    ) -> Result<(), KubeletError> {
        self.shared
            .update_node(name, |n| n.annotations = annotations)
            .await
    }

    /// Replaces a node's taints (the `not-ready` taints follow readiness on their own).
    pub async fn set_taints(&self, name: &str, taints: Vec<Taint>) -> Result<(), KubeletError> {
        self.shared.update_node(name, |n| n.taints = taints).await
    }

    /// Makes a node Ready or NotReady.
    pub async fn set_ready(&self, name: &str, ready: bool) -> Result<(), KubeletError> {
        self.shared.update_node(name, |n| n.ready = ready).await
    }

    /// Changes a node with any edit of its [`FakeNode`] description.
    pub async fn update_node(
        &self,
        name: &str,
        edit: impl FnOnce(&mut FakeNode),
    ) -> Result<(), KubeletError> {
        self.shared.update_node(name, edit).await
    }

    /// Node lease renewals that succeeded so far (the creations at registration not
    /// counted); each cycle of the heartbeats renews every fake node once.
    pub fn lease_renewals(&self) -> u64 {
        self.shared.lease_renewals()
    }

    /// Names of the fake nodes, sorted.
    pub fn node_names(&self) -> Vec<String> {
        self.shared.node_names()
    }

    /// The current description of a fake node.
    pub fn node(&self, name: &str) -> Option<FakeNode> {
        self.shared.node(name)
    }

    /// Stops every task; with `delete_nodes_on_stop`, deletes the fake nodes and their pods.
    /// The node leases are renewed until the nodes are gone (removing 1,000 nodes takes over a
    /// minute on a real API server, longer than a node lifecycle controller's grace period).
    pub async fn stop(self) -> Result<(), KubeletError> {
        for task in &self.tasks {
            task.abort();
        }
        if self.shared.config.delete_nodes_on_stop {
            let shared = &self.shared;
            futures::stream::iter(shared.node_names())
                .map(|name| async move { shared.remove_node(&name).await })
                .buffer_unordered(REGISTRATION_CONCURRENCY)
                .try_collect::<Vec<()>>()
                .await?;
        }
        Ok(())
    }
}

impl Drop for SimKubelet {
    fn drop(&mut self) {
        for task in self.tasks.iter().chain(&self.heartbeats) {
            task.abort();
        }
    }
}
