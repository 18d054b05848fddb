//! `eds sim kubelet` as a user runs it: the binary, against an API server it did not start
//! (the embedded one, serving no nodes of its own), adds fake nodes that look like a kubelet's,
//! runs a pod bound to one of them as a kubelet would, and removes its nodes on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use k8s_openapi::api::{
    coordination::v1::Lease,
    core::v1::{Node, Pod},
};
use kube::{Api, api::PostParams};
use kube_sim::{
    apiserver::{Config, SimApiServer},
    kubelet::FAKE_NODE_LABEL,
};
use serde_json::json;

/// Polls `check` every 100 ms for up to 30 s (a bound only so a broken build fails).
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    for _ in 0..300 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn condition(node: &Node, type_: &str) -> Option<String> {
    let conditions = node.status.as_ref()?.conditions.as_ref()?;
    let c = conditions.iter().find(|c| c.type_ == type_)?;
    Some(c.status.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_nodes_join_any_api_server_run_pods_and_leave_on_sigterm() {
    let server = SimApiServer::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let client = server.client().unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    assert!(
        nodes
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_eds"))
        .args(["sim", "kubelet", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--nodes", "3", "--prefix", "fake", "--start-delay", "200ms"])
        .args(["--heartbeat", "1s"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run eds sim kubelet");
    let stdout = child.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(first.starts_with("sim kubelet ready: 3 nodes"), "{first:?}");

    // Nodes as a kubelet registers them: Ready, capacity and allocatable, marked as fake.
    for name in ["fake-0", "fake-1", "fake-2"] {
        let node = nodes.get(name).await.unwrap();
        assert_eq!(
            node.metadata.labels.as_ref().unwrap()[FAKE_NODE_LABEL],
            "true"
        );
        assert_eq!(
            node.metadata.labels.as_ref().unwrap()["kubernetes.io/hostname"],
            name
        );
        assert_eq!(condition(&node, "Ready").as_deref(), Some("True"), "{name}");
        assert_eq!(condition(&node, "MemoryPressure").as_deref(), Some("False"));
        let status = node.status.unwrap();
        for resource in ["cpu", "memory", "pods"] {
            assert!(status.capacity.as_ref().unwrap().contains_key(resource));
            assert!(status.allocatable.as_ref().unwrap().contains_key(resource));
        }
    }
    // Node leases, renewed: what keeps a real node lifecycle controller from tainting them.
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let renewed = |l: &Lease| l.spec.as_ref().and_then(|s| s.renew_time.clone());
    let first_renewal = eventually("a node lease", || async {
        leases.get("fake-1").await.ok().as_ref().and_then(renewed)
    })
    .await;
    eventually("the lease renewed", || async {
        let now = leases.get("fake-1").await.ok().as_ref().and_then(renewed)?;
        (now.0 > first_renewal.0).then_some(())
    })
    .await;

    // A pod bound to a fake node (as the real scheduler binds it) is run like a kubelet does.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": "agent" },
        "spec": { "nodeName": "fake-1",
                  "containers": [{ "name": "agent", "image": "registry.k8s.io/pause:3.9" }] },
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let running = eventually("the pod ready", || async {
        let p = pods.get("agent").await.ok()?;
        let status = p.status.clone()?;
        let ready = status
            .conditions
            .as_ref()?
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        ready.then_some(status)
    })
    .await;
    assert_eq!(running.phase.as_deref(), Some("Running"));
    assert!(running.pod_ip.is_some() && running.start_time.is_some());

    // SIGTERM: the fake nodes and their pods are removed.
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(
        nodes
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(pods.get_opt("agent").await.unwrap().is_none());
    server.stop().await;
}
