//! Beyond upstream: node changes, invalid specs, restarts, leader election and API faults.

use std::time::Duration;

use eds_api::{
    ExtendedDaemonsetSetting, ValidationMode,
    constants::{condition_type, reason},
};
use eds_controller::leader::LeaseSettings;
use k8s_openapi::api::events::v1::Event;
use kube::{
    Api,
    api::{ListParams, PostParams},
};
use kube_sim::{apiserver::WriteError, kubelet::FakeNode};
use serde_json::json;

use super::harness::{TEST_NODE_LABEL, TestCluster, is_ready, pod_ers};

/// Nodes are watched: a new node gets its pod without waiting for a resync (the EDS resyncs
/// only every hour here), and a label change adds or removes the pod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_changes_add_and_remove_pods_at_once() {
    let tc = TestCluster::start("nodes", 2).await;
    let mut eds = tc.eds(
        "foo",
        "registry.k8s.io/pause:3.0",
        json!({ "reconcileFrequency": "1h" }),
    );
    eds.spec
        .template
        .spec
        .as_mut()
        .unwrap()
        .node_selector
        .as_mut()
        .unwrap()
        .insert("role".into(), "agent".into());
    // Only nodes labelled role=agent run it; none is yet.
    tc.apply(&eds).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(tc.pods_by_node("foo").await.is_empty());
    let new_node = format!("{}-node-new", tc.test_id);
    tc.kubelet
        .add_node(
            FakeNode::new(&new_node)
                .label(TEST_NODE_LABEL, &tc.test_id)
                .label("role", "agent"),
        )
        .await
        .unwrap();
    tc.wait_for("a pod on the new node", || async {
        tc.pods_by_node("foo")
            .await
            .contains_key(&new_node)
            .then_some(())
    })
    .await;
    let labels = |role: Option<&str>| {
        let mut l: std::collections::BTreeMap<String, String> =
            [(TEST_NODE_LABEL.to_string(), tc.test_id.clone())].into();
        if let Some(r) = role {
            l.insert("role".into(), r.into());
        }
        l
    };
    tc.kubelet
        .set_labels(&tc.node_names[0], labels(Some("agent")))
        .await
        .unwrap();
    tc.wait_for("a pod on the relabelled node", || async {
        tc.pods_by_node("foo")
            .await
            .contains_key(&tc.node_names[0])
            .then_some(())
    })
    .await;
    tc.kubelet
        .set_labels(&new_node, labels(None))
        .await
        .unwrap();
    tc.wait_for("the pod removed from the unlabelled node", || async {
        (!tc.pods_by_node("foo").await.contains_key(&new_node)).then_some(())
    })
    .await;
    tc.finish().await;
}

/// An invalid spec (here: a duration in a canary that the controller's default makes manual)
/// gives a Stalled condition and a Warning event, no pod action, and other EDSs keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_spec_stalls_only_that_eds() {
    let tc = TestCluster::start_with("invalid", 2, ValidationMode::Manual, |n| n).await;
    tc.apply(&tc.eds(
        "bad",
        "registry.k8s.io/pause:3.0",
        json!({ "canary": { "duration": "5m" } }),
    ))
    .await;
    tc.apply(&tc.eds("good", "registry.k8s.io/pause:3.0", json!({})))
        .await;
    let bad = tc
        .wait_eds("bad", "Stalled condition", |e| {
            e.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == condition_type::STALLED && c.is_true())
            })
        })
        .await;
    let stalled = bad
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == condition_type::STALLED)
        .unwrap();
    assert!(
        stalled
            .message
            .unwrap_or_default()
            .contains("spec.strategy.canary.duration"),
        "the message names the field"
    );
    tc.wait_eds("good", "good available", |e| {
        e.status.as_ref().is_some_and(|s| s.available == 2)
    })
    .await;
    assert!(
        tc.pods_by_node("bad").await.is_empty(),
        "no pod for an invalid spec"
    );
    tc.wait_warning("bad", None).await;
    tc.finish().await;
}

