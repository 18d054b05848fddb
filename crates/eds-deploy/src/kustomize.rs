//! The kustomize tree `kustomize/`: `crd` (the CRDs), `base` (ServiceAccount, manager
//! Deployment, metrics Service, nodes and leader-election RBAC) and two overlays that add the
//! rules of the watched namespaces: `namespaced` (the upstream default: a Role in the
//! controller's own namespace, which it watches) and `cluster-wide` (a ClusterRole and
//! `WATCH_NAMESPACE=""`).

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{
    Error, crds,
    manager::{self, CONTAINER, Identity, NAME, WatchNamespace},
    rbac::{self, Rules},
    values::Values,
    yaml,
};

/// Directory of the kustomize tree, relative to the repository root.
pub const DIR: &str = "kustomize";
/// Namespace of the `namespaced` overlay: the seed README's demo runs everything in `default`.
pub const NAMESPACED_NAMESPACE: &str = "default";
/// Namespace of the `cluster-wide` overlay (created by the overlay).
pub const CLUSTER_WIDE_NAMESPACE: &str = "extendeddaemonset-system";

/// The overlays, by directory name under `kustomize/overlays`.
pub const OVERLAYS: [&str; 2] = ["namespaced", "cluster-wide"];

fn kustomization(namespace: Option<&str>, resources: &[&str], patches: &[&str]) -> Value {
    let mut k = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    if let Some(namespace) = namespace {
        k["namespace"] = json!(namespace);
    }
    if !patches.is_empty() {
        k["patches"] = patches.iter().map(|p| json!({ "path": p })).collect();
    }
    k
}

fn one<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    Ok(yaml::file(&[yaml::to_yaml(value)?]))
}

fn two<A: serde::Serialize, B: serde::Serialize>(a: &A, b: &B) -> Result<String, Error> {
    Ok(yaml::file(&[yaml::to_yaml(a)?, yaml::to_yaml(b)?]))
}

/// The strategic-merge patch making the manager watch every namespace: the env entry of the
/// seed README, with the base's `valueFrom` removed.
fn watch_all_namespaces_patch() -> Value {
    let mut env = json!(WatchNamespace::All.env());
    env["valueFrom"] = Value::Null;
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": NAME },
        "spec": { "template": { "spec": { "containers": [
            { "name": CONTAINER, "env": [env] }
        ] } } },
    })
}

/// Every file of the kustomize tree, with paths relative to the repository root.
pub fn files() -> Result<Vec<(PathBuf, String)>, Error> {
    let root = PathBuf::from(DIR);
    let values = Values::default();
    let id = Identity::kustomize();
    let Rules {
        cluster,
        watched,
        leader_election,
    } = rbac::rules();
    let mut files = Vec::new();

    let crd_dir = root.join("crd");
    let crd_files = crds::files()?;
    let crd_names: Vec<&str> = crd_files.iter().map(|(n, _)| n.as_str()).collect();
    files.push((
        crd_dir.join("kustomization.yaml"),
        one(&kustomization(None, &crd_names, &[]))?,
    ));
    for (name, text) in &crd_files {
        files.push((crd_dir.join(name), text.clone()));
    }

    let base = root.join("base");
    let nodes = rbac::nodes_role_name(NAME);
    let election = rbac::leader_election_role_name(NAME);
    let base_files = [
        (
            "service_account.yaml",
            one(&manager::service_account(&values, &id))?,
        ),
        ("manager.yaml", one(&manager::deployment(&values, &id))?),
        ("metrics_service.yaml", one(&manager::metrics_service(&id))?),
        (
            "nodes_role.yaml",
            two(
                &rbac::cluster_role(&nodes, cluster),
                &rbac::cluster_role_binding(&nodes, NAME, None),
            )?,
        ),
        (
            "leader_election_role.yaml",
            two(
                &rbac::role(&election, None, leader_election),
                &rbac::role_binding(&election, None, NAME, None),
            )?,
        ),
    ];
    let names: Vec<&str> = base_files.iter().map(|(n, _)| *n).collect();
    files.push((
        base.join("kustomization.yaml"),
        one(&kustomization(None, &names, &[]))?,
    ));
    files.extend(base_files.map(|(n, text)| (base.join(n), text)));

    let overlays = root.join("overlays");
    let watched_name = rbac::watched_role_name(NAME);
    let namespaced = overlays.join(OVERLAYS[0]);
    files.push((
        namespaced.join("kustomization.yaml"),
        one(&kustomization(
            Some(NAMESPACED_NAMESPACE),
            &["../../crd", "../../base", "role.yaml"],
            &[],
        ))?,
    ));
    files.push((
        namespaced.join("role.yaml"),
        two(
            &rbac::role(&watched_name, None, watched.clone()),
            &rbac::role_binding(&watched_name, None, NAME, None),
        )?,
    ));

    let cluster_wide = overlays.join(OVERLAYS[1]);
    files.push((
        cluster_wide.join("kustomization.yaml"),
        one(&kustomization(
            Some(CLUSTER_WIDE_NAMESPACE),
            &[
                "../../crd",
                "../../base",
                "namespace.yaml",
                "cluster_role.yaml",
            ],
            &["watch_all_namespaces.yaml"],
        ))?,
    ));
    files.push((
        cluster_wide.join("namespace.yaml"),
        one(&json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": CLUSTER_WIDE_NAMESPACE },
        }))?,
    ));
    files.push((
        cluster_wide.join("cluster_role.yaml"),
        two(
            &rbac::cluster_role(&watched_name, watched),
            &rbac::cluster_role_binding(&watched_name, NAME, None),
        )?,
    ));
    files.push((
        cluster_wide.join("watch_all_namespaces.yaml"),
        one(&watch_all_namespaces_patch())?,
    ));
    Ok(files)
}
