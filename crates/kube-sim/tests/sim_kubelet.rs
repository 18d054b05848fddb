//! The kubelet/scheduler simulator through the API: fake nodes, binding, pod lifecycle,
//! unschedulable pods, graceful deletion and node events. Runs on the embedded API server,
//! or on the cluster of `EDS_TEST_KUBECONFIG`.

#[path = "support/kubelet.rs"]
mod kubelet_support;
mod support;

use kube_sim::kubelet::{
    FAKE_NODE_LABEL, FakeNode, KubeletConfig, SimKubelet, node::NOT_READY_TAINT,
};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, ListParams},
    runtime::{WatchStreamExt, watcher},
};
use kubelet_support::{Cluster, condition, has_condition, labels, pinned_spec};

fn node_ready(node: &Node) -> Option<String> {
    let conditions = node.status.as_ref()?.conditions.as_ref()?;
    conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone())
}

#[tokio::test]
async fn fake_nodes_are_registered_ready_and_marked() {
    let cluster = Cluster::start(vec![
        FakeNode::new("a"),
        FakeNode::new("b").label("zone", "z1"),
    ])
    .await;
    let nodes: Api<Node> = Api::all(cluster.client.clone());
    let marked = nodes
        .list(&ListParams::default().labels(&format!("{FAKE_NODE_LABEL}=true")))
        .await
        .unwrap();
    let mut names: Vec<String> = marked
        .iter()
        .map(|n| n.name_any())
        .filter(|n| cluster.nodes.contains(n))
        .collect();
    names.sort();
    assert_eq!(names, cluster.nodes);
    let b = nodes.get(&cluster.nodes[1]).await.unwrap();
    assert_eq!(node_ready(&b).as_deref(), Some("True"));
    assert_eq!(b.labels().get("zone").map(String::as_str), Some("z1"));
    let status = b.status.unwrap();
    assert_eq!(status.capacity.unwrap()["pods"].0, "110");
    assert!(
        status
            .addresses
            .unwrap()
            .iter()
            .any(|a| a.type_ == "InternalIP")
    );
    cluster.stop().await;
}

#[tokio::test]
async fn pinned_pod_is_bound_and_becomes_running_and_ready() {
    let cluster = Cluster::start(vec![FakeNode::new("a"), FakeNode::new("b")]).await;
    let target = cluster.nodes[1].clone();
    cluster
        .create_pod(
            "app",
            pinned_spec(&target, &[("app", "registry.k8s.io/pause:3.0", "")]),
        )
        .await;
    let pod = cluster
        .wait_pod("app", "Ready", has_condition("Ready", "True"))
        .await;
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.node_name.as_deref(), Some(target.as_str()));
    let status = pod.status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert!(status.start_time.is_some() && status.pod_ip.is_some() && status.host_ip.is_some());
    let container = &status.container_statuses.as_ref().unwrap()[0];
    assert!(container.ready && container.started == Some(true));
    assert!(container.state.as_ref().unwrap().running.is_some());
    assert_eq!(condition(&pod, "PodScheduled").unwrap().status, "True");
    assert_eq!(condition(&pod, "ContainersReady").unwrap().status, "True");
    cluster.stop().await;
}

#[tokio::test]
async fn pod_with_a_node_name_runs_without_scheduling() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    let spec = serde_json::json!({"nodeName": cluster.nodes[0], "containers": [{"name": "c", "image": "pause"}]});
    cluster.create_pod("direct", spec).await;
    let pod = cluster
        .wait_pod("direct", "Ready", has_condition("Ready", "True"))
        .await;
    assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Running"));
    cluster.stop().await;
}

#[tokio::test]
async fn untolerated_taint_makes_the_pod_unschedulable_until_removed() {
    let tainted = FakeNode::new("a").taint("dedicated", "infra", "NoSchedule");
    let cluster = Cluster::start(vec![tainted]).await;
    cluster
        .create_pod(
            "app",
            pinned_spec(&cluster.nodes[0], &[("app", "pause", "")]),
        )
        .await;
    let pod = cluster
        .wait_pod(
            "app",
            "PodScheduled=False",
            has_condition("PodScheduled", "False"),
        )
        .await;
    let scheduled = condition(&pod, "PodScheduled").unwrap();
    assert_eq!(scheduled.reason.as_deref(), Some("Unschedulable"));
    let message = scheduled.message.unwrap_or_default();
    assert!(
        message.contains("had untolerated taint {dedicated: infra}"),
        "{message}"
    );
    assert!(pod.spec.unwrap().node_name.is_none());

    cluster
        .kubelet()
        .set_taints(&cluster.nodes[0], Vec::new())
        .await
        .unwrap();
    let pod = cluster
        .wait_pod(
            "app",
            "Ready after the taint is gone",
            has_condition("Ready", "True"),
        )
        .await;
    assert_eq!(
        pod.spec.unwrap().node_name.as_deref(),
        Some(cluster.nodes[0].as_str())
    );
    cluster.stop().await;
}

