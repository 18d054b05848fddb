//! Watch caches (kube-rs reflectors) and what is stripped from them to keep memory flat.

use std::{
    collections::{BTreeMap, HashMap, hash_map::DefaultHasher},
    hash::{Hash, Hasher},
    sync::{Arc, Mutex},
};

use futures::{Stream, StreamExt, TryStreamExt};
use k8s_openapi::api::{
    apps::v1::DaemonSet,
    core::v1::{Node, Pod},
};
use kube::{
    Api, Client, Resource, ResourceExt,
    runtime::{
        WatchStreamExt,
        reflector::{self, Store},
        watcher,
    },
};
use serde::de::DeserializeOwned;

use eds_plan::{PodDigest, digest::NodeDigest};
use lean_objects::Lean;

use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting,
    constants::keys::{EDS_NAME_LABEL, NODE_RESOURCES_ANNOTATION_PREFIX},
};

/// The caches of one watch scope (all namespaces, or one namespace).
#[derive(Clone)]
pub struct ScopeStores {
    pub eds: Store<ExtendedDaemonSet>,
    pub ers: Store<ExtendedDaemonSetReplicaSet>,
    pub pods: Store<Pod>,
    /// A digest of each pod of `pods`, grouped by ExtendedDaemonSet.
    pub pod_digests: PodDigests,
    pub settings: Store<ExtendedDaemonsetSetting>,
    pub daemonsets: Store<DaemonSet>,
}

/// The pods of one ExtendedDaemonSet in [`PodDigests`], by pod name.
type Group = HashMap<Box<str>, Arc<PodDigest>, foldhash::fast::FixedState>;

/// What the planner reads of each cached pod ([`PodDigest`]), grouped by the ExtendedDaemonSet
/// its label names. Kept up to date from the pod watch, one digest computed per event, so that
/// a reconcile neither scans the whole pod cache for the pods of its ExtendedDaemonSet nor
/// digests them again. Each digest shares its pod with the pod cache.
#[derive(Clone, Default)]
pub struct PodDigests {
    inner: Arc<Mutex<DigestIndex>>,
}

#[derive(Default)]
struct DigestIndex {
    /// Pods by `namespace/eds`.
    groups: HashMap<Arc<str>, Group, foldhash::fast::FixedState>,
    /// The group of each pod, by `namespace/pod`: a pod whose EDS label changed leaves the
    /// group it was in. The group's key is shared with `groups`, not copied per pod.
    group_of: HashMap<Box<str>, Arc<str>, foldhash::fast::FixedState>,
}

impl DigestIndex {
    fn insert(&mut self, pod: Arc<Pod>) {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let pod_key: Box<str> = format!("{ns}/{name}").into();
        let group = pod.labels().get(EDS_NAME_LABEL).map(|eds| {
            let key = format!("{ns}/{eds}");
            match self.groups.get_key_value(key.as_str()) {
                Some((shared, _)) => Arc::clone(shared),
                None => Arc::from(key),
            }
        });
        let previous = match &group {
            Some(g) => self.group_of.insert(pod_key, Arc::clone(g)),
            None => self.group_of.remove(&pod_key),
        };
        if let Some(p) = previous.filter(|p| Some(p) != group.as_ref()) {
            self.remove_from(&p, name);
        }
        if let Some(g) = group {
            let name: Box<str> = name.into();
            let digest = Arc::new(PodDigest::new(pod));
            self.groups.entry(g).or_default().insert(name, digest);
        }
    }

    fn remove(&mut self, ns: &str, name: &str) {
        if let Some(g) = self.group_of.remove(format!("{ns}/{name}").as_str()) {
            self.remove_from(&g, name);
        }
    }

    fn remove_from(&mut self, group: &str, name: &str) {
        if let Some(pods) = self.groups.get_mut(group) {
            pods.remove(name);
            if pods.is_empty() {
                self.groups.remove(group);
            }
        }
    }
}

