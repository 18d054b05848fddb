//! The pod as the simulator's pod watch decodes it: every field but `metadata.managedFields`,
//! which the kubelet never reads and which is most of the decoding of a watch event (each
//! entry's `fieldsV1` becomes a tree of JSON values).

use std::collections::BTreeMap;

use k8s_openapi::{
    Metadata, Resource,
    api::core::v1::{Pod, PodSpec, PodStatus},
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time},
};
use kube::runtime::watcher;
use serde::{Deserialize, Deserializer};

/// A pod decoded without its managedFields; [`WatchedPod::into_pod`] gives the pod.
#[derive(Clone, Debug)]
pub(super) struct WatchedPod(Pod);

impl WatchedPod {
    pub(super) fn into_pod(self) -> Pod {
        self.0
    }
}

impl Resource for WatchedPod {
    const API_VERSION: &'static str = Pod::API_VERSION;
    const GROUP: &'static str = Pod::GROUP;
    const KIND: &'static str = Pod::KIND;
    const VERSION: &'static str = Pod::VERSION;
    const URL_PATH_SEGMENT: &'static str = Pod::URL_PATH_SEGMENT;
    type Scope = <Pod as Resource>::Scope;
}

impl Metadata for WatchedPod {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.0.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.0.metadata
    }
}

/// The fields of a pod; `apiVersion`, `kind` and unknown fields are skipped.
#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    metadata: WireMeta,
    spec: Option<PodSpec>,
    status: Option<PodStatus>,
}

/// Every field of `ObjectMeta` but `managedFields` (skipped as an unknown field).
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMeta {
    annotations: Option<BTreeMap<String, String>>,
    creation_timestamp: Option<Time>,
    deletion_grace_period_seconds: Option<i64>,
    deletion_timestamp: Option<Time>,
    finalizers: Option<Vec<String>>,
    generate_name: Option<String>,
    generation: Option<i64>,
    labels: Option<BTreeMap<String, String>>,
    name: Option<String>,
    namespace: Option<String>,
    owner_references: Option<Vec<OwnerReference>>,
    resource_version: Option<String>,
    self_link: Option<String>,
    uid: Option<String>,
}

impl<'de> Deserialize<'de> for WatchedPod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Wire {
            metadata: m,
            spec,
            status,
        } = Wire::deserialize(d)?;
        let metadata = ObjectMeta {
            annotations: m.annotations,
            creation_timestamp: m.creation_timestamp,
            deletion_grace_period_seconds: m.deletion_grace_period_seconds,
            deletion_timestamp: m.deletion_timestamp,
            finalizers: m.finalizers,
            generate_name: m.generate_name,
            generation: m.generation,
            labels: m.labels,
            managed_fields: None,
            name: m.name,
            namespace: m.namespace,
            owner_references: m.owner_references,
            resource_version: m.resource_version,
            self_link: m.self_link,
            uid: m.uid,
        };
        Ok(WatchedPod(Pod {
            metadata,
            spec,
            status,
        }))
    }
}

/// The same watch event with the pod.
pub(super) fn into_pod_event(event: watcher::Event<WatchedPod>) -> watcher::Event<Pod> {
    match event {
        watcher::Event::Apply(p) => watcher::Event::Apply(p.into_pod()),
        watcher::Event::Delete(p) => watcher::Event::Delete(p.into_pod()),
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(p) => watcher::Event::InitApply(p.into_pod()),
        watcher::Event::InitDone => watcher::Event::InitDone,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn decodes_the_pod_but_its_managed_fields() {
        let mut body = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "p", "namespace": "ns", "uid": "u", "resourceVersion": "7",
                "generateName": "p-", "generation": 1, "selfLink": "/x",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "deletionTimestamp": "2026-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30,
                "labels": {"app": "a"}, "annotations": {"k": "v"}, "finalizers": ["f"],
                "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "ou",
                                     "controller": true}],
                "managedFields": [{"manager": "m", "operation": "Update", "apiVersion": "v1",
                                   "fieldsV1": {"f:spec": {"f:nodeName": {}}}}],
            },
            "spec": {"nodeName": "n", "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        });
        let watched: WatchedPod = serde_json::from_value(body.clone()).unwrap();
        let full: Pod = serde_json::from_value(body.clone()).unwrap();
        assert!(full.metadata.managed_fields.is_some());
        body["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        let without: Pod = serde_json::from_value(body).unwrap();
        assert_eq!(watched.into_pod(), without);
        assert_ne!(without, full);
    }
}
