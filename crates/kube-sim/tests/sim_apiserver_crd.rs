//! CRDs on the simulated API server (registration, discovery, schema admission, status
//! subresource of custom resources), ownerReference garbage collection and namespace
//! deletion.

use std::time::Duration;

mod support;

use eds_api::ExtendedDaemonSet;
use k8s_openapi::{
    api::core::v1::ConfigMap,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, CustomResourceExt, Discovery,
    api::{DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy},
    core::{DynamicObject, GroupVersionKind},
    discovery::ApiResource,
};
use serde_json::{Value, json};
use support::{Cluster, api_status};

const FOO: &str = r#"
apiVersion: datadoghq.com/v1alpha1
kind: ExtendedDaemonSet
metadata:
  name: foo
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

/// A cluster with the ExtendedDaemonSet CRD applied and Established.
async fn with_crd() -> Cluster {
    let c = Cluster::new().await;
    let crds: Api<CustomResourceDefinition> = Api::all(c.client.clone());
    let pp = PatchParams::apply("eds-tests").force();
    let crd = ExtendedDaemonSet::crd();
    let name = crd.metadata.name.clone().unwrap();
    crds.patch(&name, &pp, &Patch::Apply(&crd))
        .await
        .expect("apply CRD");
    // A real server establishes a CRD asynchronously; the simulator at once.
    for _ in 0..100 {
        let got = crds.get(&name).await.expect("get CRD");
        let established = got
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .into_iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        if established {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("CRD {name} is not Established");
}

fn foo(namespace: &str) -> Value {
    let mut v: Value = serde_saphyr::from_str(FOO).expect("yaml");
    v["metadata"]["namespace"] = json!(namespace);
    v
}

#[tokio::test]
async fn crd_registers_a_discoverable_resource() {
    let c = with_crd().await;
    let discovery = Discovery::new(c.client.clone())
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
    c.cleanup().await;
}

#[tokio::test]
async fn custom_resources_are_defaulted_validated_and_have_status() {
    let c = with_crd().await;
    let eds: Api<ExtendedDaemonSet> = c.api();
    let obj: ExtendedDaemonSet = serde_json::from_value(foo(&c.namespace)).expect("typed foo");
    let created = eds
        .create(&PostParams::default(), &obj)
        .await
        .expect("create foo");
    assert_eq!(created.metadata.generation, Some(1));
    // Schema default applied by the server.
    assert_eq!(created.spec.revision_history_limit, Some(10));

    let mut bad = foo(&c.namespace);
    bad["metadata"]["name"] = json!("bad");
    bad["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = json!("150%");
    let ar = ApiResource::erase::<ExtendedDaemonSet>(&());
    let dynamic: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &c.namespace, &ar);
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
    c.cleanup().await;
}

/// The template's lists merge as a Pod's do, because the generated CRD declares the markers of
/// the Kubernetes types: another manager's container is added by name beside the first
/// manager's. A list the schema leaves undeclared (tolerations) is atomic: another manager's
/// different list is a conflict, and forced, it replaces the list as a whole.
#[tokio::test]
async fn apply_merges_the_lists_the_schema_declares_and_no_other() {
    let c = with_crd().await;
    let api: Api<ExtendedDaemonSet> = c.api();
    api.patch(
        "foo",
        &PatchParams::apply("alice"),
        &Patch::Apply(foo(&c.namespace)),
    )
    .await
    .expect("alice applies");
    let bobs = |spec: Value| {
        json!({
            "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSet",
            "metadata": { "name": "foo", "namespace": c.namespace },
            "spec": { "template": { "spec": spec } },
        })
    };
    let sidecar = bobs(json!({
        "containers": [{ "name": "sidecar", "image": "registry.k8s.io/pause:3.0" }] }));
    let got = api
        .patch("foo", &PatchParams::apply("bob"), &Patch::Apply(&sidecar))
        .await
        .expect("bob's container merges by name");
    let spec = got.spec.template.spec.unwrap();
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["daemon", "sidecar"]);

    let tolerations = bobs(json!({
        "containers": [{ "name": "sidecar", "image": "registry.k8s.io/pause:3.0" }],
        "tolerations": [{ "key": "gpu", "operator": "Exists" }] }));
    let s = api_status(
        api.patch(
            "foo",
            &PatchParams::apply("bob"),
            &Patch::Apply(&tolerations),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert!(
        s.message.contains(".spec.template.spec.tolerations"),
        "{}",
        s.message
    );
    let got = api
        .patch(
            "foo",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(&tolerations),
        )
        .await
        .expect("bob forces");
    let keys: Vec<Option<String>> = got
        .spec
        .template
        .spec
        .unwrap()
        .tolerations
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(keys, [Some("gpu".to_string())]);
    c.cleanup().await;
}

#[tokio::test]
async fn non_structural_schema_is_rejected() {
    let c = Cluster::new().await;
    let crds: Api<CustomResourceDefinition> = Api::all(c.client.clone());
    let mut crd = serde_json::to_value(ExtendedDaemonSet::crd()).unwrap();
    // Another group, so a real cluster's EDS CRD is not touched.
    crd["metadata"]["name"] = json!("extendeddaemonsets.sim-test.example.com");
    crd["spec"]["group"] = json!("sim-test.example.com");
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
    c.cleanup().await;
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
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
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
    c.cleanup().await;
}

#[tokio::test]
async fn namespace_deletion_removes_its_objects() {
    use k8s_openapi::api::core::v1::Namespace;
    let c = Cluster::new().await;
    let cms: Api<ConfigMap> = c.api();
    let cm: ConfigMap =
        serde_json::from_value(json!({ "metadata": { "name": "inside" } })).unwrap();
    cms.create(&PostParams::default(), &cm)
        .await
        .expect("create");
    let namespaces: Api<Namespace> = Api::all(c.client.clone());
    let terminating = namespaces
        .delete(&c.namespace, &DeleteParams::default())
        .await
        .expect("delete namespace")
        .left()
        .expect("the namespace is terminating first");
    assert_eq!(
        terminating.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    // Bounded wait: a real cluster's namespace controller takes a few seconds.
    for _ in 0..600 {
        if namespaces
            .get_opt(&c.namespace)
            .await
            .expect("get")
            .is_none()
        {
            assert!(cms.get_opt("inside").await.expect("get").is_none());
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("namespace {} was not removed", c.namespace);
}
