//! The pure rollout planner: `plan(&Snapshot, now) -> Plan`.
//!
//! One call looks at one ExtendedDaemonSet (its ERSs, pods, nodes, Settings and old DaemonSet
//! pods) and decides every change of one reconcile: ERS objects, pods to create and delete,
//! statuses, events, when to look again, and a per-node explanation. It does no I/O, reads no
//! clock and draws no random number; every choice is made in a fixed order (by node name), so
//! the same snapshot always gives the same plan, whatever the order of its lists.
//!
//! Modules, in the order a plan uses them: [`snapshot`] (input), [`digest`] (what is read of
//! each pod and node), `revision` (hashes and names),
//! `history` (ERSs), `placement` (which nodes), `settings` (resources per node), `cluster`
//! (the per-node view), `canary`, `rolling`, `pod` (pod construction), `status`, `events`,
//! `output` ([`Plan`]); [`simulate`] runs plans on a simulated clock; `testing` (feature `testing`) has the
//! scenario builders used by tests and benches.

mod canary;
mod cluster;
pub mod digest;
mod engine;
mod events;
mod history;
mod migration;
mod observe;
mod output;
mod placement;
mod pod;
pub mod progress;
pub mod revision;
mod rolling;
mod settings;
pub mod simulate;
pub mod snapshot;
mod status;
mod steering;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use digest::PodDigest;
pub use eds_api::Condition;
pub use output::{
    Budget, EventObject, EventType, NodeAction, NodeExplanation, ObjectRef, Plan, PlannedEvent,
    PodDelete, PodLabelUpdate,
};
pub use placement::pod_node;
pub use snapshot::{
    Backoff, OldDaemonSet, PlannerConfig, PlannerState, Snapshot, SnapshotError, StateObject,
};
pub use steering::Steering;

/// Plans one reconcile of `snapshot.eds` at time `now`.
///
/// Pure: the result depends only on the arguments (not on the order of the snapshot's lists),
/// and planning the same snapshot twice gives equal plans.
pub fn plan(snapshot: &Snapshot, now: jiff::Timestamp) -> Plan {
    engine::run(snapshot, now, true)
}

/// [`plan`] without the per-node explanations: `Plan::nodes` is empty, everything else is
/// equal. For the controller, which executes a plan and reads no explanation: at 10,000 nodes
/// the explanations are ten thousand records made and dropped on every reconcile.
pub fn plan_changes(snapshot: &Snapshot, now: jiff::Timestamp) -> Plan {
    engine::run(snapshot, now, false)
}
