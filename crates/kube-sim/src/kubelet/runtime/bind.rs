//! The scheduler side of the pod loop: binds a pending pod through `pods/binding`, or marks it
//! `PodScheduled=False`/`Unschedulable`, as the pure [`scheduler`] decides.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::{
    api::core::v1::{Node, Pod, PodCondition},
    apimachinery::pkg::apis::meta::v1::Time,
};
use kube::{Api, ResourceExt, api::Patch, runtime::reflector::ObjectRef};
use serde_json::json;

use super::{Shared, queue::Key};
use crate::kubelet::{
    FAKE_NODE_LABEL,
    lifecycle::container::after,
    scheduler::{self, Candidates, Placement},
};

/// How often an unschedulable pod is retried without any node change.
const UNSCHEDULABLE_RETRY: Duration = Duration::from_secs(10);

/// Binds `pod` to a fitting fake node, or records why none fits.
pub(super) async fn schedule(shared: &Shared, pod: &Pod, key: &Key) -> Result<(), kube::Error> {
    let spec = pod.spec.clone().unwrap_or_default();
    let scheduler_name = spec
        .scheduler_name
        .as_deref()
        .unwrap_or("default-scheduler");
    if pod.metadata.deletion_timestamp.is_some() || scheduler_name != "default-scheduler" {
        return Ok(());
    }
    let is_fake = |n: &Node| n.labels().get(FAKE_NODE_LABEL).is_some_and(|v| v == "true");
    // Only the candidate nodes are read (and cloned) from the cache: pinned pods name one.
    let nodes: Vec<Node> = match scheduler::candidates(pod, shared.config.schedule_unpinned) {
        Candidates::NotOurs => return Ok(()),
        Candidates::Named(names) => names
            .iter()
            .filter(|name| shared.node(name).is_some())
            .filter_map(|name| shared.node_store.get(&ObjectRef::new(name)))
            .filter(|n| is_fake(n))
            .map(|n| (*n).clone())
            .collect(),
        Candidates::All => shared
            .node_store
            .state()
            .iter()
            .filter(|n| {
                n.metadata
                    .name
                    .as_ref()
                    .is_some_and(|name| shared.node(name).is_some())
            })
            .filter(|n| is_fake(n))
            .map(|n| (**n).clone())
            .collect(),
    };
    let api: Api<Pod> = Api::namespaced(shared.client.clone(), &key.0);
    match scheduler::place(pod, &nodes, shared.node_count()) {
        Placement::NotOurs => Ok(()),
        Placement::Bind(node) => {
            let binding = json!({
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": key.1, "namespace": key.0},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node},
            });
            let body = serde_json::to_vec(&binding).unwrap_or_default();
            let request = super::pod_request(&key.0).create_subresource(
                "binding",
                &key.1,
                &super::post_params(),
                body,
            );
            super::send_pod_write(&shared.client, request).await
        }
        Placement::Unschedulable(message) => {
            let status = pod.status.clone().unwrap_or_default();
            let mut conditions = status.conditions.clone().unwrap_or_default();
            let current = conditions.iter().find(|c| c.type_ == "PodScheduled");
            let same = current.is_some_and(|c| {
                c.status == "False"
                    && c.reason.as_deref() == Some("Unschedulable")
                    && c.message.as_deref() == Some(message.as_str())
            });
            shared
                .queue
                .wake_at(key.clone(), after(Timestamp::now(), UNSCHEDULABLE_RETRY));
            if same {
                return Ok(());
            }
            let transition = current
                .filter(|c| c.status == "False")
                .and_then(|c| c.last_transition_time.clone())
                .unwrap_or(Time(Timestamp::now()));
            conditions.retain(|c| c.type_ != "PodScheduled");
            conditions.push(PodCondition {
                type_: "PodScheduled".into(),
                status: "False".into(),
                reason: Some("Unschedulable".into()),
                message: Some(message),
                last_transition_time: Some(transition),
                ..PodCondition::default()
            });
            let patch = json!({"status": {"conditions": conditions}});
            api.patch_status(&key.1, &super::patch_params(), &Patch::Merge(patch))
                .await
                .map(|_| ())
        }
    }
}
