//! The chart's RBAC template, the same objects as kustomize's: a ClusterRole for nodes; the
//! rules of the watched namespaces in a ClusterRole when `clusterScope` is set, otherwise in a
//! Role in each watched namespace; a Role for leader election in the release namespace; and,
//! with `aggregateClusterRoles`, the ClusterRoles aggregated to the default admin, edit and
//! view roles. Rules come from [`rbac::rules`] and [`rbac::aggregate_rules`].

use super::{CLUSTER_NAME, FULLNAME, LABELS, NAMESPACE, SERVICE_ACCOUNT};
use crate::{
    Error,
    helm::{Insert, template},
    rbac::{self, Rules},
    yaml,
};

/// Inserts naming an object and its role reference, and binding it to the release's
/// ServiceAccount.
fn inserts(name: &str, namespace: Option<&str>, binding: bool) -> Vec<Insert> {
    let mut inserts = vec![
        Insert::expr("/metadata/name", name),
        Insert::text("/metadata/labels", LABELS),
    ];
    if let Some(namespace) = namespace {
        inserts.push(Insert::expr("/metadata/namespace", namespace));
    }
    if binding {
        inserts.extend([
            Insert::expr("/roleRef/name", name),
            Insert::expr("/subjects/0/name", SERVICE_ACCOUNT),
            Insert::expr("/subjects/0/namespace", NAMESPACE),
        ]);
    }
    inserts
}

/// A ClusterRole and its binding, named by the Helm expression `name`.
fn cluster(
    name: &str,
    rules: Vec<k8s_openapi::api::rbac::v1::PolicyRule>,
) -> Result<Vec<String>, Error> {
    Ok(vec![
        template(&rbac::cluster_role("x", rules), &inserts(name, None, false))?,
        template(
            &rbac::cluster_role_binding("x", "x", Some("x")),
            &inserts(name, None, true),
        )?,
    ])
}

/// A Role and its binding in `namespace` (a Helm expression).
fn namespaced(
    name: &str,
    namespace: &str,
    rules: Vec<k8s_openapi::api::rbac::v1::PolicyRule>,
) -> Result<Vec<String>, Error> {
    Ok(vec![
        template(
            &rbac::role("x", Some("x"), rules),
            &inserts(name, Some(namespace), false),
        )?,
        template(
            &rbac::role_binding("x", Some("x"), "x", Some("x")),
            &inserts(name, Some(namespace), true),
        )?,
    ])
}

fn documents(out: &mut String, documents: Vec<String>) {
    for document in documents {
        out.push_str("---\n");
        out.push_str(&document);
    }
}

/// `templates/rbac.yaml`.
pub fn file() -> Result<String, Error> {
    let Rules {
        cluster: cluster_rules,
        watched,
        leader_election,
    } = rbac::rules();
    let mut out = format!("{}\n", yaml::HEADER);
    documents(
        &mut out,
        cluster(&rbac::nodes_role_name(CLUSTER_NAME), cluster_rules)?,
    );
    out.push_str("{{- if $.Values.clusterScope }}\n");
    documents(
        &mut out,
        cluster(&rbac::watched_role_name(CLUSTER_NAME), watched.clone())?,
    );
    out.push_str("{{- else }}\n");
    out.push_str(
        "{{- range $namespace := ($.Values.watchNamespaces | default (list $.Release.Namespace)) }}\n",
    );
    documents(
        &mut out,
        namespaced(
            &rbac::watched_role_name(FULLNAME),
            "{{ $namespace }}",
            watched,
        )?,
    );
    out.push_str("{{- end }}\n{{- end }}\n");
    documents(
        &mut out,
        namespaced(
            &rbac::leader_election_role_name(FULLNAME),
            NAMESPACE,
            leader_election,
        )?,
    );
    out.push_str("{{- if $.Values.aggregateClusterRoles }}\n");
    for role in rbac::aggregate_roles("x") {
        let aggregate: Vec<String> = role
            .metadata
            .labels
            .iter()
            .flatten()
            .map(|(k, v)| format!("{k}: {v:?}"))
            .collect();
        let suffix = role.metadata.name.as_deref().unwrap_or_default();
        let name = format!("{CLUSTER_NAME}{}", suffix.trim_start_matches('x'));
        let mut role = role.clone();
        role.metadata.labels = None;
        let labels = format!("{LABELS}\n{}", aggregate.join("\n"));
        documents(
            &mut out,
            vec![template(
                &role,
                &[
                    Insert::expr("/metadata/name", &name),
                    Insert::text("/metadata/labels", labels),
                ],
            )?],
        );
    }
    out.push_str("{{- end }}\n");
    Ok(out)
}
