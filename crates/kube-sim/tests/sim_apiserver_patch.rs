//! Patches on the simulated API server through the real kube-rs client: strategic merge,
//! JSON and merge patches, server-side apply with managedFields.

use std::collections::BTreeMap;

mod support;

use k8s_openapi::api::{
    apps::v1::DaemonSet,
    core::v1::{ConfigMap, Container, Pod},
};
use kube::{
    Api,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::json;
use support::{Cluster, api_status};

fn pod(name: &str, labels: &[(&str, &str)]) -> Pod {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": labels },
        "spec": { "containers": [{ "name": "app", "image": "nginx:1.25" }] },
    }))
    .expect("pod")
}

fn daemonset(name: &str, containers: serde_json::Value) -> serde_json::Value {
    json!({ "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": { "name": name },
            "spec": { "selector": { "matchLabels": { "app": name } },
                      "template": { "metadata": { "labels": { "app": name } },
                                    "spec": { "containers": containers } } } })
}

fn containers(ds: &DaemonSet) -> Vec<Container> {
    ds.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn strategic_merge_patch_merges_keyed_lists() {
    let c = Cluster::new().await;
    let dss: Api<DaemonSet> = c.api();
    let ds = daemonset(
        "sm",
        json!([{ "name": "app", "image": "nginx:1.25",
                 "env": [{ "name": "A", "value": "1" }, { "name": "B", "value": "2" }] }]),
    );
    dss.create(&PostParams::default(), &serde_json::from_value(ds).unwrap())
        .await
        .expect("create");
    let patch = json!({ "spec": { "template": { "spec": { "containers": [
        { "name": "app", "image": "nginx:1.26",
          "env": [{ "name": "B", "value": "20" }, { "name": "C", "value": "3" },
                  { "name": "A", "$patch": "delete" }] },
        { "name": "sidecar", "image": "busybox" },
    ]}}}});
    let got = dss
        .patch("sm", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .expect("strategic patch");
    let containers = containers(&got);
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0].image.as_deref(), Some("nginx:1.26"));
    let env: Vec<(String, String)> = containers[0]
        .env
        .clone()
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.value.unwrap_or_default()))
        .collect();
    assert_eq!(
        env,
        vec![("B".into(), "20".into()), ("C".into(), "3".into())]
    );
    assert_eq!(containers[1].name, "sidecar");
    assert_eq!(
        got.metadata.generation,
        Some(2),
        "a template change is a spec change"
    );
    c.cleanup().await;
}

#[tokio::test]
async fn pod_specs_are_immutable_but_images() {
    let c = Cluster::new().await;
    let pods: Api<Pod> = c.api();
    pods.create(&PostParams::default(), &pod("im", &[]))
        .await
        .expect("create");
    let image = json!({ "spec": { "containers": [{ "name": "app", "image": "nginx:1.26" }] } });
    let got = pods
        .patch("im", &PatchParams::default(), &Patch::Strategic(image))
        .await
        .expect("image update is allowed");
    assert_eq!(
        got.spec.unwrap().containers[0].image.as_deref(),
        Some("nginx:1.26")
    );
    let more = json!({ "spec": { "containers": [{ "name": "extra", "image": "busybox" }] } });
    let s = api_status(
        pods.patch("im", &PatchParams::default(), &Patch::Strategic(more))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    let cause = &s.details.unwrap().causes[0];
    assert_eq!(cause.field, "spec");
    assert!(
        cause.message.contains("pod updates may not change fields"),
        "{}",
        cause.message
    );
    c.cleanup().await;
}

#[tokio::test]
async fn json_and_merge_patches() {
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": "jp", "labels": { "a": "1" } }, "data": { "k": "v" }
    }))
    .unwrap();
    cms.create(&PostParams::default(), &cm)
        .await
        .expect("create");
    let ops: json_patch::Patch = serde_json::from_value(json!([
        { "op": "test", "path": "/data/k", "value": "v" },
        { "op": "add", "path": "/data/k2", "value": "v2" },
        { "op": "remove", "path": "/metadata/labels/a" },
    ]))
    .unwrap();
    let got = cms
        .patch("jp", &PatchParams::default(), &Patch::Json::<()>(ops))
        .await
        .expect("json patch");
    assert_eq!(got.data.as_ref().unwrap()["k2"], "v2");
    assert!(got.metadata.labels.unwrap_or_default().is_empty());

    let failing: json_patch::Patch =
        serde_json::from_value(json!([{ "op": "test", "path": "/data/k", "value": "nope" }]))
            .unwrap();
    let s = api_status(
        cms.patch("jp", &PatchParams::default(), &Patch::Json::<()>(failing))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 422);

    let merged = cms
        .patch(
            "jp",
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "k": null } })),
        )
        .await
        .expect("merge patch");
    assert!(!merged.data.unwrap().contains_key("k"));
    c.cleanup().await;
}

