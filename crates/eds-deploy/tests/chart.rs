//! The Helm chart, linted and rendered by Helm itself (helm-python-sdk), compared with the
//! kustomize tree: the same Deployment, the same RBAC rules, the same CRDs.

#[path = "gen_support/mod.rs"]
mod support;

use std::{collections::BTreeMap, sync::OnceLock};

use serde_json::{Value, json};
use support::{
    HelmReport, Object, Render,
    inspect::{args, deployment, env, grants, has_rule, roles},
    kustomize_objects, rendered_objects,
};

/// Release name equal to the kustomize object name, so the two can be compared field by field.
const RELEASE: &str = "extendeddaemonset";
const NAMESPACE: &str = "eds-system";

fn cases() -> BTreeMap<&'static str, Value> {
    BTreeMap::from([
        ("default", json!({})),
        ("cluster", json!({"clusterScope": true})),
        (
            "namespaces",
            json!({
                "watchNamespaces": ["team-a", "team-b"],
                "serviceMonitor": {"enabled": true, "labels": {"release": "prometheus"}},
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "dedicated", "operator": "Exists"}],
                "podLabels": {"team": "infra"},
                "priorityClassName": "system-cluster-critical",
                "logLevel": "info,extendeddaemonset=debug",
                "logFormat": "text",
                "validationMode": "manual",
                "image": {"tag": "1.2.3"},
            }),
        ),
        ("bad-log-format", json!({"logFormat": "xml"})),
        ("bad-replicas", json!({"replicas": 0})),
        (
            "bad-validation-mode",
            json!({"validationMode": "sometimes"}),
        ),
        ("unknown-key", json!({"replica": 2})),
    ])
}

fn report() -> &'static HelmReport {
    static REPORT: OnceLock<HelmReport> = OnceLock::new();
    REPORT.get_or_init(|| support::helm(RELEASE, NAMESPACE, &cases()))
}

fn rendered(case: &str) -> Vec<Object> {
    rendered_objects(&report().renders[case])
}

#[test]
fn helm_lint_passes_strict() {
    for case in ["default", "cluster", "namespaces"] {
        let lint = &report().lint[case];
        assert!(lint.errors.is_empty(), "{case}: {:?}", lint.errors);
        let serious: Vec<_> = lint.messages.iter().filter(|m| m.severity >= 2).collect();
        assert!(serious.is_empty(), "{case}: {serious:?}");
    }
}

#[test]
fn default_values_install_the_upstream_namespaced_controller() {
    let objects = rendered("default");
    let d = deployment(&objects);
    assert_eq!(d.metadata.namespace.as_deref(), Some(NAMESPACE));
    let args = args(&d);
    for flag in [
        "controller",
        "--metrics-addr=:8080",
        "--health-addr=:8081",
        "--leader-elect",
        "--log-format=json",
        "--log-level=info",
    ] {
        assert!(
            args.iter().any(|a| a == flag),
            "{flag} missing from {args:?}"
        );
    }
    let watch = env(&d, "WATCH_NAMESPACE");
    let field = watch
        .value_from
        .and_then(|v| v.field_ref)
        .map(|f| f.field_path);
    assert_eq!(field.as_deref(), Some("metadata.namespace"));
    assert_eq!(
        env(&d, "EDS_VALIDATION_MODE").value.as_deref(),
        Some("auto")
    );

    let pod = d.spec.unwrap().template.spec.unwrap();
    let c = &pod.containers[0];
    assert_eq!(
        c.image.as_deref(),
        Some(concat!(
            "ghcr.io/extendeddaemonset/extendeddaemonset:",
            env!("CARGO_PKG_VERSION")
        ))
    );
    let probe_port = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
        let get = p.as_ref().unwrap().http_get.clone().unwrap();
        (get.path.unwrap(), get.port)
    };
    let health = k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("health".into());
    assert_eq!(
        probe_port(&c.liveness_probe),
        ("/healthz".into(), health.clone())
    );
    assert_eq!(probe_port(&c.readiness_probe), ("/readyz".into(), health));
    let ports: Vec<(String, i32)> = c
        .ports
        .iter()
        .flatten()
        .map(|p| (p.name.clone().unwrap(), p.container_port))
        .collect();
    assert_eq!(ports, [("metrics".into(), 8080), ("health".into(), 8081)]);
    let sc = c.security_context.clone().unwrap();
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(pod.security_context.unwrap().run_as_non_root, Some(true));
    assert!(c.resources.as_ref().unwrap().requests.is_some());

    let roles = roles(&objects);
    let cluster_roles: Vec<_> = roles.iter().filter(|r| r.0 == "ClusterRole").collect();
    assert_eq!(
        cluster_roles.len(),
        1,
        "only the nodes ClusterRole: {cluster_roles:?}"
    );
    assert!(has_rule(&cluster_roles[0].2, "nodes", "watch"));
    assert!(!has_rule(&cluster_roles[0].2, "pods", "get"));
    let namespaced: Vec<_> = roles.iter().filter(|r| r.0 == "Role").collect();
    assert_eq!(
        namespaced.len(),
        2,
        "watched-namespace Role and leader-election Role"
    );
    assert!(namespaced.iter().all(|r| r.1.as_deref() == Some(NAMESPACE)));
    assert!(namespaced.iter().any(|r| has_rule(&r.2, "pods", "create")));
    assert!(
        namespaced
            .iter()
            .any(|r| has_rule(&r.2, "leases", "create"))
    );

    assert!(
        !objects
            .iter()
            .any(|o| matches!(o, Object::ServiceMonitor(_))),
        "the ServiceMonitor is off by default"
    );
    assert!(objects.iter().any(|o| matches!(o, Object::Service(s)
        if s.spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port == 8080)));
}

