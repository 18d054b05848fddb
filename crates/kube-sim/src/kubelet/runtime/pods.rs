//! The pod loop: hands pending pods to [`bind`](super::bind), and writes the status of the
//! pods bound to fake nodes as the pure [`lifecycle`](crate::kubelet::lifecycle) decides
//! (after resolving their ConfigMap and Secret references).

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kube::{
    Api,
    api::{DeleteParams, Patch, Preconditions},
    runtime::reflector::ObjectRef,
};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::{Shared, lock, queue::Key};
use crate::kubelet::{
    lifecycle::{self, Blocks, PodFacts, Step},
    node,
    refs::{self, Found, Source},
};

/// Pods processed at once.
const CONCURRENCY: usize = 64;
/// Retry delay after a failed write (fault injection, conflicts, a flaky API server).
const RETRY: Duration = Duration::from_secs(1);

/// What the kubelet remembers about a pod it admitted.
pub(crate) struct PodRecord {
    admitted_at: Timestamp,
    start_delay: Duration,
    /// Missing references, `None` until resolved; re-resolved while anything is blocked.
    blocks: Option<Blocks>,
}

/// The queue key of a pod.
pub(crate) fn key(pod: &Pod) -> Key {
    (
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}

impl Shared {
    /// Drops what the kubelet remembers of a deleted pod.
    pub(super) fn forget(&self, pod: &Pod) {
        if let Some(uid) = &pod.metadata.uid {
            lock(&self.records).remove(uid);
        }
    }
}

/// Processes queued pods forever.
pub(super) async fn run(shared: Arc<Shared>) {
    loop {
        let batch = shared.queue.next_batch().await;
        futures::stream::iter(batch)
            .for_each_concurrent(CONCURRENCY, |key| {
                let shared = shared.clone();
                async move { process(&shared, key).await }
            })
            .await;
    }
}

async fn process(shared: &Shared, key: Key) {
    let Some(pod) = shared.pods.get(&ObjectRef::new(&key.1).within(&key.0)) else {
        return;
    };
    let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    let result = match node_name {
        None => super::bind::schedule(shared, &pod, &key).await,
        Some(node) if shared.node(&node).is_some() => kubelet(shared, &pod, &node, &key).await,
        Some(node) if shared.was_removed(&node) => collect(shared, &key).await,
        Some(_) => Ok(()),
    };
    if let Err(error) = result {
        tracing::debug!(pod = %format!("{}/{}", key.0, key.1), %error, "sim kubelet: write failed; retrying");
        shared
            .queue
            .wake_at(key, lifecycle::container::after(Timestamp::now(), RETRY));
    }
}

/// Force-deletes a pod bound to a node that is gone (a writer whose cache still had the node
/// created it after the node's pods were deleted), as kube-controller-manager's pod garbage
/// collector does.
async fn collect(shared: &Shared, key: &Key) -> Result<(), kube::Error> {
    let api: Api<Pod> = Api::namespaced(shared.client.clone(), &key.0);
    match api
        .delete(&key.1, &DeleteParams::default().grace_period(0))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

async fn kubelet(
    shared: &Shared,
    pod: &Pod,
    node_name: &str,
    key: &Key,
) -> Result<(), kube::Error> {
    let now = Timestamp::now();
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let fake = shared
        .node(node_name)
        .unwrap_or_else(|| crate::kubelet::FakeNode::new(node_name));
    let deleting = pod.metadata.deletion_timestamp.is_some();
    let (admitted_at, start_delay, blocks) = {
        let mut records = lock(&shared.records);
        // A pod admitted before (by an earlier run of the simulator) keeps its timeline: its
        // start time is when it was admitted.
        let started = pod
            .status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0);
        let record = records.entry(uid.clone()).or_insert_with(|| PodRecord {
            admitted_at: started.filter(|t| *t <= now).unwrap_or(now),
            start_delay: start_delay(&shared.config, &uid),
            blocks: None,
        });
        (
            record.admitted_at,
            record.start_delay,
            record.blocks.clone(),
        )
    };
    let blocks = match blocks {
        Some(b) if b == Blocks::default() => b,
        _ if deleting || !fake.ready => blocks.unwrap_or_default(),
        _ => {
            let resolved = resolve(shared, pod, &key.0).await?;
            if let Some(record) = lock(&shared.records).get_mut(&uid) {
                record.blocks = Some(resolved.clone());
            }
            resolved
        }
    };
    let host_ip = node::node_ip(node_name);
    let pod_ip = node::pod_ip(node_name, &uid);
    let facts = PodFacts {
        admitted_at,
        start_delay,
        timing: shared.config.timing(),
        node_ready: fake.ready,
        blocks: &blocks,
        host_ip: &host_ip,
        pod_ip: &pod_ip,
    };
    let request = super::pod_request(&key.0);
    match lifecycle::next_status(pod, &facts, now) {
        Step::Delete => {
            let params = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: Some(uid),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            match super::send_pod_write(&shared.client, request.delete(&key.1, &params)).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
                Err(e) => Err(e),
            }
        }
        Step::Status { status, wake_at } => {
            let current = serde_json::to_value(&pod.status).unwrap_or(Value::Null);
            let desired = serde_json::to_value(&status).unwrap_or(Value::Null);
            if let Some(patch) = status_patch(&current, desired) {
                let patch = Patch::Merge(json!({"status": patch}));
                let write =
                    request.patch_subresource("status", &key.1, &super::patch_params(), &patch);
                super::send_pod_write(&shared.client, write).await?;
            }
            if let Some(at) = wake_at {
                shared.queue.wake_at(key.clone(), at);
            }
            Ok(())
        }
    }
}

