//! In-memory Kubernetes API server over HTTP on loopback.
//!
//! It speaks the real API's JSON protocol well enough for kube-rs and kubectl: discovery,
//! get/list/watch (selectors, pagination, bookmarks, 410 Gone), create/update/delete with
//! resourceVersion concurrency, merge/JSON/strategic patches, server-side apply with
//! managedFields, status subresources, dry run, finalizers, pod graceful deletion,
//! ownerReference garbage collection and CRDs with schema admission. Faults (errors,
//! conflicts, latency, watch closes, forced 410) are switched at run time through
//! [`Faults`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), extendeddaemonset::sim::apiserver::SimError> {
//! use extendeddaemonset::sim::apiserver::{Config, SimApiServer};
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
mod faults;
mod fieldset;
mod gc;
mod handle;
mod handlers;
mod list;
mod managed;
mod meta;
mod openapi;
mod patch;
mod resources;
mod routes;
mod selector;
mod serve;
mod state;
mod store;
mod strategic;
mod table;
mod watch;
mod write;

pub use admission::Admission;
pub use error::{ApiError, Cause, SimError};
pub use faults::{Faults, WriteError};
pub use handle::{CONTEXT, SimApiServer};
pub use serve::{DEFAULT_KUBECONFIG, NODE_PREFIX, ServeOptions, serve, serve_until};
pub use state::Config;
