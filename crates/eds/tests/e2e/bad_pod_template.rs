//! The pod-template part of the bad-input corpus: a template the CRD schema accepts but whose
//! pods the API server refuses (resources it validates only on pods). The controller reports
//! the refused creates (`Stalled` with reason `FailedCreate` and a Warning event carrying the
//! API server's message, which names the field), keeps maxUnavailable (the invariant checker),
//! backs off instead of retrying at once, and resumes as soon as the template is fixed.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_pod_creates_are_reported_until_the_template_is_fixed() {
    let tc = TestCluster::start("bad-pod-template", 2).await;
    let strategy = json!({ "reconcileFrequency": "1s", "rollingUpdate": { "maxUnavailable": 1 } });
    let mut eds = tc.eds("refused", "registry.k8s.io/pause:3.0", strategy);
    tc.apply(&eds).await;
    tc.wait_available("refused", 2).await;

    // Requests above limits: the ExtendedDaemonSet is accepted, its pods are not.
    let container = &mut eds.spec.template.spec.as_mut().unwrap().containers[0];
    container.resources = Some(ResourceRequirements {
        limits: cpu("500m"),
        requests: cpu("1"),
        ..ResourceRequirements::default()
    });
    tc.apply(&eds).await;
    let stalled = tc
        .wait_eds("refused", "Stalled FailedCreate", |e| {
            e.status.as_ref().is_some_and(|s| {
                find(&s.conditions, condition_type::STALLED).is_some_and(|c| {
                    c.is_true() && c.reason.as_deref() == Some(reason::FAILED_CREATE)
                })
            })
        })
        .await;
    let message = find(&stalled.status.unwrap().conditions, condition_type::STALLED)
        .and_then(|c| c.message.clone())
        .unwrap_or_default();
    let field = "spec.containers[0].resources.requests";
    let why = "must be less than or equal to cpu limit of 500m";
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
    let container = &mut eds.spec.template.spec.as_mut().unwrap().containers[0];
    container.resources.as_mut().unwrap().requests = cpu("250m");
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
