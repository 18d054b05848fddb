//! Canary scenarios: upstream's e2e tests, plus our failure handling that never writes the
//! spec.

use std::time::Duration;

use eds_api::{
    ExtendedDaemonSet, ValidationMode,
    constants::{keys, reason, state},
};
use serde_json::json;

use super::harness::{TestCluster, is_canary, pod_ers};

fn canary(extra: serde_json::Value) -> serde_json::Value {
    let mut c = json!({ "replicas": 1, "duration": "3s", "noRestartsDuration": "1s" });
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    json!({ "canary": c, "reconcileFrequency": "1s" })
}

fn status_state(e: &ExtendedDaemonSet) -> Option<&str> {
    e.status.as_ref().and_then(|s| s.state.as_deref())
}

async fn deploy_v1(tc: &TestCluster, strategy: serde_json::Value, nodes: i32) -> String {
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", strategy))
        .await;
    let v1 = tc
        .wait_eds("foo", "v1 available", |e| {
            e.status
                .as_ref()
                .is_some_and(|s| s.available == nodes && s.state.as_deref() == Some(state::RUNNING))
        })
        .await;
    v1.status.unwrap().active_replica_set
}

/// Upstream e2e: exactly one pod carries the canary label during the canary; after the
/// duration the canary ERS becomes active, every node runs it and no pod keeps the label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successful_canary_is_promoted_after_its_duration() {
    let tc = TestCluster::start("canaryok", 3).await;
    let v1 = deploy_v1(&tc, canary(json!({})), 3).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", canary(json!({}))))
        .await;
    let in_canary = tc
        .wait_eds("foo", "state Canary", |e| {
            status_state(e) == Some(state::CANARY)
        })
        .await;
    let canary_status = in_canary
        .status
        .as_ref()
        .unwrap()
        .canary
        .clone()
        .expect("status.canary");
    assert_ne!(canary_status.replica_set, v1);
    let with_label = tc
        .wait_for("one ready canary pod", || async {
            let pods: Vec<_> = tc
                .pods_by_node("foo")
                .await
                .into_values()
                .flatten()
                .filter(is_canary)
                .collect();
            (pods.len() == 1 && super::harness::is_ready(&pods[0])).then_some(pods)
        })
        .await;
    assert_eq!(pod_ers(&with_label[0]), canary_status.replica_set);
    let done = tc
        .wait_eds("foo", "canary promoted", |e| {
            e.status.as_ref().is_some_and(|s| {
                s.active_replica_set == canary_status.replica_set
                    && s.state.as_deref() == Some(state::RUNNING)
                    && s.up_to_date == 3
            })
        })
        .await;
    assert!(done.status.unwrap().canary.is_none());
    tc.wait_all_ready_on("foo", &canary_status.replica_set)
        .await;
    assert!(
        tc.pods_by_node("foo")
            .await
            .values()
            .flatten()
            .all(|p| !is_canary(p)),
        "no pod keeps the canary label"
    );
    tc.finish().await;
}

/// Upstream e2e: in manual mode the canary is never promoted by time, only by the
/// `canary-valid` annotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_validation_waits_for_canary_valid() {
    let tc = TestCluster::start("manual", 2).await;
    let strategy = json!({ "canary": { "replicas": 1, "validationMode": "manual" }, "reconcileFrequency": "1s" });
    deploy_v1(&tc, strategy.clone(), 2).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", strategy))
        .await;
    let c = tc
        .wait_eds("foo", "state Canary", |e| {
            status_state(e) == Some(state::CANARY)
        })
        .await;
    let canary_ers = c.status.unwrap().canary.unwrap().replica_set;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        status_state(&tc.get_eds("foo").await),
        Some(state::CANARY),
        "manual canary is not promoted by time"
    );
    tc.annotate("foo", keys::CANARY_VALID_ANNOTATION, Some(&canary_ers))
        .await;
    tc.wait_eds("foo", "promoted after canary-valid", |e| {
        e.status
            .as_ref()
            .is_some_and(|s| s.active_replica_set == canary_ers && s.up_to_date == 2)
    })
    .await;
    tc.finish().await;
}

