//! `kubectl kustomize` builds every kustomize directory, the objects parse into k8s-openapi
//! types, and the overlays do what the seed README promises.

#[path = "gen_support/mod.rs"]
mod support;

use k8s_openapi::api::core::v1::EnvVar;
use support::{
    Object,
    inspect::{deployment, env, env_all as all_env, has_rule},
    kustomize_objects,
};

#[test]
fn every_directory_builds_and_parses() {
    let crds = kustomize_objects("crd");
    assert_eq!(crds.len(), 3);
    assert!(crds.iter().all(|o| matches!(o, Object::Crd(_))));
    let base = kustomize_objects("base");
    assert!(base.iter().any(|o| matches!(o, Object::Deployment(_))));
    for overlay in eds_deploy::kustomize::OVERLAYS {
        let objects = kustomize_objects(&format!("overlays/{overlay}"));
        let crds = objects
            .iter()
            .filter(|o| matches!(o, Object::Crd(_)))
            .count();
        assert_eq!(
            crds, 3,
            "{overlay} installs the CRDs too (as `make deploy` did)"
        );
    }
}

#[test]
fn namespaced_overlay_watches_its_own_namespace() {
    let objects = kustomize_objects("overlays/namespaced");
    let d = deployment(&objects);
    assert_eq!(d.metadata.name.as_deref(), Some("extendeddaemonset"));
    let watch = env(&d, "WATCH_NAMESPACE");
    let field = watch
        .value_from
        .and_then(|v| v.field_ref)
        .map(|f| f.field_path);
    assert_eq!(field.as_deref(), Some("metadata.namespace"));
    for o in &objects {
        let (kind, ns) = match o {
            Object::Role(r) => ("Role", &r.metadata.namespace),
            Object::RoleBinding(r) => ("RoleBinding", &r.metadata.namespace),
            Object::ServiceAccount(s) => ("ServiceAccount", &s.metadata.namespace),
            Object::Deployment(d) => ("Deployment", &d.metadata.namespace),
            Object::ClusterRole(r) => {
                let rules = r.rules.clone().unwrap_or_default();
                assert!(
                    !has_rule(&rules, "pods", "get"),
                    "a namespaced install grants pods only in its namespace"
                );
                continue;
            }
            _ => continue,
        };
        assert_eq!(ns.as_deref(), Some("default"), "{kind}");
    }
}

#[test]
fn cluster_wide_overlay_sets_the_seed_readme_env() {
    // The seed README's cluster-wide instructions, verbatim.
    let upstream: Vec<EnvVar> = serde_saphyr::from_str(include_str!(
        "../../eds-api/tests/data/upstream-readme/watch-namespace-env.yaml"
    ))
    .map(|doc: std::collections::BTreeMap<String, Vec<EnvVar>>| doc["env"].clone())
    .unwrap();
    let d = deployment(&kustomize_objects("overlays/cluster-wide"));
    let ours: Vec<EnvVar> = all_env(&d)
        .into_iter()
        .filter(|e| e.name == "WATCH_NAMESPACE")
        .collect();
    assert_eq!(ours, upstream);
}

#[test]
fn leader_election_lease_lives_where_the_role_grants_it() {
    for overlay in eds_deploy::kustomize::OVERLAYS {
        let objects = kustomize_objects(&format!("overlays/{overlay}"));
        let d = deployment(&objects);
        let pod_ns = env(&d, "POD_NAMESPACE");
        let field = pod_ns
            .value_from
            .and_then(|v| v.field_ref)
            .map(|f| f.field_path);
        assert_eq!(field.as_deref(), Some("metadata.namespace"), "{overlay}");
        let lease_role_ns = objects.iter().find_map(|o| match o {
            Object::Role(r)
                if has_rule(r.rules.as_deref().unwrap_or_default(), "leases", "get") =>
            {
                Some(r.metadata.namespace.clone())
            }
            _ => None,
        });
        assert_eq!(
            lease_role_ns,
            Some(d.metadata.namespace.clone()),
            "{overlay}"
        );
    }
}
