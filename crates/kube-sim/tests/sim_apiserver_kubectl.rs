//! The real `kubectl` binary against `sim serve`: get nodes, server-side apply of the
//! repository's `crds/` and of an ExtendedDaemonSet, get and delete it.

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

    let deleted = run(&["delete", "eds", "foo"]).await.unwrap();
    assert!(deleted.contains("\"foo\" deleted"), "{deleted}");
    let after = run(&["get", "eds", "-o", "name"]).await.unwrap();
    assert!(after.trim().is_empty(), "{after}");

    stop.send(()).unwrap();
    server.await.unwrap().expect("serve ends cleanly");
}
