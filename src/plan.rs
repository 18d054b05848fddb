//! The pure rollout planner: `plan(&Snapshot, now) -> Plan`.
//!
//! One call looks at one ExtendedDaemonSet (its ERSs, pods, nodes, Settings and old DaemonSet
//! pods) and decides every change of one reconcile: ERS objects, pods to create and delete,
//! statuses, events, when to look again, and a per-node explanation. It does no I/O, reads no
//! clock and draws no random number; every choice is made in a fixed order (by node name), so
//! the same snapshot always gives the same plan, whatever the order of its lists.

mod output;
pub mod simulate;
pub mod snapshot;

pub use output::{
    Budget, EventObject, EventType, NodeAction, NodeExplanation, ObjectRef, Plan, PlannedEvent,
    PodDelete,
};
pub use snapshot::{Backoff, PlannerConfig, PlannerState, Snapshot, SnapshotError, StateObject};

/// Plans one reconcile of `snapshot.eds` at time `now`.
pub fn plan(snapshot: &Snapshot, now: jiff::Timestamp) -> Plan {
    let _ = now;
    Plan {
        ers_applies: Vec::new(),
        ers_deletes: Vec::new(),
        pod_creates: Vec::new(),
        pod_deletes: Vec::new(),
        eds_status: snapshot.eds.status.clone().unwrap_or_default(),
        eds_status_changed: false,
        ers_statuses: Vec::new(),
        setting_statuses: Vec::new(),
        events: Vec::new(),
        requeue_after: None,
        nodes: Vec::new(),
        current_revision: None,
        target_revision: String::new(),
        budget: Budget::default(),
        state: snapshot.state.clone(),
    }
}
