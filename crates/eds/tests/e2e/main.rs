//! End-to-end scenarios: the controller against the embedded cluster simulator, or against a
//! real cluster when `EDS_TEST_KUBECONFIG` is set. Each test runs in its own namespace with its
//! own fake nodes, and an invariant checker fails it if a rollout ever breaks maxUnavailable or
//! the one-pod-per-node rule.

mod chaos;
mod chaos_checks;
mod chaos_process;
#[path = "../support/corpus.rs"]
mod corpus;
mod harness;
mod invariants;

mod adoption;
mod bad_input;
mod bad_node_annotations;
mod bad_pod_template;
mod canary;
mod deploy;
mod events;
mod outage;
mod parity;
mod robustness;
mod sequences;
mod soak;
