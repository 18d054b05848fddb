//! In-memory Kubernetes API server over HTTP on loopback.
