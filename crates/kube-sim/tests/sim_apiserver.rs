//! The simulated API server through the real kube-rs client: CRUD, optimistic concurrency,
//! list selectors and pagination, status subresource, dry run, deletion.

use std::collections::BTreeMap;

mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod};
use kube::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
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

#[tokio::test]
async fn crud_with_metadata_and_optimistic_concurrency() {
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("one".into());
    cm.data = Some([("a".to_string(), "1".to_string())].into());
    let created = cms
        .create(&PostParams::default(), &cm)
        .await
        .expect("create");
    let uid = created.metadata.uid.clone().expect("uid");
    let rv1: u64 = created
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(
        created.metadata.namespace.as_deref(),
        Some(c.namespace.as_str())
    );

    let again = cms.create(&PostParams::default(), &cm).await.unwrap_err();
    let s = api_status(again);
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));

    let mut changed = created.clone();
    changed.data = Some([("a".to_string(), "2".to_string())].into());
    let updated = cms
        .replace("one", &PostParams::default(), &changed)
        .await
        .expect("update");
    let rv2: u64 = updated
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv2 > rv1, "resourceVersion must grow: {rv1} -> {rv2}");
    assert_eq!(updated.metadata.uid.as_deref(), Some(uid.as_str()));

    // `changed` still carries rv1: a stale write.
    let stale = cms
        .replace("one", &PostParams::default(), &changed)
        .await
        .unwrap_err();
    let s = api_status(stale);
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert!(
        s.message.contains("the object has been modified"),
        "{}",
        s.message
    );

    let got = cms.get("one").await.expect("get");
    assert_eq!(got.data.unwrap()["a"], "2");

    cms.delete("one", &DeleteParams::default())
        .await
        .expect("delete");
    let s = api_status(cms.get("one").await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(s.message, "configmaps \"one\" not found");
    c.cleanup().await;
}

#[tokio::test]
async fn namespaced_create_needs_an_existing_namespace() {
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "nowhere");
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("x".into());
    let s = api_status(cms.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!(s.code, 404);
    assert!(
        s.message.contains("namespaces \"nowhere\" not found"),
        "{}",
        s.message
    );
    c.cleanup().await;
}

