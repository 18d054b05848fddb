//! What the Kubernetes DaemonSet offers (maxSurge, minReadySeconds, OnDelete, revision
//! history, undo, migration) and per-node resources (Settings, node annotations).

use std::time::Duration;

use eds_api::{ExtendedDaemonsetSetting, constants::keys};
use k8s_openapi::api::{apps::v1::DaemonSet, core::v1::Pod};
use kube::{
    Api, ResourceExt,
    api::{ListParams, PostParams},
};
use kube_sim::kubelet::FakeNode;
use serde_json::json;

use super::harness::{TEST_NODE_LABEL, TestCluster, is_ready, pod_ers};

fn resources_of(pod: &Pod) -> serde_json::Value {
    serde_json::to_value(&pod.spec.as_ref().unwrap().containers[0].resources).unwrap()
}

/// DaemonSet parity: with maxSurge 1 and maxUnavailable 0, the new pod starts beside the old
/// one and the old one goes only once the new one is available; never two pods on a node
/// beyond maxSurge (checked by the invariant checker).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_surge_starts_the_new_pod_first() {
    let tc = TestCluster::start("surge", 3).await;
    let strategy = json!({ "rollingUpdate": { "maxSurge": 1, "maxUnavailable": 0 }, "reconcileFrequency": "1s" });
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", strategy.clone()))
        .await;
    let v1 = tc.wait_available("foo", 3).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", strategy))
        .await;
    tc.wait_for("a node running old and new pod together", || async {
        tc.pods_by_node("foo")
            .await
            .values()
            .any(|p| p.len() == 2)
            .then_some(())
    })
    .await;
    let done = tc
        .wait_eds("foo", "v2 everywhere", |e| {
            e.status.as_ref().is_some_and(|s| {
                s.active_replica_set != v1
                    && s.up_to_date == 3
                    && s.available == 3
                    && s.current == 3
            })
        })
        .await;
    tc.wait_all_ready_on("foo", &done.status.unwrap().active_replica_set)
        .await;
    tc.finish().await;
}

/// DaemonSet parity: a pod counts as available only after minReadySeconds of readiness.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_ready_seconds_delays_availability() {
    let tc = TestCluster::start("minready", 2).await;
    let mut eds = tc.eds(
        "foo",
        "registry.k8s.io/pause:3.0",
        json!({ "reconcileFrequency": "1s" }),
    );
    eds.spec.min_ready_seconds = Some(3);
    tc.apply(&eds).await;
    let ready = tc
        .wait_eds("foo", "pods ready", |e| {
            e.status.as_ref().is_some_and(|s| s.ready == 2)
        })
        .await;
    assert!(
        ready.status.unwrap().available < 2,
        "not available before minReadySeconds"
    );
    tc.wait_eds("foo", "available after minReadySeconds", |e| {
        e.status.as_ref().is_some_and(|s| s.available == 2)
    })
    .await;
    tc.finish().await;
}

/// DaemonSet parity: with OnDelete, a new template replaces a pod only when someone deletes
/// it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_delete_replaces_only_deleted_pods() {
    let tc = TestCluster::start("ondelete", 2).await;
    let strategy = json!({ "type": "OnDelete", "reconcileFrequency": "1s" });
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", strategy.clone()))
        .await;
    let v1 = tc.wait_available("foo", 2).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", strategy))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let by_node = tc.pods_by_node("foo").await;
    assert!(
        by_node.values().all(|p| pod_ers(&p[0]) == v1),
        "OnDelete does not replace pods by itself"
    );
    let victim = by_node[&tc.node_names[0]][0].name_any();
    tc.pod_api()
        .delete(&victim, &Default::default())
        .await
        .unwrap();
    let replaced = tc
        .wait_for("the deleted pod replaced by the new template", || async {
            let by_node = tc.pods_by_node("foo").await;
            by_node
                .get(&tc.node_names[0])
                .filter(|p| is_ready(&p[0]))
                .map(|p| pod_ers(&p[0]))
        })
        .await;
    assert_ne!(replaced, v1);
    assert_eq!(
        pod_ers(&tc.pods_by_node("foo").await[&tc.node_names[1]][0]),
        v1,
        "the other node keeps its pod"
    );
    tc.finish().await;
}

