//! The pure rollout planner: `plan(&Snapshot, now) -> Plan`.
