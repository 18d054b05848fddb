//! The ExtendedDaemonSet kind.
// kube-derive takes one `printcolumn(...)` per column; clippy reads the repeated keys inside
// them as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::{
    api::core::v1::PodTemplateSpec,
    apimachinery::pkg::{
        apis::meta::v1::{LabelSelector, Time},
        util::intstr::IntOrString,
    },
};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::{Condition, Duration, schema};

/// Desired state of an ExtendedDaemonSet: which pod runs on which nodes, and how a new
/// template is rolled out (canary phase, then rolling update).
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "datadoghq.com",
    version = "v1alpha1",
    kind = "ExtendedDaemonSet",
    namespaced,
    status = "ExtendedDaemonSetStatus",
    shortname = "eds",
    category = "all",
    derive = "PartialEq",
    doc = "ExtendedDaemonSet runs one pod per selected node, like a DaemonSet, and rolls out a new template through a canary phase and a rolling update with a strict unavailability budget.",
    printcolumn(name = "Desired", type_ = "integer", json_path = ".status.desired"),
    printcolumn(name = "Current", type_ = "integer", json_path = ".status.current"),
    printcolumn(name = "Ready", type_ = "integer", json_path = ".status.ready"),
    printcolumn(name = "Up-To-Date", type_ = "integer", json_path = ".status.upToDate"),
    printcolumn(name = "Available", type_ = "integer", json_path = ".status.available"),
    printcolumn(
        name = "Ignored Unresponsive Nodes",
        type_ = "integer",
        json_path = ".status.ignoredUnresponsiveNodes"
    ),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.state"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.reason"),
    printcolumn(
        name = "Active RS",
        type_ = "string",
        json_path = ".status.activeReplicaSet"
    ),
    printcolumn(
        name = "Canary RS",
        type_ = "string",
        json_path = ".status.canary.replicaSet"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedDaemonSetSpec {
    /// Node label selector: only nodes whose labels match run a pod. (Upstream names this a pod
    /// selector, but has always used it to filter nodes; so do we.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Template of the pod run on every selected node.
    #[schemars(schema_with = "schema::pod_template")]
    pub template: PodTemplateSpec,
    /// How a new template is rolled out.
    pub strategy: Strategy,
    /// Number of old ExtendedDaemonSetReplicaSets kept (at zero pods) for `rollout undo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 10), range(min = 0))]
    pub revision_history_limit: Option<i32>,
    /// Seconds a new pod must be ready, without a container crash, to count as available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 0), range(min = 0))]
    pub min_ready_seconds: Option<i32>,
}

/// Rollout strategy of an ExtendedDaemonSet.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Strategy {
    /// `RollingUpdate` replaces pods automatically; `OnDelete` only when a pod is deleted.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "RollingUpdate"))]
    pub type_: Option<UpdateStrategyType>,
    /// How often the controller re-checks the ExtendedDaemonSet when nothing changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "10s"))]
    pub reconcile_frequency: Option<Duration>,
    /// Parameters of the rolling update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = {}))]
    pub rolling_update: Option<RollingUpdate>,
    /// Canary phase run before the rolling update; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Canary>,
}

/// Update strategy type, as `DaemonSet.spec.updateStrategy.type`.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum UpdateStrategyType {
    /// Replace outdated pods automatically within the rolling-update limits.
    #[default]
    RollingUpdate,
    /// Replace a pod only after it is deleted by someone else.
    OnDelete,
}

/// Rolling update parameters.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new(
    "!((!has(self.maxSurge) || self.maxSurge == 0 || self.maxSurge == '0%') && has(self.maxUnavailable) && (self.maxUnavailable == 0 || self.maxUnavailable == '0%'))"
).message("maxSurge and maxUnavailable cannot both be 0").field_path(".maxUnavailable"))]
pub struct RollingUpdate {
    /// Most pods that may be unavailable during the update (number or percentage of nodes).
    /// A pod that is already unavailable counts against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::int_or_percent", extend("default" = 1))]
    pub max_unavailable: Option<IntOrString>,
    /// Most nodes that may run an extra, new pod beside the old one during the update (number
    /// or percentage of nodes, rounded up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::int_or_percent", extend("default" = 0))]
    pub max_surge: Option<IntOrString>,
    /// Most unresponsive nodes (pod unscheduled for 10 minutes, or stuck terminating) ignored
    /// by the unavailability budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::int_or_percent", extend("default" = 0))]
    pub max_pod_scheduler_failure: Option<IntOrString>,
    /// Most pods created in one step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 250), range(min = 1))]
    pub max_parallel_pod_creation: Option<i32>,
    /// Interval after which the number of pods created per step grows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "1m"))]
    pub slow_start_interval_duration: Option<Duration>,
    /// How much the number of pods created per step grows every interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::int_or_percent", extend("default" = 1))]
    pub slow_start_additive_increase: Option<IntOrString>,
}

