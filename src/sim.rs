//! Embedded cluster simulator: an in-memory Kubernetes API server ([`apiserver`]) with CRD
//! schema admission ([`schema`]), and a kubelet/scheduler simulator ([`kubelet`]) that drives
//! fake nodes and pods through the ordinary API.
//!
//! It backs the end-to-end tests, `eds demo` and the scale benchmarks; in production the
//! controller runs against a real cluster.

pub mod apiserver;
pub mod cluster;
pub mod kubelet;
pub mod schema;
