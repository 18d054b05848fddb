//! CRDs on the simulated API server (registration, discovery, schema admission, status
//! subresource of custom resources) and ownerReference garbage collection.

use std::time::Duration;

use extendeddaemonset::{
    api::ExtendedDaemonSet,
    sim::apiserver::{Config, SimApiServer},
};
use k8s_openapi::{
    api::core::v1::ConfigMap,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client, CustomResourceExt, Discovery,
    api::{DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy},
    core::{DynamicObject, GroupVersionKind},
    discovery::ApiResource,
};
use serde_json::{Value, json};

const FOO: &str = r#"
apiVersion: datadoghq.com/v1alpha1
kind: ExtendedDaemonSet
metadata:
  name: foo
  namespace: default
spec:
  strategy:
    canary:
      replicas: 1
      duration: 5m
    rollingUpdate:
      maxParallelPodCreation: 1
      slowStartIntervalDuration: 1m
  template:
    metadata:
      creationTimestamp: null
    spec:
      containers:
      - name: daemon
        image: registry.k8s.io/pause:3.0
      tolerations:
      - operator: Exists
"#;

async fn start_with_crd() -> (SimApiServer, Client) {
    let server = SimApiServer::start(Config::default()).await.expect("start");
    let client = server.client().expect("client");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let created = crds
        .create(&PostParams::default(), &ExtendedDaemonSet::crd())
        .await
        .expect("create CRD");
    let established = created
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .any(|c| c.type_ == "Established" && c.status == "True");
    assert!(established, "CRD must be Established");
    (server, client)
}

fn api_status(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn foo() -> Value {
    serde_saphyr::from_str(FOO).expect("yaml")
}

#[tokio::test]
async fn crd_registers_a_discoverable_resource() {
    let (_server, client) = start_with_crd().await;
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let (res, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk(
            "datadoghq.com",
            "v1alpha1",
            "ExtendedDaemonSet",
        ))
        .expect("EDS is discovered");
    assert_eq!(res.plural, "extendeddaemonsets");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    assert!(caps.subresources.iter().any(|(r, _)| r.plural == "status"));
    assert!(
        discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Pod"))
            .is_some(),
        "core kinds are discovered"
    );
}

#[tokio::test]
async fn custom_resources_are_defaulted_validated_and_have_status() {
    let (_server, client) = start_with_crd().await;
    let eds: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), "default");
    let obj: ExtendedDaemonSet = serde_json::from_value(foo()).expect("typed foo");
    let created = eds
        .create(&PostParams::default(), &obj)
        .await
        .expect("create foo");
    assert_eq!(created.metadata.generation, Some(1));
    // Schema default applied by the server.
    assert_eq!(created.spec.revision_history_limit, Some(10));

    let mut bad = foo();
    bad["metadata"]["name"] = json!("bad");
    bad["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = json!("150%");
    let ar = ApiResource::erase::<ExtendedDaemonSet>(&());
    let dynamic: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let obj: DynamicObject = serde_json::from_value(bad).unwrap();
    let s = api_status(
        dynamic
            .create(&PostParams::default(), &obj)
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    let causes = s.details.expect("details").causes;
    assert_eq!(
        causes[0].field,
        "spec.strategy.rollingUpdate.maxUnavailable"
    );
    assert!(
        s.message
            .starts_with("ExtendedDaemonSet.datadoghq.com \"bad\" is invalid"),
        "{}",
        s.message
    );

    // Unknown fields are pruned.
    let pruned = eds
        .patch(
            "foo",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "bogus": 1 } })),
        )
        .await
        .expect("merge patch");
    let raw = dynamic.get("foo").await.expect("get");
    assert!(raw.data["spec"].get("bogus").is_none());
    assert_eq!(
        pruned.metadata.generation,
        Some(1),
        "pruned change is no spec change"
    );

    // The status subresource: main endpoint ignores status, /status sets it.
    let status = json!({ "status": { "desired": 3, "current": 1, "ready": 1, "available": 1,
        "upToDate": 1, "ignoredUnresponsiveNodes": 0, "state": "Running" } });
    let main = eds
        .patch(
            "foo",
            &PatchParams::default(),
            &Patch::Merge(status.clone()),
        )
        .await
        .expect("main patch");
    assert!(main.status.is_none());
    let with_status = eds
        .patch_status("foo", &PatchParams::default(), &Patch::Merge(status))
        .await
        .expect("status patch");
    assert_eq!(with_status.status.expect("status").desired, 3);

    // Strategic merge patch is not supported for custom resources, as upstream.
    let s = api_status(
        eds.patch("foo", &PatchParams::default(), &Patch::Strategic(json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 415);
}

#[tokio::test]
async fn non_structural_schema_is_rejected() {
    let server = SimApiServer::start(Config::default()).await.expect("start");
    let crds: Api<CustomResourceDefinition> = Api::all(server.client().expect("client"));
    let mut crd = serde_json::to_value(ExtendedDaemonSet::crd()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        .as_object_mut()
        .unwrap()
        .remove("type");
    let crd: CustomResourceDefinition = serde_json::from_value(crd).unwrap();
    let s = api_status(crds.create(&PostParams::default(), &crd).await.unwrap_err());
    assert_eq!(s.code, 422);
    let causes = s.details.expect("details").causes;
    assert!(
        causes.iter().any(|c| c
            .field
            .starts_with("spec.versions[0].schema.openAPIV3Schema.properties[spec]")),
        "{causes:?}"
    );
}

fn owned_cm(name: &str, owner: &ConfigMap) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": { "name": name, "ownerReferences": [{
            "apiVersion": "v1", "kind": "ConfigMap",
            "name": owner.metadata.name, "uid": owner.metadata.uid,
        }]},
    }))
    .unwrap()
}

async fn wait_gone(cms: &Api<ConfigMap>, name: &str) {
    // Bounded wait for the collector (it runs asynchronously, like the real one).
    for _ in 0..100 {
        if cms.get_opt(name).await.expect("get").is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} was not garbage collected");
}

#[tokio::test]
async fn garbage_collection_background_foreground_orphan() {
    let server = SimApiServer::start(Config::default()).await.expect("start");
    let cms: Api<ConfigMap> = Api::namespaced(server.client().expect("client"), "default");
    let mk = |name: &str| -> ConfigMap {
        serde_json::from_value(json!({ "metadata": { "name": name } })).unwrap()
    };
    let pp = PostParams::default();

    let owner = cms.create(&pp, &mk("bg")).await.expect("owner");
    cms.create(&pp, &owned_cm("bg-child", &owner))
        .await
        .expect("child");
    cms.delete("bg", &DeleteParams::background())
        .await
        .expect("delete");
    wait_gone(&cms, "bg-child").await;

    let owner = cms.create(&pp, &mk("fg")).await.expect("owner");
    cms.create(&pp, &owned_cm("fg-child", &owner))
        .await
        .expect("child");
    let dp = DeleteParams::foreground();
    cms.delete("fg", &dp).await.expect("delete");
    wait_gone(&cms, "fg").await;
    assert!(
        cms.get_opt("fg-child").await.expect("get").is_none(),
        "child goes first"
    );

    let owner = cms.create(&pp, &mk("or")).await.expect("owner");
    cms.create(&pp, &owned_cm("or-child", &owner))
        .await
        .expect("child");
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Orphan),
        ..Default::default()
    };
    cms.delete("or", &dp).await.expect("delete");
    wait_gone(&cms, "or").await;
    let orphan = cms.get("or-child").await.expect("orphan survives");
    assert!(
        orphan
            .metadata
            .owner_references
            .unwrap_or_default()
            .is_empty()
    );
}
