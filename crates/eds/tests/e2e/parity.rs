//! What the Kubernetes DaemonSet offers (maxSurge, minReadySeconds, OnDelete, revision
//! history, undo, migration) and per-node resources (Settings, node annotations).

use std::{collections::BTreeSet, time::Duration};

use eds_api::{ExtendedDaemonsetSetting, constants::keys};
use k8s_openapi::api::{apps::v1::DaemonSet, core::v1::Pod};
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
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

/// Migration, as a user does it (README, "Migrating from a DaemonSet"): the DaemonSet is held
/// by a finalizer of the user's and deleted, so that the DaemonSet controller leaves it and its
/// pods alone (it does not manage a DaemonSet being deleted) while the pods keep their owner;
/// then the EDS with `old-daemonset` counts them as outdated pods and replaces them within
/// maxUnavailable, none before its turn; then the user removes the finalizer.
///
/// On a real cluster kube-controller-manager's DaemonSet controller creates the legacy pods
/// (the DaemonSet selects this test's nodes only); on the simulator the test plays it
/// ([`play_daemonset_controller`]). Without the user's steps the migration never ends: with a
/// live DaemonSet, its controller re-creates each pod the ExtendedDaemonSet deletes; after
/// `kubectl delete ds --cascade=orphan` the pods lose their owner, so they are no longer the
/// DaemonSet's and stay beside the new ones (two pods a node).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_replaces_daemonset_pods_within_budget() {
    let tc = TestCluster::start("migrate", 3).await;
    let legacy = Legacy::create(&tc).await;
    let legacy_pods = || legacy.live_pods(&tc);
    let legacy_ready =
        || async { Some(legacy_pods().await?.iter().filter(|p| is_ready(p)).count()) };
    tc.wait_for("legacy pods ready", || async {
        (legacy_ready().await? == 3).then_some(())
    })
    .await;
    let legacy_uids: BTreeSet<String> = legacy_pods()
        .await
        .unwrap()
        .iter()
        .map(|p| p.uid().unwrap())
        .collect();
    // The user's steps: hold the DaemonSet with a finalizer, then delete it.
    legacy.hold_and_delete().await;
    Legacy::apply_migrating_eds(&tc).await;
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
    // No legacy pod was re-created meanwhile (by a DaemonSet controller).
    let left = legacy_pods().await.unwrap();
    assert!(
        left.iter().all(|p| legacy_uids.contains(&p.uid().unwrap())),
        "a legacy pod was re-created: {:?}",
        left.iter().map(|p| p.name_any()).collect::<Vec<_>>()
    );
    // The user's last step: release the DaemonSet, which is then gone.
    legacy.release().await;
    tc.wait_for("the DaemonSet gone", || async {
        legacy
            .api
            .get_opt("legacy")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    legacy.stop();
    tc.finish().await;
}

/// DaemonSet `legacy`, the source of a migration, and on the simulator the task that plays its
/// controller for as long as it would act.
struct Legacy {
    api: Api<DaemonSet>,
    controller: Option<tokio::task::JoinHandle<()>>,
}

/// The user's finalizer that keeps the DaemonSet (being deleted) until the migration is over.
const HOLD: &str = "example.com/migrating-to-eds";

impl Legacy {
    /// Creates DaemonSet `legacy`, selecting the test's nodes.
    async fn create(tc: &TestCluster) -> Self {
        let api = create_legacy_daemonset(tc).await;
        let controller = tc.sim().is_some().then(|| {
            tokio::spawn(play_daemonset_controller(
                tc.client.clone(),
                tc.namespace.clone(),
                tc.node_names.clone(),
            ))
        });
        Legacy { api, controller }
    }

    /// Applies ExtendedDaemonSet `foo`, migrating from it.
    async fn apply_migrating_eds(tc: &TestCluster) {
        let mut eds = tc.eds(
            "foo",
            "registry.k8s.io/pause:3.0",
            json!({ "reconcileFrequency": "1s" }),
        );
        eds.annotations_mut()
            .insert(keys::OLD_DAEMONSET_ANNOTATION.into(), "legacy".into());
        tc.apply(&eds).await;
    }

    /// Its pods not being deleted.
    async fn live_pods(&self, tc: &TestCluster) -> Option<Vec<Pod>> {
        let pods = tc
            .pod_api()
            .list(&ListParams::default().labels("app=legacy"))
            .await
            .ok()?;
        Some(
            pods.items
                .into_iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .collect(),
        )
    }

    /// The user's first steps: hold it with a finalizer, then delete it (background
    /// propagation, as `kubectl delete ds legacy --wait=false`).
    async fn hold_and_delete(&self) {
        self.set_finalizers(json!([HOLD])).await;
        self.api
            .delete("legacy", &DeleteParams::background())
            .await
            .unwrap();
    }

    /// The user's last step: remove the finalizer.
    async fn release(&self) {
        self.set_finalizers(serde_json::Value::Null).await;
    }

    async fn set_finalizers(&self, finalizers: serde_json::Value) {
        let patch = Patch::Merge(json!({ "metadata": { "finalizers": finalizers } }));
        self.api
            .patch("legacy", &PatchParams::default(), &patch)
            .await
            .unwrap();
    }

    fn stop(self) {
        if let Some(task) = self.controller {
            task.abort();
        }
    }
}

/// Creates DaemonSet `legacy`, selecting the test's nodes.
async fn create_legacy_daemonset(tc: &TestCluster) -> Api<DaemonSet> {
    let ds_api = Api::<DaemonSet>::namespaced(tc.client.clone(), &tc.namespace);
    let ds: DaemonSet = serde_json::from_value(json!({
        "metadata": { "name": "legacy", "namespace": tc.namespace },
        "spec": {
            "selector": { "matchLabels": { "app": "legacy" } },
            "template": {
                "metadata": { "labels": { "app": "legacy" } },
                "spec": {
                    "nodeSelector": { TEST_NODE_LABEL: tc.test_id },
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{ "name": "daemon", "image": "registry.k8s.io/pause:2.0" }]
                }
            }
        }
    }))
    .unwrap();
    ds_api.create(&PostParams::default(), &ds).await.unwrap();
    ds_api
}

