//! Why the controller stops. Each variant names the part that failed, so the binary's one-line
//! error tells an operator where to look.

/// A failure that stops the running controller.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An HTTP endpoint (`/metrics`, `/healthz`) stopped serving.
    #[error("{endpoint} endpoint: {source}")]
    Serve {
        /// `metrics` or `health`.
        endpoint: &'static str,
        /// The listener's error.
        source: std::io::Error,
    },
    /// The Lease for leader election cannot be used (RBAC, a missing namespace, an invalid
    /// name): an error no retry fixes. Transient errors are retried.
    #[error(
        "leader election on Lease {namespace}/{name} (check --leader-elect-namespace, \
         --leader-elect-lease and the RBAC rules on leases): {source}"
    )]
    LeaderElection {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        name: String,
        /// What the API server answered.
        source: kube::Error,
    },
    /// A watch cache was dropped before it synced (its watcher ended).
    #[error("a watch cache closed before it synced")]
    CacheClosed(#[from] kube::runtime::reflector::store::WriterDropped),
    /// A controller task panicked.
    #[error("controller task panicked: {0}")]
    TaskPanicked(String),
}
