//! The I/O side of the simulator: shared state, node writes, and the tasks ([`watch`] feeds
//! the [`queue`], [`pods`] processes it, [`bind`] for pending pods).

mod bind;
mod pods;
mod queue;
mod watch;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{
    Api, Client,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
    runtime::reflector::{self, Store},
};
use serde_json::json;
use tokio::task::JoinHandle;

use super::{FIELD_MANAGER, FakeNode, KubeletConfig, KubeletError, node};

/// Namespace of the node leases.
const LEASE_NAMESPACE: &str = "kube-node-lease";

/// State shared by the handle and the tasks.
pub(crate) struct Shared {
    pub client: Client,
    pub config: KubeletConfig,
    /// The fake nodes, as the simulator wants them.
    nodes: Mutex<BTreeMap<String, NodeState>>,
    /// Per pod uid: what the kubelet remembers.
    records: Mutex<HashMap<String, pods::PodRecord>>,
    pub pods: Store<Pod>,
    pods_writer: Mutex<Option<reflector::store::Writer<Pod>>>,
    pub node_store: Store<Node>,
    node_writer: Mutex<Option<reflector::store::Writer<Node>>>,
    pub queue: queue::Queue,
    /// Fake nodes this simulator deleted: pods bound to them later are deleted, as the pod
    /// garbage collector of kube-controller-manager does for pods on nodes that are gone.
    removed: Mutex<BTreeSet<String>>,
    /// Node lease renewals that succeeded.
    renewals: AtomicU64,
}

#[derive(Clone)]
struct NodeState {
    fake: FakeNode,
    uid: Option<String>,
}

impl Shared {
    pub(crate) fn new(client: Client, config: KubeletConfig) -> Arc<Shared> {
        let (pods, pods_writer) = reflector::store();
        let (node_store, node_writer) = reflector::store();
        Arc::new(Shared {
            client,
            config,
            nodes: Mutex::default(),
            records: Mutex::default(),
            pods,
            pods_writer: Mutex::new(Some(pods_writer)),
            node_store,
            node_writer: Mutex::new(Some(node_writer)),
            queue: queue::Queue::default(),
            removed: Mutex::default(),
            renewals: AtomicU64::new(0),
        })
    }

    /// Whether `node` is a fake node this simulator deleted (and did not add again).
    pub(crate) fn was_removed(&self, node: &str) -> bool {
        lock(&self.removed).contains(node)
    }

    pub(crate) fn node_names(&self) -> Vec<String> {
        lock(&self.nodes).keys().cloned().collect()
    }

    pub(crate) fn lease_renewals(&self) -> u64 {
        self.renewals.load(Ordering::Relaxed)
    }

    /// With heartbeats on, creates the namespace of the node leases (real clusters have it).
    pub(crate) async fn prepare_leases(&self) {
        if !self.config.heartbeat_interval.is_zero() {
            watch::ensure_lease_namespace(&self.client).await;
        }
    }

    pub(crate) fn node_count(&self) -> usize {
        lock(&self.nodes).len()
    }

    pub(crate) fn node(&self, name: &str) -> Option<FakeNode> {
        lock(&self.nodes).get(name).map(|s| s.fake.clone())
    }

    fn node_uid(&self, name: &str) -> Option<String> {
        lock(&self.nodes).get(name).and_then(|s| s.uid.clone())
    }

    pub(crate) async fn add_node(&self, fake: FakeNode) -> Result<(), KubeletError> {
        let name = fake.name.clone();
        lock(&self.removed).remove(&name);
        {
            let mut nodes = lock(&self.nodes);
            if nodes.contains_key(&name) {
                return Err(KubeletError::DuplicateNode(name));
            }
            nodes.insert(
                name.clone(),
                NodeState {
                    fake: fake.clone(),
                    uid: None,
                },
            );
        }
        let result = self.register(&fake).await;
        match result {
            Ok(uid) => {
                if let Some(state) = lock(&self.nodes).get_mut(&name) {
                    state.uid = uid;
                }
                self.mark_pods(Some(&name));
                Ok(())
            }
            Err(e) => {
                lock(&self.nodes).remove(&name);
                Err(e)
            }
        }
    }

