//! Test cluster for the end-to-end scenarios: the embedded API server and kubelet simulator,
//! or a real cluster when `EDS_TEST_KUBECONFIG` is set, plus the controller running in-process
//! and watching only the test's namespace.
//!
//! On a real cluster the CRDs are installed with server-side apply, each test creates its own
//! namespace and fake nodes (named after the test, carrying the simulator's marker label), and
//! both are deleted at the end; the kubelet simulator plays the kubelet for those fake nodes.

use std::{collections::BTreeMap, future::Future, time::Duration};

use eds_api::{self as api, ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ValidationMode};
use eds_controller::{self as controller, RuntimeConfig, WatchScope};
use k8s_openapi::api::{
    core::v1::{Namespace, Pod},
    events::v1::Event,
};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
};
use kube_sim::{
    apiserver::SimApiServer,
    kubelet::{FakeNode, KubeletConfig, SimKubelet},
};
use serde_json::{Value, json};
use tokio::{sync::oneshot, task::JoinHandle};

use super::invariants::Invariants;

/// Label put on the fake nodes of one test, so its EDSs select only them on a shared cluster.
pub const TEST_NODE_LABEL: &str = "e2e.extendeddaemonset.datadoghq.com/test";

/// Start delay of simulated pods: short, so scenarios run in seconds.
pub const START_DELAY: Duration = Duration::from_millis(300);

/// How long a scenario waits for a state before failing.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A cluster for one test.
pub struct TestCluster {
    pub client: Client,
    /// Configuration of [`Self::client`], to build clients on other runtimes.
    pub kube_config: kube::Config,
    pub namespace: String,
    /// Value of [`TEST_NODE_LABEL`] on this test's nodes.
    pub test_id: String,
    pub kubelet: SimKubelet,
    pub node_names: Vec<String>,
    sim: Option<SimApiServer>,
    controller: Option<RunningController>,
    pub invariants: Invariants,
    pub validation_mode: ValidationMode,
    /// Last field, so it is dropped after the kubelet simulator has stopped.
    cleanup: LeftoverCleanup,
}

/// On a real cluster, deletes the namespace and the fake nodes of a test that ended without
/// [`TestCluster::finish`] (a failed assertion): otherwise they outlive the test run, and the
/// node lifecycle controller, the scheduler and the next runs find them.
struct LeftoverCleanup {
    /// `None` on the simulator, and once `finish` has cleaned up.
    real: Option<(kube::Config, String, String)>,
}

impl Drop for LeftoverCleanup {
    fn drop(&mut self) {
        let Some((config, namespace, test_id)) = self.real.take() else {
            return;
        };
        // The test's runtime may be going away: a runtime of its own, on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the cleanup");
            rt.block_on(async move {
                let Ok(client) = Client::try_from(config) else {
                    return;
                };
                let _ = Api::<Namespace>::all(client.clone())
                    .delete(&namespace, &DeleteParams::default())
                    .await;
                let nodes = Api::<k8s_openapi::api::core::v1::Node>::all(client);
                let selector = format!("{TEST_NODE_LABEL}={test_id}");
                if let Ok(list) = nodes.list(&ListParams::default().labels(&selector)).await {
                    for node in list.items {
                        let _ = nodes
                            .delete(&node.name_any(), &DeleteParams::default())
                            .await;
                    }
                }
                eprintln!(
                    "deleted the namespace and the fake nodes of {test_id}, left by a failure"
                );
            });
        });
        let _ = cleanup.join();
    }
}

/// A controller running in-process.
pub struct RunningController {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), controller::RunError>>,
}

impl RunningController {
    /// Stops it gracefully (as on SIGTERM).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

impl TestCluster {
    /// A cluster with `nodes` fake nodes and the controller running.
    pub async fn start(test: &str, nodes: usize) -> Self {
        Self::start_with(test, nodes, ValidationMode::Auto, |n| n).await
    }