impl PodDigests {
    /// The digests of the pods of the ExtendedDaemonSet `ns/eds`.
    pub fn of(&self, ns: &str, eds: &str) -> Vec<Arc<PodDigest>> {
        let index = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        index
            .groups
            .get(format!("{ns}/{eds}").as_str())
            .map(|g| g.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Applies a watch event, after the reflector applied it to `store`: the digest shares the
    /// pod the store holds. A re-list is taken whole when it ends, as the store swaps it in.
    pub fn apply(&self, event: &watcher::Event<Pod>, store: &Store<Pod>) {
        let mut index = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            watcher::Event::Apply(pod) => {
                let cached = store.get(&reflector::ObjectRef::from_obj(pod));
                index.insert(cached.unwrap_or_else(|| Arc::new(pod.clone())));
            }
            watcher::Event::Delete(pod) => index.remove(
                pod.metadata.namespace.as_deref().unwrap_or_default(),
                pod.metadata.name.as_deref().unwrap_or_default(),
            ),
            watcher::Event::InitDone => {
                *index = DigestIndex::default();
                for pod in store.state() {
                    index.insert(pod);
                }
            }
            watcher::Event::Init | watcher::Event::InitApply(_) => {}
        }
    }
}

/// What the planner reads of each node ([`NodeDigest`]), by name: the controller's only copy
/// of the nodes. Kept up to date from the node watch, one digest computed per event (a
/// heartbeat leaves an equal digest, which is not replaced), so that a reconcile neither copies
/// nor digests the nodes again. A re-list is taken whole when it ends, as a reflector's store
/// swaps it in.
#[derive(Clone)]
pub struct NodeDigests {
    inner: Arc<Mutex<NodeIndex>>,
    /// `true` once the first list is complete.
    ready: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for NodeDigests {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            ready: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

#[derive(Default)]
struct NodeIndex {
    /// Digests by node name (the planner reads them in name order: a sorted list sorts fast).
    nodes: BTreeMap<String, Arc<NodeDigest>>,
    /// The list under way, between `Init` and `InitDone`.
    listing: Option<BTreeMap<String, Arc<NodeDigest>>>,
}

impl NodeIndex {
    /// Puts the digest of `node` in `into`, unless an equal one is there already.
    fn insert(into: &mut BTreeMap<String, Arc<NodeDigest>>, node: &Node) {
        let digest = NodeDigest::new(node);
        match into.get_mut(digest.name()) {
            Some(old) if **old == digest => {}
            Some(old) => *old = Arc::new(digest),
            None => {
                into.insert(digest.name().to_string(), Arc::new(digest));
            }
        }
    }
}

impl NodeDigests {
    /// The digests of every node, in name order.
    pub fn all(&self) -> Vec<Arc<NodeDigest>> {
        let index = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        index.nodes.values().cloned().collect()
    }

    /// Applies a node watch event.
    pub fn apply(&self, event: &watcher::Event<Node>) {
        let mut index = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            watcher::Event::Apply(node) => NodeIndex::insert(&mut index.nodes, node),
            watcher::Event::Delete(node) => {
                index
                    .nodes
                    .remove(node.metadata.name.as_deref().unwrap_or_default());
            }
            watcher::Event::Init => {
                index.listing = Some(BTreeMap::new());
            }
            watcher::Event::InitApply(node) => {
                // The previous list's digest is kept when equal: most are, after a re-list.
                let NodeIndex { nodes, listing } = &mut *index;
                let listing = listing.get_or_insert_with(BTreeMap::new);
                let name = node.metadata.name.as_deref().unwrap_or_default();
                if let Some(old) = nodes.get(name) {
                    listing.insert(name.to_string(), Arc::clone(old));
                }
                NodeIndex::insert(listing, node);
            }
            watcher::Event::InitDone => {
                index.nodes = index.listing.take().unwrap_or_default();
                drop(index);
                self.ready.send_replace(true);
            }
        }
    }

    /// Waits until the first list is complete.
    pub async fn until_ready(&self) {
        let mut ready = self.ready.subscribe();
        // The sender lives as long as `self`: the wait cannot fail.
        let _ = ready.wait_for(|r| *r).await;
    }
}

/// Api for `K` in `namespace`, or in all namespaces.
pub fn scoped_api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A reflector stream of `api`, objects decoded without their managedFields ([`Lean`]): applied
/// and deleted objects, so that the final deletion of a pod (which lets the next pod on its node
/// start) re-queues its owner.
pub fn reflect<K>(
    api: Api<Lean<K>>,
    config: watcher::Config,
) -> (
    Store<K>,
    impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .map_ok(lean_objects::inner_event)
        .reflect(writer)
        .touched_objects();
    (reader, stream)
}

/// [`reflect`], telling when objects go: `forget(namespace, name)` on each watch deletion, and
/// `retain(store)` after each (re-)list, which reports no deletion of its own. The metrics of
/// a deleted object go this way: no reconcile runs for an object that is gone.
pub fn reflect_forgetting<K, F, R>(
    api: Api<Lean<K>>,
    config: watcher::Config,
    forget: F,
    retain: R,
) -> (
    Store<K>,
    impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    F: Fn(&str, &str) + Send + 'static,
    R: Fn(&Store<K>) + Send + 'static,
{
    let (reader, writer) = reflector::store();
    let store = reader.clone();
    let stream = watcher(api, config)
        .default_backoff()
        .map_ok(lean_objects::inner_event)
        .reflect(writer)
        // The reflector has applied the event to the store when it passes it on.
        .inspect_ok(move |event| match event {
            watcher::Event::Delete(obj) => {
                forget(
                    obj.namespace().as_deref().unwrap_or_default(),
                    &obj.name_any(),
                );
            }
            watcher::Event::InitDone => retain(&store),
            _ => {}
        })
        .applied_objects();
    (reader, stream)
}

/// [`reflect`] for pods, keeping `digests` up to date with the store.
pub fn reflect_pods(
    api: Api<Lean<Pod>>,
    digests: PodDigests,
) -> (
    Store<Pod>,
    impl Stream<Item = Result<Pod, watcher::Error>> + Send + 'static,
) {
    let (reader, writer) = reflector::store();
    let store = reader.clone();
    let stream = watcher(api, pod_watch_config())
        .default_backoff()
        .map_ok(lean_objects::inner_event)
        .reflect(writer)
        // The reflector has applied the event to the store when it passes it on.
        .inspect_ok(move |event| digests.apply(event, &store))
        .touched_objects();
    (reader, stream)
}

/// Watcher configuration for the pods of ExtendedDaemonSets (those carrying the EDS label).
pub fn pod_watch_config() -> watcher::Config {
    watcher::Config::default().labels(EDS_NAME_LABEL)
}

/// Removes from a node what the planner never reads and that dominates its size.
pub fn strip_node(node: &mut Node) {
    node.managed_fields_mut().clear();
    if let Some(status) = node.status.as_mut() {
        status.images = None;
    }
}

/// Hash of the node fields that decide which pods it runs: labels, taints, unschedulable,
/// readiness and resource-override annotations. Heartbeats change none of them, so they do not
/// re-queue anything.
pub fn node_fingerprint(node: &Node) -> u64 {
    let mut h = DefaultHasher::new();
    node.labels().hash(&mut h);
    node.annotations()
        .iter()
        .filter(|(k, _)| k.starts_with(NODE_RESOURCES_ANNOTATION_PREFIX))
        .for_each(|kv| kv.hash(&mut h));
    if let Some(spec) = &node.spec {
        spec.unschedulable.hash(&mut h);
        if let Some(taints) = &spec.taints {
            for t in taints {
                (&t.key, &t.value, &t.effect).hash(&mut h);
            }
        }
    }
    if let Some(conditions) = node.status.as_ref().and_then(|s| s.conditions.as_ref()) {
        for c in conditions.iter().filter(|c| c.type_ == "Ready") {
            c.status.hash(&mut h);
        }
    }
    node.metadata.deletion_timestamp.is_some().hash(&mut h);
    h.finish()
}

/// A raw node watch (stripped), keeping `digests` up to date, yielding every event.
pub fn node_events(
    client: &Client,
    digests: NodeDigests,
) -> impl Stream<Item = Result<watcher::Event<Node>, watcher::Error>> + Send + 'static {
    watcher(
        Api::<Lean<Node>>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .map_ok(lean_objects::inner_event)
    .modify(strip_node)
    .inspect_ok(move |event| digests.apply(event))
}

/// Waits until every store of a scope has its first full list.
pub async fn wait_ready(stores: &ScopeStores) -> Result<(), reflector::store::WriterDropped> {
    until_ready(&stores.eds).await?;
    until_ready(&stores.ers).await?;
    until_ready(&stores.pods).await?;
    until_ready(&stores.settings).await?;
    until_ready(&stores.daemonsets).await?;
    Ok(())
}

/// `store.wait_until_ready()`, polled again every 200 ms. That future wakes only the task that
/// polled it last (kube-runtime keeps one waker per store), and the kube Controller waits on
/// the EDS store too: a second waiter could otherwise sleep forever, and `/readyz` with it.
pub async fn until_ready<K>(store: &Store<K>) -> Result<(), reflector::store::WriterDropped>
where
    K: reflector::Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    loop {
        let wait = tokio::time::timeout(READY_POLL, store.wait_until_ready());
        if let Ok(ready) = wait.await {
            return ready;
        }
    }
}

/// How often [`until_ready`] polls.
const READY_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Drains a stream, logging errors (the watcher retries with backoff on its own).
pub async fn drain<S, T>(stream: S, what: &'static str)
where
    S: Stream<Item = Result<T, watcher::Error>>,
{
    stream
        .inspect_err(|e| tracing::warn!(error = %e, watch = what, "watch error; retrying"))
        .for_each(|_| futures::future::ready(()))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeCondition, NodeStatus};

    fn pod(name: &str, eds: Option<&str>, node: &str) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.namespace = Some("ns".into());
        pod.metadata.name = Some(name.into());
        if let Some(eds) = eds {
            pod.labels_mut().insert(EDS_NAME_LABEL.into(), eds.into());
        }
        pod.spec = Some(k8s_openapi::api::core::v1::PodSpec {
            node_name: Some(node.into()),
            ..Default::default()
        });
        pod
    }

