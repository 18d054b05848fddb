//! The conventions users look for, checked on the chart rendered by Helm and on kustomize
//! builds: the app.kubernetes.io labels on every object, names of cluster-scoped objects unique
//! per install, the controller's RBAC limited to what it uses, the aggregated user roles, and
//! the chart values of the release conventions (serviceAccount, extraArgs/extraEnv,
//! podDisruptionBudget, helm test, templated CRDs).

#[path = "gen_support/mod.rs"]
mod support;

use std::{collections::BTreeMap, path::Path, sync::OnceLock};

use serde_json::{Value, json};
use support::{
    HelmReport, Object,
    inspect::{aggregated_roles, args, deployment, env, has_rule, pod, roles},
    kustomize, objects, project_root, rendered_objects,
};

const RELEASE: &str = "eds";
const NAMESPACE: &str = "eds-system";

fn cases() -> BTreeMap<&'static str, Value> {
    BTreeMap::from([
        ("default", json!({})),
        ("cluster", json!({"clusterScope": true})),
        (
            "full",
            json!({
                "nameOverride": "node-agents",
                "replicas": 2,
                "serviceAccount": {"create": false, "name": "ops"},
                "extraArgs": ["--kube-api-qps=50"],
                "extraEnv": [{"name": "RUST_BACKTRACE", "value": "1"}],
                "aggregateClusterRoles": false,
                "crds": {"template": true},
            }),
        ),
    ])
}

fn report() -> &'static HelmReport {
    static REPORT: OnceLock<HelmReport> = OnceLock::new();
    REPORT.get_or_init(|| support::helm(RELEASE, NAMESPACE, &cases()))
}

fn rendered(case: &str) -> Vec<Object> {
    rendered_objects(&report().renders[case])
}

fn labels(object: &Object) -> BTreeMap<String, String> {
    serde_json::from_value(object.json()["metadata"]["labels"].clone()).unwrap_or_default()
}

#[test]
fn every_chart_object_has_the_recommended_labels() {
    for (case, name) in [
        ("default", "extendeddaemonset"),
        ("cluster", "extendeddaemonset"),
        ("full", "node-agents"),
    ] {
        let objects = rendered(case);
        assert!(objects.len() > 8, "{case}: {} objects", objects.len());
        for object in &objects {
            let labels = labels(object);
            for (key, value) in [
                ("app.kubernetes.io/name", name),
                ("app.kubernetes.io/instance", RELEASE),
                ("app.kubernetes.io/managed-by", "Helm"),
                ("app.kubernetes.io/part-of", "extendeddaemonset"),
                ("app.kubernetes.io/version", env!("CARGO_PKG_VERSION")),
            ] {
                assert_eq!(
                    labels.get(key).map(String::as_str),
                    Some(value),
                    "{case}: {} label {key}",
                    object.id()
                );
            }
        }
    }
}

#[test]
fn the_controller_role_grants_only_what_the_controller_uses() {
    let objects = rendered("cluster");
    let mut granted: Vec<String> = roles(&objects)
        .into_iter()
        .flat_map(|(_, _, rules)| rules)
        .flat_map(|rule| {
            let group = rule.api_groups.unwrap_or_default().join(",");
            let resources = rule.resources.unwrap_or_default();
            let verbs = rule.verbs;
            resources.into_iter().flat_map(move |r| {
                let group = group.clone();
                verbs
                    .clone()
                    .into_iter()
                    .map(move |v| format!("{group}/{r}:{v}"))
            })
        })
        .collect();
    granted.sort();
    granted.dedup();
    let expected = [
        "/events:create",
        "/events:patch",
        "/nodes:get",
        "/nodes:list",
        "/nodes:watch",
        "/pods:create",
        "/pods:delete",
        "/pods:get",
        "/pods:list",
        "/pods:patch",
        "/pods:watch",
        "apps/daemonsets:get",
        "apps/daemonsets:list",
        "apps/daemonsets:watch",
        "coordination.k8s.io/leases:create",
        "coordination.k8s.io/leases:get",
        "coordination.k8s.io/leases:patch",
        "datadoghq.com/extendeddaemonsetreplicasets/status:patch",
        "datadoghq.com/extendeddaemonsetreplicasets:create",
        "datadoghq.com/extendeddaemonsetreplicasets:delete",
        "datadoghq.com/extendeddaemonsetreplicasets:get",
        "datadoghq.com/extendeddaemonsetreplicasets:list",
        "datadoghq.com/extendeddaemonsetreplicasets:patch",
        "datadoghq.com/extendeddaemonsetreplicasets:watch",
        "datadoghq.com/extendeddaemonsets/status:patch",
        "datadoghq.com/extendeddaemonsets:get",
        "datadoghq.com/extendeddaemonsets:list",
        "datadoghq.com/extendeddaemonsets:watch",
        "datadoghq.com/extendeddaemonsetsettings/status:patch",
        "datadoghq.com/extendeddaemonsetsettings:get",
        "datadoghq.com/extendeddaemonsetsettings:list",
        "datadoghq.com/extendeddaemonsetsettings:watch",
        "events.k8s.io/events:create",
        "events.k8s.io/events:patch",
    ];
    assert_eq!(granted, expected);
}

