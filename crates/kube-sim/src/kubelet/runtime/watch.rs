//! Watches (pods, fake nodes) feeding the work queue, and node lease heartbeats.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use k8s_openapi::{
    api::{
        coordination::v1::{Lease, LeaseSpec},
        core::v1::{Namespace, Node, Pod},
    },
    apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference},
};
use kube::{
    Api,
    api::Patch,
    runtime::{
        WatchStreamExt,
        reflector::{self, store::Writer},
        watcher,
    },
};
use serde_json::json;

use lean_objects::Lean;

use super::{LEASE_NAMESPACE, Shared, pods};
use crate::kubelet::FAKE_NODE_LABEL;

/// Lease duration a real kubelet uses.
const LEASE_SECONDS: i32 = 40;

/// Keeps the pod store current and queues every changed pod (pods decoded without their
/// managedFields, which the kubelet never reads, see [`Lean`]).
pub(super) async fn pods(shared: Arc<Shared>, writer: Writer<Pod>) {
    let api: Api<Lean<Pod>> = Api::all(shared.client.clone());
    let events = watcher(api, watcher::Config::default()).map_ok(lean_objects::inner_event);
    let stream = reflector::reflector(writer, events).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => {
                shared.queue.mark(pods::key(&pod));
            }
            Ok(watcher::Event::Delete(pod)) => shared.forget(&pod),
            Ok(watcher::Event::Init | watcher::Event::InitDone) => {}
            Err(error) => tracing::warn!(%error, "sim kubelet: pod watch failed; retrying"),
        }
    }
}

/// Keeps the store of fake nodes current; a node change may affect its pods and every
/// unbound pod.
pub(super) async fn nodes(shared: Arc<Shared>, writer: Writer<Node>) {
    let api: Api<Lean<Node>> = Api::all(shared.client.clone());
    let config = watcher::Config::default().labels(&format!("{FAKE_NODE_LABEL}=true"));
    let events = watcher(api, config).map_ok(lean_objects::inner_event);
    let stream = reflector::reflector(writer, events).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Apply(node) | watcher::Event::Delete(node)) => {
                shared.mark_pods(node.metadata.name.as_deref());
            }
            Ok(watcher::Event::InitDone) => shared.mark_pods(None),
            Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => {}
            Err(error) => tracing::warn!(%error, "sim kubelet: node watch failed; retrying"),
        }
    }
}

/// Renews a lease per fake node in `kube-node-lease`, as a kubelet does, so that a real node
/// lifecycle controller does not mark the fake nodes unreachable.
pub(super) async fn heartbeats(shared: Arc<Shared>) {
    let namespaces: Api<Namespace> = Api::all(shared.client.clone());
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(LEASE_NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    // Exists on real clusters; an error here shows again on the lease writes.
    let _ = namespaces.create(&super::post_params(), &namespace).await;
    let leases: Api<Lease> = Api::namespaced(shared.client.clone(), LEASE_NAMESPACE);
    let mut interval = tokio::time::interval(shared.config.heartbeat_interval);
    loop {
        interval.tick().await;
        for name in shared.node_names() {
            if let Err(error) = renew(&shared, &leases, &name).await {
                tracing::warn!(node = %name, %error, "sim kubelet: lease renewal failed");
            }
        }
    }
}

async fn renew(shared: &Shared, leases: &Api<Lease>, name: &str) -> Result<(), kube::Error> {
    let now = MicroTime(Timestamp::now());
    let patch = json!({"spec": {"renewTime": now}});
    match leases
        .patch(name, &super::patch_params(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            let owner = shared.node_uid(name).map(|uid| OwnerReference {
                api_version: "v1".into(),
                kind: "Node".into(),
                name: name.to_string(),
                uid,
                ..OwnerReference::default()
            });
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.to_string()),
                    namespace: Some(LEASE_NAMESPACE.into()),
                    owner_references: owner.map(|o| vec![o]),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(name.to_string()),
                    lease_duration_seconds: Some(LEASE_SECONDS),
                    renew_time: Some(now),
                    ..LeaseSpec::default()
                }),
            };
            leases
                .create(&super::post_params(), &lease)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    }
}
