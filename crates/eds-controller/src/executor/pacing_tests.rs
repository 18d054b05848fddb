//! Status pacing on the simulated API server: a change that is only progress waits for the
//! interval and asks for a reconcile when it ends; any other change is written at once.

use std::time::Duration;

use kube::{Api, ResourceExt, api::ListParams};

use super::{
    Outcome,
    fixture::{Fixture, NS},
};
use crate::pacing::Pacing;
use eds_api::{
    Condition, ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonSetReplicaSetStatus,
    ExtendedDaemonSetStatus,
};
use eds_plan::{Plan, Snapshot};

/// The plan of `eds` on an empty cluster (it creates the ERS), with `status` as the planned
/// status and `ers` as the planned status of every ERS; after the first, only statuses.
fn plan_with_status(
    eds: &ExtendedDaemonSet,
    live_ers: &[ExtendedDaemonSetReplicaSet],
    status: &ExtendedDaemonSetStatus,
    ers: &ExtendedDaemonSetReplicaSetStatus,
) -> Plan {
    let snapshot = Snapshot {
        replica_sets: live_ers.to_vec(),
        ..Snapshot::new(eds.clone())
    };
    let mut plan = eds_plan::plan(&snapshot, jiff::Timestamp::now());
    if !live_ers.is_empty() {
        plan.ers_applies.clear();
    }
    plan.events.clear();
    let names: Vec<String> = plan
        .ers_applies
        .iter()
        .chain(live_ers)
        .map(|e| e.name_any())
        .collect();
    plan.ers_statuses = names.into_iter().map(|n| (n, ers.clone())).collect();
    plan.eds_status = status.clone();
    plan.eds_status_changed = eds.status.as_ref() != Some(status);
    plan
}

fn in_progress(ready: i32) -> ExtendedDaemonSetStatus {
    ExtendedDaemonSetStatus {
        desired: 10,
        current: 10,
        ready,
        available: ready,
        up_to_date: ready,
        state: Some("Running".into()),
        active_replica_set: "paced-a".into(),
        conditions: vec![Condition::new(
            "Reconciling",
            true,
            "RolloutInProgress",
            format!("{ready}/10 nodes run paced-a"),
        )],
        observed_generation: Some(1),
        ..Default::default()
    }
}

fn ers_progress(ready: i32) -> ExtendedDaemonSetReplicaSetStatus {
    ExtendedDaemonSetReplicaSetStatus {
        status: "active".into(),
        desired: 10,
        current: 10,
        ready,
        available: ready,
        ..Default::default()
    }
}

#[tokio::test]
async fn progress_waits_for_the_interval_other_changes_do_not() {
    let (fixture, _) = Fixture::with_eds("paced", "pause").await;
    let client = &fixture.client;
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), NS);
    let ers_api: Api<ExtendedDaemonSetReplicaSet> = Api::namespaced(client.clone(), NS);
    let hour = Pacing::new(Duration::from_secs(3600));
    let executor = |pacing| fixture.executor_paced(pacing, 1);
    // What the server stores: the EDS status and the ready count of its one ERS.
    let stored = || async {
        let listed = ers_api.list(&ListParams::default()).await.expect("ERSs");
        let ers: Vec<i32> = listed
            .items
            .iter()
            .map(|e| e.status.as_ref().map_or(-1, |s| s.ready))
            .collect();
        (api.get("paced").await.expect("get").status, ers)
    };
    let execute = |pacing, status: ExtendedDaemonSetStatus, ers| {
        let (api, ers_api) = (api.clone(), ers_api.clone());
        let executor = executor(pacing);
        async move {
            let eds = api.get("paced").await.expect("get");
            let live = ers_api.list(&ListParams::default()).await.expect("ERSs");
            let plan = plan_with_status(&eds, &live.items, &status, &ers);
            let mut outcome = Outcome::default();
            executor
                .execute(&eds, &live.items, &plan, &mut outcome)
                .await
                .expect("execute");
            outcome.status_deferred
        }
    };

    // The first statuses are written, and start the interval.
    assert_eq!(execute(&hour, in_progress(3), ers_progress(3)).await, None);
    assert_eq!(stored().await, (Some(in_progress(3)), vec![3]));

    // One more node up to date: progress only, held back; the reconcile comes back for it.
    let deferred = execute(&hour, in_progress(4), ers_progress(4)).await;
    assert!(
        deferred.is_some_and(|d| d > Duration::ZERO && d <= Duration::from_secs(3600)),
        "{deferred:?}"
    );
    assert_eq!(
        stored().await,
        (Some(in_progress(3)), vec![3]),
        "progress was written"
    );

    // A change of state is written at once within the interval, with the counts, and so is the
    // progress of the ERS: a watcher sees both agree.
    let canary = ExtendedDaemonSetStatus {
        state: Some("Canary".into()),
        ..in_progress(5)
    };
    assert_eq!(execute(&hour, canary.clone(), ers_progress(5)).await, None);
    assert_eq!(stored().await, (Some(canary.clone()), vec![5]));

    // A change of the ERS's state flushes the EDS's progress too.
    let ers_canary = ExtendedDaemonSetReplicaSetStatus {
        status: "canary".into(),
        ..ers_progress(6)
    };
    let progressed = ExtendedDaemonSetStatus {
        ready: 6,
        ..canary.clone()
    };
    assert_eq!(execute(&hour, progressed.clone(), ers_canary).await, None);
    assert_eq!(stored().await, (Some(progressed.clone()), vec![6]));

    // So is a condition that turns, here the rollout completing.
    let done = ExtendedDaemonSetStatus {
        conditions: vec![Condition::new(
            "Reconciling",
            false,
            "RolloutComplete",
            "10/10 nodes run paced-a",
        )],
        ..in_progress(10)
    };
    assert_eq!(execute(&hour, done.clone(), ers_progress(10)).await, None);
    let (Some(stored_done), ers) = stored().await else {
        panic!("no status")
    };
    assert_eq!((stored_done.ready, ers), (10, vec![10]));
    assert_eq!(stored_done.conditions[0].status, "False");

    // Once the interval has passed, progress is written.
    let passed = Pacing::new(Duration::ZERO);
    let more = ExtendedDaemonSetStatus {
        ready: 9,
        available: 9,
        ..stored_done.clone()
    };
    assert_eq!(execute(&passed, more, ers_progress(9)).await, None);
    let (eds_status, ers) = stored().await;
    assert_eq!((eds_status.map(|s| s.ready), ers), (Some(9), vec![9]));
    fixture.stop().await;
}