#[test]
fn aggregated_roles_let_namespace_users_run_kubectl_eds() {
    let roles = aggregated_roles(&rendered("default"));
    assert_eq!(roles.len(), 2, "{roles:?}");
    let label = |r: &k8s_openapi::api::rbac::v1::ClusterRole, l: &str| {
        r.metadata
            .labels
            .as_ref()
            .unwrap()
            .get(&format!("rbac.authorization.k8s.io/aggregate-to-{l}"))
            .cloned()
    };
    let edit = roles.iter().find(|r| label(r, "edit").is_some()).unwrap();
    let view = roles.iter().find(|r| label(r, "view").is_some()).unwrap();
    assert_eq!(label(edit, "admin").as_deref(), Some("true"));
    assert!(label(view, "edit").is_none() && label(view, "admin").is_none());
    for kind in [
        "extendeddaemonsets",
        "extendeddaemonsetreplicasets",
        "extendeddaemonsetsettings",
    ] {
        let (edit, view) = (
            edit.rules.as_deref().unwrap(),
            view.rules.as_deref().unwrap(),
        );
        for verb in ["get", "list", "watch"] {
            assert!(
                has_rule(view, kind, verb) && has_rule(edit, kind, verb),
                "{kind} {verb}"
            );
        }
        // `kubectl eds canary validate`, `rollout undo`... patch the ExtendedDaemonSet.
        for verb in ["patch", "update", "create", "delete"] {
            assert!(has_rule(edit, kind, verb), "{kind} {verb}");
            assert!(!has_rule(view, kind, verb), "view grants {kind} {verb}");
        }
    }
    assert!(aggregated_roles(&rendered("full")).is_empty());
}

#[test]
fn service_account_extra_args_and_env_reach_the_deployment() {
    let objects = rendered("full");
    assert!(
        !objects
            .iter()
            .any(|o| matches!(o, Object::ServiceAccount(_)))
    );
    let d = deployment(&objects);
    assert_eq!(pod(&d).service_account_name.as_deref(), Some("ops"));
    // roles() checks that every role is bound to that ServiceAccount.
    assert!(!roles(&objects).is_empty());
    assert_eq!(
        args(&d).last().map(String::as_str),
        Some("--kube-api-qps=50")
    );
    assert_eq!(env(&d, "RUST_BACKTRACE").value.as_deref(), Some("1"));
    assert!(env(&d, "POD_NAME").value_from.is_some());
    let default = deployment(&rendered("default"));
    assert_eq!(pod(&default).service_account_name.as_deref(), Some(RELEASE));
    assert!(rendered("default").iter().any(
        |o| matches!(o, Object::ServiceAccount(s) if s.metadata.name.as_deref() == Some(RELEASE))
    ));
}

#[test]
fn a_replicated_controller_gets_a_disruption_budget() {
    let pdbs = |case| -> Vec<_> {
        rendered(case)
            .into_iter()
            .filter_map(|o| match o {
                Object::PodDisruptionBudget(p) => Some(p),
                _ => None,
            })
            .collect()
    };
    assert!(
        pdbs("default").is_empty(),
        "one replica: a PDB would block drains"
    );
    let pdb = pdbs("full").pop().expect("replicas 2: a PDB");
    let spec = pdb.spec.unwrap();
    let selector = deployment(&rendered("full")).spec.unwrap().selector;
    assert_eq!(spec.selector, Some(selector));
    assert_eq!(
        spec.min_available,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1))
    );
}

#[test]
fn helm_test_scrapes_the_metrics_service_of_the_release() {
    let objects = rendered("default");
    let test = objects
        .iter()
        .find_map(|o| match o {
            Object::Pod(p) => Some(p.clone()),
            _ => None,
        })
        .expect("a test pod");
    assert_eq!(test.metadata.annotations.unwrap()["helm.sh/hook"], "test");
    let container = &test.spec.unwrap().containers[0];
    let service = container.env.as_ref().unwrap()[0].value.clone().unwrap();
    assert!(objects.iter().any(|o| matches!(o, Object::Service(s) if s.metadata.name.as_deref() == Some(service.as_str()))), "{service}");
    assert!(container.command.as_ref().unwrap()[2].contains("/metrics"));
}