#[tokio::test]
async fn node_selector_is_honoured_and_label_changes_reschedule() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    let mut spec = pinned_spec(&cluster.nodes[0], &[("app", "pause", "")]);
    spec["nodeSelector"] = serde_json::json!({"pool": "agents"});
    cluster.create_pod("app", spec).await;
    let pod = cluster
        .wait_pod(
            "app",
            "Unschedulable",
            has_condition("PodScheduled", "False"),
        )
        .await;
    let message = condition(&pod, "PodScheduled")
        .unwrap()
        .message
        .unwrap_or_default();
    assert!(
        message.contains("didn't match Pod's node affinity/selector"),
        "{message}"
    );

    let node = cluster.kubelet().node(&cluster.nodes[0]).unwrap();
    let mut new_labels = node.labels.clone();
    new_labels.extend(labels(&[("pool", "agents")]));
    cluster
        .kubelet()
        .set_labels(&cluster.nodes[0], new_labels)
        .await
        .unwrap();
    let nodes: Api<Node> = Api::all(cluster.client.clone());
    let updated = nodes.get(&cluster.nodes[0]).await.unwrap();
    assert_eq!(
        updated.labels().get("pool").map(String::as_str),
        Some("agents")
    );
    assert_eq!(
        updated.labels().get(FAKE_NODE_LABEL).map(String::as_str),
        Some("true")
    );
    cluster
        .wait_pod(
            "app",
            "Ready on the relabelled node",
            has_condition("Ready", "True"),
        )
        .await;
    cluster.stop().await;
}

#[tokio::test]
async fn graceful_deletion_turns_the_pod_unready_then_deletes_it() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    cluster
        .create_pod(
            "app",
            pinned_spec(&cluster.nodes[0], &[("app", "pause", "")]),
        )
        .await;
    let pod = cluster
        .wait_pod("app", "Ready", has_condition("Ready", "True"))
        .await;
    let uid = pod.uid().unwrap();
    cluster
        .pods()
        .delete("app", &DeleteParams::default().grace_period(2))
        .await
        .unwrap();
    let terminating = cluster
        .wait_pod("app", "unready while terminating", |p: Option<&Pod>| {
            p.is_some_and(|p| p.metadata.deletion_timestamp.is_some())
                && p.and_then(|p| condition(p, "Ready"))
                    .is_some_and(|c| c.status == "False")
        })
        .await;
    assert!(terminating.metadata.deletion_timestamp.is_some());
    cluster.wait_pod_deleted("app", &uid).await;
    cluster.stop().await;
}

#[tokio::test]
async fn not_ready_node_is_tainted_and_its_pods_turn_unready() {
    let cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    let node_name = cluster.nodes[0].clone();
    cluster
        .create_pod("app", pinned_spec(&node_name, &[("app", "pause", "")]))
        .await;
    cluster
        .wait_pod("app", "Ready", has_condition("Ready", "True"))
        .await;

    cluster
        .kubelet()
        .set_ready(&node_name, false)
        .await
        .unwrap();
    let nodes: Api<Node> = Api::all(cluster.client.clone());
    let node = nodes.get(&node_name).await.unwrap();
    assert_eq!(node_ready(&node).as_deref(), Some("False"));
    let taints: Vec<Taint> = node.spec.unwrap().taints.unwrap_or_default();
    let not_ready: Vec<&str> = taints
        .iter()
        .filter(|t| t.key == NOT_READY_TAINT)
        .map(|t| t.effect.as_str())
        .collect();
    assert_eq!(not_ready, ["NoSchedule", "NoExecute"]);
    let pod = cluster
        .wait_pod(
            "app",
            "Ready=False on a NotReady node",
            has_condition("Ready", "False"),
        )
        .await;
    assert_eq!(condition(&pod, "ContainersReady").unwrap().status, "True");

    cluster.kubelet().set_ready(&node_name, true).await.unwrap();
    let node = nodes.get(&node_name).await.unwrap();
    assert!(
        node.spec
            .unwrap()
            .taints
            .unwrap_or_default()
            .iter()
            .all(|t| t.key != NOT_READY_TAINT)
    );
    cluster
        .wait_pod("app", "Ready again", has_condition("Ready", "True"))
        .await;
    cluster.stop().await;
}

