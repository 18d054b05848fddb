//! One reconcile of one ExtendedDaemonSet: caches -> Snapshot -> plan() -> executor.
//!
//! All the rollout rules live in [`eds_plan`], including when to look again and what the
//! steering annotations mean; this function only gathers inputs, checks that it may act
//! (leader, caches caught up), executes the plan and requeues when the plan says.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, Client, ResourceExt,
    api::ListParams,
    runtime::{controller::Action, events::Recorder},
};
use tokio::sync::watch;
use tracing::Instrument;

use super::{
    caches::ScopeStores,
    config::RuntimeConfig,
    executor::{ExecuteError, Executor, Outcome},
    expectations::{Expectations, StoreView},
    health::Readiness,
    metrics::Metrics,
    pacing::{self, Pacing},
};
use eds_api::ExtendedDaemonSet;
use eds_plan::{self as plan, PodDigest, Snapshot, Steering};

/// Shared state of the reconcilers of one scope.
pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub metrics: Metrics,
    pub config: RuntimeConfig,
    pub stores: ScopeStores,
    /// The node cache: what the planner reads of each node.
    pub nodes: super::caches::NodeDigests,
    pub leader: watch::Receiver<bool>,
    /// When the leadership ends unless renewed: every write is abandoned by then.
    pub lease_deadline: watch::Receiver<Option<tokio::time::Instant>>,
    /// Set once every cache synced: no plan is made from a cache still listing.
    pub synced: Readiness,
    pub expectations: Expectations,
    /// When each status was last written (progress is written at a steady pace).
    pub pacing: Pacing,
    /// When each ExtendedDaemonSet's last reconcile started ([`pacing::RECONCILE_SPACING`]).
    pub spacing: Pacing,
    /// Planner state kept between reconciles (e.g. failed-pod backoff), per EDS key.
    pub state: Mutex<BTreeMap<String, plan::PlannerState>>,
    /// Consecutive failures per EDS key, for the error backoff.
    pub failures: Mutex<BTreeMap<String, u32>>,
    /// Longest the writes of one plan may take ([`EXECUTE_LIMIT`]; shorter in tests).
    pub execute_limit: Duration,
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Executing the plan failed.
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// The plan's writes took longer than [`EXECUTE_LIMIT`] (a request the API server does
    /// not answer): the reconcile is retried, not stalled.
    #[error("executing the plan took longer than {0:?}; retrying")]
    TimedOut(Duration),
    /// Listing the pods of the DaemonSet being migrated failed.
    #[error("listing pods of DaemonSet {name} to migrate: {source}")]
    ListOldDaemonSetPods { name: String, source: kube::Error },
}

impl ReconcileError {
    fn metric_reason(&self) -> &'static str {
        match self {
            Self::Execute(e) => e.metric_reason(),
            Self::TimedOut(_) => "timed_out",
            Self::ListOldDaemonSetPods { .. } => "list_old_daemonset_pods",
        }
    }
}

/// Longest the writes of one plan may take. The client has no read timeout (it would cut quiet
/// watch streams too), so a request the API server never answers would otherwise hold this
/// ExtendedDaemonSet's reconcile forever.
pub const EXECUTE_LIMIT: Duration = Duration::from_secs(60);

/// When to plan again after a pod delete refused because the pod changed since the plan.
const STALE_DELETE_RETRY: Duration = Duration::from_millis(200);

fn key(eds: &ExtendedDaemonSet) -> String {
    format!("{}/{}", eds.namespace().unwrap_or_default(), eds.name_any())
}

