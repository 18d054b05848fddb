//! The ExtendedDaemonsetSetting kind (lowercase "set", as upstream): per-node-group container
// kube-derive takes one `printcolumn(...)` per column; clippy reads the repeated keys inside
// them as duplicated attributes.
#![allow(clippy::duplicated_attributes)]
//! resources for the pods of one ExtendedDaemonSet.

use k8s_openapi::{
    api::{autoscaling::v1::CrossVersionObjectReference, core::v1::ResourceRequirements},
    apimachinery::pkg::apis::meta::v1::LabelSelector,
};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Container resources used by the pods of an ExtendedDaemonSet on the nodes matching
/// `nodeSelector`.
#[derive(CustomResource, JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "datadoghq.com",
    version = "v1alpha1",
    kind = "ExtendedDaemonsetSetting",
    namespaced,
    status = "ExtendedDaemonsetSettingStatus",
    shortname = "edss",
    derive = "PartialEq",
    doc = "ExtendedDaemonsetSetting overrides the container resources of an ExtendedDaemonSet's pods on the nodes matching its nodeSelector.",
    printcolumn(name = "Status", type_ = "string", json_path = ".status.status"),
    printcolumn(
        name = "Node Selector",
        type_ = "string",
        json_path = ".spec.nodeSelector"
    ),
    printcolumn(name = "Error", type_ = "string", json_path = ".status.error"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedDaemonsetSettingSpec {
    /// The ExtendedDaemonSet this Setting applies to (only `name` is used).
    pub reference: CrossVersionObjectReference,
    /// Nodes on which this Setting applies.
    pub node_selector: LabelSelector,
    /// Container resources to use, by container name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<ExtendedDaemonsetSettingContainerSpec>,
}

/// Resources of one container.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedDaemonsetSettingContainerSpec {
    /// Container name in the pod template.
    pub name: String,
    /// Resources replacing the template's for that container.
    #[serde(default)]
    pub resources: ResourceRequirements,
}

/// Observed state of an ExtendedDaemonsetSetting.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedDaemonsetSettingStatus {
    /// `valid` or `error`.
    #[serde(default)]
    pub status: String,
    /// Why the Setting is in error (e.g. a conflict with another Setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