/// A Setting whose ExtendedDaemonSet does not exist (a typo, or not created yet) gets an
/// `error` status naming it and a Warning event; once the EDS exists, its status is `valid`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setting_for_a_missing_eds_reports_it() {
    let tc = TestCluster::start("orphan-setting", 1).await;
    let ns = tc.namespace.clone();
    let settings = Api::<ExtendedDaemonsetSetting>::namespaced(tc.client.clone(), &ns);
    let setting: ExtendedDaemonsetSetting = serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonsetSetting",
        "metadata": { "name": "later-big", "namespace": ns },
        "spec": {
            "reference": { "kind": "ExtendedDaemonset", "name": "later" },
            "nodeSelector": { "matchLabels": { "node-type": "xxl" } },
            "containers": [{ "name": "daemon", "resources": { "requests": { "cpu": "1" } } }]
        }
    }))
    .unwrap();
    settings
        .create(&PostParams::default(), &setting)
        .await
        .unwrap();
    let status = |want: &'static str| {
        let settings = settings.clone();
        move || {
            let settings = settings.clone();
            async move {
                let s = settings.get("later-big").await.ok()?.status?;
                (s.status == want).then_some(s)
            }
        }
    };
    let error = tc.wait_for("Setting status error", status("error")).await;
    let message = error.error.unwrap_or_default();
    assert!(
        message.contains("spec.reference.name") && message.contains("\"later\""),
        "the message names the field and the EDS: {message}"
    );
    tc.wait_warning("later-big", Some(reason::SETTING_WITHOUT_EDS))
        .await;
    tc.apply(&tc.eds("later", "registry.k8s.io/pause:3.0", json!({})))
        .await;
    let valid = tc.wait_for("Setting status valid", status("valid")).await;
    assert_eq!(valid.error, None);
    tc.finish().await;
}

/// The controller restarted at several points of a rollout converges, with never a duplicate
/// pod nor more than maxUnavailable nodes down (invariant checker).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_mid_rollout_converge_safely() {
    let mut tc = TestCluster::start("restart", 6).await;
    let strategy = json!({ "rollingUpdate": { "maxUnavailable": 2 }, "reconcileFrequency": "1s" });
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", strategy.clone()))
        .await;
    let v1 = tc.wait_available("foo", 6).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", strategy))
        .await;
    for (i, replaced) in [1usize, 3, 5].into_iter().enumerate() {
        tc.wait_for(&format!("{replaced} nodes off v1"), || async {
            let by_node = tc.pods_by_node("foo").await;
            let old = by_node
                .values()
                .flatten()
                .filter(|p| pod_ers(p) == v1)
                .count();
            (old <= 6 - replaced).then_some(())
        })
        .await;
        if i % 2 == 0 {
            tc.kill_controller().await
        } else {
            tc.stop_controller().await
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        tc.start_controller().await;
    }
    tc.wait_eds("foo", "v2 everywhere", |e| {
        e.status
            .as_ref()
            .is_some_and(|s| s.up_to_date == 6 && s.available == 6 && s.active_replica_set != v1)
    })
    .await;
    tc.finish().await;
}

