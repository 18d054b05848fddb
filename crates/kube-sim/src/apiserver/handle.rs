//! The Rust handle of a running simulated API server: start, URL, client, kubeconfig,
//! faults, stop.

use std::{net::SocketAddr, path::Path, sync::Arc};

use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};
use serde_json::{Value, json};
use tokio::{sync::watch, task::JoinHandle};

use super::{
    core::{Sub, Target, WriteOpts},
    error::{ApiError, SimError},
    faults::Faults,
    gc, meta,
    resources::ResKey,
    routes,
    state::{Config, Shared},
    write::Ownership,
};

/// Name of the cluster, context and user in generated kubeconfigs.
pub const CONTEXT: &str = "eds-sim";

/// Namespaces that exist from the start, as in a new cluster.
const NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// A running in-memory API server on `127.0.0.1`. Dropping it stops it.
pub struct SimApiServer {
    url: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl SimApiServer {
    /// Starts a server; it is ready to serve when this returns.
    pub async fn start(config: Config) -> Result<Self, SimError> {
        let port = config.port;
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .map_err(|source| SimError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { port, source })?;
        let shared = Arc::new(Shared::new(config));
        for ns in NAMESPACES {
            create(
                &shared,
                "",
                "namespaces",
                json!({ "metadata": { "name": ns } }),
            )?;
        }
        let (stop, stop_rx) = watch::channel(false);
        let app = routes::router(shared.clone());
        let mut shutdown = stop_rx.clone();
        let server = tokio::spawn(async move {
            let graceful = async move {
                let _ = shutdown.changed().await;
            };
            // Serving only ends on shutdown; an accept error is logged by axum.
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(graceful)
                .await
            {
                tracing::warn!(error = %e, "simulated API server stopped with an error");
            }
        });
        let collector = tokio::spawn(gc::run(shared.clone(), stop_rx));
        Ok(SimApiServer {
            url: format!("http://{addr}"),
            shared,
            stop,
            tasks: vec![server, collector],
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A kube client for this server (no auth, plain HTTP, kube's default retries of 429s).
    /// Call it from within a Tokio runtime (the client spawns its request buffer).
    pub fn client(&self) -> Result<kube::Client, SimError> {
        let uri =
            self.url
                .parse()
                .map_err(|e: axum::http::uri::InvalidUri| SimError::InvalidUrl {
                    url: self.url.clone(),
                    message: e.to_string(),
                })?;
        let mut config = kube::Config::new(uri);
        config.default_namespace = "default".into();
        kube::Client::try_from(config).map_err(|source| SimError::Client {
            url: self.url.clone(),
            source,
        })
    }

    /// A kube client that calls this server in the same process: the same routes, faults and
    /// answers as [`Self::client`], and kube's retries of 429s, without a TCP connection or
    /// HTTP/1 encoding in between. The simulated kubelet of a [`crate::cluster::SimCluster`]
    /// talks to its server this way; a client under test should use [`Self::client`].
    /// It keeps working after [`Self::stop`], which stops the HTTP listener.
    pub fn local_client(&self) -> kube::Client {
        let service = tower::ServiceBuilder::new()
            .layer(tower::retry::RetryLayer::new(
                kube::client::retry::RetryPolicy::server_retry(),
            ))
            .map_err(|never: std::convert::Infallible| -> tower::BoxError { match never {} })
            .service(routes::router(self.shared.clone()));
        kube::Client::new(service, "default")
    }

    /// A kubeconfig whose current context points at this server.
    pub fn kubeconfig(&self) -> Kubeconfig {
        Kubeconfig {
            clusters: vec![NamedCluster {
                name: CONTEXT.into(),
                cluster: Some(Cluster {
                    server: Some(self.url.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            auth_infos: vec![NamedAuthInfo {
                name: CONTEXT.into(),
                auth_info: Some(AuthInfo::default()),
                ..Default::default()
            }],
            contexts: vec![NamedContext {
                name: CONTEXT.into(),
                context: Some(Context {
                    cluster: CONTEXT.into(),
                    user: Some(CONTEXT.into()),
                    namespace: Some("default".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            current_context: Some(CONTEXT.into()),
            api_version: Some("v1".into()),
            kind: Some("Config".into()),
            ..Default::default()
        }
    }

    /// Writes [`Self::kubeconfig`] as YAML to `path`.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), SimError> {
        let yaml = serde_saphyr::to_string(&self.kubeconfig())
            .map_err(|e| SimError::SerializeKubeconfig(e.to_string()))?;
        std::fs::write(path, yaml).map_err(|source| SimError::WriteKubeconfig {
            path: path.display().to_string(),
            source,
        })
    }

    /// Fault switches.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Drops the watch history: every watch from an older resourceVersion gets 410 Gone.
    pub fn compact_history(&self) {
        self.shared.lock().store.compact();
    }

    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().store.rv()
    }

    /// Creates `n` Ready nodes named `<prefix>-<i>` (from 1, zero-padded to 4 digits),
    /// labelled like kubelet-registered Linux nodes.
    pub fn create_nodes(&self, prefix: &str, n: usize) -> Result<(), SimError> {
        for i in 1..=n {
            let name = format!("{prefix}-{i:04}");
            create(&self.shared, "", "nodes", node(&name))?;
        }
        Ok(())
    }

    /// Stops serving and closes every watch.
    pub async fn stop(mut self) {
        self.shutdown();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }

    fn shutdown(&self) {
        self.shared.faults.close_watches();
        let _ = self.stop.send(true);
    }
}

impl Drop for SimApiServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Creates an object directly in the store (seeding).
fn create(shared: &Shared, group: &str, plural: &str, obj: Value) -> Result<(), ApiError> {
    let mut core = shared.lock();
    let info = core
        .store
        .registry
        .get(&ResKey::new(group, plural))
        .cloned()
        .ok_or_else(|| ApiError::not_found(plural, group, ""))?;
    let t = Target {
        version: info.versions.first().cloned().unwrap_or_default(),
        info,
        namespace: String::new(),
        sub: Sub::Main,
    };
    let opts = WriteOpts {
        dry_run: false,
        manager: "eds-sim".into(),
        fields: Default::default(),
    };
    core.create(&t, obj, Ownership::Update, &opts)?;
    Ok(())
}

fn node(name: &str) -> Value {
    let now = meta::now_rfc3339();
    let capacity = json!({ "cpu": "4", "memory": "16Gi", "pods": "110" });
    json!({
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "spec": {},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": now, "lastTransitionTime": now,
            }],
            "nodeInfo": { "kubeletVersion": "v1.33.0", "operatingSystem": "linux",
                          "architecture": "amd64" },
        },
    })
}
