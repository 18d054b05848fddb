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
    /// The Lease for leader election could not be set up.
    #[error("leader election on Lease {namespace}/{name}: {source}")]
    LeaderElection {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        name: String,
        /// What the lease manager reported.
        source: kube_lease_manager::LeaseManagerError,
    },
    /// A watch cache was dropped before it synced (its watcher ended).
    #[error("a watch cache closed before it synced")]
    CacheClosed(#[from] kube::runtime::reflector::store::WriterDropped),
    /// A controller task panicked.
    #[error("controller task panicked: {0}")]
    TaskPanicked(String),
}
