//! A simulated cluster with the CRDs installed and the upstream README's `foo` objects, and a
//! way to run a verb as if typed on the command line.

use clap::Parser;
use eds::plugin::{self, Cli, Ui};
use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting, constants::keys,
};
use k8s_openapi::{
    api::core::v1::{Namespace, Pod},
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client, CustomResourceExt, ResourceExt,
    api::{Patch, PatchParams, PostParams},
};
use kube_sim::apiserver::{Config, SimApiServer};
use serde_json::{Value, json};

/// A running simulator and a client for it.
pub struct Cluster {
    /// Kept so the server lives as long as the test.
    #[allow(dead_code)]
    pub server: SimApiServer,
    pub client: Client,
}

/// Starts a simulator with the three CRDs, 3 nodes and a `monitoring` namespace.
pub async fn cluster() -> Cluster {
    let server = SimApiServer::start(Config::default()).await.expect("start");
    let client = server.client().expect("client");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in [
        ExtendedDaemonSet::crd(),
        ExtendedDaemonSetReplicaSet::crd(),
        ExtendedDaemonsetSetting::crd(),
    ] {
        crds.create(&PostParams::default(), &crd)
            .await
            .expect("install CRD");
    }
    server.create_nodes("node", 3).expect("nodes");
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "monitoring"}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
    Cluster { server, client }
}

/// A pod template running `image`.
pub fn template(image: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": "foo"}},
        "spec": {"containers": [{"name": "daemon", "image": image}]}
    })
}

/// Writes `status` through the status subresource (a create ignores it).
async fn set_status<K>(api: &Api<K>, name: &str, status: Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .expect("status")
}

/// Creates ExtendedDaemonSet `ns/name` running `image` (with a canary strategy) and `status`.
pub async fn eds(
    client: &Client,
    ns: &str,
    name: &str,
    image: &str,
    status: Value,
) -> ExtendedDaemonSet {
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), ns);
    let obj: ExtendedDaemonSet = serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSet",
        "metadata": {"name": name},
        "spec": {"template": template(image), "strategy": {"canary": {"duration": "5m"}}},
    }))
    .unwrap();
    api.create(&PostParams::default(), &obj)
        .await
        .expect("create EDS");
    set_status(&api, name, status).await
}

/// The `foo` ExtendedDaemonSet of the upstream README in `default`, running `foo-8z7lr`
/// without a canary.
pub async fn running_foo(client: &Client) -> ExtendedDaemonSet {
    eds(client, "default", "foo", "pause:3.0", running("foo-8z7lr")).await
}

/// Status of a running ExtendedDaemonSet on 3 nodes whose active ERS is `active`.
pub fn running(active: &str) -> Value {
    json!({
        "desired": 3, "current": 3, "ready": 3, "available": 3, "upToDate": 3,
        "state": "Running", "activeReplicaSet": active, "observedGeneration": 1,
    })
}

/// Status of a canary of `canary` over the active `active`, as in the upstream README.
pub fn canary(active: &str, canary: &str) -> Value {
    json!({
        "desired": 3, "current": 3, "ready": 3, "available": 3, "upToDate": 1,
        "state": "Canary", "activeReplicaSet": active, "observedGeneration": 1,
        "canary": {"replicaSet": canary, "nodes": ["node-0003"]},
    })
}

/// Creates ERS `name` of `eds` running `image`, with an ERS status and an optional revision.
pub async fn ers(
    client: &Client,
    eds: &ExtendedDaemonSet,
    name: &str,
    image: &str,
    state: &str,
    pods: i32,
    revision: Option<u64>,
) -> ExtendedDaemonSetReplicaSet {
    let ns = eds.namespace().unwrap();
    let api: Api<ExtendedDaemonSetReplicaSet> = Api::namespaced(client.clone(), &ns);
    let annotations = match revision {
        Some(r) => json!({ keys::REVISION_ANNOTATION: r.to_string() }),
        None => json!({}),
    };
    let obj: ExtendedDaemonSetReplicaSet = serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSetReplicaSet",
        "metadata": {
            "name": name, "annotations": annotations,
            "labels": {keys::EDS_NAME_LABEL: eds.name_any()},
            "ownerReferences": [{
                "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSet",
                "name": eds.name_any(), "uid": eds.uid().unwrap(), "controller": true,
            }],
        },
        "spec": {"template": template(image), "templateGeneration": name},
    }))
    .unwrap();
    api.create(&PostParams::default(), &obj)
        .await
        .expect("create ERS");
    set_status(
        &api,
        name,
        json!({"status": state, "desired": pods, "current": pods, "ready": pods, "available": pods}),
    )
    .await
}