/// Upstream e2e: a crashing canary (autoPause.maxRestarts 1, autoFail.maxRestarts 3) is paused
/// with the termination reason, then failed. We differ from upstream: the spec is left as the
/// user wrote it, the failed revision is recorded in status and the old pods are back on the
/// canary nodes; a fixed template starts a new canary, and `canary-valid` promotes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashing_canary_pauses_then_fails_and_a_fix_recovers() {
    let tc = TestCluster::start("canarybad", 3).await;
    let strategy = canary(
        json!({ "duration": "1h", "autoPause": { "maxRestarts": 1 }, "autoFail": { "maxRestarts": 3 } }),
    );
    let v1 = deploy_v1(&tc, strategy.clone(), 3).await;
    let bad = tc.eds("foo", "registry.k8s.io/starterror:1", strategy.clone());
    tc.apply(&bad).await;
    let paused = tc
        .wait_eds("foo", "Canary Paused", |e| {
            status_state(e) == Some(state::CANARY_PAUSED)
        })
        .await;
    assert_eq!(
        paused.status.as_ref().unwrap().reason.as_deref(),
        Some("StartError")
    );
    let failed = tc
        .wait_eds("foo", "Canary Failed", |e| {
            status_state(e) == Some(state::CANARY_FAILED)
        })
        .await;
    let status = failed.status.clone().unwrap();
    let rejected = status
        .rejected_revision
        .expect("failed revision recorded in status");
    assert_eq!(status.active_replica_set, v1);
    // The spec is untouched: still the bad image.
    let image = failed.spec.template.spec.as_ref().unwrap().containers[0]
        .image
        .clone();
    assert_eq!(image.as_deref(), Some("registry.k8s.io/starterror:1"));
    // Old pods are back on every node, and stay.
    tc.wait_all_ready_on("foo", &v1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    tc.wait_all_ready_on("foo", &v1).await;

    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", strategy))
        .await;
    let c = tc
        .wait_eds("foo", "a new canary for the fixed template", |e| {
            e.status.as_ref().is_some_and(|s| {
                s.state.as_deref() == Some(state::CANARY)
                    && s.canary
                        .as_ref()
                        .is_some_and(|c| c.replica_set != rejected.replica_set)
            })
        })
        .await;
    let fixed = c.status.unwrap().canary.unwrap().replica_set;
    tc.annotate("foo", keys::CANARY_VALID_ANNOTATION, Some(&fixed))
        .await;
    tc.wait_eds("foo", "fixed template promoted", |e| {
        e.status.as_ref().is_some_and(|s| {
            s.active_replica_set == fixed
                && s.state.as_deref() == Some(state::RUNNING)
                && s.up_to_date == 3
        })
    })
    .await;
    tc.finish().await;
}

/// Upstream e2e "pod cannot start": with maxSlowStartDuration, a bad image pauses the canary
/// with ErrImagePull or ImagePullBackOff, a missing ConfigMap key with
/// CreateContainerConfigError, and a missing volume with SlowStartTimeoutExceeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_that_cannot_start_is_paused_with_the_reason() {
    let tc = TestCluster::start("cannotstart", 2).await;
    let strategy =
        canary(json!({ "duration": "1h", "autoPause": { "maxSlowStartDuration": "2s" } }));
    deploy_v1(&tc, strategy.clone(), 2).await;

    let cases: Vec<(&str, ExtendedDaemonSet, Vec<&str>)> = vec![
        (
            "bad image",
            tc.eds(
                "foo",
                "registry.k8s.io/pause:does-not-exist",
                strategy.clone(),
            ),
            vec!["ErrImagePull", "ImagePullBackOff"],
        ),
        (
            "missing ConfigMap key",
            {
                let mut e = tc.eds("foo", "registry.k8s.io/pause:3.2", strategy.clone());
                e.spec.template.spec.as_mut().unwrap().containers[0].env =
                    Some(vec![serde_json::from_value(json!({
                "name": "X", "valueFrom": { "configMapKeyRef": { "name": "missing", "key": "k" } }
            })).unwrap()]);
                e
            },
            vec!["CreateContainerConfigError"],
        ),
        (
            "missing volume",
            {
                let mut e = tc.eds("foo", "registry.k8s.io/pause:3.3", strategy.clone());
                let spec = e.spec.template.spec.as_mut().unwrap();
                spec.volumes = Some(vec![
                    serde_json::from_value(
                        json!({ "name": "cfg", "configMap": { "name": "missing" } }),
                    )
                    .unwrap(),
                ]);
                spec.containers[0].volume_mounts = Some(vec![
                    serde_json::from_value(json!({ "name": "cfg", "mountPath": "/cfg" })).unwrap(),
                ]);
                e
            },
            vec![reason::SLOW_START_TIMEOUT_EXCEEDED],
        ),
    ];
    let mut previous: Option<String> = None;
    for (what, eds, reasons) in cases {
        tc.apply(&eds).await;
        let paused = tc
            .wait_eds("foo", &format!("canary paused for {what}"), |e| {
                status_state(e) == Some(state::CANARY_PAUSED)
                    && e.status
                        .as_ref()
                        .and_then(|s| s.canary.as_ref())
                        .is_some_and(|c| Some(&c.replica_set) != previous.as_ref())
            })
            .await;
        let status = paused.status.unwrap();
        let got = status.reason.unwrap_or_default();
        assert!(
            reasons.contains(&got.as_str()),
            "{what}: reason {got}, expected one of {reasons:?}"
        );
        previous = status.canary.map(|c| c.replica_set);
    }
    tc.finish().await;
}

