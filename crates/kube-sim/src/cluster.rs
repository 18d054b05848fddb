//! A whole simulated cluster in one handle: the API server with the given CRDs installed and
//! the kubelet simulator running `N` fake nodes.

use std::time::Duration;

use kube::{
    Api, Client, ResourceExt,
    api::{Patch, PatchParams},
};

use super::{
    apiserver::{self, SimApiServer},
    kubelet::{FakeNode, KubeletConfig, KubeletError, SimKubelet},
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// Field manager of the CRD installs.
pub const FIELD_MANAGER: &str = "kube-sim";

/// Why the simulated cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The API server did not start.
    #[error("starting the simulated API server: {0}")]
    ApiServer(#[from] apiserver::SimError),
    /// Installing a CRD failed.
    #[error("installing CRD {name}: {source}")]
    InstallCrd { name: String, source: kube::Error },
    /// The kubelet simulator did not start.
    #[error("starting the kubelet simulator: {0}")]
    Kubelet(#[from] KubeletError),
}

/// Options of a simulated cluster.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Fake nodes, named `<node_prefix>-<i>` (from 1, zero-padded to the width of the count).
    pub nodes: usize,
    /// Prefix of the node names.
    pub node_prefix: String,
    /// Port of the API server on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Time from pod creation to Ready.
    pub start_delay: Duration,
    /// Seed of the simulators' randomness.
    pub seed: u64,
    /// CustomResourceDefinitions installed before the kubelet starts.
    pub crds: Vec<CustomResourceDefinition>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            nodes: 3,
            node_prefix: "node".into(),
            port: 0,
            start_delay: Duration::from_secs(1),
            seed: 0,
            crds: Vec::new(),
        }
    }
}

/// A running simulated cluster.
pub struct SimCluster {
    pub api: SimApiServer,
    pub kubelet: SimKubelet,
    pub client: Client,
}

impl SimCluster {
    /// Starts the API server, installs the CRDs and starts the kubelet with the nodes.
    pub async fn start(options: ClusterOptions) -> Result<Self, ClusterError> {
        let api = SimApiServer::start(apiserver::Config {
            port: options.port,
            seed: options.seed,
            ..Default::default()
        })
        .await?;
        let client = api.client()?;
        install_crds(&client, &options.crds).await?;
        let width = options.nodes.to_string().len();
        let mut config = KubeletConfig::default().start_delay(options.start_delay);
        config.seed = options.seed;
        config.nodes = (1..=options.nodes)
            .map(|i| FakeNode::new(format!("{}-{i:0width$}", options.node_prefix)))
            .collect();
        // The kubelet calls the server in-process: it is part of the simulated cluster, and most
        // of the cluster's requests are its own.
        let kubelet = SimKubelet::start(api.local_client(), config).await?;
        Ok(Self {
            api,
            kubelet,
            client,
        })
    }

    /// Stops the kubelet and the API server.
    pub async fn stop(self) {
        let _ = self.kubelet.stop().await;
        self.api.stop().await;
    }
}

/// Installs (or updates) CRDs with server-side apply.
pub async fn install_crds(
    client: &Client,
    crds: &[CustomResourceDefinition],
) -> Result<(), ClusterError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds {
        api.patch(
            &crd.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(crd),
        )
        .await
        .map_err(|source| ClusterError::InstallCrd {
            name: crd.name_any(),
            source,
        })?;
    }
    Ok(())
}