/// Canary phase parameters.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = kube::core::Rule::new(
        "!has(self.validationMode) || self.validationMode != 'manual' || (!has(self.duration) && !has(self.noRestartsDuration))"
    ).message("duration and noRestartsDuration must not be set when validationMode is manual (they only apply to auto validation)").field_path(".validationMode"),
    validation = kube::core::Rule::new(
        "!has(self.autoPause) || !has(self.autoFail) || (has(self.autoPause.enabled) && !self.autoPause.enabled) || (has(self.autoFail.enabled) && !self.autoFail.enabled) || (has(self.autoFail.maxRestarts) ? self.autoFail.maxRestarts : 5) >= (has(self.autoPause.maxRestarts) ? self.autoPause.maxRestarts : 2)"
    ).message("autoFail.maxRestarts must be greater than or equal to autoPause.maxRestarts when both are enabled").field_path(".autoFail.maxRestarts"),
    validation = kube::core::Rule::new(
        "!has(self.autoFail) || !has(self.autoFail.canaryTimeout) || (has(self.validationMode) && self.validationMode == 'manual') || duration(self.autoFail.canaryTimeout) > duration(has(self.duration) ? self.duration : '10m')"
    ).message("autoFail.canaryTimeout must be longer than duration (default 10m)").field_path(".autoFail.canaryTimeout")
)]
pub struct Canary {
    /// Number (or percentage of nodes) of canary pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::int_or_percent", extend("default" = 1))]
    pub replicas: Option<IntOrString>,
    /// How long the canary runs before it is promoted (auto mode; default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    /// How long the canary pods must run without a restart before promotion (auto mode;
    /// default 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_restarts_duration: Option<Duration>,
    /// `auto` promotes after `duration`; `manual` waits for `kubectl eds canary validate`.
    /// Default: the controller's `EDS_VALIDATION_MODE`, else `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_mode: Option<ValidationMode>,
    /// Nodes eligible to run canary pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<LabelSelector>,
    /// Node label keys whose values the canary pods are spread over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_anti_affinity_keys: Option<Vec<String>>,
    /// When to pause the canary automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = {}))]
    pub auto_pause: Option<AutoPause>,
    /// When to fail the canary automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = {}))]
    pub auto_fail: Option<AutoFail>,
}

/// How a canary is validated.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum ValidationMode {
    /// Promoted when `duration` and `noRestartsDuration` have passed.
    #[default]
    Auto,
    /// Promoted only by the `canary-valid` annotation (`kubectl eds canary validate`).
    Manual,
}

impl std::str::FromStr for ValidationMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "manual" => Ok(Self::Manual),
            other => Err(format!(
                "invalid validation mode {other:?}: expected auto or manual"
            )),
        }
    }
}

/// Automatic pause of the canary.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AutoPause {
    /// Whether the canary pauses automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub enabled: Option<bool>,
    /// Container restarts of a canary pod above which the canary pauses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 2), range(min = 0))]
    pub max_restarts: Option<i32>,
    /// How long a canary pod may take to start (image pull, container creation) before the
    /// canary pauses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_slow_start_duration: Option<Duration>,
}

/// Automatic failure of the canary.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AutoFail {
    /// Whether the canary fails automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub enabled: Option<bool>,
    /// Container restarts of a canary pod above which the canary fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 5), range(min = 0))]
    pub max_restarts: Option<i32>,
    /// How long a canary pod may keep restarting before the canary fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_restarts_duration: Option<Duration>,
    /// Age of the canary after which it fails if it was not promoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_timeout: Option<Duration>,
}

/// Observed state of an ExtendedDaemonSet.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedDaemonSetStatus {
    /// Nodes that should run a pod.
    #[serde(default)]
    pub desired: i32,
    /// Nodes running a pod.
    #[serde(default)]
    pub current: i32,
    /// Nodes running a ready pod.
    #[serde(default)]
    pub ready: i32,
    /// Nodes running an available pod (ready for minReadySeconds).
    #[serde(default)]
    pub available: i32,
    /// Nodes running a pod of the current template.
    #[serde(default)]
    pub up_to_date: i32,
    /// Unresponsive nodes left out of the unavailability budget.
    #[serde(default)]
    pub ignored_unresponsive_nodes: i32,
    /// `Running`, `RollingUpdate Paused`, `Rollout frozen`, `Canary`, `Canary Paused` or
    /// `Canary Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Why the state is what it is (e.g. the canary pause reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Name of the active ExtendedDaemonSetReplicaSet.
    #[serde(default)]
    pub active_replica_set: String,
    /// The canary in progress, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryStatus>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`, `Canary-Paused`, `Canary-Failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::conditions")]
    pub conditions: Vec<Condition>,
    /// `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The template revision whose canary failed; held back until the template changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_revision: Option<RejectedRevision>,
    /// The canary steering annotations present, each with the canary in progress when its
    /// value was first seen: a value applies to that canary only, so the controller never
    /// has to remove the user's annotations (which would fight GitOps tools).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steering: Vec<SteeringRecord>,
}

/// One canary steering annotation (`canary-valid`, `canary-failed`, `canary-paused`,
/// `canary-unpaused`) as the controller first saw its value.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SteeringRecord {
    /// Annotation key.
    pub annotation: String,
    /// Its value.
    pub value: String,
    /// The canary ExtendedDaemonSetReplicaSet the value applies to: the canary in progress
    /// when the value was first seen. Empty when no canary was in progress then, or once
    /// that canary ended: the value then applies to no canary.
    #[serde(default)]
    pub canary: String,
}

/// A canary in progress.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStatus {
    /// Name of the canary ExtendedDaemonSetReplicaSet.
    #[serde(default)]
    pub replica_set: String,
    /// Nodes running a canary pod.
    #[serde(default)]
    pub nodes: Vec<String>,
}

/// A template revision whose canary failed.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RejectedRevision {
    /// Name of the failed ExtendedDaemonSetReplicaSet.
    pub replica_set: String,
    /// Template hash of the failed revision.
    pub template_hash: String,
    /// Why the canary failed (e.g. `MaxRestartsExceeded`, `Manual`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Details of the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the canary failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
}