#[tokio::test]
async fn node_annotations_and_removal() {
    let cluster = Cluster::start(vec![FakeNode::new("a"), FakeNode::new("b")]).await;
    let (a, b) = (cluster.nodes[0].clone(), cluster.nodes[1].clone());
    cluster
        .kubelet()
        .set_annotations(&a, labels(&[("example.com/note", "x")]))
        .await
        .unwrap();
    let nodes: Api<Node> = Api::all(cluster.client.clone());
    assert_eq!(
        nodes
            .get(&a)
            .await
            .unwrap()
            .annotations()
            .get("example.com/note")
            .map(String::as_str),
        Some("x")
    );

    cluster
        .create_pod("on-b", pinned_spec(&b, &[("app", "pause", "")]))
        .await;
    let pod = cluster
        .wait_pod("on-b", "Ready", has_condition("Ready", "True"))
        .await;
    cluster.kubelet().remove_node(&b).await.unwrap();
    assert!(nodes.get_opt(&b).await.unwrap().is_none());
    cluster.wait_pod_deleted("on-b", &pod.uid().unwrap()).await;
    // A writer whose cache still had the node creates a pod bound to it: collected, as pod
    // garbage collection does on a real cluster.
    let late = cluster
        .create_pod(
            "late-on-b",
            serde_json::json!({ "nodeName": b, "containers": [{ "name": "app", "image": "pause" }] }),
        )
        .await;
    cluster
        .wait_pod_deleted("late-on-b", &late.uid().unwrap())
        .await;
    assert_eq!(cluster.kubelet().node_names(), vec![a.clone()]);
    // A removal whose API delete fails is retried in full: the node goes in the end.
    if let Some(sim) = &cluster.base.sim {
        sim.faults()
            .set_write_errors(1.0, kube_sim::apiserver::WriteError::Internal);
        assert!(cluster.kubelet().remove_node(&a).await.is_err());
        sim.faults().clear();
        assert!(nodes.get_opt(&a).await.unwrap().is_some(), "still there");
        cluster.kubelet().remove_node(&a).await.unwrap();
        assert!(nodes.get_opt(&a).await.unwrap().is_none());
        cluster
            .kubelet()
            .add_node(FakeNode::new(a.clone()))
            .await
            .unwrap();
    }
    cluster
        .kubelet()
        .add_node(FakeNode::new(b.clone()))
        .await
        .unwrap();
    assert!(nodes.get_opt(&b).await.unwrap().is_some());
    cluster.stop().await;
}

#[tokio::test]
async fn a_new_simulator_takes_over_its_nodes_and_running_pods() {
    let mut cluster = Cluster::start(vec![FakeNode::new("a")]).await;
    let node = cluster.nodes[0].clone();
    cluster
        .create_pod("old", pinned_spec(&node, &[("app", "pause", "")]))
        .await;
    cluster
        .wait_pod("old", "Ready", has_condition("Ready", "True"))
        .await;

    // Every Ready status the old pod has from now on.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let config = watcher::Config::default().fields("metadata.name=old");
    let events = watcher(cluster.pods(), config).applied_objects();
    let recorder = {
        let seen = seen.clone();
        tokio::spawn(async move {
            futures::pin_mut!(events);
            while let Some(Ok(pod)) = events.next().await {
                let ready = condition(&pod, "Ready")
                    .map(|c| c.status)
                    .unwrap_or_default();
                seen.lock().unwrap().push(ready);
            }
        })
    };

    // A second run of the simulator on the same nodes (dropping the first leaves them).
    drop(cluster.kubelet.take());
    let config = KubeletConfig {
        nodes: vec![FakeNode::new(node.clone())],
        jitter: 0.0,
        ..KubeletConfig::default().start_delay(kubelet_support::START_DELAY)
    };
    cluster.kubelet = Some(
        SimKubelet::start(cluster.client.clone(), config)
            .await
            .unwrap(),
    );

    // A pod created now and Ready means the new simulator has been through the old pod too.
    cluster
        .create_pod("new", pinned_spec(&node, &[("app", "pause", "")]))
        .await;
    cluster
        .wait_pod("new", "Ready", has_condition("Ready", "True"))
        .await;
    recorder.abort();
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|s| s == "True"),
        "the old pod turned unready: {seen:?}"
    );
    cluster.stop().await;
}