/// Two instances with leader election: only the leader writes; when it stops, the other takes
/// over and finishes the rollout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_writes_and_a_follower_takes_over() {
    let mut tc = TestCluster::start("leader", 3).await;
    tc.stop_controller().await;
    let lease = |identity: &str| LeaseSettings {
        name: "eds-e2e".into(),
        namespace: tc.namespace.clone(),
        identity: identity.into(),
        duration: Duration::from_secs(3),
        grace: Duration::from_secs(1),
    };
    let a = tc.spawn_controller("instance-a", Some(lease("instance-a")));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let b = tc.spawn_controller("instance-b", Some(lease("instance-b")));
    tc.apply(&tc.eds(
        "foo",
        "registry.k8s.io/pause:3.0",
        json!({ "reconcileFrequency": "1s" }),
    ))
    .await;
    let v1 = tc
        .wait_eds("foo", "deployed", |e| {
            e.status.as_ref().is_some_and(|s| s.available == 3)
        })
        .await
        .status
        .unwrap()
        .active_replica_set;
    // The instances of our controller that wrote events. Other components write events too on
    // a real cluster (the scheduler binding pods, kubelets starting them): they are not ours.
    let reporters = || async {
        let events = Api::<Event>::namespaced(tc.client.clone(), &tc.namespace)
            .list(&ListParams::default())
            .await
            .unwrap();
        events
            .items
            .iter()
            .filter(|e| {
                e.reporting_controller.as_deref() == Some(eds_api::constants::FIELD_MANAGER)
            })
            .filter_map(|e| e.reporting_instance.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        reporters().await,
        ["instance-a".to_string()].into(),
        "only the leader wrote"
    );
    a.stop().await;
    tc.apply(&tc.eds(
        "foo",
        "registry.k8s.io/pause:3.1",
        json!({ "reconcileFrequency": "1s" }),
    ))
    .await;
    let done = tc
        .wait_eds("foo", "rolled out by the new leader", |e| {
            e.status.as_ref().is_some_and(|s| {
                s.active_replica_set != v1 && s.up_to_date == 3 && s.available == 3
            })
        })
        .await;
    tc.wait_all_ready_on("foo", &done.status.unwrap().active_replica_set)
        .await;
    let after = reporters().await;
    assert!(
        after.contains("instance-b"),
        "the follower took over: events reported by {after:?}"
    );
    b.stop().await;
    tc.finish().await;
}

/// Injected API faults (5% of writes fail with 500, watch streams closed every 2 s) slow the
/// rollout down but it still converges safely.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_faults_still_converge() {
    let tc = TestCluster::start("faults", 4).await;
    let Some(sim) = tc.sim() else {
        // Faults are injected by the simulator only.
        return tc.finish().await;
    };
    sim.faults().set_write_errors(0.05, WriteError::Internal);
    sim.faults()
        .set_watch_close_after(Some(Duration::from_secs(2)));
    tc.apply(&tc.eds(
        "foo",
        "registry.k8s.io/pause:3.0",
        json!({ "reconcileFrequency": "1s" }),
    ))
    .await;
    let v1 = tc.wait_available("foo", 4).await;
    let eds = tc.eds(
        "foo",
        "registry.k8s.io/pause:3.1",
        json!({ "reconcileFrequency": "1s" }),
    );
    // The user's own write may hit an injected fault: retry it like kubectl would be retried.
    let mut applied = false;
    for _ in 0..20 {
        let mut body = serde_json::to_value(&eds).unwrap();
        body.as_object_mut().unwrap().remove("status");
        if tc
            .eds_api()
            .patch(
                "foo",
                &kube::api::PatchParams::apply("e2e-user").force(),
                &kube::api::Patch::Apply(&body),
            )
            .await
            .is_ok()
        {
            applied = true;
            break;
        }
    }
    assert!(applied);
    let done = tc
        .wait_eds("foo", "v2 everywhere despite faults", |e| {
            e.status.as_ref().is_some_and(|s| {
                s.active_replica_set != v1 && s.up_to_date == 4 && s.available == 4
            })
        })
        .await;
    let v2 = done.status.unwrap().active_replica_set;
    tc.wait_for("all pods of v2 ready", || async {
        let by_node = tc.pods_by_node("foo").await;
        (by_node.len() == 4
            && by_node
                .values()
                .all(|p| p.len() == 1 && pod_ers(&p[0]) == v2 && is_ready(&p[0])))
        .then_some(())
    })
    .await;
    sim.faults().clear();
    tc.finish().await;
}
