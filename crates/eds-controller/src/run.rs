//! Wiring of the running controller: caches, one kube-runtime Controller per watch scope, the
//! node fan-out, the Setting status loop, leader election, HTTP endpoints and shutdown.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::{
    Client, ResourceExt,
    runtime::{
        events::{Recorder, Reporter},
        watcher,
    },
};
use tokio::sync::watch;

use super::{
    caches::{self, ScopeStores},
    config::RuntimeConfig,
    error::RunError,
    health::{self, Readiness},
    leader::{self, Leadership},
    metrics::Metrics,
    scope::{Shared, eds_for_node, start_scope},
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
) -> Result<(), RunError> {
    let (metrics, registry) = Metrics::with_registry();
    let registry = Arc::new(registry);
    let readiness = Readiness::default();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();

    if let Some(listener) = rt.metrics_listener {
        tasks.spawn(async move {
            health::serve_metrics(listener, registry)
                .await
                .map_err(|source| RunError::Serve {
                    endpoint: "metrics",
                    source,
                })
        });
    }
    if let Some(listener) = rt.health_listener {
        let readiness = readiness.clone();
        tasks.spawn(async move {
            health::serve_health(listener, readiness)
                .await
                .map_err(|source| RunError::Serve {
                    endpoint: "health",
                    source,
                })
        });
    }

    let leadership = match rt.leader_election {
        Some(settings) => {
            // The election runs as a task: an error no retry fixes stops the controller.
            let (leadership, election) = leader::elect(
                rt.client.clone(),
                settings,
                metrics.clone(),
                shutdown_rx.clone(),
            );
            tasks.spawn(election);
            leadership
        }
        None => {
            metrics.leader.set(1);
            Leadership::always()
        }
    };

    let reporter = Reporter {
        controller: eds_api::constants::FIELD_MANAGER.into(),
        instance: Some(rt.config.identity.clone()),
    };
    let recorder = Recorder::new(rt.client.clone(), reporter);

    let node_digests = caches::NodeDigests::default();
    let shared = Shared {
        client: &rt.client,
        config: &rt.config,
        nodes: node_digests.clone(),
        recorder: &recorder,
        metrics: &metrics,
        leader: leadership.subscribe(),
        lease_deadline: leadership.deadline(),
        shutdown: &shutdown_rx,
        readiness: &readiness,
    };
    let scopes: Vec<_> = rt
        .config
        .scope
        .namespaces()
        .into_iter()
        .map(|namespace| start_scope(namespace.as_deref(), &shared))
        .collect();

    // Node fan-out: a changed node re-queues the EDSs that can run on it, or run a pod on it.
    let node_targets: Vec<_> = scopes
        .iter()
        .map(|s| (s.stores.clone(), s.node_tx.clone()))
        .collect();
    let node_stream = caches::node_events(&rt.client, node_digests.clone());
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
        let nodes = node_digests.clone();
        tasks.spawn(async move {
            nodes.until_ready().await;
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
                    leadership.step_down();
                    let _ = shutdown_tx.send(true);
                    return Err(e);
                }
                Err(e) if e.is_panic() => {
                    leadership.step_down();
                    let _ = shutdown_tx.send(true);
                    return Err(RunError::TaskPanicked(e.to_string()));
                }
                _ => {}
            },
        }
    }
    leadership.step_down();
    let _ = shutdown_tx.send(true);
    // Give the lease release and in-flight reconciles a moment to finish.
    tokio::time::timeout(Duration::from_secs(5), async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .ok();
    Ok(())
}
