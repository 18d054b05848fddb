//! Parallel pod writes against the simulated API server, with injected failures.

use std::collections::BTreeSet;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, ResourceExt,
    api::{ListParams, PostParams, WatchEvent, WatchParams},
};
use kube_sim::apiserver::WriteError;
use lean_objects::Lean;
use serde_json::json;
use tokio::sync::watch;

use super::super::{
    Outcome,
    fixture::{Fixture, NS},
};
use eds_plan::PodDelete;

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": NS, "labels": {"test": "executor"}},
        "spec": {"containers": [{"name": "c", "image": "pause"}]},
    }))
    .expect("pod")
}

/// The pod APIs these tests read.
impl Fixture {
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), NS)
    }

    /// The pods as the executor writes them.
    fn lean_pods(&self) -> Api<Lean<Pod>> {
        Api::namespaced(self.client.clone(), NS)
    }

    async fn names_on_server(&self) -> BTreeSet<String> {
        let list = self
            .pods()
            .list(&ListParams::default())
            .await
            .expect("list");
        list.items.iter().map(|p| p.name_any()).collect()
    }
}

/// With a third of the writes failing, execution stops with an error, but every pod the API
/// server accepted is in the outcome (and nothing else): the expectations stay exact.
#[tokio::test]
async fn a_failed_create_keeps_the_results_of_the_others() {
    let bench = Fixture::start().await;
    let planned: Vec<Pod> = (0..40).map(|i| pod(&format!("p-{i:02}"))).collect();
    bench
        .server
        .faults()
        .set_write_errors(0.3, WriteError::Internal);
    let mut outcome = Outcome::default();
    let result = bench
        .executor(8)
        .create_pods(
            &bench.lean_pods(),
            &planned,
            &Default::default(),
            &mut outcome,
        )
        .await;
    bench.server.faults().clear();

    let err = result.expect_err("some creates fail");
    assert_eq!(err.metric_reason(), "create_pod", "{err}");
    let on_server = bench.names_on_server().await;
    assert!(!on_server.is_empty(), "writes in flight finish");
    assert!(
        on_server.len() < planned.len(),
        "no new write after the failure"
    );
    assert_eq!(outcome.pending.creates, on_server);
    assert_eq!(outcome.created, on_server.len());
}

/// Deletes and creates each go out in parallel, and every delete is answered before the first
/// create is sent; each accepted delete is recorded by uid.
#[tokio::test]
async fn deletes_finish_before_creates_start() {
    let bench = Fixture::start().await;
    let api = bench.pods();
    let mut deletes = Vec::new();
    for i in 0..20 {
        let created = api
            .create(&PostParams::default(), &pod(&format!("old-{i:02}")))
            .await
            .expect("create");
        deletes.push(PodDelete {
            namespace: NS.into(),
            name: created.name_any(),
            uid: created.uid(),
            resource_version: created.resource_version(),
            node: None,
            reason: "test".into(),
        });
    }
    let version = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("list resourceVersion");
    let mut events = api
        .watch(&WatchParams::default(), &version)
        .await
        .expect("watch")
        .boxed();
    let planned: Vec<Pod> = (0..20).map(|i| pod(&format!("new-{i:02}"))).collect();

    let mut outcome = Outcome::default();
    let executor = bench.executor(6);
    executor
        .delete_pods(&bench.lean_pods(), &deletes, &mut outcome)
        .await
        .expect("deletes");
    executor
        .create_pods(
            &bench.lean_pods(),
            &planned,
            &Default::default(),
            &mut outcome,
        )
        .await
        .expect("creates");

    let mut order = Vec::new();
    while order.len() < 40 {
        match events.next().await.expect("event").expect("event") {
            WatchEvent::Deleted(p) => order.push(('D', p.name_any())),
            WatchEvent::Added(p) => order.push(('A', p.name_any())),
            _ => {}
        }
    }
    let first_add = order.iter().position(|(k, _)| *k == 'A').expect("an add");
    assert!(
        order[..first_add].len() == 20 && order[..first_add].iter().all(|(k, _)| *k == 'D'),
        "{order:?}"
    );
    let uids: BTreeSet<String> = deletes.iter().filter_map(|d| d.uid.clone()).collect();
    assert_eq!(outcome.pending.deletes, uids);
    assert_eq!((outcome.deleted, outcome.created), (20, 20));
    let expected: BTreeSet<String> = planned.iter().map(|p| p.name_any()).collect();
    assert_eq!(bench.names_on_server().await, expected);
}

/// A lost lease stops the writes that have not started yet.
#[tokio::test]
async fn losing_the_lease_stops_new_writes() {
    let mut bench = Fixture::start().await;
    let (tx, rx) = watch::channel(false);
    bench.leader = rx;
    bench.leader_tx = tx;
    let planned: Vec<Pod> = (0..5).map(|i| pod(&format!("p-{i}"))).collect();
    let mut outcome = Outcome::default();
    let result = bench
        .executor(4)
        .create_pods(
            &bench.lean_pods(),
            &planned,
            &Default::default(),
            &mut outcome,
        )
        .await;
    assert_eq!(
        result.expect_err("not leader").metric_reason(),
        "not_leader"
    );
    assert!(outcome.pending.creates.is_empty());
    assert!(bench.names_on_server().await.is_empty());
}

/// A write the API server does not answer is abandoned when the leadership's deadline passes,
/// before another replica may take the lease, instead of landing whenever the server answers.
#[tokio::test]
async fn a_write_hung_past_the_lease_deadline_is_abandoned() {
    let mut bench = Fixture::start().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(300);
    bench.deadline = watch::channel(Some(deadline)).1;
    // Every request is held far longer than the leadership lasts.
    bench
        .server
        .faults()
        .set_hangs(1.0, std::time::Duration::from_secs(600));
    let planned = vec![pod("late")];
    let mut outcome = Outcome::default();
    let result = bench
        .executor(1)
        .create_pods(
            &bench.lean_pods(),
            &planned,
            &Default::default(),
            &mut outcome,
        )
        .await;
    assert_eq!(
        result.expect_err("abandoned").metric_reason(),
        "lease_deadline"
    );
    assert!(
        bench.server.faults().hung() > 0,
        "the create was sent and held"
    );
    assert!(outcome.pending.creates.is_empty());
}
