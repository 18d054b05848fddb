//! Errors of the `kubectl eds` verbs and the exit code each maps to.

use std::fmt;

/// `namespace/name` of an object, as the messages print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    /// Namespace of the object.
    pub namespace: String,
    /// Name of the object.
    pub name: String,
}

impl ObjectRef {
    /// Builds a reference from a namespace and a name.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Exit code of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit code when the command ran but the answer is "failed": `rollout status` saw the rollout
/// fail or time out.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage error, a missing object or an API error.
pub const EXIT_ERROR: u8 = 2;

/// Why a `kubectl eds` verb failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig could not be read or names no usable context.
    #[error("cannot load the kubeconfig: {0}")]
    Kubeconfig(String),
    /// No client could be built from the configuration.
    #[error("cannot build a Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    /// The ExtendedDaemonSet does not exist.
    #[error("ExtendedDaemonSet {0} not found")]
    NoSuchEds(ObjectRef),
    /// The ExtendedDaemonSetReplicaSet does not exist.
    #[error("ExtendedDaemonSetReplicaSet {0} not found")]
    NoSuchErs(ObjectRef),
    /// A verb that acts on the canary was run while no canary is in progress.
    #[error("no canary in progress for ExtendedDaemonSet {eds} (state: {state})")]
    NoCanary {
        /// The ExtendedDaemonSet.
        eds: ObjectRef,
        /// Its `status.state`, for context.
        state: String,
    },
    /// A rolling-update verb was run while a canary is in progress.
    #[error(
        "ExtendedDaemonSet {eds} has a canary in progress ({canary}): \
         use `kubectl eds canary pause|validate|fail {name}` instead",
        name = eds.name
    )]
    CanaryInProgress {
        /// The ExtendedDaemonSet.
        eds: ObjectRef,
        /// Name of the canary ExtendedDaemonSetReplicaSet.
        canary: String,
    },
    /// `rollout history --revision` or `rollout undo --to-revision` named an unknown revision.
    #[error(
        "revision {revision} of ExtendedDaemonSet {eds} not found: available revisions {available}"
    )]
    NoSuchRevision {
        /// The ExtendedDaemonSet.
        eds: ObjectRef,
        /// The revision asked for.
        revision: u64,
        /// The revisions that exist, comma separated (or `none`).
        available: String,
    },
    /// `rollout undo` without `--to-revision` found no revision older than the current one.
    #[error("ExtendedDaemonSet {eds} has no previous revision: available revisions {available}")]
    NoPreviousRevision {
        /// The ExtendedDaemonSet.
        eds: ObjectRef,
        /// The revisions that exist, comma separated (or `none`).
        available: String,
    },
    /// A request to the API server failed.
    #[error("{action}: {source}")]
    Api {
        /// What was being done, naming the object.
        action: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// An object could not be printed as YAML or JSON.
    #[error("cannot print {what}: {message}")]
    Print {
        /// What was being printed.
        what: String,
        /// The serializer's message.
        message: String,
    },
    /// Writing to the output failed (e.g. a closed pipe).
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
    /// `rollout status` saw the rollout fail (canary failed or a Stalled condition).
    #[error("rollout of ExtendedDaemonSet {eds} failed: {reason}")]
    RolloutFailed {
        /// The ExtendedDaemonSet.
        eds: ObjectRef,
        /// Why, from the status.
        reason: String,
    },
    /// `diff` found that the active and canary templates differ: not a failure, but exit 1
    /// as `kubectl diff` does, so scripts can tell (the binary prints no error for it).
    #[error("the templates of ExtendedDaemonSet {0} differ")]
    TemplatesDiffer(ObjectRef),
    /// `rollout status --watch --timeout` ran out of time.
    #[error("timed out after {timeout} waiting for the rollout of ExtendedDaemonSet {eds}")]
    Timeout {
        /// The ExtendedDaemonSet.
        eds: ObjectRef,
        /// The timeout, as given.
        timeout: String,
    },
    /// The watch on the ExtendedDaemonSet ended or failed while waiting.
    #[error("watching ExtendedDaemonSet {eds} failed: {message}")]
    Watch {
        /// The ExtendedDaemonSet.
        eds: ObjectRef,
        /// The watcher's message.
        message: String,
    },
}

impl Error {
    /// The process exit code for this error (see `kubectl-eds --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::RolloutFailed { .. } | Self::Timeout { .. } | Self::TemplatesDiffer(_) => {
                EXIT_FAILURE
            }
            _ => EXIT_ERROR,
        }
    }

    /// Wraps a client error with what was being done.
    pub(crate) fn api(action: impl Into<String>, source: kube::Error) -> Self {
        Self::Api {
            action: action.into(),
            source,
        }
    }
}

/// Result of a `kubectl eds` verb.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a client error is a 404 from the API server.
pub(crate) fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}