#[tokio::test]
async fn invalid_name_is_422_with_field_cause() {
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("Bad_Name".into());
    let s = api_status(cms.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    let causes = s.details.expect("details").causes;
    assert_eq!(causes[0].field, "metadata.name");
    c.cleanup().await;
}

#[tokio::test]
async fn list_with_label_and_field_selectors_and_pages() {
    let c = Cluster::new().await;
    let pods: Api<Pod> = c.api();
    for (i, tier) in ["web", "web", "db", "cache", "web"].iter().enumerate() {
        let p = pod(&format!("p{i}"), &[("tier", tier), ("idx", &i.to_string())]);
        pods.create(&PostParams::default(), &p)
            .await
            .expect("create");
    }
    let names = |l: kube::core::ObjectList<Pod>| -> Vec<String> {
        l.items
            .into_iter()
            .map(|p| p.metadata.name.unwrap())
            .collect()
    };
    let cases = [
        ("tier=web", vec!["p0", "p1", "p4"]),
        ("tier!=web", vec!["p2", "p3"]),
        ("tier in (db,cache)", vec!["p2", "p3"]),
        ("tier notin (db,cache),idx!=0", vec!["p1", "p4"]),
        ("idx", vec!["p0", "p1", "p2", "p3", "p4"]),
        ("!idx", vec![]),
    ];
    for (sel, want) in cases {
        let got = names(
            pods.list(&ListParams::default().labels(sel))
                .await
                .expect(sel),
        );
        assert_eq!(got, want, "selector {sel}");
    }
    let by_name = pods
        .list(&ListParams::default().fields("metadata.name=p3"))
        .await
        .expect("field selector");
    assert_eq!(names(by_name), vec!["p3"]);
    let unbound = pods
        .list(&ListParams::default().fields("spec.nodeName="))
        .await
        .expect("nodeName selector");
    assert_eq!(unbound.items.len(), 5);

    let first = pods
        .list(&ListParams::default().limit(2))
        .await
        .expect("page 1");
    let token = first.metadata.continue_.clone().expect("continue token");
    let second = pods
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect("page 2");
    let token2 = second.metadata.continue_.clone().expect("second token");
    let third = pods
        .list(&ListParams::default().limit(2).continue_token(&token2))
        .await
        .expect("page 3");
    assert_eq!(names(first), vec!["p0", "p1"]);
    assert_eq!(names(second), vec!["p2", "p3"]);
    assert!(third.metadata.continue_.as_deref().unwrap_or("").is_empty());
    assert_eq!(names(third), vec!["p4"]);
    c.cleanup().await;
}

#[tokio::test]
async fn the_pages_of_one_list_are_one_snapshot() {
    let c = Cluster::new().await;
    let pods: Api<Pod> = c.api();
    for i in 0..5 {
        let p = pod(&format!("p{i}"), &[("gen", "1")]);
        pods.create(&PostParams::default(), &p)
            .await
            .expect("create");
    }
    let page = |token: Option<String>| {
        let pods = pods.clone();
        async move {
            let mut params = ListParams::default().limit(2);
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            pods.list(&params).await
        }
    };
    let first = page(None).await.expect("page 1");
    let token = first.metadata.continue_.clone().expect("continue token");
    // Changes between the pages: one object edited, one deleted, one created in between.
    let patch = json!({ "metadata": { "labels": { "gen": "2" } } });
    pods.patch("p3", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    pods.delete("p2", &DeleteParams::default().grace_period(0))
        .await
        .expect("delete");
    pods.create(&PostParams::default(), &pod("p2a", &[("gen", "2")]))
        .await
        .expect("create p2a");
    let second = page(Some(token)).await.expect("page 2");
    let token2 = second.metadata.continue_.clone().expect("second token");
    let third = page(Some(token2.clone())).await.expect("page 3");
    let seen: Vec<(String, String)> = [&first, &second, &third]
        .iter()
        .flat_map(|l| l.items.iter())
        .map(|p| {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            (
                p.metadata.name.clone().unwrap_or_default(),
                labels.get("gen").cloned().unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> =
        (0..5).map(|i| (format!("p{i}"), "1".to_string())).collect();
    assert_eq!(
        seen, expected,
        "every page shows the list as of the first one"
    );
    assert_eq!(
        second.metadata.resource_version, first.metadata.resource_version,
        "one resourceVersion for the whole list"
    );
    // A fresh list sees the changes.
    let now = pods.list(&ListParams::default()).await.expect("list");
    let names: Vec<String> = now
        .items
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    assert_eq!(names, ["p0", "p1", "p2a", "p3", "p4"]);
    // A token older than the kept history is refused with 410 Expired, as a compacted etcd
    // makes the real server do (only the simulator can compact on demand).
    if let Some(sim) = &c.sim {
        sim.compact_history();
        let status = api_status(page(Some(token2)).await.expect_err("expired token"));
        assert_eq!(
            (status.code, status.reason.as_str()),
            (410, "Expired"),
            "{status:?}"
        );
    }
    c.cleanup().await;
}

#[tokio::test]
async fn status_subresource_and_generation() {
    let c = Cluster::new().await;
    let pods: Api<Pod> = c.api();
    let mut p = pod("st", &[]);
    p.status = Some(serde_json::from_value(json!({ "phase": "Running" })).unwrap());
    let created = pods
        .create(&PostParams::default(), &p)
        .await
        .expect("create");
    assert_eq!(
        created.status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    assert_eq!(created.metadata.generation, Some(1));

    // Main endpoint ignores status.
    let ignored = pods
        .patch(
            "st",
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": { "phase": "Failed" },
            "metadata": { "labels": { "x": "y" } } })),
        )
        .await
        .expect("main patch");
    assert_eq!(
        ignored.status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    assert_eq!(ignored.metadata.generation, Some(1), "labels are not spec");

    // /status ignores everything else.
    let status = pods
        .patch_status(
            "st",
            &PatchParams::default(),
            &Patch::Merge(json!({
            "status": { "phase": "Running" }, "metadata": { "labels": { "x": "z" } } })),
        )
        .await
        .expect("status patch");
    assert_eq!(
        status.status.as_ref().unwrap().phase.as_deref(),
        Some("Running")
    );
    assert_eq!(status.metadata.labels.unwrap()["x"], "y");
    assert_eq!(status.metadata.generation, Some(1));

    let spec = pods
        .patch(
            "st",
            &PatchParams::default(),
            &Patch::Merge(json!({
            "spec": { "activeDeadlineSeconds": 60 } })),
        )
        .await
        .expect("spec patch");
    assert_eq!(spec.metadata.generation, Some(2));

    // An identical write is a no-op: same resourceVersion.
    let same = pods
        .replace("st", &PostParams::default(), &spec)
        .await
        .expect("no-op");
    assert_eq!(
        same.metadata.resource_version,
        spec.metadata.resource_version
    );
    c.cleanup().await;
}

#[tokio::test]
async fn dry_run_returns_without_storing() {
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("dry".into());
    let pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let got = cms.create(&pp, &cm).await.expect("dry create");
    assert_eq!(got.metadata.name.as_deref(), Some("dry"));
    assert!(cms.get_opt("dry").await.expect("get").is_none());

    cms.create(&PostParams::default(), &cm)
        .await
        .expect("create");
    let apply = json!({ "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": { "name": "dry" }, "data": { "a": "1" } });
    let dry = cms
        .patch(
            "dry",
            &PatchParams::apply("m").dry_run(),
            &Patch::Apply(apply),
        )
        .await
        .expect("dry apply");
    assert_eq!(dry.data.unwrap()["a"], "1");
    let merge = cms
        .patch(
            "dry",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({ "data": { "b": "2" } })),
        )
        .await
        .expect("dry merge");
    assert_eq!(merge.data.unwrap()["b"], "2");
    assert!(cms.get("dry").await.expect("get").data.is_none());
    cms.delete(
        "dry",
        &DeleteParams {
            dry_run: true,
            ..Default::default()
        },
    )
    .await
    .expect("dry delete");
    assert!(cms.get_opt("dry").await.expect("get").is_some());
    c.cleanup().await;
}

#[tokio::test]
async fn pods_binding_and_graceful_deletion() {
    let c = Cluster::new().await;
    if let Some(sim) = &c.sim {
        sim.create_nodes("n", 2).expect("nodes");
        let nodes: Api<Node> = Api::all(c.client.clone());
        let names: Vec<String> = nodes
            .list(&ListParams::default())
            .await
            .expect("nodes")
            .items
            .into_iter()
            .map(|n| n.metadata.name.unwrap())
            .collect();
        assert_eq!(names, vec!["n-0001", "n-0002"]);
    }
    let pods: Api<Pod> = c.api();
    pods.create(&PostParams::default(), &pod("bound", &[]))
        .await
        .expect("create");
    pods.create(&PostParams::default(), &pod("loose", &[]))
        .await
        .expect("create");
    let binding = json!({ "apiVersion": "v1", "kind": "Binding",
        "metadata": { "name": "bound" }, "target": { "kind": "Node", "name": "n-0001" } });
    let path = format!("/api/v1/namespaces/{}/pods/bound/binding", c.namespace);
    let req = axum::http::Request::post(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&binding).unwrap())
        .unwrap();
    let _: serde_json::Value = c.client.request(req).await.expect("binding");
    let bound = pods.get("bound").await.expect("get");
    assert_eq!(
        bound.spec.as_ref().unwrap().node_name.as_deref(),
        Some("n-0001")
    );

    // Bound: graceful; the object stays with a deletionTimestamp.
    pods.delete("bound", &DeleteParams::default())
        .await
        .expect("delete");
    let terminating = pods.get("bound").await.expect("still there");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(terminating.metadata.deletion_grace_period_seconds, Some(30));
    // Status updates (the kubelet's) during the grace period keep the pod.
    pods.patch_status(
        "bound",
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": { "phase": "Running" } })),
    )
    .await
    .expect("status update while terminating");
    assert!(pods.get_opt("bound").await.expect("get").is_some());
    // Grace 0 finishes it, as the kubelet does.
    pods.delete(
        "bound",
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        },
    )
    .await
    .expect("force delete");
    assert!(pods.get_opt("bound").await.expect("get").is_none());
    // Not bound: removed at once.
    pods.delete("loose", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(pods.get_opt("loose").await.expect("get").is_none());
}

#[tokio::test]
async fn finalizers_and_delete_preconditions() {
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": "fin", "finalizers": ["example.com/hold"] } }))
    .unwrap();
    let created = cms
        .create(&PostParams::default(), &cm)
        .await
        .expect("create");
    let wrong = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: Some("not-the-uid".into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    let s = api_status(cms.delete("fin", &wrong).await.unwrap_err());
    assert_eq!(s.code, 409);
    assert!(s.message.contains("Precondition failed"), "{}", s.message);

    let right = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: created.metadata.uid.clone(),
            resource_version: created.metadata.resource_version.clone(),
        }),
        ..Default::default()
    };
    cms.delete("fin", &right).await.expect("delete");
    let held = cms.get("fin").await.expect("held by finalizer");
    assert!(held.metadata.deletion_timestamp.is_some());
    cms.patch(
        "fin",
        &PatchParams::default(),
        &Patch::Merge(json!({ "metadata": { "finalizers": null } })),
    )
    .await
    .expect("drop finalizer");
    assert!(cms.get_opt("fin").await.expect("get").is_none());
    c.cleanup().await;
}

