//! Configuration of the kubelet simulator and of its fake nodes.

use std::{collections::BTreeMap, time::Duration};

use k8s_openapi::{api::core::v1::Taint, apimachinery::pkg::api::resource::Quantity};

use super::lifecycle::Timing;

/// A fake node the simulator creates and runs pods on.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeNode {
    /// Node name.
    pub name: String,
    /// Labels (the simulator adds its marker label and never removes it).
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Taints (the simulator adds `node.kubernetes.io/not-ready` while the node is NotReady).
    pub taints: Vec<Taint>,
    /// `status.capacity` (also used as `status.allocatable`).
    pub capacity: BTreeMap<String, Quantity>,
    /// Whether the node is Ready.
    pub ready: bool,
}

impl FakeNode {
    /// A Ready linux/amd64 node with 4 CPUs, 16Gi of memory and room for 110 pods, labelled
    /// like a real one (`kubernetes.io/hostname`, `kubernetes.io/os`, `kubernetes.io/arch`).
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let labels = [
            ("kubernetes.io/hostname", name.as_str()),
            ("kubernetes.io/os", "linux"),
            ("kubernetes.io/arch", "amd64"),
        ];
        let capacity = [
            ("cpu", "4"),
            ("memory", "16Gi"),
            ("pods", "110"),
            ("ephemeral-storage", "100Gi"),
        ];
        FakeNode {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: BTreeMap::new(),
            taints: Vec::new(),
            capacity: capacity
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect(),
            ready: true,
            name,
        }
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds an annotation.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Adds a taint (`effect`: `NoSchedule`, `PreferNoSchedule` or `NoExecute`).
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        self.taints.push(Taint {
            key: key.to_string(),
            value: (!value.is_empty()).then(|| value.to_string()),
            effect: effect.to_string(),
            time_added: None,
        });
        self
    }

    /// Sets a capacity (`cpu`, `memory`, `pods`...).
    pub fn capacity(mut self, resource: &str, quantity: &str) -> Self {
        self.capacity
            .insert(resource.to_string(), Quantity(quantity.to_string()));
        self
    }

    /// Makes the node start NotReady.
    pub fn not_ready(mut self) -> Self {
        self.ready = false;
        self
    }
}

/// Configuration of [`SimKubelet`](super::SimKubelet).
#[derive(Clone, Debug)]
pub struct KubeletConfig {
    /// Nodes created at start.
    pub nodes: Vec<FakeNode>,
    /// Time from admission to Ready of a normal pod (containers start at half of it).
    pub start_delay: Duration,
    /// Random extra start delay per pod, as a fraction of `start_delay` (0.2 = up to +20%).
    pub jitter: f64,
    /// Seed of the jitter: the same seed gives every pod the same delay on every run.
    pub seed: u64,
    /// How long a crash-looping container runs before it exits.
    pub crash_run: Duration,
    /// How long a crashed container stays in `CrashLoopBackOff`.
    pub crash_backoff: Duration,
    /// Readiness period of flapping containers.
    pub flap_period: Duration,
    /// Node lease renewal period (what keeps a real control plane from marking the fake nodes
    /// unreachable); zero turns the heartbeats off (an embedded API server has no node
    /// lifecycle controller, and thousands of nodes renewing cost requests).
    pub heartbeat_interval: Duration,
    /// Also schedule pods that are not pinned to a node (on the first fitting fake node).
    /// Off by default, so that on a real cluster only pods pinned to fake nodes are touched.
    pub schedule_unpinned: bool,
    /// Delete the fake nodes (and their pods) on [`SimKubelet::stop`](super::SimKubelet::stop).
    pub delete_nodes_on_stop: bool,
}

impl Default for KubeletConfig {
    fn default() -> Self {
        KubeletConfig {
            nodes: Vec::new(),
            start_delay: Duration::from_secs(1),
            jitter: 0.2,
            seed: 0,
            crash_run: Duration::from_millis(500),
            crash_backoff: Duration::from_secs(1),
            flap_period: Duration::from_secs(2),
            heartbeat_interval: Duration::from_secs(10),
            schedule_unpinned: false,
            delete_nodes_on_stop: true,
        }
    }
}

impl KubeletConfig {
    /// The default configuration with `count` nodes named `<prefix>-0`, `<prefix>-1`, ...
    pub fn with_nodes(prefix: &str, count: usize) -> Self {
        KubeletConfig {
            nodes: (0..count)
                .map(|i| FakeNode::new(format!("{prefix}-{i}")))
                .collect(),
            ..KubeletConfig::default()
        }
    }

    /// Sets the start delay, and the other periods in proportion (crash run half of it,
    /// back-off and recheck equal to it, flap period twice it): what tests want.
    pub fn start_delay(mut self, delay: Duration) -> Self {
        self.start_delay = delay;
        self.crash_run = delay / 2;
        self.crash_backoff = delay;
        self.flap_period = delay * 2;
        self
    }

    pub(crate) fn timing(&self) -> Timing {
        Timing {
            crash_run: self.crash_run,
            crash_backoff: self.crash_backoff,
            flap_period: self.flap_period,
            recheck: self.start_delay.max(Duration::from_millis(50)),
        }
    }
}
