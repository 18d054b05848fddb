//! Which status changes are only progress: node counts moving while a rollout runs.
//!
//! During a rollout of thousands of nodes the counts of a status change with nearly every pod
//! event. A controller that wrote each of them would write a status per pod; it may instead
//! write progress at a steady pace, as long as every other change (a condition turning, a
//! reason, the state, the canary, the generation observed, the number of nodes that should run
//! a pod) is written at once and the last counts are written in the end.

use eds_api::{Condition, ExtendedDaemonSetReplicaSetStatus, ExtendedDaemonSetStatus};

/// `true` when `next` differs from `prev` only in progress: the counts of nodes running,
/// ready, available and up to date, and the messages (with their `lastUpdateTime`) of
/// conditions that keep their type, status and reason, such as `Reconciling`'s
/// "300/5000 nodes run ...". `false` when they are equal.
pub fn eds_only_progress(prev: &ExtendedDaemonSetStatus, next: &ExtendedDaemonSetStatus) -> bool {
    let without_progress = |s: &ExtendedDaemonSetStatus| ExtendedDaemonSetStatus {
        current: 0,
        ready: 0,
        available: 0,
        up_to_date: 0,
        conditions: without_messages(&s.conditions),
        ..s.clone()
    };
    prev != next && without_progress(prev) == without_progress(next)
}

/// [`eds_only_progress`] for the status of an ExtendedDaemonSetReplicaSet: its counts of
/// nodes running, ready and available, and condition messages.
pub fn ers_only_progress(
    prev: &ExtendedDaemonSetReplicaSetStatus,
    next: &ExtendedDaemonSetReplicaSetStatus,
) -> bool {
    let without_progress =
        |s: &ExtendedDaemonSetReplicaSetStatus| ExtendedDaemonSetReplicaSetStatus {
            current: 0,
            ready: 0,
            available: 0,
            conditions: without_messages(&s.conditions),
            ..s.clone()
        };
    prev != next && without_progress(prev) == without_progress(next)
}

fn without_messages(conditions: &[Condition]) -> Vec<Condition> {
    conditions
        .iter()
        .map(|c| Condition {
            message: None,
            last_update_time: None,
            ..c.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eds_api::{CanaryStatus, condition::TRUE};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn time(s: &str) -> Time {
        Time(s.parse().expect("timestamp"))
    }

    fn eds_status() -> ExtendedDaemonSetStatus {
        ExtendedDaemonSetStatus {
            desired: 10,
            current: 10,
            ready: 9,
            available: 9,
            up_to_date: 3,
            state: Some("Running".into()),
            active_replica_set: "foo-a".into(),
            conditions: vec![Condition {
                last_update_time: Some(time("2026-01-01T00:00:00Z")),
                last_transition_time: Some(time("2026-01-01T00:00:00Z")),
                ..Condition::new(
                    "Reconciling",
                    true,
                    "RolloutInProgress",
                    "3/10 nodes run foo-b",
                )
            }],
            observed_generation: Some(2),
            ..Default::default()
        }
    }

    #[test]
    fn counts_and_progress_messages_are_progress() {
        let prev = eds_status();
        let mut next = prev.clone();
        next.up_to_date = 4;
        next.ready = 8;
        next.conditions[0].message = Some("4/10 nodes run foo-b".into());
        next.conditions[0].last_update_time = Some(time("2026-01-01T00:00:01Z"));
        assert!(eds_only_progress(&prev, &next));
        assert!(
            !eds_only_progress(&prev, &prev),
            "no change is not progress"
        );
    }

    #[test]
    fn every_other_change_is_not_progress() {
        let prev = eds_status();
        type Change = (&'static str, fn(&mut ExtendedDaemonSetStatus));
        let changes: Vec<Change> = vec![
            ("desired", |s| s.desired = 11),
            ("ignored", |s| s.ignored_unresponsive_nodes = 1),
            ("state", |s| s.state = Some("Canary".into())),
            ("reason", |s| s.reason = Some("paused".into())),
            ("active", |s| s.active_replica_set = "foo-b".into()),
            ("generation", |s| s.observed_generation = Some(3)),
            ("canary", |s| {
                s.canary = Some(CanaryStatus {
                    replica_set: "foo-b".into(),
                    nodes: vec!["n1".into()],
                })
            }),
            ("condition status", |s| {
                s.conditions[0].status = "False".into()
            }),
            ("condition reason", |s| {
                s.conditions[0].reason = Some("RolloutComplete".into())
            }),
            ("condition transition", |s| {
                s.conditions[0].last_transition_time = Some(time("2026-01-01T00:00:05Z"))
            }),
            ("condition added", |s| {
                s.conditions
                    .push(Condition::new("Stalled", true, "CanaryFailed", "x"))
            }),
        ];
        for (what, change) in changes {
            let mut next = prev.clone();
            next.up_to_date += 1;
            change(&mut next);
            assert!(!eds_only_progress(&prev, &next), "{what} is not progress");
        }
    }

    #[test]
    fn replica_set_counts_are_progress_its_state_is_not() {
        let prev = ExtendedDaemonSetReplicaSetStatus {
            status: "active".into(),
            desired: 10,
            current: 10,
            ready: 5,
            available: 5,
            conditions: vec![Condition::new("Active", true, "", "")],
            ..Default::default()
        };
        let mut next = prev.clone();
        next.ready = 6;
        next.available = 6;
        assert!(ers_only_progress(&prev, &next));
        next.status = "canary".into();
        assert!(!ers_only_progress(&prev, &next));
        let mut next = prev.clone();
        next.desired = 9;
        assert!(!ers_only_progress(&prev, &next));
        let mut next = prev.clone();
        next.conditions[0].status = TRUE.into();
        next.conditions[0].reason = Some("x".into());
        assert!(!ers_only_progress(&prev, &next));
    }
}
