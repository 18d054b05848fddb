//! Taking over from upstream's controller: an ERS and pods created the way DataDog's
//! controller names and labels them (`<eds>-<random>` ERS with an md5 `templatehash`, pods
//! `<ers>-<random>` pinned by node affinity) are adopted when the template is the same, and not
//! one pod is deleted or created.

use std::{collections::BTreeSet, time::Duration};

use eds_api::{ExtendedDaemonSetReplicaSet, constants::keys};
use k8s_openapi::api::core::v1::Pod;
use kube::{
    ResourceExt,
    api::{ListParams, PostParams},
};
use serde_json::json;

use super::harness::{TestCluster, is_ready, pod_ers};

/// An md5 template hash, as upstream writes it in `templatehash` and `templateGeneration`.
const UPSTREAM_HASH: &str = "0f3c6a1d2e9b8c7d6e5f4a3b2c1d0e9f";

async fn pod_uids(tc: &TestCluster) -> BTreeSet<String> {
    let selector = format!("{}=foo", keys::EDS_NAME_LABEL);
    tc.pod_api()
        .list(&ListParams::default().labels(&selector))
        .await
        .expect("list pods")
        .items
        .iter()
        .map(|p| p.uid().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_ers_and_its_pods_are_taken_over_without_touching_a_pod() {
    let mut tc = TestCluster::start("adopt", 3).await;
    tc.stop_controller().await;
    let eds = tc
        .apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", json!({})))
        .await;
    let ers: ExtendedDaemonSetReplicaSet = serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1",
        "kind": "ExtendedDaemonSetReplicaSet",
        "metadata": {
            "generateName": "foo-",
            "labels": { keys::EDS_NAME_LABEL: "foo" },
            "annotations": { keys::TEMPLATE_HASH_ANNOTATION: UPSTREAM_HASH },
            "ownerReferences": [{
                "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSet",
                "name": "foo", "uid": eds.uid().expect("uid"),
                "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "selector": eds.spec.selector,
            "template": eds.spec.template,
            "templateGeneration": UPSTREAM_HASH
        }
    }))
    .expect("ERS");
    let ers = tc
        .ers_api()
        .create(&PostParams::default(), &ers)
        .await
        .expect("create the upstream ERS");
    let ers_name = ers.name_any();
    assert!(ers_name.starts_with("foo-") && ers_name.len() == "foo-".len() + 5);
    for node in tc.node_names.clone() {
        let mut template = serde_json::to_value(&eds.spec.template).expect("template");
        let mut labels = template["metadata"]["labels"].clone();
        labels[keys::EDS_NAME_LABEL] = json!("foo");
        labels[keys::ERS_NAME_LABEL] = json!(ers_name);
        let mut spec = template["spec"].take();
        spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [node]}]}]}}});
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {
                "generateName": format!("{ers_name}-"),
                "labels": labels,
                "annotations": { keys::TEMPLATE_HASH_ANNOTATION: UPSTREAM_HASH },
                "ownerReferences": [{
                    "apiVersion": "datadoghq.com/v1alpha1",
                    "kind": "ExtendedDaemonSetReplicaSet",
                    "name": ers_name, "uid": ers.uid().expect("uid"),
                    "controller": true, "blockOwnerDeletion": true
                }]
            },
            "spec": spec
        }))
        .expect("pod");
        tc.pod_api()
            .create(&PostParams::default(), &pod)
            .await
            .expect("create an upstream pod");
    }
    tc.wait_for("the upstream pods to run", || async {
        let pods = tc.pod_api().list(&ListParams::default()).await.ok()?;
        (pods.items.iter().filter(|p| is_ready(p)).count() == 3).then_some(())
    })
    .await;
    let before = pod_uids(&tc).await;
    assert_eq!(before.len(), 3);
    tc.start_controller().await;
    let done = tc
        .wait_eds("foo", "foo Running on the adopted ERS", |e| {
            e.status
                .as_ref()
                .is_some_and(|s| s.available == 3 && s.active_replica_set == ers_name)
        })
        .await;
    assert_eq!(done.status.expect("status").up_to_date, 3);
    // A few more reconciles: still the same pods.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(pod_uids(&tc).await, before, "no pod deleted or created");
    for pods in tc.pods_by_node("foo").await.values() {
        assert_eq!(pods.len(), 1);
        assert_eq!(pod_ers(&pods[0]), ers_name);
    }
    tc.finish().await;
}
