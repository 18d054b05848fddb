//! The executor's tests on the simulated API server: the server, and what an [`Executor`]
//! borrows (a leader lease that tests may take away, its deadline, the status pacing).

use kube::{
    Api, Client,
    api::PostParams,
    runtime::events::{Recorder, Reporter},
};
use kube_sim::apiserver::{Config, SimApiServer};
use serde_json::json;
use tokio::{sync::watch, time::Instant};

use super::Executor;
use crate::{
    metrics::Metrics,
    pacing::{Pacing, STATUS_PROGRESS_INTERVAL},
};
use eds_api::ExtendedDaemonSet;

pub(crate) const NS: &str = "default";

pub(super) struct Fixture {
    pub server: SimApiServer,
    pub client: Client,
    recorder: Recorder,
    metrics: Metrics,
    /// This replica leads while it holds `true`; replace both to take the lease away.
    pub leader: watch::Receiver<bool>,
    pub leader_tx: watch::Sender<bool>,
    /// When the leadership ends (`None`: no bound).
    pub deadline: watch::Receiver<Option<Instant>>,
    pacing: Pacing,
}

impl Fixture {
    /// A simulated API server, this replica leading without a deadline.
    pub async fn start() -> Self {
        let server = SimApiServer::start(Config::default()).await.expect("sim");
        let client = server.client().expect("client");
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "test".into(),
                instance: None,
            },
        );
        let (leader_tx, leader) = watch::channel(true);
        Fixture {
            server,
            client,
            recorder,
            metrics: Metrics::with_registry().0,
            leader,
            leader_tx,
            deadline: watch::channel(None).1,
            pacing: Pacing::new(STATUS_PROGRESS_INTERVAL),
        }
    }

    /// [`Fixture::start`] with the CRDs and the ExtendedDaemonSet `name` (one container,
    /// `image`), as created.
    pub async fn with_eds(name: &str, image: &str) -> (Self, ExtendedDaemonSet) {
        let fixture = Self::start().await;
        let eds = create_eds(&fixture.client, name, image).await;
        (fixture, eds)
    }

    /// Stops the simulated API server.
    pub async fn stop(self) {
        self.server.stop().await;
    }

    /// An executor with `max_concurrent_writes` pod writes in flight, statuses paced as the
    /// controller paces them.
    pub fn executor(&self, max_concurrent_writes: usize) -> Executor<'_> {
        self.executor_paced(&self.pacing, max_concurrent_writes)
    }

    /// An executor whose statuses are paced by `pacing`.
    pub fn executor_paced<'a>(
        &'a self,
        pacing: &'a Pacing,
        max_concurrent_writes: usize,
    ) -> Executor<'a> {
        Executor {
            client: &self.client,
            recorder: &self.recorder,
            metrics: &self.metrics,
            leader: &self.leader,
            deadline: &self.deadline,
            max_concurrent_writes,
            pacing,
        }
    }
}

/// Installs the CRDs and creates the ExtendedDaemonSet `name` in [`NS`] (one container,
/// `image`); returns it as created.
pub(crate) async fn create_eds(client: &Client, name: &str, image: &str) -> ExtendedDaemonSet {
    kube_sim::cluster::install_crds(client, &eds_api::crds())
        .await
        .expect("CRDs");
    let eds: ExtendedDaemonSet = serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1",
        "kind": "ExtendedDaemonSet",
        "metadata": { "name": name, "namespace": NS },
        "spec": {
            "strategy": {},
            "template": { "spec": { "containers": [{ "name": "c", "image": image }] } },
        },
    }))
    .expect("EDS");
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), NS);
    api.create(&PostParams::default(), &eds).await.expect("EDS")
}
