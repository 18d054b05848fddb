//! Node leases of the kubelet simulator on the embedded API server: every fake node has its
//! Lease as soon as it is registered, and with a slow API server the renewals of many nodes
//! still keep up with the heartbeat interval (bounded concurrency), without bursts.

use std::time::Duration;

use k8s_openapi::api::{coordination::v1::Lease, core::v1::Node};
use kube::{Api, ResourceExt};
use kube_sim::{
    apiserver::{Config, SimApiServer},
    kubelet::{FakeNode, KubeletConfig, SimKubelet},
};

const LEASE_NAMESPACE: &str = "kube-node-lease";

/// Checks that `name` has the lease a kubelet writes: held by the node, 40 s, renewed, owned
/// by its Node.
async fn assert_lease(client: &kube::Client, name: &str) {
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let nodes: Api<Node> = Api::all(client.clone());
    let lease = leases
        .get_opt(name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("node {name} has no lease right after its registration"));
    let spec = lease.spec.clone().unwrap_or_default();
    assert_eq!(spec.holder_identity.as_deref(), Some(name));
    assert_eq!(spec.lease_duration_seconds, Some(40));
    assert!(spec.renew_time.is_some(), "lease of {name}: no renewTime");
    let node = nodes.get(name).await.unwrap();
    let owners = lease.owner_references();
    assert_eq!(owners.len(), 1, "lease of {name}: owners {owners:?}");
    assert_eq!(owners[0].kind, "Node");
    assert_eq!(Some(&owners[0].uid), node.metadata.uid.as_ref());
}

#[tokio::test]
async fn every_node_has_a_lease_right_after_registration() {
    let server = SimApiServer::start(Config::default()).await.unwrap();
    let client = server.client().unwrap();
    // No renewal during the test: every lease there was written by the registration.
    let config = KubeletConfig {
        heartbeat_interval: Duration::from_secs(3600),
        ..KubeletConfig::with_nodes("lease", 40)
    };
    let kubelet = SimKubelet::start(client.clone(), config).await.unwrap();
    for name in kubelet.node_names() {
        assert_lease(&client, &name).await;
    }
    kubelet.add_node(FakeNode::new("lease-late")).await.unwrap();
    assert_lease(&client, "lease-late").await;
    assert_eq!(kubelet.lease_renewals(), 0);

    // Removed nodes take their lease with them.
    kubelet.remove_node("lease-late").await.unwrap();
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    assert!(leases.get_opt("lease-late").await.unwrap().is_none());
    kubelet.stop().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn heartbeats_off_write_no_lease() {
    let server = SimApiServer::start(Config::default()).await.unwrap();
    let client = server.client().unwrap();
    let config = KubeletConfig {
        heartbeat_interval: Duration::ZERO,
        ..KubeletConfig::with_nodes("nolease", 3)
    };
    let kubelet = SimKubelet::start(client.clone(), config).await.unwrap();
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    assert!(leases.get_opt("nolease-0").await.unwrap().is_none());
    kubelet.stop().await.unwrap();
    server.stop().await;
}

/// 100 nodes, every request delayed 50 ms, heartbeat interval 1 s: one renewal at a time
/// would take 5 s a cycle, a fifth of the renewals due. Over a window of 5 intervals the
/// kubelet must renew every node about 5 times: at least 3 (a cycle lost to start-up and
/// one to scheduling noise), at most 7 (no catching up in bursts).
#[tokio::test]
async fn renewals_keep_up_with_the_interval_on_a_slow_api_server() {
    const NODES: u64 = 100;
    const INTERVAL: Duration = Duration::from_secs(1);
    const WINDOW: u32 = 5;
    let server = SimApiServer::start(Config::default()).await.unwrap();
    let client = server.client().unwrap();
    let config = KubeletConfig {
        heartbeat_interval: INTERVAL,
        ..KubeletConfig::with_nodes("renew", NODES as usize)
    };
    let kubelet = SimKubelet::start(client.clone(), config).await.unwrap();
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let first = leases.get("renew-0").await.unwrap();

    server.faults().set_latency(Duration::from_millis(50));
    let before = kubelet.lease_renewals();
    tokio::time::sleep(INTERVAL * WINDOW).await;
    let renewed = kubelet.lease_renewals() - before;
    server.faults().set_latency(Duration::ZERO);

    assert!(
        renewed >= 3 * NODES,
        "{renewed} renewals of {NODES} nodes in {WINDOW} intervals: the renewals fall behind"
    );
    assert!(
        renewed <= 7 * NODES,
        "{renewed} renewals of {NODES} nodes in {WINDOW} intervals: more than one a node an \
         interval"
    );
    let last = leases.get("renew-0").await.unwrap();
    assert!(
        last.spec.and_then(|s| s.renew_time) > first.spec.and_then(|s| s.renew_time),
        "the lease of renew-0 was not renewed"
    );
    kubelet.stop().await.unwrap();
    server.stop().await;
}