    /// Creates the node (or takes over an existing one) and writes its status.
    async fn register(&self, fake: &FakeNode) -> Result<Option<String>, KubeletError> {
        let api: Api<Node> = Api::all(self.client.clone());
        let now = Timestamp::now();
        let object = node::node_object(fake, now);
        let created = match api.create(&post_params(), &object).await {
            Ok(created) => created,
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let patch = serde_json::to_value(&object).unwrap_or_default();
                let params = patch_params();
                api.patch(&fake.name, &params, &Patch::Merge(patch))
                    .await
                    .map_err(|source| KubeletError::CreateNode {
                        node: fake.name.clone(),
                        source,
                    })?
            }
            Err(source) => {
                return Err(KubeletError::CreateNode {
                    node: fake.name.clone(),
                    source,
                });
            }
        };
        self.write_node_status(fake, created.status.as_ref())
            .await?;
        // As a kubelet does once its node is registered: a node without a lease would look
        // unreachable to a node lifecycle controller until its first renewal.
        if !self.config.heartbeat_interval.is_zero() {
            watch::create_lease(&self.client, &fake.name, created.metadata.uid.clone())
                .await
                .map_err(|source| KubeletError::CreateLease {
                    node: fake.name.clone(),
                    source,
                })?;
        }
        Ok(created.metadata.uid)
    }

    async fn write_node_status(
        &self,
        fake: &FakeNode,
        old: Option<&k8s_openapi::api::core::v1::NodeStatus>,
    ) -> Result<(), KubeletError> {
        let api: Api<Node> = Api::all(self.client.clone());
        let status = node::node_status(fake, old, Timestamp::now());
        let patch = json!({"status": status});
        api.patch_status(&fake.name, &patch_params(), &Patch::Merge(patch))
            .await
            .map_err(|source| KubeletError::UpdateNode {
                node: fake.name.clone(),
                source,
            })?;
        Ok(())
    }

    pub(crate) async fn update_node(
        &self,
        name: &str,
        edit: impl FnOnce(&mut FakeNode),
    ) -> Result<(), KubeletError> {
        let (before, after) = {
            let mut nodes = lock(&self.nodes);
            let state = nodes
                .get_mut(name)
                .ok_or_else(|| KubeletError::UnknownNode(name.to_string()))?;
            let before = state.fake.clone();
            edit(&mut state.fake);
            state.fake.name = name.to_string();
            (before, state.fake.clone())
        };
        let api: Api<Node> = Api::all(self.client.clone());
        let patch = node::metadata_patch(&before, &after, Timestamp::now());
        let updated = api
            .patch(name, &patch_params(), &Patch::Merge(patch))
            .await
            .map_err(|source| KubeletError::UpdateNode {
                node: name.to_string(),
                source,
            })?;
        if before.ready != after.ready || before.capacity != after.capacity {
            self.write_node_status(&after, updated.status.as_ref())
                .await?;
        }
        self.mark_pods(Some(name));
        Ok(())
    }

    pub(crate) async fn remove_node(&self, name: &str) -> Result<(), KubeletError> {
        // A removal whose API calls failed part-way is retried in full: the node is already
        // out of the map, but its Node object, pods or Lease may still be there.
        let known = lock(&self.nodes).remove(name).is_some();
        if !known && !self.was_removed(name) {
            return Err(KubeletError::UnknownNode(name.to_string()));
        }
        lock(&self.removed).insert(name.to_string());
        let delete_error = |source| KubeletError::DeleteNode {
            node: name.to_string(),
            source,
        };
        let nodes: Api<Node> = Api::all(self.client.clone());
        match nodes.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(delete_error(e)),
        }
        // Pod garbage collection deletes the pods of a node that is gone.
        let pods: Api<Pod> = Api::all(self.client.clone());
        let bound = ListParams::default().fields(&format!("spec.nodeName={name}"));
        let list = pods.list(&bound).await.map_err(delete_error)?;
        for pod in list {
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
            let pod_name = pod.metadata.name.clone().unwrap_or_default();
            match api
                .delete(&pod_name, &DeleteParams::default().grace_period(0))
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(delete_error(e)),
            }
        }
        let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
            Api::namespaced(self.client.clone(), LEASE_NAMESPACE);
        match leases.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(delete_error(e)),
        }
    }

    /// Marks for processing the pods bound to `node` (all bound pods for `None`) and every
    /// unbound pod, which a node change may make schedulable.
    pub(crate) fn mark_pods(&self, node: Option<&str>) {
        for pod in self.pods.state() {
            let bound_to = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
            let wanted = match (bound_to, node) {
                (None, _) => true,
                (Some(_), None) => true,
                (Some(b), Some(n)) => b == n,
            };
            if wanted {
                self.queue.mark(pods::key(&pod));
            }
        }
    }
}

/// Starts the watchers and the pod loop (returned first), and the heartbeats (returned
/// second, when on).
pub(crate) fn spawn(shared: Arc<Shared>) -> (Vec<JoinHandle<()>>, Option<JoinHandle<()>>) {
    let pods_writer = lock(&shared.pods_writer).take();
    let node_writer = lock(&shared.node_writer).take();
    let mut tasks = Vec::new();
    if let (Some(pods_writer), Some(node_writer)) = (pods_writer, node_writer) {
        tasks.push(tokio::spawn(watch::pods(shared.clone(), pods_writer)));
        tasks.push(tokio::spawn(watch::nodes(shared.clone(), node_writer)));
    }
    tasks.push(tokio::spawn(pods::run(shared.clone())));
    let heartbeats = (!shared.config.heartbeat_interval.is_zero())
        .then(|| tokio::spawn(watch::heartbeats(shared)));
    (tasks, heartbeats)
}

/// The request builder of the pods of `namespace`.
fn pod_request(namespace: &str) -> kube::core::Request {
    use kube::Resource;
    kube::core::Request::new(Pod::url_path(&(), Some(namespace)))
}

/// Sends a write to a pod without decoding the answer: the simulator never reads the pod the
/// API server returns, and decoding it costs about as much as the write. Errors are reported
/// as [`Api`] calls report them.
async fn send_pod_write(
    client: &Client,
    request: Result<axum::http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<(), kube::Error> {
    let request = request.map_err(kube::Error::BuildRequest)?;
    client.request_text(request).await.map(|_| ())
}

/// Patch parameters of every write, naming the simulator as field manager.
fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    }
}

/// Create parameters of every write, naming the simulator as field manager.
fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PostParams::default()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded maps stay consistent even if a holder panicked: keep going.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