    /// Applies `event` to the store, then to the digests, as the pod stream does.
    fn apply(
        writer: &mut reflector::store::Writer<Pod>,
        store: &Store<Pod>,
        digests: &PodDigests,
        event: watcher::Event<Pod>,
    ) {
        writer.apply_watcher_event(&event);
        digests.apply(&event, store);
    }

    /// `(pod, node)` of the digests of `ns/eds`, sorted.
    fn group(digests: &PodDigests, eds: &str) -> Vec<(String, String)> {
        let mut pods: Vec<(String, String)> = digests
            .of("ns", eds)
            .iter()
            .map(|d| {
                (
                    d.name().to_string(),
                    d.node().unwrap_or_default().to_string(),
                )
            })
            .collect();
        pods.sort();
        pods
    }

    #[test]
    fn pod_digests_follow_the_watch() {
        let (store, mut writer) = reflector::store::<Pod>();
        let digests = PodDigests::default();
        let w = &mut writer;
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        apply(w, &store, &digests, watcher::Event::Init);
        for p in [pod("a", Some("foo"), "n1"), pod("b", Some("bar"), "n2")] {
            apply(w, &store, &digests, watcher::Event::InitApply(p));
        }
        // A re-list shows once it is complete, as the store does.
        assert!(group(&digests, "foo").is_empty());
        apply(w, &store, &digests, watcher::Event::InitDone);
        assert_eq!(group(&digests, "foo"), vec![pair("a", "n1")]);
        assert_eq!(group(&digests, "bar"), vec![pair("b", "n2")]);
        // The digest shares the cached pod.
        let cached = store
            .get(&reflector::ObjectRef::new("a").within("ns"))
            .unwrap();
        assert!(Arc::ptr_eq(digests.of("ns", "foo")[0].pod(), &cached));

        // An update replaces the digest; a changed EDS label moves the pod.
        apply(
            w,
            &store,
            &digests,
            watcher::Event::Apply(pod("a", Some("foo"), "n3")),
        );
        assert_eq!(group(&digests, "foo"), vec![pair("a", "n3")]);
        apply(
            w,
            &store,
            &digests,
            watcher::Event::Apply(pod("b", Some("foo"), "n2")),
        );
        assert_eq!(
            group(&digests, "foo"),
            vec![pair("a", "n3"), pair("b", "n2")]
        );
        assert!(group(&digests, "bar").is_empty());
        apply(
            w,
            &store,
            &digests,
            watcher::Event::Delete(pod("a", Some("foo"), "n3")),
        );
        assert_eq!(group(&digests, "foo"), vec![pair("b", "n2")]);

        // A re-list drops what it no longer lists.
        apply(w, &store, &digests, watcher::Event::Init);
        apply(
            w,
            &store,
            &digests,
            watcher::Event::InitApply(pod("c", Some("bar"), "n1")),
        );
        apply(w, &store, &digests, watcher::Event::InitDone);
        assert!(group(&digests, "foo").is_empty());
        assert_eq!(group(&digests, "bar"), vec![pair("c", "n1")]);
    }

