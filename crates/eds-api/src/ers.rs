//! The ExtendedDaemonSetReplicaSet kind: one per template revision of an ExtendedDaemonSet.
// kube-derive takes one `printcolumn(...)` per column; clippy reads the repeated keys inside
// them as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::{
    api::core::v1::PodTemplateSpec, apimachinery::pkg::apis::meta::v1::LabelSelector,
};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Condition, schema};

/// One template revision of an ExtendedDaemonSet; owns the pods of that revision.
#[derive(CustomResource, JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "datadoghq.com",
    version = "v1alpha1",
    kind = "ExtendedDaemonSetReplicaSet",
    namespaced,
    status = "ExtendedDaemonSetReplicaSetStatus",
    shortname = "ers",
    derive = "PartialEq",
    doc = "ExtendedDaemonSetReplicaSet is one template revision of an ExtendedDaemonSet and owns the pods of that revision.",
    printcolumn(name = "Status", type_ = "string", json_path = ".status.status"),
    printcolumn(name = "Desired", type_ = "integer", json_path = ".status.desired"),
    printcolumn(name = "Current", type_ = "integer", json_path = ".status.current"),
    printcolumn(name = "Ready", type_ = "integer", json_path = ".status.ready"),
    printcolumn(name = "Available", type_ = "integer", json_path = ".status.available"),
    printcolumn(
        name = "Ignored Unresponsive Nodes",
        type_ = "integer",
        json_path = ".status.ignoredUnresponsiveNodes"
    ),
    printcolumn(
        name = "Node Selector",
        type_ = "string",
        json_path = ".spec.selector.matchLabels"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedDaemonSetReplicaSetSpec {
    /// Node label selector, copied from the ExtendedDaemonSet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Pod template of this revision.
    #[schemars(schema_with = "schema::pod_template")]
    pub template: PodTemplateSpec,
    /// Hash of the template (the revision's identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_generation: Option<String>,
}

/// Observed state of an ExtendedDaemonSetReplicaSet.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedDaemonSetReplicaSetStatus {
    /// `active`, `canary`, `canary-failed` or `unknown`.
    #[serde(default)]
    pub status: String,
    /// Nodes this revision should run a pod on.
    #[serde(default)]
    pub desired: i32,
    /// Pods of this revision.
    #[serde(default)]
    pub current: i32,
    /// Ready pods of this revision.
    #[serde(default)]
    pub ready: i32,
    /// Available pods of this revision.
    #[serde(default)]
    pub available: i32,
    /// Unresponsive nodes left out of the unavailability budget.
    #[serde(default)]
    pub ignored_unresponsive_nodes: i32,
    /// Upstream condition types (Active, Canary, PodCreation, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::conditions")]
    pub conditions: Vec<Condition>,
}
