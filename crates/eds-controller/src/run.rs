//! Wiring of the running controller: caches, one kube-runtime Controller per watch scope, the
//! node fan-out, the Setting status loop, leader election, HTTP endpoints and shutdown.

use std::{collections::HashMap, sync::Arc, time::Duration};

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
        events::{Recorder, Reporter},
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};
use tokio::sync::watch;

use super::{
    caches::{self, ScopeStores},
    config::RuntimeConfig,
    health::{self, Readiness},
    leader,
    metrics::Metrics,
    orphans,
    reconcile::{Context, error_policy, reconcile},
};
use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting,
    constants::keys::EDS_NAME_LABEL,
};

/// Listeners and options of a running controller.
pub struct Runtime {
    pub client: Client,
    pub config: RuntimeConfig,
    /// Listener for `/metrics`, if served.
    pub metrics_listener: Option<tokio::net::TcpListener>,
    /// Listener for `/healthz` and `/readyz`, if served.
    pub health_listener: Option<tokio::net::TcpListener>,
    /// Leader election settings; `None` means this replica always writes.
    pub leader_election: Option<leader::LeaseSettings>,
}

/// Runs the controller until `shutdown` resolves.
pub async fn run(
    rt: Runtime,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (metrics, registry) = Metrics::with_registry();
    let registry = Arc::new(registry);
    let readiness = Readiness::default();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();

    if let Some(listener) = rt.metrics_listener {
        tasks.spawn(async move {
            health::serve_metrics(listener, registry)
                .await
                .map_err(anyhow::Error::from)
        });
    }
    if let Some(listener) = rt.health_listener {
        let readiness = readiness.clone();
        tasks.spawn(async move {
            health::serve_health(listener, readiness)
                .await
                .map_err(anyhow::Error::from)
        });
    }

    let leader_rx = match rt.leader_election {
        Some(settings) => {
            leader::elect(
                rt.client.clone(),
                settings,
                metrics.clone(),
                shutdown_rx.clone(),
            )
            .await?
        }
        None => {
            metrics.leader.set(1);
            let (tx, rx) = watch::channel(true);
            std::mem::forget(tx);
            rx
        }
    };

    let reporter = Reporter {
        controller: eds_api::constants::FIELD_MANAGER.into(),
        instance: Some(rt.config.identity.clone()),
    };
    let recorder = Recorder::new(rt.client.clone(), reporter);

    let (node_reader, node_writer) = reflector::store::<Node>();
    let mut scopes = Vec::new();
    for namespace in rt.config.scope.namespaces() {
        scopes.push(start_scope(
            &rt.client,
            namespace.as_deref(),
            &rt.config,
            node_reader.clone(),
            &recorder,
            &metrics,
            &leader_rx,
            &shutdown_rx,
            &readiness,
        ));
    }

    // Node fan-out: a changed node re-queues the EDSs that can run on it, or run a pod on it.
    let node_targets: Vec<_> = scopes
        .iter()
        .map(|s| (s.stores.clone(), s.node_tx.clone()))
        .collect();
    let node_stream = caches::node_events(&rt.client, node_writer);
    tasks.spawn(async move {
        let mut fingerprints: HashMap<String, u64> = HashMap::new();
        let mut stream = std::pin::pin!(node_stream);
        while let Some(event) = stream.next().await {
            let changed: Vec<Node> = match event {
                Ok(watcher::Event::Apply(node)) | Ok(watcher::Event::InitApply(node)) => {
                    let fp = caches::node_fingerprint(&node);
                    if fingerprints.insert(node.name_any(), fp) == Some(fp) {
                        continue;
                    }
                    vec![node]
                }
                Ok(watcher::Event::Delete(node)) => {
                    fingerprints.remove(&node.name_any());
                    vec![node]
                }
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "node watch error; retrying");
                    continue;
                }
            };
            for node in &changed {
                for (stores, tx) in &node_targets {
                    for eds in eds_for_node(stores, node) {
                        let _ = tx.unbounded_send(eds);
                    }
                }
            }
        }
        Ok(())
    });

    // Readiness: every cache synced (followers too: they are ready to take over).
    {
        let readiness = readiness.clone();
        let all: Vec<ScopeStores> = scopes.iter().map(|s| s.stores.clone()).collect();
        let nodes = node_reader.clone();
        tasks.spawn(async move {
            caches::until_ready(&nodes).await?;
            for s in &all {
                caches::wait_ready(s).await?;
            }
            readiness.set_ready();
            tracing::info!("caches synced");
            Ok(())
        });
    }

    for scope in scopes {
        for fut in scope.futures {
            tasks.spawn(fut);
        }
    }

    // Run until shutdown; a task that fails (e.g. a listener) stops the controller, one that
    // finishes (the readiness probe) is simply done.
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => {
                tracing::info!("shutting down");
                break;
            }
            Some(res) = tasks.join_next() => match res {
                Ok(Err(e)) => {
                    let _ = shutdown_tx.send(true);
                    return Err(e);
                }
                Err(e) if e.is_panic() => {
                    let _ = shutdown_tx.send(true);
                    return Err(anyhow::anyhow!("controller task panicked: {e}"));
                }
                _ => {}
            },
        }
    }
    let _ = shutdown_tx.send(true);
    // Give the lease release and in-flight reconciles a moment to finish.
    tokio::time::timeout(Duration::from_secs(5), async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .ok();
    Ok(())
}

type TaskFuture = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>;

struct Scope {
    stores: ScopeStores,
    node_tx: mpsc::UnboundedSender<ObjectRef<ExtendedDaemonSet>>,
    futures: Vec<TaskFuture>,
}

#[allow(clippy::too_many_arguments)]
fn start_scope(
    client: &Client,
    namespace: Option<&str>,
    config: &RuntimeConfig,
    nodes: Store<Node>,
    recorder: &Recorder,
    metrics: &Metrics,
    leader: &watch::Receiver<bool>,
    shutdown: &watch::Receiver<bool>,
    readiness: &Readiness,
) -> Scope {
    let (eds_store, eds_stream) = caches::reflect(
        caches::scoped_api::<ExtendedDaemonSet>(client, namespace),
        watcher::Config::default(),
    );
    let (ers_store, ers_stream) = caches::reflect(
        caches::scoped_api::<ExtendedDaemonSetReplicaSet>(client, namespace),
        watcher::Config::default(),
    );
    let (pod_store, pod_stream) = caches::reflect(
        caches::scoped_api::<Pod>(client, namespace),
        caches::pod_watch_config(),
    );
    let (settings_store, settings_stream) = caches::reflect(
        caches::scoped_api::<ExtendedDaemonsetSetting>(client, namespace),
        watcher::Config::default(),
    );
    let (ds_store, ds_stream) = caches::reflect(
        caches::scoped_api::<DaemonSet>(client, namespace),
        watcher::Config::default(),
    );
    let stores = ScopeStores {
        eds: eds_store.clone(),
        ers: ers_store,
        pods: pod_store,
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
        expectations: Default::default(),
        state: Default::default(),
        failures: Default::default(),
    });

    let (orphan_ctx, orphan_stop, synced) = (ctx.clone(), shutdown.clone(), readiness.clone());
    let eds_for_ds = eds_store.clone();
    let mut stop = shutdown.clone();
    let controller = Controller::for_stream(eds_stream, eds_store)
        .with_config(
            ControllerConfig::default()
                .concurrency(config.concurrency)
                .debounce(Duration::from_millis(50)),
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
fn eds_for_node(stores: &ScopeStores, node: &Node) -> Vec<ObjectRef<ExtendedDaemonSet>> {
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
