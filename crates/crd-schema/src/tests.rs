//! Admission of the project's own CRDs, and the whole pipeline on small schemas.

use kube::CustomResourceExt;
use serde_json::json;

use super::*;
use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting};

mod bad_eds;

fn open_api_schema(
    crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> Value {
    let version = &crd.spec.versions[0];
    let schema = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref());
    serde_json::to_value(schema.expect("generated CRDs carry a schema")).unwrap()
}

pub(super) fn eds_schema() -> CrdSchema {
    CrdSchema::new(&open_api_schema(&ExtendedDaemonSet::crd())).expect("EDS schema is structural")
}

/// The upstream `examples/foo-eds_v1.yaml`, as a Go client sends it (with the
/// `creationTimestamp: null` Go writes in pod templates).
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

pub(super) fn foo() -> Value {
    serde_saphyr::from_str(FOO).expect("valid YAML")
}

pub(super) fn canary(obj: &mut Value) -> &mut Value {
    &mut obj["spec"]["strategy"]["canary"]
}

pub(super) fn rolling(obj: &mut Value) -> &mut Value {
    &mut obj["spec"]["strategy"]["rollingUpdate"]
}

#[test]
fn generated_crds_are_structural() {
    for crd in [
        ExtendedDaemonSet::crd(),
        ExtendedDaemonSetReplicaSet::crd(),
        ExtendedDaemonsetSetting::crd(),
    ] {
        let name = crd.metadata.name.clone().unwrap_or_default();
        if let Err(e) = CrdSchema::new(&open_api_schema(&crd)) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn upstream_foo_is_admitted_with_defaults() {
    let mut obj = foo();
    obj["spec"]["unknownField"] = json!(true);
    eds_schema().admit(&mut obj, None).expect("foo is valid");
    let strategy = &obj["spec"]["strategy"];
    assert_eq!(strategy["rollingUpdate"]["maxUnavailable"], json!(1));
    assert_eq!(strategy["rollingUpdate"]["maxSurge"], json!(0));
    assert_eq!(
        strategy["rollingUpdate"]["maxParallelPodCreation"],
        json!(1)
    );
    assert_eq!(strategy["reconcileFrequency"], json!("10s"));
    assert_eq!(strategy["type"], json!("RollingUpdate"));
    assert_eq!(
        strategy["canary"]["autoPause"],
        json!({"enabled": true, "maxRestarts": 2})
    );
    assert_eq!(
        strategy["canary"]["autoFail"],
        json!({"enabled": true, "maxRestarts": 5})
    );
    assert_eq!(obj["spec"]["revisionHistoryLimit"], json!(10));
    assert_eq!(
        obj["metadata"],
        json!({"name": "foo", "namespace": "default"})
    );
    assert!(
        obj["spec"].get("unknownField").is_none(),
        "unknown fields are pruned"
    );
    assert!(
        obj["spec"]["template"]["metadata"]
            .get("creationTimestamp")
            .is_none()
    );
    assert!(
        obj.get("status").is_none(),
        "no status is invented under an absent parent"
    );
    // Admission is idempotent: a defaulted object is still valid and unchanged.
    let again = obj.clone();
    eds_schema().admit(&mut obj, Some(&again)).unwrap();
    assert_eq!(obj, again);
}

#[test]
fn valid_variants_of_foo_are_admitted() {
    let schema = eds_schema();
    let edits: [fn(&mut Value); 5] = [
        |o| canary(o)["autoFail"] = json!({"canaryTimeout": "20m"}),
        |o| canary(o)["autoPause"] = json!({"enabled": true, "maxRestarts": 5}),
        |o| rolling(o)["maxUnavailable"] = json!("10%"),
        |o| {
            rolling(o)["maxUnavailable"] = json!(0);
            rolling(o)["maxSurge"] = json!("5%");
        },
        |o| {
            let c = canary(o).as_object_mut().unwrap();
            c.remove("duration");
            c.insert("validationMode".into(), json!("manual"));
        },
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut obj = foo();
        edit(&mut obj);
        if let Err(causes) = schema.admit(&mut obj, None) {
            panic!("variant {i} rejected: {causes:?}");
        }
    }
}

#[test]
fn type_errors_skip_cel_rules_with_the_api_server_notice() {
    let mut obj = foo();
    rolling(&mut obj)["maxUnavailable"] = json!(0);
    obj["spec"]["revisionHistoryLimit"] = json!("ten");
    let causes = eds_schema().admit(&mut obj, None).unwrap_err();
    assert_eq!(causes.len(), 2, "{causes:?}");
    assert_eq!(causes[1].field, "<nil>");
    assert!(
        causes[1]
            .message
            .contains("some validation rules were not checked")
    );
}

#[test]
fn non_structural_schema_is_rejected_with_the_path() {
    let schema = json!({"type": "object", "properties": {"spec": {"properties": {}}}});
    let err = CrdSchema::new(&schema).unwrap_err();
    assert!(matches!(err, SchemaError::NotStructural(_)));
    assert_eq!(
        err.causes()[0].field,
        "openAPIV3Schema.properties[spec].type"
    );
    assert!(
        err.to_string()
            .contains("openAPIV3Schema.properties[spec].type: Required value")
    );
}

#[test]
fn rules_that_do_not_compile_are_rejected() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [{"rule": "self.a >"}]}}});
    let err = CrdSchema::new(&schema).unwrap_err();
    assert!(matches!(err, SchemaError::InvalidRule(_)), "{err}");
    assert_eq!(
        err.causes()[0].field,
        "openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule"
    );
}