/// A merge patch taking `current` to `desired` (top-level fields `desired` lacks are removed;
/// lists and nested objects are replaced whole), or `None` when nothing would change.
fn status_patch(current: &Value, desired: Value) -> Option<Value> {
    let Value::Object(mut patch) = desired else {
        return None;
    };
    let empty = serde_json::Map::new();
    let current_map = current.as_object().unwrap_or(&empty);
    for key in current_map.keys() {
        patch.entry(key.clone()).or_insert(Value::Null);
    }
    let unchanged = patch.iter().all(|(k, v)| match (current_map.get(k), v) {
        (None, Value::Null) => true,
        (Some(c), v) => c == v,
        (None, _) => false,
    });
    (!unchanged).then_some(Value::Object(patch))
}

/// Looks up the ConfigMaps and Secrets the pod references.
async fn resolve(shared: &Shared, pod: &Pod, namespace: &str) -> Result<Blocks, kube::Error> {
    let references = refs::references(pod);
    let mut found = Found::new();
    for r in &references {
        let id = (r.source, r.name.clone());
        if found.contains_key(&id) {
            continue;
        }
        let keys = match r.source {
            Source::ConfigMap => {
                let api: Api<ConfigMap> = Api::namespaced(shared.client.clone(), namespace);
                api.get_opt(&r.name).await?.map(|cm| {
                    let data = cm.data.unwrap_or_default().into_keys();
                    data.chain(cm.binary_data.unwrap_or_default().into_keys())
                        .collect()
                })
            }
            Source::Secret => {
                let api: Api<Secret> = Api::namespaced(shared.client.clone(), namespace);
                api.get_opt(&r.name).await?.map(|s| {
                    let data = s.data.unwrap_or_default().into_keys();
                    data.chain(s.string_data.unwrap_or_default().into_keys())
                        .collect()
                })
            }
        };
        if let Some(keys) = keys {
            found.insert(id, keys);
        }
    }
    Ok(refs::blocks(namespace, &references, &found))
}

/// The pod's start delay: the configured delay plus a jitter drawn from an RNG seeded with the
/// configured seed and the pod uid, so a pod gets the same delay however events interleave.
fn start_delay(config: &crate::kubelet::KubeletConfig, uid: &str) -> Duration {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for byte in uid.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.seed ^ hash);
    let jitter = config.jitter.clamp(0.0, 10.0) * rng.random::<f64>();
    config.start_delay.mul_f64(1.0 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_patch_removes_stale_fields_and_skips_no_ops() {
        let current = json!({"phase": "Pending", "message": "old", "qosClass": "BestEffort"});
        let desired = json!({"phase": "Running", "qosClass": "BestEffort"});
        assert_eq!(
            status_patch(&current, desired),
            Some(json!({"phase": "Running", "message": null, "qosClass": "BestEffort"}))
        );
        assert_eq!(status_patch(&current, current.clone()), None);
        assert!(status_patch(&Value::Null, json!({"phase": "Pending"})).is_some());
    }

    #[test]
    fn start_delay_is_seeded_and_bounded() {
        let config = crate::kubelet::KubeletConfig::default();
        let a = start_delay(&config, "uid-a");
        assert_eq!(a, start_delay(&config, "uid-a"));
        assert_ne!(a, start_delay(&config, "uid-b"));
        assert!(a >= config.start_delay && a <= config.start_delay.mul_f64(1.2));
        let other_seed = crate::kubelet::KubeletConfig {
            seed: 7,
            ..config.clone()
        };
        assert_ne!(a, start_delay(&other_seed, "uid-a"));
    }
}
