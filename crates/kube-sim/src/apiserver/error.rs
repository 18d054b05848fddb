//! Errors of the simulated API server and their `Status` wire form.
//!
//! Every request error becomes a `meta.k8s.io/v1` `Status` object with the reason, code and
//! details (kind, name, field causes) the real API server gives, so clients (kube-rs,
//! kubectl) print the same messages and take the same retry decisions.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// One field-level cause of an `Invalid` or `Conflict` error (`details.causes[]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// Machine-readable reason, e.g. `FieldValueInvalid`, `FieldManagerConflict`.
    pub reason: String,
    /// Human-readable description.
    pub message: String,
    /// Path of the field, e.g. `spec.template.spec.containers[0].image`.
    pub field: String,
}

/// What a request can fail with; each variant maps to one HTTP status and `Status.reason`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404: the object, namespace or resource does not exist.
    #[error("{message}")]
    NotFound {
        /// Full message.
        message: String,
        /// Resource plural (`details.kind`).
        kind: String,
        /// Object name (`details.name`).
        name: String,
    },
    /// 409 `AlreadyExists`: create of a name that is taken.
    #[error("{kind} \"{name}\" already exists")]
    AlreadyExists {
        /// Resource plural.
        kind: String,
        /// Object name.
        name: String,
    },
    /// 409 `Conflict`: stale resourceVersion, failed precondition or apply conflicts.
    #[error("{message}")]
    Conflict {
        /// Full message.
        message: String,
        /// Resource plural.
        kind: String,
        /// Object name.
        name: String,
        /// Conflicting fields (server-side apply).
        causes: Vec<Cause>,
    },
    /// 403 `Forbidden`: the request is refused (e.g. creating in a terminating namespace).
    #[error("{message}")]
    Forbidden {
        /// Full message.
        message: String,
        /// Resource plural.
        kind: String,
        /// Object name.
        name: String,
    },
    /// 422 `Invalid`: the object fails validation.
    #[error("{message}")]
    Invalid {
        /// Full message, listing the causes.
        message: String,
        /// Kind of the object (e.g. `ExtendedDaemonSet`).
        kind: String,
        /// API group of the object.
        group: String,
        /// Object name.
        name: String,
        /// Field causes.
        causes: Vec<Cause>,
    },
    /// 400 `BadRequest`: the request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 405 `MethodNotAllowed`: the verb is not supported on this path.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 415 `UnsupportedMediaType`: a patch type the resource does not accept.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 410 `Expired`: a watch or continue token older than the kept history.
    #[error("{0}")]
    Gone(String),
    /// 429 `TooManyRequests` with `Retry-After` (fault injection).
    #[error("{message}")]
    TooManyRequests {
        /// Full message.
        message: String,
        /// Seconds the client should wait.
        retry_after: u32,
    },
    /// 500 `InternalError` (fault injection or a server bug).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 404 for an object of `plural` called `name`.
    pub fn not_found(plural: &str, group: &str, name: &str) -> Self {
        let qualified = qualified(plural, group);
        ApiError::NotFound {
            message: format!("{qualified} \"{name}\" not found"),
            kind: plural.to_string(),
            name: name.to_string(),
        }
    }

    /// The 409 the real server gives for a stale resourceVersion.
    pub fn stale(plural: &str, group: &str, name: &str) -> Self {
        let qualified = qualified(plural, group);
        ApiError::Conflict {
            message: format!(
                "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been \
                 modified; please apply your changes to the latest version and try again"
            ),
            kind: plural.to_string(),
            name: name.to_string(),
            causes: Vec::new(),
        }
    }

    /// A 422 for `kind` `name` with the given field causes.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<Cause>) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let list: Vec<String> = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect();
        let joined = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        ApiError::Invalid {
            message: format!("{qualified} \"{name}\" is invalid: {joined}"),
            kind: kind.to_string(),
            group: group.to_string(),
            name: name.to_string(),
            causes,
        }
    }

    /// HTTP status code of this error.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::Forbidden { .. } => 403,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Gone(_) => 410,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::Internal(_) => 500,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Forbidden { .. } => "Forbidden",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::MethodNotAllowed(_) => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::Gone(_) => "Expired",
            ApiError::TooManyRequests { .. } => "TooManyRequests",
            ApiError::Internal(_) => "InternalError",
        }
    }

    /// The `Status` object of this error.
    pub fn status(&self) -> Value {
        let details = match self {
            ApiError::NotFound { kind, name, .. }
            | ApiError::AlreadyExists { kind, name }
            | ApiError::Forbidden { kind, name, .. } => Some(json!({ "name": name, "kind": kind })),
            ApiError::Conflict {
                kind, name, causes, ..
            } => {
                let mut d = json!({ "name": name, "kind": kind });
                if !causes.is_empty() {
                    d["causes"] = causes_json(causes);
                }
                Some(d)
            }
            ApiError::Invalid {
                kind,
                group,
                name,
                causes,
                ..
            } => Some(json!({
                "name": name, "group": group, "kind": kind, "causes": causes_json(causes)
            })),
            ApiError::TooManyRequests { retry_after, .. } => {
                Some(json!({ "retryAfterSeconds": retry_after }))
            }
            _ => None,
        };
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code(),
        });
        if let Some(d) = details {
            status["details"] = d;
        }
        status
    }
}

fn causes_json(causes: &[Cause]) -> Value {
    Value::Array(
        causes
            .iter()
            .map(|c| json!({ "reason": c.reason, "message": c.message, "field": c.field }))
            .collect(),
    )
}

/// `pods` for the core group, `extendeddaemonsets.datadoghq.com` otherwise, as in messages
/// of the real server.
pub fn qualified(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.status().to_string();
        let mut resp = (code, body).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let ApiError::TooManyRequests { retry_after, .. } = &self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        resp
    }
}

/// Errors of starting or serving the simulator (the Rust handle and `eds sim serve`).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding the listening socket failed (port taken, bad address).
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// Requested port.
        port: u16,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The server URL does not parse as a URI.
    #[error("invalid server URL {url}: {message}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// Why it does not parse.
        message: String,
    },
    /// Building the kube client for the server failed.
    #[error("cannot build a kube client for {url}: {source}")]
    Client {
        /// Server URL.
        url: String,
        /// Underlying kube error.
        source: kube::Error,
    },
    /// Writing the kubeconfig file failed.
    #[error("cannot write kubeconfig {path}: {source}")]
    WriteKubeconfig {
        /// Target path.
        path: String,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// Serializing the kubeconfig failed.
    #[error("cannot serialize kubeconfig: {0}")]
    SerializeKubeconfig(String),
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(std::io::Error),
    /// Seeding the store (namespaces, nodes) failed.
    #[error("cannot seed the store: {0}")]
    Seed(#[from] ApiError),
}
