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

use super::{placement::pin_to_node, settings::NodeOverrides};
use crate::api::{ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting, constants::keys};

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
    spec.affinity = Some(pin_to_node(spec.affinity.take(), inputs.node));
    Pod {
        metadata: ObjectMeta {
            name: Some(inputs.name.clone()),
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

/// Whether `pod` matches the Setting (`(name, hash)`) and the override hash of its node: same
/// Setting name label, same `settinghash` (a pod made by the upstream controller has none and
/// matches a Setting of the same name), same `nodehash`. Only the keys that can differ are read
/// (most nodes have neither Setting nor override).
pub fn pod_matches(pod: &Pod, setting: Option<(&str, &str)>, node_hash: Option<&str>) -> bool {
    let labels = pod.metadata.labels.as_ref();
    let annotations = pod.metadata.annotations.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    let annotation = |k: &str| annotations.and_then(|a| a.get(k)).map(String::as_str);
    let setting_ok = match setting {
        None => label(keys::SETTING_NAME_LABEL).is_none(),
        Some((name, hash)) => {
            label(keys::SETTING_NAME_LABEL) == Some(name)
                && annotation(keys::SETTING_HASH_ANNOTATION).is_none_or(|h| h == hash)
        }
    };
    setting_ok && annotation(keys::NODE_HASH_ANNOTATION) == node_hash
}