/// Reconciles one ExtendedDaemonSet.
#[tracing::instrument(skip_all, fields(eds = %key(&eds)))]
pub async fn reconcile(
    eds: Arc<ExtendedDaemonSet>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let key = key(&eds);
    let ns = eds.namespace().unwrap_or_default();
    let name = eds.name_any();
    // Spaced from the previous reconcile of this ExtendedDaemonSet: what changes meanwhile is
    // folded into this one.
    let spacing_key = pacing::object_key("ExtendedDaemonSet", &ns, &name);
    if let Some(wait) = ctx.spacing.wait(&spacing_key, tokio::time::Instant::now()) {
        tokio::time::sleep(wait).await;
    }
    ctx.spacing.mark(&spacing_key, tokio::time::Instant::now());
    let started = Instant::now();
    // The object as the cache holds it now, not as it was when the reconcile was queued.
    let eds = ctx
        .stores
        .eds
        .get(&kube::runtime::reflector::ObjectRef::from_obj(&*eds))
        .unwrap_or(eds);
    if eds.metadata.deletion_timestamp.is_some() {
        // Owner references make the garbage collector delete the ERSs and their pods.
        ctx.metrics.forget_eds(&ns, &name);
        ctx.expectations.forget(&key);
        ctx.pacing.forget(&ns, &name);
        ctx.spacing.forget(&ns, &name);
        return Ok(Action::await_change());
    }
    if !*ctx.leader.borrow() {
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    // A replica that just started (or took the lease over) plans only once every cache has
    // listed: an ERS or pod cache still empty would make it re-create or replace what exists.
    if !ctx.synced.is_ready() {
        return Ok(Action::requeue(Duration::from_millis(500)));
    }
    let pods = {
        let _phase = tracing::debug_span!("snapshot").entered();
        ctx.stores.pod_digests.of(&ns, &name)
    };
    let caught_up = ctx.expectations.satisfied(
        &key,
        &StoreView::new(&pods, &ctx.stores.ers, &ns, eds.resource_version()),
        Instant::now(),
        ctx.config.expectations_timeout,
    );
    if !caught_up {
        return Ok(Action::requeue(Duration::from_millis(500)));
    }

    let (old_daemonset, old_daemonset_pods) = old_daemonset_pods(&eds, &ctx).await?;
    let snapshot = {
        let _phase = tracing::debug_span!("snapshot").entered();
        let mut snapshot = snapshot(&eds, &ctx, &key, pods, old_daemonset_pods);
        snapshot.old_daemonset = old_daemonset;
        snapshot
    };
    let plan = {
        let _phase = tracing::debug_span!("plan").entered();
        plan::plan_changes(&snapshot, jiff::Timestamp::now())
    };
    let replica_sets = snapshot.replica_sets;
    ctx.state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.clone(), plan.state.clone());

    let executor = Executor {
        client: &ctx.client,
        recorder: &ctx.recorder,
        metrics: &ctx.metrics,
        leader: &ctx.leader,
        deadline: &ctx.lease_deadline,
        max_concurrent_writes: ctx.config.max_concurrent_writes,
        pacing: &ctx.pacing,
    };
    let mut outcome = Outcome::default();
    let executed = match tokio::time::timeout(
        ctx.execute_limit,
        executor
            .execute(&eds, &replica_sets, &plan, &mut outcome)
            .instrument(tracing::debug_span!("execute")),
    )
    .await
    {
        Ok(result) => result.map_err(ReconcileError::from),
        Err(_) => Err(ReconcileError::TimedOut(ctx.execute_limit)),
    };
    // What was written before a failure is expected too, or the next plan would redo it.
    ctx.expectations
        .record(&key, std::mem::take(&mut outcome.pending), Instant::now());
    if let Err(ReconcileError::Execute(e)) = &executed
        && e.is_stale_delete()
    {
        // A pod changed since the plan (its resourceVersion moved: the kubelet wrote its
        // status): optimistic concurrency at work, not a failure. No write followed the
        // refused delete; the next plan decides again from the cache.
        tracing::debug!(error = %e, "a pod changed since the plan; planning again");
        return Ok(Action::requeue(STALE_DELETE_RETRY));
    }
    executed?;
    ctx.failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&key);

    ctx.metrics.observe_eds(
        &eds,
        &plan.eds_status,
        plan.steering.rolling_update_paused,
        plan.steering.rollout_frozen,
    );
    for (ers, status) in &plan.ers_statuses {
        let meta = replica_sets
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(ers.as_str()))
            .map(|r| &r.metadata);
        ctx.metrics.observe_ers(&ns, ers, meta, status);
    }
    for gone in &plan.ers_deletes {
        ctx.metrics.forget_ers(&ns, &gone.name);
    }
    ctx.metrics
        .reconcile_duration
        .observe(started.elapsed().as_secs_f64());
    if outcome.created + outcome.deleted > 0 {
        tracing::info!(
            created = outcome.created,
            deleted = outcome.deleted,
            revision = %plan.target_revision,
            state = plan.eds_status.state.as_deref().unwrap_or_default(),
            "rollout step"
        );
    }
    let requeue = outcome
        .status_deferred
        .map_or(plan.requeue_after, |d| d.min(plan.requeue_after));
    Ok(Action::requeue(requeue))
}