#[test]
fn crds_are_templates_only_when_asked_and_are_kept_on_uninstall() {
    let crds = |case| -> Vec<_> {
        rendered(case)
            .into_iter()
            .filter_map(|o| match o {
                Object::Crd(c) => Some(c),
                _ => None,
            })
            .collect()
    };
    assert!(
        crds("default").is_empty(),
        "the crds/ directory installs them"
    );
    let templated = crds("full");
    assert_eq!(templated.len(), 3);
    for crd in templated {
        assert_eq!(
            crd.metadata.annotations.unwrap()["helm.sh/resource-policy"],
            "keep"
        );
    }
    let notes = match &report().renders["default"] {
        support::Render::Ok(files) => files
            .iter()
            .find(|(n, _)| n.ends_with("NOTES.txt"))
            .unwrap()
            .1
            .clone(),
        support::Render::Error(e) => panic!("{e}"),
    };
    assert!(
        notes.contains("crds.yaml") && notes.contains("crds.template=true"),
        "{notes}"
    );
}

/// Builds a kustomization written under `target/` that uses the tree as a user would.
fn user_overlay(name: &str, kustomization: &str) -> Vec<Object> {
    let dir = project_root()
        .join("target")
        .join("kustomize-tests")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kustomization.yaml"), kustomization).unwrap();
    objects(&kustomize(Path::new(&dir)))
}

#[test]
fn every_kustomize_object_has_the_labels() {
    for dir in [
        "crd",
        "base",
        "overlays/namespaced",
        "overlays/cluster-wide",
    ] {
        let objects = support::kustomize_objects(dir);
        for object in &objects {
            let labels = labels(object);
            for key in [
                "app.kubernetes.io/name",
                "app.kubernetes.io/part-of",
                "app.kubernetes.io/managed-by",
                "app.kubernetes.io/version",
            ] {
                assert!(
                    labels.contains_key(key),
                    "{dir}: {} has no {key}",
                    object.id()
                );
            }
        }
    }
}

#[test]
fn name_prefixes_make_two_installs_disjoint_and_keep_references() {
    let install = |prefix: &str| {
        user_overlay(
            prefix,
            &format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {prefix}\nnamePrefix: {prefix}-\nresources:\n- ../../../kustomize/overlays/namespaced\ncomponents:\n- ../../../kustomize/components/servicemonitor\n"
            ),
        )
    };
    let (a, b) = (install("team-a"), install("team-b"));
    let cluster_names = |objects: &[Object]| -> Vec<String> {
        objects
            .iter()
            .filter(|o| matches!(o, Object::ClusterRole(_) | Object::ClusterRoleBinding(_)))
            .map(Object::id)
            .collect()
    };
    let (names_a, names_b) = (cluster_names(&a), cluster_names(&b));
    assert!(names_a.len() >= 4, "{names_a:?}");
    assert!(
        names_a.iter().all(|n| !names_b.contains(n)),
        "{names_a:?} {names_b:?}"
    );
    for (prefix, objects) in [("team-a", &a), ("team-b", &b)] {
        // roles() checks that every role is bound to the Deployment's ServiceAccount in the
        // Deployment's namespace, under the prefixed names.
        let d = deployment(objects);
        assert_eq!(d.metadata.namespace.as_deref(), Some(prefix));
        assert_eq!(
            pod(&d).service_account_name.as_deref(),
            Some(format!("{prefix}-extendeddaemonset").as_str())
        );
        assert!(!roles(objects).is_empty());
        let monitor = objects
            .iter()
            .find_map(|o| match o {
                Object::ServiceMonitor(m) => Some(m.clone()),
                _ => None,
            })
            .expect("the servicemonitor component");
        let service = objects
            .iter()
            .find_map(|o| match o {
                Object::Service(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap();
        let selector: BTreeMap<String, String> =
            serde_json::from_value(monitor["spec"]["selector"]["matchLabels"].clone()).unwrap();
        let service_labels = service.metadata.labels.unwrap();
        assert!(
            selector
                .iter()
                .all(|(k, v)| service_labels.get(k) == Some(v)),
            "{selector:?} {service_labels:?}"
        );
        assert_eq!(monitor["metadata"]["namespace"], prefix);
    }
}
