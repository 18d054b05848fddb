//! Kubelet and scheduler simulator: fake nodes, pod binding and pod lifecycles.