/// DaemonSet parity: revisionHistoryLimit old ERSs are kept (at zero pods) and older ones are
/// deleted; `rollout undo` (writing an old revision's template back) returns to that ERS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revision_history_is_kept_and_undo_returns_to_an_old_revision() {
    let tc = TestCluster::start("history", 2).await;
    let mut revisions = Vec::new();
    for tag in ["3.0", "3.1", "3.2", "3.3"] {
        let mut eds = tc.eds(
            "foo",
            &format!("registry.k8s.io/pause:{tag}"),
            json!({ "reconcileFrequency": "1s" }),
        );
        eds.spec.revision_history_limit = Some(2);
        tc.apply(&eds).await;
        let done = tc
            .wait_eds("foo", &format!("{tag} rolled out"), |e| {
                e.status.as_ref().is_some_and(|s| {
                    s.up_to_date == 2
                        && s.available == 2
                        && !revisions.contains(&s.active_replica_set)
                })
            })
            .await;
        revisions.push(done.status.unwrap().active_replica_set);
    }
    let ers: Vec<String> = tc
        .wait_for("old revisions pruned to revisionHistoryLimit", || async {
            let names: Vec<String> = tc
                .ers_api()
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .iter()
                .map(|e| e.name_any())
                .collect();
            (names.len() == 3).then_some(names)
        })
        .await;
    assert!(
        !ers.contains(&revisions[0]),
        "oldest revision deleted: {ers:?}"
    );
    for kept in &revisions[1..] {
        assert!(ers.contains(kept), "{kept} kept: {ers:?}");
    }
    // Undo to 3.1: the same template maps to the same ERS, which becomes active again. The
    // user applies a configuration of their own, as from a file: the live object (with its
    // managedFields) is refused by a real API server.
    let old = tc.ers_api().get(&revisions[1]).await.unwrap();
    let mut eds = tc.eds(
        "foo",
        "registry.k8s.io/pause:3.1",
        json!({ "reconcileFrequency": "1s" }),
    );
    eds.spec.revision_history_limit = Some(2);
    eds.spec.template = old.spec.template.clone();
    tc.apply(&eds).await;
    tc.wait_eds("foo", "back on revision 2", |e| {
        e.status.as_ref().is_some_and(|s| {
            s.active_replica_set == revisions[1] && s.up_to_date == 2 && s.available == 2
        })
    })
    .await;
    tc.finish().await;
}

/// Migration: with `old-daemonset`, the DaemonSet's pods count as outdated pods of the EDS and
/// are replaced within maxUnavailable; none is deleted before its turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_replaces_daemonset_pods_within_budget() {
    let tc = TestCluster::start("migrate", 3).await;
    let ds: DaemonSet = serde_json::from_value(json!({
        "metadata": { "name": "legacy", "namespace": tc.namespace },
        "spec": {
            "selector": { "matchLabels": { "app": "legacy" } },
            "template": { "metadata": { "labels": { "app": "legacy" } }, "spec": { "containers": [{ "name": "daemon", "image": "registry.k8s.io/pause:2.0" }] } }
        }
    })).unwrap();
    let ds = Api::<DaemonSet>::namespaced(tc.client.clone(), &tc.namespace)
        .create(&PostParams::default(), &ds)
        .await
        .unwrap();
    // Play the DaemonSet controller: one pod per node, owned by the DaemonSet.
    for node in &tc.node_names {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {
                "name": format!("legacy-{node}"), "labels": { "app": "legacy" },
                "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "legacy", "uid": ds.uid().unwrap(), "controller": true }]
            },
            "spec": { "nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [{ "name": "daemon", "image": "registry.k8s.io/pause:2.0" }] }
        })).unwrap();
        tc.pod_api()
            .create(&PostParams::default(), &pod)
            .await
            .unwrap();
    }
    let legacy_ready = || async {
        let pods = tc
            .pod_api()
            .list(&ListParams::default().labels("app=legacy"))
            .await
            .ok()?;
        Some(
            pods.items
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none() && is_ready(p))
                .count(),
        )
    };
    tc.wait_for("legacy pods ready", || async {
        (legacy_ready().await? == 3).then_some(())
    })
    .await;
    let mut eds = tc.eds(
        "foo",
        "registry.k8s.io/pause:3.0",
        json!({ "reconcileFrequency": "1s" }),
    );
    eds.annotations_mut()
        .insert(keys::OLD_DAEMONSET_ANNOTATION.into(), "legacy".into());
    tc.apply(&eds).await;
    // Budget: at every moment at least 2 of 3 nodes run an available pod, legacy or new.
    let deadline = tokio::time::Instant::now() + super::harness::TIMEOUT;
    loop {
        let legacy = legacy_ready().await.unwrap_or(0);
        let new = tc
            .pods_by_node("foo")
            .await
            .values()
            .filter(|p| is_ready(&p[0]))
            .count();
        assert!(
            legacy + new >= 2,
            "more than maxUnavailable=1 nodes without an available pod: legacy {legacy}, new {new}"
        );
        if new == 3 && legacy == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "migration did not finish: legacy {legacy}, new {new}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tc.finish().await;
}

