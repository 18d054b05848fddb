//! The pod-template part of the bad-input corpus: templates the CRD schema accepts but whose
//! pods the API server refuses.
//!
//! - Resources kube-apiserver validates only on pods (requests above limits): the planner
//!   refuses the template (`Stalled` `InvalidSpec`, naming the field) before deleting any pod.
//! - Anything else the API server refuses (here a container name that is not a DNS label; in a
//!   real cluster also quotas and admission policies): the controller reports the refused
//!   creates (`Stalled` with reason `FailedCreate` and a Warning event carrying the API
//!   server's message, which names the field), keeps maxUnavailable (the invariant checker),
//!   backs off instead of retrying at once, and resumes as soon as the template is fixed.

use std::collections::BTreeMap;

use eds_api::{
    condition::find,
    constants::{condition_type, reason},
};
use k8s_openapi::{
    api::{core::v1::ResourceRequirements, events::v1::Event},
    apimachinery::pkg::api::resource::Quantity,
};
use kube::{Api, api::ListParams};
use serde_json::json;

use super::harness::TestCluster;

fn cpu(value: &str) -> Option<BTreeMap<String, Quantity>> {
    Some(BTreeMap::from([(
        "cpu".to_string(),
        Quantity(value.into()),
    )]))
}

fn stalled_with(e: &eds_api::ExtendedDaemonSet, why: &str) -> bool {
    e.status.as_ref().is_some_and(|s| {
        find(&s.conditions, condition_type::STALLED)
            .is_some_and(|c| c.is_true() && c.reason.as_deref() == Some(why))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_the_api_server_refuses_stall_the_template_before_any_pod_goes() {
    let tc = TestCluster::start("bad-pod-resources", 2).await;
    let strategy = json!({ "reconcileFrequency": "1s", "rollingUpdate": { "maxUnavailable": 1 } });
    let mut eds = tc.eds("resources", "registry.k8s.io/pause:3.0", strategy);
    tc.apply(&eds).await;
    let v1 = tc.wait_available("resources", 2).await;
    let container = &mut eds.spec.template.spec.as_mut().unwrap().containers[0];
    container.resources = Some(ResourceRequirements {
        limits: cpu("500m"),
        requests: cpu("1"),
        ..ResourceRequirements::default()
    });
    let generation = tc.apply(&eds).await.metadata.generation;
    let stalled = tc
        .wait_eds("resources", "Stalled InvalidSpec", |e| {
            e.status.as_ref().and_then(|s| s.observed_generation) == generation
                && stalled_with(e, reason::INVALID_SPEC)
        })
        .await;
    let message = find(&stalled.status.unwrap().conditions, condition_type::STALLED)
        .and_then(|c| c.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("spec.template.spec.containers[0].resources.requests")
            && message.contains("must be less than or equal to cpu limit of 500m"),
        "Stalled names the field and the rule: {message}"
    );
    // No pod was deleted for the refused revision: both nodes still run the old one.
    let by_node = tc.pods_by_node("resources").await;
    assert_eq!(by_node.len(), 2, "{by_node:?}");
    for pods in by_node.values() {
        assert_eq!(pods.len(), 1);
        assert_eq!(super::harness::pod_ers(&pods[0]), v1);
    }
    tc.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_pod_creates_are_reported_until_the_template_is_fixed() {
    let tc = TestCluster::start("bad-pod-template", 2).await;
    let strategy = json!({ "reconcileFrequency": "1s", "rollingUpdate": { "maxUnavailable": 1 } });
    let mut eds = tc.eds("refused", "registry.k8s.io/pause:3.0", strategy);
    tc.apply(&eds).await;
    tc.wait_available("refused", 2).await;

    // A container name that is not a DNS label: the ExtendedDaemonSet is accepted, its pods
    // are not.
    eds.spec.template.spec.as_mut().unwrap().containers[0].name = "Daemon".into();
    tc.apply(&eds).await;
    let stalled = tc
        .wait_eds("refused", "Stalled FailedCreate", |e| {
            stalled_with(e, reason::FAILED_CREATE)
        })
        .await;
    let message = find(&stalled.status.unwrap().conditions, condition_type::STALLED)
        .and_then(|c| c.message.clone())
        .unwrap_or_default();
    let field = "spec.containers[0].name";
    let why = "a lowercase RFC 1123 label";
    assert!(
        message.contains(field) && message.contains(why),
        "Stalled names the field and the rule: {message}"
    );
    let events = Api::<Event>::namespaced(tc.client.clone(), &tc.namespace);
    let warning = tc
        .wait_for(
            "a FailedCreate Warning on the ExtendedDaemonSet",
            || async {
                let list = events.list(&ListParams::default()).await.ok()?;
                list.items.into_iter().find_map(|e| {
                    (e.type_.as_deref() == Some("Warning")
                        && e.reason.as_deref() == Some(reason::FAILED_CREATE)
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("refused"))
                    .then_some(e.note.unwrap_or_default())
                })
            },
        )
        .await;
    assert!(
        warning.starts_with("Error creating: ") && warning.contains(field) && warning.contains(why),
        "the Warning carries the API server's message: {warning}"
    );

    // Fixed: the rollout completes and the failure is no longer reported.
    eds.spec.template.spec.as_mut().unwrap().containers[0].name = "daemon-v2".into();
    tc.apply(&eds).await;
    tc.wait_eds("refused", "the fixed template rolled out", |e| {
        e.status.as_ref().is_some_and(|s| {
            s.up_to_date == 2
                && s.available == 2
                && find(&s.conditions, condition_type::STALLED).is_some_and(|c| !c.is_true())
        })
    })
    .await;
    tc.finish().await;
}
