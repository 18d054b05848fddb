//! Why `eds plan` could not plan. Every message names the file, document, object or cluster
//! call at fault; all of them exit with [`ERROR_EXIT_CODE`].

use std::path::PathBuf;

use eds_plan::SnapshotError;

/// Exit code of every error, as `kubectl diff` (0 and 1 mean no changes / changes).
pub const ERROR_EXIT_CODE: u8 = 2;

/// Where in an input file an object sits: 1-based document, and item of a `kind: List`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file (`-` for standard input).
    pub path: PathBuf,
    /// 1-based YAML document.
    pub document: usize,
    /// 1-based item of a `kind: List` document.
    pub item: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: document {}", self.path.display(), self.document)?;
        if let Some(item) = self.item {
            write!(f, ", item {item}")?;
        }
        Ok(())
    }
}

/// Why `eds plan` failed.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// An input file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An input file is not valid YAML.
    #[error("{}: invalid YAML: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A document has no `apiVersion` or `kind`.
    #[error("{at}: no apiVersion/kind; every document must be a Kubernetes object")]
    MissingKind {
        /// Where.
        at: Location,
    },
    /// An object is of a kind the file may not hold.
    #[error("{at}: unknown kind {kind:?} (apiVersion {api_version:?}); expected {expected}")]
    UnknownKind {
        /// Where.
        at: Location,
        /// Its `kind`.
        kind: String,
        /// Its `apiVersion`.
        api_version: String,
        /// The kinds allowed there.
        expected: &'static str,
    },
    /// An object does not deserialize as its kind.
    #[error("{at}: {kind} {name:?}: field {field}: {message}")]
    InvalidObject {
        /// Where.
        at: Box<Location>,
        /// Its `kind`.
        kind: String,
        /// Its `metadata.name`.
        name: String,
        /// Path of the offending field (`.` for the object itself).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The `-f` file holds no ExtendedDaemonSet.
    #[error("{}: no ExtendedDaemonSet (datadoghq.com/v1alpha1) in the file{found}", path.display())]
    NoExtendedDaemonSet {
        /// The file.
        path: PathBuf,
        /// What the file holds instead (`; found Deployment "web" (apps/v1) in document 1`),
        /// or nothing.
        found: String,
    },
    /// The proposed ExtendedDaemonSet has fields the CRD does not know (typos such as
    /// `replica:` or `stratgy:`), which `kubectl apply` rejects (strict field validation).
    #[error(
        "{at}: ExtendedDaemonSet {name:?} is invalid: strict decoding error: {}",
        fields.iter().map(|f| format!("unknown field {f:?}")).collect::<Vec<_>>().join(", ")
    )]
    UnknownFields {
        /// Where.
        at: Location,
        /// Its name.
        name: String,
        /// Paths of the unknown fields (`spec.replica`).
        fields: Vec<String>,
    },
    /// The proposed ExtendedDaemonSet fails the CRD schema or its validation rules.
    #[error("{at}: ExtendedDaemonSet {name:?} is invalid: {}", causes.join("; "))]
    InvalidSpec {
        /// Where.
        at: Location,
        /// Its name.
        name: String,
        /// One `field: message` per problem.
        causes: Vec<String>,
    },
    /// `-n` and the file's `metadata.namespace` disagree.
    #[error(
        "the namespace of the file ({file:?}) does not match --namespace ({flag:?}); drop one of them"
    )]
    NamespaceMismatch {
        /// `metadata.namespace` in the file.
        file: String,
        /// `-n`.
        flag: String,
    },
    /// The state file cannot be turned into a snapshot.
    #[error("{}: {source}", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// Why.
        source: Box<SnapshotError>,
    },
    /// The objects read from the cluster cannot be turned into a snapshot.
    #[error("cannot plan from the cluster state: {0}")]
    Snapshot(Box<SnapshotError>),
    /// The arguments are incomplete (only when [`crate::cli::PlanArgs`] is built by hand:
    /// the command line checks them first).
    #[error("{0}")]
    Usage(String),
    /// The kubeconfig could not be loaded.
    #[error("cannot load the kubeconfig: {0}")]
    Kubeconfig(String),
    /// A call to the API server failed (unreachable, forbidden, ...).
    #[error("cannot {what}: {source}")]
    Api {
        /// What was being done, e.g. `list nodes`.
        what: String,
        /// The client error.
        source: Box<kube::Error>,
    },
    /// The API server rejected the dry-run apply of the proposed object.
    #[error(
        "the API server rejected ExtendedDaemonSet {namespace}/{name} (server-side dry run): {message}"
    )]
    Rejected {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// The server's message (names the invalid fields).
        message: String,
    },
    /// `--dump-state` names an ExtendedDaemonSet that does not exist.
    #[error("ExtendedDaemonSet {namespace}/{name} not found")]
    NotFound {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// The output could not be written.
    #[error("cannot write the output: {0}")]
    Write(#[from] std::io::Error),
    /// The output could not be serialized.
    #[error("cannot serialize the output: {0}")]
    Serialize(String),
}

/// The patterns of the ExtendedDaemonSet CRD and what they allow, in words.
const PATTERNS: [(&str, &str); 2] = [
    (
        "^(100|[1-9]?[0-9])%$",
        "a percentage from 0% to 100%, such as \"10%\"",
    ),
    (
        "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$",
        "a duration such as \"30s\", \"5m\" or \"1h30m\"",
    ),
];

/// An admission message (the API server's or ours) with what a pattern allows said in words
/// after it: `... should match '^(100|[1-9]?[0-9])%$' (a percentage from 0% to 100%, such
/// as "10%")`.
pub fn explain(message: &str) -> String {
    let mut out = message.to_string();
    for (pattern, words) in PATTERNS {
        let quoted = format!("should match '{pattern}'");
        if out.contains(&quoted) {
            out = out.replace(&quoted, &format!("{quoted} ({words})"));
        }
    }
    out
}

impl PlanError {
    /// The process exit code for this error (always 2, as `kubectl diff`).
    pub fn exit_code(&self) -> u8 {
        ERROR_EXIT_CODE
    }

    pub(crate) fn api(what: impl Into<String>, source: kube::Error) -> Self {
        Self::Api {
            what: what.into(),
            source: Box::new(source),
        }
    }
}
