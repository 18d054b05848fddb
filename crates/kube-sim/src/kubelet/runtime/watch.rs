//! Watches (pods, fake nodes) feeding the work queue, and node lease heartbeats.

use std::sync::{Arc, atomic::Ordering};

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
use tokio::time::{Instant, MissedTickBehavior};

use lean_objects::Lean;

use super::{LEASE_NAMESPACE, Shared, pods};
use crate::kubelet::FAKE_NODE_LABEL;

/// Lease duration a real kubelet uses (it renews every quarter of it, 10 s: the default
/// heartbeat interval).
const LEASE_SECONDS: i32 = 40;
/// Lease renewals in flight at once, at most.
const LEASE_CONCURRENCY: usize = 16;

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

/// Renews the lease of every fake node in `kube-node-lease` once per heartbeat interval, as
/// a kubelet does, so that a real node lifecycle controller does not mark the fake nodes
/// unreachable. A cycle spreads the nodes' renewals evenly over the interval, with at most
/// [`LEASE_CONCURRENCY`] requests in flight; a cycle that overruns the interval (a loaded API
/// server) is followed by the next one at once, never by a burst of missed cycles. The leases
/// themselves are created when the nodes register ([`create_lease`]).
pub(super) async fn heartbeats(shared: Arc<Shared>) {
    let period = shared.config.heartbeat_interval;
    let leases: Api<Lease> = Api::namespaced(shared.client.clone(), LEASE_NAMESPACE);
    // The nodes registered just now wrote their leases: the first renewals are due one
    // interval later.
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // Not the tick's deadline, which lies in the past after an overrun.
        let cycle = Instant::now();
        let names = shared.node_names();
        let count = names.len().max(1) as f64;
        futures::stream::iter(names.into_iter().enumerate())
            .map(|(i, name)| {
                let (shared, leases) = (&shared, &leases);
                async move {
                    tokio::time::sleep_until(cycle + period.mul_f64(i as f64 / count)).await;
                    if let Err(error) = renew(shared, leases, &name).await {
                        tracing::warn!(node = %name, %error, "sim kubelet: lease renewal failed");
                    }
                }
            })
            .buffer_unordered(LEASE_CONCURRENCY)
            .for_each(|()| async {})
            .await;
    }
}

/// Creates the `kube-node-lease` namespace, which real clusters already have.
pub(super) async fn ensure_lease_namespace(client: &kube::Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(LEASE_NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    // Exists on real clusters; an error here shows again on the lease writes.
    let _ = namespaces.create(&super::post_params(), &namespace).await;
}

/// The lease of node `name` (owned by the Node of `uid`), renewed `now`.
fn lease_object(name: &str, uid: Option<String>, now: MicroTime) -> Lease {
    let owner = uid.map(|uid| OwnerReference {
        api_version: "v1".into(),
        kind: "Node".into(),
        name: name.to_string(),
        uid,
        ..OwnerReference::default()
    });
    Lease {
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
    }
}

/// Creates the lease of a node that just registered (the Node of `uid`), or takes over the
/// one a previous run left.
pub(super) async fn create_lease(
    client: &kube::Client,
    name: &str,
    uid: Option<String>,
) -> Result<(), kube::Error> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let lease = lease_object(name, uid, MicroTime(Timestamp::now()));
    match leases.create(&super::post_params(), &lease).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let patch = serde_json::to_value(&lease).unwrap_or_default();
            leases
                .patch(name, &super::patch_params(), &Patch::Merge(patch))
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    }
}

async fn renew(shared: &Shared, leases: &Api<Lease>, name: &str) -> Result<(), kube::Error> {
    // A node removed since the cycle started keeps no lease.
    let Some(uid) = shared.node_uid(name) else {
        return Ok(());
    };
    let now = MicroTime(Timestamp::now());
    let patch = json!({"spec": {"renewTime": now}});
    match leases
        .patch(name, &super::patch_params(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => {}
        // Deleted by someone else: a kubelet creates it again.
        Err(kube::Error::Api(s)) if s.code == 404 => {
            leases
                .create(&super::post_params(), &lease_object(name, Some(uid), now))
                .await?;
        }
        Err(e) => return Err(e),
    }
    shared.renewals.fetch_add(1, Ordering::Relaxed);
    Ok(())
}
