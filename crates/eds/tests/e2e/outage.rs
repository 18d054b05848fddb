//! The API server goes away mid-rollout and comes back with its state.

use std::time::{Duration, Instant};

use kube::api::ListParams;
use serde_json::json;

use super::{
    chaos_process::{Process, USER_AGENT},
    harness::{TestCluster, pod_ers},
};

/// Most requests a second the controller may send to an API server that answers none: its
/// watches and client retries back off (measured: 10/s over 8 s, 3.4/s over 30 s), a hot loop
/// would send hundreds.
const MAX_RATE_WHILE_DOWN: f64 = 20.0;

/// The simulated API server answers every request with 503 for a while (8 s; set
/// `EDS_OUTAGE_SECONDS=30` for the full drill) in the middle of a rolling update: the controller
/// replica keeps running without a hot loop (its refused requests a second are printed and
/// bounded), and once the server is back it finishes the rollout with one pod per node, none
/// lost or doubled (invariant checker).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_outage_mid_rollout() {
    let mut tc = TestCluster::start("outage", 6).await;
    let Some(sim) = tc.sim() else {
        // An outage is staged by the simulator only.
        return tc.finish().await;
    };
    let faults = sim.faults().clone();
    tc.stop_controller().await;
    let replica = Process::start(&tc.kube_config, &tc.namespace, "outage-a");
    let strategy = json!({ "rollingUpdate": { "maxUnavailable": 1 }, "reconcileFrequency": "1s" });
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", strategy.clone()))
        .await;
    let v1 = tc.wait_available("foo", 6).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", strategy))
        .await;
    tc.wait_for("2 nodes off v1", || async {
        let by_node = tc.pods_by_node("foo").await;
        let old = by_node.values().flatten().filter(|p| pod_ers(p) == v1);
        (old.count() <= 4).then_some(())
    })
    .await;

    let seconds: u64 = std::env::var("EDS_OUTAGE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    faults.set_outage(true);
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let refused = faults.refused();
    faults.set_outage(false);
    let elapsed = down.elapsed().as_secs_f64();
    let controller: u64 = refused
        .iter()
        .filter(|(agent, _)| agent.starts_with(USER_AGENT))
        .map(|(_, n)| n)
        .sum();
    let rate = controller as f64 / elapsed;
    eprintln!(
        "outage of {elapsed:.1}s: controller requests refused {controller} ({rate:.2}/s); by client: {refused:?}"
    );
    assert!(!replica.exited(), "the controller exited during the outage");
    assert!(
        rate <= MAX_RATE_WHILE_DOWN,
        "the controller sent {rate:.1} requests/s to a server that was down"
    );

    let done = tc
        .wait_eds("foo", "v2 everywhere after the outage", |e| {
            e.status.as_ref().is_some_and(|s| {
                s.active_replica_set != v1 && s.up_to_date == 6 && s.available == 6
            })
        })
        .await;
    tc.wait_all_ready_on("foo", &done.status.unwrap().active_replica_set)
        .await;
    let pods = tc
        .pod_api()
        .list(&ListParams::default().labels(eds_api::constants::keys::EDS_NAME_LABEL))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 6, "one pod per node, no leftover");
    replica.kill();
    tc.finish().await;
}
