//! One watch scope (a namespace, or the whole cluster): its caches, its kube-runtime
//! Controller with the watches that re-queue an ExtendedDaemonSet, and its Setting-orphan loop.

use std::{sync::Arc, time::Duration};

use futures::{StreamExt, channel::mpsc};
use k8s_openapi::api::{
    apps::v1::DaemonSet,
    core::v1::{Node, Pod},
};
use kube::{
    Client, ResourceExt,
    runtime::{
        Controller,
        controller::Config as ControllerConfig,
        events::Recorder,
        reflector::{ObjectRef, Store},
        watcher,
    },
};
use lean_objects::Lean;
use tokio::sync::watch;

use super::{
    caches::{self, ScopeStores},
    config::RuntimeConfig,
    error::RunError,
    health::Readiness,
    metrics::Metrics,
    orphans,
    reconcile::{Context, error_policy, reconcile},
};
use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting,
    constants::keys::EDS_NAME_LABEL,
};

/// A task of a scope, run until shutdown.
pub type TaskFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), RunError>> + Send>>;

/// What every scope shares: the client, the configuration, the node cache, the event
/// recorder, the metrics, the leadership, the shutdown signal and the readiness flag.
pub struct Shared<'a> {
    /// API client.
    pub client: &'a Client,
    /// Runtime configuration.
    pub config: &'a RuntimeConfig,
    /// The node cache (one for every scope: nodes are cluster-scoped).
    pub nodes: caches::NodeDigests,
    /// Event recorder.
    pub recorder: &'a Recorder,
    /// Metrics.
    pub metrics: &'a Metrics,
    /// `true` while this replica may write.
    pub leader: watch::Receiver<bool>,
    /// The deadline of the leadership (see [`crate::leader::Leadership::deadline`]).
    pub lease_deadline: watch::Receiver<Option<tokio::time::Instant>>,
    /// Turns `true` at shutdown.
    pub shutdown: &'a watch::Receiver<bool>,
    /// Set once every cache synced.
    pub readiness: &'a Readiness,
}

/// The caches and tasks of one watch scope (a namespace, or the whole cluster).
pub struct Scope {
    /// Its caches.
    pub stores: ScopeStores,
    /// Re-queues an ExtendedDaemonSet of the scope (the node fan-out).
    pub node_tx: mpsc::UnboundedSender<ObjectRef<ExtendedDaemonSet>>,
    /// Its controller and Setting-orphan loop.
    pub futures: Vec<TaskFuture>,
}

