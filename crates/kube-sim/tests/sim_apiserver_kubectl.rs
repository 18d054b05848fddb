//! The real `kubectl` binary against `sim serve`: get nodes, server-side apply of the
//! repository's `crds/` over CRDs another manager installed, of an ExtendedDaemonSet, get
//! events, get and delete it.

use std::{path::Path, process::Command, time::Duration};

use kube::config::Kubeconfig;
use kube_sim::apiserver::{ServeOptions, serve_until};

const FOO: &str = r#"apiVersion: datadoghq.com/v1alpha1
kind: ExtendedDaemonSet
metadata:
  name: foo
spec:
  strategy:
    canary:
      replicas: 1
      duration: 5m
    rollingUpdate:
      maxParallelPodCreation: 1
      slowStartIntervalDuration: 1m
  template:
    spec:
      containers:
      - name: daemon
        image: registry.k8s.io/pause:3.0
      tolerations:
      - operator: Exists
"#;

/// Runs kubectl with `args`; returns stdout, failing the test with stderr on error.
fn kubectl(kubeconfig: &Path, cache: &Path, args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .expect("kubectl must be on PATH");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {stderr}\n{stdout}"
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drives_the_simulator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("sim.kubeconfig");
    let cache = dir.path().join("cache");
    // The generated CRDs of the repository, as a user applies them.
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds");
    let foo = dir.path().join("foo-eds_v1.yaml");
    std::fs::write(&foo, FOO).unwrap();

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let opts = ServeOptions {
        nodes: 3,
        kubeconfig: kubeconfig.clone(),
        port: 0,
    };
    let server = tokio::spawn(serve_until(opts, async {
        let _ = stopped.await;
    }));
    let mut ready = false;
    for _ in 0..200 {
        if Kubeconfig::read_from(&kubeconfig).is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ready, "serve wrote no kubeconfig");

    let run = |args: &'static [&'static str]| {
        let (k, c) = (kubeconfig.clone(), cache.clone());
        tokio::task::spawn_blocking(move || kubectl(&k, &c, args))
    };
    let nodes = run(&["get", "nodes"]).await.unwrap();
    for n in ["sim-node-0001", "sim-node-0002", "sim-node-0003"] {
        let line = nodes.lines().find(|l| l.starts_with(n)).unwrap_or_default();
        assert!(line.contains(" Ready "), "{nodes}");
    }

    // The CRDs are already installed by another manager (as `eds sim serve` does, from a Rust
    // client that writes `minimum: 0.0` where kubectl writes `0`): kubectl's apply of the
    // same CRDs shares the fields instead of conflicting.
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::read_from(&kubeconfig).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    kube_sim::cluster::install_crds(&client, &eds_api::crds())
        .await
        .expect("install CRDs");
    let (k, c, d) = (kubeconfig.clone(), cache.clone(), crds.clone());
    let applied = tokio::task::spawn_blocking(move || {
        kubectl(
            &k,
            &c,
            &["apply", "--server-side", "-f", d.to_str().unwrap()],
        )
    })
    .await
    .unwrap();
    assert!(
        applied.contains("customresourcedefinition.apiextensions.k8s.io/extendeddaemonsets.datadoghq.com serverside-applied"),
        "{applied}"
    );

    let (k, c, f) = (kubeconfig.clone(), cache.clone(), foo.clone());
    let applied = tokio::task::spawn_blocking(move || {
        kubectl(
            &k,
            &c,
            &["apply", "--server-side", "-f", f.to_str().unwrap()],
        )
    })
    .await
    .unwrap();
    assert!(
        applied.contains("extendeddaemonset.datadoghq.com/foo serverside-applied"),
        "{applied}"
    );

    let listed = run(&["get", "eds"]).await.unwrap();
    assert!(listed.lines().any(|l| l.starts_with("foo ")), "{listed}");
    // The server's Table carries the CRD's printer columns.
    assert!(
        listed.starts_with("NAME   DESIRED   CURRENT   READY"),
        "{listed}"
    );
    let json = run(&["get", "eds", "foo", "-o", "json"]).await.unwrap();
    let obj: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        obj["spec"]["revisionHistoryLimit"], 10,
        "schema default applied"
    );

    // `kubectl get events` prints the real server's columns.
    let event: k8s_openapi::api::core::v1::Event = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "foo.1", "namespace": "default" },
        "involvedObject": { "kind": "ExtendedDaemonSet", "name": "foo", "namespace": "default" },
        "type": "Normal", "reason": "CanaryStarted", "message": "canary started on 1 node",
        "source": { "component": "extendeddaemonset-controller" },
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
        "count": 1,
    }))
    .unwrap();
    kube::Api::<k8s_openapi::api::core::v1::Event>::namespaced(client.clone(), "default")
        .create(&Default::default(), &event)
        .await
        .expect("create event");
    let events = run(&["get", "events"]).await.unwrap();
    let header: Vec<&str> = events
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        "{events}"
    );
    let row = events.lines().nth(1).unwrap_or_default();
    for cell in [
        "Normal",
        "CanaryStarted",
        "extendeddaemonset/foo",
        "canary started on 1 node",
    ] {
        assert!(row.contains(cell), "{cell} in {events}");
    }

    let deleted = run(&["delete", "eds", "foo"]).await.unwrap();
    assert!(deleted.contains("\"foo\" deleted"), "{deleted}");
    let after = run(&["get", "eds", "-o", "name"]).await.unwrap();
    assert!(after.trim().is_empty(), "{after}");

    stop.send(()).unwrap();
    server.await.unwrap().expect("serve ends cleanly");
}