#[test]
fn cluster_scope_watches_every_namespace_through_a_cluster_role() {
    let objects = rendered("cluster");
    let d = deployment(&objects);
    let watch = env(&d, "WATCH_NAMESPACE");
    assert_eq!((watch.value.as_deref(), watch.value_from), (Some(""), None));
    let roles = roles(&objects);
    assert!(
        roles
            .iter()
            .any(|r| r.0 == "ClusterRole" && has_rule(&r.2, "pods", "create")),
        "{roles:?}"
    );
    let namespaced: Vec<_> = roles.iter().filter(|r| r.0 == "Role").collect();
    assert_eq!(
        namespaced.len(),
        1,
        "only the leader-election Role: {namespaced:?}"
    );
    assert!(has_rule(&namespaced[0].2, "leases", "patch"));
}

#[test]
fn watch_namespaces_get_a_role_each_and_values_reach_the_pod() {
    let objects = rendered("namespaces");
    let d = deployment(&objects);
    assert_eq!(
        env(&d, "WATCH_NAMESPACE").value.as_deref(),
        Some("team-a,team-b")
    );
    assert_eq!(
        env(&d, "EDS_VALIDATION_MODE").value.as_deref(),
        Some("manual")
    );
    let args = args(&d);
    assert!(args.contains(&"--log-level=info,extendeddaemonset=debug".to_string()));
    assert!(args.contains(&"--log-format=text".to_string()));
    let pod_template = d.spec.unwrap().template;
    assert_eq!(
        pod_template.metadata.unwrap().labels.unwrap()["team"],
        "infra"
    );
    let pod = pod_template.spec.unwrap();
    assert_eq!(
        pod.containers[0].image.as_deref(),
        Some("ghcr.io/extendeddaemonset/extendeddaemonset:1.2.3")
    );
    assert_eq!(pod.node_selector.unwrap()["kubernetes.io/os"], "linux");
    assert_eq!(
        pod.tolerations.unwrap()[0].key.as_deref(),
        Some("dedicated")
    );
    assert_eq!(
        pod.priority_class_name.as_deref(),
        Some("system-cluster-critical")
    );

    let mut watched: Vec<String> = roles(&objects)
        .into_iter()
        .filter(|r| r.0 == "Role" && has_rule(&r.2, "pods", "create"))
        .map(|r| r.1.unwrap())
        .collect();
    watched.sort();
    assert_eq!(watched, ["team-a", "team-b"]);

    let monitor = objects
        .iter()
        .find_map(|o| match o {
            Object::ServiceMonitor(m) => Some(m.clone()),
            _ => None,
        })
        .expect("ServiceMonitor enabled");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
}

#[test]
fn values_schema_rejects_bad_values() {
    for (case, key) in [
        ("bad-log-format", "logFormat"),
        ("bad-replicas", "replicas"),
        ("bad-validation-mode", "validationMode"),
        ("unknown-key", "replica"),
    ] {
        match &report().renders[case] {
            Render::Error(message) => {
                assert!(message.contains(key), "{case}: {message}")
            }
            Render::Ok(_) => panic!("{case} rendered; the schema should reject it"),
        }
    }
}

#[test]
fn chart_and_kustomize_run_the_same_deployment() {
    let chart = deployment(&rendered("default"));
    let kustomize = deployment(&kustomize_objects("overlays/namespaced"));
    assert_eq!(chart.spec, kustomize.spec);
}

#[test]
fn chart_and_kustomize_grant_the_same_rules() {
    assert_eq!(
        grants(&rendered("default")),
        grants(&kustomize_objects("overlays/namespaced"))
    );
    assert_eq!(
        grants(&rendered("cluster")),
        grants(&kustomize_objects("overlays/cluster-wide"))
    );
}

#[test]
fn chart_and_kustomize_ship_the_same_crds() {
    let from_chart: Vec<_> = report()
        .crds
        .iter()
        .flat_map(|text| support::objects(text))
        .map(|o| match o {
            Object::Crd(crd) => crd,
            other => panic!("not a CRD in crds/: {other:?}"),
        })
        .collect();
    let from_kustomize: Vec<_> = kustomize_objects("crd")
        .into_iter()
        .map(|o| match o {
            // kustomize adds the app.kubernetes.io labels (checked in conventions.rs).
            Object::Crd(mut crd) => {
                crd.metadata.labels = None;
                crd
            }
            other => panic!("not a CRD in kustomize/crd: {other:?}"),
        })
        .collect();
    let by_name = |crds: Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>| {
        crds.into_iter()
            .map(|c| (c.metadata.name.clone().unwrap(), c))
            .collect::<BTreeMap<_, _>>()
    };
    let expected = by_name(eds_deploy::crds::all());
    assert_eq!(expected.len(), 3);
    assert_eq!(by_name(from_chart), expected);
    assert_eq!(by_name(from_kustomize), expected);
}
