//! A controller replica for the chaos soak, killed the way a node or the OOM killer kills a
//! process: it runs on its own Tokio runtime with its own client, and a kill shuts that runtime
//! down at once. Nothing of the replica runs after that: no lease release, no in-flight write
//! completed, no watch left open (an in-process abort would still release the lease and finish
//! the client's queued requests on the test's runtime).

use std::time::Duration;

use eds_api::ValidationMode;
use eds_controller::{self as controller, RuntimeConfig, WatchScope, leader::LeaseSettings};
use tokio::task::JoinHandle;

/// `User-Agent` prefix of the replicas' requests, `eds-controller/<identity>`.
pub const USER_AGENT: &str = "eds-controller/";

/// Name of the Lease the soak's replicas contend for.
pub const LEASE: &str = "eds-chaos";

/// One running replica.
pub struct Process {
    runtime: Option<tokio::runtime::Runtime>,
    task: JoinHandle<()>,
}

impl Process {
    /// Starts a replica with leader election on [`LEASE`] in `namespace`, watching that
    /// namespace only.
    pub fn start(config: &kube::Config, namespace: &str, identity: &str) -> Process {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .thread_name(format!("controller-{identity}"))
            .build()
            .expect("a runtime for the controller replica");
        let mut config = config.clone();
        if let Ok(agent) = http::HeaderValue::from_str(&format!("eds-controller/{identity}")) {
            config.headers.push((http::header::USER_AGENT, agent));
        }
        let namespace = namespace.to_string();
        let id = identity.to_string();
        let task = runtime.spawn(async move {
            let client = kube::Client::try_from(config).expect("a client for the replica");
            let rt = controller::Runtime {
                client,
                config: RuntimeConfig {
                    scope: WatchScope::Namespaces(vec![namespace.clone()]),
                    validation_mode: ValidationMode::Auto,
                    concurrency: 4,
                    max_concurrent_writes: controller::config::DEFAULT_MAX_CONCURRENT_WRITES.into(),
                    identity: id.clone(),
                    expectations_timeout: Duration::from_secs(10),
                },
                metrics_listener: None,
                health_listener: None,
                leader_election: Some(LeaseSettings {
                    name: LEASE.into(),
                    namespace,
                    identity: id.clone(),
                    duration: Duration::from_secs(3),
                    grace: Duration::from_secs(1),
                }),
            };
            if let Err(e) = controller::run(rt, std::future::pending()).await {
                tracing::warn!(replica = %id, error = %format!("{e:#}"), "controller exited");
            }
        });
        Process {
            runtime: Some(runtime),
            task,
        }
    }

    /// Whether the replica exited by itself (a Deployment would restart it).
    pub fn exited(&self) -> bool {
        self.task.is_finished()
    }

    /// Kills the replica abruptly.
    pub fn kill(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.shutdown();
    }
}
