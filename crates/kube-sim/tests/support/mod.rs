//! Where the behaviour tests run: on the simulator by default, or on a real cluster when
//! `EDS_TEST_KUBECONFIG` names a kubeconfig, so a difference between the simulator and
//! Kubernetes shows up as a failing test. Each test works in a namespace of its own.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, Client,
    api::{DeleteParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
};
use kube_sim::apiserver::{Config, SimApiServer};

/// Environment variable naming the kubeconfig of a real cluster to test against.
pub const REAL_CLUSTER_ENV: &str = "EDS_TEST_KUBECONFIG";

/// A client, a fresh namespace, and the simulator when there is no real cluster.
pub struct Cluster {
    /// Client of the cluster.
    pub client: Client,
    /// The test's own namespace.
    pub namespace: String,
    /// The simulator, when the test runs on it.
    pub sim: Option<SimApiServer>,
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos % 100_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Cluster {
    /// Connects (or starts the simulator) and creates the test namespace.
    pub async fn new() -> Cluster {
        let (client, sim) = match std::env::var(REAL_CLUSTER_ENV) {
            Ok(path) => {
                let kubeconfig = Kubeconfig::read_from(&path).expect("readable kubeconfig");
                let config =
                    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                        .await
                        .expect("usable kubeconfig");
                (Client::try_from(config).expect("client"), None)
            }
            Err(_) => {
                let sim = SimApiServer::start(Config::default()).await.expect("start");
                (sim.client().expect("client"), Some(sim))
            }
        };
        let namespace = format!("eds-test-{}", unique_suffix());
        let ns: Namespace =
            serde_json::from_value(serde_json::json!({ "metadata": { "name": namespace } }))
                .expect("namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("create test namespace");
        Cluster {
            client,
            namespace,
            sim,
        }
    }

    /// An API of `K` in the test namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Deletes the test namespace (on a real cluster; the simulator just stops).
    pub async fn cleanup(self) {
        if self.sim.is_none() {
            let _ = Api::<Namespace>::all(self.client.clone())
                .delete(&self.namespace, &DeleteParams::default())
                .await;
        }
    }
}

/// The Status of an API error, failing the test on any other error.
pub fn api_status(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}
