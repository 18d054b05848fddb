//! A failed canary's verdict survives a plan that stops half-way: the rejected revision is
//! written before the first canary pod is deleted.

use kube::{Api, ResourceExt, api::PostParams};
use serde_json::json;

use super::{
    ExecuteError, Outcome,
    fixture::{Fixture, NS},
};
use crate::pacing::Pacing;
use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetStatus, RejectedRevision};
use eds_plan::{PodDelete, Snapshot};
use k8s_openapi::api::core::v1::Pod;

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": NS },
        "spec": { "containers": [{ "name": "c", "image": "app:v2" }] },
    }))
    .expect("pod")
}

#[tokio::test]
async fn a_refused_canary_delete_keeps_the_rejected_revision() {
    let (fixture, eds) = Fixture::with_eds("agent", "app:v2").await;
    let client = &fixture.client;
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), NS);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    // The two canary pods; the second was replaced since the plan was made (another uid).
    let first = pods
        .create(&PostParams::default(), &pod("agent-b-n1"))
        .await
        .expect("pod");
    pods.create(&PostParams::default(), &pod("agent-b-n2"))
        .await
        .expect("pod");

    let mut plan = eds_plan::plan(&Snapshot::new(eds.clone()), jiff::Timestamp::now());
    plan.pod_creates.clear();
    plan.events.clear();
    let delete = |name: &str, uid: Option<String>, rv: Option<String>| PodDelete {
        namespace: NS.into(),
        name: name.into(),
        uid,
        resource_version: rv,
        node: None,
        reason: "canary failed".into(),
    };
    plan.pod_deletes = vec![
        delete("agent-b-n1", first.uid(), first.resource_version()),
        delete("agent-b-n2", Some("replaced".into()), None),
    ];
    let rejected = RejectedRevision {
        replica_set: "agent-b".into(),
        template_hash: "b".into(),
        reason: Some("MaxRestartsExceeded".into()),
        message: Some("too many restarts".into()),
        time: None,
    };
    plan.eds_status = ExtendedDaemonSetStatus {
        state: Some("Canary Failed".into()),
        rejected_revision: Some(rejected.clone()),
        ..plan.eds_status
    };
    plan.eds_status_changed = true;

    let pacing = Pacing::new(std::time::Duration::from_secs(1));
    let executor = fixture.executor_paced(&pacing, 1);
    let mut outcome = Outcome::default();
    let result = executor.execute(&eds, &[], &plan, &mut outcome).await;
    assert!(
        matches!(&result, Err(ExecuteError::DeletePod { name, .. }) if name == "agent-b-n2"),
        "{result:?}"
    );
    // The first delete was made, and the verdict is stored: the next plan holds the revision
    // back instead of finding a canary with no failing pod and starting it again.
    assert_eq!(outcome.deleted, 1);
    let stored = api.get("agent").await.expect("get");
    let status = stored.status.expect("status written");
    assert_eq!(status.rejected_revision, Some(rejected));
    assert_eq!(status.state.as_deref(), Some("Canary Failed"));
    // And the next reconcile waits until its cache shows that status.
    let number = |v: Option<&str>| v.and_then(|v| v.parse::<u64>().ok()).expect("a version");
    let version = number(outcome.pending.eds_version.as_deref());
    let stored_version = number(stored.metadata.resource_version.as_deref());
    assert!(version <= stored_version && version > 0);
}