/// Migration from a DaemonSet left live (the user skipped deleting it): the ExtendedDaemonSet
/// deletes none of its pods and creates none beside them (its controller would re-create
/// every pod deleted), and says so: `Stalled` `OldDaemonSetLive` naming the fix, a Warning
/// event. Once the user deletes it (finalizer held), the migration proceeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_from_a_live_daemonset_holds_and_says_why() {
    let tc = TestCluster::start("migrate-live", 3).await;
    let legacy = Legacy::create(&tc).await;
    let legacy_uids = || async {
        Some(
            legacy
                .live_pods(&tc)
                .await?
                .iter()
                .filter(|p| is_ready(p))
                .map(|p| p.uid().unwrap())
                .collect::<BTreeSet<_>>(),
        )
    };
    let before = tc
        .wait_for("legacy pods ready", || async {
            legacy_uids().await.filter(|u| u.len() == 3)
        })
        .await;
    Legacy::apply_migrating_eds(&tc).await;
    let stalled = |e: &eds_api::ExtendedDaemonSet| {
        e.status.as_ref().and_then(|s| {
            s.conditions
                .iter()
                .find(|c| c.type_ == "Stalled" && c.status == "True")
                .cloned()
        })
    };
    let held = tc
        .wait_eds("foo", "Stalled OldDaemonSetLive", |e| {
            stalled(e).is_some_and(|c| c.reason.as_deref() == Some("OldDaemonSetLive"))
        })
        .await;
    let message = stalled(&held).unwrap().message.unwrap_or_default();
    assert!(
        message.contains("legacy") && message.contains("Migrating from a DaemonSet"),
        "{message}"
    );
    tc.wait_warning("foo", Some("OldDaemonSetLive")).await;
    // A few reconciles later: the same legacy pods, none of ours beside them.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        legacy_uids().await.unwrap(),
        before,
        "a legacy pod was replaced"
    );
    assert!(
        tc.pods_by_node("foo").await.is_empty(),
        "a pod beside a legacy pod"
    );
    // The user's steps: the migration proceeds.
    legacy.hold_and_delete().await;
    tc.wait_available("foo", 3).await;
    tc.wait_for("legacy pods replaced", || async {
        legacy_uids().await.filter(|u| u.is_empty())
    })
    .await;
    legacy.release().await;
    legacy.stop();
    tc.finish().await;
}

/// What kube-controller-manager's DaemonSet controller does with DaemonSet `legacy` on `nodes`
/// (which it selects): while the DaemonSet exists and is not being deleted, a node without a
/// pod of it (or with only a terminating one) gets a new one at once. So on the simulator too,
/// a migration that leaves the DaemonSet live fights it, as on a real cluster.
async fn play_daemonset_controller(client: kube::Client, namespace: String, nodes: Vec<String>) {
    let ds_api = Api::<DaemonSet>::namespaced(client.clone(), &namespace);
    let pods = Api::<Pod>::namespaced(client, &namespace);
    loop {
        if let Ok(Some(ds)) = ds_api.get_opt("legacy").await
            && ds.metadata.deletion_timestamp.is_none()
            && let Ok(list) = pods.list(&ListParams::default().labels("app=legacy")).await
        {
            let uid = ds.uid().unwrap_or_default();
            for node in &nodes {
                let has_pod = list.items.iter().any(|p| {
                    p.metadata.deletion_timestamp.is_none()
                        && p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node)
                        && p.owner_references().iter().any(|o| o.uid == uid)
                });
                if has_pod {
                    continue;
                }
                let pod: Pod = serde_json::from_value(json!({
                    "metadata": {
                        "generateName": "legacy-", "labels": { "app": "legacy" },
                        "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "legacy", "uid": uid, "controller": true, "blockOwnerDeletion": true }]
                    },
                    "spec": { "nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [{ "name": "daemon", "image": "registry.k8s.io/pause:2.0" }] }
                }))
                .unwrap();
                let _ = pods.create(&PostParams::default(), &pod).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