/// Requeue policy after a failed reconcile: exponential backoff per object, so one bad object
/// never hot-loops; a conflict retries soon (the next reconcile re-reads the caches).
pub fn error_policy(
    eds: Arc<ExtendedDaemonSet>,
    error: &ReconcileError,
    ctx: Arc<Context>,
) -> Action {
    ctx.metrics.reconcile_failed(error.metric_reason());
    if matches!(
        error,
        ReconcileError::Execute(ExecuteError::NotLeader | ExecuteError::LeaseDeadline)
    ) {
        return Action::requeue(Duration::from_secs(5));
    }
    let key = key(&eds);
    let conflict = matches!(
        error,
        ReconcileError::Execute(e) if e.api_error().is_some_and(|e| matches!(e, kube::Error::Api(s) if s.code == 409))
    );
    let mut failures = ctx.failures.lock().unwrap_or_else(|e| e.into_inner());
    let n = failures.entry(key.clone()).or_insert(0);
    *n = n.saturating_add(1);
    let delay = if conflict {
        Duration::from_millis(200)
    } else {
        backoff_delay(*n)
    };
    tracing::warn!(eds = %key, error = %error, failures = *n, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// 500 ms doubling per consecutive failure, at most 5 minutes.
pub fn backoff_delay(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(10);
    Duration::from_millis(500u64.saturating_mul(1 << exp)).min(Duration::from_secs(300))
}

/// The planner's input for `eds`, read from the caches.
fn snapshot(
    eds: &ExtendedDaemonSet,
    ctx: &Context,
    key: &str,
    pods: Vec<Arc<PodDigest>>,
    old_daemonset_pods: Vec<Arc<Pod>>,
) -> Snapshot {
    let ns = eds.namespace();
    let replica_sets = ctx
        .stores
        .ers
        .state()
        .into_iter()
        .filter(|e| e.namespace() == ns && owned_by(e.owner_references(), eds))
        .map(|e| (*e).clone())
        .collect();
    let state = ctx
        .state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(key)
        .cloned()
        .unwrap_or_default();
    Snapshot {
        eds: eds.clone(),
        replica_sets,
        pods: Vec::new(),
        digested_pods: pods,
        old_daemonset_pods,
        old_daemonset: None,
        nodes: Vec::new(),
        digested_nodes: ctx.nodes.all(),
        settings: ctx
            .stores
            .settings
            .state()
            .into_iter()
            .filter(|s| s.namespace() == ns)
            .map(|s| (*s).clone())
            .collect(),
        config: plan::PlannerConfig {
            default_validation_mode: ctx.config.validation_mode,
            ..Default::default()
        },
        state,
    }
}

fn owned_by(
    owners: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference],
    eds: &ExtendedDaemonSet,
) -> bool {
    let uid = eds.metadata.uid.as_deref().unwrap_or_default();
    owners
        .iter()
        .any(|o| o.uid == uid && o.kind == "ExtendedDaemonSet")
}

/// The state of the DaemonSet named by the `old-daemonset` annotation (migration), from the
/// DaemonSet cache (`None` without the annotation), and its pods, listed through the API
/// because the pod cache only holds pods labelled with an EDS name.
async fn old_daemonset_pods(
    eds: &ExtendedDaemonSet,
    ctx: &Context,
) -> Result<(Option<plan::OldDaemonSet>, Vec<Arc<Pod>>), ReconcileError> {
    let Some(ds_name) = Steering::of(eds).old_daemonset else {
        return Ok((None, Vec::new()));
    };
    let ns = eds.namespace().unwrap_or_default();
    let r = kube::runtime::reflector::ObjectRef::new(&ds_name).within(&ns);
    let ds = ctx.stores.daemonsets.get(&r);
    let state = Some(plan::OldDaemonSet::of(ds.as_deref()));
    let Some(ds) = ds else {
        return Ok((state, Vec::new()));
    };
    let Some(selector) = ds.spec.as_ref().map(|s| s.selector.clone()) else {
        return Ok((state, Vec::new()));
    };
    let Ok(selector) = kube::core::Selector::try_from(selector) else {
        return Ok((state, Vec::new()));
    };
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let pods = api
        .list(&ListParams::default().labels_from(&selector))
        .await
        .map_err(|source| ReconcileError::ListOldDaemonSetPods {
            name: ds_name,
            source,
        })?;
    let pods = pods
        .items
        .into_iter()
        .filter(|p| p.owner_references().iter().any(|o| o.uid == uid))
        .map(|mut p| {
            p.metadata.managed_fields = None;
            Arc::new(p)
        })
        .collect();
    Ok((state, pods))
}

#[cfg(test)]
mod gates;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_delay(1), Duration::from_millis(500));
        assert_eq!(backoff_delay(2), Duration::from_secs(1));
        assert_eq!(backoff_delay(4), Duration::from_secs(4));
        assert_eq!(backoff_delay(50), Duration::from_secs(300));
    }
}