/// Upstream e2e (with the values asserted, which upstream never did): a node matching a
/// Setting runs the Setting's resources, the others the template's; a node annotation
/// overrides one node only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_node_annotations_set_resources_per_node() {
    let tc = TestCluster::start_with("settings", 3, Default::default(), |n: FakeNode| n).await;
    let big = tc.node_names[0].clone();
    let special = tc.node_names[1].clone();
    let ns = tc.namespace.clone();
    tc.kubelet
        .set_labels(
            &big,
            [
                ("node-type".to_string(), "xxl".to_string()),
                (TEST_NODE_LABEL.to_string(), tc.test_id.clone()),
            ]
            .into(),
        )
        .await
        .unwrap();
    tc.kubelet
        .set_annotations(
            &special,
            [(
                keys::node_resources_annotation(&ns, "foo", "daemon"),
                r#"{"requests":{"cpu":"2","memory":"2G"}}"#.to_string(),
            )]
            .into(),
        )
        .await
        .unwrap();
    let setting: ExtendedDaemonsetSetting = serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonsetSetting",
        "metadata": { "name": "foo-xxl-node", "namespace": ns },
        "spec": {
            "reference": { "kind": "ExtendedDaemonset", "name": "foo" },
            "nodeSelector": { "matchLabels": { "node-type": "xxl" } },
            "containers": [{ "name": "daemon", "resources": { "requests": { "cpu": "500m", "memory": "300Mi" } } }]
        }
    })).unwrap();
    Api::<ExtendedDaemonsetSetting>::namespaced(tc.client.clone(), &ns)
        .create(&PostParams::default(), &setting)
        .await
        .unwrap();
    let mut eds = tc.eds(
        "foo",
        "registry.k8s.io/pause:3.0",
        json!({ "reconcileFrequency": "1s" }),
    );
    eds.spec.template.spec.as_mut().unwrap().containers[0].resources = Some(
        serde_json::from_value(json!({ "requests": { "cpu": "100m", "memory": "50Mi" } })).unwrap(),
    );
    tc.apply(&eds).await;
    tc.wait_eds("foo", "pods available", |e| {
        e.status.as_ref().is_some_and(|s| s.available == 3)
    })
    .await;
    let by_node = tc.pods_by_node("foo").await;
    assert_eq!(
        resources_of(&by_node[&big][0]),
        json!({ "requests": { "cpu": "500m", "memory": "300Mi" } })
    );
    assert_eq!(
        by_node[&big][0]
            .labels()
            .get(keys::SETTING_NAME_LABEL)
            .map(String::as_str),
        Some("foo-xxl-node")
    );
    assert_eq!(
        resources_of(&by_node[&special][0]),
        json!({ "requests": { "cpu": "2", "memory": "2G" } })
    );
    assert_eq!(
        resources_of(&by_node[&tc.node_names[2]][0]),
        json!({ "requests": { "cpu": "100m", "memory": "50Mi" } })
    );
    let stored = Api::<ExtendedDaemonsetSetting>::namespaced(tc.client.clone(), &ns)
        .get("foo-xxl-node")
        .await
        .unwrap();
    assert_eq!(stored.status.map(|s| s.status), Some("valid".to_string()));
    tc.finish().await;
}
