//! Leader election on a Lease: only the holder writes, and only while the lease is surely its
//! own.
//!
//! - The holder renews its Lease `grace` before it expires and counts itself leader until
//!   `duration - grace / 2` after the start of its last successful renewal. When renewals fail
//!   (API errors, a hung request, a partition) it stops writing before any other replica may
//!   take the lease: a contender takes it only once it has seen the same record unchanged for a
//!   whole `duration` (its own clock, as client-go does; clocks of replicas need not agree).
//! - Every write of the Lease is a merge patch carrying the resourceVersion read (a
//!   precondition): of two replicas racing for the lease, one wins and the other gets 409.
//! - Transient errors (5xx, 429, timeouts, connection errors, 409) are retried with a capped
//!   backoff; an error that a retry cannot fix (RBAC forbids the Lease, the namespace does not
//!   exist, an invalid name) stops the controller with a message naming the Lease.
//! - At shutdown the holder stops writing, then clears the holder of the Lease so another
//!   replica takes over at once.

use std::time::Duration;

use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::MicroTime,
};
use kube::{
    Api, Client,
    api::{ObjectMeta, Patch, PatchParams, PostParams},
};
use serde_json::json;
use tokio::{sync::watch, time::Instant};

use super::{error::RunError, metrics::Metrics};

/// Where and as whom to hold the lease.
#[derive(Clone, Debug)]
pub struct LeaseSettings {
    pub name: String,
    pub namespace: String,
    pub identity: String,
    /// Lease duration: how long a crashed leader blocks the others.
    pub duration: Duration,
    /// How long before expiry the holder renews (and how often a follower looks at the lease).
    pub grace: Duration,
}

impl LeaseSettings {
    /// How long after the start of a successful renewal the holder may write.
    fn valid_for(&self) -> Duration {
        self.duration.saturating_sub(self.grace / 2)
    }

    /// How long after a successful renewal the holder renews again.
    fn renew_every(&self) -> Duration {
        self.duration
            .saturating_sub(self.grace)
            .max(Duration::from_millis(100))
    }

    /// Limit of one attempt (read and write of the lease).
    fn attempt_limit(&self) -> Duration {
        self.grace.max(Duration::from_millis(500))
    }

    /// Pause before retrying after the `failures`-th transient error in a row: 100 ms doubling,
    /// capped at `grace` (at least 1 s), so an API server that is down sees a bounded rate.
    fn backoff(&self, failures: u32) -> Duration {
        let cap = self.grace.max(Duration::from_secs(1));
        Duration::from_millis(100)
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(cap)
    }
}

/// Whether this replica may write, as a channel every reconcile and the executor read.
///
/// Without election the replica always leads: the sender is kept here (not leaked) for as long
/// as the controller runs, and [`Leadership::step_down`] turns it `false` at shutdown, as losing
/// the lease does, so no write starts after the controller began to stop.
pub struct Leadership {
    rx: watch::Receiver<bool>,
    always: Option<watch::Sender<bool>>,
    deadline: watch::Receiver<Option<Instant>>,
}

impl Leadership {
    /// A replica that leads from the start (no election: a single replica).
    pub fn always() -> Self {
        let (tx, rx) = watch::channel(true);
        Self {
            rx,
            always: Some(tx),
            deadline: watch::channel(None).1,
        }
    }

    /// A receiver of the leadership: `true` while this replica may write.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.rx.clone()
    }

    /// When this replica's leadership ends unless the lease is renewed first (`None`: no
    /// election, or not leading). A write still in flight then is abandoned: see the executor.
    pub fn deadline(&self) -> watch::Receiver<Option<Instant>> {
        self.deadline.clone()
    }

    /// Stops leading (shutdown). An elected replica stops when the shutdown channel fires, then
    /// releases its lease (see [`elect`]).
    pub fn step_down(&self) {
        if let Some(tx) = &self.always {
            let _ = tx.send(false);
        }
    }
}

/// The election task returned by [`elect`]: runs until shutdown (`Ok`) or until an error a
/// retry cannot fix (`Err`).
pub type ElectionTask = std::pin::Pin<Box<dyn Future<Output = Result<(), RunError>> + Send>>;

