//! The gates of a reconcile, on the simulated API server: nothing is written before every
//! cache has synced, and the writes of a plan are bounded in time (a request the API server
//! never answers ends the reconcile, which is retried).

use std::{sync::Arc, time::Duration};

use kube::{
    Api,
    api::ListParams,
    runtime::{
        controller::Action,
        events::{Recorder, Reporter},
        reflector,
    },
};
use kube_sim::apiserver::{Config, SimApiServer};
use tokio::sync::watch;

use super::{Context, ReconcileError, error_policy, reconcile};
use crate::{
    caches::ScopeStores,
    config::{RuntimeConfig, WatchScope},
    executor::fixture::{NS, create_eds},
    health::Readiness,
    metrics::Metrics,
};
use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ValidationMode};

struct Bench {
    server: SimApiServer,
    ctx: Arc<Context>,
    eds: Arc<ExtendedDaemonSet>,
    _leader: watch::Sender<bool>,
}

impl Bench {
    /// A stored ExtendedDaemonSet and a context whose caches are empty (as while they list),
    /// whose writes may take `execute_limit`.
    async fn start(execute_limit: Duration) -> Self {
        let server = SimApiServer::start(Config::default()).await.expect("sim");
        let client = server.client().expect("client");
        let eds = Arc::new(create_eds(&client, "gated", "pause").await);
        let (leader_tx, leader) = watch::channel(true);
        let reporter = Reporter {
            controller: "test".into(),
            instance: None,
        };
        let ctx = Arc::new(Context {
            recorder: Recorder::new(client.clone(), reporter),
            metrics: Metrics::with_registry().0,
            config: RuntimeConfig {
                scope: WatchScope::All,
                validation_mode: ValidationMode::Auto,
                concurrency: 1,
                max_concurrent_writes: 1,
                identity: "test".into(),
                expectations_timeout: Duration::from_secs(10),
            },
            stores: ScopeStores {
                eds: reflector::store().0,
                ers: reflector::store().0,
                pods: reflector::store().0,
                pod_digests: Default::default(),
                settings: reflector::store().0,
                daemonsets: reflector::store().0,
            },
            nodes: Default::default(),
            leader,
            lease_deadline: watch::channel(None).1,
            synced: Readiness::default(),
            expectations: Default::default(),
            pacing: crate::pacing::Pacing::new(crate::pacing::STATUS_PROGRESS_INTERVAL),
            spacing: crate::pacing::Pacing::new(crate::pacing::RECONCILE_SPACING),
            state: Default::default(),
            failures: Default::default(),
            execute_limit,
            client,
        });
        Self {
            server,
            ctx,
            eds,
            _leader: leader_tx,
        }
    }

    /// Whether anything was written for the ExtendedDaemonSet: an ERS or its status.
    async fn written(&self) -> bool {
        let client = self.ctx.client.clone();
        let ers: Api<ExtendedDaemonSetReplicaSet> = Api::namespaced(client.clone(), NS);
        let eds: Api<ExtendedDaemonSet> = Api::namespaced(client, NS);
        let listed = ers.list(&ListParams::default()).await.expect("list ERSs");
        let stored = eds.get("gated").await.expect("get EDS");
        !listed.items.is_empty() || stored.status.is_some()
    }
}

#[tokio::test]
async fn nothing_is_written_before_every_cache_synced() {
    let b = Bench::start(Duration::from_secs(60)).await;
    // Empty caches that have not synced yet: the plan would create the ERS (and, with nodes,
    // re-create pods that exist); the reconcile waits instead.
    let action = reconcile(b.eds.clone(), b.ctx.clone())
        .await
        .expect("a gated reconcile succeeds");
    assert_eq!(action, Action::requeue(Duration::from_millis(500)));
    assert!(!b.written().await, "a write before the caches synced");
    // Synced: the same reconcile writes.
    b.ctx.synced.set_ready();
    reconcile(b.eds.clone(), b.ctx.clone())
        .await
        .expect("reconcile");
    assert!(b.written().await, "the synced reconcile writes");
    b.server.stop().await;
}

#[tokio::test]
async fn a_write_hung_past_the_bound_ends_the_reconcile_which_is_retried() {
    let b = Bench::start(Duration::from_millis(300)).await;
    b.ctx.synced.set_ready();
    // Every request is held far longer than the bound.
    b.server.faults().set_hangs(1.0, Duration::from_secs(600));
    let err = reconcile(b.eds.clone(), b.ctx.clone())
        .await
        .expect_err("the hung write ends the reconcile");
    assert!(
        matches!(err, ReconcileError::TimedOut(d) if d == Duration::from_millis(300)),
        "{err}"
    );
    assert!(b.server.faults().hung() > 0, "a request was held");
    // The error policy retries it (with the first backoff step), and the retry, once the API
    // server answers again, writes.
    let retry = error_policy(b.eds.clone(), &err, b.ctx.clone());
    assert_eq!(retry, Action::requeue(Duration::from_millis(500)));
    b.server.faults().clear();
    reconcile(b.eds.clone(), b.ctx.clone())
        .await
        .expect("the retry succeeds");
    assert!(b.written().await, "the retry writes");
    b.server.stop().await;
}