    /// A cluster whose fake nodes are customised by `node` (labels, taints...).
    pub async fn start_with(
        test: &str,
        nodes: usize,
        validation_mode: ValidationMode,
        node: impl Fn(FakeNode) -> FakeNode,
    ) -> Self {
        Self::launch(test, nodes, validation_mode, node, 0.0).await
    }

    /// A cluster whose pods start after a delay spread by `jitter` (a fraction of the start
    /// delay, drawn per pod): pods of one wave start, and crash, at different moments.
    pub async fn start_jittered(test: &str, nodes: usize, jitter: f64) -> Self {
        Self::launch(test, nodes, ValidationMode::Auto, |n| n, jitter).await
    }

    async fn launch(
        test: &str,
        nodes: usize,
        validation_mode: ValidationMode,
        node: impl Fn(FakeNode) -> FakeNode,
        jitter: f64,
    ) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .with_test_writer()
            .try_init();
        let test_id = format!("{test}-{}", std::process::id());
        let (kube_config, sim) = match std::env::var("EDS_TEST_KUBECONFIG") {
            Ok(path) => {
                let kubeconfig = kube::config::Kubeconfig::read_from(&path)
                    .expect("reading EDS_TEST_KUBECONFIG");
                let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                    .await
                    .expect("EDS_TEST_KUBECONFIG is a usable kubeconfig");
                (config, None)
            }
            Err(_) => {
                let sim = SimApiServer::start(Default::default())
                    .await
                    .expect("simulator starts");
                let mut config = kube::Config::new(sim.url().parse().expect("simulator URL"));
                config.default_namespace = "default".into();
                (config, Some(sim))
            }
        };
        let client = Client::try_from(kube_config.clone()).expect("client");
        install_crds(&client).await;
        let namespace = test_id.clone();
        Api::<Namespace>::all(client.clone())
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": namespace}})).unwrap(),
            )
            .await
            .expect("creating the test namespace");
        let node_names: Vec<String> = (0..nodes).map(|i| format!("{test_id}-node-{i}")).collect();
        let mut config = KubeletConfig::default().start_delay(START_DELAY);
        config.jitter = jitter;
        config.nodes = node_names
            .iter()
            .map(|name| node(FakeNode::new(name).label(TEST_NODE_LABEL, &test_id)))
            .collect();
        // On the embedded simulator the kubelet calls it in-process, as in `SimCluster`.
        let kubelet_client = sim
            .as_ref()
            .map_or_else(|| client.clone(), |s| s.local_client());
        let kubelet = SimKubelet::start(kubelet_client, config)
            .await
            .expect("kubelet simulator starts");
        let invariants = Invariants::start(client.clone(), &namespace).await;
        let cleanup = LeftoverCleanup {
            real: sim
                .is_none()
                .then(|| (kube_config.clone(), namespace.clone(), test_id.clone())),
        };
        let mut cluster = TestCluster {
            client,
            kube_config,
            namespace,
            test_id,
            kubelet,
            node_names,
            sim,
            controller: None,
            invariants,
            validation_mode,
            cleanup,
        };
        cluster.start_controller().await;
        cluster
    }

    /// The simulated API server (absent on a real cluster).
    pub fn sim(&self) -> Option<&SimApiServer> {
        self.sim.as_ref()
    }

    /// Starts the controller (in-process, watching the test namespace only).
    pub async fn start_controller(&mut self) {
        assert!(self.controller.is_none(), "controller already running");
        self.controller = Some(self.spawn_controller(&format!("e2e-{}", self.test_id), None));
    }

    /// Starts one more controller instance with `identity`, optionally electing a leader.
    pub fn spawn_controller(
        &self,
        identity: &str,
        leader_election: Option<controller::leader::LeaseSettings>,
    ) -> RunningController {
        let (stop, stopped) = oneshot::channel::<()>();
        let rt = controller::Runtime {
            client: self.client.clone(),
            config: RuntimeConfig {
                scope: WatchScope::Namespaces(vec![self.namespace.clone()]),
                validation_mode: self.validation_mode,
                concurrency: 4,
                max_concurrent_writes: controller::config::DEFAULT_MAX_CONCURRENT_WRITES.into(),
                identity: identity.to_string(),
                expectations_timeout: Duration::from_secs(10),
            },
            metrics_listener: None,
            health_listener: None,
            leader_election,
        };
        let task = tokio::spawn(controller::run(rt, async move {
            let _ = stopped.await;
        }));
        RunningController { stop, task }
    }

    /// Stops the controller, as a crash or a rolling restart of its Deployment would.
    pub async fn stop_controller(&mut self) {
        if let Some(running) = self.controller.take() {
            running.stop().await;
        }
    }

    /// Kills the controller task without a graceful shutdown.
    pub async fn kill_controller(&mut self) {
        if let Some(running) = self.controller.take() {
            running.task.abort();
            let _ = running.task.await;
        }
    }

    /// An ExtendedDaemonSet named `name` running `image`, on this test's nodes, with a short
    /// grace period; `strategy` is the JSON of `spec.strategy`.
    pub fn eds(&self, name: &str, image: &str, strategy: Value) -> ExtendedDaemonSet {
        serde_json::from_value(json!({
            "apiVersion": "datadoghq.com/v1alpha1",
            "kind": "ExtendedDaemonSet",
            "metadata": { "name": name, "namespace": self.namespace },
            "spec": {
                "strategy": strategy,
                "template": {
                    "metadata": { "labels": { "app": name } },
                    "spec": {
                        "terminationGracePeriodSeconds": 1,
                        "nodeSelector": { TEST_NODE_LABEL: self.test_id },
                        "containers": [{ "name": "daemon", "image": image }]
                    }
                }
            }
        }))
        .expect("valid EDS")
    }

    /// Creates or updates an ExtendedDaemonSet with server-side apply, as `kubectl apply
    /// --server-side` does.
    pub async fn apply(&self, eds: &ExtendedDaemonSet) -> ExtendedDaemonSet {
        let mut body = serde_json::to_value(eds).unwrap();
        body.as_object_mut().unwrap().remove("status");
        self.eds_api()
            .patch(
                &eds.name_any(),
                &PatchParams::apply("e2e-user").force(),
                &Patch::Apply(&body),
            )
            .await
            .unwrap_or_else(|e| panic!("applying EDS {}: {e}", eds.name_any()))
    }

    /// Sets (Some) or removes (None) an annotation of an ExtendedDaemonSet, as `kubectl eds`
    /// does.
    pub async fn annotate(&self, eds: &str, key: &str, value: Option<&str>) {
        let patch = json!({ "metadata": { "annotations": { key: value } } });
        self.eds_api()
            .patch(eds, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap_or_else(|e| panic!("annotating EDS {eds}: {e}"));
    }

    pub fn eds_api(&self) -> Api<ExtendedDaemonSet> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub fn ers_api(&self) -> Api<ExtendedDaemonSetReplicaSet> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub fn pod_api(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The ExtendedDaemonSet as stored.
    pub async fn get_eds(&self, name: &str) -> ExtendedDaemonSet {
        self.eds_api()
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("getting EDS {name}: {e}"))
    }

    /// Pods of an ExtendedDaemonSet that are not terminating, by node.
    pub async fn pods_by_node(&self, eds: &str) -> BTreeMap<String, Vec<Pod>> {
        let pods = self
            .pod_api()
            .list(
                &ListParams::default()
                    .labels(&format!("{}={eds}", api::constants::keys::EDS_NAME_LABEL)),
            )
            .await
            .expect("listing pods");
        let mut by_node: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
        for pod in pods
            .items
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
        {
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default();
            by_node.entry(node).or_default().push(pod);
        }
        by_node
    }

    /// Waits until `check` returns `Some`, polling; fails the test with `what` after
    /// [`TIMEOUT`].
    pub async fn wait_for<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            if let Some(v) = check().await {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                let eds = self.eds_api().list(&ListParams::default()).await.map(|l| {
                    l.items
                        .into_iter()
                        .map(|e| (e.name_any(), e.status))
                        .collect::<Vec<_>>()
                });
                panic!("timed out waiting for {what}; EDS statuses: {eds:#?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for a Warning event about the object `name` (with `reason`, when given).
    pub async fn wait_warning(&self, name: &str, reason: Option<&str>) {
        let api = Api::<Event>::namespaced(self.client.clone(), &self.namespace);
        self.wait_for(&format!("a Warning event on {name}"), || async {
            let events = api.list(&ListParams::default()).await.ok()?;
            events
                .items
                .iter()
                .any(|e| {
                    e.type_.as_deref() == Some("Warning")
                        && reason.is_none_or(|r| e.reason.as_deref() == Some(r))
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                })
                .then_some(())
        })
        .await;
    }

    /// Waits until the EDS status satisfies `check`, returning the EDS.
    pub async fn wait_eds(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&ExtendedDaemonSet) -> bool,
    ) -> ExtendedDaemonSet {
        self.wait_for(what, || async {
            let eds = self.eds_api().get(name).await.ok()?;
            check(&eds).then_some(eds)
        })
        .await
    }

    /// Waits until `nodes` nodes run an available pod of `eds`; returns its active ERS.
    pub async fn wait_available(&self, eds: &str, nodes: i32) -> String {
        self.wait_eds(eds, &format!("{eds} available on {nodes} nodes"), |e| {
            e.status.as_ref().is_some_and(|s| s.available == nodes)
        })
        .await
        .status
        .map(|s| s.active_replica_set)
        .unwrap_or_default()
    }

    /// Waits until every node runs one ready pod of `eds` from ERS `ers`.
    pub async fn wait_all_ready_on(&self, eds: &str, ers: &str) {
        let n = self.node_names.len();
        self.wait_for(
            &format!("all {n} nodes running a ready pod of {ers}"),
            || async {
                let by_node = self.pods_by_node(eds).await;
                let ok = self.node_names.iter().all(|node| {
                    by_node.get(node).is_some_and(|pods| {
                        pods.len() == 1 && pod_ers(&pods[0]) == ers && is_ready(&pods[0])
                    })
                });
                ok.then_some(())
            },
        )
        .await
    }

    /// Stops everything; fails the test if an invariant was broken. On a real cluster, deletes
    /// the namespace and the fake nodes.
    pub async fn finish(self) {
        let violations = self.finish_report().await;
        assert!(
            violations.is_empty(),
            "invariants broken:\n{}",
            violations.join("\n")
        );
    }

    /// Stops everything like [`Self::finish`] and returns the broken invariants.
    pub async fn finish_report(mut self) -> Vec<String> {
        self.stop_controller().await;
        let violations = self.invariants.stop().await;
        if self.sim.is_none() {
            let _ = Api::<Namespace>::all(self.client.clone())
                .delete(&self.namespace, &DeleteParams::default())
                .await;
        }
        let _ = self.kubelet.stop().await;
        self.cleanup.real = None;
        if let Some(sim) = self.sim.take() {
            sim.stop().await;
        }
        violations
    }
}

/// Installs (or updates) the three CRDs with server-side apply and waits until they serve.
pub async fn install_crds(client: &Client) {
    kube_sim::cluster::install_crds(client, &eds_api::crds())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let eds: Api<ExtendedDaemonSet> = Api::all(client.clone());
    for _ in 0..100 {
        if eds.list(&ListParams::default().limit(1)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the ExtendedDaemonSet CRD is not served");
}

/// ERS name of a pod (its label).
pub fn pod_ers(pod: &Pod) -> String {
    pod.labels()
        .get(api::constants::keys::ERS_NAME_LABEL)
        .cloned()
        .unwrap_or_default()
}

/// Whether a pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Whether a pod carries the canary label.
pub fn is_canary(pod: &Pod) -> bool {
    pod.labels()
        .get(api::constants::keys::CANARY_LABEL)
        .is_some_and(|v| v == "true")
}