/// Starts the caches and the controller of `namespace` (`None`: the whole cluster).
pub fn start_scope(namespace: Option<&str>, shared: &Shared<'_>) -> Scope {
    let Shared {
        client,
        config,
        ref nodes,
        recorder,
        metrics,
        ref leader,
        ref lease_deadline,
        shutdown,
        readiness,
    } = *shared;
    // Series of deleted objects go with the watch's deletion, within one reconcile of it.
    let (m1, m2, m3, m4) = (
        metrics.clone(),
        metrics.clone(),
        metrics.clone(),
        metrics.clone(),
    );
    let (eds_store, eds_stream) = caches::reflect_forgetting(
        caches::scoped_api::<Lean<ExtendedDaemonSet>>(client, namespace),
        watcher::Config::default(),
        move |ns, name| m1.forget_eds(ns, name),
        move |store: &Store<ExtendedDaemonSet>| {
            m2.eds.retain(|ns, name| in_store(store, ns, name));
        },
    );
    let (ers_store, ers_stream) = caches::reflect_forgetting(
        caches::scoped_api::<Lean<ExtendedDaemonSetReplicaSet>>(client, namespace),
        watcher::Config::default(),
        move |ns, name| m3.forget_ers(ns, name),
        move |store: &Store<ExtendedDaemonSetReplicaSet>| {
            m4.ers.retain(|ns, name| in_store(store, ns, name));
        },
    );
    let pod_digests = caches::PodDigests::default();
    let (pod_store, pod_stream) = caches::reflect_pods(
        caches::scoped_api::<Lean<Pod>>(client, namespace),
        pod_digests.clone(),
    );
    let (settings_store, settings_stream) = caches::reflect(
        caches::scoped_api::<Lean<ExtendedDaemonsetSetting>>(client, namespace),
        watcher::Config::default(),
    );
    let (ds_store, ds_stream) = caches::reflect(
        caches::scoped_api::<Lean<DaemonSet>>(client, namespace),
        watcher::Config::default(),
    );
    let stores = ScopeStores {
        eds: eds_store.clone(),
        ers: ers_store,
        pods: pod_store,
        pod_digests,
        settings: settings_store,
        daemonsets: ds_store,
    };
    let (node_tx, node_rx) = mpsc::unbounded();
    let (setting_tx, setting_rx) = mpsc::unbounded();
    let settings_stream = settings_stream.inspect(move |_| {
        // The orphan loop only needs to know that something changed.
        let _ = setting_tx.unbounded_send(());
    });

    let ctx = Arc::new(Context {
        client: client.clone(),
        recorder: recorder.clone(),
        metrics: metrics.clone(),
        config: config.clone(),
        stores: stores.clone(),
        nodes: nodes.clone(),
        leader: leader.clone(),
        lease_deadline: lease_deadline.clone(),
        synced: readiness.clone(),
        expectations: Default::default(),
        pacing: crate::pacing::Pacing::new(crate::pacing::STATUS_PROGRESS_INTERVAL),
        spacing: crate::pacing::Pacing::new(crate::pacing::RECONCILE_SPACING),
        state: Default::default(),
        failures: Default::default(),
        execute_limit: super::reconcile::EXECUTE_LIMIT,
    });

    let (orphan_ctx, orphan_stop, synced) = (ctx.clone(), shutdown.clone(), readiness.clone());
    let eds_for_ds = eds_store.clone();
    let mut stop = shutdown.clone();
    let controller = Controller::for_stream(eds_stream, eds_store)
        .with_config(
            ControllerConfig::default()
                .concurrency(config.concurrency)
                .debounce(Duration::ZERO),
        )
        .owns_stream(ers_stream)
        .watches_stream(pod_stream, |pod: Pod| {
            let ns = pod.namespace()?;
            pod.labels()
                .get(EDS_NAME_LABEL)
                .map(|name| ObjectRef::new(name).within(&ns))
        })
        .watches_stream(settings_stream, |s: ExtendedDaemonsetSetting| {
            Some(ObjectRef::new(&s.spec.reference.name).within(&s.namespace()?))
        })
        .watches_stream(ds_stream, move |ds: DaemonSet| {
            let ns = ds.namespace();
            let name = ds.name_any();
            eds_for_ds
                .state()
                .into_iter()
                .filter(|e| {
                    e.namespace() == ns
                        && eds_plan::Steering::of(e).old_daemonset.as_ref() == Some(&name)
                })
                .map(|e| ObjectRef::from_obj(&*e))
                .collect::<Vec<_>>()
        })
        .reconcile_on(node_rx)
        .graceful_shutdown_on(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "reconcile dispatch");
            }
        });

    Scope {
        stores,
        node_tx,
        futures: vec![
            Box::pin(async move {
                controller.await;
                Ok(())
            }),
            Box::pin(async move {
                orphans::run(orphan_ctx, synced, setting_rx, orphan_stop).await;
                Ok(())
            }),
        ],
    }
}

/// EDSs of a scope that may run a pod on `node` now, or run one there already.
pub fn eds_for_node(stores: &ScopeStores, node: &Node) -> Vec<ObjectRef<ExtendedDaemonSet>> {
    let node_name = node.name_any();
    let mut with_pod: std::collections::BTreeSet<(String, String)> = Default::default();
    for pod in stores.pods.state() {
        if pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(&node_name)
            && let (Some(ns), Some(eds)) = (pod.namespace(), pod.labels().get(EDS_NAME_LABEL))
        {
            with_pod.insert((ns, eds.clone()));
        }
    }
    stores
        .eds
        .state()
        .into_iter()
        .filter(|eds| {
            with_pod.contains(&(eds.namespace().unwrap_or_default(), eds.name_any()))
                || may_select(eds, node)
        })
        .map(|eds| ObjectRef::from_obj(&*eds))
        .collect()
}

/// Cheap pre-filter of the planner's placement: the EDS node selector and the template's
/// `nodeSelector` match the node's labels. Affinity and taints are left to the planner, so this
/// may re-queue an EDS that ends up not running on the node, never miss one that does.
fn may_select(eds: &ExtendedDaemonSet, node: &Node) -> bool {
    use kube::core::{Selector, SelectorExt};
    let labels = node.labels();
    let selector_ok = match &eds.spec.selector {
        None => true,
        Some(s) => Selector::try_from(s.clone()).map_or(true, |s| s.matches(labels)),
    };
    let node_selector_ok = eds
        .spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.as_ref())
        .is_none_or(|ns| ns.iter().all(|(k, v)| labels.get(k) == Some(v)));
    selector_ok && node_selector_ok
}

/// Whether `store` holds object `namespace/name`.
fn in_store<K>(store: &Store<K>, namespace: &str, name: &str) -> bool
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    store.get(&ObjectRef::new(name).within(namespace)).is_some()
}