#[tokio::test]
async fn server_side_apply_removes_conflicts_and_forces() {
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let apply = |data: serde_json::Value| {
        json!({ "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": { "name": "ssa" }, "data": data })
    };
    let alice = PatchParams::apply("alice");
    let created = cms
        .patch(
            "ssa",
            &alice,
            &Patch::Apply(apply(json!({ "a": "1", "b": "2" }))),
        )
        .await
        .expect("apply creates");
    assert_eq!(created.data.as_ref().unwrap().len(), 2);
    let mf = created
        .metadata
        .managed_fields
        .clone()
        .expect("managedFields");
    assert_eq!(mf[0].manager.as_deref(), Some("alice"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));

    // alice drops b: it is removed.
    let got = cms
        .patch("ssa", &alice, &Patch::Apply(apply(json!({ "a": "1" }))))
        .await
        .expect("apply again");
    assert_eq!(
        got.data.clone().unwrap().keys().collect::<Vec<_>>(),
        vec!["a"]
    );

    // bob sets a to another value: conflict naming the field and the owner.
    let bob = PatchParams::apply("bob");
    let s = api_status(
        cms.patch("ssa", &bob, &Patch::Apply(apply(json!({ "a": "9" }))))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    let causes = s.details.expect("details").causes;
    assert_eq!(causes[0].field, ".data.a");
    assert!(
        causes[0].message.contains("\"alice\""),
        "{}",
        causes[0].message
    );

    // Same value: shared ownership, no conflict; then alice's omission keeps it (bob owns it).
    cms.patch("ssa", &bob, &Patch::Apply(apply(json!({ "a": "1" }))))
        .await
        .expect("shared apply");
    let kept = cms
        .patch("ssa", &alice, &Patch::Apply(apply(json!({ "c": "3" }))))
        .await
        .expect("alice drops a");
    assert_eq!(kept.data.clone().unwrap()["a"], "1");

    // Forced: bob takes c over.
    let forced = cms
        .patch(
            "ssa",
            &bob.clone().force(),
            &Patch::Apply(apply(json!({ "a": "1", "c": "30" }))),
        )
        .await
        .expect("forced apply");
    assert_eq!(forced.data.unwrap()["c"], "30");

    let missing = PatchParams::default();
    let s = api_status(
        cms.patch("ssa", &missing, &Patch::Apply(apply(json!({}))))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 400);
    c.cleanup().await;
}

#[tokio::test]
async fn apply_merges_containers_by_name() {
    let c = Cluster::new().await;
    let dss: Api<DaemonSet> = c.api();
    let a = daemonset("ap", json!([{ "name": "one", "image": "x:1" }]));
    dss.patch("ap", &PatchParams::apply("a"), &Patch::Apply(a))
        .await
        .expect("a applies");
    let b = daemonset("ap", json!([{ "name": "two", "image": "y:1" }]));
    let got = dss
        .patch("ap", &PatchParams::apply("b"), &Patch::Apply(b))
        .await
        .expect("b applies another container");
    let names: Vec<String> = containers(&got).into_iter().map(|c| c.name).collect();
    assert_eq!(names, vec!["one", "two"]);

    // a drops its container: only b's is left.
    let a = daemonset("ap", json!([]));
    let got = dss
        .patch("ap", &PatchParams::apply("a"), &Patch::Apply(a))
        .await
        .expect("a applies no container");
    let names: Vec<String> = containers(&got).into_iter().map(|c| c.name).collect();
    assert_eq!(names, vec!["two"]);
    c.cleanup().await;
}

/// Container ports are a list map keyed by `containerPort` and `protocol` (the `+listMapKey`
/// markers of the type), not by the strategic merge key `containerPort` alone: 53/TCP and
/// 53/UDP are two items, and dropping one from the applied configuration removes it.
#[tokio::test]
async fn apply_keys_container_ports_by_port_and_protocol() {
    let c = Cluster::new().await;
    let dss: Api<DaemonSet> = c.api();
    let dns = |ports: serde_json::Value| {
        daemonset(
            "dns",
            json!([{ "name": "dns", "image": "coredns:1", "ports": ports }]),
        )
    };
    let both = json!([
        { "containerPort": 53, "protocol": "TCP" },
        { "containerPort": 53, "protocol": "UDP" },
    ]);
    dss.patch("dns", &PatchParams::apply("a"), &Patch::Apply(dns(both)))
        .await
        .expect("a applies two ports");
    let tcp = json!([{ "containerPort": 53, "protocol": "TCP" }]);
    let got = dss
        .patch("dns", &PatchParams::apply("a"), &Patch::Apply(dns(tcp)))
        .await
        .expect("a applies one port");
    let ports: Vec<(i32, Option<String>)> = containers(&got)[0]
        .ports
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.container_port, p.protocol))
        .collect();
    assert_eq!(ports, vec![(53, Some("TCP".to_string()))]);
    let owned = got.metadata.managed_fields.unwrap()[0]
        .fields_v1
        .clone()
        .unwrap()
        .0
        .to_string();
    assert!(
        owned.contains(r#"k:{\"containerPort\":53,\"protocol\":\"TCP\"}"#),
        "{owned}"
    );
    c.cleanup().await;
}

