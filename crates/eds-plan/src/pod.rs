//! Construction of the pod an ERS runs on one node.
//!
//! Kept from upstream: the template's labels plus the EDS and ERS name labels (and the canary
//! label on canary pods, and the Setting labels); the template's annotations plus `templatehash`,
//! `nodehash` (when the node overrides resources) and the cluster-autoscaler `daemonset-pod`
//! marker; the DaemonSet default tolerations; resources from the Setting, then from the node
//! annotations; an owner reference to the ERS. We differ: the name is deterministic,
//! `<ers>-<hash of the node name>` (a create is idempotent), and the pod is pinned with a
//! `metadata.name` node-affinity field merged into every required term.

use k8s_openapi::{
    api::core::v1::{Pod, PodTemplateSpec, Toleration},
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
};
use kube::Resource;

use super::{digest::PodDigest, placement::pin_to_node, settings::NodeOverrides};
use eds_api::{ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting, constants::keys};

/// Everything that shapes one pod.
pub struct PodSpecInputs<'a> {
    /// Pod name (see `revision::pod_name`).
    pub name: String,
    /// Namespace of the ExtendedDaemonSet.
    pub namespace: &'a str,
    /// ExtendedDaemonSet name.
    pub eds: &'a str,
    /// The owning ERS (must exist: its uid goes in the owner reference).
    pub ers: &'a ExtendedDaemonSetReplicaSet,
    /// Template hash of the ERS's revision.
    pub template_hash: &'a str,
    /// Node to pin the pod to.
    pub node: &'a str,
    /// Whether it is a canary pod.
    pub canary: bool,
    /// The Setting that applies on the node, with its hash.
    pub setting: Option<(&'a ExtendedDaemonsetSetting, &'a str)>,
    /// Node annotation overrides.
    pub overrides: &'a NodeOverrides,
    /// Tolerations: the template's plus the DaemonSet defaults.
    pub tolerations: &'a [Toleration],
}

/// Builds the full desired pod.
pub fn build_pod(inputs: &PodSpecInputs<'_>) -> Pod {
    let mut pod = build_unpinned(inputs);
    pin(&mut pod, &inputs.name, inputs.node);
    pod
}

/// Names the pod `name` and pins it to `node`: what [`build_pod`] adds to
/// [`build_unpinned`]. Every pod of one ERS, canary flag and Setting on a node without
/// resource overrides is the same pod up to this: a plan creating hundreds of them builds
/// that pod once and copies it.
pub fn pin(pod: &mut Pod, name: &str, node: &str) {
    pod.metadata.name = Some(name.to_string());
    if let Some(spec) = pod.spec.as_mut() {
        spec.affinity = Some(pin_to_node(spec.affinity.take(), node));
    }
}

/// The pod [`build_pod`] builds, without its name and node pinning (see [`pin`]).
pub fn build_unpinned(inputs: &PodSpecInputs<'_>) -> Pod {
    let template: &PodTemplateSpec = &inputs.ers.spec.template;
    let meta = template.metadata.clone().unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    labels.insert(keys::EDS_NAME_LABEL.into(), inputs.eds.into());
    labels.insert(
        keys::ERS_NAME_LABEL.into(),
        inputs.ers.metadata.name.clone().unwrap_or_default(),
    );
    if inputs.canary {
        labels.insert(keys::CANARY_LABEL.into(), keys::CANARY_LABEL_VALUE.into());
    }
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(
        keys::TEMPLATE_HASH_ANNOTATION.into(),
        inputs.template_hash.into(),
    );
    annotations.insert(
        keys::AUTOSCALER_DAEMONSET_POD_ANNOTATION.into(),
        "true".into(),
    );
    let mut spec = template.spec.clone().unwrap_or_default();
    if let Some((setting, hash)) = inputs.setting {
        labels.insert(
            keys::SETTING_NAME_LABEL.into(),
            setting.metadata.name.clone().unwrap_or_default(),
        );
        labels.insert(
            keys::SETTING_NAMESPACE_LABEL.into(),
            setting.metadata.namespace.clone().unwrap_or_default(),
        );
        annotations.insert(keys::SETTING_HASH_ANNOTATION.into(), hash.into());
        for over in &setting.spec.containers {
            if let Some(c) = spec.containers.iter_mut().find(|c| c.name == over.name) {
                c.resources = Some(over.resources.clone());
            }
        }
    }
    for (container, resources) in &inputs.overrides.resources {
        if let Some(c) = spec.containers.iter_mut().find(|c| &c.name == container) {
            c.resources = Some(resources.clone());
        }
    }
    if let Some(hash) = &inputs.overrides.hash {
        annotations.insert(keys::NODE_HASH_ANNOTATION.into(), hash.clone());
    }
    spec.tolerations = Some(inputs.tolerations.to_vec());
    Pod {
        metadata: ObjectMeta {
            namespace: Some(inputs.namespace.to_string()),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref(inputs.ers)]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// A controller owner reference to `owner`.
pub fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    let meta = owner.meta();
    OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The labels and annotations the planner reads on every pod (kept in its [`PodDigest`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodMarks<'p> {
    /// The ERS name label.
    pub ers: Option<&'p str>,
    /// The Setting name label.
    pub setting: Option<&'p str>,
    /// The `settinghash` annotation.
    pub setting_hash: Option<&'p str>,
    /// The `nodehash` annotation.
    pub node_hash: Option<&'p str>,
}

impl<'p> PodMarks<'p> {
    /// The marks of a pod, from its digest.
    pub fn of(pod: &'p PodDigest) -> Self {
        Self {
            ers: pod.ers_label(),
            setting: pod.setting_label(),
            setting_hash: pod.setting_hash(),
            node_hash: pod.node_hash(),
        }
    }

    /// Whether the pod was made for the Setting (`(name, hash)`) and the override hash of its
    /// node: same Setting name label, same `settinghash` (a pod made by the upstream controller
    /// has none and matches a Setting of the same name), same `nodehash`.
    pub fn fit(&self, setting: Option<(&str, &str)>, node_hash: Option<&str>) -> bool {
        let setting_ok = match setting {
            None => self.setting.is_none(),
            Some((name, hash)) => {
                self.setting == Some(name) && self.setting_hash.is_none_or(|h| h == hash)
            }
        };
        setting_ok && self.node_hash == node_hash
    }
}
