//! ExtendedDaemonSet: canary deployments and a careful rolling update for node daemons.
//!
//! - [`cli`]: the `eds plan` command (also `kubectl eds plan`).
//! - [`api`]: the `datadoghq.com/v1alpha1` types, constants, defaults and validation.
//! - [`plan`]: the pure planner, `plan(&Snapshot, now) -> Plan`.
//! - [`controller`]: watches, the server-side-apply executor, status, events, metrics.
//! - [`render`]: plan output (diffs, per-node table, JSON).
//! - [`plugin`]: the `kubectl eds` verbs.
//! - [`sim`]: the embedded cluster simulator (API server and kubelet) for tests and the demo.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod connect;
pub mod controller;
pub mod demo;
pub mod deploy;
pub mod plan;
pub mod plugin;
pub mod render;
pub mod sim;
