//! The executor's tests on the simulated API server: a server with the CRDs, one
//! ExtendedDaemonSet, and what an [`Executor`] borrows.

use kube::{
    Api, Client,
    api::PostParams,
    runtime::events::{Recorder, Reporter},
};
use kube_sim::apiserver::{Config, SimApiServer};
use serde_json::json;
use tokio::{sync::watch, time::Instant};

use super::Executor;
use crate::{metrics::Metrics, pacing::Pacing};
use eds_api::ExtendedDaemonSet;

pub(super) const NS: &str = "default";

pub(super) struct Fixture {
    server: SimApiServer,
    pub client: Client,
    /// The ExtendedDaemonSet as created.
    pub eds: ExtendedDaemonSet,
    recorder: Recorder,
    metrics: Metrics,
    _leader_tx: watch::Sender<bool>,
    leader: watch::Receiver<bool>,
    deadline: watch::Receiver<Option<Instant>>,
}

impl Fixture {
    /// A simulated API server with the CRDs and the ExtendedDaemonSet `name` (one container,
    /// `image`), this replica leading without a deadline.
    pub async fn start(name: &str, image: &str) -> Self {
        let server = SimApiServer::start(Config::default()).await.expect("sim");
        let client = server.client().expect("client");
        kube_sim::cluster::install_crds(&client, &eds_api::crds())
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
        let eds = api.create(&PostParams::default(), &eds).await.expect("EDS");
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "test".into(),
                instance: None,
            },
        );
        let (_leader_tx, leader) = watch::channel(true);
        Fixture {
            server,
            client,
            eds,
            recorder,
            metrics: Metrics::with_registry().0,
            _leader_tx,
            leader,
            deadline: watch::channel(None).1,
        }
    }

    /// Stops the simulated API server.
    pub async fn stop(self) {
        self.server.stop().await;
    }

    /// An executor writing one pod at a time, its statuses paced by `pacing`.
    pub fn executor<'a>(&'a self, pacing: &'a Pacing) -> Executor<'a> {
        Executor {
            client: &self.client,
            recorder: &self.recorder,
            metrics: &self.metrics,
            leader: &self.leader,
            deadline: &self.deadline,
            max_concurrent_writes: 1,
            pacing,
        }
    }
}