#[test]
fn invalid_defaults_are_rejected() {
    let schema =
        json!({"type": "object", "properties": {"n": {"type": "integer", "default": "x"}}});
    let err = CrdSchema::new(&schema).unwrap_err();
    assert!(matches!(err, SchemaError::InvalidDefault(_)), "{err}");
}

#[test]
fn transition_rules_see_the_old_object() {
    let schema = CrdSchema::new(&json!({"type": "object", "properties": {"spec": {
        "type": "object",
        "properties": {"size": {"type": "integer"}},
        "x-kubernetes-validations": [{"rule": "self.size >= oldSelf.size",
                                      "message": "size may not shrink", "reason": "FieldValueForbidden"}]}}}))
    .unwrap();
    let old = json!({"spec": {"size": 3}});
    assert!(
        schema
            .admit(&mut json!({"spec": {"size": 1}}), None)
            .is_ok()
    );
    assert!(
        schema
            .admit(&mut json!({"spec": {"size": 4}}), Some(&old))
            .is_ok()
    );
    let causes = schema
        .admit(&mut json!({"spec": {"size": 1}}), Some(&old))
        .unwrap_err();
    assert_eq!(causes[0].field, "spec");
    assert_eq!(causes[0].reason, reason::FORBIDDEN);
    assert_eq!(causes[0].message, "Forbidden: size may not shrink");
}

#[test]
fn root_that_is_not_an_object_is_a_type_error() {
    let causes = eds_schema().admit(&mut json!([1]), None).unwrap_err();
    assert_eq!(causes[0].field, "<nil>");
    assert_eq!(causes[0].reason, reason::TYPE_INVALID);
}

#[test]
fn schema_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<CrdSchema>();
}

#[test]
fn unknown_fields_name_every_typo_and_leave_the_object_alone() {
    let mut obj = foo();
    obj["spec"]["replica"] = json!(1);
    obj["spec"]["stratgy"] = json!({});
    obj["spec"]["template"]["spec"]["containers"][0]["nmae"] = json!("daemon");
    obj["metadata"]["labelz"] = json!({"a": "b"});
    let before = obj.clone();
    let mut unknown = eds_schema().unknown_fields(&obj);
    unknown.sort();
    assert_eq!(
        unknown,
        [
            "metadata.labelz",
            "spec.replica",
            "spec.stratgy",
            "spec.template.spec.containers[0].nmae",
        ]
    );
    assert_eq!(obj, before);
    assert!(eds_schema().unknown_fields(&foo()).is_empty());
}
