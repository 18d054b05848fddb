//! In-memory Kubernetes API server over HTTP on loopback.
//!
//! It speaks the real API's JSON protocol well enough for kube-rs and kubectl: discovery,
//! get/list/watch (selectors, pagination with one snapshot per list, bookmarks, 410 Gone),
//! create/update/delete with resourceVersion concurrency, merge/JSON/strategic patches,
//! server-side apply with managedFields, status subresources, dry run, finalizers, pod
//! graceful deletion, ownerReference garbage collection and CRDs with schema admission.
//! Faults (read and write errors, conflicts, latency, watch closes, forced 410, an outage
//! answering 503 to everything while keeping the state) are switched at run time
//! through [`Faults`].
//!
//! Known differences from a real API server (none matters to kube-rs controllers or to the
//! kubectl commands the tests drive):
//! - no authentication, authorization, admission webhooks, aggregated discovery, protobuf or
//!   CBOR; `/openapi/v3` lists operations but no schemas, `/openapi/v2` is not served;
//! - `fieldValidation` (`Strict`, `Warn` the default, `Ignore`) checks the unknown fields of
//!   custom resources only (built-in kinds have no schema here) and duplicate keys of JSON
//!   bodies (a YAML body with a duplicate key is rejected whatever the directive);
//! - CRD versions share one stored object (no conversion: `apiVersion` is rewritten);
//! - server-side apply merges lists as the resource declares them (`x-kubernetes-list-type`
//!   and `x-kubernetes-list-map-keys` of a CRD schema, a table of the built-in types'
//!   `+listType` markers); strategic merge keys come from the field name (`containers` by
//!   `name`, `ports` by `containerPort`, ...); apply compares numbers by value (`0` and `0.0`
//!   are one value), as the real server does once it has decoded them into typed fields;
//! - a namespace has no `kubernetes` finalizer; its objects are deleted by the collector.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kube_sim::apiserver::SimError> {
//! use kube_sim::apiserver::{Config, SimApiServer};
//! let server = SimApiServer::start(Config::default()).await?;
//! let client = server.client()?;
//! # drop(client);
//! server.stop().await;
//! # Ok(()) }
//! ```

mod admission;
mod apply;
mod core;
mod crd;
mod defaults;
mod delete;
mod discovery;
mod error;
mod events;
mod faults;
mod fieldset;
mod gc;
mod handle;
mod handlers;
mod list;
mod lists;
mod managed;
mod meta;
mod openapi;
mod patch;
mod resources;
mod routes;
mod same;
mod selector;
mod serve;
mod state;
mod store;
mod strategic;
mod table;
mod validation;
mod watch;
mod write;

pub use admission::Admission;
pub use error::{ApiError, Cause, SimError};
pub use faults::{Faults, WriteError};
pub use handle::{CONTEXT, SimApiServer};
pub use serve::{DEFAULT_KUBECONFIG, NODE_PREFIX, ServeOptions, serve, serve_until};
pub use state::Config;
pub use validation::FieldValidation;
