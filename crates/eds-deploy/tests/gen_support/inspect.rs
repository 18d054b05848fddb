//! Reading the parts of rendered objects the tests check: the controller Deployment and the
//! RBAC roles with their bindings.

use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{EnvVar, PodSpec},
    rbac::v1::{ClusterRole, PolicyRule},
};

use super::Object;

/// The one Deployment of `objects`.
pub fn deployment(objects: &[Object]) -> Deployment {
    let found: Vec<&Deployment> = objects
        .iter()
        .filter_map(|o| match o {
            Object::Deployment(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "one Deployment expected");
    found[0].clone()
}

/// The pod spec of a Deployment.
pub fn pod(deployment: &Deployment) -> &PodSpec {
    let spec = deployment.spec.as_ref().expect("Deployment.spec");
    spec.template.spec.as_ref().expect("pod template spec")
}

/// Every environment variable of the controller container.
pub fn env_all(deployment: &Deployment) -> Vec<EnvVar> {
    pod(deployment).containers[0]
        .env
        .clone()
        .unwrap_or_default()
}

/// The environment variable `name` of the controller container.
pub fn env(deployment: &Deployment, name: &str) -> EnvVar {
    env_all(deployment)
        .into_iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no env {name}"))
}

/// The arguments of the controller container.
pub fn args(deployment: &Deployment) -> Vec<String> {
    pod(deployment).containers[0]
        .args
        .clone()
        .unwrap_or_default()
}

/// `(kind, namespace, rules)` of every role, each checked to be bound to the Deployment's
/// ServiceAccount.
pub fn roles(objects: &[Object]) -> Vec<(String, Option<String>, Vec<PolicyRule>)> {
    let d = deployment(objects);
    let sa = pod(&d).service_account_name.clone().unwrap();
    let sa_ns = d.metadata.namespace.clone();
    let bound = |kind: &str, name: &str, ns: &Option<String>| {
        objects.iter().any(|o| {
            let (role_ref, subjects, binding_ns) = match o {
                Object::ClusterRoleBinding(b) => (&b.role_ref, &b.subjects, None),
                Object::RoleBinding(b) => (&b.role_ref, &b.subjects, b.metadata.namespace.clone()),
                _ => return false,
            };
            role_ref.kind == kind
                && role_ref.name == name
                && binding_ns == *ns
                && subjects
                    .iter()
                    .flatten()
                    .any(|s| s.kind == "ServiceAccount" && s.name == sa && s.namespace == sa_ns)
        })
    };
    let mut roles = Vec::new();
    for o in objects {
        let (kind, meta, rules) = match o {
            // Aggregated to the default roles, for people: bound to no ServiceAccount.
            Object::ClusterRole(r) if is_aggregated(r) => continue,
            Object::ClusterRole(r) => ("ClusterRole", &r.metadata, &r.rules),
            Object::Role(r) => ("Role", &r.metadata, &r.rules),
            _ => continue,
        };
        let name = meta.name.clone().unwrap();
        assert!(
            bound(kind, &name, &meta.namespace),
            "{kind} {name} is not bound to ServiceAccount {sa}"
        );
        roles.push((
            kind.to_string(),
            meta.namespace.clone(),
            rules.clone().unwrap(),
        ));
    }
    roles
}

/// The roles without names and namespaces, sorted: what is granted, and how.
pub fn grants(objects: &[Object]) -> Vec<(String, String)> {
    let mut grants: Vec<(String, String)> = roles(objects)
        .into_iter()
        .map(|(kind, _, rules)| (kind, serde_json::to_string(&rules).unwrap()))
        .collect();
    grants.sort();
    grants
}

/// Whether a rule of `rules` grants `verb` on `resource`.
pub fn has_rule(rules: &[PolicyRule], resource: &str, verb: &str) -> bool {
    rules.iter().any(|r| {
        r.resources.iter().flatten().any(|x| x == resource) && r.verbs.iter().any(|v| v == verb)
    })
}

/// Whether a ClusterRole is aggregated to a default role (`aggregate-to-*` label).
pub fn is_aggregated(role: &ClusterRole) -> bool {
    role.metadata
        .labels
        .iter()
        .flatten()
        .any(|(k, v)| k.starts_with("rbac.authorization.k8s.io/aggregate-to-") && v == "true")
}

/// The ClusterRoles aggregated to default roles, with their aggregation labels.
pub fn aggregated_roles(objects: &[Object]) -> Vec<ClusterRole> {
    objects
        .iter()
        .filter_map(|o| match o {
            Object::ClusterRole(r) if is_aggregated(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}
