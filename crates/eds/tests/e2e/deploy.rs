//! Deploying, updating and deleting: upstream's basic scenarios.

use std::time::Duration;

use eds_api::constants::{keys, state};
use kube::{ResourceExt, api::DeleteParams};
use serde_json::json;

use super::harness::{TestCluster, is_canary, pod_ers};

/// Upstream e2e: an ExtendedDaemonSet runs one pod per node and its active ERS reports every
/// node available; deleting it removes every pod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_runs_one_pod_per_node_and_delete_removes_them() {
    let tc = TestCluster::start("deploy", 3).await;
    let eds = tc
        .apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", json!({})))
        .await;
    let done = tc
        .wait_eds("foo", "foo Running with 3 available", |e| {
            e.status
                .as_ref()
                .is_some_and(|s| s.available == 3 && s.state.as_deref() == Some(state::RUNNING))
        })
        .await;
    let status = done.status.unwrap();
    assert_eq!(
        (
            status.desired,
            status.current,
            status.ready,
            status.up_to_date
        ),
        (3, 3, 3, 3)
    );
    let active = status.active_replica_set.clone();
    assert!(active.starts_with("foo-"), "active ERS {active}");
    let ers = tc.ers_api().get(&active).await.unwrap();
    assert_eq!(
        ers.status
            .as_ref()
            .map(|s| (s.status.as_str(), s.available)),
        Some(("active", 3))
    );
    tc.wait_all_ready_on("foo", &active).await;
    let by_node = tc.pods_by_node("foo").await;
    for pods in by_node.values() {
        assert_eq!(
            pods[0]
                .labels()
                .get(keys::EDS_NAME_LABEL)
                .map(String::as_str),
            Some("foo")
        );
        assert!(!is_canary(&pods[0]));
        assert_eq!(
            pods[0]
                .annotations()
                .get(keys::AUTOSCALER_DAEMONSET_POD_ANNOTATION)
                .map(String::as_str),
            Some("true")
        );
    }

    tc.invariants.forget("foo");
    tc.eds_api()
        .delete(&eds.name_any(), &DeleteParams::foreground())
        .await
        .unwrap();
    tc.wait_for("every pod of foo gone", || async {
        tc.pods_by_node("foo").await.is_empty().then_some(())
    })
    .await;
    tc.finish().await;
}

/// Upstream e2e: an update without a canary rolls every node to the new ERS, one node at a time
/// (maxUnavailable 1, checked by the invariant checker).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_without_canary_rolls_every_node() {
    let tc = TestCluster::start("rolling", 4).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", json!({})))
        .await;
    let v1_ers = tc.wait_available("foo", 4).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", json!({})))
        .await;
    let v2 = tc
        .wait_eds("foo", "v2 rolled out", |e| {
            e.status.as_ref().is_some_and(|s| {
                s.active_replica_set != v1_ers && s.up_to_date == 4 && s.available == 4
            })
        })
        .await;
    let v2_ers = v2.status.unwrap().active_replica_set;
    tc.wait_all_ready_on("foo", &v2_ers).await;
    // The old revision is kept (revisionHistoryLimit) at zero pods for rollback.
    let old = tc
        .ers_api()
        .get(&v1_ers)
        .await
        .expect("old ERS kept for rollback");
    assert_eq!(old.status.map(|s| s.current), Some(0));
    tc.finish().await;
}

/// Upstream envtest: pausing the rolling update stops deletions but a new node still gets its
/// pod; unpausing resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_pause_keeps_creating_on_new_nodes() {
    let tc = TestCluster::start("rupause", 3).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", json!({})))
        .await;
    let v1_ers = tc.wait_available("foo", 3).await;
    tc.annotate("foo", keys::ROLLING_UPDATE_PAUSED_ANNOTATION, Some("true"))
        .await;
    tc.wait_eds("foo", "state RollingUpdate Paused", |e| {
        e.status.as_ref().and_then(|s| s.state.as_deref()) == Some(state::ROLLING_UPDATE_PAUSED)
    })
    .await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", json!({})))
        .await;
    let new_node = format!("{}-node-new", tc.test_id);
    tc.kubelet
        .add_node(
            kube_sim::kubelet::FakeNode::new(&new_node)
                .label(super::harness::TEST_NODE_LABEL, &tc.test_id),
        )
        .await
        .unwrap();
    let pod_on_new = tc
        .wait_for("a pod on the new node", || async {
            tc.pods_by_node("foo")
                .await
                .get(&new_node)
                .map(|p| pod_ers(&p[0]))
        })
        .await;
    assert_ne!(pod_on_new, v1_ers, "the new node runs the new template");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let by_node = tc.pods_by_node("foo").await;
    let old_left = by_node
        .values()
        .filter(|p| pod_ers(&p[0]) == v1_ers)
        .count();
    assert_eq!(
        old_left, 3,
        "no old pod is deleted while the rolling update is paused"
    );
    tc.annotate("foo", keys::ROLLING_UPDATE_PAUSED_ANNOTATION, None)
        .await;
    tc.wait_eds("foo", "rollout resumed and done", |e| {
        e.status
            .as_ref()
            .is_some_and(|s| s.up_to_date == 4 && s.available == 4)
    })
    .await;
    tc.finish().await;
}

/// Upstream envtest: a frozen rollout creates nothing and deletes nothing; unfreezing resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_freeze_stops_everything() {
    let tc = TestCluster::start("freeze", 2).await;
    let mut eds = tc.eds("foo", "registry.k8s.io/pause:3.0", json!({}));
    eds.annotations_mut()
        .insert(keys::ROLLOUT_FROZEN_ANNOTATION.into(), "true".into());
    tc.apply(&eds).await;
    tc.wait_eds("foo", "state Rollout frozen", |e| {
        e.status.as_ref().and_then(|s| s.state.as_deref()) == Some(state::ROLLOUT_FROZEN)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        tc.pods_by_node("foo").await.is_empty(),
        "a frozen rollout creates no pod"
    );
    tc.annotate("foo", keys::ROLLOUT_FROZEN_ANNOTATION, None)
        .await;
    tc.wait_eds("foo", "pods created after unfreeze", |e| {
        e.status.as_ref().is_some_and(|s| s.available == 2)
    })
    .await;
    tc.finish().await;
}
