//! Behaviour rules of the kubelet simulator through the API: crash loops, image pull errors,
//! missing ConfigMap keys and volume sources, never-ready and flapping containers. Runs on the
//! embedded API server, or on the cluster of `EDS_TEST_KUBECONFIG`.

#[path = "support/kubelet.rs"]
mod kubelet_support;
mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{ObjectMeta, PostParams};
use kube_sim::kubelet::FakeNode;
use kubelet_support::{
    Cluster, condition, has_condition, last_terminated, pinned_spec, restarts, waiting_reason,
};
use serde_json::json;

#[tokio::test]
async fn crash_loop_restarts_and_reports_back_off() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    cluster
        .create_pod(
            "app",
            pinned_spec(&cluster.nodes[0], &[("app", "example.com/crashloop:1", "")]),
        )
        .await;
    let pod = cluster
        .wait_pod("app", "CrashLoopBackOff", |p: Option<&Pod>| {
            p.and_then(waiting_reason).as_deref() == Some("CrashLoopBackOff")
        })
        .await;
    assert_eq!(last_terminated(&pod), Some(("Error".to_string(), 1)));
    assert_eq!(
        pod.status.as_ref().unwrap().phase.as_deref(),
        Some("Running")
    );
    let pod = cluster
        .wait_pod("app", "3 restarts", |p: Option<&Pod>| {
            p.is_some_and(|p| restarts(p) >= 3)
        })
        .await;
    assert_eq!(condition(&pod, "Ready").unwrap().status, "False");
    cluster.stop().await;
}

#[tokio::test]
async fn oom_kills_and_start_errors_carry_their_reason_and_exit_code() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    let node = cluster.nodes[0].clone();
    cluster
        .create_pod("oom", pinned_spec(&node, &[("app", "pause", "oomkilled")]))
        .await;
    cluster
        .create_pod(
            "start",
            pinned_spec(&node, &[("app", "example.com/starterror", "")]),
        )
        .await;
    let has_last = |p: Option<&Pod>| p.and_then(last_terminated).is_some();
    let oom = cluster
        .wait_pod("oom", "a terminated last state", has_last)
        .await;
    assert_eq!(last_terminated(&oom), Some(("OOMKilled".to_string(), 137)));
    let start = cluster
        .wait_pod("start", "a terminated last state", has_last)
        .await;
    assert_eq!(
        last_terminated(&start),
        Some(("StartError".to_string(), 128))
    );
    cluster
        .wait_pod("start", "restarts", |p: Option<&Pod>| {
            p.is_some_and(|p| restarts(p) >= 2)
        })
        .await;
    cluster.stop().await;
}

#[tokio::test]
async fn missing_image_alternates_pull_errors_and_stays_pending() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    let spec = pinned_spec(
        &cluster.nodes[0],
        &[("app", "registry.k8s.io/pause:does-not-exist", "")],
    );
    cluster.create_pod("app", spec).await;
    let reason_is =
        |r: &'static str| move |p: Option<&Pod>| p.and_then(waiting_reason).as_deref() == Some(r);
    cluster
        .wait_pod("app", "ErrImagePull", reason_is("ErrImagePull"))
        .await;
    let pod = cluster
        .wait_pod("app", "ImagePullBackOff", reason_is("ImagePullBackOff"))
        .await;
    assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Pending"));
    cluster.stop().await;
}

#[tokio::test]
async fn missing_config_map_key_fails_the_container_until_it_exists() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    let mut spec = pinned_spec(&cluster.nodes[0], &[("app", "pause", "")]);
    spec["containers"][0]["env"] = json!([{"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "level"}}}]);
    cluster.create_pod("app", spec).await;
    let pod = cluster
        .wait_pod("app", "CreateContainerConfigError", |p: Option<&Pod>| {
            p.and_then(waiting_reason).as_deref() == Some("CreateContainerConfigError")
        })
        .await;
    let status = pod.status.unwrap();
    let waiting = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(
        waiting.message.as_deref(),
        Some("configmap \"app-config\" not found")
    );
    assert_eq!(status.phase.as_deref(), Some("Pending"));

    let config_maps: kube::Api<ConfigMap> =
        kube::Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some("app-config".into()),
            ..ObjectMeta::default()
        },
        data: Some([("level".to_string(), "debug".to_string())].into()),
        ..ConfigMap::default()
    };
    config_maps
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    cluster
        .wait_pod(
            "app",
            "Ready once the key exists",
            has_condition("Ready", "True"),
        )
        .await;
    cluster.stop().await;
}

#[tokio::test]
async fn missing_volume_source_keeps_the_pod_container_creating() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    let node = cluster.nodes[0].clone();
    let mut spec = pinned_spec(&node, &[("app", "pause", "")]);
    spec["volumes"] = json!([{"name": "conf", "configMap": {"name": "absent"}}]);
    cluster.create_pod("stuck", spec).await;
    // A pod created after `stuck` and Ready means `stuck` has had its whole start delay.
    cluster
        .wait_pod("stuck", "admitted", |p: Option<&Pod>| {
            p.and_then(waiting_reason).is_some()
        })
        .await;
    cluster
        .create_pod("witness", pinned_spec(&node, &[("app", "pause", "")]))
        .await;
    cluster
        .wait_pod("witness", "Ready", has_condition("Ready", "True"))
        .await;
    let stuck = cluster.pods().get("stuck").await.unwrap();
    assert_eq!(waiting_reason(&stuck).as_deref(), Some("ContainerCreating"));
    assert_eq!(
        condition(&stuck, "PodReadyToStartContainers")
            .unwrap()
            .status,
        "False"
    );
    assert_eq!(stuck.status.unwrap().phase.as_deref(), Some("Pending"));
    cluster.stop().await;
}

#[tokio::test]
async fn never_ready_container_runs_unready() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    let node = cluster.nodes[0].clone();
    cluster
        .create_pod(
            "never",
            pinned_spec(&node, &[("app", "example.com/never-ready", "")]),
        )
        .await;
    let running = |p: Option<&Pod>| {
        p.and_then(|p| p.status.as_ref()?.phase.clone()).as_deref() == Some("Running")
    };
    cluster.wait_pod("never", "Running", running).await;
    cluster
        .create_pod("witness", pinned_spec(&node, &[("app", "pause", "")]))
        .await;
    cluster
        .wait_pod("witness", "Ready", has_condition("Ready", "True"))
        .await;
    let never = cluster.pods().get("never").await.unwrap();
    assert_eq!(condition(&never, "Ready").unwrap().status, "False");
    assert_eq!(never.status.unwrap().phase.as_deref(), Some("Running"));
    cluster.stop().await;
}

#[tokio::test]
async fn flapping_container_turns_ready_and_unready_in_turn() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    cluster
        .create_pod(
            "app",
            pinned_spec(&cluster.nodes[0], &[("app", "pause", "flapping")]),
        )
        .await;
    cluster
        .wait_pod("app", "Ready", has_condition("Ready", "True"))
        .await;
    cluster
        .wait_pod("app", "unready", has_condition("Ready", "False"))
        .await;
    cluster
        .wait_pod("app", "Ready again", has_condition("Ready", "True"))
        .await;
    cluster.stop().await;
}