/// kube-apiserver refuses an apply configuration that carries field ownership, e.g. an object
/// read back and applied as is; an empty list means none.
#[tokio::test]
async fn server_side_apply_refuses_a_body_with_managed_fields() {
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let alice = PatchParams::apply("alice").force();
    let config = json!({ "apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": { "name": "mf" }, "data": { "a": "1" } });
    let live = cms
        .patch("mf", &alice, &Patch::Apply(&config))
        .await
        .expect("apply creates");
    // Read, edit, apply back: the live object carries managedFields.
    let mut edited = serde_json::to_value(&live).unwrap();
    edited["data"]["a"] = json!("2");
    let s = api_status(
        cms.patch("mf", &alice, &Patch::Apply(&edited))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (400, "BadRequest"));
    assert_eq!(s.message, "metadata.managedFields must be nil");
    let unchanged = cms.get("mf").await.unwrap();
    assert_eq!(unchanged.data.unwrap()["a"], "1", "nothing was written");
    // The same edit without managedFields (or with an empty list) applies.
    edited["metadata"]["managedFields"] = json!([]);
    let applied = cms
        .patch("mf", &alice, &Patch::Apply(&edited))
        .await
        .expect("an empty list is no ownership");
    assert_eq!(applied.data.unwrap()["a"], "2");
    c.cleanup().await;
}

#[tokio::test]
async fn apply_to_the_status_subresource_keeps_its_own_fields() {
    let c = Cluster::new().await;
    let pods: Api<Pod> = c.api();
    let missing = json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "nope" },
                          "status": { "phase": "Running" } });
    let s = api_status(
        pods.patch_status(
            "nope",
            &PatchParams::apply("kubelet"),
            &Patch::Apply(missing),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s.code, 404, "apply through /status does not create");

    pods.create(&PostParams::default(), &pod("sp", &[]))
        .await
        .expect("create");
    let status = |ready: &str| {
        json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "sp" },
                "status": { "conditions": [{ "type": "Ready", "status": ready }] } })
    };
    let pp = PatchParams::apply("kubelet").force();
    let got = pods
        .patch_status("sp", &pp, &Patch::Apply(status("True")))
        .await
        .expect("status apply");
    let conds = got.status.as_ref().unwrap().conditions.clone().unwrap();
    assert_eq!(conds[0].status, "True");
    let entry = got
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .find(|e| e.manager.as_deref() == Some("kubelet"))
        .expect("kubelet entry");
    assert_eq!(entry.subresource.as_deref(), Some("status"));
    assert_eq!(entry.operation.as_deref(), Some("Apply"));

    // Another manager changing the condition conflicts, as on the main resource.
    let s = api_status(
        pods.patch_status(
            "sp",
            &PatchParams::apply("other"),
            &Patch::Apply(status("False")),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s.code, 409);
    assert_eq!(
        s.details.unwrap().causes[0].field,
        r#".status.conditions[type="Ready"].status"#
    );
    c.cleanup().await;
}

#[tokio::test]
async fn apply_without_a_name_targets_the_url_object() {
    // kube-lease-manager applies `{apiVersion, kind, spec}` to an existing lease.
    use k8s_openapi::api::coordination::v1::Lease;
    let c = Cluster::new().await;
    let leases: Api<Lease> = c.api();
    let lease: Lease = serde_json::from_value(json!({ "metadata": { "name": "lock" } })).unwrap();
    leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("create");
    let patch = json!({ "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                        "spec": { "holderIdentity": "me", "leaseDurationSeconds": 15 } });
    let got = leases
        .patch(
            "lock",
            &PatchParams::apply("lease-manager"),
            &Patch::Apply(patch),
        )
        .await
        .expect("apply without name");
    assert_eq!(got.spec.unwrap().holder_identity.as_deref(), Some("me"));
    c.cleanup().await;
}

#[tokio::test]
async fn apply_with_an_explicit_null_clears_the_field() {
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let apply = |data: serde_json::Value| {
        json!({ "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": { "name": "nulls" }, "data": data })
    };
    let pp = PatchParams::apply("m");
    cms.patch(
        "nulls",
        &pp,
        &Patch::Apply(apply(json!({ "a": "1", "b": "2" }))),
    )
    .await
    .expect("apply");
    let got = cms
        .patch(
            "nulls",
            &pp,
            &Patch::Apply(apply(json!({ "a": "1", "b": null }))),
        )
        .await
        .expect("apply with null");
    assert_eq!(got.data.unwrap().keys().collect::<Vec<_>>(), vec!["a"]);
    c.cleanup().await;
}