/// Creates pod `name` of ERS `ers` (of EDS `eds`) on `node`, with `status`; `canary` labels it
/// as a canary pod.
pub async fn pod(
    client: &Client,
    eds: &str,
    ers: &str,
    name: &str,
    node: &str,
    canary: bool,
    status: Value,
) {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut labels = json!({ keys::EDS_NAME_LABEL: eds, keys::ERS_NAME_LABEL: ers });
    if canary {
        labels[keys::CANARY_LABEL] = json!(keys::CANARY_LABEL_VALUE);
    }
    let obj: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "daemon", "image": "registry.k8s.io/pause:3.1"}]},
    }))
    .unwrap();
    api.create(&PostParams::default(), &obj)
        .await
        .expect("create pod");
    set_status(&api, name, status).await;
}

/// Status of a running, ready pod.
pub fn ready_pod() -> Value {
    json!({
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "daemon", "ready": true, "restartCount": 0,
            "image": "registry.k8s.io/pause:3.1", "imageID": "", "state": {"running": {}}}],
    })
}

/// Status of a pod whose container crash-loops.
pub fn crashing_pod(restarts: i32) -> Value {
    json!({
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        "containerStatuses": [{"name": "daemon", "ready": false, "restartCount": restarts,
            "image": "registry.k8s.io/pause:3.1", "imageID": "",
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
    })
}

/// Runs `kubectl-eds <args>` against the cluster; returns what it printed.
pub async fn run(client: &Client, args: &[&str]) -> Result<String, plugin::Error> {
    let cli = Cli::try_parse_from(std::iter::once("kubectl-eds").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?} does not parse: {e}"));
    let mut out = Vec::new();
    plugin::run(&cli, client, Ui::default(), &mut out).await?;
    Ok(String::from_utf8(out).expect("UTF-8 output"))
}

/// Runs `kubectl-eds <args>` and, once it has printed its first line, `then` (e.g. the
/// controller's next status writes), concurrently. Returns the verb's result and its output.
pub async fn run_then<F>(
    client: &Client,
    args: &[&str],
    then: F,
) -> (Result<(), plugin::Error>, String)
where
    F: Future<Output = ()>,
{
    let cli = Cli::try_parse_from(std::iter::once("kubectl-eds").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?} does not parse: {e}"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut out = Tee {
        buf: Vec::new(),
        tx,
    };
    let verb = async {
        let result = plugin::run(&cli, client, Ui::default(), &mut out).await;
        (
            result,
            String::from_utf8(out.buf.clone()).expect("UTF-8 output"),
        )
    };
    let after_first_line = async {
        rx.recv().await.expect("the verb printed nothing");
        then.await;
    };
    tokio::join!(verb, after_first_line).0
}

/// An output that keeps what is written and signals each write.
struct Tee {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::UnboundedSender<()>,
}

impl std::io::Write for Tee {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        // The receiver is gone once it has seen the first write.
        let _ = self.tx.send(());
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Like [`run`], for verbs that must succeed.
pub async fn ok(client: &Client, args: &[&str]) -> String {
    run(client, args)
        .await
        .unwrap_or_else(|e| panic!("kubectl-eds {}: {e}", args.join(" ")))
}

/// Like [`run`], for verbs that must fail; returns the error message.
pub async fn err(client: &Client, args: &[&str]) -> plugin::Error {
    match run(client, args).await {
        Ok(out) => panic!("kubectl-eds {} succeeded: {out}", args.join(" ")),
        Err(e) => e,
    }
}

/// Replaces the AGE column (the last one: objects are created while the test runs) by `<age>`.
pub fn mask_age(table: &str) -> String {
    let age = regex::Regex::new(r"(?m)   (\d+[smhdy])+$").unwrap();
    age.replace_all(table, "   <age>").into_owned()
}

/// The annotations of ExtendedDaemonSet `default/name`.
pub async fn annotations(
    client: &Client,
    name: &str,
) -> std::collections::BTreeMap<String, String> {
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), "default");
    api.get(name).await.expect("EDS").annotations().clone()
}