/// Starts the election: the leadership is `true` while this replica holds the lease and its
/// last renewal is recent enough (see the [module](self) notes). The task must be polled (the
/// controller spawns it); it ends at shutdown after releasing the lease.
pub fn elect(
    client: Client,
    settings: LeaseSettings,
    metrics: Metrics,
    shutdown: watch::Receiver<bool>,
) -> (Leadership, ElectionTask) {
    let (deadline_tx, deadline_rx) = watch::channel(None);
    let (tx, rx) = watch::channel(false);
    let deadline = deadline_rx.clone();
    tokio::spawn(watchdog(deadline_rx, tx, metrics));
    let elector = Elector {
        api: Api::namespaced(client, &settings.namespace),
        settings,
        observed: None,
        held: None,
    };
    let task = Box::pin(elector.run(deadline_tx, shutdown));
    (
        Leadership {
            rx,
            always: None,
            deadline,
        },
        task,
    )
}

/// Publishes the leadership: `true` until the deadline of the last renewal passes, whatever
/// the election loop is doing (even stuck in a request).
async fn watchdog(
    mut deadline: watch::Receiver<Option<Instant>>,
    tx: watch::Sender<bool>,
    metrics: Metrics,
) {
    loop {
        let until = *deadline.borrow_and_update();
        let leading = until.is_some_and(|d| Instant::now() < d);
        tx.send_if_modified(|l| {
            let changed = *l != leading;
            if changed {
                tracing::info!(leading, "leadership changed");
            }
            *l = leading;
            changed
        });
        metrics.leader.set(i64::from(leading));
        let changed = match until {
            Some(d) if leading => tokio::select! {
                () = tokio::time::sleep_until(d) => Ok(()),
                c = deadline.changed() => c,
            },
            _ => deadline.changed().await,
        };
        if changed.is_err() {
            break;
        }
    }
    tx.send_replace(false);
    metrics.leader.set(0);
}

/// The holder and renewal of a Lease as read, and when this replica first saw them.
struct Observed {
    holder: Option<String>,
    renew: Option<MicroTime>,
    since: Instant,
}

struct Elector {
    api: Api<Lease>,
    settings: LeaseSettings,
    observed: Option<Observed>,
    /// The resourceVersion of the Lease as this replica last wrote it, while it holds it.
    held: Option<String>,
}

/// Whether `error` cannot be fixed by retrying: the request is refused for what it is (RBAC,
/// a missing namespace, an invalid object), not for the state of the server.
pub fn is_permanent(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(s) => matches!(s.code, 400 | 401 | 403 | 404 | 422),
        _ => false,
    }
}

impl Elector {
    async fn run(
        mut self,
        deadline: watch::Sender<Option<Instant>>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), RunError> {
        let mut failures = 0u32;
        loop {
            let started = Instant::now();
            let attempt = tokio::time::timeout(self.settings.attempt_limit(), self.attempt());
            let result = tokio::select! {
                r = attempt => r,
                _ = shutdown.wait_for(|s| *s) => break,
            };
            let pause = match result {
                Ok(Ok(true)) => {
                    failures = 0;
                    deadline.send_replace(Some(started + self.settings.valid_for()));
                    self.settings.renew_every()
                }
                Ok(Ok(false)) => {
                    failures = 0;
                    self.held = None;
                    deadline.send_replace(None);
                    self.settings.grace
                }
                Ok(Err(e)) if is_permanent(&e) => {
                    deadline.send_replace(None);
                    return Err(RunError::LeaderElection {
                        namespace: self.settings.namespace.clone(),
                        name: self.settings.name.clone(),
                        source: e,
                    });
                }
                // Transient: the deadline stands, the watchdog ends the leadership if no
                // renewal succeeds before it.
                failed => {
                    failures += 1;
                    let error = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => "timed out".into(),
                    };
                    tracing::debug!(%error, failures, "lease attempt failed; retrying");
                    self.settings.backoff(failures)
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = shutdown.wait_for(|s| *s) => break,
            }
        }
        deadline.send_replace(None);
        if self.held.is_some() {
            let _ = tokio::time::timeout(self.settings.attempt_limit(), self.release()).await;
        }
        Ok(())
    }