/// Upstream e2e: within maxSlowStartDuration, a CreateContainerConfigError does not pause the
/// canary, and it starts once the ConfigMap appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_error_within_slow_start_does_not_pause() {
    let tc = TestCluster::start("slowstart", 2).await;
    let strategy =
        canary(json!({ "duration": "1h", "autoPause": { "maxSlowStartDuration": "1h" } }));
    deploy_v1(&tc, strategy.clone(), 2).await;
    let mut e = tc.eds("foo", "registry.k8s.io/pause:3.1", strategy);
    e.spec.template.spec.as_mut().unwrap().containers[0].env = Some(vec![
        serde_json::from_value(json!({
            "name": "X", "valueFrom": { "configMapKeyRef": { "name": "later", "key": "k" } }
        }))
        .unwrap(),
    ]);
    tc.apply(&e).await;
    tc.wait_eds("foo", "state Canary", |e| {
        status_state(e) == Some(state::CANARY)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        status_state(&tc.get_eds("foo").await),
        Some(state::CANARY),
        "not paused within maxSlowStartDuration"
    );
    let cm: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(json!({ "metadata": { "name": "later" }, "data": { "k": "v" } }))
            .unwrap();
    kube::Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(
        tc.client.clone(),
        &tc.namespace,
    )
    .create(&Default::default(), &cm)
    .await
    .unwrap();
    tc.wait_for("the canary pod ready once the ConfigMap exists", || async {
        tc.pods_by_node("foo")
            .await
            .into_values()
            .flatten()
            .any(|p| is_canary(&p) && super::harness::is_ready(&p))
            .then_some(())
    })
    .await;
    tc.finish().await;
}

/// Upstream e2e: a rollout is not blocked by pods already failing in the previous revision.
/// (A crashing first revision reaches one node only: pods that are not ready count against
/// slow start.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_is_not_blocked_by_pods_failing_before_it() {
    let tc = TestCluster::start("prevfail", 3).await;
    tc.apply(&tc.eds(
        "foo",
        "registry.k8s.io/crashloop:1",
        json!({ "reconcileFrequency": "1s" }),
    ))
    .await;
    tc.wait_for("a crashing v1 pod", || async {
        tc.pods_by_node("foo")
            .await
            .into_values()
            .flatten()
            .any(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.restart_count > 0))
            })
            .then_some(())
    })
    .await;
    tc.apply(&tc.eds(
        "foo",
        "registry.k8s.io/pause:3.1",
        json!({ "reconcileFrequency": "1s" }),
    ))
    .await;
    tc.wait_eds("foo", "fixed v2 on every node", |e| {
        e.status
            .as_ref()
            .is_some_and(|s| s.up_to_date == 3 && s.available == 3)
    })
    .await;
    tc.finish().await;
}

/// `EDS_VALIDATION_MODE=manual` makes canaries without a validationMode manual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_mode_default_comes_from_the_controller() {
    let tc = TestCluster::start_with("envmanual", 2, ValidationMode::Manual, |n| n).await;
    let strategy = json!({ "canary": { "replicas": 1 }, "reconcileFrequency": "1s" });
    deploy_v1(&tc, strategy.clone(), 2).await;
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", strategy))
        .await;
    tc.wait_eds("foo", "state Canary", |e| {
        status_state(e) == Some(state::CANARY)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        status_state(&tc.get_eds("foo").await),
        Some(state::CANARY),
        "default duration does not apply in manual mode"
    );
    tc.finish().await;
}
