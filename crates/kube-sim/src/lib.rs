//! Embedded cluster simulator: an in-memory Kubernetes API server ([`apiserver`]) with CRD
//! schema admission (the `crd-schema` crate), and a kubelet/scheduler simulator ([`kubelet`])
//! that drives fake nodes and pods through the ordinary API.
//!
//! It backs end-to-end tests, demos and scale benchmarks of any kube-rs project; it is not a
//! production engine.
#![forbid(unsafe_code)]

pub mod apiserver;
pub mod cluster;
pub mod kubelet;
