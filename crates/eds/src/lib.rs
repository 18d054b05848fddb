//! ExtendedDaemonSet: the `eds` and `kubectl-eds` binaries.
//!
//! - [`cli`]: the `eds plan` command (also `kubectl eds plan`).
//! - [`render`]: plan output (diffs, per-node table, JSON).
//! - [`plugin`]: the `kubectl eds` verbs.
//! - [`demo`]: `eds demo`, the controller on the embedded simulated cluster.
//! - [`connect`]: kubectl-style connection flags shared by the binaries.
//! - [`sim`]: `eds sim kubelet`, fake nodes on any API server.
//!
//! The layers below are crates of their own: `eds-api` (types), `eds-plan` (the pure
//! planner), `eds-controller` (the runtime), `crd-schema` (CRD admission in memory) and
//! `kube-sim` (the simulated cluster).
#![forbid(unsafe_code)]

pub mod cli;
pub mod connect;
pub mod demo;
pub mod plugin;
pub mod render;
pub mod sim;