#[tokio::test]
async fn every_listed_kind_is_served() {
    use k8s_openapi::api::{
        apps::v1::{ControllerRevision, DaemonSet},
        coordination::v1::Lease,
        core::v1::{Event, Secret},
        events::v1::Event as EventV1,
    };
    let c = Cluster::new().await;
    let meta = |name: &str| json!({ "metadata": { "name": name } });
    let pp = PostParams::default();
    let lease: Lease = serde_json::from_value(meta("l")).unwrap();
    c.api::<Lease>().create(&pp, &lease).await.expect("lease");
    let secret: Secret = serde_json::from_value(json!({
        "metadata": { "name": "s" }, "stringData": { "k": "v" } }))
    .unwrap();
    let secret = c
        .api::<Secret>()
        .create(&pp, &secret)
        .await
        .expect("secret");
    assert!(secret.string_data.is_none(), "stringData is write-only");
    assert_eq!(secret.data.unwrap()["k"].0, b"v".to_vec());
    let ev: Event = serde_json::from_value(json!({ "metadata": { "name": "e" },
        "involvedObject": { "kind": "Pod", "name": "x" }, "reason": "Test" }))
    .unwrap();
    c.api::<Event>().create(&pp, &ev).await.expect("core event");
    let ev: EventV1 = serde_json::from_value(json!({ "metadata": { "name": "e2" },
        "eventTime": "2025-01-01T00:00:00.000000Z", "reportingController": "t",
        "reportingInstance": "t", "action": "Test", "reason": "Test", "type": "Normal" }))
    .unwrap();
    c.api::<EventV1>()
        .create(&pp, &ev)
        .await
        .expect("events.k8s.io event");
    let ds: DaemonSet = serde_json::from_value(json!({ "metadata": { "name": "d" }, "spec": {
        "selector": { "matchLabels": { "a": "b" } },
        "template": { "metadata": { "labels": { "a": "b" } },
                      "spec": { "containers": [{ "name": "c", "image": "i" }] } } } }))
    .unwrap();
    c.api::<DaemonSet>()
        .create(&pp, &ds)
        .await
        .expect("daemonset");
    let cr: ControllerRevision =
        serde_json::from_value(json!({ "metadata": { "name": "r" }, "revision": 1 })).unwrap();
    c.api::<ControllerRevision>()
        .create(&pp, &cr)
        .await
        .expect("controllerrevision");
    assert_eq!(
        c.api::<Lease>()
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // One events resource, two APIs: each event is listed through both.
    let names = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let v1: Vec<String> = c
        .api::<EventV1>()
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.metadata.name.unwrap())
        .collect();
    let core: Vec<Event> = c
        .api::<Event>()
        .list(&Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(names(v1), vec!["e", "e2"]);
    let e2 = core
        .iter()
        .find(|e| e.metadata.name.as_deref() == Some("e2"))
        .expect("events.k8s.io event read through core/v1");
    assert_eq!(e2.reason.as_deref(), Some("Test"));
    assert_eq!(e2.reporting_component.as_deref(), Some("t"));
    assert_eq!(core.len(), 2);
    // kubectl describe selects events by their object.
    let about_x = c
        .api::<Event>()
        .list(&ListParams::default().fields("involvedObject.name=x,involvedObject.kind=Pod"))
        .await
        .expect("event field selector");
    assert_eq!(about_x.items.len(), 1);
    c.cleanup().await;
}

#[tokio::test]
async fn pods_are_validated_like_upstream() {
    let c = Cluster::new().await;
    let pods: Api<Pod> = c.api();
    let bad: Pod = serde_json::from_value(json!({
        "metadata": { "name": "bad" },
        "spec": { "containers": [{ "name": "app" }, { "name": "app", "image": "x" }] },
    }))
    .unwrap();
    let s = api_status(pods.create(&PostParams::default(), &bad).await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    let fields: Vec<String> = s
        .details
        .unwrap()
        .causes
        .into_iter()
        .map(|c| c.field)
        .collect();
    assert_eq!(
        fields,
        vec!["spec.containers[0].image", "spec.containers[1].name"]
    );
    c.cleanup().await;
}

/// Container resources are checked as kube-apiserver's `ValidateContainerResourceRequirements`
/// does: a quantity that does not decode is a 400, a bad name or value a 422 on the field.
#[tokio::test]
async fn pod_resources_are_validated_like_upstream() {
    let c = Cluster::new().await;
    let pods: Api<Pod> = c.api();
    let with = |name: &str, resources: serde_json::Value| -> Pod {
        serde_json::from_value(json!({
            "metadata": { "name": name },
            "spec": { "containers": [{ "name": "app", "image": "x", "resources": resources }] },
        }))
        .unwrap()
    };
    let pp = PostParams::default();
    let s = api_status(
        pods.create(&pp, &with("lots", json!({ "limits": { "cpu": "lots" } })))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        s.message,
        "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular \
         expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
    let bad = with(
        "bad",
        json!({
            "limits": { "memory": "-1Gi", "cpu": "500m" },
            "requests": { "cpu": "1", "gpu": "1" },
        }),
    );
    let s = api_status(pods.create(&pp, &bad).await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    let causes: Vec<(String, String)> = s
        .details
        .unwrap()
        .causes
        .into_iter()
        .map(|c| (c.field, c.message))
        .collect();
    let at = "spec.containers[0].resources";
    assert_eq!(
        causes,
        [
            (
                format!("{at}.limits[memory]"),
                "Invalid value: \"-1Gi\": must be greater than or equal to 0".to_string()
            ),
            (
                format!("{at}.requests"),
                "Invalid value: \"1\": must be less than or equal to cpu limit of 500m".into()
            ),
            (
                format!("{at}.requests[gpu]"),
                "Invalid value: \"gpu\": must be a standard resource type or fully qualified"
                    .into()
            ),
            (
                format!("{at}.requests[gpu]"),
                "Invalid value: \"gpu\": must be a standard resource for containers".into()
            ),
        ]
    );
    let good = with(
        "good",
        json!({ "limits": { "cpu": "1", "example.com/dev": "1" }, "requests": { "cpu": 0.5 } }),
    );
    pods.create(&pp, &good).await.expect("valid resources");
    c.cleanup().await;
}

#[tokio::test]
async fn a_terminating_namespace_takes_no_new_objects() {
    use k8s_openapi::api::core::v1::Namespace;
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let held: ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": "held", "finalizers": ["example.com/hold"] } }))
    .unwrap();
    cms.create(&PostParams::default(), &held)
        .await
        .expect("create");
    Api::<Namespace>::all(c.client.clone())
        .delete(&c.namespace, &DeleteParams::default())
        .await
        .expect("delete namespace");
    let fresh: ConfigMap =
        serde_json::from_value(json!({ "metadata": { "name": "fresh" } })).unwrap();
    let s = api_status(
        cms.create(&PostParams::default(), &fresh)
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert!(s.message.contains("is being terminated"), "{}", s.message);
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({ "metadata": { "finalizers": null } })),
    )
    .await
    .expect("release the finalizer");
    c.cleanup().await;
}

/// A DaemonSet is held to `ValidateDaemonSetSpec` on every write, its template to the pod
/// rules, and read back with the server's defaults; its selector cannot change.
#[tokio::test]
async fn daemonsets_are_validated_and_defaulted_like_upstream() {
    use k8s_openapi::api::apps::v1::DaemonSet;
    let c = Cluster::new().await;
    let api: Api<DaemonSet> = c.api();
    let pp = PostParams::default();
    let causes = |e: kube::Error| -> Vec<(String, String)> {
        let s = api_status(e);
        assert_eq!(
            (s.code, s.reason.as_str()),
            (422, "Invalid"),
            "{}",
            s.message
        );
        s.details
            .unwrap()
            .causes
            .into_iter()
            .map(|c| (c.field, c.message))
            .collect()
    };
    let bad: DaemonSet = serde_json::from_value(json!({
        "metadata": { "name": "agent" },
        "spec": {
            "selector": { "matchLabels": { "app": "agent" } },
            "template": {
                "metadata": { "labels": { "app": "other" } },
                "spec": {
                    "restartPolicy": "OnFailure",
                    "containers": [{ "name": "agent", "image": "agent:1",
                                     "resources": { "limits": { "memory": "-1" } } }] } } },
    }))
    .unwrap();
    assert_eq!(
        causes(api.create(&pp, &bad).await.unwrap_err()),
        [
            (
                "spec.template.metadata.labels".to_string(),
                "Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not \
                 match template `labels`"
                    .to_string()
            ),
            (
                "spec.template.spec.containers[0].resources.limits[memory]".into(),
                "Invalid value: \"-1\": must be greater than or equal to 0".into()
            ),
            (
                "spec.template.spec.restartPolicy".into(),
                "Unsupported value: \"OnFailure\": supported values: \"Always\"".into()
            ),
        ]
    );
    let empty: DaemonSet = serde_json::from_value(json!({
        "metadata": { "name": "agent" },
        "spec": { "selector": {}, "template": { "spec": { "containers": [] } } },
    }))
    .unwrap();
    assert_eq!(
        causes(api.create(&pp, &empty).await.unwrap_err())
            .into_iter()
            .map(|(field, _)| field)
            .collect::<Vec<_>>(),
        ["spec.selector", "spec.template.spec.containers"]
    );

    let good: DaemonSet = serde_json::from_value(json!({
        "metadata": { "name": "agent" },
        "spec": {
            "selector": { "matchLabels": { "app": "agent" } },
            "template": {
                "metadata": { "labels": { "app": "agent" } },
                "spec": { "containers": [{ "name": "agent", "image": "agent:1",
                                           "ports": [{ "containerPort": 8125 }] }] } } },
    }))
    .unwrap();
    let got = api.create(&pp, &good).await.expect("a valid DaemonSet");
    let spec = got.spec.unwrap();
    let strategy = spec.update_strategy.unwrap();
    assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
    assert_eq!(spec.revision_history_limit, Some(10));
    let pod = spec.template.spec.unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("Always"));
    assert_eq!(
        pod.containers[0].ports.as_ref().unwrap()[0]
            .protocol
            .as_deref(),
        Some("TCP")
    );

    // The template is validated on updates too; the selector is immutable.
    let patch = |v: serde_json::Value| Patch::Merge(v);
    let e = api
        .patch(
            "agent",
            &PatchParams::default(),
            &patch(json!({ "spec": { "template": { "spec": {
                "containers": [{ "name": "agent", "image": "" }] } } } })),
        )
        .await
        .unwrap_err();
    assert_eq!(
        causes(e),
        [(
            "spec.template.spec.containers[0].image".to_string(),
            "Required value".to_string()
        )]
    );
    let e = api
        .patch(
            "agent",
            &PatchParams::default(),
            &patch(json!({ "spec": {
                "selector": { "matchLabels": { "app": "agent", "tier": "node" } },
                "template": { "metadata": { "labels": { "tier": "node" } } } } })),
        )
        .await
        .unwrap_err();
    assert_eq!(
        causes(e),
        [(
            "spec.selector".to_string(),
            "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"agent\", \
             \"tier\":\"node\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field \
             is immutable"
                .to_string()
        )]
    );
    api.patch(
        "agent",
        &PatchParams::default(),
        &patch(json!({ "spec": { "template": { "spec": {
            "containers": [{ "name": "agent", "image": "agent:2" }] } } } })),
    )
    .await
    .expect("a valid update");
    c.cleanup().await;
}