    /// One attempt to take or renew the lease: whether this replica holds it now.
    async fn attempt(&mut self) -> Result<bool, kube::Error> {
        if let Some(rv) = self.held.clone() {
            // Renewal of a lease this replica wrote last: no read needed.
            return self.write(&rv, true, 0).await;
        }
        let Some(lease) = self.api.get_opt(&self.settings.name).await? else {
            return self.create().await;
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let now = Instant::now();
        let seen = self
            .observed
            .as_ref()
            .filter(|o| o.holder == holder && o.renew == spec.renew_time)
            .map(|o| o.since);
        let since = seen.unwrap_or(now);
        self.observed = Some(Observed {
            holder: holder.clone(),
            renew: spec.renew_time.clone(),
            since,
        });
        let mine = holder.as_deref() == Some(self.settings.identity.as_str());
        let duration = spec
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map_or(self.settings.duration, Duration::from_secs);
        if holder.is_some() && !mine && now < since + duration {
            return Ok(false);
        }
        let rv = lease.metadata.resource_version.clone().unwrap_or_default();
        let transitions = spec.lease_transitions.unwrap_or(0);
        self.write(&rv, mine, transitions).await
    }

    /// Writes this replica as holder, on the Lease at resourceVersion `rv`.
    async fn write(
        &mut self,
        rv: &str,
        renewing: bool,
        transitions: i32,
    ) -> Result<bool, kube::Error> {
        let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let mut spec = json!({
            "holderIdentity": self.settings.identity,
            "leaseDurationSeconds": self.settings.duration.as_secs().max(1),
            "renewTime": now,
        });
        if !renewing {
            spec["acquireTime"] = json!(now);
            spec["leaseTransitions"] = json!(transitions + 1);
        }
        let patch = json!({ "metadata": { "resourceVersion": rv }, "spec": spec });
        let params = PatchParams::default();
        match self
            .api
            .patch(&self.settings.name, &params, &Patch::Merge(&patch))
            .await
        {
            Ok(lease) => {
                self.held = lease.metadata.resource_version;
                Ok(true)
            }
            // Another replica wrote the lease since it was read (409), or deleted it (404):
            // it may hold it now; the next attempt reads it again.
            Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => {
                self.held = None;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Creates the lease, held by this replica.
    async fn create(&mut self) -> Result<bool, kube::Error> {
        let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.settings.name.clone()),
                namespace: Some(self.settings.namespace.clone()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.settings.identity.clone()),
                lease_duration_seconds: i32::try_from(self.settings.duration.as_secs().max(1)).ok(),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        match self.api.create(&PostParams::default(), &lease).await {
            Ok(lease) => {
                self.held = lease.metadata.resource_version;
                Ok(true)
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Clears the holder of a lease this replica holds, so another replica takes over at once.
    async fn release(&mut self) -> Result<(), kube::Error> {
        let Some(rv) = self.held.take() else {
            return Ok(());
        };
        let patch = json!({
            "metadata": { "resourceVersion": rv },
            "spec": { "holderIdentity": null, "acquireTime": null, "renewTime": null },
        });
        self.api
            .patch(
                &self.settings.name,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_leads_until_it_steps_down_and_its_channel_closes_when_dropped() {
        let leadership = Leadership::always();
        let mut rx = leadership.subscribe();
        assert!(*rx.borrow_and_update());
        assert_eq!(rx.has_changed().ok(), Some(false), "open while held");
        leadership.step_down();
        assert!(!*rx.borrow_and_update());
        drop(leadership);
        assert!(
            rx.has_changed().is_err(),
            "the sender is dropped, not leaked"
        );
    }

    fn settings(duration: u64, grace: u64) -> LeaseSettings {
        LeaseSettings {
            name: "l".into(),
            namespace: "ns".into(),
            identity: "a".into(),
            duration: Duration::from_secs(duration),
            grace: Duration::from_secs(grace),
        }
    }

    #[test]
    fn the_holder_stops_writing_before_a_contender_may_take_over() {
        let s = settings(15, 5);
        // Renews with `grace` left, and writes no longer than the lease lasts.
        assert_eq!(s.renew_every(), Duration::from_secs(10));
        assert!(s.renew_every() < s.valid_for() && s.valid_for() < s.duration);
        // Retries of a failed renewal are quick, then capped: a bounded rate when the API
        // server is down.
        assert_eq!(s.backoff(1), Duration::from_millis(100));
        assert_eq!(s.backoff(3), Duration::from_millis(400));
        assert_eq!(s.backoff(30), Duration::from_secs(5));
    }

    mod on_the_simulator {
        use super::*;
        use kube_sim::apiserver::{Config, SimApiServer};

        fn lease(identity: &str, name: &str) -> LeaseSettings {
            LeaseSettings {
                name: name.into(),
                namespace: "default".into(),
                identity: identity.into(),
                duration: Duration::from_secs(2),
                grace: Duration::from_secs(1),
            }
        }

        async fn until_leading(rx: &mut watch::Receiver<bool>, want: bool) {
            tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|l| *l == want))
                .await
                .expect("the leadership changes")
                .expect("the leadership channel is open");
        }

        #[tokio::test]
        async fn an_api_server_failing_at_start_is_waited_for_not_a_reason_to_exit() {
            let server = SimApiServer::start(Config::default()).await.expect("sim");
            let client = server.client().expect("client");
            // Every read and write fails with 500 (an outage behind a load balancer answers
            // 503, which the client itself retries).
            server.faults().set_read_errors(1.0);
            server
                .faults()
                .set_write_errors(1.0, kube_sim::apiserver::WriteError::Internal);
            let (_stop_tx, stop) = watch::channel(false);
            let metrics = Metrics::with_registry().0;
            let (leadership, task) = elect(client, lease("a", "l"), metrics, stop);
            let task = tokio::spawn(task);
            let mut rx = leadership.subscribe();
            // Several attempts fail while the server is down: the election keeps going.
            while server.faults().injected() < 3 && !task.is_finished() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(!task.is_finished(), "a 500 must not end the election");
            assert!(!*rx.borrow());
            assert_eq!(
                *leadership.deadline().borrow(),
                None,
                "no deadline before leading"
            );
            server.faults().clear();
            until_leading(&mut rx, true).await;
            assert!(!task.is_finished());
            // The executor bounds every write by this deadline.
            assert!(
                leadership.deadline().borrow().is_some(),
                "a deadline while leading"
            );
        }

        #[tokio::test]
        async fn a_lease_the_server_refuses_ends_the_election_naming_the_lease() {
            let server = SimApiServer::start(Config::default()).await.expect("sim");
            let client = server.client().expect("client");
            let (_stop_tx, stop) = watch::channel(false);
            let metrics = Metrics::with_registry().0;
            // Not a valid object name: 422, which no retry fixes.
            let (_leadership, task) = elect(client, lease("a", "Not_A_Name"), metrics, stop);
            let result = tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("the election ends");
            let message = result.expect_err("an error").to_string();
            assert!(message.contains("Lease default/Not_A_Name"), "{message}");
        }

        #[tokio::test]
        async fn a_second_replica_takes_over_only_after_the_first_stopped_writing() {
            let server = SimApiServer::start(Config::default()).await.expect("sim");
            let client = server.client().expect("client");
            let metrics = Metrics::with_registry().0;
            let (a_stop_tx, a_stop) = watch::channel(false);
            let (a, a_task) = elect(client.clone(), lease("a", "l"), metrics.clone(), a_stop);
            let a_task = tokio::spawn(a_task);
            let mut a_rx = a.subscribe();
            until_leading(&mut a_rx, true).await;
            let (_b_stop_tx, b_stop) = watch::channel(false);
            let (b, b_task) = elect(client, lease("b", "l"), metrics, b_stop);
            let _b_task = tokio::spawn(b_task);
            let mut b_rx = b.subscribe();
            // Every request now hangs past the attempt limit: `a` cannot renew, and stops
            // leading on its own clock, whatever its requests do.
            server.faults().set_latency(Duration::from_secs(60));
            until_leading(&mut a_rx, false).await;
            assert!(!*b_rx.borrow(), "b cannot have taken the lease yet");
            // `a` is gone (its release hangs too); `b` takes the lease over once it has seen
            // `a`'s record unchanged for a whole lease duration.
            a_stop_tx.send_replace(true);
            assert!(a_task.await.expect("joined").is_ok());
            server.faults().set_latency(Duration::ZERO);
            until_leading(&mut b_rx, true).await;
            assert!(!*a_rx.borrow(), "never two leaders");
        }
    }

    #[test]
    fn only_errors_a_retry_cannot_fix_are_permanent() {
        let api = |code: u16| {
            kube::Error::Api(Box::new(kube::core::Status {
                code,
                ..Default::default()
            }))
        };
        for code in [400, 401, 403, 404, 422] {
            assert!(is_permanent(&api(code)), "{code}");
        }
        for code in [409, 429, 500, 503, 504] {
            assert!(!is_permanent(&api(code)), "{code}");
        }
    }
}