    fn labelled(name: &str, zone: &str) -> Node {
        let mut node = Node::default();
        node.metadata.name = Some(name.into());
        node.labels_mut().insert("zone".into(), zone.into());
        node
    }

    /// `(name, zone label)` of every digest, in the order a snapshot gets them.
    fn zones(digests: &NodeDigests) -> Vec<(String, String)> {
        digests
            .all()
            .iter()
            .map(|d| {
                let zone = d.label("zone").unwrap_or_default();
                (d.name().to_string(), zone.to_string())
            })
            .collect()
    }

    #[tokio::test]
    async fn node_digests_follow_the_watch() {
        let digests = NodeDigests::default();
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        digests.apply(&watcher::Event::Init);
        for n in [labelled("n2", "b"), labelled("n1", "a")] {
            digests.apply(&watcher::Event::InitApply(n));
        }
        // A list shows once it is complete, and the cache is ready then.
        assert!(zones(&digests).is_empty());
        let ready = digests.clone();
        let wait = tokio::spawn(async move { ready.until_ready().await });
        tokio::task::yield_now().await;
        assert!(!wait.is_finished());
        digests.apply(&watcher::Event::InitDone);
        tokio::time::timeout(std::time::Duration::from_secs(10), wait)
            .await
            .expect("ready once listed")
            .expect("no panic");
        assert_eq!(zones(&digests), vec![pair("n1", "a"), pair("n2", "b")]);

        // An update that changes nothing the planner reads keeps the digest; a label change
        // replaces it.
        let before = digests.all();
        let mut heartbeat = labelled("n1", "a");
        heartbeat.status = Some(Default::default());
        digests.apply(&watcher::Event::Apply(heartbeat));
        assert!(Arc::ptr_eq(&before[0], &digests.all()[0]));
        digests.apply(&watcher::Event::Apply(labelled("n1", "c")));
        assert_eq!(zones(&digests), vec![pair("n1", "c"), pair("n2", "b")]);
        digests.apply(&watcher::Event::Apply(labelled("n0", "a")));
        digests.apply(&watcher::Event::Delete(labelled("n2", "b")));
        assert_eq!(zones(&digests), vec![pair("n0", "a"), pair("n1", "c")]);

        // A re-list drops what it no longer lists and keeps the digests that did not change.
        let before = digests.all();
        digests.apply(&watcher::Event::Init);
        digests.apply(&watcher::Event::InitApply(labelled("n1", "c")));
        digests.apply(&watcher::Event::InitApply(labelled("n3", "d")));
        assert_eq!(zones(&digests), vec![pair("n0", "a"), pair("n1", "c")]);
        digests.apply(&watcher::Event::InitDone);
        assert_eq!(zones(&digests), vec![pair("n1", "c"), pair("n3", "d")]);
        assert!(Arc::ptr_eq(&before[1], &digests.all()[0]));
    }

    #[test]
    fn heartbeats_do_not_change_the_fingerprint() {
        let mut node = Node::default();
        node.metadata.name = Some("n1".into());
        node.status = Some(NodeStatus {
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                ..Default::default()
            }]),
            ..Default::default()
        });
        let before = node_fingerprint(&node);
        node.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].last_heartbeat_time = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()),
        );
        assert_eq!(before, node_fingerprint(&node));
        node.labels_mut().insert("zone".into(), "a".into());
        assert_ne!(before, node_fingerprint(&node));
    }
}
