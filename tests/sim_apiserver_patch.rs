//! Patches on the simulated API server through the real kube-rs client: strategic merge,
//! JSON and merge patches, server-side apply with managedFields.

use std::collections::BTreeMap;

use extendeddaemonset::sim::apiserver::{Config, SimApiServer};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::{
    Api, Client,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::json;

async fn start() -> (SimApiServer, Client) {
    let server = SimApiServer::start(Config::default()).await.expect("start");
    let client = server.client().expect("client");
    (server, client)
}

fn api_status(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

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

#[tokio::test]
async fn strategic_merge_patch_merges_keyed_lists() {
    let (_server, client) = start().await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut p = pod("sm", &[]);
    p.spec.as_mut().unwrap().containers[0].env = Some(
        serde_json::from_value(
            json!([{ "name": "A", "value": "1" }, { "name": "B", "value": "2" }]),
        )
        .unwrap(),
    );
    pods.create(&PostParams::default(), &p)
        .await
        .expect("create");
    let patch = json!({ "spec": { "containers": [
        { "name": "app", "image": "nginx:1.26",
          "env": [{ "name": "B", "value": "20" }, { "name": "C", "value": "3" },
                  { "name": "A", "$patch": "delete" }] },
        { "name": "sidecar", "image": "busybox" },
    ]}});
    let got = pods
        .patch("sm", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .expect("strategic patch");
    let containers = got.spec.unwrap().containers;
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
}

#[tokio::test]
async fn json_and_merge_patches() {
    let (_server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
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
}

#[tokio::test]
async fn server_side_apply_removes_conflicts_and_forces() {
    let (_server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
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
}

#[tokio::test]
async fn apply_merges_containers_by_name() {
    let (_server, client) = start().await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let manifest = |containers: serde_json::Value| {
        json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "ap" },
                "spec": { "containers": containers } })
    };
    pods.patch(
        "ap",
        &PatchParams::apply("a"),
        &Patch::Apply(manifest(json!([{ "name": "one", "image": "x:1" }]))),
    )
    .await
    .expect("a applies");
    let got = pods
        .patch(
            "ap",
            &PatchParams::apply("b"),
            &Patch::Apply(manifest(json!([{ "name": "two", "image": "y:1" }]))),
        )
        .await
        .expect("b applies another container");
    let names: Vec<String> = got
        .spec
        .unwrap()
        .containers
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["one", "two"]);
}
