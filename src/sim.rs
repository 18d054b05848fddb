//! Embedded cluster simulator: an in-memory Kubernetes API server and a kubelet/scheduler.
